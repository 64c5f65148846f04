// SPDX-License-Identifier: GPL-2.0

//! The table of lendings (memory this host lends to clients), shared by the control plane
//! and the receive path.

use crate::glue::netdev::NetDevice;
use crate::glue::packet::wait_for_receivers;
use crate::glue::spinlock_bh::{new_spinlock_bh, SpinLockBh};
use crate::lend::Lend;
use crate::mac::MacAddr;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};
use kernel::prelude::*;
use kernel::sync::Arc;

/// Lendings per host: a fixed table, so the receive path never allocates or resizes.
pub(crate) const MAX_LENDS: usize = 32;

/// All lendings. Lookups clone the `Arc` and drop the lock before using a lending;
/// lendings are only ever dropped outside the lock, in process context.
#[pin_data]
pub(crate) struct Lends {
    #[pin]
    table: SpinLockBh<[Option<Arc<Lend>>; MAX_LENDS]>,
    next_id: AtomicU32,
}

/// Why a lending could not be added.
pub(crate) enum LendAddError {
    /// One for the same interface and client exists.
    Duplicate,
    /// `MAX_LENDS` are registered.
    Full,
}

impl Lends {
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                table <- new_spinlock_bh!([const { None }; MAX_LENDS], "omx_lends"),
                next_id: AtomicU32::new(1),
            }),
            GFP_KERNEL,
        )
    }

    /// A fresh id (never reused while the module is loaded).
    pub(crate) fn allocate_id(&self) -> u32 {
        self.next_id.fetch_add(1, Relaxed)
    }

    fn find_by(&self, pred: impl Fn(&Lend) -> bool) -> Option<Arc<Lend>> {
        self.table
            .lock()
            .iter()
            .flatten()
            .find(|l| pred(l))
            .cloned()
    }

    /// The lending to `client` on `dev`, if any (receive path; devices of the initial
    /// network namespace only, as for nodes).
    pub(crate) fn find(&self, dev: &NetDevice, client: MacAddr) -> Option<Arc<Lend>> {
        let ifindex = dev.ifindex();
        self.find_by(|l| l.matches(ifindex, client))
    }

    pub(crate) fn get(&self, id: u32) -> Option<Arc<Lend>> {
        self.find_by(|l| l.id == id)
    }

    /// The first lending with an id of at least `id`, for dumps that resume by id.
    pub(crate) fn next_from(&self, id: u32) -> Option<Arc<Lend>> {
        self.table
            .lock()
            .iter()
            .flatten()
            .filter(|l| l.id >= id)
            .min_by_key(|l| l.id)
            .cloned()
    }

    pub(crate) fn insert(&self, lend: Arc<Lend>) -> Result<(), (LendAddError, Arc<Lend>)> {
        let mut table = self.table.lock();
        if table
            .iter()
            .flatten()
            .any(|l| l.matches(lend.params.ifindex, lend.params.client))
        {
            drop(table);
            return Err((LendAddError::Duplicate, lend));
        }
        match table.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => {
                *slot = Some(lend);
                Ok(())
            }
            None => {
                drop(table);
                Err((LendAddError::Full, lend))
            }
        }
    }

    /// Removes and returns the first lending matching `pred`, once no receiver uses it
    /// (see `Nodes::take_by`). Process context (may sleep).
    fn take_by(&self, pred: impl Fn(&Lend) -> bool) -> Option<Arc<Lend>> {
        let lend = {
            let mut table = self.table.lock();
            table
                .iter_mut()
                .find(|slot| slot.as_ref().is_some_and(|l| pred(l)))?
                .take()
        };
        wait_for_receivers();
        lend
    }

    pub(crate) fn remove(&self, id: u32) -> Option<Arc<Lend>> {
        self.take_by(|l| l.id == id)
    }

    /// Removes one lending on `dev` (call until `None` when the interface goes away).
    pub(crate) fn remove_one_on(&self, dev: &NetDevice) -> Option<Arc<Lend>> {
        if !dev.in_initial_netns() {
            return None;
        }
        let ifindex = dev.ifindex();
        self.take_by(|l| l.params.ifindex == ifindex)
    }

    /// Removes any one lending (call until `None` at module unload).
    pub(crate) fn remove_any(&self) -> Option<Arc<Lend>> {
        self.take_by(|_| true)
    }
}
