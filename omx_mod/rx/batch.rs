// SPDX-License-Identifier: GPL-2.0

//! A receive batch: the nodes and lendings its frames reached, whose work the frames make
//! due (settling state, the next requests, re-arming timers) is done once after the batch
//! instead of once per frame, and the batch's time, read once.

use crate::clock::now_ns;
use crate::lend::Lend;
use crate::mac::MacAddr;
use crate::node::Node;
use kernel::sync::Arc;

/// Nodes (or lendings) whose work is kept for the end of a batch; beyond that many, a
/// peer's is done at once.
const BATCH_PEERS: usize = 4;

/// A node or a lending, as a receive batch sees it.
trait Peer {
    /// Whether its frames come from `peer` on the interface `ifindex`.
    fn is_at(&self, ifindex: i32, peer: MacAddr) -> bool;
    /// The batch's frames from it were handled, at `now` (ns).
    fn batch_done(&self, now: u64);
}

impl Peer for Node {
    fn is_at(&self, ifindex: i32, peer: MacAddr) -> bool {
        self.matches(ifindex, peer)
    }
    fn batch_done(&self, now: u64) {
        self.end_batch(now);
    }
}

impl Peer for Lend {
    fn is_at(&self, ifindex: i32, peer: MacAddr) -> bool {
        self.matches(ifindex, peer)
    }
    fn batch_done(&self, _now: u64) {
        self.end_batch();
    }
}

/// The peers a batch's frames reached, with work due after the batch.
struct Reached<T> {
    peers: [Option<Arc<T>>; BATCH_PEERS],
}

impl<T> Default for Reached<T> {
    fn default() -> Self {
        Self {
            peers: Default::default(),
        }
    }
}

impl<T: Peer> Reached<T> {
    /// The peer of the batch at `from` on `ifindex`: frames after a peer's first need no
    /// lookup in its table.
    fn find(&self, ifindex: i32, from: MacAddr) -> Option<Arc<T>> {
        self.peers
            .iter()
            .flatten()
            .find(|p| p.is_at(ifindex, from))
            .cloned()
    }

    /// `peer` has work due after the batch (done now, at `now`, if the batch holds no more).
    fn add(&mut self, peer: Arc<T>, now: u64) {
        if self.peers.iter().flatten().any(|p| Arc::ptr_eq(p, &peer)) {
            return;
        }
        match self.peers.iter_mut().find(|p| p.is_none()) {
            Some(free) => *free = Some(peer),
            None => peer.batch_done(now),
        }
    }

    fn done(self, now: u64) {
        for peer in self.peers.into_iter().flatten() {
            peer.batch_done(now);
        }
    }
}

/// What a receive batch leaves to do: the peers it reached, and the batch's time.
#[derive(Default)]
pub(crate) struct RxBatch {
    /// The time of the batch's frames (ns), read at its first frame from a peer.
    now: Option<u64>,
    nodes: Reached<Node>,
    lends: Reached<Lend>,
}

/// Who sent a frame: a pool node, or the client of a lending.
pub(super) enum Origin {
    Node(Arc<Node>),
    Lend(Arc<Lend>),
}

impl RxBatch {
    /// The node or lending at `from` on `ifindex` if the batch already reached it: frames
    /// after a peer's first need no lookup in its table. (A lending is reached only after
    /// the node table had no node there, so nodes keep their precedence.)
    pub(super) fn reached(&self, ifindex: i32, from: MacAddr) -> Option<Origin> {
        if let Some(node) = self.nodes.find(ifindex, from) {
            return Some(Origin::Node(node));
        }
        self.lends.find(ifindex, from).map(Origin::Lend)
    }

    /// The batch is over: the work its frames made due is done, once per peer.
    pub(super) fn finish(self) {
        let Some(now) = self.now else {
            return;
        };
        self.nodes.done(now);
        self.lends.done(now);
    }

    /// Hands a frame's payload to whoever sent it, at the batch's time; the work it makes
    /// due is kept for the end of the batch.
    pub(super) fn deliver(&mut self, origin: Origin, payload: &[u8]) {
        let now = *self.now.get_or_insert_with(now_ns);
        match origin {
            Origin::Node(node) => {
                if node.receive(payload, now) {
                    self.nodes.add(node, now);
                }
            }
            Origin::Lend(lend) => {
                if lend.receive(payload, now) {
                    self.lends.add(lend, now);
                }
            }
        }
    }
}
