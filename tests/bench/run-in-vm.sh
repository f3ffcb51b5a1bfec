#!/bin/bash
# make bench, in the guest (scripts/bench starts it through scripts/vm-run): the C helper
# with ports=2121 ("ftp-2121") and this module with ports=2122 ("ftp-2122") loaded together,
# then tests/bench/nf_ftp_bench.ko calls both on the same packets and prints the table.
. "$(dirname "$0")/../vm/lib.sh"
. "$(dirname "$0")/../vm/net.sh"
[ -f "${BENCH_KO-}" ] || fail "BENCH_KO ('${BENCH_KO-}') is not a file"

# The session mix's weights: real sessions (vsftpd and curl in the VM's namespaces, each data
# connection kind once) through the router with this module, as its counters saw them.
topo_up || fail "network set-up"
helper_load rust ports=21,2121 || fail "loading this module"
fw_up || fail "nft ruleset"
ftpd_start 21 || fail "vsftpd"
for opts in "" "--disable-epsv" "-P -" "-P - --disable-eprt"; do
	# shellcheck disable=SC2086
	ftp_get ftp://10.0.2.2 $opts || fail "a session ('$opts') failed: $(cat /tmp/ftp-curl.err)"
done
c() { rs_counter ftp-rt "$1"; }
[ "$(c lines_parsed)" -gt 0 ] || fail "the real sessions: no line parsed"
matches=$(($(c match_port) + $(c match_eprt) + $(c match_227) + $(c match_229) + $(c partial_dropped)))
session=$(($(c segments) - $(c lines_parsed))),$(($(c lines_parsed) - matches))
session=$session,$(c match_port),$(c match_eprt),$(c match_227),$(c match_229)
session=$session,$((($(c lines_copied) + $(c lines_copied_locked)) * 100 / $(c lines_parsed)))
echo "real sessions, as this module counted them: $(ip netns exec ftp-rt cat /proc/net/nf_conntrack_ftp_rs | paste -sd' ')"
helper_unload
topo_down
# No logger bound: the partial-match kind would measure the console (nf_log_syslog binds
# itself for IPv4 and IPv6 at boot).
for pf in 2 10; do echo NONE >/proc/sys/net/netfilter/nf_log/$pf; done
insmod "$C_FTP_KO" ports=2121 || fail "loading the C helper on 2121"
insmod "$FTP_RS_KO" ports=2122 || fail "loading this module on 2122"
counters=/proc/net/nf_conntrack_ftp_rs
before=$(cat "$counters") || fail "no $counters"
dmesg_mark
# shellcheck disable=SC2086
insmod "$BENCH_KO" session="$session" ${BENCH_PARAMS-} || { dmesg; fail "the benchmark failed (a guard's reason is above)"; }
rmmod nf_ftp_bench
dmesg | grep -o 'nf_ftp_bench: .*' | sed 's/^nf_ftp_bench: //'
dmesg | grep -q 'nf_ftp_bench: done' || fail "the benchmark did not finish"
# Guard: this module's counters moved by exactly the calls the benchmark made to it, counter
# by counter (a helper that skipped work would count less), and by nothing else. (The real
# sessions above were counted by the module's earlier load.)
counted=$(dmesg | grep -o 'nf_ftp_bench: counted: .*' | sed 's/^nf_ftp_bench: counted: //')
[ -n "$counted" ] || fail "the benchmark printed no counts"
after=$(cat "$counters")
# BENCH_OLD_MODULE=1 leaves out the counters an older build of the module does not have.
names='.*'
[ "${BENCH_OLD_MODULE-}" = 1 ] && names=$(echo "$after" | awk '{ print $1 }' | paste -sd'|')
diff <(echo "$counted" | xargs -n2 | awk -v names="^($names)\$" '$2 != 0 && $1 ~ names' | sort) \
	<(join <(echo "$before" | sort) <(echo "$after" | sort) |
		awk '{ d = $3 - $2; if (d) print $1, d }' | sort) ||
	fail "this module's counters (right) differ from the calls the benchmark made (left)"
echo "guards: every verdict and expectation as the kind's, for both helpers; this module's counters match the calls made"
rmmod nf_conntrack_ftp_rs nf_conntrack_ftp
