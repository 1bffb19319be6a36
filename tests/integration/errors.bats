#!/usr/bin/env bats
# Failures: each exits 1 with a clear message and leaves nothing behind
# (state dir, cgroups, mounts, processes).

load helpers

function setup() {
	requires root
	setup_busybox
}

# Nothing of ID left, and no mount under the bundle on the host.
function assert_clean() {
	assert_no_leftovers "$1"
	! grep -q "$BUNDLE" /proc/self/mountinfo
	! pgrep -f "lc-err-marker" >/dev/null
}

@test "errors: malformed config.json" {
	echo '{"ociVersion": "1.0.2", "process": ' > "$BUNDLE/config.json"
	runc_bg create lc-err-json
	[ "$status" -eq 1 ]
	[[ "$output" == *"config.json"* ]]
	assert_clean lc-err-json
}

@test "errors: a wrongly typed field is named" {
	update_config '.process.args = "sh"'
	runc_bg create lc-err-type
	[ "$status" -eq 1 ]
	[[ "$output" == *"process.args"* ]]
	assert_clean lc-err-type
}

@test "errors: missing config.json" {
	rm "$BUNDLE/config.json"
	runc_bg create lc-err-nocfg
	[ "$status" -eq 1 ]
	[[ "$output" == *"config.json"* ]]
	assert_clean lc-err-nocfg
}

@test "errors: missing rootfs" {
	rm -rf "$BUNDLE/rootfs"
	runc_bg create lc-err-rootfs
	[ "$status" -eq 1 ]
	[[ "$output" == *"rootfs"* ]]
	assert_clean lc-err-rootfs
}

@test "errors: a command that does not exist fails create" {
	update_config '.process.args = ["lc-err-no-such-binary"]'
	runc_bg create lc-err-cmd
	[ "$status" -eq 1 ]
	[[ "$output" == *"lc-err-no-such-binary"*"not found"* ]]
	assert_clean lc-err-cmd
}

@test "errors: a bad cwd fails create" {
	update_config '.process.cwd = "/etc/passwd"'
	runc_bg create lc-err-cwd
	[ "$status" -eq 1 ]
	[[ "$output" == *"cwd"* ]]
	assert_clean lc-err-cwd
}

@test "errors: a failing prestart hook fails create and cleans up" {
	update_config '.hooks = {"prestart": [{"path": "/bin/false"}]}'
	runc_bg create lc-err-hook
	[ "$status" -eq 1 ]
	[[ "$output" == *"prestart"* ]]
	assert_clean lc-err-hook
}

@test "errors: duplicate id" {
	update_config '.process.args = ["sh", "-c", "sleep 100 # lc-err-marker"]'
	runc_bg create lc-err-dup
	[ "$status" -eq 0 ]
	runc_bg create lc-err-dup
	[ "$status" -eq 1 ]
	[[ "$output" == *"container with id exists: lc-err-dup"* ]]
	# the first one is untouched
	testcontainer lc-err-dup created
	runc delete -f lc-err-dup
	assert_clean lc-err-dup
}

@test "errors: ids with / or .. or nothing" {
	for id in "lc/err" ".." "." "../lc-err" "lc err" ""; do
		runc_bg create "$id"
		[ "$status" -eq 1 ]
		[[ "$output" == *"container id"* ]]
	done
	[ ! -e "$ROOT/lc" ]
	[ ! -e "$(dirname "$ROOT")/lc-err" ]
	runc state "../lc-err"
	[ "$status" -eq 1 ]
}

@test "errors: unknown signal" {
	runc_bg run -d lc-err-sig
	[ "$status" -eq 0 ]
	for sig in SIGLCERR NOPE 0 99999 -1; do
		runc kill lc-err-sig "$sig"
		[ "$status" -eq 1 ]
	done
	runc kill lc-err-sig SIGLCERR
	[[ "$output" == *"signal"* ]]
	testcontainer lc-err-sig running
}

@test "errors: commands on a container that does not exist" {
	for cmd in state start kill delete pause resume ps exec update; do
		args=()
		[ "$cmd" = exec ] && args=(true)
		runc "$cmd" lc-err-none "${args[@]}"
		[ "$status" -eq 1 ]
		[[ "$output" == *"does not exist"* ]]
	done
	# runc: delete --force of nothing succeeds
	runc delete -f lc-err-none
	[ "$status" -eq 0 ]
}

@test "errors: a state dir that is not ours" {
	mkdir -p "$ROOT/lc-err-foreign"
	runc state lc-err-foreign
	[ "$status" -eq 1 ]
	[[ "$output" == *"state.json"* ]]
	rmdir "$ROOT/lc-err-foreign"
	touch "$ROOT/lc-err-file"
	runc state lc-err-file
	[ "$status" -eq 1 ]
	[[ "$output" == *"not a directory"* ]]
	rm -f "$ROOT/lc-err-file"
}

@test "errors: wrong number of arguments" {
	runc start
	[ "$status" -eq 1 ]
	[[ "$output" == *"requires"* ]]
	runc state a b
	[ "$status" -eq 1 ]
	runc lc-err-nosuchcommand
	[ "$status" -eq 1 ]
}

@test "errors: start of a stopped container" {
	update_config '.process.args = ["true"]'
	runc_bg create lc-err-stopped
	runc start lc-err-stopped
	[ "$status" -eq 0 ]
	wait_for_status lc-err-stopped stopped
	runc start lc-err-stopped
	[ "$status" -eq 1 ]
	[[ "$output" == *"stopped"* ]]
}

@test "errors: delete -f clears what a killed create left, and nothing foreign" {
	mkdir -p "$ROOT/lc-err-stale"
	mkfifo "$ROOT/lc-err-stale/exec.fifo"
	runc delete lc-err-stale
	[ "$status" -eq 1 ]
	[[ "$output" == *"state.json"* ]]
	runc delete -f lc-err-stale
	[ "$status" -eq 0 ]
	[ ! -e "$ROOT/lc-err-stale" ]
	mkdir -p "$ROOT/lc-err-foreign2"
	touch "$ROOT/lc-err-foreign2/precious"
	runc delete -f lc-err-foreign2
	[ "$status" -eq 1 ]
	[ -e "$ROOT/lc-err-foreign2/precious" ]
	rm -rf "$ROOT/lc-err-foreign2"
}
