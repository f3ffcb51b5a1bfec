// SPDX-License-Identifier: GPL-2.0

//! Conntrack helper registration (`nf_ct_helper_init` + `nf_conntrack_helpers_register`)
//! and the callbacks the conntrack core calls.
//!
//! The kernel calls the callbacks through the C entry points of `nf/trampolines.c` (their
//! C types are what kCFI checks), which call the `extern "C"` functions at the end of this
//! file. Those are not generic: they serve the one helper type the crate binds with
//! [`BindHelper`].

use super::bindings;
use super::conn::{Conn, CtInfo};
use super::skb::Skb;
use core::ffi::{c_int, c_uint};
use kernel::error::{from_result, to_result};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::ThisModule;

/// What to do with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// `NF_ACCEPT`.
    Accept,
    /// `NF_DROP`.
    Drop,
}

/// A conntrack helper's callbacks and per-connection data.
pub(crate) trait Helper {
    /// The helper's state in each of its conntracks, kept in the help extension's `data`
    /// (32 bytes, 8-aligned, zeroed when the extension is added). Every CPU handling the
    /// connection shares it, so it is only ever seen as `&Data`: mutable parts are atomics
    /// (`Sync`); any bytes are a valid value (`FromBytes`).
    type Data: FromBytes + Sync;

    /// Called for every packet of a connection the helper is assigned to (`help`).
    /// `protoff` is the offset of the layer 4 header.
    fn help(skb: &Skb, protoff: u32, ct: &Conn, data: &Self::Data, info: CtInfo) -> Verdict;

    /// Called when a conntrack with this helper is created through ctnetlink
    /// (`from_nlattr`), e.g. by conntrackd on failover.
    fn from_nlattr(ct: &Conn, data: &Self::Data) -> Result;
}

/// Names the module's one [`Helper`]: the crate implements this once, for [`ModuleHelper`].
///
/// Each C entry point calls one Rust function, so there is room for one helper type per
/// module; coherence allows a single `impl BindHelper for ModuleHelper`, so the help data
/// of every conntrack this module's helpers serve is only ever seen as that type's `Data`.
pub(crate) trait BindHelper {
    /// The helper the callbacks dispatch to.
    type Helper: Helper;
}

/// The type the crate implements [`BindHelper`] for.
pub(crate) struct ModuleHelper;

/// The bound helper.
type Bound = <ModuleHelper as BindHelper>::Helper;

/// What one registered helper matches.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HelperPort {
    /// `NFPROTO_IPV4` or `NFPROTO_IPV6`.
    pub(crate) family: u16,
    /// The server port.
    pub(crate) port: u16,
}

/// The expectation policy of a helper (one class).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ExpectPolicy {
    /// How many expectations one connection may have pending.
    pub(crate) max_expected: u32,
    /// Seconds an expectation lives.
    pub(crate) timeout: u32,
}

/// At most this many helpers per registration.
pub(crate) const MAX_HELPERS: usize = 16;

/// Registered helpers of the bound [`Helper`]; unregistered on drop.
///
/// # Invariants
///
/// `ptrs[..count]` are the helpers `nf_conntrack_helpers_register` registered.
pub(crate) struct Registration {
    ptrs: [*mut bindings::nf_conntrack_helper; MAX_HELPERS],
    count: usize,
}

// SAFETY: the pointers are only handed back to `nf_conntrack_helpers_unregister`, which may
// run on any CPU; nothing is read through them.
unsafe impl Send for Registration {}
// SAFETY: `&Registration` gives no access to the pointers.
unsafe impl Sync for Registration {}

impl Registration {
    /// Registers one helper of the bound [`Helper`] per entry of `ports`, for layer 4
    /// protocol `protonum`, named `name` on `default_port` and `name-<port>` elsewhere (the
    /// kernel's naming).
    pub(crate) fn register(
        module: &'static ThisModule,
        name: &CStr,
        default_port: u16,
        protonum: u16,
        policy: ExpectPolicy,
        ports: &[HelperPort],
    ) -> Result<Self> {
        if ports.is_empty() || ports.len() > MAX_HELPERS {
            return Err(EINVAL);
        }
        let c_policy = bindings::nf_conntrack_expect_policy {
            max_expected: policy.max_expected,
            timeout: policy.timeout,
            name: [0; 16],
        };
        // The kernel copies each helper: this array only lives through the call.
        let mut helpers = KVec::with_capacity(ports.len(), GFP_KERNEL)?;
        for p in ports {
            let mut h = pin_init::zeroed::<bindings::nf_conntrack_helper>();
            // SAFETY: `h` is writable; `name` is NUL-terminated; the policy is read during the
            // call; the callbacks are C functions of exactly the prototypes of the fields;
            // `module` is this module.
            unsafe {
                bindings::nf_ct_helper_init(
                    &mut h,
                    p.family,
                    protonum,
                    name.as_char_ptr(),
                    default_port,
                    p.port,
                    u32::from(p.port),
                    &c_policy,
                    0,
                    Some(bindings::nf_ftp_rs_help),
                    Some(bindings::nf_ftp_rs_from_nlattr),
                    module.as_ptr().cast(),
                )
            };
            helpers.push(h, GFP_KERNEL)?;
        }
        let mut reg = Self {
            ptrs: [core::ptr::null_mut(); MAX_HELPERS],
            count: 0,
        };
        // SAFETY: `helpers` holds `ports.len()` initialized helpers, `reg.ptrs` has room for
        // as many pointers. On failure the function unregisters what it registered.
        to_result(unsafe {
            bindings::nf_conntrack_helpers_register(
                helpers.as_mut_ptr(),
                ports.len() as c_uint,
                reg.ptrs.as_mut_ptr(),
            )
        })?;
        reg.count = ports.len();
        Ok(reg)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: by the type invariant these helpers are registered. For each, 7.2 unlinks
        // it, sets its `help` to NULL, waits for callbacks in flight (`synchronize_rcu`) and
        // destroys its expectations; conntracks keep their help extension and a counted
        // reference to the kernel's copy of the helper, whose `help` is NULL from then on, so
        // none of this module's code is called for them after the return.
        unsafe {
            bindings::nf_conntrack_helpers_unregister(self.ptrs.as_mut_ptr(), self.count as c_uint)
        };
    }
}

/// The Rust end of `nf_ftp_rs_help` (nf/trampolines.c): the conntrack core's `help` call.
///
/// # Safety
///
/// `skb` and `ct` are valid for the call, and `ct`'s helper is one of this module's (the
/// core calls a helper's `help` only for the conntracks it is assigned to).
#[no_mangle]
unsafe extern "C" fn nf_ftp_rs_help_rust(
    skb: *mut bindings::sk_buff,
    protoff: c_uint,
    ct: *mut bindings::nf_conn,
    ctinfo: c_uint,
) -> c_int {
    // SAFETY: valid for the duration of the callback (see `# Safety`).
    let (skb, ct) = unsafe { (Skb::from_raw(skb), Conn::from_raw(ct)) };
    // SAFETY: `ct` is served by this module's helper, whose data type is `Bound::Data`.
    let verdict = match unsafe { ct.help_data::<<Bound as Helper>::Data>() } {
        Some(data) => Bound::help(skb, protoff, ct, data, CtInfo(ctinfo)),
        // No help data (a stale extension after a helper change): drop, as the C helpers do.
        None => Verdict::Drop,
    };
    match verdict {
        Verdict::Accept => bindings::NF_ACCEPT as c_int,
        Verdict::Drop => bindings::NF_DROP as c_int,
    }
}

/// The Rust end of `nf_ftp_rs_from_nlattr` (nf/trampolines.c): ctnetlink created `ct` with
/// this module's helper.
///
/// # Safety
///
/// `ct` is valid for the call and its help extension is this module's helper's (ctnetlink
/// adds the extension and calls `from_nlattr` of the helper it then assigns).
#[no_mangle]
unsafe extern "C" fn nf_ftp_rs_from_nlattr_rust(
    _attr: *mut bindings::nlattr,
    ct: *mut bindings::nf_conn,
) -> c_int {
    from_result(|| {
        // SAFETY: valid for the duration of the callback (see `# Safety`).
        let ct = unsafe { Conn::from_raw(ct) };
        // SAFETY: the extension is this module's helper's, whose data type is `Bound::Data`.
        let data = unsafe { ct.help_data::<<Bound as Helper>::Data>() }.ok_or(ENOENT)?;
        Bound::from_nlattr(ct, data)?;
        Ok(0)
    })
}
