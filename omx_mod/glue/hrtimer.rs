// SPDX-License-Identifier: GPL-2.0

//! High-resolution timers (`struct hrtimer`, monotonic clock, callback in softirq context)
//! embedded in the structure they serve, for delays far below a jiffy (a lending's answer
//! coalescing: tens to hundreds of microseconds). Declared like [`crate::glue::timer`].

use crate::sys;
use core::marker::PhantomData;
use kernel::prelude::*;
use kernel::types::Opaque;

/// What a high-resolution timer's owner does when it fires (softirq context).
pub(crate) trait HrTimerHandler: Sync {
    fn hrtimer_expired(&self);
}

/// Declares where an owner keeps its high-resolution timer.
///
/// # Safety
///
/// `OFFSET` must be the byte offset of an `HrTimer<Self>` field inside `Self`.
pub(crate) unsafe trait HasHrTimer: HrTimerHandler + Sized {
    const OFFSET: usize;
}

/// Implements [`HasHrTimer`] for `$type` whose timer is field `$field`.
macro_rules! impl_has_hrtimer {
    ($type:ty, $field:ident) => {
        // SAFETY: the offset is computed from the field itself.
        unsafe impl $crate::glue::hrtimer::HasHrTimer for $type {
            const OFFSET: usize = core::mem::offset_of!($type, $field);
        }
    };
}
pub(crate) use impl_has_hrtimer;

/// A high-resolution timer inside a `T`. Dropping it cancels it and waits for a running
/// callback. Unlike [`crate::glue::timer::Timer`] it has no final shutdown: the owner stops
/// arming it (under its own lock) before cancelling it for good.
#[repr(C)]
#[pin_data(PinnedDrop)]
pub(crate) struct HrTimer<T: HasHrTimer> {
    #[pin]
    raw: Opaque<sys::hrtimer>,
    _owner: PhantomData<T>,
}

// SAFETY: the hrtimer core serialises the callback and its own state; arming is safe from
// any context and cancelling from any but the callback itself (see `cancel`).
unsafe impl<T: HasHrTimer> Send for HrTimer<T> {}
// SAFETY: as above.
unsafe impl<T: HasHrTimer> Sync for HrTimer<T> {}

impl<T: HasHrTimer> HrTimer<T> {
    /// An idle timer, to be placed in its owner with `<-` in `pin_init!`.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            raw <- Opaque::ffi_init(|slot: *mut sys::hrtimer| {
                // SAFETY: `hrtimer_init` initialises the pinned slot in place; the callback is
                // set before the timer can be armed.
                unsafe {
                    sys::hrtimer_init(
                        slot,
                        sys::CLOCK_MONOTONIC as _,
                        sys::hrtimer_mode_HRTIMER_MODE_REL_SOFT,
                    );
                    (*slot).function = Some(Self::callback);
                }
            }),
            _owner: PhantomData,
        })
    }

    /// (Re)arms the timer to fire in `nsecs` nanoseconds. Any context.
    pub(crate) fn arm_ns(&self, nsecs: u64) {
        // SAFETY: the timer was initialised by `new` and lives as long as `self`.
        unsafe { sys::omx_hrtimer_start_soft_ns(self.raw.get(), nsecs) };
    }

    /// Cancels the timer and waits for a running callback: never from that callback (it
    /// would wait for itself). Process context here.
    pub(crate) fn cancel(&self) {
        // SAFETY: the timer is initialised; cancelling an idle timer does nothing.
        unsafe { sys::hrtimer_cancel(self.raw.get()) };
    }

    /// # Safety
    ///
    /// Called by the hrtimer core with the `hrtimer` of an `HrTimer<T>` inside a live `T`.
    unsafe extern "C" fn callback(raw: *mut sys::hrtimer) -> sys::hrtimer_restart {
        // The timer is cancelled before its owner is freed, so the owner outlives the callback.
        // SAFETY: `raw` is field 0 of an `HrTimer<T>` at `T::OFFSET` in a live `T`.
        let owner = unsafe { &*raw.cast::<u8>().sub(T::OFFSET).cast::<T>() };
        owner.hrtimer_expired();
        sys::hrtimer_restart_HRTIMER_NORESTART
    }
}

#[pinned_drop]
impl<T: HasHrTimer> PinnedDrop for HrTimer<T> {
    fn drop(self: Pin<&mut Self>) {
        self.cancel();
    }
}
