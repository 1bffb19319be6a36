#!/usr/bin/env bats
# Lazy (post-copy) migration: checkpoint --lazy-pages serves the frozen
# container's memory, restore --lazy-pages runs the copy at once and pulls
# pages on fault and in the background (docs/lazy-migration.md).

load helpers

LZ_PORT=${LZ_PORT:-27361}

function setup() {
	setup_ckpt_busybox
	RWORK="$BATS_TEST_TMPDIR/restore-work"
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
	lz_roots_cleanup
	lz_netns_cleanup
}

function lz_netns_cleanup() {
	ip link del lz-veth-s 2>/dev/null || true
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
	setup_stdio_pipes
	exec {pipe}<> <(:)
	exec {lazy_r}</proc/self/fd/$pipe
	exec {lazy_w}>/proc/self/fd/$pipe
	exec {pipe}>&-
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
	wait_cpt 30
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
	wait_cpt 60
	wait $lp_pid
	lp_pid=
	show_logs
	runc state lz-pipes
	[ "$status" -eq 1 ]
	check_pipes
	jq -e '.complete' "$RWORK/stats-lazy"
	grep -q "a restore connected" "$RWORK/lazy-pages.log"
}

# Two "hosts": network namespaces joined by a veth pair, each side with its
# own state root. skua runs in them through nsenter --net (ip netns exec
# would remount /sys and hide the cgroup trees).
LZ_SRC_IP=10.213.77.1
LZ_DST_IP=10.213.77.2

function lz_netns_setup() {
	lz_netns_cleanup
	ip netns add lz-src
	ip netns add lz-dst
	ip link add lz-veth-s type veth peer name lz-veth-d
	ip link set lz-veth-s netns lz-src
	ip link set lz-veth-d netns lz-dst
	ip -n lz-src addr add $LZ_SRC_IP/24 dev lz-veth-s
	ip -n lz-dst addr add $LZ_DST_IP/24 dev lz-veth-d
	ip -n lz-src link set lz-veth-s up
	ip -n lz-dst link set lz-veth-d up
	ip -n lz-src link set lo up
	ip -n lz-dst link set lo up
	SRC_ROOT=/run/skua-test-lazy-src
	DST_ROOT=/run/skua-test-lazy-dst
}

function on_src() {
	nsenter --net=/run/netns/lz-src -- "$SKUA_BIN" --root "$SRC_ROOT" "$@"
}

function on_dst() {
	nsenter --net=/run/netns/lz-dst -- "$SKUA_BIN" --root "$DST_ROOT" "$@"
}

function lz_roots_cleanup() {
	local root id
	for root in ${SRC_ROOT:-} ${DST_ROOT:-}; do
		[ -d "$root" ] || continue
		for id in $("$SKUA_BIN" --root "$root" list -q 2>/dev/null); do
			"$SKUA_BIN" --root "$root" delete -f "$id" >/dev/null 2>&1
		done
		rmdir "$root" 2>/dev/null || true
	done
}

# memhog MiB in a container on the source side, ready.
function memhog_on_src() {
	add_workload memhog
	update_config ".process.args = [\"/bin/memhog\", \"$1\"] | .root.readonly = false |
		.process.env += [\"ZDTM_DIR=/tmp\"]"
	on_src run -d lz-hog </dev/null >"$BATS_TEST_TMPDIR/src.out" 2>&1 ||
		{ cat "$BATS_TEST_TMPDIR/src.out" >&2; return 1; }
	retry 100 0.1 grep -q ready "$BATS_TEST_TMPDIR/src.out"
	cat "$BATS_TEST_TMPDIR/src.out" >&2
}

function lazy_checkpoint_src() {
	exec {lazy_r}<> <(:)
	exec {lazy_w}>/proc/self/fd/$lazy_r
	nsenter --net=/run/netns/lz-src -- "$SKUA_BIN" --root "$SRC_ROOT" checkpoint --lazy-pages \
		--page-server "$LZ_SRC_IP:$LZ_PORT" --status-fd ${lazy_w} --work-path "$WORK" \
		--image-path "$IMG" lz-hog >"$BATS_TEST_TMPDIR/cpt.out" 2>&1 &
	cpt_pid=$!
	local out
	out=$(timeout 5 dd if=/proc/self/fd/${lazy_r} bs=1 count=1 2>/dev/null | od)
	exec {lazy_w}>&- {lazy_r}>&-
	out=$(echo $out)
	show_logs
	[ "$out" = "0000000 000000 0000001" ]
}

# Both "hosts" share this machine's cgroup tree: the copy takes another name
# (the source's cgroup is frozen, then removed with it).
@test "lazy: 512 MiB migrate between two network namespaces, the checksum holds" {
	# 512 MiB at 256 MiB/s: the stream lasts about 2 s, time enough for the
	# USR1 below to land while it runs (unbounded, it can be done first)
	export SKUA_LAZY_BULK_MBPS=256
	lz_netns_setup
	memhog_on_src 512
	lazy_checkpoint_src
	# the images name the source's address: the destination dials it
	on_dst restore -d --lazy-pages --image-path "$IMG" --work-path "$RWORK" lz-hog-dst \
		</dev/null >"$BATS_TEST_TMPDIR/dst.out" 2>&1
	show_logs
	# the handler restore started is a program of its own (spawned, not a
	# fork of restore): its stdio is /dev/null, it holds no descriptor of
	# restore's, and its control socket is fd 3
	local hp
	hp=$(pgrep -f -- "lazy-pages --page-server .* -W $RWORK --ctl-fd 3" | head -1)
	[ -n "$hp" ]
	[ "$(readlink /proc/$hp/fd/0)" = /dev/null ] && [ "$(readlink /proc/$hp/fd/2)" = /dev/null ]
	[[ "$(readlink /proc/$hp/fd/3)" == socket:* ]]
	[ -z "$(ls -l /proc/$hp/fd | grep -e "$BATS_TEST_TMPDIR/dst.out" -e "$IMG")" ]
	# touch all 512 MiB now, while the background stream still runs
	on_dst kill lz-hog-dst USR1
	run timeout 60 bash -c "until grep -q -e PASS -e FAIL '$BATS_TEST_TMPDIR/dst.out'; do sleep 0.2; done"
	cat "$BATS_TEST_TMPDIR/dst.out" >&2
	grep -q PASS "$BATS_TEST_TMPDIR/dst.out"
	wait_cpt 60
	show_logs
	cat "$RWORK/stats-lazy" >&2
	jq -e '.complete and .faults > 0 and .pages_bulk_after_running > 0 and
		.pages_total >= 131072' "$RWORK/stats-lazy"
	# memhog checksums its memory in address order: its faults read
	# forward, so their requests bring the next pages along
	jq -e '.pages_urgent >= 2 * .fault_requests' "$RWORK/stats-lazy"
	# a fault's latency in its three parts: each bounded by the whole
	jq -e 'has("fault_ask_p50_us") and has("fault_place_p50_us") and
		([.fault_ask_p50_us, .fault_wire_p50_us, .fault_place_p50_us] | max) <= .fault_latency_max_us' \
		"$RWORK/stats-lazy"
	# nothing came from the page server before the tree was let go: the
	# pages the restore and the first instructions touch are in the images
	awk '/restore done, the tree runs/ { done = 1 } / answered in / && !done { bad = 1 } END { exit bad }' \
		"$RWORK/lazy-pages.log"
	grep -q "waiting for the handler's connection to the page server" "$RWORK/restore.log"
	# faults are answered by real-time threads on both sides (lazy.h; the
	# handler's only with two CPUs, as here)
	grep -q "requests answered by a real-time (SCHED_FIFO) thread" "$WORK/dump.log"
	# memhog slept: it was woken once before the freeze (ckpt-wake.c)
	grep -q "woke 1 sleeping threads before the freeze: asleep again" "$WORK/dump.log"
	if [ "$(nproc)" -ge 2 ]; then
		jq -e '.handler_realtime' "$RWORK/stats-lazy"
	fi
	# the source is gone
	run "$SKUA_BIN" --root "$SRC_ROOT" state lz-hog
	[ "$status" -eq 1 ]
	lz_roots_cleanup
}

@test "lazy: the source dies mid-transfer: the copy is killed, and the logs say why" {
	lz_netns_setup
	memhog_on_src 256
	export SKUA_LAZY_BULK_MBPS=32
	lazy_checkpoint_src
	on_dst restore -d --lazy-pages --image-path "$IMG" --work-path "$RWORK" lz-hog-dst \
		</dev/null >"$BATS_TEST_TMPDIR/dst.out" 2>&1
	pid=$("$SKUA_BIN" --root "$DST_ROOT" state lz-hog-dst | jq -r .pid)
	kill -0 "$pid"
	kill -9 $cpt_pid
	wait $cpt_pid || true
	cpt_pid=
	run timeout 10 bash -c "while kill -0 $pid 2>/dev/null; do sleep 0.1; done"
	[ "$status" -eq 0 ]
	show_logs
	grep -q "page server connection lost .*after [0-9]* of [0-9]* pages; killed the container" \
		"$RWORK/lazy-pages.log"
	grep -q "killed the container" "$RWORK/restore.log"
	jq -e '.complete == false' "$RWORK/stats-lazy"
	lz_roots_cleanup
}

@test "lazy: a destination without the secret is refused; the source times out and runs on" {
	export SKUA_LAZY_TIMEOUT=4
	update_config '.process.args = ["sh", "-c", "while true; do sleep 0.2; done"]'
	__runc run -d lz-sec </dev/null >"$OUT" 2>&1
	# a name for the page server: refused up front (numbers only), nothing frozen
	run "$SKUA_BIN" --root "$ROOT" checkpoint --lazy-pages --page-server nosuchhost:$LZ_PORT \
		--image-path "$BATS_TEST_TMPDIR/byname" lz-sec
	echo "$output" >&2
	[ "$status" -eq 1 ]
	[[ "$output" == *"nosuchhost: want a numeric IPv4 or IPv6 address"* ]]
	[ "$("$SKUA_BIN" --root "$ROOT" state lz-sec | jq -r .status)" = running ]
	exec {lazy_r}<> <(:)
	exec {lazy_w}>/proc/self/fd/$lazy_r
	lazy_checkpoint lz-sec
	# lazy images restored as if they held their memory: refused, clearly
	run "$SKUA_BIN" --root "$ROOT" restore -d --image-path "$IMG" --work-path "$RWORK" lz-eager </dev/null
	echo "$output" >&2
	[ "$status" -eq 1 ]
	[[ "$output" == *"lazy"* ]]
	run "$SKUA_BIN" --root "$ROOT" state lz-eager
	[ "$status" -eq 1 ]
	# a peer talking nonsense is dropped, the server keeps listening
	timeout 5 bash -c "(printf 'GET / HTTP/1.0\r\nHost: lz\r\n\r\n'; sleep 1) >/dev/tcp/127.0.0.1/$LZ_PORT" || true
	cp -a "$IMG" "$BATS_TEST_TMPDIR/stolen"
	head -c 32 /dev/urandom >"$BATS_TEST_TMPDIR/stolen/page-server.secret"
	run "$SKUA_BIN" --root "$ROOT" restore -d --lazy-pages --image-path "$BATS_TEST_TMPDIR/stolen" \
		--work-path "$RWORK" lz-thief </dev/null
	echo "$output" >&2
	[ "$status" -eq 1 ]
	[[ "$output" == *"refused"* ]]
	run "$SKUA_BIN" --root "$ROOT" state lz-thief
	[ "$status" -eq 1 ]
	# nobody with the secret came: the source gives up and thaws
	local st=0
	wait $cpt_pid || st=$?
	[ "$st" -eq 1 ]
	cpt_pid=
	show_logs
	grep -q "refused a peer: page server handshake: page protocol: bad magic" "$WORK/dump.log"
	grep -q "refused a peer: .*secret" "$WORK/dump.log"
	grep -q "no destination connected" "$WORK/dump.log"
	testcontainer lz-sec running
	sleep 0.5
	[ "$("$SKUA_BIN" --root "$ROOT" state lz-sec | jq -r .status)" = running ]
	# and it really runs: not frozen
	pid=$("$SKUA_BIN" --root "$ROOT" state lz-sec | jq -r .pid)
	! grep -q FROZEN /sys/fs/cgroup/freezer/skua/lz-sec/freezer.state 2>/dev/null
	# the checkpoint froze it through the unified tree (cgroup_freeze_brief)
	[ "$(cat /sys/fs/cgroup/unified/skua/lz-sec/cgroup.freeze)" = 0 ]
}

@test "lazy: a five-process tree (forker) comes back whole, each task with its own userfaultfd" {
	add_workload forker
	update_config '.process.args = ["/bin/forker"]'
	__runc run -d lz-tree </dev/null >"$OUT" 2>&1
	retry 100 0.1 grep -q ready "$OUT"
	exec {lazy_r}<> <(:)
	exec {lazy_w}>/proc/self/fd/$lazy_r
	lazy_checkpoint lz-tree
	__runc restore -d --lazy-pages --image-path "$IMG" --work-path "$RWORK" lz-tree-new \
		</dev/null >"$BATS_TEST_TMPDIR/dst.out" 2>&1
	wait_cpt 60
	show_logs
	[ "$(grep -c 'lazy pages in' "$RWORK/lazy-pages.log")" -eq 5 ]
	jq -e '.complete and .tasks == 5' "$RWORK/stats-lazy"
	__runc kill lz-tree-new USR1
	retry 50 0.1 grep -q -e PASS -e FAIL "$BATS_TEST_TMPDIR/dst.out"
	cat "$BATS_TEST_TMPDIR/dst.out" >&2
	grep -q PASS "$BATS_TEST_TMPDIR/dst.out"
}

@test "lazy: children forked while pages still come get their own userfaultfd; the shell goes on" {
	export SKUA_LAZY_BULK_MBPS=1
	# 4 MB in the shell's heap, left alone until /tmp/touch appears: at
	# 1 MiB/s the stream lasts seconds, and the loop forks a subshell every
	# 100 ms meanwhile (a loop touching the string would fault it all in
	# within milliseconds, and the transfer could end before any fork)
	update_config '.root.readonly = false | .process.args = ["sh", "-c",
		"x=$(head -c 4000000 /dev/zero | tr \"\\\\0\" a); i=0; while true; do i=$((i+1)); (echo $i >/tmp/cnt.new); mv /tmp/cnt.new /tmp/cnt; [ -e /tmp/touch ] && echo ${#x} >/tmp/len; sleep 0.1; done"]'
	__runc run -d lz-fork </dev/null >"$OUT" 2>&1
	retry 50 0.1 test -s "$BUNDLE/rootfs/tmp/cnt"
	exec {lazy_r}<> <(:)
	exec {lazy_w}>/proc/self/fd/$lazy_r
	lazy_checkpoint lz-fork
	__runc restore -d --lazy-pages --image-path "$IMG" --work-path "$RWORK" lz-fork-new </dev/null \
		>"$BATS_TEST_TMPDIR/dst.out" 2>&1
	wait_cpt 60
	show_logs
	grep -q "forked: a new userfaultfd" "$RWORK/lazy-pages.log"
	jq -e '.complete and .tasks > 1' "$RWORK/stats-lazy"
	a=$(cat "$BUNDLE/rootfs/tmp/cnt")
	touch "$BUNDLE/rootfs/tmp/touch"
	retry 50 0.1 test -s "$BUNDLE/rootfs/tmp/len"
	b=$(cat "$BUNDLE/rootfs/tmp/cnt")
	len=$(cat "$BUNDLE/rootfs/tmp/len")
	echo "counter $a -> $b, string of $len" >&2
	[ "$b" -gt "$a" ]
	[ "$len" -eq 4000000 ]
}

@test "lazy: munmap, mremap and MADV_DONTNEED while pages still come: dropped pages read zeros, moved ones keep their data" {
	# 32 MiB at 8 MiB/s: the stream lasts about 4 s, and memchurn changes
	# its address space as soon as the restore returns (lazy_zdtm's USR1)
	export SKUA_LAZY_BULK_MBPS=8
	lazy_zdtm memchurn 32
	cat "$RWORK/stats-lazy" >&2
	# the handler read each kind of event, so they came before every page
	# was in; and the stream still ran after the tree did
	jq -e '.complete and .events_remove > 0 and .events_remap > 0 and .events_unmap > 0 and
		.pages_bulk_after_running > 0' "$RWORK/stats-lazy"
}

@test "lazy: the handler killed mid-transfer: its watchdog kills the copy, the source runs on" {
	export SKUA_LAZY_BULK_MBPS=1
	update_config '.process.args = ["sh", "-c",
		"x=$(head -c 3000000 /dev/zero | tr \"\\\\0\" a); while true; do sleep 0.1; done"]'
	__runc run -d lz-wd </dev/null >"$OUT" 2>&1
	sleep 1
	exec {lazy_r}<> <(:)
	exec {lazy_w}>/proc/self/fd/$lazy_r
	lazy_checkpoint lz-wd
	__runc restore -d --lazy-pages --image-path "$IMG" --work-path "$RWORK" lz-wd-new </dev/null \
		>"$BATS_TEST_TMPDIR/dst.out" 2>&1
	pid=$("$SKUA_BIN" --root "$ROOT" state lz-wd-new | jq -r .pid)
	hpid=$(sed -n 's/.*handler pid \([0-9]*\).*/\1/p' "$RWORK/lazy-pages.log")
	grep -q "watchdog" "$RWORK/lazy-pages.log"
	kill -0 "$pid"
	kill -9 "$hpid"
	run timeout 10 bash -c "while kill -0 $pid 2>/dev/null; do sleep 0.1; done"
	[ "$status" -eq 0 ]
	# the source saw its destination go and runs on
	local st=0
	wait_cpt 30 || st=$?
	[ "$st" -eq 1 ]
	show_logs
	testcontainer lz-wd running
}

# Wait for the background checkpoint at most $1 s; a hung one is killed and fails.
function wait_cpt() {
	local i st=0
	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 $cpt_pid 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 $cpt_pid 2>/dev/null; then
		echo "checkpoint $cpt_pid hung" >&2
		kill -9 $cpt_pid
		st=124
	fi
	wait $cpt_pid || st=$?
	cpt_pid=
	return $st
}

# One zdtm workload in a container, migrated lazily on this host; SIGUSR1
# makes it check itself after the move. Returns non-zero on any failure.
function lazy_zdtm() {
	local wl=$1 id=lz-wl-$1 i
	add_workload "$wl"
	local args
	args=$(printf '%s\n' "/bin/$wl" "${@:2}" | jq -R . | jq -cs .)
	update_config ".root.readonly = false | .process.env += [\"ZDTM_DIR=/tmp\"] | .process.args = $args" || return 1
	rm -rf "$IMG" "$WORK" "$RWORK"
	mkdir -p "$IMG" "$WORK" "$RWORK"
	__runc run -d "$id" </dev/null >"$BATS_TEST_TMPDIR/$wl.src" 2>&1
	retry 100 0.1 grep -q ready "$BATS_TEST_TMPDIR/$wl.src" || return 1
	exec {lazy_r}<> <(:)
	exec {lazy_w}>/proc/self/fd/$lazy_r
	lazy_checkpoint "$id" || return 1
	exec {lazy_r}>&-
	__runc restore -d --lazy-pages --image-path "$IMG" --work-path "$RWORK" "$id-new" </dev/null \
		>"$BATS_TEST_TMPDIR/$wl.dst" 2>&1 || { show_logs; return 1; }
	__runc kill "$id-new" USR1
	wait_cpt 60 || { show_logs; return 1; }
	for ((i = 0; i < 100; i++)); do
		grep -q -e PASS -e FAIL "$BATS_TEST_TMPDIR/$wl.dst" && break
		sleep 0.1
	done
	echo "$wl: $(cat "$BATS_TEST_TMPDIR/$wl.dst")" >&2
	grep -q PASS "$BATS_TEST_TMPDIR/$wl.dst" && jq -e .complete "$RWORK/stats-lazy" >/dev/null
}

@test "lazy: zdtm workloads pass after a lazy migration (threads, signals, pipes, epoll, timers, shm, mappings, dirty-writer)" {
	local wl failed=
	for wl in threads signals pipes epoll timers shm mappings "dirty-writer 16"; do
		# shellcheck disable=SC2086
		lazy_zdtm $wl || failed="$failed $wl"
		LZ_PORT=$((LZ_PORT + 1))
	done
	[ -z "$failed" ] || { echo "failed:$failed" >&2; false; }
}
