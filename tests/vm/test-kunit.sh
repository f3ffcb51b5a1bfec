#!/bin/bash
# The module's KUnit suites run when it is loaded; their KTAP must report every case ok.
. "$(dirname "$0")/lib.sh"

if [ ! -d /sys/kernel/debug/kunit ]; then
	echo "skipped: this kernel ($VM_KERNEL) has no KUnit (CONFIG_KUNIT off, as Debian's stock kernels); the project kernel runs the suites"
	exit 77
fi
insmod "$FTP_RS_KO" ports=21,2121 || fail "insmod"
results=()
for d in /sys/kernel/debug/kunit/nf_conntrack_ftp_rs*/; do
	[ -f "$d/results" ] && results+=("$d/results")
done
[ ${#results[@]} -gt 0 ] || fail "no KUnit suite of the module under /sys/kernel/debug/kunit"
mkdir -p "$VM_OUT/kunit"
for r in "${results[@]}"; do
	cp "$r" "$VM_OUT/kunit/$(basename "$(dirname "$r")").ktap"
done
rmmod nf_conntrack_ftp_rs || fail "rmmod"
scripts/ktap-summary "$VM_OUT"/kunit/*.ktap
