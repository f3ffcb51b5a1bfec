// SPDX-License-Identifier: GPL-2.0

//! A spinlock taken with bottom halves disabled (`spin_lock_bh`), for a `static`.
//!
//! Helper callbacks run in softirq and in process context, so their lock must disable BHs
//! (the kernel crate's `SpinLock` does not), and they get no context pointer from the C
//! side, so the lock and what it guards live in a `static`.

use super::bindings;
use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::pin::Pin;
use core::sync::atomic::{AtomicU8, Ordering};
use kernel::str::{CStr, CStrExt};
use kernel::sync::LockClassKey;
use kernel::types::Opaque;

const UNINIT: u8 = 0;
const INITIALIZING: u8 = 1;
const READY: u8 = 2;

/// A `spinlock_t` taken with `spin_lock_bh()` that guards a `T`.
///
/// # Invariants
///
/// `lock` has been initialized by `__spin_lock_init()` once `state` is `READY`; `data` is
/// accessed only through a [`BhGuard`], i.e. with `lock` held.
pub(crate) struct StaticBhLock<T> {
    lock: Opaque<bindings::spinlock_t>,
    state: AtomicU8,
    data: UnsafeCell<T>,
}

// SAFETY: `data` is only reached with the lock held (type invariant), which serializes all
// access; `T: Send` lets the value be used from whichever CPU holds the lock.
unsafe impl<T: Send> Sync for StaticBhLock<T> {}

impl<T> StaticBhLock<T> {
    /// A lock that cannot be taken until [`Self::init`] has run.
    pub(crate) const fn new(data: T) -> Self {
        Self {
            lock: Opaque::uninit(),
            state: AtomicU8::new(UNINIT),
            data: UnsafeCell::new(data),
        }
    }

    /// Initializes the lock (once; later calls do nothing) with a lockdep name and class.
    pub(crate) fn init(&'static self, name: &'static CStr, key: Pin<&'static LockClassKey>) {
        if self
            .state
            .compare_exchange(UNINIT, INITIALIZING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        // SAFETY: `lock` is valid static memory; the state machine lets exactly one caller
        // get here, and nobody takes the lock before `READY`.
        unsafe { bindings::__spin_lock_init(self.lock.get(), name.as_char_ptr(), key.as_ptr()) };
        self.state.store(READY, Ordering::Release);
    }

    /// Takes the lock with BHs disabled; `None` if [`Self::init`] has not run.
    pub(crate) fn lock(&'static self) -> Option<BhGuard<'static, T>> {
        if self.state.load(Ordering::Acquire) != READY {
            return None;
        }
        // SAFETY: the lock is initialized (`READY`, see the type invariant).
        unsafe { bindings::spin_lock_bh(self.lock.get()) };
        Some(BhGuard {
            owner: self,
            _not_send: PhantomData,
        })
    }
}

/// Proof that a [`StaticBhLock`] is held; unlocks (and re-enables BHs) when dropped.
pub(crate) struct BhGuard<'a, T> {
    owner: &'a StaticBhLock<T>,
    // The lock must be released on the CPU that took it.
    _not_send: PhantomData<*mut ()>,
}

impl<T> Deref for BhGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock, so nobody else reaches `data`.
        unsafe { &*self.owner.data.get() }
    }
}

impl<T> DerefMut for BhGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock and is borrowed mutably: this is the only access.
        unsafe { &mut *self.owner.data.get() }
    }
}

impl<T> Drop for BhGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the guard was created by taking this initialized lock with BHs disabled.
        unsafe { bindings::spin_unlock_bh(self.owner.lock.get()) };
    }
}
