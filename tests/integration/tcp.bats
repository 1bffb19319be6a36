#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# Established TCP connections across checkpoint/restore (TCP_REPAIR). The
# tcpconn workload holds a connection between its two processes and streams
# numbered records both ways; after restore and SIGUSR1 it checks that no
# record was lost, repeated or damaged and that the connection still
# carries traffic. First on plain trees (`skua engine`), in the host's
# network namespace, then in a container talking over its own loopback.

load helpers

WL_PID=
R_PID=
R_REAPER=

setup() {
	requires root
	WD=$BATS_TEST_TMPDIR/wd
	IMG=$BATS_TEST_TMPDIR/img
	mkdir -p "$WD"
	WL_PID= R_PID= R_REAPER=
	# engine tests share the host's netns with other test files
	PORT=$((47000 + RANDOM % 2000))
}

teardown() {
	local p
	for p in $R_PID $WL_PID; do
		kill_tree "$p"
	done
	if [ -n "$R_REAPER" ] && [ "$(readlink "/proc/$R_REAPER/exe" 2>/dev/null)" = "$SKUA_BIN" ]; then
		kill -9 "$R_REAPER" 2>/dev/null || true
	fi
	teardown_containers
}

logs() {
	local f
	for f in "$WD"/out "$WD"/err "$WD"/result "$WD"/dump.out "$WD"/restore.out \
		"$IMG"/dump.log "$IMG"/restore.log "${WORK:-/nonexistent}"/dump.log \
		"${WORK:-/nonexistent}"/restore.log "${BUNDLE:-/nonexistent}"/rootfs/zd/result; do
		[ -s "$f" ] || continue
		echo "--- $f" >&2
		tail -n 20 "$f" >&2
	done
}

fail_with() {
	echo "FAILED: $*" >&2
	logs
	return 1
}

# Kill a tcpconn process and its children (only if it is tcpconn).
kill_tree() {
	local pid=$1 kids c
	[ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$WORKLOADS/tcpconn" ] || return 0
	kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null)
	kill -9 "$pid" 2>/dev/null
	for c in $kids; do
		kill_tree "$c"
	done
}

is_gone() {
	local st
	[ -e "/proc/$1" ] || return 0
	st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ]
}

wait_gone() {
	local i
	for ((i = 0; i < ${2:-20} * 20; i++)); do
		is_gone "$1" && return 0
		sleep 0.05
	done
	return 1
}

# start_tcpconn [6]: tcpconn in its own session, no fd of bats' inherited.
start_tcpconn() {
	local i
	rm -f "$WD/status" "$WD/result"
	(
		cd "$WD" || exit 1
		for fd in /proc/self/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done
		export ZDTM_STATUS=$WD/status ZDTM_RESULT=$WD/result ZDTM_DIR=$WD
		exec setsid "$WORKLOADS/tcpconn" "$PORT" "$@"
	) </dev/null >"$WD/out" 2>"$WD/err" &
	WL_PID=$!
	disown "$WL_PID"
	for ((i = 0; i < 200; i++)); do
		grep -qx ready "$WD/status" 2>/dev/null && return 0
		is_gone "$WL_PID" && break
		sleep 0.05
	done
	fail_with "tcpconn not ready"
}

engine_dump() {
	"$SKUA_BIN" engine dump --pid "$WL_PID" --image-path "$IMG" "$@" >"$WD/dump.out" 2>&1
}

engine_restore() {
	rm -f "$WD/restored.pid"
	"$SKUA_BIN" engine restore --image-path "$IMG" -d --pid-file "$WD/restored.pid" "$@" \
		</dev/null >"$WD/restore.out" 2>&1 || return 1
	R_PID=$(cat "$WD/restored.pid")
	R_REAPER=$(awk '/^PPid:/ {print $2}' "/proc/$R_PID/status")
}

# SIGUSR1, then the verdict.
finish() {
	kill -USR1 "$1" || { fail_with "cannot signal $1"; return 1; }
	wait_gone "$1" 20 || { fail_with "pid $1 still running 20 s after SIGUSR1"; return 1; }
	grep -qx PASS "$WD/result" || fail_with "verdict: $(cat "$WD/result" 2>/dev/null)"
}

# Dump (the tree dies), restore, verify.
tcp_cycle() {
	start_tcpconn "$@" || return 1
	sleep 0.3
	engine_dump --tcp-established || { fail_with "dump failed"; return 1; }
	grep -q "tcp: fd .* port $PORT" "$IMG/dump.log" || { fail_with "no connection in dump.log"; return 1; }
	wait_gone "$WL_PID" 5 || { fail_with "tree alive after the dump"; return 1; }
	engine_restore --tcp-established || { fail_with "restore failed"; return 1; }
	# let records flow on the restored connection before asking for the verdict
	sleep 0.5
	finish "$R_PID"
}

@test "tcp: tcpconn passes when left alone" {
	start_tcpconn
	sleep 0.3
	finish "$WL_PID"
}

@test "tcp: engine dump/restore of an established IPv4 connection, both ends in the tree" {
	tcp_cycle
}

@test "tcp: engine dump/restore of an established IPv6 connection" {
	[ -e /proc/net/if_inet6 ] || skip "no IPv6"
	tcp_cycle 6
}

@test "tcp: megabytes in both queues (a reader that stopped reading) come back byte for byte" {
	tcp_cycle backlog
	grep -Eq "tcp: fd .*\(([0-9]{6,}) queued, [0-9]+ unsent\)" "$IMG/dump.log" ||
		fail_with "no large queue was dumped"
}

@test "tcp: without --tcp-established the dump is refused by name and the tree runs on" {
	start_tcpconn
	run engine_dump
	[ "$status" -ne 0 ] || fail_with "dump succeeded"
	grep -q "established TCP connection" "$WD/dump.out" || fail_with "refusal does not name it"
	! is_gone "$WL_PID" || fail_with "tree died"
	sleep 0.3
	finish "$WL_PID"
}

@test "tcp: --leave-running takes the sockets out of repair mode, records keep flowing" {
	start_tcpconn
	engine_dump --tcp-established --leave-running || fail_with "dump failed"
	[ -s "$IMG/files.img" ] || fail_with "no files.img"
	sleep 0.3
	! is_gone "$WL_PID" || fail_with "tree died"
	finish "$WL_PID"
}

@test "tcp: restore of a connection without --tcp-established is refused by name" {
	start_tcpconn
	engine_dump --tcp-established || fail_with "dump failed"
	wait_gone "$WL_PID" 5
	run engine_restore
	[ "$status" -ne 0 ] || fail_with "restore succeeded"
	grep -q "established TCP connection" "$WD/restore.out" || fail_with "refusal does not name it"
	# nothing of the failed attempt is in the way of a proper one
	engine_restore --tcp-established || fail_with "restore failed"
	sleep 0.3
	finish "$R_PID"
}

# A busybox container whose init is tcpconn, talking over the container's own
# loopback; its verdict lands in the rootfs.
setup_tcp_container() {
	setup_busybox
	WORK=$BATS_TEST_TMPDIR/work
	add_workload tcpconn
	mkdir -p "$BUNDLE/rootfs/zd"
	# the loopback comes up from outside before tcpconn starts (no NET_ADMIN inside)
	update_config '.root.readonly = false
		| .process.env += ["ZDTM_STATUS=/zd/status", "ZDTM_RESULT=/zd/result"]
		| .process.args = ["sh", "-c", "until [ -e /go ]; do usleep 10000; done; exec tcpconn 5555"]'
	__runc run -d tcp-ct </dev/null >>"$BATS_TEST_TMPDIR/ctr.out" 2>&1 || fail_with "run failed"
	local pid i
	pid=$(__runc state tcp-ct | jq -r .pid)
	nsenter -t "$pid" -n ip link set lo up
	touch "$BUNDLE/rootfs/go"
	for ((i = 0; i < 200; i++)); do
		grep -qx ready "$BUNDLE/rootfs/zd/status" 2>/dev/null && return 0
		sleep 0.05
	done
	fail_with "tcpconn in the container not ready"
}

ct_finish() {
	local i
	__runc kill tcp-ct USR1 || fail_with "kill USR1"
	for ((i = 0; i < 400; i++)); do
		[ -s "$BUNDLE/rootfs/zd/result" ] && break
		sleep 0.05
	done
	grep -qx PASS "$BUNDLE/rootfs/zd/result" || fail_with "verdict: $(cat "$BUNDLE/rootfs/zd/result" 2>/dev/null)"
}

@test "tcp: container checkpoint without --tcp-established is refused by name, the container runs on" {
	setup_tcp_container
	runc checkpoint --image-path "$IMG" --work-path "$WORK" tcp-ct
	[ "$status" -ne 0 ] || fail_with "checkpoint succeeded"
	[[ "$output" == *"established TCP connection"* ]] || fail_with "refusal does not name it"
	testcontainer tcp-ct running
	sleep 0.3
	ct_finish
}

@test "tcp: a connection inside a container survives checkpoint and restore, twice" {
	setup_tcp_container
	local round
	for round in 1 2; do
		sleep 0.3
		rm -rf "$IMG"
		runc checkpoint --tcp-established --image-path "$IMG" --work-path "$WORK" tcp-ct
		[ "$status" -eq 0 ] || fail_with "checkpoint $round failed"
		grep -q "tcp: fd" "$WORK/dump.log" || fail_with "no connection in dump.log"
		runc state tcp-ct
		[ "$status" -ne 0 ] || fail_with "container still there after checkpoint $round"
		__runc restore -d --tcp-established --image-path "$IMG" --work-path "$WORK" tcp-ct \
			</dev/null >>"$BATS_TEST_TMPDIR/ctr.out" 2>&1 || fail_with "restore $round failed"
		testcontainer tcp-ct running
	done
	sleep 0.5
	ct_finish
}

@test "tcp: container checkpoint --leave-running --tcp-established (Podman's flow), the connection runs on" {
	setup_tcp_container
	runc checkpoint --leave-running --tcp-established --image-path "$IMG" --work-path "$WORK" tcp-ct
	[ "$status" -eq 0 ] || fail_with "checkpoint failed"
	grep -q "tcp: fd" "$WORK/dump.log" || fail_with "no connection in dump.log"
	testcontainer tcp-ct running
	sleep 0.3
	ct_finish
}
