#!/bin/bash
# The module's KUnit suites run when it is loaded; their KTAP must report every case ok.
. "$(dirname "$0")/lib.sh"

if [ ! -d /sys/kernel/debug/kunit ]; then
	echo "skipped: this kernel ($VM_KERNEL) has no KUnit (CONFIG_KUNIT off, as Debian's stock kernels); the project kernel runs the suites"
	exit 77
fi
insmod "$FTP_RS_KO" ports=21,2121 || fail "insmod"
# Every suite the sources declare must have run, by name (a suite compiled out or not
# registered would otherwise pass unnoticed).
results=()
suites=$(sed -n 's/^#\[kunit_tests(\([a-z0-9_]*\))\]$/\1/p' ./*.rs nf/*.rs tests/*.rs | paste -sd' ')
[ -n "$suites" ] || fail "no #[kunit_tests(…)] suite found in the sources"
for s in $suites; do
	r=/sys/kernel/debug/kunit/$s/results
	[ -f "$r" ] || fail "KUnit suite $s did not run (no $r)"
	results+=("$r")
done
# And no suite of the module that the list above does not name (one in a file it misses).
for d in /sys/kernel/debug/kunit/nf_conntrack_ftp_rs*/; do
	s=$(basename "$d")
	[[ " $suites " == *" $s "* ]] || fail "KUnit suite $s ran but is not in the sources' list"
done
echo "suites: $suites"
mkdir -p "$VM_OUT/kunit"
for r in "${results[@]}"; do
	cp "$r" "$VM_OUT/kunit/$(basename "$(dirname "$r")").ktap"
done
rmmod nf_conntrack_ftp_rs || fail "rmmod"
scripts/ktap-summary "$VM_OUT"/kunit/*.ktap
