#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A guided tour of the container lifecycle with a busybox container:
# spec, create, state, start, exec, ps, pause/resume, kill, delete.
# Run from the source tree after `make skua rootfs` (as root): contrib/tour.sh
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
SKUA=${SKUA:-$SRC/skua}
ROOT=$(mktemp -d /run/skua-demo.XXXXXX)
WORK=$(mktemp -d /tmp/skua-demo.XXXXXX)
ID=demo-$$

cleanup() {
	"$SKUA" --root "$ROOT" delete -f "$ID" >/dev/null 2>&1 || true
	rm -rf "$ROOT" "$WORK"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*" >&2; "$@"; }
sk() { printf '$ skua %s\n' "$*" >&2; "$SKUA" --root "$ROOT" "$@"; }

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root" >&2; exit 1; }
[ -x "$SKUA" ] || { echo "demo: build skua first (make skua)" >&2; exit 1; }
[ -d "$SRC/build/rootfs" ] || "$SRC/contrib/make-rootfs.sh" "$SRC/build/rootfs"

step "A bundle: a busybox rootfs and the default config from 'skua spec'"
mkdir -p "$WORK/bundle"
cp -a "$SRC/build/rootfs" "$WORK/bundle/rootfs"
cd "$WORK/bundle"
sk spec
# no terminal in a demo script; a process that lives until we stop it
jq '.process.terminal = false | .process.args = ["sh", "-c", "echo hello from $(hostname); while true; do sleep 1; done"]' \
	config.json > config.tmp && mv config.tmp config.json
show jq -c '{args: .process.args, namespaces: [.linux.namespaces[].type]}' config.json

step "create: namespaces, cgroup and rootfs are ready; the process waits for start"
sk create "$ID" </dev/null >"$WORK/out" 2>&1
sk state "$ID"
pid=$("$SKUA" --root "$ROOT" state "$ID" | jq .pid)
echo "init pid on the host: $pid, in cgroup: $(grep memory /proc/"$pid"/cgroup)"

step "start: the exec fifo is released and the init execs its args"
sk start "$ID"
sleep 0.5
echo "container output: $(cat "$WORK/out")"
sk list

step "exec: a second process in the same namespaces"
sk exec "$ID" sh -c 'echo "I am pid $$ in $(hostname), ps says:"; ps'
sk exec --env GREETING=hi --cwd /tmp --user 1000:1000 "$ID" sh -c 'echo "$GREETING from uid $(id -u) in $(pwd)"'
set +e
sk exec "$ID" sh -c 'exit 3'
echo "exit code of exec: $?"
set -e

step "ps: the container's processes, from its cgroup"
sk ps "$ID"
sk ps --format json "$ID"

step "pause and resume: the cgroup freezer"
sk pause "$ID"
sk state "$ID" | jq -r '"status: " + .status'
sk resume "$ID"
sk state "$ID" | jq -r '"status: " + .status'

step "kill: SIGKILL by name; the container stops"
sk kill "$ID" KILL
sleep 0.3
sk state "$ID" | jq -r '"status: " + .status'

step "delete: cgroup and state are removed"
sk delete "$ID"
set +e
sk state "$ID"
echo "state exit code: $?"
set -e
echo
echo "demo done"
