#!/bin/bash
# Module parameters: values, sysfs modes, and clear refusals of bad values.
. "$(dirname "$0")/lib.sh"
P=/sys/module/nf_conntrack_ftp_rs/parameters

dmesg_mark
insmod "$FTP_RS_KO" ports=21,2121 loose=1 || fail "insmod ports=21,2121 loose=1"
expect_eq "loose" Y "$(cat $P/loose)"
expect_eq "ports" 21,2121 "$(cat $P/ports)"
expect_eq "mode of loose" 600 "$(stat -c %a $P/loose)"
expect_eq "mode of ports" 400 "$(stat -c %a $P/ports)"
echo 0 >$P/loose || fail "writing loose through sysfs"
expect_eq "loose after writing 0" N "$(cat $P/loose)"
expect_fail "writing ports through sysfs" sh -c "echo 21 >$P/ports"
# A change of loose at run time is logged once, with both values; a write that changes
# nothing, the value given at load and a refused value are not (the load line shows it).
echo N >$P/loose && echo on >$P/loose || fail "writing loose N, then on"
expect_fail "writing loose=maybe" sh -c "echo maybe >$P/loose"
expect_eq "loose after a refused write" Y "$(cat $P/loose)"
expect_eq "loose change lines" "loose: Y -> N|loose: N -> Y" \
	"$(dmesg_since_mark | grep -o 'nf_conntrack_ftp_rs: loose: [YN] -> [YN]' | sed 's/^nf_conntrack_ftp_rs: //' | paste -sd'|')"
dmesg_since_mark | grep -qF "nf_conntrack_ftp_rs: loose: 'maybe' is not a boolean" ||
	fail "no error line for loose=maybe"
dmesg_since_mark | grep -qF 'nf_conntrack_ftp_rs: helper "ftp" registered for ports [21, 2121] (loose=Y,' ||
	fail "the load line does not name the ports"
echo "ok: loose changes logged once each, with the old and new value; the load line names the ports"

# The helpers' names, on every kernel (7.3 included, whose C registers only "ftp"): "ftp" on
# port 21, "ftp-<port>" elsewhere, each for IPv4 and IPv6; what nft's ct helper objects name.
helper_exists() { # NAME L3PROTO
	nft -f - 2>/dev/null <<NFT
table inet names {
	ct helper h { type "$1" protocol tcp; l3proto $2; }
}
NFT
	local rc=$?
	nft delete table inet names 2>/dev/null
	return $rc
}
for name in ftp ftp-2121; do
	for l3 in ip ip6; do
		helper_exists $name $l3 || fail "no helper $name for $l3"
	done
done
echo "ok: helpers ftp and ftp-2121 for ip and ip6"
helper_exists ftp-2122 ip && fail "a helper ftp-2122 exists without port 2122"
echo "ok: no helper ftp-2122"

rmmod nf_conntrack_ftp_rs || fail "rmmod"
loaded nf_conntrack_ftp_rs && fail "module still loaded after rmmod"

insmod "$FTP_RS_KO" || fail "insmod without parameters"
expect_eq "loose by default" N "$(cat $P/loose)"
dmesg | grep -qF "nf_conntrack_ftp_rs: helper \"ftp\" registered for ports [21] (loose=N, nat_ports=''), NAT helper \"ip_nat_ftp\", counters in /proc/net/nf_conntrack_ftp_rs" || fail "default port 21 not reported"
dmesg_mark
rmmod nf_conntrack_ftp_rs || fail "rmmod"
dmesg_since_mark | grep -qF 'nf_conntrack_ftp_rs: helper "ftp" unregistered from ports [21]' ||
	fail "the unload line does not name the ports"

# Refusals: each must fail, leave nothing loaded, and say why in the kernel log.
refuse() { # WHAT MESSAGE ARGS...
	local what=$1 msg=$2
	shift 2
	dmesg_mark
	expect_fail "$what" insmod "$FTP_RS_KO" "$@"
	loaded nf_conntrack_ftp_rs && fail "$what: module loaded anyway"
	dmesg_since_mark | grep -qF "$msg" || fail "$what: no '$msg' in the kernel log"
	echo "ok: $what logs '$msg'"
}
# The kernel's own messages quote as `value'.
bt='`' q="'"
refuse "9 ports" "ports: can only take 8 arguments" ports=1,2,3,4,5,6,7,8,9
refuse "port 0" "ports: 0 is not a valid port" ports=21,0
refuse "duplicate port" "ports: port 21 is given twice" ports=21,2121,21
refuse "port out of range" "${bt}65536${q} invalid for parameter ${bt}ports${q}" ports=65536
refuse "loose not a bool" "${bt}maybe${q} invalid for parameter ${bt}loose${q}" loose=maybe

# What the C does with the two values this module refuses (the README's differences table):
# it registers a helper on port 0 (named ftp-0), and a duplicate fails with a bare line. 7.3's
# C has no ports= (it registers "ftp" on 21 only).
if ! kernel_at_least 7 3; then
	dmesg_mark
	insmod "$C_FTP_KO" ports=21,0 || fail "the C helper refused ports=21,0"
	helper_exists ftp-0 ip || fail "the C helper loaded with ports=21,0 has no helper ftp-0"
	rmmod nf_conntrack_ftp || fail "rmmod nf_conntrack_ftp"
	expect_fail "the C helper with ports=21,2121,21" insmod "$C_FTP_KO" ports=21,2121,21
	loaded nf_conntrack_ftp && fail "the C helper loaded with a duplicate port"
	dmesg_since_mark | grep -q 'nf_conntrack_ftp: failed to register helpers' ||
		fail "no 'failed to register helpers' from the C helper"
	echo "ok: the C registers ftp-0 for ports=21,0 and fails on a duplicate with 'failed to register helpers'"
fi

insmod "$FTP_RS_KO" ports=1,2,3,4,5,6,7,8 || fail "insmod with 8 ports"
expect_eq "8 ports" 1,2,3,4,5,6,7,8 "$(cat $P/ports)"
rmmod nf_conntrack_ftp_rs || fail "rmmod"
