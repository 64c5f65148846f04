// SPDX-License-Identifier: GPL-2.0

//! A node's counters beyond its connection's own, and the snapshot netlink reports.

use crate::io::Latency;
use crate::omx_proto::Stats;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters of one node beyond the connection's own.
#[derive(Default)]
pub(crate) struct NodeCounters {
    pub(crate) tx_frames: AtomicU64,
    pub(crate) tx_bytes: AtomicU64,
    pub(crate) rx_frames: AtomicU64,
    pub(crate) rx_bytes: AtomicU64,
    pub(crate) tx_errors: AtomicU64,
    pub(crate) reconnects: AtomicU64,
}

/// A snapshot of a node's counters, for netlink.
pub(crate) struct NodeStatsSnapshot {
    pub(crate) tx_frames: u64,
    pub(crate) rx_frames: u64,
    pub(crate) tx_bytes: u64,
    pub(crate) rx_bytes: u64,
    pub(crate) retransmits: u64,
    pub(crate) naks_sent: u64,
    pub(crate) naks_received: u64,
    pub(crate) malformed: u64,
    pub(crate) timeouts: u64,
    pub(crate) reconnects: u64,
    pub(crate) integrity_errors: u64,
    pub(crate) out_of_window: u64,
    pub(crate) out_of_order: u64,
    pub(crate) duplicates: u64,
    /// How long completed requests took.
    pub(crate) latency: Latency,
}

impl NodeStatsSnapshot {
    /// The node's counters with `s`, its connections' summed, `stray`, the responses its
    /// I/O tables matched to no message, and its requests' `latency`.
    pub(super) fn new(c: &NodeCounters, s: &Stats, stray: u64, latency: Latency) -> Self {
        Self {
            tx_frames: c.tx_frames.load(Relaxed),
            rx_frames: c.rx_frames.load(Relaxed),
            tx_bytes: c.tx_bytes.load(Relaxed),
            rx_bytes: c.rx_bytes.load(Relaxed),
            retransmits: s.frames_retx,
            naks_sent: s.naks_tx,
            naks_received: s.naks_rx,
            // The connection counts every frame it refused (rx_errors): count none twice.
            malformed: s.rx_errors.wrapping_add(stray),
            timeouts: s.timeouts,
            reconnects: c.reconnects.load(Relaxed),
            integrity_errors: s.integrity_errors,
            out_of_window: s.out_of_window,
            out_of_order: s.out_of_order,
            duplicates: s.duplicates,
            latency,
        }
    }
}
