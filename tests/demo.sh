#!/bin/bash
# `make demo`, inside the VM (scripts/vm-run loaded the module with ports=21,2121):
# a real FTP session through an nft firewall that admits data connections only as RELATED.
. "$(dirname "$0")/vm/lib.sh"
. "$(dirname "$0")/vm/net.sh"

say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }

say "modinfo nf_conntrack_ftp_rs.ko"
modinfo "$FTP_RS_KO" | grep -E '^(name|description|license|alias|parm):'
say "module parameters"
for p in /sys/module/nf_conntrack_ftp_rs/parameters/*; do
	echo "$(basename "$p") = $(cat "$p")"
done
dmesg | grep 'nf_conntrack_ftp_rs: helper' | sed 's/^\[[ 0-9.]*\] //'

trap topo_down EXIT
topo_up || fail "network set-up"
fw_up || fail "nft ruleset"
ftpd_start 21 || fail "vsftpd"
say "the router's firewall (client 10.0.1.2 -- router -- server 10.0.2.2 running vsftpd)"
$RT nft list ruleset

transfer() { # TITLE CURL-OPTIONS...
	local title=$1
	shift
	say "$title: curl $* ftp://10.0.2.2/file.bin"
	expect_events_start /tmp/demo-events
	if ftp_get ftp://10.0.2.2 "$@"; then
		echo "transfer: $FTP_FILE_SIZE bytes, content identical"
	else
		echo "transfer FAILED: $(cat /tmp/ftp-curl.err)"
	fi
	expect_events_stop
	echo "expectation the helper created (conntrack -E expect on the router):"
	grep NEW /tmp/demo-events | sed 's/^/  /'
}
transfer "passive (EPSV)"
transfer "active (EPRT)" -P -

pkill -x vsftpd
sleep 0.3
say "a scripted client sends PORT; the expectation, still pending (conntrack -L expect on the router)"
OUT=/tmp/demo-srv $SV python3 tests/vm/ftpctl.py server 21 'c:USER a\r\n' 's:331 ok\r\n' \
	'c:PORT 10,0,1,2,39,16\r\n' 's:200 ok\r\n' &
sleep 0.5
OUT=/tmp/demo-cli WHILE_OPEN="ip netns exec ftp-rt conntrack -L expect" $CL python3 \
	tests/vm/ftpctl.py client 10.0.2.2 21 'c:USER a\r\n' 's:331 ok\r\n' 'c:PORT 10,0,1,2,39,16\r\n' 's:200 ok\r\n'
wait

say "what the helper counted in the router's namespace (cat /proc/net/nf_conntrack_ftp_rs)"
$RT cat /proc/net/nf_conntrack_ftp_rs

say "without the helper the same passive transfer is blocked"
ftpd_start 21 || fail "vsftpd"
fw_up none
ftp_get ftp://10.0.2.2 && echo "transfer passed (unexpected)" || echo "transfer blocked: $(cat /tmp/ftp-curl.err)"
fw_down
rmmod nf_conntrack_ftp_rs && say "rmmod nf_conntrack_ftp_rs: done"
dmesg | grep 'nf_conntrack_ftp_rs: helper "ftp" unregistered' | sed 's/^\[[ 0-9.]*\] //'
