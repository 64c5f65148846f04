// SPDX-License-Identifier: GPL-2.0

//! What an administrator asked for when adding a node, and the connection configuration
//! derived from it.

use crate::clock::NS_PER_MS;
use crate::glue::netdev::NetDevice;
use crate::ifname::IfName;
use crate::mac::MacAddr;
use crate::omx_proto::integrity::Check;
use crate::omx_proto::{self as proto, ByteOrder, Config, EthHeader, Version};

/// Retransmit timeout and attempts: an unanswered frame fails the node after
/// RTO_MS * (MAX_RETRANSMITS + 1) = 2.2 s: long enough that a busy node (or an emulated
/// one) is not declared dead by mistake, which would fail its devices for good.
const RTO_MS: u64 = 200;
const MAX_RETRANSMITS: u32 = 10;
/// How long an acknowledgement of the node's frames waits for a request frame to ride on.
/// Under load the next request comes sooner, so almost no acknowledgement needs a frame of
/// its own (4 KiB reads at depth 32: 1.4 frames sent per read instead of 3.1). Owed
/// credits go out at once when half the buffer is owed, whatever this says, and the node's
/// retransmit timeout (50 ms) is far above it.
const ACK_DELAY_US: u64 = 1000;
/// A NAK of a frame (re)sent less than this long ago is held, not acted on at once: it may
/// predate the resend. Short, so a loss costs a go-back soon, not the 200 ms RTO; the
/// protocol core stretches it to the measured round trip when that is longer.
const NAK_HOLDOFF_US: u64 = 5000;
/// An idle connection probes the node this often, so a silent node is detected within
/// KEEPALIVE_MS + 2.2 s even without I/O: 1.1 sends an empty sequenced frame the node must
/// acknowledge (the protocol core does it); 1.0.3 has no such frame, so a TileLink Intent
/// (sent from `timers.rs`).
pub(super) const KEEPALIVE_MS: u64 = 500;
/// How long block I/O waits, by default, for a node whose connection was lost (it stopped
/// answering for 2.2 s, or said goodbye) to come back with its memory before failing with
/// EIO: a stalled host, a daemon restart or a link flap is ridden out, not turned into errors.
pub(crate) const DEFAULT_IO_TIMEOUT_MS: u32 = 10_000;

/// What an administrator asked for when adding the node.
pub(crate) struct NodeParams {
    /// The interface, by index and name: the reference itself lives in the link, so it can be
    /// dropped when the interface is unregistered while devices still use the node.
    pub(crate) ifindex: i32,
    pub(crate) ifname: IfName,
    /// Our own address on that interface.
    pub(crate) own_mac: MacAddr,
    pub(crate) peer: MacAddr,
    pub(crate) size: u64,
    pub(crate) order: ByteOrder,
    pub(crate) version: Version,
    /// Frame payload limit actually used (the interface MTU unless a smaller one was asked).
    pub(crate) mtu: u32,
    /// The check of omx's integrity trailer on every frame (`omx_proto::integrity`), if any.
    pub(crate) integrity: Option<Check>,
    /// How long I/O waits for the node to come back after its connection was lost
    /// (0: it fails at once).
    pub(crate) io_timeout_ms: u32,
}

impl NodeParams {
    /// A node reached through `dev` at `peer`, lending `size` bytes, with the defaults: 1.1,
    /// spec byte order, the interface MTU, the XXH64 integrity trailer, the default I/O timeout.
    pub(crate) fn new(dev: &NetDevice, peer: MacAddr, size: u64) -> Self {
        Self {
            ifindex: dev.ifindex(),
            ifname: IfName::of(dev),
            own_mac: dev.mac(),
            peer,
            size,
            order: ByteOrder::Spec,
            version: Version::V1_1,
            mtu: dev.mtu(),
            integrity: Some(Check::Xxh64),
            io_timeout_ms: DEFAULT_IO_TIMEOUT_MS,
        }
    }

    /// Frames kept for Go-Back-N retransmission: the most a node's writes may have in flight
    /// (`omx_proto::congestion::window_frames`); the congestion window decides how many are.
    pub(super) fn retransmit_slots(&self) -> usize {
        proto::congestion::window_frames(self.mtu as usize)
    }

    /// The connection's configuration.
    pub(super) fn config(&self) -> Config {
        let mut cfg = Config::new(self.version);
        cfg.order = self.order;
        cfg.mtu = self.mtu as usize;
        cfg.ethernet = Some(EthHeader::new(self.peer.0, self.own_mac.0));
        cfg.rto_ns = RTO_MS * NS_PER_MS;
        cfg.max_retransmits = MAX_RETRANSMITS;
        cfg.integrity = self.integrity;
        cfg.window = self.retransmit_slots() as u32;
        // A client only receives responses (channel D), and copies them into the requests at
        // once: grant room for every answer its source ids can have outstanding (their data
        // is at most `WINDOW_BYTES`, `io.rs`; twice that in flits covers the headers), so
        // credit never limits reads; the node's congestion window does. The other channels
        // keep the 1.1 default, so opening needs no credit frames.
        cfg.rx_buffer_flits = [128, 128, 128, proto::congestion::WINDOW_CREDIT_FLITS, 128];
        cfg.ack_delay_ns = ACK_DELAY_US * 1000;
        cfg.nak_holdoff_ns = NAK_HOLDOFF_US * 1000;
        if self.version == Version::V1_1 {
            cfg.keepalive_ns = KEEPALIVE_MS * NS_PER_MS;
        }
        cfg
    }
}
