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

pub(crate) mod mirror;

use crate::device::mirror::{DevObserver, DevShared, DevStats};
use crate::glue::blk::{BlkOps, Disk, DiskParams, NewRequest, Op, Request, Status, TimeoutAction};
use crate::io::{Expiry, IoEntry, IoKind};
use crate::node::{Node, NodeState, Reserve, Slot};
use crate::omx_logic::placement::{copy_order, Stripe};
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
        let order = copy_order(kind == IoKind::Read, self.shared.replicas, |r| {
            self.serving(off, r)
        });
        for r in order.into_iter().take(self.shared.replicas as usize) {
            let Some(t) = self.place(off, r) else {
                return Err(false);
            };
            if !self.shared.in_service(t.member) {
                continue;
            }
            let Some(member) = self.members.get(t.member) else {
                return Err(false);
            };
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
        let copies = match self.reserve(off, kind) {
            Ok(copies) => copies,
            Err(true) => return Err(rq),
            Err(false) => {
                self.finish_now(rq, Status::IOERR);
                return Ok(());
            }
        };
        let stats = &self.shared.stats;
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
        let queue = Arc::new(
            DevQueue {
                members,
                shared,
                capacity: size,
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
