// SPDX-License-Identifier: GPL-2.0

//! One block request (or one leg of it) on a node: what it does, where it stands, and whom
//! its end is reported to.

use crate::glue::blk::{Leg, LegResult};
use crate::omx_logic::expiry::Extensions;
use kernel::sync::Arc;

/// What a request does on the node.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum IoKind {
    Read,
    Write,
    /// A write of zeroes (REQ_OP_WRITE_ZEROES): no data pages, the bytes are all zero.
    Zeroes,
    /// A discard (REQ_OP_DISCARD): the node may give the memory back (omx's Intent
    /// `INTENT_RELEASE`; omx-node then reads zeros there, other peers may keep the data).
    Discard,
}

/// Whom a request's end is reported to: the block device it belongs to, which decides what
/// a failure means (another copy to use, or an error). Lets the I/O tables complete requests
/// without knowing the device layer above them.
pub(crate) trait LegOwner: Send + Sync {
    /// The leg on member `member` ended, successfully or not (any context, possibly under
    /// that node's lock).
    fn leg_done(&self, member: usize, read: bool, ok: bool) -> LegResult;
}

/// Where a read's data goes (a write's comes from a request).
pub(crate) enum Dest {
    /// A block request's pages (or one leg of it).
    Request(Leg),
    /// A block a device fetches ahead into its own buffer, named by the device's tag.
    Buffer(Arc<dyn BufferSink>, u64),
}

/// A device's read-ahead buffer, filled by fetches (`device::ahead`). Any context, possibly
/// under the node's lock.
pub(crate) trait BufferSink: Send + Sync {
    /// Hands `fill` the bytes `offset..offset + len` of fetch `tag`'s block, if its buffer
    /// still waits for it (otherwise the data is dropped).
    fn fill(&self, tag: u64, offset: usize, len: usize, fill: &mut dyn FnMut(&mut [u8]));
    /// Fetch `tag` ended, with all its data (`ok`) or not.
    fn done(&self, tag: u64, ok: bool);
}

impl Dest {
    /// Writes the bytes `offset..offset + len` of a read with `fill(dst, at)`, `dst` being
    /// the bytes from `offset + at` on (the pages of a request, a piece at a time).
    pub(super) fn fill(
        &mut self,
        offset: usize,
        len: usize,
        mut fill: impl FnMut(&mut [u8], usize),
    ) -> bool {
        match self {
            Dest::Request(rq) => rq.fill_data(offset, len, fill).is_ok(),
            Dest::Buffer(sink, tag) => {
                sink.fill(*tag, offset, len, &mut |dst| fill(dst, 0));
                true
            }
        }
    }

    /// Hands a write's bytes `offset..offset + len` to `put(src, at)`, a piece at a time
    /// (`Leg::read_data_into`); false if `put` did, or for a fetch (fetches only read).
    pub(super) fn read_data_into(
        &mut self,
        offset: usize,
        len: usize,
        put: impl FnMut(&[u8], usize) -> bool,
    ) -> bool {
        match self {
            Dest::Request(rq) => rq.read_data_into(offset, len, put).is_ok(),
            Dest::Buffer(..) => false,
        }
    }

    /// The block request's identity (a fetch has none).
    pub(super) fn id(&self) -> Option<usize> {
        match self {
            Dest::Request(rq) => Some(rq.id()),
            Dest::Buffer(..) => None,
        }
    }
}

/// One block request (or its leg on this node, for a mirrored write) handled by this node.
pub(crate) struct IoEntry {
    pub(super) rq: Dest,
    /// The device's end of it (an `Arc` it already holds, so no allocation per request).
    pub(super) owner: Arc<dyn LegOwner>,
    /// Index of this node among the device's members.
    pub(super) member: usize,
    pub(super) kind: IoKind,
    /// Node address of the request's first byte.
    pub(super) addr: u64,
    pub(super) len: u32,
    /// Bytes already sent as messages.
    pub(super) issued: u32,
    /// Messages awaiting their response.
    pub(super) outstanding: u32,
    pub(super) failed: bool,
    /// Submission order, for fairness.
    pub(super) seq: u64,
    /// When it entered the node's table (ns), for its latency.
    pub(super) started: u64,
    /// Block-layer timeouts extended so far (the node was alive, the request queued).
    pub(super) extensions: Extensions,
    /// The node's count of answered messages at the request's start or last timeout: whether
    /// the node answered anything since.
    pub(super) answered_mark: u64,
}

impl IoEntry {
    /// Whether part of the request is still to be sent (and it has not failed).
    pub(super) fn has_data_to_send(&self) -> bool {
        !self.failed && self.issued < self.len
    }

    pub(crate) fn new(
        rq: Leg,
        owner: Arc<dyn LegOwner>,
        member: usize,
        kind: IoKind,
        addr: u64,
        len: u32,
    ) -> Self {
        Self::with_dest(Dest::Request(rq), owner, member, kind, addr, len)
    }

    /// A fetch of `len` bytes at node address `addr` into a device's read-ahead buffer.
    pub(crate) fn fetch(
        sink: Arc<dyn BufferSink>,
        tag: u64,
        owner: Arc<dyn LegOwner>,
        member: usize,
        addr: u64,
        len: u32,
    ) -> Self {
        Self::with_dest(
            Dest::Buffer(sink, tag),
            owner,
            member,
            IoKind::Read,
            addr,
            len,
        )
    }

    fn with_dest(
        rq: Dest,
        owner: Arc<dyn LegOwner>,
        member: usize,
        kind: IoKind,
        addr: u64,
        len: u32,
    ) -> Self {
        Self {
            rq,
            owner,
            member,
            kind,
            addr,
            len,
            issued: 0,
            outstanding: 0,
            failed: false,
            seq: 0,
            started: 0,
            extensions: Extensions::default(),
            answered_mark: 0,
        }
    }

    /// Fails a request that never went out (its node is dead).
    pub(crate) fn fail(self) {
        self.finish(false);
    }

    /// Completes the request (or leg); the device decides what a failure means.
    pub(super) fn finish(self, ok: bool) {
        match self.rq {
            Dest::Request(rq) => {
                let result = self
                    .owner
                    .leg_done(self.member, self.kind == IoKind::Read, ok);
                rq.complete(result);
            }
            // A fetch is the device's own: no request to end, nothing for the mirror.
            Dest::Buffer(sink, tag) => sink.done(tag, ok),
        }
    }
}
