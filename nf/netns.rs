// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace state (`register_pernet_subsys`): counters kept per CPU, summed
//! into a `/proc/net` file that each namespace gets when it is created (or when the module
//! loads) and loses when it exits (or when the module unloads).
//!
//! The C side (nf/netns.c) holds the `pernet_operations`, whose `init` and `exit` are entry
//! points of nf/adapter.rs that call [`init`] and [`exit`] here, and allocates and sums the
//! per-CPU counters, which the kernel does only with macros; the decisions (what to allocate,
//! what to show) are here, and so is the increment on x86-64 ([`NetCounters::count`]).

use super::bindings;
use super::conn::Conn;
use core::ffi::{c_int, c_uint};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::error::to_result;
use kernel::prelude::*;
use kernel::seq_file::SeqFile;
use kernel::seq_print;
use kernel::str::CStr;
use kernel::types::Opaque;

/// The counters of the module: its `/proc/net` file and the counters' names, shown one per
/// line (`name value`) in this order. The crate implements it once, for [`ModuleCounters`].
pub(crate) trait BindCounters {
    /// The file's name in `/proc/net`.
    const FILE: &'static CStr;
    /// One name per counter; a counter is its index here.
    const NAMES: &'static [&'static str];

    /// The value shown for counter `index`, given `sum(i)`, counter `i` summed over the
    /// CPUs: by default its own sum.
    fn shown(index: usize, sum: &dyn Fn(usize) -> u64) -> u64 {
        sum(index)
    }
}

/// The type the crate implements [`BindCounters`] for.
pub(crate) struct ModuleCounters;

/// The bound counters.
type Bound = ModuleCounters;

/// The counters of one namespace, as a packet callback sees them.
#[repr(transparent)]
pub(crate) struct NetCounters(Opaque<bindings::nf_ftp_rs_net>);

impl NetCounters {
    /// The counters of the namespace of the conntrack `ct` a helper callback is handling,
    /// at `p`.
    ///
    /// # Safety
    ///
    /// `p` is `nf_ftp_rs_net_of(ct)` (nf/netns.h), taken in the current callback, and the
    /// subsystem is registered. The area is then valid as long as `ct`: the namespace
    /// outlives its conntracks, and the kernel allocates the area (zeroed) for every
    /// namespace while the subsystem is registered. (A conntrack reaches this module's code
    /// only through its helpers and expectfn, registered after the subsystem and
    /// unregistered before it: see `FtpHelperModule`.) Init and exit, the only writers,
    /// run while no packet of the namespace is handled.
    pub(crate) unsafe fn from_raw<'a>(p: *mut bindings::nf_ftp_rs_net, _ct: &'a Conn) -> &'a Self {
        // CAST: `NetCounters` is a transparent wrapper of `Opaque<nf_ftp_rs_net>`.
        // SAFETY: valid for `'a` by the caller's guarantee.
        unsafe { &*p.cast::<Self>() }
    }

    /// Adds one to counter `index` on this CPU (nothing if there is no such counter): the
    /// kernel's `this_cpu_inc()`, one instruction on x86-64 SMP kernels, where it is written
    /// out here (every segment counts, and a call into C would cost more than the rest of a
    /// segment's handling); a call into nf/netns.c elsewhere (without `CONFIG_SMP` a per-CPU
    /// pointer is a plain address, not an offset from `%gs`).
    #[inline]
    pub(crate) fn count(&self, index: usize) {
        let n = self.0.get();
        // SAFETY: the area is valid (see `from_raw`); plain fields, which init and exit
        // alone write, while no packet of the namespace is handled.
        let (counters, count) = unsafe { ((*n).counters, (*n).count) };
        if counters.is_null() || index >= count as usize {
            return;
        }
        #[cfg(all(target_arch = "x86_64", CONFIG_SMP))]
        // SAFETY: `counters` is a per-CPU allocation of `count` `unsigned long`s (8 bytes
        // here) per CPU (init), alive while the namespace is, and `index < count`. On an SMP
        // kernel a per-CPU pointer is an offset from this CPU's `%gs` base: `incq %gs:(addr)`
        // is what `this_cpu_inc()` compiles to, one instruction, so neither preemption nor an
        // interrupt can split it.
        unsafe {
            core::arch::asm!(
                "incq %gs:({addr})",
                addr = in(reg) counters.wrapping_add(index),
                options(att_syntax, nostack)
            );
        }
        #[cfg(not(all(target_arch = "x86_64", CONFIG_SMP)))]
        // SAFETY: the area is valid (see `from_raw`); the C function checks the index.
        unsafe {
            bindings::nf_ftp_rs_net_count(n, index as c_uint)
        };
    }
}

/// Whether the subsystem is registered: its `pernet_operations` is one static C object,
/// which must not be registered twice.
static REGISTERED: AtomicBool = AtomicBool::new(false);

/// The per-namespace subsystem, registered; unregistered on drop (which removes every
/// namespace's file and frees its counters).
///
/// # Invariants
///
/// `nf_ftp_rs_net_ops` is registered, by this value only.
pub(crate) struct PernetRegistration(());

impl PernetRegistration {
    /// Registers the subsystem: every namespace, existing or new, gets its counters and
    /// its file. `EBUSY` if it is registered already.
    pub(crate) fn register() -> Result<Self> {
        if REGISTERED
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(EBUSY);
        }
        // SAFETY: the ops are a static C object, not registered (checked above); the kernel
        // calls their init for every namespace before this returns, and undoes what it did
        // on failure.
        let res = to_result(unsafe {
            bindings::register_pernet_subsys(&raw mut bindings::nf_ftp_rs_net_ops)
        });
        if let Err(e) = res {
            REGISTERED.store(false, Ordering::Release);
            return Err(e);
        }
        // INVARIANT: registered just now, and no one else can (`REGISTERED`).
        Ok(Self(()))
    }
}

impl Drop for PernetRegistration {
    fn drop(&mut self) {
        // SAFETY: registered (type invariant); the kernel calls exit for every namespace.
        unsafe { bindings::unregister_pernet_subsys(&raw mut bindings::nf_ftp_rs_net_ops) };
        REGISTERED.store(false, Ordering::Release);
    }
}

/// Sets up the namespace `net` (the subsystem's `init`, nf/adapter.rs): zeroed counters and
/// its file.
///
/// # Safety
///
/// `net` is the namespace being set up; its `net_generic` area is allocated, zeroed, and no
/// one else uses it until this returns.
pub(super) unsafe fn init(net: *mut bindings::net) -> c_int {
    // SAFETY: `net` is valid and the subsystem's area exists (see `# Safety`).
    let n = unsafe { bindings::nf_ftp_rs_net_generic(net) };
    // SAFETY: a plain allocation, zeroed.
    let counters = unsafe { bindings::nf_ftp_rs_net_alloc(Bound::NAMES.len() as c_uint) };
    if counters.is_null() {
        return ENOMEM.to_errno();
    }
    // SAFETY: `n` is ours until we return (see `# Safety`).
    unsafe {
        (*n).counters = counters;
        (*n).count = Bound::NAMES.len() as c_uint;
    }
    // SAFETY: `net` is being set up, its `proc_net` directory exists (created by the proc
    // subsystem's own pernet init, which runs first); the name is a static C string.
    let file = unsafe { bindings::nf_ftp_rs_net_proc_create(net, Bound::FILE.as_char_ptr()) };
    if file.is_null() {
        // SAFETY: as above; nothing else has seen the counters.
        unsafe {
            (*n).counters = core::ptr::null_mut();
            (*n).count = 0;
            bindings::free_percpu(counters.cast());
        }
        return ENOMEM.to_errno();
    }
    0
}

/// Tears the namespace `net` down (the subsystem's `exit`): its file goes, then its
/// counters.
///
/// # Safety
///
/// `net` is a namespace that [`init`] set up and that is going away (or the subsystem is
/// being unregistered). No packet of it reaches this module's code any more: a dying
/// namespace has no devices left when the subsystems' exits run, and at unregistration the
/// helpers are gone (see `FtpHelperModule`).
pub(super) unsafe fn exit(net: *mut bindings::net) {
    // SAFETY: `net` and its area are valid (see `# Safety`).
    let n = unsafe { bindings::nf_ftp_rs_net_generic(net) };
    // SAFETY: init created the file; removing it waits for readers in its show callback.
    unsafe { bindings::nf_ftp_rs_net_proc_remove(net, Bound::FILE.as_char_ptr()) };
    // SAFETY: no reader (file gone) nor writer (see `# Safety`) is left.
    unsafe {
        let counters = (*n).counters;
        (*n).counters = core::ptr::null_mut();
        (*n).count = 0;
        bindings::free_percpu(counters.cast());
    }
}

/// Shows the file of `seq`'s namespace: one `name value` line per counter, each summed over
/// the CPUs.
///
/// # Safety
///
/// `seq` is the seq_file of a file [`init`] created, being shown (its namespace's area is
/// alive while the file is open: [`exit`] removes the file first).
pub(super) unsafe fn show(seq: *mut bindings::seq_file) -> c_int {
    // SAFETY: see `# Safety`.
    let (n, seq) = unsafe { (bindings::nf_ftp_rs_net_of_seq(seq), SeqFile::from_raw(seq)) };
    // SAFETY: `n` is alive (see `# Safety`); the C function checks the index.
    let sum = |i: usize| unsafe { bindings::nf_ftp_rs_net_sum(n, i as c_uint) };
    for (i, name) in Bound::NAMES.iter().enumerate() {
        seq_print!(seq, "{} {}\n", name, Bound::shown(i, &sum));
    }
    0
}
