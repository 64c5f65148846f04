// SPDX-License-Identifier: GPL-2.0

//! The disk and its tag set: creation with the queue limits, removal, and blk-mq's callbacks.

use super::request::{NewRequest, Request};
use super::{BlkOps, Pdu, Status, TimeoutAction, SECTOR_SHIFT};
use crate::sys;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU8, Ordering};
use kernel::bindings;
use kernel::error::{code::*, from_err_ptr, to_result, Result};
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::Opaque;

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
#[expect(improper_ctypes)]
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
        let set = bindings::blk_mq_tag_set {
            ops: &Self::OPS,
            // One hardware queue per CPU: submissions from different CPUs only meet at the
            // per-node locks.
            // SAFETY: written once during boot, read-only afterwards.
            nr_hw_queues: unsafe { bindings::nr_cpu_ids }.max(1),
            nr_maps: 1,
            queue_depth: p.queue_depth,
            cmd_size: u32::try_from(core::mem::size_of::<Pdu>()).map_err(|_| EINVAL)?,
            numa_node: -1, // NUMA_NO_NODE
            timeout: u32::try_from(
                // SAFETY: pure conversion.
                unsafe { sys::omx_msecs_to_jiffies(p.timeout_ms) },
            )
            .unwrap_or(u32::MAX),
            flags: bindings::BLK_MQ_F_SHOULD_MERGE,
            driver_data: core::ptr::from_ref::<T>(&data).cast_mut().cast(),
            ..Default::default()
        };
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
            // The block layer splits a long discard at multiples of the granularity (not at
            // `chunk_sectors`): at `max_request`, a divisor of the boundary, no piece
            // crosses a boundary.
            lim.discard_granularity = p.max_request;
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
                core::ptr::from_ref(kernel::static_lock_class!())
                    .cast_mut()
                    .cast(),
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
        Ok(Self {
            tag_set,
            disk,
            data,
        })
    }

    /// How many times the disk is open (swapon and mounts count).
    pub(crate) fn openers(&self) -> u32 {
        // SAFETY: the disk is valid (type invariant).
        unsafe { sys::omx_disk_openers(self.disk.as_ptr()) }
    }

    pub(crate) fn data(&self) -> &Arc<T> {
        &self.data
    }

    /// Discards the disk's first `bytes` bytes and waits until every discard completed,
    /// through the driver's own queue like any discard (so a device's nodes give its memory
    /// back). Process context: sleeps. Errors are the block layer's (a failed request: EIO).
    pub(crate) fn discard(&self, bytes: u64) -> Result {
        // `part0` is the disk's whole-disk block device, live until `del_gendisk` in `drop`,
        // which cannot run while `self` is borrowed; the discard only submits bios to it and
        // waits for them, which our caller's process context allows.
        // SAFETY: the disk is valid and added (type invariant), so `part0` is live (above).
        let ret = unsafe {
            bindings::blkdev_issue_discard(
                (*self.disk.as_ptr()).part0,
                0,
                bytes >> SECTOR_SHIFT,
                bindings::GFP_KERNEL,
            )
        };
        to_result(ret)
    }

    /// # Safety
    ///
    /// `rq` must be a request of a tag set built by `new` for `T`, whose disk is alive.
    unsafe fn driver(rq: *mut bindings::request) -> &'static T {
        // SAFETY: `driver_data` points to the `data` the `Disk` keeps alive until
        // after `del_gendisk`, which waits for every callback of the queue.
        unsafe { &*sys::omx_rq_driver_data(rq.cast()).cast::<T>() }
    }

    /// blk-mq's `queue_rq`: offers the request to [`BlkOps::queue_rq`].
    ///
    /// # Safety
    ///
    /// Called by blk-mq only, with valid queue data holding a request of this tag set.
    unsafe extern "C" fn queue_rq_callback(
        _hctx: *mut bindings::blk_mq_hw_ctx,
        bd: *const bindings::blk_mq_queue_data,
    ) -> bindings::blk_status_t {
        // SAFETY: blk-mq passes valid queue data with a request of our tag set.
        let rq = unsafe { sys::omx_bd_rq(bd) };
        let Some(ptr) = NonNull::new(rq) else {
            return Status::IOERR.0;
        };
        // SAFETY: as above.
        let driver = unsafe { Self::driver(rq) };
        // SAFETY: the request blk-mq offers to this call; the value lives in it only.
        match driver.queue_rq(unsafe { NewRequest::new(ptr) }) {
            Ok(()) => Status::OK.0,
            Err(_busy) => 9, // BLK_STS_RESOURCE: blk-mq re-runs the queue later
        }
    }

    /// blk-mq's `timeout`: asks [`BlkOps::timeout`] what to do.
    ///
    /// # Safety
    ///
    /// Called by blk-mq only, with a started request of this tag set.
    unsafe extern "C" fn timeout_callback(
        rq: *mut bindings::request,
    ) -> bindings::blk_eh_timer_return {
        // SAFETY: blk-mq passes a started request of our tag set.
        let (driver, req) = unsafe { (Self::driver(rq), Request::<T>::from_raw(rq)) };
        match driver.timeout(req) {
            TimeoutAction::Done => bindings::blk_eh_timer_return_BLK_EH_DONE,
            TimeoutAction::ResetTimer => bindings::blk_eh_timer_return_BLK_EH_RESET_TIMER,
        }
    }

    /// blk-mq's `complete`: ends the request with the status its owner stored.
    ///
    /// # Safety
    ///
    /// Called by blk-mq only, for a request of this tag set passed to `blk_mq_complete_request`.
    unsafe extern "C" fn complete_callback(rq: *mut bindings::request) {
        // SAFETY: a request of our tag set that was completed by `StartedRequest`.
        let status = unsafe { Request::<T>::from_raw(rq) }
            .pdu()
            .status
            .load(Ordering::Relaxed);
        // SAFETY: ending it is what `blk_mq_complete_request` asked us to do.
        unsafe { bindings::blk_mq_end_request(rq, status) };
    }

    /// blk-mq's `init_request`: initialises the request's [`Pdu`].
    ///
    /// # Safety
    ///
    /// Called by blk-mq only, once per request of this tag set, before the request is used.
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
            pdu.write(Pdu {
                status: AtomicU8::new(0),
                legs: AtomicU8::new(0),
                outcome: AtomicU8::new(0),
            });
        }
        0
    }

    /// blk-mq's `exit_request`: drops the request's [`Pdu`].
    ///
    /// # Safety
    ///
    /// Called by blk-mq only, once per request initialised by `init_request_callback`, after
    /// its last use.
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
