# Shared settings for the scripts in this folder: sourced, not run.
# Where things are cached (outside the repository) and which tools the build uses.

CACHE=${NF_FTP_RS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nf_conntrack_ftp_rs}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian's rustc 1.96 (with its library source) must win over a rustup toolchain on PATH.
export PATH=/usr/bin:$CACHE/cargo/bin:$CACHE/venv/bin:$PATH
export RUSTC=/usr/bin/rustc
export BINDGEN=$CACHE/cargo/bin/bindgen
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
LLVM_SUFFIX=-19

die() {
	echo "$(basename "$0"): error: $*" >&2
	exit 1
}

log() {
	echo "==> $*" >&2
}

# build_clean WHAT LOG COMMAND...: runs a build, its output into LOG; dies if it fails (the
# log shown) or if it warns (a compiler's or clippy's warning or error line, shown).
build_clean() {
	local what=$1 log=$2
	shift 2
	"$@" >"$log" 2>&1 || { cat "$log" >&2; die "$what failed (log: $log)"; }
	! grep -E '(^|: )(warning|error)(\[[A-Za-z0-9_]+\])?:' "$log" >&2 ||
		die "$what warns (above; log: $log)"
}

# debian_mirror: the Debian archive this machine's own apt sources use for bookworm (one-line
# `deb` lists or deb822 `.sources`), without a trailing slash; NF_FTP_RS_DEBIAN_MIRROR
# overrides it. Backports, trixie and the chroot come from the same archive: an operator
# behind a local mirror or proxy gets everything through it, and no address is written here.
debian_mirror() {
	if [ -n "${NF_FTP_RS_DEBIAN_MIRROR-}" ]; then
		echo "${NF_FTP_RS_DEBIAN_MIRROR%/}"
		return 0
	fi
	local f uri=
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '
			# One-line form: deb [options] URI SUITE COMPONENT...
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
				if ($(i + 1) == "bookworm") { print $i; exit }
			}
			# deb822 form: a stanza with URIs: and Suites: lines, ended by an empty line.
			/^URIs:/ { uris = $2 }
			/^Suites:/ { for (j = 2; j <= NF; j++) if ($j == "bookworm") suite = 1 }
			/^Types:/ { for (j = 2; j <= NF; j++) if ($j == "deb") deb = 1 }
			/^[ \t]*$/ { if (deb && suite && uris != "") { print uris; exit } uris = ""; suite = deb = 0 }
			END { if (deb && suite && uris != "") print uris }
		' "$f" | head -1)
		[ -n "$uri" ] && break
	done
	[ -n "$uri" ] || die "no Debian bookworm source in /etc/apt (sources.list, sources.list.d): set NF_FTP_RS_DEBIAN_MIRROR to a Debian archive"
	echo "${uri%/}"
}

# The private apt configuration for trixie-backports (scripts/setup writes its sources.list):
# apt-get/apt-cache options that leave the system's sources untouched.
TRIXIE_APT=$CACHE/kernel-src/apt
TRIXIE_APT_OPTS=(-o "Dir::Etc::SourceList=$TRIXIE_APT/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$TRIXIE_APT/lists" -o "Dir::Cache=$TRIXIE_APT" -o APT::Architecture=amd64
	-o Debug::NoLocking=1)

# The unpacked kernel source (newest linux-source-7.2 fetched by scripts/setup).
kernel_src() {
	local f=$CACHE/kernel-src/CURRENT
	[ -f "$f" ] || die "no kernel source yet: run scripts/setup"
	cat "$f"
}

# Build directory of a kernel variant (normal|debug): keyed by the kernel version and a
# hash of the config fragments, so a changed fragment or a new kernel builds afresh.
kernel_build_dir() {
	local variant=$1 src ver hash
	src=$(kernel_src)
	ver=$(basename "$src")
	hash=$(cat "$REPO"/tests/kernel/base.config \
		$([ "$variant" = debug ] && echo "$REPO"/tests/kernel/debug.config) |
		sha256sum | cut -c1-12)
	echo "$CACHE/kbuild/$ver-$variant-$hash"
}

# The trixie chroot of scripts/distro-kernel: the toolchain of Debian's stock kernels.
TRIXIE_ROOT=$CACHE/distro/trixie-root

# copy_worktree DEST: the working tree's files (tracked and new, not ignored) into DEST, as
# a build elsewhere (the chroot) must see them. Stamped with the time of the copy (tar -m):
# the build's objects (MO=) outlive DEST, and a source older than an object built from
# another tree's copy would not be rebuilt.
copy_worktree() {
	rm -rf "$1" && mkdir -p "$1"
	git -C "$REPO" ls-files -z --cached --others --exclude-standard |
		(cd "$REPO" && tar --null -T - -cf -) | tar -C "$1" -m -xf -
}

# check_stock_vermagic KO DIR: KO must load where the stock modules of the kernel prepared
# in DIR (scripts/distro-kernel --print-dir) load: the same vermagic. Prints it.
check_stock_vermagic() {
	local mine stock
	mine=$(modinfo -F vermagic "$1")
	stock=$(modinfo -F vermagic "$(find "$2/boot" -name 'nf_conntrack_ftp.ko*' | head -1)")
	[ "$mine" = "$stock" ] || die "vermagic '$mine' of $1 differs from the stock modules' '$stock'"
	echo "$mine"
}

# in_chroot CMD: runs CMD (bash) in the trixie chroot, with /proc mounted while this script
# runs.
in_chroot() {
	if ! mountpoint -q "$TRIXIE_ROOT/proc"; then
		mount -t proc proc "$TRIXIE_ROOT/proc"
		trap 'umount "$TRIXIE_ROOT/proc" 2>/dev/null || true' EXIT
	fi
	chroot "$TRIXIE_ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 /bin/bash -c "$1"
}
