#!/bin/bash
# The kernel's own selftest nft_conntrack_helper.sh (from the unpacked kernel source, run
# unmodified) with this module providing the "ftp" helper and the C helper not loaded.
. "$(dirname "$0")/lib.sh"

dir=$KERNEL_SRC/tools/testing/selftests/net/netfilter
[ -x "$dir/nft_conntrack_helper.sh" ] || [ -f "$dir/nft_conntrack_helper.sh" ] ||
	fail "no nft_conntrack_helper.sh under $dir"
loaded nf_conntrack_ftp && fail "the C helper is loaded"
insmod "$FTP_RS_KO" || fail "insmod"
out=$(cd "$dir" && bash ./nft_conntrack_helper.sh 2>&1)
rc=$?
echo "$out"
loaded nf_conntrack_ftp && fail "the selftest ran with the C helper loaded"
[ $rc = 0 ] || fail "nft_conntrack_helper.sh exited $rc"
echo "$out" | grep -q 'PASS: .* connection on port 2121 has ftp helper attached' ||
	fail "the selftest did not report the helper on port 2121"
echo "$out" | grep -q FAIL && fail "the selftest reported a failure"
rmmod nf_conntrack_ftp_rs || fail "rmmod"
