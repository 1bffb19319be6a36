#!/bin/bash
# Helpers for the bats suite, named as runc's tests name them.
# Every test runs as root against ./skua (or $SKUA), with its own --root so
# that nothing is shared with a user's containers, and cleans up after itself.

SKUA_SRC=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
SKUA=${SKUA:-$SKUA_SRC/skua}
SKUA_BIN=$(readlink -f "$SKUA")
WORKLOADS=$SKUA_SRC/build/workloads
ROOTFS_CACHE=$SKUA_SRC/build/rootfs

# The test's state root; one per test file run.
ROOT=${ROOT:-/run/skua-test}

# Run skua with the test root; output in $output and $status, as bats' run.
function runc() {
	run __runc "$@"
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
