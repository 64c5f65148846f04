//! The pool node's core: demultiplexes frames by source MAC onto one
//! [`omx_proto::serve::Responder`] per client, which executes the client's TileLink requests
//! on its region and queues the responses.
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
//! a frame from a MAC that holds no region here allocates nothing (no connection), and each
//! connection keeps at most [`max_deferred`] frames waiting (`omx_proto::serve`).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use omx_proto::identity::Identity;
use omx_proto::integrity::Check;
use omx_proto::serve::{self, FrameQueue, Region, Responder, ServeConfig};
use omx_proto::{EthHeader, MessageType, SlotMeta, State, TloeHeader, Version};

use crate::memory::Memory;
use crate::stats::{ClientReport, NodeStats};
use crate::sys::{self, PacketSocket, RxRing, TxRing};
use crate::util::{format_mac, now_ns, Mac};

pub use omx_proto::serve::{max_deferred, slots};

/// Connection type used on both sides.
pub type Conn = omx_proto::Connection<Vec<u8>, Vec<SlotMeta>>;
/// A client's connection on this node.
type Client = Responder<Vec<u8>, Vec<SlotMeta>>;
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
const BROADCAST: Mac = [0xff; 6];

/// Server parameters.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// How each client is served (address, MTU, versions, timers).
    pub serve: ServeConfig,
    /// Free a departed client's region after this long.
    pub forget_after_ns: Option<u64>,
    /// Maximum simultaneous connections.
    pub max_peers: usize,
}

impl ServerConfig {
    /// Defaults for `mac` and `mtu`.
    pub fn new(mac: Mac, mtu: usize) -> Self {
        ServerConfig {
            serve: ServeConfig::new(mac, mtu),
            forget_after_ns: None,
            max_peers: 64,
        }
    }
}

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
        let cfg = ServeConfig::new([0; 6], mtu);
        // The largest: frames without a trailer may fill the whole MTU.
        let retransmit = Client::required_memory(&cfg, Version::V1_1, None) as u64;
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

/// A client's queue of waiting frames, with the node's pool of frame buffers to take them
/// from and give them back to.
struct Queue<'a> {
    frames: &'a mut VecDeque<Deferred>,
    pool: &'a mut Vec<Vec<u8>>,
}

impl FrameQueue for Queue<'_> {
    fn len(&self) -> usize {
        self.frames.len()
    }
    fn push_back(&mut self, tloe: &[u8], next: usize) -> bool {
        let mut payload = self.pool.pop().unwrap_or_default();
        payload.clear();
        payload.extend_from_slice(tloe);
        self.frames.push_back(Deferred { payload, next });
        true
    }
    fn front_mut(&mut self) -> Option<(&[u8], &mut usize)> {
        self.frames
            .front_mut()
            .map(|d| (d.payload.as_slice(), &mut d.next))
    }
    fn pop_front(&mut self) {
        if let Some(d) = self.frames.pop_front() {
            if self.pool.len() < POOL_MAX {
                self.pool.push(d.payload);
            }
        }
    }
}

/// Region `i` of the node's memory, as a client's requests see it.
struct RegionOf<'a> {
    mem: &'a mut Memory,
    i: usize,
}

impl Region for RegionOf<'_> {
    fn bytes(&self) -> &[u8] {
        self.mem.region(self.i)
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        self.mem.region_mut(self.i)
    }
    fn release_range(&mut self, off: usize, len: usize) -> usize {
        self.mem.release_range(self.i, off, len)
    }
    fn identity(&self) -> Option<Identity> {
        self.mem.identity(self.i)
    }
    // Test-only (cargo feature mutation-drop-write, never by default): a lost write.
    #[cfg(feature = "mutation-drop-write")]
    fn keeps_write(&mut self) -> bool {
        !crate::mutation::drop_this_write()
    }
}

struct Peer {
    client: Client,
    region: usize,
    /// Frames whose requests wait, oldest first (at most 2 x [`max_deferred`]).
    deferred: VecDeque<Deferred>,
}

impl Peer {
    /// Runs `f` on this client's responder with its queue of waiting frames and its region
    /// (for `Responder::on_frame` and `Responder::drain`).
    fn serve<R>(
        &mut self,
        mem: &mut Memory,
        pool: &mut Vec<Vec<u8>>,
        f: impl FnOnce(&mut Client, &mut Queue<'_>, &mut RegionOf<'_>) -> R,
    ) -> R {
        let mut queue = Queue {
            frames: &mut self.deferred,
            pool,
        };
        let mut region = RegionOf {
            mem,
            i: self.region,
        };
        f(&mut self.client, &mut queue, &mut region)
    }
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

fn version_name(v: Version) -> &'static str {
    match v {
        Version::V1_1 => "1.1",
        Version::V1_0_3 => "1.0.3",
    }
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
        self.peers.values().fold(self.stats.retired, |sum, p| {
            sum.sum(p.client.connection().stats())
        })
    }

    /// Per-client report lines.
    pub fn client_reports(&self) -> Vec<ClientReport> {
        let mut out: Vec<ClientReport> = self
            .peers
            .iter()
            .map(|(mac, p)| {
                let (requests, denied) = p.client.requests();
                ClientReport {
                    mac: format_mac(mac),
                    state: format!("{:?}", p.client.connection().state()).to_lowercase(),
                    version: version_name(p.client.version()).into(),
                    region_size: self.mem.region_len(p.region) as u64,
                    requests,
                    denied,
                }
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

    fn new_client(
        &self,
        mac: Mac,
        version: Version,
        integrity: Option<Check>,
        now: u64,
    ) -> Option<Client> {
        let cfg = &self.cfg.serve;
        let mem = vec![0u8; Client::required_memory(cfg, version, integrity)];
        let meta = vec![SlotMeta::EMPTY; slots(cfg.mtu)];
        Client::new(cfg, mac, version, integrity, mem, meta, now).ok()
    }

    fn retire(&mut self, mac: &Mac, now: u64) {
        if let Some(mut p) = self.peers.remove(mac) {
            self.stats.retired = self.stats.retired.sum(p.client.connection().stats());
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
        let Some(st) = self.peers.get(mac).map(|p| p.client.connection().state()) else {
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
                self.stats.serve.malformed += 1;
                return;
            }
        };
        if eth.dst != self.cfg.serve.mac && eth.dst != BROADCAST {
            self.stats.not_for_us += 1;
            return;
        }
        let mac = eth.src;
        let Some(first) = payload.get(..8) else {
            self.stats.serve.malformed += 1;
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
        let order = self.cfg.serve.order;
        // A reconnecting 1.1 client (its link or host restarted) opens anew.
        let ended = match self.peers.get_mut(&mac) {
            Some(p)
                if h.msg_type == MessageType::OpenConnection
                    && p.client.version() == Version::V1_1
                    && Client::first_frame(payload, order).is_some() =>
            {
                p.client.on_open(&h, now, self.cfg.serve.reconnect_guard_ns)
            }
            _ => None,
        };
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
        if !self.peers.contains_key(&mac) && !self.admit(mac, &h, payload, now) {
            return;
        }
        let Server {
            peers,
            mem,
            stats,
            pool,
            ..
        } = self;
        if let Some(peer) = peers.get_mut(&mac) {
            peer.serve(mem, pool, |client, queue, region| {
                client.on_frame(&h, payload, queue, region, &mut stats.serve, now)
            });
        }
    }

    /// Gives `mac`, which has no connection, one for its frame with header `h` and `payload`
    /// if the frame opens one and the client may have one; false if not (counted).
    fn admit(&mut self, mac: Mac, h: &TloeHeader, payload: &[u8], now: u64) -> bool {
        let Some(version) = serve::opening_version(h, self.cfg.serve.versions) else {
            self.stats.no_connection += 1;
            return false;
        };
        // The client's first frame also tells whether it uses omx's integrity trailer, and
        // which check.
        let Some(integrity) = Client::first_frame(payload, self.cfg.serve.order) else {
            self.stats.serve.malformed += 1;
            return false;
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
            return false;
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
            return false;
        }
        let Some(client) = self.new_client(mac, version, integrity, now) else {
            self.stats.serve.malformed += 1;
            return false;
        };
        let Some(region) = self.mem.attach(mac) else {
            // can_attach said yes above; never here.
            self.stats.no_region += 1;
            return false;
        };
        crate::info!(
            "client {} connected ({}), region of {} bytes",
            format_mac(&mac),
            version_name(version),
            self.mem.region_len(region)
        );
        self.stats.connections_opened += 1;
        self.peers.insert(
            mac,
            Peer {
                client,
                region,
                deferred: VecDeque::new(),
            },
        );
        true
    }

    /// Sends everything the connections want to send (responses of requests that waited,
    /// acknowledgements, credits, retransmissions); runs the timers and housekeeping.
    pub fn transmit(&mut self, now: u64, out: &mut dyn FrameOut) {
        let mut ended = Vec::new();
        let Server {
            peers,
            mem,
            stats,
            pool,
            ..
        } = self;
        for (mac, peer) in peers.iter_mut() {
            peer.serve(mem, pool, |client, queue, region| {
                client.drain(queue, region, &mut stats.serve, now)
            });
            let conn = peer.client.connection_mut();
            loop {
                let buf = out.buf();
                match conn.poll_transmit(now, buf) {
                    Ok(Some(n)) => {
                        stats.frames_tx += 1;
                        stats.bytes_tx += n as u64;
                        out.commit(n);
                    }
                    Ok(None) => break,
                    Err(_) => break,
                }
            }
            if matches!(conn.state(), State::Closed | State::Dead) {
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
            .filter(|(_, p)| matches!(p.client.connection().state(), State::Closed | State::Dead))
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
        let now = now_ns();
        self.peers
            .values()
            .filter_map(|p| p.client.next_deadline(p.deferred.len(), now))
            .min()
    }

    /// Closes every connection (1.1: CloseConnection) for shutdown.
    pub fn close_all(&mut self, now: u64) {
        for p in self.peers.values_mut() {
            let _ = p.client.connection_mut().close(now);
        }
    }

    /// Whether every connection finished closing.
    pub fn all_closed(&self) -> bool {
        self.peers.values().all(|p| {
            matches!(
                p.client.connection().state(),
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
    let slot = frame_slot(server.cfg.serve.mtu);
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
                    Err(()) => server.stats.serve.malformed += 1,
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

#[cfg(test)]
mod tests {
    use super::*;
    use omx_proto::{ByteOrder, Channel, Config, FrameView, Message, Opcode, Seq};

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
        let max = max_deferred(s.cfg.serve.mtu);
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
        assert_eq!(s.stats().serve.backpressure_drops, 2 * max as u64);
        assert!(s.peers[&CLIENT].client.waiting_for_credit());
        // Nothing was executed: no answer could be sent.
        assert_eq!(s.stats().serve.requests[0], 0);
        assert!(max * frame_slot(1500) <= queue_budget(1500));
    }

    /// Frames that grant credits are taken beyond the budget while the queue waits for
    /// credits (the grant may be what it waits for), up to as much again.
    #[test]
    fn credit_grants_get_through_a_full_queue_up_to_twice_the_budget() {
        let mut s = allowlist_server();
        s.handle_frame(&raw_frame(CLIENT, &open_header(), &[]), 0);
        let gets: Vec<Message<'_>> = (0..8).map(|i| Message::get(i, 0, 10)).collect();
        let max = max_deferred(s.cfg.serve.mtu);
        // Grants of 1 flit: never enough for a 129-flit answer.
        for seq in 1..=(4 * max as u32) {
            let mut h = TloeHeader::new(Seq::new(seq), Seq::MAX, true);
            h.set_credit(Some((Channel::D, 0)));
            s.handle_frame(&raw_frame(CLIENT, &h, &gets), u64::from(seq));
        }
        assert_eq!(s.peers[&CLIENT].deferred.len(), 2 * max);
        assert_eq!(s.stats().serve.backpressure_drops, 2 * max as u64);
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
        // Then a frame of twelve Gets of what the last Put left (a): its waiting part is
        // taken up again several times, two answers at a time.
        let puts_and_gets = sent;
        for _ in 0..12 {
            p.client.send(&Message::get(sent, 0, 9), p.now).unwrap();
            sent += 1;
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
        // Each request answered once, in the order sent (a request run twice, or one left
        // out, when a waiting frame is taken up again in the middle shows here).
        let sources: Vec<u32> = answers.iter().map(|(s, _)| *s).collect();
        assert_eq!(sources, (0..sent).collect::<Vec<_>>());
        assert!(p.server.stats().serve.deferred > 0, "nothing waited");
        for (_, d) in &answers[puts_and_gets as usize..] {
            assert!(d.iter().all(|x| *x == 0xaa), "read {:#x}", d[0]);
        }
        for (src, d) in answers[..puts_and_gets as usize]
            .iter()
            .filter(|(s, _)| s % 2 == 1)
        {
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
}
