#!/bin/bash
# Run each unit test binary (TAP); print the TAP and a summary line
# "unit: N passed, N failed" that run-all.sh adds up.
pass=0 fail=0
for t in "$@"; do
	echo "# unit: $t"
	out=$("$t" 2>&1); rc=$?
	echo "$out"
	p=$(grep -c '^ok ' <<<"$out"); f=$(grep -c '^not ok ' <<<"$out")
	# a crash or a bad exit without a failing line still counts as a failure
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $t exited $rc"; fi
	pass=$((pass + p)); fail=$((fail + f))
done
echo "unit-summary: $pass passed, $fail failed"
