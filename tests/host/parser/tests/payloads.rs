//! Large payloads: a control segment can carry up to 64 KiB.

use ftp_parser_host::parser::{parse, Addr, Dir, Family, Kind, Outcome};

const KIB64: usize = 65535;

#[test]
fn long_zero_run_in_port() {
    let mut p = b"PORT ".to_vec();
    p.resize(KIB64 - 14, b'0');
    p.extend_from_slice(b"1,2,3,4,5,6\r\n");
    match parse(&p, Dir::Original, Family::Ipv4) {
        Outcome::Match(m) => {
            assert_eq!(m.addr, Some(Addr::V4([1, 2, 3, 4])));
            assert_eq!(m.port, 0x0506);
            assert_eq!(m.offset, 5);
            assert_eq!(m.offset + m.len, p.len() - 2);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn text_without_commands() {
    let p = vec![b'A'; KIB64];
    assert_eq!(parse(&p, Dir::Original, Family::Ipv4), Outcome::NoMatch);
    assert_eq!(parse(&p, Dir::Reply, Family::Ipv6), Outcome::NoMatch);
}

#[test]
fn pasv_without_digits_is_partial() {
    let mut p = b"227 ".to_vec();
    p.resize(KIB64, b' ');
    assert_eq!(
        parse(&p, Dir::Reply, Family::Ipv4),
        Outcome::Partial(Kind::Pasv)
    );
}

#[test]
fn pasv_numbers_at_the_end() {
    let mut p = b"227 ".to_vec();
    p.resize(KIB64 - 20, b'x');
    p.extend_from_slice(b"(10,0,0,1,4,1)\r\n");
    let Outcome::Match(m) = parse(&p, Dir::Reply, Family::Ipv4) else {
        panic!()
    };
    assert_eq!((m.port, m.offset, m.len), (1025, p.len() - 15, 12));
}

#[test]
fn epsv_skip_runs_to_the_end() {
    let mut p = b"229 ".to_vec();
    p.resize(KIB64, b'.');
    assert_eq!(
        parse(&p, Dir::Reply, Family::Ipv4),
        Outcome::Partial(Kind::Epsv)
    );
}

#[test]
fn eprt_v6_leading_zeros_up_to_the_length_limit() {
    // in6_pton looks at no more than 65535 bytes of the address text.
    for (zeros, matches) in [(1000, true), (65400, true), (70000, false)] {
        let mut p = b"EPRT |2|".to_vec();
        p.resize(p.len() + zeros, b'0');
        p.extend_from_slice(b"1::2|21|\r\n");
        let got = parse(&p, Dir::Original, Family::Ipv6);
        assert_eq!(
            matches!(got, Outcome::Match(_)),
            matches,
            "{zeros} zeros: {got:?}"
        );
    }
}
