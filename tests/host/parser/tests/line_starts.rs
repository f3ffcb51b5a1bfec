//! The line-start state (line_starts.rs) without a lock: what it remembers one call at a
//! time, and what concurrent callers on several threads can and cannot do to it.

use ftp_parser_host::line_starts::LineStarts;
use ftp_parser_host::parser::Dir;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::thread;

#[test]
fn nothing_starts_a_line_at_first() {
    let l = LineStarts::new();
    assert!(!l.starts_line(Dir::Original, 0));
    assert!(!l.starts_line(Dir::Reply, 0));
    assert!(!l.take_pickup(Dir::Original));
}

#[test]
fn keeps_the_two_newest_per_direction() {
    let l = LineStarts::new();
    l.remember(Dir::Original, 100);
    l.remember(Dir::Original, 200);
    assert!(l.starts_line(Dir::Original, 100) && l.starts_line(Dir::Original, 200));
    assert!(!l.starts_line(Dir::Reply, 100));
    // A third replaces the older; an older one than both is ignored; a repeat is a no-op.
    l.remember(Dir::Original, 300);
    assert!(!l.starts_line(Dir::Original, 100));
    assert!(l.starts_line(Dir::Original, 200) && l.starts_line(Dir::Original, 300));
    l.remember(Dir::Original, 50);
    assert!(!l.starts_line(Dir::Original, 50));
    l.remember(Dir::Original, 300);
    assert!(l.starts_line(Dir::Original, 200) && l.starts_line(Dir::Original, 300));
}

#[test]
fn sequence_numbers_wrap() {
    let l = LineStarts::new();
    l.remember(Dir::Reply, 0xffff_fff0);
    l.remember(Dir::Reply, 0xffff_fff8);
    // 0x10 is after 0xffff_fff8 in sequence space: it replaces the older, 0xffff_fff0.
    l.remember(Dir::Reply, 0x10);
    assert!(!l.starts_line(Dir::Reply, 0xffff_fff0));
    assert!(l.starts_line(Dir::Reply, 0xffff_fff8) && l.starts_line(Dir::Reply, 0x10));
}

#[test]
fn pickup_is_taken_once_per_direction() {
    let l = LineStarts::new();
    l.set_pickup();
    assert!(l.take_pickup(Dir::Original));
    assert!(!l.take_pickup(Dir::Original));
    assert!(l.take_pickup(Dir::Reply));
    assert!(!l.take_pickup(Dir::Reply));
}

/// Rounds of the concurrent tests; each starts from a fresh state.
const ROUNDS: usize = 2000;
const THREADS: u32 = 4;

/// Writers remember sequence numbers of their own (never 0, the zeroed slots' value) while
/// readers ask about those and about numbers nobody remembered: a reader may miss a line
/// start, but never sees one that no writer remembered.
#[test]
fn concurrent_writers_never_invent_a_line_start() {
    for round in 0..ROUNDS {
        let l = LineStarts::new();
        let start = Barrier::new(2 * THREADS as usize);
        let invented = AtomicBool::new(false);
        let genuine = |seq: u32| seq % 1000 == 7 && (1..=THREADS).contains(&(seq / 1000));
        thread::scope(|s| {
            for t in 1..=THREADS {
                let (l, start) = (&l, &start);
                s.spawn(move || {
                    start.wait();
                    for i in 0..8 {
                        l.remember(Dir::Original, t * 1000 + 7 + i * 1_000_000);
                    }
                });
            }
            for _ in 0..THREADS {
                let (l, start, invented) = (&l, &start, &invented);
                s.spawn(move || {
                    start.wait();
                    for probe in [0, 1, 1007, 2007, 3007, 4007, 5007, 8] {
                        for i in 0..8 {
                            let seq = if probe < 1000 {
                                probe
                            } else {
                                probe + i * 1_000_000
                            };
                            if l.starts_line(Dir::Original, seq) && !genuine(seq % 1_000_000) {
                                invented.store(true, Ordering::Relaxed);
                            }
                        }
                    }
                });
            }
        });
        assert!(
            !invented.load(Ordering::Relaxed),
            "round {round}: a line start was invented"
        );
        // Whatever was lost, what is left is what writers remembered, in this direction only.
        let left = (0..8u32)
            .flat_map(|i| (1..=THREADS).map(move |t| t * 1000 + 7 + i * 1_000_000))
            .filter(|&s| l.starts_line(Dir::Original, s))
            .count();
        assert!(
            (1..=2).contains(&left),
            "round {round}: {left} line starts remembered"
        );
        assert!(!l.starts_line(Dir::Original, 0) && !l.starts_line(Dir::Reply, 1007));
    }
}

/// Two threads walk the same arrays of states at once (a barrier before each), each
/// remembering a line start of its own in every state: both must be kept in each, as if each
/// `remember` had run alone (C runs them under one lock). An update lost between two CPUs
/// (both filling the same free slot, or a count set back) keeps one. Phase 0 starts from
/// fresh states, phase 1 from states with both slots full, which both newer ones must replace.
#[test]
fn concurrent_writers_lose_nothing() {
    const PASSES: usize = 500;
    const STATES: usize = 2000;
    let mut lost = [0; 2];
    for phase in (0..20).flat_map(|_| [0, 1]) {
        let base = if phase == 0 { 100 } else { 300 };
        let passes: Vec<Vec<LineStarts>> = (0..PASSES)
            .map(|_| {
                (0..STATES)
                    .map(|_| {
                        let l = LineStarts::new();
                        if phase == 1 {
                            l.remember(Dir::Original, 100);
                            l.remember(Dir::Original, 200);
                        }
                        l
                    })
                    .collect()
            })
            .collect();
        let start = Barrier::new(2);
        thread::scope(|s| {
            for t in 0..2 {
                let (passes, start) = (&passes, &start);
                s.spawn(move || {
                    for states in passes {
                        start.wait();
                        for l in states {
                            l.remember(Dir::Original, base + t * 100);
                        }
                    }
                });
            }
        });
        lost[phase] += passes
            .iter()
            .flatten()
            .filter(|l| {
                !(l.starts_line(Dir::Original, base) && l.starts_line(Dir::Original, base + 100))
            })
            .count();
    }
    assert_eq!(
        lost,
        [0, 0],
        "states that lost a line start (into free slots, over full ones)"
    );
}

/// Many threads take the pickup at once: exactly one gets it.
#[test]
fn concurrent_pickup_is_taken_by_one() {
    for round in 0..ROUNDS {
        let l = LineStarts::new();
        l.set_pickup();
        let start = Barrier::new(THREADS as usize);
        let taken: u32 = thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    let (l, start) = (&l, &start);
                    s.spawn(move || {
                        start.wait();
                        u32::from(l.take_pickup(Dir::Reply))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(taken, 1, "round {round}");
        assert!(
            l.take_pickup(Dir::Original),
            "round {round}: the other direction's flag"
        );
    }
}
