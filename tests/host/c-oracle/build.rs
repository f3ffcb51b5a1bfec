//! Extracts the parsing functions from the downloaded kernel source at build time (they are
//! never copied into this repository) and compiles them with a small shim header.
//!
//! The kernel tree: $KERNEL_SRC, else the one scripts/setup unpacked (its cache's CURRENT).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn kernel_src() -> PathBuf {
    if let Some(src) = env::var_os("KERNEL_SRC") {
        return PathBuf::from(src);
    }
    let cache = env::var_os("NF_FTP_RS_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            env::var_os("XDG_CACHE_HOME").map(|x| Path::new(&x).join("nf_conntrack_ftp_rs"))
        })
        .or_else(|| env::var_os("HOME").map(|h| Path::new(&h).join(".cache/nf_conntrack_ftp_rs")))
        .expect("no HOME");
    let current = cache.join("kernel-src/CURRENT");
    match fs::read_to_string(&current) {
        Ok(s) => PathBuf::from(s.trim()),
        Err(_) => panic!(
            "kernel source not found ({} missing): run scripts/setup or set KERNEL_SRC",
            current.display()
        ),
    }
}

/// The text from the first line containing `from` up to the start of the line containing
/// `to` (or through it, with `inclusive`).
fn region(text: &str, file: &Path, from: &str, to: &str, inclusive: bool) -> String {
    let start = text
        .find(from)
        .unwrap_or_else(|| panic!("{}: '{from}' not found", file.display()));
    let start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let rel = text[start..]
        .find(to)
        .unwrap_or_else(|| panic!("{}: '{to}' not found", file.display()));
    let mut end = start + rel;
    if inclusive {
        // Through the end of the line where `to` ends.
        end += to.len();
        if !to.ends_with('\n') {
            end += text[end..].find('\n').map_or(text.len() - end, |i| i + 1);
        }
    } else {
        end = text[..end].rfind('\n').map_or(start, |i| i + 1);
    }
    format!(
        "#line {} \"{}\"\n{}",
        text[..start].lines().count() + 1,
        file.display(),
        &text[start..end]
    )
}

/// A whole function definition: from its signature line to the `}` in column 0.
fn function(text: &str, file: &Path, signature: &str) -> String {
    region(text, file, signature, "\n}\n", true)
}

fn read(path: &Path) -> String {
    println!("cargo:rerun-if-changed={}", path.display());
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn main() {
    let src = kernel_src();
    println!("cargo:rerun-if-env-changed=KERNEL_SRC");
    println!("cargo:rerun-if-changed=src/shim.h");
    println!("cargo:rerun-if-changed=src/oracle.c");

    let ftp_c = src.join("net/netfilter/nf_conntrack_ftp.c");
    let utils_c = src.join("net/core/utils.c");
    let hexdump_c = src.join("lib/hexdump.c");
    let ftp = read(&ftp_c);
    let utils = read(&utils_c);
    let hexdump = read(&hexdump_c);

    let mut out =
        String::from("/* Extracted at build time from the kernel source; see build.rs. */\n");
    out += &function(&hexdump, &hexdump_c, "int hex_to_bin(unsigned char ch)");
    // IN6PTON_* constants, xdigit2bin(), in4_pton(), in6_pton().
    out += &region(
        &utils,
        &utils_c,
        "#define IN6PTON_XDIGIT",
        "EXPORT_SYMBOL(in6_pton);",
        true,
    );
    // The prototypes, the search table and every parsing function up to the line tracking.
    out += &region(
        &ftp,
        &ftp_c,
        "static int try_rfc959(const char *, size_t,",
        "static int find_nl_seq(",
        false,
    );

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    fs::write(out_dir.join("extracted.c"), out).unwrap();

    cc::Build::new()
        .file("src/oracle.c")
        .include("src")
        .include(&out_dir)
        .warnings(false)
        .flag("-w")
        .compile("ftp_c_oracle");
}
