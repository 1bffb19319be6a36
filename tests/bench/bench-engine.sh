#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Engine throughput: `skua engine dump` and `skua engine restore` of memhog
# (64 MiB, 1 GiB, 4 GiB of random anonymous memory) against the raw rate of
# reading and writing that memory through /proc/PID/mem, measured in the same
# run by build/workloads/rawmem (read: memhog's area; write: the same bytes
# into fresh pages of another process, which is what a restore does).
# Dump rate = MiB / wall time of the dump command, restore likewise; the
# frozen time comes from stats-dump (`skua engine show`), else "n/a".
# Sizes that do not fit in available memory (memhog + images + the restored
# copy + rawmem's buffer) are skipped. BENCH_ENGINE_SIZES overrides the list
# (MiB).
set -u
. "$(dirname "$0")/lib.sh"

SIZES=${BENCH_ENGINE_SIZES:-64 1024 4096}
WL=$SKUA_SRC/build/workloads
OWN_DIR=
if [ -z "${BENCH_DIR:-}" ]; then
	BENCH_DIR=$(mktemp -d /tmp/skua-bench-engine.XXXXXX) && OWN_DIR=$BENCH_DIR
fi
MH_PID=
R_PID=
R_REAPER=
rc=0

cleanup() {
	[ -n "$MH_PID" ] && kill -9 "$MH_PID" 2>/dev/null
	[ -n "$R_PID" ] && [ -e "/proc/$R_PID" ] && kill -9 "$R_PID" 2>/dev/null
	kill_reaper
	rm -rf "$BENCH_DIR"/engine-*
}
trap 'cleanup; [ -n "$OWN_DIR" ] && rm -rf "$OWN_DIR"' EXIT
trap 'exit 130' INT TERM

# The restored tree's pid 1 is a skua reaper; kill it only if it is that.
kill_reaper() {
	[ -n "$R_REAPER" ] && [ -e "/proc/$R_REAPER" ] || return 0
	[ "$(readlink "/proc/$R_REAPER/exe")" = "$(readlink -f "$SKUA")" ] || return 0
	[ "$(awk '/^NSpid:/ {print $NF}' "/proc/$R_REAPER/status")" = 1 ] && kill -9 "$R_REAPER"
	R_REAPER=
}

now_ns() { date +%s%N; }

# gbps BYTES NS
gbps() { awk "BEGIN { if ($2 > 0) printf \"%.2f\", $1 / $2; else print \"n/a\" }"; }

avail_mib() { awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo; }

gone() {
	local st
	st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)
	[ -z "$st" ] || [ "$st" = Z ]
}

wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		gone "$1" && return 0
		sleep 0.1
	done
	return 1
}

declare -A row

# bench_size MIB: fills row[...] for one size.
bench_size() {
	local mib=$1 d="$BENCH_DIR/engine-$1" bytes=$(($1 << 20)) i t0 t1 raw st
	row=([raw_read]=n/a [raw_write]=n/a [dump]=n/a [dump_s]=n/a [restore]=n/a
		[restore_s]=n/a [frozen]=n/a [verify]=n/a [note]="")
	mkdir -p "$d/wd"
	(
		cd "$d/wd" || exit 1
		for fd in /proc/self/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done
		export ZDTM_STATUS=$d/wd/status ZDTM_RESULT=$d/wd/result ZDTM_DIR=$d/wd
		exec setsid "$WL/memhog" "$mib"
	) </dev/null >"$d/wd/out" 2>"$d/wd/err" &
	MH_PID=$!
	disown "$MH_PID"	# no "Killed" job report when the dump ends it
	for ((i = 0; i < 1200; i++)); do
		grep -qx ready "$d/wd/status" 2>/dev/null && break
		gone "$MH_PID" && break
		sleep 0.1
	done
	if ! grep -qx ready "$d/wd/status" 2>/dev/null; then
		row[note]="memhog did not get ready"
		return 1
	fi

	# the machine is shared: take the best of a few raw runs (one for big sizes)
	raw=
	for ((i = 0; i < (mib > 1024 ? 1 : 3); i++)); do
		raw+=$("$WL/rawmem" "$MH_PID" 2>&1)$'\n'
	done
	row[raw_read]=$(echo "$raw" | awk '/^rawmem/ && $5 > m {m = $5} END {if (m) printf "%.2f", m}')
	row[raw_write]=$(echo "$raw" | awk '/^rawmem/ && $9 > m {m = $9} END {if (m) printf "%.2f", m}')
	[ -n "${row[raw_read]}" ] || row[raw_read]=n/a
	[ -n "${row[raw_write]}" ] || row[raw_write]=n/a

	t0=$(now_ns)
	if ! "$SKUA" engine dump --pid "$MH_PID" --image-path "$d/img" >"$d/dump.out" 2>&1; then
		row[note]="dump FAILED: $(tail -1 "$d/dump.out")"
		return 1
	fi
	t1=$(now_ns)
	MH_PID=
	row[dump_s]=$(awk "BEGIN {printf \"%.3f\", ($t1 - $t0) / 1e9}")
	row[dump]=$(gbps "$bytes" $((t1 - t0)))
	row[frozen]=$("$SKUA" engine show --image-path "$d/img" 2>/dev/null |
		jq -r '.["stats-dump"].dump.frozen_time // empty | . / 1000 | . * 10 | round / 10' 2>/dev/null)
	[ -n "${row[frozen]}" ] || row[frozen]=n/a

	t0=$(now_ns)
	if ! "$SKUA" engine restore --image-path "$d/img" -d --pid-file "$d/restored.pid" \
		</dev/null >"$d/restore.out" 2>&1; then
		row[note]="restore FAILED: $(tail -1 "$d/restore.out")"
		return 1
	fi
	t1=$(now_ns)
	row[restore_s]=$(awk "BEGIN {printf \"%.3f\", ($t1 - $t0) / 1e9}")
	row[restore]=$(gbps "$bytes" $((t1 - t0)))
	R_PID=$(cat "$d/restored.pid" 2>/dev/null)
	if ! [[ $R_PID =~ ^[0-9]+$ ]] || [ ! -e "/proc/$R_PID" ]; then
		row[note]="no restored process"
		return 1
	fi
	R_REAPER=$(awk '/^PPid:/ {print $2}' "/proc/$R_PID/status")

	# the restored memhog checks its checksum: a fast restore of wrong memory is no result
	kill -USR1 "$R_PID"
	wait_gone "$R_PID" 120
	st=$(cat "$d/wd/result" 2>/dev/null)
	row[verify]=${st:-none}
	[ "$st" = PASS ] || row[note]="restored memhog: ${st:-no verdict}"
	R_PID=
	kill_reaper
	[ "$st" = PASS ]
}

echo "== engine: dump and restore of memhog vs raw /proc/PID/mem (GB/s = 1e9 bytes/s) =="
printf '%-9s %9s %9s %7s %7s %9s %9s %9s %7s %10s %7s\n' size raw-read dump dump-s ratio \
	raw-write restore restore-s ratio frozen-ms verify
for mib in $SIZES; do
	need=$((mib * 3 + 512))
	if [ "$(avail_mib)" -lt "$need" ]; then
		printf '%-9s skipped: needs ~%d MiB available, %d MiB are\n' "${mib}MiB" "$need" "$(avail_mib)"
		continue
	fi
	bench_size "$mib" || rc=1
	printf '%-9s %9s %9s %7s %7s %9s %9s %9s %7s %10s %7s\n' "${mib}MiB" "${row[raw_read]}" \
		"${row[dump]}" "${row[dump_s]}" "$(bench_ratio "${row[dump]}" "${row[raw_read]}")" "${row[raw_write]}" \
		"${row[restore]}" "${row[restore_s]}" \
		"$(bench_ratio "${row[restore]}" "${row[raw_write]}")" "${row[frozen]}" "${row[verify]}"
	[ -n "${row[note]}" ] && echo "          ${row[note]}"
	[ "$mib" = 1024 ] && frozen_1g=${row[frozen]} dump_1g=${row[dump_s]}
	cleanup
done
echo "dump wall time of 1 GiB: ${dump_1g:-n/a} s; frozen (stats-dump): ${frozen_1g:-n/a} ms"
echo "raw-write is into fresh pages of another process (every page faulted in), as a restore writes"
exit $rc
