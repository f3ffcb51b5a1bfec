#!/bin/bash
# One control connection's segments handled on two CPUs at once, with the C helper and with
# this module (tests/vm/two_cpus.py): two CPUs remember line starts of one connection together,
# then a PORT at each of the two newest must be parsed. C keeps them under its global lock;
# this module, without one, must keep every one too (line_starts.rs: compare-and-swap per
# slot). Rounds: TWO_CPUS_ROUNDS (default 20).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"

ROUNDS=${TWO_CPUS_ROUNDS:-20}
[ "$(nproc)" -ge 2 ] || fail "the guest has $(nproc) CPU; this test needs two"

trap 'topo_down; helper_unload' EXIT
topo_up || fail "network set-up"
# The server drops the segments, counting them (nothing may answer: a reset would end the
# connection's conntrack). The router tracks them (a ct expression makes its namespace track)
# and accepts any sequence number (the connection has no handshake).
$SV nft -f - <<'NFT' || fail "nft in the server"
table inet twocpus {
	counter seen { }
	chain in {
		type filter hook input priority filter; policy accept;
		tcp dport 21 counter name "seen" drop
	}
}
NFT
$RT nft -f - <<'NFT' || fail "nft in the router"
table inet twocpus {
	counter bad { }
	chain check {
		type filter hook forward priority filter; policy accept;
		ct state invalid counter name "bad"
	}
}
NFT
$RT sysctl -qw net.netfilter.nf_conntrack_tcp_be_liberal=1

declare -A RESULT
for impl in c rust; do
	helper_load $impl ports=21 || fail "loading the $impl helper"
	out=$(cd tests/vm && python3 two_cpus.py ftp "$ROUNDS") || fail "$impl: two_cpus.py: $out"
	echo "$impl: $out" | sed 's/^/  /'
	RESULT[$impl]=$(echo "$out" | grep -o '[0-9]* of [0-9]* PORTs parsed')
	$RT conntrack -F >/dev/null 2>&1
	rmmod nf_conntrack_ftp_rs nf_nat_ftp nf_conntrack_ftp 2>/dev/null
done
invalid=$($RT nft list counter inet twocpus bad | grep -o 'packets [0-9]*')
expect_eq "segments the router found invalid" "packets 0" "$invalid"
expect_eq "C: PORTs parsed at the line starts two CPUs remembered" "$((2 * ROUNDS)) of $((2 * ROUNDS)) PORTs parsed" "${RESULT[c]}"
expect_eq "Rust: PORTs parsed at the line starts two CPUs remembered" "${RESULT[c]}" "${RESULT[rust]}"
