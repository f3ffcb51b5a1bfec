// SPDX-License-Identifier: GPL-2.0

//! What the helper counts, per network namespace, and how the counters are named in
//! `/proc/net/nf_conntrack_ftp_rs` (one `name value` line each, in this order; README,
//! "Counters"). Per CPU, summed when the file is read; they start at 0 when the module loads
//! or the namespace is created, and go with either.

use crate::nf::netns::{BindCounters, ModuleCounters, NetCounters};
use crate::parser::Kind;
use kernel::str::CStr;

/// One counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Counter {
    /// Segments with payload on established control connections: what the helper looked at.
    /// Counted only for the segments not parsed; the file shows it plus [`Counter::Lines`]
    /// (one increment per segment, on the path every segment takes).
    Segments,
    /// Of those, the ones parsed: at a line start, or picked up after a failover.
    Lines,
    /// Complete `PORT` commands.
    Port,
    /// Complete `EPRT` commands.
    Eprt,
    /// Complete `227` replies.
    Pasv,
    /// Complete `229` replies.
    Epsv,
    /// Partial matches, dropped (`partial matching of …`).
    Partial,
    /// Announced addresses other than the sender's, not followed (`loose=0`).
    AddressRefused,
    /// Expectations registered.
    Expected,
    /// Expectations that could not be allocated (`cannot alloc expectation`), dropped.
    ExpectAllocFailed,
    /// Expectations the kernel refused (`cannot add expectation`), dropped.
    ExpectAddFailed,
    /// Announcements rewritten under NAT.
    NatRewritten,
    /// Under NAT, no free port to announce (`all ports in use`), dropped.
    NatNoPort,
    /// Under NAT, the rewrite failed (`cannot mangle packet`), dropped.
    NatMangleFailed,
    /// Parsed segments whose payload was not linear (a local socket's, GSO's, GRO's: in
    /// page fragments), copied onto the stack to be parsed, without a lock.
    LinesCopied,
    /// Of the parsed segments, non-linear ones too long for that (over
    /// [`STACK_COPY_MAX`](crate::nf::skb::STACK_COPY_MAX) bytes: GSO or GRO super-packets,
    /// jumbo frames), copied into the module's one buffer under its lock.
    LinesCopiedLocked,
}

impl Counter {
    /// Every counter, in the file's order.
    const ALL: [Counter; 16] = [
        Counter::Segments,
        Counter::Lines,
        Counter::Port,
        Counter::Eprt,
        Counter::Pasv,
        Counter::Epsv,
        Counter::Partial,
        Counter::AddressRefused,
        Counter::Expected,
        Counter::ExpectAllocFailed,
        Counter::ExpectAddFailed,
        Counter::NatRewritten,
        Counter::NatNoPort,
        Counter::NatMangleFailed,
        Counter::LinesCopied,
        Counter::LinesCopiedLocked,
    ];

    /// Its name in the file.
    const fn name(self) -> &'static str {
        match self {
            Counter::Segments => "segments",
            Counter::Lines => "lines_parsed",
            Counter::Port => "match_port",
            Counter::Eprt => "match_eprt",
            Counter::Pasv => "match_227",
            Counter::Epsv => "match_229",
            Counter::Partial => "partial_dropped",
            Counter::AddressRefused => "address_refused",
            Counter::Expected => "expect_created",
            Counter::ExpectAllocFailed => "expect_alloc_failed",
            Counter::ExpectAddFailed => "expect_add_failed",
            Counter::NatRewritten => "nat_rewritten",
            Counter::NatNoPort => "nat_all_ports_in_use",
            Counter::NatMangleFailed => "nat_mangle_failed",
            Counter::LinesCopied => "lines_copied",
            Counter::LinesCopiedLocked => "lines_copied_locked",
        }
    }

    /// The counter of a complete command or reply of `kind`.
    pub(crate) fn of_match(kind: Kind) -> Self {
        match kind {
            Kind::Port => Counter::Port,
            Kind::Eprt => Counter::Eprt,
            Kind::Pasv => Counter::Pasv,
            Kind::Epsv => Counter::Epsv,
        }
    }

    /// Adds one to this counter of a namespace's `counters`, on this CPU.
    #[inline]
    pub(crate) fn count(self, counters: &NetCounters) {
        counters.count(self as usize);
    }
}

/// The names, indexed by `Counter as usize`.
const NAMES: [&str; Counter::ALL.len()] = {
    let mut names = [""; Counter::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        // The file's order is the enum's: a counter's index is its discriminant.
        assert!(Counter::ALL[i] as usize == i);
        names[i] = Counter::ALL[i].name();
        i += 1;
    }
    names
};

impl BindCounters for ModuleCounters {
    const FILE: &'static CStr = c"nf_conntrack_ftp_rs";
    const NAMES: &'static [&'static str] = &NAMES;

    fn shown(index: usize, sum: &dyn Fn(usize) -> u64) -> u64 {
        let own = sum(index);
        if index == Counter::Segments as usize {
            own.wrapping_add(sum(Counter::Lines as usize))
        } else {
            own
        }
    }
}
