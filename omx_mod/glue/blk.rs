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
//!
//! Files: [`request`] (a request's data and its one owner), [`leg`] (split requests),
//! [`disk`] (the disk, its tag set and blk-mq's callbacks).

mod disk;
mod leg;
mod request;

pub(crate) use disk::{Disk, DiskParams};
pub(crate) use leg::{Leg, LegResult};
pub(crate) use request::{NewRequest, Request};

use core::sync::atomic::AtomicU8;
use kernel::error::Result;

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

/// Glue-owned prefix of every request's PDU, initialised by the tag set's `init_request`.
struct Pdu {
    status: AtomicU8,
    /// Legs of a split request not completed yet.
    legs: AtomicU8,
    /// What the completed legs reported: `LEG_OK` / `LEG_RETRY` bits.
    outcome: AtomicU8,
}

const LEG_OK: u8 = 1;
const LEG_RETRY: u8 = 2;
