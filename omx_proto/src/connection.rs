//! The connection state machine: one OmniXtend link to one peer (one VC).
//!
//! Sans-IO: the driver feeds received frames and a monotonic clock (`now`,
//! nanoseconds) in, and pulls frames to send out, writing each into its own
//! buffer. Nothing here sleeps, allocates or touches a socket.
//!
//! Driver loop (kernel module and userspace daemon alike):
//! 1. [`Connection::new`] with a [`Config`] and the retransmit-buffer memory
//!    ([`Connection::required_memory`] bytes); 1.1 initiators call
//!    [`Connection::open`], 1.1 responders just wait (state
//!    [`State::Listening`]), 1.0.3 connections start [`State::Open`].
//! 2. To send a TileLink message call [`Connection::send`]. It either packs
//!    the message into the frame being built (spending credits) or returns
//!    [`Error::NoCredit`] / [`Error::WindowFull`]: keep it queued and retry
//!    after the next received frame.
//! 3. For every received frame call [`Connection::on_frame`] (Ethernet
//!    frame) or [`Connection::on_payload`] (bytes after the Ethernet header)
//!    and consume [`Received::messages`]: they are delivered exactly once and
//!    in order, and their credits are returned to the peer automatically.
//!    Nothing of a frame outside the receive window ([`Config::peer_window`])
//!    is used ([`Disposition::OutOfWindow`]).
//! 4. After each of the above, and whenever the timer fires, call
//!    [`Connection::poll_transmit`] repeatedly until it returns `None`,
//!    sending each frame it writes.
//! 5. Arm a timer for [`Connection::next_deadline`].
//! 6. Watch [`Connection::state`]: [`State::Dead`] means the peer stopped
//!    acknowledging within `max_retransmits + 1` retransmit timeouts
//!    (`rto_ns` each, or doubling: [`Config::rto_backoff_max_shift`]); fail
//!    outstanding requests.

use core::ops::DerefMut;

use super::congestion::{Congestion, DEFAULT_INITIAL_WINDOW, DEFAULT_MIN_WINDOW};
use super::credit::{RxCredits, TxCredits, V11_DEFAULT_CREDITS};
use super::error::Error;
use super::ethernet::EthHeader;
use super::frame::{FrameLimits, FrameView, Messages, DEFAULT_MTU, MIN_PAYLOAD};
use super::header::{MessageType, TloeHeader};
use super::integrity;
use super::message_size::MAX_MESSAGE;
use super::reliability::{RxState, SlotMeta, TimerOutcome, TxWindow};
use super::seq::{Seq, SeqClass, MAX_WINDOW};
use super::tilelink::{ByteOrder, Channel, Message};

pub use super::stats::Stats;
pub use transmit::OutFrame;

mod transmit;

/// Default [`Config::peer_window`]: 2^14 frames, above every known peer's window (omx's
/// 32 and 256 slots; the WD endpoint's default resend buffer of 2^15 flits holds at most
/// 5461 minimal frames) and a 256th of the sequence space.
pub const DEFAULT_PEER_WINDOW: u32 = 1 << 14;

/// Protocol version spoken on the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// OmniXtend 1.0.3: no message types, connection implicitly open, no
    /// credits until granted, ack-only frames are sequenced empty frames.
    V1_0_3,
    /// "OmniXtend 1.1" as implemented by WD's endpoint and ETRI: the
    /// OpenConnection / AckOnly / CloseConnection message types and 128
    /// credits per channel assumed at open.
    V1_1,
}

/// Connection parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Protocol version.
    pub version: Version,
    /// Byte order of TileLink data on the wire.
    pub order: ByteOrder,
    /// Maximum TLoE payload bytes per frame (interface MTU, default 1500).
    pub mtu: usize,
    /// MaxStartOfMessageFlit (1..=64, default 64).
    pub max_start_flit: u8,
    /// Ethernet header written in front of every sent frame (`dst` = peer);
    /// `None` makes [`Connection::poll_transmit`] write bare TLoE payloads.
    pub ethernet: Option<EthHeader>,
    /// Virtual channel of this connection; frames of other VCs are ignored.
    pub vc: u8,
    /// Maximum unacknowledged frames (clamped to the slot count and 2^21-1).
    pub window: u32,
    /// omx extension, sender only (nothing on the wire): adapt how many transmitted frames
    /// may be unacknowledged between `min_window` and `window` ([`crate::congestion`]):
    /// slow start, halving on a NAK's go-back, the minimum after a retransmit timeout.
    /// Off, all `window` frames go out at once (plain Go-Back-N).
    pub congestion: bool,
    /// Congestion window at start and after an idle period (frames; clamped to
    /// `min_window..=window`).
    pub initial_window: u32,
    /// Smallest congestion window (frames; at least 1): after a retransmit timeout.
    pub min_window: u32,
    /// With `congestion`: space frames over the round trip instead of sending a window's
    /// worth at once ([`crate::congestion`]), for paths with shallow queues. Off by
    /// default: [`Connection::next_deadline`] then asks for wake-ups microseconds apart.
    pub pacing: bool,
    /// With `congestion`, 0 = off: also shrink the window (once per round trip) when the
    /// smoothed round trip exceeds the smallest recent one by more than this (ns), before
    /// a deep queue fills and drops ([`crate::congestion`], a Swift-like delay signal).
    pub delay_target_ns: u64,
    /// The most frames the peer may have unacknowledged (its `window`; clamped to
    /// 1..=2^21-1; default [`DEFAULT_PEER_WINDOW`]): the receive window. A frame is used
    /// only if its sequence number is at most this far ahead of `NEXT_RX_SEQ` (frames lost
    /// before it, or a 1.1 AckOnly numbered with the peer's `NEXT_TX_SEQ`) or at most this
    /// plus one behind (a retransmission, a 1.0.3 empty frame numbered with the peer's
    /// `ACKD_SEQ`), and its acknowledgement names no frame we never sent; any other frame
    /// is dropped unread ([`Disposition::OutOfWindow`]). 2^21-1 accepts every sequence
    /// number the spec's classification does (the peer's window may be anything below
    /// 2^21); a smaller value leaves a blind forger, or a frame of an earlier connection,
    /// less chance to land in the window. Too small only costs speed, never correctness:
    /// Go-Back-N resends from `NEXT_RX_SEQ`, in order.
    pub peer_window: u32,
    /// Retransmit timeout in ns (e.g. 2 x RTT): the least it is. Measured round trips
    /// stretch it (`SRTT + 4 x RTTVAR`, [`crate::rto`]) up to the back-off's cap.
    pub rto_ns: u64,
    /// Maximum delay of an acknowledgement in ns (e.g. RTT / 4); also the
    /// delay before returning non-urgent credits.
    pub ack_delay_ns: u64,
    /// Maximum time a partly packed frame waits for more messages.
    pub pack_delay_ns: u64,
    /// Minimum spacing of NAKs for the same gap / go-backs to the same point.
    pub nak_holdoff_ns: u64,
    /// Consecutive retransmit timeouts tolerated before the peer is dead.
    pub max_retransmits: u32,
    /// Each timeout doubles the RTO until a frame sent once is acknowledged, and neither
    /// that nor measured round trips take it above `rto_ns << rto_backoff_max_shift`
    /// (0 = a fixed RTO), as TCP backs off: a receiver that is slow, not gone (a starved
    /// host dropping frames it cannot take), is not flooded with go-backs of the window.
    pub rto_backoff_max_shift: u32,
    /// How long a 1.1 close waits for the peer's CloseConnection.
    pub close_timeout_ns: u64,
    /// 1.1 only, 0 = off: after this long without receiving anything while
    /// nothing is outstanding, send an empty sequenced frame, which the peer
    /// must acknowledge (1.0.3 has no such frame: probe with a TileLink
    /// request instead).
    pub keepalive_ns: u64,
    /// 0 = off: declare the peer [`State::Dead`] after this long without
    /// receiving any valid frame (use with `keepalive_ns` or steady traffic).
    pub idle_timeout_ns: u64,
    /// Our receive buffer per channel A..E in flits: what we grant the peer.
    pub rx_buffer_flits: [u32; 5],
    /// Credits assumed granted by the peer at start; `None` = version
    /// default (0 for 1.0.3, 128 for 1.1).
    pub initial_tx_credits: Option<u32>,
    /// First sequence number in both directions (0 per spec; both peers
    /// must agree; other values only for tests of the wrap-around).
    pub start_seq: u32,
    /// Reject frames whose frame mask disagrees with the message lengths.
    pub strict_mask: bool,
    /// omx extension: end every frame with a trailer of this check and drop received frames
    /// without a valid one ([`crate::integrity`]); `None` for plain OmniXtend. Both peers
    /// must agree.
    pub integrity: Option<integrity::Check>,
}

impl Config {
    /// Defaults for `version`: spec byte order, MTU 1500, RTO 100 ms, ACK
    /// delay 10 µs... see the field docs.
    pub const fn new(version: Version) -> Self {
        Config {
            version,
            order: ByteOrder::Spec,
            mtu: DEFAULT_MTU,
            max_start_flit: 64,
            ethernet: None,
            vc: 0,
            window: 1 << 20,
            congestion: true,
            initial_window: DEFAULT_INITIAL_WINDOW,
            min_window: DEFAULT_MIN_WINDOW,
            pacing: false,
            delay_target_ns: 0,
            peer_window: DEFAULT_PEER_WINDOW,
            rto_ns: 100_000_000,
            ack_delay_ns: 50_000,
            pack_delay_ns: 0,
            nak_holdoff_ns: 25_000_000,
            max_retransmits: 10,
            rto_backoff_max_shift: 0,
            close_timeout_ns: 500_000_000,
            keepalive_ns: 0,
            idle_timeout_ns: 0,
            rx_buffer_flits: [1024; 5],
            initial_tx_credits: None,
            start_seq: 0,
            strict_mask: true,
            integrity: None,
        }
    }

    /// Frame limits derived from `mtu` and `max_start_flit` (room kept for the integrity
    /// trailer when it is on).
    pub const fn limits(&self) -> FrameLimits {
        FrameLimits {
            mtu: if self.integrity.is_some() {
                self.mtu.saturating_sub(integrity::LEN)
            } else {
                self.mtu
            },
            max_start_flit: self.max_start_flit,
            min_payload: MIN_PAYLOAD,
        }
    }
}

/// Connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// 1.1: waiting for the peer's OpenConnection (or our [`Connection::open`]).
    Listening,
    /// 1.1: OpenConnection sent, not yet acknowledged. Sending is allowed.
    Opening,
    /// Open for traffic.
    Open,
    /// 1.1: the peer sent CloseConnection; finish outstanding work, then call
    /// [`Connection::close`]. Sending is still allowed.
    PeerClosing,
    /// We sent CloseConnection (1.1) or wait for our frames to be
    /// acknowledged (1.0.3). No new messages.
    Closing,
    /// Closed cleanly.
    Closed,
    /// The peer stopped acknowledging; all outstanding requests have failed.
    Dead,
}

/// What happened to a received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// In order: its messages are delivered.
    Accepted,
    /// Already received: dropped (and acknowledged).
    Duplicate,
    /// From the future (frames were lost): dropped, NAK sent.
    OutOfOrder,
    /// A 1.1 AckOnly frame: only its acknowledgement was used.
    AckOnly,
    /// Ignored (other VC, or not an OpenConnection while listening).
    Ignored,
    /// Given to [`Connection::on_payload_refused`]: only its acknowledgement was used; the
    /// peer resends it.
    Refused,
    /// Outside the window ([`Config::peer_window`]): a sequence number too far ahead of or
    /// behind `NEXT_RX_SEQ`, or an acknowledgement of a frame never sent. Dropped unread:
    /// not this connection's (forged, or from an earlier one); treat like `Ignored`.
    OutOfWindow,
}

/// Result of feeding one frame to [`Connection::on_payload`].
#[derive(Debug, Clone, Copy)]
pub struct Received<'f> {
    /// The frame's TLoE header.
    pub header: TloeHeader,
    /// What was done with the frame.
    pub disposition: Disposition,
    view: Option<FrameView<'f>>,
}

impl<'f> Received<'f> {
    /// The messages delivered by this frame (empty unless
    /// [`Disposition::Accepted`]). They borrow the frame buffer.
    pub fn messages(&self) -> Messages<'f> {
        match &self.view {
            Some(v) => v.messages(),
            None => Messages::empty(),
        }
    }

    /// Number of messages delivered.
    pub fn message_count(&self) -> usize {
        self.view.as_ref().map_or(0, |v| v.message_count())
    }
}

/// Whether owed credits could be sealed into a frame now (as [`Connection::poll_transmit`]
/// does): not while sealed frames wait for the congestion window, which the credit frame
/// would queue behind anyway (it goes when an acknowledgement makes room, which the caller
/// reacts to).
fn can_seq_credit<B: DerefMut<Target = [u8]>, M: DerefMut<Target = [SlotMeta]>>(
    c: &Connection<B, M>,
) -> bool {
    c.sequenced_allowed()
        && (c.tx.has_open() || c.tx.can_open())
        && !c.tx.has_unsent()
        && c.rxc.any_pending()
}

fn inc(x: &mut u64) {
    *x = x.wrapping_add(1);
}

fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// One OmniXtend connection.
///
/// `B` is the retransmit-buffer memory (anything that derefs to `[u8]`:
/// `&mut [u8]`, `Vec<u8>`, `Box<[u8]>`, the kernel's `KVec<u8>`); `M` is the
/// bookkeeping of its frame slots, one [`SlotMeta`] each (`Vec<SlotMeta>`, `KVec<SlotMeta>`):
/// as many slots as it has entries.
#[derive(Debug)]
pub struct Connection<B, M> {
    cfg: Config,
    limits: FrameLimits,
    state: State,
    tx: TxWindow<B, M>,
    rx: RxState,
    txc: TxCredits,
    rxc: RxCredits,
    credit_deadline: Option<u64>,
    pack_deadline: Option<u64>,
    close_deadline: Option<u64>,
    open_seq: Option<Seq>,
    close_seq: Option<Seq>,
    peer_closed: bool,
    last_rx: Option<u64>,
    /// Last time the peer showed life (a frame) or the connection started.
    alive_at: Option<u64>,
    keepalive_at: u64,
    last_now: u64,
    stats: Stats,
}

impl<B: DerefMut<Target = [u8]>, M: DerefMut<Target = [SlotMeta]>> Connection<B, M> {
    /// Ends the connection and gives its retransmit memory back, so a
    /// reconnect can build a fresh connection without allocating.
    pub fn into_memory(self) -> (B, M) {
        self.tx.into_memory()
    }

    /// Bytes per retransmit slot for `cfg` (one maximal TLoE payload).
    pub const fn slot_size(cfg: &Config) -> usize {
        cfg.limits().max_payload()
    }

    /// Retransmit-buffer memory needed for `cfg` and `slots` slots.
    pub const fn required_memory(cfg: &Config, slots: usize) -> usize {
        Self::slot_size(cfg).saturating_mul(slots)
    }

    /// Largest frame [`Connection::poll_transmit`] can write (Ethernet
    /// header included): the size of the caller's transmit buffer.
    pub fn max_frame_len(&self) -> usize {
        let eth = self.cfg.ethernet.map_or(0, |e| e.header_len());
        let trailer = if self.cfg.integrity.is_some() {
            integrity::LEN
        } else {
            0
        };
        Self::slot_size(&self.cfg)
            .saturating_add(eth)
            .saturating_add(trailer)
    }

    /// Creates a connection with `slots.len()` retransmit slots (at least 2). `mem` must hold
    /// at least [`Connection::required_memory`] bytes for them.
    pub fn new(cfg: Config, mem: B, slots: M) -> Result<Self, Error> {
        let limits = cfg.limits();
        if limits.mtu < MIN_PAYLOAD
            || cfg.max_start_flit == 0
            || cfg.max_start_flit > 64
            || cfg.vc > 7
            || slots.len() < 2
            || cfg.rto_ns == 0
        {
            return Err(Error::BadConfig);
        }
        let start = Seq::new(cfg.start_seq);
        let mut tx = TxWindow::new(mem, slots, Self::slot_size(&cfg), cfg.window, start)?;
        if cfg.congestion {
            let max = u32::try_from(tx.window()).unwrap_or(MAX_WINDOW);
            let mut cc = Congestion::new(cfg.initial_window, cfg.min_window, max);
            cc.set_pacing(cfg.pacing);
            cc.set_delay_target(cfg.delay_target_ns);
            tx.set_congestion(cc);
        }
        let (state, default_credits) = match cfg.version {
            Version::V1_0_3 => (State::Open, 0),
            Version::V1_1 => (State::Listening, V11_DEFAULT_CREDITS),
        };
        let initial = cfg.initial_tx_credits.unwrap_or(default_credits);
        // The peer's largest message fills a frame of our MTU.
        let largest_message = u32::try_from(limits.mtu / 8).unwrap_or(u32::MAX);
        let rxc = RxCredits::new(cfg.rx_buffer_flits, default_credits, largest_message);
        Ok(Connection {
            limits,
            state,
            tx,
            rx: RxState::new(start),
            txc: TxCredits::new(initial),
            rxc,
            credit_deadline: if rxc.worth_a_frame() { Some(0) } else { None },
            pack_deadline: None,
            close_deadline: None,
            open_seq: None,
            close_seq: None,
            peer_closed: false,
            last_rx: None,
            alive_at: None,
            keepalive_at: 0,
            last_now: 0,
            stats: Stats::default(),
            cfg,
        })
    }

    /// The configuration.
    pub const fn config(&self) -> &Config {
        &self.cfg
    }

    /// Current state.
    pub const fn state(&self) -> State {
        self.state
    }

    /// Counters.
    pub const fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Time of the last valid frame received from the peer.
    pub const fn last_rx(&self) -> Option<u64> {
        self.last_rx
    }

    /// Flits we may still send on `ch`.
    pub fn tx_credits(&self, ch: super::tilelink::Channel) -> u32 {
        self.txc.available(ch)
    }

    /// Flits of receive buffer on `ch` not yet returned to the peer.
    pub fn owed_credits(&self, ch: super::tilelink::Channel) -> u64 {
        self.rxc.pending(ch)
    }

    /// Number of sealed frames not yet acknowledged.
    pub fn unacked_frames(&self) -> usize {
        self.tx.unacked()
    }

    /// The congestion window: how many transmitted frames may be unacknowledged now
    /// ([`Config::congestion`]; the fixed window when it is off).
    pub fn congestion_window(&self) -> u32 {
        self.tx.congestion().window()
    }

    /// The congestion control's slow-start threshold (frames).
    pub fn slow_start_threshold(&self) -> u32 {
        self.tx.congestion().ssthresh()
    }

    /// The smoothed round-trip time in ns, from acknowledgements of frames sent once (0
    /// before the first).
    pub fn smoothed_rtt(&self) -> u64 {
        self.tx.congestion().srtt()
    }

    /// How often congestion control reduced the window (go-backs after a NAK, at most one
    /// per loss epoch, and retransmit timeouts).
    pub fn window_reductions(&self) -> u64 {
        self.tx.congestion().reductions()
    }

    /// Retransmit timeouts in a row without the peer acknowledging anything: 0 while the peer
    /// keeps up (or nothing is outstanding), which a blind spoofer cannot fake.
    pub fn consecutive_timeouts(&self) -> u32 {
        self.tx.timeouts()
    }

    /// 1.1: asks the peer for a sign of life now, an empty sequenced frame it must
    /// acknowledge (sent by the next [`Connection::poll_transmit`]), unless frames are
    /// outstanding already: their acknowledgements answer the same question. The answer shows
    /// in [`Connection::consecutive_timeouts`].
    pub fn probe(&mut self, now: u64) -> Result<(), Error> {
        if self.cfg.version != Version::V1_1
            || self.state != State::Open
            || self.tx.unacked() > 0
            || !self.tx.can_open()
        {
            return Ok(());
        }
        self.keepalive_at = now;
        self.seal_open().map(|_| ())
    }

    /// `NEXT_TX_SEQ`.
    pub fn next_tx_seq(&self) -> Seq {
        self.tx.next_seq()
    }

    /// `NEXT_RX_SEQ`.
    pub fn next_rx_seq(&self) -> Seq {
        self.rx.next()
    }

    /// Declares the connection dead (e.g. on an administrative timeout).
    pub fn abort(&mut self) {
        self.state = State::Dead;
    }

    fn sending_allowed(&self) -> bool {
        matches!(
            self.state,
            State::Opening | State::Open | State::PeerClosing
        )
    }

    fn sequenced_allowed(&self) -> bool {
        self.sending_allowed()
    }

    /// 1.1: starts the connection by sending OpenConnection (sequence
    /// number 0). A no-op for 1.0.3, which is open from the start.
    pub fn open(&mut self, now: u64) -> Result<(), Error> {
        self.last_now = now;
        match (self.cfg.version, self.state) {
            (Version::V1_0_3, _) => Ok(()),
            (Version::V1_1, State::Listening) => {
                let mut h = TloeHeader::new(Seq::new(0), Seq::new(0), false);
                h.vc = self.cfg.vc;
                h.msg_type = MessageType::OpenConnection;
                let grant = self.rxc.take_grant();
                h.set_credit(grant);
                match self.tx.seal(&self.limits, h, true) {
                    Ok(s) => {
                        self.open_seq = Some(s);
                        self.state = State::Opening;
                        Ok(())
                    }
                    Err(e) => {
                        if let Some(g) = grant {
                            self.rxc.untake(g);
                        }
                        Err(e)
                    }
                }
            }
            (_, State::Dead) => Err(Error::Dead),
            (_, State::Opening | State::Open) => Ok(()),
            _ => Err(Error::NotOpen),
        }
    }

    /// Starts closing. 1.1: seals pending messages, sends CloseConnection
    /// and waits for the peer's CloseConnection (or `close_timeout_ns`).
    /// 1.0.3: waits until everything sent is acknowledged.
    pub fn close(&mut self, now: u64) -> Result<(), Error> {
        self.last_now = now;
        match self.state {
            State::Dead => return Err(Error::Dead),
            State::Closing | State::Closed => return Ok(()),
            State::Listening => {
                self.state = State::Closed;
                return Ok(());
            }
            _ => {}
        }
        if self.tx.open_packer().is_some_and(|p| !p.is_empty()) {
            self.seal_open()?;
        }
        if self.cfg.version == Version::V1_1 {
            if !self.tx.can_open() && !self.tx.has_open() {
                return Err(Error::WindowFull);
            }
            let mut h = self.base_header();
            h.msg_type = MessageType::CloseConnection;
            let s = self.tx.seal(&self.limits, h, true)?;
            self.close_seq = Some(s);
        }
        self.state = State::Closing;
        self.close_deadline = Some(now.saturating_add(self.cfg.close_timeout_ns));
        self.update_state();
        Ok(())
    }

    fn base_header(&self) -> TloeHeader {
        let mut h = TloeHeader::new(Seq::new(0), Seq::new(0), true);
        h.vc = self.cfg.vc;
        h
    }

    /// Seals the open frame with a piggy-backed credit grant.
    fn seal_open(&mut self) -> Result<Seq, Error> {
        let mut h = self.base_header();
        let grant = if self.sequenced_allowed() {
            self.rxc.take_grant()
        } else {
            None
        };
        h.set_credit(grant);
        let eliciting = grant.is_some() || self.cfg.version == Version::V1_1;
        match self.tx.seal(&self.limits, h, eliciting) {
            Ok(s) => {
                self.pack_deadline = None;
                if !self.rxc.worth_a_frame() {
                    self.credit_deadline = None;
                }
                Ok(s)
            }
            Err(e) => {
                if let Some(g) = grant {
                    self.rxc.untake(g);
                }
                Err(e)
            }
        }
    }

    /// Checks whether `msg` could be sent now without sending it.
    pub fn can_send(&self, msg: &Message<'_>) -> Result<(), Error> {
        match self.state {
            State::Dead => return Err(Error::Dead),
            _ if !self.sending_allowed() => return Err(Error::NotOpen),
            _ => {}
        }
        msg.validate()?;
        let flits = msg.flits();
        if flits.saturating_add(2) > self.limits.max_payload() / 8 {
            return Err(Error::TooLarge);
        }
        if !self.txc.can_send(msg.chan, flits) {
            return Err(Error::NoCredit);
        }
        let fits_open = self
            .tx
            .open_packer()
            .is_some_and(|p| p.check_fit(&self.limits, flits, usize::MAX).is_ok());
        if fits_open || self.tx.can_open() || self.tx.can_open_after_seal() {
            Ok(())
        } else {
            Err(Error::WindowFull)
        }
    }

    /// Queues `msg` for sending: packs it into the frame being built and
    /// spends its credits. On [`Error::NoCredit`] or [`Error::WindowFull`]
    /// nothing was consumed; retry after the next received frame.
    pub fn send(&mut self, msg: &Message<'_>, now: u64) -> Result<(), Error> {
        let (limits, order) = (self.limits, self.cfg.order);
        self.pack(msg, now, |buf, p| p.push(buf, &limits, msg, order))
    }

    /// [`Connection::send`] of a PutFullData of `2^size` bytes (8 to 8 KiB) whose data
    /// `fill(data, order)` writes straight into the frame, in wire order for `order`
    /// ([`ByteOrder::put_mem`]): a sender copies its data once, byte-order conversion
    /// included, instead of into a buffer first and from there into the frame. If `fill`
    /// returns false (its data could not be read), nothing is sent:
    /// [`Error::InvalidMessage`].
    pub fn send_put_full_with(
        &mut self,
        source: u32,
        address: u64,
        size: u8,
        now: u64,
        fill: impl FnOnce(&mut [u8], ByteOrder) -> bool,
    ) -> Result<(), Error> {
        // What the checks see: a PutFullData of that size (its bytes are never read).
        static ZEROS: [u8; MAX_MESSAGE as usize] = [0; MAX_MESSAGE as usize];
        let data = ZEROS
            .get(..1usize.checked_shl(u32::from(size)).unwrap_or(usize::MAX))
            .ok_or(Error::InvalidMessage)?;
        let shape = Message::put_full(source, address, data);
        let (limits, order) = (self.limits, self.cfg.order);
        self.pack(&shape, now, |buf, p| {
            p.push_filled(buf, &limits, &shape, order, fill)
        })
    }

    /// Packs `msg` with `push` into the open frame (sealing a full one and opening another
    /// first) and spends its credits; checks first, so that on an error nothing is spent.
    fn pack(
        &mut self,
        msg: &Message<'_>,
        now: u64,
        push: impl FnOnce(&mut [u8], &mut super::frame::Packer) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.last_now = now;
        self.can_send(msg)?;
        let flits = msg.flits();
        let fits =
            |p: &super::frame::Packer, l: &FrameLimits| p.check_fit(l, flits, usize::MAX).is_ok();
        if self
            .tx
            .open_packer()
            .is_some_and(|p| !fits(p, &self.limits))
        {
            self.seal_open()?;
        }
        if !self.tx.has_open() {
            self.tx.open_new()?;
            self.pack_deadline = Some(now.saturating_add(self.cfg.pack_delay_ns));
        }
        self.tx.with_open(push).ok_or(Error::WindowFull)??;
        if !self.txc.consume(msg.chan, flits) {
            return Err(Error::NoCredit); // unreachable: checked above
        }
        inc(&mut self.stats.msgs_tx);
        Ok(())
    }

    /// Feeds a received Ethernet frame (EtherType 0xAAAA, optional VLAN
    /// tag). Demultiplexing by MAC address is the caller's job.
    pub fn on_frame<'f>(&mut self, frame: &'f [u8], now: u64) -> Result<Received<'f>, Error> {
        match EthHeader::parse_omnixtend(frame) {
            Ok((_, payload)) => self.on_payload(payload, now),
            Err(e) => {
                inc(&mut self.stats.rx_errors);
                Err(e)
            }
        }
    }

    /// Feeds a received TLoE payload (the bytes after the Ethernet header).
    /// Returns the delivered messages, which borrow `payload`.
    pub fn on_payload<'f>(&mut self, payload: &'f [u8], now: u64) -> Result<Received<'f>, Error> {
        self.receive(payload, now, true)
    }

    /// Feeds a received TLoE payload whose messages the caller cannot take now (its queue is
    /// full): the frame is handled as if lost after its acknowledgement was read. An in-window
    /// frame's acknowledgement (or NAK) and sign of life are used, as for a frame that arrives
    /// out of order, so what the caller waits for (its window emptying) can still happen; its
    /// sequence number, messages and credit are not taken, and the peer resends it (Go-Back-N).
    /// Returns [`Disposition::Refused`] for such a frame.
    pub fn on_payload_refused<'f>(
        &mut self,
        payload: &'f [u8],
        now: u64,
    ) -> Result<Received<'f>, Error> {
        self.receive(payload, now, false)
    }

    /// [`Connection::on_payload`] for a payload whose integrity trailer the caller has
    /// already verified and removed ([`integrity::strip`]: a server that looks into a frame
    /// before it hands it over), so the check is not computed twice. Without integrity it is
    /// the same as `on_payload`.
    pub fn on_checked_payload<'f>(
        &mut self,
        tloe: &'f [u8],
        now: u64,
    ) -> Result<Received<'f>, Error> {
        self.receive_tloe(tloe, now, true)
    }

    /// [`Connection::on_payload_refused`] for a payload checked as for
    /// [`Connection::on_checked_payload`].
    pub fn on_checked_payload_refused<'f>(
        &mut self,
        tloe: &'f [u8],
        now: u64,
    ) -> Result<Received<'f>, Error> {
        self.receive_tloe(tloe, now, false)
    }

    fn receive<'f>(
        &mut self,
        payload: &'f [u8],
        now: u64,
        take: bool,
    ) -> Result<Received<'f>, Error> {
        self.last_now = now;
        if self.state == State::Dead {
            return Err(Error::Dead);
        }
        let tloe = if let Some(check) = self.cfg.integrity {
            match integrity::strip(check, payload) {
                Some(p) => p,
                None => {
                    // Corrupted in transit: dropped like a lost frame.
                    inc(&mut self.stats.rx_errors);
                    inc(&mut self.stats.integrity_errors);
                    return Err(Error::BadIntegrity);
                }
            }
        } else {
            payload
        };
        self.receive_tloe(tloe, now, take)
    }

    /// Takes a TLoE payload without (or stripped of) its integrity trailer.
    fn receive_tloe<'f>(
        &mut self,
        payload: &'f [u8],
        now: u64,
        take: bool,
    ) -> Result<Received<'f>, Error> {
        self.last_now = now;
        if self.state == State::Dead {
            return Err(Error::Dead);
        }
        let view = match FrameView::parse(payload, self.cfg.order, self.cfg.strict_mask) {
            Ok(v) => v,
            Err(e) => {
                inc(&mut self.stats.rx_errors);
                return Err(e);
            }
        };
        let h = view.header;
        let mut r = Received {
            header: h,
            disposition: Disposition::Ignored,
            view: None,
        };
        if h.vc != self.cfg.vc {
            inc(&mut self.stats.rx_ignored);
            return Ok(r);
        }
        // Nothing of a frame is used before it is known to be in the window.
        if !self.in_window(&h) {
            inc(&mut self.stats.out_of_window);
            r.disposition = Disposition::OutOfWindow;
            return Ok(r);
        }
        let v11 = self.cfg.version == Version::V1_1;
        // Opening after a reconnect, frames of the peer's previous connection may still
        // arrive (queued while this host stalled); 1.1 has no connection id and both start at
        // sequence 0, so such a frame could pass for this connection's. The peer's first
        // frame of this connection acknowledges our OpenConnection (and perhaps frames we sent
        // after it): until one does, take nothing else.
        if v11 && self.state == State::Opening && h.msg_type != MessageType::OpenConnection {
            let sent = |s: Seq| self.tx.next_seq().distance_from(s);
            let acks_open = h.ack
                && self
                    .open_seq
                    .is_some_and(|s| h.seq_ack.distance_from(s) < sent(s));
            if !acks_open {
                inc(&mut self.stats.rx_ignored);
                return Ok(r);
            }
        }
        if v11 && self.state == State::Listening {
            if !take || h.msg_type != MessageType::OpenConnection || h.seq != self.rx.next() {
                inc(&mut self.stats.rx_ignored);
                return Ok(r);
            }
            self.state = State::Open;
        }
        inc(&mut self.stats.frames_rx);
        self.last_rx = Some(now);
        self.alive_at = Some(now);
        self.apply_ack(&h, now);
        if !take {
            inc(&mut self.stats.rx_refused);
            r.disposition = Disposition::Refused;
            self.update_state();
            return Ok(r);
        }

        if v11 && h.msg_type == MessageType::AckOnly {
            if self.rx.classify(h.seq) == SeqClass::Ahead {
                self.request_nak(now);
            }
            r.disposition = Disposition::AckOnly;
            self.update_state();
            return Ok(r);
        }

        let has_credit = h.credit_grant().is_some();
        let special = matches!(
            h.msg_type,
            MessageType::OpenConnection | MessageType::CloseConnection
        );
        let eliciting = v11 || view.message_count() > 0 || has_credit || special;
        match self.rx.classify(h.seq) {
            SeqClass::InOrder => {
                self.rx.accept();
                inc(&mut self.stats.frames_accepted);
                if let Some((ch, n)) = h.credit_grant() {
                    self.txc.grant(ch, n);
                }
                for ch in Channel::ALL {
                    self.rxc.release(ch, view.channel_flits(ch));
                }
                self.stats.msgs_rx = self.stats.msgs_rx.wrapping_add(view.message_count() as u64);
                if self.rxc.worth_a_frame() {
                    let at = now.saturating_add(self.cfg.ack_delay_ns);
                    self.credit_deadline = earliest(self.credit_deadline, Some(at));
                }
                if eliciting {
                    self.rx
                        .schedule_ack(now.saturating_add(self.cfg.ack_delay_ns));
                }
                if self.state == State::Opening {
                    self.state = State::Open;
                }
                if v11 && h.msg_type == MessageType::CloseConnection {
                    self.peer_closed = true;
                    self.rx.schedule_ack(now);
                    if matches!(self.state, State::Open | State::Opening) {
                        self.state = State::PeerClosing;
                    }
                }
                r.disposition = Disposition::Accepted;
                r.view = Some(view);
            }
            SeqClass::Duplicate => {
                inc(&mut self.stats.duplicates);
                if eliciting {
                    self.rx.schedule_ack(now);
                }
                r.disposition = Disposition::Duplicate;
            }
            SeqClass::Ahead => {
                inc(&mut self.stats.out_of_order);
                self.request_nak(now);
                r.disposition = Disposition::OutOfOrder;
            }
        }
        self.update_state();
        Ok(r)
    }

    /// Whether `h` can be the peer's (see [`Config::peer_window`]): its sequence number is at
    /// most the peer's window ahead of `NEXT_RX_SEQ` (what the peer may have sent beyond what
    /// we received) or one more behind (what it may resend, or its `ACKD_SEQ`), and its
    /// acknowledgement names no frame we never sent (older ones are fine: late duplicates).
    fn in_window(&self, h: &TloeHeader) -> bool {
        let w = self.cfg.peer_window.clamp(1, MAX_WINDOW);
        let next = self.rx.next();
        let seq_ok = h.seq.distance_from(next) <= w || next.distance_from(h.seq) <= w + 1;
        // OpenConnection's SeqAck (-1) is no acknowledgement (see apply_ack).
        let ack_ok = h.msg_type == MessageType::OpenConnection || !self.tx.names_unsent(h.seq_ack);
        seq_ok && ack_ok
    }

    fn request_nak(&mut self, now: u64) {
        self.rx.request_nak(now, self.cfg.nak_holdoff_ns);
    }

    fn apply_ack(&mut self, h: &TloeHeader, now: u64) {
        if h.msg_type == MessageType::OpenConnection {
            return; // carries Ack=0 / SeqAck=-1 by convention, nothing to learn
        }
        if h.ack {
            let rto = self.current_rto();
            self.tx.on_ack(h.seq_ack, now, rto);
        } else {
            inc(&mut self.stats.naks_rx);
            let rto = self.current_rto();
            if self.tx.on_nak(h.seq_ack, now, rto, self.cfg.nak_holdoff_ns) {
                inc(&mut self.stats.gobacks);
            }
        }
    }

    fn update_state(&mut self) {
        if self.state == State::Opening && self.open_seq.is_some_and(|s| self.tx.is_acked(s)) {
            self.state = State::Open;
        }
        if self.state == State::Closing {
            let local_done = match self.close_seq {
                Some(s) => self.tx.is_acked(s),
                None => !self.tx.unacked_eliciting(),
            };
            let peer_done = self.peer_closed || self.cfg.version == Version::V1_0_3;
            if local_done && peer_done {
                self.state = State::Closed;
            }
        }
    }

    /// Runs the timers (retransmission, dead-peer detection, close timeout)
    /// without producing frames. [`Connection::poll_transmit`] calls it.
    pub fn poll(&mut self, now: u64) {
        self.last_now = now;
        if matches!(self.state, State::Dead | State::Listening) {
            return;
        }
        let since = *self.alive_at.get_or_insert(now);
        if self.cfg.idle_timeout_ns > 0
            && self.state != State::Closed
            && now >= since.saturating_add(self.cfg.idle_timeout_ns)
        {
            self.state = State::Dead;
            return;
        }
        match self.tx.on_timer(now, self.cfg.max_retransmits) {
            TimerOutcome::Idle => {}
            TimerOutcome::Retransmit => inc(&mut self.stats.timeouts),
            TimerOutcome::GoBack => inc(&mut self.stats.gobacks),
            TimerOutcome::Exhausted => {
                self.state = if self.state == State::Closing && self.peer_closed {
                    State::Closed
                } else {
                    State::Dead
                };
                return;
            }
        }
        if self.state == State::Closing && self.close_deadline.is_some_and(|d| now >= d) {
            self.state = State::Closed;
        }
        self.update_state();
    }

    fn keepalive_deadline(&self) -> Option<u64> {
        if self.cfg.keepalive_ns == 0
            || self.cfg.version != Version::V1_1
            || self.state != State::Open
            || self.tx.unacked() > 0
            || self.tx.has_open()
        {
            return None;
        }
        let base = self.alive_at?.max(self.keepalive_at);
        Some(base.saturating_add(self.cfg.keepalive_ns))
    }

    fn keepalive_due(&self, now: u64) -> bool {
        self.keepalive_deadline().is_some_and(|d| now >= d)
    }

    /// Whether a credit grant must go now, in a frame of its own if no other is due.
    fn credits_due(&self, now: u64) -> bool {
        self.rxc.worth_a_frame()
            && (self.rxc.urgent() || self.credit_deadline.is_some_and(|d| now >= d))
    }

    /// The retransmit timeout now ([`crate::rto`], [`Config::rto_backoff_max_shift`]).
    fn current_rto(&self) -> u64 {
        self.tx.rto(self.cfg.rto_ns, self.cfg.rto_backoff_max_shift)
    }

    fn has_immediate_work(&self, now: u64) -> bool {
        if matches!(self.state, State::Dead | State::Listening) {
            return false;
        }
        if self.tx.has_pending_transmit() && self.tx.pace_deadline(now).is_none() {
            return true;
        }
        if self.rx.nak_pending() {
            return true;
        }
        can_seq_credit(self) && self.rxc.urgent() && now >= self.last_now
    }

    /// When [`Connection::poll_transmit`] / [`Connection::poll`] must be
    /// called next (absolute time in the caller's clock), or `None` if no
    /// timer is armed. A value at or before the last `now` means "at once".
    pub fn next_deadline(&self) -> Option<u64> {
        match self.state {
            State::Dead | State::Listening => return None,
            State::Closed => {
                // Only acknowledgements of the peer's retransmissions remain.
                let nak = if self.rx.nak_pending() {
                    Some(self.last_now)
                } else {
                    None
                };
                return earliest(nak, self.rx.ack_deadline());
            }
            _ => {}
        }
        if self.has_immediate_work(self.last_now) {
            return Some(self.last_now);
        }
        let mut d = self.tx.timer_deadline();
        if self.tx.has_pending_transmit() {
            d = earliest(d, self.tx.pace_deadline(self.last_now));
        }
        d = earliest(d, self.rx.ack_deadline());
        if self.tx.open_packer().is_some_and(|p| !p.is_empty()) && self.tx.would_send_at_once() {
            d = earliest(d, self.pack_deadline);
        }
        if can_seq_credit(self) {
            d = earliest(d, self.credit_deadline);
        }
        if self.state == State::Closing {
            d = earliest(d, self.close_deadline);
        }
        d = earliest(d, self.keepalive_deadline());
        if self.cfg.idle_timeout_ns > 0 {
            if let Some(a) = self.alive_at {
                d = earliest(d, Some(a.saturating_add(self.cfg.idle_timeout_ns)));
            }
        }
        d
    }
}
