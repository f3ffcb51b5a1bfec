# SPDX-License-Identifier: GPL-2.0
# nf_conntrack_ftp_rs: build, test and demo entry points.
#
#   make              build nf_conntrack_ftp_rs.ko against KDIR (default: the project's
#                     cached kernel; e.g. KDIR=/lib/modules/$(uname -r)/build); outputs
#                     go to MO (default build/), nf_conntrack_ftp_rs.ko links to the module
#   make CLIPPY=1     the same, linted with clippy
#   make NF_FTP_RS_TEST=1  a test build: with the KUnit suites and the parser's vector table
#   make check        set-up, kernel, module, host tests, VM tests (KUnit + shell tests): on
#                     the project kernel, the kernel-dependent ones on Debian's stock 7.2
#                     and 7.3, some on 7.2's arm64, rt-amd64 and cloud-amd64 (scripts/check
#                     says which)
#   make check-all    the same with every VM test on every kernel
#   make check-debug  the VM tests on the debug kernel (KASAN, lockdep, kmemleak, failslab)
#   make check-distro [DEBIAN_KERNEL=7.2]  the VM tests on Debian's stock kernel (7.2, 7.3,
#                     or with a flavour: 7.2-rt-amd64, 7.2-cloud-amd64, 7.2-arm64, ...), the
#                     module built in a trixie chroot with that kernel's own toolchain
#   make bench [BENCH_KERNEL=7.2] [BENCH_PARAMS='iters=5000']  the in-kernel cost per packet
#                     next to the C helper, in one boot (project or stock kernel; tests/bench)
#   make demo         boot the kernel, load the module, show it at work
#   make install      install into KDIR's kernel: module (updates/), depmod, modprobe.d file
#   make deb          the Debian package nf-conntrack-ftp-rs-dkms (DKMS source), into MO
#   make dkms-check [DEBIAN_KERNEL=7.2] [TESTS=...]  that package apt-installed for Debian's
#                     stock kernel (7.2-arm64 too) in a Debian system of its architecture
#                     (DKMS builds the module), removed again (nothing left), then the VM
#                     tests on that kernel with the DKMS-built module
#   make clean

SHELL := /bin/bash
REPO := $(CURDIR)
CACHE ?= $(or $(NF_FTP_RS_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/nf_conntrack_ftp_rs)
export NF_FTP_RS_CACHE := $(CACHE)

KDIR ?= $(shell scripts/kernel --print-dir 2>/dev/null)

# The compilers are the kernel's: its configuration says which C compiler built it and which
# rustc (a module's Rust must come from the very same rustc, whose version text is recorded).
kconfig = $(shell sed -n 's/^$(1)=//p' $(KDIR)/include/config/auto.conf 2>/dev/null)
KERNEL_RUSTC := $(call kconfig,CONFIG_RUSTC_VERSION_TEXT)
# A rustc whose version is the kernel's: RUSTC if given, else the first of these that fits
# (Debian's /usr/bin/rustc before a rustup one on PATH). Expanded once (:=): the choice runs
# rustc --version.
ifndef RUSTC
RUSTC := $(firstword $(foreach r,/usr/bin/rustc $(shell command -v rustc 2>/dev/null),\
	$(if $(filter "$(KERNEL_RUSTC)","$(shell $(r) --version 2>/dev/null)"),$(r))) /usr/bin/rustc)
endif
BINDGEN ?= $(firstword $(wildcard $(CACHE)/cargo/bin/bindgen) bindgen)
ifeq ($(call kconfig,CONFIG_CC_IS_CLANG),y)
# LLVM=-<major> for a kernel built by clang <major> (the project kernel: clang 19).
ifndef LLVM
LLVM := -$(shell echo $$(($(or $(call kconfig,CONFIG_CLANG_VERSION),190000) / 10000)))
endif
export LIBCLANG_PATH ?= /usr/lib/llvm$(LLVM)/lib
endif
export PATH := $(CACHE)/cargo/bin:$(PATH)

# Build outputs go to MO (kbuild's external-module output directory), never into the
# sources: one source tree can then be built against several kernels at once.
MO ?= $(REPO)/build
KMAKE = $(MAKE) -C $(KDIR) M=$(REPO) MO=$(MO) $(if $(LLVM),LLVM=$(LLVM)) RUSTC=$(RUSTC) \
	BINDGEN=$(BINDGEN) $(if $(CLIPPY),CLIPPY=1 CLIPPY_DRIVER=$(dir $(RUSTC))clippy-driver) \
	$(if $(NF_FTP_RS_TEST),NF_FTP_RS_TEST=1)

.PHONY: all modules clean install check check-all check-debug check-distro deb dkms-check bench demo setup kernel

all: modules
	@ln -sf $(MO)/nf_conntrack_ftp_rs.ko nf_conntrack_ftp_rs.ko

modules:
	@test -n "$(KDIR)" -a -f "$(KDIR)/Makefile" || { \
		echo "error: no kernel build at KDIR='$(KDIR)': run 'make kernel' or pass KDIR=" >&2; \
		exit 1; }
	@test "$(call kconfig,CONFIG_RUST)" = y || { \
		echo "error: the kernel at KDIR='$(KDIR)' has no Rust support (CONFIG_RUST)" >&2; exit 1; }
	@test "$$($(RUSTC) --version 2>/dev/null)" = "$(KERNEL_RUSTC)" || { \
		echo "error: the kernel at KDIR was built with '$(KERNEL_RUSTC)'," >&2; \
		echo "  but RUSTC=$(RUSTC) is '$$($(RUSTC) --version 2>&1)'." >&2; \
		echo "  A module must be built by the same rustc: install that one and pass RUSTC=." >&2; \
		exit 1; }
	$(KMAKE) modules

# As an operator installs it: the module under updates/ of KDIR's kernel (or of
# INSTALL_MOD_PATH), its module index, and the modprobe.d file that makes nft's on-demand load
# of helper "ftp" insert this module, not the in-tree one (see modprobe.d/).
NF_KERNELRELEASE = $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
install: modules
	$(KMAKE) modules_install INSTALL_MOD_DIR=updates
	install -D -m 644 modprobe.d/nf_conntrack_ftp_rs.conf \
		$(INSTALL_MOD_PATH)/etc/modprobe.d/nf_conntrack_ftp_rs.conf
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(NF_KERNELRELEASE)

clean:
	rm -rf $(MO) nf_conntrack_ftp_rs.ko

setup:
	scripts/setup

kernel: setup
	scripts/kernel

check:
	scripts/check

check-all:
	scripts/check --all

# The VM tests on the debug kernel (KASAN, lockdep, kmemleak): slow, not part of `check`.
# Measured 4.4 to 13 times the project kernel's time per test under TCG (2026-12-02): about
# 3 to 4 hours for the suite on a 2-core machine, so the guest gets 6 hours here rather than
# CI's 90 minutes; TESTS= runs some of them (names as tests/vm/run-all takes them).
check-debug: setup
	scripts/kernel --debug
	NF_FTP_RS_VM_TIMEOUT=$${NF_FTP_RS_VM_TIMEOUT:-21600} scripts/vm-run --debug -- tests/vm/run-all $(TESTS)

# Debian's stock kernel of a series (trixie-backports): prepared and cached by
# scripts/distro-kernel, the whole VM suite with the stock C helper as the oracle.
DEBIAN_KERNEL ?= 7.2
check-distro: setup
	scripts/distro-kernel $(DEBIAN_KERNEL)
	scripts/vm-run --stock $(DEBIAN_KERNEL) -- tests/vm/run-all

# The Debian package nf-conntrack-ftp-rs-dkms (debian/), into MO.
deb:
	scripts/deb $(MO)

# DKMS as an operator runs it, through that package, for Debian's stock kernel, in the trixie
# chroot (amd64) or an arm64 trixie root under qemu-user (arm64: ~30 min): apt install, dkms,
# apt remove (nothing left), then the VM suite (TESTS=: some of it) with the module.
dkms-check: setup
	scripts/distro-kernel $(DEBIAN_KERNEL)
	TESTS='$(TESTS)' scripts/dkms-check $(DEBIAN_KERNEL)

# The C helper and this module on the same packets, in one boot: ratios, not a timed test.
# BENCH_KERNEL=7.2 or 7.3: on Debian's stock kernel instead (-O2, what operators run).
bench: kernel
	scripts/bench $(if $(BENCH_KERNEL),--stock $(BENCH_KERNEL)) '$(BENCH_PARAMS)'

demo: kernel
	scripts/demo
