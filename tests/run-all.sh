#!/bin/bash
# make check: unit tests, then the integration suite; one closing line that sums both.
cd "$(dirname "$0")/.." || exit 1
log=$(mktemp -d)
tests/run-unit.sh build/tests/test-* | tee "$log/unit"
tests/run-integration.sh | tee "$log/integration"
up=$(sed -n 's/^unit-summary: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$log/unit")
uf=$(sed -n 's/^unit-summary: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$log/unit")
ip=$(sed -n 's/^integration-summary: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$log/integration")
if_=$(sed -n 's/^integration-summary: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$log/integration")
sk=$(sed -n 's/^integration-summary: .* \([0-9]*\) skipped/\1/p' "$log/integration")
rm -rf "$log"
pass=$(( ${up:-0} + ${ip:-0} )); fail=$(( ${uf:-1} + ${if_:-1} ))
echo "${pass} passed, ${fail} failed, ${sk:-0} skipped"
[ "$fail" -eq 0 ]
