#!/usr/bin/env bats
# linux.seccomp end to end: the container's syscalls meet the profile.

ROOT=/run/skua-test-iso-seccomp
load helpers

function setup() {
	requires root
	setup_busybox
	update_config '.root.readonly = false'
}

function run_sh() {
	update_config ".process.args = [\"sh\", \"-c\", $(jq -Rn --arg s "$1" '$s')]"
	runc run "$2"
}

@test "seccomp: SCMP_ACT_ERRNO makes mkdir fail with EPERM" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
	run_sh 'mkdir /tmp/iso-d 2>&1; echo rc=$?; touch /tmp/iso-f && echo touched' iso-sc-errno
	[ "$status" -eq 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
	[[ "$output" == *"rc=1"* ]]
	[[ "$output" == *"touched"* ]]
	[ ! -d "$BUNDLE/rootfs/tmp/iso-d" ]
}

@test "seccomp: errnoRet is what the syscall returns" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["chmod", "fchmodat", "fchmodat2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]}'
	run_sh 'touch /tmp/f; chmod 600 /tmp/f 2>&1; echo rc=$?' iso-sc-errnoret
	[ "$status" -eq 0 ]
	[[ "$output" == *"cross-device link"* ]]
	[[ "$output" == *"rc=1"* ]]
}

@test "seccomp: argument conditions select the calls" {
	# chmod to mode 0700 (448) is refused, any other mode passes
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 448, "op": "SCMP_CMP_EQ"}]},
			{"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 2, "value": 448, "op": "SCMP_CMP_EQ"}]}]}'
	run_sh 'touch /tmp/f; chmod 700 /tmp/f 2>&1; echo rc=$?; chmod 755 /tmp/f; echo rc=$?; stat -c %a /tmp/f' iso-sc-args
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"Operation not permitted"* ]]
	[ "${lines[1]}" = rc=1 ]
	[ "${lines[2]}" = rc=0 ]
	[ "${lines[3]}" = 755 ]
}

@test "seccomp: SCMP_ACT_KILL_PROCESS kills with SIGSYS" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["sethostname"], "action": "SCMP_ACT_KILL_PROCESS"}]}'
	# in a subshell: busybox may run an applet inside the shell process itself
	run_sh '(hostname iso-killed); echo rc=$?; hostname' iso-sc-kill
	[ "$status" -eq 0 ]
	# 128 + SIGSYS (31)
	[[ "$output" == *"rc=159"* ]]
	[[ "$output" != *"iso-killed"* ]]
}

@test "seccomp: an unknown syscall name is skipped, an unknown action is an error" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["iso_no_such_syscall", "mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
	run_sh 'mkdir /tmp/x 2>&1; true' iso-sc-unknown
	[ "$status" -eq 0 ]
	[[ "$output" == *"Operation not permitted"* ]]

	update_config '.linux.seccomp.syscalls[0].action = "SCMP_ACT_ISO_BOGUS"'
	run_sh 'true' iso-sc-badaction
	[ "$status" -ne 0 ]
	[[ "$output" == *"SCMP_ACT_ISO_BOGUS"* ]]
}

@test "seccomp: a profile without noNewPrivileges and without CAP_SYS_ADMIN still loads" {
	# runc loads the filter before dropping capabilities in this case
	update_config '.process.noNewPrivileges = false | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
	run_sh 'mkdir /tmp/iso-d 2>&1; grep NoNewPrivs /proc/self/status' iso-sc-nonnp
	[ "$status" -eq 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
}
