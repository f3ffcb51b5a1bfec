// SPDX-License-Identifier: GPL-2.0

//! An expectation (`struct nf_conntrack_expect`): a connection a helper announces, which
//! conntrack will then treat as RELATED.

use super::bindings;
use super::conn::{Conn, InetAddr};
use core::ptr::NonNull;
use kernel::error::to_result;
use kernel::prelude::*;

/// An expectation the helper holds a reference to; the reference is put on drop.
pub(crate) struct Expectation(NonNull<bindings::nf_conntrack_expect>);

impl Expectation {
    /// A new expectation of connections related to `master` (`nf_ct_expect_alloc`).
    pub(crate) fn alloc(master: &Conn) -> Option<Self> {
        // SAFETY: `master` is a valid conntrack.
        NonNull::new(unsafe { bindings::nf_ct_expect_alloc(master.as_ptr()) }).map(Self)
    }

    /// Fills in what to expect (`nf_ct_expect_init`, default class): a connection of
    /// `family` and layer 4 `proto` from `src` (any if `None`) to `dst`, ports in host order
    /// (any source port if `None`).
    pub(crate) fn init(
        &mut self,
        family: u16,
        src: Option<&InetAddr>,
        dst: &InetAddr,
        proto: u8,
        src_port: Option<u16>,
        dst_port: u16,
    ) {
        let src_port = src_port.map(u16::to_be);
        let dst_port = dst_port.to_be();
        // SAFETY: `self.0` is a live expectation; the address and port pointers are valid for
        // the call (the function copies them) or null where "any" is meant; `InetAddr` has the
        // layout of `union nf_inet_addr` (16 bytes, 4-aligned).
        unsafe {
            bindings::nf_ct_expect_init(
                self.0.as_ptr(),
                bindings::NF_CT_EXPECT_CLASS_DEFAULT,
                family as u8,
                src.map_or(core::ptr::null(), |a| core::ptr::from_ref(a).cast()),
                core::ptr::from_ref(dst).cast(),
                proto,
                src_port
                    .as_ref()
                    .map_or(core::ptr::null(), |p| core::ptr::from_ref(p).cast()),
                core::ptr::from_ref(&dst_port).cast(),
            )
        };
    }

    /// Registers the expectation (`nf_ct_expect_related`).
    pub(crate) fn register(&self) -> Result {
        // SAFETY: `self.0` is a live, initialized expectation.
        to_result(unsafe { bindings::nf_ct_expect_related(self.0.as_ptr(), 0) })
    }
}

impl Drop for Expectation {
    fn drop(&mut self) {
        // SAFETY: `self` owns one reference to the expectation.
        unsafe { bindings::nf_ct_expect_put(self.0.as_ptr()) };
    }
}
