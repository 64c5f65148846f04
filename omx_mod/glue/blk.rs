// SPDX-License-Identifier: GPL-2.0

//! A blk-mq block device, modelled on `kernel::block::mq` but with what 6.12 lacks: driver
//! state per request (the `cmd_size` PDU: status and legs), request accessors and segment copies, completion
//! with a status from any context, a timeout callback, queue limits, and
//! `block_device_operations.owner = THIS_MODULE` (so `rmmod` is refused while the disk is
//! open or swapped on).
//!
//! Ownership of a request: blk-mq hands [`BlkOps::queue_rq`] a [`NewRequest`]; the driver
//! either gives it back (busy: blk-mq retries later) or starts it, getting the one
//! [`StartedRequest`], which must be completed exactly once ([`StartedRequest::complete`];
//! dropping it completes it with an I/O error). A request served by several targets at once
//! (a mirrored write) is [split](StartedRequest::split) into [`Leg`]s that complete on
//! their own; the last one completes the request: successfully if any leg succeeded, by
//! requeueing it if a leg asked for a retry (blk-mq offers it to `queue_rq` again), else
//! with an I/O error. Completion goes through
//! `blk_mq_complete_request`: `blk_mq_end_request` then runs inline or in the BLOCK softirq.
//! Like virtio-blk (which completes under its queue lock), callers may hold the lock their
//! `queue_rq` takes: the block layer never re-enters `queue_rq` from a completion (queue
//! restarts are asynchronous).

use crate::sys;
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU8, Ordering};
use kernel::bindings;
use kernel::error::{code::*, from_err_ptr, to_result, Result};
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::Opaque;

const SECTOR_SHIFT: u32 = 9;

/// Completion status of a request (`blk_status_t`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Status(u8);

impl Status {
    pub(crate) const OK: Status = Status(0);
    pub(crate) const NOTSUPP: Status = Status(1);
    pub(crate) const IOERR: Status = Status(10);
}

/// The operation of a request.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Read,
    Write,
    Flush,
    Discard,
    WriteZeroes,
    Other,
}

/// What to do with a request whose timer expired.
pub(crate) enum TimeoutAction {
    /// The driver completed (or had already completed) the request.
    Done,
    /// The driver is still working on it: re-arm the timer.
    #[allow(dead_code)] // omx fails expired requests; kept for completeness of the binding
    ResetTimer,
}

/// A block driver's callbacks. `queue_rq` runs in atomic context (no BLK_MQ_F_BLOCKING):
/// no sleeping, no GFP_KERNEL.
pub(crate) trait BlkOps: Send + Sync + Sized + 'static {
    /// Takes a new request: start it (and complete it later) or give it back when busy.
    fn queue_rq(&self, rq: NewRequest<Self>) -> Result<(), NewRequest<Self>>;

    /// A started request's timer expired (process context, kblockd).
    fn timeout(&self, rq: &Request<Self>) -> TimeoutAction;
}

/// A request as blk-mq sees it; only borrowed.
///
/// # Invariants
///
/// Wraps a valid `struct request` of a tag set whose PDU is a `Pdu`.
#[repr(transparent)]
/// `T` is the driver's [`BlkOps`] type, or `()` when a [`Leg`] forgot it.
pub(crate) struct Request<T>(Opaque<bindings::request>, PhantomData<T>);

/// Glue-owned prefix of every PDU.
struct Pdu {
    status: AtomicU8,
    /// Legs of a split request not completed yet.
    legs: AtomicU8,
    /// What the completed legs reported: `LEG_OK` / `LEG_RETRY` bits.
    outcome: AtomicU8,
}

const LEG_OK: u8 = 1;
const LEG_RETRY: u8 = 2;

impl<T> Request<T> {
    fn raw(&self) -> *mut bindings::request {
        self.0.get()
    }

    /// # Safety
    ///
    /// `ptr` must be a valid request of a tag set built by [`Disk::new`] for `T` (any, for
    /// `T = ()`), valid for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::request) -> &'a Self {
        // SAFETY: `Request` is transparent over the C struct; validity from the caller.
        unsafe { &*ptr.cast::<Self>() }
    }

    fn pdu(&self) -> &Pdu {
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
    /// request holds less data than asked.
    fn walk(&self, offset: usize, len: usize, mut f: impl FnMut(*mut u8, usize, usize)) -> Result {
        let end = offset.checked_add(len).ok_or(EINVAL)?;
        let mut pos = 0usize;
        // SAFETY: the request is valid; its bio chain is stable while it is in flight.
        let mut bio = unsafe { sys::omx_rq_bio(self.raw().cast()) };
        while !bio.is_null() && pos < end {
            // SAFETY: `bio` belongs to the request.
            let mut iter = unsafe { sys::omx_bio_iter(bio) };
            while iter.bi_size > 0 && pos < end {
                // SAFETY: `iter` is a valid position in `bio` (bi_size > 0).
                let bv = unsafe { sys::omx_bio_iter_iovec(bio, iter) };
                let seg_len = bv.bv_len as usize;
                let seg_end = pos.checked_add(seg_len).ok_or(EINVAL)?;
                let from = offset.max(pos);
                let to = end.min(seg_end);
                if from < to {
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

    /// Copies request data at `offset` into `out` (for writes).
    pub(crate) fn read_data(&self, offset: usize, out: &mut [u8]) -> Result {
        let dst = out.as_mut_ptr();
        self.walk(offset, out.len(), |src, n, at| {
            // SAFETY: `src` is `n` mapped bytes; `at + n <= out.len()` by construction of walk.
            unsafe { core::ptr::copy_nonoverlapping(src, dst.add(at), n) }
        })
    }
}

/// A request blk-mq offered to `queue_rq`, not started yet.
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
    /// Starts the request (its timeout begins); the result must be completed.
    pub(crate) fn start(self) -> StartedRequest<T> {
        // SAFETY: a request offered to queue_rq may be started once.
        unsafe { bindings::blk_mq_start_request(self.ptr.as_ptr()) };
        StartedRequest { ptr: self.ptr, _p: PhantomData }
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

    /// Splits the request into `n` (at least 1) legs that complete independently.
    pub(crate) fn split(self, n: u8) -> Legs<T> {
        let this = core::mem::ManuallyDrop::new(self);
        let n = n.max(1);
        this.pdu().outcome.store(0, Ordering::Relaxed);
        this.pdu().legs.store(n, Ordering::Release);
        Legs { ptr: this.ptr, left: n, _p: PhantomData }
    }
}

/// How a leg of a split request ended.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum LegResult {
    Ok,
    Failed,
    /// Failed, but the request may succeed if submitted again (another copy exists).
    Retry,
}

/// The legs of a split request, handed out one by one; legs never taken fail.
pub(crate) struct Legs<T: BlkOps> {
    ptr: NonNull<bindings::request>,
    left: u8,
    _p: PhantomData<T>,
}

impl<T: BlkOps> Iterator for Legs<T> {
    type Item = Leg;
    fn next(&mut self) -> Option<Leg> {
        self.left = self.left.checked_sub(1)?;
        Some(Leg { ptr: self.ptr })
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
    /// Copies `src` into the request's pages at `offset` (for reads: a read has one leg).
    pub(crate) fn write_data(&self, offset: usize, src: &[u8]) -> Result {
        let from = src.as_ptr();
        self.walk(offset, src.len(), |dst, n, at| {
            // SAFETY: `dst` is `n` mapped bytes of a page the request owns until its last leg
            // completes; `at + n <= src.len()`.
            unsafe { core::ptr::copy_nonoverlapping(from.add(at), dst, n) }
        })
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
        let status = if outcome & LEG_OK != 0 { Status::OK } else { Status::IOERR };
        pdu.status.store(status.0, Ordering::Relaxed);
        // SAFETY: started, all legs done, not completed yet; consumed here.
        unsafe { bindings::blk_mq_complete_request(rq) };
    }
}

impl Drop for Leg {
    fn drop(&mut self) {
        // Never leave a leg behind: that would hang the request's submitter.
        let leg = Leg { ptr: self.ptr };
        leg.complete(LegResult::Failed);
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

/// Shape of a disk.
pub(crate) struct DiskParams<'a> {
    pub(crate) name: &'a str,
    pub(crate) capacity: u64,
    pub(crate) queue_depth: u32,
    /// Largest request in bytes.
    pub(crate) max_request: u32,
    pub(crate) max_segments: u16,
    /// Requests never cross a multiple of this (bytes, power of two; 0: no limit).
    pub(crate) boundary: u32,
    pub(crate) timeout_ms: u32,
    /// Accept discard requests (of up to `max_request` bytes).
    pub(crate) discard: bool,
    /// Whether REQ_OP_WRITE_ZEROES is offered (else the block layer writes zero pages).
    pub(crate) write_zeroes: bool,
}

// The C struct is opaque here; only its address is taken.
#[allow(improper_ctypes)]
extern "C" {
    // This module, as `module!` declares it for THIS_MODULE.
    static __this_module: Opaque<bindings::module>;
}

struct Fops(bindings::block_device_operations);
// SAFETY: immutable after compilation; the kernel only reads it.
unsafe impl Sync for Fops {}

// `owner` pins the module while the disk is open (an open bdev or swapon takes a reference).
static FOPS: Fops = Fops(bindings::block_device_operations {
    // SAFETY: `__this_module` is this module's `struct module`, which outlives the table.
    owner: unsafe { __this_module.get() },
    // SAFETY: all other fields (function pointers, pointers) are valid as NULL.
    ..unsafe { core::mem::zeroed() }
});

/// A registered disk (`/dev/<name>`) with its tag set. Dropping it removes the disk,
/// waiting for I/O in flight (process context).
///
/// # Invariants
///
/// `disk` was added with `device_add_disk`; `tag_set` is allocated and its `driver_data`
/// points to `*data`.
pub(crate) struct Disk<T: BlkOps> {
    tag_set: Pin<KBox<Opaque<bindings::blk_mq_tag_set>>>,
    disk: NonNull<bindings::gendisk>,
    data: Arc<T>,
}

// SAFETY: the disk and tag set are only touched through blk-mq's own locking.
unsafe impl<T: BlkOps> Send for Disk<T> {}
// SAFETY: as above.
unsafe impl<T: BlkOps> Sync for Disk<T> {}

impl<T: BlkOps> Disk<T> {
    const OPS: bindings::blk_mq_ops = bindings::blk_mq_ops {
        queue_rq: Some(Self::queue_rq_callback),
        timeout: Some(Self::timeout_callback),
        complete: Some(Self::complete_callback),
        init_request: Some(Self::init_request_callback),
        exit_request: Some(Self::exit_request_callback),
        // SAFETY: the remaining callbacks are optional and valid as NULL.
        ..unsafe { core::mem::zeroed() }
    };

    /// Creates the tag set and the disk and adds it. Process context.
    pub(crate) fn new(p: &DiskParams<'_>, data: Arc<T>) -> Result<Self> {
        let mut set = bindings::blk_mq_tag_set::default();
        set.ops = &Self::OPS;
        // One hardware queue per CPU: submissions from different CPUs only meet at the
        // per-node locks.
        // SAFETY: written once during boot, read-only afterwards.
        set.nr_hw_queues = unsafe { bindings::nr_cpu_ids }.max(1);
        set.nr_maps = 1;
        set.queue_depth = p.queue_depth;
        set.cmd_size = u32::try_from(core::mem::size_of::<Pdu>()).map_err(|_| EINVAL)?;
        set.numa_node = -1; // NUMA_NO_NODE
        set.timeout = u32::try_from(
            // SAFETY: pure conversion.
            unsafe { sys::omx_msecs_to_jiffies(p.timeout_ms) },
        )
        .unwrap_or(u32::MAX);
        set.flags = bindings::BLK_MQ_F_SHOULD_MERGE;
        set.driver_data = core::ptr::from_ref::<T>(&data).cast_mut().cast();
        let tag_set = KBox::pin(Opaque::new(set), GFP_KERNEL)?;
        // SAFETY: the tag set is pinned and filled in.
        to_result(unsafe { bindings::blk_mq_alloc_tag_set(tag_set.get()) })?;
        let free_set = kernel::types::ScopeGuard::new_with_data(tag_set.get(), |set| {
            // SAFETY: allocated above, no disk uses it.
            unsafe { bindings::blk_mq_free_tag_set(set) }
        });

        // SAFETY: all fields of queue_limits are valid when zeroed (= defaults).
        let mut lim: bindings::queue_limits = unsafe { core::mem::zeroed() };
        lim.logical_block_size = 4096;
        lim.physical_block_size = 4096;
        lim.io_min = 4096;
        lim.max_hw_sectors = p.max_request >> SECTOR_SHIFT;
        lim.max_segments = p.max_segments;
        lim.chunk_sectors = p.boundary >> SECTOR_SHIFT;
        if p.discard {
            lim.max_hw_discard_sectors = p.max_request >> SECTOR_SHIFT;
            lim.discard_granularity = 4096;
        }
        if p.write_zeroes {
            lim.max_write_zeroes_sectors = p.max_request >> SECTOR_SHIFT;
        }
        // SAFETY: the tag set is allocated; `lim` is read during the call only; the lock
        // class key is static.
        let disk = from_err_ptr(unsafe {
            bindings::__blk_mq_alloc_disk(
                tag_set.get(),
                &mut lim,
                core::ptr::null_mut(),
                // `LockClassKey` is a transparent wrapper of the C key.
                core::ptr::from_ref(kernel::static_lock_class!()).cast_mut().cast(),
            )
        })?;
        let disk = NonNull::new(disk).ok_or(ENOMEM)?;
        let put = kernel::types::ScopeGuard::new_with_data(disk, |d| {
            // SAFETY: allocated above, not added.
            unsafe { bindings::put_disk(d.as_ptr()) }
        });
        // SAFETY: the disk is ours until added; these fields are plain data.
        unsafe {
            let d = disk.as_ptr();
            (*d).fops = &FOPS.0;
            let name = &mut (*d).disk_name;
            let bytes = p.name.as_bytes();
            // Room for the NUL, which the zeroed remainder provides.
            if bytes.len() >= name.len() {
                return Err(EINVAL);
            }
            name.fill(0);
            for (dst, src) in name.iter_mut().zip(bytes) {
                *dst = *src as _;
            }
            bindings::set_capacity(d, p.capacity >> SECTOR_SHIFT);
        }
        // SAFETY: the disk is fully set up; no parent device, no attribute groups.
        to_result(unsafe {
            bindings::device_add_disk(core::ptr::null_mut(), disk.as_ptr(), core::ptr::null_mut())
        })?;
        put.dismiss();
        free_set.dismiss();
        Ok(Self { tag_set, disk, data })
    }

    /// How many times the disk is open (swapon and mounts count).
    pub(crate) fn openers(&self) -> u32 {
        // SAFETY: the disk is valid (type invariant).
        unsafe { sys::omx_disk_openers(self.disk.as_ptr()) }
    }

    pub(crate) fn data(&self) -> &Arc<T> {
        &self.data
    }

    /// # Safety
    ///
    /// `rq` must be a request of a tag set built by `new` for `T`, whose disk is alive.
    unsafe fn driver(rq: *mut bindings::request) -> &'static T {
        // SAFETY: `driver_data` points to the `data` the `Disk` keeps alive until
        // after `del_gendisk`, which waits for every callback of the queue.
        unsafe { &*sys::omx_rq_driver_data(rq.cast()).cast::<T>() }
    }

    unsafe extern "C" fn queue_rq_callback(
        _hctx: *mut bindings::blk_mq_hw_ctx,
        bd: *const bindings::blk_mq_queue_data,
    ) -> bindings::blk_status_t {
        // SAFETY: blk-mq passes valid queue data with a request of our tag set.
        let rq = unsafe { sys::omx_bd_rq(bd) };
        let Some(ptr) = NonNull::new(rq) else { return Status::IOERR.0 };
        // SAFETY: as above.
        let driver = unsafe { Self::driver(rq) };
        match driver.queue_rq(NewRequest { ptr, _p: PhantomData }) {
            Ok(()) => Status::OK.0,
            Err(_busy) => 9, // BLK_STS_RESOURCE: blk-mq re-runs the queue later
        }
    }

    unsafe extern "C" fn timeout_callback(rq: *mut bindings::request) -> bindings::blk_eh_timer_return {
        // SAFETY: blk-mq passes a started request of our tag set.
        let (driver, req) = unsafe { (Self::driver(rq), Request::<T>::from_raw(rq)) };
        match driver.timeout(req) {
            TimeoutAction::Done => bindings::blk_eh_timer_return_BLK_EH_DONE,
            TimeoutAction::ResetTimer => bindings::blk_eh_timer_return_BLK_EH_RESET_TIMER,
        }
    }

    unsafe extern "C" fn complete_callback(rq: *mut bindings::request) {
        // SAFETY: a request of our tag set that was completed by `StartedRequest`.
        let status = unsafe { Request::<T>::from_raw(rq) }.pdu().status.load(Ordering::Relaxed);
        // SAFETY: ending it is what `blk_mq_complete_request` asked us to do.
        unsafe { bindings::blk_mq_end_request(rq, status) };
    }

    unsafe extern "C" fn init_request_callback(
        _set: *mut bindings::blk_mq_tag_set,
        rq: *mut bindings::request,
        _hctx_idx: kernel::ffi::c_uint,
        _numa_node: kernel::ffi::c_uint,
    ) -> kernel::ffi::c_int {
        // SAFETY: the PDU area has `cmd_size` = size of `Pdu` bytes, suitably aligned
        // (it follows `struct request`), and is not initialised yet.
        unsafe {
            let pdu = bindings::blk_mq_rq_to_pdu(rq).cast::<Pdu>();
            pdu.write(Pdu { status: AtomicU8::new(0), legs: AtomicU8::new(0), outcome: AtomicU8::new(0) });
        }
        0
    }

    unsafe extern "C" fn exit_request_callback(
        _set: *mut bindings::blk_mq_tag_set,
        rq: *mut bindings::request,
        _hctx_idx: kernel::ffi::c_uint,
    ) {
        // SAFETY: initialised by `init_request_callback`, dropped once here.
        unsafe { core::ptr::drop_in_place(bindings::blk_mq_rq_to_pdu(rq).cast::<Pdu>()) };
    }
}

impl<T: BlkOps> Drop for Disk<T> {
    fn drop(&mut self) {
        // SAFETY: added in `new`; del_gendisk waits for I/O in flight and stops the queue's
        // callbacks; afterwards the disk and then the tag set are released.
        unsafe {
            bindings::del_gendisk(self.disk.as_ptr());
            bindings::put_disk(self.disk.as_ptr());
            bindings::blk_mq_free_tag_set(self.tag_set.get());
        }
    }
}
