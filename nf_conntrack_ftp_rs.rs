// SPDX-License-Identifier: GPL-2.0

//! nf_conntrack_ftp_rs: the netfilter FTP connection-tracking helper, in Rust.
//!
//! A drop-in for `nf_conntrack_ftp` and `nf_nat_ftp`: load it with `ports=` and `loose=`
//! (and, beyond the C, `nat_ports=`), then assign the helper with an nftables `ct helper`
//! object of type "ftp". Under NAT it rewrites what it finds (nat.rs).
//!
//! Inlining, once for the whole module: what every segment runs (`help`, the line-start
//! check, the counters' increment, the skb reads) is `#[inline]` into the C trampoline's
//! Rust end, so that a segment inside a line costs no call; so is a line start up to the
//! parser's "no command here" (decided on a line's first two bytes), which most lines get.
//! What only a command reaches is out of line (`decide`, the parser's search and reading of
//! numbers), and so is the copy of a payload that is not linear. The project kernel is
//! built for size: without these attributes the compiler chooses otherwise
//! (docs/benchmark.md).

use counters::Counter;
use kernel::prelude::*;
use kernel::static_lock_class;
use kernel::str::CStr;
use line_starts::LineStarts;
use nf::adapter::{BindHelper, Helper, ModuleHelper, PacketConn, Verdict};
use nf::conn::{Conn, CtInfo, Direction, InetAddr, IPPROTO_TCP, NFPROTO_IPV6};
use nf::expect::{Expectation, ExpectedConn};
use nf::helper::{
    ExpectFnRegistration, ExpectPolicy, HelperName, NatHelperRegistration, Registration,
};
use nf::lock::StaticBhLock;
use nf::log::helper_log;
use nf::nat::NatArrival;
use nf::netns::{BindCounters, ModuleCounters, NetCounters, PernetRegistration};
use nf::param::{self, Shown, MAX_PORTS};
use nf::skb::{Skb, STACK_COPY_MAX};
use parser::{Family, Kind, Match, Outcome};
use ports::{validate_ports, PortsError, FTP_PORT};

mod counters;
pub mod line_starts;
mod nat;
mod nf;
pub mod parser;
mod ports;

/// The KUnit suite that runs [`vectors`] in the kernel.
#[cfg(all(CONFIG_KUNIT, nf_ftp_rs_test))]
#[path = "tests/kunit_vectors.rs"]
mod kunit_vectors;
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

/// What the helper does with one segment, and whether the segment may set a line start.
struct Decision {
    verdict: Verdict,
    /// `false` where the C helper skips the line-start update (`goto out`).
    track_line: bool,
}

impl Decision {
    /// `verdict`, and the segment's end may be a line start.
    const fn tracked(verdict: Verdict) -> Self {
        Self {
            verdict,
            track_line: true,
        }
    }

    /// `verdict`, and the segment's end is not taken as a line start.
    const fn untracked(verdict: Verdict) -> Self {
        Self {
            verdict,
            track_line: false,
        }
    }
}

/// A segment being handled, and what it is handled with: what every step of the helper
/// takes.
struct Segment<'a, 'b> {
    skb: &'a mut Skb,
    /// Offset of the TCP header.
    protoff: u32,
    ct: &'a PacketConn<'b>,
    counters: &'a NetCounters,
    info: CtInfo,
    /// The payload's last byte, once parsing has read it (at a line start, before any
    /// rewrite; from the copy where there is one).
    last: Option<u8>,
}

impl Segment<'_, '_> {
    /// Counts `counter` in the connection's namespace.
    fn count(&self, counter: Counter) {
        counter.count(self.counters);
    }

    /// Logs `msg` as the C helper does (`nf_ct_helper_log`).
    fn log(&self, msg: &CStr) {
        helper_log(self.skb, self.ct, msg);
    }
}

/// Size of the buffer a long non-linear segment is copied into for parsing. A longer
/// non-linear payload (possible only with BIG TCP) is parsed on its first 64 KiB; its last
/// byte still decides the line start. A linear payload is parsed in place, whole, as the C
/// does.
const BUFFER_SIZE: usize = 65536;

/// The buffer non-linear segments at a line start are copied into when they are too long to
/// be copied onto the stack (over [`STACK_COPY_MAX`] bytes: GSO and GRO super-packets, jumbo
/// frames), and its lock. The only lock on the packet path, taken only for such segments and
/// held only for the copy and the parse: never across the expectation or NAT's rewrite (whose
/// sequence adjustment takes `ct->lock`; upstream's 2022 deadlock). The C helper instead
/// holds one global lock around every segment of every connection and linearizes non-linear
/// ones.
static SCRATCH: StaticBhLock<[u8; BUFFER_SIZE]> = StaticBhLock::new([0; BUFFER_SIZE]);

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

    /// The parser's verdict on the payload `dataoff..dataoff + datalen` of `seg`, and the
    /// payload's last byte (which decides the next line start, so it is read here, before NAT
    /// may rewrite the packet): read in place where linear, else copied. `None` if it cannot
    /// be read.
    #[inline]
    fn parse(seg: &Segment<'_, '_>, dataoff: u32, datalen: u32) -> Option<(Outcome, u8)> {
        let dir = Self::parser_dir(seg.info.direction());
        let family = Self::family(seg.ct);
        match seg.skb.linear(dataoff, datalen) {
            Some(payload) => Some((parser::parse(payload, dir, family), *payload.last()?)),
            None => Self::parse_copy(seg, dataoff, datalen, dir, family),
        }
    }

    /// [`Self::parse`] for a non-linear payload: copied onto the stack (up to
    /// [`STACK_COPY_MAX`] bytes, no lock), else up to [`BUFFER_SIZE`] bytes into [`SCRATCH`].
    #[inline(never)]
    fn parse_copy(
        seg: &Segment<'_, '_>,
        dataoff: u32,
        datalen: u32,
        dir: parser::Dir,
        family: Family,
    ) -> Option<(Outcome, u8)> {
        if datalen as usize <= STACK_COPY_MAX {
            let parsed = seg.skb.with_copy(dataoff, datalen, |payload| {
                Some((parser::parse(payload, dir, family), *payload.last()?))
            })??;
            seg.count(Counter::LinesCopied);
            return Some(parsed);
        }
        // `init()` sets the lock up before registering the helper.
        let mut buffer = SCRATCH.lock()?;
        let copied = (datalen as usize).min(BUFFER_SIZE);
        let payload = seg.skb.bytes(dataoff, &mut buffer[..copied])?;
        let last = if copied == datalen as usize {
            *payload.last()?
        } else {
            // Longer than the buffer (BIG TCP): the last byte is beyond the copy.
            seg.skb.byte(dataoff + datalen - 1)?
        };
        seg.count(Counter::LinesCopiedLocked);
        Some((parser::parse(payload, dir, family), last))
    }

    /// What a segment whose payload starts at `dataoff` and at a line start (or picked up)
    /// leads to. Inline up to the parser's "no command here", which most lines get.
    #[inline]
    fn at_line_start(seg: &mut Segment<'_, '_>, dataoff: u32) -> Decision {
        let datalen = seg.skb.len() - dataoff;
        seg.count(Counter::Lines);
        // The outcome borrows nothing of the packet, which `decide` may rewrite.
        match Self::parse(seg, dataoff, datalen) {
            Some((Outcome::NoMatch, last)) => {
                seg.last = Some(last);
                Decision::tracked(Verdict::Accept)
            }
            Some((outcome, last)) => {
                seg.last = Some(last);
                Self::decide(seg, outcome)
            }
            None => Decision::untracked(Verdict::Drop),
        }
    }

    /// What a segment at a line start (or picked up) leads to, by the parser's `outcome`: a
    /// command or reply, or part of one.
    #[inline(never)]
    fn decide(seg: &mut Segment<'_, '_>, outcome: Outcome) -> Decision {
        match outcome {
            Outcome::NoMatch => Decision::tracked(Verdict::Accept),
            Outcome::Partial(kind) => {
                // Not usually done by connection tracking, but needed to track accurately.
                seg.count(Counter::Partial);
                seg.log(Self::partial_message(kind));
                Decision::untracked(Verdict::Drop)
            }
            Outcome::Match(found) => {
                seg.count(Counter::of_match(found.kind));
                Self::expect(seg, found)
            }
        }
    }

    /// Expects the data connection a command or reply announced (`found`).
    fn expect(seg: &mut Segment<'_, '_>, found: Match) -> Decision {
        let (ct, dir) = (seg.ct, seg.info.direction());
        // The data connection comes the other way: expect it from the other direction's
        // source, to this direction's announced address (normally the sender's).
        let sender = ct.src(dir);
        let announced = InetAddr(found.addr.map_or(sender.0, |a| a.written_over(sender.0)));
        let mut daddr = ct.dst(dir.other());
        if announced != sender {
            // A third-party address (e.g. a server behind partial NAT, or an attempt to open
            // a hole elsewhere): followed only with `loose`.
            if !param::loose() {
                seg.count(Counter::AddressRefused);
                return Decision::tracked(Verdict::Accept);
            }
            daddr = announced;
        }
        let expected = ExpectedConn {
            family: ct.l3num(),
            src: Some(ct.src(dir.other())),
            dst: daddr,
            proto: IPPROTO_TCP,
            src_port: None,
            dst_port: found.port,
        };
        let Some(exp) = Expectation::new(ct, &expected) else {
            seg.count(Counter::ExpectAllocFailed);
            seg.log(c"cannot alloc expectation");
            return Decision::untracked(Verdict::Drop);
        };

        // Under NAT the announcement is rewritten and the expectation registered on the port
        // it then names (nat.rs); the line is tracked whatever the outcome, as in C.
        if ct.is_natted() {
            let verdict = nat::announce(seg, &found, exp);
            return Decision::tracked(verdict);
        }
        if exp.register().is_err() {
            seg.count(Counter::ExpectAddFailed);
            seg.log(c"cannot add expectation");
            return Decision::tracked(Verdict::Drop);
        }
        seg.count(Counter::Expected);
        Decision::tracked(Verdict::Accept)
    }
}

impl Helper for Ftp {
    type Data = LineStarts;

    #[inline]
    fn help(
        skb: &mut Skb,
        protoff: u32,
        ct: &PacketConn<'_>,
        lines: &LineStarts,
        counters: &NetCounters,
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

        let pdir = Self::parser_dir(info.direction());
        let (decision, last) = if lines.starts_line(pdir, th.seq) || lines.take_pickup(pdir) {
            let mut seg = Segment {
                skb: &mut *skb,
                protoff,
                ct,
                counters,
                info,
                last: None,
            };
            (Self::at_line_start(&mut seg, dataoff), seg.last)
        } else {
            Counter::Segments.count(counters);
            (Decision::tracked(Verdict::Accept), None)
        };
        if decision.track_line {
            // Whether the segment ends a line: read here unless parsing did, which it does at
            // a line start whenever the segment is tracked (before NAT may rewrite it; a
            // non-linear payload's last byte costs a call).
            let Some(last) = last.or_else(|| skb.byte(dataoff + datalen - 1)) else {
                return Verdict::Drop;
            };
            if last == b'\n' {
                lines.remember(pdir, th.seq.wrapping_add(datalen));
            }
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
    ports: &'static [u16],
}

impl Drop for FtpHelperModule {
    fn drop(&mut self) {
        drop(self.registrations.take());
        pr_info!("helper \"ftp\" unregistered from ports {:?}\n", self.ports);
    }
}

impl kernel::Module for FtpHelperModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let valid = validate_ports(param::ports()).map_err(|e| {
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
        let nat_name = HelperName::nat(c"ftp").ok_or(EINVAL)?;
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
            valid,
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
            "helper \"ftp\" registered for ports {:?} (loose={}, nat_ports='{}'), NAT helper \"{}\", counters in /proc/net/{}\n",
            valid,
            if param::loose() { 'Y' } else { 'N' },
            Shown(param::nat_ports()),
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
