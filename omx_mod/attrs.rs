// SPDX-License-Identifier: GPL-2.0

//! Netlink message writers: a node's, a device's and a lending's attributes, as `node-get`,
//! `dev-get` and `lend-get` replies, dumps and events carry them (`Documentation/netlink/specs/omx.yaml`).

use crate::device::Device;
use crate::glue::genl::Message;
use crate::lend::{Lend, LendState};
use crate::netlink::{
    byte_order, dev, dev_stats, integrity, latency, lend, lend_state, lend_stats, node, node_state,
    node_stats, version,
};
use crate::node::{Node, NodeState};
use crate::omx_logic::latency::{Histogram, BUCKETS};
use crate::omx_proto::integrity::Check;
use crate::omx_proto::{ByteOrder, Version};
use core::sync::atomic::Ordering::Relaxed;
use kernel::prelude::*;

/// Writes a device's attributes (dev-get replies and dumps).
pub(crate) fn fill_dev(msg: &mut Message<'_>, d: &Device) -> Result {
    msg.put_str(dev::NAME, &d.name)?;
    msg.put_u64(dev::SIZE, d.size)?;
    for m in d.members() {
        msg.put_u32(dev::NODE_ID, m.node.id)?;
    }
    msg.put_u32(dev::REPLICAS, d.replicas())?;
    for m in d.out_of_service() {
        msg.put_u32(dev::FAILED_NODE_ID, m.node.id)?;
    }
    let s = d.stats();
    msg.nest(dev::STATS, |m| {
        m.put_u64(dev_stats::READS, s.reads.load(Relaxed))?;
        m.put_u64(dev_stats::WRITES, s.writes.load(Relaxed))?;
        m.put_u64(dev_stats::READ_BYTES, s.read_bytes.load(Relaxed))?;
        m.put_u64(dev_stats::WRITE_BYTES, s.write_bytes.load(Relaxed))?;
        m.put_u64(dev_stats::DISCARDS, s.discards.load(Relaxed))?;
        m.put_u64(dev_stats::ERRORS, s.errors.load(Relaxed))?;
        m.put_u64(dev_stats::IN_FLIGHT, s.in_flight.load(Relaxed))?;
        m.put_u64(dev_stats::FAILOVERS, s.failovers.load(Relaxed))?;
        m.put_u64(dev_stats::READAHEAD_HITS, s.readahead_hits.load(Relaxed))?;
        m.put_u64(
            dev_stats::READAHEAD_FETCHES,
            s.readahead_fetches.load(Relaxed),
        )
    })
}

/// Writes a node's attributes (node-get replies, dumps and events).
pub(crate) fn fill_node(msg: &mut Message<'_>, n: &Node) -> Result {
    let p = &n.params;
    msg.put_u32(node::ID, n.id)?;
    msg.put_bytes(node::IFNAME, p.ifname.with_nul())?;
    msg.put_u32(node::IFINDEX, p.ifindex as u32)?;
    msg.put_bytes(node::PEER_MAC, &p.peer.0)?;
    msg.put_u64(node::SIZE, p.size)?;
    msg.put_u32(node::BYTE_ORDER, byte_order_value(p.order))?;
    msg.put_u32(node::VERSION, version_value(p.version))?;
    msg.put_u32(node::MTU, p.mtu)?;
    msg.put_u32(node::STATE, node_state_value(n.state()))?;
    msg.put_u32(node::INTEGRITY, integrity_value(p.integrity))?;
    msg.put_u32(node::IO_TIMEOUT, p.io_timeout_ms)?;
    let s = n.stats();
    msg.nest(node::STATS, |m| {
        m.put_u64(node_stats::TX_FRAMES, s.tx_frames)?;
        m.put_u64(node_stats::RX_FRAMES, s.rx_frames)?;
        m.put_u64(node_stats::TX_BYTES, s.tx_bytes)?;
        m.put_u64(node_stats::RX_BYTES, s.rx_bytes)?;
        m.put_u64(node_stats::RETRANSMITS, s.retransmits)?;
        m.put_u64(node_stats::NAKS_SENT, s.naks_sent)?;
        m.put_u64(node_stats::NAKS_RECEIVED, s.naks_received)?;
        m.put_u64(node_stats::MALFORMED, s.malformed)?;
        m.put_u64(node_stats::TIMEOUTS, s.timeouts)?;
        m.put_u64(node_stats::RECONNECTS, s.reconnects)?;
        m.put_u64(node_stats::INTEGRITY_ERRORS, s.integrity_errors)?;
        m.put_u64(node_stats::OUT_OF_WINDOW, s.out_of_window)?;
        m.put_u64(node_stats::OUT_OF_ORDER, s.out_of_order)?;
        m.put_u64(node_stats::DUPLICATES, s.duplicates)
    })?;
    // A histogram's buckets in the spec's order (`le-8us` first, `longer` last), as
    // `omx_logic::latency` counts them.
    const BUCKET_ATTRS: [u16; BUCKETS] = [
        latency::LE_8US,
        latency::LE_16US,
        latency::LE_32US,
        latency::LE_64US,
        latency::LE_128US,
        latency::LE_256US,
        latency::LE_512US,
        latency::LE_1024US,
        latency::LE_2048US,
        latency::LE_4096US,
        latency::LE_8192US,
        latency::LE_16384US,
        latency::LE_32768US,
        latency::LE_65536US,
        latency::LE_131072US,
        latency::LE_262144US,
        latency::LE_524288US,
        latency::LE_1048576US,
        latency::LE_2097152US,
        latency::LE_4194304US,
        latency::LE_8388608US,
        latency::LE_16777216US,
        latency::LE_33554432US,
        latency::LONGER,
    ];
    let put_latency = |m: &mut Message<'_>, h: &Histogram| -> Result {
        for (&attr, &count) in BUCKET_ATTRS.iter().zip(h.counts.iter()) {
            m.put_u64(attr, count)?;
        }
        m.put_u64(latency::SUM_US, h.sum_us)
    };
    msg.nest(node::READ_LATENCY, |m| put_latency(m, &s.latency.read))?;
    msg.nest(node::WRITE_LATENCY, |m| put_latency(m, &s.latency.write))
}

/// Writes a lending's attributes (lend-get replies and dumps).
pub(crate) fn fill_lend(msg: &mut Message<'_>, l: &Lend) -> Result {
    let p = &l.params;
    msg.put_u32(lend::ID, l.id)?;
    msg.put_bytes(lend::IFNAME, p.ifname.with_nul())?;
    msg.put_u32(lend::IFINDEX, p.ifindex as u32)?;
    msg.put_bytes(lend::CLIENT_MAC, &p.client.0)?;
    msg.put_u64(lend::SIZE, p.size)?;
    msg.put_u32(
        lend::STATE,
        match l.state() {
            LendState::Waiting => lend_state::WAITING,
            LendState::Open => lend_state::OPEN,
            LendState::Closing => lend_state::CLOSING,
        },
    )?;
    let s = l.stats();
    let r = &s.serve.requests;
    msg.nest(lend::STATS, |m| {
        m.put_u64(lend_stats::GETS, r[0])?;
        m.put_u64(lend_stats::PUTS, r[1] + r[2])?;
        m.put_u64(lend_stats::OTHER_REQUESTS, r[3] + r[4] + r[5] + r[6])?;
        m.put_u64(lend_stats::DATA_READ, s.serve.data_read)?;
        m.put_u64(lend_stats::DATA_WRITTEN, s.serve.data_written)?;
        m.put_u64(lend_stats::DENIED, s.serve.denied)?;
        m.put_u64(lend_stats::MALFORMED, s.serve.malformed + s.link.rx_errors)?;
        m.put_u64(lend_stats::BACKPRESSURE_DROPS, s.serve.backpressure_drops)?;
        m.put_u64(lend_stats::DEFERRED, s.serve.deferred)?;
        m.put_u64(lend_stats::TX_FRAMES, s.tx_frames)?;
        m.put_u64(lend_stats::RX_FRAMES, s.rx_frames)?;
        m.put_u64(lend_stats::RETRANSMITS, s.link.frames_retx)?;
        m.put_u64(lend_stats::TIMEOUTS, s.link.timeouts)?;
        m.put_u64(lend_stats::CONNECTIONS, s.connections)?;
        m.put_u64(lend_stats::TX_ERRORS, s.tx_errors)?;
        m.put_u64(lend_stats::HELD_BATCHES, s.held_batches)
    })
}

/// The spec's `byte-order` value of a byte order.
fn byte_order_value(order: ByteOrder) -> u32 {
    match order {
        ByteOrder::Spec => byte_order::SPEC,
        ByteOrder::Raw => byte_order::RAW,
    }
}

/// The spec's `version` value of a protocol version.
fn version_value(v: Version) -> u32 {
    match v {
        Version::V1_1 => version::V1_1,
        Version::V1_0_3 => version::V1_0_3,
    }
}

/// The spec's `node-state` value of a node state (`omx_logic` knows nothing of netlink).
fn node_state_value(state: NodeState) -> u32 {
    match state {
        NodeState::Connecting => node_state::CONNECTING,
        NodeState::Up => node_state::UP,
        NodeState::Dead => node_state::DEAD,
        NodeState::Closing => node_state::CLOSING,
    }
}

/// The spec's `integrity` value: the check of omx's trailer, or none.
fn integrity_value(check: Option<Check>) -> u32 {
    match check {
        None => integrity::NONE,
        Some(Check::Crc32c) => integrity::CRC32C,
        Some(Check::Xxh64) => integrity::XXH64,
    }
}
