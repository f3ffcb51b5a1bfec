// SPDX-License-Identifier: GPL-2.0

//! Conntrack helper registration (`nf_ct_helper_init` + `nf_conntrack_helpers_register`)
//! and the callbacks the conntrack core calls.
//!
//! Linux 7.3 changed `nf_ct_helper_init` (no ports, the name as given) and registers one
//! helper for both families; Kbuild sets `--cfg nf_helper_api_7_3` there. The helpers this
//! layer registers carry the same names on both: "ftp", "ftp-2121", ….
//!
//! The kernel calls the callbacks through the C entry points of `nf/trampolines.c` (their
//! C types are what kCFI checks), which call the `extern "C"` functions at the end of this
//! file. Those are not generic: they serve the one helper type the crate binds with
//! [`BindHelper`].

use super::bindings;
use super::conn::{Conn, CtInfo};
#[cfg(not(nf_helper_api_7_3))]
use super::conn::{NFPROTO_IPV4, NFPROTO_IPV6};
use super::nat::NatArrival;
use super::netns::NetCounters;
use super::skb::Skb;
use core::ffi::{c_int, c_uint, c_void};
use core::fmt::Write;
use kernel::error::{from_result, to_result};
use kernel::ffi::c_char;
use kernel::prelude::*;
use kernel::str::{CStr, NullTerminatedFormatter};
use kernel::ThisModule;

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
    /// [`NatMapping::Module`](super::expect::NatMapping::Module) expects: sets up its NAT.
    fn nat_expected(arrival: NatArrival<'_>);
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

/// The expectation policy of a helper (one class).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ExpectPolicy {
    /// How many expectations one connection may have pending.
    pub(crate) max_expected: u32,
    /// Seconds an expectation lives.
    pub(crate) timeout: u32,
}

/// At most this many ports per registration.
pub(crate) const MAX_PORTS: usize = 8;

/// The C helper's name on `port`: `name` on the default port, `name-<port>` on any other,
/// e.g. "ftp" and "ftp-2121" (7.2's `nf_ct_helper_init` naming, kept on 7.3).
pub(crate) struct HelperName {
    /// NUL-terminated.
    buf: [u8; bindings::NF_CT_HELPER_NAME_LEN as usize],
}

impl HelperName {
    /// `None` if the name does not fit (`NF_CT_HELPER_NAME_LEN` with its NUL).
    pub(crate) fn new(name: &CStr, default_port: u16, port: u16) -> Option<Self> {
        let mut buf = [0u8; bindings::NF_CT_HELPER_NAME_LEN as usize];
        let name = name.to_str().ok()?;
        // Fails when the text and its NUL do not fit.
        let mut f = NullTerminatedFormatter::new(&mut buf)?;
        if port == default_port {
            write!(f, "{name}")
        } else {
            write!(f, "{name}-{port}")
        }
        .ok()?;
        Some(Self { buf })
    }

    /// The name, as the kernel shows it.
    #[cfg_attr(not(any(nf_helper_api_7_3, nf_ftp_rs_test)), allow(dead_code))]
    pub(crate) fn as_cstr(&self) -> &CStr {
        // `new` left a NUL in the buffer.
        CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"")
    }
}

/// The name of the NAT helper that serves helpers called `name`: `ip_nat_<name>`
/// (`NF_NAT_HELPER_NAME`), NUL-terminated.
pub(crate) struct NatHelperModName {
    buf: [u8; bindings::NF_CT_HELPER_NAME_LEN as usize],
}

impl NatHelperModName {
    /// `None` if the name does not fit.
    pub(crate) fn new(name: &CStr) -> Option<Self> {
        let mut buf = [0u8; bindings::NF_CT_HELPER_NAME_LEN as usize];
        let name = name.to_str().ok()?;
        let mut f = NullTerminatedFormatter::new(&mut buf)?;
        write!(f, "ip_nat_{name}").ok()?;
        Some(Self { buf })
    }

    /// The name as a C string.
    pub(crate) fn as_cstr(&self) -> &CStr {
        // `new` left a NUL in the buffer.
        CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"")
    }

    /// The name as the `char` array of a helper's `nat_mod_name`.
    #[cfg_attr(not(nf_helper_api_7_3), allow(dead_code))]
    fn to_c_chars(&self) -> [c_char; bindings::NF_CT_HELPER_NAME_LEN as usize] {
        self.buf.map(|b| b as c_char)
    }
}

/// Helpers registered per port: one per address family up to 7.2 (whose helpers match one
/// family), one for both families (`NFPROTO_UNSPEC`) from 7.3.
#[cfg(not(nf_helper_api_7_3))]
const FAMILIES: [u8; 2] = [NFPROTO_IPV4 as u8, NFPROTO_IPV6 as u8];
#[cfg(nf_helper_api_7_3)]
const FAMILIES: [u8; 1] = [NFPROTO_UNSPEC];
/// `NFPROTO_UNSPEC`: a helper for every family (7.3).
#[cfg(nf_helper_api_7_3)]
const NFPROTO_UNSPEC: u8 = 0;

/// At most this many helpers per registration.
const MAX_HELPERS: usize = MAX_PORTS * FAMILIES.len();

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

/// What all helpers of one registration share.
struct Common<'a> {
    module: &'static ThisModule,
    protonum: u16,
    name: &'a CStr,
    default_port: u16,
    policy: bindings::nf_conntrack_expect_policy,
}

impl Common<'_> {
    /// Fills `h` as `nf_ct_helper_init` does for a helper of the bound [`Helper`] serving
    /// `family` on `port`, named as [`HelperName`] says.
    fn init_helper(&self, h: &mut bindings::nf_conntrack_helper, family: u8, port: u16) -> Result {
        let full = HelperName::new(self.name, self.default_port, port).ok_or(EINVAL)?;
        #[cfg(not(nf_helper_api_7_3))]
        {
            // The kernel appends the port itself (to the same name, checked above).
            let _ = full;
            // SAFETY: `h` is writable; `name` is NUL-terminated and, with the port appended,
            // fits the helper's name; the policy is read during the call; the callbacks are C
            // functions of exactly the prototypes of the fields; `module` is this module.
            unsafe {
                bindings::nf_ct_helper_init(
                    h,
                    u16::from(family),
                    self.protonum,
                    self.name.as_char_ptr(),
                    self.default_port,
                    port,
                    u32::from(port),
                    &self.policy,
                    0,
                    Some(bindings::nf_ftp_rs_help),
                    Some(bindings::nf_ftp_rs_from_nlattr),
                    self.module.as_ptr().cast(),
                )
            };
        }
        #[cfg(nf_helper_api_7_3)]
        {
            // SAFETY: `h` is writable; the name is NUL-terminated and fits; the policy is read
            // during the call; the callbacks are C functions of exactly the prototypes of the
            // fields; `module` is this module.
            unsafe {
                bindings::nf_ct_helper_init(
                    h,
                    family,
                    self.protonum,
                    full.as_cstr().as_char_ptr(),
                    &self.policy,
                    0,
                    Some(bindings::nf_ftp_rs_help),
                    Some(bindings::nf_ftp_rs_from_nlattr),
                    self.module.as_ptr().cast(),
                )
            };
            // 7.3 derives the NAT helper's name from the full name ("ip_nat_ftp-2121"); 7.2
            // from the base name, which is what the NAT helper of nf/nat.rs is registered
            // as. Keep 7.2's.
            let nat = NatHelperModName::new(self.name).ok_or(EINVAL)?;
            h.nat_mod_name = nat.to_c_chars();
        }
        Ok(())
    }
}

impl Registration {
    /// Registers the helpers of the bound [`Helper`] for `ports` (at most [`MAX_PORTS`]), for
    /// layer 4 protocol `protonum`: on each port, helpers named as [`HelperName`] says for
    /// IPv4 and IPv6.
    pub(crate) fn register(
        module: &'static ThisModule,
        name: &CStr,
        default_port: u16,
        protonum: u16,
        policy: ExpectPolicy,
        ports: &[u16],
    ) -> Result<Self> {
        if ports.is_empty() || ports.len() > MAX_PORTS {
            return Err(EINVAL);
        }
        let common = Common {
            module,
            protonum,
            name,
            default_port,
            policy: bindings::nf_conntrack_expect_policy {
                max_expected: policy.max_expected,
                timeout: policy.timeout,
                name: [0; 16],
            },
        };
        let n = ports.len() * FAMILIES.len();
        // The kernel copies each helper: this array only lives through the call.
        let mut helpers = KVec::with_capacity(n, GFP_KERNEL)?;
        for &port in ports {
            for family in FAMILIES {
                let mut h = pin_init::zeroed::<bindings::nf_conntrack_helper>();
                common.init_helper(&mut h, family, port)?;
                helpers.push(h, GFP_KERNEL)?;
            }
        }
        let mut reg = Self {
            ptrs: [core::ptr::null_mut(); MAX_HELPERS],
            count: 0,
        };
        // SAFETY: `helpers` holds `n` initialized helpers, `reg.ptrs` has room for as many
        // pointers (`n <= MAX_HELPERS`). On failure the function unregisters what it
        // registered.
        to_result(unsafe {
            bindings::nf_conntrack_helpers_register(
                helpers.as_mut_ptr(),
                n as c_uint,
                reg.ptrs.as_mut_ptr(),
            )
        })?;
        reg.count = n;
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

/// The Rust end of `nf_ftp_rs_from_nlattr` (nf/trampolines.c). ctnetlink calls it in two
/// cases, with the helper's data in `ct`'s help extension either way: when it creates `ct`
/// (not yet confirmed) with this module's helper, right after adding the extension and
/// before assigning the helper; and when a request for an existing `ct` names the helper it
/// already has (`help->helper` checked to be this one).
///
/// # Safety
///
/// `ct` is valid for the call, its help extension is this module's helper's, and
/// `help_data` is the data of `nfct_help(ct)` (NULL without the extension).
#[no_mangle]
unsafe extern "C" fn nf_ftp_rs_from_nlattr_rust(
    _attr: *mut bindings::nlattr,
    ct: *mut bindings::nf_conn,
    help_data: *mut c_void,
) -> c_int {
    from_result(|| {
        // SAFETY: valid for the duration of the callback (see `# Safety`).
        let ct = unsafe { Conn::from_raw(ct) };
        // SAFETY: `help_data` is `ct`'s, taken in this callback; the extension is this
        // module's helper's, whose data type is `Bound::Data`.
        let data = unsafe { ct.help_data::<<Bound as Helper>::Data>(help_data) }.ok_or(ENOENT)?;
        Bound::from_nlattr(ct, data)?;
        Ok(0)
    })
}

#[cfg(nf_ftp_rs_test)]
#[kunit_tests(nf_conntrack_ftp_rs_helper_name)]
mod tests {
    use super::*;

    fn name(port: u16) -> Option<KVec<u8>> {
        let n = HelperName::new(c"ftp", 21, port)?;
        let mut v = KVec::new();
        v.extend_from_slice(n.as_cstr().to_bytes(), GFP_KERNEL)
            .ok()?;
        Some(v)
    }

    #[test]
    fn names_follow_the_kernel() {
        assert_eq!(name(21).as_deref(), Some(&b"ftp"[..]));
        assert_eq!(name(2121).as_deref(), Some(&b"ftp-2121"[..]));
        assert_eq!(name(1).as_deref(), Some(&b"ftp-1"[..]));
        assert_eq!(name(65535).as_deref(), Some(&b"ftp-65535"[..]));
    }

    #[test]
    fn long_names_are_refused() {
        // 15 characters and the NUL fill the 16 bytes; one more does not fit.
        assert!(HelperName::new(c"abcdefghi", 1, 12345).is_some());
        assert!(HelperName::new(c"abcdefghij", 1, 12345).is_none());
        // On the default port the name has no suffix.
        assert!(HelperName::new(c"abcdefghijklmno", 7, 7).is_some());
        assert!(HelperName::new(c"abcdefghijklmno", 21, 7).is_none());
        assert!(HelperName::new(c"abcdefghijklmnop", 7, 7).is_none());
    }
}
