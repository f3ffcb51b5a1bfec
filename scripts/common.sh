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
