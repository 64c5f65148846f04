// SPDX-License-Identifier: GPL-2.0

//! A remote-memory block device `/dev/omxN`: fixed-size chunks striped round-robin over its
//! member nodes, each chunk stored once or, mirrored, on two neighbouring members. A request
//! never crosses a chunk; a read goes to one copy (failing over to the other), a write to
//! every copy in service and completes when all of them acknowledged.
//!
//! This file drives the disk; [`copies`] places requests on the members and reserves room
//! for them, [`mirror`] holds what the requests carry to the nodes (counters, mirror
//! membership, the failure policy), [`ahead`] the read-ahead buffer.
//!
//! Contexts: `queue_rq` runs in atomic context (blk-mq, no BLK_MQ_F_BLOCKING); requests
//! complete from the node's receive path or timer (softirq), or fail when the node dies.

pub(crate) mod ahead;
mod copies;
pub(crate) mod mirror;

use crate::device::ahead::Ahead;
pub(crate) use crate::device::copies::Member;
use crate::device::copies::{Layout, Refused};
use crate::device::mirror::{DevObserver, DevShared, DevStats};
use crate::glue::blk::{BlkOps, Disk, DiskParams, NewRequest, Op, Request, Status, TimeoutAction};
use crate::io::{Expiry, IoEntry, IoKind};
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

/// What the queue callbacks need.
pub(crate) struct DevQueue {
    pub(crate) members: KVec<Member>,
    pub(crate) shared: Arc<DevShared>,
    pub(crate) capacity: u64,
    ahead: Arc<Ahead>,
}

impl DevQueue {
    fn layout(&self) -> Layout<'_> {
        Layout {
            members: &self.members,
            shared: &self.shared,
        }
    }

    /// Sends the read-ahead's fetches, each to the first copy in service of its block;
    /// one that cannot go now is dropped.
    fn fetch_ahead(&self, fetches: &Fetches) {
        for f in fetches.iter() {
            let Ok(copies) = self.layout().reserve(f.off, IoKind::Read) else {
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
}

impl BlkOps for DevQueue {
    fn queue_rq(&self, mut rq: NewRequest<Self>) -> Result<(), NewRequest<Self>> {
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
        let stats = &self.shared.stats;
        let (off, mut len) = (rq.offset(), rq.len());
        // Counted once, when first offered, whole and whatever becomes of it (as the block
        // layer counts): one requeued (a read sent again to the other copy, or no longer
        // waiting for a fetch) or handed back busy comes here again.
        if rq.first_offer() {
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
        }
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
        let mut fetches = Fetches::default();
        // A write drops the read-ahead's copies of what it overwrites when it is queued,
        // below.
        let rq = if kind == IoKind::Read {
            if !self.layout().copies_current(off) {
                self.ahead.invalidate(off, len);
            }
            let idle = self.shared.reads_in_flight.load(Relaxed) == 0;
            let (rq, ahead) = self.ahead.read(rq, idle);
            fetches = ahead;
            let Some(rq) = rq else {
                // Answered from the read-ahead buffer, or waiting there for a fetch.
                self.fetch_ahead(&fetches);
                return Ok(());
            };
            rq
        } else {
            rq
        };
        let copies = match self.layout().reserve(off, kind) {
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
        stats.in_flight.fetch_add(copies.len as u64, Relaxed);
        if kind == IoKind::Read {
            self.shared
                .reads_in_flight
                .fetch_add(copies.len as u64, Relaxed);
        }
        let mut legs = rq.start().split(copies.len as u8);
        for (t, slot) in copies.copies.into_iter().flatten() {
            let Some(leg) = legs.next() else { break };
            let entry = IoEntry::new(leg, self.shared.clone(), t.member, kind, t.addr, len);
            slot.submit_then(entry, || {
                // A write drops the read-ahead's blocks it overlaps once it is queued on
                // each node holding a copy, under that node's lock: a fetch planned after
                // the last drop is sent after it on whichever node it goes to (a node
                // sends its requests in order) and reads what it wrote; one planned before
                // is not taken when it lands.
                if kind != IoKind::Read {
                    self.ahead.invalidate(off, len);
                }
            });
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
