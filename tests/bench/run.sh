#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench: run every tests/bench/bench-*.sh in name order (bench-10-run.sh,
# later bench-20-checkpoint.sh, ...). Each prints its own table; all of it
# also goes to build/bench/results.txt.
set -u
cd "$(dirname "$0")/../.." || exit 1
export SKUA_SRC=$PWD
export SKUA=${SKUA:-$SKUA_SRC/skua}
export BENCH_RUNS=${BENCH_RUNS:-30}
mkdir -p build/bench
export BENCH_RESULTS=$SKUA_SRC/build/bench/results.txt
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root" >&2; exit 1; }
[ -x "$SKUA" ] || { echo "bench: $SKUA missing (make skua)" >&2; exit 1; }

{
	echo "skua benchmarks, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), kernel $(uname -r), $(nproc) cpus"
	echo "skua $(git -C "$SKUA_SRC" rev-parse --short HEAD 2>/dev/null); $(crun --version 2>/dev/null | head -1); $(runc --version 2>/dev/null | head -1)"
	echo "timer: $( [ -z "${BENCH_NO_HYPERFINE:-}" ] && command -v hyperfine >/dev/null && hyperfine --version || echo "own loop"), median of $BENCH_RUNS runs"
} | tee "$BENCH_RESULTS"

rc=0
for b in tests/bench/bench-*.sh; do
	[ -e "$b" ] || continue
	export BENCH_DIR
	BENCH_DIR=$(mktemp -d /tmp/skua-bench.XXXXXX)
	echo | tee -a "$BENCH_RESULTS"
	bash "$b" 2>&1 | tee -a "$BENCH_RESULTS"
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	rm -rf "$BENCH_DIR"
done
echo
echo "results written to $BENCH_RESULTS"
exit $rc
