// SPDX-License-Identifier: GPL-2.0

//! The table of pool nodes, shared by the control plane and the receive path.

use crate::glue::netdev::NetDevice;
use crate::glue::packet::wait_for_receivers;
use crate::glue::spinlock_bh::{new_spinlock_bh, SpinLockBh};
use crate::mac::MacAddr;
use crate::node::Node;
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};
use kernel::prelude::*;
use kernel::sync::Arc;

/// Pool nodes per host: a fixed table, so the receive path never allocates or resizes.
pub(crate) const MAX_NODES: usize = 32;

/// Why a node could not be added.
pub(crate) enum AddError {
    /// A node with the same interface and MAC exists.
    Duplicate,
    /// `MAX_NODES` are registered.
    Full,
}

/// All registered nodes. Lookups clone the `Arc` and drop the lock before using a node;
/// nodes are only ever dropped outside the lock.
#[pin_data]
pub(crate) struct Nodes {
    #[pin]
    table: SpinLockBh<[Option<Arc<Node>>; MAX_NODES]>,
    next_id: AtomicU32,
}

impl Nodes {
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                table <- new_spinlock_bh!([const { None }; MAX_NODES], "omx_nodes"),
                next_id: AtomicU32::new(1),
            }),
            GFP_KERNEL,
        )
    }

    /// A fresh node id (never reused while the module is loaded).
    pub(crate) fn allocate_id(&self) -> u32 {
        self.next_id.fetch_add(1, Relaxed)
    }

    fn find_by(&self, pred: impl Fn(&Node) -> bool) -> Option<Arc<Node>> {
        self.table
            .lock()
            .iter()
            .flatten()
            .find(|n| pred(n))
            .cloned()
    }

    /// The node with this interface and peer, if any (receive path). Nodes are bound to an
    /// interface of the initial network namespace (by index, unique there): the caller
    /// passes only devices of that namespace (`rx.rs` counts and drops the others first).
    pub(crate) fn find(&self, dev: &NetDevice, peer: MacAddr) -> Option<Arc<Node>> {
        let ifindex = dev.ifindex();
        self.find_by(|n| n.matches(ifindex, peer))
    }

    pub(crate) fn get(&self, id: u32) -> Option<Arc<Node>> {
        self.find_by(|n| n.id == id)
    }

    /// The first node with an id of at least `id`, for dumps that resume by id.
    pub(crate) fn next_from(&self, id: u32) -> Option<Arc<Node>> {
        self.table
            .lock()
            .iter()
            .flatten()
            .filter(|n| n.id >= id)
            .min_by_key(|n| n.id)
            .cloned()
    }

    pub(crate) fn insert(&self, node: Arc<Node>) -> Result<(), (AddError, Arc<Node>)> {
        let mut table = self.table.lock();
        if table
            .iter()
            .flatten()
            .any(|n| n.matches(node.params.ifindex, node.params.peer))
        {
            drop(table);
            return Err((AddError::Duplicate, node));
        }
        match table.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => {
                *slot = Some(node);
                Ok(())
            }
            None => {
                drop(table);
                Err((AddError::Full, node))
            }
        }
    }

    /// Removes and returns the first node matching `pred`. Process context (may sleep).
    ///
    /// The receive path clones a node's `Arc` for the length of one receive batch, inside
    /// the NET_RX softirq; once those receivers are done, the reference returned here is the
    /// last one outside the devices, so a node is freed in process context: its `Drop` kills
    /// its timer and tasklet, which must not happen in softirq.
    fn take_by(&self, pred: impl Fn(&Node) -> bool) -> Option<Arc<Node>> {
        let node = {
            let mut table = self.table.lock();
            table
                .iter_mut()
                .find(|slot| slot.as_ref().is_some_and(|n| pred(n)))?
                .take()
        };
        wait_for_receivers();
        node
    }

    pub(crate) fn remove(&self, id: u32) -> Option<Arc<Node>> {
        self.take_by(|n| n.id == id)
    }

    /// Removes one node using `dev` (call until `None` when the interface goes away); none for
    /// a device of another network namespace than the initial one (see [`Nodes::find`]).
    pub(crate) fn remove_one_on(&self, dev: &NetDevice) -> Option<Arc<Node>> {
        if !dev.in_initial_netns() {
            return None;
        }
        let ifindex = dev.ifindex();
        self.take_by(|n| n.params.ifindex == ifindex)
    }

    /// Removes any one node (call until `None` at module unload).
    pub(crate) fn remove_any(&self) -> Option<Arc<Node>> {
        self.take_by(|_| true)
    }
}
