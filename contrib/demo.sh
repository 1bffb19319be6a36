#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make demo: a busybox container migrated with lazy pages (post-copy) on this
# host, under a new name, while the source still serves its memory.
#
# The container counts on its stdout and holds 256 MiB of checksummed memory
# (tests/workloads/memhog). The checkpoint dumps everything but that memory,
# then serves pages over TCP; the restore runs the copy at once and a handler
# pulls the pages, on fault and in the background. At the end the counter has
# gone on from where it was and memhog finds its checksum intact.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
SKUA=${SKUA:-$SRC/skua}
ROOT=$(mktemp -d /run/skua-demo.XXXXXX)
WORK=$(mktemp -d /tmp/skua-demo.XXXXXX)
PORT=${DEMO_PORT:-27027}
MIB=${DEMO_MIB:-256}
SRC_ID=demo-src-$$
DST_ID=demo-dst-$$
cpt_pid=

cleanup() {
	[ -z "$cpt_pid" ] || kill "$cpt_pid" 2>/dev/null || true
	"$SKUA" --root "$ROOT" delete -f "$SRC_ID" >/dev/null 2>&1 || true
	"$SKUA" --root "$ROOT" delete -f "$DST_ID" >/dev/null 2>&1 || true
	rm -rf "$ROOT" "$WORK"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
sk() { printf '$ skua %s\n' "$*" >&2; "$SKUA" --root "$ROOT" "$@"; }
last_tick() { grep -o 'tick [0-9]*' "$1" | tail -1 | cut -d' ' -f2; }

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root" >&2; exit 1; }
[ -x "$SKUA" ] || { echo "demo: build skua first (make skua)" >&2; exit 1; }
[ -x "$SRC/build/workloads/memhog" ] || { echo "demo: make workloads first" >&2; exit 1; }
[ -d "$SRC/build/rootfs" ] || "$SRC/contrib/make-rootfs.sh" "$SRC/build/rootfs"

step "A busybox bundle; the container counts and holds $MIB MiB of checksummed memory"
mkdir -p "$WORK/bundle"
cp -a "$SRC/build/rootfs" "$WORK/bundle/rootfs"
cp "$SRC/build/workloads/memhog" "$WORK/bundle/rootfs/bin/memhog"
cd "$WORK/bundle"
"$SKUA" spec
jq --arg mib "$MIB" '.process.terminal = false | .root.readonly = false
	| .process.env += ["ZDTM_DIR=/tmp"]
	| .process.args = ["sh", "-c", "memhog \($mib) & i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done"]' \
	config.json >config.tmp && mv config.tmp config.json

sk run -d "$SRC_ID" </dev/null >"$WORK/src.out" 2>&1
sleep 2
echo "the source is running: last tick $(last_tick "$WORK/src.out")"

step "checkpoint --lazy-pages: dump all but the memory, then serve pages on 127.0.0.1:$PORT"
exec {status_r}<> <(:)
exec {status_w}>/proc/self/fd/$status_r
printf '$ skua checkpoint --lazy-pages --page-server 127.0.0.1:%s --status-fd %s %s &\n' "$PORT" "$status_w" "$SRC_ID"
"$SKUA" --root "$ROOT" checkpoint --lazy-pages --page-server "127.0.0.1:$PORT" --status-fd "$status_w" \
	--image-path "$WORK/images" --work-path "$WORK/dump" "$SRC_ID" >"$WORK/checkpoint.out" 2>&1 &
cpt_pid=$!
exec {status_w}>&-
ready=$(timeout 10 dd if=/proc/self/fd/$status_r bs=1 count=1 2>/dev/null | od -An -tx1 | tr -d ' ')
exec {status_r}>&-
[ "$ready" = "00" ] || { echo "demo: the page server did not get ready" >&2; cat "$WORK/checkpoint.out" "$WORK/dump/dump.log" >&2; exit 1; }
before=$(last_tick "$WORK/src.out")
echo "page server ready; the source is frozen at tick $before"
echo "images: $(ls "$WORK/images" | tr '\n' ' ')"
du -sh "$WORK/images" | sed 's/^/image size (no memory in it): /'

step "restore -d --lazy-pages under a new name: the copy runs before its memory has arrived"
t0=$(date +%s%N)
sk restore -d --lazy-pages --image-path "$WORK/images" --work-path "$WORK/restore" "$DST_ID" \
	</dev/null >"$WORK/dst.out" 2>&1
t1=$(date +%s%N)
echo "restore returned in $(((t1 - t0) / 1000000)) ms"
sk state "$DST_ID" | jq -c '{id, status, pid}'
sk exec "$DST_ID" sh -c 'echo "inside the copy: $(ps | grep -c .) lines of ps, memhog is pid $(pidof memhog)"'

step "the handler pulls the rest; the checkpoint exits 0 when the copy holds every page"
if ! timeout 120 tail --pid="$cpt_pid" -f /dev/null; then
	echo "demo: the lazy checkpoint did not finish" >&2
	exit 1
fi
wait "$cpt_pid" && rc=0 || rc=$?
cpt_pid=
echo "checkpoint exited $rc"
[ "$rc" -eq 0 ] || { cat "$WORK/checkpoint.out" >&2; exit 1; }
if "$SKUA" --root "$ROOT" state "$SRC_ID" >/dev/null 2>&1; then
	echo "demo: the source container is still there" >&2
	exit 1
fi
echo "the source container is gone"
for i in $(seq 50); do [ -s "$WORK/restore/stats-lazy" ] && break; sleep 0.1; done
jq -c '{complete, pages_total, faults, pages_urgent, pages_bulk_after_running, pages_zero_not_sent, fault_latency_p50_us, fault_latency_p99_us, running_to_done_us}' "$WORK/restore/stats-lazy" 2>/dev/null ||
	cat "$WORK/restore/stats-lazy"

step "state survived: the counter goes on, memhog's checksum holds"
sleep 1
after=$(last_tick "$WORK/dst.out")
first=$(grep -o 'tick [0-9]*' "$WORK/dst.out" | head -1 | cut -d' ' -f2)
echo "source stopped at tick $before; the copy went on at tick $first and is now at tick $after"
[ "$first" -gt "$before" ] && [ "$first" -le $((before + 2)) ] ||
	{ echo "demo: the counter did not continue" >&2; exit 1; }
sk exec "$DST_ID" sh -c 'kill -USR1 $(pidof memhog)'
for i in $(seq 100); do grep -qE 'PASS|FAIL' "$WORK/dst.out" && break; sleep 0.1; done
grep -E 'PASS|FAIL' "$WORK/dst.out" | sed 's/^/memhog: /'
grep -q PASS "$WORK/dst.out" || { echo "demo: memhog's check failed" >&2; exit 1; }

step "clean up"
sk delete -f "$DST_ID"
echo "demo: OK"
