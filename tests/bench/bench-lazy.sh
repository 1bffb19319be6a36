#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Lazy migration between two network namespaces joined by a veth pair (two
# "hosts" on one machine, each with its own --root), for memhog containers of
# 64 MiB, 1 GiB and 4 GiB (sizes that do not fit in available memory are
# skipped; BENCH_LAZY_SIZES overrides, in MiB). Per size:
#   downtime     the source container's freeze begun -> the destination's
#                tasks let go, from the wall-clock marks in dump.log
#                ("container freezing at", taken before the cgroup freezer is
#                asked) and restore.log ("tree running at", taken when the
#                engine has detached every task; the runtime's bookkeeping
#                and the "container running" mark come after)
#   bound        checkpoint started -> restore -d returned, as a caller sees
#                it (process starts and the harness included)
#   ready        the checkpoint's main() -> its page server listening (and
#                the \0 on --status-fd), from dump.log
#   total        checkpoint started -> the checkpoint exited (every page is
#                at the destination, the source destroyed)
#   fault p50/p99  from the destination's stats-lazy, taken while the
#                background stream runs (the workload modes below): the
#                handler's fault read -> the copy that woke the task
#   task-seen    serve only: memhog's own timing of each read of a page that
#                was missing (mincore), trap and wake-ups included
#   background   pages streamed / (all in - tree running), GB/s
# and, measured in the same run by build/workloads/lazyraw: TCP bulk rate and
# 32 B -> 4 KiB round trip over the veth (alone, and 500 us apart beside a
# raw stream) and over loopback, UFFDIO_COPY rate
# into fresh pages and the cost of one single-page copy, and a userfault
# served at once by another thread, as the faulting task sees it; and by
# build/workloads/lazypipe, the floor: the migration's own copies and hops
# chained without skua, as a stream (pipe) and as a fault (pipe fault).
# The targets are taken against the raw rates; the floor says how much of
# what is left is this machine's. Each baseline is the median of
# BENCH_LAZY_BASE_RUNS (3) measurements, and each size is migrated
# BENCH_LAZY_REPEAT (3) times, the sizes in turn; a row gives each column's
# median (lazy-summary.sh). BENCH_LAZY_KEEP=DIR keeps each migration's dump,
# restore and lazy logs and stats in DIR/MODE-SIZE-RUN (DIR/MODE-SIZE when
# BENCH_LAZY_REPEAT=1).
# One table per workload mode in BENCH_LAZY_MODES (default "serve hog"):
#   serve  memhog reads one word of a random page 2000 times a second
#          (BENCH_LAZY_RATE) from restore's return until every page is in, as
#          a server answering requests would; then it checksums everything
#   hog    memhog checksums all its memory right after restore returns: its
#          faults chase the stream and it keeps one of the CPUs busy
#   idle   memhog checksums only after every page is in: the stream alone
#          (BENCH_LAZY_IDLE=1 is the same as BENCH_LAZY_MODES=idle)
# Memory is warmed (lazyraw warm) before the raw rates and before each
# migration: this VM's host takes back guest memory left free, and whoever
# touches it first waits for the host (1-2 GB/s instead of 7 for
# UFFDIO_COPY), which would otherwise land on one side or the other of the
# comparison by chance. The table goes to
# stdout and build/bench/lazy-table.md, the plot to docs/lazy-bench.png.
set -u
. "$(dirname "$0")/lib.sh"

SIZES=${BENCH_LAZY_SIZES:-64 1024 4096}
MODES=${BENCH_LAZY_MODES:-serve hog}
REPEAT=${BENCH_LAZY_REPEAT:-3}
[ -z "${BENCH_LAZY_IDLE:-}" ] || MODES=idle
RATE=${BENCH_LAZY_RATE:-2000}
PIPE_MIB=1024
# fewer faults than this in a row: its p50 is not compared with a baseline
MIN_FAULTS=20
WL=$SKUA_SRC/build/workloads
PORT=27451
RAW_PORT=27452
NS_S=lzb-src
NS_D=lzb-dst
IP_S=10.213.78.1
IP_D=10.213.78.2
ROOT_S=/run/skua-bench-lazy-src
ROOT_D=/run/skua-bench-lazy-dst
OWN_DIR=
if [ -z "${BENCH_DIR:-}" ]; then
	BENCH_DIR=$(mktemp -d /tmp/skua-bench-lazy.XXXXXX) && OWN_DIR=$BENCH_DIR
fi
CPT_PID=

in_s() { nsenter --net=/run/netns/$NS_S -- "$@"; }
in_d() { nsenter --net=/run/netns/$NS_D -- "$@"; }
. "$(dirname "$0")/lazy-baselines.sh"
. "$(dirname "$0")/lazy-summary.sh"

cleanup() {
	local r id
	[ -n "$CPT_PID" ] && kill -9 "$CPT_PID" 2>/dev/null
	[ -n "$RAW_PID" ] && kill "$RAW_PID" 2>/dev/null
	for r in $ROOT_S $ROOT_D; do
		for id in $("$SKUA" --root "$r" list -q 2>/dev/null); do
			"$SKUA" --root "$r" delete -f "$id" >/dev/null 2>&1
		done
		rmdir "$r" 2>/dev/null
	done
	ip netns del $NS_S 2>/dev/null
	ip netns del $NS_D 2>/dev/null
	[ -n "$OWN_DIR" ] && rm -rf "$OWN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

avail_mib() { awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo; }
now_us() { echo "${EPOCHREALTIME/./}"; }
ms() { awk "BEGIN { printf \"%.1f\", ($2 - $1) / 1000 }"; }

netns_setup() {
	ip netns del $NS_S 2>/dev/null
	ip netns del $NS_D 2>/dev/null
	ip netns add $NS_S && ip netns add $NS_D &&
		ip link add lzb-veth-s type veth peer name lzb-veth-d &&
		ip link set lzb-veth-s netns $NS_S && ip link set lzb-veth-d netns $NS_D &&
		ip -n $NS_S addr add $IP_S/24 dev lzb-veth-s && ip -n $NS_D addr add $IP_D/24 dev lzb-veth-d &&
		ip -n $NS_S link set lzb-veth-s up && ip -n $NS_D link set lzb-veth-d up &&
		ip -n $NS_S link set lo up && ip -n $NS_D link set lo up
}

# migrate MODE MIB RUN: one lazy migration; appends its figures to
# $BENCH_DIR/runs-MODE.txt.
migrate() {
	local mode=$1 mib=$2 run=$3 d="$BENCH_DIR/m$2" id_s=lzb-s-$2 id_d=lzb-d-$2 args="\"$2\""
	mkdir -p "$d/img" "$d/work" "$d/rwork"
	[ "$mode" != serve ] || args="$args, \"-T\", \"$RATE\""
	bench_bundle "$d/bundle" "[\"/bin/memhog\", $args]" >/dev/null 2>&1 || return 1
	cp "$WL/memhog" "$d/bundle/rootfs/bin/memhog"
	jq '.root.readonly = false | .process.env += ["ZDTM_DIR=/tmp"]' "$d/bundle/config.json" >"$d/c.json" &&
		mv "$d/c.json" "$d/bundle/config.json"
	(cd "$d/bundle" && in_s "$SKUA" --root $ROOT_S run -d $id_s </dev/null >"$d/src.out" 2>&1) || return 1
	local i
	for ((i = 0; i < 600; i++)); do grep -q ready "$d/src.out" && break; sleep 0.1; done
	grep -q ready "$d/src.out" || { echo "memhog $mib did not start" >&2; return 1; }

	local st t0 t_run t_end waiter
	# The destination's pages come from memory this VM's host may have
	# taken back (lazyraw's comment): populate and free them first, as
	# raw_rates does. (Not read < <(...): that returns before the munmap
	# ends.) memhog sits idle meanwhile, and on this VM a task that slept
	# while its page tables were written to pays on its next return to user
	# mode (34-55 ms at 4 GiB right after the warm-up): checkpoint --lazy-pages
	# lets it pay that before its freeze (runtime/ckpt-wake.c), so the bench
	# no longer wakes memhog itself.
	"$WL/lazyraw" warm $((mib * 3 / 2 + 256)) >/dev/null
	exec {st}<> <(:)
	# The destination's orchestrator waits in the destination "host" for the
	# source's \0 and then starts the restore: what follows the \0 is one
	# exec, as a caller waiting there would do. read -d '' stops at a NUL:
	# the \0 alone gives an empty line and status 0.
	in_d bash -c 'IFS= read -r -d "" -t 60 -u 3 nul && [ -z "$nul" ] || { echo "no page server" >&2; exit 3; }
		exec "$@"' waiter "$SKUA" --root $ROOT_D restore -d --lazy-pages --bundle "$d/bundle" --image-path "$d/img" \
		--work-path "$d/rwork" --pid-file "$d/dst.pid" $id_d 3<&$st </dev/null >"$d/dst.out" 2>&1 &
	waiter=$!
	t0=$(now_us)
	nsenter --net=/run/netns/$NS_S -- "$SKUA" --root $ROOT_S checkpoint --lazy-pages --page-server $IP_S:$PORT --status-fd $st \
		--image-path "$d/img" --work-path "$d/work" $id_s >"$d/cpt.out" 2>&1 &
	CPT_PID=$!
	exec {st}>&-
	wait $waiter || { echo "no lazy restore for $mib MiB" >&2; cat "$d/dst.out" "$d/cpt.out" "$d/work/dump.log" \
		"$d/rwork/restore.log" >&2; return 1; }
	t_run=$(now_us)
	# serve and hog start touching memory now; serve and idle (again)
	# checksum it once every page is in
	# bash's own kill, at once: an exec of skua kill took long enough that a
	# 64 MiB stream was nearly over when memhog began
	local dpid
	read -r dpid <"$d/dst.pid"
	[ "$mode" = idle ] || kill -USR1 "$dpid"
	wait "$CPT_PID"
	local rc=$?
	[ "$mode" = hog ] || "$SKUA" --root $ROOT_D kill $id_d USR1
	t_end=$(now_us)
	CPT_PID=
	for ((i = 0; i < 600; i++)); do grep -q -e PASS -e FAIL "$d/dst.out" && break; sleep 0.1; done
	[ $rc -eq 0 ] && grep -q PASS "$d/dst.out" || { echo "migration of $mib MiB failed" >&2; cat "$d/dst.out" >&2; return 1; }

	local t_frozen t_running down ready
	# ready: the checkpoint's start (its log counts from main) -> listening
	ready=$(sed -n 's/^(\([0-9.]*\)) page server listening.*/\1/p' "$d/work/dump.log" | awk '{ printf "%.1f", $1 * 1000 }')
	t_frozen=$(sed -n 's/.*container freezing at \([0-9.]*\) (wall clock).*/\1/p' "$d/work/dump.log")
	t_running=$(sed -n 's/.*tree running at \([0-9.]*\) (wall clock).*/\1/p' "$d/rwork/restore.log")
	down=$(awk "BEGIN { if (\"$t_frozen\" != \"\" && \"$t_running\" != \"\") printf \"%.1f\", ($t_running - $t_frozen) * 1000; else print \"n/a\" }")
	local s="$d/rwork/stats-lazy" p50 p99 faults bulk span bg
	p50=$(jq .fault_latency_p50_us "$s")
	p99=$(jq .fault_latency_p99_us "$s")
	faults=$(jq .fault_requests "$s")
	# no fault needed a request (the stream was first everywhere): no latency
	[ "$faults" = 0 ] && p50=n/a p99=n/a
	bulk=$(jq .pages_bulk "$s")
	span=$(jq .running_to_done_us "$s")
	bg=$(awk "BEGIN { if ($span > 0) printf \"%.2f\", $bulk * 4096 / ($span * 1000); else print \"n/a\" }")
	# as the task saw its faults (serve: memhog times each read of a page
	# that was missing)
	local t50=n/a t99=n/a
	read -r t50 t99 < <(sed -n 's/.* missing [0-9]* p50 \([0-9]*\) p99 \([0-9]*\) us;.*/\1 \2/p' "$d/dst.out")
	[ -n "$t50" ] || t50=n/a t99=n/a
	# one record per migration; lazy_row (lazy-summary.sh) makes the table
	echo "$mib $ready $down $(ms "$t0" "$t_run") $(ms "$t0" "$t_end") $faults $p50 $p99 $bg $t50 $t99" \
		>>"$BENCH_DIR/runs-$mode.txt"
	"$SKUA" --root $ROOT_D delete -f $id_d >/dev/null 2>&1
	if [ -n "${BENCH_LAZY_KEEP:-}" ]; then
		local keep="$BENCH_LAZY_KEEP/$mode-$mib"
		[ "$REPEAT" = 1 ] || keep="$keep-$run"
		mkdir -p "$keep" &&
			cp "$d"/dst.out "$d"/work/*.log "$d"/rwork/*.log "$d"/rwork/stats-* "$d"/work/stats-* "$keep/" 2>/dev/null
	fi
	rm -rf "$d"
}

plot() {
	command -v gnuplot >/dev/null || { echo "(no gnuplot: make deps-bench)"; return 0; }
	local first=${MODES%% *} m series=
	[ -s "$BENCH_DIR/plot-$first.dat" ] || return 0
	for m in $MODES; do
		[ -s "$BENCH_DIR/plot-$m.dat" ] || continue
		series="$series${series:+, }\"$BENCH_DIR/plot-$m.dat\" using 5:xtic(sprintf(\"%d MiB\", \$1)) title \"$m p50\", \"\" using 6 title \"$m p99\""
	done
	gnuplot <<EOF
set terminal pngcairo size 900,420 noenhanced font ",10"
set datafile missing "n/a"
set output "$SKUA_SRC/docs/lazy-bench.png"
set multiplot layout 1,2 title "skua lazy migration over a veth pair ($(uname -r), $(nproc) cpus)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "ms"
set key top left
set title "downtime and total migration time ($first)"
plot "$BENCH_DIR/plot-$first.dat" using 2:xtic(sprintf("%d MiB", \$1)) title "downtime (source frozen -> destination running)", \
     "" using 3 title "total (every page delivered)"
set ylabel "us"
set title "fault latency while the stream runs"
plot $series
unset multiplot
EOF
	echo "plot: docs/lazy-bench.png"
}

mkdir -p "$SKUA_SRC/build/bench"
echo "== lazy migration: memhog between two netns over veth (checkpoint --lazy-pages / restore --lazy-pages)"
netns_setup || { echo "bench-lazy: cannot make network namespaces" >&2; exit 1; }
raw_rates
echo "raw, same run (each the median of $BASE_RUNS): TCP over veth ${VETH_GBPS} GB/s (${VETH_SPREAD}), round trip 32 B->4 KiB p50 ${VETH_RTT50} us (p99 ${VETH_RTT99})," \
	"beside a raw stream p50 ${BUSY_RTT50} us (p99 ${BUSY_RTT99});" \
	"loopback ${LO_GBPS} GB/s, p50 ${LO_RTT50} us; UFFDIO_COPY ${COPY_GBPS} GB/s in 4 MiB calls, ${PAGE_COPY_US} us per single page" \
	"(memory warmed first at ${WARM_GBPS} GB/s); a userfault served locally, as the task sees it, p50 ${UFAULT50} us (p99 ${UFAULT99})"
echo "floor, same run (lazypipe: the migration's copies and hops without skua): a stream read with process_vm_readv from a" \
	"stopped process, sent over the veth, placed with UFFDIO_COPY into another process ${PIPE_GBPS} GB/s (${PIPE_SPREAD}; pipe); a fault read" \
	"from a userfaultfd, its page asked for over the veth, read the same way and copied into the faulting process p50 ${PIPE_FAULT50} us" \
	"(p99 ${PIPE_FAULT99}) back to back, ${PIPE_GAP_FAULT50} us (p99 ${PIPE_GAP_FAULT99}) $((1000000 / RATE)) us apart as serve's" \
	"(pipe fault: serve's rows are held to the second)"
{
	rc=0
	for mode in $MODES; do
		echo
		case $mode in
		serve) echo "workload serve: memhog reads a random page $RATE times a second while the stream runs" ;;
		hog) echo "workload hog: memhog checksums all its memory as soon as restore returns" ;;
		idle) echo "workload idle: the stream alone (memhog checksums after every page is in)" ;;
		*) echo "bench-lazy: unknown mode $mode" >&2; rc=1; continue ;;
		esac
		echo
		[ "$REPEAT" = 1 ] || echo "each row: per column, the median of $REPEAT migrations (sizes taken in turn); downtime's worst in brackets"
		[ "$REPEAT" = 1 ] || echo
		echo "| size | ready ms | downtime ms | bound ms | total ms | faults | fault p50 / p99 us | bg GB/s | bg / veth TCP | bg / pipe | p50 / (RTT + copy) | p50 / pipe fault | task-seen p50 / p99 us | task p50 / (RTT + userfault) |"
		echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
		: >"$BENCH_DIR/runs-$mode.txt"
		fits=
		for mib in $SIZES; do
			need=$((mib * 3 + 1024))
			if [ "$(avail_mib)" -lt "$need" ]; then
				echo "| $mib MiB | skipped: needs $need MiB available |"
				continue
			fi
			fits="$fits $mib"
		done
		for ((run = 1; run <= REPEAT; run++)); do
			for mib in $fits; do
				migrate "$mode" "$mib" "$run" || rc=1
			done
		done
		for mib in $fits; do
			lazy_row "$mode" "$mib"
		done
	done
	exit $rc
} | tee "$SKUA_SRC/build/bench/lazy-table.md"
rc=${PIPESTATUS[0]}
plot
exit "$rc"
