// SPDX-License-Identifier: GPL-2.0

//! NAT for a helper (`nf_nat_helper.c`, `nf_nat_core.c`): rewriting a TCP payload, mapping a
//! connection that arrives as expected, and the two registrations NAT users look up — the
//! NAT helper (`ip_nat_<name>`: tc act_ct, Open vSwitch) and a named expectfn (ctnetlink).

use super::bindings;
use super::conn::{Conn, CtInfo, Direction, InetAddr};
use super::helper::{BindHelper, Helper, ModuleHelper};
use super::skb::Skb;
use kernel::ffi::c_char;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::types::Opaque;
use kernel::ThisModule;

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
    pub(crate) ports: Option<(u16, u16)>,
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
        if let Some((min, max)) = self.ports {
            r.flags |= bindings::NF_NAT_RANGE_PROTO_SPECIFIED;
            // SAFETY: the port unions are 2 bytes, the port in network order.
            unsafe {
                core::ptr::write((&raw mut r.min_proto).cast::<u16>(), min.to_be());
                core::ptr::write((&raw mut r.max_proto).cast::<u16>(), max.to_be());
            }
        }
        r
    }
}

/// A connection that has just arrived as an expectation of this module announced with
/// [`NatMapping::Module`](super::expect::NatMapping::Module): handed to
/// [`Helper::nat_expected`] once, before the connection is confirmed and before any NAT is
/// set up for it. [`NatArrival::map`] consumes it, so its NAT is set up at most once.
pub(crate) struct NatArrival<'a> {
    new: &'a Conn,
    master: &'a Conn,
    exp: *const bindings::nf_conntrack_expect,
}

impl NatArrival<'_> {
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
        // is registered and not changed after.
        if unsafe { (*self.exp).dir } == bindings::ip_conntrack_dir_IP_CT_DIR_REPLY {
            Direction::Reply
        } else {
            Direction::Original
        }
    }

    /// The port the announcement carried before NAT rewrote it (`exp->saved_proto`), host
    /// order: where the connection must end up.
    pub(crate) fn saved_port(&self) -> u16 {
        // SAFETY: as in `dir`; the union is 2 bytes, the port in network order.
        u16::from_be(unsafe { core::ptr::read((&raw const (*self.exp).saved_proto).cast::<u16>()) })
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

/// The Rust end of `nf_ftp_rs_nat_expected` (nf/trampolines.c): the expectfn of the
/// expectations announced with [`NatMapping::Module`](super::expect::NatMapping::Module).
///
/// # Safety
///
/// `ct` is a new, unconfirmed conntrack without NAT, created for the live expectation `exp`
/// (the conntrack core's `init_conntrack` calls `exp->expectfn` so); `ct->master` is
/// `exp->master`.
#[no_mangle]
unsafe extern "C" fn nf_ftp_rs_nat_expected_rust(
    ct: *mut bindings::nf_conn,
    exp: *mut bindings::nf_conntrack_expect,
) {
    // SAFETY: valid for the call (see `# Safety`).
    let new = unsafe { Conn::from_raw(ct) };
    let Some(master) = new.master() else {
        return;
    };
    let arrival = NatArrival { new, master, exp };
    <<ModuleHelper as BindHelper>::Helper as Helper>::nat_expected(arrival);
}

/// The NAT helper of this module's conntrack helpers, named `ip_nat_<name>` as the kernel
/// names a helper's `nat_mod_name`: tc act_ct and Open vSwitch find it with
/// `nf_nat_helper_try_module_get` (which otherwise asks modprobe for a module of that name).
/// Unregistered on drop.
pub(crate) struct NatHelperRegistration(KBox<Opaque<bindings::nf_conntrack_nat_helper>>);

// SAFETY: the registration is only handed back to `nf_nat_helper_unregister`, which may run
// on any CPU; the kernel changes the list links under its own mutex.
unsafe impl Send for NatHelperRegistration {}
// SAFETY: `&NatHelperRegistration` gives no access.
unsafe impl Sync for NatHelperRegistration {}

impl NatHelperRegistration {
    /// Registers `mod_name` (at most `NF_CT_HELPER_NAME_LEN - 1` bytes) for `module`.
    pub(crate) fn register(module: &'static ThisModule, mod_name: &CStr) -> Result<Self> {
        let mut h = pin_init::zeroed::<bindings::nf_conntrack_nat_helper>();
        let name = mod_name.to_bytes();
        if name.len() >= h.mod_name.len() {
            return Err(EINVAL);
        }
        for (d, s) in h.mod_name.iter_mut().zip(name) {
            *d = *s as c_char;
        }
        h.module = module.as_ptr().cast();
        let reg = Self(KBox::new(Opaque::new(h), GFP_KERNEL)?);
        // SAFETY: the helper lives in its own allocation until `drop` unregisters it; the
        // kernel links it into its list.
        unsafe { bindings::nf_nat_helper_register(reg.0.get()) };
        Ok(reg)
    }
}

impl Drop for NatHelperRegistration {
    fn drop(&mut self) {
        // SAFETY: registered in `register`. The list is read under RCU: wait for readers
        // before the allocation is freed.
        unsafe {
            bindings::nf_nat_helper_unregister(self.0.get());
            bindings::synchronize_rcu();
        }
    }
}

/// This module's expectfn, registered under a name (`nf_ct_helper_expectfn_register`) so
/// that ctnetlink can show and restore expectations that use it. Unregistered on drop, and
/// any expectation still using it destroyed.
pub(crate) struct ExpectFnRegistration(KBox<Opaque<bindings::nf_ct_helper_expectfn>>);

// SAFETY: as for `NatHelperRegistration`.
unsafe impl Send for ExpectFnRegistration {}
// SAFETY: `&ExpectFnRegistration` gives no access.
unsafe impl Sync for ExpectFnRegistration {}

impl ExpectFnRegistration {
    /// Registers [`NatMapping::Module`](super::expect::NatMapping::Module)'s expectfn as
    /// `name`.
    pub(crate) fn register(name: &'static CStr) -> Result<Self> {
        let mut e = pin_init::zeroed::<bindings::nf_ct_helper_expectfn>();
        e.name = name.as_char_ptr();
        e.expectfn = Some(bindings::nf_ftp_rs_nat_expected);
        let reg = Self(KBox::new(Opaque::new(e), GFP_KERNEL)?);
        // SAFETY: the entry lives in its own allocation until `drop` unregisters it; `name`
        // is static; the expectfn is the C entry point with the field's type.
        unsafe { bindings::nf_ct_helper_expectfn_register(reg.0.get()) };
        Ok(reg)
    }
}

impl Drop for ExpectFnRegistration {
    fn drop(&mut self) {
        // SAFETY: registered in `register`. The order is nft_ct's (its module exit):
        // - unlink the entry: no lookup that starts after this finds it;
        // - wait for RCU readers: ctnetlink finds an expectfn by name and inserts the
        //   expectation that uses it inside one RCU read section, so once this returns every
        //   expectation made through ctnetlink with it is in the table;
        // - destroy those expectations (destroying first would miss one inserted meanwhile,
        //   which would then outlive this module's code);
        // - wait again: expectfn calls in flight (packet path, under RCU) end before the
        //   entry and the module's code go.
        unsafe {
            bindings::nf_ct_helper_expectfn_unregister(self.0.get());
            bindings::synchronize_rcu();
            bindings::nf_ct_helper_expectfn_destroy(self.0.get());
            bindings::synchronize_rcu();
        }
    }
}
