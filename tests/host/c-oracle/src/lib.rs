//! The kernel's own FTP parsing functions (Linux 7.2 `nf_conntrack_ftp.c`, `in6_pton`),
//! extracted from the downloaded kernel source at build time and compiled for the host:
//! the oracle that the Rust parser is checked against.

use std::ffi::c_int;

#[repr(C)]
#[derive(Default)]
struct RawResult {
    found: c_int,
    kind: c_int,
    off: u32,
    len: u32,
    addr: [u8; 16],
    port: u16,
}

extern "C" {
    fn ftp_c_parse(
        data: *const u8,
        dlen: usize,
        dir: c_int,
        l3num: c_int,
        sender: *const u8,
        r: *mut RawResult,
    );
    fn ftp_c_in6_pton(
        src: *const u8,
        len: usize,
        dst: *mut u8,
        delim: c_int,
        endoff: *mut usize,
    ) -> c_int;
}

/// What the kernel's `find_pattern` loop decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// 0: no match.
    None,
    /// -1: partial match of the row with this `nf_ct_ftp_type`.
    Partial(u8),
    /// 1: match.
    Match {
        /// `nf_ct_ftp_type` of the row.
        kind: u8,
        /// `matchoff`.
        off: usize,
        /// `matchlen`.
        len: usize,
        /// `cmd.u3` after parsing (it starts as the sender's address).
        addr: [u8; 16],
        /// `cmd.u.tcp.port`, host order.
        port: u16,
    },
}

/// `AF_INET` / `AF_INET6`.
pub const PF_INET: u16 = 2;
/// `AF_INET6`.
pub const PF_INET6: u16 = 10;

/// Runs the kernel's search loop on `data` (`dir`: 0 original, 1 reply).
pub fn parse(data: &[u8], dir: u8, l3num: u16, sender: [u8; 16]) -> Found {
    assert!(dir < 2);
    let mut r = RawResult::default();
    // SAFETY: `data` is valid for `data.len()` bytes, `sender` for 16, `r` is a valid
    // out-pointer; the C code reads within those bounds (it is the kernel's, bounds by dlen).
    unsafe {
        ftp_c_parse(
            data.as_ptr(),
            data.len(),
            c_int::from(dir),
            c_int::from(l3num),
            sender.as_ptr(),
            &mut r,
        )
    };
    match r.found {
        0 => Found::None,
        -1 => Found::Partial(r.kind as u8),
        1 => Found::Match {
            kind: r.kind as u8,
            off: r.off as usize,
            len: r.len as usize,
            addr: r.addr,
            port: r.port,
        },
        other => panic!("find_pattern returned {other}"),
    }
}

/// The kernel's `in6_pton(src, min(len, 0xffff), dst, delim, &end)`: the address and the
/// length of its text, or `None`.
pub fn in6_pton(src: &[u8], delim: u8) -> Option<([u8; 16], usize)> {
    let mut dst = [0u8; 16];
    let mut end = 0usize;
    // SAFETY: `src` is valid for `src.len()` bytes, `dst` for 16, `end` is a valid pointer.
    let ret = unsafe {
        ftp_c_in6_pton(
            src.as_ptr(),
            src.len(),
            dst.as_mut_ptr(),
            c_int::from(delim),
            &mut end,
        )
    };
    (ret > 0).then_some((dst, end))
}
