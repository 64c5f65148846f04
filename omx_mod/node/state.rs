// SPDX-License-Identifier: GPL-2.0

//! The node's lifetime: its state derived from the connection's, I/O held across a lost
//! connection, and reopening a connection that failed.

use crate::clock::NS_PER_MS;
use crate::node::identity::{IdentityCheck, Step};
use crate::node::{Conn, Link, Node, NodeState};
use crate::omx_logic::lifecycle::{ConnPhase, Lifecycle};
use crate::omx_proto::{Message, State};
use core::sync::atomic::Ordering::Relaxed;
use kernel::prelude::*;

impl Node {
    /// After a timer: updates the state, moves waiting I/O into the connection and sends what
    /// is due. Returns whether the state changed.
    pub(super) fn settle(&self, link: &mut Link, now: u64) -> bool {
        let changed = self.settle_state(link, now);
        Self::pump(link, now);
        self.flush(link, now);
        changed
    }

    /// After a frame: what [`Node::settle`] does but sending, which waits for the end of the
    /// receive batch (`Node::send_after_batch`). Returns whether the state changed.
    pub(super) fn settle_state(&self, link: &mut Link, now: u64) -> bool {
        // The node said goodbye (1.1 CloseConnection: its daemon is stopping). Everything it
        // was going to answer came before the close: finish the handshake, so the connection
        // ends (Closed -> dead, I/O failed) and is reopened when the node is back.
        if let Some(conn) = link
            .conn
            .as_mut()
            .filter(|c| c.state() == State::PeerClosing)
        {
            let _ = conn.close(now);
        }
        self.check_identity(link, now);
        self.update_state(link, now)
    }

    /// On an open connection whose identity is not verified: asks for it once, and again on
    /// a new connection if no answer comes.
    fn check_identity(&self, link: &mut Link, now: u64) {
        let open = link.conn.as_ref().is_some_and(|c| c.state() == State::Open);
        match link.identity.step(open, now) {
            Step::Nothing => {}
            Step::Ask => {
                if let Some(conn) = link.conn.as_mut() {
                    // Out of credit: tried again after the next frame or timer.
                    if conn.send(&IdentityCheck::question(), now).is_ok() {
                        link.identity.asked(now);
                    }
                }
            }
            Step::Reconnect => self.reconnect(link, now),
        }
    }

    /// The answer to the identity question (softirq): a node that lost its contents starts
    /// a new epoch, so devices placed on it before fail their I/O there.
    pub(super) fn on_identity(&self, link: &mut Link, m: &Message<'_>) {
        if link.identity.answered(m) == Some(false) {
            link.epoch = link.epoch.wrapping_add(1);
            // Requests queued while unverified were placed in the old epoch.
            link.io.fail_all();
            pr_warn!("node {}: its memory contents were lost (restarted or wiped); data stored there before is gone\n", self.id);
        }
    }

    /// Outside the lock: reports a state change to the observer (netlink events).
    pub(super) fn announce(&self, changed: bool) {
        if changed {
            self.observer.node_state_changed(self);
        }
    }

    /// Derives the node state from the connection's (`omx_logic::lifecycle`) and does what a
    /// change asks for; returns whether the state changed.
    pub(super) fn update_state(&self, link: &mut Link, now: u64) -> bool {
        if link.shut_down {
            return false;
        }
        let conn = match link.conn.as_ref().map(|c| c.state()) {
            Some(State::Open) => ConnPhase::Open,
            Some(State::Listening | State::Opening) => ConnPhase::Opening,
            Some(State::PeerClosing | State::Closing) => ConnPhase::Closing,
            Some(State::Closed | State::Dead) | None => ConnPhase::Gone,
        };
        let hold_ns = u64::from(self.params.io_timeout_ms) * NS_PER_MS;
        let life = Lifecycle {
            state: link.state,
            hold_until: link.hold_until,
        };
        let update = life.update(conn, link.identity.verified, now, hold_ns);
        link.hold_until = update.next.hold_until;
        if update.hold {
            // What it had in flight is sent again once the connection is reopened and the
            // node's identity shows it kept its memory (reads and whole-block writes can be
            // repeated). Reopened after a pause, as a dead node is: what the old connection
            // still had on the way (queued while this host stalled) drains first.
            link.io.rewind();
            link.reconnect_later(now);
        }
        if update.contact_lost {
            link.identity.contact_lost = true;
        }
        if !update.changed {
            return false;
        }
        let new = update.next.state;
        if new == NodeState::Dead {
            link.reconnect_later(now);
            // Nothing in flight will be answered: fail it now (EIO), not at the timeout.
            link.io.fail_all();
        }
        if new == NodeState::Up {
            link.keepalive_later(now);
        }
        self.log_transition(link, new);
        link.state = new;
        true
    }

    /// Tells the kernel log what an admin needs to follow a node's health (as nbd and
    /// nvme-tcp do): losing it, giving up on it, and having it. Transitions are rare.
    fn log_transition(&self, link: &Link, new: NodeState) {
        let id = self.id;
        match (link.state, new) {
            (NodeState::Up | NodeState::Closing, NodeState::Connecting) => pr_info!(
                "node {id}: connection lost, reconnecting; its I/O waits up to {} ms\n",
                self.params.io_timeout_ms
            ),
            (_, NodeState::Dead) => {
                pr_warn!("node {id}: not reachable; its I/O fails until it is up\n")
            }
            (_, NodeState::Up) => pr_info!("node {id}: up\n"),
            _ => {}
        }
    }

    /// Starts (or restarts) the connection's open handshake.
    pub(super) fn open_link(&self, link: &mut Link, now: u64) {
        if let Some(conn) = link.conn.as_mut() {
            let _ = conn.open(now);
        }
        self.flush(link, now);
    }

    /// Replaces a dead connection by a fresh one on the same memory and opens it.
    pub(super) fn reconnect(&self, link: &mut Link, now: u64) {
        let Some(old) = link.conn.take() else { return };
        link.past = link.past.sum(old.stats());
        let cfg = old.config().clone();
        let (mem, slots) = old.into_memory();
        match Conn::new(cfg, mem, slots) {
            Ok(conn) => link.conn = Some(conn),
            // Cannot happen with the configuration the old connection accepted.
            Err(_) => return,
        }
        self.counters.reconnects.fetch_add(1, Relaxed);
        link.reconnect_later(now);
        // The identity question belongs to the old connection: ask the new one.
        link.identity.new_connection();
        self.open_link(link, now);
    }
}
