// SPDX-License-Identifier: GPL-2.0

//! A spinlock that also disables bottom halves: for data shared by process context and the
//! NET_RX/timer softirqs (the 6.12 `SpinLock` only has plain `spin_lock`).

use crate::sys;
use kernel::sync::lock::{Backend, Lock};

/// A `spin_lock_bh` lock protecting a `T`.
pub(crate) type SpinLockBh<T> = Lock<T, SpinLockBhBackend>;

/// Creates a [`SpinLockBh`] initialiser with a static lockdep class.
macro_rules! new_spinlock_bh {
    ($inner:expr, $name:literal $(,)?) => {
        kernel::sync::lock::Lock::<_, $crate::glue::spinlock_bh::SpinLockBhBackend>::new(
            $inner,
            kernel::c_str!($name),
            kernel::static_lock_class!(),
        )
    };
}
pub(crate) use new_spinlock_bh;

/// The `spin_lock_bh`/`spin_unlock_bh` backend of [`SpinLockBh`].
pub(crate) struct SpinLockBhBackend;

// SAFETY: `spin_lock_bh` gives mutual exclusion between CPUs and against softirqs on this CPU;
// the guard is not `Send`, so unlock happens on the locking CPU, as the backend requires.
unsafe impl Backend for SpinLockBhBackend {
    type State = kernel::bindings::spinlock_t;
    type GuardState = ();

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut kernel::bindings::lock_class_key,
    ) {
        // SAFETY: the caller guarantees `ptr` is writable and `name`/`key` live forever.
        unsafe { kernel::bindings::__spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: the caller guarantees the lock was initialised; both crates' `spinlock_t` are
        // the same C type.
        unsafe { sys::omx_spin_lock_bh(ptr.cast()) }
    }

    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: the caller owns the lock, taken with `spin_lock_bh` above.
        unsafe { sys::omx_spin_unlock_bh(ptr.cast()) }
    }
}
