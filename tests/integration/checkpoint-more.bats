#!/usr/bin/env bats
# More of runc's checkpoint.bats scenarios: bind mounts whose destination is
# a symlink, nested bind mounts, a cgroup namespace, a process started by
# exec before the checkpoint (adopted as init's child), and a container
# holding memory in a tmpfs and in anonymous pages, checked by checksums.

ROOT=${ROOT:-/run/skua-test-ckmore-$(basename "${BATS_RUN_TMPDIR:-$$}")}

load helpers

function setup() {
	setup_ckpt_busybox
	update_config '.root.readonly = false'
}

function teardown() {
	teardown_containers
}

function cycle() {
	local id=$1
	runc checkpoint --image-path "$IMG" --work-path "$WORK" "$id"
	[ "$status" -eq 0 ] || { grep -B5 Error "$WORK/dump.log" >&2; return 1; }
	runc state "$id"
	[ "$status" -ne 0 ]
	__runc restore -d --image-path "$IMG" --work-path "$WORK" "$id" </dev/null >>"$OUT" 2>&1 ||
		{ grep -B5 Error "$WORK/restore.log" >&2; return 1; }
	testcontainer "$id" running
}

@test "checkpoint-more: a bind mount whose destination is a symlink" {
	mkdir -p "$BATS_TEST_TMPDIR/src" "$BUNDLE/rootfs/real-dir"
	echo payload >"$BATS_TEST_TMPDIR/src/file"
	ln -s /real-dir "$BUNDLE/rootfs/link-dir"
	update_config --arg s "$BATS_TEST_TMPDIR/src" \
		'.mounts += [{"source": $s, "destination": "/link-dir", "type": "bind", "options": ["bind"]}]'
	update_config '.process.args = ["sh", "-c", "while true; do sleep 1; done"]'
	__runc run -d ckm-symlink </dev/null >>"$OUT" 2>&1
	cycle ckm-symlink
	runc exec ckm-symlink cat /real-dir/file
	[ "$status" -eq 0 ]
	[ "$output" = payload ]
}

@test "checkpoint-more: nested bind mounts come back in order" {
	mkdir -p "$BATS_TEST_TMPDIR/outer/inner" "$BATS_TEST_TMPDIR/nested"
	echo outer >"$BATS_TEST_TMPDIR/outer/o"
	echo nested >"$BATS_TEST_TMPDIR/nested/n"
	update_config --arg o "$BATS_TEST_TMPDIR/outer" --arg n "$BATS_TEST_TMPDIR/nested" \
		'.mounts += [{"source": $o, "destination": "/mnt", "type": "bind", "options": ["rbind"]},
		             {"source": $n, "destination": "/mnt/inner", "type": "bind", "options": ["bind"]}]'
	update_config '.process.args = ["sh", "-c", "while true; do sleep 1; done"]'
	__runc run -d ckm-nested </dev/null >>"$OUT" 2>&1
	cycle ckm-nested
	runc exec ckm-nested cat /mnt/o /mnt/inner/n
	[ "$status" -eq 0 ]
	[ "$output" = "outer
nested" ]
}

@test "checkpoint-more: with a cgroup namespace" {
	update_config '.linux.namespaces |= (map(select(.type != "cgroup")) + [{"type": "cgroup"}])'
	update_config '.process.args = ["sh", "-c", "while true; do sleep 1; done"]'
	__runc run -d ckm-cgns </dev/null >>"$OUT" 2>&1
	runc exec ckm-cgns cat /proc/self/cgroup
	before=$output
	cycle ckm-cgns
	runc exec ckm-cgns cat /proc/self/cgroup
	[ "$status" -eq 0 ]
	echo "before: $before" >&2
	echo "after: $output" >&2
	# inside its own cgroup namespace the container sees itself at the root
	[[ "$output" == *"freezer:/"$'\n'* || "$output" == *"freezer:/" ]]
	[ "$output" = "$before" ]
}

@test "checkpoint-more: a process started by exec before the checkpoint is there after, with its pid" {
	update_config '.process.args = ["sh", "-c", "while true; do sleep 1; done"]'
	__runc run -d ckm-exec </dev/null >>"$OUT" 2>&1
	__runc exec -d ckm-exec sh -c 'exec sleep 1000' </dev/null >>"$OUT" 2>&1
	retry 20 0.1 sh -c "'$SKUA_BIN' --root '$ROOT' exec ckm-exec pidof sleep | grep -q ."
	runc exec ckm-exec sh -c 'for p in $(pidof sleep); do grep -q 1000 /proc/$p/cmdline && echo $p; done'
	pid=$output
	[ -n "$pid" ]
	cycle ckm-exec
	grep -q "adopting pid" "$WORK/dump.log"
	runc exec ckm-exec cat /proc/$pid/cmdline
	[ "$status" -eq 0 ]
	[[ "$output" == *"sleep"*"1000"* ]]
}

@test "checkpoint-more: 512 MiB in a tmpfs and 256 MiB of anonymous memory keep their checksums" {
	avail=$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
	[ "$avail" -gt 3072 ] || skip "needs 3 GiB of free memory"
	add_workload memhog
	update_config '.process.env += ["ZDTM_DIR=/tmp", "ZDTM_STATUS=/tmp/status", "ZDTM_RESULT=/tmp/result"]
		| .mounts += [{"source": "tmpfs", "destination": "/data", "type": "tmpfs", "options": ["size=600m"]}]
		| .process.args = ["sh", "-c", "head -c 536870912 /dev/urandom > /data/blob && md5sum /data/blob > /tmp/blob.md5 && exec memhog 256"]'
	__runc run -d ckm-big </dev/null >>"$OUT" 2>&1
	retry 300 0.1 test -s "$BUNDLE/rootfs/tmp/status"
	runc exec ckm-big cat /tmp/blob.md5
	sum_before=$output
	cycle ckm-big
	runc exec ckm-big md5sum /data/blob
	[ "$status" -eq 0 ]
	[ "$output" = "$sum_before" ]
	runc exec ckm-big sh -c 'kill -USR1 1'
	retry 100 0.1 test -s "$BUNDLE/rootfs/tmp/result"
	cat "$BUNDLE/rootfs/tmp/result" >&2
	grep -q PASS "$BUNDLE/rootfs/tmp/result"
}
