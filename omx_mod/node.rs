// SPDX-License-Identifier: GPL-2.0

//! A pool node: the OmniXtend connection to one peer that lends memory, kept alive by a
//! timer, declared dead when it stops answering and reopened when it comes back.
//!
//! This file holds the node's state and its lifetime as the layers above see it (create,
//! reserve and submit I/O, expire, shut down); the rest is one job per file:
//! [`params`] (what was asked, the connection's configuration), [`state`] (node states,
//! holding I/O across a lost connection, reconnecting), [`tx`] (sending frames), [`rx`]
//! (receiving them), [`identity`] (the contents identity check), [`timers`] (the only file
//! that arms the timer) and [`stats`].
//!
//! Contexts: frames arrive in the NET_RX softirq ([`Node::receive`]), what they let go out is
//! sent by the node's tasklet right after the receive batch (TASKLET_SOFTIRQ, [`tx`]), the
//! timer runs in the timer softirq, control requests in process context; the link state is
//! under a BH lock.
//! State changes go up through [`NodeObserver`], so this layer knows nothing of netlink.

mod identity;
pub(crate) mod params;
mod rx;
mod state;
pub(crate) mod stats;
mod timers;
mod tx;

use crate::clock::now_ns;
use crate::glue::netdev::NetDevice;
use crate::glue::spinlock_bh::{new_spinlock_bh, SpinLockBh};
use crate::glue::tasklet::Tasklet;
use crate::glue::timer::Timer;
use crate::io::{Expiry, IoEntry, IoState};
use crate::mac::MacAddr;
use crate::node::identity::IdentityCheck;
use crate::node::params::NodeParams;
use crate::node::stats::{NodeCounters, NodeStatsSnapshot};
use crate::omx_proto::{self as proto, message_size_for_mtu, State};
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::ARef;

type Conn = proto::Connection<KVVec<u8>, KVVec<proto::SlotMeta>>;

/// Node states as reported over netlink (`node-state` enum of the spec).
pub(crate) use crate::omx_logic::lifecycle::NodeState;

/// Who hears of a node's state changes (the netlink events layer above). Any context,
/// called outside the node's lock.
pub(crate) trait NodeObserver: Send + Sync {
    fn node_state_changed(&self, node: &Node);
}

struct Link {
    /// The interface frames go out of; `None` once it was unregistered.
    dev: Option<ARef<NetDevice>>,
    conn: Option<Conn>,
    state: NodeState,
    /// When to send the next keepalive if nothing else was sent (set by `timers.rs`).
    keepalive_at: u64,
    /// When a dead node is reopened (set by `timers.rs`).
    reconnect_at: u64,
    /// While the connection of a node that was up is being re-established: when the I/O
    /// held for it fails (0: not holding).
    hold_until: u64,
    /// The node is going away ([`Node::shutdown`]): it stays dead whatever arrives.
    shut_down: bool,
    /// Counters of connections replaced by reconnects (the current one counts the rest).
    past: proto::Stats,
    /// Block I/O in flight on this node.
    io: IoState,
    /// Generation of the node's memory contents as this host knows them: a device placed on
    /// the node in an earlier epoch fails its I/O there, since its data is gone. Bumped when
    /// the node comes back with another contents identity, or after a loss of contact with a
    /// node that has none (`omx_proto::identity`).
    epoch: u64,
    identity: IdentityCheck,
}

impl Link {
    /// Whether the connection has failed for good (or there is none): time to reopen it.
    fn conn_failed(&self) -> bool {
        self.conn
            .as_ref()
            .is_none_or(|c| matches!(c.state(), State::Dead | State::Closed))
    }
}

/// Outcome of [`Node::reserve`].
pub(crate) enum Reserve<'a> {
    Slot(Slot<'a>),
    /// The node's tables are full: try again later.
    Busy,
    /// The node is dead, or died since the device was placed on it.
    Dead,
}

/// Room for one request on a node; returned to the node if dropped unused.
pub(crate) struct Slot<'a> {
    node: &'a Node,
    epoch: u64,
}

impl Slot<'_> {
    /// Hands the node a request (or leg) in this slot. Atomic context.
    pub(crate) fn submit(self, entry: IoEntry) {
        self.submit_then(entry, || {});
    }

    /// As [`Slot::submit`]; `queued` runs under the node's lock once the request is in the
    /// node's table and before any of it is sent: a request submitted to this node after
    /// `queued` ran is sent after this one (the node answers in order).
    pub(crate) fn submit_then(self, entry: IoEntry, queued: impl FnOnce()) {
        let this = core::mem::ManuallyDrop::new(self);
        this.node.submit_reserved(this.epoch, entry, queued);
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.node.link.lock().io.unreserve();
    }
}

/// One pool node.
#[pin_data]
pub(crate) struct Node {
    #[pin]
    timer: Timer<Node>,
    /// Sends what the frames of a receive batch made ready, once after the batch (`tx.rs`).
    #[pin]
    tasklet: Tasklet<Node>,
    pub(crate) id: u32,
    pub(crate) params: NodeParams,
    #[pin]
    link: SpinLockBh<Link>,
    pub(crate) counters: NodeCounters,
    observer: Arc<dyn NodeObserver>,
}

impl Node {
    /// Creates the node and starts opening its connection. Process context.
    pub(crate) fn new(
        id: u32,
        dev: ARef<NetDevice>,
        params: NodeParams,
        observer: Arc<dyn NodeObserver>,
    ) -> Result<Arc<Self>> {
        let cfg = params.config();
        let window = params.retransmit_slots();
        // Up to about 8.4 MB (WINDOW_BYTES of frames) and 48 KiB: kvmalloc, which falls back
        // to vmalloc.
        let mem = KVVec::from_elem(0u8, Conn::required_memory(&cfg, window), GFP_KERNEL)?;
        let slots = KVVec::from_elem(proto::SlotMeta::EMPTY, window, GFP_KERNEL)?;
        let conn = Conn::new(cfg, mem, slots).map_err(|_| EINVAL)?;
        let msg_size = message_size_for_mtu(params.mtu, params.integrity.is_some());
        let io = IoState::new(msg_size, window)?;
        let node = Arc::pin_init(
            pin_init!(Self {
                timer <- Timer::new(),
                tasklet <- Tasklet::new(),
                id,
                params,
                link <- new_spinlock_bh!(
                    Link {
                        dev: Some(dev),
                        conn: Some(conn),
                        state: NodeState::Connecting,
                        keepalive_at: 0,
                        reconnect_at: 0,
                        hold_until: 0,
                        shut_down: false,
                        past: proto::Stats::default(),
                        io,
                        epoch: 0,
                        identity: IdentityCheck::default(),
                    },
                    "omx_node_link"
                ),
                counters: NodeCounters::default(),
                observer,
            }),
            GFP_KERNEL,
        )?;
        node.open_link(&mut node.link.lock(), now_ns());
        node.timers_opened();
        Ok(node)
    }

    /// Current state.
    pub(crate) fn state(&self) -> NodeState {
        self.link.lock().state
    }

    /// Counters of the node and of its connections.
    pub(crate) fn stats(&self) -> NodeStatsSnapshot {
        let (s, stray, latency) = {
            let link = self.link.lock();
            let s = match &link.conn {
                Some(conn) => link.past.sum(conn.stats()),
                None => link.past,
            };
            (s, link.io.stray, link.io.latency)
        };
        NodeStatsSnapshot::new(&self.counters, &s, stray, latency)
    }

    /// Whether a frame from `dev`/`peer` belongs to this node.
    pub(crate) fn matches(&self, ifindex: i32, peer: MacAddr) -> bool {
        self.params.ifindex == ifindex && self.params.peer == peer
    }

    /// Promises the caller room for one request (queue_rq, atomic context), to be used with
    /// [`Slot::submit`]: a mirrored write reserves on both nodes before starting, so it
    /// never has to take back half of a request. `epoch` is the node's [`Node::epoch`] when
    /// the device was placed on it: a node that died since may have lost the device's data.
    pub(crate) fn reserve(&self, epoch: u64) -> Reserve<'_> {
        let mut link = self.link.lock();
        if link.state == NodeState::Dead || link.epoch != epoch {
            return Reserve::Dead;
        }
        if !link.io.reserve() {
            return Reserve::Busy;
        }
        Reserve::Slot(Slot { node: self, epoch })
    }

    /// Puts a request (or leg) in the entry reserved for it and sends what can go; fails it
    /// (through the device's failure policy) if the node died or changed epoch meanwhile.
    fn submit_reserved(&self, epoch: u64, entry: IoEntry, queued: impl FnOnce()) {
        let now = now_ns();
        {
            let mut link = self.link.lock();
            if link.state == NodeState::Dead || link.epoch != epoch {
                link.io.unreserve();
                drop(link);
                entry.fail();
                return;
            }
            link.io.submit(entry, now);
            queued();
            Self::pump(&mut link, now);
            self.flush(&mut link, now);
        }
        self.timers_request_sent();
    }

    /// The node's contents epoch, recorded by devices placed on it.
    /// Whether the node still holds what was placed on it in `epoch`: not dead, and its
    /// contents not lost since.
    pub(crate) fn holds_epoch(&self, epoch: u64) -> bool {
        let link = self.link.lock();
        link.state != NodeState::Dead && link.epoch == epoch
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.link.lock().epoch
    }

    /// The block-layer timer of a request expired: extended while this node is alive,
    /// else the request fails (if it is here).
    pub(crate) fn expire(&self, rq_id: usize) -> Expiry {
        let mut link = self.link.lock();
        let alive = link.state.is_alive();
        link.io.expire(rq_id, alive)
    }

    /// Tells the node we leave (1.1 CloseConnection, best effort: nobody waits for the
    /// answer), stops the timer and the transmit tasklet and marks the node dead. Process
    /// context.
    pub(crate) fn shutdown(&self) {
        self.timers_shut_down();
        {
            let mut link = self.link.lock();
            let now = now_ns();
            if let Some(conn) = link.conn.as_mut() {
                let _ = conn.close(now);
            }
            self.flush(&mut link, now);
            link.state = NodeState::Dead;
            link.shut_down = true;
            link.io.fail_all();
        }
        // Scheduled only under the lock while not shut down: from here on it stays idle.
        self.tasklet.kill();
    }

    /// Drops the interface reference (the interface is being unregistered): the node stays
    /// dead, and devices using it fail its I/O. Process context, after `shutdown`.
    pub(crate) fn release_device(&self) {
        let dev = self.link.lock().dev.take();
        drop(dev);
    }
}
