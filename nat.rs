// SPDX-License-Identifier: GPL-2.0

//! The NAT half: what 7.2's `nf_nat_ftp` does for a control connection under NAT, in this
//! module, plus `nat_ports`.
//!
//! When a command or reply announces an address, the peer must be told the address it can
//! reach — the one this packet's receiver sees (the other direction's tuple destination) —
//! and a port NAT has reserved for the data connection; the connection, when it comes, is
//! mapped back to the announced address and port.
//!
//! `nat_ports=FIRST-LAST` (C has no such thing): the ports announced for a translated sender
//! (reserved on the gateway's address) and the source ports of data connections that are
//! source-NATed are kept inside the range, as masquerade or SNAT with a port range (CGNAT port
//! blocks) keeps those of other connections.

use crate::counters::Counter;
use crate::nf::adapter::Verdict;
use crate::nf::conn::{Direction, InetAddr, NFPROTO_IPV6};
use crate::nf::expect::{
    random_below, Expectation, NatMapping, RegisterError, RegisteredExpectation,
};
use crate::nf::nat::{mangle_tcp, NatArrival, NatRange};
use crate::nf::param::{nat_ports, PortRange};
use crate::parser::{self, Addr, Kind, Match};
use crate::Segment;
#[cfg(nf_ftp_rs_test)]
use kernel::prelude::*;

/// At most this many ports of `nat_ports` are tried for one announcement, each under the
/// kernel's global expectation lock: the kernel's own search (`nf_nat_exp_find_port`) stops
/// after 128 too.
const RANGE_ATTEMPTS: u32 = 128;

/// Rewrites what `found` announced in the segment (of a NATed connection) and registers
/// `exp` on the port it now announces.
pub(crate) fn announce(seg: &mut Segment<'_, '_>, found: &Match, mut exp: Expectation) -> Verdict {
    let (ct, dir) = (seg.ct, seg.info.direction());
    // The data connection comes from wherever this packet goes.
    let reachable = ct.dst(dir.other());
    let range = nat_ports();
    let mapping = if range.is_some() {
        NatMapping::InNatPorts
    } else {
        NatMapping::FollowMaster
    };
    exp.expect_nat(dir.other(), mapping);
    // The announced port is a port of the gateway's translated address only where the
    // sender is translated (the peer knows it by another address); a port of an untranslated
    // sender is left to the kernel's search, as without `nat_ports`.
    let registered = match range {
        Some(range) if ct.src(dir) != reachable => register_in_range(exp, range),
        _ => exp.register_near_port(),
    };
    let Some(registered) = registered else {
        seg.count(Counter::NatNoPort);
        seg.log(c"all ports in use");
        return Verdict::Drop;
    };

    let mut text = [0u8; parser::MAX_FORMATTED];
    let addr = announced_form(found.kind, ct.l3num(), reachable);
    let rewritten = match parser::format(found.kind, addr, registered.dst_port(), &mut text) {
        Ok(n) => mangle_tcp(
            seg.skb,
            ct,
            seg.info,
            seg.protoff,
            found.offset as u32,
            found.len as u32,
            &text[..n],
        ),
        Err(_) => false,
    };
    if !rewritten {
        seg.count(Counter::NatMangleFailed);
        seg.log(c"cannot mangle packet");
        registered.unregister();
        return Verdict::Drop;
    }
    seg.count(Counter::NatRewritten);
    seg.count(Counter::Expected);
    Verdict::Accept
}

/// How `addr` is written in a `kind` announcement: `PORT` and `227` carry four octets (the
/// first four bytes of the address, whatever the family, as C writes them), `EPRT` the
/// connection's family.
fn announced_form(kind: Kind, l3num: u16, addr: InetAddr) -> Addr {
    let v4 = Addr::V4([addr.0[0], addr.0[1], addr.0[2], addr.0[3]]);
    match kind {
        Kind::Eprt if l3num == NFPROTO_IPV6 => Addr::V6(addr.0),
        _ => v4,
    }
}

/// Registers `exp` on a free port of `first..=last`: the announced port if it is inside and
/// free, else the ports from a random one on (wrapping), [`RANGE_ATTEMPTS`] tries in all.
/// `None` if none of the ports tried was free.
fn register_in_range(
    mut exp: Expectation,
    PortRange { first, last }: PortRange,
) -> Option<RegisteredExpectation> {
    let size = u32::from(last - first) + 1;
    let wanted = exp.dst_port();
    let inside = (first..=last).contains(&wanted);
    let start = random_below(size);
    // The announced port first, then the others from the random one on.
    let others = (0..size)
        .map(|i| first + ((start + i) % size) as u16)
        .filter(|&p| !inside || p != wanted);
    let ports = Iterator::chain(inside.then_some(wanted).into_iter(), others);
    for port in ports.take(RANGE_ATTEMPTS as usize) {
        match exp.register_on_port(port) {
            Ok(registered) => return Some(registered),
            Err(RegisterError::Busy(back)) => exp = back,
            Err(RegisterError::Failed) => return None,
        }
    }
    None
}

/// Sets up the NAT of a data connection announced while `nat_ports` was set: what
/// `nf_nat_follow_master` does — source as the master's packets are sent to, destination
/// back to the announced address and port — with the source port kept inside `nat_ports`
/// where the source address is translated.
pub(crate) fn map_data_connection(arrival: NatArrival<'_>) {
    let master_dir = arrival.dir().other();
    let src = arrival.master().dst(master_dir);
    let dst = arrival.master().src(master_dir);
    let translated = src != arrival.conn().src(Direction::Original);
    let src_ports = nat_ports().filter(|_| translated);
    let saved = arrival.saved_port();
    arrival.map(
        NatRange {
            addr: src,
            ports: src_ports,
        },
        NatRange {
            addr: dst,
            ports: Some(PortRange {
                first: saved,
                last: saved,
            }),
        },
    );
}

#[cfg(nf_ftp_rs_test)]
#[kunit_tests(nf_conntrack_ftp_rs_nat)]
mod tests {
    use super::*;
    use crate::nf::conn::NFPROTO_IPV4;

    fn v6() -> InetAddr {
        let mut a = [0u8; 16];
        a[0] = 0xfd;
        a[15] = 2;
        InetAddr(a)
    }

    #[test]
    fn announced_forms() {
        let v4 = InetAddr([10, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            announced_form(Kind::Port, NFPROTO_IPV4, v4),
            Addr::V4([10, 0, 2, 1])
        );
        assert_eq!(
            announced_form(Kind::Eprt, NFPROTO_IPV4, v4),
            Addr::V4([10, 0, 2, 1])
        );
        assert_eq!(
            announced_form(Kind::Eprt, NFPROTO_IPV6, v6()),
            Addr::V6(v6().0)
        );
        // C writes `PORT` from the address's first four bytes, whatever the family.
        assert_eq!(
            announced_form(Kind::Pasv, NFPROTO_IPV6, v6()),
            Addr::V4([0xfd, 0, 0, 0])
        );
    }
}
