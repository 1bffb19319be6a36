#!/usr/bin/env bats
# create/start/run/state/kill/delete/list/ps/pause/resume/update/spec/features
# and the option parser, end to end with a busybox container.

load helpers

function setup() {
	requires root
	setup_busybox
}

@test "lifecycle: create, start, kill, delete walk the states" {
	runc_bg create lc-states
	[ "$status" -eq 0 ]
	testcontainer lc-states created
	pid=$(__runc state lc-states | jq .pid)
	[ "$pid" -gt 0 ]
	# the init already sits in its cgroup before start
	grep -qx "$pid" /sys/fs/cgroup/memory/skua/lc-states/cgroup.procs

	runc start lc-states
	[ "$status" -eq 0 ]
	testcontainer lc-states running
	[ ! -e "$ROOT/lc-states/exec.fifo" ]

	runc start lc-states
	[ "$status" -eq 1 ]
	[[ "$output" == *"already running"* ]]

	runc kill lc-states KILL
	[ "$status" -eq 0 ]
	wait_for_status lc-states stopped

	runc delete lc-states
	[ "$status" -eq 0 ]
	runc state lc-states
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
	assert_no_leftovers lc-states
}

@test "lifecycle: state prints the OCI fields" {
	update_config '.annotations = {"lc.test": "yes"}'
	runc_bg create lc-fields
	[ "$status" -eq 0 ]
	__runc state lc-fields > "$BATS_TEST_TMPDIR/state.json"
	run jq -r '[.ociVersion, .id, .status, .bundle, .rootfs, .annotations["lc.test"]] | join(" ")' "$BATS_TEST_TMPDIR/state.json"
	[ "$output" = "1.0.2-dev lc-fields created $BUNDLE $BUNDLE/rootfs yes" ]
	run jq -r .created "$BATS_TEST_TMPDIR/state.json"
	[[ "$output" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$ ]]
	run jq -r 'has("owner")' "$BATS_TEST_TMPDIR/state.json"
	[ "$output" = true ]
}

@test "lifecycle: the process starts only at start" {
	update_config '.root.readonly = false | .process.args = ["sh", "-c", "echo started > /tmp/mark; sleep 100"]'
	runc_bg create lc-gate
	[ "$status" -eq 0 ]
	sleep 0.3
	[ ! -e "$BUNDLE/rootfs/tmp/mark" ]
	runc start lc-gate
	[ "$status" -eq 0 ]
	retry 50 0.1 test -e "$BUNDLE/rootfs/tmp/mark"
}

@test "lifecycle: run waits and returns the exit code" {
	update_config '.process.args = ["sh", "-c", "echo out-lc; exit 7"]'
	runc run lc-exit
	[ "$status" -eq 7 ]
	[[ "$output" == *"out-lc"* ]]
	# run removes the container once its process is gone
	runc state lc-exit
	[ "$status" -eq 1 ]
	assert_no_leftovers lc-exit
}

@test "lifecycle: run reports a signal death as 128+N" {
	"$SKUA_BIN" --root "$ROOT" run lc-sig </dev/null >/dev/null 2>&1 &
	runpid=$!
	wait_for_status lc-sig running
	runc kill lc-sig KILL
	[ "$status" -eq 0 ]
	wait $runpid || st=$?
	[ "${st:-0}" -eq 137 ]
}

@test "lifecycle: run forwards signals to the container" {
	update_config '.process.args = ["sh", "-c", "trap \"echo got-term; exit 3\" TERM; while true; do sleep 0.1; done"]'
	"$SKUA_BIN" --root "$ROOT" run lc-fwd > "$BATS_TEST_TMPDIR/out" 2>&1 &
	runpid=$!
	wait_for_status lc-fwd running
	sleep 0.3
	kill -TERM $runpid
	wait $runpid || st=$?
	[ "${st:-0}" -eq 3 ]
	grep -q got-term "$BATS_TEST_TMPDIR/out"
}

@test "lifecycle: run -d and --pid-file" {
	runc_bg run -d --pid-file "$BATS_TEST_TMPDIR/pid" lc-detach
	[ "$status" -eq 0 ]
	testcontainer lc-detach running
	[ "$(cat "$BATS_TEST_TMPDIR/pid")" = "$(__runc state lc-detach | jq .pid)" ]
}

@test "lifecycle: kill takes names with and without SIG, and numbers" {
	for sig in KILL SIGKILL 9 kill; do
		runc_bg run -d lc-kill
		[ "$status" -eq 0 ]
		runc kill lc-kill "$sig"
		[ "$status" -eq 0 ]
		wait_for_status lc-kill stopped
		runc delete lc-kill
		[ "$status" -eq 0 ]
	done
}

@test "lifecycle: kill defaults to SIGTERM and delivers the signal asked for" {
	update_config '.root.readonly = false | .process.args = ["sh", "-c", "trap \"echo usr1 > /tmp/got; exit 0\" USR1; trap \"echo term > /tmp/got; exit 0\" TERM; while true; do sleep 0.1; done"]'
	runc_bg run -d lc-sigs
	sleep 0.3
	runc kill lc-sigs USR1
	[ "$status" -eq 0 ]
	wait_for_status lc-sigs stopped
	[ "$(cat "$BUNDLE/rootfs/tmp/got")" = usr1 ]
	runc delete lc-sigs

	runc_bg run -d lc-sigs
	sleep 0.3
	runc kill lc-sigs
	[ "$status" -eq 0 ]
	wait_for_status lc-sigs stopped
	[ "$(cat "$BUNDLE/rootfs/tmp/got")" = term ]
}

@test "lifecycle: kill --all signals every process" {
	update_config '.process.args = ["sh", "-c", "sleep 100 & sleep 100 & wait"]'
	runc_bg run -d lc-all
	[ "$status" -eq 0 ]
	retry 20 0.1 test "$(__runc ps --format json lc-all | jq length)" -eq 3
	runc kill --all lc-all KILL
	[ "$status" -eq 0 ]
	wait_for_status lc-all stopped
	retry 20 0.1 test "$(cat /sys/fs/cgroup/pids/skua/lc-all/cgroup.procs | wc -l)" -eq 0
}

@test "lifecycle: delete refuses a running container, -f kills it" {
	runc_bg run -d lc-del
	[ "$status" -eq 0 ]
	pid=$(__runc state lc-del | jq .pid)
	runc delete lc-del
	[ "$status" -eq 1 ]
	[[ "$output" == *"not stopped"* ]]
	testcontainer lc-del running
	runc delete -f lc-del
	[ "$status" -eq 0 ]
	! kill -0 "$pid" 2>/dev/null || [ "$(awk '{print $3}' /proc/$pid/stat)" = Z ]
	assert_no_leftovers lc-del
}

@test "lifecycle: delete of a created container kills its init" {
	runc_bg create lc-delc
	[ "$status" -eq 0 ]
	runc delete lc-delc
	[ "$status" -eq 0 ]
	assert_no_leftovers lc-delc
}

@test "lifecycle: list -q, table and json" {
	runc_bg run -d lc-list1
	runc_bg create lc-list2
	runc list -q
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = lc-list1 ]
	[ "${lines[1]}" = lc-list2 ]
	runc list
	[[ "${lines[0]}" == ID*PID*STATUS*BUNDLE*CREATED*OWNER ]]
	[[ "${lines[1]}" == lc-list1*running*"$BUNDLE"* ]]
	[[ "${lines[2]}" == lc-list2*created* ]]
	runc list --format json
	[ "$(echo "$output" | jq -r '.[] | .id + ":" + .status' | tr '\n' ' ')" = "lc-list1:running lc-list2:created " ]
	runc list --format=yaml
	[ "$status" -eq 1 ]
}

@test "lifecycle: ps lists the container's processes" {
	runc_bg run -d lc-ps
	pid=$(__runc state lc-ps | jq .pid)
	runc ps --format json lc-ps
	[ "$status" -eq 0 ]
	echo "$output" | jq -e "index($pid) != null"
	runc ps lc-ps
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *PID* ]]
	[[ "$output" == *" $pid "* ]]
	# only the container's processes
	[[ "$output" != *" $$ "* ]]
}

@test "lifecycle: pause and resume" {
	runc_bg run -d lc-pause
	runc pause lc-pause
	[ "$status" -eq 0 ]
	testcontainer lc-pause paused
	grep -q FROZEN /sys/fs/cgroup/freezer/skua/lc-pause/freezer.state
	runc pause lc-pause
	[ "$status" -eq 1 ]
	runc resume lc-pause
	[ "$status" -eq 0 ]
	testcontainer lc-pause running
	runc resume lc-pause
	[ "$status" -eq 1 ]
	# a paused container can still be force-deleted
	runc pause lc-pause
	runc delete -f lc-pause
	[ "$status" -eq 0 ]
	assert_no_leftovers lc-pause
}

@test "lifecycle: update sets limits from flags and from a file" {
	runc_bg run -d lc-upd
	runc update --memory 64m --pids-limit 50 lc-upd
	[ "$status" -eq 0 ]
	[ "$(cat /sys/fs/cgroup/memory/skua/lc-upd/memory.limit_in_bytes)" = 67108864 ]
	[ "$(cat /sys/fs/cgroup/pids/skua/lc-upd/pids.max)" = 50 ]
	echo '{"pids": {"limit": 77}}' > "$BATS_TEST_TMPDIR/res.json"
	runc update -r "$BATS_TEST_TMPDIR/res.json" lc-upd
	[ "$status" -eq 0 ]
	[ "$(cat /sys/fs/cgroup/pids/skua/lc-upd/pids.max)" = 77 ]
	runc update --memory lots lc-upd
	[ "$status" -eq 1 ]
}

@test "lifecycle: config resources and cgroupsPath are applied at create" {
	update_config '.linux.resources = {"pids": {"limit": 33}} | .linux.cgroupsPath = "/skua/lc-custom-cg"'
	runc_bg create lc-cgpath
	[ "$status" -eq 0 ]
	[ "$(cat /sys/fs/cgroup/pids/skua/lc-custom-cg/pids.max)" = 33 ]
	runc delete -f lc-cgpath
	[ ! -e /sys/fs/cgroup/pids/skua/lc-custom-cg ]
}

@test "lifecycle: spec writes config.json and refuses to overwrite" {
	dir="$BATS_TEST_TMPDIR/specdir"
	mkdir -p "$dir"
	runc spec -b "$dir"
	[ "$status" -eq 0 ]
	jq -e '.process.terminal == true and .process.args == ["sh"] and .root.path == "rootfs"' "$dir/config.json"
	runc spec --bundle "$dir"
	[ "$status" -eq 1 ]
	[[ "$output" == *exists* ]]
}

@test "lifecycle: features is JSON with the checkpoint annotations" {
	runc features
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.annotations["org.opencontainers.runc.checkpoint.enabled"] == "true"'
	echo "$output" | jq -e '.annotations["run.skua.lazy-pages"] == "true"'
}

@test "lifecycle: hooks run at their moments and see the state" {
	log="$BATS_TEST_TMPDIR/hooks.log"
	hook() { echo "{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"cat >> $log; echo \\\" $1\\\" >> $log\"]}"; }
	# startContainer runs inside the container after pivot_root: it leaves a mark there
	start_hook='{"path": "/bin/sh", "args": ["sh", "-c", "cat > /tmp/start-hook"]}'
	update_config ".root.readonly = false | .hooks = {\"prestart\": [$(hook prestart)], \"createRuntime\": [$(hook createRuntime)], \"createContainer\": [$(hook createContainer)], \"startContainer\": [$start_hook], \"poststart\": [$(hook poststart)], \"poststop\": [$(hook poststop)]}"
	runc_bg create lc-hooks
	[ "$status" -eq 0 ]
	grep -q '"id":"lc-hooks"' "$log"
	grep -q '"status":"creating"' "$log"
	[ ! -e "$BUNDLE/rootfs/tmp/start-hook" ]
	runc start lc-hooks
	[ "$status" -eq 0 ]
	retry 20 0.1 grep -q '"id":"lc-hooks"' "$BUNDLE/rootfs/tmp/start-hook"
	runc delete -f lc-hooks
	[ "$status" -eq 0 ]
	grep -q '"status":"stopped"' "$log"
	[ "$(grep -o ' [a-zA-Z]*$' "$log" | tr -d ' ' | tr '\n' ' ')" = "prestart createRuntime createContainer poststart poststop " ]
}

@test "lifecycle: a failing poststart hook fails start" {
	update_config '.hooks = {"poststart": [{"path": "/bin/false"}]}'
	runc_bg create lc-psfail
	runc start lc-psfail
	[ "$status" -eq 1 ]
	[[ "$output" == *poststart* ]]
	# as runc, the container is killed
	wait_for_status lc-psfail stopped
}

@test "lifecycle: no fd of skua leaks into the container" {
	update_config '.process.args = ["ls", "/proc/self/fd"]'
	runc run lc-fds
	[ "$status" -eq 0 ]
	# 0 1 2, and the fd ls reads the directory with
	[ "${#lines[@]}" -le 4 ]
}

@test "lifecycle: --preserve-fds passes fds to the container" {
	update_config '.process.args = ["cat", "/proc/self/fd/3"]'
	echo lc-preserved-create > "$BATS_TEST_TMPDIR/extra"
	run bash -c "exec 3<'$BATS_TEST_TMPDIR/extra'; '$SKUA_BIN' --root '$ROOT' run --preserve-fds 1 lc-pfds"
	[ "$status" -eq 0 ]
	[ "$output" = lc-preserved-create ]
	# without it, fd 3 is closed
	run bash -c "exec 3<'$BATS_TEST_TMPDIR/extra'; '$SKUA_BIN' --root '$ROOT' run lc-pfds"
	[ "$status" -ne 0 ]
}

@test "lifecycle: --no-pivot runs the container too" {
	update_config '.process.args = ["sh", "-c", "test -e /bin/busybox && echo in-rootfs"]'
	runc run --no-pivot lc-nopivot
	[ "$status" -eq 0 ]
	[ "$output" = in-rootfs ]
}

@test "lifecycle: --help on commands exits 0" {
	for c in create start run state kill delete list ps pause resume update spec features exec checkpoint; do
		run "$SKUA_BIN" "$c" --help
		[ "$status" -eq 0 ]
	done
	run "$SKUA_BIN" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *checkpoint* ]]
}

@test "lifecycle: options in every Go spelling" {
	runc_bg run -detach -pid-file "$BATS_TEST_TMPDIR/p1" lc-opts1
	[ "$status" -eq 0 ]
	runc_bg run --detach=true --pid-file="$BATS_TEST_TMPDIR/p2" -d -d lc-opts2
	[ "$status" -eq 0 ]
	[ -s "$BATS_TEST_TMPDIR/p1" ] && [ -s "$BATS_TEST_TMPDIR/p2" ]
	run "$SKUA_BIN" -root "$ROOT" list -q
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	runc delete --force=true lc-opts1
	[ "$status" -eq 0 ]
	runc run --no-such-flag lc-opts3
	[ "$status" -eq 1 ]
	[[ "$output" == *"flag provided but not defined: -no-such-flag"* ]]
	runc kill -x lc-opts2
	[ "$status" -eq 1 ]
	[[ "$output" == *"flag provided but not defined: -x"* ]]
	runc run --pid-file
	[ "$status" -eq 1 ]
	[[ "$output" == *"flag needs an argument: -pid-file"* ]]
	run "$SKUA_BIN" --criu /usr/sbin/criu --debug --root "$ROOT" list -q
	[ "$status" -eq 0 ]
}

@test "lifecycle: --log-format json writes the error to the log" {
	run "$SKUA_BIN" --root "$ROOT" --log "$BATS_TEST_TMPDIR/log.json" --log-format json state lc-nothere
	[ "$status" -eq 1 ]
	[[ "$output" == *"does not exist"* ]]
	tail -n1 "$BATS_TEST_TMPDIR/log.json" | jq -e '.level == "error" and (.msg | contains("does not exist")) and (.time | length > 0)'
}

@test "lifecycle: commands on one id wait for each other (state dir lock)" {
	runc_bg run -d lc-lock
	[ "$status" -eq 0 ]
	flock "$ROOT/lc-lock" sleep 1.5 &
	holder=$!
	sleep 0.2
	start=$(date +%s%N)
	runc kill lc-lock KILL
	[ "$status" -eq 0 ]
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	wait $holder
	echo "kill took ${elapsed} ms" >&2
	[ "$elapsed" -ge 1000 ]
}

@test "lifecycle: a container with its own user namespace goes through create/start" {
	chown -R 100000:100000 "$BUNDLE/rootfs"
	# the container's root (host uid 100000) must be able to reach its rootfs
	d=$BUNDLE
	while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
	update_config '.root.readonly = false | .process.args = ["sh", "-c", "id -u; cat /proc/self/uid_map"]
		| .linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	runc run lc-userns
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0 ]
	[[ "${lines[1]}" == *100000*65536* ]]
}

@test "lifecycle: a created container can be paused, resumed, then started" {
	runc_bg create lc-pausec
	[ "$status" -eq 0 ]
	runc pause lc-pausec
	[ "$status" -eq 0 ]
	testcontainer lc-pausec paused
	runc start lc-pausec
	[ "$status" -eq 1 ]
	[[ "$output" == *paused* ]]
	runc resume lc-pausec
	[ "$status" -eq 0 ]
	testcontainer lc-pausec created
	runc start lc-pausec
	[ "$status" -eq 0 ]
	testcontainer lc-pausec running
}
