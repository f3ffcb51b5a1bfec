//! The Rust parser against the kernel's C functions (the c-oracle crate compiles them from
//! the downloaded kernel source): every vector, every truncation of every vector, and a
//! corpus of mutated inputs. Any disagreement fails, with the input printed.

use ftp_parser_host::parser::{self, in6_pton, Dir, Family};
use ftp_parser_host::vectors::VECTORS;

#[path = "../../compare.rs"]
mod compare;
use compare::compare;

#[test]
fn vectors_agree_with_c() {
    let mut diffs = Vec::new();
    let mut cases = 0;
    for v in VECTORS {
        for cut in 0..=v.input.len() {
            cases += 1;
            if let Err(d) = compare(&v.input[..cut], v.dir, v.family) {
                diffs.push(format!("{} (first {cut} bytes): {d}", v.name));
            }
        }
    }
    println!(
        "differential: {} vectors, {cases} inputs with truncations",
        VECTORS.len()
    );
    assert!(
        diffs.is_empty(),
        "{} disagreements:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

/// xorshift64*: a fixed, seedable stream so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Bytes that matter to the parser, weighted towards the interesting ones.
const ALPHABET: &[u8] = b"0123456789,.|:()!~ \r\n\0abcdefABCDEFxX%-\x7f\xc4\xff25";

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let pos = rng.below(v.len() + 1);
        let byte = if rng.below(4) == 0 {
            rng.next() as u8
        } else {
            ALPHABET[rng.below(ALPHABET.len())]
        };
        match rng.below(4) {
            0 if pos < v.len() => v[pos] = byte,
            1 => v.insert(pos, byte),
            2 if pos < v.len() => {
                v.remove(pos);
            }
            _ => {
                let n = rng.below(6);
                for _ in 0..n {
                    v.insert(pos.min(v.len()), ALPHABET[rng.below(ALPHABET.len())]);
                }
            }
        }
    }
    v
}

#[test]
fn mutated_corpus_agrees_with_c() {
    let iterations: usize = std::env::var("DIFF_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300_000);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut diffs = Vec::new();
    for i in 0..iterations {
        let v = &VECTORS[rng.below(VECTORS.len())];
        let data = mutate(&mut rng, v.input);
        let dir = if rng.below(8) == 0 {
            if v.dir == Dir::Original {
                Dir::Reply
            } else {
                Dir::Original
            }
        } else {
            v.dir
        };
        let family = if rng.below(8) == 0 {
            if v.family == Family::Ipv4 {
                Family::Ipv6
            } else {
                Family::Ipv4
            }
        } else {
            v.family
        };
        if let Err(d) = compare(&data, dir, family) {
            diffs.push(format!("#{i}: {d}"));
            if diffs.len() >= 20 {
                break;
            }
        }
    }
    println!("differential: {iterations} mutated inputs");
    assert!(diffs.is_empty(), "disagreements:\n{}", diffs.join("\n"));
}

#[test]
fn in6_pton_agrees_with_c() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let seeds: &[&[u8]] = &[
        b"::1|",
        b"2001:db8::1|",
        b"::ffff:10.0.0.1|",
        b"1:2:3:4:5:6:7:8|",
        b"1:2:3:4:5:6:1.2.3.4|",
        b"fe80::|",
        b"::|",
        b"00001::1|",
        b"1::2::3|",
        b"::1.2.3.4|",
        b"a:b:c:d:e:f:0:1|",
    ];
    let mut checked = 0;
    for _ in 0..200_000 {
        let seed = seeds[rng.below(seeds.len())];
        let data = mutate(&mut rng, seed);
        let delim = [b'|', b'!', b':', b'.', b'1'][rng.below(5)];
        let (r, c) = (in6_pton(&data, delim), c_oracle::in6_pton(&data, delim));
        assert_eq!(
            r,
            c,
            "in6_pton({:?}, {:?})",
            String::from_utf8_lossy(&data),
            delim as char
        );
        checked += 1;
    }
    println!("differential: {checked} in6_pton inputs");
}

#[test]
fn formats_match_nf_nat_ftp() {
    // nf_nat_ftp's snprintf formats, as C would print them.
    let mut buf = [0u8; parser::MAX_FORMATTED];
    let n = parser::format(
        parser::Kind::Port,
        parser::Addr::V4([10, 0, 0, 1]),
        1025,
        &mut buf,
    )
    .unwrap();
    assert_eq!(&buf[..n], b"10,0,0,1,4,1");
    let n = parser::format(
        parser::Kind::Eprt,
        parser::Addr::V4([10, 0, 0, 1]),
        6275,
        &mut buf,
    )
    .unwrap();
    assert_eq!(&buf[..n], b"|1|10.0.0.1|6275|");
    let a6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let n = parser::format(parser::Kind::Eprt, parser::Addr::V6(a6), 21, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"|2|2001:0db8:0000:0000:0000:0000:0000:0001|21|");
    let n = parser::format(parser::Kind::Epsv, parser::Addr::V4([0; 4]), 6446, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"|||6446|");
}
