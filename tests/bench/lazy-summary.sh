#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The table rows of bench-lazy.sh (sourced by it). Each migration left one
# record in $BENCH_DIR/runs-MODE.txt:
#   MiB ready down bound total faults p50 p99 bg task-p50 task-p99
# ("n/a" where a figure is missing). A row takes each column's median over
# the size's runs on its own, and the ratios from those medians and the
# baselines (lazy-baselines.sh).

# col_values FILE MIB K: the numbers in column K of MIB's records, sorted.
col_values() {
	awk -v m="$2" -v k="$3" '$1 == m && $k ~ /^[0-9.]+$/ { print $k }' "$1" | sort -g
}

# col_median FILE MIB K: their median; the lower middle one of an even
# count, a figure that was measured. "n/a" if there is none.
col_median() {
	col_values "$@" | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "n/a" }'
}

# col_max FILE MIB K: the largest of them.
col_max() {
	col_values "$@" | tail -n 1
}

# lazy_row MODE MIB: prints MIB's table row from its records, appends the
# same medians to the mode's plot data.
lazy_row() {
	local mode=$1 mib=$2 f="$BENCH_DIR/runs-$1.txt" n
	n=$(awk -v m="$mib" '$1 == m' "$f" | wc -l)
	if [ "$n" = 0 ]; then
		echo "| $mib MiB | failed: no migration finished |"
		return 0
	fi
	local ready down bound total faults p50 p99 bg t50 t99 c
	ready=$(col_median "$f" "$mib" 2) down=$(col_median "$f" "$mib" 3)
	bound=$(col_median "$f" "$mib" 4) total=$(col_median "$f" "$mib" 5)
	faults=$(col_median "$f" "$mib" 6) bg=$(col_median "$f" "$mib" 9)
	t50=$(col_median "$f" "$mib" 10) t99=$(col_median "$f" "$mib" 11)
	# a handful of faults (the stream ran ahead of the workload) gives a
	# p50 that is one fault's, often the task's first: when the median run
	# had so few, the p50 is shown but not compared
	local r_copy r_pipe few=
	p50=$(col_median "$f" "$mib" 7) p99=$(col_median "$f" "$mib" 8)
	[ "$p50" = n/a ] || [ "$faults" -ge "$MIN_FAULTS" ] || few=1
	# serve's faults come 1/RATE apart, and so do the floor's it is held to
	local floor=$PIPE_FAULT50
	[ "$mode" != serve ] || floor=$PIPE_GAP_FAULT50
	r_copy=$(bench_ratio "$p50" "$RTT_COPY") r_pipe=$(bench_ratio "$p50" "$floor")
	[ -z "$few" ] || r_copy="n/a (<$MIN_FAULTS)" r_pipe="n/a (<$MIN_FAULTS)"
	c=$down
	[ "$n" -lt 2 ] || c="$down ($(col_max "$f" "$mib" 3))"
	printf '| %5s MiB | %8s | %8s | %8s | %9s | %7s | %6s / %6s | %6s | %s | %s | %s | %s | %5s / %5s | %s |\n' "$mib" \
		"$ready" "$c" "$bound" "$total" "$faults" "$p50" "$p99" \
		"$bg" "$(bench_ratio "$bg" "$VETH_GBPS")" "$(bench_ratio "$bg" "$PIPE_GBPS")" \
		"$r_copy" "$r_pipe" "$t50" "$t99" "$(bench_ratio "$t50" "$RTT_UFAULT")"
	echo "$mib $down $total $bg $p50 $p99 $bound" >>"$BENCH_DIR/plot-$mode.dat"
}
