// SPDX-License-Identifier: GPL-2.0

//! A remote-memory block device `/dev/omxN`: fixed-size chunks striped round-robin over its
//! member nodes, each chunk stored once or, mirrored, on two neighbouring members. A request
//! never crosses a chunk; a read goes to one copy (failing over to the other), a write to
//! every copy in service and completes when all of them acknowledged.
//!
//! This file places requests and drives the disk; [`mirror`] holds what the requests carry
//! to the nodes (counters, mirror membership, the failure policy).
//!
//! Contexts: `queue_rq` runs in atomic context (blk-mq, no BLK_MQ_F_BLOCKING); requests
//! complete from the node's receive path or timer (softirq), or fail when the node dies.

pub(crate) mod ahead;
pub(crate) mod mirror;

use crate::device::ahead::Ahead;
use crate::device::mirror::{DevObserver, DevShared, DevStats};
use crate::glue::blk::{BlkOps, Disk, DiskParams, NewRequest, Op, Request, Status, TimeoutAction};
use crate::io::{Expiry, IoEntry, IoKind};
use crate::node::{Node, NodeState, Reserve, Slot};
use crate::omx_logic::placement::{copy_order, Stripe};
use crate::omx_logic::readahead::Fetches;
use core::sync::atomic::Ordering::Relaxed;
use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::Arc;

// Where copies live (the striping unit CHUNK: a request never crosses a chunk, so it has
// one node per copy), MAX_REPLICAS copies of a chunk, MAX_MEMBERS members of a device.
pub(crate) use crate::omx_logic::placement::{per_node_len, CHUNK, MAX_MEMBERS, MAX_REPLICAS};
/// Largest request.
const MAX_REQUEST: u32 = 256 * 1024;
/// Requests queued per hardware queue.
const QUEUE_DEPTH: u32 = 64;
/// Last resort for a request that never completes (the dead-node bound is far shorter); a
/// request queued on a node that is alive gets a few more (`io::Expiry`).
const TIMEOUT_MS: u32 = 30_000;

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
    ahead: Arc<Ahead>,
}

/// Where one copy of a request goes.
struct Target {
    member: usize,
    addr: u64,
}

impl DevQueue {
    /// Member index and node address of copy `r` of the disk byte `off`
    /// (`omx_logic::placement`).
    fn place(&self, off: u64, r: u32) -> Option<Target> {
        let p = Stripe {
            members: self.members.len(),
            replicas: self.shared.replicas,
        }
        .place(off, r)?;
        let m = self.members.get(p.member)?;
        Some(Target {
            member: p.member,
            addr: p.addr(m.base, m.len)?,
        })
    }

    /// Whether copy `r` of the disk byte `off` is in service on a node that is up.
    fn serving(&self, off: u64, r: u32) -> bool {
        self.place(off, r).is_some_and(|t| {
            self.shared.in_service(t.member)
                && self
                    .members
                    .get(t.member)
                    .is_some_and(|m| m.node.state() == NodeState::Up)
        })
    }

    /// Whether every copy in service of the disk byte `off` is on a node that still holds
    /// what was placed there (not dead, contents not lost): else data read ahead from it
    /// must not be used.
    fn copies_current(&self, off: u64) -> bool {
        (0..self.shared.replicas).all(|r| {
            self.place(off, r).is_none_or(|t| {
                !self.shared.in_service(t.member)
                    || self
                        .members
                        .get(t.member)
                        .is_some_and(|m| m.node.holds_epoch(m.epoch))
            })
        })
    }

    /// Sends the read-ahead's fetches, each to the first copy in service of its block;
    /// one that cannot go now is dropped.
    fn fetch_ahead(&self, fetches: &Fetches) {
        for f in fetches.iter() {
            let Ok(copies) = self.reserve(f.off, IoKind::Read) else {
                self.ahead.cancel(f.tag);
                continue;
            };
            let Some((t, slot)) = copies.copies.into_iter().flatten().next() else {
                self.ahead.cancel(f.tag);
                continue;
            };
            self.shared.stats.readahead_fetches.fetch_add(1, Relaxed);
            slot.submit(IoEntry::fetch(
                self.ahead.clone(),
                f.tag,
                self.shared.clone(),
                t.member,
                t.addr,
                f.len,
            ));
        }
    }

    fn finish_now(&self, rq: NewRequest<Self>, status: Status) {
        if status != Status::OK {
            self.shared.stats.errors.fetch_add(1, Relaxed);
        }
        rq.start().complete(status);
    }

    /// Reserves room on the nodes a request goes to: a read's first copy in service, a
    /// write's every copy in service. A copy on a node found dead leaves the mirror if
    /// another copy remains.
    fn reserve<'a>(&'a self, off: u64, kind: IoKind) -> Result<Copies<'a>, Refused> {
        let mut out = Copies::default();
        // A read prefers a copy whose node is up to one waiting for its node to reconnect.
        let order = copy_order(kind == IoKind::Read, self.shared.replicas, |r| {
            self.serving(off, r)
        });
        for r in order.into_iter().take(self.shared.replicas as usize) {
            let Some(t) = self.place(off, r) else {
                return Err(Refused::Unusable(None));
            };
            if !self.shared.in_service(t.member) {
                continue;
            }
            let Some(member) = self.members.get(t.member) else {
                return Err(Refused::Unusable(None));
            };
            match member.node.reserve(member.epoch) {
                Reserve::Slot(slot) => out.push(t, slot),
                Reserve::Busy => return Err(Refused::Busy),
                Reserve::Dead => {
                    if !(self.shared.replicas > 1 && self.shared.take_out(t.member)) {
                        return Err(Refused::Unusable(Some(t.member)));
                    }
                }
            }
            if kind == IoKind::Read && out.len > 0 {
                break;
            }
        }
        if out.len == 0 {
            return Err(Refused::Unusable(None));
        }
        Ok(out)
    }
}

/// Why a request got no room.
enum Refused {
    /// Some node it goes to is busy: offered again later.
    Busy,
    /// No copy of it is usable (on the dead node of that member, when known): it fails.
    Unusable(Option<usize>),
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
            // Swap (with --discard) and mkswap discard: the nodes give the memory back.
            Op::Discard => IoKind::Discard,
            Op::Other => {
                self.finish_now(rq, Status::NOTSUPP);
                return Ok(());
            }
        };
        let (off, mut len) = (rq.offset(), rq.len());
        if kind == IoKind::Discard {
            // The block layer merges discards across chunks (it ignores `chunk_sectors` for
            // them): only the part in the first chunk is released. A discard is advice, so
            // the request still succeeds whole.
            let to_boundary = CHUNK - off % CHUNK;
            len = u32::try_from(u64::from(len).min(to_boundary)).unwrap_or(len);
        }
        let fits = off
            .checked_add(u64::from(len))
            .is_some_and(|e| e <= self.capacity)
            && off % CHUNK + u64::from(len) <= CHUNK
            && len % 4096 == 0;
        if !fits {
            self.finish_now(rq, Status::IOERR);
            return Ok(());
        }
        let stats = &self.shared.stats;
        let mut fetches = Fetches::default();
        let rq = if kind == IoKind::Read {
            if !self.copies_current(off) {
                self.ahead.invalidate(off, len);
            }
            let idle = stats.in_flight.load(Relaxed) == 0;
            let (rq, ahead) = self.ahead.read(rq, idle);
            fetches = ahead;
            let Some(rq) = rq else {
                // Answered from the read-ahead buffer, or waiting there.
                stats.reads.fetch_add(1, Relaxed);
                stats.read_bytes.fetch_add(u64::from(len), Relaxed);
                self.fetch_ahead(&fetches);
                return Ok(());
            };
            rq
        } else {
            // Before it is sent: a fetch sent after it reads what it wrote (the node
            // answers in order), one sent before is dropped when it lands.
            self.ahead.invalidate(off, len);
            rq
        };
        let copies = match self.reserve(off, kind) {
            Ok(copies) => copies,
            Err(Refused::Busy) => {
                self.fetch_ahead(&fetches);
                return Err(rq);
            }
            Err(Refused::Unusable(member)) => {
                // Counted, and reported as a failure on that node (a read that waited for
                // the read-ahead's fetch from a node that died ends here).
                match member {
                    Some(m) => self.shared.count_failure(m),
                    None => {
                        self.shared.stats.errors.fetch_add(1, Relaxed);
                    }
                }
                rq.start().complete(Status::IOERR);
                self.fetch_ahead(&fetches);
                return Ok(());
            }
        };
        match kind {
            IoKind::Read => {
                stats.reads.fetch_add(1, Relaxed);
                stats.read_bytes.fetch_add(u64::from(len), Relaxed);
            }
            IoKind::Discard => {
                stats.discards.fetch_add(1, Relaxed);
            }
            IoKind::Write | IoKind::Zeroes => {
                stats.writes.fetch_add(1, Relaxed);
                stats.write_bytes.fetch_add(u64::from(len), Relaxed);
            }
        }
        stats.in_flight.fetch_add(copies.len as u64, Relaxed);
        let mut legs = rq.start().split(copies.len as u8);
        for (t, slot) in copies.copies.into_iter().flatten() {
            let Some(leg) = legs.next() else { break };
            slot.submit(IoEntry::new(
                leg,
                self.shared.clone(),
                t.member,
                kind,
                t.addr,
                len,
            ));
        }
        // After the read the reader waits for.
        self.fetch_ahead(&fetches);
        Ok(())
    }

    fn timeout(&self, rq: &Request<Self>) -> TimeoutAction {
        if self.ahead.expire(rq.id()) {
            return TimeoutAction::Done;
        }
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
    pub(crate) fn new(
        name: CString,
        size: u64,
        members: KVec<Member>,
        replicas: u32,
        observer: Arc<dyn DevObserver>,
    ) -> Result<Self> {
        if members.is_empty()
            || members.len() > MAX_MEMBERS
            || !(1..=MAX_REPLICAS).contains(&replicas)
        {
            return Err(EINVAL);
        }
        let mut member_ids = KVec::with_capacity(members.len(), GFP_KERNEL)?;
        for m in members.iter() {
            member_ids.push(m.node.id, GFP_KERNEL)?;
        }
        let own_name =
            CString::try_from_fmt(kernel::fmt!("{}", name.to_str().map_err(|_| EINVAL)?))?;
        let shared = DevShared::new(own_name, member_ids, replicas, observer);
        let shared = Arc::new(shared, GFP_KERNEL)?;
        let ahead = Ahead::new(size, shared.clone())?;
        let queue = Arc::new(
            DevQueue {
                members,
                shared,
                capacity: size,
                ahead,
            },
            GFP_KERNEL,
        )?;
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
        self.members()
            .iter()
            .enumerate()
            .filter(|(i, _)| !shared.in_service(*i))
            .map(|(_, m)| m)
    }

    /// Whether the disk is open (mounted, swapped on, or held by a process).
    pub(crate) fn is_open(&self) -> bool {
        self.disk.openers() > 0
    }

    /// Discards the whole device, so its nodes give its memory back (`dev del`): waits for
    /// every node's answer, or for the failure of those that cannot answer. Process context.
    pub(crate) fn release_memory(&self) -> Result {
        self.disk.discard(self.size)
    }
}
