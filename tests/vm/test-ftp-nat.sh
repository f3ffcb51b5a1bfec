#!/bin/bash
# FTP through a NAT gateway, with the C pair (nf_conntrack_ftp + nf_nat_ftp) and with this
# module: vsftpd and curl, passive and active, IPv4 and IPv6, the router's firewall letting
# data connections through only as RELATED.
#   snat   the client behind masquerade (the server must never see 10.0.1.2 / fd00:1::2);
#   dnat   the server behind DNAT: the client talks to the router (10.0.1.1, fd00:1::1);
#   both   both at once;
#   nftpp  nftables' own packetpath/nat_ftp: IPv6, DNAT router:2121 -> server:21, SNAT to the
#          router, the helper assigned in prerouting at priority 350 (after DNAT);
#   longer SNAT to 10.0.2.240 (PORT text 2 bytes longer), three transfers on one control
#          connection: the sequence adjustment must hold for the later commands.
# Then the README's NAT ruleset, with this module: passive and active transfers through it.
# curl connects to the address a 227 gives only with --no-ftp-skip-pasv-ip (by default it
# reuses the control connection's): the cases named "at 227's address" fail unless the 227 is
# rewritten to the router's address.
# For each: the transfer's outcome and what the client and the server saw of the commands
# and replies that announce data connections, captured with tcpdump, ports masked. Rust must
# pass and match C in every scenario.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"

CASES=(
	"snat v4 epsv|snat|ftp://10.0.2.2|"
	"snat v4 pasv|snat|ftp://10.0.2.2|--disable-epsv"
	"snat v4 eprt|snat|ftp://10.0.2.2|-P -"
	"snat v4 port|snat|ftp://10.0.2.2|-P - --disable-eprt"
	"snat v6 epsv|snat|ftp://[fd00:2::2]|"
	"snat v6 eprt|snat|ftp://[fd00:2::2]|-P -"
	"dnat v4 epsv|dnat|ftp://10.0.1.1|"
	"dnat v4 pasv|dnat|ftp://10.0.1.1|--disable-epsv"
	"dnat v4 pasv at 227's address|dnat|ftp://10.0.1.1|--disable-epsv --no-ftp-skip-pasv-ip"
	"dnat v4 eprt|dnat|ftp://10.0.1.1|-P -"
	"dnat v4 port|dnat|ftp://10.0.1.1|-P - --disable-eprt"
	"dnat v6 epsv|dnat|ftp://[fd00:1::1]|"
	"dnat v6 eprt|dnat|ftp://[fd00:1::1]|-P -"
	"both v4 pasv|both|ftp://10.0.1.1|--disable-epsv"
	"both v4 pasv at 227's address|both|ftp://10.0.1.1|--disable-epsv --no-ftp-skip-pasv-ip"
	"both v4 port|both|ftp://10.0.1.1|-P - --disable-eprt"
	"both v6 eprt|both|ftp://[fd00:1::1]|-P -"
	"nftpp v6 epsv|nftpp|ftp://[fd00:1::1]:2121|"
	"nftpp v6 eprt|nftpp|ftp://[fd00:1::1]:2121|-P -"
	"longer v4 port|longer|ftp://10.0.2.2|-P - --disable-eprt"
)

trap 'capture_kill; topo_down' EXIT
topo_up || fail "network set-up"
$RT ip addr add 10.0.2.240/24 dev rt1 || fail "second router address"
ftpd_start 21 || fail "vsftpd on 21"

# Negative control: behind masquerade, with no helper, vsftpd refuses the client's PORT
# (its address is not the peer's) and the transfer fails.
fw_up none || fail "nft ruleset without helper"
nat_up snat || fail "nat ruleset"
FTP_CONNECT_TIMEOUT=3 ftp_get ftp://10.0.2.2 -P - --disable-eprt &&
	fail "active FTP through masquerade passed without a helper: the test proves nothing"
echo "ok: without a helper, active FTP through masquerade fails"
nat_down

declare -A RESULT
for impl in c rust; do
	helper_load $impl ports=21,2121 || fail "loading the $impl helper"
	capture_start cl sv
	for c in "${CASES[@]}"; do
		IFS='|' read -r name mode url opts <<<"$c"
		if [ "$mode" = nftpp ]; then fw_up none; else fw_up; fi || fail "$impl: firewall for $name"
		nat_up "$mode" || fail "$impl: nat ruleset for $name"
		$RT conntrack -F 2>/dev/null
		capture_mark
		r=ok
		if [ "$mode" = longer ]; then
			# Three files on one control connection (curl reuses it): one connect.
			rm -f /tmp/ftp-got1 /tmp/ftp-got2 /tmp/ftp-got3
			# shellcheck disable=SC2086
			connects=$($CL curl -s -S --connect-timeout 3 -m 120 $opts -w '%{num_connects} ' \
				-o /tmp/ftp-got1 "$url/file.bin" -o /tmp/ftp-got2 "$url/file.bin" \
				-o /tmp/ftp-got3 "$url/file.bin" 2>/tmp/ftp-curl.err)
			for f in 1 2 3; do
				cmp -s /tmp/ftp-got$f $FTP_ROOT/file.bin || r="FAIL(transfer $f)"
			done
			[ "$connects" = "1 0 0 " ] || r="FAIL(connects: $connects)"
		else
			# shellcheck disable=SC2086
			ftp_get "$url" $opts || r="FAIL($(head -c 60 /tmp/ftp-curl.err | tr '\n' ' '))"
		fi
		capture_cut
		seen_cl=$(announcements /tmp/ftp-cap-cl) seen_sv=$(announcements /tmp/ftp-cap-sv)
		# Every case announces its data connection on both links: an empty capture proves
		# nothing (and would compare equal).
		[ -n "$seen_cl" ] && [ -n "$seen_sv" ] || r="FAIL(no announcement captured)"
		seen="client: $seen_cl / server: $seen_sv"
		case $mode in
		snat | both | longer)
			if grep -aqE '10\.0\.1\.2|10,0,1,2|fd00:1::2|fd00:0001:0000:0000:0000:0000:0000:0002' /tmp/ftp-cap-sv; then
				r="FAIL(the client's address reached the server)"
			fi
			;;
		esac
		case $mode in
		dnat | both | nftpp)
			if grep -aqE '10\.0\.2\.2|10,0,2,2|fd00:2::2|fd00:0002:0000:0000:0000:0000:0000:0002' /tmp/ftp-cap-cl; then
				r="FAIL(the server's address reached the client)"
			fi
			;;
		esac
		RESULT[$impl,$name]="$r; $seen"
		nat_down
	done
	capture_stop
	helper_unload
done

compare_c_rust "on the wire"

# The README's NAT gateway ruleset (DNAT to the server, masquerade) with the firewall.
ruleset=$(readme_ruleset test-ftp-nat.sh)
[ -n "$ruleset" ] || fail "no NAT ruleset found in README.md"
helper_load rust ports=21,2121 || fail "loading the module"
fw_up || fail "firewall"
$RT nft -f - <<<"$ruleset" || fail "loading the README's NAT ruleset"
for opts in "" "--disable-epsv" "-P -" "-P - --disable-eprt"; do
	# shellcheck disable=SC2086
	ftp_get ftp://10.0.1.1 $opts || fail "transfer through the README's NAT ruleset (curl $opts)"
	echo "ok: through the README's NAT ruleset: curl $opts"
done
