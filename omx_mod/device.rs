// SPDX-License-Identifier: GPL-2.0

//! A remote-memory block device `/dev/omxN`: fixed-size chunks striped round-robin over its
//! member nodes; each request (never crossing a chunk) goes to one node as TileLink messages.
//!
//! Contexts: `queue_rq` runs in atomic context (blk-mq, no BLK_MQ_F_BLOCKING); requests
//! complete from the node's receive path or timer (softirq), or fail when the node dies.

use crate::events::Events;
use crate::glue::blk::{BlkOps, Disk, DiskParams, NewRequest, Op, Request, Status, TimeoutAction};
use crate::io::IoEntry;
use crate::node::Node;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use kernel::time::Ktime;
use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::Arc;

/// Striping unit: a request never crosses a chunk, so it has exactly one node.
pub(crate) const CHUNK: u64 = 1 << 20;
/// Largest request.
const MAX_REQUEST: u32 = 256 * 1024;
/// Requests queued per device.
const QUEUE_DEPTH: u32 = 64;
/// Last resort for a request that never completes (the dead-node bound is far shorter).
const TIMEOUT_MS: u32 = 30_000;

/// Counters of a device (`dev-stats`).
#[derive(Default)]
pub(crate) struct DevStats {
    pub(crate) reads: AtomicU64,
    pub(crate) writes: AtomicU64,
    pub(crate) read_bytes: AtomicU64,
    pub(crate) write_bytes: AtomicU64,
    pub(crate) discards: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) in_flight: AtomicU64,
}

/// Error reports (dev-error-ntf) of a device are at most this frequent.
const ERROR_REPORT_NS: u64 = 1_000_000_000;

/// What a device's requests carry along to the node: counters and where errors go.
pub(crate) struct DevShared {
    pub(crate) stats: DevStats,
    name: CString,
    events: Arc<Events>,
    /// When the last dev-error-ntf went out (0: never).
    last_report_ns: AtomicU64,
}

impl DevShared {
    /// A request failed on member node `node_id` (any context): counted, and reported to
    /// listeners at most once a second.
    pub(crate) fn io_failed(&self, node_id: u32) {
        self.stats.errors.fetch_add(1, Relaxed);
        let now = u64::try_from(Ktime::ktime_get().to_ns()).unwrap_or(0);
        let last = self.last_report_ns.load(Relaxed);
        if last != 0 && now.saturating_sub(last) < ERROR_REPORT_NS {
            return;
        }
        if self.last_report_ns.compare_exchange(last, now.max(1), Relaxed, Relaxed).is_ok() {
            self.events.dev_error(&self.name, node_id);
        }
    }
}

/// A member node and the region of it this device owns.
pub(crate) struct Member {
    pub(crate) node: Arc<Node>,
    pub(crate) base: u64,
    pub(crate) len: u64,
    /// The node's epoch at placement: once it died, its chunks fail with EIO for good.
    pub(crate) epoch: u64,
}

/// What the queue callbacks need.
pub(crate) struct DevQueue {
    pub(crate) members: KVec<Member>,
    pub(crate) shared: Arc<DevShared>,
    pub(crate) capacity: u64,
}

/// Per-request data: which member the request went to (for the timeout).
#[derive(Default)]
pub(crate) struct RqData {
    member: AtomicU32,
}

/// Bytes of each member's region for a device of `size` bytes over `members` nodes.
pub(crate) fn per_node_len(size: u64, members: usize) -> Option<u64> {
    let chunks = size.div_ceil(CHUNK);
    let per_node = chunks.div_ceil(u64::try_from(members).ok().filter(|&m| m > 0)?);
    per_node.checked_mul(CHUNK)
}

impl DevQueue {
    /// Member index and node address of the disk byte `off`.
    fn place(&self, off: u64) -> Option<(usize, u64)> {
        let k = self.members.len() as u64;
        let chunk = off / CHUNK;
        let m = usize::try_from(chunk.checked_rem(k)?).ok()?;
        let local = (chunk / k).checked_mul(CHUNK)?.checked_add(off % CHUNK)?;
        let member = self.members.get(m)?;
        if local >= member.len {
            return None;
        }
        Some((m, member.base.checked_add(local)?))
    }

    fn finish_now(&self, rq: NewRequest<Self>, status: Status) {
        if status != Status::OK {
            self.shared.stats.errors.fetch_add(1, Relaxed);
        }
        rq.start().complete(status);
    }
}

impl BlkOps for DevQueue {
    type Pdu = RqData;

    fn queue_rq(&self, rq: NewRequest<Self>) -> Result<(), NewRequest<Self>> {
        let write = match rq.op() {
            Op::Read => false,
            Op::Write => true,
            // No volatile cache: a write completes once the node acknowledged it.
            Op::Flush => {
                self.finish_now(rq, Status::OK);
                return Ok(());
            }
            // Swap and mkswap may discard; the node's memory simply keeps the old bytes.
            Op::Discard => {
                self.shared.stats.discards.fetch_add(1, Relaxed);
                self.finish_now(rq, Status::OK);
                return Ok(());
            }
            Op::WriteZeroes | Op::Other => {
                self.finish_now(rq, Status::NOTSUPP);
                return Ok(());
            }
        };
        let (off, len) = (rq.offset(), rq.len());
        let end = off.checked_add(u64::from(len));
        let placed = self.place(off).filter(|_| {
            end.is_some_and(|e| e <= self.capacity) && off % CHUNK + u64::from(len) <= CHUNK && len % 4096 == 0
        });
        let Some((m, addr)) = placed else {
            self.finish_now(rq, Status::IOERR);
            return Ok(());
        };
        let Some(member) = self.members.get(m) else {
            self.finish_now(rq, Status::IOERR);
            return Ok(());
        };
        rq.data().member.store(m as u32, Relaxed);
        let (shared, node_id) = (&self.shared, member.node.id);
        let stats = &shared.stats;
        member.node.submit(rq, member.epoch, |started| {
            let (n, b) = if write { (&stats.writes, &stats.write_bytes) } else { (&stats.reads, &stats.read_bytes) };
            n.fetch_add(1, Relaxed);
            b.fetch_add(u64::from(len), Relaxed);
            stats.in_flight.fetch_add(1, Relaxed);
            IoEntry::new(started, shared.clone(), node_id, write, addr, len)
        })
    }

    fn timeout(&self, rq: &Request<Self>) -> TimeoutAction {
        let m = rq.data().member.load(Relaxed) as usize;
        if let Some(member) = self.members.get(m) {
            if member.node.cancel(rq.id()) {
                pr_warn!("request at {} timed out on node {}\n", rq.offset(), member.node.id);
            }
        }
        // Either failed just now or already completed by the receive path.
        TimeoutAction::Done
    }
}

/// A block device. Dropping it removes the disk (waiting for I/O in flight).
pub(crate) struct Device {
    pub(crate) name: CString,
    pub(crate) size: u64,
    disk: Disk<DevQueue>,
}

impl Device {
    /// Creates `/dev/<name>` of `size` bytes over `members`. Process context.
    pub(crate) fn new(name: CString, size: u64, members: KVec<Member>, events: Arc<Events>) -> Result<Self> {
        let shared = DevShared {
            stats: DevStats::default(),
            name: CString::try_from_fmt(kernel::fmt!("{}", name.to_str().map_err(|_| EINVAL)?))?,
            events,
            last_report_ns: AtomicU64::new(0),
        };
        let shared = Arc::new(shared, GFP_KERNEL)?;
        let queue = Arc::new(DevQueue { members, shared, capacity: size }, GFP_KERNEL)?;
        let params = DiskParams {
            name: name.to_str().map_err(|_| EINVAL)?,
            capacity: size,
            queue_depth: QUEUE_DEPTH,
            max_request: MAX_REQUEST,
            max_segments: 128,
            boundary: CHUNK as u32,
            timeout_ms: TIMEOUT_MS,
            discard: true,
        };
        let disk = Disk::new(&params, queue)?;
        Ok(Self { name, size, disk })
    }

    pub(crate) fn members(&self) -> &[Member] {
        &self.disk.data().members
    }

    pub(crate) fn stats(&self) -> &DevStats {
        &self.disk.data().shared.stats
    }

    /// Whether the disk is open (mounted, swapped on, or held by a process).
    pub(crate) fn is_open(&self) -> bool {
        self.disk.openers() > 0
    }
}
