// SPDX-License-Identifier: GPL-2.0

//! The door: every function the kernel calls in this module (as `Adapter<T>` in
//! `rust/kernel/net/phy.rs`), and the traits the crate implements to receive those calls.
//!
//! | entry point              | called by                                   | C trampoline |
//! |--------------------------|---------------------------------------------|--------------|
//! | `nf_ftp_rs_help_rust`    | a helper's `help`                           | yes          |
//! | `nf_ftp_rs_from_nlattr`  | a helper's `from_nlattr` (ctnetlink)        | no           |
//! | `nf_ftp_rs_nat_expected` | an expectation's `expectfn` (`nat_ports`)   | no           |
//! | `nf_ftp_rs_loose_set`    | `loose`'s `set` (nf/param.c)                | no           |
//! | `nf_ftp_rs_nat_ports_*`  | `nat_ports`' `set` and `get` (nf/param.c)   | no           |
//! | `nf_ftp_rs_net_init`/`_exit` | the `pernet_operations` (nf/netns.c)    | no           |
//! | `nf_ftp_rs_net_show`     | the `/proc/net` file's `show` (nf/netns.c)  | no           |
//!
//! Why one trampoline: with kCFI every indirect call checks a hash of the callee's C type.
//! Rust encodes pointers to `#[repr(C)]` structs and integers as C does, but has no C enum:
//! `help` takes an `enum ip_conntrack_info`, which bindgen makes a `c_uint`, and the hashes
//! differ (a Rust `help` stops the kernel at the first packet). So `help` is the C function
//! `nf_ftp_rs_help` (nf/trampolines.c), which calls `nf_ftp_rs_help_rust` directly (a
//! direct call is not checked); it also reads the help data and the namespace's counters
//! there, where `nfct_help()` and `net_generic()` are inline. No other signature has an enum.

use super::bindings;
use super::conn::{Conn, CtInfo};
use super::nat::NatArrival;
use super::netns::{self, NetCounters};
use super::param::{self, PortRange, Shown};
use super::skb::Skb;
use core::ffi::{c_int, c_uint, c_void};
use kernel::error::from_result;
use kernel::ffi::c_char;
use kernel::prelude::*;
use kernel::str::{kstrtobool, CStr, Formatter};

// The entry points that C code names (nf/trampolines.c, nf/param.c, nf/netns.c) have the
// types of their C declarations, as bindgen reads them from the headers: a drift fails the
// build here rather than kCFI at the first call. (The other two are assigned from Rust to
// fields of the C types, which the compiler checks.)
const _: () = {
    let _ = [bindings::nf_ftp_rs_help_rust, nf_ftp_rs_help_rust];
    let _ = [bindings::nf_ftp_rs_loose_set, nf_ftp_rs_loose_set];
    let _ = [bindings::nf_ftp_rs_nat_ports_set, nf_ftp_rs_nat_ports_set];
    let _ = [bindings::nf_ftp_rs_nat_ports_get, nf_ftp_rs_nat_ports_get];
    let _ = [bindings::nf_ftp_rs_net_init, nf_ftp_rs_net_init];
    let _ = [bindings::nf_ftp_rs_net_exit, nf_ftp_rs_net_exit];
    let _ = [bindings::nf_ftp_rs_net_show, nf_ftp_rs_net_show];
};

/// What to do with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// `NF_ACCEPT`.
    Accept,
    /// `NF_DROP`.
    Drop,
}

/// The conntrack of the packet a `help` callback handles; it dereferences to the [`Conn`].
///
/// Expectations are made for this conntrack only
/// ([`Expectation::new`](super::expect::Expectation::new)): the kernel allows them on the
/// packet path only (its comment on `nf_ct_expect_init`). The conntrack that ctnetlink hands
/// to `from_nlattr` is not confirmed yet and is freed with `nf_conntrack_free()` on
/// ctnetlink's error paths, under an expectation that would still hold it. Only the `help`
/// entry point makes a `PacketConn`, so safe code cannot make an expectation anywhere else.
pub(crate) struct PacketConn<'a>(&'a Conn);

impl core::ops::Deref for PacketConn<'_> {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        self.0
    }
}

/// A conntrack helper's callbacks and per-connection data.
pub(crate) trait Helper {
    /// The helper's state in each of its conntracks, kept in the help extension's `data`
    /// (32 bytes, 8-aligned, zeroed when the extension is added). Every CPU handling the
    /// connection shares it, so it is only ever seen as `&Data`: mutable parts are atomics
    /// (`Sync`); any bytes are a valid value (`FromBytes`).
    type Data: FromBytes + Sync;

    /// Called for every packet of a connection the helper is assigned to (`help`).
    /// `protoff` is the offset of the layer 4 header; `counters` are those of the
    /// connection's namespace. The packet is the helper's to rewrite (NAT, nf/nat.rs).
    fn help(
        skb: &mut Skb,
        protoff: u32,
        ct: &PacketConn<'_>,
        data: &Self::Data,
        counters: &NetCounters,
        info: CtInfo,
    ) -> Verdict;

    /// Called when a conntrack with this helper is created through ctnetlink
    /// (`from_nlattr`), e.g. by conntrackd on failover.
    fn from_nlattr(ct: &Conn, data: &Self::Data) -> Result;

    /// Called when a connection arrives that an expectation announced with
    /// [`NatMapping::InNatPorts`](super::expect::NatMapping::InNatPorts) expects: sets up its NAT.
    fn nat_expected(arrival: NatArrival<'_>);
}

/// Names the module's one [`Helper`]: the crate implements this once, for [`ModuleHelper`].
///
/// Each entry point is one function, so there is room for one helper type per module;
/// coherence allows a single `impl BindHelper for ModuleHelper`, so the help data of every
/// conntrack this module's helpers serve is only ever seen as that type's `Data`.
pub(crate) trait BindHelper {
    /// The helper the callbacks dispatch to.
    type Helper: Helper;
}

/// The type the crate implements [`BindHelper`] for.
pub(crate) struct ModuleHelper;

/// The bound helper.
type Bound = <ModuleHelper as BindHelper>::Helper;

/// The Rust end of `nf_ftp_rs_help` (nf/trampolines.c): the conntrack core's `help` call.
///
/// # Safety
///
/// `skb` and `ct` are valid for the call, `ct`'s helper is one of this module's (the core
/// calls a helper's `help` only for the conntracks it is assigned to), `help_data` is the
/// data of `nfct_help(ct)` (NULL without the extension) and `net` is `nf_ftp_rs_net_of(ct)`.
#[no_mangle]
unsafe extern "C" fn nf_ftp_rs_help_rust(
    skb: *mut bindings::sk_buff,
    protoff: c_uint,
    ct: *mut bindings::nf_conn,
    ctinfo: c_uint,
    help_data: *mut c_void,
    net: *mut bindings::nf_ftp_rs_net,
) -> c_int {
    // SAFETY: valid for the duration of the callback (see `# Safety`); the packet belongs
    // to the path calling the helper.
    let (skb, ct) = unsafe { (Skb::from_raw_mut(skb), Conn::from_raw(ct)) };
    // SAFETY: `net` is `ct`'s, taken in this callback; the module registers its per-namespace
    // subsystem before its helpers (see `FtpHelperModule`).
    let counters = unsafe { NetCounters::from_raw(net, ct) };
    // SAFETY: `help_data` is `ct`'s, taken in this callback; `ct` is served by this module's
    // helper, whose data type is `Bound::Data`.
    let verdict = match unsafe { ct.help_data::<<Bound as Helper>::Data>(help_data) } {
        Some(data) => {
            let info = CtInfo(ctinfo);
            Bound::help(skb, protoff, &PacketConn(ct), data, counters, info)
        }
        // No help data (a stale extension after a helper change): drop, as the C helpers do.
        None => Verdict::Drop,
    };
    match verdict {
        Verdict::Accept => bindings::NF_ACCEPT as c_int,
        Verdict::Drop => bindings::NF_DROP as c_int,
    }
}

/// A helper's `from_nlattr`. ctnetlink calls it in two cases, with the helper's data in
/// `ct`'s help extension either way: when it creates `ct` (not yet confirmed) with this
/// module's helper, right after adding the extension and before assigning the helper; and
/// when a request for an existing `ct` names the helper it already has.
///
/// # Safety
///
/// `ct` is valid for the call and its help extension, if any, is this module's helper's.
#[no_mangle]
pub(super) unsafe extern "C" fn nf_ftp_rs_from_nlattr(
    _attr: *mut bindings::nlattr,
    ct: *mut bindings::nf_conn,
) -> c_int {
    from_result(|| {
        // SAFETY: valid for the duration of the callback (see `# Safety`).
        let ct = unsafe { Conn::from_raw(ct) };
        // SAFETY: `ct` is valid; the function reads its extension area.
        let help_data = unsafe { bindings::nf_ftp_rs_help_data(ct.as_ptr()) };
        // SAFETY: `help_data` is `ct`'s, taken in this callback; the extension is this
        // module's helper's, whose data type is `Bound::Data`.
        let data = unsafe { ct.help_data::<<Bound as Helper>::Data>(help_data) }.ok_or(ENOENT)?;
        Bound::from_nlattr(ct, data)?;
        Ok(0)
    })
}

/// The expectfn of the expectations announced with
/// [`NatMapping::InNatPorts`](super::expect::NatMapping::InNatPorts).
///
/// # Safety
///
/// `ct` is a new, unconfirmed conntrack without NAT, created for the live expectation `exp`
/// (the conntrack core's `init_conntrack` calls `exp->expectfn` so); `ct->master` is
/// `exp->master`.
#[no_mangle]
pub(super) unsafe extern "C" fn nf_ftp_rs_nat_expected(
    ct: *mut bindings::nf_conn,
    exp: *mut bindings::nf_conntrack_expect,
) {
    // SAFETY: valid for the call (see `# Safety`).
    let new = unsafe { Conn::from_raw(ct) };
    // SAFETY: as above: `exp` is live and `new` is its fresh conntrack.
    if let Some(arrival) = unsafe { NatArrival::new(new, exp) } {
        Bound::nat_expected(arrival);
    }
}

/// The parameter's name and the value being written, for log lines.
///
/// # Safety
///
/// `val` is a NUL-terminated string or null, `kp` a valid descriptor (the kernel calls a
/// parameter's `set` so).
unsafe fn set_args<'a>(
    val: *const c_char,
    kp: *const bindings::kernel_param,
) -> (&'a CStr, Option<&'a CStr>) {
    // SAFETY: see `# Safety`; a descriptor's `name` is a static C string.
    unsafe {
        let name = CStr::from_char_ptr((*kp).name);
        (name, (!val.is_null()).then(|| CStr::from_char_ptr(val)))
    }
}

/// Whether `kp` is set at run time (through sysfs), not while its module loads: only such
/// changes are logged (the load line shows the values the module starts with).
///
/// # Safety
///
/// `kp` is a valid descriptor of a module being loaded or loaded.
unsafe fn set_at_run_time(kp: *const bindings::kernel_param) -> bool {
    // SAFETY: see `# Safety`: `mod_` is this module, alive during the call. The module loader
    // may write `state` meanwhile: read it once, as C's `READ_ONCE` does.
    unsafe {
        let module = (*kp).mod_;
        !module.is_null()
            && core::ptr::read_volatile(&raw const (*module).state)
                == bindings::module_state_MODULE_STATE_LIVE
    }
}

/// The text of a value for a log line: what the user wrote, less a trailing newline.
fn written(text: Option<&CStr>) -> &str {
    text.map_or("", |t| t.to_str().unwrap_or("?").trim_end())
}

/// `loose`'s `set`: parses as `param_set_bool` does (no value means `Y`) and logs a change
/// at run time.
///
/// # Safety
///
/// `val` is a NUL-terminated string or null, `kp` `loose`'s descriptor.
#[no_mangle]
unsafe extern "C" fn nf_ftp_rs_loose_set(
    val: *const c_char,
    kp: *const bindings::kernel_param,
) -> c_int {
    // SAFETY: see `# Safety`.
    let (name, text) = unsafe { set_args(val, kp) };
    let value = match text.map(kstrtobool) {
        None => true,
        Some(Ok(v)) => v,
        Some(Err(e)) => {
            let w = written(text);
            pr_err!("{name}: '{w}' is not a boolean (Y, N, 1, 0, on or off)\n");
            return e.to_errno();
        }
    };
    // SAFETY: this is `loose`'s `set` (see `# Safety`).
    let old = unsafe { param::set_loose(value) };
    // SAFETY: `kp` is valid (see `# Safety`).
    if old != value && unsafe { set_at_run_time(kp) } {
        let yn = |b| if b { 'Y' } else { 'N' };
        pr_info!("{name}: {} -> {}\n", yn(old), yn(value));
    }
    0
}

/// `nat_ports`' `set`: a [`PortRange`], one port or empty; anything else is `EINVAL`.
///
/// # Safety
///
/// `val` is a NUL-terminated string or null, `kp` `nat_ports`' descriptor.
#[no_mangle]
unsafe extern "C" fn nf_ftp_rs_nat_ports_set(
    val: *const c_char,
    kp: *const bindings::kernel_param,
) -> c_int {
    // SAFETY: see `# Safety`.
    let (name, text) = unsafe { set_args(val, kp) };
    let Ok(range) = PortRange::parse(text.map_or(&b""[..], CStr::to_bytes)) else {
        let w = written(text);
        pr_err!(
            "{name}: '{w}' is not a port range (FIRST-LAST or PORT, ports 1-65535, FIRST <= LAST, or empty)\n"
        );
        return EINVAL.to_errno();
    };
    let old = param::set_nat_ports(range);
    // SAFETY: `kp` is valid (see `# Safety`).
    if old != range && unsafe { set_at_run_time(kp) } {
        pr_info!("{name}: '{}' -> '{}'\n", Shown(old), Shown(range));
    }
    0
}

/// `nat_ports`' `get`: the value as sysfs shows it.
///
/// # Safety
///
/// `buffer` has room for a page (the kernel calls a parameter's `get` so).
#[no_mangle]
unsafe extern "C" fn nf_ftp_rs_nat_ports_get(
    buffer: *mut c_char,
    _kp: *const bindings::kernel_param,
) -> c_int {
    let mut text = [0u8; 16];
    let mut f = Formatter::new(&mut text);
    // "65535-65535\n" fits.
    let _ = core::fmt::write(&mut f, fmt!("{}\n", Shown(param::nat_ports())));
    let n = f.bytes_written();
    // SAFETY: `buffer` has room for a page, more than the 16 bytes of `text`.
    unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), buffer, n) };
    n as c_int
}

/// The per-namespace subsystem's `init` (nf/netns.c): a new namespace (or every existing
/// one, at registration) gets its counters and its file.
///
/// # Safety
///
/// `net` is the namespace being set up; the kernel has allocated its (zeroed) area.
#[no_mangle]
unsafe extern "C" fn nf_ftp_rs_net_init(net: *mut bindings::net) -> c_int {
    // SAFETY: see `# Safety`; no one else uses the area until this returns.
    unsafe { netns::init(net) }
}

/// The per-namespace subsystem's `exit` (nf/netns.c).
///
/// # Safety
///
/// `net` is a namespace `init` set up that is going away (or the subsystem is being
/// unregistered): no packet of it reaches this module's code any more.
#[no_mangle]
unsafe extern "C" fn nf_ftp_rs_net_exit(net: *mut bindings::net) {
    // SAFETY: see `# Safety`.
    unsafe { netns::exit(net) }
}

/// The `/proc/net` file's `show` (nf/netns.c).
///
/// # Safety
///
/// `seq` is the seq_file being shown, of a file `init` created.
#[no_mangle]
unsafe extern "C" fn nf_ftp_rs_net_show(seq: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
    // SAFETY: see `# Safety`.
    unsafe { netns::show(seq) }
}
