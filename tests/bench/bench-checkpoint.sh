#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Container checkpoint downtime: a busybox container running memhog (64 MiB,
# 1 GiB, 4 GiB of random anonymous memory) is checkpointed (full, not lazy)
# and restored under the same name; the restored memhog then checks its
# checksum (verify column).
#
# Where the time goes, from the work dir's dump.log/restore.log (timestamps
# restart at each step log the runtime or the engine opens, so only
# differences within the engine's part are used) and stats-dump:
#   freeze     stats-dump freezing_time: stopping every task (cgroup freezer + seize)
#   dump       "stopped" -> "dump done": tree, files, cores, memory written
#   kill+thaw  "dump done" -> "tree killed": the source tasks killed, cgroup thawed
#   restore    restore.log "reading images" -> "detaching": the engine rebuilds the tree
#   resume     "detaching" -> "restored": the tasks let go (they run from here)
#   ckpt-wall, restore-wall: wall time of the two commands (CLI start, the
#              runtime's own freeze and extras, container teardown and creation)
#   downtime   ckpt-wall + restore-wall: from the checkpoint command's start
#              to the restored container running, an upper bound of the time
#              the workload is stopped (it keeps running until the freeze).
# Sizes that do not fit in available memory (memhog + its restored copy +
# page cache slack) or on the image directory's disk are skipped.
# BENCH_CKPT_SIZES overrides the list (MiB).
set -u
# standalone (not from run.sh): the same defaults, and our table is appended
# to build/bench/results.txt as run.sh would do
if [ -z "${BENCH_RESULTS:-}" ]; then
	SKUA_SRC=$(cd "$(dirname "$0")/../.." && pwd)
	export SKUA_SRC SKUA=${SKUA:-$SKUA_SRC/skua} BENCH_RESULTS=$SKUA_SRC/build/bench/results.txt
	mkdir -p "$SKUA_SRC/build/bench"
	bash "$0" "$@" 2>&1 | tee -a "$BENCH_RESULTS"
	exit "${PIPESTATUS[0]}"
fi
. "$(dirname "$0")/lib.sh"

SIZES=${BENCH_CKPT_SIZES:-64 1024 4096}
OWN_DIR=
if [ -z "${BENCH_DIR:-}" ]; then
	BENCH_DIR=$(mktemp -d /tmp/skua-bench-ckpt.XXXXXX) && OWN_DIR=$BENCH_DIR
fi
# others rebuild ./skua meanwhile (the shared tree): time a copy of it
cp "$SKUA" "$BENCH_DIR/skua-ckpt" && SKUA=$BENCH_DIR/skua-ckpt
ROOT=$BENCH_DIR/root-ckpt
ID=skua-bench-ckpt-$$
rc=0

cleanup() {
	"$SKUA" --root "$ROOT" delete -f "$ID" >/dev/null 2>&1
	rm -rf "$BENCH_DIR"/ckpt-*
}
trap 'cleanup; rmdir "$ROOT" 2>/dev/null; [ -n "$OWN_DIR" ] && rm -rf "$OWN_DIR"' EXIT
trap 'exit 130' INT TERM

avail_mib() { awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo; }
disk_mib() { df -Pm "$BENCH_DIR" | awk 'NR == 2 {print $4}'; }
ms() { awk "BEGIN {printf \"%.1f\", $1}"; }

# log_ts FILE REGEX [NTH]: the timestamp (s) of the last line matching REGEX.
log_ts() {
	awk -v re="$2" '$0 ~ re {gsub(/[()]/, "", $1); t = $1} END {if (t != "") print t}' "$1"
}

# diff_ms FILE RE_FROM RE_TO: ms between two lines of one log segment.
diff_ms() {
	local a b
	a=$(log_ts "$1" "$2") b=$(log_ts "$1" "$3")
	[ -n "$a" ] && [ -n "$b" ] || { echo n/a; return; }
	awk "BEGIN {printf \"%.1f\", ($b - $a) * 1000}"
}

declare -A row

wait_file() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

bench_size() {
	local mib=$1 d="$BENCH_DIR/ckpt-$1" t0 t1 t2 st show
	row=([freeze]=n/a [dump]=n/a [kill]=n/a [restore]=n/a [resume]=n/a [ckpt]=n/a
		[rst]=n/a [down]=n/a [verify]=n/a [note]="")
	bench_bundle "$d/bundle" "[\"memhog\", \"$mib\"]" || { row[note]="bundle failed"; return 1; }
	cp "$SKUA_SRC/build/workloads/memhog" "$d/bundle/rootfs/bin/memhog"
	jq '.root.readonly = false | .process.env += ["ZDTM_STATUS=/zdtm-status", "ZDTM_RESULT=/zdtm-result"]' \
		"$d/bundle/config.json" >"$d/c.json" && mv "$d/c.json" "$d/bundle/config.json"
	if ! "$SKUA" --root "$ROOT" run -d -b "$d/bundle" "$ID" </dev/null >"$d/run.out" 2>&1; then
		row[note]="run FAILED: $(tail -1 "$d/run.out")"
		return 1
	fi
	if ! wait_file "$d/bundle/rootfs/zdtm-status" 300; then
		row[note]="memhog did not get ready"
		return 1
	fi

	t0=${EPOCHREALTIME/./}
	if ! "$SKUA" --root "$ROOT" checkpoint --image-path "$d/img" --work-path "$d/work" "$ID" \
		>"$d/ckpt.out" 2>&1; then
		row[note]="checkpoint FAILED: $(tail -1 "$d/ckpt.out")"
		return 1
	fi
	t1=${EPOCHREALTIME/./}
	if ! "$SKUA" --root "$ROOT" restore -d -b "$d/bundle" --image-path "$d/img" --work-path "$d/work" \
		"$ID" </dev/null >"$d/restore.out" 2>&1; then
		row[note]="restore FAILED: $(tail -1 "$d/restore.out")"
		return 1
	fi
	t2=${EPOCHREALTIME/./}
	row[ckpt]=$(ms "($t1 - $t0) / 1000")
	row[rst]=$(ms "($t2 - $t1) / 1000")
	row[down]=$(ms "($t2 - $t0) / 1000")

	show=$("$SKUA" engine show --image-path "$d/work" 2>/dev/null)
	st=$(echo "$show" | jq -r '.["stats-dump"].dump.freezing_time // empty' 2>/dev/null)
	[[ $st =~ ^[0-9]+$ ]] && row[freeze]=$(ms "$st / 1000")
	row[dump]=$(diff_ms "$d/work/dump.log" "tree of pid .* stopped" "dump done")
	row[kill]=$(diff_ms "$d/work/dump.log" "dump done" "tree killed")
	row[restore]=$(diff_ms "$d/work/restore.log" "reading images" "detaching")
	row[resume]=$(diff_ms "$d/work/restore.log" "detaching" "restored [0-9]+ tasks")

	# a fast restore of wrong memory is no result: memhog checks its checksum
	"$SKUA" --root "$ROOT" kill "$ID" USR1 >/dev/null 2>&1
	wait_file "$d/bundle/rootfs/zdtm-result" 120
	st=$(cat "$d/bundle/rootfs/zdtm-result" 2>/dev/null)
	row[verify]=${st:-none}
	[ "$st" = PASS ] || row[note]="restored memhog: ${st:-no verdict}"
	[ "$st" = PASS ]
}

echo "== checkpoint downtime: container with memhog, checkpoint + restore (full), ms =="
fmt='%-8s %8s %9s %9s %9s %8s %9s %12s %9s %6s\n'
printf "$fmt" size freeze dump kill+thaw restore resume ckpt-wall restore-wall downtime verify
for mib in $SIZES; do
	need=$((mib * 2 + 512))
	if [ "$(avail_mib)" -lt "$need" ]; then
		printf '%-8s skipped: needs ~%d MiB available, %d MiB are\n' "${mib}MiB" "$need" "$(avail_mib)"
		continue
	fi
	if [ "$(disk_mib)" -lt $((mib + 512)) ]; then
		printf '%-8s skipped: needs ~%d MiB of disk for the images, %d MiB free\n' "${mib}MiB" \
			$((mib + 512)) "$(disk_mib)"
		continue
	fi
	bench_size "$mib" || rc=1
	printf "$fmt" "${mib}MiB" "${row[freeze]}" "${row[dump]}" "${row[kill]}" "${row[restore]}" \
		"${row[resume]}" "${row[ckpt]}" "${row[rst]}" "${row[down]}" "${row[verify]}"
	[ -n "${row[note]}" ] && echo "         ${row[note]}"
	cleanup
done
echo "downtime = ckpt-wall + restore-wall (the container is stopped from the freeze in the first to the end of the second)"
exit $rc
