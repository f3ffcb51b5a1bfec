// SPDX-License-Identifier: GPL-2.0

//! An expectation (`struct nf_conntrack_expect`): a connection a helper announces, which
//! conntrack will then treat as RELATED.

use super::adapter::{self, PacketConn};
use super::bindings;
use super::conn::{Direction, InetAddr};
use core::ptr::NonNull;
use kernel::prelude::*;

/// What an expectation expects: a connection of `family` and layer 4 `proto` from `src`
/// (any if `None`) to `dst`, ports in host order (any source port if `None`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ExpectedConn {
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
    /// A new expectation of connections related to `master`, the conntrack of the packet
    /// being helped (`nf_ct_expect_alloc`, `nf_ct_expect_init`, default class). `None` if
    /// the allocation failed.
    pub(crate) fn new(master: &PacketConn<'_>, what: &ExpectedConn) -> Option<Self> {
        // SAFETY: `master` is the valid conntrack of the packet a `help` callback handles
        // (only that callback makes a `PacketConn`): the packet path, where the kernel allows
        // expectations.
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
        unsafe { expect_related(self.0.as_ptr()) }
    }

    /// The expected destination port, in host order.
    pub(crate) fn dst_port(&self) -> u16 {
        // SAFETY: the expectation is live (type invariant) and, unregistered, seen by no one
        // else.
        unsafe { tuple_dst_port(self.0.as_ptr()) }
    }

    /// Makes this the expectation of a NATed master (what `nf_nat_ftp` sets): the expected
    /// connection comes in `dir` (relative to the master); the port announced so far is kept
    /// as the port the connection is mapped back to (`saved_proto`); when it arrives, the NAT
    /// core maps it as `mapping` says.
    pub(crate) fn expect_nat(&mut self, dir: Direction, mapping: NatMapping) {
        let exp = self.0.as_ptr();
        let expectfn: unsafe extern "C" fn(
            *mut bindings::nf_conn,
            *mut bindings::nf_conntrack_expect,
        ) = match mapping {
            NatMapping::FollowMaster => bindings::nf_nat_follow_master,
            NatMapping::InNatPorts => adapter::nf_ftp_rs_nat_expected,
        };
        let port = self.dst_port();
        // SAFETY: the expectation is live and unregistered (type invariant): no other CPU
        // reads it yet. The port is written through a raw pointer to the union's `tcp` member
        // (see `tuple_dst_port`). Both functions have the C type of `expectfn` (the Rust
        // one's is checked by the compiler, and kCFI hashes it as C's: nf/adapter.rs).
        unsafe {
            (&raw mut (*exp).saved_proto.tcp)
                .cast::<u16>()
                .write(port.to_be());
            (*exp).dir = dir as bindings::ip_conntrack_dir;
            (*exp).expectfn = Some(expectfn);
        }
    }

    /// Registers the expectation with destination port `port` (host order). If an
    /// expectation of that tuple exists already (`EBUSY`), the expectation is handed back
    /// unchanged otherwise, to try another port.
    pub(crate) fn register_on_port(
        self,
        port: u16,
    ) -> Result<RegisteredExpectation, RegisterError> {
        let exp = self.0.as_ptr();
        // SAFETY: live and unregistered (type invariant): no other CPU reads it yet; written
        // through a raw pointer to the union's `tcp` member (see `tuple_dst_port`).
        unsafe {
            (&raw mut (*exp).tuple.dst.u.tcp)
                .cast::<u16>()
                .write(port.to_be())
        };
        // SAFETY: live, initialized, not registered (type invariant).
        match unsafe { expect_related(exp) } {
            Ok(()) => Ok(RegisteredExpectation(core::mem::ManuallyDrop::new(self).0)),
            Err(e) if e == EBUSY => Err(RegisterError::Busy(self)),
            Err(_) => Err(RegisterError::Failed),
        }
    }

    /// Registers the expectation on the destination port it has or, if that is taken, on up
    /// to 128 random higher ones: the kernel's own search (`nf_nat_exp_find_port`), which is
    /// what `nf_nat_ftp` uses. `None` if no port was free, and also when the port was 0
    /// (`PORT …,0,0` and `227 …,0,0` parse, as in C): the kernel's search returns the port
    /// it registered, 0 for none, so a registration on port 0 looks like a failure. As after
    /// `nf_nat_ftp`, that expectation then stays in the table until it times out or its
    /// master goes.
    pub(crate) fn register_near_port(self) -> Option<RegisteredExpectation> {
        let port = self.dst_port();
        // SAFETY: live, initialized, not registered (type invariant); the function sets the
        // tuple's port and registers it at most once (the table takes its own references).
        let found = unsafe { bindings::nf_nat_exp_find_port(self.0.as_ptr(), port) };
        // INVARIANT (of `RegisteredExpectation`): registered when `found != 0`; our reference moves
        // over. Otherwise `self` drops here and puts our reference, registered (on port 0)
        // or not: the table's references are not ours.
        (found != 0).then(|| RegisteredExpectation(core::mem::ManuallyDrop::new(self).0))
    }
}

/// A random number below `ceil` (0 if `ceil` is 0), uniform (`get_random_u32_below`): where
/// a search for a free port starts, so that announced ports are not predictable (the
/// kernel's `nf_nat_exp_find_port` tries random ones).
pub(crate) fn random_below(ceil: u32) -> u32 {
    if ceil <= 1 {
        return 0;
    }
    // SAFETY: `ceil` is not 0, as the function requires; it has no other precondition.
    unsafe { bindings::__get_random_u32_below(ceil) }
}

/// Registers `exp`: `nf_ct_expect_related(exp, 0)`, which is inline, called as it is
/// defined (no event reported) rather than through a generated wrapper, and its result read
/// inline: both on every command.
///
/// # Safety
///
/// `exp` points to a live expectation, initialized and never registered before.
#[inline]
unsafe fn expect_related(exp: *mut bindings::nf_conntrack_expect) -> Result {
    // SAFETY: as the caller guarantees; port id 0 and no report are what
    // `nf_ct_expect_related` passes.
    let ret = unsafe { bindings::nf_ct_expect_related_report(exp, 0, 0, 0) };
    if ret < 0 {
        Err(Error::from_errno(ret))
    } else {
        Ok(())
    }
}

/// The destination port of `exp`'s tuple, in host order.
///
/// # Safety
///
/// `exp` points to a live expectation whose tuple no other CPU writes during the call.
unsafe fn tuple_dst_port(exp: *const bindings::nf_conntrack_expect) -> u16 {
    // SAFETY: live by the caller's guarantee and not written meanwhile; the tuple was
    // initialized by `nf_ct_expect_init` (or zeroed by the allocation). The union's `tcp`
    // member is its port (network order), read through a raw pointer: bindgen's union
    // fields are zero-sized markers, so a reference to one would not cover the port.
    u16::from_be(unsafe { (&raw const (*exp).tuple.dst.u.tcp).cast::<u16>().read() })
}

/// How the NAT core maps a connection that arrives as expected (C's `exp->expectfn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NatMapping {
    /// The kernel's `nf_nat_follow_master`: as the master, the port back to the saved one.
    FollowMaster,
    /// This module's expectfn (`nf_ftp_rs_nat_expected`, nf/adapter.rs).
    InNatPorts,
}

/// Why [`Expectation::register_on_port`] did not register.
pub(crate) enum RegisterError {
    /// The port is taken; the expectation, to try another.
    Busy(Expectation),
    /// Any other failure (too many expectations, the master is dying, …).
    Failed,
}

/// A registered expectation this helper still holds a reference to, put on drop.
///
/// # Invariants
///
/// `self.0` was registered by this module and this value owns one reference to it.
pub(crate) struct RegisteredExpectation(NonNull<bindings::nf_conntrack_expect>);

impl RegisteredExpectation {
    /// The port the expectation was registered on, in host order.
    pub(crate) fn dst_port(&self) -> u16 {
        // SAFETY: the expectation is live (we hold a reference); its tuple does not change
        // once registered.
        unsafe { tuple_dst_port(self.0.as_ptr()) }
    }

    /// Withdraws the expectation (`nf_ct_unexpect_related`), e.g. when the packet announcing
    /// it is dropped: 7.2 marks it dead (`NF_CT_EXPECT_DEAD`) under the expectation lock, so
    /// that no connection matches it; the table drops it when it times out or its master goes.
    pub(crate) fn unregister(self) {
        // SAFETY: live (we hold a reference) and registered by us; the function only sets a
        // flag under the expectation lock, whether or not it is still in the table. Our
        // reference is put on drop.
        unsafe { bindings::nf_ct_unexpect_related(self.0.as_ptr()) };
    }
}

impl Drop for RegisteredExpectation {
    fn drop(&mut self) {
        // SAFETY: `self` owns one reference (type invariant).
        unsafe { bindings::nf_ct_expect_put(self.0.as_ptr()) };
    }
}

impl Drop for Expectation {
    fn drop(&mut self) {
        // SAFETY: `self` owns one reference to the expectation (type invariant).
        unsafe { bindings::nf_ct_expect_put(self.0.as_ptr()) };
    }
}
