#!/bin/bash
# The oracle: the in-tree C helper (nf_conntrack_ftp + nf_nat_ftp) of the same kernel build
# loads and unloads, so differential tests can run it; and the two helpers exclude each
# other (same names, families and protocol), with a clear error.
. "$(dirname "$0")/lib.sh"

if kernel_at_least 7 3; then
	# 7.3's C helper has no ports= and registers one helper, "ftp".
	insmod "$C_FTP_KO" || fail "insmod $C_FTP_KO"
	[ -e /sys/module/nf_conntrack_ftp/parameters/ports ] && fail "7.3's C helper has ports="
else
	insmod "$C_FTP_KO" ports=21,2121 || fail "insmod $C_FTP_KO"
	expect_eq "C helper ports" 21,2121 "$(cat /sys/module/nf_conntrack_ftp/parameters/ports)"
fi
insmod "$C_NAT_FTP_KO" || fail "insmod $C_NAT_FTP_KO"
dmesg_mark
expect_fail "loading the Rust helper beside the C one" insmod "$FTP_RS_KO"
dmesg_since_mark | grep -q 'nf_conntrack_ftp_rs: failed to register helpers: helpers of these names are registered already (is nf_conntrack_ftp loaded?)' ||
	fail "no clear 'failed to register helpers' message in the kernel log"
echo "ok: the Rust helper refuses to load beside the C one, and says why"
rmmod nf_nat_ftp nf_conntrack_ftp || fail "rmmod of the C helper"
insmod "$FTP_RS_KO" || fail "insmod of the Rust helper after the C one left"
rmmod nf_conntrack_ftp_rs || fail "rmmod"
