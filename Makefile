# SPDX-License-Identifier: GPL-2.0
# nf_conntrack_ftp_rs: build, test and demo entry points.
#
#   make              build nf_conntrack_ftp_rs.ko against KDIR (default: the project's
#                     cached kernel; e.g. KDIR=/lib/modules/$(uname -r)/build); outputs
#                     go to MO (default build/), nf_conntrack_ftp_rs.ko links to the module
#   make CLIPPY=1     the same, linted with clippy
#   make check        set-up, kernel, module, host tests, VM tests (KUnit + shell tests)
#   make check-debug  the VM tests on the debug kernel (KASAN, lockdep, kmemleak)
#   make demo         boot the kernel, load the module, show it at work
#   make install      modules_install into KDIR's kernel
#   make clean

SHELL := /bin/bash
REPO := $(CURDIR)
CACHE ?= $(or $(NF_FTP_RS_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/nf_conntrack_ftp_rs)
export NF_FTP_RS_CACHE := $(CACHE)

# Debian's rustc 1.96 (with its library source) must win over any rustup toolchain.
export PATH := /usr/bin:$(CACHE)/cargo/bin:$(PATH)
RUSTC ?= /usr/bin/rustc
BINDGEN ?= $(CACHE)/cargo/bin/bindgen
LLVM ?= -19
export LIBCLANG_PATH ?= /usr/lib/llvm-19/lib

KDIR ?= $(shell scripts/kernel --print-dir 2>/dev/null)

# Build outputs go to MO (kbuild's external-module output directory), never into the
# sources: one source tree can then be built against several kernels at once.
MO ?= $(REPO)/build
KMAKE = $(MAKE) -C $(KDIR) M=$(REPO) MO=$(MO) LLVM=$(LLVM) RUSTC=$(RUSTC) BINDGEN=$(BINDGEN) \
	$(if $(CLIPPY),CLIPPY=1)

.PHONY: all modules clean install check check-debug demo setup kernel

all: modules
	@ln -sf $(MO)/nf_conntrack_ftp_rs.ko nf_conntrack_ftp_rs.ko

modules:
	@test -n "$(KDIR)" -a -f "$(KDIR)/Makefile" || { \
		echo "error: no kernel build at KDIR='$(KDIR)': run 'make kernel' or pass KDIR=" >&2; \
		exit 1; }
	$(KMAKE) modules

install: modules
	$(KMAKE) modules_install

clean:
	rm -rf $(MO) nf_conntrack_ftp_rs.ko

setup:
	scripts/setup

kernel: setup
	scripts/kernel

check: kernel
	scripts/check

# The VM tests on the debug kernel (KASAN, lockdep, kmemleak): slow, not part of `check`.
check-debug: setup
	scripts/kernel --debug
	scripts/vm-run --debug -- tests/vm/run-all

demo: kernel
	scripts/demo
