#!/bin/bash
# nat_ports: the client network masqueraded to ports 2000-2010 (as with a CGNAT port block).
# Without nat_ports the data connections' ports fall outside the block, with C and with this
# module alike (7.2's nf_nat_ftp ignores the range); with nat_ports=2000-2010 (written at run
# time) the port announced for active FTP and the source port of passive data connections lie
# inside it. Then: the parameter refuses bad values (load time and run time), and a range of
# one port with two sessions at once gives "all ports in use", the packet dropped, nothing
# leaked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"

PARAM=/sys/module/nf_conntrack_ftp_rs/parameters/nat_ports
CTL="python3 $PWD/tests/vm/ftpctl.py"
FIRST=2000 LAST=2010
CASES=(
	"v4 port|ftp://10.0.2.2|-P - --disable-eprt|active"
	"v6 eprt|ftp://[fd00:2::2]|-P -|active"
	"v4 pasv|ftp://10.0.2.2|--disable-epsv|passive"
	"v6 epsv|ftp://[fd00:2::2]||passive"
)

trap 'capture_kill; topo_down; helper_unload' EXIT
topo_up || fail "network set-up"
ftpd_start 21 || fail "vsftpd on 21"

# The data connection's port on the server's side of the NAT: for active FTP the port the
# server was told (PORT/EPRT as captured on the server's link), for passive FTP the source
# port the router gave the data connection (its conntrack entry's reply tuple).
data_port() {
	local kind=$1
	if [ "$kind" = active ]; then
		grep -aoE '^(PORT [0-9,]+|EPRT \|[12]\|[0-9a-f:.]+\|[0-9]+\|)' /tmp/ftp-cap-sv | head -1 |
			sed -E 's/^PORT [0-9]+,[0-9]+,[0-9]+,[0-9]+,([0-9]+),([0-9]+)$/\1 \2/; s/^EPRT .*\|([0-9]+)\|$/0 \1/' |
			awk '{print $1 * 256 + $2}'
	else
		{
			$RT conntrack -L -p tcp -f ipv4
			$RT conntrack -L -p tcp -f ipv6
		} 2>/dev/null | grep -E ' dport=30[0-9]{3} ' | head -1 | grep -oE 'dport=[0-9]+' | tail -1 | cut -d= -f2
	fi
}

# run_cases LABEL: each case once; RESULT[LABEL,case] = "ok, inside|outside" (or FAIL).
declare -A RESULT
run_cases() {
	local c name url opts kind r port
	capture_start sv
	for c in "${CASES[@]}"; do
		IFS='|' read -r name url opts kind <<<"$c"
		$RT conntrack -F 2>/dev/null
		capture_mark
		r=ok
		# shellcheck disable=SC2086
		ftp_get "$url" $opts || r="FAIL($(head -c 60 /tmp/ftp-curl.err | tr '\n' ' '))"
		capture_cut
		port=$(data_port $kind)
		if [ -z "$port" ]; then
			r="$r, no port found"
		elif [ "$port" -ge $FIRST ] && [ "$port" -le $LAST ]; then
			r="$r, inside"
		else
			r="$r, outside"
		fi
		RESULT[$1,$name]=$r
		echo "$1: $name: $r ($port)"
	done
	capture_stop
}

# The firewall of net.sh and masquerade to the port block (the helper loaded first: the
# ruleset names its helpers).
rulesets() {
	fw_up && nat_up snat-ports $FIRST-$LAST || fail "rulesets"
}

helper_load c ports=21,2121 || fail "loading the C helper"
rulesets
run_cases c
helper_unload

helper_load rust ports=21,2121 || fail "loading the module"
rulesets
expect_eq "nat_ports by default" "" "$(cat $PARAM)"
run_cases rust
echo "$FIRST-$LAST" >$PARAM || fail "writing nat_ports"
expect_eq "nat_ports after writing it" "$FIRST-$LAST" "$(cat $PARAM)"
dmesg | grep -q "nat_ports: '' -> '$FIRST-$LAST'" || fail "the change of nat_ports is not logged"
run_cases rust-range

bad=0
printf '%-8s | %-18s | %-18s | %s\n' case C "Rust" "Rust, nat_ports=$FIRST-$LAST"
for c in "${CASES[@]}"; do
	name=${c%%|*}
	printf '%-8s | %-18s | %-18s | %s\n' "$name" "${RESULT[c,$name]}" "${RESULT[rust,$name]}" "${RESULT[rust-range,$name]}"
	[ "${RESULT[c,$name]}" = "${RESULT[rust,$name]}" ] || bad=$((bad + 1))
	[ "${RESULT[rust-range,$name]}" = "ok, inside" ] || bad=$((bad + 1))
	# Without the range the data port falls outside it (else the test proves nothing).
	[ "${RESULT[rust,$name]}" = "ok, outside" ] || bad=$((bad + 1))
done
[ $bad = 0 ] || fail "$bad results differ from what is expected"

# The parameter refuses what is not a range, and keeps its value.
for v in 0 70000 10-5 abc 1-2-3 "-5"; do
	if echo "$v" >$PARAM 2>/dev/null; then fail "nat_ports accepted '$v'"; fi
	expect_eq "nat_ports after refusing '$v'" "$FIRST-$LAST" "$(cat $PARAM)"
done
dmesg | grep -q "nat_ports: '10-5' is not a port range" || fail "no error line for a bad nat_ports"
echo >$PARAM || fail "clearing nat_ports"
expect_eq "nat_ports cleared" "" "$(cat $PARAM)"
helper_unload
expect_fail "insmod with nat_ports=9-8" insmod "$FTP_RS_KO" nat_ports=9-8
loaded nf_conntrack_ftp_rs && fail "the module loaded with a bad nat_ports"

# A range of one port, two active sessions at once: the first holds the port with its
# expectation, the second gets "all ports in use" and its PORT is dropped; afterwards no
# expectation is left behind.
helper_load rust ports=21,2121 nat_ports=$FIRST || fail "loading the module with nat_ports=$FIRST"
rulesets
expect_eq "nat_ports at load" "$FIRST-$FIRST" "$(cat $PARAM)"
pkill -x vsftpd
$RT conntrack -F 2>/dev/null
dmesg_mark
U='c:USER anonymous\r\n' R331='s:331 Please specify the password.\r\n'
# Session A stays open (its last step waits for /tmp/np-a-done) until session B is over.
rm -rf /tmp/np-sync-a /tmp/np-sync-b /tmp/np-a-done
A=("$U" "$R331" 'c:PORT 10,0,1,2,39,16\r\n' 'c:@wait:/tmp/np-a-done')
SYNC=/tmp/np-sync-a OUT=/tmp/np-srv-a $SV $CTL server 21 "${A[@]}" &
sa=$!
wait_listening ftp-sv 21 || fail "the scripted server does not listen on 21"
SYNC=/tmp/np-sync-a OUT=/tmp/np-cl-a $CL $CTL client 10.0.2.2 21 "${A[@]}" &
ca=$!
for i in $(seq 600); do
	[ "$(expectations)" = 1 ] && break
	sleep 0.1
done
expect_eq "expectations after the first session's PORT" 1 "$(expectations)"
[ "$(expectations "dport=$FIRST ")" = 1 ] || fail "the expectation is not on port $FIRST"
SYNC=/tmp/np-sync-b OUT=/tmp/np-srv-b $SV $CTL server 2121 "$U" "$R331" 'c:PORT 10,0,1,2,39,17\r\n' &
sb=$!
wait_listening ftp-sv 2121 || fail "the scripted server does not listen on 2121"
SYNC=/tmp/np-sync-b OUT=/tmp/np-cl-b $CL $CTL client 10.0.2.2 2121 "$U" "$R331" 'c:PORT 10,0,1,2,39,17\r\n' &
cb=$!
wait $cb $sb
grep -aq PORT /tmp/np-srv-b && fail "the second session's PORT reached the server"
echo "ok: the second session's PORT was dropped"
expect_eq "expectations while the first session holds the port" 1 \
	"$(expectations)"
dmesg | grep -q 'dropping packet: all ports in use' || fail "no 'all ports in use' line in the log"
expect_eq "the module's nat_all_ports_in_use counter moved" yes "$([ "$(rs_counter ftp-rt nat_all_ports_in_use)" -ge 1 ] && echo yes)"
expect_eq "the module's nat_rewritten counter moved (the first session's PORT)" yes "$([ "$(rs_counter ftp-rt nat_rewritten)" -ge 1 ] && echo yes)"
echo "ok: 'all ports in use' logged"
touch /tmp/np-a-done
wait $ca $sa
grep -aq "PORT 10,0,2,1,7,208" /tmp/np-srv-a || fail "the first session's PORT was not rewritten to port $FIRST"
# The control connections go: their expectations go with them; nothing else is left.
$RT conntrack -D -p tcp --dport 21 >/dev/null 2>&1
$RT conntrack -D -p tcp --dport 2121 >/dev/null 2>&1
expect_eq "expectations left" 0 "$(expectations)"
