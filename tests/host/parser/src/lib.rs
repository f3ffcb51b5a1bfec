//! The module's `parser.rs`, `line_starts.rs` and `tests/vectors.rs`, built for the host
//! exactly as the kernel builds them: `no_std`, `core` only (and zerocopy's derive, as the
//! kernel's). Nothing else lives here.
#![no_std]

#[path = "../../../../parser.rs"]
pub mod parser;

#[path = "../../../../line_starts.rs"]
pub mod line_starts;

#[path = "../../../vectors.rs"]
pub mod vectors;
