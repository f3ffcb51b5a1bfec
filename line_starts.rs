// SPDX-License-Identifier: GPL-2.0

//! Where lines start in each direction of an FTP control connection: the helper's state in
//! every conntrack it serves (C's `struct nf_ct_ftp_master`), kept without a lock.
//!
//! The helper parses a segment only where a line starts: at a sequence number that follows
//! a segment ending in '\n' (two remembered per direction, as in C), or once after a
//! conntrackd failover (the pickup flag). The C helper updates this under one global
//! spinlock; here each slot is one atomic word (the sequence number, whether it is set and,
//! in slot 0, the pickup flag) and no lock is taken, so two CPUs may handle segments of one
//! connection at once. What that can and cannot do:
//! - **Lose nothing a lock would keep.** A slot changes only by compare-and-swap from the
//!   value the decision was made on, else the decision is made again: each `remember` acts
//!   as if it had run alone, in some order, for line starts less than 2^31 apart (where
//!   C's `before()` holds too). A host test races two CPUs' updates
//!   (tests/host/parser/tests/line_starts.rs); the protocol before this one, a count and
//!   slots updated apart, lost line starts there.
//! - **Never invent one.** Only sequence numbers that callers remembered are ever stored, and
//!   a slot is read as one word: set and its number together.
//! - **Take the pickup once.** Only one segment per direction sees the flag set.
//!
//! `core` only, no `unsafe`.

use crate::parser::Dir;
use core::sync::atomic::AtomicU64;
use core::sync::atomic::Ordering::Relaxed;

/// A slot's word: the sequence number in the low 32 bits, `SET` once one is remembered, and
/// in slot 0 of each direction `PICKUP`: parse the next segment of this direction even
/// without a known line start.
const SET: u64 = 1 << 32;
const PICKUP: u64 = 1 << 33;

/// The line-start state of one connection: two slots per direction, as C's
/// `struct nf_ct_ftp_master` remembers two (32 bytes, the size of the help extension's data).
/// Any bytes are a valid value (`FromBytes`): the kernel hands it over zeroed, in the
/// conntrack's help extension.
#[derive(zerocopy_derive::FromBytes)]
#[repr(C)]
pub struct LineStarts {
    slots: [[AtomicU64; 2]; 2],
}

/// `before()` of the kernel's TCP sequence arithmetic.
fn seq_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// Whether a slot's word holds line start `seq`.
#[inline]
fn holds(word: u64, seq: u32) -> bool {
    word & SET != 0 && word as u32 == seq
}

impl LineStarts {
    /// A connection with no line start known and no pickup (what the kernel's zeroed
    /// extension holds).
    pub const fn new() -> Self {
        Self {
            slots: [
                [AtomicU64::new(0), AtomicU64::new(0)],
                [AtomicU64::new(0), AtomicU64::new(0)],
            ],
        }
    }

    #[inline]
    fn slots(&self, dir: Dir) -> &[AtomicU64; 2] {
        match dir {
            Dir::Original => &self.slots[0],
            Dir::Reply => &self.slots[1],
        }
    }

    /// Whether a segment of `dir` starting at `seq` starts a line (on every packet: no
    /// iterator, see the crate root on inlining). Relaxed: a word is read whole, and nothing
    /// else is read through it.
    #[inline]
    pub fn starts_line(&self, dir: Dir, seq: u32) -> bool {
        let slots = self.slots(dir);
        holds(slots[0].load(Relaxed), seq) || holds(slots[1].load(Relaxed), seq)
    }

    /// Sets the pickup flag of both directions: the next segment each way is parsed (a
    /// conntrack injected through ctnetlink, e.g. by conntrackd on failover).
    pub fn set_pickup(&self) {
        for slots in &self.slots {
            slots[0].fetch_or(PICKUP, Relaxed);
        }
    }

    /// Clears the pickup flag of `dir`; whether it was set. A plain load first: the flag is
    /// almost never set, and the read-modify-write is what costs.
    #[inline]
    pub fn take_pickup(&self, dir: Dir) -> bool {
        let slot = &self.slots(dir)[0];
        slot.load(Relaxed) & PICKUP != 0 && slot.fetch_and(!PICKUP, Relaxed) & PICKUP != 0
    }

    /// Remembers that a line of `dir` starts at `seq`: in a free slot (0 first, as C fills
    /// them), else over the older of the two if `seq` is newer.
    #[inline]
    pub fn remember(&self, dir: Dir, seq: u32) {
        let slots = self.slots(dir);
        loop {
            let words = [slots[0].load(Relaxed), slots[1].load(Relaxed)];
            if holds(words[0], seq) || holds(words[1], seq) {
                return;
            }
            // A slot once set stays set, and slot 1 is only filled once slot 0 was seen set:
            // while slot 0 is free, so is slot 1 (if slot 0 was set meanwhile, the
            // compare-and-swap below fails and the choice is made again).
            let target = if words[0] & SET == 0 {
                0
            } else if words[1] & SET == 0 {
                1
            } else {
                // As C picks it (also 2^31 apart, where each is before the other).
                let older = if seq_before(words[0] as u32, words[1] as u32) {
                    0
                } else {
                    1
                };
                if !seq_before(words[older] as u32, seq) {
                    return;
                }
                older
            };
            let new = (words[target] & PICKUP) | SET | u64::from(seq);
            // A slot only ever moves to a newer line start, so if it still holds what was
            // read, the choice made on it stands (the other slot can only have become newer).
            if slots[target]
                .compare_exchange(words[target], new, Relaxed, Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }
}

impl Default for LineStarts {
    fn default() -> Self {
        Self::new()
    }
}
