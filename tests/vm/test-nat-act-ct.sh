#!/bin/bash
# tc act_ct as NAT gateway, the way Open vSwitch's datapath uses conntrack: no nftables on the
# router; tc on its server-side link tracks TCP, masquerades the client to 10.0.2.1, and commits
# the control connection with the FTP helper (`helper ipv4-tcp-ftp` with `nat`). Creating that
# filter makes the kernel look up the helper's NAT helper, "ip_nat_ftp"
# (nf_nat_helper_try_module_get) — with this module it must find the module's own and not
# load nf_nat_ftp. Passive and active transfers (EPSV, PASV, EPRT, PORT), with the C pair and
# with this module; a capture on the server's link shows the rewritten PORT/EPRT.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"

CASES=(
	"epsv||229 Entering Extended Passive Mode (|||N|)"
	"pasv|--disable-epsv|227 Entering Passive Mode (10,0,2,2,N)"
	"eprt|-P -|EPRT |1|10.0.2.1|N|"
	"port|-P - --disable-eprt|PORT 10,0,2,1,N"
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
		$RT tc filter add dev rt1 egress prio 1 protocol ip flower ip_proto tcp dst_port 21 \
			action ct commit nat src addr 10.0.2.1 $helper pipe &&
		$RT tc filter add dev rt1 egress prio 2 protocol ip flower ip_proto tcp \
			action ct commit nat src addr 10.0.2.1 pipe &&
		$RT tc filter add dev rt1 ingress prio 1 protocol ip flower ip_proto tcp \
			action ct commit nat src addr 10.0.2.1 pipe
}
tc_down() {
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

declare -A RESULT
for impl in c rust; do
	helper_load $impl ports=21 || fail "loading the $impl helper"
	tc_up ipv4-tcp-ftp || fail "$impl: tc filter with 'ct commit nat ... helper ipv4-tcp-ftp' refused"
	if [ $impl = rust ]; then
		loaded nf_nat_ftp && fail "creating the act_ct filter loaded nf_nat_ftp"
		echo "ok: act_ct found this module's ip_nat_ftp (nf_nat_ftp is not loaded)"
	fi
	capture_start sv
	for c in "${CASES[@]}"; do
		IFS='|' read -r name opts want <<<"$c"
		$RT conntrack -F 2>/dev/null
		capture_mark
		r=ok
		# shellcheck disable=SC2086
		ftp_get ftp://10.0.2.2 $opts || r="FAIL($(head -c 60 /tmp/ftp-curl.err | tr '\n' ' '))"
		capture_cut
		seen=$(announcements /tmp/ftp-cap-sv)
		[ "$seen" = "$want" ] || r="$r, server saw '$seen'"
		grep -aqE '10\.0\.1\.2|10,0,1,2' /tmp/ftp-cap-sv && r="$r, client address leaked"
		RESULT[$impl,$name]="$r; $seen"
	done
	capture_stop
	tc_down
	helper_unload
done

compare_c_rust "server saw"
