#!/bin/bash
# Runs in the guest for `make demo` (the module is already loaded by scripts/vm-run).
set -e
echo
echo "# modinfo $FTP_RS_KO"
modinfo "$FTP_RS_KO" | grep -E '^(name|description|license|alias|parm):'
echo
echo "# lsmod | grep nf_conntrack_ftp_rs"
grep '^nf_conntrack_ftp_rs ' /proc/modules
echo
for p in /sys/module/nf_conntrack_ftp_rs/parameters/*; do
	echo "# cat $p"
	cat "$p"
done
echo
echo "# dmesg | grep nf_conntrack_ftp_rs"
dmesg | grep 'nf_conntrack_ftp_rs' | grep -v '^\s*$' | grep -v '    ok\|# ' || true
echo
echo "# rmmod nf_conntrack_ftp_rs"
rmmod nf_conntrack_ftp_rs
dmesg | tail -1
