// SPDX-License-Identifier: GPL-2.0

//! nf_conntrack_ftp_rs: the netfilter FTP connection-tracking helper, in Rust.
//!
//! A drop-in for `nf_conntrack_ftp`: load it with `ports=` and `loose=`, then assign the
//! helper with an nftables `ct helper` object of type "ftp".

use kernel::prelude::*;

mod nf;
pub mod parser;

/// The parser's test vectors, shared with the host tests (see tests/vectors.rs).
#[cfg(CONFIG_KUNIT)]
#[path = "tests/vectors.rs"]
pub mod vectors;

module! {
    type: FtpHelperModule,
    name: "nf_conntrack_ftp_rs",
    authors: ["The nf_conntrack_ftp_rs developers"],
    description: "FTP connection tracking helper (Rust)",
    license: "GPL",
    alias: ["ip_conntrack_ftp", "nfct-helper-ftp"],
}

/// At most this many ports, as the C helper (`MAX_PORTS`).
const MAX_PORTS: usize = 8;
/// The port tracked when `ports` is not given.
const FTP_PORT: u16 = 21;

module_param_u16_array!(
    ports,
    max = 8,
    perm = 0o400,
    desc = "Port numbers of FTP servers to track (up to 8; default 21)"
);
module_param_bool!(
    loose,
    default = false,
    perm = 0o600,
    desc = "Accept PORT/EPRT/PASV addresses that differ from the peer's (default N)"
);

/// The validated list of control ports.
struct Ports {
    list: [u16; MAX_PORTS],
    len: usize,
}

impl Ports {
    fn as_slice(&self) -> &[u16] {
        &self.list[..self.len]
    }
}

/// Why a `ports=` list is refused.
#[derive(Debug, PartialEq, Eq)]
enum PortsError {
    Zero,
    Duplicate(u16),
    TooMany,
}

/// Validates `ports=`: no port 0, no duplicates; none given means [`FTP_PORT`].
fn validate_ports(given: &[u16]) -> Result<Ports, PortsError> {
    let mut valid = Ports {
        list: [0; MAX_PORTS],
        len: 0,
    };
    let given = if given.is_empty() {
        &[FTP_PORT][..]
    } else {
        given
    };
    for &port in given {
        if port == 0 {
            return Err(PortsError::Zero);
        }
        if valid.as_slice().contains(&port) {
            return Err(PortsError::Duplicate(port));
        }
        let slot = valid.list.get_mut(valid.len).ok_or(PortsError::TooMany)?;
        *slot = port;
        valid.len += 1;
    }
    Ok(valid)
}

/// A helper's name: `ftp` for port 21, `ftp-<port>` otherwise, as the C helper names them.
/// At most 9 bytes, well inside the kernel's `NF_CT_HELPER_NAME_LEN` (16, with the NUL).
struct HelperName {
    buf: [u8; 9],
    len: usize,
}

impl HelperName {
    fn new(port: u16) -> Self {
        let mut name = Self {
            buf: *b"ftp-\0\0\0\0\0",
            len: 3,
        };
        if port == FTP_PORT {
            return name;
        }
        let mut divisor = 10000;
        while divisor > 1 && port / divisor == 0 {
            divisor /= 10;
        }
        name.len = 4;
        while divisor > 0 {
            name.buf[name.len] = b'0' + ((port / divisor) % 10) as u8;
            name.len += 1;
            divisor /= 10;
        }
        name
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn as_str(&self) -> &str {
        // Only ASCII letters, '-' and digits are ever written.
        core::str::from_utf8(self.as_bytes()).unwrap_or("ftp")
    }
}

struct FtpHelperModule {
    ports: Ports,
}

impl kernel::Module for FtpHelperModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let valid = validate_ports(ports.values()).map_err(|e| {
            match e {
                PortsError::Zero => pr_err!("ports: 0 is not a valid port\n"),
                PortsError::Duplicate(p) => pr_err!("ports: port {} is given twice\n", p),
                PortsError::TooMany => pr_err!("ports: at most {} ports\n", MAX_PORTS),
            }
            EINVAL
        })?;
        for &port in valid.as_slice() {
            let name = HelperName::new(port);
            pr_info!(
                "port {}: helper \"{}\" (loose={})\n",
                port,
                name.as_str(),
                loose.get()
            );
        }
        Ok(Self { ports: valid })
    }
}

impl Drop for FtpHelperModule {
    fn drop(&mut self) {
        pr_info!("unloaded ({} ports)\n", self.ports.len);
    }
}

#[kunit_tests(nf_conntrack_ftp_rs_init)]
mod tests {
    use super::*;

    #[test]
    fn default_port_is_21() {
        let p = validate_ports(&[]).unwrap();
        assert_eq!(p.as_slice(), &[21]);
    }

    #[test]
    fn ports_are_kept_in_order() {
        let p = validate_ports(&[21, 2121, 65535]).unwrap();
        assert_eq!(p.as_slice(), &[21, 2121, 65535]);
    }

    #[test]
    fn bad_ports_are_refused() {
        assert_eq!(validate_ports(&[21, 0]).err(), Some(PortsError::Zero));
        assert_eq!(
            validate_ports(&[21, 2121, 21]).err(),
            Some(PortsError::Duplicate(21))
        );
        assert_eq!(
            validate_ports(&[1; 9][..]).err(),
            Some(PortsError::Duplicate(1))
        );
        let nine = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(validate_ports(&nine).err(), Some(PortsError::TooMany));
    }

    #[test]
    fn helper_names_match_the_c_helper() {
        assert_eq!(HelperName::new(21).as_bytes(), b"ftp");
        assert_eq!(HelperName::new(2121).as_bytes(), b"ftp-2121");
        assert_eq!(HelperName::new(1).as_bytes(), b"ftp-1");
        assert_eq!(HelperName::new(10).as_bytes(), b"ftp-10");
        assert_eq!(HelperName::new(20).as_bytes(), b"ftp-20");
        assert_eq!(HelperName::new(65535).as_bytes(), b"ftp-65535");
    }

    #[test]
    fn loaded_parameters_are_valid() {
        // What the kernel parsed from insmod's arguments passed init()'s checks.
        assert!(validate_ports(ports.values()).is_ok());
        assert!(ports.values().len() <= MAX_PORTS);
    }
}

#[kunit_tests(nf_conntrack_ftp_rs_parser)]
mod parser_tests {
    use crate::vectors::{check, check_truncations, VECTORS};
    use kernel::prelude::*;

    #[test]
    fn vector_table() {
        let mut failed = 0;
        for v in VECTORS {
            if let Err(why) = check(v) {
                pr_err!("vector '{}': {}\n", v.name, why);
                failed += 1;
            }
        }
        pr_info!("parser: {} vectors, {} failed\n", VECTORS.len(), failed);
        assert_eq!(failed, 0);
        assert!(VECTORS.len() >= 150);
    }

    #[test]
    fn truncated_commands_are_partial() {
        let mut failed = 0;
        let mut prefixes = 0;
        for v in VECTORS {
            match check_truncations(v) {
                Ok(n) => prefixes += n,
                Err(why) => {
                    pr_err!("vector '{}': {}\n", v.name, why);
                    failed += 1;
                }
            }
        }
        pr_info!("parser: {} truncated commands, {} failed\n", prefixes, failed);
        assert_eq!(failed, 0);
        assert!(prefixes > 1000);
    }
}
