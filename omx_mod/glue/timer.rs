// SPDX-License-Identifier: GPL-2.0

//! Kernel timers (`struct timer_list`) embedded in the structure they serve, running a
//! handler in softirq context.
//!
//! The owner (pinned, e.g. in an `Arc`) holds a [`Timer<Self>`] field and declares it with
//! [`impl_has_timer!`]; the callback finds the owner from the timer with `container_of`.

use crate::sys;
use core::marker::PhantomData;
use kernel::prelude::*;
use kernel::types::Opaque;

/// What a timer's owner does when the timer fires (softirq context: must not sleep).
pub(crate) trait TimerHandler: Sync {
    fn timer_expired(&self);
}

/// Declares where an owner keeps its timer.
///
/// # Safety
///
/// `OFFSET` must be the byte offset of a `Timer<Self>` field inside `Self`.
pub(crate) unsafe trait HasTimer: TimerHandler + Sized {
    const OFFSET: usize;
}

/// Implements [`HasTimer`] for `$type` whose timer is field `$field`.
macro_rules! impl_has_timer {
    ($type:ty, $field:ident) => {
        // SAFETY: the offset is computed from the field itself.
        unsafe impl $crate::glue::timer::HasTimer for $type {
            const OFFSET: usize = core::mem::offset_of!($type, $field);
        }
    };
}
pub(crate) use impl_has_timer;

/// A timer inside a `T`. Dropping it shuts it down and waits for a running callback.
#[repr(C)]
#[pin_data(PinnedDrop)]
pub(crate) struct Timer<T: HasTimer> {
    #[pin]
    raw: Opaque<sys::timer_list>,
    _owner: PhantomData<T>,
}

// SAFETY: the timer core serialises the callback; arming is safe from any context.
unsafe impl<T: HasTimer> Send for Timer<T> {}
// SAFETY: as above.
unsafe impl<T: HasTimer> Sync for Timer<T> {}

impl<T: HasTimer> Timer<T> {
    /// An idle timer, to be placed in its owner with `<-` in `pin_init!`.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `timer_setup` initialises the pinned slot in place.
            raw <- Opaque::ffi_init(|slot| unsafe { sys::omx_timer_setup(slot, Some(Self::callback)) }),
            _owner: PhantomData,
        })
    }

    /// (Re)arms the timer to fire in `msecs` milliseconds (at least one tick). Any context.
    /// Does nothing once the timer was shut down.
    pub(crate) fn arm_ms(&self, msecs: u32) {
        // SAFETY: the timer was initialised by `new` and lives as long as `self`.
        unsafe { sys::omx_timer_arm_ms(self.raw.get(), msecs) };
    }

    /// Stops the timer for good and waits for a running callback. Process context.
    pub(crate) fn shutdown(&self) {
        // SAFETY: the timer is initialised; shutdown is idempotent.
        unsafe { sys::omx_timer_shutdown_sync(self.raw.get()) };
    }

    /// # Safety
    ///
    /// Called by the timer core with the `timer_list` of a `Timer<T>` inside a live `T`.
    unsafe extern "C" fn callback(raw: *mut sys::timer_list) {
        // SAFETY: `raw` is the `raw` field (offset 0) of a `Timer<T>` placed at `T::OFFSET` in
        // a `T` that outlives the callback: the timer is shut down before its owner is freed.
        let owner = unsafe { &*raw.cast::<u8>().sub(T::OFFSET).cast::<T>() };
        owner.timer_expired();
    }
}

#[pinned_drop]
impl<T: HasTimer> PinnedDrop for Timer<T> {
    fn drop(self: Pin<&mut Self>) {
        self.shutdown();
    }
}
