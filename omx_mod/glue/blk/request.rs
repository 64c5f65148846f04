// SPDX-License-Identifier: GPL-2.0

//! A request's accessors and data copies, and its ownership from `queue_rq` to completion.

use super::{BlkOps, Op, Pdu, Status, SECTOR_SHIFT};
use crate::sys;
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::Ordering;
use kernel::bindings;
use kernel::error::{code::*, Result};
use kernel::types::Opaque;

/// A request as blk-mq sees it; only borrowed.
///
/// # Invariants
///
/// Wraps a valid `struct request` of a tag set whose PDU is a `Pdu`.
///
/// `T` is the driver's [`BlkOps`] type, or `()` when a [`super::Leg`] forgot it.
#[repr(transparent)]
pub(crate) struct Request<T>(Opaque<bindings::request>, PhantomData<T>);

impl<T> Request<T> {
    fn raw(&self) -> *mut bindings::request {
        self.0.get()
    }

    /// # Safety
    ///
    /// `ptr` must be a valid request of a tag set built by [`super::Disk::new`] for `T` (any,
    /// for `T = ()`), valid for `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::request) -> &'a Self {
        // SAFETY: `Request` is transparent over the C struct; validity from the caller.
        unsafe { &*ptr.cast::<Self>() }
    }

    pub(super) fn pdu(&self) -> &Pdu {
        // SAFETY: the PDU of a request of our tag set is a `Pdu` initialised by
        // `init_request` (type invariant) and lives as long as the request.
        unsafe { &*bindings::blk_mq_rq_to_pdu(self.raw()).cast::<Pdu>() }
    }

    /// First byte on the disk.
    pub(crate) fn offset(&self) -> u64 {
        // SAFETY: the request is valid.
        let sector: u64 = unsafe { sys::omx_blk_rq_pos(self.raw().cast()) };
        sector << SECTOR_SHIFT
    }

    /// Length in bytes.
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: the request is valid.
        unsafe { sys::omx_blk_rq_bytes(self.raw().cast()) }
    }

    pub(crate) fn op(&self) -> Op {
        // SAFETY: the request is valid.
        match unsafe { sys::omx_req_op(self.raw().cast()) } {
            bindings::req_op_REQ_OP_READ => Op::Read,
            bindings::req_op_REQ_OP_WRITE => Op::Write,
            bindings::req_op_REQ_OP_FLUSH => Op::Flush,
            bindings::req_op_REQ_OP_DISCARD => Op::Discard,
            bindings::req_op_REQ_OP_WRITE_ZEROES => Op::WriteZeroes,
            _ => Op::Other,
        }
    }

    /// An identity for matching a request against the driver's tables.
    pub(crate) fn id(&self) -> usize {
        self.raw() as usize
    }

    /// Calls `f(mapped, buf_offset)` for each piece of the data range `offset..offset+len`,
    /// where `mapped` is the piece's bytes in a (temporarily mapped) bio page. Fails if the
    /// request holds less data than asked. Starts at `cursor` when it is not past `offset`
    /// (else at the start) and leaves `cursor` at the last segment touched: the pieces of a
    /// large request, walked in order, cost a step each instead of a walk from the start.
    ///
    /// `cursor` must be [`Cursor::START`] or left by an earlier walk of this request.
    pub(super) fn walk_from(
        &self,
        cursor: &mut Cursor,
        offset: usize,
        len: usize,
        mut f: impl FnMut(*mut u8, usize, usize),
    ) -> Result {
        let end = offset.checked_add(len).ok_or(EINVAL)?;
        let (mut bio, mut pos, mut resume) = match cursor.at {
            Some((bio, iter)) if cursor.pos <= offset => (bio, cursor.pos, Some(iter)),
            // SAFETY: the request is valid; its bio chain is stable while it is in flight.
            _ => (unsafe { sys::omx_rq_bio(self.raw().cast()) }, 0, None),
        };
        while !bio.is_null() && pos < end {
            // A walk of this request left `bio` in `cursor` with `iter`, a position in it;
            // else `bio` is its first bio or one after it.
            let mut iter = match resume.take() {
                Some(iter) => iter,
                // SAFETY: `bio` belongs to the request.
                None => unsafe { sys::omx_bio_iter(bio) },
            };
            while iter.bi_size > 0 && pos < end {
                // SAFETY: `iter` is a valid position in `bio` (bi_size > 0).
                let bv = unsafe { sys::omx_bio_iter_iovec(bio, iter) };
                let seg_len = bv.bv_len as usize;
                let seg_end = pos.checked_add(seg_len).ok_or(EINVAL)?;
                let from = offset.max(pos);
                let to = end.min(seg_end);
                if from < to {
                    *cursor = Cursor {
                        at: Some((bio, iter)),
                        pos,
                    };
                    // SAFETY: a single-page segment (bio_iter_iovec): `bv_offset + bv_len` is
                    // within the page; kmap_local maps it until the matching kunmap below.
                    unsafe {
                        let base = sys::omx_kmap_local_page(bv.bv_page).cast::<u8>();
                        let at = base.add(bv.bv_offset as usize + (from - pos));
                        f(at, to - from, from - offset);
                        sys::omx_kunmap_local(base.cast());
                    }
                }
                pos = seg_end;
                if bv.bv_len == 0 {
                    break; // cannot happen; never loop forever
                }
                // SAFETY: advancing by the segment just returned, as bio_for_each_segment.
                unsafe { sys::omx_bio_advance_iter_single(bio, &mut iter, bv.bv_len) };
            }
            // SAFETY: `bio` is valid; the next one is part of the same request or NULL.
            bio = unsafe { sys::omx_bio_next(bio) };
        }
        if pos < end {
            return Err(EINVAL);
        }
        Ok(())
    }
}

/// Where a walk of a request's data stopped: a bio of the request, a position in it and the
/// data offset there. Only meaningful for the request it was walked on.
#[derive(Clone, Copy)]
pub(crate) struct Cursor {
    at: Option<(*mut bindings::bio, bindings::bvec_iter)>,
    pos: usize,
}

impl Cursor {
    /// The start of the data.
    pub(crate) const START: Cursor = Cursor { at: None, pos: 0 };
}

/// A request blk-mq offered to `queue_rq`, not started yet.
///
/// # Invariants
///
/// `ptr` is a request of a tag set built for `T`, offered to `queue_rq` and not started.
pub(crate) struct NewRequest<T: BlkOps> {
    ptr: NonNull<bindings::request>,
    _p: PhantomData<T>,
}

impl<T: BlkOps> core::ops::Deref for NewRequest<T> {
    type Target = Request<T>;
    fn deref(&self) -> &Request<T> {
        // SAFETY: valid for the duration of `queue_rq`, which owns this value.
        unsafe { Request::from_raw(self.ptr.as_ptr()) }
    }
}

impl<T: BlkOps> NewRequest<T> {
    /// # Safety
    ///
    /// `ptr` must be the request blk-mq passed to the running `queue_rq` callback of a tag set
    /// built by [`super::Disk::new`] for `T`; the result must not outlive that callback.
    pub(super) unsafe fn new(ptr: NonNull<bindings::request>) -> Self {
        Self {
            ptr,
            _p: PhantomData,
        }
    }

    /// Whether blk-mq offers the request for the first time: false when it offers it again
    /// (handed back busy, or requeued to be sent again). Marks it with `RQF_DONTPREP`, the
    /// flag a driver sets on a request it has prepared (as SCSI does), which blk-mq keeps
    /// until the request is freed, so this is true once per request.
    pub(crate) fn first_offer(&mut self) -> bool {
        const DONTPREP: bindings::req_flags_t = 1 << bindings::__RQF_DONTPREP;
        let rq = self.ptr.as_ptr();
        // SAFETY: ours during `queue_rq` (type invariant); only the driver writes `rq_flags` then.
        let flags = unsafe { &mut (*rq).rq_flags };
        if *flags & DONTPREP != 0 {
            return false;
        }
        *flags |= DONTPREP;
        true
    }

    /// Starts the request (its timeout begins); the result must be completed.
    pub(crate) fn start(self) -> StartedRequest<T> {
        // SAFETY: a request offered to queue_rq may be started once.
        unsafe { bindings::blk_mq_start_request(self.ptr.as_ptr()) };
        StartedRequest {
            ptr: self.ptr,
            _p: PhantomData,
        }
    }
}

/// A started request, owned by the driver until it completes it.
///
/// # Invariants
///
/// `ptr` is a started request not completed yet; there is one `StartedRequest` per start.
pub(crate) struct StartedRequest<T: BlkOps> {
    ptr: NonNull<bindings::request>,
    _p: PhantomData<T>,
}

// SAFETY: a started request may be completed from any CPU and context.
unsafe impl<T: BlkOps> Send for StartedRequest<T> {}
// SAFETY: shared access only reads request fields and the `Sync` PDU.
unsafe impl<T: BlkOps> Sync for StartedRequest<T> {}

impl<T: BlkOps> core::ops::Deref for StartedRequest<T> {
    type Target = Request<T>;
    fn deref(&self) -> &Request<T> {
        // SAFETY: a started request stays valid until completed, which consumes `self`.
        unsafe { Request::from_raw(self.ptr.as_ptr()) }
    }
}

impl<T: BlkOps> StartedRequest<T> {
    /// Completes the request with `status`. Any context, also under the driver's locks.
    pub(crate) fn complete(self, status: Status) {
        let this = core::mem::ManuallyDrop::new(self);
        this.pdu().status.store(status.0, Ordering::Relaxed);
        // SAFETY: started and not completed (type invariant); consumed here.
        unsafe { bindings::blk_mq_complete_request(this.ptr.as_ptr()) };
    }

    /// Gives up the request without completing it: the caller becomes its owner (the legs of
    /// [`StartedRequest::split`], in leg.rs).
    pub(super) fn into_raw(self) -> NonNull<bindings::request> {
        core::mem::ManuallyDrop::new(self).ptr
    }
}

impl<T: BlkOps> Drop for StartedRequest<T> {
    fn drop(&mut self) {
        // Never leave a started request behind: that would hang its submitter.
        self.pdu().status.store(Status::IOERR.0, Ordering::Relaxed);
        // SAFETY: as in `complete`.
        unsafe { bindings::blk_mq_complete_request(self.ptr.as_ptr()) };
    }
}
