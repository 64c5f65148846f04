// SPDX-License-Identifier: GPL-2.0

//! The client's received frames whose requests wait for credits or window space
//! (`omx_proto::serve::FrameQueue`): a ring of frame copies. The ring is allocated when the
//! lending is added; a copy goes into a buffer held ready beforehand, so a frame the
//! connection accepted (and acknowledged) is never lost for want of memory: without a buffer
//! ready, frames with requests are refused and the client resends them.

use crate::omx_proto::serve::FrameQueue;
use kernel::prelude::*;

/// A waiting frame: the TLoE frame as received (trailer removed), and the index of its first
/// message not yet carried out.
struct Waiting {
    tloe: KVec<u8>,
    next: usize,
}

pub(super) struct WaitingFrames {
    ring: KVVec<Option<Waiting>>,
    head: usize,
    len: usize,
    /// The empty buffer the next waiting frame is copied into (a TLoE frame of the MTU fits).
    ready: Option<KVec<u8>>,
    frame_capacity: usize,
}

impl WaitingFrames {
    /// Room for `capacity` waiting frames (`omx_proto::serve::max_waiting`) of at most
    /// `frame_capacity` bytes. Process context.
    pub(super) fn new(capacity: usize, frame_capacity: usize) -> Result<Self> {
        let mut ring = KVVec::with_capacity(capacity, GFP_KERNEL)?;
        for _ in 0..capacity {
            ring.push(None, GFP_KERNEL)?;
        }
        Ok(Self {
            ring,
            head: 0,
            len: 0,
            ready: Some(KVec::with_capacity(frame_capacity, GFP_KERNEL)?),
            frame_capacity,
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

    /// A buffer is ready, or can be had now (atomically; no warning when there is none).
    fn has_room(&mut self) -> bool {
        if self.len >= self.ring.len() {
            return false;
        }
        if self.ready.is_none() {
            self.ready = KVec::with_capacity(self.frame_capacity, GFP_ATOMIC | __GFP_NOWARN).ok();
        }
        self.ready.is_some()
    }

    fn push_back(&mut self, tloe: &[u8], next: usize) -> bool {
        let cap = self.ring.len();
        if self.len >= cap || tloe.len() > self.frame_capacity {
            return false;
        }
        // An empty buffer of the frame capacity: the copy allocates nothing.
        let Some(mut copy) = self.ready.take() else {
            return false;
        };
        if copy
            .extend_from_slice(tloe, GFP_ATOMIC | __GFP_NOWARN)
            .is_err()
        {
            return false;
        }
        let at = (self.head + self.len) % cap;
        let Some(place) = self.ring.get_mut(at) else {
            return false;
        };
        *place = Some(Waiting { tloe: copy, next });
        self.len += 1;
        true
    }

    fn front_mut(&mut self) -> Option<(&[u8], &mut usize)> {
        if self.len == 0 {
            return None;
        }
        let w = self.ring.get_mut(self.head)?.as_mut()?;
        Some((&w.tloe, &mut w.next))
    }

    /// Forgets the oldest waiting frame (its buffer is freed: the next ready one is a new,
    /// empty one, taken by `has_room`).
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
