#!/bin/bash
# Open vSwitch's kernel datapath as the firewall, the way OpenStack, OVN and OVS-based CNIs use
# the helper: no nftables, no routing. The client and the server share one L2 segment through
# an OVS bridge in the router's namespace; the flows track every IP packet, commit new FTP
# control connections with `ct(commit, alg=ftp)` and admit a new data connection only when
# conntrack calls it related (+new+rel), as Open vSwitch's own tests/system-traffic.at does
# ("conntrack - FTP", "FTP over IPv6", "FTP SNAT prerecirc").
#   plain  IPv4 and IPv6, passive (EPSV, PASV) and active (EPRT, PORT);
#   snat   ct(commit, alg=ftp, nat(src=10.0.1.240)): the client shows as 10.0.1.240, a longer
#          text than 10.0.1.2, so the NAT half must rewrite PORT/EPRT and adjust sequence
#          numbers; the server drops whatever still comes from 10.0.1.2, so data connections
#          pass only if their expectation NATs them as the control connection.
# The kernel attaches the helper by name ("ftp") and, with nat(), its NAT helper by module
# name ("ip_nat_ftp", nf_nat_helper_try_module_get): with this module loaded it must find
# the module's own, nf_nat_ftp stays unloaded. The C pair and this module side by side: the
# transfers, the announcements each side saw, and OVS's view of the control connection
# (helper=ftp in dpctl/dump-conntrack) compared.
#
#   client ftp-cl cl0 10.0.1.2/16 fd00:1::2/16 --- rt0 [OVS br0 in ftp-rt] rt1 --- sv0 10.0.2.2/16 fd00:2::2/16 ftp-sv
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"

OVS_DIR=/tmp/ovs-test
export OVS_RUNDIR=$OVS_DIR OVS_DBDIR=$OVS_DIR OVS_LOGDIR=$OVS_DIR OVS_SYSCONFDIR=$OVS_DIR
SNAT_ADDR=10.0.1.240 # the README's flows' nat(src=...)

# name|flows|URL|curl options|the capture's side|the announcement it must show
CASES=(
	"v4 epsv|plain|ftp://10.0.2.2||cl|229 Entering Extended Passive Mode (|||N|)"
	"v4 pasv|plain|ftp://10.0.2.2|--disable-epsv|cl|227 Entering Passive Mode (10,0,2,2,N)"
	"v4 eprt|plain|ftp://10.0.2.2|-P -|sv|EPRT |1|10.0.1.2|N|"
	"v4 port|plain|ftp://10.0.2.2|-P - --disable-eprt|sv|PORT 10,0,1,2,N"
	"v6 epsv|plain|ftp://[fd00:2::2]||cl|229 Entering Extended Passive Mode (|||N|)"
	"v6 eprt|plain|ftp://[fd00:2::2]|-P -|sv|EPRT |2|fd00:1::2|N|"
	"snat epsv|snat|ftp://10.0.2.2||cl|229 Entering Extended Passive Mode (|||N|)"
	"snat pasv|snat|ftp://10.0.2.2|--disable-epsv|cl|227 Entering Passive Mode (10,0,2,2,N)"
	"snat eprt|snat|ftp://10.0.2.2|-P -|sv|EPRT |1|$SNAT_ADDR|N|"
	"snat port|snat|ftp://10.0.2.2|-P - --disable-eprt|sv|PORT 10,0,1,240,N"
)

ovs_down() {
	local d
	for d in ovs-vswitchd ovsdb-server; do
		[ -f $OVS_DIR/$d.pid ] && kill "$(cat $OVS_DIR/$d.pid)" 2>/dev/null
	done
	topo_down
}

# The segment: the router's namespace holds no address, only the bridge's ports. The capture
# markers (net.sh's capture_sync) go from each side to an address nobody has (10.0.1.1,
# 10.0.2.1): a permanent neighbour entry sends them out, the flows drop them.
l2_up() {
	topo_down
	local ns
	for ns in ftp-cl ftp-rt ftp-sv; do
		ip netns add $ns && ip -n $ns link set lo up || return 1
	done
	ip link add cl0 netns ftp-cl type veth peer name rt0 netns ftp-rt &&
		ip link add sv0 netns ftp-sv type veth peer name rt1 netns ftp-rt || return 1
	ip -n ftp-cl addr add 10.0.1.2/16 dev cl0
	ip -n ftp-cl addr add fd00:1::2/16 dev cl0 nodad
	ip -n ftp-sv addr add 10.0.2.2/16 dev sv0
	ip -n ftp-sv addr add fd00:2::2/16 dev sv0 nodad
	ip -n ftp-cl neigh add 10.0.1.1 lladdr 02:00:00:00:00:01 dev cl0 nud permanent
	ip -n ftp-sv neigh add 10.0.2.1 lladdr 02:00:00:00:00:01 dev sv0 nud permanent
	# The server answers the NATed client (10.0.1.240) at the client's own address; whatever
	# still comes from 10.0.1.2 in SNAT mode is dropped (server_snat_only).
	ip -n ftp-sv neigh add $SNAT_ADDR lladdr "$(ip -n ftp-cl -br link show cl0 | awk '{print $3}')" \
		dev sv0 nud permanent
	local l
	for l in "ftp-cl cl0" "ftp-rt rt0" "ftp-rt rt1" "ftp-sv sv0"; do
		# shellcheck disable=SC2086
		set -- $l
		ip -n $1 link set $2 up
	done
}

# ovs_up: ovsdb-server and ovs-vswitchd in the router's namespace (their files in OVS_DIR),
# bridge br0 of the kernel datapath with rt0 as OpenFlow port 1 and rt1 as port 2.
ovs_up() {
	rm -rf $OVS_DIR && mkdir -p $OVS_DIR
	ovsdb-tool create $OVS_DIR/conf.db /usr/share/openvswitch/vswitch.ovsschema || return 1
	$RT ovsdb-server $OVS_DIR/conf.db --remote=punix:$OVS_DIR/db.sock --pidfile --detach \
		--log-file --no-chdir -vconsole:off || return 1
	$RT ovs-vsctl --no-wait init || return 1
	$RT ovs-vswitchd unix:$OVS_DIR/db.sock --pidfile --detach --log-file --no-chdir -vconsole:off || return 1
	$RT ovs-vsctl --timeout=60 add-br br0 -- set bridge br0 datapath_type=system fail-mode=secure \
		-- add-port br0 rt0 -- set interface rt0 ofport_request=1 \
		-- add-port br0 rt1 -- set interface rt1 ofport_request=2 || return 1
	$RT ovs-appctl dpctl/show | grep -q 'system@ovs-system' || {
		echo "ovs_up: no kernel datapath: $($RT ovs-appctl dpctl/show 2>&1)" >&2
		return 1
	}
}

# flows_set snat|plain|noalg: the bridge's flow table, the README's (replaced as one bundle);
# plain without its nat(src=...), noalg also without alg=ftp (the negative control).
flows_set() {
	local flows
	flows=$(readme_heredoc flows test-ovs.sh snat)
	[ -n "$flows" ] || fail "no flows block in README.md"
	grep -q 'ct(commit,alg=ftp,nat(src=10.0.1.240))' <<<"$flows" ||
		fail "the README's flows no longer commit with alg=ftp,nat(src=10.0.1.240)"
	case $1 in
	snat) ;;
	plain) flows=$(sed 's/,nat(src=[^)]*)//' <<<"$flows") ;;
	noalg) flows=$(sed 's/,nat(src=[^)]*)//; s/,alg=ftp//' <<<"$flows") ;;
	esac
	[ "$1" = snat ] || ! grep -q 'nat(src=' <<<"$flows" || fail "flows ($1): nat(src=...) left in"
	[ "$1" != noalg ] || ! grep -q 'alg=ftp' <<<"$flows" || fail "flows (noalg): alg=ftp left in"
	$RT ovs-ofctl --bundle replace-flows br0 - <<<"$flows"
}

# server_snat_only on|off: in SNAT mode the server drops every packet from the client's own
# address, so a data connection that conntrack did not NAT cannot pass.
server_snat_only() {
	$SV nft delete table inet snatcheck 2>/dev/null
	[ "$1" = on ] || return 0
	$SV nft -f - <<NFT
table inet snatcheck {
	chain in {
		type filter hook input priority filter; policy accept;
		ip saddr 10.0.1.2 drop
	}
}
NFT
}

# ovs_release_unload: deletes the OpenFlow flows (ovs-vswitchd then removes the datapath's), and
# unloads the helper modules once the datapath has let them go: its flows hold the helper and
# the NAT helper until they are freed after an RCU grace period (a minute at most).
ovs_release_unload() {
	# As the README says: the OpenFlow flows that name the helper go, the datapath's follow.
	$RT ovs-ofctl del-flows br0 2>/dev/null
	local i
	for i in $(seq 300); do
		helper_unload
		loaded nf_conntrack_ftp_rs || loaded nf_nat_ftp || loaded nf_conntrack_ftp || return 0
		sleep 0.2
	done
	echo "still in use: $(grep -E '^(nf_conntrack_ftp_rs|nf_nat_ftp|nf_conntrack_ftp) ' /proc/modules)" >&2
	return 1
}

trap 'capture_kill; ovs_release_unload; ovs_down; helper_unload' EXIT
modprobe -q openvswitch 2>/dev/null
l2_up || fail "network set-up"
ovs_up || fail "Open vSwitch (ovsdb-server, ovs-vswitchd, br0): $(tail -3 $OVS_DIR/ovs-vswitchd.log 2>/dev/null)"
echo "ok: $(ovs-vswitchd --version | head -1) on the kernel datapath"
ftpd_start 21 || fail "vsftpd on 21"
flows_set noalg || fail "flows"
for dst in 10.0.2.2 fd00:2::2; do
	for i in 1 2 3 4 5; do
		$CL ping -q -c1 -W2 $dst >/dev/null && break
		[ $i = 5 ] && fail "no path from the client to $dst through br0"
	done
done

# Controls, with this module loaded: without alg=ftp the flows pass the control connection
# (curl -I: the file's size, no data connection) and admit no data connection, passive or
# active.
helper_load rust ports=21 || fail "loading the module"
$CL curl -s -S --connect-timeout 30 -m 60 -I ftp://10.0.2.2/file.bin 2>/tmp/ftp-curl.err |
	grep -q "Content-Length: $FTP_FILE_SIZE" ||
	fail "the control connection does not pass the bridge: $(head -c 200 /tmp/ftp-curl.err)"
FTP_CONNECT_TIMEOUT=3 ftp_get ftp://10.0.2.2 --disable-epsv &&
	fail "passive FTP passed the flows without alg=ftp: the test proves nothing"
FTP_CONNECT_TIMEOUT=3 ftp_get ftp://10.0.2.2 -P - --disable-eprt &&
	fail "active FTP passed the flows without alg=ftp: the test proves nothing"
echo "ok: without alg=ftp, the control connection passes the bridge, neither passive nor active data does"
ovs_release_unload || fail "the module could not be unloaded after the controls"

declare -A RESULT
for impl in c rust; do
	helper_load $impl ports=21 || fail "loading the $impl helper"
	[ $impl = rust ] && created0=$(rs_counter ftp-rt expect_created)
	capture_start cl sv
	flows=
	for c in "${CASES[@]}"; do
		IFS='|' read -r name mode url opts side want <<<"$c"
		if [ "$mode" != "$flows" ]; then
			flows=$mode
			flows_set "$mode" || fail "$impl: flows with ct(commit,alg=ftp) ($mode) refused"
			server_snat_only "$([ "$mode" = snat ] && echo on || echo off)" || fail "the server's nft rule"
		fi
		$RT ovs-appctl dpctl/flush-conntrack >/dev/null
		capture_mark
		r=ok
		# shellcheck disable=SC2086
		ftp_get "$url" $opts || r="FAIL($(head -c 60 /tmp/ftp-curl.err | tr '\n' ' '))"
		capture_cut
		seen=$(announcements /tmp/ftp-cap-$side)
		[ "$seen" = "$want" ] || r="$r, $side saw '$seen'"
		if [ "$mode" = snat ]; then
			grep -aqE '10\.0\.1\.2\||10,0,1,2,' /tmp/ftp-cap-sv && r="$r, client address leaked"
		fi
		# OVS's own view: the control connection tracked with the helper.
		ctl=$($RT ovs-appctl dpctl/dump-conntrack | grep -c 'dport=21),.*helper=ftp')
		[ "$ctl" -ge 1 ] || r="$r, no helper=ftp connection in dpctl/dump-conntrack"
		RESULT[$impl,$name]="$r; $seen"
	done
	capture_stop
	if [ $impl = rust ]; then
		loaded nf_nat_ftp && fail "ct(commit, alg=ftp, nat(...)) loaded nf_nat_ftp next to this module"
		echo "ok: the datapath found this module's ip_nat_ftp (nf_nat_ftp is not loaded)"
		created=$(($(rs_counter ftp-rt expect_created) - created0))
		rewritten=$(rs_counter ftp-rt nat_rewritten)
		[ "$created" -ge ${#CASES[@]} ] || fail "counters: $created expectations created for ${#CASES[@]} transfers"
		[ "$rewritten" -ge 2 ] || fail "counters: nat_rewritten $rewritten after two SNAT active transfers"
		echo "ok: counters in the router's namespace: expect_created +$created, nat_rewritten $rewritten"
	fi
	server_snat_only off
	ovs_release_unload || fail "$impl: the helper could not be unloaded once the flows were gone"
done

compare_c_rust "announcement seen"
