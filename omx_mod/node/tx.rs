// SPDX-License-Identifier: GPL-2.0

//! Transmit: waiting requests become messages on the connection, the connection's frames
//! become skbs on the interface.

use crate::glue::skb::{Gfp, SkBuff};
use crate::io::Sender;
use crate::node::{Conn, Link, Node, NodeState};
use crate::omx_proto::{self as proto, Message, ETHERTYPE_OMNIXTEND};
use core::sync::atomic::Ordering::Relaxed;

/// Headroom for the device's link-layer needs in front of our Ethernet header.
const SKB_HEADROOM: u32 = 32;

/// The connection as the I/O tables see it.
struct ConnSender<'a> {
    conn: &'a mut Conn,
    now: u64,
}

impl Sender for ConnSender<'_> {
    fn send(&mut self, msg: &Message<'_>) -> Result<(), bool> {
        match self.conn.send(msg, self.now) {
            Ok(()) => Ok(()),
            // Retried after the next received frame (credits, acknowledgements) or the timer.
            Err(proto::Error::NoCredit | proto::Error::WindowFull | proto::Error::NotOpen) => {
                Err(true)
            }
            Err(_) => Err(false),
        }
    }
}

impl Node {
    /// Queues messages of waiting requests on the connection.
    pub(super) fn pump(link: &mut Link, now: u64) {
        if link.state == NodeState::Dead || !link.identity.verified {
            return;
        }
        let Link { conn, io, .. } = link;
        if let Some(conn) = conn.as_mut() {
            io.pump(&mut ConnSender { conn, now });
        }
    }

    /// Sends every frame the connection has ready. Softirq or process context.
    pub(super) fn flush(&self, link: &mut Link, now: u64) {
        let Link {
            conn: Some(conn),
            dev: Some(dev),
            spare_skb,
            ..
        } = link
        else {
            return;
        };
        let max = conn.max_frame_len() as u32;
        loop {
            let mut skb = match spare_skb.take() {
                Some(skb) => skb,
                None => {
                    let Ok(mut skb) = SkBuff::alloc(SKB_HEADROOM, max, Gfp::Reserve) else {
                        self.counters.tx_errors.fetch_add(1, Relaxed);
                        return; // retried from the timer
                    };
                    if skb.put(max).is_err() {
                        return;
                    }
                    skb
                }
            };
            let len = match conn.poll_transmit(now, skb.data_mut()) {
                Ok(Some(len)) => len,
                Ok(None) | Err(_) => {
                    *spare_skb = Some(skb);
                    return;
                }
            };
            skb.trim(len as u32);
            self.counters.tx_frames.fetch_add(1, Relaxed);
            self.counters.tx_bytes.fetch_add(len as u64, Relaxed);
            if skb.transmit(dev, ETHERTYPE_OMNIXTEND).is_err() {
                // Counted, then recovered by the retransmit timer.
                self.counters.tx_errors.fetch_add(1, Relaxed);
            }
        }
    }
}
