// SPDX-License-Identifier: GPL-2.0

//! Where a request's copies go and room for them: the chunk placement mapped onto the
//! device's members, which copies are in service and current, and a slot reserved on each
//! node a request needs.

use super::mirror::DevShared;
use crate::io::IoKind;
use crate::node::{Node, NodeState, Reserve, Slot};
use crate::omx_logic::placement::{copy_order, Stripe};
use crate::omx_logic::MAX_REPLICAS;
use kernel::sync::Arc;

/// Where one copy of a request goes.
pub(super) struct Target {
    pub(super) member: usize,
    pub(super) addr: u64,
}

/// A member node and the region of it this device owns.
pub(crate) struct Member {
    pub(crate) node: Arc<Node>,
    pub(crate) base: u64,
    pub(crate) len: u64,
    /// The node's epoch at placement: once it died, its chunks fail with EIO for good.
    pub(crate) epoch: u64,
}

/// A device's members and shared state, as placing a request sees them.
pub(super) struct Layout<'a> {
    pub(super) members: &'a [Member],
    pub(super) shared: &'a DevShared,
}

impl<'a> Layout<'a> {
    /// Member index and node address of copy `r` of the disk byte `off`
    /// (`omx_logic::placement`).
    pub(super) fn place(&self, off: u64, r: u32) -> Option<Target> {
        let p = Stripe {
            members: self.members.len(),
            replicas: self.shared.replicas,
        }
        .place(off, r)?;
        let m = self.members.get(p.member)?;
        Some(Target {
            member: p.member,
            addr: p.addr(m.base, m.len)?,
        })
    }

    /// Whether copy `r` of the disk byte `off` is in service on a node that is up.
    fn serving(&self, off: u64, r: u32) -> bool {
        self.place(off, r).is_some_and(|t| {
            self.shared.in_service(t.member)
                && self
                    .members
                    .get(t.member)
                    .is_some_and(|m| m.node.state() == NodeState::Up)
        })
    }

    /// Whether every copy in service of the disk byte `off` is on a node that still holds
    /// what was placed there (not dead, contents not lost): else data read ahead from it
    /// must not be used.
    pub(super) fn copies_current(&self, off: u64) -> bool {
        (0..self.shared.replicas).all(|r| {
            self.place(off, r).is_none_or(|t| {
                !self.shared.in_service(t.member)
                    || self
                        .members
                        .get(t.member)
                        .is_some_and(|m| m.node.holds_epoch(m.epoch))
            })
        })
    }

    /// Reserves room on the nodes a request goes to: a read's first copy in service, a
    /// write's every copy in service. A copy on a node found dead leaves the mirror if
    /// another copy remains.
    pub(super) fn reserve(&self, off: u64, kind: IoKind) -> Result<Copies<'a>, Refused> {
        let mut out = Copies::default();
        // A read prefers a copy whose node is up to one waiting for its node to reconnect.
        let order = copy_order(kind == IoKind::Read, self.shared.replicas, |r| {
            self.serving(off, r)
        });
        for r in order.into_iter().take(self.shared.replicas as usize) {
            let Some(t) = self.place(off, r) else {
                return Err(Refused::Unusable(None));
            };
            if !self.shared.in_service(t.member) {
                continue;
            }
            let Some(member) = self.members.get(t.member) else {
                return Err(Refused::Unusable(None));
            };
            match member.node.reserve(member.epoch) {
                Reserve::Slot(slot) => out.push(t, slot),
                Reserve::Busy => return Err(Refused::Busy),
                Reserve::Dead => {
                    if !(self.shared.replicas > 1 && self.shared.take_out(t.member)) {
                        return Err(Refused::Unusable(Some(t.member)));
                    }
                }
            }
            if kind == IoKind::Read && out.len > 0 {
                break;
            }
        }
        if out.len == 0 {
            return Err(Refused::Unusable(None));
        }
        Ok(out)
    }
}

/// Why a request got no room.
pub(super) enum Refused {
    /// Some node it goes to is busy: offered again later.
    Busy,
    /// No copy of it is usable (on the dead node of that member, when known): it fails.
    Unusable(Option<usize>),
}

/// The (at most [`MAX_REPLICAS`]) copies a request was given room for.
#[derive(Default)]
pub(super) struct Copies<'a> {
    pub(super) copies: [Option<(Target, Slot<'a>)>; MAX_REPLICAS as usize],
    pub(super) len: usize,
}

impl<'a> Copies<'a> {
    fn push(&mut self, t: Target, slot: Slot<'a>) {
        if let Some(c) = self.copies.get_mut(self.len) {
            *c = Some((t, slot));
            self.len += 1;
        }
    }
}
