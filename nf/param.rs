// SPDX-License-Identifier: GPL-2.0

//! Module parameters the `module!` macro cannot declare: a `bool` with a sysfs mode, an
//! array of `u16`, and a port range writable at run time.
//!
//! Each parameter is a `kernel_param` in the `__param` section that points at the kernel's
//! own `param_array_ops` + `param_ops_ushort`, exactly what C's `module_param_array()`
//! emits, or at this file's ops for the bool (the kernel's parsing, plus a log line when it
//! changes at run time) and the port range, plus the `parm=` / `parmtype=` strings in
//! `.modinfo` that `modinfo` prints. The kernel parses the values (and rejects an array
//! with too many elements) before `init()` runs.

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_uint};
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use kernel::ffi::c_char;
use kernel::prelude::*;
use kernel::str::CStr;

/// A `bool` module parameter.
///
/// The kernel's `param_get_bool` reads through a `bool *`; `AtomicBool` has the same layout,
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
}

/// An array-of-`u16` module parameter of at most `N` elements.
///
/// # Invariants
///
/// The kernel writes `elems` and `num` only while it parses the module's arguments, before
/// `init()` runs: [`Static::array_param`], the only way to a descriptor of it, refuses a
/// sysfs mode with write permission.
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
}

impl<const N: usize> Default for U16ArrayParam<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// A range of ports parameter: `FIRST-LAST`, one port, or empty (no range), checked when
/// written (at load time or through sysfs); a bad value is refused with `EINVAL`.
///
/// Stored as one word so that the packet path reads a consistent range while sysfs writes.
pub(crate) struct PortRangeParam(AtomicU32);

impl PortRangeParam {
    /// A parameter with no range.
    pub(crate) const fn new() -> Self {
        Self(AtomicU32::new(0))
    }

    /// The range, `(first, last)` inclusive, if one is set.
    pub(crate) fn get(&self) -> Option<(u16, u16)> {
        let v = self.0.load(Ordering::Relaxed);
        (v != 0).then_some(((v >> 16) as u16, v as u16))
    }

    /// The value as it is written (`FIRST-LAST`, or empty), in `buf`.
    pub(crate) fn text<'a>(&self, buf: &'a mut [u8; 16]) -> &'a str {
        range_text(self.get(), "", buf)
    }

    fn set(&self, range: Option<(u16, u16)>) -> Option<(u16, u16)> {
        let v = range.map_or(0, |(a, b)| (u32::from(a) << 16) | u32::from(b));
        let old = self.0.swap(v, Ordering::Relaxed);
        (old != 0).then_some(((old >> 16) as u16, old as u16))
    }
}

/// Parses a port range as [`PortRangeParam`] takes it (a trailing newline, as `echo` writes,
/// is allowed): `Ok(None)` for an empty value.
pub(crate) fn parse_port_range(text: &[u8]) -> Result<Option<(u16, u16)>, ()> {
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    if text.is_empty() {
        return Ok(None);
    }
    let port = |t: &[u8]| -> Result<u16, ()> {
        if t.is_empty() || t.len() > 5 || !t.iter().all(u8::is_ascii_digit) {
            return Err(());
        }
        let n = t.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        match u16::try_from(n) {
            Ok(p) if p != 0 => Ok(p),
            _ => Err(()),
        }
    };
    let (first, last) = match text.iter().position(|&b| b == b'-') {
        Some(i) => (port(&text[..i])?, port(&text[i + 1..])?),
        None => {
            let p = port(text)?;
            (p, p)
        }
    };
    if first > last {
        return Err(());
    }
    Ok(Some((first, last)))
}

/// Whether `kp` is being set at run time (through sysfs), not while its module loads: only
/// such changes are logged (the load line shows the values the module starts with).
///
/// # Safety
///
/// `kp` is a valid descriptor of a module being loaded or loaded (the kernel calls a
/// parameter's ops so, holding the module).
unsafe fn set_at_run_time(kp: *const kernel::bindings::kernel_param) -> bool {
    // SAFETY: see `# Safety`: `mod_` is this module, alive during the call. The module loader
    // may write `state` meanwhile (no lock is shared with it): read it once, as C's
    // `READ_ONCE` does.
    unsafe {
        let module = (*kp).mod_;
        !module.is_null()
            && core::ptr::read_volatile(&raw const (*module).state)
                == kernel::bindings::module_state_MODULE_STATE_LIVE
    }
}

/// `Y` or `N`, as sysfs shows a `bool`.
fn yes_no(b: bool) -> &'static str {
    if b {
        "Y"
    } else {
        "N"
    }
}

/// The ops of every [`BoolParam`]: the kernel's `param_get_bool`, and a `set` that parses
/// as `param_set_bool` does and logs a change at run time (nf/trampolines.c).
#[doc(hidden)]
pub(crate) static BOOL_OPS: kernel::bindings::kernel_param_ops =
    kernel::bindings::kernel_param_ops {
        // As `param_ops_bool`: a bare `loose` on the command line means `loose=1`.
        flags: kernel::bindings::KERNEL_PARAM_OPS_FL_NOARG,
        set: Some(super::bindings::nf_ftp_rs_bool_set),
        get: Some(kernel::bindings::param_get_bool),
        free: None,
    };

/// The Rust end of `nf_ftp_rs_bool_set` (nf/trampolines.c).
///
/// # Safety
///
/// `val` is a NUL-terminated string or null (no value given), and `kp` the descriptor of a
/// [`BoolParam`] (only [`BoolParam::descriptor`] points one at these ops, with `arg` set to
/// its `'static` parameter).
#[no_mangle]
unsafe extern "C" fn nf_ftp_rs_bool_set_rust(
    val: *const c_char,
    kp: *const kernel::bindings::kernel_param,
) -> c_int {
    // SAFETY: by the caller's guarantee `arg` points to a `'static` `BoolParam`.
    let param = unsafe { &*(*kp).__bindgen_anon_1.arg.cast::<BoolParam>() };
    // SAFETY: `kp` is a valid descriptor whose `name` is a static C string.
    let name = unsafe { kernel::str::CStr::from_char_ptr((*kp).name) };
    let mut value = true;
    if !val.is_null() {
        // SAFETY: `val` is NUL-terminated; `value` is writable.
        let err = unsafe { kernel::bindings::kstrtobool(val, &mut value) };
        if err != 0 {
            // SAFETY: `val` is NUL-terminated.
            let text = unsafe { kernel::str::CStr::from_char_ptr(val) };
            pr_err!(
                "{}: '{}' is not a boolean (Y, N, 1, 0, on or off)\n",
                name,
                text.to_str().unwrap_or("?").trim_end()
            );
            return err;
        }
    }
    let old = param.0.swap(value, Ordering::Relaxed);
    // SAFETY: `kp` is as `set_at_run_time` needs (see `# Safety`).
    if old != value && unsafe { set_at_run_time(kp) } {
        pr_info!("{}: {} -> {}\n", name, yes_no(old), yes_no(value));
    }
    0
}

/// The ops of every [`PortRangeParam`] (its `kernel_param`'s `arg` points to it).
#[doc(hidden)]
pub(crate) static PORT_RANGE_OPS: kernel::bindings::kernel_param_ops =
    kernel::bindings::kernel_param_ops {
        flags: 0,
        set: Some(super::bindings::nf_ftp_rs_nat_ports_set),
        get: Some(super::bindings::nf_ftp_rs_nat_ports_get),
        free: None,
    };

/// The parameter a [`PORT_RANGE_OPS`] callback is for.
///
/// # Safety
///
/// `kp` is the `kernel_param` of a [`PortRangeParam`] (only [`PortRangeParam::descriptor`]
/// points a descriptor at these ops, with `arg` set to its `'static` parameter).
unsafe fn port_range_of(kp: *const kernel::bindings::kernel_param) -> &'static PortRangeParam {
    // SAFETY: by the caller's guarantee `arg` points to a `'static` `PortRangeParam`.
    unsafe { &*(*kp).__bindgen_anon_1.arg.cast::<PortRangeParam>() }
}

/// The Rust end of `nf_ftp_rs_nat_ports_set` (nf/trampolines.c).
///
/// # Safety
///
/// `val` is a NUL-terminated string and `kp` as [`port_range_of`] says (the kernel calls a
/// parameter's `set` so).
#[no_mangle]
unsafe extern "C" fn nf_ftp_rs_nat_ports_set_rust(
    val: *const c_char,
    kp: *const kernel::bindings::kernel_param,
) -> c_int {
    // SAFETY: see `# Safety`.
    let (text, param) = unsafe { (kernel::str::CStr::from_char_ptr(val), port_range_of(kp)) };
    // SAFETY: `kp` is a valid descriptor whose `name` is a static C string.
    let name = unsafe { kernel::str::CStr::from_char_ptr((*kp).name) };
    match parse_port_range(text.to_bytes()) {
        Ok(range) => {
            let old = param.set(range);
            // SAFETY: `kp` is as `set_at_run_time` needs (the kernel calls `set` so).
            if old != range && unsafe { set_at_run_time(kp) } {
                let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
                pr_info!(
                    "{}: '{}' -> '{}'\n",
                    name,
                    range_text(old, "", &mut a),
                    range_text(range, "", &mut b)
                );
            }
            0
        }
        Err(()) => {
            pr_err!(
                "{}: '{}' is not a port range (FIRST-LAST or PORT, ports 1-65535, FIRST <= LAST, or empty)\n",
                name,
                text.to_str().unwrap_or("?").trim_end()
            );
            EINVAL.to_errno()
        }
    }
}

/// The Rust end of `nf_ftp_rs_nat_ports_get` (nf/trampolines.c): the value as sysfs shows
/// it.
///
/// # Safety
///
/// `buffer` has room for a page (`PAGE_SIZE`) and `kp` is as [`port_range_of`] says (the
/// kernel calls a parameter's `get` so).
#[no_mangle]
unsafe extern "C" fn nf_ftp_rs_nat_ports_get_rust(
    buffer: *mut c_char,
    kp: *const kernel::bindings::kernel_param,
) -> c_int {
    // SAFETY: see `# Safety`.
    let range = unsafe { port_range_of(kp) }.get();
    let mut text = [0u8; 16];
    let shown = range_text(range, "\n", &mut text).as_bytes();
    // SAFETY: `buffer` has room for a page, more than the at most 16 bytes of `shown`.
    unsafe { core::ptr::copy_nonoverlapping(shown.as_ptr(), buffer, shown.len()) };
    shown.len() as c_int
}

/// A port range as the parameter is written (`FIRST-LAST`, or nothing), then `end`, in `buf`.
fn range_text<'a>(range: Option<(u16, u16)>, end: &str, buf: &'a mut [u8; 16]) -> &'a str {
    let mut f = kernel::str::Formatter::new(buf);
    // "65535-65535\n" fits.
    let _ = match range {
        Some((a, b)) => write!(f, "{a}-{b}{end}"),
        None => write!(f, "{end}"),
    };
    let n = f.bytes_written();
    core::str::from_utf8(&buf[..n]).unwrap_or("")
}

/// A C parameter descriptor (`kernel_param`, or the `kparam_array` one points to), for a
/// static in the `__param` section that the kernel reads when the module loads.
///
/// Only the constructors below make one, each from the typed parameter it describes with
/// the ops that match that type: through this API, safe code cannot pair a value with the
/// wrong ops or a writable mode with a value fixed at load time. (In edition 2021
/// `#[link_section]` is not an unsafe attribute: any static can be placed in `__param`;
/// that is the language's gap, not this type's.)
///
/// # Invariants
///
/// The descriptor's `ops` and `arg` (or `arr`) match: the kernel only writes through them a
/// value of the type the ops are for, in the parameter's own storage, under
/// `kernel_param_lock` or while the module loads.
#[repr(transparent)]
pub(crate) struct Static<T>(T);

// SAFETY: the descriptor holds pointers to the parameter's name, ops, module and value. No
// Rust code writes a descriptor or reads through its pointers; the kernel only reads the
// descriptor, and writes the value it points to under `kernel_param_lock` (`BoolParam` and
// `PortRangeParam` are atomic, `U16ArrayParam` is written before `init()` only).
unsafe impl Sync for Static<kernel::bindings::kernel_param> {}
// SAFETY: as for `kernel_param`: the array descriptor points to a `U16ArrayParam`'s cells.
unsafe impl Sync for Static<kernel::bindings::kparam_array> {}

/// The `kernel_param` of parameter `name` of this module with `ops` and `arg`.
const fn kernel_param(
    name: &'static CStr,
    perm: u16,
    ops: *const kernel::bindings::kernel_param_ops,
    arg: kernel::bindings::kernel_param__bindgen_ty_1,
) -> Static<kernel::bindings::kernel_param> {
    Static(kernel::bindings::kernel_param {
        name: kernel::str::as_char_ptr_in_const_context(name),
        mod_: (&raw const kernel::bindings::__this_module).cast_mut(),
        ops,
        perm: checked_perm(perm),
        level: -1,
        flags: 0,
        __bindgen_anon_1: arg,
    })
}

impl BoolParam {
    /// The descriptor of `self`, called `name`, with sysfs mode `perm`.
    pub(crate) const fn descriptor(
        &'static self,
        name: &'static CStr,
        perm: u16,
    ) -> Static<kernel::bindings::kernel_param> {
        // INVARIANT: `BOOL_OPS` reads and writes a `bool` at `arg`, which `BoolParam` is.
        let arg = kernel::bindings::kernel_param__bindgen_ty_1 {
            arg: self.0.as_ptr().cast(),
        };
        kernel_param(name, perm, &raw const BOOL_OPS, arg)
    }
}

impl PortRangeParam {
    /// The descriptor of `self`, called `name`, with sysfs mode `perm`.
    pub(crate) const fn descriptor(
        &'static self,
        name: &'static CStr,
        perm: u16,
    ) -> Static<kernel::bindings::kernel_param> {
        // INVARIANT: `PORT_RANGE_OPS` take `arg` as a `PortRangeParam`.
        let arg = kernel::bindings::kernel_param__bindgen_ty_1 {
            arg: core::ptr::from_ref(self).cast_mut().cast(),
        };
        kernel_param(name, perm, &raw const PORT_RANGE_OPS, arg)
    }
}

impl<const N: usize> U16ArrayParam<N> {
    /// The array descriptor of `self` (what [`Static::array_param`] points the kernel to).
    pub(crate) const fn array(&'static self) -> Static<kernel::bindings::kparam_array> {
        // INVARIANT: `param_ops_ushort` writes one `u16` per element, at most `N` of them
        // (`max`), into `elems`, and their count into `num`.
        Static(kernel::bindings::kparam_array {
            max: N as c_uint,
            elemsize: core::mem::size_of::<u16>() as c_uint,
            num: self.num.get(),
            ops: &raw const kernel::bindings::param_ops_ushort,
            elem: self.elems.get().cast(),
        })
    }
}

impl Static<kernel::bindings::kparam_array> {
    /// The descriptor of the array parameter `self` describes, called `name`, with sysfs
    /// mode `perm`, which must not allow writing (the invariant of [`U16ArrayParam`]: its
    /// value is fixed once loaded).
    pub(crate) const fn array_param(
        &'static self,
        name: &'static CStr,
        perm: u16,
    ) -> Static<kernel::bindings::kernel_param> {
        assert!(
            perm & 0o222 == 0,
            "an array parameter must not be writable through sysfs"
        );
        // INVARIANT: `param_array_ops` hands each element of `arr` to its own ops.
        let arg = kernel::bindings::kernel_param__bindgen_ty_1 {
            arr: core::ptr::from_ref(&self.0),
        };
        kernel_param(
            name,
            perm,
            &raw const kernel::bindings::param_array_ops,
            arg,
        )
    }
}

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

/// Places a descriptor in the `__param` section.
#[doc(hidden)]
#[macro_export]
macro_rules! __nf_param_section {
    ($descriptor:expr) => {
        const _: () = {
            #[link_section = "__param"]
            #[used]
            static PARAM: $crate::nf::param::Static<::kernel::bindings::kernel_param> = $descriptor;
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
        $crate::__nf_param_section!($name.descriptor($crate::nf::param::c_name!($name), $perm));
        $crate::__nf_param_modinfo!($name, "bool", $desc);
    };
}

/// Declares `static $name: PortRangeParam`, a port range parameter with sysfs mode `$perm`
/// (writable at run time if the mode allows).
#[macro_export]
macro_rules! module_param_port_range {
    ($name:ident, perm = $perm:expr, desc = $desc:literal) => {
        #[allow(non_upper_case_globals)]
        pub(crate) static $name: $crate::nf::param::PortRangeParam =
            $crate::nf::param::PortRangeParam::new();
        $crate::__nf_param_section!($name.descriptor($crate::nf::param::c_name!($name), $perm));
        $crate::__nf_param_modinfo!($name, "string", $desc);
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
            static ARRAY: $crate::nf::param::Static<::kernel::bindings::kparam_array> =
                $name.array();
            $crate::__nf_param_section!(
                ARRAY.array_param($crate::nf::param::c_name!($name), $perm)
            );
        };
        $crate::__nf_param_modinfo!($name, "array of ushort", $desc);
    };
}

/// The name of a parameter as a C string.
#[doc(hidden)]
macro_rules! c_name {
    ($name:ident) => {
        match ::core::ffi::CStr::from_bytes_with_nul(concat!(stringify!($name), "\0").as_bytes()) {
            Ok(s) => s,
            Err(_) => panic!("parameter name"),
        }
    };
}
#[doc(hidden)]
pub(crate) use c_name;

#[cfg(nf_ftp_rs_test)]
#[kunit_tests(nf_conntrack_ftp_rs_param)]
mod tests {
    use super::parse_port_range;

    #[test]
    fn port_ranges() {
        assert_eq!(parse_port_range(b""), Ok(None));
        assert_eq!(parse_port_range(b"\n"), Ok(None));
        assert_eq!(parse_port_range(b"40000-40100"), Ok(Some((40000, 40100))));
        assert_eq!(parse_port_range(b"40000-40100\n"), Ok(Some((40000, 40100))));
        assert_eq!(parse_port_range(b"2121"), Ok(Some((2121, 2121))));
        assert_eq!(parse_port_range(b"1-65535"), Ok(Some((1, 65535))));
    }

    #[test]
    fn bad_port_ranges() {
        for bad in [
            &b"0-10"[..],
            b"10-0",
            b"100-99",
            b"65536",
            b"1-65536",
            b"-5",
            b"5-",
            b"a-b",
            b" 5",
            b"5 ",
            b"1-2-3",
            b"000001",
            b"5\n\n",
        ] {
            assert_eq!(parse_port_range(bad), Err(()));
        }
    }
}
