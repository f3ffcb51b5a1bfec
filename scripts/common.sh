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
# apt-get/apt-cache options that leave the system's sources untouched. Both architectures of
# Debian's stock kernels: arm64 packages are named NAME:arm64.
TRIXIE_APT=$CACHE/kernel-src/apt
TRIXIE_APT_OPTS=(-o "Dir::Etc::SourceList=$TRIXIE_APT/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$TRIXIE_APT/lists" -o "Dir::Cache=$TRIXIE_APT" -o APT::Architecture=amd64
	-o APT::Architectures::=amd64 -o APT::Architectures::=arm64 -o Debug::NoLocking=1)

# Debian's stock kernel flavours (linux-image-<release>-<flavour>): those make check builds
# (and boots, where scripts/check says), and the other arm64 ones make check-all builds (and
# boots). scripts/vm-run boots each of them.
STOCK_FLAVOURS="amd64 cloud-amd64 rt-amd64 arm64"
STOCK_FLAVOURS_ALL="$STOCK_FLAVOURS arm64-16k cloud-arm64 rt-arm64"
# The tests an arm64 guest runs in make check (emulated, so not all): install as an operator
# does, transfers, crafted traffic, NAT and the per-CPU counters (a call into C off x86-64).
ARM64_TESTS="install ftp-transfers ftp-crafted ftp-nat counters"

# parse_stock_kernel KERNEL: a stock kernel as the scripts name it, SERIES[-FLAVOUR] (7.2,
# 7.3-rt-amd64, ...; the flavour amd64 by default), into STOCK_SERIES, STOCK_FLAVOUR and
# STOCK_ARCH (Debian's architecture: amd64 or arm64).
parse_stock_kernel() {
	STOCK_SERIES=${1%%-*}
	STOCK_FLAVOUR=amd64
	[ "$1" = "$STOCK_SERIES" ] || STOCK_FLAVOUR=${1#*-}
	case $STOCK_SERIES in 7.2 | 7.3) ;; *) die "unknown stock kernel '$1' (SERIES[-FLAVOUR]: SERIES 7.2 or 7.3)" ;; esac
	case " $STOCK_FLAVOURS_ALL " in
	*" $STOCK_FLAVOUR "*) ;;
	*) die "unknown flavour '$STOCK_FLAVOUR' in '$1' (one of: $STOCK_FLAVOURS_ALL)" ;;
	esac
	STOCK_ARCH=amd64
	case $STOCK_FLAVOUR in *arm64*) STOCK_ARCH=arm64 ;; esac
}

# dkms_version: the module's DKMS version (dkms.conf's PACKAGE_VERSION), which the Debian
# package's version must equal.
dkms_version() {
	local v
	v=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$REPO/dkms.conf")
	[ -n "$v" ] || die "no PACKAGE_VERSION in dkms.conf"
	echo "$v"
}

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

# in_root ROOT CMD: runs CMD (bash) chrooted in ROOT, with /proc mounted in a mount namespace
# of its own: several builds run in the chroot side by side (scripts/check), and one's end
# must not unmount another's /proc.
in_root() {
	unshare --mount --propagation private /bin/sh -c 'mount -t proc proc "$1/proc" && exec chroot "$1" \
		/usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 /bin/bash -c "$2"' \
		in_root "$1" "$2"
}

# in_chroot CMD: runs CMD (bash) in the trixie chroot.
in_chroot() {
	in_root "$TRIXIE_ROOT" "$1"
}
