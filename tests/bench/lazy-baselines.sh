#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The baselines of bench-lazy.sh (sourced by it, which sets WL, NS_S, NS_D,
# IP_S, RAW_PORT, PIPE_MIB, BENCH_DIR and in_s/in_d): the raw rates
# (lazyraw) and the floor (lazypipe), each the median of BASE_RUNS
# measurements. This VM has slow spells in which one measurement drops to
# a third of its usual rate (the floor's stream once read 0.55 GB/s against
# 1.4-1.8), and a ratio to that one number says nothing of the migration.

BASE_RUNS=${BENCH_LAZY_BASE_RUNS:-3}
RAW_PID=

# raw_server_start NAME CMD...: CMD in the source namespace, in the
# background (RAW_PID), its output in $BENCH_DIR/NAME.out; waits up to 10 s
# for it to say it is listening. raw_server_stop ends it.
raw_server_start() {
	local out="$BENCH_DIR/$1.out" i
	shift
	# nsenter itself, not a function's subshell, so that $! is the server
	nsenter --net=/run/netns/$NS_S -- "$@" >"$out" 2>&1 &
	RAW_PID=$!
	for ((i = 0; i < 100; i++)); do grep -q listening "$out" && break; sleep 0.1; done
}

raw_server_stop() {
	kill "$RAW_PID" 2>/dev/null
	wait "$RAW_PID" 2>/dev/null
	RAW_PID=
}

# median_run K CMD...: runs CMD (which prints one line of "name value"
# pairs) BASE_RUNS times and prints the line of the run whose K-th field is
# the median, then "spread MIN-MAX" of that field over the runs that gave
# one. Nothing if none did.
median_run() {
	local k=$1 i
	shift
	for ((i = 0; i < BASE_RUNS; i++)); do
		"$@" 2>/dev/null | head -n 1
	done | awk -v k="$k" '$k ~ /^[0-9.]+$/' | sort -g -k"$k" |
		awk -v k="$k" '{ l[NR] = $0; v[NR] = $k }
			END { if (NR) print l[int((NR + 1) / 2)], "spread", v[1] "-" v[NR] }'
}

# raw_rates: sets VETH_GBPS (VETH_SPREAD) VETH_RTT50 VETH_RTT99 BUSY_RTT50
# BUSY_RTT99 LO_GBPS LO_RTT50 COPY_GBPS PAGE_COPY_US UFAULT50 UFAULT99, and
# pipe_floor's
raw_rates() {
	raw_server_start raw-serve "$WL/lazyraw" serve $RAW_PORT
	read -r _ VETH_GBPS _ VETH_SPREAD < <(median_run 2 in_d "$WL/lazyraw" bulk $IP_S $RAW_PORT 2048)
	read -r _ VETH_RTT50 _ VETH_RTT99 _ _ < <(median_run 2 in_d "$WL/lazyraw" rtt $IP_S $RAW_PORT 20000)
	# the same round trip, 500 us apart, while a raw stream fills the veth
	# (what a fault meets during a migration, without the migration)
	nsenter --net=/run/netns/$NS_D -- "$WL/lazyraw" bulk $IP_S $RAW_PORT 65536 >/dev/null 2>&1 &
	local busy=$!
	sleep 0.2
	read -r _ BUSY_RTT50 _ BUSY_RTT99 _ _ < <(median_run 2 in_d "$WL/lazyraw" rtt $IP_S $RAW_PORT 2000 500)
	kill "$busy" 2>/dev/null
	wait "$busy" 2>/dev/null
	read -r _ LO_GBPS _ _ < <(median_run 2 in_s "$WL/lazyraw" bulk 127.0.0.1 $RAW_PORT 2048)
	read -r _ LO_RTT50 _ _ _ _ < <(median_run 2 in_s "$WL/lazyraw" rtt 127.0.0.1 $RAW_PORT 20000)
	raw_server_stop
	WARM_GBPS=$("$WL/lazyraw" warm 1536 | awk '{ print $2 }')
	read -r _ COPY_GBPS _ PAGE_COPY_US _ _ < <(median_run 2 "$WL/lazyraw" uffd 1024)
	# a fault served at once by a thread of the same process: what the VM
	# charges a task for a userfault (trap, two wake-ups, the copy, the
	# retried access), without the network
	read -r _ UFAULT50 _ UFAULT99 _ _ < <(median_run 2 "$WL/lazyraw" ufault 2000 500)
	pipe_floor
	RTT_COPY=$(awk "BEGIN { printf \"%.1f\", $VETH_RTT50 + $PAGE_COPY_US }")
	RTT_UFAULT=$(awk "BEGIN { printf \"%.1f\", $VETH_RTT50 + $UFAULT50 }")
}

# pipe_floor: sets PIPE_GBPS (PIPE_SPREAD) PIPE_FAULT50 PIPE_FAULT99
# PIPE_GAP_FAULT50 PIPE_GAP_FAULT99. The migration's own copies and hops
# without skua (lazypipe): process_vm_readv from a stopped process, TCP over
# the veth, UFFDIO_COPY into another process; for a fault, its read from the
# userfaultfd and the request's round trip too. What this machine allows
# for that work. Faults back to back (as the round trip above, and as hog's
# chase the stream) and as serve's come, 1/RATE apart: a task that waits
# that long lets its vCPU halt, and waking a halted vCPU costs the waker
# 25-35 us on this guest (docs/lazy-migration.md).
pipe_floor() {
	raw_server_start pipe-source "$WL/lazypipe" source $RAW_PORT $PIPE_MIB
	"$WL/lazyraw" warm $((PIPE_MIB * 3 / 2)) >/dev/null
	read -r _ PIPE_GBPS _ PIPE_SPREAD < <(median_run 2 in_d "$WL/lazypipe" stream $IP_S $RAW_PORT $PIPE_MIB)
	read -r _ PIPE_FAULT50 _ PIPE_FAULT99 _ _ < <(median_run 2 in_d "$WL/lazypipe" fault $IP_S $RAW_PORT 2000 0)
	read -r _ PIPE_GAP_FAULT50 _ PIPE_GAP_FAULT99 _ _ < <(median_run 2 in_d "$WL/lazypipe" fault $IP_S $RAW_PORT 2000 \
		$((1000000 / RATE)))
	raw_server_stop
}
