#!/usr/bin/env bats
# exec: namespaces, cgroup, env, cwd, user, exit codes, detach, --process.

load helpers

function setup() {
	requires root
	setup_busybox
	runc_bg run -d lc-ex
	[ "$status" -eq 0 ]
}

@test "exec: runs in the container's namespaces and cgroup" {
	init=$(__runc state lc-ex | jq .pid)
	runc exec lc-ex sh -c 'echo $$; hostname; cat /proc/self/cgroup | grep memory'
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "$(jq -r .hostname "$BUNDLE/config.json")" ]
	# its own cgroup namespace, rooted at the container's cgroup
	[[ "${lines[2]}" == *":memory:/" ]]
	for ns in pid mnt uts ipc net; do
		[ "$(readlink /proc/$init/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ]
	done
	# pid 1 is the init: the exec'd shell sees a small pid of the container's ns
	[ "${lines[0]}" -lt 100 ]
}

@test "exec: exit code of the process" {
	runc exec lc-ex sh -c 'exit 42'
	[ "$status" -eq 42 ]
	runc exec lc-ex true
	[ "$status" -eq 0 ]
}

@test "exec: --env, --cwd, --user" {
	runc exec --env LC_A=one -e LC_B=two --cwd /tmp --user 1000:100 lc-ex sh -c 'echo $LC_A $LC_B $(pwd) $(id -u) $(id -g)'
	[ "$status" -eq 0 ]
	[ "$output" = "one two /tmp 1000 100" ]
	# the config's env stays, an --env of the same name replaces it
	runc exec -e PATH=/bin lc-ex sh -c 'echo $PATH; echo $TERM'
	[ "${lines[0]}" = /bin ]
	[ "${lines[1]}" = "$(jq -r '.process.env[] | select(startswith("TERM=")) | sub("TERM=";"")' "$BUNDLE/config.json")" ]
}

@test "exec: -d with --pid-file" {
	runc_bg exec -d --pid-file "$BATS_TEST_TMPDIR/exec.pid" lc-ex sleep 100
	[ "$status" -eq 0 ]
	pid=$(cat "$BATS_TEST_TMPDIR/exec.pid")
	[ -d /proc/$pid ]
	grep -qx "$pid" /sys/fs/cgroup/memory/skua/lc-ex/cgroup.procs
	runc ps --format json lc-ex
	echo "$output" | jq -e "index($pid) != null"
}

@test "exec: --process JSON" {
	cat > "$BATS_TEST_TMPDIR/proc.json" <<-EOP
	{"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "echo \$LC_P; pwd; exit 5"],
	 "env": ["PATH=/bin:/usr/bin", "LC_P=from-json"], "cwd": "/etc"}
	EOP
	runc exec --process "$BATS_TEST_TMPDIR/proc.json" lc-ex
	[ "$status" -eq 5 ]
	[ "${lines[0]}" = from-json ]
	[ "${lines[1]}" = /etc ]
}

@test "exec: a missing command fails clearly" {
	runc exec lc-ex lc-no-such-cmd
	[ "$status" -ne 0 ]
	[[ "$output" == *"lc-no-such-cmd"*"not found"* ]]
}

@test "exec: no fd of skua leaks into the process" {
	runc exec lc-ex ls /proc/self/fd
	[ "$status" -eq 0 ]
	# 0 1 2 and the fd ls opened for the directory
	[ "${#lines[@]}" -le 4 ]
}

@test "exec: --preserve-fds passes extra fds" {
	echo lc-preserved > "$BATS_TEST_TMPDIR/extra"
	run bash -c "exec 3<'$BATS_TEST_TMPDIR/extra'; '$SKUA_BIN' --root '$ROOT' exec --preserve-fds 1 lc-ex cat /proc/self/fd/3"
	[ "$status" -eq 0 ]
	[ "$output" = lc-preserved ]
}

@test "exec: refused in a stopped or paused container" {
	runc pause lc-ex
	runc exec lc-ex true
	[ "$status" -eq 1 ]
	[[ "$output" == *paused* ]]
	runc resume lc-ex
	runc kill lc-ex KILL
	wait_for_status lc-ex stopped
	runc exec lc-ex true
	[ "$status" -eq 1 ]
	[[ "$output" == *stopped* ]]
}

@test "exec: unknown container" {
	runc exec lc-ex-nothere true
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
}
