#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Time `run` of a container executing /bin/true under skua, crun and runc,
# each with its own bundle (same config) and state root.
set -u
. "$(dirname "$0")/lib.sh"

declare -A bin=([skua]=$SKUA [crun]=$(command -v crun) [runc]=$(command -v runc))
declare -A med

cleanup() {
	bench_hugetlb_umount >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

time_runtime() {
	local rt=$1 b root id out
	b="$BENCH_DIR/bundle-$rt" root="$BENCH_DIR/root-$rt" id="skua-bench-run-$rt"
	if [ -z "${bin[$rt]}" ] || [ ! -x "${bin[$rt]}" ]; then
		med[$rt]="not installed"
		return
	fi
	bench_bundle "$b" '["/bin/true"]' || { med[$rt]="bundle failed"; return; }
	# one checked run first: a runtime that fails is reported, not timed
	if ! out=$("${bin[$rt]}" --root "$root" run -b "$b" "$id" 2>&1); then
		med[$rt]="FAILED: $(echo "$out" | tail -1)"
		"${bin[$rt]}" --root "$root" delete -f "$id" >/dev/null 2>&1
		return
	fi
	med[$rt]=$(bench_median_ms "run-$rt" "${bin[$rt]}" --root "$root" run -b "$b" "$id") ||
		med[$rt]="FAILED during timing"
	"${bin[$rt]}" --root "$root" delete -f "$id" >/dev/null 2>&1
}

time_runtime skua
time_runtime runc
# crun last, with hugetlb moved to v1 and back right after.
if bench_hugetlb_mount; then
	time_runtime crun
	bench_hugetlb_umount || med[crun]="${med[crun]} (warning: hugetlb could not be returned to the unified tree)"
else
	med[crun]="skipped: could not mount hugetlb as v1 (needed by crun on a hybrid host)"
fi

echo "== run: container executing /bin/true, median wall time of $BENCH_RUNS runs =="
printf '%-8s %s\n' runtime "median (ms)"
for rt in skua crun runc; do
	printf '%-8s %s\n' "$rt" "${med[$rt]}"
done
printf 'ratio    skua/crun %s   skua/runc %s\n' "$(bench_ratio "${med[skua]}" "${med[crun]}")" \
	"$(bench_ratio "${med[skua]}" "${med[runc]}")"
[[ ${med[skua]} =~ ^[0-9.]+$ ]]
