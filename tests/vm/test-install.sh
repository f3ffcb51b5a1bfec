#!/bin/bash
# Installed as an operator installs it — `make install` or DKMS (FTP_RS_INSTALL: the root
# they installed into, with lib/modules/<release>/updates/… and etc/modprobe.d/…) — on the
# stock kernel: modprobe finds the module; with neither helper loaded, loading the README's
# nft ruleset makes the kernel load this module on demand (nfct-helper-ftp), never the
# in-tree one; transfers pass; `modprobe nf_conntrack_ftp_rs ports=…` works.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"

if [ -z "${FTP_RS_INSTALL-}" ]; then
	echo "SKIP: needs an installed module tree and the kernel's own modules: runs on Debian's stock kernels (make check, make check-distro, make dkms-check)"
	exit 77
fi
rel=$(uname -r)
conf=etc/modprobe.d/nf_conntrack_ftp_rs.conf
[ -f "$FTP_RS_INSTALL/$conf" ] || fail "no $conf in the install at $FTP_RS_INSTALL"
installed=$(cd "$FTP_RS_INSTALL" && find lib/modules/"$rel"/updates -name 'nf_conntrack_ftp_rs.ko*')
[ -n "$installed" ] || fail "no nf_conntrack_ftp_rs.ko* under lib/modules/$rel/updates in $FTP_RS_INSTALL"
loaded nf_conntrack_ftp_rs && fail "this module is loaded already"
loaded nf_conntrack_ftp && fail "the C helper is loaded already"

# The stock module tree is read-only here (the host's, over 9p): a writable overlay for this
# test, its upper layer on a tmpfs of its own, so that the install lands where it would on
# the operator's system and depmod can index it. (/etc is writable already: vng overlays it.)
tmp=$(mktemp -d)
mods=$(readlink -f "/lib/modules/$rel")
cleanup() {
	helper_unload
	topo_down
	rm -f /etc/modprobe.d/nf_conntrack_ftp_rs.conf
	umount "$mods" 2>/dev/null
	umount "$tmp" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mount -t tmpfs none "$tmp" && mkdir "$tmp/up" "$tmp/work" &&
	mount -t overlay overlay -o "lowerdir=$mods,upperdir=$tmp/up,workdir=$tmp/work" "$mods" ||
	fail "overlay on the module tree $mods"

cp -a "$FTP_RS_INSTALL/lib/modules/$rel/updates" "$mods/" || fail "copying the installed module"
# (The stock tree has no modules.order/.builtin, which depmod warns about.)
t0=$SECONDS
depmod "$rel" 2>&1 | grep -v 'could not open modules\.' >&2
[ "${PIPESTATUS[0]}" = 0 ] || fail "depmod"
echo "ok: depmod indexed the tree with the install in $((SECONDS - t0)) s"
expect_eq "modprobe finds" "/$installed" "$(modinfo -n nf_conntrack_ftp_rs)"

# What the kernel's request for helper "ftp" (modprobe nfct-helper-ftp) would insert, as
# modprobe's dry run lists it: without the modprobe.d file both modules (the defect it
# mends; the second would fail with EBUSY), with it this module alone.
# The same for ip_nat_ftp, the NAT helper tc act_ct and Open vSwitch ask for: nf_nat_ftp
# (with the nf_conntrack_ftp it needs) or this module.
would_insert() {
	modprobe --dry-run --verbose "$1" | sed -n 's|^insmod .*/\([^/]*\)\.ko.*|\1|p' | sort -u | tr '\n' ' '
}
expect_eq "nfct-helper-ftp without the modprobe.d file" "nf_conntrack_ftp nf_conntrack_ftp_rs " \
	"$(would_insert nfct-helper-ftp)"
expect_eq "ip_nat_ftp without the modprobe.d file" "nf_conntrack_ftp nf_conntrack_ftp_rs nf_nat_ftp " \
	"$(would_insert ip_nat_ftp)"
cp "$FTP_RS_INSTALL/$conf" /etc/modprobe.d/ || fail "installing the modprobe.d file"
expect_eq "nfct-helper-ftp with the modprobe.d file" "nf_conntrack_ftp_rs " "$(would_insert nfct-helper-ftp)"
expect_eq "ip_nat_ftp with the modprobe.d file" "nf_conntrack_ftp_rs " "$(would_insert ip_nat_ftp)"

# modprobe by name, with parameters.
modprobe nf_conntrack_ftp_rs ports=21,2121 || fail "modprobe nf_conntrack_ftp_rs ports=21,2121"
expect_eq "ports after modprobe" 21,2121 "$(cat /sys/module/nf_conntrack_ftp_rs/parameters/ports)"
modprobe -r nf_conntrack_ftp_rs || fail "modprobe -r"

# The README's ruleset (the block after its "<!-- ruleset: tests/vm/test-install.sh" line), on
# the router, with no helper loaded: the kernel loads the helper it names.
ruleset=$(readme_ruleset test-install.sh)
[ -n "$ruleset" ] || fail "no ruleset found in README.md"
topo_up || fail "network set-up"
ftpd_start 21 || fail "vsftpd on 21"
$RT nft -f - <<<"$ruleset" || fail "loading the README's ruleset"
loaded nf_conntrack_ftp_rs || fail "the ruleset did not load nf_conntrack_ftp_rs"
loaded nf_conntrack_ftp && fail "the ruleset loaded the in-tree nf_conntrack_ftp too"
echo "ok: the README's ruleset loaded nf_conntrack_ftp_rs on demand, not nf_conntrack_ftp"
for opts in "" "--disable-epsv" "-P -" "-P - --disable-eprt"; do
	# shellcheck disable=SC2086
	ftp_get ftp://10.0.2.2 $opts || fail "transfer through the README's ruleset (curl $opts)"
	echo "ok: transfer with curl ${opts:-(EPSV)}"
done
lsmod | grep -q '^nf_conntrack_ftp ' && fail "lsmod shows nf_conntrack_ftp"
echo "ok: lsmod shows no nf_conntrack_ftp"

# The README's "Replacing the C helper" (the block after its "<!-- commands replace:
# tests/vm/test-install.sh" line): the C pair loaded by name (the modprobe.d file blacklists
# its aliases only) and held by the same ruleset, a transfer through it; then the README's
# commands, on the router; then transfers through this module.
$RT nft flush ruleset
modprobe -r nf_conntrack_ftp_rs || fail "modprobe -r nf_conntrack_ftp_rs"
modprobe nf_conntrack_ftp && modprobe nf_nat_ftp || fail "modprobe nf_conntrack_ftp nf_nat_ftp"
$RT nft -f - <<<"$ruleset" || fail "loading the README's ruleset with the C pair"
loaded nf_conntrack_ftp_rs && fail "the ruleset loaded this module beside the C helper"
ftp_get ftp://10.0.2.2 || fail "transfer through the C helper"
commands=$(readme_commands test-install.sh replace)
[ -n "$commands" ] || fail "no 'replace' commands found in README.md"
shown=$($RT bash -e -c "$commands") || fail "the README's replacement commands failed"
expect_eq "modules after the README's replacement" nf_conntrack_ftp_rs "$(echo "$shown" | awk '{ print $1 }' | paste -sd' ')"
for opts in "" "-P -"; do
	# shellcheck disable=SC2086
	ftp_get ftp://10.0.2.2 $opts || fail "transfer after the replacement (curl $opts)"
done
echo "ok: the README's commands replaced the C pair with this module; transfers pass"
