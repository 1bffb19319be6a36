#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for tests/bench/bench-*.sh (sourced). run.sh exports:
#   SKUA_SRC (source tree), SKUA (binary), BENCH_DIR (scratch, removed after),
#   BENCH_RESULTS (results file), BENCH_RUNS (repetitions, default 30).
# BENCH_NO_HYPERFINE=1 forces our own timing loop.

BENCH_RUNS=${BENCH_RUNS:-30}
BENCH_WARMUP=${BENCH_WARMUP:-3}

# bench_bundle DIR ARGS_JSON: a bundle from build/rootfs running ARGS_JSON.
bench_bundle() {
	local dir=$1 args=$2
	mkdir -p "$dir"
	cp -a "$SKUA_SRC/build/rootfs" "$dir/rootfs"
	(cd "$dir" && runc spec) || return 1
	jq ".process.terminal = false | .process.args = $args" "$dir/config.json" >"$dir/c.json" &&
		mv "$dir/c.json" "$dir/config.json"
}

# bench_median_ms NAME CMD...: median wall time of CMD in ms (printed), with
# hyperfine when installed, else our own loop. Returns 1 if CMD fails.
bench_median_ms() {
	local name=$1 json="$BENCH_DIR/$1.json"
	shift
	if [ -z "${BENCH_NO_HYPERFINE:-}" ] && command -v hyperfine >/dev/null; then
		hyperfine -N --runs "$BENCH_RUNS" --warmup "$BENCH_WARMUP" --style none \
			--export-json "$json" -- "$(printf '%q ' "$@")" >"$BENCH_DIR/$name.log" 2>&1 || return 1
		jq -r '.results[0].median * 1000 | . * 100 | round / 100' "$json"
		return 0
	fi
	local i t0 t1 times=()
	for ((i = 0; i < BENCH_WARMUP; i++)); do "$@" >/dev/null 2>&1 || return 1; done
	for ((i = 0; i < BENCH_RUNS; i++)); do
		# $EPOCHREALTIME (bash 5) costs no fork, unlike date(1)
		t0=${EPOCHREALTIME/./}
		"$@" >/dev/null 2>&1 || return 1
		t1=${EPOCHREALTIME/./}
		times+=($((t1 - t0)))
	done
	printf '%s\n' "${times[@]}" | sort -n |
		awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.2f\n", m / 1000}'
}

# bench_ratio A B: A/B with two decimals, "n/a" if either is missing.
bench_ratio() {
	if [[ $1 =~ ^[0-9.]+$ && $2 =~ ^[0-9.]+$ ]] && awk "BEGIN{exit !($2 > 0)}"; then
		awk "BEGIN{printf \"%.2fx\", $1 / $2}"
	else
		echo "n/a"
	fi
}

# crun 1.8 refuses a hybrid host whose unified tree owns a controller; the
# only one there is hugetlb. Give it to a v1 mount for crun's runs only.
HUGETLB_V1=/sys/fs/cgroup/hugetlb

# Disable hugetlb in every subtree_control of the unified tree, deepest first.
bench_unified_drop_hugetlb() {
	local f
	[ -d /sys/fs/cgroup/unified ] || return 0
	find /sys/fs/cgroup/unified -depth -name cgroup.subtree_control 2>/dev/null | while read -r f; do
		grep -qw hugetlb "$f" && echo -hugetlb >"$f" 2>/dev/null
	done
	return 0
}

bench_hugetlb_mount() {
	mountpoint -q "$HUGETLB_V1" && return 0
	bench_unified_drop_hugetlb
	mkdir -p "$HUGETLB_V1" && mount -t cgroup -o hugetlb cgroup "$HUGETLB_V1"
}

# Unmount, and make sure the hierarchy is really gone so that hugetlb goes
# back to the unified tree: the kernel keeps an unmounted v1 hierarchy alive
# if a child cgroup is still being released at umount time; remount and
# unmount again once it is empty.
bench_hugetlb_umount() {
	local i
	for ((i = 0; i < 20; i++)); do
		if mountpoint -q "$HUGETLB_V1"; then
			find "$HUGETLB_V1" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
			sleep 0.2
			umount "$HUGETLB_V1" || return 1
		fi
		sleep 0.2
		# hierarchy id 0 in /proc/cgroups: hugetlb is back on the unified tree
		awk '$1 == "hugetlb" && $2 == 0 {f=1} END {exit !f}' /proc/cgroups && break
		mount -t cgroup -o hugetlb cgroup "$HUGETLB_V1" 2>/dev/null || break
	done
	rmdir "$HUGETLB_V1" 2>/dev/null
	awk '$1 == "hugetlb" && $2 == 0 {f=1} END {exit !f}' /proc/cgroups
}
