//! The module's `parser.rs` and `tests/vectors.rs`, built for the host exactly as the kernel
//! builds them: `no_std`, `core` only. Nothing else lives here.
#![no_std]

#[path = "../../../../parser.rs"]
pub mod parser;

#[path = "../../../vectors.rs"]
pub mod vectors;
