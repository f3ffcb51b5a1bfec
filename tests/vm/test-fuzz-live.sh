#!/bin/bash
# Live differential fuzz (tests/vm/fuzz_live.py): the C helper on port 2121 ("ftp-2121")
# and this module on port 2122 ("ftp-2122"), loaded together, each assigned by the router of
# its own copy of the topology, driven with the same generated control traffic; first with
# loose=0, then loose=1 on both. Any input on which
# they differ (segments delivered, expectations, log lines) fails the test.
#   FUZZ_SECONDS (default 40, split between the two halves), FUZZ_SEED (default 1)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"

seconds=${FUZZ_SECONDS:-40}
seed=${FUZZ_SEED:-1}

trap 'topo_down; rmmod nf_conntrack_ftp_rs nf_conntrack_ftp 2>/dev/null' EXIT
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
for w in "ftp $HELPER_2121 2121" "fz ftp-2122 2122"; do
	set -- $w
	ip netns exec $1-rt nft -f - <<NFT || fail "nft ruleset in $1-rt"
table inet fuzz {
	ct helper h { type "$2" protocol tcp; }
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		tcp dport $3 ct helper set "h"
	}
}
NFT
done

# Canary: with loose=1 for Rust only, inputs announcing a third-party address must show up
# as differences, or the comparison proves nothing.
echo 0 >/sys/module/nf_conntrack_ftp/parameters/loose
echo 1 >/sys/module/nf_conntrack_ftp_rs/parameters/loose
echo "--- canary: loose=0 for C, loose=1 for Rust"
python3 tests/vm/fuzz_live.py --seconds 300 --max-inputs 128 --seed "$seed" --expect-differences >/tmp/canary.out ||
	{ cat /tmp/canary.out; fail "the canary run found no difference: the comparison is blind"; }
tail -1 /tmp/canary.out

status=0
for l in 0 1; do
	echo "$l" >/sys/module/nf_conntrack_ftp/parameters/loose
	echo "$l" >/sys/module/nf_conntrack_ftp_rs/parameters/loose
	echo "--- loose=$l"
	python3 tests/vm/fuzz_live.py --seconds $((seconds / 2)) --seed $((seed + l)) || status=1
done
ip netns exec ftp-rt nft delete table inet fuzz
ip netns exec fz-rt nft delete table inet fuzz
[ $status = 0 ] || fail "the helpers differ (see DIFF lines)"
echo "ok: no difference between C and Rust"
