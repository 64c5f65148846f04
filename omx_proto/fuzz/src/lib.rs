//! Fuzz logic shared by the cargo-fuzz targets (`fuzz_targets/*.rs`) and the
//! stable, libFuzzer-free loop in `omx_proto/tests/fuzz_smoke.rs`, which
//! includes this file with `#[path]`.
//!
//! Both functions must never panic for any input; they also check a few
//! invariants with `assert!` (a failing invariant is a finding).

use omx_proto::frame::FrameLimits;
use omx_proto::tilelink::Channel;
use omx_proto::{
    ByteOrder, Config, Connection, EthHeader, FrameBuilder, FrameView, Message, Seq, SlotMeta,
    State, TloeHeader, Version,
};

/// Decoder target: Ethernet + TLoE parsing, message walking, data access and
/// re-encoding of whatever decodes. Returns a coarse behaviour signature
/// (used by the stable loop to keep "interesting" inputs).
pub fn decode(data: &[u8]) -> u64 {
    let mut sig = 0u64;
    for order in [ByteOrder::Spec, ByteOrder::Raw] {
        for strict in [true, false] {
            sig |= check_payload(data, order, strict);
            match FrameView::parse_ethernet(data, order, strict) {
                Ok((eth, view)) => {
                    assert_eq!(eth.ethertype, omx_proto::ETHERTYPE_OMNIXTEND);
                    sig |= 1 << 40 | (view.message_count().min(7) as u64) << 41;
                }
                Err(e) => sig |= 1 << (44 + err_index(e)),
            }
        }
    }
    sig
}

fn err_index(e: omx_proto::Error) -> u64 {
    use omx_proto::Error::*;
    match e {
        Truncated => 0,
        BufferTooSmall => 1,
        WrongEtherType(_) => 2,
        BadLength => 3,
        BadMessage => 4,
        MaskMismatch => 5,
        TooManyMessages => 6,
        _ => 7,
    }
}

fn check_payload(data: &[u8], order: ByteOrder, strict: bool) -> u64 {
    let view = match FrameView::parse(data, order, strict) {
        Ok(v) => v,
        Err(e) => return 1 << (30 + err_index(e)),
    };
    let mut sig = 1u64 << 29 | (view.message_count().min(15) as u64) << 25;
    let mut count = 0usize;
    let mut out = [0u8; 9200];
    let limits = FrameLimits {
        mtu: 9000,
        ..FrameLimits::default()
    };
    let mut b = match FrameBuilder::new(&mut out, None, limits, order) {
        Ok(b) => b,
        Err(_) => return sig,
    };
    let mut next = 1usize;
    for (start, m) in view.positioned() {
        count += 1;
        sig |= 1 << ((m.chan as u64 - 1) * 5 + u64::from(m.opcode.to_bits() % 5));
        assert!(m.validate().is_ok(), "decoded message must validate");
        let mut buf = [0u8; 64];
        let _ = m.data.copy_to(&mut buf);
        let _ = m.data.byte_enabled(3);
        if start > next {
            let _ = b.push_padding(start - next);
        }
        let _ = b.push(&m);
        next = start.saturating_add(m.flits());
    }
    assert_eq!(count, view.message_count());
    if strict {
        assert_eq!(view.computed_mask(), view.mask);
    }
    if let Ok(n) = b.finish(&view.header) {
        // Re-encoded frames decode to the same messages.
        let again = FrameView::parse(&out[..n], order, true).expect("re-encoded frame must parse");
        assert_eq!(again.message_count(), view.message_count());
        for (a, b) in again.messages().zip(view.messages()) {
            assert!(a == b, "re-encoded message differs");
        }
    }
    sig
}

/// A tiny cursor over the fuzz input.
struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    fn u8(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from(self.u8()?) << 8 | u16::from(self.u8()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from(self.u16()?) << 16 | u32::from(self.u16()?))
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let end = self.pos.saturating_add(n).min(self.data.len());
        let s = &self.data[self.pos..end];
        self.pos = end;
        s
    }
}

const SLOTS: usize = 8;
type Conn<'m> = Connection<&'m mut [u8], &'m mut [SlotMeta]>;

fn message<'d>(inp: &mut Input<'_>, payload: &'d [u8; 1024]) -> Option<Message<'d>> {
    let kind = inp.u8()?;
    let size = inp.u8()? % 11;
    let source = u32::from(inp.u16()?);
    let addr = u64::from(inp.u32()?) << 6;
    let len = 1usize << size;
    Some(match kind % 6 {
        0 => Message::get(source, addr, size),
        1 => Message::put_full(source, addr, &payload[..len]),
        2 => Message::access_ack(source, size),
        3 => Message::access_ack_data(source, size, &payload[..len.max(8)]),
        4 => Message::intent(source, addr, size, kind >> 7),
        _ => Message::logical(source, addr, u8::from(kind & 0x80 != 0), &payload[..len]),
    })
}

/// Receive state machine target: two connections (version, byte order,
/// MTU, timers chosen by the input) exchange frames under an op-script that
/// injects garbage, corrupts, drops, duplicates and crafts frames around the
/// expected sequence number, and advances time.
pub fn receive(data: &[u8]) -> u64 {
    let mut inp = Input { data, pos: 0 };
    let Some(flags) = inp.u8() else { return 0 };
    let version = if flags & 1 != 0 {
        Version::V1_1
    } else {
        Version::V1_0_3
    };
    let mut cfg = Config::new(version);
    cfg.order = if flags & 2 != 0 {
        ByteOrder::Raw
    } else {
        ByteOrder::Spec
    };
    cfg.mtu = if flags & 4 != 0 { 9000 } else { 1500 };
    cfg.strict_mask = flags & 8 == 0;
    cfg.max_start_flit = if flags & 16 != 0 {
        1 + (flags >> 5)
    } else {
        64
    };
    cfg.rto_ns = 1000;
    cfg.ack_delay_ns = 100;
    cfg.nak_holdoff_ns = 300;
    cfg.max_retransmits = 4;
    cfg.close_timeout_ns = 5000;
    cfg.start_seq = u32::from(inp.u16().unwrap_or(0)) << 8;
    cfg.window = u32::from(inp.u8().unwrap_or(8)).max(1);
    cfg.rx_buffer_flits = [256; 5];
    let mut cfg_b = cfg.clone();
    cfg.ethernet = Some(EthHeader::new([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1]));
    cfg_b.ethernet = Some(EthHeader::new([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]));

    let mut mem_a = [0u8; 9000 * SLOTS];
    let mut mem_b = [0u8; 9000 * SLOTS];
    let mut slots_a = [SlotMeta::EMPTY; SLOTS];
    let mut slots_b = [SlotMeta::EMPTY; SLOTS];
    let Ok(mut a) = Conn::new(cfg, &mut mem_a[..], &mut slots_a[..]) else {
        return 0;
    };
    let Ok(mut b) = Conn::new(cfg_b, &mut mem_b[..], &mut slots_b[..]) else {
        return 0;
    };
    let payload: [u8; 1024] = core::array::from_fn(|i| i as u8);
    let mut now = 0u64;
    let mut buf = [0u8; 9100];
    let mut tampered = false;
    let mut sent: [u32; 64] = [0; 64];
    let mut n_sent = 0usize;
    let mut n_got = 0usize;

    while let Some(op) = inp.u8() {
        match op % 12 {
            0 => {
                let n = usize::from(inp.u8().unwrap_or(0)) * 4;
                let raw = inp.bytes(n);
                tampered = true;
                let _ = b.on_payload(raw, now);
            }
            1 => {
                if let Some(m) = message(&mut inp, &payload) {
                    if a.send(&m, now).is_ok() && m.chan == Channel::A && n_sent < sent.len() {
                        sent[n_sent] = m.source;
                        n_sent += 1;
                    }
                }
            }
            2 => {
                if let Some(m) = message(&mut inp, &payload) {
                    let _ = b.send(&m, now);
                }
            }
            3 | 4 => {
                // A -> B, with per-frame fate chosen by the input.
                let fates = inp.u8().unwrap_or(0);
                let mut i = 0u32;
                while let Ok(Some(n)) = a.poll_transmit(now, &mut buf) {
                    let fate = (fates >> (i % 4 * 2)) & 3;
                    i += 1;
                    if i > 64 {
                        break;
                    }
                    match fate {
                        0 | 1 => {
                            if let Ok(rx) = b.on_frame(&buf[..n], now) {
                                for m in rx.messages().filter(|m| m.chan == Channel::A) {
                                    if !tampered && n_got < n_sent {
                                        assert_eq!(m.source, sent[n_got], "delivery out of order");
                                    }
                                    n_got += 1;
                                }
                            }
                        }
                        2 => {} // lost
                        _ => {
                            // corrupted
                            let k = usize::from(inp.u16().unwrap_or(0)) % n;
                            buf[k] ^= inp.u8().unwrap_or(1) | 1;
                            tampered = true;
                            let _ = b.on_frame(&buf[..n], now);
                        }
                    }
                }
            }
            5 | 6 => {
                let fates = inp.u8().unwrap_or(0);
                let mut i = 0u32;
                while let Ok(Some(n)) = b.poll_transmit(now, &mut buf) {
                    i += 1;
                    if i > 64 {
                        break;
                    }
                    if (fates >> (i % 8)) & 1 == 0 {
                        let _ = a.on_frame(&buf[..n], now);
                    }
                }
            }
            7 => now = now.saturating_add(u64::from(inp.u16().unwrap_or(1))),
            8 => {
                if let Some(d) = a.next_deadline() {
                    now = now.max(d);
                }
                a.poll(now);
            }
            9 => {
                // A crafted frame for B near its expected sequence number.
                let delta = inp.u8().unwrap_or(0) as i8;
                let t = inp.u8().unwrap_or(0);
                let mut h = TloeHeader::new(
                    b.next_rx_seq().add(delta as i32 as u32),
                    Seq::new(inp.u32().unwrap_or(0)),
                    t & 1 != 0,
                );
                h.msg_type = omx_proto::MessageType::from_bits(t >> 4);
                h.credit_chan = (t >> 1) & 7;
                h.credit = inp.u8().unwrap_or(0) & 31;
                let mut fb =
                    FrameBuilder::new(&mut buf, None, FrameLimits::default(), ByteOrder::Spec)
                        .unwrap();
                if let Some(m) = message(&mut inp, &payload) {
                    let _ = fb.push(&m);
                }
                if let Ok(n) = fb.finish(&h) {
                    tampered = true;
                    let _ = b.on_payload(&buf[..n], now);
                }
            }
            10 => {
                let _ = a.open(now);
                if inp.u8().unwrap_or(0) & 1 != 0 {
                    let _ = b.open(now);
                }
            }
            _ => {
                let _ = a.close(now);
                if inp.u8().unwrap_or(0) & 1 != 0 {
                    let _ = b.close(now);
                }
            }
        }
        for c in [&a, &b] {
            assert!(c.unacked_frames() <= SLOTS);
            if let Some(d) = c.next_deadline() {
                let _ = d;
            }
            if c.state() == State::Dead {
                assert!(c.next_deadline().is_none());
            }
        }
    }
    let mut sig = u64::from(flags & 1);
    for (i, c) in [&a, &b].into_iter().enumerate() {
        let s = c.stats();
        let bits = [
            s.frames_accepted,
            s.duplicates,
            s.out_of_order,
            s.naks_tx,
            s.naks_rx,
            s.gobacks,
            s.timeouts,
            s.rx_errors,
            s.ack_only_tx,
            s.frames_retx,
            s.msgs_rx,
            s.rx_ignored,
            s.out_of_window,
        ];
        for (k, v) in bits.iter().enumerate() {
            if *v > 0 {
                sig |= 1 << (1 + i * 16 + k);
            }
        }
        sig |= (c.state() as u64) << (40 + i * 4);
    }
    sig
}
