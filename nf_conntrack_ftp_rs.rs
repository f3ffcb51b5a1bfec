// SPDX-License-Identifier: GPL-2.0

//! nf_conntrack_ftp_rs: the netfilter FTP connection-tracking helper, in Rust.
//!
//! A drop-in for `nf_conntrack_ftp` and `nf_nat_ftp`: load it with `ports=` and `loose=`
//! (and, beyond the C, `nat_ports=`), then assign the helper with an nftables `ct helper`
//! object of type "ftp". Under NAT it rewrites what it finds (nat.rs).

use counters::Counter;
use kernel::prelude::*;
use kernel::static_lock_class;
use kernel::str::CStr;
use line_starts::LineStarts;
use nf::conn::{Conn, CtInfo, Direction, InetAddr, NFPROTO_IPV6};
use nf::expect::{Expectation, Expected};
use nf::helper::{
    BindHelper, ExpectPolicy, Helper, ModuleHelper, NatHelperModName, PacketConn, Registration,
    Verdict,
};
use nf::lock::StaticBhLock;
use nf::log::helper_log;
use nf::nat::{ExpectFnRegistration, NatArrival, NatHelperRegistration};
use nf::netns::{BindCounters, ModuleCounters, NetCounters, PernetRegistration};
use nf::skb::Skb;
use parser::{Family, Kind, Match, Outcome};

mod counters;
pub mod line_starts;
mod nat;
mod nf;
pub mod parser;

/// The parser's test vectors, shared with the host tests (see tests/vectors.rs). Test builds
/// only (`make NF_FTP_RS_TEST=1`): an operator's module carries no test tables.
#[cfg(all(CONFIG_KUNIT, nf_ftp_rs_test))]
#[path = "tests/vectors.rs"]
pub mod vectors;

module! {
    type: FtpHelperModule,
    name: "nf_conntrack_ftp_rs",
    authors: ["The nf_conntrack_ftp_rs developers"],
    description: "FTP connection tracking helper (Rust)",
    license: "GPL",
    alias: ["ip_conntrack_ftp", "nfct-helper-ftp", "ip_nat_ftp"],
}

/// At most this many ports, as the C helper of 7.2 (`MAX_PORTS`).
const MAX_PORTS: usize = nf::helper::MAX_PORTS;
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
module_param_port_range!(
    nat_ports,
    perm = 0o644,
    desc = "Under NAT, announce and source-map FTP data connections on ports FIRST-LAST only (default: none, as nf_nat_ftp)"
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

/// What the helper does with one segment, and whether the segment may set a line start.
struct Decision {
    verdict: Verdict,
    /// `false` where the C helper skips the line-start update (`goto out`).
    track_line: bool,
}

impl Decision {
    const fn new(verdict: Verdict, track_line: bool) -> Self {
        Self {
            verdict,
            track_line,
        }
    }
}

/// Size of the buffer a non-linear segment is copied into for parsing. A longer non-linear
/// payload (possible only with BIG TCP) is parsed on its first 64 KiB; its last byte still
/// decides the line start. A linear payload is parsed in place, whole, as the C does.
const BUFFER_SIZE: usize = 65536;

/// The buffer non-linear segments at a line start are copied into, and its lock. The only
/// lock on the packet path, taken only for such segments and held only for the copy and the
/// parse: never across the expectation or NAT's rewrite (whose sequence adjustment takes
/// `ct->lock`; upstream's 2022 deadlock). The C helper instead holds one global lock around
/// every segment of every connection and linearizes non-linear ones.
static SCRATCH: StaticBhLock<[u8; BUFFER_SIZE]> = StaticBhLock::new([0; BUFFER_SIZE]);

/// `IPPROTO_TCP`.
const IPPROTO_TCP: u8 = 6;

/// The FTP helper.
struct Ftp;

impl Ftp {
    /// The log line of a partial match, as the C helper writes it.
    fn partial_message(kind: Kind) -> &'static CStr {
        match kind {
            Kind::Port => c"partial matching of `PORT'",
            Kind::Eprt => c"partial matching of `EPRT'",
            Kind::Pasv => c"partial matching of `227 '",
            Kind::Epsv => c"partial matching of `229 '",
        }
    }

    /// The parser's name for a direction.
    fn parser_dir(dir: Direction) -> parser::Dir {
        match dir {
            Direction::Original => parser::Dir::Original,
            Direction::Reply => parser::Dir::Reply,
        }
    }

    /// The connection's address family, for the parser.
    fn family(ct: &Conn) -> Family {
        if ct.l3num() == NFPROTO_IPV6 {
            Family::Ipv6
        } else {
            Family::Ipv4
        }
    }

    /// The parser's verdict on the payload `dataoff..dataoff + datalen` of a segment: read in
    /// place where linear (inline: every parsed line of a linear packet comes here), else
    /// copied into [`SCRATCH`]. `None` if it cannot be read.
    #[inline]
    fn parse(skb: &Skb, dataoff: u32, datalen: u32, ct: &Conn, dir: Direction) -> Option<Outcome> {
        let (dir, family) = (Self::parser_dir(dir), Self::family(ct));
        match skb.linear(dataoff, datalen) {
            Some(payload) => Some(parser::parse(payload, dir, family)),
            None => Self::parse_copy(skb, dataoff, datalen, dir, family),
        }
    }

    /// [`Self::parse`] for a non-linear payload: up to [`BUFFER_SIZE`] bytes copied.
    #[inline(never)]
    fn parse_copy(
        skb: &Skb,
        dataoff: u32,
        datalen: u32,
        dir: parser::Dir,
        family: Family,
    ) -> Option<Outcome> {
        // `init()` sets the lock up before registering the helper.
        let mut buffer = SCRATCH.lock()?;
        let copied = (datalen as usize).min(BUFFER_SIZE);
        let payload = skb.bytes(dataoff, &mut buffer[..copied])?;
        Some(parser::parse(payload, dir, family))
    }

    /// What a segment whose payload starts at `dataoff` and at a line start (or picked up)
    /// leads to. Out of line, so that the common case, a segment inside a line, stays short.
    #[inline(never)]
    fn at_line_start(
        skb: &mut Skb,
        protoff: u32,
        dataoff: u32,
        ct: &PacketConn<'_>,
        stats: &NetCounters,
        info: CtInfo,
    ) -> Decision {
        let datalen = skb.len() - dataoff;
        Counter::Lines.count(stats);
        // The outcome borrows nothing of the packet, which `decide` may rewrite.
        match Self::parse(skb, dataoff, datalen, ct, info.direction()) {
            Some(outcome) => Self::decide(skb, protoff, ct, stats, info, outcome),
            None => Decision::new(Verdict::Drop, false),
        }
    }

    /// What a segment at a line start (or picked up) leads to, by the parser's `outcome`.
    /// Inline: most lines hold no command.
    #[inline]
    fn decide(
        skb: &mut Skb,
        protoff: u32,
        ct: &PacketConn<'_>,
        stats: &NetCounters,
        info: CtInfo,
        outcome: Outcome,
    ) -> Decision {
        match outcome {
            Outcome::NoMatch => Decision::new(Verdict::Accept, true),
            Outcome::Partial(kind) => {
                // Not usually done by connection tracking, but needed to track accurately.
                Counter::Partial.count(stats);
                helper_log(skb, ct, Self::partial_message(kind));
                Decision::new(Verdict::Drop, false)
            }
            Outcome::Match(found) => {
                Counter::of_match(found.kind).count(stats);
                Self::expect(skb, protoff, ct, stats, info, found)
            }
        }
    }

    /// Expects the data connection a command or reply announced (`found`).
    fn expect(
        skb: &mut Skb,
        protoff: u32,
        ct: &PacketConn<'_>,
        stats: &NetCounters,
        info: CtInfo,
        found: Match,
    ) -> Decision {
        let dir = info.direction();
        // The data connection comes the other way: expect it from the other direction's
        // source, to this direction's announced address (normally the sender's).
        let sender = ct.src(dir);
        let announced = InetAddr(found.addr.map_or(sender.0, |a| a.over(sender.0)));
        let mut daddr = ct.dst(dir.other());
        if announced != sender {
            // A third-party address (e.g. a server behind partial NAT, or an attempt to open
            // a hole elsewhere): followed only with `loose`.
            if !loose.get() {
                Counter::AddressRefused.count(stats);
                return Decision::new(Verdict::Accept, true);
            }
            daddr = announced;
        }
        let expected = Expected {
            family: ct.l3num(),
            src: Some(ct.src(dir.other())),
            dst: daddr,
            proto: IPPROTO_TCP,
            src_port: None,
            dst_port: found.port,
        };
        let Some(exp) = Expectation::new(ct, &expected) else {
            Counter::ExpectAllocFailed.count(stats);
            helper_log(skb, ct, c"cannot alloc expectation");
            return Decision::new(Verdict::Drop, false);
        };

        // Under NAT the announcement is rewritten and the expectation registered on the port
        // it then names (nat.rs); the line is tracked whatever the outcome, as in C.
        if ct.is_natted() {
            let verdict = nat::announce(skb, protoff, ct, stats, info, &found, exp);
            return Decision::new(verdict, true);
        }
        if exp.register().is_err() {
            Counter::ExpectAddFailed.count(stats);
            helper_log(skb, ct, c"cannot add expectation");
            return Decision::new(Verdict::Drop, true);
        }
        Counter::Expected.count(stats);
        Decision::new(Verdict::Accept, true)
    }
}

impl Helper for Ftp {
    type Data = LineStarts;

    // Inline into the callback's entry point: one call fewer on every packet.
    #[inline]
    fn help(
        skb: &mut Skb,
        protoff: u32,
        ct: &PacketConn<'_>,
        lines: &LineStarts,
        stats: &NetCounters,
        info: CtInfo,
    ) -> Verdict {
        // Until there has been traffic both ways, don't look in packets.
        if !info.is_established() {
            return Verdict::Accept;
        }
        let Some(th) = skb.tcp_header(protoff) else {
            return Verdict::Accept;
        };
        let dataoff = protoff + th.len;
        if dataoff >= skb.len() {
            return Verdict::Accept;
        }
        let datalen = skb.len() - dataoff;
        let dir = info.direction();
        let Some(last) = skb.byte(dataoff + datalen - 1) else {
            return Verdict::Drop;
        };

        let pdir = Self::parser_dir(dir);
        let decision = if lines.starts_line(pdir, th.seq) || lines.take_pickup(pdir) {
            Self::at_line_start(skb, protoff, dataoff, ct, stats, info)
        } else {
            Counter::Segments.count(stats);
            Decision::new(Verdict::Accept, true)
        };
        if decision.track_line && last == b'\n' {
            lines.remember(pdir, th.seq.wrapping_add(datalen));
        }
        decision.verdict
    }

    fn nat_expected(arrival: NatArrival<'_>) {
        nat::map_data_connection(arrival);
    }

    fn from_nlattr(_ct: &Conn, lines: &LineStarts) -> Result {
        // An injected conntrack: pick up sequence tracking, or the first command after a
        // failover is missed.
        lines.set_pickup();
        Ok(())
    }
}

/// The kernel calls [`Ftp`]'s callbacks for this module's helpers.
impl BindHelper for ModuleHelper {
    type Helper = Ftp;
}

/// The registrations, dropped (unregistered) in this order: the helpers first (which
/// destroys their expectations), then what their expectations, NAT users and packets refer
/// to.
struct Registrations {
    _helpers: Registration,
    _expectfn: ExpectFnRegistration,
    _nat_helper: NatHelperRegistration,
    _netns: PernetRegistration,
}

/// The loaded module: its registrations and the ports it serves (for the unload line).
struct FtpHelperModule {
    registrations: Option<Registrations>,
    ports: Ports,
}

impl Drop for FtpHelperModule {
    fn drop(&mut self) {
        drop(self.registrations.take());
        pr_info!(
            "helper \"ftp\" unregistered from ports {:?}\n",
            self.ports.as_slice()
        );
    }
}

impl kernel::Module for FtpHelperModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let valid = validate_ports(ports.values()).map_err(|e| {
            match e {
                PortsError::Zero => pr_err!("ports: 0 is not a valid port\n"),
                PortsError::Duplicate(p) => pr_err!("ports: port {} is given twice\n", p),
                PortsError::TooMany => pr_err!("ports: at most {} ports\n", MAX_PORTS),
            }
            EINVAL
        })?;
        SCRATCH.init(c"nf_ftp_rs_scratch", static_lock_class!());
        // Every namespace's counters and /proc/net file, before any packet can count.
        let netns = PernetRegistration::register()?;

        // What tc act_ct and Open vSwitch look for before they use the helper with NAT, and
        // the expectfn of `nat_ports`: both before the helpers, which refer to them.
        let nat_name = NatHelperModName::new(c"ftp").ok_or(EINVAL)?;
        let nat_helper = NatHelperRegistration::register(module, nat_name.as_cstr())?;
        let expectfn = ExpectFnRegistration::register(c"ftp-nat-ports")?;

        let policy = ExpectPolicy {
            max_expected: 1,
            timeout: 5 * 60,
        };
        let helpers = Registration::register(
            module,
            c"ftp",
            FTP_PORT,
            u16::from(IPPROTO_TCP),
            policy,
            valid.as_slice(),
        )
        .inspect_err(|e| {
            if *e == EBUSY {
                pr_err!(
                    "failed to register helpers: helpers of these names are registered \
                     already (is nf_conntrack_ftp loaded?)\n"
                );
            } else {
                pr_err!("failed to register helpers: error {}\n", e.to_errno());
            }
        })?;
        let mut range = [0u8; 16];
        pr_info!(
            "helper \"ftp\" registered for ports {:?} (loose={}, nat_ports='{}'), NAT helper \"{}\", counters in /proc/net/{}\n",
            valid.as_slice(),
            if loose.get() { 'Y' } else { 'N' },
            nat_ports.text(&mut range),
            nat_name.as_cstr().to_str().unwrap_or("?"),
            <ModuleCounters as BindCounters>::FILE
                .to_str()
                .unwrap_or("?")
        );
        Ok(Self {
            registrations: Some(Registrations {
                _helpers: helpers,
                _expectfn: expectfn,
                _nat_helper: nat_helper,
                _netns: netns,
            }),
            ports: valid,
        })
    }
}

#[cfg(nf_ftp_rs_test)]
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
    fn loaded_parameters_are_valid() {
        // What the kernel parsed from insmod's arguments passed init()'s checks.
        assert!(validate_ports(ports.values()).is_ok());
        assert!(ports.values().len() <= MAX_PORTS);
    }
}

#[cfg(all(CONFIG_KUNIT, nf_ftp_rs_test))]
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
        pr_info!(
            "parser: {} truncated commands, {} failed\n",
            prefixes,
            failed
        );
        assert_eq!(failed, 0);
        assert!(prefixes > 1000);
    }
}
