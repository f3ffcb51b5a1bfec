//! Differential fuzzing of parser.rs against the kernel's C parser (c-oracle).
//! Input: one byte of flags (bit 0: reply direction, bit 1: IPv6 flow, bit 2: in6_pton
//! only, bits 3-7 pick its delimiter), then the payload.
#![no_main]

use ftp_parser_host::parser::{in6_pton, Dir, Family};
use libfuzzer_sys::fuzz_target;

#[path = "../../compare.rs"]
mod compare;

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
    if let Err(diff) = compare::compare(data, dir, family) {
        panic!("{diff}");
    }
});
