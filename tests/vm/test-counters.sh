#!/bin/bash
# The per-namespace counters, /proc/net/nf_conntrack_ftp_rs (README, "Counters"): two worlds
# at once, each with its own router namespace and so its own counters. World A (ftp-*) runs
# real transfers, one of each kind; world B (ct2-*), behind masquerade, runs crafted control
# connections: a PORT (rewritten), a partial PORT (dropped) and a PORT naming a third party
# (refused with loose=0). Each counter those scenarios must move moves, in its world only.
# Then: a new namespace starts at zero; namespaces come and go; the files go on unload; a
# reload starts from zero.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"

CTL="python3 $PWD/tests/vm/ftpctl.py"
FILE=/proc/net/nf_conntrack_ftp_rs
NAMES="segments lines_parsed match_port match_eprt match_227 match_229 partial_dropped address_refused expect_created expect_alloc_failed expect_add_failed nat_rewritten nat_all_ports_in_use nat_mangle_failed lines_copied lines_copied_locked"

# expect_counter NS NAME TEST VALUE: e.g. expect_counter ftp-rt match_port -ge 1
expect_counter() {
	local v
	v=$(rs_counter "$1" "$2")
	[ -n "$v" ] && [ "$v" "$3" "$4" ] || fail "$1: $2 = '$v', expected $3 $4"
}
all_zero() { # NS
	local bad
	bad=$(ip netns exec "$1" awk '$2 != 0' $FILE)
	[ -z "$bad" ] || fail "$1: counters not at zero: $bad"
	ip netns exec "$1" cat $FILE | grep -q . || fail "$1: no $FILE"
}

# session WORLD STEP...: one scripted control connection in WORLD to its server's port 21.
session() {
	local w=$1 i
	shift
	rm -rf /tmp/cnt-sync-$w
	SYNC=/tmp/cnt-sync-$w OUT=/tmp/cnt-srv-$w ip netns exec "$w-sv" $CTL server 21 "$@" &
	local srv=$!
	wait_listening "$w-sv" 21 || fail "$w: the scripted server does not listen"
	SYNC=/tmp/cnt-sync-$w OUT=/tmp/cnt-cli-$w ip netns exec "$w-cl" $CTL client 10.0.2.2 21 "$@"
	wait $srv
}

trap 'topo_down' EXIT
topo_up || fail "network set-up (world A)"
topo_up ct2 || fail "network set-up (world B)"
helper_load rust ports=21,2121 || fail "loading the module"

# The file: in every namespace (routers and the others), one line per counter, at zero.
expect_eq "counter names" "$NAMES" "$(ip netns exec ftp-rt awk '{ print $1 }' $FILE | paste -sd' ')"
for ns in ftp-rt ct2-rt ftp-cl ct2-sv; do all_zero $ns; done
all_zero_init=$(awk '$2 != 0' $FILE)
echo "ok: $FILE in every namespace, 16 counters at zero"

# World A: the router's firewall and vsftpd; four transfers, in the background.
fw_up || fail "world A: nft ruleset"
ftpd_start 21 || fail "world A: vsftpd"
(
	for opts in "" "--disable-epsv" "-P -" "-P - --disable-eprt"; do
		# shellcheck disable=SC2086
		ftp_get ftp://10.0.2.2 $opts || echo "transfer '$opts' failed"
	done
) >/tmp/cnt-world-a 2>&1 &
world_a=$!

# World B, meanwhile: masquerade on the router, three crafted connections.
(
	CL="ip netns exec ct2-cl" RT="ip netns exec ct2-rt" SV="ip netns exec ct2-sv"
	fw_up && nat_up snat || exit 1
	U='c:USER a\r\n' R='s:331 ok\r\n'
	session ct2 "$U" "$R" 'c:PORT 10,0,1,2,39,16\r\n' 's:200 ok\r\n'
	grep -aq 'PORT 10,0,2,1,' /tmp/cnt-srv-ct2 || echo "the PORT was not rewritten"
	session ct2 "$U" "$R" 'c:PORT 10,0,1,2,1' 's:500 ?\r\n'
	session ct2 "$U" "$R" 'c:PORT 10,0,9,9,39,17\r\n' 's:200 ok\r\n'
	# One send of 3,000 bytes: one GSO packet through the veths (TSO), over what is copied
	# onto the stack, so it is copied under the lock.
	session ct2 "$U" "$R" "s:214-$(printf 'x%.0s' $(seq 2990))\r\n214 ok\r\n" 'c:NOOP\r\n'
) >/tmp/cnt-world-b 2>&1
world_b=$?
wait $world_a
[ $world_b = 0 ] || fail "world B: set-up failed: $(cat /tmp/cnt-world-b)"
[ -s /tmp/cnt-world-a ] && fail "world A: $(cat /tmp/cnt-world-a)"
[ -s /tmp/cnt-world-b ] && fail "world B: $(cat /tmp/cnt-world-b)"

echo "world A (ftp-rt):"
ip netns exec ftp-rt cat $FILE | paste -sd' '
echo "world B (ct2-rt):"
ip netns exec ct2-rt cat $FILE | paste -sd' '

# World A: every kind once at least, an expectation each, no NAT, nothing dropped.
for n in match_port match_eprt match_227 match_229; do expect_counter ftp-rt $n -ge 1; done
expect_counter ftp-rt expect_created -ge 4
expect_counter ftp-rt lines_parsed -ge 8
expect_counter ftp-rt segments -gt "$(rs_counter ftp-rt lines_parsed)"
# Local sockets send their payload in page fragments: parsed from a copy on the stack.
expect_counter ftp-rt lines_copied -ge 8
expect_counter ftp-rt lines_copied_locked -eq 0
for n in partial_dropped address_refused expect_add_failed nat_rewritten; do
	expect_counter ftp-rt $n -eq 0
done
# World B: its three PORTs, one rewritten, one partial, one refused; none of A's kinds.
expect_counter ct2-rt match_port -ge 2
expect_counter ct2-rt nat_rewritten -ge 1
expect_counter ct2-rt expect_created -ge 1
expect_counter ct2-rt partial_dropped -ge 1
expect_counter ct2-rt address_refused -ge 1
expect_counter ct2-rt lines_copied_locked -ge 1
for n in match_eprt match_227 match_229 expect_add_failed; do expect_counter ct2-rt $n -eq 0; done
# No one else saw anything: the namespaces of the peers, and the initial one.
for ns in ftp-cl ftp-sv ct2-cl ct2-sv; do all_zero $ns; done
[ -z "$all_zero_init" ] && [ -z "$(awk '$2 != 0' $FILE)" ] || fail "the initial namespace counted"
echo "ok: each world counted its own scenarios, and only those"

# Namespaces come and go: each new one starts at zero; the file goes with it (a file left
# behind would make the kernel warn when the namespace's /proc/net goes).
for i in $(seq 10); do
	ip netns add cnt-tmp || fail "ip netns add"
	all_zero cnt-tmp
	ip netns del cnt-tmp
done
echo "ok: 10 namespaces created and deleted, each with its file at zero"

# Unload: the files go from every namespace; a reload starts from zero. (World B's ct helper
# object holds the module: its ruleset goes first.)
ip netns exec ct2-rt nft flush ruleset
helper_unload
for ns in ftp-rt ct2-rt; do
	ip netns exec $ns test -e $FILE && fail "$ns: $FILE left after rmmod"
done
test -e $FILE && fail "$FILE left after rmmod"
helper_load rust ports=21,2121 || fail "reloading the module"
all_zero ftp-rt
all_zero ct2-rt
helper_unload
echo "ok: gone on unload, zero after a reload"
