//! Runs one input through parser.rs and through the kernel's C (c-oracle) and compares the
//! results; shared by the differential test and the fuzz target.

use c_oracle::{Found, PF_INET, PF_INET6};
use ftp_parser_host::parser::{parse, Dir, Family, Outcome};

/// A sender address with no zero byte, so an IPv4 announcement (4 bytes written over it)
/// can be told apart from the sender's own address in the comparison.
pub const SENDER: [u8; 16] = [0xc0, 0xa8, 0x01, 0x02, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9];

/// `Err` describes how Rust and C differ on `data`.
pub fn compare(data: &[u8], dir: Dir, family: Family) -> Result<(), String> {
    let l3 = if family == Family::Ipv4 {
        PF_INET
    } else {
        PF_INET6
    };
    let c = c_oracle::parse(data, (dir == Dir::Reply) as u8, l3, SENDER);
    let rust = parse(data, dir, family);
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
                && m.addr.map_or(SENDER, |a| a.written_over(SENDER)) == addr
                && m.offset + m.len <= data.len()
        }
        _ => false,
    };
    if same {
        Ok(())
    } else {
        Err(format!(
            "{:?} {dir:?} {family:?}: rust {rust:?}, C {c:?}",
            String::from_utf8_lossy(data)
        ))
    }
}
