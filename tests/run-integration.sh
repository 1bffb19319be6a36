#!/bin/bash
# Run the bats suite as root, in TAP form; print "integration-summary: N passed, N failed".
# BATS_FILES may name a subset; SKUA may point at another binary (./skua-asan).
cd "$(dirname "$0")/.." || exit 1
files=${BATS_FILES:-$(ls tests/integration/*.bats 2>/dev/null)}
if [ -z "$files" ]; then
	echo "integration-summary: 0 passed, 0 failed"; exit 0
fi
# A test that hangs fails after this many seconds instead of stalling the run.
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-300}
out=$(mktemp)
bats --tap $files 2>&1 | tee "$out"
pass=$(grep -c '^ok ' "$out"); fail=$(grep -c '^not ok ' "$out")
skip=$(grep -c '^ok .*# skip' "$out")
rm -f "$out"
echo "integration-summary: $((pass - skip)) passed, $fail failed, $skip skipped"
