#!/bin/bash
# Live differential fuzz (tests/vm/fuzz_live.py): the C helper on port 2121 ("ftp-2121")
# and this module on port 2122 ("ftp-2122"), loaded together, each assigned by the router of
# its own copy of the topology, driven with the same generated control traffic; first with
# loose=0, then loose=1 on both, then with both routers masquerading the clients (the C pair
# and this module's NAT half rewriting). Any input on which they differ (segments delivered,
# expectations, log lines, the bytes received) fails the test, as does a run in which fewer
# inputs than its floors created an expectation, dropped, logged (or arrived rewritten).
# Before each kind of run, canaries (the worlds made to differ on purpose) must each find
# their kind of difference in the channels they name.
#   FUZZ_SECONDS (default 40; each of the three runs takes half of it), FUZZ_SEED (default 1)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"

seconds=${FUZZ_SECONDS:-40}
seed=${FUZZ_SEED:-1}

trap 'topo_down; rmmod nf_conntrack_ftp_rs nf_nat_ftp nf_conntrack_ftp 2>/dev/null' EXIT
# Two identical worlds: ftp-* routes through the C helper, fz-* through this module.
topo_up || fail "network set-up (C world)"
topo_up fz || fail "network set-up (Rust world)"
# Expectation events for every master connection, whenever its listener subscribed (the
# default, 2, gives a connection no event record if it started before any listener).
for ns in ftp-rt fz-rt; do
	ip netns exec $ns sysctl -qw net.netfilter.nf_conntrack_events=1
done
for ns in ftp-cl fz-cl; do
	# A client address per fuzz worker (fuzz_live.client_addrs).
	for i in $(seq 10 41); do
		ip -n $ns addr add 10.0.1.$i/24 dev cl0
		ip -n $ns addr add fd00:1::$i/64 dev cl0 nodad
	done
done
# (7.3's C has no ports=: it registers "ftp", which the ruleset assigns to port 2121.)
insmod "$C_FTP_KO" $(kernel_at_least 7 3 || echo ports=2121) || fail "loading the C helper on 2121"
insmod "$FTP_RS_KO" ports=2122 || fail "loading this module on 2122"
# fuzz_ruleset PREFIX HELPER PORT [MATCH]: the router of world PREFIX assigns HELPER to
# connections to PORT (that MATCH too).
fuzz_ruleset() {
	ip netns exec "$1-rt" nft -f - <<NFT
table inet fuzz {
	ct helper h { type "$2" protocol tcp; }
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		${4-} tcp dport $3 ct helper set "h"
	}
}
NFT
}
fuzz_ruleset ftp "$HELPER_2121" 2121 || fail "nft ruleset in ftp-rt"
fuzz_ruleset fz ftp-2122 2122 || fail "nft ruleset in fz-rt"

# Canaries: the worlds set up to differ in a known way must show differences of that kind in
# each channel the comparison reads (tests/vm/fuzz_live.py CANARIES), or it is blind there.
# canary NAME WHAT [OPTION...]: a canary run of fuzz_live.py (with OPTIONs, e.g. --nat).
canary() {
	local name=$1 what=$2
	shift 2
	echo "--- canary $name: $what"
	python3 tests/vm/fuzz_live.py "$@" --seconds 300 --max-inputs 160 --seed "$seed" --canary "$name" >/tmp/canary.out ||
		{ cat /tmp/canary.out; fail "canary $name (above)"; }
	grep '^fuzz-live:' /tmp/canary.out
}
echo 0 >/sys/module/nf_conntrack_ftp/parameters/loose
echo 1 >/sys/module/nf_conntrack_ftp_rs/parameters/loose
canary loose "loose=0 for C, loose=1 for Rust"
echo 0 >/sys/module/nf_conntrack_ftp_rs/parameters/loose
ip netns exec fz-rt nft delete table inet fuzz
fuzz_ruleset fz ftp-2122 2122 "meta nfproto ipv4" || fail "nft ruleset (IPv4 only) in fz-rt"
canary nohelper6 "the Rust world helps IPv4 only"
ip netns exec fz-rt nft delete table inet fuzz
fuzz_ruleset fz ftp-2122 2122 || fail "nft ruleset in fz-rt"

# Floors: of the inputs, with C, at least this many must have created an expectation,
# dropped a segment, logged, and created the same expectation twice with nothing
# retransmitted (a generator that stopped producing them would pass blind). A run of 160
# inputs on 2026-12-02 had 34-54%, 50-75%, 50-75% (and 30% rewritten under masquerade).
FLOORS=expectation=0.2,dropped=0.2,logged=0.2,repeated=0.05
status=0
for l in 0 1; do
	echo "$l" >/sys/module/nf_conntrack_ftp/parameters/loose
	echo "$l" >/sys/module/nf_conntrack_ftp_rs/parameters/loose
	echo "--- loose=$l"
	python3 tests/vm/fuzz_live.py --seconds $((seconds / 2)) --seed $((seed + l)) --floors $FLOORS || status=1
done

# The masquerade world: both routers masquerade the clients, the C pair (nf_nat_ftp) and
# this module's NAT half rewrite what they announce. A canary first: the Rust world's router
# masquerading to another address must show in what the server receives.
insmod "$C_NAT_FTP_KO" || fail "loading nf_nat_ftp"
nat_ruleset() { # PREFIX [IPV4-STATEMENT]
	ip netns exec "$1-rt" nft -f - <<NFT
table inet fuzznat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "rt1" meta nfproto ipv4 ${2:-masquerade}
		oifname "rt1" meta nfproto ipv6 masquerade
	}
}
NFT
}
nat_ruleset ftp || fail "nat ruleset in ftp-rt"
ip -n fz-rt addr add 10.0.2.240/24 dev rt1 || fail "a second router address"
nat_ruleset fz "snat ip to 10.0.2.240" || fail "nat ruleset (to 10.0.2.240) in fz-rt"
canary snat240 "the Rust world's router masquerades to 10.0.2.240" --nat
ip netns exec fz-rt nft delete table inet fuzznat
nat_ruleset fz || fail "nat ruleset in fz-rt"
echo "--- loose=0, masquerade"
python3 tests/vm/fuzz_live.py --nat --seconds $((seconds / 2)) --seed $((seed + 2)) \
	--floors $FLOORS,rewritten=0.15 || status=1
for ns in ftp-rt fz-rt; do
	ip netns exec $ns nft delete table inet fuzz
	ip netns exec $ns nft delete table inet fuzznat
done
[ $status = 0 ] || fail "the helpers differ or coverage fell below its floors (see DIFF and FAIL lines)"
echo "ok: no difference between C and Rust"
