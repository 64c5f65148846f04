// SPDX-License-Identifier: GPL-2.0

//! The client's received frames whose requests wait for credits or window space
//! (`omx_proto::serve::FrameQueue`): a ring of frame copies whose places are allocated when
//! the lending is added; the copies themselves atomically, in the receive path.

use crate::omx_proto::serve::FrameQueue;
use kernel::prelude::*;

/// A waiting frame: the TLoE frame as received (trailer removed), and the index of its first
/// message not yet carried out.
struct Waiting {
    tloe: KVec<u8>,
    next: usize,
}

pub(super) struct WaitingFrames {
    ring: KVec<Option<Waiting>>,
    head: usize,
    len: usize,
}

impl WaitingFrames {
    /// Room for `capacity` waiting frames (twice `omx_proto::serve::max_deferred`: the most a
    /// client's queue takes). Process context.
    pub(super) fn new(capacity: usize) -> Result<Self> {
        let mut ring = KVec::with_capacity(capacity, GFP_KERNEL)?;
        for _ in 0..capacity {
            ring.push(None, GFP_KERNEL)?;
        }
        Ok(Self {
            ring,
            head: 0,
            len: 0,
        })
    }

    /// Forgets every waiting frame (the connection ended).
    pub(super) fn clear(&mut self) {
        while self.len > 0 {
            self.pop_front();
        }
    }
}

impl FrameQueue for WaitingFrames {
    fn len(&self) -> usize {
        self.len
    }

    fn push_back(&mut self, tloe: &[u8], next: usize) -> bool {
        let cap = self.ring.len();
        if self.len >= cap {
            return false;
        }
        let mut copy = KVec::new();
        if copy.extend_from_slice(tloe, GFP_ATOMIC).is_err() {
            return false;
        }
        let at = (self.head + self.len) % cap;
        if let Some(place) = self.ring.get_mut(at) {
            *place = Some(Waiting { tloe: copy, next });
            self.len += 1;
            return true;
        }
        false
    }

    fn front_mut(&mut self) -> Option<(&[u8], &mut usize)> {
        if self.len == 0 {
            return None;
        }
        let w = self.ring.get_mut(self.head)?.as_mut()?;
        Some((&w.tloe, &mut w.next))
    }

    fn pop_front(&mut self) {
        if self.len == 0 {
            return;
        }
        if let Some(place) = self.ring.get_mut(self.head) {
            *place = None;
        }
        self.head = (self.head + 1) % self.ring.len().max(1);
        self.len -= 1;
    }
}
