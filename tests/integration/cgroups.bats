#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# cgroups seen through the CLI: limits enforced, pause/resume, update,
# cgroupsPath, delete cleaning up. Ids "cg-*", cgroups under /skua-bats-cg.

ROOT=/run/skua-test-cgroups
load helpers

CGP=skua-bats-cg
V1_CTRLS="memory pids freezer cpuset cpu devices blkio"

function setup() {
	requires root
	setup_busybox
	update_config '.root.readonly = false'
}

function teardown() {
	teardown_containers
	local d
	for d in /sys/fs/cgroup/*/"$CGP"; do
		[ -d "$d" ] || continue
		find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
		rmdir "$d" 2>/dev/null
	done
	rm -rf "$ROOT"
}

# cgfile CONTROLLER NAME FILE: the contents of a file of container NAME's cgroup
function cgfile() {
	cat "/sys/fs/cgroup/$1/$CGP/$2/$3"
}

# run -d without handing the test's stdio (and bats' fd 3) to the container,
# or bats waits for the container to exit. Sets $status like bats' run.
function run_detached() {
	status=0
	"$SKUA_BIN" --root "$ROOT" run -d "$@" </dev/null >"$BATS_TEST_TMPDIR/run.out" 2>&1 3>&- || status=$?
	cat "$BATS_TEST_TMPDIR/run.out" >&2
}

function in_cgroup() { # NAME: sets linux.cgroupsPath
	update_config ".linux.cgroupsPath = \"/$CGP/$1\""
}

@test "cgroups: a memory hog is OOM-killed at a 32 MiB limit" {
	cat >"$BUNDLE/rootfs/bin/hog" <<-'SH'
		x=a; i=0
		while [ $i -lt 27 ]; do x="$x$x"; i=$((i + 1)); done
		echo survived ${#x}
	SH
	in_cgroup cg-mem
	update_config '.process.args = ["sh", "/bin/hog"]'

	# control: without a limit the hog gets its 128 MiB
	runc run cg-mem-free
	[ "$status" -eq 0 ]
	[[ "$output" == *"survived 134217728"* ]]

	update_config '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	run_detached cg-mem
	[ "$status" -eq 0 ]
	wait_for_status cg-mem stopped 200
	[ "$(cgfile memory cg-mem memory.limit_in_bytes)" = 33554432 ]
	[ "$(cgfile memory cg-mem memory.memsw.limit_in_bytes)" = 33554432 ]
	cgfile memory cg-mem memory.oom_control | grep -Eq '^oom_kill [1-9]'
	# usage went up to the limit, not beyond (failcnt is not kept by this kernel)
	[ "$(cgfile memory cg-mem memory.max_usage_in_bytes)" -le 33554432 ]
	[ "$(cgfile memory cg-mem memory.max_usage_in_bytes)" -gt 25000000 ]
}

@test "cgroups: the exit status of an OOM-killed container is 137" {
	in_cgroup cg-mem-fg
	update_config '.process.args = ["sh", "-c", "x=a; while :; do x=\"$x$x\"; done"]
		| .linux.resources.memory = {"limit": 33554432}'
	runc run cg-mem-fg
	[ "$status" -eq 137 ]
}

@test "cgroups: a pids limit stops a fork bomb of sleeps" {
	in_cgroup cg-pids
	update_config '.process.args = ["sh", "-c", "for i in $(seq 1 30); do sleep 30 & done; echo all-started"]
		| .linux.resources.pids = {"limit": 10}'
	runc run cg-pids
	[ "$status" -ne 0 ]
	[[ "$output" == *"can't fork"* ]]
	[[ "$output" != *all-started* ]]
}

@test "cgroups: pids.max and memory limits are written where runc writes them" {
	in_cgroup cg-files
	update_config '.linux.resources.pids = {"limit": 42}
		| .linux.resources.memory = {"limit": 100663296, "reservation": 50331648}
		| .linux.resources.cpu = {"shares": 256, "quota": 50000, "period": 100000}'
	run_detached cg-files
	[ "$status" -eq 0 ]
	[ "$(cgfile pids cg-files pids.max)" = 42 ]
	[ "$(cgfile memory cg-files memory.limit_in_bytes)" = 100663296 ]
	[ "$(cgfile memory cg-files memory.soft_limit_in_bytes)" = 50331648 ]
	[ "$(cgfile cpu cg-files cpu.shares)" = 256 ]
	[ "$(cgfile cpu cg-files cpu.cfs_quota_us)" = 50000 ]
	[ -n "$(cgfile cpuset cg-files cpuset.cpus)" ]
	# default devices: deny all but runc's list, so /dev/null still works
	cgfile devices cg-files devices.list | grep -q '^c 1:3 rwm'
	! cgfile devices cg-files devices.list | grep -q '^a '
}

@test "cgroups: pause stops a counter, resume restarts it" {
	in_cgroup cg-pause
	update_config '.process.args = ["sh", "-c", "i=0; while :; do i=$((i + 1)); echo $i > /count.new; mv /count.new /count; usleep 20000; done"]'
	run_detached cg-pause
	[ "$status" -eq 0 ]
	retry 50 0.1 test -s "$BUNDLE/rootfs/count"

	runc pause cg-pause
	[ "$status" -eq 0 ]
	testcontainer cg-pause paused
	[ "$(cgfile freezer cg-pause freezer.state)" = FROZEN ]
	local a b
	a=$(cat "$BUNDLE/rootfs/count")
	[ "$a" -gt 0 ]
	sleep 0.5
	b=$(cat "$BUNDLE/rootfs/count")
	[ "$a" = "$b" ]

	runc resume cg-pause
	[ "$status" -eq 0 ]
	testcontainer cg-pause running
	[ "$(cgfile freezer cg-pause freezer.state)" = THAWED ]
	sleep 0.5
	b=$(cat "$BUNDLE/rootfs/count")
	[ "$b" -gt "$a" ]
}

@test "cgroups: update changes the memory and pids limits" {
	in_cgroup cg-upd
	update_config '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 20}'
	run_detached cg-upd
	[ "$status" -eq 0 ]
	[ "$(cgfile memory cg-upd memory.limit_in_bytes)" = 67108864 ]

	runc update --memory 50331648 --pids-limit 17 cg-upd
	[ "$status" -eq 0 ]
	[ "$(cgfile memory cg-upd memory.limit_in_bytes)" = 50331648 ]
	[ "$(cgfile pids cg-upd pids.max)" = 17 ]

	echo '{"memory": {"limit": 83886080}, "pids": {"limit": 23}}' >"$BATS_TEST_TMPDIR/res.json"
	runc update -r "$BATS_TEST_TMPDIR/res.json" cg-upd
	[ "$status" -eq 0 ]
	[ "$(cgfile memory cg-upd memory.limit_in_bytes)" = 83886080 ]
	[ "$(cgfile pids cg-upd pids.max)" = 23 ]
}

@test "cgroups: cgroupsPath is honoured, absolute and relative" {
	in_cgroup cg-abs
	run_detached cg-abs
	[ "$status" -eq 0 ]
	local pid
	pid=$(__runc state cg-abs | jq -r .pid)
	grep -q "^[0-9]*:memory:/$CGP/cg-abs\$" "/proc/$pid/cgroup"
	grep -q "^[0-9]*:pids:/$CGP/cg-abs\$" "/proc/$pid/cgroup"
	grep -q "^0::/$CGP/cg-abs\$" "/proc/$pid/cgroup"

	update_config ".linux.cgroupsPath = \"$CGP/cg-rel\""
	run_detached cg-rel
	[ "$status" -eq 0 ]
	pid=$(__runc state cg-rel | jq -r .pid)
	grep -q "^[0-9]*:freezer:/$CGP/cg-rel\$" "/proc/$pid/cgroup"
}

@test "cgroups: without cgroupsPath the cgroup is named after the id" {
	update_config 'del(.linux.cgroupsPath)'
	run_detached cg-default
	[ "$status" -eq 0 ]
	local pid
	pid=$(__runc state cg-default | jq -r .pid)
	grep -q "^[0-9]*:memory:/.*cg-default\$" "/proc/$pid/cgroup"
}

@test "cgroups: delete removes the cgroup from every hierarchy" {
	in_cgroup cg-del
	run_detached cg-del
	[ "$status" -eq 0 ]
	local c
	for c in $V1_CTRLS unified; do
		[ -d "/sys/fs/cgroup/$c/$CGP/cg-del" ]
	done
	runc delete -f cg-del
	[ "$status" -eq 0 ]
	for c in $V1_CTRLS unified; do
		[ ! -d "/sys/fs/cgroup/$c/$CGP/cg-del" ]
	done
	runc state cg-del
	[ "$status" -ne 0 ]
}

@test "cgroups: delete of a paused container kills and removes it" {
	in_cgroup cg-delp
	run_detached cg-delp
	[ "$status" -eq 0 ]
	runc pause cg-delp
	[ "$status" -eq 0 ]
	runc delete -f cg-delp
	[ "$status" -eq 0 ]
	[ ! -d "/sys/fs/cgroup/freezer/$CGP/cg-delp" ]
	[ ! -d "/sys/fs/cgroup/unified/$CGP/cg-delp" ]
}
