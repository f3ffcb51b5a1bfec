#!/bin/bash
# The oracle: the in-tree C helper (nf_conntrack_ftp + nf_nat_ftp) of the same kernel build
# loads and unloads, so differential tests can run it.
. "$(dirname "$0")/lib.sh"

insmod "$C_FTP_KO" ports=21,2121 || fail "insmod $C_FTP_KO"
insmod "$C_NAT_FTP_KO" || fail "insmod $C_NAT_FTP_KO"
expect_eq "C helper ports" 21,2121 "$(cat /sys/module/nf_conntrack_ftp/parameters/ports)"
rmmod nf_nat_ftp nf_conntrack_ftp || fail "rmmod of the C helper"
