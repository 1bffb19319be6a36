#!/usr/bin/env bats
# User namespaces: id maps as the container sees them, root inside mapped to
# an unprivileged host uid, /dev nodes bound from the host.

ROOT=/run/skua-test-iso-userns
load helpers

function setup() {
	requires root
	setup_busybox
	# the container's root (host uid 100000) must be able to reach the bundle
	local d=$BUNDLE
	while [ "$d" != / ] && [ "$d" != /tmp ]; do
		chmod a+x "$d"
		d=$(dirname "$d")
	done
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]'
}

# run -d with stdio away from bats' pipes (and its fd 3)
function run_detached() {
	"$SKUA_BIN" --root "$ROOT" run -d "$1" </dev/null >"$BATS_TEST_TMPDIR/$1.out" 2>&1 3>&-
}

function run_sh() {
	update_config ".process.args = [\"sh\", \"-c\", $(jq -Rn --arg s "$1" '$s')]"
	runc run "$2"
}

@test "userns: the mapping is seen in /proc/self/uid_map and gid_map" {
	run_sh 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g' iso-userns-map
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^\ +0\ +100000\ +65536$ ]]
	[[ "${lines[1]}" =~ ^\ +0\ +200000\ +65536$ ]]
	[ "${lines[2]}" = 0 ]
	[ "${lines[3]}" = 0 ]
}

@test "userns: root in the container is an unprivileged uid on the host" {
	update_config '.process.args = ["sh", "-c", "sleep 100"]'
	run_detached iso-userns-host
	pid=$(__runc state iso-userns-host | jq .pid)
	[ "$pid" -gt 0 ]
	run awk '/^Uid:/ {print $2}' /proc/$pid/status
	[ "$output" = 100000 ]
	run awk '/^Gid:/ {print $2}' /proc/$pid/status
	[ "$output" = 200000 ]
	[ "$(readlink /proc/$pid/ns/user)" != "$(readlink /proc/self/ns/user)" ]
}

@test "userns: devices are usable and the usual mounts are there" {
	run_sh 'echo x > /dev/null && head -c 4 /dev/zero | wc -c; ls /proc/self/status >/dev/null && echo proc; ls /sys/kernel >/dev/null && echo sys; [ -c /dev/pts/ptmx ] && echo pts' iso-userns-dev
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 4 ]
	[ "${lines[1]}" = proc ]
	[ "${lines[2]}" = sys ]
	[ "${lines[3]}" = pts ]
}

@test "userns: a non-root user inside with additional groups" {
	update_config '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [1001]}'
	run_sh 'id -u; id -G' iso-userns-user
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = "1000 1001" ]
}

@test "userns: joining an existing user namespace by path" {
	update_config '.process.args = ["sh", "-c", "sleep 100"]'
	run_detached iso-userns-first
	pid=$(__runc state iso-userns-first | jq .pid)

	# a second container joins the first one's user and network namespaces
	update_config --arg u "/proc/$pid/ns/user" --arg n "/proc/$pid/ns/net" '
		.linux.namespaces = [.linux.namespaces[] | if .type == "user" then {"type": "user", "path": $u}
			elif .type == "network" then {"type": "network", "path": $n} else . end]
		| del(.linux.uidMappings, .linux.gidMappings)
		| .process.args = ["sh", "-c", "cat /proc/self/uid_map; readlink /proc/self/ns/user"]'
	runc run iso-userns-second
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^\ +0\ +100000\ +65536$ ]]
	[ "${lines[1]}" = "$(readlink /proc/$pid/ns/user)" ]
}
