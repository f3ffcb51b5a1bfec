#!/bin/bash
# The control plane as conntrackd drives it, against this module's unload: while two
# tests/vm/ct_churn.py workers create conntracks with this module's helper (with help data of
# any length) and expectations with its expectfn "ftp-nat-ports" through ctnetlink — on
# masters of the C helper too, which stay when this module goes — the module is unloaded and
# reloaded CHURN_CYCLES times (default 20). After each unload no expectation made with its
# expectfn may be left (it would call into freed code), the next load must succeed, and the
# churn must create one again before the next unload; every ctnetlink answer must be one the
# request may get. The console is checked for splats by scripts/vm-run.
# What this catches for certain is an unload that leaves such expectations (no
# nf_ct_helper_expectfn_destroy). The race the unload's order closes (ctnetlink inserting
# one between the destroy and the end of its RCU section) is microseconds wide: a run may
# not hit it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"

CYCLES=${CHURN_CYCLES:-20}
STOP=/tmp/churn-stop REC=/tmp/churn-record OUT=/tmp/churn.out
CHURN="python3 $REPO_DIR/tests/vm/ct_churn.py"
modprobe_was=$(cat /proc/sys/kernel/modprobe)
expect_max_was=$(sysctl -n net.netfilter.nf_conntrack_expect_max)
churn= churn1=
cleanup() {
	touch $STOP
	[ -z "$churn$churn1" ] || wait $churn $churn1
	echo "$modprobe_was" >/proc/sys/kernel/modprobe
	sysctl -qw net.netfilter.nf_conntrack_expect_max="$expect_max_was"
	helper_unload
	topo_down
}
trap cleanup EXIT
rm -f $STOP $REC $REC.absent $REC.1 $REC.1.absent $OUT $OUT.1
topo_up || fail "network set-up"
# A helper that is not there makes ctnetlink ask modprobe for it: on a stock kernel that would
# load the in-tree helper in the middle of the test.
echo /bin/false >/proc/sys/kernel/modprobe
# Room for the churn's window of expectations (the default depends on the guest's memory).
sysctl -qw net.netfilter.nf_conntrack_expect_max=4096
insmod "$C_FTP_KO" || fail "loading the C helper (ftp, port 21)"
insmod "$FTP_RS_KO" ports=2122 || fail "loading the module (ftp-2122)"

# until_more FILE N: waits until the churn has written more than N lines to FILE (two
# minutes at most: only a hang reaches that).
until_more() {
	local i
	for i in $(seq 1200); do
		[ "$(wc -l <"$1" 2>/dev/null || echo 0)" -gt "$2" ] && return 0
		kill -0 "$churn" 2>/dev/null || fail "the churn ended: $(tail -3 $OUT)"
		sleep 0.1
	done
	fail "the churn wrote nothing to $1 in two minutes"
}

$RT $CHURN run $STOP $REC.1 1 >$OUT.1 2>&1 &
churn1=$!
$RT $CHURN run $STOP $REC >$OUT 2>&1 &
churn=$!
# Each cycle: loaded until the churn made an expectation with ftp-nat-ports; unloaded until
# it went through a round without the module.
until_more $REC 0
for i in $(seq "$CYCLES"); do
	absent=$(wc -l <$REC.absent)
	rmmod nf_conntrack_ftp_rs || fail "cycle $i: rmmod"
	$RT $CHURN check $REC $REC.1 || fail "cycle $i: an expectation outlived the module"
	until_more $REC.absent "$absent"
	seen=$(wc -l <$REC)
	insmod "$FTP_RS_KO" ports=2122 || fail "cycle $i: insmod"
	until_more $REC "$seen"
done
touch $STOP
wait "$churn" || fail "the churn failed: $(tail -3 $OUT)"
wait "$churn1" || fail "the second churn worker failed: $(tail -3 $OUT.1)"
churn= churn1=
cat $OUT
echo "ok: $CYCLES unload/reload cycles under the churn; after each unload no expectation with ftp-nat-ports was left"

# What the churn must have gone through: each request answered both ways where the module's
# presence decides, the bad requests refused.
for want in "exp ftp-nat-ports on C's master: ok" "exp ftp-nat-ports on C's master: EINVAL" \
	"master ftp-2122 (this module): ok" "master ftp-2122 (this module): ENOTSUP" \
	"exp ftp-nat-ports on this module's master: ok" "exp unknown expectfn: EINVAL" \
	"exp class 1: EINVAL" "exp nat-follow-master on C's master: ok"; do
	grep -q "^$want x" $OUT || fail "the churn never saw '$want'"
done
echo "ok: each kind of request was answered as the module's presence decides"
