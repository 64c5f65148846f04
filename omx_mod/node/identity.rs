// SPDX-License-Identifier: GPL-2.0

//! The contents identity check, as a small state machine: after each (re)open the node's
//! identity is read (`omx_proto::identity`), and the answer says whether the node still
//! holds what devices stored there. Block I/O waits (and the node is not reported up) until
//! then. The node acts on what this decides (`state.rs`).

use crate::clock::NS_PER_MS;
use crate::omx_logic::lifecycle::keeps_contents;
use crate::omx_proto::identity::{self, Identity};
use crate::omx_proto::{Message, Opcode};

/// Source id of the contents identity `Get` (the largest 26-bit id, far from I/O's).
pub(super) const IDENTITY_SOURCE: u32 = (1 << 26) - 1;
/// A node that leaves the identity `Get` unanswered this long is asked again on a new
/// connection. TileLink answers every Get (peers without identities deny it at once, which
/// counts as an answer), so a missing answer says nothing about the node's memory: taking it
/// for "no identity" at first contact made a later answer look like lost contents.
const IDENTITY_TIMEOUT_MS: u64 = 10_000;

/// What the check needs from the node now.
pub(super) enum Step {
    Nothing,
    /// Send [`IdentityCheck::question`] (and say [`IdentityCheck::asked`] if it went out).
    Ask,
    /// The question went unanswered: ask again on a new connection rather than guess.
    Reconnect,
}

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

    /// On a connection that is `open` (or not): what to do for the check.
    pub(super) fn step(&mut self, open: bool, now: u64) -> Step {
        if !open {
            self.new_connection();
            return Step::Nothing;
        }
        if self.verified {
            Step::Nothing
        } else if self.asked_at == 0 {
            Step::Ask
        } else if now.saturating_sub(self.asked_at) >= IDENTITY_TIMEOUT_MS * NS_PER_MS {
            Step::Reconnect
        } else {
            Step::Nothing
        }
    }

    /// The question: a `Get` of the identity block.
    pub(super) fn question() -> Message<'static> {
        Message::get(IDENTITY_SOURCE, identity::ADDR, identity::SIZE_LOG2)
    }

    /// The question went out at `now`.
    pub(super) fn asked(&mut self, now: u64) {
        self.asked_at = now.max(1);
    }

    /// When an unanswered question is given up on (`None`: nothing awaited).
    pub(super) fn answer_due(&self) -> Option<u64> {
        (!self.verified && self.asked_at != 0).then(|| {
            self.asked_at
                .saturating_add(IDENTITY_TIMEOUT_MS * NS_PER_MS)
        })
    }

    /// The answer to the question (softirq). Returns whether the node kept its contents:
    /// the same identity as before, or a first contact, keeps them; anything else after a
    /// loss of contact (another identity, or none to compare) lost them. `None`: a late
    /// answer to an earlier connection's question, ignored.
    pub(super) fn answered(&mut self, m: &Message<'_>) -> Option<bool> {
        if self.verified || self.asked_at == 0 {
            return None;
        }
        let mut buf = [0u8; identity::LEN];
        let got =
            (m.opcode == Opcode::AccessAckData && m.err == 0 && m.data.len() == identity::LEN)
                .then(|| {
                    m.data.copy_to(&mut buf);
                    Identity::from_bytes(&buf)
                })
                .flatten();
        let same = keeps_contents(self.known.as_ref(), got.as_ref(), self.contact_lost);
        self.known = got;
        self.verified = true;
        self.contact_lost = false;
        self.asked_at = 0;
        Some(same)
    }
}
