// SPDX-License-Identifier: GPL-2.0

//! The parser's test vectors: one table for the host tests (`cargo test` in tests/host),
//! the module's KUnit suite and the differential harness against the kernel's C parser.
//!
//! Each row: a name, the payload, its direction and family, and what Linux 7.2's
//! `nf_conntrack_ftp` makes of it. A match names the exact text of its address/port span.

use crate::parser::{parse, Addr, Dir, Family, Kind, Outcome};

/// What a vector expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// No match.
    None,
    /// A partial match of this form: the packet is dropped.
    Partial(Kind),
    /// A match: form, announced address (`None` for 229), port, and the span's text.
    Match(Kind, Option<Addr>, u16, &'static [u8]),
}

/// One test vector.
pub struct Vector {
    /// What the case is about.
    pub name: &'static str,
    /// The TCP payload.
    pub input: &'static [u8],
    /// Its direction.
    pub dir: Dir,
    /// The control connection's family.
    pub family: Family,
    /// What the parser must say.
    pub expect: Expect,
}

/// Checks one vector against [`parse`]: `Err` says what differs.
pub fn check(v: &Vector) -> Result<(), &'static str> {
    let got = parse(v.input, v.dir, v.family);
    match (v.expect, got) {
        (Expect::None, Outcome::NoMatch) => Ok(()),
        (Expect::Partial(k), Outcome::Partial(g)) if k == g => Ok(()),
        (Expect::Match(kind, addr, port, span), Outcome::Match(m)) => {
            if m.kind != kind {
                return Err("wrong kind");
            }
            if m.addr != addr {
                return Err("wrong address");
            }
            if m.port != port {
                return Err("wrong port");
            }
            match v.input.get(m.offset..m.offset + m.len) {
                Some(text) if text == span => Ok(()),
                _ => Err("wrong span"),
            }
        }
        _ => Err("wrong outcome"),
    }
}

/// Every strict prefix of a matching vector is a partial match (a segment may end anywhere
/// inside a command; the kernel drops it rather than miss the expectation). Checks that for
/// one vector, returning the number of prefixes checked.
pub fn check_truncations(v: &Vector) -> Result<usize, &'static str> {
    let Expect::Match(kind, ..) = v.expect else {
        return Ok(0);
    };
    // The end of the command: its span plus the terminator the form needs.
    let end = match parse(v.input, v.dir, v.family) {
        Outcome::Match(m) => {
            m.offset + m.len + usize::from(matches!(kind, Kind::Port | Kind::Pasv))
        }
        _ => return Err("does not match"),
    };
    for cut in 0..end.min(v.input.len()) {
        let prefix = v.input.get(..cut).ok_or("cut")?;
        match parse(prefix, v.dir, v.family) {
            // Inside the pattern another form's pattern may be the first to match.
            Outcome::Partial(k) if k == kind || cut <= 4 => {}
            _ => return Err("a truncated command is not a partial match"),
        }
    }
    Ok(end.min(v.input.len()))
}

const O: Dir = Dir::Original;
const R: Dir = Dir::Reply;
const V4: Family = Family::Ipv4;
const V6: Family = Family::Ipv6;
const NONE: Expect = Expect::None;

const fn partial(k: Kind) -> Expect {
    Expect::Partial(k)
}
const fn port(a: [u8; 4], p: u16, span: &'static [u8]) -> Expect {
    Expect::Match(Kind::Port, Some(Addr::V4(a)), p, span)
}
const fn pasv(a: [u8; 4], p: u16, span: &'static [u8]) -> Expect {
    Expect::Match(Kind::Pasv, Some(Addr::V4(a)), p, span)
}
const fn eprt4(a: [u8; 4], p: u16, span: &'static [u8]) -> Expect {
    Expect::Match(Kind::Eprt, Some(Addr::V4(a)), p, span)
}
const fn eprt6(a: [u8; 16], p: u16, span: &'static [u8]) -> Expect {
    Expect::Match(Kind::Eprt, Some(Addr::V6(a)), p, span)
}
const fn epsv(p: u16, span: &'static [u8]) -> Expect {
    Expect::Match(Kind::Epsv, None, p, span)
}
/// An IPv6 address from its eight 16-bit words.
const fn v6(w: [u16; 8]) -> [u8; 16] {
    let mut a = [0u8; 16];
    let mut i = 0;
    while i < 8 {
        a[2 * i] = (w[i] >> 8) as u8;
        a[2 * i + 1] = w[i] as u8;
        i += 1;
    }
    a
}

macro_rules! vectors {
    ($($name:literal, $input:expr, $dir:expr, $family:expr, $expect:expr;)*) => {
        /// The table.
        pub const VECTORS: &[Vector] = &[
            $(Vector { name: $name, input: $input, dir: $dir, family: $family, expect: $expect },)*
        ];
    };
}

const P: Kind = Kind::Port;
const E: Kind = Kind::Eprt;
const A: Kind = Kind::Pasv;
const S: Kind = Kind::Epsv;
const LOOP6: [u8; 16] = v6([0, 0, 0, 0, 0, 0, 0, 1]);
const DOC6: [u8; 16] = v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);

vectors! {
    // --- PORT (RFC 959), client to server ---
    "port", b"PORT 10,0,0,1,4,1\r\n", O, V4, port([10, 0, 0, 1], 1025, b"10,0,0,1,4,1");
    "port lower case", b"port 10,0,0,1,4,1\r\n", O, V4, port([10, 0, 0, 1], 1025, b"10,0,0,1,4,1");
    "port mixed case", b"PoRt 10,0,0,1,4,1\r\n", O, V4, port([10, 0, 0, 1], 1025, b"10,0,0,1,4,1");
    "port CR only", b"PORT 192,168,1,2,19,137\r", O, V4, port([192, 168, 1, 2], 5001, b"192,168,1,2,19,137");
    "port LF only is partial", b"PORT 10,0,0,1,4,1\n", O, V4, partial(P);
    "port without terminator", b"PORT 10,0,0,1,4,1", O, V4, partial(P);
    "port all 255", b"PORT 255,255,255,255,255,255\r\n", O, V4, port([255; 4], 65535, b"255,255,255,255,255,255");
    "port all zero", b"PORT 0,0,0,0,0,0\r\n", O, V4, port([0; 4], 0, b"0,0,0,0,0,0");
    "port octet 256", b"PORT 256,0,0,1,4,1\r\n", O, V4, partial(P);
    "port p1 256 (u16 overflow fix)", b"PORT 10,0,0,1,256,22\r\n", O, V4, partial(P);
    "port p2 256", b"PORT 10,0,0,1,4,256\r\n", O, V4, partial(P);
    "port 1000", b"PORT 10,0,0,1000,4,1\r\n", O, V4, partial(P);
    "port five numbers", b"PORT 10,0,0,1,4\r\n", O, V4, partial(P);
    "port seven numbers", b"PORT 10,0,0,1,4,1,7\r\n", O, V4, partial(P);
    "port empty number", b"PORT 10,,0,1,4,1\r\n", O, V4, port([10, 0, 0, 1], 1025, b"10,,0,1,4,1");
    "port empty last number", b"PORT 10,0,0,1,4,\r\n", O, V4, port([10, 0, 0, 1], 1024, b"10,0,0,1,4,");
    "port only commas", b"PORT ,,,,,\r\n", O, V4, port([0; 4], 0, b",,,,,");
    "port leading zeros", b"PORT 0010,0,0,01,004,001\r\n", O, V4, port([10, 0, 0, 1], 1025, b"0010,0,0,01,004,001");
    "port long zero run", b"PORT 000000000000000000000000001,2,3,4,5,6\r\n", O, V4,
        port([1, 2, 3, 4], 0x0506, b"000000000000000000000000001,2,3,4,5,6");
    "port long digit run", b"PORT 99999999999999999999,2,3,4,5,6\r\n", O, V4, partial(P);
    "port two spaces", b"PORT  10,0,0,1,4,1\r\n", O, V4, partial(P);
    "port tab", b"PORT\t10,0,0,1,4,1\r\n", O, V4, partial(P);
    "port no space", b"PORT10,0,0,1,4,1\r\n", O, V4, partial(P);
    "port longer word", b"PORTABLE 1,2,3,4,5,6\r\n", O, V4, port([1, 2, 3, 4], 0x0506, b"1,2,3,4,5,6");
    "port dotted", b"PORT 10.0.0.1,4,1\r\n", O, V4, partial(P);
    "port space before CR", b"PORT 10,0,0,1,4,1 \r\n", O, V4, partial(P);
    "port junk before CR", b"PORT 10,0,0,1,4,1x\r\n", O, V4, partial(P);
    "port NUL before CR", b"PORT 10,0,0,1,4,1\0\r\n", O, V4, partial(P);
    "port negative", b"PORT -10,0,0,1,4,1\r\n", O, V4, partial(P);
    "port pattern only", b"PORT", O, V4, partial(P);
    "port pattern and space", b"PORT ", O, V4, partial(P);
    "port 3 bytes", b"POR", O, V4, partial(P);
    "port 1 byte", b"p", O, V4, partial(P);
    "empty payload", b"", O, V4, partial(P);
    "empty payload, reply", b"", R, V4, partial(A);
    "PASS", b"PASS secret\r\n", O, V4, NONE;
    "USER", b"USER anonymous\r\n", O, V4, NONE;
    "PORX", b"PORX", O, V4, NONE;
    "PO NUL T", b"PO\0T", O, V4, NONE;
    "leading space", b" PORT 10,0,0,1,4,1\r\n", O, V4, NONE;
    "two ports in one segment", b"PORT 10,0,0,1,4,1\r\nPORT 10,0,0,2,4,2\r\n", O, V4,
        port([10, 0, 0, 1], 1025, b"10,0,0,1,4,1");
    "port after another command", b"NOOP\r\nPORT 10,0,0,1,4,1\r\n", O, V4, NONE;
    "port from the server", b"PORT 10,0,0,1,4,1\r\n", R, V4, NONE;
    "port on an IPv6 flow", b"PORT 10,0,0,1,4,1\r\n", O, V6, port([10, 0, 0, 1], 1025, b"10,0,0,1,4,1");
    "port with trailing text", b"PORT 1,2,3,4,5,6\r\nLIST\r\n", O, V4, port([1, 2, 3, 4], 0x0506, b"1,2,3,4,5,6");
    "port high bytes", b"PORT 10,0,0,1,\xc4,1\r\n", O, V4, partial(P);
    "non-ASCII command", b"\xd0ORT 10,0,0,1,4,1\r\n", O, V4, NONE;

    // --- EPRT (RFC 2428), client to server ---
    "eprt v4", b"EPRT |1|10.0.0.1|6275|\r\n", O, V4, eprt4([10, 0, 0, 1], 6275, b"|1|10.0.0.1|6275|");
    "eprt lower case", b"eprt |1|10.0.0.1|6275|\r\n", O, V4, eprt4([10, 0, 0, 1], 6275, b"|1|10.0.0.1|6275|");
    "eprt without CRLF", b"EPRT |1|10.0.0.1|6275|", O, V4, eprt4([10, 0, 0, 1], 6275, b"|1|10.0.0.1|6275|");
    "eprt v6 loopback", b"EPRT |2|::1|6275|\r\n", O, V6, eprt6(LOOP6, 6275, b"|2|::1|6275|");
    "eprt v6 compressed", b"EPRT |2|2001:db8::1|6275|\r\n", O, V6, eprt6(DOC6, 6275, b"|2|2001:db8::1|6275|");
    "eprt v6 upper case", b"EPRT |2|2001:DB8::A|21|\r\n", O, V6,
        eprt6(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xa]), 21, b"|2|2001:DB8::A|21|");
    "eprt v6 full", b"EPRT |2|2001:db8:0:0:0:0:0:1|21|\r\n", O, V6, eprt6(DOC6, 21, b"|2|2001:db8:0:0:0:0:0:1|21|");
    "eprt v6 eight words", b"EPRT |2|1:2:3:4:5:6:7:8|6275|\r\n", O, V6,
        eprt6(v6([1, 2, 3, 4, 5, 6, 7, 8]), 6275, b"|2|1:2:3:4:5:6:7:8|6275|");
    "eprt v6 nine words", b"EPRT |2|1:2:3:4:5:6:7:8:9|6275|\r\n", O, V6, partial(E);
    "eprt v6 seven words", b"EPRT |2|1:2:3:4:5:6:7|6275|\r\n", O, V6, partial(E);
    "eprt v6 two ::", b"EPRT |2|1::2::3|6275|\r\n", O, V6, partial(E);
    "eprt v6 unspecified", b"EPRT |2|::|6275|\r\n", O, V6, eprt6([0; 16], 6275, b"|2|::|6275|");
    "eprt v6 trailing ::", b"EPRT |2|fe80::|6275|\r\n", O, V6, eprt6(v6([0xfe80, 0, 0, 0, 0, 0, 0, 0]), 6275, b"|2|fe80::|6275|");
    "eprt v6 :: in the middle", b"EPRT |2|1:2::7:8|6275|\r\n", O, V6,
        eprt6(v6([1, 2, 0, 0, 0, 0, 7, 8]), 6275, b"|2|1:2::7:8|6275|");
    "eprt v6 :: for one word", b"EPRT |2|1:2:3:4:5:6::8|6275|\r\n", O, V6,
        eprt6(v6([1, 2, 3, 4, 5, 6, 0, 8]), 6275, b"|2|1:2:3:4:5:6::8|6275|");
    "eprt v6 five hex digits", b"EPRT |2|12345::1|6275|\r\n", O, V6, partial(E);
    "eprt v6 leading zeros", b"EPRT |2|00001::1|6275|\r\n", O, V6, eprt6(v6([1, 0, 0, 0, 0, 0, 0, 1]), 6275, b"|2|00001::1|6275|");
    "eprt v6 mapped v4", b"EPRT |2|::ffff:10.0.0.1|6275|\r\n", O, V6,
        eprt6(v6([0, 0, 0, 0, 0, 0xffff, 0x0a00, 1]), 6275, b"|2|::ffff:10.0.0.1|6275|");
    "eprt v6 compatible v4", b"EPRT |2|::1.2.3.4|6275|\r\n", O, V6,
        eprt6(v6([0, 0, 0, 0, 0, 0, 0x0102, 0x0304]), 6275, b"|2|::1.2.3.4|6275|");
    "eprt v6 six words and v4", b"EPRT |2|1:2:3:4:5:6:1.2.3.4|6275|\r\n", O, V6,
        eprt6(v6([1, 2, 3, 4, 5, 6, 0x0102, 0x0304]), 6275, b"|2|1:2:3:4:5:6:1.2.3.4|6275|");
    "eprt v6 v4 octet 256", b"EPRT |2|::ffff:1.2.3.256|6275|\r\n", O, V6, partial(E);
    "eprt v6 v4 three octets", b"EPRT |2|::ffff:1.2.3|6275|\r\n", O, V6, partial(E);
    "eprt v6 v4 empty octet", b"EPRT |2|::ffff:1..3.4|6275|\r\n", O, V6, partial(E);
    "eprt v6 v4 too early", b"EPRT |2|1:2:1.2.3.4|6275|\r\n", O, V6, partial(E);
    "eprt v6 zone", b"EPRT |2|fe80::1%eth0|6275|\r\n", O, V6, partial(E);
    "eprt v6 no port", b"EPRT |2|::1|", O, V6, partial(E);
    "eprt v6 NUL ends the address", b"EPRT |2|::1\x005000|\r\n", O, V6, eprt6(LOOP6, 5000, b"|2|::1\x005000|");
    "eprt v6 colon delimiter", b"EPRT :2:::1:6275:\r\n", O, V6, partial(E);
    "eprt v6 on an IPv4 flow", b"EPRT |2|::1|6275|\r\n", O, V4, partial(E);
    "eprt v4 on an IPv6 flow", b"EPRT |1|10.0.0.1|6275|\r\n", O, V6, partial(E);
    "eprt protocol 3", b"EPRT |3|10.0.0.1|6275|\r\n", O, V4, partial(E);
    "eprt delimiter !", b"EPRT !1!10.0.0.1!6275!\r\n", O, V4, eprt4([10, 0, 0, 1], 6275, b"!1!10.0.0.1!6275!");
    "eprt delimiter ~", b"EPRT ~1~10.0.0.1~6275~\r\n", O, V4, eprt4([10, 0, 0, 1], 6275, b"~1~10.0.0.1~6275~");
    "eprt delimiter digit", b"EPRT 5150.0.0.150005\r\n", O, V4, partial(E);
    "eprt delimiter DEL", b"EPRT \x7f1\x7f10.0.0.1\x7f6275\x7f\r\n", O, V4, partial(E);
    "eprt delimiter high byte", b"EPRT \xa61\xa610.0.0.1\xa66275\xa6\r\n", O, V4, partial(E);
    "eprt delimiter dot", b"EPRT .1.10.0.0.1.6275.\r\n", O, V4, partial(E);
    "eprt space delimiter", b"EPRT  1 10.0.0.1 6275 \r\n", O, V4, partial(E);
    "eprt port 0", b"EPRT |1|10.0.0.1|0|\r\n", O, V4, partial(E);
    "eprt port 1", b"EPRT |1|10.0.0.1|1|\r\n", O, V4, eprt4([10, 0, 0, 1], 1, b"|1|10.0.0.1|1|");
    "eprt port 65535", b"EPRT |1|10.0.0.1|65535|\r\n", O, V4, eprt4([10, 0, 0, 1], 65535, b"|1|10.0.0.1|65535|");
    "eprt port 65536", b"EPRT |1|10.0.0.1|65536|\r\n", O, V4, partial(E);
    "eprt port leading zeros", b"EPRT |1|10.0.0.1|0006275|\r\n", O, V4, eprt4([10, 0, 0, 1], 6275, b"|1|10.0.0.1|0006275|");
    "eprt port empty", b"EPRT |1|10.0.0.1||\r\n", O, V4, partial(E);
    "eprt port not a number", b"EPRT |1|10.0.0.1|62a75|\r\n", O, V4, partial(E);
    "eprt port unterminated", b"EPRT |1|10.0.0.1|6275", O, V4, partial(E);
    "eprt octet 256", b"EPRT |1|10.0.0.256|6275|\r\n", O, V4, partial(E);
    "eprt three octets", b"EPRT |1|10.0.0|6275|\r\n", O, V4, partial(E);
    "eprt five octets", b"EPRT |1|10.0.0.1.5|6275|\r\n", O, V4, partial(E);
    "eprt v4 empty octet", b"EPRT |1|10..0.1|6275|\r\n", O, V4, eprt4([10, 0, 0, 1], 6275, b"|1|10..0.1|6275|");
    "eprt short 2", b"EPRT |1", O, V4, partial(E);
    "eprt short 3", b"EPRT |1|", O, V4, partial(E);
    "eprt short 4", b"EPRT |1|1", O, V4, partial(E);
    "eprt bad second delimiter", b"EPRT |1X10.0.0.1|6275|\r\n", O, V4, partial(E);
    "eprt longer word", b"EPRTX |1|10.0.0.1|6275|\r\n", O, V4, eprt4([10, 0, 0, 1], 6275, b"|1|10.0.0.1|6275|");
    "eprt no space", b"EPRT|1|10.0.0.1|6275|\r\n", O, V4, partial(E);
    "eprt pattern only", b"EPRT", O, V4, partial(E);
    "eprt 1 byte", b"E", O, V4, partial(E);
    "eprt 3 bytes lower", b"epr", O, V4, partial(E);
    "EPSV command", b"EPSV\r\n", O, V4, NONE;
    "PASV command", b"PASV\r\n", O, V4, NONE;
    "eprt from the server", b"EPRT |1|10.0.0.1|6275|\r\n", R, V4, NONE;

    // --- 227 (PASV reply, RFC 959 / RFC 1123), server to client ---
    "227", b"227 Entering Passive Mode (10,0,0,1,4,1).\r\n", R, V4, pasv([10, 0, 0, 1], 1025, b"10,0,0,1,4,1");
    "227 without parentheses", b"227 Entering Passive Mode 10,0,0,1,4,1\r\n", R, V4, pasv([10, 0, 0, 1], 1025, b"10,0,0,1,4,1");
    "227 equals sign", b"227 =10,0,0,1,4,1\r\n", R, V4, pasv([10, 0, 0, 1], 1025, b"10,0,0,1,4,1");
    "227 numbers first", b"227 10,0,0,1,4,1 ok\r\n", R, V4, pasv([10, 0, 0, 1], 1025, b"10,0,0,1,4,1");
    "227 ends at the end of data", b"227 10,0,0,1,4,1", R, V4, partial(A);
    "227 closing parenthesis last", b"227 Entering Passive Mode (10,0,0,1,4,1)", R, V4, pasv([10, 0, 0, 1], 1025, b"10,0,0,1,4,1");
    "227 Logout (no numbers)", b"227 Logout.\r\n", R, V4, partial(A);
    "227 p2 256", b"227 Entering Passive Mode (10,0,0,1,4,256).\r\n", R, V4, partial(A);
    "227 octet 256", b"227 Entering Passive Mode (256,0,0,1,4,1).\r\n", R, V4, partial(A);
    "227 five numbers", b"227 Entering Passive Mode (10,0,0,1,4).\r\n", R, V4, partial(A);
    "227 seven numbers", b"227 Entering Passive Mode (10,0,0,1,4,1,5).\r\n", R, V4, partial(A);
    "227 digits in the text", b"227 Mode 2 (10,0,0,1,4,1).\r\n", R, V4, partial(A);
    "227 leading zeros", b"227 Entering Passive Mode (0010,000,0,1,4,1)\r\n", R, V4, pasv([10, 0, 0, 1], 1025, b"0010,000,0,1,4,1");
    "227 all 255", b"227 (255,255,255,255,255,255)\r\n", R, V4, pasv([255; 4], 65535, b"255,255,255,255,255,255");
    "227 unterminated", b"227 (10,0,0,1,4,1", R, V4, partial(A);
    "227 two replies", b"227 (10,0,0,1,4,1)\r\n227 (10,0,0,2,4,2)\r\n", R, V4, pasv([10, 0, 0, 1], 1025, b"10,0,0,1,4,1");
    "227 dash (multi-line)", b"227-Entering Passive Mode (10,0,0,1,4,1)\r\n", R, V4, NONE;
    "227 pattern only", b"227 ", R, V4, partial(A);
    "227 3 bytes", b"227", R, V4, partial(A);
    "227 2 bytes", b"22", R, V4, partial(A);
    "228", b"228 foo\r\n", R, V4, NONE;
    "200 reply", b"200 PORT command successful.\r\n", R, V4, NONE;
    "227 on an IPv6 flow", b"227 Entering Passive Mode (10,0,0,1,4,1)\r\n", R, V6, pasv([10, 0, 0, 1], 1025, b"10,0,0,1,4,1");
    "227 from the client", b"227 Entering Passive Mode (10,0,0,1,4,1)\r\n", O, V4, NONE;
    "227 space ends the numbers", b"227 1,2,3,4,5,6 x", R, V4, pasv([1, 2, 3, 4], 0x0506, b"1,2,3,4,5,6");
    "227 NUL ends the numbers", b"227 1,2,3,4,5,6\0", R, V4, pasv([1, 2, 3, 4], 0x0506, b"1,2,3,4,5,6");

    // --- 229 (EPSV reply, RFC 2428), server to client ---
    "229", b"229 Entering Extended Passive Mode (|||6446|)\r\n", R, V4, epsv(6446, b"|||6446|");
    "229 on an IPv6 flow", b"229 Entering Extended Passive Mode (|||6446|)\r\n", R, V6, epsv(6446, b"|||6446|");
    "229 delimiter !", b"229 Entering Extended Passive Mode (!!!6446!)\r\n", R, V4, epsv(6446, b"!!!6446!");
    "229 port 0", b"229 Entering Extended Passive Mode (|||0|)\r\n", R, V4, partial(S);
    "229 port 1", b"229 (|||1|)\r\n", R, V4, epsv(1, b"|||1|");
    "229 port 65535", b"229 Entering Extended Passive Mode (|||65535|)\r\n", R, V4, epsv(65535, b"|||65535|");
    "229 port 65536", b"229 Entering Extended Passive Mode (|||65536|)\r\n", R, V4, partial(S);
    "229 port leading zeros", b"229 (|||06446|)\r\n", R, V4, epsv(6446, b"|||06446|");
    "229 no parenthesis", b"229 Entering Extended Passive Mode |||6446|\r\n", R, V4, partial(S);
    "229 two delimiters", b"229 Entering Extended Passive Mode (||6446|)\r\n", R, V4, partial(S);
    "229 with an address", b"229 (|1|10.0.0.1|6446|)\r\n", R, V4, partial(S);
    "229 unterminated", b"229 (|||6446", R, V4, partial(S);
    "229 parenthesis last", b"229 (", R, V4, partial(S);
    "229 three delimiters only", b"229 (|||", R, V4, partial(S);
    "229 digit delimiter", b"229 (1116446|)\r\n", R, V4, partial(S);
    "229 port not a number", b"229 (|||64a46|)\r\n", R, V4, partial(S);
    "229 no closing parenthesis", b"229 (|||6446|\r\n", R, V4, epsv(6446, b"|||6446|");
    "229 3 bytes", b"229", R, V4, partial(S);
    "229 from the client", b"229 (|||6446|)\r\n", O, V4, NONE;
    "229 dash (multi-line)", b"229-Extended Passive Mode (|||6446|)\r\n", R, V4, NONE;
    "150 reply", b"150 Here comes the directory listing.\r\n", R, V4, NONE;
    "220 banner", b"220 (vsFTPd 3.0.3)\r\n", R, V4, NONE;
}
