// SPDX-License-Identifier: GPL-2.0

//! A device's read-ahead buffer: blocks fetched ahead of a reader that waits for each read
//! (`omx_logic::readahead` decides which), and the reads answered from them, at once or
//! when their bytes of the fetch they wait for have landed. The fetches are the node's
//! ordinary reads with the buffer as their destination ([`BufferSink`]).
//!
//! Lock order: a node's lock, then this one (a fetch's answer is copied in under both, a
//! write drops the blocks it overlaps under both);
//! `queue_rq` never holds this lock while it takes a node's. Reads are completed after
//! this lock is dropped (a waiting one possibly still under the node's, as the node's own
//! reads are).

use crate::device::mirror::DevShared;
use crate::glue::blk::{BlkOps, Leg, LegResult, NewRequest};
use crate::glue::spinlock_bh::{new_spinlock_bh, SpinLockBh};
use crate::glue::vmem::zeroed_bytes;
use crate::io::BufferSink;
use crate::omx_logic::readahead::{Fetches, Found, Readahead, BLOCK, SLOTS};
use core::sync::atomic::Ordering::Relaxed;
use kernel::prelude::*;
use kernel::sync::Arc;

/// Reads that may wait for fetches at once; further ones are sent. A reader that waits
/// for each read has one at a time.
const WAITERS: usize = 8;

/// A read waiting for the fetch `tag` of a block it covers.
struct Waiter {
    tag: u64,
    off: u64,
    len: u32,
    leg: Leg,
}

/// Reads to complete once the lock is dropped.
type Finished = [Option<(Leg, LegResult)>; WAITERS];

struct State {
    plan: Readahead,
    /// `SLOTS` blocks.
    buffer: VVec<u8>,
    waiters: [Option<Waiter>; WAITERS],
}

/// The read-ahead of one device.
#[pin_data]
pub(crate) struct Ahead {
    #[pin]
    state: SpinLockBh<State>,
    shared: Arc<DevShared>,
}

impl Ahead {
    /// An empty buffer (1 MiB) for a device of `capacity` bytes. Process context.
    pub(crate) fn new(capacity: u64, shared: Arc<DevShared>) -> Result<Arc<Self>> {
        let buffer = zeroed_bytes(SLOTS * BLOCK as usize)?;
        let state = State {
            plan: Readahead::new(capacity),
            buffer,
            waiters: Default::default(),
        };
        Arc::pin_init(
            pin_init!(Self {
                state <- new_spinlock_bh!(state, "omx_ahead"),
                shared,
            }),
            GFP_KERNEL,
        )
    }

    /// A read: answered here if the buffer holds all of it, or taken to wait for the fetch
    /// of a block it covers that is on its way (`None` back either way); else handed back
    /// to be sent. `idle`: no other read of the device is in flight. Either way, the blocks
    /// to fetch now. Atomic context.
    pub(crate) fn read<T: BlkOps>(
        &self,
        rq: NewRequest<T>,
        idle: bool,
    ) -> (Option<NewRequest<T>>, Fetches) {
        let (off, len) = (rq.offset(), rq.len());
        let mut finished: Option<(Leg, LegResult)> = None;
        let fetches = {
            let st = &mut *self.state.lock();
            let plan = st.plan.read(off, len, idle);
            let free = st.waiters.iter().position(Option::is_none);
            match (plan.found, free) {
                (Found::Missing, _) | (Found::OnItsWay(_), None) => {
                    return (Some(rq), plan.fetches)
                }
                (Found::OnItsWay(tag), Some(i)) => {
                    if let Some(leg) = rq.start().split(1).next() {
                        st.waiters[i] = Some(Waiter { tag, off, len, leg });
                    }
                }
                (Found::Ready, _) => {
                    if let Some(mut leg) = rq.start().split(1).next() {
                        let result = answer(&st.plan, &st.buffer, &mut leg, off, len);
                        finished = Some((leg, result));
                    }
                }
            }
            plan.fetches
        };
        self.complete(finished);
        (None, fetches)
    }

    /// Completes reads answered from the buffer (or to be sent again). Not under the lock.
    fn complete(&self, finished: impl IntoIterator<Item = (Leg, LegResult)>) {
        for (leg, result) in finished {
            if result == LegResult::Ok {
                self.shared.stats.readahead_hits.fetch_add(1, Relaxed);
            }
            leg.complete(result);
        }
    }

    /// A write, write of zeroes or discard of `len` bytes at `off` is queued on a node, or
    /// the copies there may no longer be current: what the buffer holds there is dropped.
    /// Possibly under a node's lock.
    pub(crate) fn invalidate(&self, off: u64, len: u32) {
        self.state.lock().plan.invalidate(off, len);
    }

    /// A fetch that could not be sent.
    pub(crate) fn cancel(&self, tag: u64) {
        self.done(tag, false);
    }

    /// The block layer's timeout of request `id`: if it waits for a fetch, it is sent
    /// again (requeued) and true comes back; the fetch is given up, so that the read goes
    /// to the node this time. A fetch ends when its node answers or is found dead, so this
    /// only matters if one never ended.
    pub(crate) fn expire(&self, id: usize) -> bool {
        let waiter = {
            let st = &mut *self.state.lock();
            let waiter = st
                .waiters
                .iter_mut()
                .find(|w| w.as_ref().is_some_and(|w| w.leg.id() == id))
                .and_then(Option::take);
            if let Some(w) = &waiter {
                st.plan.fetched(w.tag, false);
            }
            waiter
        };
        let Some(waiter) = waiter else {
            return false;
        };
        waiter.leg.complete(LegResult::Retry);
        true
    }
}

/// Answers a read of `len` bytes at `off` from the buffer into `leg`'s pages.
fn answer(plan: &Readahead, buffer: &[u8], leg: &mut Leg, off: u64, len: u32) -> LegResult {
    let mut ok = true;
    let filled = leg.fill_data(0, len as usize, |dst, at| {
        ok &= copy_out(plan, buffer, off + at as u64, dst);
    });
    if ok && filled.is_ok() {
        LegResult::Ok
    } else {
        // Cannot happen (the lock is held since the lookup); sent instead (requeued).
        LegResult::Retry
    }
}

/// Copies the buffer's bytes from the device byte `off` on into `dst`, a block at a time.
fn copy_out(ra: &Readahead, buffer: &[u8], mut off: u64, dst: &mut [u8]) -> bool {
    let mut done = 0;
    while done < dst.len() {
        let n = ((BLOCK - off % BLOCK) as usize).min(dst.len() - done);
        let src = ra
            .locate(off, n as u32)
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
    /// Also answers the reads waiting for the fetch whose bytes have all landed now (the
    /// node answers a fetch's pieces in order: a read near the block's start does not wait
    /// for the rest of it).
    fn fill(&self, tag: u64, offset: usize, len: usize, fill: &mut dyn FnMut(&mut [u8])) {
        let mut finished = Finished::default();
        {
            let st = &mut *self.state.lock();
            let State {
                plan,
                buffer,
                waiters,
            } = st;
            let (Ok(offset), Ok(len)) = (u32::try_from(offset), u32::try_from(len)) else {
                return;
            };
            // They count as landed from here; written below, under the same lock (the
            // buffer holds `SLOTS` whole blocks and `land` keeps within one).
            let Some(at) = plan.land(tag, offset, len) else {
                return;
            };
            let Some(dst) = buffer.get_mut(at..at.saturating_add(len as usize)) else {
                return;
            };
            fill(dst);
            for (slot, out) in waiters.iter_mut().zip(finished.iter_mut()) {
                let Some(w) = slot.as_mut().filter(|w| w.tag == tag) else {
                    continue;
                };
                match plan.find(w.off, w.len) {
                    Found::Ready => {
                        let result = answer(plan, buffer, &mut w.leg, w.off, w.len);
                        *out = slot.take().map(|w| (w.leg, result));
                    }
                    // Its bytes of this block landed; another block's are still on their way.
                    Found::OnItsWay(next) => w.tag = next,
                    // Settled when this fetch ends.
                    Found::Missing => {}
                }
            }
        }
        self.complete(finished.into_iter().flatten());
    }

    /// Also settles the reads waiting for the fetch: answered if the buffer now holds all
    /// of each, waiting on for another fetch on its way, else sent again (requeued: the
    /// fetch failed, or a write overtook it).
    fn done(&self, tag: u64, ok: bool) {
        let mut finished = Finished::default();
        {
            let st = &mut *self.state.lock();
            st.plan.fetched(tag, ok);
            let State {
                plan,
                buffer,
                waiters,
            } = st;
            for (slot, out) in waiters.iter_mut().zip(finished.iter_mut()) {
                let Some(w) = slot.as_mut().filter(|w| w.tag == tag) else {
                    continue;
                };
                let result = match plan.find(w.off, w.len) {
                    Found::OnItsWay(next) => {
                        w.tag = next;
                        continue;
                    }
                    Found::Ready => answer(plan, buffer, &mut w.leg, w.off, w.len),
                    Found::Missing => LegResult::Retry,
                };
                *out = slot.take().map(|w| (w.leg, result));
            }
        }
        self.complete(finished.into_iter().flatten());
    }
}
