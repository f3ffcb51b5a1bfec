// SPDX-License-Identifier: GPL-2.0

//! What the module registers for the kernel to look up: its conntrack helpers
//! (`nf_ct_helper_init` + `nf_conntrack_helpers_register`), the NAT helper (`ip_nat_<name>`:
//! tc act_ct, Open vSwitch) and a named expectfn (ctnetlink).
//!
//! Linux 7.3 changed `nf_ct_helper_init` (no ports, the name as given) and registers one
//! helper for both families; Kbuild sets `--cfg nf_helper_api_7_3` there. The helpers this
//! layer registers carry the same names on both: "ftp", "ftp-2121", ….
//!
//! The callbacks they point the kernel to are the entry points of nf/adapter.rs.

use super::adapter;
use super::bindings;
#[cfg(not(nf_helper_api_7_3))]
use super::conn::{NFPROTO_IPV4, NFPROTO_IPV6};
use core::ffi::c_uint;
use core::fmt::Write;
use kernel::error::to_result;
use kernel::ffi::c_char;
use kernel::prelude::*;
use kernel::str::{CStr, NullTerminatedFormatter};
use kernel::types::Opaque;
use kernel::ThisModule;

/// The expectation policy of a helper (one class).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ExpectPolicy {
    /// How many expectations one connection may have pending.
    pub(crate) max_expected: u32,
    /// Seconds an expectation lives.
    pub(crate) timeout: u32,
}

/// At most this many ports per registration.
pub(crate) const MAX_PORTS: usize = super::param::MAX_PORTS;

/// A helper's or NAT helper's name, NUL-terminated in the kernel's `NF_CT_HELPER_NAME_LEN`.
pub(crate) struct HelperName {
    buf: [u8; bindings::NF_CT_HELPER_NAME_LEN as usize],
}

impl HelperName {
    /// The C helper's name on `port`: `name` on the default port, `name-<port>` on any
    /// other, e.g. "ftp" and "ftp-2121" (7.2's `nf_ct_helper_init` naming, kept on 7.3).
    /// `None` if it does not fit.
    pub(crate) fn on_port(name: &CStr, default_port: u16, port: u16) -> Option<Self> {
        let name = name.to_str().ok()?;
        if port == default_port {
            Self::format(format_args!("{name}"))
        } else {
            Self::format(format_args!("{name}-{port}"))
        }
    }

    /// The name of the NAT helper that serves helpers called `name`: `ip_nat_<name>`
    /// (`NF_NAT_HELPER_NAME`). `None` if it does not fit.
    pub(crate) fn nat(name: &CStr) -> Option<Self> {
        Self::format(format_args!("ip_nat_{}", name.to_str().ok()?))
    }

    fn format(args: core::fmt::Arguments<'_>) -> Option<Self> {
        let mut buf = [0u8; bindings::NF_CT_HELPER_NAME_LEN as usize];
        // Fails when the text and its NUL do not fit.
        let mut f = NullTerminatedFormatter::new(&mut buf)?;
        f.write_fmt(args).ok()?;
        Some(Self { buf })
    }

    /// The name, as the kernel shows it.
    pub(crate) fn as_cstr(&self) -> &CStr {
        // `format` left a NUL in the buffer.
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
const FAMILIES: [u8; 1] = [bindings::NFPROTO_UNSPEC as u8];

/// At most this many helpers per registration.
const MAX_HELPERS: usize = MAX_PORTS * FAMILIES.len();

/// Registered helpers of the bound [`Helper`](adapter::Helper); unregistered on drop.
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
struct HelperTemplate<'a> {
    module: &'static ThisModule,
    protonum: u16,
    name: &'a CStr,
    default_port: u16,
    policy: bindings::nf_conntrack_expect_policy,
}

impl HelperTemplate<'_> {
    /// Fills `h` as `nf_ct_helper_init` does for a helper of the bound [`Helper`](adapter::Helper) serving
    /// `family` on `port`, named as [`HelperName`] says.
    fn init_helper(&self, h: &mut bindings::nf_conntrack_helper, family: u8, port: u16) -> Result {
        let full = HelperName::on_port(self.name, self.default_port, port).ok_or(EINVAL)?;
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
                    Some(adapter::nf_ftp_rs_from_nlattr),
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
                    Some(adapter::nf_ftp_rs_from_nlattr),
                    self.module.as_ptr().cast(),
                )
            };
            // 7.3 derives the NAT helper's name from the full name ("ip_nat_ftp-2121"); 7.2
            // from the base name, which is what the NAT helper of nf/nat.rs is registered
            // as. Keep 7.2's.
            let nat = HelperName::nat(self.name).ok_or(EINVAL)?;
            h.nat_mod_name = nat.to_c_chars();
        }
        Ok(())
    }
}

impl Registration {
    /// Registers the helpers of the bound [`Helper`](adapter::Helper) for `ports` (at most [`MAX_PORTS`]), for
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
        let common = HelperTemplate {
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
    /// Registers [`NatMapping::InNatPorts`](super::expect::NatMapping::InNatPorts)'s expectfn as
    /// `name`.
    pub(crate) fn register(name: &'static CStr) -> Result<Self> {
        let mut e = pin_init::zeroed::<bindings::nf_ct_helper_expectfn>();
        e.name = name.as_char_ptr();
        e.expectfn = Some(adapter::nf_ftp_rs_nat_expected);
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

#[cfg(nf_ftp_rs_test)]
#[kunit_tests(nf_conntrack_ftp_rs_helper_name)]
mod tests {
    use super::*;

    fn name(port: u16) -> Option<KVec<u8>> {
        let n = HelperName::on_port(c"ftp", 21, port)?;
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
        assert!(HelperName::on_port(c"abcdefghi", 1, 12345).is_some());
        assert!(HelperName::on_port(c"abcdefghij", 1, 12345).is_none());
        // On the default port the name has no suffix.
        assert!(HelperName::on_port(c"abcdefghijklmno", 7, 7).is_some());
        assert!(HelperName::on_port(c"abcdefghijklmno", 21, 7).is_none());
        assert!(HelperName::on_port(c"abcdefghijklmnop", 7, 7).is_none());
    }
}
