#!/bin/bash
# The README's "by address" ruleset (the block after its "<!-- ruleset by-address:
# tests/vm/test-readme-rulesets.sh" line), on the router, with this module: the helper serves
# the server address it names — transfers pass in every mode, IPv4 and IPv6 — and not
# another address of the same server, whose data connections the firewall then drops. (The
# README's other rulesets: test-install, test-ftp-nat.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"

ruleset=$(readme_ruleset test-readme-rulesets.sh by-address)
[ -n "$ruleset" ] || fail "no by-address ruleset found in README.md"
trap 'helper_unload; topo_down' EXIT
topo_up || fail "network set-up"
# A second address of the server, which the ruleset does not name.
$SV ip addr add 10.0.2.3/24 dev sv0 || fail "second server address"
ftpd_start 21 || fail "vsftpd on 21"
helper_load rust ports=21 || fail "loading the module"
$RT nft -f - <<<"$ruleset" || fail "loading the README's by-address ruleset"

for c in "10.0.2.2|" "10.0.2.2|--disable-epsv" "10.0.2.2|-P -" "10.0.2.2|-P - --disable-eprt" \
	"[fd00:2::2]|" "[fd00:2::2]|-P -"; do
	addr=${c%%|*} opts=${c#*|}
	# shellcheck disable=SC2086
	ftp_get "ftp://$addr" $opts || fail "transfer from $addr (curl $opts) through the by-address ruleset"
	echo "ok: $addr, curl ${opts:-(EPSV)}"
done
expect_eq "expectations created for the named server" yes \
	"$([ "$(rs_counter ftp-rt expect_created)" -ge 6 ] && echo yes)"
before=$(rs_counter ftp-rt segments)
for opts in "" "-P -"; do
	# shellcheck disable=SC2086
	FTP_CONNECT_TIMEOUT=3 ftp_get ftp://10.0.2.3 $opts && fail "a transfer from the address the ruleset does not name passed (curl $opts)"
	echo "ok: 10.0.2.3, curl ${opts:-(EPSV)}: blocked"
done
expect_eq "segments the helper saw from 10.0.2.3" "$before" "$(rs_counter ftp-rt segments)"
echo "ok: the helper served 10.0.2.2 and fd00:2::2 only"
