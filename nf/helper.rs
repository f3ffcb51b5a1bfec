// SPDX-License-Identifier: GPL-2.0

//! Conntrack helper registration (`nf_ct_helper_init` + `nf_conntrack_helpers_register`)
//! and the callbacks the conntrack core calls.

use super::bindings;
use super::conn::{Conn, CtInfo};
use super::skb::Skb;
use core::ffi::{c_int, c_uint};
use core::marker::PhantomData;
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

/// A conntrack helper's callbacks.
pub(crate) trait Helper {
    /// Called for every packet of a connection the helper is assigned to (`help`).
    /// `protoff` is the offset of the layer 4 header.
    fn help(skb: &Skb, protoff: u32, ct: &Conn, info: CtInfo) -> Verdict;

    /// Called when a conntrack with this helper is created through ctnetlink
    /// (`from_nlattr`), e.g. by conntrackd on failover.
    fn from_nlattr(ct: &Conn) -> Result;
}

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

/// Registered helpers; unregistered on drop.
///
/// # Invariants
///
/// `ptrs[..count]` are the helpers `nf_conntrack_helpers_register` registered.
pub(crate) struct Registration<T: Helper> {
    ptrs: [*mut bindings::nf_conntrack_helper; MAX_HELPERS],
    count: usize,
    _helper: PhantomData<T>,
}

// SAFETY: the pointers are only handed back to `nf_conntrack_helpers_unregister`, which may
// run on any CPU; nothing is read through them.
unsafe impl<T: Helper> Send for Registration<T> {}
// SAFETY: `&Registration` gives no access to the pointers.
unsafe impl<T: Helper> Sync for Registration<T> {}

impl<T: Helper> Registration<T> {
    /// Registers one helper per entry of `ports`, for layer 4 protocol `protonum`, named
    /// `name` on `default_port` and `name-<port>` elsewhere (the kernel's naming).
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
            // call; the callbacks match the C prototypes; `module` is this module.
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
                    Some(help_callback::<T>),
                    Some(from_nlattr_callback::<T>),
                    module.as_ptr().cast(),
                )
            };
            helpers.push(h, GFP_KERNEL)?;
        }
        let mut reg = Self {
            ptrs: [core::ptr::null_mut(); MAX_HELPERS],
            count: 0,
            _helper: PhantomData,
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

impl<T: Helper> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: by the type invariant these helpers are registered. Unregistering waits for
        // running callbacks (RCU) and removes the helper from all conntracks and expectations.
        unsafe {
            bindings::nf_conntrack_helpers_unregister(self.ptrs.as_mut_ptr(), self.count as c_uint)
        };
    }
}

/// # Safety
///
/// Called by the conntrack core with a valid skb and conntrack, alive for the call.
unsafe extern "C" fn help_callback<T: Helper>(
    skb: *mut bindings::sk_buff,
    protoff: c_uint,
    ct: *mut bindings::nf_conn,
    ctinfo: bindings::ip_conntrack_info,
) -> c_int {
    // SAFETY: valid for the duration of the callback (see `# Safety`).
    let (skb, ct) = unsafe { (Skb::from_raw(skb), Conn::from_raw(ct)) };
    match T::help(skb, protoff, ct, CtInfo(ctinfo)) {
        Verdict::Accept => bindings::NF_ACCEPT as c_int,
        Verdict::Drop => bindings::NF_DROP as c_int,
    }
}

/// # Safety
///
/// Called by ctnetlink with a valid conntrack, alive for the call.
unsafe extern "C" fn from_nlattr_callback<T: Helper>(
    _attr: *mut bindings::nlattr,
    ct: *mut bindings::nf_conn,
) -> c_int {
    from_result(|| {
        // SAFETY: valid for the duration of the callback (see `# Safety`).
        T::from_nlattr(unsafe { Conn::from_raw(ct) })?;
        Ok(0)
    })
}
