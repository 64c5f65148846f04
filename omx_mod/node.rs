// SPDX-License-Identifier: GPL-2.0

//! A pool node: the OmniXtend connection to one peer that lends memory, kept alive by a
//! timer, declared dead when it stops answering and reopened when it comes back.
//!
//! Contexts: frames arrive in the NET_RX softirq ([`Node::receive`]), the timer runs in the
//! timer softirq, control requests in process context; the link state is under a BH lock.

use crate::events::Events;
use crate::glue::netdev::NetDevice;
use crate::glue::skb::{Gfp, SkBuff};
use crate::glue::spinlock_bh::{new_spinlock_bh, SpinLockBh};
use crate::glue::timer::{impl_has_timer, Timer, TimerHandler};
use crate::io::{Expiry, IoEntry, IoState, Sender};
use crate::mac::MacAddr;
use crate::omx_proto::identity::{self, Identity};
use crate::omx_proto::{self as proto, ByteOrder, Channel, Config, EthHeader, Message, Opcode, State, Version};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::time::Ktime;
use kernel::types::ARef;

/// Frames kept for Go-Back-N retransmission per node: the window of a node's writes.
const RETRANSMIT_SLOTS: usize = 32;
type Conn = proto::Connection<KVec<u8>, RETRANSMIT_SLOTS>;

const NS_PER_MS: u64 = 1_000_000;
/// Retransmit timeout and attempts: an unanswered frame fails the node after
/// RTO_MS * (MAX_RETRANSMITS + 1) = 2.2 s: long enough that a busy node (or an emulated
/// one) is not declared dead by mistake, which would fail its devices for good.
const RTO_MS: u64 = 200;
const MAX_RETRANSMITS: u32 = 10;
/// How long an acknowledgement of the node's frames waits for a request frame to ride on.
/// Under load the next request comes sooner, so almost no acknowledgement needs a frame of
/// its own (4 KiB reads at depth 32: 1.4 frames sent per read instead of 3.1). Owed
/// credits go out at once when half the buffer is owed, whatever this says, and the node's
/// retransmit timeout (50 ms) is far above it.
const ACK_DELAY_US: u64 = 1000;
/// An idle connection probes the node this often, so a silent node is detected within
/// KEEPALIVE_MS + 2.2 s even without I/O: 1.1 sends an empty sequenced frame the node must
/// acknowledge (the protocol core does it); 1.0.3 has no such frame, so a TileLink Intent.
const KEEPALIVE_MS: u64 = 500;
/// A dead node is re-opened this often.
const RECONNECT_MS: u64 = 1000;
/// How long block I/O waits, by default, for a node whose connection was lost (it stopped
/// answering for 2.2 s, or said goodbye) to come back with its memory before failing with
/// EIO: a stalled host, a daemon restart or a link flap is ridden out, not turned into errors.
pub(crate) const DEFAULT_IO_TIMEOUT_MS: u32 = 10_000;
/// Source id of keepalive messages (I/O uses ids from 1).
const KEEPALIVE_SOURCE: u32 = 0;
/// Source id of the contents identity `Get` (the largest 26-bit id, far from I/O's).
const IDENTITY_SOURCE: u32 = (1 << 26) - 1;
/// A node that leaves the identity `Get` unanswered this long is asked again on a new
/// connection. TileLink answers every Get (peers without identities deny it at once, which
/// counts as an answer), so a missing answer says nothing about the node's memory: taking it
/// for "no identity" at first contact made a later answer look like lost contents.
const IDENTITY_TIMEOUT_MS: u64 = 10_000;
/// Headroom for the device's link-layer needs in front of our Ethernet header.
const SKB_HEADROOM: u32 = 32;

/// Node states as reported over netlink (`node-state` enum of the spec).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeState {
    Connecting = 0,
    Up = 1,
    Dead = 2,
    Closing = 3,
}

/// What an administrator asked for when adding the node.
pub(crate) struct NodeParams {
    /// The interface, by index and name: the reference itself lives in the link, so it can be
    /// dropped when the interface is unregistered while devices still use the node.
    pub(crate) ifindex: i32,
    ifname: [u8; 16],
    /// Our own address on that interface.
    pub(crate) own_mac: MacAddr,
    pub(crate) peer: MacAddr,
    pub(crate) size: u64,
    pub(crate) order: ByteOrder,
    pub(crate) version: Version,
    /// Frame payload limit actually used (the interface MTU unless a smaller one was asked).
    pub(crate) mtu: u32,
    /// Whether frames carry omx's CRC-32C trailer (`omx_proto::integrity`).
    pub(crate) integrity: bool,
    /// How long I/O waits for the node to come back after its connection was lost
    /// (0: it fails at once).
    pub(crate) io_timeout_ms: u32,
}

/// Counters of one node beyond the connection's own.
#[derive(Default)]
pub(crate) struct NodeCounters {
    pub(crate) tx_frames: AtomicU64,
    pub(crate) tx_bytes: AtomicU64,
    pub(crate) rx_frames: AtomicU64,
    pub(crate) rx_bytes: AtomicU64,
    pub(crate) tx_errors: AtomicU64,
    pub(crate) reconnects: AtomicU64,
}

/// A snapshot of a node's counters, for netlink.
pub(crate) struct NodeStatsSnapshot {
    pub(crate) tx_frames: u64,
    pub(crate) rx_frames: u64,
    pub(crate) tx_bytes: u64,
    pub(crate) rx_bytes: u64,
    pub(crate) retransmits: u64,
    pub(crate) naks_sent: u64,
    pub(crate) naks_received: u64,
    pub(crate) malformed: u64,
    pub(crate) timeouts: u64,
    pub(crate) reconnects: u64,
    pub(crate) integrity_errors: u64,
    pub(crate) out_of_window: u64,
}

struct Link {
    /// The interface frames go out of; `None` once it was unregistered.
    dev: Option<ARef<NetDevice>>,
    /// A transmit buffer left over when there was nothing to send: most received frames
    /// produce no reply, so this saves an allocation and a memset per received frame.
    spare_skb: Option<SkBuff>,
    conn: Option<Conn>,
    state: NodeState,
    /// When to send the next keepalive if nothing else was sent.
    keepalive_at: u64,
    /// When a dead node is reopened.
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
        self.conn.as_ref().is_none_or(|c| matches!(c.state(), State::Dead | State::Closed))
    }
}

/// Where the node's contents identity check stands. Block I/O waits (and the node is not
/// reported up) until the identity was read after each (re)open.
#[derive(Default)]
struct IdentityCheck {
    /// The identity last read; `None` before the first answer or if the node has none.
    known: Option<Identity>,
    /// Whether the identity was read since the connection (re)opened.
    verified: bool,
    /// When the `Get` went out (0: not yet sent on this connection).
    asked_at: u64,
    /// Contact was lost since the last check: an unknown identity means unknown contents.
    contact_lost: bool,
}

/// The connection as the I/O tables see it.
struct ConnSender<'a> {
    conn: &'a mut Conn,
    now: u64,
}

impl Sender for ConnSender<'_> {
    fn send(&mut self, msg: &Message<'_>) -> Result<(), bool> {
        match self.conn.send(msg, self.now) {
            Ok(()) => Ok(()),
            // Retried after the next received frame (credits, acknowledgements) or the timer.
            Err(proto::Error::NoCredit | proto::Error::WindowFull | proto::Error::NotOpen) => Err(true),
            Err(_) => Err(false),
        }
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
        let this = core::mem::ManuallyDrop::new(self);
        this.node.submit_reserved(this.epoch, entry);
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
    pub(crate) id: u32,
    pub(crate) params: NodeParams,
    #[pin]
    link: SpinLockBh<Link>,
    pub(crate) counters: NodeCounters,
    events: Arc<Events>,
}

impl_has_timer!(Node, timer);

fn now_ns() -> u64 {
    u64::try_from(Ktime::ktime_get().to_ns()).unwrap_or(0)
}

fn add_stats(a: &proto::Stats, b: &proto::Stats) -> proto::Stats {
    let mut s = *a;
    s.frames_retx = s.frames_retx.wrapping_add(b.frames_retx);
    s.naks_tx = s.naks_tx.wrapping_add(b.naks_tx);
    s.naks_rx = s.naks_rx.wrapping_add(b.naks_rx);
    s.timeouts = s.timeouts.wrapping_add(b.timeouts);
    s.rx_errors = s.rx_errors.wrapping_add(b.rx_errors);
    s.integrity_errors = s.integrity_errors.wrapping_add(b.integrity_errors);
    s.out_of_window = s.out_of_window.wrapping_add(b.out_of_window);
    s
}

impl Node {
    fn config(params: &NodeParams) -> Config {
        let mut cfg = Config::new(params.version);
        cfg.order = params.order;
        cfg.mtu = params.mtu as usize;
        cfg.ethernet = Some(EthHeader::new(params.peer.0, params.own_mac.0));
        cfg.rto_ns = RTO_MS * NS_PER_MS;
        cfg.max_retransmits = MAX_RETRANSMITS;
        cfg.integrity = params.integrity;
        cfg.window = RETRANSMIT_SLOTS as u32;
        // A client only receives responses (channel D): grant room there (64 KiB of read data
        // in flight), and keep the other channels at the 1.1 default so opening needs no
        // extra credit frames. More (256 KiB, with a 64-frame window) read 1 MiB 25 % faster
        // but under swap on one surviving node drowned an emulated client in Go-Back-N
        // resends (an RCU stall in the receive softirq): Go-Back-N has no congestion control,
        // so the window stays small.
        cfg.rx_buffer_flits = [128, 128, 128, 8192, 128];
        cfg.ack_delay_ns = ACK_DELAY_US * 1000;
        if params.version == Version::V1_1 {
            cfg.keepalive_ns = KEEPALIVE_MS * NS_PER_MS;
        }
        cfg
    }

    /// Creates the node and starts opening its connection. Process context.
    pub(crate) fn new(id: u32, dev: ARef<NetDevice>, params: NodeParams, events: Arc<Events>) -> Result<Arc<Self>> {
        let cfg = Self::config(&params);
        let mem = KVec::from_elem(0u8, Conn::required_memory(&cfg), GFP_KERNEL)?;
        let conn = Conn::new(cfg, mem).map_err(|_| EINVAL)?;
        // Messages are sized for what a frame holds once the integrity trailer is in.
        let trailer = if params.integrity { proto::integrity::LEN as u32 } else { 0 };
        let io = IoState::new(params.mtu.saturating_sub(trailer))?;
        let node = Arc::pin_init(
            pin_init!(Self {
                timer <- Timer::new(),
                id,
                params,
                link <- new_spinlock_bh!(
                    Link {
                        dev: Some(dev),
                        spare_skb: None,
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
                events,
            }),
            GFP_KERNEL,
        )?;
        node.open_link(&mut node.link.lock(), now_ns());
        node.kick();
        Ok(node)
    }

    /// Current state.
    pub(crate) fn state(&self) -> NodeState {
        self.link.lock().state
    }

    /// Counters of the node and of its connections.
    pub(crate) fn stats(&self) -> NodeStatsSnapshot {
        let (s, stray) = {
            let link = self.link.lock();
            let s = match &link.conn {
                Some(conn) => add_stats(&link.past, conn.stats()),
                None => link.past,
            };
            (s, link.io.stray)
        };
        let c = &self.counters;
        NodeStatsSnapshot {
            tx_frames: c.tx_frames.load(Relaxed),
            rx_frames: c.rx_frames.load(Relaxed),
            tx_bytes: c.tx_bytes.load(Relaxed),
            rx_bytes: c.rx_bytes.load(Relaxed),
            retransmits: s.frames_retx,
            naks_sent: s.naks_tx,
            naks_received: s.naks_rx,
            // The connection counts every frame it refused (rx_errors): count none twice.
            malformed: s.rx_errors.wrapping_add(stray),
            timeouts: s.timeouts,
            reconnects: c.reconnects.load(Relaxed),
            integrity_errors: s.integrity_errors,
            out_of_window: s.out_of_window,
        }
    }

    /// Whether a frame from `dev`/`peer` belongs to this node.
    pub(crate) fn matches(&self, ifindex: i32, peer: MacAddr) -> bool {
        self.params.ifindex == ifindex && self.params.peer == peer
    }

    /// A frame from the node (payload after the Ethernet header). Softirq context.
    pub(crate) fn receive(&self, payload: &[u8]) {
        self.counters.rx_frames.fetch_add(1, Relaxed);
        self.counters.rx_bytes.fetch_add(payload.len() as u64, Relaxed);
        let now = now_ns();
        let changed = {
            let mut link = self.link.lock();
            let Some(conn) = link.conn.as_mut() else { return };
            // A refused frame is counted by the connection (rx_errors) and otherwise ignored.
            if let Ok(received) = conn.on_payload(payload, now) {
                // Responses complete block I/O; keepalive answers (HintAck, source 0) need
                // nothing beyond the acknowledgement they carry.
                for m in received.messages() {
                    match m.source {
                        _ if m.chan != Channel::D => {}
                        KEEPALIVE_SOURCE => {}
                        IDENTITY_SOURCE => self.on_identity(&mut link, &m),
                        _ => link.io.on_response(&m),
                    }
                }
            }
            self.settle(&mut link, now)
        };
        self.announce(changed);
    }

    /// After a frame or a timer: updates the state, moves waiting I/O into the connection and
    /// sends what is due. Returns whether the state changed.
    fn settle(&self, link: &mut Link, now: u64) -> bool {
        // The node said goodbye (1.1 CloseConnection: its daemon is stopping). Everything it
        // was going to answer came before the close: finish the handshake, so the connection
        // ends (Closed -> dead, I/O failed) and is reopened when the node is back.
        if let Some(conn) = link.conn.as_mut().filter(|c| c.state() == State::PeerClosing) {
            let _ = conn.close(now);
        }
        self.check_identity(link, now);
        let changed = self.update_state(link, now);
        Self::pump(link, now);
        self.flush(link, now);
        changed
    }

    /// Outside the lock: reports a state change and re-arms the timer.
    fn announce(&self, changed: bool) {
        if changed {
            self.events.node_state_changed(self);
        }
        self.kick();
    }

    /// Derives the node state from the connection's; returns whether it changed.
    fn update_state(&self, link: &mut Link, now: u64) -> bool {
        if link.shut_down {
            return false;
        }
        let mut new = match link.conn.as_ref().map(|c| c.state()) {
            Some(State::Open) if link.identity.verified => NodeState::Up,
            Some(State::Open) => NodeState::Connecting,
            Some(State::Listening | State::Opening) => NodeState::Connecting,
            Some(State::PeerClosing | State::Closing) => NodeState::Closing,
            Some(State::Closed | State::Dead) | None => NodeState::Dead,
        };
        if new == NodeState::Dead && self.hold(link, now) {
            // Not dead yet: reconnecting, with its I/O waiting.
            new = NodeState::Connecting;
        } else if link.hold_until != 0 && new != NodeState::Up && now >= link.hold_until {
            new = NodeState::Dead;
        }
        if new == NodeState::Up {
            link.hold_until = 0;
        }
        // Reconnect attempts of a dead node stay "dead" until the node answers: listeners hear
        // "dead" once and "up" when it is back, not every failed attempt.
        if new == link.state || (link.state == NodeState::Dead && new == NodeState::Connecting) {
            return false;
        }
        if new == NodeState::Dead {
            link.hold_until = 0;
            link.reconnect_at = now.saturating_add(RECONNECT_MS * NS_PER_MS);
            // Nothing in flight will be answered: fail it now (EIO), not at the timeout.
            link.io.fail_all();
            // A node that never came up held nothing yet (one that was held already counts
            // as having lost contact).
            if link.state != NodeState::Connecting {
                link.identity.contact_lost = true;
            }
        }
        if new == NodeState::Up {
            link.keepalive_at = now.saturating_add(KEEPALIVE_MS * NS_PER_MS);
        }
        self.log_transition(link, new);
        link.state = new;
        true
    }

    /// Tells the kernel log what an admin needs to follow a node's health (as nbd and
    /// nvme-tcp do): losing it, giving up on it, and having it. Transitions are rare.
    fn log_transition(&self, link: &Link, new: NodeState) {
        let id = self.id;
        match (link.state, new) {
            (NodeState::Up | NodeState::Closing, NodeState::Connecting) => pr_info!(
                "node {id}: connection lost, reconnecting; its I/O waits up to {} ms\n",
                self.params.io_timeout_ms
            ),
            (_, NodeState::Dead) => pr_warn!("node {id}: not reachable; its I/O fails until it is up\n"),
            (_, NodeState::Up) => pr_info!("node {id}: up\n"),
            _ => {}
        }
    }

    /// The connection is gone: whether the node's I/O waits for it to come back. A node
    /// that was up (or saying goodbye) starts waiting: what it had in flight is sent again
    /// once the connection is reopened and the node's identity shows it kept its memory
    /// (reads and whole-block writes can be repeated). Waiting ends at `hold_until`.
    fn hold(&self, link: &mut Link, now: u64) -> bool {
        if link.hold_until != 0 {
            return now < link.hold_until;
        }
        let was_serving = matches!(link.state, NodeState::Up | NodeState::Closing);
        if !was_serving || self.params.io_timeout_ms == 0 {
            return false;
        }
        link.hold_until = now.saturating_add(u64::from(self.params.io_timeout_ms) * NS_PER_MS).max(1);
        link.io.rewind();
        link.identity.contact_lost = true;
        // Reopened after a pause, as a dead node is: what the old connection still had on the
        // way (queued while this host stalled) drains first.
        link.reconnect_at = now.saturating_add(RECONNECT_MS * NS_PER_MS);
        true
    }

    /// On an open connection whose identity is not verified: asks for it once, and again on
    /// a new connection if no answer comes.
    fn check_identity(&self, link: &mut Link, now: u64) {
        let open = link.conn.as_ref().is_some_and(|c| c.state() == State::Open);
        if !open {
            link.identity.verified = false;
            link.identity.asked_at = 0;
            return;
        }
        let check = &mut link.identity;
        if check.verified {
            return;
        }
        if check.asked_at == 0 {
            let get = Message::get(IDENTITY_SOURCE, identity::ADDR, identity::SIZE_LOG2);
            if let Some(conn) = link.conn.as_mut() {
                // Out of credit: tried again after the next frame or timer.
                if conn.send(&get, now).is_ok() {
                    link.identity.asked_at = now.max(1);
                }
            }
        } else if now.saturating_sub(check.asked_at) >= IDENTITY_TIMEOUT_MS * NS_PER_MS {
            // The connection carries no answer (a slow or confused peer): ask again on a new
            // one rather than guess.
            self.reconnect(link, now);
        }
    }

    /// The answer to the identity `Get` (softirq).
    fn on_identity(&self, link: &mut Link, m: &Message<'_>) {
        if link.identity.verified || link.identity.asked_at == 0 {
            return; // late answer to an earlier connection's question
        }
        let mut buf = [0u8; identity::LEN];
        let got = (m.opcode == Opcode::AccessAckData && m.err == 0 && m.data.len() == identity::LEN)
            .then(|| {
                m.data.copy_to(&mut buf);
                Identity::from_bytes(&buf)
            })
            .flatten();
        self.identity_known(link, got);
    }

    /// Decides whether the node still holds what devices stored on it: the same identity as
    /// before, or a first contact, keeps the epoch; anything else after a loss of contact
    /// (another identity, or none to compare) starts a new one.
    fn identity_known(&self, link: &mut Link, got: Option<Identity>) {
        let check = &mut link.identity;
        let same = match (check.known, got) {
            (Some(a), Some(b)) => a == b,
            _ => !check.contact_lost,
        };
        if !same {
            link.epoch = link.epoch.wrapping_add(1);
            // Requests queued while unverified were placed in the old epoch.
            link.io.fail_all();
            pr_warn!("node {}: its memory contents were lost (restarted or wiped); data stored there before is gone\n", self.id);
        }
        check.known = got;
        check.verified = true;
        check.contact_lost = false;
        check.asked_at = 0;
    }

    /// Starts (or restarts) the connection's open handshake.
    fn open_link(&self, link: &mut Link, now: u64) {
        if let Some(conn) = link.conn.as_mut() {
            let _ = conn.open(now);
        }
        self.flush(link, now);
    }

    /// Replaces a dead connection by a fresh one on the same memory and opens it.
    fn reconnect(&self, link: &mut Link, now: u64) {
        let Some(old) = link.conn.take() else { return };
        link.past = add_stats(&link.past, old.stats());
        let cfg = old.config().clone();
        match Conn::new(cfg, old.into_memory()) {
            Ok(conn) => link.conn = Some(conn),
            // Cannot happen with the configuration the old connection accepted.
            Err(_) => return,
        }
        self.counters.reconnects.fetch_add(1, Relaxed);
        link.reconnect_at = now.saturating_add(RECONNECT_MS * NS_PER_MS);
        // The identity question belongs to the old connection: ask the new one.
        link.identity.verified = false;
        link.identity.asked_at = 0;
        self.open_link(link, now);
    }

    /// Queues messages of waiting requests on the connection.
    fn pump(link: &mut Link, now: u64) {
        if link.state == NodeState::Dead || !link.identity.verified {
            return;
        }
        let Link { conn, io, .. } = link;
        if let Some(conn) = conn.as_mut() {
            io.pump(&mut ConnSender { conn, now });
        }
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
    fn submit_reserved(&self, epoch: u64, entry: IoEntry) {
        let now = now_ns();
        {
            let mut link = self.link.lock();
            if link.state == NodeState::Dead || link.epoch != epoch {
                link.io.unreserve();
                drop(link);
                entry.fail();
                return;
            }
            link.io.submit(entry);
            Self::pump(&mut link, now);
            self.flush(&mut link, now);
        }
        self.kick();
    }

    /// The node's contents epoch, recorded by devices placed on it.
    pub(crate) fn epoch(&self) -> u64 {
        self.link.lock().epoch
    }

    /// The block-layer timer of a request expired: extended while this node is alive,
    /// else the request fails (if it is here).
    pub(crate) fn expire(&self, rq_id: usize) -> Expiry {
        let mut link = self.link.lock();
        let alive = link.state != NodeState::Dead;
        link.io.expire(rq_id, alive)
    }

    /// Sends every frame the connection has ready. Softirq or process context.
    fn flush(&self, link: &mut Link, now: u64) {
        let Link { conn: Some(conn), dev: Some(dev), spare_skb, .. } = link else { return };
        let max = conn.max_frame_len() as u32;
        loop {
            let mut skb = match spare_skb.take() {
                Some(skb) => skb,
                None => {
                    let Ok(mut skb) = SkBuff::alloc(SKB_HEADROOM, max, Gfp::Reserve) else {
                        self.counters.tx_errors.fetch_add(1, Relaxed);
                        return; // retried from the timer
                    };
                    if skb.put(max).is_err() {
                        return;
                    }
                    skb
                }
            };
            let len = match conn.poll_transmit(now, skb.data_mut()) {
                Ok(Some(len)) => len,
                Ok(None) | Err(_) => {
                    *spare_skb = Some(skb);
                    return;
                }
            };
            skb.trim(len as u32);
            self.counters.tx_frames.fetch_add(1, Relaxed);
            self.counters.tx_bytes.fetch_add(len as u64, Relaxed);
            if skb.transmit(dev, crate::rx::ETH_P_OMNIXTEND).is_err() {
                // Counted, then recovered by the retransmit timer.
                self.counters.tx_errors.fetch_add(1, Relaxed);
            }
        }
    }

    /// Re-arms the timer for the earliest thing due.
    fn kick(&self) {
        let now = now_ns();
        let due = {
            let link = self.link.lock();
            let conn_due = link.conn.as_ref().and_then(|c| c.next_deadline());
            let mut own_due = match link.state {
                NodeState::Up if self.params.version == Version::V1_0_3 => link.keepalive_at,
                // Dead, or reconnecting with I/O held.
                _ if link.conn_failed() => link.reconnect_at,
                _ => u64::MAX,
            };
            if link.hold_until != 0 {
                own_due = own_due.min(link.hold_until);
            }
            let check = &link.identity;
            if !check.verified && check.asked_at != 0 {
                own_due = own_due.min(check.asked_at.saturating_add(IDENTITY_TIMEOUT_MS * NS_PER_MS));
            }
            conn_due.map_or(own_due, |d| d.min(own_due))
        };
        if due == u64::MAX {
            return;
        }
        let msecs = due.saturating_sub(now).div_ceil(NS_PER_MS);
        self.timer.arm_ms(u32::try_from(msecs).unwrap_or(u32::MAX).max(1));
    }

    /// Tells the node we leave (1.1 CloseConnection, best effort: nobody waits for the
    /// answer), stops the timer and marks the node dead. Process context.
    pub(crate) fn shutdown(&self) {
        self.timer.shutdown();
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

    /// Drops the interface reference (the interface is being unregistered): the node stays
    /// dead, and devices using it fail its I/O. Process context, after `shutdown`.
    pub(crate) fn release_device(&self) {
        let dev = self.link.lock().dev.take();
        drop(dev);
    }
}

impl NodeParams {
    /// A node reached through `dev` at `peer`, lending `size` bytes, with the defaults: 1.1,
    /// spec byte order, the interface MTU, the integrity trailer, the default I/O timeout.
    pub(crate) fn new(dev: &NetDevice, peer: MacAddr, size: u64) -> Self {
        let mut ifname = [0u8; 16];
        for (d, s) in ifname.iter_mut().take(15).zip(dev.name().as_bytes()) {
            *d = *s;
        }
        Self {
            ifindex: dev.ifindex(),
            ifname,
            own_mac: dev.mac(),
            peer,
            size,
            order: ByteOrder::Spec,
            version: Version::V1_1,
            mtu: dev.mtu(),
            integrity: true,
            io_timeout_ms: DEFAULT_IO_TIMEOUT_MS,
        }
    }

    /// The interface name with its NUL, as netlink string attributes carry it.
    pub(crate) fn ifname_with_nul(&self) -> &[u8] {
        let len = self.ifname.iter().position(|&b| b == 0).unwrap_or(15);
        self.ifname.get(..=len).unwrap_or(&[0])
    }
}

impl TimerHandler for Node {
    fn timer_expired(&self) {
        let now = now_ns();
        let changed = {
            let mut link = self.link.lock();
            if let Some(conn) = link.conn.as_mut() {
                conn.poll(now);
            }
            // A connection that just failed decides first whether its I/O is held, before
            // a new connection replaces it.
            let failed = self.update_state(&mut link, now);
            if link.conn_failed() && now >= link.reconnect_at {
                // Reopen once the previous attempt has failed for good.
                self.reconnect(&mut link, now);
            } else if link.state == NodeState::Up
                && self.params.version == Version::V1_0_3
                && now >= link.keepalive_at
            {
                if let Some(conn) = link.conn.as_mut() {
                    let _ = conn.send(&Message::intent(KEEPALIVE_SOURCE, 0, 6, 0), now);
                }
                link.keepalive_at = now.saturating_add(KEEPALIVE_MS * NS_PER_MS);
            }
            self.settle(&mut link, now) || failed
        };
        self.announce(changed);
    }
}
