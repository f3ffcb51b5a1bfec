// SPDX-License-Identifier: GPL-2.0

//! Module parameters the `module!` macro cannot declare: a `bool` with a sysfs mode, and an
//! array of `u16`.
//!
//! Each parameter is a `kernel_param` in the `__param` section that points at the kernel's
//! own `param_ops_bool` / `param_array_ops` + `param_ops_ushort`, exactly what C's
//! `module_param()` / `module_param_array()` emit, plus the `parm=` / `parmtype=` strings in
//! `.modinfo` that `modinfo` prints. The kernel parses the values (and rejects an array with
//! too many elements) before `init()` runs.

use core::cell::UnsafeCell;
use core::ffi::{c_uint, c_void};
use core::sync::atomic::{AtomicBool, Ordering};

/// A `bool` module parameter.
///
/// The kernel's `param_ops_bool` stores through a `bool *`; `AtomicBool` has the same layout,
/// so a write through sysfs and a read from the packet path do not race in Rust's sense.
#[repr(transparent)]
pub(crate) struct BoolParam(AtomicBool);

impl BoolParam {
    /// A parameter holding `default` until the kernel sets it.
    pub(crate) const fn new(default: bool) -> Self {
        Self(AtomicBool::new(default))
    }

    /// The current value.
    pub(crate) fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    #[doc(hidden)]
    pub(crate) const fn as_arg(&self) -> *mut c_void {
        self.0.as_ptr().cast()
    }
}

/// An array-of-`u16` module parameter of at most `N` elements.
///
/// # Invariants
///
/// The kernel writes `elems` and `num` only while it parses the module's arguments, before
/// `init()` runs: [`module_param_u16_array`] refuses a sysfs mode with write permission.
pub(crate) struct U16ArrayParam<const N: usize> {
    elems: UnsafeCell<[u16; N]>,
    num: UnsafeCell<c_uint>,
}

// SAFETY: by the type invariant, the cells are written only before any Rust code of the
// module runs, and only read afterwards.
unsafe impl<const N: usize> Sync for U16ArrayParam<N> {}

impl<const N: usize> U16ArrayParam<N> {
    /// An empty array parameter.
    pub(crate) const fn new() -> Self {
        Self {
            elems: UnsafeCell::new([0; N]),
            num: UnsafeCell::new(0),
        }
    }

    /// The values given at load time (empty if none were given).
    pub(crate) fn values(&self) -> &[u16] {
        // SAFETY: by the type invariant nothing writes the cells any more.
        let (elems, num) = unsafe { (&*self.elems.get(), *self.num.get()) };
        // The kernel never stores more than `N`; `min` keeps this total anyway.
        &elems[..(num as usize).min(N)]
    }

    #[doc(hidden)]
    pub(crate) const fn elems_ptr(&self) -> *mut c_void {
        self.elems.get().cast()
    }

    #[doc(hidden)]
    pub(crate) const fn num_ptr(&self) -> *mut c_uint {
        self.num.get()
    }
}

impl<const N: usize> Default for U16ArrayParam<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// A C parameter descriptor placed in a linker section read by the kernel: only the two
/// descriptor types, [`Descriptor`] says which.
#[doc(hidden)]
#[repr(transparent)]
pub(crate) struct Static<T: Descriptor>(pub T);

/// The C types a [`Static`] may hold. Sealed: nothing outside this file implements it.
#[doc(hidden)]
pub(crate) trait Descriptor: private::Sealed {}
impl Descriptor for kernel::bindings::kernel_param {}
impl Descriptor for kernel::bindings::kparam_array {}

mod private {
    pub(crate) trait Sealed {}
    impl Sealed for kernel::bindings::kernel_param {}
    impl Sealed for kernel::bindings::kparam_array {}
}

// SAFETY: `kernel_param` and `kparam_array` (the only `Descriptor`s) hold pointers to the
// parameter's name, ops, module and value. No Rust code writes a descriptor or reads through
// its pointers; the kernel only reads the descriptor, and the value it points to is written
// by the kernel under `kernel_param_lock` (`BoolParam` is atomic, `U16ArrayParam` is written
// before `init()` only), so sharing the descriptor between threads is sound.
unsafe impl<T: Descriptor> Sync for Static<T> {}

/// Copies a string into an array of its exact length (for `.modinfo` entries).
#[doc(hidden)]
pub(crate) const fn modinfo<const L: usize>(s: &str) -> [u8; L] {
    let bytes = s.as_bytes();
    let mut out = [0u8; L];
    let mut i = 0;
    while i < L {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// Checks a sysfs mode as C's `VERIFY_OCTAL_PERMISSIONS` (include/linux/sysfs.h) does.
#[doc(hidden)]
pub(crate) const fn checked_perm(perm: u16) -> u16 {
    let (user, group, other) = ((perm >> 6) & 7, (perm >> 3) & 7, perm & 7);
    assert!(perm <= 0o777, "parameter mode is not a permission");
    assert!(
        user & 4 >= group & 4,
        "group may not read what the owner cannot"
    );
    assert!(
        group & 4 >= other & 4,
        "others may not read what the group cannot"
    );
    assert!(
        user & 2 >= group & 2,
        "group may not write what the owner cannot"
    );
    assert!(other & 2 == 0, "parameter must not be world-writable");
    perm
}

/// Emits the `.modinfo` entries `parmtype=NAME:TYPE` and `parm=NAME:DESC`.
#[doc(hidden)]
#[macro_export]
macro_rules! __nf_param_modinfo {
    ($name:ident, $type:literal, $desc:literal) => {
        const _: () = {
            const TYPE: &str = concat!("parmtype=", stringify!($name), ":", $type, "\0");
            const DESC: &str = concat!("parm=", stringify!($name), ":", $desc, "\0");
            #[link_section = ".modinfo"]
            #[used]
            static PARMTYPE: [u8; TYPE.len()] = $crate::nf::param::modinfo(TYPE);
            #[link_section = ".modinfo"]
            #[used]
            static PARM: [u8; DESC.len()] = $crate::nf::param::modinfo(DESC);
        };
    };
}

/// Emits the `kernel_param` of a parameter into the `__param` section.
#[doc(hidden)]
#[macro_export]
macro_rules! __nf_param_descriptor {
    ($name:ident, $perm:expr, $ops:expr, $anon:expr) => {
        const _: () = {
            #[link_section = "__param"]
            #[used]
            static PARAM: $crate::nf::param::Static<::kernel::bindings::kernel_param> =
                $crate::nf::param::Static(::kernel::bindings::kernel_param {
                    name: ::kernel::str::as_char_ptr_in_const_context(
                        match ::core::ffi::CStr::from_bytes_with_nul(
                            concat!(stringify!($name), "\0").as_bytes(),
                        ) {
                            Ok(s) => s,
                            Err(_) => panic!("parameter name"),
                        },
                    ),
                    mod_: (&raw const ::kernel::bindings::__this_module).cast_mut(),
                    ops: $ops,
                    perm: $crate::nf::param::checked_perm($perm),
                    level: -1,
                    flags: 0,
                    __bindgen_anon_1: $anon,
                });
        };
    };
}

/// Declares `static $name: BoolParam`, a `bool` parameter with sysfs mode `$perm`.
#[macro_export]
macro_rules! module_param_bool {
    ($name:ident, default = $default:expr, perm = $perm:expr, desc = $desc:literal) => {
        #[allow(non_upper_case_globals)]
        pub(crate) static $name: $crate::nf::param::BoolParam =
            $crate::nf::param::BoolParam::new($default);
        $crate::__nf_param_descriptor!(
            $name,
            $perm,
            &raw const ::kernel::bindings::param_ops_bool,
            ::kernel::bindings::kernel_param__bindgen_ty_1 {
                arg: $name.as_arg(),
            }
        );
        $crate::__nf_param_modinfo!($name, "bool", $desc);
    };
}

/// Declares `static $name: U16ArrayParam<$max>`, an array parameter of up to `$max` `u16`s
/// with a read-only sysfs mode `$perm`.
#[macro_export]
macro_rules! module_param_u16_array {
    ($name:ident, max = $max:literal, perm = $perm:expr, desc = $desc:literal) => {
        #[allow(non_upper_case_globals)]
        pub(crate) static $name: $crate::nf::param::U16ArrayParam<$max> =
            $crate::nf::param::U16ArrayParam::new();
        const _: () = {
            // The type invariant of `U16ArrayParam`: the value is fixed once loaded.
            assert!(
                $perm & 0o222 == 0,
                "an array parameter must not be writable through sysfs"
            );
            static ARRAY: $crate::nf::param::Static<::kernel::bindings::kparam_array> =
                $crate::nf::param::Static(::kernel::bindings::kparam_array {
                    max: $max,
                    elemsize: ::core::mem::size_of::<u16>() as u32,
                    num: $name.num_ptr(),
                    ops: &raw const ::kernel::bindings::param_ops_ushort,
                    elem: $name.elems_ptr(),
                });
            $crate::__nf_param_descriptor!(
                $name,
                $perm,
                &raw const ::kernel::bindings::param_array_ops,
                ::kernel::bindings::kernel_param__bindgen_ty_1 { arr: &ARRAY.0 }
            );
        };
        $crate::__nf_param_modinfo!($name, "array of ushort", $desc);
    };
}
