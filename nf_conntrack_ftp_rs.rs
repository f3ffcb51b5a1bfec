// SPDX-License-Identifier: GPL-2.0

//! nf_conntrack_ftp_rs: the netfilter FTP connection-tracking helper, in Rust.
//!
//! A drop-in for `nf_conntrack_ftp` and `nf_nat_ftp`: load it with `ports=` and `loose=`
//! (and, beyond the C, `nat_ports=`), then assign the helper with an nftables `ct helper`
//! object of type "ftp". Under NAT it rewrites what it finds (nat.rs).

use core::sync::atomic::Ordering::Relaxed;
use core::sync::atomic::{AtomicU16, AtomicU32};
use kernel::prelude::*;
use kernel::static_lock_class;
use kernel::str::CStr;
use nf::conn::{Conn, CtInfo, Direction, InetAddr, NFPROTO_IPV6};
use nf::expect::{Expectation, Expected};
use nf::helper::{
    BindHelper, ExpectPolicy, Helper, ModuleHelper, NatHelperModName, Registration, Verdict,
};
use nf::lock::StaticBhLock;
use nf::log::helper_log;
use nf::nat::{ExpectFnRegistration, NatArrival, NatHelperRegistration};
use nf::skb::Skb;
use parser::{Family, Kind, Outcome};

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

/// Per-connection state in the conntrack's help extension (C's `struct nf_ct_ftp_master`).
/// Atomics because every CPU handling the connection shares it; the global lock orders the
/// read-modify-write sequences, as in C.
#[derive(FromBytes)]
#[repr(C)]
struct FtpState {
    /// Sequence numbers that follow a segment ending in '\n', per direction.
    seq_aft_nl: [[AtomicU32; NUM_SEQ_TO_REMEMBER]; 2],
    /// How many of `seq_aft_nl` are set, per direction.
    seq_aft_nl_num: [AtomicU16; 2],
    /// [`SEQ_PICKUP`], per direction.
    flags: [AtomicU16; 2],
}

/// Line starts remembered per direction.
const NUM_SEQ_TO_REMEMBER: usize = 2;
/// Parse the next segment of this direction even without a known line start (set for
/// conntracks injected through ctnetlink: conntrackd failover).
const SEQ_PICKUP: u16 = 1 << 0;

/// `before()` of the kernel's TCP sequence arithmetic.
fn seq_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

impl FtpState {
    fn remembered(&self, dir: Direction) -> impl Iterator<Item = u32> + '_ {
        let num = usize::from(self.seq_aft_nl_num[dir.index()].load(Relaxed));
        self.seq_aft_nl[dir.index()]
            .iter()
            .take(num)
            .map(|s| s.load(Relaxed))
    }

    /// Whether a segment starting at `seq` starts a line.
    fn starts_line(&self, dir: Direction, seq: u32) -> bool {
        self.remembered(dir).any(|s| s == seq)
    }

    /// Clears [`SEQ_PICKUP`] for `dir`; whether it was set.
    fn take_pickup(&self, dir: Direction) -> bool {
        self.flags[dir.index()].fetch_and(!SEQ_PICKUP, Relaxed) & SEQ_PICKUP != 0
    }

    /// Remembers that a line starts at `seq`: in a free slot, else over the older of the
    /// two if `seq` is newer.
    fn remember_line_start(&self, dir: Direction, seq: u32) {
        if self.remembered(dir).any(|s| s == seq) {
            return;
        }
        let slots = &self.seq_aft_nl[dir.index()];
        let num = &self.seq_aft_nl_num[dir.index()];
        let n = usize::from(num.load(Relaxed));
        if n < NUM_SEQ_TO_REMEMBER {
            slots[n].store(seq, Relaxed);
            num.store(n as u16 + 1, Relaxed);
        } else {
            let (s0, s1) = (slots[0].load(Relaxed), slots[1].load(Relaxed));
            let oldest = if seq_before(s0, s1) { 0 } else { 1 };
            if seq_before(slots[oldest].load(Relaxed), seq) {
                slots[oldest].store(seq, Relaxed);
            }
        }
    }
}

/// Size of the buffer segments are copied into for parsing. A longer payload (possible only
/// with BIG TCP) is parsed on its first 64 KiB; its last byte still decides the line start.
const BUFFER_SIZE: usize = 65536;

/// The global lock of the C helper (`nf_ftp_lock`) and the buffer it guards. One lock for
/// all connections: NAT's sequence adjustment takes `ct->lock`, so a per-conntrack lock
/// would deadlock (upstream's 2022 fix).
static FTP_LOCK: StaticBhLock<[u8; BUFFER_SIZE]> = StaticBhLock::new([0; BUFFER_SIZE]);

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

    /// Acts on what a segment at a line start (or picked up) holds: the parser's `outcome`.
    fn act(skb: &mut Skb, protoff: u32, ct: &Conn, info: CtInfo, outcome: Outcome) -> Decision {
        let dir = info.direction();
        let found = match outcome {
            Outcome::NoMatch => return Decision::new(Verdict::Accept, true),
            Outcome::Partial(kind) => {
                // Not usually done by connection tracking, but needed to track accurately.
                helper_log(skb, ct, Self::partial_message(kind));
                return Decision::new(Verdict::Drop, false);
            }
            Outcome::Match(found) => found,
        };

        // The data connection comes the other way: expect it from the other direction's
        // source, to this direction's announced address (normally the sender's).
        let sender = ct.src(dir);
        let announced = InetAddr(found.addr.map_or(sender.0, |a| a.over(sender.0)));
        let mut daddr = ct.dst(dir.other());
        if announced != sender {
            // A third-party address (e.g. a server behind partial NAT, or an attempt to open
            // a hole elsewhere): followed only with `loose`.
            if !loose.get() {
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
            helper_log(skb, ct, c"cannot alloc expectation");
            return Decision::new(Verdict::Drop, false);
        };

        // Under NAT the announcement is rewritten and the expectation registered on the port
        // it then names (nat.rs); the line is tracked whatever the outcome, as in C.
        if ct.is_natted() {
            let verdict = nat::announce(skb, protoff, ct, info, &found, exp);
            return Decision::new(verdict, true);
        }
        if exp.register().is_err() {
            helper_log(skb, ct, c"cannot add expectation");
            return Decision::new(Verdict::Drop, true);
        }
        Decision::new(Verdict::Accept, true)
    }
}

impl Helper for Ftp {
    type Data = FtpState;

    fn help(skb: &mut Skb, protoff: u32, ct: &Conn, state: &FtpState, info: CtInfo) -> Verdict {
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

        let Some(mut buffer) = FTP_LOCK.lock() else {
            // `init()` sets the lock up before registering the helper.
            return Verdict::Drop;
        };
        let mut last = [0u8; 1];
        let ends_in_nl = match skb.bytes(dataoff + datalen - 1, &mut last) {
            Some(b) => b == b"\n",
            None => return Verdict::Drop,
        };

        let decision = if state.starts_line(dir, th.seq) || state.take_pickup(dir) {
            // Read (copied where not linear) only when it is parsed; the slice ends before
            // `act` may rewrite the packet (`&mut Skb`).
            let parsed = (datalen as usize).min(BUFFER_SIZE);
            let Some(payload) = skb.bytes(dataoff, &mut buffer[..parsed]) else {
                return Verdict::Drop;
            };
            let outcome = parser::parse(payload, Self::parser_dir(dir), Self::family(ct));
            Self::act(skb, protoff, ct, info, outcome)
        } else {
            Decision::new(Verdict::Accept, true)
        };
        if decision.track_line && ends_in_nl {
            state.remember_line_start(dir, th.seq.wrapping_add(datalen));
        }
        decision.verdict
    }

    fn nat_expected(arrival: NatArrival<'_>) {
        nat::map_data_connection(arrival);
    }

    fn from_nlattr(_ct: &Conn, state: &FtpState) -> Result {
        // An injected conntrack: pick up sequence tracking, or the first command after a
        // failover is missed.
        for flags in &state.flags {
            flags.fetch_or(SEQ_PICKUP, Relaxed);
        }
        Ok(())
    }
}

/// The kernel calls [`Ftp`]'s callbacks for this module's helpers.
impl BindHelper for ModuleHelper {
    type Helper = Ftp;
}

/// The registrations, dropped (unregistered) in this order: the helpers first (which
/// destroys their expectations), then what their expectations and NAT users refer to.
struct FtpHelperModule {
    _helpers: Registration,
    _expectfn: ExpectFnRegistration,
    _nat_helper: NatHelperRegistration,
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
        FTP_LOCK.init(c"nf_ftp_lock", static_lock_class!());

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
        pr_info!(
            "helper \"ftp\" registered for ports {:?} (loose={}), NAT helper \"{}\"\n",
            valid.as_slice(),
            loose.get(),
            nat_name.as_cstr().to_str().unwrap_or("?")
        );
        Ok(Self {
            _helpers: helpers,
            _expectfn: expectfn,
            _nat_helper: nat_helper,
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
