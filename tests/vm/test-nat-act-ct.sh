#!/bin/bash
# tc act_ct as NAT gateway, the way Open vSwitch's datapath uses conntrack: no nftables on the
# router; tc on its server-side link tracks TCP, masquerades the client to 10.0.2.1, and commits
# the control connection with the FTP helper (`helper ipv4-tcp-ftp` with `nat`). Creating that
# filter makes the kernel look up the helper's NAT helper, "ip_nat_ftp"
# (nf_nat_helper_try_module_get) — with this module it must find the module's own and not
# load nf_nat_ftp (on the stock kernels modprobe could load it; the project kernel has no
# module tree, so there the filter is refused unless this module provides ip_nat_ftp).
# Two gateways, with the C pair and with this module, passive and active transfers (EPSV,
# PASV, EPRT, PORT):
#   snat  the client masqueraded to 10.0.2.1: the server's link shows the rewritten PORT/EPRT;
#   dnat  the server behind the router's address 10.0.1.1: a new connection to the router
#         that no expectation maps is sent to 10.0.9.9, nowhere, so a passive transfer passes
#         only through the expectation the rewritten 227/229 made, and curl connects to the
#         227's address (--no-ftp-skip-pasv-ip), which only the rewrite makes the router's.
#         The client's link shows the announcements the client got.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"

# name|gateway|curl options|the capture's side|the announcement it must show
CASES=(
	"snat epsv|snat||sv|229 Entering Extended Passive Mode (|||N|)"
	"snat pasv|snat|--disable-epsv|sv|227 Entering Passive Mode (10,0,2,2,N)"
	"snat eprt|snat|-P -|sv|EPRT |1|10.0.2.1|N|"
	"snat port|snat|-P - --disable-eprt|sv|PORT 10,0,2,1,N"
	"dnat epsv|dnat||cl|229 Entering Extended Passive Mode (|||N|)"
	"dnat pasv|dnat|--disable-epsv --no-ftp-skip-pasv-ip|cl|227 Entering Passive Mode (10,0,1,1,N)"
	"dnat eprt|dnat|-P -|sv|EPRT |1|10.0.1.2|N|"
	"dnat port|dnat|-P - --disable-eprt|sv|PORT 10,0,1,2,N"
)

trap 'capture_kill; topo_down; helper_unload' EXIT
topo_up || fail "network set-up"
ftpd_start 21 || fail "vsftpd on 21"
# tc's own modules on a modular kernel; on the project kernel they are built in.
modprobe -q act_ct 2>/dev/null
modprobe -q cls_flower 2>/dev/null
modprobe -q sch_ingress 2>/dev/null

# tc_up [HELPER]: the router's tc rules on its server-side link (clsact): what leaves towards
# the server is tracked and masqueraded to 10.0.2.1 (SNAT at egress: at ingress the new source,
# a local address, would be dropped as martian), what comes back is tracked and de-NATed, and
# connections that arrive as expected are committed (`ct commit nat` on both sides: tc wants
# a NAT address with commit, which only a new, not expected, connection would use). With
# HELPER (e.g. ipv4-tcp-ftp) the control connection is committed with that helper.
tc_up() {
	local helper=${1:+helper $1}
	tc_down
	$RT tc qdisc add dev rt1 clsact &&
		ct_rule rt1 egress 1 "dst_port 21" "src addr 10.0.2.1 $helper" &&
		ct_rule rt1 egress 2 "" "src addr 10.0.2.1" &&
		ct_rule rt1 ingress 1 "" "src addr 10.0.2.1"
}
# ct_rule DEV HOOK PRIO MATCH NAT: on the router, TCP through DEV's HOOK (and MATCH, flower's)
# is tracked and committed with NAT (`ct commit nat NAT`).
ct_rule() {
	# shellcheck disable=SC2086
	$RT tc filter add dev "$1" "$2" prio "$3" protocol ip flower ip_proto tcp $4 \
		action ct commit nat $5 pipe
}
# tc_up_dnat [HELPER]: the server behind 10.0.1.1, all at ingress. On the client-side link,
# connections to port 21 are DNATed to the server (committed with HELPER), every other new one
# to 10.0.9.9, which the router has no route to. On the server-side link, replies are de-NATed
# and the server's own new connections (active data without a helper) masqueraded to
# 10.0.1.1; a source that is the router's own address needs accept_local there. Connections
# that arrive as expected are NATed as their expectation set them up, not to these addresses
# (`commit` NATs a related connection as its expectation says).
tc_up_dnat() {
	local helper=${1:+helper $1}
	tc_down
	$RT sysctl -qw net.ipv4.conf.rt1.accept_local=1 &&
		$RT tc qdisc add dev rt0 clsact &&
		$RT tc qdisc add dev rt1 clsact &&
		ct_rule rt0 ingress 1 "dst_port 21" "dst addr 10.0.2.2 $helper" &&
		ct_rule rt0 ingress 2 "" "dst addr 10.0.9.9" &&
		ct_rule rt1 ingress 1 "" "src addr 10.0.1.1"
}
tc_down() {
	$RT tc qdisc del dev rt0 clsact 2>/dev/null
	$RT tc qdisc del dev rt1 clsact 2>/dev/null
	$RT conntrack -F 2>/dev/null
	true
}

tc_up || fail "tc rules (act_ct, flower, clsact)"
# Controls: without the helper, passive FTP passes the act_ct NAT (the rules work), active FTP
# does not (vsftpd refuses the masqueraded client's PORT).
ftp_get ftp://10.0.2.2 || fail "passive FTP through the act_ct NAT without a helper failed"
echo "ok: without the helper, passive FTP passes the act_ct NAT"
FTP_CONNECT_TIMEOUT=3 ftp_get ftp://10.0.2.2 -P - --disable-eprt &&
	fail "active FTP through act_ct NAT passed without a helper: the test proves nothing"
echo "ok: without the helper, active FTP through act_ct NAT fails"
tc_up_dnat || fail "tc rules (DNAT)"
ftp_get ftp://10.0.1.1 -P - --disable-eprt || fail "active FTP through the act_ct DNAT without a helper failed"
echo "ok: without the helper, active FTP passes the act_ct DNAT (the rules work)"
FTP_CONNECT_TIMEOUT=3 ftp_get ftp://10.0.1.1 --disable-epsv &&
	fail "passive FTP through act_ct DNAT passed without a helper: the test proves nothing"
echo "ok: without the helper, passive FTP through act_ct DNAT fails"

declare -A RESULT
for impl in c rust; do
	helper_load $impl ports=21 || fail "loading the $impl helper"
	capture_start cl sv
	gw=
	for c in "${CASES[@]}"; do
		IFS='|' read -r name mode opts side want <<<"$c"
		if [ "$mode" != "$gw" ]; then
			gw=$mode
			if [ "$mode" = snat ]; then tc_up ipv4-tcp-ftp; else tc_up_dnat ipv4-tcp-ftp; fi ||
				fail "$impl: tc filter with 'ct commit nat ... helper ipv4-tcp-ftp' ($mode) refused"
			if [ $impl = rust ]; then
				loaded nf_nat_ftp && fail "creating the act_ct filter ($mode) loaded nf_nat_ftp"
				echo "ok: act_ct ($mode) found this module's ip_nat_ftp (nf_nat_ftp is not loaded)"
			fi
		fi
		url=ftp://10.0.2.2
		[ "$mode" = dnat ] && url=ftp://10.0.1.1
		$RT conntrack -F 2>/dev/null
		capture_mark
		r=ok
		# shellcheck disable=SC2086
		ftp_get $url $opts || r="FAIL($(head -c 60 /tmp/ftp-curl.err | tr '\n' ' '))"
		capture_cut
		seen=$(announcements /tmp/ftp-cap-$side)
		[ "$seen" = "$want" ] || r="$r, $side saw '$seen'"
		if [ "$mode" = snat ]; then
			grep -aqE '10\.0\.1\.2|10,0,1,2' /tmp/ftp-cap-sv && r="$r, client address leaked"
		else
			grep -aqE '10\.0\.2\.2|10,0,2,2' /tmp/ftp-cap-cl && r="$r, server address leaked"
		fi
		RESULT[$impl,$name]="$r; $seen"
	done
	capture_stop
	tc_down
	helper_unload
done

compare_c_rust "announcement seen"
