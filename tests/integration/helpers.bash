#!/bin/bash
# Helpers for the bats suite, named as runc's tests name them.
# Every test runs as root against ./skua (or $SKUA), with its own --root so
# that nothing is shared with a user's containers, and cleans up after itself.

SKUA_SRC=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
SKUA=${SKUA:-$SKUA_SRC/skua}
SKUA_BIN=$(readlink -f "$SKUA")

# Others rebuild ./skua while tests run (the shared tree): run a private copy,
# taken once per bats run when the binary is complete (executable).
function __skua_snapshot() {
	local dst="${BATS_RUN_TMPDIR:-/tmp}/skua-bin" i
	[ -x "$dst" ] && return 0
	for ((i = 0; i < 100; i++)); do
		if [ -x "$SKUA_BIN" ] && cp "$SKUA_BIN" "$dst.$$" 2>/dev/null; then
			mv -f "$dst.$$" "$dst"
			return 0
		fi
		sleep 0.1
	done
	return 1
}
if [ -z "$SKUA_NO_SNAPSHOT" ] && __skua_snapshot; then
	SKUA_BIN="${BATS_RUN_TMPDIR:-/tmp}/skua-bin"
fi
WORKLOADS=$SKUA_SRC/build/workloads
ROOTFS_CACHE=$SKUA_SRC/build/rootfs

# The test's state root; one per test file, so that files running at the
# same time never see (or tear down) each other's containers.
ROOT=${ROOT:-/run/skua-test-$(basename "${BATS_TEST_FILENAME:-x}" .bats)}

# Run skua with the test root; output in $output and $status, as bats' run.
function runc() {
	run __runc "$@"
	echo "skua $* (status=$status):" >&2
	echo "$output" >&2
}

# For commands that leave a container running (create, run -d, exec -d): the
# container inherits skua's stdio, and a pipe it holds would keep bats' `run`
# waiting forever. Its stdio goes to files; $output is skua's own stderr.
function runc_bg() {
	local rc=0
	__runc "$@" </dev/null >>"$BATS_TEST_TMPDIR/ctr.out" 2>"$BATS_TEST_TMPDIR/ctr.err" || rc=$?
	status=$rc
	output=$(cat "$BATS_TEST_TMPDIR/ctr.err")
	lines=()
	[ -z "$output" ] || mapfile -t lines <<<"$output"
	echo "skua $* (status=$status):" >&2
	echo "$output" >&2
}

function __runc() {
	"$SKUA_BIN" --root "$ROOT" "$@"
}

# Make a bundle with a busybox rootfs in $BATS_TEST_TMPDIR/bundle (cwd there).
function setup_busybox() {
	BUNDLE="$BATS_TEST_TMPDIR/bundle"
	mkdir -p "$BUNDLE"
	cp -a "$ROOTFS_CACHE" "$BUNDLE/rootfs"
	(cd "$BUNDLE" && "$SKUA_BIN" spec)
	cd "$BUNDLE" || return 1
	# not a terminal by default in tests; sleep forever unless the test says otherwise
	update_config '.process.terminal = false | .process.args = ["sh", "-c", "while true; do sleep 1; done"]'
}

# The checkpoint files' common set-up: a busybox bundle, and where images,
# the work dir and the containers' output go.
function setup_ckpt_busybox() {
	requires root
	setup_busybox
	IMG="$BATS_TEST_TMPDIR/image-dir"
	WORK="$BATS_TEST_TMPDIR/work-dir"
	OUT="$BATS_TEST_TMPDIR/out"
}

# Apply a jq filter to config.json in the bundle.
function update_config() {
	local tmp
	tmp=$(mktemp)
	jq "$@" "$BUNDLE/config.json" >"$tmp" && mv "$tmp" "$BUNDLE/config.json"
}

# Copy a workload binary into the rootfs.
function add_workload() {
	cp "$WORKLOADS/$1" "$BUNDLE/rootfs/bin/$1"
}

# Wait for a container to reach a status: wait_for_status ID STATUS [TRIES]
function wait_for_status() {
	local i
	for ((i = 0; i < ${3:-50}; i++)); do
		[ "$("$SKUA_BIN" --root "$ROOT" state "$1" 2>/dev/null | jq -r .status)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# retry N DELAY cmd...
function retry() {
	local attempts=$1 delay=$2 i
	shift 2
	for ((i = 0; i < attempts; i++)); do
		"$@" && return 0
		sleep "$delay"
	done
	return 1
}

function testcontainer() {
	runc state "$1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"\"status\": \"$2\""* || "$output" == *"\"status\":\"$2\""* ]]
}

# Remove every container this test root holds, and the root.
function teardown_containers() {
	local id
	[ -d "$ROOT" ] || return 0
	for id in $("$SKUA_BIN" --root "$ROOT" list -q 2>/dev/null); do
		"$SKUA_BIN" --root "$ROOT" delete -f "$id" >/dev/null 2>&1
	done
	rmdir "$ROOT" 2>/dev/null || true
}

function teardown() {
	teardown_containers
}

function requires() {
	local r
	for r in "$@"; do
		case $r in
		root) [ "$(id -u)" -eq 0 ] || skip "needs root" ;;
		*) ;;
		esac
	done
}

# The container's cgroup directories (v1 memory and the unified tree) for the
# default cgroupsPath /skua/ID.
function cgroup_dirs() {
	echo "/sys/fs/cgroup/memory/skua/$1"
	echo "/sys/fs/cgroup/pids/skua/$1"
	echo "/sys/fs/cgroup/unified/skua/$1"
}

# Assert nothing of container ID is left: state dir, cgroups.
function assert_no_leftovers() {
	local d
	[ ! -e "$ROOT/$1" ] || { echo "state dir $ROOT/$1 left behind" >&2; return 1; }
	for d in $(cgroup_dirs "$1"); do
		[ ! -e "$d" ] || { echo "cgroup $d left behind" >&2; return 1; }
	done
}

# The receiving end of a console socket: start_recvtty SOCKET [INPUT] > OUT
function start_recvtty() {
	"$WORKLOADS/recvtty" "$@" &
	RECVTTY_PID=$!
	retry 50 0.1 test -S "$1"
}

# runc's pipe trio: in/out/err each a pipe whose both ends we hold.
function setup_stdio_pipes() {
	local pipe
	exec {pipe}<> <(:)
	exec {err_r}</proc/self/fd/$pipe
	exec {err_w}>/proc/self/fd/$pipe
	exec {pipe}>&-
	exec {pipe}<> <(:)
	exec {out_r}</proc/self/fd/$pipe
	exec {out_w}>/proc/self/fd/$pipe
	exec {pipe}>&-
	exec {pipe}<> <(:)
	exec {in_r}</proc/self/fd/$pipe
	exec {in_w}>/proc/self/fd/$pipe
	exec {pipe}>&-
}

# "Ping" in, "ponG Ping" out and nothing on stderr (the container runs
# `while read line; do echo ponG $line; done`); closes the pipes.
function check_pipes() {
	local output stderr
	echo Ping >&${in_w}
	exec {in_w}>&- {out_w}>&- {err_w}>&- {in_r}>&-
	output=$(timeout 10 cat <&${out_r})
	exec {out_r}>&-
	stderr=$(timeout 10 cat <&${err_r})
	exec {err_r}>&-
	echo "stdout: $output" >&2
	echo "stderr: $stderr" >&2
	[[ "$output" == *"ponG Ping"* ]]
	[ -z "$stderr" ]
}
