//! Seeded simulation: two endpoints over a link that loses, reorders,
//! duplicates and delays frames. Every request must be delivered exactly
//! once and in order, every response must come back, credits must never
//! deadlock, and the 22-bit sequence numbers must wrap.

use std::collections::VecDeque;

use omx_proto::integrity::Check;
use omx_proto::seq::SEQ_MODULUS;
use omx_proto::tilelink::{Channel, Opcode};
use omx_proto::{
    ByteOrder, Config, Connection, Disposition, Error, EthHeader, FrameBuilder, FrameLimits,
    Message, MessageType, SlotMeta, State, TloeHeader, Version,
};
use omx_rng::Rng;

const MAC_C: [u8; 6] = [2, 0, 0, 0, 0, 0x11];
const MAC_S: [u8; 6] = [2, 0, 0, 0, 0, 0xa1];
const SLOTS: usize = 32;
type Conn = Connection<Vec<u8>, Vec<SlotMeta>>;

#[derive(Clone, Copy)]
struct LinkParams {
    loss: u64, // per mille
    dup: u64,
    reorder: u64,
    delay: u64, // ns
    jitter: u64,
    /// Per mille of frames with one bit flipped after the Ethernet header (corruption the
    /// FCS does not see); only survivable with the integrity trailer.
    corrupt: u64,
}

struct InFlight {
    at: u64,
    id: u64,
    to_server: bool,
    bytes: Vec<u8>,
    /// Made up by a third party (see [`forge`]).
    forged: bool,
}

struct Link {
    p: LinkParams,
    q: Vec<InFlight>,
    cut: bool,
    ids: u64,
    /// Last FIFO delivery time per direction (to client, to server).
    last_at: [u64; 2],
}

impl Link {
    fn send(&mut self, rng: &mut Rng, now: u64, to_server: bool, bytes: &[u8]) {
        if self.cut || rng.per_mille(self.p.loss) {
            return;
        }
        let copies = if rng.per_mille(self.p.dup) { 2 } else { 1 };
        for _ in 0..copies {
            let base = now + self.p.delay + rng.below(self.p.jitter + 1);
            let dir = usize::from(to_server);
            let at = if rng.per_mille(self.p.reorder) {
                // overtaken: delayed by up to three link delays, out of FIFO order
                base + rng.below(3 * self.p.delay + self.p.jitter + 1)
            } else {
                // a link keeps order: never deliver before an earlier frame
                let at = base.max(self.last_at[dir] + 1);
                self.last_at[dir] = at;
                at
            };
            self.ids += 1;
            let mut bytes = bytes.to_vec();
            if rng.per_mille(self.p.corrupt) && bytes.len() > 14 {
                let bit = 14 * 8 + rng.below((bytes.len() as u64 - 14) * 8) as usize;
                bytes[bit / 8] ^= 1 << (bit % 8);
            }
            self.q.push(InFlight {
                at,
                id: self.ids,
                to_server,
                bytes,
                forged: false,
            });
        }
    }
    /// Puts a frame on the link as is (no loss, duplication or corruption).
    fn inject(&mut self, at: u64, to_server: bool, bytes: Vec<u8>) {
        if self.cut {
            return;
        }
        self.ids += 1;
        self.q.push(InFlight {
            at,
            id: self.ids,
            to_server,
            bytes,
            forged: true,
        });
    }
    fn next_time(&self) -> Option<u64> {
        self.q.iter().map(|f| f.at).min()
    }
    fn pop_due(&mut self, now: u64) -> Option<InFlight> {
        let i = self
            .q
            .iter()
            .enumerate()
            .filter(|(_, f)| f.at <= now)
            .min_by_key(|(_, f)| (f.at, f.id))?
            .0;
        Some(self.q.swap_remove(i))
    }
}

/// A request the client issues; everything is derived from its number.
#[derive(Clone, Copy, Debug)]
struct Req {
    n: u64,
    kind: u8, // 0 Get, 1 PutFull, 2 PutPartial, 3 Logical, 4 Intent
    size: u8,
}

fn req_for(n: u64, max_size: u8, rng: &mut Rng) -> Req {
    Req {
        n,
        kind: rng.below(5) as u8,
        size: 3 + rng.below(u64::from(max_size) - 2) as u8,
    }
}

fn pattern(n: u64, len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (n as u8)
                .wrapping_mul(31)
                .wrapping_add(i as u8)
                .wrapping_add(salt)
        })
        .collect()
}

fn addr_of(n: u64) -> u64 {
    n << 16
}

/// Owned copy of what the client sends / expects.
struct OwnedReq {
    req: Req,
    data: Vec<u8>,
    mask: Vec<u64>,
}

fn build(req: Req) -> OwnedReq {
    let len = 1usize << req.size;
    let data = pattern(req.n, len, 1);
    let mask = (0..len.div_ceil(64))
        .map(|g| 0xF0F0_F0F0_F0F0_F0F0u64.rotate_left((req.n + g as u64) as u32))
        .collect();
    OwnedReq { req, data, mask }
}

fn as_message(o: &OwnedReq, source: u32) -> Message<'_> {
    let a = addr_of(o.req.n);
    match o.req.kind {
        0 => Message::get(source, a, o.req.size),
        1 => Message::put_full(source, a, &o.data),
        2 => Message::put_partial(source, a, o.req.size, &o.data, &o.mask),
        3 => Message::logical(source, a, 1, &o.data),
        _ => Message::intent(source, a, o.req.size, 0),
    }
}

/// Server's response to a delivered request, owned.
struct Resp {
    source: u32,
    opcode: Opcode,
    size: u8,
    data: Vec<u8>,
}

struct Scenario {
    version: Version,
    order: ByteOrder,
    mtu: usize,
    max_start: u8,
    pack_delay: u64,
    requests: u64,
    max_size: u8,
    max_outstanding: usize,
    link: LinkParams,
    start_seq: u32,
    rx_buf: u32,
    integrity: Option<Check>,
    /// Per mille of sent frames followed by a forged one to the same end (see [`forge`]).
    forge: u64,
    /// [`Config::peer_window`] of both ends (`None`: the default).
    peer_window: Option<u32>,
}

fn config(s: &Scenario, dst: [u8; 6], src: [u8; 6]) -> Config {
    let mut c = Config::new(s.version);
    c.order = s.order;
    c.mtu = s.mtu;
    c.max_start_flit = s.max_start;
    c.ethernet = Some(EthHeader::new(dst, src));
    let rtt = 2 * (s.link.delay + s.link.jitter);
    c.rto_ns = 3 * rtt + 20_000;
    c.ack_delay_ns = rtt / 8 + 1_000;
    c.nak_holdoff_ns = rtt + 1_000;
    c.pack_delay_ns = s.pack_delay;
    c.max_retransmits = 60;
    c.rx_buffer_flits = [s.rx_buf; 5];
    c.start_seq = s.start_seq;
    c.integrity = s.integrity;
    if let Some(w) = s.peer_window {
        c.peer_window = w;
    }
    c
}

/// A frame a third party sends to `to` in its peer's name, knowing the protocol but not the
/// connection's state (it guesses the sequence numbers): a sequence number well outside the
/// default window, or one in it with an acknowledgement of a frame `to` will not have sent
/// by the time the frame arrives. It acknowledges everything `to` sent, or NAKs to make it
/// go back, grants up to 2^20 credits, says AckOnly or CloseConnection. Were any of it
/// used, messages would be lost (freed unacknowledged), credits overrun or the connection
/// closed, and the run would fail.
fn forge(rng: &mut Rng, s: &Scenario, to: &Conn, eth: &EthHeader) -> Vec<u8> {
    use omx_proto::seq::SEQ_MODULUS;
    let w = omx_proto::connection::DEFAULT_PEER_WINDOW;
    let margin = 1000; // how far NEXT_RX_SEQ / NEXT_TX_SEQ may move while it is on its way
    let seq = if rng.per_mille(800) {
        let far = w + margin + rng.below(u64::from(SEQ_MODULUS - 2 * (w + margin))) as u32;
        to.next_rx_seq().add(far)
    } else {
        to.next_rx_seq().sub(rng.below(2) as u32)
    };
    let in_window = to.next_rx_seq().distance_from(seq) <= 1;
    let seq_ack = if in_window {
        to.next_tx_seq().add(margin + rng.below(100_000) as u32)
    } else {
        to.next_tx_seq().sub(1 + rng.below(3) as u32)
    };
    let mut h = TloeHeader::new(seq, seq_ack, rng.per_mille(500));
    if s.version == Version::V1_1 {
        h.msg_type = match rng.below(4) {
            0 => MessageType::AckOnly,
            1 => MessageType::CloseConnection,
            _ => MessageType::Normal,
        };
    }
    if h.msg_type != MessageType::AckOnly && rng.per_mille(700) {
        let ch = [Channel::A, Channel::B, Channel::C, Channel::D, Channel::E];
        h.set_credit(Some((ch[rng.below(5) as usize], rng.below(21) as u8)));
    }
    let mut buf = vec![0u8; 1514];
    let b = FrameBuilder::new(&mut buf, Some(eth), FrameLimits::default(), s.order).unwrap();
    let n = b.finish(&h).unwrap();
    buf.truncate(n);
    if let Some(check) = s.integrity {
        let t = omx_proto::integrity::trailer(check, &buf[eth.header_len()..]);
        buf.extend_from_slice(&t);
    }
    buf
}

/// Runs one scenario; returns (frames sent by client, stats) for checks.
fn run(seed: u64, s: &Scenario) -> (u64, u64) {
    let mut rng = Rng(seed);
    let cc = config(s, MAC_S, MAC_C);
    let sc = config(s, MAC_C, MAC_S);
    let mut c = Conn::new(
        cc.clone(),
        vec![0u8; Conn::required_memory(&cc, SLOTS)],
        vec![SlotMeta::EMPTY; SLOTS],
    )
    .unwrap();
    let mut srv = Conn::new(
        sc.clone(),
        vec![0u8; Conn::required_memory(&sc, SLOTS)],
        vec![SlotMeta::EMPTY; SLOTS],
    )
    .unwrap();
    let mut link = Link {
        p: s.link,
        q: Vec::new(),
        cut: false,
        ids: 0,
        last_at: [0; 2],
    };
    let mut now = 0u64;
    c.open(now).unwrap();

    let mut next_req = 0u64; // next request number to issue
    let mut pending_issue: Option<OwnedReq> = None;
    let mut outstanding: VecDeque<(u32, OwnedReq)> = VecDeque::new();
    let mut server_expect = 0u64; // next request number the server must see
    let mut server_queue: VecDeque<Resp> = VecDeque::new();
    let mut completed = 0u64;
    let mut buf = vec![0u8; c.max_frame_len().max(srv.max_frame_len())];
    let mut iterations = 0u64;
    let mut closing = false;
    // Frames each end rejected for their integrity trailer (server, client): what its
    // `integrity_errors` counter must say.
    let mut bad_integrity = [0u64; 2];
    // Forged frames delivered to (server, client).
    let mut forged = [0u64; 2];

    loop {
        iterations += 1;
        assert!(
            iterations < 5_000_000,
            "seed {seed}: no progress (livelock)"
        );
        // 1. deliver frames due now
        while let Some(f) = link.pop_due(now) {
            if f.forged {
                let to = if f.to_server { &mut srv } else { &mut c };
                let rx = to.on_frame(&f.bytes, now);
                let d = rx.map(|r| r.disposition);
                assert_eq!(
                    d,
                    Ok(Disposition::OutOfWindow),
                    "seed {seed}: forged frame taken"
                );
                forged[usize::from(!f.to_server)] += 1;
                continue;
            }
            if f.to_server {
                let rx = match srv.on_frame(&f.bytes, now) {
                    Ok(rx) => rx,
                    // A corrupted frame is dropped: the link lost it.
                    Err(Error::BadIntegrity) if s.integrity.is_some() => {
                        bad_integrity[0] += 1;
                        continue;
                    }
                    Err(e) => panic!("seed {seed}: {e:?}"),
                };
                for m in rx.messages() {
                    assert_eq!(m.chan, Channel::A, "seed {seed}");
                    let n = m.address >> 16;
                    assert_eq!(
                        n, server_expect,
                        "seed {seed}: request out of order / duplicated"
                    );
                    server_expect += 1;
                    let mut rng2 = Rng(seed ^ n.wrapping_mul(0x1234_5678_9abc));
                    let _ = &mut rng2;
                    // Check data of writes.
                    let exp = build(Req {
                        n,
                        kind: 0,
                        size: m.size,
                    });
                    match m.opcode {
                        Opcode::PutFullData | Opcode::LogicalData => {
                            let mut d = vec![0u8; m.data.len()];
                            m.data.copy_to(&mut d);
                            assert_eq!(
                                &d[..exp.data.len().min(d.len())],
                                &exp.data[..exp.data.len().min(d.len())],
                                "seed {seed}: write data"
                            );
                        }
                        Opcode::PutPartialData => {
                            for (g, w) in exp.mask.iter().enumerate() {
                                assert_eq!(m.data.mask_word(g), Some(*w), "seed {seed}: mask");
                            }
                        }
                        _ => {}
                    }
                    let (opcode, data) = match m.opcode {
                        Opcode::Get | Opcode::LogicalData => {
                            (Opcode::AccessAckData, pattern(n, 1 << m.size, 7))
                        }
                        Opcode::Intent => (Opcode::HintAck, Vec::new()),
                        _ => (Opcode::AccessAck, Vec::new()),
                    };
                    server_queue.push_back(Resp {
                        source: m.source,
                        opcode,
                        size: m.size,
                        data,
                    });
                }
            } else {
                let rx = match c.on_frame(&f.bytes, now) {
                    Ok(rx) => rx,
                    Err(Error::BadIntegrity) if s.integrity.is_some() => {
                        bad_integrity[1] += 1;
                        continue;
                    }
                    Err(e) => panic!("seed {seed}: {e:?}"),
                };
                for m in rx.messages() {
                    assert_eq!(m.chan, Channel::D, "seed {seed}");
                    let (src, o) = outstanding.pop_front().expect("response without request");
                    assert_eq!(m.source, src, "seed {seed}: responses out of order");
                    let want = match o.req.kind {
                        0 | 3 => Opcode::AccessAckData,
                        4 => Opcode::HintAck,
                        _ => Opcode::AccessAck,
                    };
                    assert_eq!(m.opcode, want, "seed {seed}");
                    assert_eq!(m.size, o.req.size);
                    if want == Opcode::AccessAckData {
                        let mut d = vec![0u8; m.data.len()];
                        m.data.copy_to(&mut d);
                        assert_eq!(
                            d,
                            pattern(o.req.n, 1 << o.req.size, 7),
                            "seed {seed}: read data"
                        );
                    }
                    completed += 1;
                }
            }
        }
        // 2. applications send what they can
        while let Some(r) = server_queue.front() {
            let msg = match r.opcode {
                Opcode::AccessAckData => Message::access_ack_data(r.source, r.size, &r.data),
                Opcode::HintAck => Message::hint_ack(r.source, r.size),
                _ => Message::access_ack(r.source, r.size),
            };
            match srv.send(&msg, now) {
                Ok(()) => {
                    server_queue.pop_front();
                }
                Err(omx_proto::Error::NoCredit | omx_proto::Error::WindowFull) => break,
                Err(e) => panic!("seed {seed}: server send {e:?}"),
            }
        }
        loop {
            if pending_issue.is_none()
                && next_req < s.requests
                && outstanding.len() < s.max_outstanding
            {
                pending_issue = Some(build(req_for(next_req, s.max_size, &mut rng)));
                next_req += 1;
            }
            let Some(o) = pending_issue.as_ref() else {
                break;
            };
            let source = (o.req.n % 4096) as u32;
            match c.send(&as_message(o, source), now) {
                Ok(()) => {
                    let o = pending_issue.take().unwrap();
                    outstanding.push_back((source, o));
                }
                Err(omx_proto::Error::NoCredit | omx_proto::Error::WindowFull) => break,
                Err(e) => panic!("seed {seed}: client send {e:?}"),
            }
        }
        if completed == s.requests && !closing && server_queue.is_empty() {
            closing = true;
            c.close(now).unwrap();
        }
        if closing && srv.state() == State::PeerClosing {
            srv.close(now).unwrap();
        }
        // 3. transmit
        while let Some(n) = c.poll_transmit(now, &mut buf).unwrap() {
            trace(now, "C->S", &buf[..n]);
            link.send(&mut rng, now, true, &buf[..n]);
            if s.forge > 0 && rng.per_mille(s.forge) {
                let bytes = forge(&mut rng, s, &srv, &EthHeader::new(MAC_S, MAC_C));
                link.inject(now + rng.below(2 * s.link.delay + 1), true, bytes);
            }
        }
        while let Some(n) = srv.poll_transmit(now, &mut buf).unwrap() {
            trace(now, "S->C", &buf[..n]);
            link.send(&mut rng, now, false, &buf[..n]);
            if s.forge > 0 && rng.per_mille(s.forge) {
                let bytes = forge(&mut rng, s, &c, &EthHeader::new(MAC_C, MAC_S));
                link.inject(now + rng.below(2 * s.link.delay + 1), false, bytes);
            }
        }
        assert_ne!(c.state(), State::Dead, "seed {seed}: client dead");
        assert_ne!(srv.state(), State::Dead, "seed {seed}: server dead");
        if closing
            && (c.state() == State::Closed || s.version == Version::V1_0_3)
            && (srv.state() == State::Closed || s.version == Version::V1_0_3)
        {
            if s.version == Version::V1_0_3 {
                if c.state() == State::Closed {
                    break;
                }
            } else {
                break;
            }
        }
        // 4. advance time
        let next = [link.next_time(), c.next_deadline(), srv.next_deadline()]
            .into_iter()
            .flatten()
            .min();
        match next {
            Some(t) => now = t.max(now),
            None => panic!(
                "seed {seed}: deadlock at t={now}: completed {completed}/{} c={:?} s={:?} cred c.A={} s.D={}",
                s.requests,
                c.state(),
                srv.state(),
                c.tx_credits(Channel::A),
                srv.tx_credits(Channel::D)
            ),
        }
        if next == Some(now) && link.next_time() != Some(now) {
            // immediate work only: make sure we do not spin forever at one instant
            now += 1;
        }
    }
    assert_eq!(server_expect, s.requests, "seed {seed}");
    assert_eq!(completed, s.requests, "seed {seed}");
    assert!(outstanding.is_empty());
    let wrapped = c.next_tx_seq().get() < s.start_seq && srv.next_tx_seq().get() < s.start_seq;
    if s.start_seq > SEQ_MODULUS - 100 {
        assert!(
            wrapped,
            "seed {seed}: sequence numbers did not wrap ({:?})",
            c.next_tx_seq()
        );
    }
    if std::env::var_os("OMX_SIM_STATS").is_some() {
        eprintln!(
            "seed {seed:4} {:?} {:?} mtu {} loss {:3} dup {:2} reorder {:3} delay {:5} jitter {:5} reqs {} t={}us\n  client {:?}\n  server {:?}",
            s.version,
            s.order,
            s.mtu,
            s.link.loss,
            s.link.dup,
            s.link.reorder,
            s.link.delay,
            s.link.jitter,
            s.requests,
            now / 1000,
            c.stats(),
            srv.stats()
        );
    }
    assert_eq!(
        [srv.stats().integrity_errors, c.stats().integrity_errors],
        bad_integrity,
        "seed {seed}: integrity_errors counters"
    );
    // Legitimate frames, lost, duplicated, reordered or late, are always in the default
    // window: only the forged ones are counted out of it.
    if s.peer_window.is_none() {
        assert_eq!(
            [srv.stats().out_of_window, c.stats().out_of_window],
            forged,
            "seed {seed}: out_of_window counters"
        );
    }
    (
        c.stats().frames_tx,
        c.stats().frames_retx + srv.stats().frames_retx,
    )
}

fn trace(now: u64, dir: &str, f: &[u8]) {
    if std::env::var_os("OMX_SIM_TRACE").is_none() {
        return;
    }
    let (_, v) = omx_proto::FrameView::parse_ethernet(f, ByteOrder::Raw, true).unwrap();
    let h = v.header;
    eprintln!(
        "{now:>10} {dir} {:?} seq={} ack={}{} cr={}:{} msgs={}",
        h.msg_type,
        h.seq.get(),
        if h.ack { "A" } else { "N" },
        h.seq_ack.get(),
        h.credit_chan,
        h.credit,
        v.message_count()
    );
}

fn scenario_for(seed: u64) -> Scenario {
    let mut r = Rng(seed.wrapping_mul(0x5851_F42D_4C95_7F2D));
    let jumbo = r.per_mille(250);
    Scenario {
        version: if r.per_mille(500) {
            Version::V1_1
        } else {
            Version::V1_0_3
        },
        order: if r.per_mille(500) {
            ByteOrder::Spec
        } else {
            ByteOrder::Raw
        },
        mtu: if jumbo { 9000 } else { 1500 },
        max_start: if r.per_mille(200) {
            1 + r.below(64) as u8
        } else {
            64
        },
        pack_delay: if r.per_mille(300) { r.below(20_000) } else { 0 },
        requests: 150 + r.below(150),
        max_size: if jumbo { 12 } else { 10 },
        max_outstanding: 1 + r.below(48) as usize,
        link: LinkParams {
            loss: r.below(150),
            dup: r.below(50),
            reorder: if r.per_mille(300) {
                r.below(300)
            } else {
                r.below(30)
            },
            delay: 1_000 + r.below(20_000),
            jitter: if r.per_mille(200) {
                r.below(30_000)
            } else {
                r.below(3_000)
            },
            corrupt: 0,
        },
        start_seq: SEQ_MODULUS - 1 - r.below(8) as u32,
        // Receive buffers from "one largest message" (a PutPartialData of 1 KiB =
        // 146 flits, of 4 KiB = 578) up: credits must never deadlock.
        rx_buf: if jumbo {
            [580, 1024, 2048][r.below(3) as usize]
        } else {
            [146, 256, 512, 1024][r.below(4) as usize]
        },
        integrity: r.per_mille(300).then(|| Check::ALL[r.below(2) as usize]),
        forge: 0,
        peer_window: None,
    }
}

#[test]
fn simulation_many_seeds() {
    let mut retx = 0;
    for seed in 0..400u64 {
        let s = scenario_for(seed);
        let (_, r) = run(seed, &s);
        retx += r;
    }
    assert!(retx > 0, "the lossy link never forced a retransmission");
}

#[test]
fn simulation_perfect_link_no_retransmissions() {
    for seed in 0..4u64 {
        let mut s = scenario_for(seed);
        s.link = LinkParams {
            loss: 0,
            dup: 0,
            reorder: 0,
            delay: 5_000,
            jitter: 0,
            corrupt: 0,
        };
        let (_, retx) = run(1000 + seed, &s);
        assert_eq!(retx, 0, "seed {seed}");
    }
}

#[test]
fn simulation_heavy_reordering() {
    for seed in 0..8u64 {
        let mut s = scenario_for(seed + 700);
        s.link.reorder = 400;
        s.link.jitter = 3 * s.link.delay;
        s.requests = 80;
        run(3000 + seed, &s);
    }
}

#[test]
fn simulation_heavy_loss() {
    for seed in 0..6u64 {
        let mut s = scenario_for(seed + 500);
        s.link.loss = 300;
        s.link.dup = 100;
        s.requests = 60;
        run(2000 + seed, &s);
    }
}

#[test]
fn simulation_corruption_with_integrity_trailer() {
    // Bit flips the Ethernet FCS never sees, in 5 % of the frames (plus loss, duplication,
    // reordering): with the trailer every message still arrives once, intact and in order.
    let mut retx = 0;
    for seed in 0..40u64 {
        let mut s = scenario_for(seed + 4000);
        s.integrity = Some(Check::ALL[seed as usize % 2]);
        s.link.corrupt = 50;
        let (_, r) = run(5000 + seed, &s);
        retx += r;
    }
    assert!(retx > 0);
}

#[test]
fn dead_peer_is_detected_in_bounded_time() {
    for version in [Version::V1_0_3, Version::V1_1] {
        let mut cfg = Config::new(version);
        cfg.ethernet = Some(EthHeader::new(MAC_S, MAC_C));
        cfg.rto_ns = 1_000_000;
        cfg.max_retransmits = 3;
        cfg.initial_tx_credits = Some(1024);
        let mut c = Conn::new(
            cfg.clone(),
            vec![0u8; Conn::required_memory(&cfg, SLOTS)],
            vec![SlotMeta::EMPTY; SLOTS],
        )
        .unwrap();
        c.open(0).unwrap();
        c.send(&Message::get(1, 0, 6), 0).unwrap();
        let mut buf = vec![0u8; c.max_frame_len()];
        let mut now = 0;
        let mut sent = 0;
        while c.state() != State::Dead {
            while c.poll_transmit(now, &mut buf).unwrap().is_some() {
                sent += 1;
            }
            if c.state() == State::Dead {
                break;
            }
            now = c
                .next_deadline()
                .expect("a timer must be armed")
                .max(now + 1);
            assert!(now <= 5_000_000, "{version:?}: not dead after {now} ns");
        }
        assert!(sent >= 4);
        assert_eq!(
            c.send(&Message::get(2, 0, 6), now),
            Err(omx_proto::Error::Dead)
        );
    }
}

#[test]
fn retransmit_timeout_backs_off_to_its_cap() {
    let mut cfg = Config::new(Version::V1_1);
    cfg.ethernet = Some(EthHeader::new(MAC_S, MAC_C));
    cfg.rto_ns = 1_000;
    cfg.rto_backoff_max_shift = 2;
    cfg.max_retransmits = 5;
    cfg.initial_tx_credits = Some(1024);
    let mut c = Conn::new(
        cfg.clone(),
        vec![0u8; Conn::required_memory(&cfg, SLOTS)],
        vec![SlotMeta::EMPTY; SLOTS],
    )
    .unwrap();
    c.open(0).unwrap();
    let mut buf = vec![0u8; c.max_frame_len()];
    let mut now = 0;
    let mut gaps = Vec::new();
    while c.state() != State::Dead {
        while c.poll_transmit(now, &mut buf).unwrap().is_some() {}
        if c.state() == State::Dead {
            break;
        }
        let next = c.next_deadline().expect("a timer must be armed");
        gaps.push(next - now);
        now = next;
    }
    // 1 us, doubled per timeout up to 4 us; dead after the sixth expiry.
    assert_eq!(gaps, [1_000, 2_000, 4_000, 4_000, 4_000, 4_000]);
    assert_eq!(now, 19_000);
}

#[test]
fn simulation_forged_frames_change_nothing() {
    // A third party adds a forged frame after 20 % of the frames sent (on top of loss,
    // duplication and reordering): every one is dropped as out of the window, and every
    // request is still answered once, intact and in order.
    let mut retx = 0;
    for seed in 0..60u64 {
        let mut s = scenario_for(seed + 6000);
        s.forge = 200;
        let (_, r) = run(7000 + seed, &s);
        retx += r;
    }
    assert!(retx > 0);
}

#[test]
fn simulation_exact_peer_window() {
    // The receive window as small as it can be (the peer's 32 slots): loss, duplication and
    // heavy reordering still deliver everything. Frames beyond it only cost a resend: in
    // 3000 runs one frame fell outside, a duplicate overtaken by 37 later frames.
    for seed in 0..60u64 {
        let mut s = scenario_for(seed + 8000);
        s.peer_window = Some(SLOTS as u32);
        if seed % 2 == 0 {
            s.link.reorder = 400;
            s.link.jitter = 3 * s.link.delay;
        }
        run(9000 + seed, &s);
    }
}
