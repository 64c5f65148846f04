// SPDX-License-Identifier: GPL-2.0

//! Receive: a frame from the node goes through the connection; its responses complete block
//! I/O or answer the identity question. What the frames of a receive batch make due (the
//! node's state, the next requests, acknowledgements and credit) is settled once after the
//! batch ([`Node::end_batch`]) and sent by the tasklet (`tx.rs`).

use crate::node::identity::IDENTITY_SOURCE;
use crate::node::timers::KEEPALIVE_SOURCE;
use crate::node::Node;
use crate::omx_proto::Channel;
use core::sync::atomic::Ordering::Relaxed;

impl Node {
    /// A frame from the node (payload after the Ethernet header), received at `now` (ns)
    /// with others of a batch. Returns whether it reached the connection: then
    /// [`Node::end_batch`] is due once the batch is handled. Softirq context.
    pub(crate) fn receive(&self, payload: &[u8], now: u64) -> bool {
        self.counters.rx_frames.fetch_add(1, Relaxed);
        self.counters
            .rx_bytes
            .fetch_add(payload.len() as u64, Relaxed);
        let mut link = self.link.lock();
        let link = &mut *link;
        let Some(conn) = link.conn.as_mut() else {
            return false;
        };
        // A refused frame is counted by the connection (rx_errors) and otherwise ignored.
        if let Ok(received) = conn.on_payload(payload, now) {
            // Responses complete block I/O; keepalive answers (HintAck, source 0) need
            // nothing beyond the acknowledgement they carry.
            for m in received.messages() {
                match m.source {
                    _ if m.chan != Channel::D => {}
                    KEEPALIVE_SOURCE => {}
                    IDENTITY_SOURCE => self.on_identity(link, &m),
                    _ => link.io.on_response(&m, now),
                }
            }
        }
        true
    }

    /// The frames of a receive batch from this node were handled (at `now`, ns): the state
    /// they lead to is settled, freed source ids take the next requests' messages into the
    /// open frame (no doorbell yet), and whatever is now due goes out by the tasklet.
    /// Softirq context.
    pub(crate) fn end_batch(&self, now: u64) {
        let (changed, batched) = {
            let mut link = self.link.lock();
            let changed = self.settle_state(&mut link, now);
            Self::pump(&mut link, now);
            (changed, self.send_after_batch(&link, now))
        };
        self.announce(changed);
        // A lone response (QD1) usually leaves nothing due (acknowledgements wait): no
        // tasklet, the timer is re-armed here; else the tasklet re-arms it after sending.
        if !batched {
            self.timers_frame_received();
        }
    }
}
