#!/bin/bash
# Unloading the helper while a control connection and its expectation are live, with the C
# helper and with this module: the expectation goes, the connection carries on, nothing
# splats (scripts/vm-run checks the console), and the module loads again. What conntrack
# shows after the unload must be the same for both (upstream 7.2 still lists the
# connection with helper=ftp: the help extension only goes stale).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"

STEPS=('c:USER a\r\n' 's:331 ok\r\n' 'c:PORT 10,0,1,2,39,16\r\n' 's:200 ok\r\n'
	'c:@wait:/tmp/unload.done' 'c:NOOP\r\n')

# unload_live IMPL MODULE: prints what conntrack shows before and after the unload.
unload_live() {
	local impl=$1 module=$2
	rm -rf /tmp/unload.done /tmp/srv /tmp/ctl-sync
	$RT conntrack -F >/dev/null 2>&1
	helper_load "$impl" ports=21,2121 || fail "$impl: loading"
	fw_up || fail "$impl: nft ruleset"
	OUT=/tmp/srv $SV python3 tests/vm/ftpctl.py server 21 "${STEPS[@]}" &
	wait_listening ftp-sv 21 || fail "$impl: the scripted server does not listen"
	OUT=/tmp/cli $CL python3 tests/vm/ftpctl.py client 10.0.2.2 21 "${STEPS[@]}" &
	local cli=$! i
	# Until the PORT command went through (slow kernels take their time).
	for i in $(seq 600); do
		[ "$(expectations)" -gt 0 ] && break
		sleep 0.1
	done
	echo "before: $(expectations) expectations"
	echo "before: $($RT conntrack -L 2>/dev/null | grep -c 'helper=ftp') connections with helper=ftp"
	fw_down
	[ "$impl" = c ] && rmmod nf_nat_ftp
	rmmod "$module" && echo "rmmod: ok"
	echo "after: $(expectations) expectations"
	echo "after: $($RT conntrack -L 2>/dev/null | grep -c 'helper=ftp') connections with helper=ftp"
	echo "after: $($RT conntrack -L 2>/dev/null | grep -c 'dport=21 ') control connections"
	touch /tmp/unload.done
	wait $cli
	wait
	grep -q NOOP /tmp/srv && echo "after: the connection carries on"
}

trap topo_down EXIT
topo_up || fail "network set-up"
c=$(unload_live c nf_conntrack_ftp)
rust=$(unload_live rust nf_conntrack_ftp_rs)
echo "C:"
echo "$c"
echo "Rust:"
echo "$rust"
echo "$rust" | grep -q 'before: 1 expectations' || fail "no live expectation before unloading"
echo "$rust" | grep -q 'rmmod: ok' || fail "rmmod with a live expectation failed"
echo "$rust" | grep -q 'after: 0 expectations' || fail "an expectation survived the unload"
echo "$rust" | grep -q 'after: the connection carries on' || fail "the connection stopped after the unload"
[ "$c" = "$rust" ] || fail "C and Rust differ"
echo "ok: same as C"

insmod "$FTP_RS_KO" ports=21,2121 || fail "reload after unloading with live state"
fw_up || fail "nft ruleset after reload"
rmmod nf_conntrack_ftp_rs 2>/dev/null && fail "rmmod succeeded while nft holds the helper"
fw_down
rmmod nf_conntrack_ftp_rs || fail "rmmod after reload"
echo "ok: reload, and unload refused while nft uses the helper"
