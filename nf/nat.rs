// SPDX-License-Identifier: GPL-2.0

//! NAT for a helper (`nf_nat_helper.c`, `nf_nat_core.c`): rewriting a TCP payload, and
//! mapping a connection that arrives as expected. (The registrations NAT users look up are
//! in nf/helper.rs.)

use super::bindings;
use super::conn::{Conn, CtInfo, Direction, InetAddr};
use super::param::PortRange;
use super::skb::Skb;
use kernel::ffi::c_char;

/// Replaces `len` bytes at `offset` of the TCP payload of `skb` (a packet of `ct` in the
/// direction `info` says, TCP header at `protoff`) by `text`
/// (`nf_nat_mangle_tcp_packet`): grows or shrinks the packet, fixes the checksums, and
/// records the sequence adjustment for the rest of the connection. `false` if the packet
/// could not be made writable or large enough.
///
/// Takes `&mut Skb`: the packet's data may be reallocated, so no slice of it may be alive.
pub(crate) fn mangle_tcp(
    skb: &mut Skb,
    ct: &Conn,
    info: CtInfo,
    protoff: u32,
    offset: u32,
    len: u32,
    text: &[u8],
) -> bool {
    let Ok(text_len) = u32::try_from(text.len()) else {
        return false;
    };
    // The kernel rewrites `skb->data + protoff + doff * 4 + offset` without checking: the
    // span must lie in the payload.
    let Some(th) = skb.tcp_header(protoff) else {
        return false;
    };
    let end = protoff
        .checked_add(th.len)
        .and_then(|d| d.checked_add(offset))
        .and_then(|d| d.checked_add(len));
    if th.len < 20 || end.is_none_or(|end| end > skb.len()) {
        return false;
    }
    // SAFETY: `skb` is the packet being handled, not reached otherwise while borrowed
    // mutably; `ct` is its conntrack; `protoff` is where a TCP header of `th.len` bytes lies
    // and `offset..offset + len` of the payload after it is inside the packet (checked
    // above; the function makes the packet linear and writable first); `text` is read during
    // the call; the function takes `ct->lock` for the sequence adjustment, which no caller
    // holds.
    unsafe {
        bindings::__nf_nat_mangle_tcp_packet(
            skb.as_ptr(),
            ct.as_ptr(),
            info.0,
            protoff,
            offset,
            len,
            text.as_ptr().cast::<c_char>(),
            text_len,
            true,
        )
    }
}

/// Where a NAT mapping puts one end of a connection: an address and, optionally, a port
/// range (host order, inclusive).
#[derive(Clone, Copy, Debug)]
pub(crate) struct NatRange {
    pub(crate) addr: InetAddr,
    pub(crate) ports: Option<PortRange>,
}

impl NatRange {
    fn to_c(self) -> bindings::nf_nat_range2 {
        let mut r = pin_init::zeroed::<bindings::nf_nat_range2>();
        r.flags = bindings::NF_NAT_RANGE_MAP_IPS;
        // SAFETY: `nf_inet_addr` is 16 plain bytes like `InetAddr`, 4-aligned.
        unsafe {
            core::ptr::write((&raw mut r.min_addr).cast::<InetAddr>(), self.addr);
            core::ptr::write((&raw mut r.max_addr).cast::<InetAddr>(), self.addr);
        }
        if let Some(PortRange {
            first: min,
            last: max,
        }) = self.ports
        {
            r.flags |= bindings::NF_NAT_RANGE_PROTO_SPECIFIED;
            // SAFETY: `r` is a local; each union's `tcp` member is its 2-byte port, written
            // through a raw pointer (bindgen's union fields are zero-sized markers).
            unsafe {
                (&raw mut r.min_proto.tcp).cast::<u16>().write(min.to_be());
                (&raw mut r.max_proto.tcp).cast::<u16>().write(max.to_be());
            }
        }
        r
    }
}

/// A connection that has just arrived as an expectation of this module announced with
/// [`NatMapping::InNatPorts`](super::expect::NatMapping::InNatPorts): handed to
/// [`Helper::nat_expected`](super::adapter::Helper::nat_expected) once, before the connection is confirmed and before any NAT is
/// set up for it. [`NatArrival::map`] consumes it, so its NAT is set up at most once.
pub(crate) struct NatArrival<'a> {
    new: &'a Conn,
    master: &'a Conn,
    exp: *const bindings::nf_conntrack_expect,
}

impl<'a> NatArrival<'a> {
    /// The arrival of `new`, for the expectation `exp`; `None` if `new` has no master.
    ///
    /// # Safety
    ///
    /// `new` is a fresh, unconfirmed conntrack without NAT, created for the live expectation
    /// `exp` (whose expectfn is being called), `new`'s master is `exp`'s, and `exp` stays live
    /// for `'a`.
    pub(super) unsafe fn new(
        new: &'a Conn,
        exp: *const bindings::nf_conntrack_expect,
    ) -> Option<Self> {
        Some(Self {
            new,
            master: new.master()?,
            exp,
        })
    }

    /// The arriving connection.
    pub(crate) fn conn(&self) -> &Conn {
        self.new
    }

    /// The connection whose helper announced it.
    pub(crate) fn master(&self) -> &Conn {
        self.master
    }

    /// The direction, relative to the master, it was expected in (`exp->dir`).
    pub(crate) fn dir(&self) -> Direction {
        // SAFETY: the expectation is live during the expectfn call; `dir` is set before it
        // is registered (or zero from the allocation, for one ctnetlink made without NAT
        // data) and not changed after.
        if unsafe { (*self.exp).dir } == bindings::ip_conntrack_dir_IP_CT_DIR_REPLY {
            Direction::Reply
        } else {
            Direction::Original
        }
    }

    /// The port the announcement carried before NAT rewrote it (`exp->saved_proto`), host
    /// order: where the connection must end up.
    pub(crate) fn saved_port(&self) -> u16 {
        // SAFETY: as in `dir`: set before registration (nf/expect.rs), or zero from the
        // allocation (`kmem_cache_zalloc`) for an expectation ctnetlink made without NAT data;
        // read through a raw pointer to the union's `tcp` member.
        u16::from_be(unsafe {
            (&raw const (*self.exp).saved_proto.tcp)
                .cast::<u16>()
                .read()
        })
    }

    /// Sets up the connection's source and destination NAT (`nf_nat_setup_info`, source
    /// first, as `nf_nat_follow_master` does).
    pub(crate) fn map(self, src: NatRange, dst: NatRange) {
        let (src, dst) = (src.to_c(), dst.to_c());
        // SAFETY: `self.new` is the fresh, unconfirmed conntrack of an expectfn call, with no
        // NAT set up (consuming `self` makes this the only setup); the ranges are read during
        // the calls.
        unsafe {
            bindings::nf_nat_setup_info(
                self.new.as_ptr(),
                &src,
                bindings::nf_nat_manip_type_NF_NAT_MANIP_SRC,
            );
            bindings::nf_nat_setup_info(
                self.new.as_ptr(),
                &dst,
                bindings::nf_nat_manip_type_NF_NAT_MANIP_DST,
            );
        }
    }
}
