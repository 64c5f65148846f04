// SPDX-License-Identifier: GPL-2.0

//! Kernel timers (`struct timer_list`) that run a handler in softirq context.

use crate::sys;
use core::pin::Pin;
use kernel::alloc::{flags, KBox};
use kernel::error::Result;
use kernel::types::Opaque;

/// What a timer does when it fires.
pub(crate) trait TimerHandler: Send + Sync {
    /// Runs in the timer softirq (must not sleep). Returns the delay in milliseconds after which
    /// to fire again, or `None` to stay idle until re-armed.
    fn expired(&self) -> Option<u32>;
}

/// A timer owning its handler; on drop it is shut down and waited for.
pub(crate) struct Timer<T: TimerHandler> {
    raw: Opaque<sys::timer_list>,
    handler: T,
}

// SAFETY: the timer core serialises callbacks; `handler` is `Send + Sync`.
unsafe impl<T: TimerHandler> Send for Timer<T> {}
// SAFETY: arming from several contexts is what `mod_timer` supports.
unsafe impl<T: TimerHandler> Sync for Timer<T> {}

impl<T: TimerHandler> Timer<T> {
    /// Creates an idle timer. Process context.
    pub(crate) fn new(handler: T) -> Result<Pin<KBox<Self>>> {
        let this = KBox::pin(
            Self {
                raw: Opaque::uninit(),
                handler,
            },
            flags::GFP_KERNEL,
        )?;
        // SAFETY: `raw` lives in a pinned allocation; `timer_setup` initialises it in place.
        unsafe { sys::omx_timer_setup(this.raw.get(), Some(Self::callback)) };
        Ok(this)
    }

    /// (Re)arms the timer to fire in `msecs` milliseconds. Callable from any context.
    pub(crate) fn arm_ms(&self, msecs: u32) {
        // SAFETY: the timer was initialised in `new` and is not shut down until drop.
        unsafe { sys::omx_timer_arm_ms(self.raw.get(), msecs) };
    }

    /// # Safety
    ///
    /// Called by the timer core with the `timer_list` embedded in a live `Timer<T>`.
    unsafe extern "C" fn callback(raw: *mut sys::timer_list) {
        // SAFETY: `raw` is the `raw` field of a `Timer<T>` that outlives the callback (drop
        // waits for it with `timer_shutdown_sync`).
        let this = unsafe { &*kernel::container_of!(raw, Self, raw).cast::<Self>() };
        if let Some(msecs) = this.handler.expired() {
            this.arm_ms(msecs);
        }
    }
}

impl<T: TimerHandler> Drop for Timer<T> {
    fn drop(&mut self) {
        // SAFETY: the timer is initialised; shutdown waits for a running callback and prevents
        // re-arming, so the memory can be freed afterwards.
        unsafe { sys::omx_timer_shutdown_sync(self.raw.get()) };
    }
}
