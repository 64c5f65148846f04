// SPDX-License-Identifier: GPL-2.0

//! The node's timer, and the only file that arms or cancels it (the WireGuard way): the
//! other files report what happened through the `timers_*` hooks below (opened, request
//! sent, frame received, shut down) and set their own deadlines
//! (`Link::reconnect_later`, `Link::keepalive_later`, the identity question, the I/O hold,
//! the connection's retransmit and acknowledgement times); this file decides when the timer
//! fires next and what runs then.

use crate::clock::{ms_until, now_ns, NS_PER_MS};
use crate::glue::timer::{impl_has_timer, TimerHandler};
use crate::node::params::KEEPALIVE_MS;
use crate::node::{Link, Node, NodeState};
use crate::omx_proto::{Message, Version};

/// A dead node is re-opened this often.
const RECONNECT_MS: u64 = 1000;
/// Source id of keepalive messages (I/O uses ids from 1).
pub(super) const KEEPALIVE_SOURCE: u32 = 0;

impl_has_timer!(Node, timer);

impl Node {
    /// The node was created and its connection is opening.
    pub(super) fn timers_opened(&self) {
        self.rearm();
    }

    /// A request was queued (and what could go, sent).
    pub(super) fn timers_request_sent(&self) {
        self.rearm();
    }

    /// Frames from the node were handled (a receive batch, and what it let go out).
    pub(super) fn timers_frame_received(&self) {
        self.rearm();
    }

    /// The node goes away: the timer stops for good (waiting for a running handler).
    pub(super) fn timers_shut_down(&self) {
        self.timer.shutdown();
    }

    /// Re-arms the timer for the earliest thing due.
    fn rearm(&self) {
        let now = now_ns();
        let due = self.link.lock().next_due(self.params.version);
        if due == u64::MAX {
            return;
        }
        self.timer.arm_ms(ms_until(due, now));
    }
}

impl Link {
    /// A dead (or held) node is reopened after a pause.
    pub(super) fn reconnect_later(&mut self, now: u64) {
        self.reconnect_at = now.saturating_add(RECONNECT_MS * NS_PER_MS);
    }

    /// The next 1.0.3 keepalive goes out after a pause.
    pub(super) fn keepalive_later(&mut self, now: u64) {
        self.keepalive_at = now.saturating_add(KEEPALIVE_MS * NS_PER_MS);
    }

    /// The earliest thing due: the connection's own timers, this file's keepalive and
    /// reopening, the end of an I/O hold, the identity question's timeout.
    fn next_due(&self, version: Version) -> u64 {
        let own = match self.state {
            NodeState::Up if version == Version::V1_0_3 => self.keepalive_at,
            // Dead, or reconnecting with I/O held.
            _ if self.conn_failed() => self.reconnect_at,
            _ => u64::MAX,
        };
        let hold = if self.hold_until != 0 {
            self.hold_until
        } else {
            u64::MAX
        };
        let identity = self.identity.answer_due().unwrap_or(u64::MAX);
        let conn = self
            .conn
            .as_ref()
            .and_then(|c| c.next_deadline())
            .unwrap_or(u64::MAX);
        own.min(hold).min(identity).min(conn)
    }
}

impl TimerHandler for Node {
    fn timer_expired(&self) {
        let now = now_ns();
        let changed = {
            let mut link = self.link.lock();
            if let Some(conn) = link.conn.as_mut() {
                conn.poll(now);
            }
            // A connection that just failed decides first whether its I/O is held, before
            // a new connection replaces it.
            let failed = self.update_state(&mut link, now);
            if link.conn_failed() && now >= link.reconnect_at {
                // Reopen once the previous attempt has failed for good.
                self.reconnect(&mut link, now);
            } else if link.state == NodeState::Up
                && self.params.version == Version::V1_0_3
                && now >= link.keepalive_at
            {
                if let Some(conn) = link.conn.as_mut() {
                    let _ = conn.send(&Message::intent(KEEPALIVE_SOURCE, 0, 6, 0), now);
                }
                link.keepalive_later(now);
            }
            self.settle(&mut link, now) || failed
        };
        self.announce(changed);
        self.rearm();
    }
}
