// SPDX-License-Identifier: GPL-2.0

//! The contents identity check: after each (re)open the node's identity is read, and
//! whether it still holds what devices stored there decides the node's epoch
//! (`omx_proto::identity`). Block I/O waits (and the node is not reported up) until then.

use crate::node::params::NS_PER_MS;
use crate::node::{Link, Node};
use crate::omx_proto::identity::{self, Identity};
use crate::omx_proto::{Message, Opcode, State};
use kernel::prelude::*;

/// Source id of the contents identity `Get` (the largest 26-bit id, far from I/O's).
pub(super) const IDENTITY_SOURCE: u32 = (1 << 26) - 1;
/// A node that leaves the identity `Get` unanswered this long is asked again on a new
/// connection. TileLink answers every Get (peers without identities deny it at once, which
/// counts as an answer), so a missing answer says nothing about the node's memory: taking it
/// for "no identity" at first contact made a later answer look like lost contents.
const IDENTITY_TIMEOUT_MS: u64 = 10_000;

/// Where the node's contents identity check stands.
#[derive(Default)]
pub(super) struct IdentityCheck {
    /// The identity last read; `None` before the first answer or if the node has none.
    known: Option<Identity>,
    /// Whether the identity was read since the connection (re)opened.
    pub(super) verified: bool,
    /// When the `Get` went out (0: not yet sent on this connection).
    asked_at: u64,
    /// Contact was lost since the last check: an unknown identity means unknown contents.
    pub(super) contact_lost: bool,
}

impl IdentityCheck {
    /// A new connection: the question belongs to the old one, ask again.
    pub(super) fn new_connection(&mut self) {
        self.verified = false;
        self.asked_at = 0;
    }

    /// When an unanswered question is given up on (`None`: nothing awaited).
    pub(super) fn answer_due(&self) -> Option<u64> {
        (!self.verified && self.asked_at != 0).then(|| self.asked_at.saturating_add(IDENTITY_TIMEOUT_MS * NS_PER_MS))
    }
}

impl Node {
    /// On an open connection whose identity is not verified: asks for it once, and again on
    /// a new connection if no answer comes.
    pub(super) fn check_identity(&self, link: &mut Link, now: u64) {
        let open = link.conn.as_ref().is_some_and(|c| c.state() == State::Open);
        if !open {
            link.identity.new_connection();
            return;
        }
        let check = &mut link.identity;
        if check.verified {
            return;
        }
        if check.asked_at == 0 {
            let get = Message::get(IDENTITY_SOURCE, identity::ADDR, identity::SIZE_LOG2);
            if let Some(conn) = link.conn.as_mut() {
                // Out of credit: tried again after the next frame or timer.
                if conn.send(&get, now).is_ok() {
                    link.identity.asked_at = now.max(1);
                }
            }
        } else if now.saturating_sub(check.asked_at) >= IDENTITY_TIMEOUT_MS * NS_PER_MS {
            // The connection carries no answer (a slow or confused peer): ask again on a new
            // one rather than guess.
            self.reconnect(link, now);
        }
    }

    /// The answer to the identity `Get` (softirq).
    pub(super) fn on_identity(&self, link: &mut Link, m: &Message<'_>) {
        if link.identity.verified || link.identity.asked_at == 0 {
            return; // late answer to an earlier connection's question
        }
        let mut buf = [0u8; identity::LEN];
        let got = (m.opcode == Opcode::AccessAckData && m.err == 0 && m.data.len() == identity::LEN)
            .then(|| {
                m.data.copy_to(&mut buf);
                Identity::from_bytes(&buf)
            })
            .flatten();
        self.identity_known(link, got);
    }

    /// Decides whether the node still holds what devices stored on it: the same identity as
    /// before, or a first contact, keeps the epoch; anything else after a loss of contact
    /// (another identity, or none to compare) starts a new one.
    fn identity_known(&self, link: &mut Link, got: Option<Identity>) {
        let check = &mut link.identity;
        let same = match (check.known, got) {
            (Some(a), Some(b)) => a == b,
            _ => !check.contact_lost,
        };
        if !same {
            link.epoch = link.epoch.wrapping_add(1);
            // Requests queued while unverified were placed in the old epoch.
            link.io.fail_all();
            pr_warn!("node {}: its memory contents were lost (restarted or wiped); data stored there before is gone\n", self.id);
        }
        check.known = got;
        check.verified = true;
        check.contact_lost = false;
        check.asked_at = 0;
    }
}
