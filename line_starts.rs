// SPDX-License-Identifier: GPL-2.0

//! Where lines start in each direction of an FTP control connection: the helper's state in
//! every conntrack it serves (C's `struct nf_ct_ftp_master`), kept without a lock.
//!
//! The helper parses a segment only where a line starts: at a sequence number that follows
//! a segment ending in '\n' (two remembered per direction, as in C), or once after a
//! conntrackd failover (the pickup flag). The C helper updates this under one global
//! spinlock; here every field is an atomic and no lock is taken, so two CPUs may handle
//! segments of one connection at once. What that can do:
//! - **Lose a line start.** Two CPUs remembering at once may write the same slot; the
//!   segment at the lost line start is then not parsed, as if the segment ending in '\n'
//!   had been lost (which the C helper lives with too). An older line start may stay
//!   where the C would have kept a newer one.
//! - **Never invent one.** A slot is written before the count that makes it visible
//!   (release/acquire), and only sequence numbers that callers remembered are ever stored:
//!   a segment is parsed only at a sequence number that followed a '\n'.
//! - **Take the pickup once.** Only one segment per direction sees the flag set.
//!
//! `core` only, no `unsafe`: the host tests run these claims on threads
//! (tests/host/parser/tests/line_starts.rs).

use crate::parser::Dir;
use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use core::sync::atomic::{AtomicU16, AtomicU32};

/// Line starts remembered per direction.
const NUM_SEQ_TO_REMEMBER: usize = 2;
/// Parse the next segment of this direction even without a known line start.
const SEQ_PICKUP: u16 = 1 << 0;

/// The line-start state of one connection. Any bytes are a valid value (`FromBytes`): the
/// kernel hands it over zeroed, in the conntrack's help extension.
#[derive(zerocopy_derive::FromBytes)]
#[repr(C)]
pub struct LineStarts {
    /// Sequence numbers that follow a segment ending in '\n', per direction.
    seq_aft_nl: [[AtomicU32; NUM_SEQ_TO_REMEMBER]; 2],
    /// How many of `seq_aft_nl` are set, per direction; published with `Release` after the
    /// slot it counts.
    seq_aft_nl_num: [AtomicU16; 2],
    /// [`SEQ_PICKUP`], per direction.
    flags: [AtomicU16; 2],
}

/// `before()` of the kernel's TCP sequence arithmetic.
fn seq_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

impl LineStarts {
    /// A connection with no line start known and no pickup (what the kernel's zeroed
    /// extension holds).
    pub const fn new() -> Self {
        Self {
            seq_aft_nl: [
                [AtomicU32::new(0), AtomicU32::new(0)],
                [AtomicU32::new(0), AtomicU32::new(0)],
            ],
            seq_aft_nl_num: [AtomicU16::new(0), AtomicU16::new(0)],
            flags: [AtomicU16::new(0), AtomicU16::new(0)],
        }
    }

    #[inline]
    fn index(dir: Dir) -> usize {
        match dir {
            Dir::Original => 0,
            Dir::Reply => 1,
        }
    }

    /// Whether a segment of `dir` starting at `seq` starts a line. On every packet: inline,
    /// no iterator (the project kernel is built for size).
    #[inline]
    pub fn starts_line(&self, dir: Dir, seq: u32) -> bool {
        let d = Self::index(dir);
        // Acquire: the slots counted are written.
        let num = self.seq_aft_nl_num[d].load(Acquire);
        let slots = &self.seq_aft_nl[d];
        (num >= 1 && slots[0].load(Relaxed) == seq) || (num >= 2 && slots[1].load(Relaxed) == seq)
    }

    /// Sets the pickup flag of both directions: the next segment each way is parsed (a
    /// conntrack injected through ctnetlink, e.g. by conntrackd on failover).
    pub fn set_pickup(&self) {
        for flags in &self.flags {
            flags.fetch_or(SEQ_PICKUP, Relaxed);
        }
    }

    /// Clears the pickup flag of `dir`; whether it was set. A plain load first: the flag is
    /// almost never set, and the read-modify-write is what costs.
    #[inline]
    pub fn take_pickup(&self, dir: Dir) -> bool {
        let flags = &self.flags[Self::index(dir)];
        flags.load(Relaxed) & SEQ_PICKUP != 0
            && flags.fetch_and(!SEQ_PICKUP, Relaxed) & SEQ_PICKUP != 0
    }

    /// Remembers that a line of `dir` starts at `seq`: in a free slot, else over the older
    /// of the two if `seq` is newer.
    #[inline]
    pub fn remember(&self, dir: Dir, seq: u32) {
        if self.starts_line(dir, seq) {
            return;
        }
        let d = Self::index(dir);
        let slots = &self.seq_aft_nl[d];
        let num = &self.seq_aft_nl_num[d];
        let n = usize::from(num.load(Acquire));
        if let Some(free) = slots.get(n) {
            free.store(seq, Relaxed);
            // Release: a reader that sees the count sees the slot.
            num.store(n as u16 + 1, Release);
        } else {
            let (s0, s1) = (slots[0].load(Relaxed), slots[1].load(Relaxed));
            let (oldest, old) = if seq_before(s0, s1) { (0, s0) } else { (1, s1) };
            if seq_before(old, seq) {
                slots[oldest].store(seq, Relaxed);
            }
        }
    }
}

impl Default for LineStarts {
    fn default() -> Self {
        Self::new()
    }
}
