// SPDX-License-Identifier: GPL-2.0

//! What a device's requests carry along to the nodes: its counters, the mirror's membership
//! (which members' copies are in service) and the failure policy the I/O tables report to
//! through [`LegOwner`], with rate-limited reports upward through [`DevObserver`].

use crate::clock::now_ns;
use crate::glue::blk::LegResult;
use crate::io::LegOwner;
use crate::omx_logic::mirror;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::prelude::*;
use kernel::str::{CStr, CString};
use kernel::sync::Arc;

/// Counters of a device (`dev-stats`).
#[derive(Default)]
pub(crate) struct DevStats {
    pub(crate) reads: AtomicU64,
    pub(crate) writes: AtomicU64,
    pub(crate) read_bytes: AtomicU64,
    pub(crate) write_bytes: AtomicU64,
    pub(crate) discards: AtomicU64,
    pub(crate) errors: AtomicU64,
    /// Legs (one per copy written or read) on their way to nodes.
    pub(crate) in_flight: AtomicU64,
    /// Reads retried on the other copy after the first failed.
    pub(crate) failovers: AtomicU64,
    /// Reads answered from the read-ahead buffer (also counted in `reads`).
    pub(crate) readahead_hits: AtomicU64,
    /// Blocks fetched ahead (`omx_logic::readahead::BLOCK` bytes each).
    pub(crate) readahead_fetches: AtomicU64,
}

/// Who hears of a device's I/O errors and members leaving its mirror (the netlink events
/// layer above). Any context.
pub(crate) trait DevObserver: Send + Sync {
    fn dev_error(&self, name: &CStr, node_id: u32);
}

/// Error reports (dev-error-ntf) of a device are at most this frequent.
const ERROR_REPORT_NS: u64 = 1_000_000_000;

/// What a device's requests carry along to the node: counters, the mirror's state, and
/// where errors go.
pub(crate) struct DevShared {
    pub(crate) stats: DevStats,
    name: CString,
    observer: Arc<dyn DevObserver>,
    /// When the last dev-error-ntf went out (0: never).
    last_report_ns: AtomicU64,
    /// When the last line about a timed-out request was logged (0: never), and how many
    /// were not logged since.
    last_timeout_log_ns: AtomicU64,
    timeouts_unlogged: AtomicU64,
    /// Node id of each member, for reports.
    member_ids: KVec<u32>,
    pub(super) replicas: u32,
    /// Members taken out of the mirror (bit per member index): their copies are stale.
    out_of_service: AtomicU64,
    /// Reads on their way to nodes: none while the read-ahead's reader waits for each of
    /// its reads (writes in flight, swap-out's, do not make it a reader with reads queued).
    pub(super) reads_in_flight: AtomicU64,
}

impl LegOwner for DevShared {
    fn leg_done(&self, member: usize, read: bool, ok: bool) -> LegResult {
        self.stats.in_flight.fetch_sub(1, Relaxed);
        if read {
            self.reads_in_flight.fetch_sub(1, Relaxed);
        }
        if ok {
            return LegResult::Ok;
        }
        self.leg_failed(member, read)
    }
}

impl DevShared {
    /// The shared state of device `name` over the nodes `member_ids` (in member order).
    pub(super) fn new(
        name: CString,
        member_ids: KVec<u32>,
        replicas: u32,
        observer: Arc<dyn DevObserver>,
    ) -> Self {
        Self {
            stats: DevStats::default(),
            name,
            observer,
            last_report_ns: AtomicU64::new(0),
            last_timeout_log_ns: AtomicU64::new(0),
            timeouts_unlogged: AtomicU64::new(0),
            member_ids,
            replicas,
            out_of_service: AtomicU64::new(0),
            reads_in_flight: AtomicU64::new(0),
        }
    }

    /// A leg on member `m` failed (any context, possibly under that node's lock). Mirrored,
    /// the member leaves the mirror if its neighbours (the other copy of each of its chunks)
    /// are in service: a write then completes on the other copy, a read is retried there.
    /// Otherwise the I/O fails: counted, and reported at most once a second.
    fn leg_failed(&self, m: usize, read: bool) -> LegResult {
        if self.replicas > 1 && self.take_out(m) {
            if read {
                self.stats.failovers.fetch_add(1, Relaxed);
                return LegResult::Retry;
            }
            return LegResult::Failed;
        }
        self.count_failure(m);
        LegResult::Failed
    }

    /// A request failed on member `m`'s node: counted, and reported at most once a second.
    pub(super) fn count_failure(&self, m: usize) {
        self.stats.errors.fetch_add(1, Relaxed);
        let now = now_ns();
        let last = self.last_report_ns.load(Relaxed);
        if last != 0 && now.saturating_sub(last) < ERROR_REPORT_NS {
            return;
        }
        if self
            .last_report_ns
            .compare_exchange(last, now.max(1), Relaxed, Relaxed)
            .is_ok()
        {
            self.observer.dev_error(&self.name, self.member_id(m));
        }
    }

    /// Logs a request that timed out on node `node_id`, at most one line a second per
    /// device: a dead node fails many requests at once, and each would be a line.
    pub(super) fn log_timeout(&self, offset: u64, node_id: u32) {
        let now = now_ns();
        let last = self.last_timeout_log_ns.load(Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= ERROR_REPORT_NS;
        if !due
            || self
                .last_timeout_log_ns
                .compare_exchange(last, now.max(1), Relaxed, Relaxed)
                .is_err()
        {
            self.timeouts_unlogged.fetch_add(1, Relaxed);
            return;
        }
        let unlogged = self.timeouts_unlogged.swap(0, Relaxed);
        if unlogged == 0 {
            pr_warn!(
                "{}: request at {} timed out on node {}\n",
                &*self.name,
                offset,
                node_id
            );
        } else {
            pr_warn!(
                "{}: request at {} timed out on node {} ({} more not logged)\n",
                &*self.name,
                offset,
                node_id,
                unlogged
            );
        }
    }

    fn member_id(&self, m: usize) -> u32 {
        self.member_ids.get(m).copied().unwrap_or(0)
    }

    /// Whether member `m` still holds valid copies.
    pub(super) fn in_service(&self, m: usize) -> bool {
        mirror::in_service(self.out_of_service.load(Relaxed), m)
    }

    /// Takes member `m` out of the mirror unless that would leave a chunk with no copy in
    /// service (`omx_logic::mirror`); returns whether `m` is out now. Lock-free: concurrent
    /// failures of two neighbours serialise on the mask, so one of them always stays in.
    pub(super) fn take_out(&self, m: usize) -> bool {
        let k = self.member_ids.len();
        let taken = self
            .out_of_service
            .fetch_update(Relaxed, Relaxed, |mask| mirror::take_out(mask, m, k));
        match taken {
            Ok(before) if mirror::in_service(before, m) => {
                pr_warn!(
                    "{}: node {} left the mirror; its copies are no longer used\n",
                    &*self.name,
                    self.member_id(m)
                );
                self.observer.dev_error(&self.name, self.member_id(m));
                true
            }
            Ok(_) => true,
            Err(_) => false,
        }
    }
}
