// SPDX-License-Identifier: GPL-2.0

//! A device's read-ahead buffer: blocks fetched ahead of a reader that waits for each read
//! (`omx_logic::readahead` decides which), and the reads answered from them. The fetches
//! are the node's ordinary reads with the buffer as their destination ([`BufferSink`]).
//!
//! Lock order: a node's lock, then this one (a fetch's answer is copied in under both);
//! `queue_rq` never holds this lock while it takes a node's.

use crate::device::mirror::DevShared;
use crate::glue::blk::{BlkOps, LegResult, NewRequest};
use crate::glue::spinlock_bh::{new_spinlock_bh, SpinLockBh};
use crate::glue::vmem::zeroed_bytes;
use crate::io::BufferSink;
use crate::omx_logic::readahead::{Fetches, Readahead, BLOCK, SLOTS};
use core::sync::atomic::Ordering::Relaxed;
use kernel::prelude::*;
use kernel::sync::Arc;

struct State {
    plan: Readahead,
    /// `SLOTS` blocks.
    buffer: VVec<u8>,
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
        };
        Arc::pin_init(
            pin_init!(Self {
                state <- new_spinlock_bh!(state, "omx_ahead"),
                shared,
            }),
            GFP_KERNEL,
        )
    }

    /// A read: answered and completed here if the buffer holds all of it (`None` back),
    /// else handed back to be sent. `idle`: nothing else of the device is in flight. Either
    /// way, the blocks to fetch now. Atomic context.
    pub(crate) fn read<T: BlkOps>(
        &self,
        rq: NewRequest<T>,
        idle: bool,
    ) -> (Option<NewRequest<T>>, Fetches) {
        let (off, len) = (rq.offset(), rq.len());
        let st = &mut *self.state.lock();
        let plan = st.plan.read(off, len, idle);
        if !plan.hit {
            return (Some(rq), plan.fetches);
        }
        let mut ok = true;
        if let Some(mut leg) = rq.start().split(1).next() {
            let filled = leg.fill_data(0, len as usize, |dst, at| {
                ok &= copy_out(&st.plan, &st.buffer, off + at as u64, dst);
            });
            if ok && filled.is_ok() {
                self.shared.stats.readahead_hits.fetch_add(1, Relaxed);
                leg.complete(LegResult::Ok);
            } else {
                // Cannot happen (the lock is held since the lookup); sent instead (requeued).
                leg.complete(LegResult::Retry);
            }
        }
        (None, plan.fetches)
    }

    /// A write, write of zeroes or discard of `len` bytes at `off` is about to be sent, or
    /// the copies there may no longer be current: what the buffer holds there is dropped.
    pub(crate) fn invalidate(&self, off: u64, len: u32) {
        self.state.lock().plan.invalidate(off, len);
    }

    /// A fetch that could not be sent.
    pub(crate) fn cancel(&self, tag: u64) {
        self.done(tag, false);
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
        self.state.lock().plan.fetched(tag, ok);
    }
}
