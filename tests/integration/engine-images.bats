#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
# The image layer end to end through `skua engine`: `show` of a real dump is
# consistent with itself, the caller's stdio replaces the root's external
# stdout at restore, an attached restore exits with the root's status, and a
# corrupt image is refused with its name before anything runs.

load helpers

WL_PID=

setup() {
	requires root
	WD=$BATS_TEST_TMPDIR/wd
	IMG=$BATS_TEST_TMPDIR/img
	mkdir -p "$WD"
	WL_PID=
}

teardown() {
	local p
	# the workload, and any restored copy of it (same pid inside its namespace)
	for p in $WL_PID $(restored_pids); do
		kill -9 "$p" 2>/dev/null
	done
	[ -n "$WL_PID" ] && wait "$WL_PID" 2>/dev/null
	return 0
}

logs() {
	local f
	for f in "$WD"/*.err "$IMG"/dump.log "$IMG"/restore.log; do
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

# Host pids of restored counters of this test: the counter binary whose pid
# in its own namespace is the dumped one, but which is not the original.
restored_pids() {
	local d p
	[ -n "$WL_PID" ] || return 0
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		[ "$p" = "$WL_PID" ] && continue
		[ "$(readlink "$d/exe" 2>/dev/null)" = "$WORKLOADS/counter" ] || continue
		[ "$(awk '/^NSpid:/ {print $NF}' "$d/status" 2>/dev/null)" = "$WL_PID" ] && echo "$p"
	done
}

wait_for() {
	local i
	for ((i = 0; i < 200; i++)); do
		eval "$1" && return 0
		sleep 0.05
	done
	return 1
}

# start_counter [STDOUT-CMD]: counter in a session of its own, every fd above
# 2 closed; stdout to $WD/out, or piped into STDOUT-CMD (a sibling, so the
# pipe leaves the tree: an external object). Sets WL_PID.
start_counter() {
	local sink=${1:-}
	rm -f "$WD/status" "$WD/result" "$WD/pid"
	(
		cd "$WD" || exit 1
		for fd in /proc/self/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done
		export ZDTM_STATUS=$WD/status ZDTM_RESULT=$WD/result ZDTM_DIR=$WD
		if [ -n "$sink" ]; then
			(echo "$BASHPID" >"$WD/pid"; exec setsid "$WORKLOADS/counter") | eval "$sink"
		else
			echo "$BASHPID" >"$WD/pid"
			exec setsid "$WORKLOADS/counter" >"$WD/out"
		fi
	) </dev/null 2>"$WD/counter.err" &
	wait_for '[ -s "$WD/pid" ] && grep -qx ready "$WD/status" 2>/dev/null' ||
		{ fail_with "counter not ready"; return 1; }
	WL_PID=$(cat "$WD/pid")
}

engine_dump() {
	"$SKUA_BIN" engine dump --pid "$WL_PID" --image-path "$IMG" "$@" >"$WD/dump.err" 2>&1 ||
		{ fail_with "engine dump failed"; return 1; }
}

@test "engine show: a real dump, consistent with itself" {
	start_counter
	engine_dump --leave-running
	kill -0 "$WL_PID" || fail_with "--leave-running: the counter is gone"
	"$SKUA_BIN" engine show --image-path "$IMG" >"$WD/show.json" 2>"$WD/show.err" ||
		fail_with "engine show failed"
	p=$WL_PID
	run jq -r ".inventory.root_pid, .pstree[0].pid, .\"core-$p\".comm, .\"core-$p\".threads[0].tid" "$WD/show.json"
	[ "$status" -eq 0 ]
	[ "${lines[*]}" = "$p $p counter $p" ] || fail_with "got: ${lines[*]}"
	# every page the pagemap says is stored is in the pages file, and counted in the stats
	run jq -r "([.\"pagemap-$p\".entries[] | select((.zero // false) or (.lazy // false) or (.in_parent // false) | not) | .nr_pages] | add),
		(.\"pages-\(.\"pagemap-$p\".head.pages_id)\".size), .\"stats-dump\".dump.pages_written" "$WD/show.json"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" -gt 0 ] || fail_with "no pages stored"
	[ "$((lines[0] * 4096))" -eq "${lines[1]}" ] || fail_with "pagemap ${lines[0]} pages, pages file ${lines[1]} bytes"
	[ "${lines[0]}" -eq "${lines[2]}" ] || fail_with "pagemap ${lines[0]} pages, stats ${lines[2]}"
	# the stack VMA is there, and the regs are exact 64-bit numbers
	run jq -e "[.\"mm-$p\".vmas[] | select(.kind == \"VMA_STACK\" or .name == \"[stack]\")] | length > 0" "$WD/show.json"
	[ "$status" -eq 0 ] || fail_with "no stack VMA"
	run jq -e ".\"core-$p\".threads[0].regs.ip > 0 and (.\"core-$p\".threads[0].xstate | length) == 2 * .inventory.xstate_size" "$WD/show.json"
	[ "$status" -eq 0 ] || fail_with "regs/xstate not as expected"
}

@test "engine restore: the caller's stdout replaces the root's external stdout pipe" {
	start_counter "cat >$WD/out1"
	engine_dump
	wait_for '! kill -0 "$WL_PID" 2>/dev/null' || fail_with "counter alive after the dump"
	run jq -r ".files[] | select(.kind == \"FILE_EXTERNAL\") | .external.key" \
		<("$SKUA_BIN" engine show --image-path "$IMG")
	[[ "${lines[0]}" == pipe:* ]] || fail_with "stdout not recorded as external: ${lines[*]}"

	# restore with our stdout a pipe into another cat
	("$SKUA_BIN" engine restore --image-path "$IMG" -d --pid-file "$WD/r.pid" \
		</dev/null 2>"$WD/restore.err" | cat >"$WD/out2") 3>&- &
	wait_for '[ -s "$WD/r.pid" ]' || fail_with "no pid file"
	r=$(cat "$WD/r.pid")
	wait_for 'grep -q "^count" "$WD/out2"' || fail_with "restored counter does not write to the new pipe"
	kill -USR1 "$r"
	wait_for '! kill -0 '"$r"' 2>/dev/null' || fail_with "restored counter did not finish"
	[ "$(cat "$WD/result")" = PASS ] || fail_with "verdict: $(cat "$WD/result")"
}

@test "engine restore: attached, exits with the root's status" {
	start_counter
	engine_dump
	wait_for '! kill -0 "$WL_PID" 2>/dev/null' || fail_with "counter alive after the dump"
	# (bats runs tests under set -e: keep the status from ending the subshell)
	(rc=0
	 "$SKUA_BIN" engine restore --image-path "$IMG" </dev/null >/dev/null 2>"$WD/restore.err" || rc=$?
	 echo $rc >"$WD/restore.rc") 3>&- &
	# kill it once it runs on its own (the restore has let go of it)
	wait_for 'grep -q "^count" "$WD/out" && [ -n "$(restored_pids)" ] && grep -q "restored 1 tasks" "$IMG/restore.log"' ||
		fail_with "no restored counter"
	kill -9 $(restored_pids)
	wait_for '[ -s "$WD/restore.rc" ]' || fail_with "restore did not return"
	[ "$(cat "$WD/restore.rc")" = 137 ] || fail_with "exit code $(cat "$WD/restore.rc"), want 137"
}

@test "engine restore: a corrupt image is refused, naming the file" {
	start_counter
	engine_dump
	wait_for '! kill -0 "$WL_PID" 2>/dev/null' || fail_with "counter alive after the dump"
	# the first message's length becomes 0xffffffff
	printf '\xff\xff\xff\xff' | dd of="$IMG/core-$WL_PID.img" bs=1 seek=8 conv=notrunc status=none
	run "$SKUA_BIN" engine restore --image-path "$IMG" -d --pid-file "$WD/r.pid"
	[ "$status" -eq 1 ] || fail_with "restore of a corrupt image: status $status"
	[[ "$output" == *"core-$WL_PID.img: message 1 at offset 8: length 4294967295 beyond end of file"* ]] ||
		fail_with "message: $output"
	[ ! -e "$WD/r.pid" ]
	[ -z "$(restored_pids)" ] || fail_with "a restored process is left: $(restored_pids)"
	run "$SKUA_BIN" engine show --image-path "$IMG"
	[ "$status" -eq 1 ]
	[[ "$output" == *"core-$WL_PID.img"* ]]
}

@test "engine restore: a truncated pages image is refused, naming the file, and leaves no process" {
	start_counter
	engine_dump
	wait_for '! kill -0 "$WL_PID" 2>/dev/null' || fail_with "counter alive after the dump"
	local pages size
	pages=$(ls "$IMG"/pages-*.img)
	[ -n "$pages" ] || fail_with "no pages image"
	size=$(stat -c %s "$pages")
	[ "$size" -gt $((8 + 3 * 4096)) ] || fail_with "pages image of $size bytes"
	truncate -s $((size - 4096 - 100)) "$pages"
	run "$SKUA_BIN" engine restore --image-path "$IMG" -d --pid-file "$WD/r.pid"
	[ "$status" -eq 1 ] || fail_with "restore of a truncated pages image: status $status"
	[[ "$output" == *"${pages##*/}: truncated: the run at 0x"*"the file holds"* ]] || fail_with "message: $output"
	[ ! -e "$WD/r.pid" ]
	[ -z "$(restored_pids)" ] || fail_with "a restored process is left: $(restored_pids)"
}

@test "engine: command line" {
	run "$SKUA_BIN" engine --help
	[ "$status" -eq 0 ]
	[[ "$output" == *dump*restore*show* ]]
	run "$SKUA_BIN" engine
	[ "$status" -eq 1 ]
	run "$SKUA_BIN" engine frob
	[ "$status" -eq 1 ]
	[[ "$output" == *"unknown command 'frob'"* ]]
	run "$SKUA_BIN" engine dump --image-path "$IMG"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--pid PID is required"* ]]
	run "$SKUA_BIN" engine restore --pid-file "$WD/x"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--pid-file needs -d"* ]]
	run "$SKUA_BIN" engine show --image-path "$WD/none"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$WD/none"* ]]
	run "$SKUA_BIN" engine dump -pid=1 -bogus
	[ "$status" -eq 1 ]
	[[ "$output" == *"flag provided but not defined: -bogus"* ]]
}
