//! Properties: format-then-parse round-trips in all four forms; no input makes parse panic.

use ftp_parser_host::parser::{
    format, in6_pton, parse, Addr, Dir, Family, Kind, Outcome, MAX_FORMATTED,
};
use proptest::prelude::*;

/// The command or reply line around a formatted span, and where the span starts.
fn line(kind: Kind, span: &[u8]) -> (Vec<u8>, Dir, usize) {
    let (head, tail, dir): (&[u8], &[u8], _) = match kind {
        Kind::Port => (b"PORT ", b"\r\n", Dir::Original),
        Kind::Eprt => (b"EPRT ", b"\r\n", Dir::Original),
        Kind::Pasv => (b"227 Entering Passive Mode (", b").\r\n", Dir::Reply),
        Kind::Epsv => (
            b"229 Entering Extended Passive Mode (",
            b")\r\n",
            Dir::Reply,
        ),
    };
    ([head, span, tail].concat(), dir, head.len())
}

fn round_trip(kind: Kind, addr: Addr, port: u16, family: Family) -> Result<(), TestCaseError> {
    let mut buf = [0u8; MAX_FORMATTED];
    let n = format(kind, addr, port, &mut buf).expect("fits");
    let (payload, dir, start) = line(kind, &buf[..n]);
    match parse(&payload, dir, family) {
        Outcome::Match(m) => {
            prop_assert_eq!(m.kind, kind);
            prop_assert_eq!(m.port, port);
            prop_assert_eq!((m.offset, m.len), (start, n));
            let want = if kind == Kind::Epsv { None } else { Some(addr) };
            prop_assert_eq!(m.addr, want);
        }
        other => prop_assert!(
            false,
            "{:?} for {:?}",
            other,
            String::from_utf8_lossy(&payload)
        ),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn port_and_pasv_round_trip(a in any::<[u8; 4]>(), port in any::<u16>()) {
        round_trip(Kind::Port, Addr::V4(a), port, Family::Ipv4)?;
        round_trip(Kind::Pasv, Addr::V4(a), port, Family::Ipv4)?;
    }

    #[test]
    fn eprt_round_trip(a4 in any::<[u8; 4]>(), a6 in any::<[u8; 16]>(), port in 1..=u16::MAX) {
        round_trip(Kind::Eprt, Addr::V4(a4), port, Family::Ipv4)?;
        round_trip(Kind::Eprt, Addr::V6(a6), port, Family::Ipv6)?;
    }

    #[test]
    fn epsv_round_trip(port in 1..=u16::MAX) {
        round_trip(Kind::Epsv, Addr::V4([0; 4]), port, Family::Ipv4)?;
        round_trip(Kind::Epsv, Addr::V4([0; 4]), port, Family::Ipv6)?;
    }

    #[test]
    fn v6_text_from_words_parses(words in any::<[u16; 8]>(), cut in 0usize..8, len in 0usize..8) {
        // Any RFC 4291 text form: full, or with one run of words replaced by "::".
        let hex: Vec<String> = words.iter().map(|w| format!("{w:x}")).collect();
        let (text, want) = if len >= 2 && cut + len <= 8 {
            let mut w = words;
            w[cut..cut + len].fill(0);
            (format!("{}::{}", hex[..cut].join(":"), hex[cut + len..].join(":")), w)
        } else {
            (hex.join(":"), words)
        };
        let bytes: Vec<u8> = want.iter().flat_map(|w| w.to_be_bytes()).collect();
        let mut input = text.clone().into_bytes();
        input.push(b'|');
        prop_assert_eq!(in6_pton(&input, b'|'), Some((bytes.try_into().unwrap(), text.len())));
    }

    #[test]
    fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300), dir in any::<bool>(), v6 in any::<bool>()) {
        let dir = if dir { Dir::Original } else { Dir::Reply };
        let family = if v6 { Family::Ipv6 } else { Family::Ipv4 };
        if let Outcome::Match(m) = parse(&data, dir, family) {
            prop_assert!(m.offset + m.len <= data.len());
        }
    }

    #[test]
    fn parse_never_panics_near_commands(
        head in prop::sample::select(vec!["PORT ", "port ", "EPRT ", "EPRT |1|", "EPRT |2|", "227 ", "227 (", "229 (", "229 (|||"]),
        tail in proptest::collection::vec(prop::sample::select(b"0123456789,.|:()! \r\nabcdefABCDEF\0\xff".to_vec()), 0..80),
        dir in any::<bool>(), v6 in any::<bool>(),
    ) {
        let data = [head.as_bytes(), &tail].concat();
        let dir = if dir { Dir::Original } else { Dir::Reply };
        let family = if v6 { Family::Ipv6 } else { Family::Ipv4 };
        if let Outcome::Match(m) = parse(&data, dir, family) {
            prop_assert!(m.offset + m.len <= data.len());
        }
    }
}

#[test]
fn format_refuses_what_does_not_fit() {
    let mut small = [0u8; 10];
    assert!(format(Kind::Eprt, Addr::V6([0xff; 16]), 65535, &mut small).is_err());
    assert!(format(Kind::Port, Addr::V6([0; 16]), 21, &mut [0u8; 64]).is_err());
    let mut buf = [0u8; MAX_FORMATTED];
    let n = format(Kind::Eprt, Addr::V6([0xff; 16]), 65535, &mut buf).unwrap();
    assert_eq!(n, MAX_FORMATTED);
    assert_eq!(
        &buf[..n],
        b"|2|ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff|65535|".as_slice()
    );
}
