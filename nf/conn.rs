// SPDX-License-Identifier: GPL-2.0

//! The conntrack entry (`struct nf_conn`): family, tuples, NAT status, master and the
//! helper's per-connection data.

use super::bindings;
use core::ffi::c_void;
use kernel::prelude::*;
use kernel::types::Opaque;

/// `NFPROTO_IPV4` (= `AF_INET`), as conntrack stores a family.
#[cfg_attr(nf_helper_api_7_3, allow(dead_code))]
pub(crate) const NFPROTO_IPV4: u16 = bindings::NFPROTO_IPV4 as u16;
/// `NFPROTO_IPV6` (= `AF_INET6`).
pub(crate) const NFPROTO_IPV6: u16 = bindings::NFPROTO_IPV6 as u16;
/// `IPPROTO_TCP`, as conntrack stores a layer 4 protocol.
pub(crate) const IPPROTO_TCP: u8 = bindings::IPPROTO_TCP as u8;

/// A conntrack entry handed to a helper callback.
#[repr(transparent)]
pub(crate) struct Conn(Opaque<bindings::nf_conn>);

/// One of the two directions of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// `IP_CT_DIR_ORIGINAL`: as the first packet went.
    Original = 0,
    /// `IP_CT_DIR_REPLY`.
    Reply = 1,
}

impl Direction {
    /// The other direction.
    pub(crate) fn other(self) -> Self {
        match self {
            Direction::Original => Direction::Reply,
            Direction::Reply => Direction::Original,
        }
    }

    /// As an array index (C's `dir`).
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// An address as in a tuple (`union nf_inet_addr`): IPv4 in the first 4 bytes, the rest 0.
#[repr(C, align(4))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InetAddr(pub(crate) [u8; 16]);

/// The packet's conntrack state (`enum ip_conntrack_info`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct CtInfo(pub(crate) bindings::ip_conntrack_info);

impl CtInfo {
    /// `IP_CT_ESTABLISHED` or `IP_CT_ESTABLISHED_REPLY`: traffic has been seen both ways.
    pub(crate) fn is_established(self) -> bool {
        self.0 == bindings::ip_conntrack_info_IP_CT_ESTABLISHED
            || self.0 == bindings::ip_conntrack_info_IP_CT_ESTABLISHED_REPLY
    }

    /// The packet's direction (C's `CTINFO2DIR`).
    pub(crate) fn direction(self) -> Direction {
        if self.0 >= bindings::ip_conntrack_info_IP_CT_IS_REPLY {
            Direction::Reply
        } else {
            Direction::Original
        }
    }
}

impl Conn {
    /// # Safety
    ///
    /// `ptr` must point to a valid `nf_conn` that stays alive for `'a` (true for the `ct`
    /// argument of a helper callback, for the callback's duration).
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::nf_conn) -> &'a Self {
        // CAST: `Conn` is a transparent wrapper of `Opaque<nf_conn>`, itself of `nf_conn`.
        // SAFETY: valid for `'a` by the caller's guarantee.
        unsafe { &*ptr.cast() }
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::nf_conn {
        self.0.get()
    }

    /// The layer 3 protocol (`nf_ct_l3num`): [`NFPROTO_IPV4`] or [`NFPROTO_IPV6`].
    pub(crate) fn l3num(&self) -> u16 {
        // SAFETY: the tuple is valid (see `tuple`); `l3num` is a plain field, the original
        // tuple's as `nf_ct_l3num` reads it.
        unsafe { (*self.tuple(Direction::Original)).src.l3num }
    }

    fn tuple(&self, dir: Direction) -> *const bindings::nf_conntrack_tuple {
        // SAFETY: `self` is valid; `tuplehash` has one entry per direction. The original tuple
        // never changes. The reply tuple changes when NAT is set up (`nf_nat_setup_info`),
        // before the conntrack is confirmed, by the CPU that handles its first packet: before
        // the helper hook (which runs after the NAT hooks), in `NatArrival::map` for a data
        // connection of `nat_ports` (which consumes the arrival), or by ctnetlink after
        // `from_nlattr` on the same CPU. Only a pointer is made here; callers read the
        // fields by copy.
        unsafe { &raw const (*self.as_ptr()).tuplehash[dir.index()].tuple }
    }

    /// The source address of direction `dir`'s tuple.
    pub(crate) fn src(&self, dir: Direction) -> InetAddr {
        // SAFETY: the tuple is valid (see `tuple`); `nf_inet_addr` is 16 plain bytes.
        InetAddr(unsafe {
            core::ptr::read((&raw const (*self.tuple(dir)).src.u3).cast::<[u8; 16]>())
        })
    }

    /// The destination address of direction `dir`'s tuple.
    pub(crate) fn dst(&self, dir: Direction) -> InetAddr {
        // SAFETY: as in `src`.
        InetAddr(unsafe {
            core::ptr::read((&raw const (*self.tuple(dir)).dst.u3).cast::<[u8; 16]>())
        })
    }

    /// Whether NAT changes this connection's addresses or ports (`IPS_NAT_MASK`: source or
    /// destination NAT set up).
    pub(crate) fn is_natted(&self) -> bool {
        // SAFETY: `self` is valid; `status` is a word the kernel changes with atomic bit
        // operations, read once here as `READ_ONCE` does.
        let status = unsafe { core::ptr::read_volatile(&raw const (*self.as_ptr()).status) };
        status & bindings::ip_conntrack_status_IPS_NAT_MASK as kernel::ffi::c_ulong != 0
    }

    /// The connection this one was expected by (`ct->master`), if any.
    pub(crate) fn master(&self) -> Option<&Conn> {
        // SAFETY: `self` is valid; `master` is set before the conntrack is handed out and
        // not changed after.
        let m = unsafe { (*self.as_ptr()).master };
        // SAFETY: a conntrack holds a reference to its master for its whole life, so the
        // master outlives `&self`.
        (!m.is_null()).then(|| unsafe { Conn::from_raw(m) })
    }

    /// The helper's data in the conntrack's help extension, at `p`: what the C entry point
    /// of the callback (nf/trampolines.c) found through `nfct_help(ct)` for `self` — 32
    /// bytes, 8-aligned, zeroed when the extension is added. `None` if `p` is null (no
    /// extension).
    ///
    /// The reference lives no longer than `&self`, i.e. the callback that was handed the
    /// conntrack: the extension area moves when another extension is added, which happens
    /// only while the conntrack is unconfirmed and never during a helper callback.
    ///
    /// # Safety
    ///
    /// `p` is null or the data of this conntrack's help extension (`nfct_help(ct)->data`),
    /// taken during the current callback. The help extension must belong to the helper whose
    /// data type is `D` (the helper the calling callback serves): every access to these
    /// bytes, on every CPU, is then through `&D`, so a `D` made of atomics is never read as
    /// plain bytes while another CPU writes.
    pub(crate) unsafe fn help_data<D: FromBytes + Sync>(&self, p: *mut c_void) -> Option<&D> {
        const {
            assert!(
                core::mem::size_of::<D>() <= 32,
                "help data larger than nf_conn_help.data"
            );
            assert!(
                core::mem::align_of::<D>() <= 8,
                "help data aligned beyond nf_conn_help.data"
            );
        }
        // SAFETY: a non-null `p` points to the 32-byte, 8-aligned `data` of the conntrack's
        // help extension (the caller's guarantee), which stays in place while `self` is
        // borrowed (see above); `D` fits (checked above) and accepts any bytes (`FromBytes`);
        // all accesses are through a shared `&D` of this one type (the caller's guarantee),
        // `D: Sync`.
        (!p.is_null()).then(|| unsafe { &*p.cast::<D>() })
    }
}
