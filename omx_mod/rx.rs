// SPDX-License-Identifier: GPL-2.0

//! The receive path: every EtherType 0xAAAA frame lands here (NET_RX softirq) and goes to
//! the node it comes from.

use crate::glue::netdev::NetDevice;
use crate::glue::packet::PacketHandler;
use crate::glue::skb::SkBuff;
use crate::nodes::Nodes;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::sync::Arc;

/// EtherType of OmniXtend.
pub(crate) const ETH_P_OMNIXTEND: u16 = 0xAAAA;
/// Smallest TLoE payload: header, padding to the Ethernet minimum, frame mask (6 flits).
pub(crate) const MIN_PAYLOAD: usize = 48;

/// Module-wide receive counters (`stats-get`).
#[derive(Default)]
pub(crate) struct RxCounters {
    pub(crate) frames: AtomicU64,
    pub(crate) malformed: AtomicU64,
    pub(crate) unknown_peer: AtomicU64,
    pub(crate) dropped: AtomicU64,
}

pub(crate) struct Receiver {
    nodes: Arc<Nodes>,
    pub(crate) counters: RxCounters,
}

impl Receiver {
    pub(crate) fn new(nodes: Arc<Nodes>) -> Self {
        Self { nodes, counters: RxCounters::default() }
    }
}

impl PacketHandler for Arc<Receiver> {
    fn receive(&self, skb: SkBuff, dev: &NetDevice) {
        self.counters.frames.fetch_add(1, Relaxed);
        let payload = skb.data();
        // TLoE payloads are whole flits and at least the Ethernet minimum.
        let Some(from) = skb.eth_source() else {
            self.counters.malformed.fetch_add(1, Relaxed);
            return;
        };
        if payload.len() < MIN_PAYLOAD || payload.len() % 8 != 0 {
            self.counters.malformed.fetch_add(1, Relaxed);
            return;
        }
        match self.nodes.find(dev, from) {
            Some(node) => node.receive(payload),
            None => {
                self.counters.unknown_peer.fetch_add(1, Relaxed);
            }
        }
    }

    fn dropped(&self) {
        self.counters.dropped.fetch_add(1, Relaxed);
    }
}
