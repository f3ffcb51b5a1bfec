#!/bin/bash
# Load: LOAD_SESSIONS (default 64) concurrent FTP sessions through the firewall with this
# module, active and passive, IPv4 and IPv6 (EPSV, PASV, EPRT, PORT), in rounds for at most
# LOAD_SECONDS (default 45; at least one round); then LOAD_NAT_SESSIONS (default 32) at once
# through masquerade (every one rewritten by the NAT half). Every transfer must complete with
# the right content, the router's expectation count must return to 0, and on a kernel with
# kmemleak no new leak may be reported (scripts/vm-run fails the run on any splat).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"

sessions=${LOAD_SESSIONS:-64}
nat_sessions=${LOAD_NAT_SESSIONS:-32}
seconds=${LOAD_SECONDS:-45}
# curl's limits, which only a hang should reach (nothing here is meant to fail): 64 logins at
# once take vsftpd well over 10 s on the debug kernel (KASAN under TCG), so there they are
# longer still.
connect=60 limit=300
[ "${VM_KERNEL-}" = debug ] && connect=120 limit=900
MODES=("ftp://10.0.2.2|" "ftp://10.0.2.2|--disable-epsv" "ftp://10.0.2.2|-P -"
	"ftp://10.0.2.2|-P - --disable-eprt" "ftp://[fd00:2::2]|" "ftp://[fd00:2::2]|-P -")
KMEMLEAK=/sys/kernel/debug/kmemleak

trap 'topo_down; helper_unload' EXIT
topo_up || fail "network set-up"
ftpd_start 21 || fail "vsftpd on 21"
helper_load rust ports=21,2121 || fail "loading the module"
fw_up || fail "nft ruleset"
[ -w $KMEMLEAK ] && echo clear >$KMEMLEAK

# run_round N: N concurrent sessions, the modes in turn; counts into total and failed.
run_round() {
	local pids=() i
	for i in $(seq 0 $(($1 - 1))); do
		IFS='|' read -r url opts <<<"${MODES[$((i % ${#MODES[@]}))]}"
		# shellcheck disable=SC2086
		$CL curl -s -S --connect-timeout $connect -m $limit $opts -o /tmp/load-$i "$url/file.bin" \
			2>/tmp/load-$i.err &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		total=$((total + 1))
		if ! wait "${pids[$i]}" || ! cmp -s /tmp/load-$i $FTP_ROOT/file.bin; then
			failed=$((failed + 1))
			echo "session $i (${MODES[$((i % ${#MODES[@]}))]}) failed: $(head -c 100 /tmp/load-$i.err)"
		fi
	done
}

start=$(date +%s) rounds=0 total=0 failed=0
while :; do
	rounds=$((rounds + 1))
	run_round "$sessions"
	took=$(($(date +%s) - start))
	echo "round $rounds: $sessions concurrent sessions, $took s so far"
	[ $((took * (rounds + 1) / rounds)) -lt "$seconds" ] || break
done
rm -f /tmp/load-*
echo "load: $total transfers in $rounds rounds of $sessions concurrent sessions, $failed failed, $(($(date +%s) - start)) s"
[ $failed = 0 ] || fail "$failed of $total transfers failed"

n=$(expectations)
expect_eq "expectations left after the load" 0 "$n"

# The same through masquerade: every PORT/EPRT/227/229 rewritten, every data connection NATed.
nat_up snat || fail "masquerade"
$RT conntrack -F 2>/dev/null
start=$(date +%s) total=0 failed=0
run_round "$nat_sessions"
rm -f /tmp/load-*
echo "load through NAT: $total concurrent transfers, $failed failed, $(($(date +%s) - start)) s"
[ $failed = 0 ] || fail "$failed of $total transfers through NAT failed"
expect_eq "expectations left after the NAT load" 0 "$(expectations)"
rewritten=$({
	$RT conntrack -L -f ipv4
	$RT conntrack -L -f ipv6
} 2>/dev/null | grep -c 'dport=21 .*dst=10.0.2.1 \|dport=21 .*dst=fd00:2::1 ')
echo "control connections masqueraded: $rewritten"
[ "$rewritten" -ge "$nat_sessions" ] || fail "fewer masqueraded control connections ($rewritten) than sessions"

# How the parsed segments of both loads were read: in place (linear), copied onto the stack,
# or copied under the module's one lock (README, "Counters").
lines=$(rs_counter ftp-rt lines_parsed) copied=$(rs_counter ftp-rt lines_copied)
locked=$(rs_counter ftp-rt lines_copied_locked)
[ "$lines" -gt 0 ] || fail "no line parsed"
echo "parsed segments: $lines; in place $(((lines - copied - locked) * 100 / lines))%," \
	"copied onto the stack $((copied * 100 / lines))%, copied under the lock $((locked * 100 / lines))% ($locked)"

if [ -w $KMEMLEAK ]; then
	# An object must be unreferenced through two scans to be reported.
	echo scan >$KMEMLEAK && sleep 6 && echo scan >$KMEMLEAK
	leaks=$(grep -c '^unreferenced object' $KMEMLEAK)
	[ "$leaks" = 0 ] || { head -40 $KMEMLEAK; fail "kmemleak: $leaks new unreferenced objects"; }
	echo "ok: kmemleak scan clean"
else
	echo "kmemleak: not in this kernel (the debug kernel runs this scan)"
fi
