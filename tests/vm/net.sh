# Sourced by the VM tests: a client — router — server topology in network namespaces,
# an nft firewall on the router that lets data connections through only as RELATED, and
# vsftpd on the server.
#
#   client ftp-cl  10.0.1.2  fd00:1::2   (veth)   router ftp-rt  10.0.1.1 fd00:1::1
#   server ftp-sv  10.0.2.2  fd00:2::2   (veth)   router ftp-rt  10.0.2.1 fd00:2::1

CL="ip netns exec ftp-cl"
RT="ip netns exec ftp-rt"
SV="ip netns exec ftp-sv"
FTP_ROOT=/tmp/ftp-root
FTP_FILE_SIZE=65536
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

topo_down() {
	pkill -x vsftpd 2>/dev/null
	local ns
	for ns in $(ip netns list | awk '{print $1}'); do
		case $ns in ftp-* | fz-*) ip netns del "$ns" 2>/dev/null ;; esac
	done
	true
}

# topo_up [PREFIX]: the topology in namespaces PREFIX-cl, PREFIX-rt, PREFIX-sv (default
# ftp-*, which $CL, $RT and $SV name). Another prefix makes a second, identical world: the
# same addresses, its own conntrack table.
topo_up() {
	local p=${1:-ftp}
	[ "$p" = ftp ] && topo_down
	local cl=$p-cl rt=$p-rt sv=$p-sv ns
	for ns in $cl $rt $sv; do
		ip netns add $ns || { echo "topo_up: ip netns add $ns" >&2 && return 1; }
		ip -n $ns link set lo up
	done
	# Created in their namespaces: the same names in every world do not collide.
	ip link add cl0 netns $cl type veth peer name rt0 netns $rt ||
		{ echo "topo_up: veth cl0/rt0 in $p" >&2 && return 1; }
	ip link add sv0 netns $sv type veth peer name rt1 netns $rt ||
		{ echo "topo_up: veth sv0/rt1 in $p" >&2 && return 1; }
	ip -n $cl addr add 10.0.1.2/24 dev cl0
	ip -n $cl addr add fd00:1::2/64 dev cl0 nodad
	ip -n $rt addr add 10.0.1.1/24 dev rt0
	ip -n $rt addr add fd00:1::1/64 dev rt0 nodad
	ip -n $rt addr add 10.0.2.1/24 dev rt1
	ip -n $rt addr add fd00:2::1/64 dev rt1 nodad
	ip -n $sv addr add 10.0.2.2/24 dev sv0
	ip -n $sv addr add fd00:2::2/64 dev sv0 nodad
	for l in "$cl cl0" "$rt rt0" "$rt rt1" "$sv sv0"; do
		set -- $l
		ip -n $1 link set $2 up
	done
	ip -n $cl route add default via 10.0.1.1
	ip -n $cl -6 route add default via fd00:1::1
	ip -n $sv route add default via 10.0.2.1
	ip -n $sv -6 route add default via fd00:2::1
	ip netns exec $rt sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	# Log helper drops (nf_ct_helper_log) to the kernel log, from this namespace too.
	sysctl -qw net.netfilter.nf_log_all_netns=1
	ip netns exec $rt sysctl -qw net.netfilter.nf_log.2=nf_log_ipv4 net.netfilter.nf_log.10=nf_log_ipv6
	# The first packets wait for neighbour resolution: give each path a few tries.
	local dst i
	for dst in 10.0.2.2 fd00:2::2; do
		for i in 1 2 3 4 5; do
			ip netns exec $cl ping -q -c1 -W2 $dst >/dev/null && break
			[ $i = 5 ] && echo "topo_up: no route from the client to $dst" >&2 && return 1
		done
	done
	return 0
}

# The router's firewall: forward only established/related, new connections to the FTP
# control ports, and assign the helper to the control connections.
#   fw_up          "ftp" on port 21, $HELPER_2121 (lib.sh) on port 2121
#   fw_up none     no helper assigned
fw_up() {
	local objects='ct helper ftp-21 { type "ftp" protocol tcp; }
	ct helper ftp-2121 { type "'"$HELPER_2121"'" protocol tcp; }'
	local assign='tcp dport 21 ct helper set "ftp-21"
		tcp dport 2121 ct helper set "ftp-2121"'
	[ "${1-}" = none ] && objects= assign=
	$RT nft -f - <<NFT
flush ruleset
table inet fw {
	$objects
	chain assign {
		type filter hook prerouting priority filter; policy accept;
		$assign
	}
	chain filter {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct state untracked tcp dport 2200 accept
		ct state untracked tcp sport 2200 accept
		tcp dport { 21, 2121, 2200 } ct state new accept
		meta l4proto { icmp, ipv6-icmp } accept
	}
}
NFT
}

fw_down() {
	$RT nft flush ruleset 2>/dev/null
	true
}

# vsftpd on the server, listening on $1 (IPv4 and IPv6), anonymous read-only.
ftpd_start() {
	local port=$1 conf=/tmp/vsftpd-$1.conf
	mkdir -p $FTP_ROOT /var/run/vsftpd/empty
	[ -f $FTP_ROOT/file.bin ] || head -c $FTP_FILE_SIZE /dev/urandom >$FTP_ROOT/file.bin
	cat >$conf <<CONF
listen=NO
listen_ipv6=YES
listen_port=$port
anonymous_enable=YES
local_enable=NO
anon_root=$FTP_ROOT
no_anon_password=YES
pasv_enable=YES
pasv_min_port=30000
pasv_max_port=30999
port_enable=YES
connect_from_port_20=NO
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
background=YES
secure_chroot_dir=/var/run/vsftpd/empty
xferlog_enable=NO
CONF
	$SV vsftpd $conf || return 1
	wait_listening ftp-sv $port
}

# wait_listening NS PORT: returns once something in namespace NS listens on TCP PORT (a minute
# at most).
wait_listening() {
	local i
	for i in $(seq 600); do
		ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	echo "nothing listens on port $2 in $1" >&2
	return 1
}

# expectations [TEXT]: how many expectations the router holds (only those whose line in
# `conntrack -L expect` holds TEXT, if given).
expectations() {
	$RT conntrack -L expect 2>/dev/null | grep -F -- "${1:-proto=}" | grep -c proto=
}

# ftp_get URL CURL-OPTIONS...: downloads file.bin; 0 if the content is right. curl's limits
# are for hangs only (30 s to connect, 60 s in all). A negative control, whose data
# connection the firewall drops (no SYN of it ever gets through), sets FTP_CONNECT_TIMEOUT=3.
ftp_get() {
	local url=$1 out=/tmp/ftp-got
	shift
	rm -f $out
	$CL curl -s -S --connect-timeout "${FTP_CONNECT_TIMEOUT:-30}" -m 60 "$@" -o $out "$url/file.bin" 2>/tmp/ftp-curl.err ||
		return 1
	cmp -s $out $FTP_ROOT/file.bin
}

# Records the router's new expectations (tests/vm/ct_events.py, in the words of `conntrack -E
# expect`) into $1 until expect_events_stop. Start returns once the listener is subscribed;
# stop reads what the kernel queued until then (it queues the event before the packet that
# created the expectation goes on) and fails the test if any event was lost.
expect_events_start() {
	local fifo=/tmp/expect-events.ready line=
	EXPECT_EVENTS_FILE=$1
	rm -f "$fifo" "$1" && mkfifo "$fifo"
	$RT python3 "$REPO_DIR/tests/vm/ct_events.py" "$1" >"$fifo" &
	EXPECT_EVENTS_PID=$!
	read -r -t 120 line <"$fifo"
	rm -f "$fifo"
	[ "$line" = ready ] || { kill "$EXPECT_EVENTS_PID" 2>/dev/null; fail "expectation listener did not start"; }
}
expect_events_stop() {
	local rc=0
	kill -TERM "$EXPECT_EVENTS_PID" 2>/dev/null
	wait "$EXPECT_EVENTS_PID" || rc=$?
	[ $rc = 0 ] || fail "expectation listener failed (exit $rc): $(tail -1 "$EXPECT_EVENTS_FILE" 2>/dev/null)"
}

# Loads the helper under test: rust or c, with module parameters.
helper_load() {
	local impl=$1
	shift
	case $impl in
	rust) insmod "$FTP_RS_KO" "$@" ;;
	c)
		# 7.3's C helper has no ports= (one helper, "ftp", on the ports the rules choose).
		if kernel_at_least 7 3; then
			local a
			for a; do shift; case $a in ports=*) ;; *) set -- "$@" "$a" ;; esac; done
		fi
		insmod "$C_FTP_KO" "$@" && insmod "$C_NAT_FTP_KO"
		;;
	esac
}

helper_unload() {
	fw_down
	rmmod nf_conntrack_ftp_rs 2>/dev/null
	rmmod nf_nat_ftp 2>/dev/null
	rmmod nf_conntrack_ftp 2>/dev/null
	true
}

# capture_start SIDE... / capture_mark / capture_cut / capture_stop: the FTP control traffic
# (ports 21 and 2121) each SIDE saw — cl: the client's link, sv: the server's — as text in
# /tmp/ftp-cap-SIDE (tests/vm/pcap_text.py: a header line per packet, then each payload line
# on a line of its own). One tcpdump per side runs from start to stop; capture_cut (and stop)
# puts in /tmp/ftp-cap-SIDE what the side saw since start, capture_mark or the cut before. Each returns once a marker datagram
# sent after everything else shows in each capture: start once the capture runs, the others
# once it holds all that was sent before.
declare -A CAPTURE_MARK
capture_start() {
	CAPTURE_SIDES=$*
	CAPTURE_PIDS=
	local side
	for side; do
		rm -f /tmp/ftp-cap-$side /tmp/ftp-cap-$side.pcap
		# -U: each packet is written out as it is captured, so the marker can be seen.
		ip netns exec ftp-$side tcpdump -i ${side}0 -nn -U -s 0 --immediate-mode -w /tmp/ftp-cap-$side.pcap \
			'tcp port 21 or tcp port 2121 or udp port 9' 2>/tmp/ftp-cap-$side.err &
		CAPTURE_PIDS="$CAPTURE_PIDS $!"
	done
	for side; do
		capture_sync $side || fail "the capture on $side did not start: $(tail -1 /tmp/ftp-cap-$side.err)"
	done
}
# capture_mark: where the next capture_cut starts (now).
capture_mark() {
	local side
	for side in $CAPTURE_SIDES; do
		capture_sync $side || fail "the capture on $side did not catch up"
	done
}
capture_cut() {
	local side last
	for side in $CAPTURE_SIDES; do
		last=${CAPTURE_MARK[$side]}
		capture_sync $side || fail "the capture on $side did not catch up"
		python3 "$REPO_DIR/tests/vm/pcap_text.py" /tmp/ftp-cap-$side.pcap "$last" "${CAPTURE_MARK[$side]}" \
			>/tmp/ftp-cap-$side || fail "reading the capture on $side"
	done
}
capture_stop() {
	[ -n "${CAPTURE_PIDS-}" ] || return 0
	capture_cut
	capture_kill
}
# capture_kill: ends the captures without waiting for them to catch up (for EXIT traps).
capture_kill() {
	[ -n "${CAPTURE_PIDS-}" ] || return 0
	kill $CAPTURE_PIDS 2>/dev/null
	wait $CAPTURE_PIDS 2>/dev/null
	CAPTURE_PIDS=
	true
}
# capture_sync SIDE: sends marker datagrams out of SIDE's link (to the router's discard port)
# until the capture shows one (at most a minute); CAPTURE_MARK[SIDE] is then that marker.
capture_sync() {
	local side=$1 dst=10.0.1.1 marker=capture-marker-$RANDOM$RANDOM i
	[ "$side" = sv ] && dst=10.0.2.1
	for i in $(seq 300); do
		ip netns exec ftp-$side bash -c "echo $marker >/dev/udp/$dst/9" 2>/dev/null
		if grep -aq "$marker" /tmp/ftp-cap-$side.pcap 2>/dev/null; then
			CAPTURE_MARK[$side]=$marker
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# announcements FILE: the commands and replies in a capture's text (capture_stop) that
# announce a data connection, each at the start of a payload line, the port masked, e.g.
# "PORT 10,0,2,1,N", "EPRT |2|fd00:...|N|", "227 ...(10,0,1,1,N)".
announcements() {
	grep -aoE '^(PORT [0-9,]+|EPRT \|[12]\|[0-9a-f:.]+\|[0-9]+\||227 [^(]*\([0-9,]+\)|229 [^(]*\(\|\|\|[0-9]+\|\))' "$1" |
		sed -E 's/^(PORT [0-9]+,[0-9]+,[0-9]+,[0-9]+),[0-9]+,[0-9]+/\1,N/;
			s/^(227 [^(]*\([0-9]+,[0-9]+,[0-9]+,[0-9]+),[0-9]+,[0-9]+\)/\1,N)/;
			s/\|[0-9]+\|$/|N|/; s/\|[0-9]+\|\)$/|N|)/' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# The router's NAT, added to the firewall of fw_up:
#   nat_up snat     the client network masqueraded towards the server
#   nat_up dnat     the server published on the router's client-side addresses (port 21)
#   nat_up both     both
#   nat_up nftpp    nftables' packetpath/nat_ftp: [fd00:1::1]:2121 -> [fd00:2::2]:21, SNAT to
#                   the router, the "ftp" helper assigned at prerouting priority 350 (after
#                   DNAT; use with fw_up none)
#   nat_up longer   the client network SNATed to 10.0.2.240 (a longer text than 10.0.1.2)
#   nat_up snat-ports FIRST-LAST   masquerade to those ports
nat_up() {
	local pre= post= extra=
	case $1 in
	snat) post='oifname "rt1" masquerade' ;;
	snat-ports) post="oifname \"rt1\" meta l4proto tcp masquerade to :$2
		oifname \"rt1\" masquerade" ;;
	dnat | both)
		pre='ip daddr 10.0.1.1 tcp dport 21 dnat ip to 10.0.2.2
		ip6 daddr fd00:1::1 tcp dport 21 dnat ip6 to fd00:2::2'
		[ "$1" = both ] && post='oifname "rt1" masquerade'
		;;
	nftpp)
		pre='ip6 daddr fd00:1::1 tcp dport 2121 dnat ip6 to [fd00:2::2]:21'
		post='oifname "rt1" snat ip6 to fd00:2::1'
		extra='ct helper ftp-pp { type "ftp" protocol tcp; }
	chain helper-after-dnat {
		type filter hook prerouting priority 350; policy accept;
		ip6 daddr fd00:2::2 tcp dport 21 ct helper set "ftp-pp"
	}'
		;;
	longer) post='oifname "rt1" ip saddr 10.0.1.0/24 snat ip to 10.0.2.240' ;;
	*) echo "nat_up: unknown mode '$1'" >&2 && return 1 ;;
	esac
	$RT nft -f - <<NFT
table inet nat {
	$extra
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		$pre
	}
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		$post
	}
}
NFT
}

nat_down() {
	$RT nft delete table inet nat 2>/dev/null
	true
}
