// SPDX-License-Identifier: GPL-2.0

//! The control ports the helpers serve: `ports=` checked at load, as the C does not (it
//! registers a helper on port 0 and fails on a duplicate with a bare line).

use crate::nf::param::MAX_PORTS;
#[cfg(nf_ftp_rs_test)]
use kernel::prelude::kunit_tests;

/// The port tracked when `ports` is not given.
pub(crate) const FTP_PORT: u16 = 21;

/// Why a `ports=` list is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PortsError {
    Zero,
    Duplicate(u16),
    TooMany,
}

/// Validates `ports=`: no port 0, no duplicates, at most [`MAX_PORTS`]; none given means
/// [`FTP_PORT`].
pub(crate) fn validate_ports(given: &[u16]) -> Result<&[u16], PortsError> {
    if given.is_empty() {
        return Ok(&[FTP_PORT]);
    }
    if given.len() > MAX_PORTS {
        return Err(PortsError::TooMany);
    }
    for (i, &port) in given.iter().enumerate() {
        if port == 0 {
            return Err(PortsError::Zero);
        }
        if given[..i].contains(&port) {
            return Err(PortsError::Duplicate(port));
        }
    }
    Ok(given)
}

#[cfg(nf_ftp_rs_test)]
#[kunit_tests(nf_conntrack_ftp_rs_ports)]
mod tests {
    use super::*;

    #[test]
    fn default_port_is_21() {
        assert_eq!(validate_ports(&[]), Ok(&[21][..]));
    }

    #[test]
    fn ports_are_kept_in_order() {
        assert_eq!(
            validate_ports(&[21, 2121, 65535]),
            Ok(&[21, 2121, 65535][..])
        );
    }

    #[test]
    fn bad_ports_are_refused() {
        assert_eq!(validate_ports(&[21, 0]), Err(PortsError::Zero));
        assert_eq!(
            validate_ports(&[21, 2121, 21]),
            Err(PortsError::Duplicate(21))
        );
        let nine = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(validate_ports(&nine), Err(PortsError::TooMany));
    }
}
