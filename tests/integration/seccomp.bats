#!/usr/bin/env bats
# linux.seccomp end to end: the container's syscalls meet the profile.

ROOT=/run/skua-test-iso-seccomp
load helpers

function setup() {
	requires root
	setup_busybox
	update_config '.root.readonly = false'
}

function teardown() {
	teardown_containers
	[ -z "$AGENT_PID" ] || kill "$AGENT_PID" 2>/dev/null || true
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

# A seccomp agent: receives the notify fd, records the state it came with,
# and answers every notification with EXDEV.
function start_agent() {
	cat > "$BATS_TEST_TMPDIR/agent.py" <<'PY'
import array, fcntl, select, socket, struct, sys
path, out = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
conn, _ = srv.accept()
msg, anc, _, _ = conn.recvmsg(8192, socket.CMSG_LEN(4))
fds = array.array("i")
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[:4])
with open(out, "w") as f:
    f.write(msg.decode() + "\n")
nfd = fds[0]
RECV, SEND = 0xc0502100, 0xc0182101
poll = select.poll()
poll.register(nfd, select.POLLIN)
while True:
    ev = poll.poll(10000)
    if not ev or ev[0][1] & select.POLLHUP:
        break
    req = bytearray(80)
    try:
        fcntl.ioctl(nfd, RECV, req, True)
    except OSError:
        continue
    nid, nr = struct.unpack_from("Q", req, 0)[0], struct.unpack_from("i", req, 16)[0]
    try:
        fcntl.ioctl(nfd, SEND, bytearray(struct.pack("QqiI", nid, 0, -18, 0)), True)
    except OSError:
        pass
    with open(out, "a") as f:
        f.write("notified nr=%d\n" % nr)
PY
	python3 "$BATS_TEST_TMPDIR/agent.py" "$1" "$2" &
	AGENT_PID=$!
	retry 50 0.1 test -S "$1"
}

@test "seccomp: SCMP_ACT_NOTIFY hands the notify fd to the agent at listenerPath" {
	command -v python3 >/dev/null || skip "the test agent needs python3"
	sock="$BATS_TEST_TMPDIR/iso-agent.sock"
	start_agent "$sock" "$BATS_TEST_TMPDIR/agent.out"
	update_config --arg s "$sock" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": $s,
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
	run_sh 'mkdir /tmp/iso-notified 2>&1; echo rc=$?' iso-sc-notify
	wait "$AGENT_PID" || true
	[ "$status" -eq 0 ]
	[[ "$output" == *"cross-device link"* ]]
	[[ "$output" == *"rc=1"* ]]
	grep -q '"fds":\["seccompFd"\]' "$BATS_TEST_TMPDIR/agent.out"
	grep -q "\"bundle\":\"$BUNDLE\"" "$BATS_TEST_TMPDIR/agent.out"
	grep -q "notified nr=" "$BATS_TEST_TMPDIR/agent.out"
	[ ! -d "$BUNDLE/rootfs/tmp/iso-notified" ]
}
