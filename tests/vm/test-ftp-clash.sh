#!/bin/bash
# Two control connections announce the same data connection (PORT to the same client
# port): the second expectation clashes with the first one's, so the helper drops the second
# PORT and logs "cannot add expectation" — with the C helper and with this module alike.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"

CTL="python3 $PWD/tests/vm/ftpctl.py"
FIRST=('c:USER a\r\n' 's:331 ok\r\n' 'c:PORT 10,0,1,2,39,16\r\n' 's:200 ok\r\n' 'c:@wait:/tmp/clash.done')
SECOND=('c:USER b\r\n' 's:331 ok\r\n' 'c:PORT 10,0,1,2,39,16\r\n')

# clash IMPL: prints the expectations, whether the second PORT arrived, and the helper log.
clash() {
	local impl=$1 i
	rm -rf /tmp/clash.done /tmp/clash-srv2 /tmp/clash-sync1 /tmp/clash-sync2
	helper_load "$impl" ports=21,2121 || fail "$impl: loading"
	fw_up || fail "$impl: nft ruleset"
	$RT conntrack -F >/dev/null 2>&1
	SYNC=/tmp/clash-sync1 OUT=/tmp/clash-srv1 $SV $CTL server 21 "${FIRST[@]}" &
	SYNC=/tmp/clash-sync2 OUT=/tmp/clash-srv2 $SV $CTL server 2121 "${SECOND[@]}" &
	wait_listening ftp-sv 21 && wait_listening ftp-sv 2121 || fail "$impl: the scripted servers do not listen"
	SYNC=/tmp/clash-sync1 OUT=/tmp/clash-cli1 $CL $CTL client 10.0.2.2 21 "${FIRST[@]}" &
	for i in $(seq 600); do
		[ "$(expectations)" -gt 0 ] && break
		sleep 0.1
	done
	dmesg_mark
	SYNC=/tmp/clash-sync2 OUT=/tmp/clash-cli2 $CL $CTL client 10.0.2.2 2121 "${SECOND[@]}"
	echo "expectations: $(expectations)"
	grep -q 'PORT' /tmp/clash-srv2 && echo "second PORT: delivered" || echo "second PORT: dropped"
	echo "log: $(helper_drops_since_mark)"
	[ "$impl" = rust ] && rs_counter ftp-rt expect_add_failed >/tmp/clash-counter
	touch /tmp/clash.done
	wait
	helper_unload
}

trap topo_down EXIT
topo_up || fail "network set-up"
c=$(clash c)
rust=$(clash rust)
printf 'C:\n%s\nRust:\n%s\n' "$c" "$rust"
echo "$rust" | grep -q 'expectations: 1' || fail "expected exactly the first connection's expectation"
echo "$rust" | grep -q 'second PORT: dropped' || fail "the clashing PORT was not dropped"
echo "$rust" | grep -q "helper $HELPER_2121 dropping packet: cannot add expectation" ||
	fail "no 'cannot add expectation' log"
[ "$c" = "$rust" ] || fail "C and Rust differ"
expect_eq "the module's expect_add_failed counter moved" yes "$([ "$(cat /tmp/clash-counter)" -ge 1 ] && echo yes)"
echo "ok: same as C"
