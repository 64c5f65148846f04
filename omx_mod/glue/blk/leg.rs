// SPDX-License-Identifier: GPL-2.0

//! A request split into legs (one per copy of a mirrored write) that complete on their own;
//! the last leg completes the request.

use super::request::{Cursor, Request, StartedRequest};
use super::{BlkOps, Status, LEG_OK, LEG_RETRY};
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::Ordering;
use kernel::bindings;
use kernel::error::{code::EINVAL, Result};

/// How a leg of a split request ended.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum LegResult {
    Ok,
    Failed,
    /// Failed, but the request may succeed if submitted again (another copy exists).
    Retry,
}

/// The legs of a split request, handed out one by one; legs never taken fail.
///
/// # Invariants
///
/// `ptr` is a started request split into legs, not completed yet; `left` of its PDU's `legs`
/// have not been handed out.
pub(crate) struct Legs<T: BlkOps> {
    ptr: NonNull<bindings::request>,
    left: u8,
    _p: PhantomData<T>,
}

impl<T: BlkOps> StartedRequest<T> {
    /// Splits the request into `n` (at least 1) legs that complete independently.
    pub(crate) fn split(self, n: u8) -> Legs<T> {
        let n = n.max(1);
        self.pdu().outcome.store(0, Ordering::Relaxed);
        self.pdu().legs.store(n, Ordering::Release);
        // Started and not completed (type invariant of `StartedRequest`), consumed here: the
        // legs are its only owners.
        Legs {
            ptr: self.into_raw(),
            left: n,
            _p: PhantomData,
        }
    }
}

impl<T: BlkOps> Iterator for Legs<T> {
    type Item = Leg;
    fn next(&mut self) -> Option<Leg> {
        self.left = self.left.checked_sub(1)?;
        Some(Leg {
            ptr: self.ptr,
            cursor: Cursor::START,
        })
    }
}

impl<T: BlkOps> Drop for Legs<T> {
    fn drop(&mut self) {
        for leg in self.by_ref() {
            leg.complete(LegResult::Failed);
        }
    }
}

/// One leg of a split request, owned by the driver until it completes it.
///
/// # Invariants
///
/// `ptr` is a started request split into legs, not completed yet; this leg is counted in
/// its PDU's `legs` and not completed yet. Untyped, so the I/O tables holding it need not
/// know the driver's [`BlkOps`] type.
pub(crate) struct Leg {
    ptr: NonNull<bindings::request>,
    /// Where this leg's last copy stopped in the request's data (its messages go in order).
    cursor: Cursor,
}

// SAFETY: as for `StartedRequest`: a leg may be completed from any CPU and context.
unsafe impl Send for Leg {}
// SAFETY: as for `StartedRequest`.
unsafe impl Sync for Leg {}

impl core::ops::Deref for Leg {
    type Target = Request<()>;
    fn deref(&self) -> &Request<()> {
        // SAFETY: the request stays valid until its last leg completes (type invariant).
        unsafe { Request::from_raw(self.ptr.as_ptr()) }
    }
}

impl Leg {
    /// Fills the request's pages at `offset..offset + len` (for reads: a read has one leg):
    /// `fill(dst, at)` writes `dst`, the request's bytes from `offset + at` on (within one
    /// page), so data goes from the received frame into the pages with one copy. Called
    /// with the page mapped (`kmap_local`): `fill` must not sleep.
    pub(crate) fn fill_data(
        &mut self,
        offset: usize,
        len: usize,
        mut fill: impl FnMut(&mut [u8], usize),
    ) -> Result {
        let mut cursor = self.cursor;
        let done = self.walk_from(&mut cursor, offset, len, |dst, n, at| {
            // SAFETY: `dst` is `n` mapped bytes of a page the request owns until its last leg
            // completes; nothing else reads or writes them while the leg is in flight.
            fill(unsafe { core::slice::from_raw_parts_mut(dst, n) }, at)
        });
        self.cursor = cursor;
        done
    }

    /// Hands the request's data at `offset..offset + len` to `put(src, at)` (for writes), one
    /// mapped piece of a page at a time: `src` holds the request's bytes from `offset + at`
    /// on, so a sender copies them once, straight into its frame. Fails if `put` returns
    /// false. Called with the page mapped (`kmap_local`): `put` must not sleep.
    pub(crate) fn read_data_into(
        &mut self,
        offset: usize,
        len: usize,
        mut put: impl FnMut(&[u8], usize) -> bool,
    ) -> Result {
        let mut ok = true;
        let mut cursor = self.cursor;
        let done = self.walk_from(&mut cursor, offset, len, |src, n, at| {
            // SAFETY: `src` is `n` mapped bytes of a page the request owns until its last leg
            // completes; a write's pages are only read while it is in flight.
            ok &= put(unsafe { core::slice::from_raw_parts(src, n) }, at);
        });
        self.cursor = cursor;
        done?;
        if ok {
            Ok(())
        } else {
            Err(EINVAL)
        }
    }

    /// Completes this leg; the last leg ends the request. Any context, also under the
    /// driver's locks.
    pub(crate) fn complete(self, result: LegResult) {
        let this = core::mem::ManuallyDrop::new(self);
        let pdu = this.pdu();
        match result {
            LegResult::Ok => pdu.outcome.fetch_or(LEG_OK, Ordering::Relaxed),
            LegResult::Retry => pdu.outcome.fetch_or(LEG_RETRY, Ordering::Relaxed),
            LegResult::Failed => 0,
        };
        // AcqRel: the last leg sees every other leg's outcome.
        if pdu.legs.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let outcome = pdu.outcome.load(Ordering::Relaxed);
        let rq = this.ptr.as_ptr();
        if outcome & LEG_OK == 0 && outcome & LEG_RETRY != 0 {
            // SAFETY: a started request we own (last leg); blk-mq offers it to queue_rq
            // again from its requeue work. Callable in any context.
            unsafe { bindings::blk_mq_requeue_request(rq, true) };
            return;
        }
        let status = if outcome & LEG_OK != 0 {
            Status::OK
        } else {
            Status::IOERR
        };
        pdu.status.store(status.0, Ordering::Relaxed);
        // SAFETY: started, all legs done, not completed yet; consumed here.
        unsafe { bindings::blk_mq_complete_request(rq) };
    }
}

impl Drop for Leg {
    fn drop(&mut self) {
        // Never leave a leg behind: that would hang the request's submitter.
        let leg = Leg {
            ptr: self.ptr,
            cursor: Cursor::START,
        };
        leg.complete(LegResult::Failed);
    }
}
