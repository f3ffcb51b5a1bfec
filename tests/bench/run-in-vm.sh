#!/bin/bash
# make bench, in the guest (scripts/bench starts it through scripts/vm-run): the C helper
# with ports=2121 ("ftp-2121") and this module with ports=2122 ("ftp-2122") loaded together,
# then tests/bench/nf_ftp_bench.ko calls both on the same packets and prints the table.
. "$(dirname "$0")/../vm/lib.sh"
[ -f "${BENCH_KO-}" ] || fail "BENCH_KO ('${BENCH_KO-}') is not a file"
# No logger bound: the partial-match kind would measure the console (nf_log_syslog binds
# itself for IPv4 and IPv6 at boot).
for pf in 2 10; do echo NONE >/proc/sys/net/netfilter/nf_log/$pf; done
insmod "$C_FTP_KO" ports=2121 || fail "loading the C helper on 2121"
insmod "$FTP_RS_KO" ports=2122 || fail "loading this module on 2122"
dmesg_mark
# shellcheck disable=SC2086
insmod "$BENCH_KO" ${BENCH_PARAMS-} || { dmesg; fail "the benchmark failed"; }
rmmod nf_ftp_bench
dmesg | grep -o 'nf_ftp_bench: .*' | sed 's/^nf_ftp_bench: //'
dmesg | grep -q 'nf_ftp_bench: done' || fail "the benchmark did not finish"
grep -q 'cannot add expectation\|cannot alloc expectation' <(dmesg) && fail "a helper failed to add an expectation during the run: the comparison is unfair"
rmmod nf_conntrack_ftp_rs nf_conntrack_ftp
