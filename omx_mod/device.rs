// SPDX-License-Identifier: GPL-2.0

//! A remote-memory block device `/dev/omxN`: fixed-size chunks striped round-robin over its
//! member nodes, each chunk stored once or, mirrored, on two neighbouring members. A request
//! never crosses a chunk; a read goes to one copy (failing over to the other), a write to
//! every copy in service and completes when all of them acknowledged.
//!
//! Contexts: `queue_rq` runs in atomic context (blk-mq, no BLK_MQ_F_BLOCKING); requests
//! complete from the node's receive path or timer (softirq), or fail when the node dies.

use crate::glue::blk::{BlkOps, Disk, DiskParams, LegResult, NewRequest, Op, Request, Status, TimeoutAction};
use crate::io::{Expiry, IoEntry, IoKind, LegOwner};
use crate::node::{Node, NodeState, Reserve, Slot};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::time::Ktime;
use kernel::prelude::*;
use kernel::str::{CStr, CString};
use kernel::sync::Arc;

/// Striping unit: a request never crosses a chunk, so it has one node per copy.
pub(crate) const CHUNK: u64 = 1 << 20;
/// Largest request.
const MAX_REQUEST: u32 = 256 * 1024;
/// Requests queued per hardware queue.
const QUEUE_DEPTH: u32 = 64;
/// Last resort for a request that never completes (the dead-node bound is far shorter); a
/// request queued on a node that is alive gets a few more (`io::Expiry`).
const TIMEOUT_MS: u32 = 30_000;
/// Most copies of a chunk.
pub(crate) const MAX_REPLICAS: u32 = 2;
/// Most members of a device (one bit each in the out-of-service mask).
pub(crate) const MAX_MEMBERS: usize = 64;

/// Counters of a device (`dev-stats`).
#[derive(Default)]
pub(crate) struct DevStats {
    pub(crate) reads: AtomicU64,
    pub(crate) writes: AtomicU64,
    pub(crate) read_bytes: AtomicU64,
    pub(crate) write_bytes: AtomicU64,
    pub(crate) discards: AtomicU64,
    pub(crate) errors: AtomicU64,
    /// Legs (one per copy written or read) on their way to nodes.
    pub(crate) in_flight: AtomicU64,
    /// Reads retried on the other copy after the first failed.
    pub(crate) failovers: AtomicU64,
}

/// Who hears of a device's I/O errors and members leaving its mirror (the netlink events
/// layer above). Any context.
pub(crate) trait DevObserver: Send + Sync {
    fn dev_error(&self, name: &CStr, node_id: u32);
}

/// Error reports (dev-error-ntf) of a device are at most this frequent.
const ERROR_REPORT_NS: u64 = 1_000_000_000;

/// What a device's requests carry along to the node: counters, the mirror's state, and
/// where errors go.
pub(crate) struct DevShared {
    pub(crate) stats: DevStats,
    name: CString,
    observer: Arc<dyn DevObserver>,
    /// When the last dev-error-ntf went out (0: never).
    last_report_ns: AtomicU64,
    /// When the last line about a timed-out request was logged (0: never), and how many
    /// were not logged since.
    last_timeout_log_ns: AtomicU64,
    timeouts_unlogged: AtomicU64,
    /// Node id of each member, for reports.
    member_ids: KVec<u32>,
    replicas: u32,
    /// Members taken out of the mirror (bit per member index): their copies are stale.
    out_of_service: AtomicU64,
}

impl LegOwner for DevShared {
    fn leg_done(&self, member: usize, read: bool, ok: bool) -> LegResult {
        self.stats.in_flight.fetch_sub(1, Relaxed);
        if ok {
            return LegResult::Ok;
        }
        self.leg_failed(member, read)
    }
}

impl DevShared {
    /// A leg on member `m` failed (any context, possibly under that node's lock). Mirrored,
    /// the member leaves the mirror if its neighbours (the other copy of each of its chunks)
    /// are in service: a write then completes on the other copy, a read is retried there.
    /// Otherwise the I/O fails: counted, and reported at most once a second.
    fn leg_failed(&self, m: usize, read: bool) -> LegResult {
        if self.replicas > 1 && self.take_out(m) {
            if read {
                self.stats.failovers.fetch_add(1, Relaxed);
                return LegResult::Retry;
            }
            return LegResult::Failed;
        }
        self.stats.errors.fetch_add(1, Relaxed);
        let now = now_ns();
        let last = self.last_report_ns.load(Relaxed);
        if last != 0 && now.saturating_sub(last) < ERROR_REPORT_NS {
            return LegResult::Failed;
        }
        if self.last_report_ns.compare_exchange(last, now.max(1), Relaxed, Relaxed).is_ok() {
            self.observer.dev_error(&self.name, self.member_id(m));
        }
        LegResult::Failed
    }

    /// Logs a request that timed out on node `node_id`, at most one line a second per
    /// device: a dead node fails many requests at once, and each would be a line.
    fn log_timeout(&self, offset: u64, node_id: u32) {
        let now = now_ns();
        let last = self.last_timeout_log_ns.load(Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= ERROR_REPORT_NS;
        if !due || self.last_timeout_log_ns.compare_exchange(last, now.max(1), Relaxed, Relaxed).is_err() {
            self.timeouts_unlogged.fetch_add(1, Relaxed);
            return;
        }
        let unlogged = self.timeouts_unlogged.swap(0, Relaxed);
        if unlogged == 0 {
            pr_warn!("{}: request at {} timed out on node {}\n", &*self.name, offset, node_id);
        } else {
            pr_warn!("{}: request at {} timed out on node {} ({} more not logged)\n", &*self.name, offset, node_id, unlogged);
        }
    }

    fn member_id(&self, m: usize) -> u32 {
        self.member_ids.get(m).copied().unwrap_or(0)
    }

    /// Whether member `m` still holds valid copies.
    fn in_service(&self, m: usize) -> bool {
        self.out_of_service.load(Relaxed) & bit(m) == 0
    }

    /// Takes member `m` out of the mirror unless that would leave a chunk with no copy in
    /// service; returns whether `m` is out now. Lock-free: concurrent failures of two
    /// neighbours serialise on the mask, so one of them always stays in.
    fn take_out(&self, m: usize) -> bool {
        let k = self.member_ids.len();
        if k < 2 || m >= k {
            return false;
        }
        let neighbours = bit((m + 1) % k) | bit((m + k - 1) % k);
        let taken = self.out_of_service.fetch_update(Relaxed, Relaxed, |mask| (mask & neighbours == 0).then_some(mask | bit(m)));
        match taken {
            Ok(before) if before & bit(m) == 0 => {
                pr_warn!("{}: node {} left the mirror; its copies are no longer used\n", &*self.name, self.member_id(m));
                self.observer.dev_error(&self.name, self.member_id(m));
                true
            }
            Ok(_) => true,
            Err(_) => false,
        }
    }
}

fn now_ns() -> u64 {
    u64::try_from(Ktime::ktime_get().to_ns()).unwrap_or(0)
}

fn bit(m: usize) -> u64 {
    1u64.checked_shl(m as u32).unwrap_or(0)
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

/// Bytes of each member's region for a device of `size` bytes over `members` nodes with
/// `replicas` copies of each chunk.
pub(crate) fn per_node_len(size: u64, members: usize, replicas: u32) -> Option<u64> {
    let chunks = size.div_ceil(CHUNK);
    let per_node = chunks.div_ceil(u64::try_from(members).ok().filter(|&m| m > 0)?);
    per_node.checked_mul(u64::from(replicas))?.checked_mul(CHUNK)
}

/// Where one copy of a request goes.
struct Target {
    member: usize,
    addr: u64,
}

impl DevQueue {
    /// Member index and node address of copy `r` of the disk byte `off`: copy `r` of chunk
    /// `c` lives on member `(c + r) % k`, in slot `(c / k) * replicas + r` of its region.
    fn place(&self, off: u64, r: u32) -> Option<Target> {
        let k = self.members.len() as u64;
        let chunk = off / CHUNK;
        let member = usize::try_from(chunk.checked_add(u64::from(r))?.checked_rem(k)?).ok()?;
        let slot = (chunk / k).checked_mul(u64::from(self.shared.replicas))?.checked_add(u64::from(r))?;
        let local = slot.checked_mul(CHUNK)?.checked_add(off % CHUNK)?;
        let m = self.members.get(member)?;
        if local >= m.len {
            return None;
        }
        Some(Target { member, addr: m.base.checked_add(local)? })
    }

    /// Whether copy `r` of the disk byte `off` is in service on a node that is up.
    fn serving(&self, off: u64, r: u32) -> bool {
        self.place(off, r).is_some_and(|t| {
            self.shared.in_service(t.member) && self.members.get(t.member).is_some_and(|m| m.node.state() == NodeState::Up)
        })
    }

    fn finish_now(&self, rq: NewRequest<Self>, status: Status) {
        if status != Status::OK {
            self.shared.stats.errors.fetch_add(1, Relaxed);
        }
        rq.start().complete(status);
    }

    /// Reserves room on the nodes a request goes to: a read's first copy in service, a
    /// write's every copy in service. A copy on a node found dead leaves the mirror if
    /// another copy remains. `Err(true)`: some node is busy; `Err(false)`: no copy usable.
    fn reserve<'a>(&'a self, off: u64, kind: IoKind) -> Result<Copies<'a>, bool> {
        let mut out = Copies::default();
        // A read prefers a copy whose node is up to one waiting for its node to reconnect.
        let second_first = kind == IoKind::Read && self.shared.replicas == 2 && !self.serving(off, 0) && self.serving(off, 1);
        let order = if second_first { [1, 0] } else { [0, 1] };
        for r in order.into_iter().take(self.shared.replicas as usize) {
            let Some(t) = self.place(off, r) else { return Err(false) };
            if !self.shared.in_service(t.member) {
                continue;
            }
            let Some(member) = self.members.get(t.member) else { return Err(false) };
            match member.node.reserve(member.epoch) {
                Reserve::Slot(slot) => out.push(t, slot),
                Reserve::Busy => return Err(true),
                Reserve::Dead => {
                    if !(self.shared.replicas > 1 && self.shared.take_out(t.member)) {
                        return Err(false);
                    }
                }
            }
            if kind == IoKind::Read && out.len > 0 {
                break;
            }
        }
        if out.len == 0 {
            return Err(false);
        }
        Ok(out)
    }
}

/// The (at most [`MAX_REPLICAS`]) copies a request was given room for.
#[derive(Default)]
struct Copies<'a> {
    copies: [Option<(Target, Slot<'a>)>; MAX_REPLICAS as usize],
    len: usize,
}

impl<'a> Copies<'a> {
    fn push(&mut self, t: Target, slot: Slot<'a>) {
        if let Some(c) = self.copies.get_mut(self.len) {
            *c = Some((t, slot));
            self.len += 1;
        }
    }
}

impl BlkOps for DevQueue {
    fn queue_rq(&self, rq: NewRequest<Self>) -> Result<(), NewRequest<Self>> {
        let kind = match rq.op() {
            Op::Read => IoKind::Read,
            Op::Write => IoKind::Write,
            Op::WriteZeroes => IoKind::Zeroes,
            // No volatile cache: a write completes once the nodes acknowledged it.
            Op::Flush => {
                self.finish_now(rq, Status::OK);
                return Ok(());
            }
            // Swap and mkswap discard; the range is simply reused by later writes.
            Op::Discard => {
                self.shared.stats.discards.fetch_add(1, Relaxed);
                self.finish_now(rq, Status::OK);
                return Ok(());
            }
            Op::Other => {
                self.finish_now(rq, Status::NOTSUPP);
                return Ok(());
            }
        };
        let (off, len) = (rq.offset(), rq.len());
        let fits = off.checked_add(u64::from(len)).is_some_and(|e| e <= self.capacity)
            && off % CHUNK + u64::from(len) <= CHUNK
            && len % 4096 == 0;
        if !fits {
            self.finish_now(rq, Status::IOERR);
            return Ok(());
        }
        let copies = match self.reserve(off, kind) {
            Ok(copies) => copies,
            Err(true) => return Err(rq),
            Err(false) => {
                self.finish_now(rq, Status::IOERR);
                return Ok(());
            }
        };
        let stats = &self.shared.stats;
        let (n, b) = if kind == IoKind::Read { (&stats.reads, &stats.read_bytes) } else { (&stats.writes, &stats.write_bytes) };
        n.fetch_add(1, Relaxed);
        b.fetch_add(u64::from(len), Relaxed);
        stats.in_flight.fetch_add(copies.len as u64, Relaxed);
        let mut legs = rq.start().split(copies.len as u8);
        for (t, slot) in copies.copies.into_iter().flatten() {
            let Some(leg) = legs.next() else { break };
            slot.submit(IoEntry::new(leg, self.shared.clone(), t.member, kind, t.addr, len));
        }
        Ok(())
    }

    fn timeout(&self, rq: &Request<Self>) -> TimeoutAction {
        // Every node a leg of it may be on.
        let mut waiting = false;
        for member in self.members.iter() {
            match member.node.expire(rq.id()) {
                Expiry::NotHere => {}
                Expiry::Extended => waiting = true,
                Expiry::Cancelled => self.shared.log_timeout(rq.offset(), member.node.id),
            }
        }
        if waiting {
            return TimeoutAction::ResetTimer;
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
    pub(crate) fn new(name: CString, size: u64, members: KVec<Member>, replicas: u32, observer: Arc<dyn DevObserver>) -> Result<Self> {
        if members.is_empty() || members.len() > MAX_MEMBERS || !(1..=MAX_REPLICAS).contains(&replicas) {
            return Err(EINVAL);
        }
        let mut member_ids = KVec::with_capacity(members.len(), GFP_KERNEL)?;
        for m in members.iter() {
            member_ids.push(m.node.id, GFP_KERNEL)?;
        }
        let shared = DevShared {
            stats: DevStats::default(),
            name: CString::try_from_fmt(kernel::fmt!("{}", name.to_str().map_err(|_| EINVAL)?))?,
            observer,
            last_report_ns: AtomicU64::new(0),
            last_timeout_log_ns: AtomicU64::new(0),
            timeouts_unlogged: AtomicU64::new(0),
            member_ids,
            replicas,
            out_of_service: AtomicU64::new(0),
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
            write_zeroes: true,
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

    pub(crate) fn replicas(&self) -> u32 {
        self.disk.data().shared.replicas
    }

    /// Members whose copies left the mirror.
    pub(crate) fn out_of_service(&self) -> impl Iterator<Item = &Member> {
        let shared = &self.disk.data().shared;
        self.members().iter().enumerate().filter(|(i, _)| !shared.in_service(*i)).map(|(_, m)| m)
    }

    /// Whether the disk is open (mounted, swapped on, or held by a process).
    pub(crate) fn is_open(&self) -> bool {
        self.disk.openers() > 0
    }
}
