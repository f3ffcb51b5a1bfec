#!/bin/bash
# Real FTP through the router's firewall, with the C helper and with this module: vsftpd
# and curl, passive (EPSV, PASV) and active (EPRT, PORT), IPv4 and IPv6, on port 21 (helper
# "ftp") and 2121 (helper "ftp-2121"). Data connections pass only as RELATED, i.e. only
# through the helper's expectations. Prints a C/Rust table; any Rust failure or difference
# from C fails the test.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"

CASES=(
	"v4 21 epsv|ftp://10.0.2.2|"
	"v4 21 pasv|ftp://10.0.2.2|--disable-epsv"
	"v4 21 eprt|ftp://10.0.2.2|-P -"
	"v4 21 port|ftp://10.0.2.2|-P - --disable-eprt"
	"v4 2121 epsv|ftp://10.0.2.2:2121|"
	"v4 2121 pasv|ftp://10.0.2.2:2121|--disable-epsv"
	"v4 2121 eprt|ftp://10.0.2.2:2121|-P -"
	"v4 2121 port|ftp://10.0.2.2:2121|-P - --disable-eprt"
	"v6 21 epsv|ftp://[fd00:2::2]|"
	"v6 21 eprt|ftp://[fd00:2::2]|-P -"
	"v6 2121 epsv|ftp://[fd00:2::2]:2121|"
	"v6 2121 eprt|ftp://[fd00:2::2]:2121|-P -"
)

trap topo_down EXIT
topo_up || fail "network set-up"
ftpd_start 21 || fail "vsftpd on 21"
ftpd_start 2121 || fail "vsftpd on 2121"

# Negative control: without a helper the firewall must stop the data connection.
fw_up none || fail "nft ruleset without helper"
FTP_CONNECT_TIMEOUT=3 ftp_get ftp://10.0.2.2 && fail "a transfer passed without any helper: the firewall test proves nothing"
echo "ok: without a helper the passive transfer is blocked"

declare -A RESULT
for impl in c rust; do
	helper_load $impl ports=21,2121 || fail "loading the $impl helper"
	fw_up || fail "nft ruleset with the $impl helper"
	for c in "${CASES[@]}"; do
		IFS='|' read -r name url opts <<<"$c"
		events=/tmp/expect-events
		expect_events_start $events
		# shellcheck disable=SC2086
		if ftp_get "$url" $opts; then r=ok; else r="FAIL($(head -c 60 /tmp/ftp-curl.err | tr '\n' ' '))"; fi
		expect_events_stop
		# The expectation as conntrack reported it, without the timeout and the port numbers
		# that vary from run to run.
		exp=$(grep -m1 NEW $events | sed -E 's/^ *\[NEW\] *([0-9]+ )?//; s/(sport|dport)=[0-9]+/\1=N/g; s/ +/ /g')
		RESULT[$impl,$name]="$r; ${exp:-no expectation}"
	done
	$RT conntrack -L 2>/dev/null | grep -q 'helper=ftp' ||
		fail "$impl: conntrack -L shows no connection with helper=ftp"
	echo "ok: $impl: conntrack -L shows helper=ftp"
	helper_unload
done

compare_c_rust expectation
