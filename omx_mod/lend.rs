// SPDX-License-Identifier: GPL-2.0

//! Memory this host lends to one client: an in-kernel pool node for that client. The
//! client's requests are carried out on its region and answered from the receive path
//! (`omx_proto::serve`, shared with the userspace `omx-node`), and the answers go out in
//! bursts that notify the device once each (`glue::tx_burst`): a read of many frames costs
//! one doorbell per burst and wakes no process.
//!
//! Everything is allocated when the lending is added (process context): the region, zeroed,
//! and the retransmit memory of the client's connection, kept across its reconnects. The
//! receive path allocates only copies of frames whose requests wait (atomically; at most
//! twice `omx_proto::serve::max_deferred`). Only the client's MAC is served, on one
//! interface of the initial network namespace; anyone else's frames cost nothing.
//!
//! Contexts as for a node (`node.rs`): frames arrive in the NET_RX softirq
//! ([`Lend::receive`]), what they make ready is sent by the tasklet after the receive batch
//! (or by the flush hrtimer, softirq too, when the answers are held for a batch: `tx.rs`),
//! the timer runs retransmissions and delayed acknowledgements, control requests run in
//! process context; the state is under a BH lock.

mod queue;
mod tx;

use crate::clock::now_ns;
use crate::glue::hrtimer::{impl_has_hrtimer, HrTimer};
use crate::glue::netdev::NetDevice;
use crate::glue::random::random_u64;
use crate::glue::spinlock_bh::{new_spinlock_bh, SpinLockBh};
use crate::glue::tasklet::{impl_has_tasklet, Tasklet};
use crate::glue::timer::{impl_has_timer, Timer};
use crate::glue::vmem::zeroed_bytes;
use crate::ifname::IfName;
use crate::mac::MacAddr;
use crate::omx_proto::identity::Identity;
use crate::omx_proto::serve::{
    self, max_waiting, slots, Coalescer, FrameQueue, Region, Responder, ServeConfig, ServeStats,
    VersionPolicy,
};
use crate::omx_proto::{self as proto, MessageType, SlotMeta, State, TloeHeader, Version};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::types::ARef;
use queue::WaitingFrames;

type Client = Responder<KVVec<u8>, KVVec<SlotMeta>>;

/// What an administrator asked for when adding the lending.
pub(crate) struct LendParams {
    /// The interface, by index and name (the reference lives in the state, so that it can
    /// be dropped when the interface is unregistered).
    pub(crate) ifindex: i32,
    pub(crate) ifname: IfName,
    pub(crate) client: MacAddr,
    pub(crate) size: u64,
}

/// The client's region: its addresses are `0..len`.
struct Memory {
    bytes: VVec<u8>,
    identity: Identity,
}

impl Region for Memory {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }
    /// The region stays allocated as long as the lending: released bytes are zeroed, none
    /// are given back.
    fn release_range(&mut self, off: usize, len: usize) -> usize {
        let end = off.saturating_add(len);
        if let Some(range) = self.bytes.get_mut(off..end) {
            range.fill(0);
        }
        0
    }
    /// The region's contents live exactly as long as the lending: one identity for its life.
    fn identity(&self) -> Option<Identity> {
        Some(self.identity)
    }
}

/// Where the lending stands, under its lock.
struct Lending {
    dev: Option<ARef<NetDevice>>,
    memory: Memory,
    client: Option<Client>,
    /// Retransmit memory for the client's next connection: allocated when the lending is
    /// added, given back by each connection that ends (the receive path never allocates it).
    spare: Option<(KVVec<u8>, KVVec<SlotMeta>)>,
    waiting: WaitingFrames,
    stats: ServeStats,
    /// Counters of the client's connections that ended.
    past: proto::Stats,
    connections: u64,
    /// Answers held for a batch (`omx_proto::serve::Coalescer`), and the time the flush
    /// timer was armed for (0: not armed).
    coalescer: Coalescer,
    flush_at: u64,
    shut_down: bool,
}

impl Lending {
    /// Ends the client's connection (it closed, died or opens anew), keeping its memory for
    /// the next one; the region keeps its contents.
    fn retire(&mut self) {
        if let Some(client) = self.client.take() {
            self.past = self.past.sum(client.connection().stats());
            self.spare = Some(client.into_memory());
        }
        self.waiting.clear();
    }
}

/// Counters of a lending as `lend-get` reports them.
pub(crate) struct LendStatsSnapshot {
    pub(crate) serve: ServeStats,
    pub(crate) link: proto::Stats,
    pub(crate) connections: u64,
    pub(crate) rx_frames: u64,
    pub(crate) tx_frames: u64,
    pub(crate) tx_errors: u64,
    pub(crate) held_batches: u64,
}

/// The state of the client's connection, as `lend-get` reports it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum LendState {
    Waiting,
    Open,
    Closing,
}

/// Memory lent to one client.
#[pin_data]
pub(crate) struct Lend {
    #[pin]
    timer: Timer<Lend>,
    /// Sends answers held for a batch when their hold ends; stopped before the tasklet, in
    /// `shutdown` and on drop alike.
    #[pin]
    flush_timer: HrTimer<Lend>,
    /// Sends what a receive batch made ready, once after the batch.
    #[pin]
    tasklet: Tasklet<Lend>,
    pub(crate) id: u32,
    pub(crate) params: LendParams,
    cfg: ServeConfig,
    #[pin]
    state: SpinLockBh<Lending>,
    rx_frames: AtomicU64,
    tx_frames: AtomicU64,
    tx_errors: AtomicU64,
}

impl_has_timer!(Lend, timer);
impl_has_tasklet!(Lend, tasklet);
impl_has_hrtimer!(Lend, flush_timer);

impl Lend {
    /// Allocates `size` bytes (zeroed) for `client` on `dev`, and the connection's memory.
    /// Process context (may sleep: zeroing gigabytes takes time).
    pub(crate) fn new(
        id: u32,
        dev: ARef<NetDevice>,
        client: MacAddr,
        size: u64,
    ) -> Result<Arc<Self>> {
        let len = usize::try_from(size).map_err(|_| EINVAL)?;
        let cfg = ServeConfig::new(dev.mac().0, dev.mtu() as usize);
        // The largest a connection needs (frames without a trailer fill the whole MTU).
        let need = Client::required_memory(&cfg, Version::V1_1, None);
        let mem = KVVec::from_elem(0u8, need, GFP_KERNEL)?;
        let meta = KVVec::from_elem(SlotMeta::EMPTY, slots(cfg.mtu), GFP_KERNEL)?;
        // A connection is made from this memory in the receive path, where a failure could
        // not be undone: make one here first, so a configuration it refuses fails lend-add.
        let spare = Client::new(&cfg, client.0, Version::V1_1, None, mem, meta, 0)
            .map_err(|_| EINVAL)?
            .into_memory();
        let waiting = WaitingFrames::new(max_waiting(cfg.mtu), cfg.mtu)?;
        let memory = Memory {
            bytes: zeroed_bytes(len)?,
            identity: Identity {
                // A lending's contents live and die with it: a client back after this host
                // restarted (or the lending was made again) finds another identity and knows
                // its memory is gone.
                boot: random_u64(),
                generation: 0,
            },
        };
        let params = LendParams {
            ifindex: dev.ifindex(),
            ifname: IfName::of(&dev),
            client,
            size,
        };
        Arc::pin_init(
            pin_init!(Self {
                timer <- Timer::new(),
                flush_timer <- HrTimer::new(),
                tasklet <- Tasklet::new(),
                id,
                params,
                cfg,
                state <- new_spinlock_bh!(
                    Lending {
                        dev: Some(dev),
                        memory,
                        client: None,
                        spare: Some(spare),
                        waiting,
                        stats: ServeStats::default(),
                        past: proto::Stats::default(),
                        connections: 0,
                        coalescer: Coalescer::new(),
                        flush_at: 0,
                        shut_down: false,
                    },
                    "omx_lend_state"
                ),
                rx_frames: AtomicU64::new(0),
                tx_frames: AtomicU64::new(0),
                tx_errors: AtomicU64::new(0),
            }),
            GFP_KERNEL,
        )
    }

    /// Whether a frame from `dev`/`peer` is this lending's client's.
    pub(crate) fn matches(&self, ifindex: i32, peer: MacAddr) -> bool {
        self.params.ifindex == ifindex && self.params.client == peer
    }

    /// The client's connection state.
    pub(crate) fn state(&self) -> LendState {
        let st = self.state.lock();
        match st.client.as_ref().map(|c| c.connection().state()) {
            None | Some(State::Listening | State::Closed | State::Dead) => LendState::Waiting,
            Some(State::Open) => LendState::Open,
            Some(_) => LendState::Closing,
        }
    }

    /// Counters.
    pub(crate) fn stats(&self) -> LendStatsSnapshot {
        let st = self.state.lock();
        let link = match &st.client {
            Some(c) => st.past.sum(c.connection().stats()),
            None => st.past,
        };
        LendStatsSnapshot {
            serve: st.stats,
            link,
            connections: st.connections,
            rx_frames: self.rx_frames.load(Relaxed),
            tx_frames: self.tx_frames.load(Relaxed),
            tx_errors: self.tx_errors.load(Relaxed),
            held_batches: st.coalescer.held_batches(),
        }
    }

    /// A frame from the client (payload after the Ethernet header), received at `now` (ns)
    /// with others of a batch. Returns whether the timer is to be re-armed once the batch
    /// is handled ([`Lend::end_batch`]; else the tasklet or the flush timer sends what is
    /// due, and re-arms it). Softirq context.
    pub(crate) fn receive(&self, payload: &[u8], now: u64) -> bool {
        self.rx_frames.fetch_add(1, Relaxed);
        let Some(h) = payload
            .first_chunk::<8>()
            .map(|f| TloeHeader::from_flit(u64::from_be_bytes(*f)))
        else {
            return false;
        };
        let due = {
            let mut st = self.state.lock();
            if st.shut_down || h.vc != 0 {
                // omx connections live on virtual channel 0.
                return false;
            }
            let before = st.client.as_ref().map(|c| c.requests().0);
            self.take_frame(&mut st, &h, payload, now);
            let had_requests = st.client.as_ref().map(|c| c.requests().0) != before;
            // Something to send now, or requests waiting that this frame may let go (its
            // acknowledgement or credit): the tasklet runs them and sends once the batch is
            // handled, as omx-node does after each batch, or the flush timer when the answers
            // are held for a batch (`tx.rs`).
            let due = !st.waiting.is_empty()
                || st
                    .client
                    .as_ref()
                    .and_then(|c| c.connection().next_deadline())
                    .is_some_and(|d| d <= now);
            if due {
                self.send_soon(&mut st, had_requests, now);
            }
            due
        };
        !due
    }

    /// The frames of a receive batch from the client were handled: the timer is re-armed
    /// for the connection's next deadline.
    pub(crate) fn end_batch(&self) {
        self.rearm();
    }

    /// Opens the client's connection when the frame opens one (a new one when a 1.1 client
    /// reconnects), then hands the frame to it.
    fn take_frame(&self, st: &mut Lending, h: &TloeHeader, payload: &[u8], now: u64) {
        let order = self.cfg.order;
        let reopens = h.msg_type == MessageType::OpenConnection
            && Client::first_frame(payload, order).is_some();
        if let Some(client) = st.client.as_mut() {
            let ended = match client.connection().state() {
                State::Closed | State::Dead => true,
                _ if reopens && client.version() == Version::V1_1 => client
                    .on_open(h, now, self.cfg.reconnect_guard_ns)
                    .is_some(),
                _ => false,
            };
            if ended {
                st.retire();
            }
        }
        if st.client.is_none() {
            let Some(version) = serve::opening_version(h, VersionPolicy::Auto) else {
                return;
            };
            // Only a frame that decodes opens a connection; it also tells which integrity
            // trailer the client's frames carry.
            let Some(integrity) = Client::first_frame(payload, order) else {
                st.stats.malformed += 1;
                return;
            };
            let Some((mem, meta)) = st.spare.take() else {
                return;
            };
            let peer = self.params.client.0;
            match Client::new(&self.cfg, peer, version, integrity, mem, meta, now) {
                Ok(client) => {
                    st.client = Some(client);
                    st.connections += 1;
                }
                // Never: the same configuration made a connection at lend-add (counted were
                // it to happen; the lending then serves no more connections).
                Err(_) => st.stats.malformed += 1,
            }
        }
        let Lending {
            client: Some(client),
            waiting,
            memory,
            stats,
            ..
        } = st
        else {
            return;
        };
        client.on_frame(h, payload, waiting, memory, stats, now);
    }

    /// Tells the client we leave (1.1 CloseConnection, best effort), stops the timer and
    /// the tasklet. Process context.
    pub(crate) fn shutdown(&self) {
        self.timer.shutdown();
        {
            let mut st = self.state.lock();
            let now = now_ns();
            if let Some(client) = st.client.as_mut() {
                let _ = client.connection_mut().close(now);
            }
            self.answer_and_send(&mut st, now);
            st.shut_down = true;
        }
        // Both are armed or scheduled only under the lock while not shut down: from here on
        // they stay idle.
        self.flush_timer.cancel();
        self.tasklet.kill();
    }

    /// Drops the interface reference (the interface is being unregistered). Process
    /// context, after `shutdown`.
    pub(crate) fn release_device(&self) {
        let dev = self.state.lock().dev.take();
        drop(dev);
    }
}
