#!/usr/bin/env bats
# Spec mounts: destinations resolved inside the rootfs (symlinks cannot
# escape), bind options, tmpfs data, file binds, devices, cgroups, --no-pivot.

ROOT=/run/skua-test-iso-mounts
load helpers

function setup() {
	requires root
	setup_busybox
	mkdir -p "$BATS_TEST_TMPDIR/src"
	echo iso-marker > "$BATS_TEST_TMPDIR/src/marker"
}

function run_sh() {
	update_config ".process.args = [\"sh\", \"-c\", $(jq -Rn --arg s "$1" '$s')]"
	runc run "$2"
}

@test "mounts: a bind whose destination is an absolute symlink lands inside the rootfs" {
	# the link names a real host directory: a naive mount would cover it
	host_target="$BATS_TEST_TMPDIR/host-target"
	mkdir -p "$host_target"
	ln -s "$host_target" "$BUNDLE/rootfs/iso-link"
	update_config --arg src "$BATS_TEST_TMPDIR/src" '.mounts += [{"destination": "/iso-link", "type": "bind", "source": $src, "options": ["rbind", "ro"]}]'
	run_sh "cat /iso-link/marker; cat $host_target/marker" iso-mnt-abslink
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = iso-marker ]
	[ "${lines[1]}" = iso-marker ]
	# the mountpoint was created inside the rootfs, the host directory is untouched
	[ -d "$BUNDLE/rootfs$host_target" ]
	[ ! -e "$host_target/marker" ]
	! grep -q " $host_target " /proc/self/mountinfo
}

@test "mounts: a relative symlink climbing out with .. stays inside the rootfs" {
	mkdir -p "$BUNDLE/rootfs/iso-dir"
	ln -s ../../../../../../../../iso-escape "$BUNDLE/rootfs/iso-dir/link"
	update_config --arg src "$BATS_TEST_TMPDIR/src" '.mounts += [{"destination": "/iso-dir/link", "type": "bind", "source": $src, "options": ["bind"]}]'
	run_sh 'cat /iso-escape/marker' iso-mnt-rellink
	[ "$status" -eq 0 ]
	[ "$output" = iso-marker ]
	[ -d "$BUNDLE/rootfs/iso-escape" ]
	[ ! -e /iso-escape ]
}

@test "mounts: bind options ro, nosuid, noexec are applied" {
	cp "$BUNDLE/rootfs/bin/busybox" "$BATS_TEST_TMPDIR/src/bb"
	update_config --arg src "$BATS_TEST_TMPDIR/src" '.mounts += [{"destination": "/iso-ro", "type": "bind", "source": $src, "options": ["rbind", "ro", "noexec", "nosuid"]}]'
	run_sh 'touch /iso-ro/x 2>&1; /iso-ro/bb true 2>&1; echo rc=$?; grep " /iso-ro " /proc/self/mountinfo' iso-mnt-bindro
	[ "$status" -eq 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	[[ "$output" == *"rc=126"* ]]
	[[ "$output" == *" ro,nosuid"*"noexec"* ]]
}

@test "mounts: tmpfs with size and mode" {
	update_config '.mounts += [{"destination": "/iso-tmp", "type": "tmpfs", "source": "tmpfs", "options": ["size=2m", "mode=1750", "nodev"]}]'
	run_sh 'df -k /iso-tmp | tail -1; stat -c %a /iso-tmp; grep " /iso-tmp " /proc/self/mountinfo' iso-mnt-tmpfs
	[ "$status" -eq 0 ]
	[ "$(echo "${lines[0]}" | awk '{print $2}')" = 2048 ]
	[ "${lines[1]}" = 1750 ]
	[[ "${lines[2]}" == *nodev* ]]
}

@test "mounts: a file bind creates a file mountpoint" {
	update_config --arg src "$BATS_TEST_TMPDIR/src/marker" '.mounts += [{"destination": "/etc/iso/file", "type": "bind", "source": $src, "options": ["bind", "ro"]}]'
	run_sh 'cat /etc/iso/file; [ -f /etc/iso/file ] && echo file' iso-mnt-file
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = iso-marker ]
	[ "${lines[1]}" = file ]
}

@test "mounts: linux.devices are created" {
	update_config '.linux.devices = [{"path": "/dev/iso-zero", "type": "c", "major": 1, "minor": 5, "fileMode": 432, "uid": 0, "gid": 0}]'
	run_sh 'ls -l /dev/iso-zero; head -c 3 /dev/iso-zero | wc -c' iso-mnt-dev
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "crw-rw----"*"1,"*"5"*"/dev/iso-zero" ]]
	[ "${lines[1]}" = 3 ]
}

@test "mounts: the cgroup mount shows the container's own cgroups read-only" {
	run_sh 'ls /sys/fs/cgroup/; cat /sys/fs/cgroup/pids/pids.max 2>&1; mkdir /sys/fs/cgroup/pids/iso-x 2>&1; true' iso-mnt-cgroup
	[ "$status" -eq 0 ]
	[[ "$output" == *memory* ]]
	[[ "$output" == *pids* ]]
	[[ "$output" == *"Read-only file system"* ]]
}

@test "mounts: --no-pivot runs the container with chroot" {
	update_config '.process.args = ["sh", "-c", "cat /proc/self/mountinfo | head -1; ls /"]'
	runc run --no-pivot iso-mnt-nopivot
	[ "$status" -eq 0 ]
	[[ "$output" == *bin* ]]
	[[ "$output" != *work* ]]
}

@test "mounts: a mount without a source for a bind is refused with its destination" {
	update_config '.mounts += [{"destination": "/iso-nosrc", "type": "bind", "options": ["bind"]}]'
	run_sh 'true' iso-mnt-nosrc
	[ "$status" -ne 0 ]
	[[ "$output" == *"/iso-nosrc"* ]]
}

@test "mounts: linux.rootfsPropagation is applied to the container's mounts" {
	update_config '.process.args = ["sh", "-c", "grep \" / /proc \" /proc/self/mountinfo"]'
	for prop in shared rshared private slave unbindable runbindable; do
		update_config --arg p "$prop" '.linux.rootfsPropagation = $p'
		runc run "iso-mnt-prop-$prop"
		[ "$status" -eq 0 ]
		case $prop in
		*shared) [[ "$output" == *" shared:"* ]] ;;
		*unbindable) [[ "$output" == *" unbindable "* ]] ;;
		*) [[ "$output" != *" shared:"* ]] ;;
		esac
	done
}

@test "mounts: /sys/fs/cgroup shows the container's own cgroup, with and without a cgroup namespace" {
	update_config '.linux.resources.memory = {"limit": 67108864} | .process.args = ["sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; cat /proc/self/cgroup | grep memory"]'
	runc run iso-mnt-cgns
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 67108864 ]

	update_config '.linux.namespaces -= [{"type": "cgroup"}]'
	runc run iso-mnt-nocgns
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 67108864 ]
	# without a cgroup namespace the path is the host's, yet the mount shows only that cgroup
	[[ "${lines[1]}" == *iso-mnt-nocgns* ]]
}

@test "mounts: a destination that resolves into /proc is refused" {
	# an image planting a symlink into procfs must not get a mount over kernel files
	ln -s /proc/sys/kernel "$BUNDLE/rootfs/iso-evil"
	update_config --arg src "$BATS_TEST_TMPDIR/src" '.mounts += [{"destination": "/iso-evil", "type": "bind", "source": $src, "options": ["bind"]}]'
	run_sh 'true' iso-mnt-procdst
	[ "$status" -ne 0 ]
	[[ "$output" == *"/iso-evil"*"procfs"* ]]

	# lxcfs-style binds over a few /proc files stay allowed
	update_config --arg src "$BATS_TEST_TMPDIR/src/marker" '.mounts = [.mounts[] | select(.destination != "/iso-evil")] + [{"destination": "/proc/uptime", "type": "bind", "source": $src, "options": ["bind"]}]'
	run_sh 'cat /proc/uptime' iso-mnt-procok
	[ "$status" -eq 0 ]
	[ "$output" = iso-marker ]
}
