// SPDX-License-Identifier: GPL-2.0

//! Tasklets (`struct tasklet_struct`) embedded in the structure they serve, running a handler
//! in softirq context (TASKLET_SOFTIRQ) on the CPU that scheduled them.
//!
//! A tasklet scheduled while NET_RX handles a NAPI poll runs right after that softirq, in the
//! same softirq pass (or ksoftirqd's next): work deferred to it follows the whole batch of
//! frames, before any timer. Same shape as [`crate::glue::timer`]: the owner (pinned, e.g. in
//! an `Arc`) holds a [`Tasklet<Self>`] field, declares it with [`impl_has_tasklet!`], and the
//! callback finds the owner with `container_of`.

use crate::sys;
use core::marker::PhantomData;
use kernel::prelude::*;
use kernel::types::Opaque;

/// What a tasklet's owner does when the tasklet runs (softirq context: must not sleep).
pub(crate) trait TaskletHandler: Sync {
    fn tasklet_run(&self);
}

/// Declares where an owner keeps its tasklet.
///
/// # Safety
///
/// `OFFSET` must be the byte offset of a `Tasklet<Self>` field inside `Self`.
pub(crate) unsafe trait HasTasklet: TaskletHandler + Sized {
    const OFFSET: usize;
}

/// Implements [`HasTasklet`] for `$type` whose tasklet is field `$field`.
macro_rules! impl_has_tasklet {
    ($type:ty, $field:ident) => {
        // SAFETY: the offset is computed from the field itself.
        unsafe impl $crate::glue::tasklet::HasTasklet for $type {
            const OFFSET: usize = core::mem::offset_of!($type, $field);
        }
    };
}
pub(crate) use impl_has_tasklet;

/// A tasklet inside a `T`. Dropping it waits for a scheduled or running callback.
#[repr(C)]
#[pin_data(PinnedDrop)]
pub(crate) struct Tasklet<T: HasTasklet> {
    #[pin]
    raw: Opaque<sys::tasklet_struct>,
    _owner: PhantomData<T>,
}

// SAFETY: the tasklet core runs the callback on one CPU at a time; scheduling is safe from any
// context.
unsafe impl<T: HasTasklet> Send for Tasklet<T> {}
// SAFETY: as above.
unsafe impl<T: HasTasklet> Sync for Tasklet<T> {}

impl<T: HasTasklet> Tasklet<T> {
    /// An idle tasklet, to be placed in its owner with `<-` in `pin_init!`.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `tasklet_setup` initialises every field of the pinned slot in place.
            raw <- Opaque::ffi_init(|slot| unsafe { sys::tasklet_setup(slot, Some(Self::callback)) }),
            _owner: PhantomData,
        })
    }

    /// Has the callback run soon (once, however often this is called before it runs). Any
    /// context.
    pub(crate) fn schedule(&self) {
        // SAFETY: the tasklet was initialised by `new` and lives as long as `self`; `Drop`
        // (or `kill`) waits for the scheduled run.
        unsafe { sys::omx_tasklet_schedule(self.raw.get()) };
    }

    /// Waits until the tasklet is neither scheduled nor running. It may be scheduled again
    /// afterwards: the owner stops scheduling it first. Process context (may sleep).
    pub(crate) fn kill(&self) {
        // SAFETY: the tasklet is initialised; killing an idle tasklet returns at once.
        unsafe { sys::tasklet_kill(self.raw.get()) };
    }

    /// # Safety
    ///
    /// Called by the tasklet core with the `tasklet_struct` of a `Tasklet<T>` inside a live `T`.
    unsafe extern "C" fn callback(raw: *mut sys::tasklet_struct) {
        // SAFETY: `raw` is the `raw` field (offset 0) of a `Tasklet<T>` placed at `T::OFFSET`
        // in a `T` that outlives the callback: the tasklet is killed before its owner is freed.
        let owner = unsafe { &*raw.cast::<u8>().sub(T::OFFSET).cast::<T>() };
        owner.tasklet_run();
    }
}

#[pinned_drop]
impl<T: HasTasklet> PinnedDrop for Tasklet<T> {
    fn drop(self: Pin<&mut Self>) {
        self.kill();
    }
}
