//! Userspace client library: reads and writes a pool node's memory over
//! an `AF_PACKET` socket, without the kernel module.
//!
//! ```no_run
//! use omx_node::client::{Client, ClientOptions};
//! let node = omx_node::util::parse_mac("02:00:00:00:00:01").unwrap();
//! let mut c = Client::connect("eth1", node, ClientOptions::default()).unwrap();
//! c.write(0x1003, b"hello").unwrap();
//! let mut buf = [0u8; 5];
//! c.read(0x1003, &mut buf).unwrap();
//! assert_eq!(&buf, b"hello");
//! ```
//!
//! Any byte range is split into naturally aligned power-of-two TileLink
//! requests of at most one frame's worth of data (1 KiB at MTU 1500, 4 KiB
//! at 9000): whole blocks become Get / PutFullData, ragged edges a Get of
//! the covering block or a PutPartialData with a byte mask. Many operations
//! are pipelined ([`Client::execute`], up to `queue_depth` operations in
//! flight).

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use omx_proto::tilelink::{mask_flits, Channel, Opcode};
use omx_proto::{
    ByteOrder, Config, Error as ProtoError, EthHeader, Message, SlotMeta, State, Version,
};

use crate::server::{slots, Conn};
use crate::sys::{self, PacketSocket, RxBatch, TxBatch};
use crate::util::{format_mac, now_ns, Mac};

/// Connection options.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Data byte order (must match the node's `--byte-order`).
    pub order: ByteOrder,
    /// Protocol version.
    pub version: Version,
    /// MTU (default: the interface's).
    pub mtu: Option<usize>,
    /// Largest data per request (power of two; default: what the MTU
    /// allows, at most 4 KiB).
    pub max_msg: Option<usize>,
    /// Operations in flight in [`Client::execute`].
    pub queue_depth: usize,
    /// Time limit of one call.
    pub timeout: Duration,
    /// Source MAC to use instead of the interface's (several clients on one
    /// interface; the interface is put into promiscuous mode).
    pub src_mac: Option<Mac>,
    /// Retransmit timeout.
    pub rto: Duration,
    /// Frames per recvmmsg / sendmmsg.
    pub batch: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            order: ByteOrder::Spec,
            version: Version::V1_1,
            mtu: None,
            max_msg: None,
            queue_depth: 32,
            timeout: Duration::from_secs(10),
            src_mac: None,
            rto: Duration::from_millis(20),
            batch: 64,
        }
    }
}

/// What went wrong.
#[derive(Debug)]
pub enum ClientError {
    /// The interface does not exist.
    NoSuchInterface(String),
    /// Opening a raw socket needs CAP_NET_RAW.
    Permission,
    /// Other socket error.
    Io(io::Error),
    /// The node denied a request (outside the region, unknown client).
    Denied {
        /// First address of the denied operation.
        addr: u64,
    },
    /// No answer in time.
    Timeout,
    /// The node stopped acknowledging.
    Dead,
    /// Bad arguments (e.g. atomic size).
    Invalid(String),
    /// Protocol error.
    Protocol(ProtoError),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::NoSuchInterface(i) => write!(f, "no such interface {i}"),
            ClientError::Permission => write!(f, "needs CAP_NET_RAW: run as root"),
            ClientError::Io(e) => write!(f, "{e}"),
            ClientError::Denied { addr } => write!(f, "request at {addr:#x} denied by the node"),
            ClientError::Timeout => write!(f, "timed out waiting for the node"),
            ClientError::Dead => write!(f, "the node stopped answering"),
            ClientError::Invalid(s) => write!(f, "{s}"),
            ClientError::Protocol(e) => write!(f, "protocol error: {e}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> Self {
        ClientError::Io(e)
    }
}

/// Maps socket-open errors to the messages users need.
pub fn open_error(iface: &str, e: io::Error) -> ClientError {
    match e.raw_os_error() {
        Some(libc::ENODEV) | Some(libc::ENXIO) => ClientError::NoSuchInterface(iface.into()),
        Some(libc::EPERM) | Some(libc::EACCES) => ClientError::Permission,
        _ => ClientError::Io(e),
    }
}

/// One operation for [`Client::execute`].
#[derive(Debug)]
pub enum Op<'a> {
    /// Read `buf.len()` bytes at `addr`.
    Read {
        /// Address in the client's region.
        addr: u64,
        /// Destination.
        buf: &'a mut [u8],
    },
    /// Write `data` at `addr`.
    Write {
        /// Address in the client's region.
        addr: u64,
        /// Source.
        data: &'a [u8],
    },
    /// TileLink atomic on 1, 2, 4 or 8 aligned bytes; `old` gets the value
    /// before the operation.
    Atomic {
        /// Address (aligned to the operand size).
        addr: u64,
        /// `ArithmeticData` or `LogicalData`.
        opcode: Opcode,
        /// Operation (see [`Opcode`]).
        param: u8,
        /// Operand (memory order, little-endian integer).
        operand: &'a [u8],
        /// Old value out.
        old: &'a mut [u8],
    },
}

impl Op<'_> {
    /// Start address of the operation.
    pub fn addr(&self) -> u64 {
        match self {
            Op::Read { addr, .. } | Op::Write { addr, .. } | Op::Atomic { addr, .. } => *addr,
        }
    }
}

/// Outcome of one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpStatus {
    /// Some request of the operation was denied.
    pub denied: bool,
    /// Time from first request queued to last response (ns).
    pub latency_ns: u64,
}

/// A naturally aligned request covering part of an operation: the block
/// `base .. base + 2^size`, of which the operation uses `lo .. hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Block address.
    pub base: u64,
    /// log2 of the block size.
    pub size: u8,
    /// First byte of the block used.
    pub lo: usize,
    /// End of the bytes used.
    pub hi: usize,
}

impl Chunk {
    /// Whether the whole block is used.
    pub fn full(&self) -> bool {
        self.lo == 0 && self.hi == 1 << self.size
    }
}

/// Splits `[addr, addr + len)` into chunks of at most `max` bytes (a power
/// of two). Whole aligned blocks of at least `min_full` bytes become full
/// chunks; other pieces use the smallest covering block of at least 8 bytes,
/// at most `max_partial` (a PutPartialData's byte mask makes it larger on the
/// wire than a PutFullData of the same size: at MTU 9000 8 KiB and 4 KiB).
pub fn split(addr: u64, len: usize, max: usize, max_partial: usize, min_full: usize) -> Vec<Chunk> {
    // u128: a range may end exactly at (or run past) 2^64.
    let mut out = Vec::new();
    let max = max.max(8) as u128;
    let pmax = (max_partial as u128).clamp(8, max);
    let end = u128::from(addr) + len as u128;
    let mut p = u128::from(addr);
    while p < end && p <= u128::from(u64::MAX) {
        let mut s = max;
        let mut found = None;
        while s >= min_full.max(1) as u128 {
            if p % s == 0 && p + s <= end {
                found = Some((p, s, 0u128, s));
                break;
            }
            s /= 2;
        }
        let (base, s, lo, hi) = found.unwrap_or_else(|| {
            let limit = end.min((p / pmax + 1) * pmax);
            let mut s = 8u128;
            loop {
                let base = p & !(s - 1);
                if base + s >= limit || s >= pmax {
                    break (base, s, p - base, limit - base);
                }
                s *= 2;
            }
        });
        p = base + hi;
        out.push(Chunk {
            base: base as u64,
            size: s.trailing_zeros() as u8,
            lo: lo as usize,
            hi: hi as usize,
        });
    }
    out
}

#[derive(Debug, Clone, Copy)]
struct Req {
    op: usize,
    chunk: Chunk,
    /// Offset of `chunk.lo` within the operation's buffer.
    op_off: usize,
}

#[derive(Debug, Clone, Copy, Default)]
struct Track {
    remaining: usize,
    start: u64,
    denied: bool,
    done: bool,
}

/// Largest source ids in flight.
const MAX_SOURCES: usize = 4096;

/// A connection to one pool node.
pub struct Client {
    sock: PacketSocket,
    conn: Conn,
    mac: Mac,
    node: Mac,
    opts: ClientOptions,
    max_msg: usize,
    /// Largest masked write (PutPartialData of a ragged edge), at most `max_msg`.
    max_partial: usize,
    rx: RxBatch,
    tx: TxBatch,
    scratch: Vec<u8>,
    closed: bool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Client({} -> {})",
            format_mac(&self.mac),
            format_mac(&self.node)
        )
    }
}

impl Client {
    /// Opens the connection to `node` on `iface` and waits until it is up.
    pub fn connect(iface: &str, node: Mac, opts: ClientOptions) -> Result<Client, ClientError> {
        let sock = PacketSocket::open(iface, omx_proto::ETHERTYPE_OMNIXTEND)
            .map_err(|e| open_error(iface, e))?;
        sock.set_buffers(4 << 20);
        let info = sock.info();
        let mac = opts.src_mac.unwrap_or(info.mac);
        if opts.src_mac.is_some() {
            let _ = sock.set_promiscuous();
        }
        let mtu = opts.mtu.unwrap_or(info.mtu).max(64);
        let mut cfg = Config::new(opts.version);
        cfg.order = opts.order;
        cfg.mtu = mtu;
        cfg.ethernet = Some(EthHeader::new(node, mac));
        cfg.rto_ns = opts.rto.as_nanos() as u64;
        cfg.max_retransmits = 100;
        cfg.ack_delay_ns = 20_000;
        cfg.nak_holdoff_ns = (cfg.rto_ns / 4).max(1);
        // We receive only D (responses): a large buffer, one grant.
        cfg.rx_buffer_flits = [0, 0, 0, omx_proto::congestion::WINDOW_CREDIT_FLITS + 128, 0];
        let conn = Conn::new(
            cfg.clone(),
            vec![0u8; Conn::required_memory(&cfg, slots(mtu))],
            vec![SlotMeta::EMPTY; slots(mtu)],
        )
        .map_err(ClientError::Protocol)?;
        // Whole blocks go as Get / PutFullData of up to `fit` bytes; ragged edges of a write
        // as a PutPartialData of up to `partial_fit` (its byte mask must fit the frame too).
        let mtu32 = u32::try_from(mtu).unwrap_or(u32::MAX);
        let fit = omx_proto::message_size_for_mtu(mtu32, cfg.integrity.is_some()) as usize;
        let partial_fit =
            omx_proto::partial_message_size_for_mtu(mtu32, cfg.integrity.is_some()) as usize;
        let max_msg = match opts.max_msg {
            Some(m) if m.is_power_of_two() && m >= 8 => m.min(fit),
            _ => fit,
        };
        let max_partial = partial_fit.min(max_msg);
        let slot = mtu + 64;
        let mut c = Client {
            rx: RxBatch::new(opts.batch, slot),
            tx: TxBatch::new(opts.batch, slot),
            sock,
            conn,
            mac,
            node,
            max_msg,
            max_partial,
            opts,
            scratch: vec![0u8; 1 << 15],
            closed: false,
        };
        let now = now_ns();
        c.conn.open(now).map_err(ClientError::Protocol)?;
        let deadline = now + c.opts.timeout.as_nanos() as u64;
        loop {
            c.pump(deadline, &mut |_| {})?;
            if c.conn.state() == State::Open && c.conn.tx_credits(Channel::A) > 0 {
                break;
            }
            if now_ns() >= deadline {
                return Err(ClientError::Timeout);
            }
        }
        Ok(c)
    }

    /// Our MAC on the link.
    pub fn mac(&self) -> Mac {
        self.mac
    }

    /// Largest data per request.
    pub fn max_msg(&self) -> usize {
        self.max_msg
    }

    /// Largest data per masked write (a PutPartialData of a write's ragged edge).
    pub fn max_partial(&self) -> usize {
        self.max_partial
    }

    /// Protocol counters of the connection.
    pub fn link_stats(&self) -> omx_proto::Stats {
        *self.conn.stats()
    }

    /// Sets the number of operations in flight.
    pub fn set_queue_depth(&mut self, qd: usize) {
        self.opts.queue_depth = qd.max(1);
    }

    fn flush(&mut self) -> Result<(), ClientError> {
        let now = now_ns();
        loop {
            if self.tx.is_full() {
                self.sock
                    .send_batch(&mut self.tx, Duration::from_millis(5))?;
            }
            let Some(buf) = self.tx.slot_mut() else { break };
            match self.conn.poll_transmit(now, buf) {
                Ok(Some(n)) => self.tx.commit(n),
                Ok(None) => break,
                Err(e) => return Err(ClientError::Protocol(e)),
            }
        }
        self.sock
            .send_batch(&mut self.tx, Duration::from_millis(5))?;
        Ok(())
    }

    /// Sends what is due, waits for frames until the next protocol deadline
    /// (at most until `deadline`), and hands every received message to `f`.
    fn pump(&mut self, deadline: u64, f: &mut dyn FnMut(&Message<'_>)) -> Result<(), ClientError> {
        self.flush()?;
        let now = now_ns();
        let until = self
            .conn
            .next_deadline()
            .map_or(deadline, |d| d.min(deadline));
        let wait = until.saturating_sub(now).min(10_000_000);
        if wait > 0 {
            sys::poll_fds(
                &[(self.sock.as_raw_fd(), false)],
                Some(Duration::from_nanos(wait)),
                false,
            )?;
        }
        loop {
            let got = self.sock.recv_batch(&mut self.rx)?;
            let now = now_ns();
            for i in 0..got {
                let Ok(frame) = self.rx.frame(i) else {
                    continue;
                };
                let Ok((eth, _)) = EthHeader::parse_omnixtend(frame) else {
                    continue;
                };
                if eth.dst != self.mac || eth.src != self.node {
                    continue;
                }
                if let Ok(r) = self.conn.on_frame(frame, now) {
                    for m in r.messages() {
                        f(&m);
                    }
                }
            }
            if got < self.rx.capacity() {
                break;
            }
        }
        if self.conn.state() == State::Dead {
            return Err(ClientError::Dead);
        }
        self.flush()
    }

    /// Reads `buf.len()` bytes at `addr`.
    pub fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), ClientError> {
        let st = self.execute(&mut [Op::Read { addr, buf }])?;
        if st[0].denied {
            return Err(ClientError::Denied { addr });
        }
        Ok(())
    }

    /// Writes `data` at `addr`.
    pub fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), ClientError> {
        let st = self.execute(&mut [Op::Write { addr, data }])?;
        if st[0].denied {
            return Err(ClientError::Denied { addr });
        }
        Ok(())
    }

    /// Atomic `opcode`/`param` with `operand` (1, 2, 4 or 8 bytes) at the
    /// aligned `addr`; returns the old value (little-endian, zero-extended).
    pub fn atomic(
        &mut self,
        addr: u64,
        opcode: Opcode,
        param: u8,
        operand: &[u8],
    ) -> Result<u64, ClientError> {
        let mut old = [0u8; 8];
        let n = operand.len();
        let st = self.execute(&mut [Op::Atomic {
            addr,
            opcode,
            param,
            operand,
            old: &mut old[..n.min(8)],
        }])?;
        if st[0].denied {
            return Err(ClientError::Denied { addr });
        }
        Ok(u64::from_le_bytes(old))
    }

    fn requests_of(&self, i: usize, op: &Op<'_>) -> Result<Vec<Req>, ClientError> {
        let (addr, len, min_full) = match op {
            Op::Read { addr, buf } => (*addr, buf.len(), 1),
            Op::Write { addr, data } => (*addr, data.len(), 8),
            Op::Atomic {
                addr, operand, old, ..
            } => {
                let n = operand.len();
                if !matches!(n, 1 | 2 | 4 | 8) || old.len() < n || addr % n as u64 != 0 {
                    return Err(ClientError::Invalid(
                        "atomics take 1, 2, 4 or 8 naturally aligned bytes".into(),
                    ));
                }
                return Ok(vec![Req {
                    op: i,
                    chunk: Chunk {
                        base: *addr,
                        size: n.trailing_zeros() as u8,
                        lo: 0,
                        hi: n,
                    },
                    op_off: 0,
                }]);
            }
        };
        if u128::from(addr) + len as u128 > 1u128 << 64 {
            return Err(ClientError::Invalid(
                "range runs past the 64-bit address space".into(),
            ));
        }
        Ok(split(addr, len, self.max_msg, self.max_partial, min_full)
            .into_iter()
            .map(|c| Req {
                op: i,
                chunk: c,
                op_off: (c.base + c.lo as u64 - addr) as usize,
            })
            .collect())
    }

    fn try_send(&mut self, req: &Req, ops: &[Op<'_>], source: u32) -> Result<(), ProtoError> {
        let c = req.chunk;
        let n = 1usize << c.size;
        let now = now_ns();
        match &ops[req.op] {
            Op::Read { .. } => self.conn.send(&Message::get(source, c.base, c.size), now),
            Op::Write { data, .. } => {
                let used = &data[req.op_off..req.op_off + (c.hi - c.lo)];
                if c.full() {
                    self.conn
                        .send(&Message::put_full(source, c.base, used), now)
                } else {
                    let dlen = n.max(8);
                    let buf = &mut self.scratch[..dlen];
                    buf.fill(0);
                    buf[c.lo..c.hi].copy_from_slice(used);
                    let mut mask = [0u64; omx_proto::message_size::MAX_MESSAGE as usize / 64];
                    for i in c.lo..c.hi {
                        mask[i / 64] |= 1 << (i % 64);
                    }
                    let k = mask_flits(c.size);
                    let m = Message::put_partial(
                        source,
                        c.base,
                        c.size,
                        &self.scratch[..dlen],
                        &mask[..k],
                    );
                    self.conn.send(&m, now)
                }
            }
            Op::Atomic {
                opcode,
                param,
                operand,
                ..
            } => {
                let mut m = Message::put_full(source, c.base, operand);
                m.opcode = *opcode;
                m.param = *param;
                self.conn.send(&m, now)
            }
        }
    }

    /// Runs `ops`, pipelined: up to `queue_depth` operations in flight, each
    /// split into as many requests as needed. Returns one status per op;
    /// denied requests do not stop the others.
    pub fn execute(&mut self, ops: &mut [Op<'_>]) -> Result<Vec<OpStatus>, ClientError> {
        let mut track = vec![Track::default(); ops.len()];
        let mut status = vec![OpStatus::default(); ops.len()];
        let mut queue: VecDeque<Req> = VecDeque::new();
        let mut slots: Vec<Option<Req>> = vec![None; MAX_SOURCES];
        let mut free: Vec<u32> = (0..MAX_SOURCES as u32).rev().collect();
        let mut next = 0usize;
        let mut active = 0usize;
        let mut done = 0usize;
        let qd = self.opts.queue_depth.max(1);
        let mut deadline = now_ns() + self.opts.timeout.as_nanos() as u64;
        while done < ops.len() {
            let now = now_ns();
            while active < qd && next < ops.len() {
                let reqs = self.requests_of(next, &ops[next])?;
                track[next].start = now;
                track[next].remaining = reqs.len();
                if reqs.is_empty() {
                    track[next].done = true;
                    done += 1;
                } else {
                    active += 1;
                }
                queue.extend(reqs);
                next += 1;
            }
            while let Some(req) = queue.front().copied() {
                let Some(&src) = free.last() else { break };
                match self.try_send(&req, ops, src) {
                    Ok(()) => {
                        free.pop();
                        slots[src as usize] = Some(req);
                        queue.pop_front();
                    }
                    Err(ProtoError::NoCredit | ProtoError::WindowFull) => break,
                    Err(e) => return Err(ClientError::Protocol(e)),
                }
            }
            let scratch = &mut vec![];
            std::mem::swap(scratch, &mut self.scratch);
            let mut progressed = false;
            let r = self.pump(deadline, &mut |m| {
                if m.chan != Channel::D {
                    return;
                }
                let Some(req) = slots.get_mut(m.source as usize).and_then(Option::take) else {
                    return;
                };
                free.push(m.source);
                progressed = true;
                let t = &mut track[req.op];
                if m.err & 2 != 0 {
                    t.denied = true;
                } else {
                    let c = req.chunk;
                    let used = c.hi - c.lo;
                    match &mut ops[req.op] {
                        Op::Read { buf, .. } => {
                            let dst = &mut buf[req.op_off..req.op_off + used];
                            if c.full() {
                                m.data.copy_to(dst);
                            } else {
                                let n = 1usize << c.size;
                                m.data.copy_to(&mut scratch[..n]);
                                dst.copy_from_slice(&scratch[c.lo..c.hi]);
                            }
                        }
                        Op::Atomic { old, operand, .. } => {
                            let n = operand.len();
                            m.data.copy_to(&mut old[..n]);
                        }
                        Op::Write { .. } => {}
                    }
                }
                t.remaining -= 1;
                if t.remaining == 0 && !t.done {
                    t.done = true;
                    status[req.op] = OpStatus {
                        denied: t.denied,
                        latency_ns: now_ns().saturating_sub(t.start),
                    };
                    done += 1;
                    active -= 1;
                }
            });
            std::mem::swap(scratch, &mut self.scratch);
            r?;
            let now = now_ns();
            if progressed {
                deadline = now + self.opts.timeout.as_nanos() as u64;
            } else if now >= deadline {
                return Err(ClientError::Timeout);
            }
        }
        self.settle()?;
        Ok(status)
    }

    /// Lets due acknowledgements go out (so the node need not retransmit)
    /// without waiting longer than a millisecond.
    fn settle(&mut self) -> Result<(), ClientError> {
        let limit = now_ns() + 1_000_000;
        loop {
            self.flush()?;
            let now = now_ns();
            match self.conn.next_deadline() {
                Some(d) if d < limit && now < limit && self.conn.unacked_frames() == 0 => {
                    self.pump(d.max(now), &mut |_| {})?;
                }
                _ => return Ok(()),
            }
        }
    }

    /// Closes the connection (1.1 CloseConnection), waiting up to 500 ms.
    pub fn close(mut self) -> Result<(), ClientError> {
        self.close_inner()
    }

    fn close_inner(&mut self) -> Result<(), ClientError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        let now = now_ns();
        self.conn.close(now).map_err(ClientError::Protocol)?;
        let deadline = now + 500_000_000;
        while !matches!(self.conn.state(), State::Closed | State::Dead) && now_ns() < deadline {
            self.pump(deadline, &mut |_| {})?;
        }
        Ok(())
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.close_inner();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(addr: u64, len: usize, max: usize, min_full: usize) -> Vec<Chunk> {
        check_partial(addr, len, max, max, min_full)
    }

    fn check_partial(
        addr: u64,
        len: usize,
        max: usize,
        max_partial: usize,
        min_full: usize,
    ) -> Vec<Chunk> {
        let v = split(addr, len, max, max_partial, min_full);
        let mut p = addr;
        for c in &v {
            let n = 1usize << c.size;
            assert!(n <= max.max(8), "{c:?}");
            assert_eq!(c.base % n as u64, 0, "aligned {c:?}");
            assert_eq!(c.base + c.lo as u64, p, "contiguous {c:?}");
            assert!(c.lo < c.hi && c.hi <= n);
            if c.full() {
                assert!(n >= min_full);
            } else {
                assert!(n >= 8 && n <= max_partial.max(8), "{c:?}");
            }
            p = c.base + c.hi as u64;
        }
        assert_eq!(p, addr + len as u64);
        v
    }

    #[test]
    fn split_shapes() {
        let v = check(0, 4096, 1024, 8);
        assert_eq!(v.len(), 4);
        assert!(v.iter().all(Chunk::full));
        let v = check(3, 100, 1024, 8);
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].base, v[0].size, v[0].lo, v[0].hi), (0, 7, 3, 103));
        let v = check(5, 4096, 1024, 8);
        assert_eq!(v.len(), 5);
        assert!(!v[0].full() && v[1].full() && !v[4].full());
        let v = check(4, 5, 1024, 1);
        assert_eq!(v.len(), 2, "{v:?}"); // Get 4 @4, then partial 8 @8
        check(0, 5, 4096, 8);
        let v = split(u64::MAX - 7, 8, 1024, 1024, 1);
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].base, v[0].size), (u64::MAX - 7, 3));
        assert_eq!(split(u64::MAX - 3, 64, 1024, 1024, 1).len(), 1);
        // MTU 9000: 8 KiB whole blocks, ragged edges in masked blocks of up to 4 KiB.
        let v = check_partial(5, 3 * 8192, 8192, 4096, 8);
        assert!(v.iter().filter(|c| c.full()).all(|c| c.size <= 13));
        assert_eq!(v.iter().filter(|c| c.size == 13).count(), 2, "{v:?}");
        assert!(
            v.iter().filter(|c| !c.full()).all(|c| c.size <= 12),
            "{v:?}"
        );
        let v = check_partial(4096, 8192, 8192, 4096, 8);
        assert_eq!(v.len(), 2, "{v:?}"); // 4 KiB up to the 8 KiB boundary, then 4 KiB
        let v = check_partial(8192, 8192, 8192, 4096, 1);
        assert_eq!((v.len(), v[0].size), (1, 13));
        let mut r = omx_rng::Rng(1);
        for _ in 0..2000 {
            let a = r.below(1 << 20);
            let l = 1 + r.below(9000) as usize;
            check(a, l, 1024, 8);
            check(a, l, 4096, 1);
            check_partial(a, l, 8192, 4096, 8);
            check_partial(a, l, 8192, 8192, 8);
        }
    }
}
