// SPDX-License-Identifier: GPL-2.0

//! The module's parameters, read from Rust. They are declared in nf/param.c with the
//! kernel's own macros (`module!` cannot declare an array, a bool writable at run time or
//! custom ops), so the kernel parses them, checks their sysfs modes and shows them in
//! `modinfo`; the set/get ops of `loose` and `nat_ports` are in nf/adapter.rs.

use super::bindings;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use kernel::fmt;
#[cfg(nf_ftp_rs_test)]
use kernel::prelude::kunit_tests;

/// At most this many `ports`.
pub(crate) const MAX_PORTS: usize = bindings::NF_FTP_RS_MAX_PORTS as usize;

/// `ports=`: the values given at load time (empty if none were given). Not for a parameter's
/// op, which the kernel may call while it still parses `ports=`.
pub(crate) fn ports() -> &'static [u16] {
    // The kernel writes the array and its count only while it parses the module's
    // arguments, before `init()` runs: nf/param.c gives the parameter a read-only mode
    // (asserted there), so sysfs cannot write it later. Afterwards they are only read.
    let (elems, count) = (
        &raw const bindings::nf_ftp_rs_ports,
        &raw const bindings::nf_ftp_rs_ports_count,
    );
    // SAFETY: as above; both are C objects of the module, alive as long as it.
    let (elems, count) = unsafe { (&*elems, count.read()) };
    // The kernel never stores more than the array holds; `min` keeps this total anyway.
    &elems[..(count as usize).min(MAX_PORTS)]
}

/// `loose=`, as a C `bool` (nf/param.c hands its address to `param_get_bool`, which reads it
/// under `kernel_param_lock`; `AtomicBool` has `bool`'s layout). Written only by
/// [`set_loose`].
#[no_mangle]
#[allow(non_upper_case_globals)]
static nf_ftp_rs_loose: AtomicBool = AtomicBool::new(false);

/// Whether addresses other than the sender's are followed (`loose=`).
pub(crate) fn loose() -> bool {
    nf_ftp_rs_loose.load(Ordering::Relaxed)
}

/// Sets `loose`; returns the value it had.
///
/// # Safety
///
/// The caller is `loose`'s `set` op (the kernel calls it holding `kernel_param_lock`, or while
/// the module loads): `param_get_bool` reads the value in C, plainly, under the same lock.
pub(super) unsafe fn set_loose(value: bool) -> bool {
    nf_ftp_rs_loose.swap(value, Ordering::Relaxed)
}

/// `nat_ports=`, one word (`first << 16 | last`, 0 for none) so that the packet path reads
/// a consistent range while sysfs writes it.
static NAT_PORTS: AtomicU32 = AtomicU32::new(0);

/// A range of ports, `first..=last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PortRange {
    pub(crate) first: u16,
    pub(crate) last: u16,
}

impl PortRange {
    /// Parses `FIRST-LAST` or one port (a trailing newline, as `echo` writes, is allowed):
    /// `Ok(None)` for an empty value, `Err` for anything else.
    pub(crate) fn parse(text: &[u8]) -> Result<Option<Self>, ()> {
        let text = text.strip_suffix(b"\n").unwrap_or(text);
        if text.is_empty() {
            return Ok(None);
        }
        let port = |t: &[u8]| -> Result<u16, ()> {
            if t.is_empty() || t.len() > 5 || !t.iter().all(u8::is_ascii_digit) {
                return Err(());
            }
            let n = t.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
            u16::try_from(n).ok().filter(|&p| p != 0).ok_or(())
        };
        let (first, last) = match text.iter().position(|&b| b == b'-') {
            Some(i) => (port(&text[..i])?, port(&text[i + 1..])?),
            None => {
                let p = port(text)?;
                (p, p)
            }
        };
        if first > last {
            return Err(());
        }
        Ok(Some(Self { first, last }))
    }

    fn to_word(range: Option<Self>) -> u32 {
        range.map_or(0, |r| (u32::from(r.first) << 16) | u32::from(r.last))
    }

    fn from_word(v: u32) -> Option<Self> {
        (v != 0).then_some(Self {
            first: (v >> 16) as u16,
            last: v as u16,
        })
    }
}

/// A range as the parameter is written: `FIRST-LAST`, or nothing for none.
pub(crate) struct Shown(pub(crate) Option<PortRange>);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(r) => write!(f, "{}-{}", r.first, r.last),
            None => Ok(()),
        }
    }
}

/// The range of `nat_ports=`, if one is set.
pub(crate) fn nat_ports() -> Option<PortRange> {
    PortRange::from_word(NAT_PORTS.load(Ordering::Relaxed))
}

/// Sets `nat_ports`; returns the range it had.
pub(super) fn set_nat_ports(range: Option<PortRange>) -> Option<PortRange> {
    PortRange::from_word(NAT_PORTS.swap(PortRange::to_word(range), Ordering::Relaxed))
}

#[cfg(nf_ftp_rs_test)]
#[kunit_tests(nf_conntrack_ftp_rs_param)]
mod tests {
    use super::PortRange;

    fn range(first: u16, last: u16) -> Result<Option<PortRange>, ()> {
        Ok(Some(PortRange { first, last }))
    }

    #[test]
    fn port_ranges() {
        assert_eq!(PortRange::parse(b""), Ok(None));
        assert_eq!(PortRange::parse(b"\n"), Ok(None));
        assert_eq!(PortRange::parse(b"40000-40100"), range(40000, 40100));
        assert_eq!(PortRange::parse(b"40000-40100\n"), range(40000, 40100));
        assert_eq!(PortRange::parse(b"2121"), range(2121, 2121));
        assert_eq!(PortRange::parse(b"1-65535"), range(1, 65535));
    }

    #[test]
    fn bad_port_ranges() {
        for bad in [
            &b"0-10"[..],
            b"10-0",
            b"100-99",
            b"65536",
            b"1-65536",
            b"-5",
            b"5-",
            b"a-b",
            b" 5",
            b"5 ",
            b"1-2-3",
            b"000001",
            b"5\n\n",
        ] {
            assert_eq!(PortRange::parse(bad), Err(()));
        }
    }
}
