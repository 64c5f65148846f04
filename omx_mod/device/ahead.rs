// SPDX-License-Identifier: GPL-2.0

//! A device's read-ahead buffer: blocks fetched ahead of a reader that waits for each read
//! (`omx_logic::readahead` decides which), and the reads answered from them, at once or
//! once the fetch they need lands. The fetches are the node's ordinary reads with the
//! buffer as their destination ([`BufferSink`]).
//!
//! A read waiting here is started (its block-layer timer runs). It ends answered from the
//! buffer, or, when what it waits for goes away (a failed or overtaken fetch, a write, its
//! timer), offered to `queue_rq` again (requeued), to be sent like any read.
//!
//! Lock order: a node's lock, then this one (a fetch's answer is copied in under both);
//! `queue_rq` never holds this lock while it takes a node's.

use crate::device::mirror::DevShared;
use crate::glue::blk::{BlkOps, Leg, LegResult, NewRequest};
use crate::glue::spinlock_bh::{new_spinlock_bh, SpinLockBh};
use crate::glue::vmem::zeroed_bytes;
use crate::io::BufferSink;
use crate::omx_logic::readahead::{Answer, Fetches, Readahead, BLOCK, SLOTS};
use core::sync::atomic::Ordering::Relaxed;
use kernel::prelude::*;
use kernel::sync::Arc;

/// Reads that may wait for one slot's fetch.
const WAITING: usize = 4;

/// A read waiting for fetch `tag`.
struct Waiting {
    leg: Leg,
    tag: u64,
}

struct State {
    plan: Readahead,
    /// `SLOTS` blocks.
    buffer: VVec<u8>,
    /// Reads waiting, by the slot whose fetch they wait for.
    waiting: [[Option<Waiting>; WAITING]; SLOTS],
    /// How many there are (none: nothing to look at after a change).
    waiting_count: usize,
}

/// The read-ahead of one device.
#[pin_data]
pub(crate) struct Ahead {
    #[pin]
    state: SpinLockBh<State>,
    shared: Arc<DevShared>,
}

impl Ahead {
    /// An empty buffer for a device of `capacity` bytes. Process context.
    pub(crate) fn new(capacity: u64, shared: Arc<DevShared>) -> Result<Arc<Self>> {
        let buffer = zeroed_bytes(SLOTS * BLOCK as usize)?;
        let state = State {
            plan: Readahead::new(capacity),
            buffer,
            waiting: [const { [const { None }; WAITING] }; SLOTS],
            waiting_count: 0,
        };
        Arc::pin_init(
            pin_init!(Self {
                state <- new_spinlock_bh!(state, "omx_ahead"),
                shared,
            }),
            GFP_KERNEL,
        )
    }

    /// A read: answered here if the buffer holds all of it, or kept here until the fetch
    /// it needs lands (`None` back), else handed back to be sent. `idle`: nothing else of
    /// the device is in flight. Either way, the blocks to fetch now. Atomic context.
    pub(crate) fn read<T: BlkOps>(
        &self,
        rq: NewRequest<T>,
        idle: bool,
    ) -> (Option<NewRequest<T>>, Fetches) {
        let mut st = self.state.lock();
        let plan = st.plan.read(rq.offset(), rq.len(), idle);
        let rq = match plan.answer {
            Answer::Hit => {
                let leg = rq.start().split(1).next();
                if let Some(leg) = leg {
                    self.answer(&st, leg);
                }
                None
            }
            Answer::Wait(slot, tag) if st.has_room(slot) => {
                let leg = rq.start().split(1).next();
                if let Some(leg) = leg {
                    st.wait(slot, Waiting { leg, tag });
                }
                None
            }
            Answer::Wait(..) | Answer::Miss => Some(rq),
        };
        // Planning may have given a slot with waiting reads to another block.
        self.settle(&mut st);
        (rq, plan.fetches)
    }

    /// A write, write of zeroes or discard of `len` bytes at `off` is about to be sent, or
    /// the copies there may no longer be current: what the buffer holds there is dropped.
    pub(crate) fn invalidate(&self, off: u64, len: u32) {
        let mut st = self.state.lock();
        st.plan.invalidate(off, len);
        self.settle(&mut st);
    }

    /// A fetch that could not be sent.
    pub(crate) fn cancel(&self, tag: u64) {
        self.done(tag, false);
    }

    /// The block-layer timer of request `rq_id` expired: if it waits here, the fetch it
    /// waits for is given up and the read requeued, to be sent (and bounded) like any read.
    /// Whether it was here.
    pub(crate) fn expire(&self, rq_id: usize) -> bool {
        let mut st = self.state.lock();
        let tag = st
            .waiting
            .iter()
            .flatten()
            .flatten()
            .find_map(|w| (w.leg.id() == rq_id).then_some(w.tag));
        let Some(tag) = tag else {
            return false;
        };
        st.plan.fetched(tag, false);
        self.settle(&mut st);
        true
    }

    /// Answers `leg` from the buffer (its bytes are all in ready slots).
    fn answer(&self, st: &State, mut leg: Leg) {
        let (off, len) = (leg.offset(), leg.len());
        let mut ok = true;
        let filled = leg.fill_data(0, len as usize, |dst, at| {
            ok &= copy_out(&st.plan, &st.buffer, off + at as u64, dst);
        });
        if ok && filled.is_ok() {
            self.shared.stats.readahead_hits.fetch_add(1, Relaxed);
            leg.complete(LegResult::Ok);
        } else {
            // Cannot happen (the lock is held since the lookup); sent instead.
            leg.complete(LegResult::Retry);
        }
    }

    /// Moves on every waiting read whose fetch is no longer awaited: answered, waiting for
    /// another fetch, or requeued.
    fn settle(&self, st: &mut State) {
        if st.waiting_count == 0 {
            return;
        }
        for slot in 0..SLOTS {
            let awaited = st.plan.fetching(slot);
            for k in 0..WAITING {
                let Some(w) = st.take_if(slot, k, |w| awaited != Some(w.tag)) else {
                    continue;
                };
                match st.plan.lookup(w.leg.offset(), w.leg.len()) {
                    Answer::Hit => self.answer(st, w.leg),
                    Answer::Wait(s, tag) if st.has_room(s) => {
                        st.wait(s, Waiting { leg: w.leg, tag })
                    }
                    Answer::Wait(..) | Answer::Miss => w.leg.complete(LegResult::Retry),
                }
            }
        }
    }
}

impl State {
    fn has_room(&self, slot: usize) -> bool {
        self.waiting
            .get(slot)
            .is_some_and(|ws| ws.iter().any(|w| w.is_none()))
    }

    /// Keeps `w` until the fetch into `slot` lands (room checked by the caller).
    fn wait(&mut self, slot: usize, w: Waiting) {
        let free = self
            .waiting
            .get_mut(slot)
            .and_then(|ws| ws.iter_mut().find(|w| w.is_none()));
        match free {
            Some(place) => {
                *place = Some(w);
                self.waiting_count += 1;
            }
            None => w.leg.complete(LegResult::Retry),
        }
    }

    /// Takes the read waiting in place `k` of `slot` if `pred` holds for it.
    fn take_if(
        &mut self,
        slot: usize,
        k: usize,
        pred: impl Fn(&Waiting) -> bool,
    ) -> Option<Waiting> {
        let place = self.waiting.get_mut(slot)?.get_mut(k)?;
        if !place.as_ref().is_some_and(pred) {
            return None;
        }
        self.waiting_count -= 1;
        place.take()
    }
}

/// Copies the buffer's bytes from the device byte `off` on into `dst`, a block at a time.
fn copy_out(ra: &Readahead, buffer: &[u8], mut off: u64, dst: &mut [u8]) -> bool {
    let mut done = 0;
    while done < dst.len() {
        let n = ((BLOCK - off % BLOCK) as usize).min(dst.len() - done);
        let src = ra
            .locate(off)
            .and_then(|at| buffer.get(at..at.saturating_add(n)));
        match (src, dst.get_mut(done..done + n)) {
            (Some(src), Some(to)) => to.copy_from_slice(src),
            _ => return false,
        }
        done += n;
        off += n as u64;
    }
    true
}

impl BufferSink for Ahead {
    fn fill(&self, tag: u64, offset: usize, len: usize, fill: &mut dyn FnMut(&mut [u8])) {
        let mut st = self.state.lock();
        let State { plan, buffer, .. } = &mut *st;
        let Some(base) = plan.fill_target(tag) else {
            return;
        };
        if offset.saturating_add(len) > BLOCK as usize {
            return;
        }
        if let Some(dst) = buffer.get_mut(base + offset..base + offset + len) {
            fill(dst);
        }
    }

    fn done(&self, tag: u64, ok: bool) {
        let mut st = self.state.lock();
        st.plan.fetched(tag, ok);
        self.settle(&mut st);
    }
}
