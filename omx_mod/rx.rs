// SPDX-License-Identifier: GPL-2.0

//! The receive path: every EtherType 0xAAAA frame lands here (NET_RX softirq) and goes to
//! the node it comes from, or to the lending whose client sent it. Frames arrive in
//! batches (a NAPI poll's GRO list): a node's work that its frames make due is done once
//! per batch.

use crate::glue::gather::Gather;
use crate::glue::netdev::NetDevice;
use crate::glue::packet::PacketHandler;
use crate::glue::skb::RxFrame;
use crate::lends::Lends;
use crate::nodes::Nodes;
use crate::omx_proto::frame::MIN_PAYLOAD;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::prelude::*;
use kernel::sync::Arc;

mod batch;
use batch::Origin;
pub(crate) use batch::RxBatch;

/// Module-wide receive counters (`stats-get`).
#[derive(Default)]
pub(crate) struct RxCounters {
    /// Frames received in the initial network namespace (not for other hosts).
    pub(crate) frames: AtomicU64,
    pub(crate) malformed: AtomicU64,
    pub(crate) unknown_peer: AtomicU64,
    /// Frames from a node or a lending's client whose payload could not be made one slice
    /// (no memory).
    pub(crate) dropped: AtomicU64,
    /// Frames received by a device of another network namespace: ignored unread.
    pub(crate) other_netns: AtomicU64,
}

pub(crate) struct Receiver {
    nodes: Arc<Nodes>,
    lends: Arc<Lends>,
    pub(crate) counters: RxCounters,
    /// Where frames that arrive in pieces are made one slice.
    gather: Gather,
}

impl Receiver {
    /// Process context (allocates the gather buffers).
    pub(crate) fn new(nodes: Arc<Nodes>, lends: Arc<Lends>) -> Result<Self> {
        Ok(Self {
            nodes,
            lends,
            counters: RxCounters::default(),
            gather: Gather::new()?,
        })
    }
}

impl PacketHandler for Arc<Receiver> {
    type Batch = RxBatch;

    /// Decides from the frame as received (its length and Ethernet header, read in place)
    /// and only then, for a frame of a known node or of a client lent to, makes its payload
    /// one slice: frames of other namespaces, for other hosts, malformed or from unknown MACs
    /// cost no allocation.
    fn receive(&self, frame: RxFrame, dev: &NetDevice, batch: &mut RxBatch) {
        // Pool nodes and lendings live in the initial network namespace: a container's
        // interface, whatever its index, never reaches their connections.
        if !dev.in_initial_netns() {
            self.counters.other_netns.fetch_add(1, Relaxed);
            return;
        }
        if frame.is_for_other_host() {
            return;
        }
        self.counters.frames.fetch_add(1, Relaxed);
        let Some(from) = frame.eth_source() else {
            self.counters.malformed.fetch_add(1, Relaxed);
            return;
        };
        // TLoE payloads are whole flits and at least the Ethernet minimum.
        let len = frame.len();
        if len < MIN_PAYLOAD || len % 8 != 0 {
            self.counters.malformed.fetch_add(1, Relaxed);
            return;
        }
        let origin = if let Some(origin) = batch.reached(dev.ifindex(), from) {
            origin
        } else if let Some(node) = self.nodes.find(dev, from) {
            Origin::Node(node)
        } else if let Some(lend) = self.lends.find(dev, from) {
            Origin::Lend(lend)
        } else {
            self.counters.unknown_peer.fetch_add(1, Relaxed);
            return;
        };
        match frame.into_payload(&self.gather) {
            Some(payload) => batch.deliver(origin, payload.data()),
            None => {
                self.counters.dropped.fetch_add(1, Relaxed);
            }
        }
    }

    fn end_batch(&self, batch: RxBatch) {
        batch.finish();
    }
}
