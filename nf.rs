// SPDX-License-Identifier: GPL-2.0

//! The thin layer over the C netfilter API: the only place in the module with `unsafe`.
//!
//! One file per C concept; every function the kernel calls is in [`adapter`]. The helper
//! logic in the crate root uses only their safe API.

pub(crate) mod adapter;
pub(crate) mod bindings;
pub(crate) mod conn;
pub(crate) mod expect;
pub(crate) mod helper;
pub(crate) mod lock;
pub(crate) mod log;
pub(crate) mod nat;
pub(crate) mod netns;
pub(crate) mod param;
pub(crate) mod skb;
