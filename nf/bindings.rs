// SPDX-License-Identifier: GPL-2.0

//! The module's own bindgen output (`bindings_helper.h` filtered by `bindgen_allowlist`),
//! layered over `kernel::bindings`: the generated file lists only the conntrack items the
//! kernel crate does not bind, and takes every other type from it.

#![allow(
    dead_code,
    clippy::all,
    clippy::undocumented_unsafe_blocks,
    clippy::as_underscore,
    clippy::cast_lossless,
    clippy::ptr_as_ptr,
    clippy::ref_as_ptr,
    missing_docs,
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    improper_ctypes,
    unreachable_pub,
    unsafe_op_in_unsafe_fn
)]

#[allow(unused_imports)]
pub(crate) use kernel::bindings::*;
use kernel::ffi;
#[allow(unused_imports)]
use pin_init::{MaybeZeroable, Zeroable};

include!(concat!(env!("NF_FTP_RS_OBJ"), "/nf_bindings_generated.rs"));

// `bindgen` does not do this itself, see <https://github.com/rust-lang/rust-bindgen/issues/3196>.
//
// SAFETY: `__BindgenUnionField<T>` is a zero-sized marker (`PhantomData<T>`): all-zero is its
// only value.
unsafe impl<T> Zeroable for __BindgenUnionField<T> {}
