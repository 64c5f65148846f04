//! The pool node's side of omx, sans-IO: one client's connection ([`Responder`]) carrying
//! out the client's TileLink requests on its region of memory and answering them. Shared by
//! the userspace daemon (`omx-node`) and anything else that lends memory.
//!
//! What a node keeps around it is its own: the table of clients by MAC, their regions, the
//! socket or device. A node hands each received frame of a client to
//! [`Responder::on_frame`], sends what [`Responder::connection_mut`] has to send, and calls
//! [`Responder::drain`] before it does, so that requests that waited (for credits or window
//! space) go out in order.
//!
//! Memory is bounded by construction: a request that cannot be answered yet is not
//! executed; the rest of its frame is kept as received in the client's [`FrameQueue`] (at
//! most [`max_deferred`] frames) and executed, in order, when its answers can be sent. When
//! the queue is full, frames that carry requests are dropped unread: they are neither
//! acknowledged nor credited, so the client holds back and resends them later (OmniXtend's
//! own back-pressure).

mod admission;
mod coalesce;
mod request;
#[cfg(test)]
mod tests;

pub use admission::{open_starts_new_connection, opening_version, opens_afresh, VersionPolicy};
pub use coalesce::{Coalescer, Flush};
pub use request::atomic;

use super::connection::{Config, Connection, State, Version};
use super::error::Error;
use super::ethernet::EthHeader;
use super::frame::FrameView;
use super::header::TloeHeader;
use super::identity::Identity;
use super::integrity::{self, Check};
use super::reliability::SlotMeta;
use super::tilelink::{ByteOrder, Message, Opcode};
use core::ops::DerefMut;
use request::{data_len, execute, response_data, response_message, response_opcode, ZEROS};

/// Credits (flits) granted at open on channels C and E, beyond the 128 a 1.1 peer assumes.
pub const OPEN_GRANT_CE: u32 = 1024;

/// How soon waiting requests are tried again when nothing they wait for is in flight.
pub const DEFERRED_RETRY_NS: u64 = 1_000_000;

/// Retransmit slots per connection at MTU `mtu` (frames in flight towards one client):
/// omx's window ([`super::congestion::window_frames`], 1,024 at 1500, 932 at 9000), which
/// holds the answers to every request omx_mod may have outstanding.
pub const fn slots(mtu: usize) -> usize {
    super::congestion::window_frames(mtu)
}

/// Received frames whose requests wait for credits or window space, per connection at MTU
/// `mtu`, before its frames are dropped (back-pressure through the protocol's
/// retransmission): twice the window. Each waiting frame holds at least one request, and
/// omx_mod keeps at most as many requests in flight per node as the window has frames (its
/// source ids): a conforming client never fills this, whatever its frame packing (a budget
/// of one window made omx_mod's reads lose their connection, acknowledgements and credits
/// stuck behind dropped frames). While the connection waits for credits, frames that grant
/// some may take as many again (see [`Responder::on_frame`]).
pub const fn max_deferred(mtu: usize) -> usize {
    2 * slots(mtu)
}

/// The most frames a client's queue ever holds at MTU `mtu`: twice [`max_deferred`], which
/// frames that grant credits may take while the queue waits for them.
pub const fn max_waiting(mtu: usize) -> usize {
    2 * max_deferred(mtu)
}

/// How a node serves: its address, its link and its patience.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Our MAC (frames to other unicast MACs are not ours).
    pub mac: [u8; 6],
    /// Interface MTU (max TLoE payload bytes).
    pub mtu: usize,
    /// Data byte order.
    pub order: ByteOrder,
    /// Accepted protocol versions.
    pub versions: VersionPolicy,
    /// Retransmit timeout.
    pub rto_ns: u64,
    /// Consecutive timeouts before a client is considered gone.
    pub max_retransmits: u32,
    /// The retransmit timeout doubles per consecutive timeout up to `rto_ns << this`.
    pub rto_backoff_max_shift: u32,
    /// 1.1 clients: probe a client silent this long while nothing is outstanding (0 = never).
    pub keepalive_ns: u64,
    /// Acknowledgement delay.
    pub ack_delay_ns: u64,
    /// An OpenConnection from a MAC whose connection was opened less than this long ago
    /// (and has carried traffic) is taken for a stale duplicate of the original, not a
    /// reconnect. Longer than a slow client's resend of its Open (a debug kernel under
    /// emulation took well over 100 ms); a real reconnect follows seconds of silence.
    pub reconnect_guard_ns: u64,
}

impl ServeConfig {
    /// Defaults for `mac` and `mtu`.
    pub fn new(mac: [u8; 6], mtu: usize) -> Self {
        ServeConfig {
            mac,
            mtu,
            order: ByteOrder::Spec,
            versions: VersionPolicy::Auto,
            // A client is given up after 50 + 100 + ... + 800 ms, then six times 1.6 s:
            // 11 s. Losing a client costs it a reconnect, so the node is patient: a client
            // host starved of CPU or memory drops frames for seconds (seen under emulation
            // on a loaded machine) and must not be cut off for it; backing off also stops
            // resending the window into a receiver that cannot take it.
            rto_ns: 50_000_000,
            max_retransmits: 10,
            rto_backoff_max_shift: 5,
            // A client that vanishes while idle is noticed too (1 s + 11 s). omx_mod probes
            // every 0.5 s when idle, so a live client never lets this fire.
            keepalive_ns: 1_000_000_000,
            ack_delay_ns: 50_000,
            reconnect_guard_ns: 1_000_000_000,
        }
    }

    /// The configuration of a connection to `peer` speaking `version`, with omx's
    /// integrity trailer checked by `integrity` if the client uses one.
    pub fn connection_config(
        &self,
        peer: [u8; 6],
        version: Version,
        integrity: Option<Check>,
    ) -> Config {
        let mut c = Config::new(version);
        c.order = self.order;
        c.mtu = self.mtu;
        c.ethernet = Some(EthHeader::new(peer, self.mac));
        c.rto_ns = self.rto_ns;
        c.max_retransmits = self.max_retransmits;
        c.rto_backoff_max_shift = self.rto_backoff_max_shift;
        c.keepalive_ns = self.keepalive_ns;
        c.ack_delay_ns = self.ack_delay_ns;
        c.nak_holdoff_ns = (self.rto_ns / 4).max(1);
        c.integrity = integrity;
        // What we grant at open (a 1.1 peer assumes 128 already): A large (the node drains
        // it at once; twice omx_mod's whole write window, `congestion::WINDOW_BYTES`), C and
        // E at least the 1024 flits the WD endpoint grants, since some initiators wait for
        // that much on every channel they use before they call the connection open. B and D
        // are ours to send on, never received.
        c.rx_buffer_flits = [
            super::congestion::WINDOW_CREDIT_FLITS + 128,
            0,
            OPEN_GRANT_CE + 128,
            0,
            OPEN_GRANT_CE + 128,
        ];
        c
    }
}

/// Counters of the requests a node served, summed over its clients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServeStats {
    /// Requests per kind, indexed like [`REQUEST_KINDS`].
    pub requests: [u64; 7],
    /// Data bytes read by Get.
    pub data_read: u64,
    /// Data bytes written by Put / atomics.
    pub data_written: u64,
    /// Bytes of memory given back for clients' releases (omx's Intent `INTENT_RELEASE`).
    pub data_released: u64,
    /// Requests answered with denied.
    pub denied: u64,
    /// Malformed frames or messages (bad TLoE/TileLink encoding, requests that can never be
    /// answered).
    pub malformed: u64,
    /// Frames with requests dropped unread because their client's queue was full
    /// (back-pressure: the client resends them).
    pub backpressure_drops: u64,
    /// Frames whose requests (some or all) waited for credits or window space.
    pub deferred: u64,
}

/// The request kinds [`ServeStats::requests`] counts, by name.
pub const REQUEST_KINDS: [&str; 7] = [
    "get",
    "put_full",
    "put_partial",
    "arithmetic",
    "logical",
    "intent",
    "other",
];

/// A client's memory as a node holds it.
pub trait Region {
    /// The region: the client's addresses are `0..len`.
    fn bytes(&self) -> &[u8];
    /// The region, to write.
    fn bytes_mut(&mut self) -> &mut [u8];
    /// Gives the memory of `len` bytes at `off` back (its contents read as zeros from now
    /// on); returns how many bytes were given back.
    fn release_range(&mut self, off: usize, len: usize) -> usize;
    /// The identity of the region's contents (`super::identity`), if it has one.
    fn identity(&self) -> Option<Identity>;
    /// Whether the write about to be carried out is stored: always, except in a test-only
    /// mutant that proves the data checks notice a lost write.
    fn keeps_write(&mut self) -> bool {
        true
    }
}

/// A client's received frames whose requests wait, oldest first.
pub trait FrameQueue {
    /// Frames waiting.
    fn len(&self) -> usize;
    /// Whether none waits.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Whether a frame could be kept now. Asked before a frame with requests is accepted (and
    /// so acknowledged): a frame accepted must never be lost for want of memory, so without
    /// room it is refused, and the client resends it.
    fn has_room(&mut self) -> bool {
        true
    }
    /// Keeps a copy of the TLoE frame `tloe` whose messages from index `next` on wait;
    /// `false` if it could not ([`FrameQueue::has_room`] said there was room: never).
    fn push_back(&mut self, tloe: &[u8], next: usize) -> bool;
    /// The oldest waiting frame and the index of its first waiting message.
    fn front_mut(&mut self) -> Option<(&[u8], &mut usize)>;
    /// Forgets the oldest waiting frame.
    fn pop_front(&mut self);
}

/// What became of one received request.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// Carried out (and answered if it has an answer).
    Done,
    /// Not carried out: its answer cannot be sent now (no credits, window full).
    Wait,
}

/// Whether a received TLoE payload (integrity trailer removed) carries TileLink messages.
/// Frames that do not parse say no: the connection counts them.
fn carries_messages(payload: &[u8], order: ByteOrder) -> bool {
    FrameView::parse(payload, order, true).is_ok_and(|v| v.message_count() > 0)
}

/// A node's side of one client's connection: the connection, and what serving the client
/// needs besides its region and its queue of waiting frames (which the node keeps).
pub struct Responder<B, M> {
    conn: Connection<B, M>,
    version: Version,
    opened_at: u64,
    /// The check of omx's integrity trailer the client's frames carry, if any.
    integrity: Option<Check>,
    /// The oldest waiting request waits for credits (not for window space).
    waiting_credit: bool,
    requests: u64,
    denied: u64,
}

impl<B: DerefMut<Target = [u8]>, M: DerefMut<Target = [SlotMeta]>> Responder<B, M> {
    /// Bytes of retransmit memory (`B`) a responder needs, with `slots(cfg.mtu)` slots'
    /// bookkeeping (`M`).
    pub fn required_memory(cfg: &ServeConfig, version: Version, integrity: Option<Check>) -> usize {
        let c = cfg.connection_config([0; 6], version, integrity);
        Connection::<B, M>::required_memory(&c, slots(cfg.mtu))
    }

    /// A responder to `peer`, whose first frame (at `now`) opened a connection speaking
    /// `version` with omx's integrity trailer `integrity` (see [`Self::first_frame`]).
    /// `mem` holds [`Self::required_memory`] bytes, `meta` [`slots`] entries.
    pub fn new(
        cfg: &ServeConfig,
        peer: [u8; 6],
        version: Version,
        integrity: Option<Check>,
        mem: B,
        meta: M,
        now: u64,
    ) -> Result<Self, Error> {
        let conn = Connection::new(cfg.connection_config(peer, version, integrity), mem, meta)?;
        Ok(Responder {
            conn,
            version,
            opened_at: now,
            integrity,
            waiting_credit: false,
            requests: 0,
            denied: 0,
        })
    }

    /// Whether a TLoE payload from a MAC without a connection decodes, and if so which
    /// integrity check its frames carry (`Some(None)`: none). Connections are only reset or
    /// created for a frame that decodes: one malformed frame in a client's name must not
    /// drop its connection or take a region.
    pub fn first_frame(payload: &[u8], order: ByteOrder) -> Option<Option<Check>> {
        let detected = integrity::detect(payload);
        let tloe = detected.map_or(payload, |(_, tloe)| tloe);
        FrameView::parse(tloe, order, true)
            .is_ok()
            .then_some(detected.map(|(check, _)| check))
    }

    /// The connection (its state, counters, and the frames it has to send).
    pub fn connection(&self) -> &Connection<B, M> {
        &self.conn
    }

    /// The connection, to send its frames or close it.
    pub fn connection_mut(&mut self) -> &mut Connection<B, M> {
        &mut self.conn
    }

    /// The connection's retransmit memory, for the next connection (the node keeps it
    /// where it may not allocate).
    pub fn into_memory(self) -> (B, M) {
        self.conn.into_memory()
    }

    /// The protocol version the client speaks.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Whether the oldest waiting request waits for credits (not for window space).
    pub fn waiting_for_credit(&self) -> bool {
        self.waiting_credit
    }

    /// Requests the client sent, and how many of them were denied.
    pub fn requests(&self) -> (u64, u64) {
        (self.requests, self.denied)
    }

    /// A 1.1 OpenConnection `open` (that decodes) arrived at `now` from this client: returns
    /// the state the connection ended in if the Open starts a new connection (the node
    /// retires this one and opens another), `None` if it is a duplicate the connection
    /// takes. When a working client's connection receives a fresh Open, the client is asked
    /// (a probe): a restarted client ignores it, and its Open is taken once the probe times
    /// out; a working one answers, and a replayed Open is moot.
    pub fn on_open(&mut self, open: &TloeHeader, now: u64, guard_ns: u64) -> Option<State> {
        let young = now.saturating_sub(self.opened_at) < guard_ns;
        // The client acknowledges what we send: it is there, and did not restart.
        let answering = self.conn.consecutive_timeouts() == 0;
        let only_open = self.conn.next_rx_seq().get() <= 1;
        let st = self.conn.state();
        if open_starts_new_connection(st, open, only_open, young || answering) {
            return Some(st);
        }
        if answering && opens_afresh(open) {
            let _ = self.conn.probe(now);
        }
        None
    }

    /// Takes the client's frame with TLoE header `h` and `payload` (trailer included) at
    /// `now`: carries out its requests on `region` and answers them, in order; what cannot
    /// be answered yet waits in `queue`. A client whose queue holds `max_deferred(mtu)`
    /// frames gets its frames with requests dropped unread (and resent later by it).
    pub fn on_frame(
        &mut self,
        h: &TloeHeader,
        payload: &[u8],
        queue: &mut impl FrameQueue,
        region: &mut impl Region,
        stats: &mut ServeStats,
        now: u64,
    ) {
        let order = self.conn.config().order;
        let max = max_deferred(self.conn.config().mtu);
        let tloe = match self.integrity {
            Some(check) => integrity::strip(check, payload),
            None => Some(payload),
        };
        // Back-pressure: a connection whose queue is full takes no more requests; the frame
        // is not acknowledged and the client resends it later, but its acknowledgement of our
        // frames is read (they empty our window, which the queue may wait for). Frames
        // without requests (acknowledgements, credits) are always taken.
        // While the queue waits for credits, a frame that grants some is taken beyond the
        // budget (up to as much again): the grant may be what the queue waits for, and the
        // client may have nothing else to carry it. A queue without room for one more frame
        // (no memory) takes no frame with requests either.
        let full = queue.len() >= max;
        let no_room = !queue.has_room();
        if (full || no_room) && tloe.is_some_and(|t| carries_messages(t, order)) {
            let grants = self.waiting_credit && h.credit_grant().is_some();
            if no_room || !grants || queue.len() >= max_waiting(self.conn.config().mtu) {
                stats.backpressure_drops += 1;
                let refused = match tloe {
                    Some(t) => self.conn.on_checked_payload_refused(t, now),
                    None => self.conn.on_payload_refused(payload, now),
                };
                match refused {
                    Ok(_) | Err(Error::Dead) => {}
                    Err(_) => stats.malformed += 1,
                }
                return;
            }
        }
        // The trailer was checked above: once per frame (it is most of a frame's cost).
        let received = match tloe {
            Some(t) => self.conn.on_checked_payload(t, now),
            // Corrupt: the connection counts it and drops it.
            None => self.conn.on_payload(payload, now),
        };
        let rx = match received {
            Ok(rx) => rx,
            Err(Error::Dead) => return,
            Err(_) => {
                stats.malformed += 1;
                return;
            }
        };
        if rx.message_count() == 0 {
            return;
        }
        // Requests are carried out in order: behind waiting ones, a frame waits whole.
        let mut next = 0;
        if queue.is_empty() {
            for msg in rx.messages() {
                if self.answer(&msg, region, stats, now) == Answer::Wait {
                    break;
                }
                next += 1;
            }
            if next == rx.message_count() {
                return;
            }
        }
        // The rest of the frame waits (accepted, so it must be answered).
        let Some(tloe) = tloe else { return };
        stats.deferred += 1;
        if !queue.push_back(tloe, next) {
            // Never: the queue said it had room before the frame was accepted. Were it to
            // happen, the frame's waiting requests would go unanswered (counted here).
            stats.malformed += 1;
        }
    }

    /// Carries out the waiting requests that can be answered now, in order; once the client
    /// closed and nothing waits, closes our side. Call before sending.
    pub fn drain(
        &mut self,
        queue: &mut impl FrameQueue,
        region: &mut impl Region,
        stats: &mut ServeStats,
        now: u64,
    ) {
        let order = self.conn.config().order;
        while let Some((payload, next)) = queue.front_mut() {
            // It parsed when it was received: it does now.
            if let Ok(view) = FrameView::parse(payload, order, true) {
                for msg in view.messages().skip(*next) {
                    if self.answer(&msg, region, stats, now) == Answer::Wait {
                        return;
                    }
                    *next += 1;
                }
            }
            queue.pop_front();
        }
        if self.conn.state() == State::PeerClosing {
            let _ = self.conn.close(now);
        }
    }

    /// When the node must call [`Self::drain`] and send next (absolute ns), given how many
    /// frames wait in the client's queue.
    pub fn next_deadline(&self, waiting: usize, now: u64) -> Option<u64> {
        let mut d = self.conn.next_deadline();
        if waiting > 0 && self.conn.unacked_frames() == 0 {
            // Waiting work that is not waiting for an ack: retry soon, but not at once (a
            // client that withholds its credits would keep the node spinning).
            let t = now.saturating_add(DEFERRED_RETRY_NS);
            d = Some(d.map_or(t, |x| x.min(t)));
        }
        d
    }

    /// Carries out `msg` and sends its response, if the response can be sent now; else
    /// leaves it untouched ([`Answer::Wait`]).
    fn answer(
        &mut self,
        msg: &Message<'_>,
        region: &mut impl Region,
        stats: &mut ServeStats,
        now: u64,
    ) -> Answer {
        if let Some(op) = response_opcode(msg) {
            let n = if op == Opcode::AccessAckData {
                data_len(msg.size)
            } else {
                0
            };
            let probe = response_message(op, msg.source, msg.size, 0, &ZEROS[..n]);
            match self.conn.can_send(&probe) {
                Ok(()) => {}
                Err(Error::NoCredit) => {
                    self.waiting_credit = true;
                    return Answer::Wait;
                }
                Err(Error::WindowFull) => {
                    self.waiting_credit = false;
                    return Answer::Wait;
                }
                // Never answerable (e.g. a Get larger than one frame can carry): carried
                // out, counted below when its answer fails.
                Err(_) => {}
            }
        }
        let Some(resp) = execute(msg, region, stats, &mut self.requests, &mut self.denied) else {
            return Answer::Done;
        };
        debug_assert_eq!(Some(resp.opcode), response_opcode(msg));
        if let Some(a) = resp.release {
            stats.data_released += region.release_range(a, data_len(resp.size)) as u64;
        }
        let data = response_data(&resp, region);
        let m = response_message(resp.opcode, resp.source, resp.size, resp.err, data);
        if self.conn.send(&m, now).is_err() {
            stats.malformed += 1;
        }
        Answer::Done
    }
}
