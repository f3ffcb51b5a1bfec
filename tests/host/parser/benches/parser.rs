//! Parser throughput on a realistic control-channel mix, Rust next to the kernel's C
//! (compiled from the downloaded source by the c-oracle crate). `cargo bench` prints MiB/s
//! for both; scripts/parser-bench prints the ratio.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ftp_parser_host::parser::{parse, Dir, Family};

/// One passive and one active transfer's worth of control segments (direction, payload).
const SESSION: &[(Dir, &[u8])] = &[
    (Dir::Reply, b"220 (vsFTPd 3.0.3)\r\n"),
    (Dir::Original, b"USER anonymous\r\n"),
    (Dir::Reply, b"331 Please specify the password.\r\n"),
    (Dir::Original, b"PASS ftp@example.org\r\n"),
    (Dir::Reply, b"230 Login successful.\r\n"),
    (Dir::Original, b"PWD\r\n"),
    (Dir::Reply, b"257 \"/\" is the current directory\r\n"),
    (Dir::Original, b"EPSV\r\n"),
    (
        Dir::Reply,
        b"229 Entering Extended Passive Mode (|||41235|)\r\n",
    ),
    (Dir::Original, b"TYPE I\r\n"),
    (Dir::Reply, b"200 Switching to Binary mode.\r\n"),
    (Dir::Original, b"SIZE file.bin\r\n"),
    (Dir::Reply, b"213 65536\r\n"),
    (Dir::Original, b"RETR file.bin\r\n"),
    (
        Dir::Reply,
        b"150 Opening BINARY mode data connection for file.bin (65536 bytes).\r\n",
    ),
    (Dir::Reply, b"226 Transfer complete.\r\n"),
    (Dir::Original, b"PASV\r\n"),
    (
        Dir::Reply,
        b"227 Entering Passive Mode (192,168,10,20,161,13).\r\n",
    ),
    (Dir::Original, b"PORT 192,168,10,30,195,80\r\n"),
    (
        Dir::Reply,
        b"200 PORT command successful. Consider using PASV.\r\n",
    ),
    (Dir::Original, b"EPRT |1|192.168.10.30|50001|\r\n"),
    (
        Dir::Reply,
        b"200 EPRT command successful. Consider using EPSV.\r\n",
    ),
    (Dir::Original, b"LIST\r\n"),
    (Dir::Reply, b"150 Here comes the directory listing.\r\n"),
    (Dir::Reply, b"226 Directory send OK.\r\n"),
    (Dir::Original, b"QUIT\r\n"),
    (Dir::Reply, b"221 Goodbye.\r\n"),
];

const SENDER: [u8; 16] = [192, 168, 10, 30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

fn bench(c: &mut Criterion) {
    let bytes: usize = SESSION.iter().map(|(_, p)| p.len()).sum();
    let mut g = c.benchmark_group("control-channel mix");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("rust parser.rs", |b| {
        b.iter(|| {
            for (dir, p) in SESSION {
                black_box(parse(black_box(p), *dir, Family::Ipv4));
            }
        })
    });
    g.bench_function("C nf_conntrack_ftp.c", |b| {
        b.iter(|| {
            for (dir, p) in SESSION {
                let d = (*dir == Dir::Reply) as u8;
                black_box(c_oracle::parse(black_box(p), d, c_oracle::PF_INET, SENDER));
            }
        })
    });
    g.finish();
}

/// Each command or reply that creates an expectation, alone: the parser's part of a
/// command's cost (make bench's "the helper's own part").
const COMMANDS: &[(&str, Dir, Family, &[u8])] = &[
    (
        "PORT",
        Dir::Original,
        Family::Ipv4,
        b"PORT 192,168,10,30,195,80\r\n",
    ),
    (
        "EPRT v4",
        Dir::Original,
        Family::Ipv4,
        b"EPRT |1|192.168.10.30|50001|\r\n",
    ),
    (
        "EPRT v6",
        Dir::Original,
        Family::Ipv6,
        b"EPRT |2|fd00:1::1e|50001|\r\n",
    ),
    (
        "227",
        Dir::Reply,
        Family::Ipv4,
        b"227 Entering Passive Mode (192,168,10,20,161,13).\r\n",
    ),
    (
        "229",
        Dir::Reply,
        Family::Ipv4,
        b"229 Entering Extended Passive Mode (|||41235|)\r\n",
    ),
];

fn bench_commands(c: &mut Criterion) {
    let mut g = c.benchmark_group("one command");
    for &(name, dir, family, p) in COMMANDS {
        let (l3num, sender) = match family {
            Family::Ipv4 => (c_oracle::PF_INET, SENDER),
            Family::Ipv6 => {
                let mut a = [0u8; 16];
                a[..2].copy_from_slice(&[0xfd, 0]);
                a[3] = 1;
                a[15] = 0x1e;
                (c_oracle::PF_INET6, a)
            }
        };
        g.bench_function(format!("rust {name}"), |b| {
            b.iter(|| black_box(parse(black_box(p), dir, family)))
        });
        g.bench_function(format!("C {name}"), |b| {
            let d = (dir == Dir::Reply) as u8;
            b.iter(|| black_box(c_oracle::parse(black_box(p), d, l3num, sender)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench, bench_commands);
criterion_main!(benches);
