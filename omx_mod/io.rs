// SPDX-License-Identifier: GPL-2.0

//! Block I/O in flight on one node: requests split into TileLink messages, source ids
//! mapping responses back to (request, offset), all in tables preallocated when the node is
//! added, so the I/O path never allocates. Used under the node's link lock (softirq-safe).

use crate::omx_logic::expiry::on_timeout;
use crate::omx_logic::latency::Histogram;
use crate::omx_logic::slots::SlotSet;
use crate::omx_logic::sources::{
    piece_size, source_count, Answer, Source, SourceSlot, SourceTable,
};
use crate::omx_proto::tilelink::{INTENT_RELEASE, MAX_SIZE};
use crate::omx_proto::{self as proto, ByteOrder, Message, Opcode};
use kernel::prelude::*;

/// Requests in flight per node (all devices together); beyond it queue_rq reports busy.
pub(crate) const MAX_REQUESTS: usize = 128;
/// Largest message (8 KiB: two pages, at MTU 9000).
const MAX_MSG: u32 = crate::omx_proto::message_size::MAX_MESSAGE;
/// Largest release: an Intent carries no data, so TileLink's largest size whatever the MTU.
const MAX_RELEASE: u32 = 1 << MAX_SIZE;
/// What a block-layer timeout did to a request here (a request on a node that is alive
/// gets a few more timeouts, `omx_logic::expiry`).
pub(crate) use crate::omx_logic::expiry::Expiry;

mod entry;
pub(crate) use entry::{BufferSink, IoEntry, IoKind, LegOwner};

/// What `pump` needs from the connection.
pub(crate) trait Sender {
    /// Sends a message; `Err(true)` when out of credit or window (retry later),
    /// `Err(false)` when it can never be sent.
    fn send(&mut self, msg: &Message<'_>) -> Result<(), bool>;
    /// Sends a PutFullData of `2^size` bytes whose data `fill` writes into the frame
    /// (`omx_proto::Connection::send_put_full_with`); errors as for `send`.
    fn send_put_full_with(
        &mut self,
        source: u32,
        addr: u64,
        size: u8,
        fill: impl FnOnce(&mut [u8], ByteOrder) -> bool,
    ) -> Result<(), bool>;
}

pub(crate) struct IoState {
    entries: KVec<Option<IoEntry>>,
    /// Entries in use, and how many are promised to submitters that reserved one.
    used: SlotSet,
    reserved: usize,
    /// The messages in flight, by source id (`omx_logic::sources`; id 0 is the keepalive's).
    sources: SourceTable<KVec<SourceSlot>>,
    msg_size: u32,
    next_seq: u64,
    /// Entries that may have data left to send: each is added when its request is submitted
    /// or rewound (the only ways an entry gets data to send) and removed once `pump` finds it
    /// has none, so `pump`, called for every received frame, looks at these only.
    unsent: SlotSet,
    /// Responses matching no message in flight (reported in the node's `malformed`).
    pub(crate) stray: u64,
    /// Responses matched to a message in flight: whether the node works through its queue
    /// (`omx_logic::expiry`).
    answered: u64,
    /// How long the requests completed here took.
    pub(crate) latency: Latency,
}

/// How long the requests completed on a node took, from entering its table to their last
/// answer, by direction (`omx_logic::latency`; netlink's `read-latency`/`write-latency`).
#[derive(Clone, Copy, Default)]
pub(crate) struct Latency {
    /// Reads (page-in).
    pub(crate) read: Histogram,
    /// Writes and writes of zeroes (page-out); discards are not timed.
    pub(crate) write: Histogram,
}

impl Latency {
    fn record(&mut self, kind: IoKind, elapsed_ns: u64) {
        match kind {
            IoKind::Read => self.read.record(elapsed_ns),
            IoKind::Write | IoKind::Zeroes => self.write.record(elapsed_ns),
            IoKind::Discard => {}
        }
    }
}

impl IoState {
    /// Tables for a node whose messages carry up to `msg_size` bytes
    /// (`omx_proto::message_size_for_mtu`, at most `MAX_MSG`) and whose transmit window holds
    /// `window` frames.
    pub(crate) fn new(msg_size: u32, window: usize) -> Result<Self> {
        let mut entries = KVec::with_capacity(MAX_REQUESTS, GFP_KERNEL)?;
        for _ in 0..MAX_REQUESTS {
            entries.push(None, GFP_KERNEL)?;
        }
        // As many messages in flight as the node's transmit window holds answers (one per
        // frame: at MTU 9000, 932 frames hold fewer than `WINDOW_BYTES` of 8 KiB answers).
        let n = source_count(proto::congestion::WINDOW_BYTES, msg_size).min(window);
        let slots = KVec::from_elem(SourceSlot::default(), n, GFP_KERNEL)?;
        let sources = SourceTable::new(slots).ok_or(EINVAL)?;
        Ok(Self {
            entries,
            used: SlotSet::new(),
            reserved: 0,
            sources,
            msg_size: msg_size.min(MAX_MSG),
            next_seq: 0,
            unsent: SlotSet::new(),
            stray: 0,
            answered: 0,
            latency: Latency::default(),
        })
    }

    /// Promises an entry to a submitter; false when none is left.
    pub(crate) fn reserve(&mut self) -> bool {
        if self.used.len() + self.reserved >= MAX_REQUESTS {
            return false;
        }
        self.reserved += 1;
        true
    }

    /// Takes back a promise that will not be used.
    pub(crate) fn unreserve(&mut self) {
        self.reserved = self.reserved.saturating_sub(1);
    }

    /// Adds a request into the entry [`IoState::reserve`] promised, at time `now` (ns).
    pub(crate) fn submit(&mut self, mut e: IoEntry, now: u64) {
        self.unreserve();
        e.started = now;
        e.seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        e.answered_mark = self.answered;
        let free = self.used.first_absent(self.entries.len());
        match free.and_then(|i| Some((i, self.entries.get_mut(i)?))) {
            Some((i, slot)) => {
                *slot = Some(e);
                self.used.insert(i);
                self.unsent.insert(i);
            }
            // Cannot happen with a reservation; never lose the request though.
            None => e.finish(false),
        }
    }

    /// Empties entry `idx` and returns what it held.
    fn take(&mut self, idx: usize) -> Option<IoEntry> {
        let e = self.entries.get_mut(idx)?.take()?;
        self.used.remove(idx);
        self.unsent.remove(idx);
        Some(e)
    }

    /// The oldest request with data left to send; entries found to have none leave `unsent`.
    fn next_pending(&mut self) -> Option<usize> {
        let mut oldest: Option<(usize, u64)> = None;
        for i in self.unsent.iter() {
            match self.entries.get(i) {
                Some(Some(e)) if e.has_data_to_send() => {
                    if oldest.is_none_or(|(_, seq)| e.seq < seq) {
                        oldest = Some((i, e.seq));
                    }
                }
                _ => self.unsent.remove(i),
            }
        }
        oldest.map(|(i, _)| i)
    }

    /// Whether request `idx` has data left to send.
    fn is_pending(&self, idx: usize) -> bool {
        matches!(self.entries.get(idx), Some(Some(e)) if e.has_data_to_send())
    }

    /// Sends as many messages as credits, window and source ids allow, at time `now` (ns).
    pub(crate) fn pump(&mut self, conn: &mut impl Sender, now: u64) {
        if self.unsent.is_empty() {
            return;
        }
        let mut current = None;
        // The oldest request with data left stays the oldest until it is all sent (newer
        // ones are younger), so the table is searched once per request, not once a message.
        while let Some(idx) = current
            .filter(|&i| self.is_pending(i))
            .or_else(|| self.next_pending())
        {
            current = Some(idx);
            let Some(ticket) = self.sources.next() else {
                return;
            };
            let Some(Some(e)) = self.entries.get_mut(idx) else {
                return;
            };
            // Aligned to its size; the copies below gather it from (or scatter it into)
            // however many bio segments it spans.
            let addr = e.addr.saturating_add(e.issued as u64);
            let max = match e.kind {
                IoKind::Discard => MAX_RELEASE,
                _ => self.msg_size,
            };
            let piece = piece_size(max, addr, e.len.saturating_sub(e.issued));
            let source = ticket.id();
            let sent = match e.kind {
                IoKind::Read => {
                    conn.send(&Message::get(source, addr, piece.trailing_zeros() as u8))
                }
                IoKind::Discard => conn.send(&Message::intent(
                    source,
                    addr,
                    piece.trailing_zeros() as u8,
                    INTENT_RELEASE,
                )),
                // The data goes from the pages straight into the frame, with the byte-order
                // swap: one copy (an all-zero write has no pages).
                IoKind::Write | IoKind::Zeroes => {
                    let (kind, off) = (e.kind, e.issued as usize);
                    let rq = &mut e.rq;
                    conn.send_put_full_with(
                        source,
                        addr,
                        piece.trailing_zeros() as u8,
                        |wire, order| {
                            let filled = match kind {
                                IoKind::Zeroes => {
                                    wire.fill(0);
                                    true
                                }
                                _ => rq.read_data_into(off, piece as usize, |src, at| {
                                    order.put_mem(wire, at, src)
                                }),
                            };
                            #[cfg(omx_mutation = "flip_write")]
                            if off == 0 {
                                crate::mutation::flip_one_in_n(wire);
                            }
                            filled
                        },
                    )
                }
            };
            match sent {
                Ok(()) => {
                    self.sources.sent(
                        ticket,
                        Source {
                            entry: idx as u16,
                            off: e.issued,
                            len: piece,
                        },
                    );
                    e.issued = e.issued.saturating_add(piece);
                    e.outstanding = e.outstanding.saturating_add(1);
                }
                Err(true) => return,
                Err(false) => {
                    e.failed = true;
                    self.try_finish(idx, now);
                }
            }
        }
        // Every entry is sent (or failed): `next_pending` emptied `unsent`.
    }

    /// Completes request `idx` once nothing of it is in flight any more (at `now`, ns).
    fn try_finish(&mut self, idx: usize, now: u64) {
        let done = self
            .entries
            .get(idx)
            .and_then(|s| s.as_ref())
            .is_some_and(|e| e.outstanding == 0 && (e.failed || e.issued == e.len));
        if done {
            if let Some(e) = self.take(idx) {
                let ok = !e.failed;
                if ok {
                    self.latency.record(e.kind, now.saturating_sub(e.started));
                }
                e.finish(ok);
            }
        }
    }

    /// A D-channel response from the node, received at `now` (ns; softirq).
    pub(crate) fn on_response(&mut self, m: &Message<'_>, now: u64) {
        let src = match self.sources.answer(m.source) {
            Answer::For(src) => src,
            Answer::Orphan => return,
            Answer::Stray => {
                self.stray = self.stray.wrapping_add(1);
                return;
            }
        };
        self.answered = self.answered.wrapping_add(1);
        let idx = usize::from(src.entry);
        let Some(Some(e)) = self.entries.get_mut(idx) else {
            return;
        };
        e.outstanding = e.outstanding.saturating_sub(1);
        let read = e.kind == IoKind::Read;
        let expected = match e.kind {
            IoKind::Read => Opcode::AccessAckData,
            IoKind::Discard => Opcode::HintAck,
            IoKind::Write | IoKind::Zeroes => Opcode::AccessAck,
        };
        let fine =
            m.opcode == expected && m.err == 0 && u32::from(m.size) == src.len.trailing_zeros();
        if !fine {
            e.failed = true;
        } else if read && !e.failed {
            // Straight from the frame into the pages: one copy (with the byte-order swap).
            let len = src.len as usize;
            let ok = m.data.len() == len
                && e.rq.fill(src.off as usize, len, |dst, at| {
                    m.data.copy_range_to(at, dst);
                    #[cfg(omx_mutation = "flip_read")]
                    if src.off == 0 && at == 0 {
                        crate::mutation::flip_one_in_n(dst);
                    }
                });
            if !ok {
                e.failed = true;
            }
        }
        self.try_finish(idx, now);
    }

    /// The block-layer timer of the request with this identity expired: on a node that is
    /// `alive` it waits some more, a bounded number of times; otherwise it fails, and answers
    /// to its messages still in flight will be dropped.
    pub(crate) fn expire(&mut self, rq_id: usize, alive: bool) -> Expiry {
        let Some(idx) = self
            .entries
            .iter()
            .position(|e| e.as_ref().is_some_and(|e| e.rq.id() == Some(rq_id)))
        else {
            return Expiry::NotHere;
        };
        let answered = self.answered;
        if let Some(Some(e)) = self.entries.get_mut(idx) {
            let progressed = answered != e.answered_mark;
            e.answered_mark = answered;
            if on_timeout(alive, progressed, &mut e.extensions) == Expiry::Extended {
                return Expiry::Extended;
            }
        }
        self.sources.orphan(idx);
        if let Some(e) = self.take(idx) {
            e.finish(false);
        }
        Expiry::Cancelled
    }

    /// Fails every request (the node is dead or goes away): nothing in flight will ever be
    /// answered.
    pub(crate) fn fail_all(&mut self) {
        for idx in 0..MAX_REQUESTS {
            if let Some(e) = self.take(idx) {
                e.finish(false);
            }
        }
        self.forget_sources();
    }

    /// The connection was lost and will be replaced: every request starts over, to be sent
    /// whole on the next connection (a Get or a PutFullData of the same data can be
    /// repeated). Requests that already got an error answer fail now.
    pub(crate) fn rewind(&mut self) {
        self.unsent = self.used;
        for idx in 0..MAX_REQUESTS {
            let failed = match self.entries.get_mut(idx) {
                Some(Some(e)) => {
                    e.issued = 0;
                    e.outstanding = 0;
                    e.failed
                }
                _ => false,
            };
            if failed {
                if let Some(e) = self.take(idx) {
                    e.finish(false);
                }
            }
        }
        self.forget_sources();
    }

    /// Forgets every message in flight: their answers can no longer come (and would not be
    /// recognised: the source ids move to the next generation).
    fn forget_sources(&mut self) {
        self.sources.forget();
    }
}
