//! The pool node's core: demultiplexes frames by source MAC onto one
//! [`omx_proto::Connection`] per client, executes TileLink requests on the
//! client's region and queues the responses.
//!
//! [`Server`] is sans-IO like the protocol core: [`Server::handle_frame`]
//! takes a received Ethernet frame, [`Server::transmit`] writes the frames to
//! send into a [`FrameOut`]. [`run`] is the socket loop around it.
//!
//! Fast path: one thread, an explicit `ppoll` loop, frames read where the kernel put them
//! (a receive ring, [`RxRing`]) `batch` at a time, all responses packed by the connections into
//! a transmit ring shared with the kernel ([`TxRing`]) and sent with one
//! `send()`, by reference. Responses are built straight from the region
//! (no allocation).
//!
//! Memory is bounded by construction (see `Documentation/pool-node.md`, "Memory ceiling"):
//! a frame from a MAC that holds no region here allocates nothing (no connection). A
//! request that cannot be answered yet (no credits from the client, or our window is full)
//! is not executed: the rest of its frame is kept as received (at most [`max_deferred`]
//! such frames per connection) and executed, in order, when the answers can be
//! sent. When a connection's budget is full, its frames that carry requests are dropped
//! unread: they are neither acknowledged nor credited, so the client holds back and resends
//! them later (OmniXtend's own back-pressure).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use omx_proto::identity::{self, Identity};
use omx_proto::integrity::Check;
use omx_proto::tilelink::{Channel, Opcode, INTENT_RELEASE};
use omx_proto::{
    ByteOrder, Config, Connection, Error as ProtoError, EthHeader, FrameView, Message, MessageType,
    Seq, SlotMeta, State, TloeHeader, Version,
};

use crate::memory::Memory;
use crate::stats::{ClientReport, NodeStats};
use crate::sys::{self, PacketSocket, RxRing, TxRing};
use crate::util::{format_mac, now_ns, Mac};

/// Retransmit slots per connection at MTU `mtu` (frames in flight towards one client):
/// omx's window (`omx_proto::congestion::window_frames`, 1,024 at 1500, 932 at 9000), which
/// holds the answers to every request omx_mod may have outstanding.
pub fn slots(mtu: usize) -> usize {
    omx_proto::congestion::window_frames(mtu)
}
/// Connection type used on both sides.
pub type Conn = Connection<Vec<u8>, Vec<SlotMeta>>;
/// Received frames whose requests wait for credits or window space, per connection at MTU
/// `mtu`, before its frames are dropped (back-pressure through the protocol's
/// retransmission): twice the window. Each waiting frame holds at least one request, and
/// omx_mod keeps at most as many requests in flight per node as the window has frames (its
/// source ids): a conforming client never fills this, whatever its frame packing (a budget
/// of one window made omx_mod's reads lose their connection, acknowledgements and credits
/// stuck behind dropped frames). While the connection waits for credits, frames that grant
/// some may take as many again (see [`Server::handle_frame`]).
pub fn max_deferred(mtu: usize) -> usize {
    2 * slots(mtu)
}
/// How soon waiting requests are tried again when nothing they wait for is in flight.
const DEFERRED_RETRY_NS: u64 = 1_000_000;
/// Received frames kept at most in the recycling pool (their buffers).
pub const POOL_MAX: usize = 64;
/// Everything else a connection costs besides its retransmit memory and its queue: the
/// connection's state (856 bytes, inline in the table, which may have twice as many slots
/// as entries), its retransmit slots' bookkeeping (up to 1,024 x 48 bytes), the queue's
/// index (up to 4,096 x 32 bytes); generous.
pub const CONN_OVERHEAD: usize = 256 << 10;
/// The daemon's own memory besides its buffers: code, libraries, stacks, allocator (measured
/// in the VM tests at about 3 MiB; generous).
pub const BASE_OVERHEAD: usize = 16 << 20;
/// Largest data block ever returned (2^15, the size field's limit).
const MAX_DATA: usize = 1 << 15;
static ZEROS: [u8; MAX_DATA] = [0u8; MAX_DATA];
const BROADCAST: Mac = [0xff; 6];

/// Which protocol versions the node accepts from new clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VersionPolicy {
    /// 1.1 when the first frame is OpenConnection, else 1.0.3 (seq 0).
    Auto,
    /// Only 1.1 (OpenConnection required).
    #[value(name = "1.1")]
    V11,
    /// Only 1.0.3.
    #[value(name = "1.0.3")]
    V103,
}

/// Server parameters.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Our MAC (frames to other unicast MACs are ignored).
    pub mac: Mac,
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
    /// Free a departed client's region after this long.
    pub forget_after_ns: Option<u64>,
    /// Maximum simultaneous connections.
    pub max_peers: usize,
    /// An OpenConnection from a MAC whose connection was opened less than
    /// this long ago (and has carried traffic) is taken for a stale
    /// duplicate of the original, not a reconnect. Longer than a slow
    /// client's resend of its Open (a debug kernel under emulation took
    /// well over 100 ms); a real reconnect follows seconds of silence.
    pub reconnect_guard_ns: u64,
}

impl ServerConfig {
    /// Defaults for `mac` and `mtu`.
    pub fn new(mac: Mac, mtu: usize) -> Self {
        ServerConfig {
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
            forget_after_ns: None,
            max_peers: 64,
            reconnect_guard_ns: 1_000_000_000,
        }
    }

    fn conn_config(&self, peer: Mac, version: Version) -> Config {
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
        // What we grant at open (a 1.1 peer assumes 128 already): A large (the node drains
        // it at once; twice omx_mod's whole write window, `congestion::WINDOW_BYTES`), C and
        // E at least the 1024 flits the WD endpoint grants, since some initiators wait for
        // that much on every channel they use before they call the connection open. B and D
        // are ours to send on, never received.
        c.rx_buffer_flits = [
            omx_proto::congestion::WINDOW_CREDIT_FLITS + 128,
            0,
            OPEN_GRANT_CE + 128,
            0,
            OPEN_GRANT_CE + 128,
        ];
        c
    }
}

/// Credits (flits) granted at open on channels C and E, beyond the 128 a 1.1 peer assumes.
pub const OPEN_GRANT_CE: u32 = 1024;

/// Bytes of one received frame as the socket loop hands it over (MTU + headers).
pub fn frame_slot(mtu: usize) -> usize {
    mtu + 64
}

/// Bytes of frames a connection may keep waiting at MTU `mtu` ([`max_deferred`] frames);
/// twice as many while it waits for credits and the frames grant some.
pub fn queue_budget(mtu: usize) -> usize {
    max_deferred(mtu) * frame_slot(mtu)
}

/// The memory ceiling of a node: what it lends, what each connection may cost at most, and
/// the rest. See `Documentation/pool-node.md`, "Memory ceiling".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ceiling {
    /// The lent memory (and, with a memory file, its state).
    pub lent: u64,
    /// At most this many connections (--max-clients, or fewer regions).
    pub connections: u64,
    /// Per connection: retransmit memory, queue, state.
    pub per_connection: u64,
    /// Receive and transmit rings, buffer pool, the process itself.
    pub base: u64,
}

impl Ceiling {
    /// The ceiling for `lent` bytes, at most `connections` connections, MTU `mtu`, batches
    /// of `batch` frames.
    pub fn new(lent: u64, connections: usize, mtu: usize, batch: usize) -> Ceiling {
        let cfg = ServerConfig::new([0; 6], mtu).conn_config([0; 6], Version::V1_1);
        let retransmit = Conn::required_memory(&cfg, slots(mtu)) as u64;
        let queue = (2 * queue_budget(mtu)) as u64;
        Ceiling {
            lent,
            connections: connections as u64,
            per_connection: retransmit + queue + CONN_OVERHEAD as u64,
            base: (POOL_MAX * frame_slot(mtu)
                + sys::rx_ring_bytes(RX_RING_BATCHES.saturating_mul(batch), frame_slot(mtu))
                + sys::tx_ring_bytes(RING_BATCHES.saturating_mul(batch), frame_slot(mtu)))
                as u64
                + BASE_OVERHEAD as u64,
        }
    }

    /// The total in bytes.
    pub fn total(&self) -> u64 {
        self.lent + self.connections * self.per_connection + self.base
    }
}

/// Where [`Server::transmit`] writes frames.
pub trait FrameOut {
    /// A buffer for the next frame (at least MTU + Ethernet header bytes).
    fn buf(&mut self) -> &mut [u8];
    /// The frame just written into [`FrameOut::buf`] is `len` bytes.
    fn commit(&mut self, len: usize);
}

/// A received frame (TLoE payload, integrity trailer removed) whose requests from `next` on
/// wait for credits or window space.
#[derive(Debug)]
struct Deferred {
    payload: Vec<u8>,
    next: usize,
}

/// Where a response's data comes from.
enum Src {
    None,
    Region(usize),
    Zero,
    Inline([u8; 8]),
    /// The client's contents identity (`omx_proto::identity`).
    Identity([u8; identity::LEN]),
}

struct Response {
    opcode: Opcode,
    source: u32,
    size: u8,
    err: u8,
    src: Src,
    /// An omx release (Intent `INTENT_RELEASE`) of the region's `n` bytes at this offset:
    /// the caller gives the memory back (`Memory::release_range`).
    release: Option<usize>,
}

struct Peer {
    conn: Conn,
    opened_at: u64,
    version: Version,
    region: usize,
    /// The check of omx's integrity trailer the client's frames carry, if any.
    integrity: Option<Check>,
    /// Frames whose requests wait, oldest first (at most 2 x [`max_deferred`]).
    deferred: VecDeque<Deferred>,
    /// The oldest waiting request waits for credits (not for window space).
    waiting_credit: bool,
    requests: u64,
    denied: u64,
}

/// The node: connections, memory, counters.
pub struct Server {
    cfg: ServerConfig,
    mem: Memory,
    peers: HashMap<Mac, Peer>,
    stats: NodeStats,
    pool: Vec<Vec<u8>>,
    last_housekeeping: u64,
    /// When "refused, already N connections" was last logged.
    last_refusal_log: u64,
    /// When "no region for ..." was last logged.
    last_no_region_log: u64,
}

fn data_len(size: u8) -> usize {
    1usize << size.min(15)
}

fn sign_extend(v: u64, bits: u32) -> i64 {
    let sh = 64 - bits;
    ((v << sh) as i64) >> sh
}

/// Computes a TileLink atomic on an `n`-byte little-endian value; `None`
/// for an undefined param.
pub fn atomic(op: Opcode, param: u8, old: u64, operand: u64, n: usize) -> Option<u64> {
    let bits = (n.clamp(1, 8) * 8) as u32;
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let (a, b) = (old & mask, operand & mask);
    let r = match (op, param) {
        (Opcode::ArithmeticData, 0) => {
            if sign_extend(b, bits) < sign_extend(a, bits) {
                b
            } else {
                a
            }
        }
        (Opcode::ArithmeticData, 1) => {
            if sign_extend(b, bits) > sign_extend(a, bits) {
                b
            } else {
                a
            }
        }
        (Opcode::ArithmeticData, 2) => a.min(b),
        (Opcode::ArithmeticData, 3) => a.max(b),
        (Opcode::ArithmeticData, 4) => a.wrapping_add(b),
        (Opcode::LogicalData, 0) => a ^ b,
        (Opcode::LogicalData, 1) => a | b,
        (Opcode::LogicalData, 2) => a & b,
        (Opcode::LogicalData, 3) => b,
        _ => return None,
    };
    Some(r & mask)
}

/// Executes one request on `region` (empty when the client has none).
/// Returns the response, or `None` for messages that get none.
fn execute(
    msg: &Message<'_>,
    region: &mut [u8],
    ident: Option<Identity>,
    stats: &mut NodeStats,
    peer_req: &mut u64,
    peer_denied: &mut u64,
) -> Option<Response> {
    if msg.chan != Channel::A {
        // GrantAck (E) and anything on B/C: nothing to answer.
        if msg.chan != Channel::E {
            stats.requests[6] += 1;
        }
        return None;
    }
    *peer_req += 1;
    let n = data_len(msg.size);
    let addr = msg.address;
    let in_range = usize::try_from(addr)
        .ok()
        .filter(|a| a % n == 0)
        .and_then(|a| a.checked_add(n).filter(|e| *e <= region.len()).map(|_| a));
    let mut resp = Response {
        opcode: Opcode::AccessAck,
        source: msg.source,
        size: msg.size,
        err: 0,
        src: Src::None,
        release: None,
    };
    let deny = |r: &mut Response, stats: &mut NodeStats, d: &mut u64, data: bool| {
        stats.denied += 1;
        *d += 1;
        // TileLink: a denied response with data must also be corrupt.
        if data {
            r.err = 3;
            r.src = Src::Zero;
        } else {
            r.err = 2;
            r.src = Src::None;
        }
    };
    // Test-only (cargo feature mutation-drop-write, never by default): a lost write.
    #[cfg(feature = "mutation-drop-write")]
    if matches!(msg.opcode, Opcode::PutFullData | Opcode::PutPartialData)
        && in_range.is_some()
        && crate::mutation::drop_this_write()
    {
        return Some(resp);
    }
    match msg.opcode {
        Opcode::Get if addr == identity::ADDR && msg.size == identity::SIZE_LOG2 => {
            stats.requests[0] += 1;
            resp.opcode = Opcode::AccessAckData;
            match ident {
                Some(id) => resp.src = Src::Identity(id.to_bytes()),
                None => deny(&mut resp, stats, peer_denied, true),
            }
        }
        Opcode::Get => {
            stats.requests[0] += 1;
            resp.opcode = Opcode::AccessAckData;
            match in_range {
                Some(a) => {
                    resp.src = Src::Region(a);
                    stats.data_read += n as u64;
                }
                None => deny(&mut resp, stats, peer_denied, true),
            }
        }
        Opcode::PutFullData => {
            stats.requests[1] += 1;
            match in_range {
                Some(a) => {
                    msg.data.copy_to(&mut region[a..a + n]);
                    stats.data_written += n as u64;
                }
                None => deny(&mut resp, stats, peer_denied, false),
            }
        }
        Opcode::PutPartialData => {
            stats.requests[2] += 1;
            match in_range {
                Some(a) => {
                    let dst = &mut region[a..a + n];
                    for (k, chunk) in dst.chunks_mut(8).enumerate() {
                        let Some(f) = msg.data.flit(k) else { break };
                        let w = msg.data.mask_word(k / 8).unwrap_or(0);
                        let bits = (w >> ((k % 8) * 8)) as u8;
                        if bits == 0xff && chunk.len() == 8 {
                            chunk.copy_from_slice(&f);
                        } else {
                            for (i, b) in chunk.iter_mut().enumerate() {
                                if bits & (1 << i) != 0 {
                                    *b = f[i];
                                }
                            }
                        }
                    }
                    stats.data_written += n as u64;
                }
                None => deny(&mut resp, stats, peer_denied, false),
            }
        }
        Opcode::ArithmeticData | Opcode::LogicalData => {
            let idx = if msg.opcode == Opcode::ArithmeticData {
                3
            } else {
                4
            };
            stats.requests[idx] += 1;
            resp.opcode = Opcode::AccessAckData;
            let mut operand = [0u8; 8];
            msg.data.copy_to(&mut operand[..n.min(8)]);
            match in_range.filter(|_| n <= 8) {
                Some(a) => {
                    let mut old = [0u8; 8];
                    old[..n].copy_from_slice(&region[a..a + n]);
                    match atomic(
                        msg.opcode,
                        msg.param,
                        u64::from_le_bytes(old),
                        u64::from_le_bytes(operand),
                        n,
                    ) {
                        Some(new) => {
                            region[a..a + n].copy_from_slice(&new.to_le_bytes()[..n]);
                            resp.src = Src::Inline(old);
                            stats.data_written += n as u64;
                        }
                        None => deny(&mut resp, stats, peer_denied, true),
                    }
                }
                None => deny(&mut resp, stats, peer_denied, true),
            }
        }
        Opcode::Intent => {
            stats.requests[5] += 1;
            resp.opcode = Opcode::HintAck;
            match in_range {
                Some(a) if msg.param == INTENT_RELEASE => resp.release = Some(a),
                Some(_) => {}
                None => deny(&mut resp, stats, peer_denied, false),
            }
        }
        _ => {
            // AcquireBlock / AcquirePerm: this node is not a coherence
            // manager; answer with a denied Grant (no data).
            stats.requests[6] += 1;
            resp.opcode = Opcode::Grant;
            deny(&mut resp, stats, peer_denied, false);
        }
    }
    Some(resp)
}

fn response_message<'a>(
    p_op: Opcode,
    source: u32,
    size: u8,
    err: u8,
    data: &'a [u8],
) -> Message<'a> {
    let mut m = match p_op {
        Opcode::AccessAckData => Message::access_ack_data(source, size, data),
        Opcode::HintAck => Message::hint_ack(source, size),
        Opcode::Grant => Message::new(Channel::D, Opcode::Grant, size, source),
        _ => Message::access_ack(source, size),
    };
    m.err = err;
    m
}

/// The opcode of the response [`execute`] gives `msg`, without executing it (`None`: no
/// response). Its data length is always `2^size` for AccessAckData: with it, whether the
/// response can be sent is known before the request is carried out.
fn response_opcode(msg: &Message<'_>) -> Option<Opcode> {
    if msg.chan != Channel::A {
        return None;
    }
    Some(match msg.opcode {
        Opcode::Get | Opcode::ArithmeticData | Opcode::LogicalData => Opcode::AccessAckData,
        Opcode::PutFullData | Opcode::PutPartialData => Opcode::AccessAck,
        Opcode::Intent => Opcode::HintAck,
        _ => Opcode::Grant,
    })
}

/// What became of one received request.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// Carried out (and answered if it has an answer).
    Done,
    /// Not carried out: its answer cannot be sent now (no credits, window full).
    Wait,
}

/// The parts of a connection [`answer`] works on.
struct Target<'a> {
    conn: &'a mut Conn,
    mem: &'a mut Memory,
    region: usize,
    ident: Option<Identity>,
    requests: &'a mut u64,
    denied: &'a mut u64,
    waiting_credit: &'a mut bool,
}

impl Peer {
    /// What answering this peer's requests needs (its region in `mem`), and its queue of
    /// waiting frames.
    fn target<'a>(&'a mut self, mem: &'a mut Memory) -> (Target<'a>, &'a mut VecDeque<Deferred>) {
        let ident = mem.identity(self.region);
        let t = Target {
            conn: &mut self.conn,
            mem,
            region: self.region,
            ident,
            requests: &mut self.requests,
            denied: &mut self.denied,
            waiting_credit: &mut self.waiting_credit,
        };
        (t, &mut self.deferred)
    }
}

/// Carries out `msg` and sends its response, if the response can be sent now; else leaves
/// it untouched ([`Answer::Wait`]).
fn answer(
    t: &mut Target<'_>,
    msg: &Message<'_>,
    stats: &mut NodeStats,
    mac: &Mac,
    now: u64,
) -> Answer {
    if let Some(op) = response_opcode(msg) {
        let n = if op == Opcode::AccessAckData {
            data_len(msg.size)
        } else {
            0
        };
        let probe = response_message(op, msg.source, msg.size, 0, &ZEROS[..n]);
        match t.conn.can_send(&probe) {
            Ok(()) => {}
            Err(ProtoError::NoCredit) => {
                *t.waiting_credit = true;
                return Answer::Wait;
            }
            Err(ProtoError::WindowFull) => {
                *t.waiting_credit = false;
                return Answer::Wait;
            }
            // Never answerable (e.g. a Get larger than one frame can carry): carried out,
            // counted below when its answer fails.
            Err(_) => {}
        }
    }
    let region = t.mem.region_mut(t.region);
    let Some(resp) = execute(msg, region, t.ident, stats, t.requests, t.denied) else {
        return Answer::Done;
    };
    debug_assert_eq!(Some(resp.opcode), response_opcode(msg));
    let n = data_len(resp.size);
    if let Some(a) = resp.release {
        stats.data_released += t.mem.release_range(t.region, a, n) as u64;
    }
    let data: &[u8] = match &resp.src {
        Src::None => &[],
        Src::Region(a) => &t.mem.region(t.region)[*a..*a + n],
        Src::Zero => &ZEROS[..n],
        Src::Inline(b) => &b[..n.min(8)],
        Src::Identity(b) => &b[..n.min(identity::LEN)],
    };
    let m = response_message(resp.opcode, resp.source, resp.size, resp.err, data);
    if let Err(e) = t.conn.send(&m, now) {
        stats.malformed += 1;
        crate::debug!(
            "client {}: cannot answer {:?} size {}: {e}",
            format_mac(mac),
            msg.opcode,
            msg.size
        );
    }
    Answer::Done
}

/// Whether a received TLoE payload (integrity trailer removed) carries TileLink messages.
/// Frames that do not parse say no: the connection counts them.
fn carries_messages(payload: &[u8], order: ByteOrder) -> bool {
    FrameView::parse(payload, order, true).is_ok_and(|v| v.message_count() > 0)
}

impl Server {
    /// A server over `mem`.
    pub fn new(cfg: ServerConfig, mem: Memory) -> Self {
        Server {
            cfg,
            mem,
            peers: HashMap::new(),
            stats: NodeStats::default(),
            pool: Vec::new(),
            last_housekeeping: 0,
            last_refusal_log: 0,
            last_no_region_log: 0,
        }
    }

    /// Counters.
    pub fn stats(&self) -> &NodeStats {
        &self.stats
    }

    /// Counters, mutable (the socket loop adds its own).
    pub fn stats_mut(&mut self) -> &mut NodeStats {
        &mut self.stats
    }

    /// The memory.
    pub fn memory(&self) -> &Memory {
        &self.mem
    }

    /// The memory, mutable (e.g. to [`Memory::close`] it at shutdown).
    pub fn memory_mut(&mut self) -> &mut Memory {
        &mut self.mem
    }

    /// Number of live connections.
    pub fn connections(&self) -> usize {
        self.peers.len()
    }

    /// Protocol counters of live and retired connections.
    pub fn link_counters(&self) -> omx_proto::Stats {
        self.peers
            .values()
            .fold(self.stats.retired, |sum, p| sum.sum(p.conn.stats()))
    }

    /// Per-client report lines.
    pub fn client_reports(&self) -> Vec<ClientReport> {
        let mut out: Vec<ClientReport> = self
            .peers
            .iter()
            .map(|(mac, p)| ClientReport {
                mac: format_mac(mac),
                state: format!("{:?}", p.conn.state()).to_lowercase(),
                version: match p.version {
                    Version::V1_1 => "1.1".into(),
                    Version::V1_0_3 => "1.0.3".into(),
                },
                region_size: self.mem.region_len(p.region) as u64,
                requests: p.requests,
                denied: p.denied,
            })
            .collect();
        for r in self.mem.regions() {
            if let (Some(m), Some(_)) = (r.owner, r.released_at) {
                if !self.peers.contains_key(&m) {
                    out.push(ClientReport {
                        mac: format_mac(&m),
                        state: "away".into(),
                        version: String::new(),
                        region_size: r.len as u64,
                        requests: 0,
                        denied: 0,
                    });
                }
            }
        }
        out.sort_by(|a, b| a.mac.cmp(&b.mac));
        out
    }

    /// JSON counters.
    pub fn stats_json(&self) -> String {
        self.stats
            .to_json(&self.link_counters(), &self.client_reports())
    }

    /// Counters in the Prometheus text format.
    pub fn stats_prometheus(&self) -> String {
        crate::metrics::render(&self.stats, &self.link_counters(), &self.client_reports())
    }

    /// Text counters.
    pub fn stats_text(&self) -> String {
        self.stats
            .to_text(&self.link_counters(), &self.client_reports())
    }

    fn new_conn(&self, mac: Mac, version: Version, integrity: Option<Check>) -> Option<Conn> {
        let mut cfg = self.cfg.conn_config(mac, version);
        cfg.integrity = integrity;
        let n = slots(cfg.mtu);
        let mem = vec![0u8; Conn::required_memory(&cfg, n)];
        Conn::new(cfg, mem, vec![SlotMeta::EMPTY; n]).ok()
    }

    /// Version for a MAC without connection whose frame has header `h`,
    /// or `None` if the frame does not open a connection.
    fn opening_version(&self, h: &TloeHeader) -> Option<Version> {
        match (h.msg_type, self.cfg.versions) {
            (MessageType::OpenConnection, VersionPolicy::Auto | VersionPolicy::V11) => {
                Some(Version::V1_1)
            }
            (MessageType::Normal, VersionPolicy::Auto | VersionPolicy::V103)
                if h.seq.get() == 0 =>
            {
                Some(Version::V1_0_3)
            }
            _ => None,
        }
    }

    fn retire(&mut self, mac: &Mac, now: u64) {
        if let Some(mut p) = self.peers.remove(mac) {
            self.stats.retired = self.stats.retired.sum(p.conn.stats());
            self.mem.release(p.region, now);
            for d in p.deferred.drain(..) {
                self.recycle(d.payload);
            }
        }
    }

    /// Keeps a frame buffer for reuse, up to [`POOL_MAX`] of them.
    fn recycle(&mut self, buf: Vec<u8>) {
        if self.pool.len() < POOL_MAX {
            self.pool.push(buf);
        }
    }

    /// Retires the connection of `mac` if it ended, counting and logging how: a clean close
    /// is a close (not a reconnect when the client opens again), a silent peer a death.
    fn reap(&mut self, mac: &Mac, now: u64) {
        let Some(st) = self.peers.get(mac).map(|p| p.conn.state()) else {
            return;
        };
        match st {
            State::Closed => {
                self.stats.connections_closed += 1;
                crate::info!("client {} disconnected, memory kept", format_mac(mac));
            }
            State::Dead => {
                self.stats.connections_dead += 1;
                crate::warn!(
                    "client {} stopped answering; connection dropped, memory kept",
                    format_mac(mac)
                );
            }
            _ => return,
        }
        self.retire(mac, now);
    }

    /// Processes one received Ethernet frame.
    pub fn handle_frame(&mut self, frame: &[u8], now: u64) {
        self.stats.frames_rx += 1;
        self.stats.bytes_rx += frame.len() as u64;
        let (eth, payload) = match EthHeader::parse_omnixtend(frame) {
            Ok(x) => x,
            Err(_) => {
                self.stats.malformed += 1;
                return;
            }
        };
        if eth.dst != self.cfg.mac && eth.dst != BROADCAST {
            self.stats.not_for_us += 1;
            return;
        }
        let mac = eth.src;
        let Some(first) = payload.get(..8) else {
            self.stats.malformed += 1;
            return;
        };
        let mut w = [0u8; 8];
        w.copy_from_slice(first);
        let h = TloeHeader::from_flit(u64::from_be_bytes(w));
        // omx connections live on virtual channel 0; other VCs are TLoE instances we do not
        // serve (and must not mistake for a new 1.0.3 client).
        if h.vc != 0 {
            self.stats.no_connection += 1;
            return;
        }
        // Connections are only reset or created for a frame that decodes: one malformed frame
        // in a client's name must not drop its connection or take a region. The client's
        // first frame also tells whether it uses omx's integrity trailer, and which check.
        let opens = |s: &Self| {
            let detected = omx_proto::integrity::detect(payload);
            let tloe = detected.map_or(payload, |(_, tloe)| tloe);
            let ok = FrameView::parse(tloe, s.cfg.order, true).is_ok();
            ok.then_some(detected.map(|(check, _)| check))
        };
        // A reconnecting 1.1 client (its link or host restarted) opens anew.
        let reopening = h.msg_type == MessageType::OpenConnection
            && self
                .peers
                .get(&mac)
                .is_some_and(|p| p.version == Version::V1_1)
            && opens(self).is_some();
        let mut ended = None;
        if let Some(p) = self.peers.get_mut(&mac).filter(|_| reopening) {
            let young = now.saturating_sub(p.opened_at) < self.cfg.reconnect_guard_ns;
            // The client acknowledges what we send: it is there, and did not restart.
            let answering = p.conn.consecutive_timeouts() == 0;
            let only_open = p.conn.next_rx_seq().get() <= 1;
            let st = p.conn.state();
            if open_starts_new_connection(st, &h, only_open, young || answering) {
                ended = Some(st);
            } else if answering && opens_afresh(&h) {
                // Ask the old connection: a restarted client ignores it, and its Open is taken
                // once the probe times out; a working one answers, and a replayed Open is moot.
                let _ = p.conn.probe(now);
            }
        }
        match ended {
            // The client closed (the close handshake done, or done on its side): a close,
            // then a new connection.
            Some(State::Closed | State::Closing) => {
                self.stats.connections_closed += 1;
                crate::info!("client {} disconnected, memory kept", format_mac(&mac));
                self.retire(&mac, now);
            }
            Some(State::Dead) => self.reap(&mac, now),
            Some(_) => {
                crate::info!("client {} reconnects", format_mac(&mac));
                self.retire(&mac, now);
            }
            None => {}
        }
        if !self.peers.contains_key(&mac) {
            let Some(version) = self.opening_version(&h) else {
                self.stats.no_connection += 1;
                return;
            };
            let Some(integrity) = opens(self) else {
                self.stats.malformed += 1;
                return;
            };
            // A MAC that holds no region here and cannot get one (not in the --client list, or
            // every first-come region taken) gets nothing, not even a connection: its frames
            // cost no allocation, whatever they say.
            if !self.mem.can_attach(&mac) {
                self.stats.no_region += 1;
                // At most one line a second: a flood of strangers must not stall the daemon.
                if h.msg_type == MessageType::OpenConnection
                    && now.saturating_sub(self.last_no_region_log) >= 1_000_000_000
                {
                    self.last_no_region_log = now;
                    crate::warn!(
                        "client {}: ignored, no memory for it ({})",
                        format_mac(&mac),
                        if self.mem.has_allowlist() {
                            "not in the --client list"
                        } else {
                            "every region is taken"
                        }
                    );
                }
                return;
            }
            if self.peers.len() >= self.cfg.max_peers {
                self.stats.no_connection += 1;
                // At most one line a second: a flood of newcomers must not stall the daemon.
                if now.saturating_sub(self.last_refusal_log) >= 1_000_000_000 {
                    self.last_refusal_log = now;
                    crate::warn!(
                        "client {}: refused, already {} connections (--max-clients)",
                        format_mac(&mac),
                        self.peers.len()
                    );
                }
                return;
            }
            let Some(conn) = self.new_conn(mac, version, integrity) else {
                self.stats.malformed += 1;
                return;
            };
            let Some(region) = self.mem.attach(mac) else {
                // can_attach said yes above; never here.
                self.stats.no_region += 1;
                return;
            };
            crate::info!(
                "client {} connected ({}), region of {} bytes",
                format_mac(&mac),
                if version == Version::V1_1 {
                    "1.1"
                } else {
                    "1.0.3"
                },
                self.mem.region_len(region)
            );
            self.stats.connections_opened += 1;
            self.peers.insert(
                mac,
                Peer {
                    conn,
                    opened_at: now,
                    version,
                    region,
                    integrity,
                    deferred: VecDeque::new(),
                    waiting_credit: false,
                    requests: 0,
                    denied: 0,
                },
            );
        }

        let max = max_deferred(self.cfg.mtu);
        let order = self.cfg.order;
        let Server {
            peers,
            mem,
            stats,
            pool,
            ..
        } = self;
        let Some(peer) = peers.get_mut(&mac) else {
            return;
        };
        let tloe = match peer.integrity {
            Some(check) => omx_proto::integrity::strip(check, payload),
            None => Some(payload),
        };
        // Back-pressure: a connection whose budget is full takes no more requests; the frame
        // is not acknowledged and the client resends it later, but its acknowledgement of our
        // frames is read (they empty our window, which the queue may wait for). Frames
        // without requests (acknowledgements, credits) are always taken.
        // While the queue waits for credits, a frame that grants some is taken beyond the
        // budget (up to as much again): the grant may be what the queue waits for, and the
        // client may have nothing else to carry it.
        if peer.deferred.len() >= max && tloe.is_some_and(|t| carries_messages(t, order)) {
            let grants = peer.waiting_credit && h.credit_grant().is_some();
            if !grants || peer.deferred.len() >= 2 * max {
                stats.backpressure_drops += 1;
                let refused = match tloe {
                    Some(t) => peer.conn.on_checked_payload_refused(t, now),
                    None => peer.conn.on_payload_refused(payload, now),
                };
                match refused {
                    Ok(_) | Err(ProtoError::Dead) => {}
                    Err(_) => stats.malformed += 1,
                }
                return;
            }
        }
        // The trailer was checked above: once per frame (it is most of a frame's cost here).
        let received = match tloe {
            Some(t) => peer.conn.on_checked_payload(t, now),
            // Corrupt: the connection counts it and drops it.
            None => peer.conn.on_payload(payload, now),
        };
        let rx = match received {
            Ok(rx) => rx,
            Err(ProtoError::Dead) => return,
            Err(_) => {
                stats.malformed += 1;
                return;
            }
        };
        if rx.message_count() == 0 {
            return;
        }
        let (mut t, deferred) = peer.target(mem);
        // Requests are carried out in order: behind waiting ones, a frame waits whole.
        let mut next = 0;
        if deferred.is_empty() {
            for msg in rx.messages() {
                if answer(&mut t, &msg, stats, &mac, now) == Answer::Wait {
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
        let mut buf = pool.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(tloe);
        deferred.push_back(Deferred { payload: buf, next });
    }

    /// Carries out the waiting requests of `peer` that can be answered now, in order.
    fn drain_deferred(
        peer: &mut Peer,
        mem: &mut Memory,
        stats: &mut NodeStats,
        pool: &mut Vec<Vec<u8>>,
        order: ByteOrder,
        mac: &Mac,
        now: u64,
    ) {
        let (mut t, deferred) = peer.target(mem);
        while let Some(d) = deferred.front_mut() {
            let mut waiting = false;
            // It parsed when it was received: it does now.
            if let Ok(view) = FrameView::parse(&d.payload, order, true) {
                for msg in view.messages().skip(d.next) {
                    if answer(&mut t, &msg, stats, mac, now) == Answer::Wait {
                        waiting = true;
                        break;
                    }
                    d.next += 1;
                }
            }
            if waiting {
                return;
            }
            if let Some(d) = deferred.pop_front() {
                if pool.len() < POOL_MAX {
                    pool.push(d.payload);
                }
            }
        }
    }

    /// Sends everything the connections want to send (responses of requests that waited,
    /// acknowledgements, credits, retransmissions); runs the timers and housekeeping.
    pub fn transmit(&mut self, now: u64, out: &mut dyn FrameOut) {
        let order = self.cfg.order;
        let mut ended = Vec::new();
        let Server {
            peers,
            mem,
            stats,
            pool,
            ..
        } = self;
        for (mac, peer) in peers.iter_mut() {
            if !peer.deferred.is_empty() {
                Self::drain_deferred(peer, mem, stats, pool, order, mac, now);
            }
            if peer.conn.state() == State::PeerClosing && peer.deferred.is_empty() {
                let _ = peer.conn.close(now);
            }
            loop {
                let buf = out.buf();
                match peer.conn.poll_transmit(now, buf) {
                    Ok(Some(n)) => {
                        stats.frames_tx += 1;
                        stats.bytes_tx += n as u64;
                        out.commit(n);
                    }
                    Ok(None) => break,
                    Err(_) => break,
                }
            }
            if matches!(peer.conn.state(), State::Closed | State::Dead) {
                ended.push(*mac);
            }
        }
        // A connection is retired as soon as it ends: a new Open from the same client is
        // then a new connection, not a reconnect.
        for mac in ended {
            self.reap(&mac, now);
        }
        if now.saturating_sub(self.last_housekeeping) >= 10_000_000 {
            self.last_housekeeping = now;
            self.housekeeping(now);
        }
    }

    fn housekeeping(&mut self, now: u64) {
        let gone: Vec<Mac> = self
            .peers
            .iter()
            .filter(|(_, p)| matches!(p.conn.state(), State::Closed | State::Dead))
            .map(|(m, _)| *m)
            .collect();
        for mac in gone {
            self.reap(&mac, now);
        }
        if let Some(after) = self.cfg.forget_after_ns {
            for mac in self.mem.forget_expired(now, after) {
                self.stats.regions_forgotten += 1;
                crate::info!(
                    "client {}: away too long, its memory is freed",
                    format_mac(&mac)
                );
            }
        }
    }

    /// When [`Server::transmit`] must run next (absolute ns), if sooner
    /// than the periodic housekeeping.
    pub fn next_deadline(&self) -> Option<u64> {
        let mut d: Option<u64> = None;
        for p in self.peers.values() {
            if let Some(t) = p.conn.next_deadline() {
                d = Some(d.map_or(t, |x| x.min(t)));
            }
            if !p.deferred.is_empty() && p.conn.unacked_frames() == 0 {
                // Waiting work that is not waiting for an ack: retry soon, but not at once (a
                // client that withholds its credits would keep the daemon spinning).
                let t = now_ns().saturating_add(DEFERRED_RETRY_NS);
                d = Some(d.map_or(t, |x| x.min(t)));
            }
        }
        d
    }

    /// Closes every connection (1.1: CloseConnection) for shutdown.
    pub fn close_all(&mut self, now: u64) {
        for p in self.peers.values_mut() {
            let _ = p.conn.close(now);
        }
    }

    /// Whether every connection finished closing.
    pub fn all_closed(&self) -> bool {
        self.peers.values().all(|p| {
            matches!(
                p.conn.state(),
                State::Closed | State::Dead | State::Listening
            )
        })
    }
}

struct BatchOut<'a> {
    ring: &'a mut TxRing,
    stats_batches: u64,
    dropped: u64,
}

/// Batches the receive ring holds: a burst of a client's window (1,024 frames of omx_mod's
/// at MTU 1500) waits there while the loop answers the frames before it.
pub const RX_RING_BATCHES: usize = 16;

/// Batches the transmit ring holds: a frame keeps its slot until the device has sent it, and
/// a ring of one batch kept the loop waiting for slots (1 MiB reads at MTU 1500: 43 IOPS with
/// four, 33 with one, under TCG).
pub const RING_BATCHES: usize = 4;

/// How long a full transmit ring may hold up the loop before the frame waits in its
/// connection (sent with the next batch, or resent by the protocol).
const RING_PATIENCE: Duration = Duration::from_millis(5);

impl BatchOut<'_> {
    fn flush(&mut self) {
        let n = self.ring.queued();
        if n == 0 {
            return;
        }
        self.stats_batches += 1;
        if let Err(e) = self.ring.kick() {
            self.dropped += n as u64;
            crate::warn!("send failed: {e}");
        }
    }
}

impl FrameOut for BatchOut<'_> {
    fn buf(&mut self) -> &mut [u8] {
        if self.ring.slot_mut().is_none() {
            self.flush();
            if let Err(e) = self.ring.wait_for_slot(RING_PATIENCE) {
                crate::warn!("send failed: {e}");
            }
        }
        self.ring.slot_mut().unwrap_or(&mut [])
    }
    fn commit(&mut self, len: usize) {
        self.ring.commit(len);
    }
}

/// Socket-loop options.
#[derive(Debug, Clone)]
pub struct LoopOptions {
    /// Frames taken from the receive ring per round; the rings hold 16 and 4 times as many.
    pub batch: usize,
    /// Called with the JSON counters on SIGUSR1, periodically and at exit.
    pub stats_file: Option<std::path::PathBuf>,
    /// Print JSON counters to stdout on SIGUSR1 and at exit.
    pub stats_json: bool,
    /// Write the stats file this often (and the metrics file; every 15 s without it).
    pub stats_interval: Option<Duration>,
    /// The counters in the Prometheus text format, written with the stats file.
    pub metrics_file: Option<std::path::PathBuf>,
}

impl LoopOptions {
    /// How often the files are written, if at all.
    fn files_interval(&self) -> Option<Duration> {
        match (&self.stats_file, &self.metrics_file, self.stats_interval) {
            (None, None, _) => None,
            (_, Some(_), None) => Some(METRICS_INTERVAL),
            (_, _, iv) => iv,
        }
    }
}

/// How often the metrics file is written when no --stats-interval is given: node_exporter
/// scrapes every 15 s by default.
const METRICS_INTERVAL: Duration = Duration::from_secs(15);

/// Writes `text` to `path` through a temporary file and a rename, so a reader (a collector)
/// never sees half of it.
fn write_file_atomically(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("tmp");
    let r = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = r {
        crate::warn!("cannot write counters to {}: {e}", path.display());
    }
}

/// Writes the stats file (JSON) and the metrics file (Prometheus), those that are asked for.
fn write_counter_files(server: &Server, opts: &LoopOptions) {
    if let Some(p) = &opts.stats_file {
        write_file_atomically(p, &format!("{}\n", server.stats_json()));
    }
    if let Some(p) = &opts.metrics_file {
        write_file_atomically(p, &server.stats_prometheus());
    }
}

/// Adds what the kernel dropped for want of room in the receive ring to the counters.
fn count_rx_drops(rx: &RxRing, server: &mut Server) {
    match rx.take_drops() {
        Ok(n) => server.stats.rx_dropped += n,
        Err(e) => crate::warn!("cannot read the receive ring's drops: {e}"),
    }
}

/// Runs the node on `sock` until SIGTERM/SIGINT.
pub fn run(sock: &PacketSocket, server: &mut Server, opts: &LoopOptions) -> std::io::Result<()> {
    let slot = frame_slot(server.cfg.mtu);
    let mut rx = RxRing::new(sock, RX_RING_BATCHES.saturating_mul(opts.batch), slot)?;
    let mut ring = TxRing::new(sock, RING_BATCHES.saturating_mul(opts.batch), slot)?;
    let fd = std::os::fd::AsRawFd::as_raw_fd(sock);
    let mut last_stats = now_ns();
    let mut last_drops = last_stats;
    let mut closing_since: Option<u64> = None;
    loop {
        let now = now_ns();
        if sys::SIG_TERM.load(std::sync::atomic::Ordering::SeqCst) && closing_since.is_none() {
            crate::info!(
                "shutting down: closing {} connection(s)",
                server.connections()
            );
            let _ = crate::notify::notify("STOPPING=1");
            server.close_all(now);
            closing_since = Some(now);
        }
        if let Some(t) = closing_since {
            if server.all_closed() || now.saturating_sub(t) > 1_000_000_000 {
                break;
            }
        }
        if sys::SIG_HUP.swap(false, std::sync::atomic::Ordering::SeqCst) {
            // Nothing to reload (options are read at start): a hangup (or a stray kill -HUP)
            // must not end the daemon and drop its clients' connections.
            crate::info!(
                "SIGHUP: options are read only at start (restart omx-node to change them); serving on"
            );
        }
        let usr1 = sys::SIG_USR1.swap(false, std::sync::atomic::Ordering::SeqCst);
        if usr1 || now.saturating_sub(last_drops) >= 1_000_000_000 {
            last_drops = now;
            count_rx_drops(&rx, server);
        }
        if usr1 {
            eprint!("{}", server.stats_text());
            write_counter_files(server, opts);
            if opts.stats_json {
                println!("{}", server.stats_json());
            }
        }
        if let Some(iv) = opts.files_interval() {
            if now.saturating_sub(last_stats) >= iv.as_nanos() as u64 {
                last_stats = now;
                write_counter_files(server, opts);
            }
        }
        // Wait for frames or the next protocol deadline.
        let timeout = match server.next_deadline() {
            Some(d) if d <= now => Some(Duration::ZERO),
            Some(d) => Some(Duration::from_nanos((d - now).min(100_000_000))),
            None => Some(Duration::from_millis(100)),
        };
        if timeout != Some(Duration::ZERO) {
            sys::poll_fds(&[(fd, false)], timeout, false)?;
        }
        // Take what the receive ring holds, a batch at a time, up to 8 batches before the
        // responses go out.
        for _ in 0..8 {
            let now = now_ns();
            let mut got = 0;
            while got < opts.batch {
                let Some(frame) = rx.next() else { break };
                match frame {
                    Ok([]) => {}
                    Ok(f) => server.handle_frame(f, now),
                    Err(()) => server.stats.malformed += 1,
                }
                rx.release();
                got += 1;
            }
            if got == 0 {
                break;
            }
            server.stats.rx_batches += 1;
            if got < opts.batch {
                break;
            }
        }
        let mut out = BatchOut {
            ring: &mut ring,
            stats_batches: 0,
            dropped: 0,
        };
        server.transmit(now_ns(), &mut out);
        out.flush();
        server.stats.tx_batches += out.stats_batches;
        server.stats.tx_dropped += out.dropped;
    }
    count_rx_drops(&rx, server);
    write_counter_files(server, opts);
    if opts.stats_json {
        println!("{}", server.stats_json());
    }
    Ok(())
}

/// Whether a 1.1 OpenConnection `open` from a client whose connection is in `st` starts a new
/// connection. 1.1 has no connection id and every connection starts at sequence 0, but a
/// client resends its Open (Go-Back-N) until it is acknowledged, with SeqAck saying what it
/// received of ours, while a new connection's Open has received nothing (SeqAck 0x3FFFFF). A
/// slow client (a debug kernel under emulation) resends its window, Open included, long
/// after opening: taking that for a reconnect would drop a working connection and the
/// answers on their way. So an Open that acknowledges something is a duplicate. One that
/// does not is a reconnect unless the client is `in_contact`: the connection is young (a
/// stale duplicate of the original), or the client still acknowledges what we send. A
/// client that restarted acknowledges nothing (when idle, a probe sent on its Open finds that
/// out within a retransmit timeout), while an Open replayed or forged in its name must not
/// cut off a client that is working. Resetting a connection that has seen nothing but the
/// Open is harmless either way.
fn open_starts_new_connection(
    st: State,
    open: &TloeHeader,
    only_open: bool,
    in_contact: bool,
) -> bool {
    if matches!(st, State::Closed | State::Closing | State::Dead) {
        return true;
    }
    st != State::Listening && opens_afresh(open) && (only_open || !in_contact)
}

/// Whether an OpenConnection has received nothing of ours: a new connection's, not a resend.
fn opens_afresh(open: &TloeHeader) -> bool {
    !open.ack && open.seq_ack == Seq::MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_open_that_received_nothing_reconnects() {
        let mut fresh = TloeHeader::new(Seq::new(0), Seq::MAX, false);
        fresh.msg_type = MessageType::OpenConnection;
        let mut resent = fresh;
        resent.seq_ack = Seq::new(3);
        // A connection long open, that has carried traffic, whose client stopped answering.
        assert!(open_starts_new_connection(
            State::Open,
            &fresh,
            false,
            false
        ));
        assert!(!open_starts_new_connection(
            State::Open,
            &resent,
            false,
            false
        ));
        // Young, or the client still answers: a fresh-looking Open is a stale duplicate of
        // the original (or a replay)...
        assert!(!open_starts_new_connection(
            State::Open,
            &fresh,
            false,
            true
        ));
        // ...unless the connection has seen nothing but its Open.
        assert!(open_starts_new_connection(State::Open, &fresh, true, true));
        // A connection that ended is replaced by any Open.
        for st in [State::Closed, State::Closing, State::Dead] {
            assert!(open_starts_new_connection(st, &resent, false, true));
        }
        assert!(!open_starts_new_connection(
            State::Listening,
            &fresh,
            true,
            false
        ));
    }

    /// What the server transmits, collected.
    struct Sent {
        frames: Vec<Vec<u8>>,
        buf: Vec<u8>,
    }

    impl FrameOut for Sent {
        fn buf(&mut self) -> &mut [u8] {
            &mut self.buf
        }
        fn commit(&mut self, len: usize) {
            self.frames.push(self.buf[..len].to_vec());
        }
    }

    /// omx-node and one 1.1 client connection, frames passed by hand on a simulated clock.
    struct Pair {
        server: Server,
        client: Conn,
        out: Sent,
        frame: Vec<u8>,
        now: u64,
        /// The client's OpenConnection, as sent.
        open: Vec<u8>,
    }

    impl Pair {
        fn new() -> Pair {
            let (node, client_mac): (Mac, Mac) = ([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1]);
            let mem = Memory::new(&crate::memory::MemoryConfig {
                size: 1 << 20,
                region_size: 1 << 20,
                ..Default::default()
            })
            .unwrap();
            let mut p = Pair {
                server: Server::new(ServerConfig::new(node, 1500), mem),
                client: Pair::client(node, client_mac),
                out: Sent {
                    frames: Vec::new(),
                    buf: vec![0u8; 1600],
                },
                frame: vec![0u8; 1600],
                now: 0,
                open: Vec::new(),
            };
            p.client.open(0).unwrap();
            let n = p.client.poll_transmit(0, &mut p.frame).unwrap().unwrap();
            p.open = p.frame[..n].to_vec();
            p.server.handle_frame(&p.open, 0);
            p
        }

        /// A client that probes when idle, as omx_mod does.
        fn client(node: Mac, client_mac: Mac) -> Conn {
            let mut cfg = Config::new(Version::V1_1);
            cfg.mtu = 1500;
            cfg.ethernet = Some(EthHeader::new(node, client_mac));
            cfg.keepalive_ns = 500_000_000;
            Conn::new(
                cfg.clone(),
                vec![0u8; Conn::required_memory(&cfg, slots(1500))],
                vec![SlotMeta::EMPTY; slots(1500)],
            )
            .unwrap()
        }

        /// Both ends talk until `until` (ns), in 1 ms steps.
        fn talk(&mut self, until: u64) {
            while self.now < until {
                while let Ok(Some(n)) = self.client.poll_transmit(self.now, &mut self.frame) {
                    self.server.handle_frame(&self.frame[..n], self.now);
                }
                self.server.transmit(self.now, &mut self.out);
                for f in self.out.frames.drain(..) {
                    let _ = self.client.on_frame(&f, self.now);
                }
                self.now += 1_000_000;
            }
        }

        /// Only the server runs (the client is gone) until `until` or `done`.
        fn client_silent(&mut self, until: u64, done: impl Fn(&Server) -> bool) {
            while !done(&self.server) && self.now < until {
                self.now = self
                    .server
                    .next_deadline()
                    .map_or(self.now + 10_000_000, |d| d.max(self.now + 1_000_000))
                    .min(until);
                self.server.transmit(self.now, &mut self.out);
            }
        }
    }

    #[test]
    fn a_client_that_falls_silent_while_idle_is_given_up() {
        let mut p = Pair::new();
        p.talk(100_000_000);
        assert_eq!(p.client.state(), State::Open);
        assert_eq!(p.server.connections(), 1);
        p.out.frames.clear();
        // The client vanishes: the node probes it after 1 s of silence, backs off through
        // its retransmissions and gives it up 11 s later.
        let silent_since = p.now;
        p.client_silent(silent_since + 60_000_000_000, |s| s.connections() == 0);
        assert_eq!(p.server.stats().connections_dead, 1);
        let sent = p.out.frames.len();
        assert!(sent >= 11, "probe and retransmissions: {sent}");
        let after = (p.now - silent_since) / 1_000_000;
        assert!(
            (12_000..13_000).contains(&after),
            "given up after {after} ms"
        );
    }

    #[test]
    fn a_replayed_open_does_not_cut_off_a_working_client_but_a_restarted_one_gets_in() {
        let mut p = Pair::new();
        p.talk(3_000_000_000);
        // Replayed long after opening, while the client answers: ignored.
        let open = p.open.clone();
        p.server.handle_frame(&open, p.now);
        p.talk(p.now + 3_000_000_000);
        assert_eq!(p.server.stats().connections_opened, 1);
        assert_eq!(p.client.state(), State::Open);
        assert_eq!(p.client.consecutive_timeouts(), 0);
        // The client's host restarts at once: its first Open makes the node probe the old
        // connection, which nobody answers, and a resend of the Open is taken.
        p.client = Pair::client([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1]);
        p.client.open(p.now).unwrap();
        let restarted = p.now;
        while p.client.state() != State::Open && p.now < restarted + 5_000_000_000 {
            p.talk(p.now + 10_000_000);
        }
        assert_eq!(p.server.stats().connections_opened, 2);
        assert_eq!(p.client.state(), State::Open);
        let took = (p.now - restarted) / 1_000_000;
        assert!(took < 300, "reopened after {took} ms");
    }

    #[test]
    fn strangers_cost_nothing_and_a_client_holding_memory_gets_in() {
        let mut p = Pair::new();
        p.talk(100_000_000);
        let client_mac = [2, 0, 0, 0, 0, 1];
        // The client goes away (here: cleanly); its region (the only one) stays its own.
        p.client.close(p.now).unwrap();
        p.talk(p.now + 100_000_000);
        assert_eq!(p.server.connections(), 0);
        assert_eq!(p.server.stats().connections_closed, 1);
        // Strangers find no free region: no connection, nothing allocated for them.
        for i in 0..5u8 {
            let mut stranger = Pair::client([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 9, i]);
            stranger.open(p.now).unwrap();
            let n = stranger
                .poll_transmit(p.now, &mut p.frame)
                .unwrap()
                .unwrap();
            let open = p.frame[..n].to_vec();
            p.server.handle_frame(&open, p.now);
        }
        assert_eq!(p.server.connections(), 0);
        assert_eq!(p.server.stats().no_region, 5);
        // The client comes back and gets its region.
        p.client = Pair::client([2, 0, 0, 0, 0, 2], client_mac);
        p.client.open(p.now).unwrap();
        p.talk(p.now + 100_000_000);
        assert_eq!(p.client.state(), State::Open);
        assert_eq!(p.server.connections(), 1);
        assert!(p.server.peers.contains_key(&client_mac));
    }

    const NODE: Mac = [2, 0, 0, 0, 0, 2];
    const CLIENT: Mac = [2, 0, 0, 0, 0, 1];

    /// A node lending 1 MiB to CLIENT only (allowlist).
    fn allowlist_server() -> Server {
        let mem = Memory::new(&crate::memory::MemoryConfig {
            size: 1 << 20,
            clients: vec![(CLIENT, 1 << 20)],
            ..Default::default()
        })
        .unwrap();
        Server::new(ServerConfig::new(NODE, 1500), mem)
    }

    /// A raw frame from `src` to the node: header `h` and as many of `msgs` as fit.
    fn raw_frame(src: Mac, h: &TloeHeader, msgs: &[Message<'_>]) -> Vec<u8> {
        let mut buf = vec![0u8; 1600];
        let eth = EthHeader::new(NODE, src);
        let limits = omx_proto::FrameLimits::with_mtu(1500);
        let mut b =
            omx_proto::FrameBuilder::new(&mut buf, Some(&eth), limits, ByteOrder::Spec).unwrap();
        for m in msgs {
            if b.push(m).is_err() {
                break;
            }
        }
        let n = b.finish(h).unwrap();
        buf.truncate(n);
        buf
    }

    fn open_header() -> TloeHeader {
        let mut h = TloeHeader::new(Seq::new(0), Seq::MAX, false);
        h.msg_type = MessageType::OpenConnection;
        h
    }

    impl Server {
        fn region_byte(&mut self, mac: &Mac, at: usize) -> u8 {
            let r = self.peers[mac].region;
            self.mem.region_mut(r)[at]
        }
    }

    /// Bytes held by the waiting frames of `mac`'s connection.
    fn queued_bytes(s: &Server, mac: &Mac) -> usize {
        s.peers
            .get(mac)
            .map_or(0, |p| p.deferred.iter().map(|d| d.payload.capacity()).sum())
    }

    #[test]
    fn frames_from_macs_without_a_region_allocate_nothing() {
        let mut s = allowlist_server();
        let gets: Vec<Message<'_>> = (0..90).map(|i| Message::get(i, 0, 15)).collect();
        for i in 0..2000u32 {
            let mac = [2, 0xf1, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8];
            s.handle_frame(&raw_frame(mac, &open_header(), &[]), u64::from(i) * 1000);
            let h = TloeHeader::new(Seq::new(1), Seq::MAX, true);
            s.handle_frame(&raw_frame(mac, &h, &gets), u64::from(i) * 1000 + 1);
        }
        assert_eq!(s.connections(), 0);
        // The Opens as no_region, the rest (a connection they do not have) as no_connection.
        assert_eq!(s.stats().no_region, 2000);
        assert_eq!(s.stats().no_connection, 2000);
        assert_eq!(s.stats().connections_opened, 0);
        assert!(s.pool.is_empty());
    }

    /// A client that never returns credits nor acknowledges, and floods requests whose
    /// answers need more credits than it ever gave: its queue stays within the budget and
    /// the rest is dropped unread (back-pressure), never executed.
    #[test]
    fn a_client_that_returns_no_credits_is_held_to_its_budget() {
        let mut s = allowlist_server();
        s.handle_frame(&raw_frame(CLIENT, &open_header(), &[]), 0);
        assert_eq!(s.connections(), 1);
        // 1 KiB answers: 129 flits, more than the 128 a 1.1 peer is assumed to grant.
        let gets: Vec<Message<'_>> = (0..200)
            .map(|i| Message::get(i, 1024 * u64::from(i % 64), 10))
            .collect();
        let mut out = Sent {
            frames: Vec::new(),
            buf: vec![0u8; 1600],
        };
        let max = max_deferred(s.cfg.mtu);
        for seq in 1..=(3 * max as u32) {
            let h = TloeHeader::new(Seq::new(seq), Seq::MAX, true);
            let now = u64::from(seq) * 1_000_000;
            s.handle_frame(&raw_frame(CLIENT, &h, &gets), now);
            s.transmit(now, &mut out);
            let p = &s.peers[&CLIENT];
            assert!(p.deferred.len() <= max, "{} frames wait", p.deferred.len());
            assert!(queued_bytes(&s, &CLIENT) <= max * frame_slot(1500));
        }
        assert_eq!(s.peers[&CLIENT].deferred.len(), max);
        assert_eq!(s.stats().backpressure_drops, 2 * max as u64);
        assert!(s.peers[&CLIENT].waiting_credit);
        // Nothing was executed: no answer could be sent.
        assert_eq!(s.stats().requests[0], 0);
        assert!(max * frame_slot(1500) <= queue_budget(1500));
    }

    /// Frames that grant credits are taken beyond the budget while the queue waits for
    /// credits (the grant may be what it waits for), up to as much again.
    #[test]
    fn credit_grants_get_through_a_full_queue_up_to_twice_the_budget() {
        let mut s = allowlist_server();
        s.handle_frame(&raw_frame(CLIENT, &open_header(), &[]), 0);
        let gets: Vec<Message<'_>> = (0..8).map(|i| Message::get(i, 0, 10)).collect();
        let max = max_deferred(s.cfg.mtu);
        // Grants of 1 flit: never enough for a 129-flit answer.
        for seq in 1..=(4 * max as u32) {
            let mut h = TloeHeader::new(Seq::new(seq), Seq::MAX, true);
            h.set_credit(Some((Channel::D, 0)));
            s.handle_frame(&raw_frame(CLIENT, &h, &gets), u64::from(seq));
        }
        assert_eq!(s.peers[&CLIENT].deferred.len(), 2 * max);
        assert_eq!(s.stats().backpressure_drops, 2 * max as u64);
    }

    /// A client whose D buffer is small: answers wait for its credits, requests are carried
    /// out in order all the same (a Get behind a Put sees it, a Put behind a Get does not
    /// change what the Get read), and everything is answered.
    #[test]
    fn waiting_requests_run_in_order_and_all_are_answered() {
        let mut p = Pair::new();
        let mut cfg = Config::new(Version::V1_1);
        cfg.mtu = 1500;
        cfg.ethernet = Some(EthHeader::new(NODE, CLIENT));
        cfg.keepalive_ns = 500_000_000;
        // Room for two 512-byte answers (65 flits each) at a time.
        cfg.rx_buffer_flits = [128, 128, 128, 130, 128];
        p.client = Conn::new(
            cfg.clone(),
            vec![0u8; Conn::required_memory(&cfg, slots(1500))],
            vec![SlotMeta::EMPTY; slots(1500)],
        )
        .unwrap();
        p.server = Server::new(
            ServerConfig::new(NODE, 1500),
            Memory::new(&crate::memory::MemoryConfig {
                size: 1 << 20,
                clients: vec![(CLIENT, 1 << 20)],
                ..Default::default()
            })
            .unwrap(),
        );
        p.client.open(0).unwrap();
        p.talk(10_000_000);
        assert_eq!(p.client.state(), State::Open);
        let a = [0xaau8; 512];
        let b = [0xbbu8; 512];
        // Put a, Get, Put b, Get, ... in one go: more answers than the client's credits.
        let mut sent = 0u32;
        for k in 0..8u32 {
            let (m1, m2) = if k % 2 == 0 { (&a, &b) } else { (&b, &a) };
            for m in [
                Message::put_full(4 * k, 0, m1),
                Message::get(4 * k + 1, 0, 9),
                Message::put_full(4 * k + 2, 0, m2),
                Message::get(4 * k + 3, 0, 9),
            ] {
                p.client.send(&m, p.now).unwrap();
                sent += 1;
            }
        }
        let mut answers: Vec<(u32, Vec<u8>)> = Vec::new();
        let end = p.now + 2_000_000_000;
        while p.now < end && answers.len() < sent as usize {
            while let Ok(Some(n)) = p.client.poll_transmit(p.now, &mut p.frame) {
                p.server.handle_frame(&p.frame[..n], p.now);
            }
            p.server.transmit(p.now, &mut p.out);
            for f in p.out.frames.drain(..) {
                if let Ok(rx) = p.client.on_frame(&f, p.now) {
                    for m in rx.messages() {
                        let mut d = vec![0u8; 512];
                        m.data.copy_to(&mut d);
                        answers.push((m.source, d));
                    }
                }
            }
            p.now += 1_000_000;
        }
        assert_eq!(answers.len(), sent as usize);
        assert!(p.server.stats().deferred > 0, "nothing waited");
        for (src, d) in answers.iter().filter(|(s, _)| s % 2 == 1) {
            let k = src / 4;
            let first = if k % 2 == 0 { 0xaa } else { 0xbb };
            let want = if src % 4 == 1 {
                first
            } else {
                first ^ 0xaa ^ 0xbb
            };
            assert!(d.iter().all(|x| *x == want), "Get {src} read {:#x}", d[0]);
        }
    }

    /// A frame that arrives while requests wait is not run before them, even when it
    /// brings the credits they wait for.
    #[test]
    fn a_request_never_overtakes_a_waiting_one() {
        let mut s = allowlist_server();
        s.handle_frame(&raw_frame(CLIENT, &open_header(), &[]), 0);
        // A 1 KiB Get: its answer (129 flits) waits for credits.
        let h = TloeHeader::new(Seq::new(1), Seq::MAX, true);
        s.handle_frame(&raw_frame(CLIENT, &h, &[Message::get(1, 0, 10)]), 1);
        assert_eq!(s.peers[&CLIENT].deferred.len(), 1);
        // Then a Put at the same address, with the credits.
        let mut h = TloeHeader::new(Seq::new(2), Seq::MAX, true);
        h.set_credit(Some((Channel::D, 8)));
        let d = [0xbbu8; 1024];
        s.handle_frame(&raw_frame(CLIENT, &h, &[Message::put_full(2, 0, &d)]), 2);
        let mut out = Sent {
            frames: Vec::new(),
            buf: vec![0u8; 1600],
        };
        s.transmit(3, &mut out);
        let mut got = None;
        for f in &out.frames {
            let (_, payload) = EthHeader::parse_omnixtend(f).unwrap();
            let v = FrameView::parse(payload, ByteOrder::Spec, true).unwrap();
            for m in v.messages().filter(|m| m.opcode == Opcode::AccessAckData) {
                let mut b = vec![0u8; 1024];
                m.data.copy_to(&mut b);
                got = Some(b);
            }
        }
        let got = got.expect("the Get was answered");
        assert!(
            got.iter().all(|x| *x == 0),
            "the Get read the later Put's data"
        );
        assert_eq!(s.region_byte(&CLIENT, 0), 0xbb);
    }

    #[test]
    fn a_connection_opens_with_at_least_1024_credits_on_every_channel_the_client_uses() {
        let mut p = Pair::new();
        p.talk(10_000_000);
        assert_eq!(p.client.state(), State::Open);
        for ch in [Channel::A, Channel::C, Channel::E] {
            let c = p.client.tx_credits(ch);
            assert!(c >= 1024, "{ch:?}: {c} credits");
        }
    }

    #[test]
    fn a_clean_close_then_an_open_is_a_close_and_an_open() {
        let mut p = Pair::new();
        p.talk(100_000_000);
        p.client.close(p.now).unwrap();
        // Only until the close handshake is done: no housekeeping in between.
        let mut steps = 0;
        while p.client.state() != State::Closed && steps < 100 {
            while let Ok(Some(n)) = p.client.poll_transmit(p.now, &mut p.frame) {
                p.server.handle_frame(&p.frame[..n], p.now);
            }
            p.server.last_housekeeping = p.now;
            p.server.transmit(p.now, &mut p.out);
            for f in p.out.frames.drain(..) {
                let _ = p.client.on_frame(&f, p.now);
            }
            p.now += 100_000;
            steps += 1;
        }
        assert_eq!(p.client.state(), State::Closed);
        // The client's last acknowledgement reaches the node at once.
        while let Ok(Some(n)) = p.client.poll_transmit(p.now, &mut p.frame) {
            p.server.handle_frame(&p.frame[..n], p.now);
        }
        p.server.last_housekeeping = p.now;
        p.server.transmit(p.now, &mut p.out);
        p.client = Pair::client(NODE, CLIENT);
        p.client.open(p.now).unwrap();
        p.talk(p.now + 100_000_000);
        assert_eq!(p.client.state(), State::Open);
        let st = p.server.stats();
        assert_eq!(
            (
                st.connections_opened,
                st.connections_closed,
                st.connections_dead
            ),
            (2, 1, 0)
        );
    }

    #[test]
    fn responses_are_known_before_requests_run() {
        let d = [0u8; 64];
        let m = [u64::MAX];
        let mut region = vec![0u8; 4096];
        let mut stats = NodeStats::default();
        let (mut r, mut dn) = (0, 0);
        let mut msgs = vec![
            Message::get(1, 0, 6),
            Message::get(1, 1 << 40, 6),
            Message::get(1, identity::ADDR, identity::SIZE_LOG2),
            Message::put_full(1, 0, &d),
            Message::put_full(1, 8192, &d),
            Message::put_partial(1, 0, 6, &d, &m),
            Message::arithmetic(1, 0, 4, &d[..8]),
            Message::arithmetic(1, 0, 4, &d[..16]),
            Message::logical(1, 0, 3, &d[..8]),
            Message::intent(1, 0, 6, 0),
            Message::new(Channel::A, Opcode::AcquireBlock, 6, 1),
            Message::new(Channel::E, Opcode::GrantAck, 0, 0),
            Message::new(Channel::C, Opcode::ProbeAck, 6, 1),
        ];
        msgs[7].size = 4;
        for msg in &msgs {
            let resp = execute(msg, &mut region, None, &mut stats, &mut r, &mut dn);
            assert_eq!(
                resp.as_ref().map(|x| x.opcode),
                response_opcode(msg),
                "{msg:?}"
            );
        }
    }

    /// An Intent with omx's release param asks the caller to give the block's memory back;
    /// a prefetch Intent does not; an Intent outside the region is denied and releases
    /// nothing.
    #[test]
    fn only_a_release_intent_in_range_releases() {
        let mut region = vec![0u8; 8192];
        let mut stats = NodeStats::default();
        let (mut r, mut dn) = (0, 0);
        let mut run = |m: Message<'_>| {
            let resp = execute(&m, &mut region, None, &mut stats, &mut r, &mut dn).unwrap();
            assert_eq!(resp.opcode, Opcode::HintAck);
            (resp.release, resp.err)
        };
        assert_eq!(
            run(Message::intent(1, 4096, 12, INTENT_RELEASE)),
            (Some(4096), 0)
        );
        assert_eq!(run(Message::intent(1, 4096, 12, 0)), (None, 0));
        assert_eq!(run(Message::intent(1, 8192, 12, INTENT_RELEASE)), (None, 2));
        assert_eq!(run(Message::intent(1, 2048, 12, INTENT_RELEASE)), (None, 2));
    }

    #[test]
    fn atomics() {
        use Opcode::{ArithmeticData as A, LogicalData as L};
        // 4-byte signed MIN/MAX
        assert_eq!(atomic(A, 0, 5, 0xffff_ffff, 4), Some(0xffff_ffff));
        assert_eq!(atomic(A, 1, 5, 0xffff_ffff, 4), Some(5));
        assert_eq!(atomic(A, 2, 5, 0xffff_ffff, 4), Some(5));
        assert_eq!(atomic(A, 3, 5, 0xffff_ffff, 4), Some(0xffff_ffff));
        assert_eq!(atomic(A, 4, 0xff, 1, 1), Some(0));
        assert_eq!(atomic(A, 4, u64::MAX, 2, 8), Some(1));
        assert_eq!(atomic(A, 5, 1, 1, 8), None);
        assert_eq!(atomic(L, 0, 0b1100, 0b1010, 8), Some(0b0110));
        assert_eq!(atomic(L, 1, 0b1100, 0b1010, 8), Some(0b1110));
        assert_eq!(atomic(L, 2, 0b1100, 0b1010, 8), Some(0b1000));
        assert_eq!(atomic(L, 3, 0b1100, 0b1010, 2), Some(0b1010));
        assert_eq!(atomic(L, 4, 0, 0, 8), None);
    }
}
