// SPDX-License-Identifier: GPL-2.0

//! Transmit: waiting requests become messages on the connection, the connection's frames
//! become skbs on the interface.

use crate::clock::now_ns;
use crate::glue::skb::Gfp;
use crate::glue::tasklet::{impl_has_tasklet, TaskletHandler};
use crate::io::Sender;
use crate::node::{Conn, Link, Node, NodeState};
use crate::omx_proto::{self as proto, ByteOrder, Message};
use crate::xmit::send_ready;
use core::sync::atomic::Ordering::Relaxed;

/// The connection as the I/O tables see it.
struct ConnSender<'a> {
    conn: &'a mut Conn,
    now: u64,
}

impl Sender for ConnSender<'_> {
    fn send(&mut self, msg: &Message<'_>) -> Result<(), bool> {
        retry_later(self.conn.send(msg, self.now))
    }

    fn send_put_full_with(
        &mut self,
        source: u32,
        addr: u64,
        size: u8,
        fill: impl FnOnce(&mut [u8], ByteOrder) -> bool,
    ) -> Result<(), bool> {
        retry_later(
            self.conn
                .send_put_full_with(source, addr, size, self.now, fill),
        )
    }
}

/// A send's outcome for the I/O tables: `Err(true)` to retry after the next received frame
/// (credits, acknowledgements) or the timer, `Err(false)` for a message that can never go.
fn retry_later(sent: Result<(), proto::Error>) -> Result<(), bool> {
    match sent {
        Ok(()) => Ok(()),
        Err(proto::Error::NoCredit | proto::Error::WindowFull | proto::Error::NotOpen) => Err(true),
        Err(_) => Err(false),
    }
}

impl_has_tasklet!(Node, tasklet);

impl Node {
    /// After a received frame, with the link locked: if the connection has something due now,
    /// the tasklet sends it once the softirq's whole batch of frames is handled (NAPI-style),
    /// so a burst of responses goes out as a few full frames with one doorbell, not one small
    /// frame per response. Returns whether something is due (the tasklet then re-arms the
    /// timer). Scheduled only under the lock and not once shut down, so `shutdown`'s kill is
    /// final.
    pub(super) fn send_after_batch(&self, link: &Link, now: u64) -> bool {
        let due = link
            .conn
            .as_ref()
            .and_then(|c| c.next_deadline())
            .is_some_and(|d| d <= now);
        if due && !link.shut_down {
            self.tasklet.schedule();
        }
        due
    }

    /// Queues messages of waiting requests on the connection.
    pub(super) fn pump(link: &mut Link, now: u64) {
        if link.state == NodeState::Dead || !link.identity.verified {
            return;
        }
        let Link { conn, io, .. } = link;
        if let Some(conn) = conn.as_mut() {
            io.pump(&mut ConnSender { conn, now }, now);
        }
    }

    /// Sends every frame the connection has ready, in bursts that notify the device once
    /// each. Softirq or process context (the link's BH lock held).
    pub(super) fn flush(&self, link: &mut Link, now: u64) {
        let Link {
            conn: Some(conn),
            dev: Some(dev),
            ..
        } = link
        else {
            return;
        };
        let sent = send_ready(conn, dev, self.id, Gfp::Reserve, now);
        self.counters.tx_frames.fetch_add(sent.frames, Relaxed);
        self.counters.tx_bytes.fetch_add(sent.bytes, Relaxed);
        if sent.errors > 0 {
            // Counted, then recovered by the retransmit timer.
            self.counters.tx_errors.fetch_add(sent.errors, Relaxed);
        }
    }
}

impl TaskletHandler for Node {
    /// After a receive batch (softirq): moves waiting I/O into the connection, sends every
    /// frame due (acknowledgements, credit, requests) and re-arms the timer for what is due.
    fn tasklet_run(&self) {
        let now = now_ns();
        {
            let mut link = self.link.lock();
            if link.shut_down {
                return;
            }
            Self::pump(&mut link, now);
            self.flush(&mut link, now);
        }
        self.timers_frame_received();
    }
}
