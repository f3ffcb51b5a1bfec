// SPDX-License-Identifier: GPL-2.0

//! An expectation (`struct nf_conntrack_expect`): a connection a helper announces, which
//! conntrack will then treat as RELATED.

use super::bindings;
use super::conn::{Conn, InetAddr};
use core::ptr::NonNull;
use kernel::error::to_result;
use kernel::prelude::*;

/// What an expectation expects: a connection of `family` and layer 4 `proto` from `src`
/// (any if `None`) to `dst`, ports in host order (any source port if `None`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Expected {
    /// `NFPROTO_IPV4` or `NFPROTO_IPV6`.
    pub(crate) family: u16,
    pub(crate) src: Option<InetAddr>,
    pub(crate) dst: InetAddr,
    pub(crate) proto: u8,
    pub(crate) src_port: Option<u16>,
    pub(crate) dst_port: u16,
}

/// An expectation that is allocated and initialized but not registered; the helper holds
/// one reference to it, put on drop.
///
/// Initialized when made and consumed by [`Expectation::register`]: it cannot be registered
/// uninitialized, changed once registered, or registered twice.
///
/// # Invariants
///
/// `self.0` is a live expectation, initialized by `nf_ct_expect_init`, not registered, and
/// this value owns one reference to it.
pub(crate) struct Expectation(NonNull<bindings::nf_conntrack_expect>);

impl Expectation {
    /// A new expectation of connections related to `master` (`nf_ct_expect_alloc`,
    /// `nf_ct_expect_init`, default class). `None` if the allocation failed.
    pub(crate) fn new(master: &Conn, what: &Expected) -> Option<Self> {
        // SAFETY: `master` is a valid conntrack.
        let exp = NonNull::new(unsafe { bindings::nf_ct_expect_alloc(master.as_ptr()) })?;
        let src_port = what.src_port.map(u16::to_be);
        let dst_port = what.dst_port.to_be();
        // SAFETY: `exp` is a live expectation just allocated for `master`; the address and
        // port pointers are valid for the call (the function copies them) or null where
        // "any" is meant; `InetAddr` has the layout of `union nf_inet_addr` (16 bytes,
        // 4-aligned).
        unsafe {
            bindings::nf_ct_expect_init(
                exp.as_ptr(),
                bindings::NF_CT_EXPECT_CLASS_DEFAULT,
                what.family as u8,
                what.src
                    .as_ref()
                    .map_or(core::ptr::null(), |a| core::ptr::from_ref(a).cast()),
                core::ptr::from_ref(&what.dst).cast(),
                what.proto,
                src_port
                    .as_ref()
                    .map_or(core::ptr::null(), |p| core::ptr::from_ref(p).cast()),
                core::ptr::from_ref(&dst_port).cast(),
            )
        };
        // INVARIANT: allocated, initialized, not registered; the allocation's reference is
        // ours.
        Some(Self(exp))
    }

    /// Registers the expectation (`nf_ct_expect_related`). The table keeps its own
    /// references; the helper's is put when `self` drops here, registered or not.
    pub(crate) fn register(self) -> Result {
        // SAFETY: by the type invariant the expectation is live, initialized and not yet
        // registered; consuming `self` makes this its only registration.
        to_result(unsafe { bindings::nf_ct_expect_related(self.0.as_ptr(), 0) })
    }
}

impl Drop for Expectation {
    fn drop(&mut self) {
        // SAFETY: `self` owns one reference to the expectation (type invariant).
        unsafe { bindings::nf_ct_expect_put(self.0.as_ptr()) };
    }
}
