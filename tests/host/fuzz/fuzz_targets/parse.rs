//! Differential fuzzing of parser.rs against the kernel's C parser (c-oracle).
//! Input: one byte of flags (bit 0: reply direction, bit 1: IPv6 flow, bit 2: in6_pton
//! only, bits 3-7 pick its delimiter), then the payload.
#![no_main]

use c_oracle::{Found, PF_INET, PF_INET6};
use ftp_parser_host::parser::{in6_pton, parse, Dir, Family, Outcome};
use libfuzzer_sys::fuzz_target;

const SENDER: [u8; 16] = [0xc0, 0xa8, 0x01, 0x02, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9];
const DELIMS: &[u8] = b"|!:.1~ (";

fuzz_target!(|input: &[u8]| {
    let Some((&flags, data)) = input.split_first() else {
        return;
    };
    if flags & 4 != 0 {
        let delim = DELIMS[usize::from(flags >> 3) % DELIMS.len()];
        assert_eq!(in6_pton(data, delim), c_oracle::in6_pton(data, delim));
        return;
    }
    let dir = if flags & 1 != 0 {
        Dir::Reply
    } else {
        Dir::Original
    };
    let family = if flags & 2 != 0 {
        Family::Ipv6
    } else {
        Family::Ipv4
    };
    let rust = parse(data, dir, family);
    let l3 = if family == Family::Ipv6 {
        PF_INET6
    } else {
        PF_INET
    };
    let c = c_oracle::parse(data, (flags & 1) as u8, l3, SENDER);
    let same = match (rust, c) {
        (Outcome::NoMatch, Found::None) => true,
        (Outcome::Partial(k), Found::Partial(ck)) => k as u8 == ck,
        (
            Outcome::Match(m),
            Found::Match {
                kind,
                off,
                len,
                addr,
                port,
            },
        ) => {
            m.kind as u8 == kind
                && (m.offset, m.len, m.port) == (off, len, port)
                && m.addr.map_or(SENDER, |a| a.over(SENDER)) == addr
                && m.offset + m.len <= data.len()
        }
        _ => false,
    };
    assert!(same, "rust {rust:?} != C {c:?}");
});
