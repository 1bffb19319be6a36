#!/usr/bin/env bats
# Lazy (post-copy) migration: checkpoint --lazy-pages serves the frozen
# container's memory, restore --lazy-pages runs the copy at once and pulls
# pages on fault and in the background (docs/lazy-migration.md).

load helpers

LZ_PORT=${LZ_PORT:-27361}

function setup() {
	requires root
	setup_busybox
	IMG="$BATS_TEST_TMPDIR/image-dir"
	WORK="$BATS_TEST_TMPDIR/work-dir"
	RWORK="$BATS_TEST_TMPDIR/restore-work"
	OUT="$BATS_TEST_TMPDIR/out"
	mkdir -p "$IMG" "$WORK" "$RWORK"
	export SKUA_LAZY_TIMEOUT=20
}

function teardown() {
	local fd p
	for fd in ${in_r:-} ${in_w:-} ${out_r:-} ${out_w:-} ${err_r:-} ${err_w:-} ${lazy_r:-} ${lazy_w:-}; do
		eval "exec ${fd}>&-" 2>/dev/null || true
	done
	for p in ${cpt_pid:-} ${lp_pid:-}; do
		kill -9 "$p" 2>/dev/null || true
	done
	teardown_containers
	lz_netns_cleanup
}

function lz_netns_cleanup() {
	ip netns del lz-src 2>/dev/null || true
	ip netns del lz-dst 2>/dev/null || true
}

function show_logs() {
	local f
	for f in "$WORK"/dump.log "$RWORK"/restore.log "$RWORK"/lazy-pages.log "$WORK"/lazy-pages.log; do
		[ -e "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }
	done
	return 0
}

# runc's pipe trio: in/out/err each a pipe whose both ends we hold.
function setup_pipes() {
	local pipe
	exec {pipe}<> <(:)
	exec {err_r}</proc/self/fd/$pipe
	exec {err_w}>/proc/self/fd/$pipe
	exec {pipe}>&-
	exec {pipe}<> <(:)
	exec {out_r}</proc/self/fd/$pipe
	exec {out_w}>/proc/self/fd/$pipe
	exec {pipe}>&-
	exec {pipe}<> <(:)
	exec {in_r}</proc/self/fd/$pipe
	exec {in_w}>/proc/self/fd/$pipe
	exec {pipe}>&-
	exec {pipe}<> <(:)
	exec {lazy_r}</proc/self/fd/$pipe
	exec {lazy_w}>/proc/self/fd/$pipe
	exec {pipe}>&-
}

function check_pipes() {
	local output stderr
	echo Ping >&${in_w}
	exec {in_w}>&- {out_w}>&- {err_w}>&- {in_r}>&-
	output=$(timeout 10 cat <&${out_r})
	exec {out_r}>&-
	stderr=$(timeout 10 cat <&${err_r})
	exec {err_r}>&-
	echo "stdout: $output" >&2
	echo "stderr: $stderr" >&2
	[[ "$output" == *"ponG Ping"* ]]
	[ -z "$stderr" ]
}

# Start the lazy checkpoint of $1 in the background; wait for its \0.
function lazy_checkpoint() {
	__runc checkpoint --lazy-pages --page-server "0.0.0.0:$LZ_PORT" --status-fd ${lazy_w} \
		--work-path "$WORK" --image-path "$IMG" "$1" >"$BATS_TEST_TMPDIR/cpt.out" 2>&1 &
	cpt_pid=$!
	local out
	out=$(timeout 2 dd if=/proc/self/fd/${lazy_r} bs=1 count=1 2>/dev/null | od)
	exec {lazy_w}>&-
	out=$(echo $out)
	show_logs
	[ "$out" = "0000000 000000 0000001" ]
	# runc's test: the inventory is there while the page server still serves
	[ -e "$IMG/inventory.img" ]
	kill -0 $cpt_pid
}

function pipes_scenario() {
	update_config '.process.args = ["sh", "-c", "while read line; do echo ponG $line; done"]'
	setup_pipes
	__runc run -d lz-pipes <&${in_r} >&${out_w} 2>&${err_w}
	testcontainer lz-pipes running
	lazy_checkpoint lz-pipes
}

@test "lazy: runc's scenario: checkpoint serves, restore under a new name runs, Ping -> ponG Ping" {
	pipes_scenario
	__runc restore -d --lazy-pages --image-path "$IMG" --work-path "$RWORK" lz-pipes-new \
		<&${in_r} >&${out_w} 2>&${err_w}
	show_logs
	runc exec --cwd /bin lz-pipes-new echo ok
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
	run timeout 30 bash -c "while kill -0 $cpt_pid 2>/dev/null; do sleep 0.1; done"
	wait $cpt_pid
	cpt_pid=
	show_logs
	# the source is gone, the copy runs
	runc state lz-pipes
	[ "$status" -eq 1 ]
	testcontainer lz-pipes-new running
	check_pipes
	jq -e '.complete and .pages_total > 0' "$RWORK/stats-lazy"
	grep -q "every page is in" "$RWORK/lazy-pages.log"
}

@test "lazy: three processes: skua lazy-pages holds the faults" {
	pipes_scenario
	"$SKUA_BIN" lazy-pages --page-server --address 127.0.0.1 --port "$LZ_PORT" -D "$IMG" -W "$RWORK" \
		>"$BATS_TEST_TMPDIR/lp.out" 2>&1 &
	lp_pid=$!
	retry 50 0.1 test -S "$RWORK/lazy-pages.socket"
	__runc restore -d --lazy-pages --image-path "$IMG" --work-path "$RWORK" lz-pipes-new \
		<&${in_r} >&${out_w} 2>&${err_w}
	show_logs
	runc exec --cwd /bin lz-pipes-new echo ok
	[ "$output" = ok ]
	wait $cpt_pid
	cpt_pid=
	wait $lp_pid
	lp_pid=
	show_logs
	runc state lz-pipes
	[ "$status" -eq 1 ]
	check_pipes
	jq -e '.complete' "$RWORK/stats-lazy"
	grep -q "a restore connected" "$RWORK/lazy-pages.log"
}
