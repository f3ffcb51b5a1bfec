// SPDX-License-Identifier: GPL-2.0

//! The FTP control-channel parser: pure, `core` only, no allocation, no `unsafe`.
//!
//! Given the payload of one TCP segment and its direction, [`parse`] decides what Linux 7.2's
//! `nf_conntrack_ftp` decides: no match, a *partial* match (the helper drops the packet), or
//! a match with the announced address and port and the span of the payload that holds them
//! (what NAT rewrites). [`format`] writes an address and port back in each of the four forms.
//!
//! The commands, matched case-insensitively at the start of the payload:
//! - client → server: `PORT h1,h2,h3,h4,p1,p2` (RFC 959) and `EPRT |af|addr|port|` (RFC 2428);
//! - server → client: `227 ` with the numbers after the first digit (RFC 1123 §4.1.2.6),
//!   and `229 ...(|||port|)`.

use core::fmt::{self, Write};

/// Direction of a segment within the control connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Client to server (conntrack's `IP_CT_DIR_ORIGINAL`).
    Original,
    /// Server to client (`IP_CT_DIR_REPLY`).
    Reply,
}

/// Address family of the control connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4 (`NFPROTO_IPV4`).
    Ipv4,
    /// IPv6 (`NFPROTO_IPV6`).
    Ipv6,
}

/// The command or reply that matched; the discriminants are the kernel's `nf_ct_ftp_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `PORT h1,h2,h3,h4,p1,p2`.
    Port = 0,
    /// `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)`.
    Pasv = 1,
    /// `EPRT |1|a.b.c.d|port|` or `EPRT |2|ipv6|port|`.
    Eprt = 2,
    /// `229 Entering Extended Passive Mode (|||port|)`.
    Epsv = 3,
}

impl Kind {
    /// The pattern that introduces this form (the kernel logs it on a partial match).
    pub const fn pattern(self) -> &'static str {
        match self {
            Kind::Port => "PORT",
            Kind::Pasv => "227 ",
            Kind::Eprt => "EPRT",
            Kind::Epsv => "229 ",
        }
    }
}

/// The address a command or reply announced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addr {
    /// Four octets (`PORT`, `227`, `EPRT |1|`).
    V4([u8; 4]),
    /// Sixteen octets (`EPRT |2|`).
    V6([u8; 16]),
}

impl Addr {
    /// The 16 bytes of the kernel's `union nf_inet_addr` once this announcement is written
    /// over `sender` (the sender's address, which the kernel starts from): an IPv4 address
    /// replaces the first four bytes only, as the kernel's `cmd.u3.ip = ...` does.
    #[inline]
    pub fn written_over(self, sender: [u8; 16]) -> [u8; 16] {
        match self {
            Addr::V4([a, b, c, d]) => {
                let mut out = sender;
                (out[0], out[1], out[2], out[3]) = (a, b, c, d);
                out
            }
            Addr::V6(v6) => v6,
        }
    }
}

/// A complete match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    /// Which form matched.
    pub kind: Kind,
    /// The announced address; `None` for `229` replies, which announce only a port.
    pub addr: Option<Addr>,
    /// The announced port.
    pub port: u16,
    /// Offset in the payload of the address/port text.
    pub offset: usize,
    /// Length of the address/port text.
    pub len: usize,
}

/// What a segment holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing of interest: the helper accepts the packet.
    NoMatch,
    /// A pattern matched but what follows does not parse (or the segment ends inside the
    /// pattern): the helper drops the packet and logs `partial matching of '<pattern>'`.
    Partial(Kind),
    /// A complete command or reply.
    Match(Match),
}

/// One row of the kernel's search table: what to look for in one direction.
struct Search {
    kind: Kind,
    /// Skip to just after this byte before reading numbers (0: read right after the pattern).
    skip: u8,
    /// The byte that must end the numbers of a `PORT`/`227` (0: any non-digit).
    term: u8,
}

const SEARCH_ORIGINAL: [Search; 2] = [
    Search {
        kind: Kind::Port,
        skip: b' ',
        term: b'\r',
    },
    Search {
        kind: Kind::Eprt,
        skip: b' ',
        term: b'\r',
    },
];

const SEARCH_REPLY: [Search; 2] = [
    Search {
        kind: Kind::Pasv,
        skip: 0,
        term: 0,
    },
    Search {
        kind: Kind::Epsv,
        skip: b'(',
        term: b')',
    },
];

/// Parses the payload of one segment sent in direction `dir` of a control connection of
/// family `family`. Most lines match no pattern, which is decided inline on their first two
/// bytes ([`cannot_match`]); the others are searched out of line ([`search`]).
#[inline(always)]
pub fn parse(payload: &[u8], dir: Dir, family: Family) -> Outcome {
    if cannot_match(payload, dir) {
        return Outcome::NoMatch;
    }
    search(payload, dir, family)
}

/// The search table of a direction.
#[inline]
fn table(dir: Dir) -> &'static [Search; 2] {
    match dir {
        Dir::Original => &SEARCH_ORIGINAL,
        Dir::Reply => &SEARCH_REPLY,
    }
}

/// The first two bytes of the patterns of a search table, for [`cannot_match`].
const fn heads(table: &[Search; 2]) -> [[u8; 2]; 2] {
    let (a, b) = (
        table[0].kind.pattern().as_bytes(),
        table[1].kind.pattern().as_bytes(),
    );
    [[a[0], a[1]], [b[0], b[1]]]
}

const HEADS_ORIGINAL: [[u8; 2]; 2] = heads(&SEARCH_ORIGINAL);
const HEADS_REPLY: [[u8; 2]; 2] = heads(&SEARCH_REPLY);

/// Whether `payload` starts differently from every pattern of `dir` within its first two
/// bytes (and so, in any case, within its length): then it can neither match nor match
/// partially, and [`parse`] finds no match without searching. `NOOP`, `USER`, `230 …`, `150 …`
/// are decided here; `PASV`, `226 …` are searched. Exact: whatever it decides, the search
/// would have decided too (the differential and vector tests run `parse` whole). Written
/// without iterators, which a kernel built for size calls rather than inlines.
#[inline(always)]
fn cannot_match(payload: &[u8], dir: Dir) -> bool {
    let heads = match dir {
        Dir::Original => &HEADS_ORIGINAL,
        Dir::Reply => &HEADS_REPLY,
    };
    let differs = |head: &[u8; 2]| match *payload {
        [] => false,
        [a] => !a.eq_ignore_ascii_case(&head[0]),
        [a, b, ..] => !a.eq_ignore_ascii_case(&head[0]) || !b.eq_ignore_ascii_case(&head[1]),
    };
    differs(&heads[0]) && differs(&heads[1])
}

/// `a.eq_ignore_ascii_case(b)` for byte strings, as a plain loop (core's zips iterators,
/// which a kernel built for size calls rather than inlines).
#[inline]
fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if !a[i].eq_ignore_ascii_case(&b[i]) {
            return false;
        }
        i += 1;
    }
    true
}

/// [`parse`] for a payload that may start like a pattern: the first row whose pattern the
/// payload starts with (or, shorter, starts) decides. [`read_numbers`], whose only caller this
/// is, is inlined here: a call costs more than its arithmetic, under emulation above all.
#[inline(never)]
fn search(payload: &[u8], dir: Dir, family: Family) -> Outcome {
    let table = table(dir);
    let mut i = 0;
    while i < table.len() {
        let row = &table[i];
        let pattern = row.kind.pattern().as_bytes();
        let plen = pattern.len();
        if payload.len() <= plen {
            // A segment that ends inside the pattern may continue it: partial.
            if eq_ignore_case(payload, &pattern[..payload.len()]) {
                return Outcome::Partial(row.kind);
            }
        } else if starts_with_word(payload, row.kind) {
            return read_numbers(payload, row, family, plen);
        }
        i += 1;
    }
    Outcome::NoMatch
}

/// A pattern as a little-endian word and the bits that fold its letters' case: a word
/// `w` of payload bytes spells the pattern, letters in either case, when `w | case ==
/// folded` (ASCII upper and lower case differ in bit 5 only; the other bytes must be equal).
/// Evaluated at compile time for every kind ([`starts_with_word`]), where it also checks
/// that the pattern is four bytes.
const fn folded_word(kind: Kind) -> (u32, u32) {
    let p = kind.pattern().as_bytes();
    assert!(p.len() == 4, "a pattern is compared as one four-byte word");
    let (mut case, mut folded) = (0u32, 0u32);
    let mut i = 0;
    while i < 4 {
        let bit = if p[i].is_ascii_alphabetic() { 0x20 } else { 0 };
        case |= (bit as u32) << (8 * i);
        folded |= ((p[i] | bit) as u32) << (8 * i);
        i += 1;
    }
    (case, folded)
}

/// Whether `payload` (over four bytes long) starts with `kind`'s pattern, letters in either
/// case: one comparison rather than a loop over its bytes.
#[inline(always)]
fn starts_with_word(payload: &[u8], kind: Kind) -> bool {
    let (case, folded) = match kind {
        Kind::Port => const { folded_word(Kind::Port) },
        Kind::Pasv => const { folded_word(Kind::Pasv) },
        Kind::Eprt => const { folded_word(Kind::Eprt) },
        Kind::Epsv => const { folded_word(Kind::Epsv) },
    };
    match *payload {
        [a, b, c, d, ..] => (u32::from_le_bytes([a, b, c, d]) | case) == folded,
        _ => false,
    }
}

/// What follows a matched pattern (`data[..plen]`): the announced address and port, or a
/// partial match.
#[inline(always)]
fn read_numbers(data: &[u8], search: &Search, family: Family, plen: usize) -> Outcome {
    let mut start = plen;
    if search.skip != 0 {
        // The kernel scans up to and including the last byte for the skip character.
        match data[plen..].iter().position(|&b| b == search.skip) {
            Some(pos) => start = plen + pos + 1,
            None => return Outcome::Partial(search.kind),
        }
    }
    let rest = &data[start..];
    let numbers = match search.kind {
        Kind::Port => try_rfc959(rest, search.term).map(|(a, p, len)| (0, Some(a), p, len)),
        Kind::Pasv => try_rfc1123(rest),
        Kind::Eprt => try_eprt(rest, family).map(|(a, p, len)| (0, Some(a), p, len)),
        Kind::Epsv => try_epsv_response(rest).map(|(p, len)| (0, None, p, len)),
    };
    match numbers {
        Some((skipped, addr, port, len)) => Outcome::Match(Match {
            kind: search.kind,
            addr,
            port,
            offset: start + skipped,
            len,
        }),
        None => Outcome::Partial(search.kind),
    }
}

/// Reads `N` decimal numbers of at most 255 separated by `sep`, ended by `term` (0: any
/// byte that is neither a digit nor `sep`). Returns the numbers and the length of their text
/// (the terminator excluded). Empty numbers count as 0, as in the kernel.
fn try_number<const N: usize>(data: &[u8], sep: u8, term: u8) -> Option<([u8; N], usize)> {
    let mut out = [0u8; N];
    let mut i = 0;
    let mut pos = 0;
    loop {
        let (num, end) = digits(data, pos, 256);
        if num > 255 {
            return None;
        }
        // The byte after the digits; the data may not end before the terminator.
        let b = *data.get(end)?;
        if b == sep {
            // A separator after the last number: more separators than numbers.
            if i + 1 >= N {
                return None;
            }
            *out.get_mut(i)? = num as u8;
            i += 1;
            pos = end + 1;
        } else if (b == term || term == 0) && i == N - 1 {
            *out.get_mut(i)? = num as u8;
            return Some((out, end));
        } else {
            return None;
        }
    }
}

/// The decimal number of the digits from `start` on, capped at `cap`, and where they end.
/// The kernel gives up on the digit that takes a number over its limit; capping the value and
/// checking it once after the digits decides the same (a number only grows), with one branch
/// per digit fewer: what a per-byte loop costs most of, under emulation above all.
#[inline(always)]
fn digits(data: &[u8], start: usize, cap: u32) -> (u32, usize) {
    let mut num: u32 = 0;
    let mut pos = start;
    while let Some(&b) = data.get(pos) {
        let digit = b.wrapping_sub(b'0');
        if digit >= 10 {
            break;
        }
        // At most `cap * 10 + 9`: no overflow (and no overflow checks on this path).
        num = num.wrapping_mul(10).wrapping_add(u32::from(digit)).min(cap);
        pos += 1;
    }
    (num, pos)
}

/// `h1,h2,h3,h4,p1,p2` ended by `term`: address, port and text length.
fn try_rfc959(data: &[u8], term: u8) -> Option<(Addr, u16, usize)> {
    let (n, len) = try_number::<6>(data, b',', term)?;
    let port = u16::from_be_bytes([n[4], n[5]]);
    Some((Addr::V4([n[0], n[1], n[2], n[3]]), port, len))
}

/// A `227` reply: the numbers start at the first digit (RFC 1123) and end at any non-digit.
/// Returns how many bytes were skipped to the first digit, the address, port and length.
fn try_rfc1123(data: &[u8]) -> Option<(usize, Option<Addr>, u16, usize)> {
    let first_digit = data.iter().position(u8::is_ascii_digit)?;
    let (addr, port, len) = try_rfc959(&data[first_digit..], 0)?;
    Some((first_digit, Some(addr), port, len))
}

/// An EPRT/EPSV delimiter: any printable ASCII byte but a digit (RFC 2428 asks for one in
/// the range 33-126).
fn is_delimiter(b: u8) -> bool {
    (33..=126).contains(&b) && !b.is_ascii_digit()
}

/// The port from `start` up to `delim` (not a digit: see [`is_delimiter`]): 1 to 65535.
/// Returns the port and the index just after the delimiter.
#[inline(always)]
fn get_port(data: &[u8], start: usize, delim: u8) -> Option<(u16, usize)> {
    // A digit would end the digits before it is seen as the delimiter (the kernel looks for
    // the delimiter first).
    debug_assert!(!delim.is_ascii_digit());
    let (port, end) = digits(data, start, 65536);
    if *data.get(end)? != delim {
        return None;
    }
    match u16::try_from(port) {
        Ok(p) if p != 0 => Some((p, end + 1)),
        _ => None,
    }
}

/// `|1|a.b.c.d|port|` (IPv4 flows only) or `|2|ipv6|port|` (IPv6 flows only).
fn try_eprt(data: &[u8], family: Family) -> Option<(Addr, u16, usize)> {
    if data.len() <= 3 {
        return None;
    }
    let delim = data[0];
    if !is_delimiter(delim) || data[2] != delim {
        return None;
    }
    let (addr, addr_len) = match (family, data[1]) {
        (Family::Ipv4, b'1') => {
            let (a, len) = try_number::<4>(&data[3..], b'.', delim)?;
            (Addr::V4(a), len)
        }
        (Family::Ipv6, b'2') => {
            let (a, len) = in6_pton(&data[3..], delim)?;
            (Addr::V6(a), len)
        }
        _ => return None,
    };
    // The port starts after "|1|", the address and the delimiter that ends it.
    let (port, end) = get_port(data, 3 + addr_len + 1, delim)?;
    Some((addr, port, end))
}

/// `|||port|` (the text after the `(` of a `229` reply).
fn try_epsv_response(data: &[u8]) -> Option<(u16, usize)> {
    if data.len() <= 3 {
        return None;
    }
    let delim = data[0];
    if !is_delimiter(delim) || data[1] != delim || data[2] != delim {
        return None;
    }
    get_port(data, 3, delim)
}

// --- IPv6 text, as the kernel's in6_pton()/in4_pton() read it ---------------------------

const XDIGIT: u32 = 0x0001_0000;
const DIGIT: u32 = 0x0002_0000;
const COLON_1: u32 = 0x0010_0000;
const COLON_2: u32 = 0x0020_0000;
const COLON_1_2: u32 = 0x0040_0000;
const COLON_MASK: u32 = COLON_1 | COLON_2 | COLON_1_2;
const DOT: u32 = 0x0080_0000;
const DELIM: u32 = 0x1000_0000;
const NULL: u32 = 0x2000_0000;
const UNKNOWN: u32 = 0x4000_0000;

/// The byte at `i`, or NUL past the end (the kernel reads past `srclen` as NUL).
fn byte_at(src: &[u8], i: usize) -> u8 {
    src.get(i).copied().unwrap_or(0)
}

/// Classifies one byte: the kernel's `xdigit2bin` (NUL and the delimiter both end a word).
fn classify(c: u8, delim: u8) -> u32 {
    if c == delim || c == 0 {
        return DELIM;
    }
    match c {
        b':' => COLON_MASK,
        b'.' => DOT,
        b'0'..=b'9' => u32::from(c - b'0') | XDIGIT | DIGIT,
        b'a'..=b'f' => u32::from(c - b'a' + 10) | XDIGIT,
        b'A'..=b'F' => u32::from(c - b'A' + 10) | XDIGIT,
        _ => UNKNOWN,
    }
}

/// A dotted quad ended by the delimiter, NUL, the end of data or `:`. Returns the octets
/// and the index of the byte that ended it.
fn in4_pton(src: &[u8], delim: u8) -> Option<([u8; 4], usize)> {
    let mut out = [0u8; 4];
    let mut octets = 0;
    // The kernel's accumulator also carries the class bits; "no digit yet" is what matters.
    let mut value: u32 = 0;
    let mut digits = false;
    let mut s = 0;
    loop {
        let c = classify(byte_at(src, s), delim);
        if c & (DIGIT | DOT | DELIM | COLON_MASK) == 0 {
            return None;
        }
        if c & (DOT | DELIM | COLON_MASK) != 0 {
            if !digits {
                return None;
            }
            *out.get_mut(octets)? = value as u8;
            value = 0;
            digits = false;
            octets += 1;
            if c & (DELIM | COLON_MASK) != 0 {
                return if octets == 4 { Some((out, s)) } else { None };
            }
        } else {
            value = value * 10 + (c & 0xff);
            digits = true;
            if value > 255 {
                return None;
            }
        }
        if octets >= 4 {
            return None;
        }
        s += 1;
    }
}

/// An IPv6 address ended by `delim`, NUL or the end of data (`::` and an embedded dotted
/// quad allowed), exactly as the kernel's `in6_pton` accepts it. Returns the address and the
/// length of its text. Input beyond 65535 bytes is not looked at, as in the kernel.
pub fn in6_pton(src: &[u8], delim: u8) -> Option<([u8; 16], usize)> {
    let src = &src[..src.len().min(0xffff)];
    let mut dbuf = [0u8; 16];
    let mut d = 0usize; // next byte of dbuf to write
    let mut dc: Option<usize> = None; // where "::" stands
    let mut tok: Option<usize> = None; // start of the current word
    let mut state = COLON_1_2 | XDIGIT | NULL;
    let mut w: u32 = 0;
    let mut s = 0usize;

    loop {
        let c = classify(byte_at(src, s), delim);
        if c & state == 0 {
            return None;
        }
        if c & (DELIM | COLON_MASK) != 0 {
            // One 16-bit word done.
            if state & NULL == 0 {
                *dbuf.get_mut(d)? = (w >> 8) as u8;
                *dbuf.get_mut(d + 1)? = w as u8;
                d += 2;
            }
            w = 0;
            if c & DELIM != 0 {
                break;
            }
            state = match state & COLON_MASK {
                COLON_2 => {
                    dc = Some(d);
                    if d >= dbuf.len() {
                        XDIGIT | DELIM | NULL
                    } else {
                        XDIGIT | DELIM
                    }
                }
                m if m == COLON_1 | COLON_1_2 => XDIGIT | COLON_2,
                COLON_1 => XDIGIT,
                COLON_1_2 => COLON_2,
                _ => 0,
            };
            tok = Some(s + 1);
        } else if c & DOT != 0 {
            // An embedded dotted quad, read again from the start of this word.
            let t = tok?;
            let (v4, end) = in4_pton(src.get(t..)?, delim)?;
            dbuf.get_mut(d..d + 4)?.copy_from_slice(&v4);
            d += 4;
            s = t + end;
            break;
        } else {
            w = (w << 4) | (c & 0xff);
            state = COLON_1 | DELIM;
            if w & 0xf000 == 0 {
                state |= XDIGIT;
            }
            if dc.is_none() && d + 2 < dbuf.len() {
                state |= COLON_1_2;
                state &= !DELIM;
            }
            if d + 2 >= dbuf.len() {
                state &= !(COLON_1 | COLON_1_2);
            }
        }
        if (dc.is_some() && d + 4 < dbuf.len()) || d + 4 == dbuf.len() {
            state |= DOT;
        }
        if d >= dbuf.len() {
            state &= !(XDIGIT | COLON_MASK);
        }
        s += 1;
    }

    let mut dst = [0u8; 16];
    match dc {
        Some(dc) => {
            // The words after "::" go to the end; zeros fill the gap.
            let tail = dbuf.get(dc..d)?;
            dst.get_mut(..dc)?.copy_from_slice(dbuf.get(..dc)?);
            dst.get_mut(16 - tail.len()..)?.copy_from_slice(tail);
        }
        None => dst = dbuf,
    }
    Some((dst, s))
}

// --- Formatting, for NAT ------------------------------------------------------------------

/// Why [`format`] wrote nothing usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// The buffer is too small for the text.
    NoRoom,
    /// `PORT` and `227` carry IPv4 addresses only.
    WrongFamily,
}

/// Writes text into a caller's buffer, tracking the length; `Err` when it does not fit.
struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The longest text [`format`] writes: `|2|` + a full IPv6 address + `|65535|`.
pub const MAX_FORMATTED: usize = 3 + 39 + 7;

/// Writes the address/port text of form `kind` (the span a [`Match`] describes) into `buf`
/// and returns its length, byte for byte what the kernel's `nf_nat_ftp` writes:
/// `PORT`/`227`: `h1,h2,h3,h4,p1,p2`; `EPRT`: `|1|a.b.c.d|port|` or `|2|ipv6|port|` (IPv6 in
/// `%pI6` form); `229`: `|||port|`. `addr` is ignored for `229`.
pub fn format(kind: Kind, addr: Addr, port: u16, buf: &mut [u8]) -> Result<usize, FormatError> {
    let mut w = Writer { buf, len: 0 };
    let written = match (kind, addr) {
        (Kind::Port | Kind::Pasv, Addr::V4([a, b, c, d])) => {
            let [hi, lo] = port.to_be_bytes();
            write!(w, "{a},{b},{c},{d},{hi},{lo}")
        }
        (Kind::Port | Kind::Pasv, Addr::V6(_)) => return Err(FormatError::WrongFamily),
        (Kind::Eprt, Addr::V4([a, b, c, d])) => write!(w, "|1|{a}.{b}.{c}.{d}|{port}|"),
        // The kernel's `%pI6`: eight groups of four lower-case hex digits (no `::`).
        (Kind::Eprt, Addr::V6(a)) => w.write_str("|2|").and_then(|()| {
            for (i, pair) in a.chunks_exact(2).enumerate() {
                let sep = if i > 0 { ":" } else { "" };
                write!(w, "{sep}{:02x}{:02x}", pair[0], pair[1])?;
            }
            write!(w, "|{port}|")
        }),
        (Kind::Epsv, _) => write!(w, "|||{port}|"),
    };
    written.map_err(|_| FormatError::NoRoom)?;
    Ok(w.len)
}
