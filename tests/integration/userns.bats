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

# Credentials are kept as the container's user namespace sees them: a dump
# that recorded host ids (101000) could not set them back inside the new
# namespace (setresgid: Invalid argument).
@test "userns: checkpoint and restore keep ids, groups and the mapping; a counter continues" {
	local img=$BATS_TEST_TMPDIR/img work=$BATS_TEST_TMPDIR/work out=$BATS_TEST_TMPDIR/ck-userns.out
	# the counter lives in the rootfs's /tmp, a marker in the /dev/shm tmpfs:
	# its archive is unpacked by root of the new user namespace
	update_config '.root.readonly = false | .process.user = {"uid": 1000, "gid": 1000, "additionalGids": [1001, 1002]}
		| .process.args = ["sh", "-c", "echo kept > /dev/shm/marker; i=0; while true; do i=$((i + 1)); echo $i > /tmp/c; id > /tmp/i; cat /proc/self/uid_map /proc/self/gid_map > /tmp/m; mv /tmp/c /tmp/count; mv /tmp/i /tmp/id; mv /tmp/m /tmp/map; usleep 50000; done"]'
	run_detached ck-userns-count || cat "$BATS_TEST_TMPDIR/ck-userns-count.out" >&2
	pid=$(__runc state ck-userns-count | jq .pid)
	retry 100 0.1 sh -c "[ \$(cat /proc/$pid/root/tmp/count 2>/dev/null || echo 0) -ge 10 ]"
	[ "$(awk '/^Uid:/ {print $2}' /proc/$pid/status)" = 101000 ]

	runc checkpoint --image-path "$img" --work-path "$work" ck-userns-count
	grep -B 5 Error "$work/dump.log" >&2 || true
	[ "$status" -eq 0 ]
	before=$(cat "$BUNDLE/rootfs/tmp/count")
	[ "$before" -ge 10 ]
	# the image holds the ids of the container's namespace, not the host's
	run "$SKUA_BIN" engine show --image-path "$img"
	[ "$status" -eq 0 ]
	creds=$(echo "$output" | jq -c '[.. | objects | select(has("fsuid"))
		| [.uid, .euid, .suid, .fsuid, .gid, .egid, .sgid, .fsgid, .groups]] | unique')
	echo "creds in the image: $creds" >&2
	[ "$creds" = '[[1000,1000,1000,1000,1000,1000,1000,1000,[1001,1002]]]' ]
	# and so does the archive of the tmpfs
	shm=$(jq -r '.tmpfs[] | select(.destination == "/dev/shm") | .archive' "$img/container.json")
	tar --numeric-owner -tvf "$img/$shm" | grep -q ' 1000/1000 .*marker$'

	"$SKUA_BIN" --root "$ROOT" restore -d --image-path "$img" --work-path "$work" ck-userns-count \
		</dev/null >"$out" 2>&1 3>&- || { cat "$out" >&2; grep -B 5 Error "$work/restore.log" >&2; false; }
	testcontainer ck-userns-count running
	pid=$(__runc state ck-userns-count | jq .pid)
	# continued, not started again
	[ "$(cat /proc/$pid/root/tmp/count)" -ge "$before" ]
	retry 100 0.1 sh -c "[ \$(cat /proc/$pid/root/tmp/count) -ge $((before + 5)) ]"
	# inside: the same ids and groups; on the host: the mapped ones
	[[ "$(cat /proc/$pid/root/tmp/id)" == "uid=1000 gid=1000 groups=1001,1002" ]]
	run cat "/proc/$pid/root/tmp/map"
	[[ "${lines[0]}" =~ ^\ +0\ +100000\ +65536$ ]]
	[[ "${lines[1]}" =~ ^\ +0\ +200000\ +65536$ ]]
	[ "$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/$pid/status)" = "101000 101000 101000 101000" ]
	[ "$(awk '/^Gid:/ {print $2, $3, $4, $5}' /proc/$pid/status)" = "201000 201000 201000 201000" ]
	[ "$(awk '/^Groups:/ {print $2, $3}' /proc/$pid/status)" = "201001 201002" ]
	[ "$(readlink /proc/$pid/ns/user)" != "$(readlink /proc/self/ns/user)" ]
	[ "$(cat /proc/$pid/root/dev/shm/marker)" = kept ]
	[ "$(stat -c '%u %g' /proc/$pid/root/dev/shm/marker)" = "101000 201000" ]
}
