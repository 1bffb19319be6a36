#!/usr/bin/env bats
# Container isolation as a process inside sees it: read-only root, masked
# and read-only paths, capabilities, user and groups, hostname, rlimits,
# sysctls, oomScoreAdj, noNewPrivileges, env and cwd.

ROOT=/run/skua-test-iso
load helpers

function setup() {
	requires root
	setup_busybox
}

function teardown() {
	teardown_containers
	[ -z "$RECVTTY_PID" ] || kill "$RECVTTY_PID" 2>/dev/null || true
}

# Run the container in the foreground with a shell command; $output, $status.
function run_sh() {
	update_config ".process.args = [\"sh\", \"-c\", $(jq -Rn --arg s "$1" '$s')]"
	runc run "$2"
}

@test "isolation: a read-only rootfs refuses writes" {
	run_sh 'touch /iso-x 2>&1; echo rc=$?' iso-ro
	[ "$status" -eq 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	[[ "$output" == *"rc=1"* ]]
	[ ! -e "$BUNDLE/rootfs/iso-x" ]

	update_config '.root.readonly = false'
	run_sh 'touch /iso-x; echo rc=$?' iso-rw
	[ "$status" -eq 0 ]
	[[ "$output" == *"rc=0"* ]]
	[ -e "$BUNDLE/rootfs/iso-x" ]
}

@test "isolation: masked paths cannot be read" {
	mkdir -p "$BUNDLE/rootfs/iso-secret"
	echo topsecret > "$BUNDLE/rootfs/iso-secret/file"
	update_config '.linux.maskedPaths += ["/iso-secret"]'
	# /proc/kcore does not exist on every kernel; /proc/keys and /proc/timer_list do here
	run_sh 'cat /proc/keys /proc/timer_list | wc -c; ls -A /iso-secret | wc -l; cat /iso-secret/file; [ -e /proc/kcore ] && wc -c < /proc/kcore; mkdir /iso-secret/x 2>&1; true' iso-mask
	[ "$status" -eq 0 ]
	[ "${lines[0]}" -eq 0 ]
	[ "${lines[1]}" -eq 0 ]
	[[ "$output" != *topsecret* ]]
	[[ "$output" == *"Read-only file system"* ]]
	if [ -e /proc/kcore ]; then [[ "$output" == *$'\n0\n'* ]]; fi
}

@test "isolation: readonly paths refuse writes" {
	run_sh 'echo iso > /proc/sys/kernel/hostname 2>&1; echo rc=$?' iso-ropath
	[ "$status" -eq 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	[[ "$output" == *"rc=1"* ]]
}

@test "isolation: capabilities are dropped (chown needs CAP_CHOWN)" {
	run_sh 'touch /dev/shm/f; chown 1:1 /dev/shm/f 2>&1; echo rc=$?; grep CapBnd /proc/self/status' iso-nochown
	[ "$status" -eq 0 ]
	[[ "$output" == *"rc=1"* ]]
	# default bounding set: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE
	[[ "$output" == *"CapBnd:	0000000020000420"* ]]

	update_config '.process.capabilities.bounding += ["CAP_CHOWN"] | .process.capabilities.effective += ["CAP_CHOWN"] | .process.capabilities.permitted += ["CAP_CHOWN"]'
	run_sh 'touch /dev/shm/f; chown 1:1 /dev/shm/f 2>&1; echo rc=$?; stat -c %u:%g /dev/shm/f' iso-chown
	[ "$status" -eq 0 ]
	[[ "$output" == *"rc=0"* ]]
	[[ "$output" == *"1:1"* ]]
}

@test "isolation: user, groups and umask" {
	update_config '.process.user = {"uid": 1000, "gid": 1001, "additionalGids": [2000, 3000], "umask": 63}'
	run_sh 'id -u; id -g; id -G; umask; grep CapEff /proc/self/status' iso-user
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 1001 ]
	[ "${lines[2]}" = "1001 2000 3000" ]
	[ "${lines[3]}" = 0077 ]
	# a non-root process keeps no effective capabilities without ambient ones
	[[ "${lines[4]}" == *"0000000000000000" ]]
}

@test "isolation: ambient capabilities reach a non-root process" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}
		| .process.capabilities.inheritable = ["CAP_KILL"]
		| .process.capabilities.ambient = ["CAP_KILL"]'
	run_sh 'grep -E "Cap(Eff|Amb)" /proc/self/status' iso-ambient
	[ "$status" -eq 0 ]
	[[ "$output" == *"CapEff:	0000000000000020"* ]]
	[[ "$output" == *"CapAmb:	0000000000000020"* ]]
}

@test "isolation: hostname and domainname are set" {
	update_config '.hostname = "iso-host" | .domainname = "iso.example"'
	run_sh 'hostname; cat /proc/sys/kernel/domainname' iso-hostname
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = iso-host ]
	[ "${lines[1]}" = iso.example ]
	[ "$(hostname)" != iso-host ]
}

@test "isolation: hostname without a UTS namespace is refused" {
	update_config '.hostname = "iso-host" | .linux.namespaces -= [{"type": "uts"}]'
	run_sh 'hostname' iso-nouts
	[ "$status" -ne 0 ]
	[[ "${output,,}" == *"uts namespace"* ]]
}

@test "isolation: rlimits are applied" {
	update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}, {"type": "RLIMIT_NPROC", "soft": 1000, "hard": 1000}]'
	run_sh 'ulimit -n; ulimit -Hn; ulimit -u' iso-rlimit
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 321 ]
	[ "${lines[1]}" = 654 ]
	[ "${lines[2]}" = 1000 ]
}

@test "isolation: sysctls are written in the container's namespaces" {
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "12345678"}'
	host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	host_shmmax=$(cat /proc/sys/kernel/shmmax)
	run_sh 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax' iso-sysctl
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = 12345678 ]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_fwd" ]
	[ "$(cat /proc/sys/kernel/shmmax)" = "$host_shmmax" ]
}

@test "isolation: a bad sysctl key is refused with its name" {
	update_config '.linux.sysctl = {"net.iso.nonexistent": "1"}'
	run_sh 'true' iso-badsysctl
	[ "$status" -ne 0 ]
	[[ "$output" == *"net.iso.nonexistent"* ]]
}

@test "isolation: oomScoreAdj and noNewPrivileges" {
	update_config '.process.oomScoreAdj = 345 | .process.noNewPrivileges = true'
	run_sh 'cat /proc/self/oom_score_adj; grep NoNewPrivs /proc/self/status' iso-oom
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 345 ]
	[[ "${lines[1]}" == *1 ]]

	update_config '.process.noNewPrivileges = false'
	run_sh 'grep NoNewPrivs /proc/self/status' iso-nnp0
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *0 ]]
}

@test "isolation: env and cwd" {
	update_config '.process.env += ["ISO_VAR=iso value"] | .process.cwd = "/iso-work"'
	run_sh 'pwd; echo "$ISO_VAR"' iso-env
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = /iso-work ]
	[ "${lines[1]}" = "iso value" ]
}

@test "isolation: the container sees its own pid namespace and not the host's root" {
	run_sh 'echo $$; ls /proc | grep -c "^[0-9]"; [ -e /work ] || echo no-host-root' iso-pidns
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" -lt 5 ]
	[ "${lines[2]}" = no-host-root ]
}

@test "isolation: linux.timeOffsets shift the container's clocks" {
	update_config '.linux.namespaces += [{"type": "time"}]
		| .linux.timeOffsets = {"boottime": {"secs": 864000, "nanosecs": 0}, "monotonic": {"secs": 86400, "nanosecs": 0}}'
	run_sh 'cut -d. -f1 /proc/uptime' iso-timens
	[ "$status" -eq 0 ]
	host=$(cut -d. -f1 /proc/uptime)
	[ "${lines[0]}" -ge $((host + 864000 - 5)) ]
	[ "${lines[0]}" -le $((host + 864000 + 5)) ]
}

@test "isolation: with a terminal, /dev/console is the container's pty" {
	SOCK="$BATS_TEST_TMPDIR/iso-tty.sock"
	update_config '.process.terminal = true | .process.args = ["sh", "-c", "tty; grep -c \" /dev/console \" /proc/self/mountinfo; echo iso-console > /dev/console"]'
	start_recvtty "$SOCK" > "$BATS_TEST_TMPDIR/tty.out"
	runc run --console-socket "$SOCK" iso-console
	[ "$status" -eq 0 ]
	wait "$RECVTTY_PID"
	RECVTTY_PID=
	# the pty comes from the host's devpts: inside, /dev/console is its only name
	grep -q "^/dev/" "$BATS_TEST_TMPDIR/tty.out"
	grep -q "^1" "$BATS_TEST_TMPDIR/tty.out"
	grep -q "iso-console" "$BATS_TEST_TMPDIR/tty.out"
}

@test "isolation: a new network namespace has its loopback up" {
	run_sh 'ip -o link show lo; nc -l -p 7777 & sleep 0.3; echo hello-lo | nc -w 1 127.0.0.1 7777; wait' iso-lo
	[ "$status" -eq 0 ]
	[[ "$output" == *"<LOOPBACK,UP"* ]]
	[[ "$output" == *"hello-lo"* ]]
}
