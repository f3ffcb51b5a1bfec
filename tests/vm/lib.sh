# Sourced by the tests in tests/vm: small assertions with messages that say what failed.

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
	echo "ok: $1 = '$3'"
}

# expect_fail WHAT CMD...: CMD must fail.
expect_fail() {
	local what=$1
	shift
	if "$@" 2>/dev/null; then
		fail "$what: '$*' succeeded"
	fi
	echo "ok: $what (refused)"
}

# The kernel log since the mark (see dmesg_mark). The mark clears the log buffer rather than
# counting its lines: once a long test has filled the buffer, old lines drop out at the top and
# a line count no longer says where the new ones start. (The console, which scripts/vm-run
# checks for splats, keeps everything.)
dmesg_mark() {
	dmesg -C
}
dmesg_since_mark() {
	dmesg
}

# The helper's drop lines (nf_ct_helper_log) since the mark, without the packet fields.
helper_drops_since_mark() {
	dmesg_since_mark | grep -o 'helper ftp[-0-9]* dropping packet: [^I]*' | sed 's/ *$//' | sort -u
}

# rs_counter NS NAME: one of this module's counters in namespace NS (/proc/net/nf_conntrack_ftp_rs).
rs_counter() {
	ip netns exec "$1" awk -v n="$2" '$1 == n { print $2 }' /proc/net/nf_conntrack_ftp_rs
}

# compare_c_rust DETAIL: the C/Rust table of a differential test. For each NAME of CASES (the
# text before the first '|'), RESULT[c,NAME] and RESULT[rust,NAME] are "OUTCOME; DETAILS"
# (DETAILS' first line is printed; any further lines are compared too, and printed where C
# and Rust differ); prints both outcomes and Rust's details (C's too where they differ), and
# fails if Rust's outcome is not "ok" or anything differs from C.
compare_c_rust() {
	local label=$1 bad=0 c name cr rr mark
	printf '%-16s | %-40s | %s\n' scenario C Rust
	for c in "${CASES[@]}"; do
		name=${c%%|*}
		cr=${RESULT[c,$name]} rr=${RESULT[rust,$name]}
		mark=
		if [ "$cr" != "$rr" ] || [ "${rr%%;*}" != ok ]; then
			mark="  <-- differs or fails"
			bad=$((bad + 1))
		fi
		printf '%-16s | %-40s | %s%s\n' "$name" "${cr%%;*}" "${rr%%;*}" "$mark"
		printf '%-16s   %s: %s\n' "" "$label" "$(head -1 <<<"${rr#*; }")"
		if [ "$cr" != "$rr" ]; then
			printf '%-16s   %s (C): %s\n' "" "$label" "$(head -1 <<<"${cr#*; }")"
			[[ "$cr$rr" == *$'\n'* ]] && printf 'C:\n%s\nRust:\n%s\n' "$cr" "$rr"
		fi
	done
	[ $bad = 0 ] || fail "$bad scenarios fail with Rust or differ from C"
}

# kernel_at_least MAJOR MINOR: whether the running kernel is that version or newer.
kernel_at_least() {
	local v
	v=$(uname -r | sed 's/^\([0-9]*\)\.\([0-9]*\).*/\1 \2/')
	set -- "$1" "$2" $v
	[ "$3" -gt "$1" ] || { [ "$3" -eq "$1" ] && [ "$4" -ge "$2" ]; }
}

# The helper a ruleset assigns to FTP servers on port 2121. Up to 7.2 the helpers are per
# port ("ftp-2121", registered with ports=21,2121); 7.3's C helper registers one helper,
# "ftp", and the rule alone chooses the port. This module registers "ftp-2121" on 7.3 too
# (tests/vm/test-params.sh checks that), but the tests that compare it with the C use the
# ruleset both load under.
if kernel_at_least 7 3; then
	HELPER_2121=ftp
else
	HELPER_2121=ftp-2121
fi

# readme_ruleset TEST [NAME]: the nft ruleset of the README block that follows the line
# "<!-- ruleset: tests/vm/TEST loads this block -->" (or "<!-- ruleset NAME: …"): the text
# between `nft -f - <<'EOF'` and `EOF`. The README's rulesets are the ones the tests load
# (tests/host/test_readme_blocks.py checks that each has its test).
readme_ruleset() {
	sed -n "/<!-- ruleset${2:+ $2}: tests\/vm\/$1 /,/^\`\`\`\$/p" README.md |
		sed -n "/^nft -f - <<'EOF'\$/,/^EOF\$/p" | sed '1d;$d'
}

# readme_commands TEST NAME: the shell commands of the README block that follows the line
# "<!-- commands NAME: tests/vm/TEST runs this block -->".
readme_commands() {
	sed -n "/<!-- commands $2: tests\/vm\/$1 /,/^\`\`\`\$/p" README.md | sed '1,2d;$d'
}

# readme_heredoc KIND TEST NAME: the here-document (between a line ending in <<'EOF' and EOF)
# of the README block that follows "<!-- KIND NAME: tests/vm/TEST loads this block -->", e.g.
# Open vSwitch flows (KIND flows) or a conntrackd.conf (KIND config).
readme_heredoc() {
	sed -n "/<!-- $1 $3: tests\/vm\/$2 /,/^\`\`\`\$/p" README.md |
		sed -n "/<<'EOF'\$/,/^EOF\$/p" | sed '1d;$d'
}

loaded() {
	grep -q "^$1 " /proc/modules
}

[ -n "${FTP_RS_KO-}" ] && [ -f "$FTP_RS_KO" ] || fail "FTP_RS_KO ('${FTP_RS_KO-}') is not a file: run under scripts/vm-run"
