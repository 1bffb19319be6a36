#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The checkpoint/restore engine on plain process trees, zdtm style: a workload
# (tests/workloads) prepares its state and says "ready"; `skua engine dump`
# takes it (and kills it); `skua engine restore -d` brings it back in a fresh
# pid namespace with the same pids; SIGUSR1 tells it to verify its state; it
# writes PASS or "FAIL: why" to $ZDTM_RESULT (we are not its parent after
# restore, so its exit code is out of reach).
#
# Workloads run in a session of their own (setsid), with every fd above 2
# closed and stdio on files in the test's directory, so the tree holds
# nothing of bats'.

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
}

teardown() {
	local p
	for p in $R_PID $WL_PID; do
		kill_workload_tree "$p"
	done
	kill_reaper "$R_REAPER"
	teardown_containers
}

# Print what a failing test needs to see.
logs() {
	local f
	for f in "$WD"/out "$WD"/err "$WD"/result "$WD"/dump.out "$WD"/restore.out \
		"$IMG"/dump.log "$IMG"/restore.log; do
		[ -s "$f" ] || continue
		echo "--- $f" >&2
		tail -n 15 "$f" >&2
	done
}

fail_with() {
	echo "FAILED: $*" >&2
	logs
	return 1
}

is_workload() {
	[[ $(readlink "/proc/$1/exe" 2>/dev/null) == "$WORKLOADS"/* ]]
}

# A pid is gone when /proc has no entry or it is a zombie nobody reaped yet.
is_gone() {
	local st
	[ -e "/proc/$1" ] || return 0
	st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ]
}

wait_gone() {
	local pid=$1 secs=${2:-20} i
	for ((i = 0; i < secs * 20; i++)); do
		is_gone "$pid" && return 0
		sleep 0.05
	done
	return 1
}

# Kill a workload process and its descendants (only if it is one of ours).
kill_workload_tree() {
	local pid=$1 kids c
	[ -n "$pid" ] && is_workload "$pid" || return 0
	kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null)
	kill -9 "$pid" 2>/dev/null
	for c in $kids; do
		kill_workload_tree "$c"
	done
}

# The restored tree's pid 1 (a skua reaper): killing it empties the namespace.
kill_reaper() {
	local pid=$1 nspid
	[ -n "$pid" ] && [ -e "/proc/$pid" ] || return 0
	[ "$(readlink "/proc/$pid/exe")" = "$SKUA_BIN" ] || return 0
	nspid=$(awk '/^NSpid:/ {print $NF}' "/proc/$pid/status")
	[ "$nspid" = 1 ] && kill -9 "$pid" 2>/dev/null
	return 0
}

# start_wl NAME ARGS...: start a workload in its own session, wait for "ready".
start_wl() {
	local name=$1 i
	shift
	rm -f "$WD/status" "$WD/result"
	(
		cd "$WD" || exit 1
		for fd in /proc/self/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done
		export ZDTM_STATUS=$WD/status ZDTM_RESULT=$WD/result ZDTM_DIR=$WD
		exec setsid "$WORKLOADS/$name" "$@"
	) </dev/null >"$WD/out" 2>"$WD/err" &
	WL_PID=$!
	# no "Killed" job report from bash when a dump ends it
	disown "$WL_PID"
	for ((i = 0; i < 200; i++)); do
		grep -qx ready "$WD/status" 2>/dev/null && break
		is_gone "$WL_PID" && fail_with "$name exited before it was ready" && return 1
		sleep 0.05
	done
	grep -qx ready "$WD/status" 2>/dev/null || { fail_with "$name not ready in 10 s"; return 1; }
	# setsid must not have forked: $! is the workload, a session leader
	[ "$(awk '{print $6}' "/proc/$WL_PID/stat")" = "$WL_PID" ] ||
		{ fail_with "$name (pid $WL_PID) is not a session leader"; return 1; }
}

# engine_dump [ARGS...]: dump $WL_PID (the tree rooted there) into $IMG.
engine_dump() {
	"$SKUA_BIN" engine dump --pid "$WL_PID" --image-path "$IMG" "$@" >"$WD/dump.out" 2>&1
}

# dump_and_check_gone: a dump without --leave-running must end the tree.
dump_and_check_gone() {
	engine_dump || { fail_with "engine dump of pid $WL_PID failed"; return 1; }
	[ -s "$IMG/inventory.img" ] || { fail_with "no inventory.img in $IMG"; return 1; }
	wait_gone "$WL_PID" 5 || { fail_with "pid $WL_PID still alive after the dump"; return 1; }
}

# engine_restore: restore $IMG detached; R_PID is the restored root (host pid).
engine_restore() {
	local nspid
	rm -f "$WD/restored.pid"
	"$SKUA_BIN" engine restore --image-path "$IMG" -d --pid-file "$WD/restored.pid" \
		</dev/null >"$WD/restore.out" 2>&1 || { fail_with "engine restore failed"; return 1; }
	R_PID=$(cat "$WD/restored.pid" 2>/dev/null)
	[[ $R_PID =~ ^[0-9]+$ ]] || { fail_with "no pid in the pid file"; return 1; }
	[ -e "/proc/$R_PID" ] || { fail_with "restored pid $R_PID does not exist"; return 1; }
	R_REAPER=$(awk '/^PPid:/ {print $2}' "/proc/$R_PID/status")
	# same pid as before, inside the new namespace
	nspid=$(awk '/^NSpid:/ {print $NF}' "/proc/$R_PID/status")
	[ "$nspid" = "$WL_PID" ] ||
		{ fail_with "restored root has pid $nspid in its namespace, was $WL_PID"; return 1; }
}

# finish PID [SECS]: SIGUSR1, wait for the workload to exit, want PASS.
finish() {
	local pid=$1 secs=${2:-20}
	kill -USR1 "$pid" || { fail_with "cannot signal pid $pid"; return 1; }
	wait_gone "$pid" "$secs" || { fail_with "pid $pid still running ${secs} s after SIGUSR1"; return 1; }
	grep -qx PASS "$WD/result" 2>/dev/null || { fail_with "verdict: $(cat "$WD/result" 2>/dev/null)"; return 1; }
}

# The plain zdtm cycle: start, dump, check gone, restore, verify.
zdtm_cycle() {
	start_wl "$@" || return 1
	dump_and_check_gone || return 1
	engine_restore || return 1
	finish "$R_PID"
}

# Without any checkpoint, each workload passes: a failure below is the engine's.
@test "engine: every workload passes when left alone" {
	local wl
	for wl in counter "memhog 64" threads forker pipes files signals epoll "dirty-writer 16" inotify \
		zombie shm procstate timers mappings; do
		# shellcheck disable=SC2086
		start_wl $wl
		finish "$WL_PID" || fail_with "$wl failed on its own"
	done
	start_wl sleeper 3
	sleep 1.5
	finish "$WL_PID" || fail_with "sleeper failed on its own"
}

@test "engine: counter continues from where it was" {
	local before after
	start_wl counter
	sleep 0.3
	dump_and_check_gone
	before=$(awk '/^count/ {c = $2} END {print c}' "$WD/out")
	[ -n "$before" ]
	engine_restore
	sleep 1
	after=$(awk '/^count/ {c = $2} END {print c}' "$WD/out")
	# the restored counter keeps printing to the same file, at the same offset
	[ "$after" -gt "$before" ] || fail_with "count before dump $before, after restore $after"
	[ "$(grep -c '^count' "$WD/out")" -gt 0 ]
	finish "$R_PID"
}

@test "engine: memhog 64 MiB (random, zero and private file pages)" {
	zdtm_cycle memhog 64
}

@test "engine: threads keep TLS, tids and a shared counter" {
	zdtm_cycle threads
}

@test "engine: forker keeps pids, ppids, process groups and sessions" {
	local n
	start_wl forker
	dump_and_check_gone
	engine_restore
	# the root and its four descendants are all back
	n=0
	local p
	for p in $(cat /proc/"$R_PID"/task/*/children); do
		n=$((n + 1 + $(cat /proc/"$p"/task/*/children | wc -w)))
	done
	[ "$n" -eq 4 ] || fail_with "restored root has $n descendants, want 4"
	finish "$R_PID"
}

@test "engine: pipes keep the data in flight" {
	zdtm_cycle pipes
}

@test "engine: files keep offsets, flags and O_APPEND" {
	zdtm_cycle files
}

@test "engine: signals keep handlers, mask, altstack and a queued pending signal" {
	zdtm_cycle signals
}

@test "engine: sleeper sleeps only the rest of its nanosleep" {
	start_wl sleeper 10
	# the sleeper's verdict relies on >= 1 s between its start and the dump
	sleep 2
	dump_and_check_gone
	sleep 1
	engine_restore
	finish "$R_PID" 20
	grep sleeper: "$WD/out" >&2
}

@test "engine: listener accepts and answers after restore" {
	local port=$((43000 + RANDOM % 2000)) line
	start_wl listener "$port" 1
	dump_and_check_gone
	engine_restore
	{ exec 5<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || fail_with "cannot connect to the restored listener"
	echo "hello-$port" >&5
	kill -USR1 "$R_PID"
	read -r -t 5 line <&5 || true
	exec 5>&-
	[ "$line" = "echo: hello-$port" ] || fail_with "reply was '$line'"
	wait_gone "$R_PID" 10
	grep -qx PASS "$WD/result" || fail_with "verdict: $(cat "$WD/result")"
}

@test "engine: epoll loop over timerfd and eventfd keeps ticking" {
	zdtm_cycle epoll
}

@test "engine: dirty-writer's pages all carry their last stamp" {
	zdtm_cycle dirty-writer 64
}

@test "engine: a zombie child is still there to be reaped" {
	zdtm_cycle zombie
}

@test "engine: shared anonymous and shared file memory stay shared" {
	zdtm_cycle shm
}

@test "engine: umask, cwd, name, rlimits, oom_score_adj, uids, gids, groups, pdeath signal" {
	zdtm_cycle procstate
}

@test "engine: an interval timer and a POSIX timer keep firing" {
	zdtm_cycle timers
}

@test "engine: read-only, PROT_NONE, holes, mremap'd and file mappings keep their layout" {
	zdtm_cycle mappings
}

@test "engine: --leave-running leaves the tree running and unharmed" {
	local before after
	start_wl counter
	engine_dump --leave-running || fail_with "dump --leave-running failed"
	[ -s "$IMG/inventory.img" ]
	is_gone "$WL_PID" && fail_with "the tree is gone"
	# running, not stopped or traced
	grep -q '^TracerPid:[[:space:]]*0$' "/proc/$WL_PID/status"
	before=$(awk '/^count/ {c = $2} END {print c}' "$WD/out")
	sleep 1
	after=$(awk '/^count/ {c = $2} END {print c}' "$WD/out")
	[ "$after" -gt "$before" ] || fail_with "counter stopped after the dump: $before -> $after"
	finish "$WL_PID"
}

# Normalised metadata of an image set: everything but what legitimately moves
# between two dumps of the same state (registers, the restart state, VMAs,
# timestamps, page contents, the root's host pid).
show_norm() {
	"$SKUA_BIN" engine show --image-path "$1" |
		jq -S 'with_entries(select(.key | test("^(inventory|pstree|core-[0-9]+|mm-[0-9]+|fdinfo-[0-9]+|files)$")))
			| del(.inventory.dump_time_ns, .inventory.root_host_pid)
			| with_entries(if (.key | startswith("core-")) then
					.value.threads |= map(del(.regs, .xstate, .restart_kind, .restart_block))
				elif (.key | startswith("mm-")) then .value |= del(.vmas)
				else . end)'
}

redump_compare() {
	local a b
	start_wl "$1" || return 1
	dump_and_check_gone || return 1
	engine_restore || return 1
	IMG2=$BATS_TEST_TMPDIR/img2
	"$SKUA_BIN" engine dump --pid "$R_PID" --image-path "$IMG2" --leave-running \
		>"$WD/dump2.out" 2>&1 || { cat "$WD/dump2.out" >&2; fail_with "second dump failed"; return 1; }
	a=$(show_norm "$IMG") || { fail_with "show of the first images failed"; return 1; }
	b=$(show_norm "$IMG2") || { fail_with "show of the second images failed"; return 1; }
	[ -n "$a" ] && [ "$a" != null ] || { fail_with "empty show output"; return 1; }
	if [ "$a" != "$b" ]; then
		diff <(echo "$a") <(echo "$b") >&2
		fail_with "metadata differs between the dump and the dump of the restored tree"
		return 1
	fi
	# the second dump left it running, and it is still intact
	finish "$R_PID"
}

@test "engine: dump, restore, dump again: same metadata (files)" {
	redump_compare files
}

@test "engine: dump, restore, dump again: same metadata (signals)" {
	redump_compare signals
}

@test "engine: an image set restores twice" {
	start_wl signals
	dump_and_check_gone
	engine_restore
	finish "$R_PID"
	kill_reaper "$R_REAPER"
	R_PID= R_REAPER=
	rm -f "$WD/result"
	engine_restore
	finish "$R_PID"
}

@test "engine: an inotify fd is refused by name and the process runs on" {
	start_wl inotify
	run engine_dump
	[ "$status" -ne 0 ] || fail_with "dump of a process holding an inotify fd succeeded"
	grep -qi inotify "$WD/dump.out" || fail_with "the error does not name inotify: $(cat "$WD/dump.out")"
	# dump.log says so too, as Podman and containerd show it to users
	grep -i 'Error' "$IMG/dump.log" | grep -qi inotify || fail_with "dump.log has no Error line naming inotify"
	is_gone "$WL_PID" && fail_with "the process died"
	grep -q '^TracerPid:[[:space:]]*0$' "/proc/$WL_PID/status" || fail_with "still traced"
	grep -Eq '^State:[[:space:]]*S' "/proc/$WL_PID/status" || fail_with "not sleeping: $(grep State "/proc/$WL_PID/status")"
	finish "$WL_PID"
}

@test "engine: --work-path gets dump.log, stats-dump, restore.log and stats-restore" {
	local work=$BATS_TEST_TMPDIR/work
	start_wl signals
	engine_dump --work-path "$work" || fail_with "dump failed"
	wait_gone "$WL_PID" 5
	[ -s "$work/dump.log" ] || fail_with "no dump.log in the work dir"
	[ -s "$work/stats-dump" ] || fail_with "no stats-dump in the work dir"
	grep -q Error "$work/dump.log" && fail_with "dump.log has an Error line"
	# log lines carry a timestamp: "(sec.usec) msg"
	grep -Eq '^\([0-9]+\.[0-9]+\) ' "$work/dump.log" || fail_with "dump.log lines lack timestamps"
	"$SKUA_BIN" engine restore --image-path "$IMG" --work-path "$work" -d --pid-file "$WD/restored.pid" \
		</dev/null >"$WD/restore.out" 2>&1 || fail_with "restore failed"
	R_PID=$(cat "$WD/restored.pid")
	R_REAPER=$(awk '/^PPid:/ {print $2}' "/proc/$R_PID/status")
	[ -s "$work/restore.log" ] || fail_with "no restore.log in the work dir"
	[ -s "$work/stats-restore" ] || fail_with "no stats-restore in the work dir"
	finish "$R_PID"
}

@test "engine: dump of a pid that does not exist fails cleanly" {
	WL_PID=999999999
	run engine_dump
	[ "$status" -ne 0 ]
	WL_PID=
}
