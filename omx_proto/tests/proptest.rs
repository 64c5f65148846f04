//! Property tests: encode/decode round trips of arbitrary messages, headers
//! and frames, and decoding arbitrary bytes never panics.

use omx_proto::frame::FrameLimits;
use omx_proto::tilelink::{data_flits, layout, mask_flits, Payload, Second};
use omx_proto::{
    ByteOrder, Channel, Data, EthHeader, FrameBuilder, FrameView, Message, MessageType, Opcode,
    Seq, TloeHeader,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct OwnedMsg {
    chan: Channel,
    opcode: Opcode,
    param: u8,
    size: u8,
    domain: u8,
    err: u8,
    source: u32,
    address: u64,
    sink: u32,
    data: Vec<u8>,
    mask: Vec<u64>,
}

impl OwnedMsg {
    fn msg(&self) -> Message<'_> {
        let mut m = Message::new(self.chan, self.opcode, self.size, self.source);
        m.param = self.param;
        m.domain = self.domain;
        m.err = self.err;
        m.address = self.address;
        m.sink = self.sink;
        if layout(self.chan, self.opcode).payload != Payload::None {
            m.data = Data::Mem {
                bytes: &self.data,
                mask: &self.mask,
            };
        }
        m
    }
}

fn kinds() -> Vec<(Channel, Opcode)> {
    let mut v = Vec::new();
    for ch in Channel::ALL {
        for b in 0..8u8 {
            if let Some(op) = Opcode::from_bits(ch, b) {
                if !v.contains(&(ch, op)) {
                    v.push((ch, op));
                }
            }
        }
    }
    v
}

fn arb_msg(max_size: u8) -> impl Strategy<Value = OwnedMsg> {
    (
        proptest::sample::select(kinds()),
        0..=max_size,
        any::<(u8, u8, u8, u32, u64, u32)>(),
        any::<u64>(),
        any::<bool>(),
    )
        .prop_map(
            move |(
                (chan, opcode),
                size,
                (param, domain, err, source, address, sink),
                seed,
                short,
            )| {
                let l = layout(chan, opcode);
                let e = chan == Channel::E;
                let mut rng = seed;
                let mut next = move || {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    rng
                };
                let dlen = if l.payload == Payload::None {
                    0
                } else if size < 3 && short {
                    1usize << size
                } else {
                    data_flits(size) * 8
                };
                let data: Vec<u8> = (0..dlen).map(|_| next() as u8).collect();
                let mask: Vec<u64> = if l.payload == Payload::Partial {
                    (0..mask_flits(size)).map(|_| next()).collect()
                } else {
                    Vec::new()
                };
                OwnedMsg {
                    chan,
                    opcode,
                    param: if e { 0 } else { param & 15 },
                    size: if e { 0 } else { size },
                    domain: if e { 0 } else { domain },
                    err: if e { 0 } else { err & 3 },
                    source: if e { 0 } else { source & ((1 << 26) - 1) },
                    address: if l.second == Second::Address {
                        address
                    } else {
                        0
                    },
                    sink: if e || l.second == Second::Sink {
                        sink & ((1 << 26) - 1)
                    } else {
                        0
                    },
                    data,
                    mask,
                }
            },
        )
}

fn arb_order() -> impl Strategy<Value = ByteOrder> {
    prop_oneof![Just(ByteOrder::Spec), Just(ByteOrder::Raw)]
}

fn arb_header() -> impl Strategy<Value = TloeHeader> {
    (any::<(u8, u8, u8, u32, u32, bool, u8, u8)>()).prop_map(|(vc, t, r, seq, sa, ack, ch, cr)| {
        TloeHeader {
            vc: vc & 7,
            msg_type: MessageType::from_bits(t & 15),
            reserved: r & 7,
            seq: Seq::new(seq),
            seq_ack: Seq::new(sa),
            ack,
            credit_chan: ch & 7,
            credit: cr & 31,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn message_roundtrip(m in arb_msg(12), order in arb_order()) {
        let msg = m.msg();
        prop_assert!(msg.validate().is_ok());
        let mut buf = vec![0u8; msg.flits() * 8];
        let n = msg.encode(&mut buf, order).unwrap();
        prop_assert_eq!(n, msg.flits());
        let (d, len) = Message::decode(&buf, order).unwrap();
        prop_assert_eq!(len, n);
        prop_assert_eq!(d, msg);
        // memory-order bytes survive both orders
        if !m.data.is_empty() {
            let mut back = vec![0u8; d.data.len()];
            d.data.copy_to(&mut back);
            prop_assert_eq!(&back[..m.data.len()], &m.data[..]);
        }
        // re-encoding the decoded (wire) form gives the same bytes
        let mut buf2 = vec![0u8; buf.len()];
        d.encode(&mut buf2, order).unwrap();
        prop_assert_eq!(&buf, &buf2);
        // too small a buffer is an error, not a panic
        let mut small = vec![0u8; n * 8 - 1];
        prop_assert!(msg.encode(&mut small, order).is_err());
        prop_assert!(Message::decode(&buf2[..n * 8 - 8], order).is_err());
    }

    #[test]
    fn header_roundtrip(h in arb_header()) {
        prop_assert_eq!(TloeHeader::from_flit(h.to_flit()), h);
    }

    #[test]
    fn frame_roundtrip(
        msgs in proptest::collection::vec((arb_msg(7), 0usize..3), 0..70),
        h in arb_header(),
        order in arb_order(),
        mtu in prop_oneof![Just(1500usize), Just(9000usize), 48usize..1600],
        max_start in 1u8..=64,
        vlan in proptest::option::of(any::<u16>()),
    ) {
        let mut buf = vec![0u8; 9100];
        let mut eth = EthHeader::new([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1]);
        eth.vlan_tci = vlan;
        let limits = FrameLimits { mtu, max_start_flit: max_start, ..FrameLimits::default() };
        let mut b = FrameBuilder::new(&mut buf, Some(&eth), limits, order).unwrap();
        let mut packed: Vec<&OwnedMsg> = Vec::new();
        for (m, pad) in &msgs {
            if *pad > 0 && b.push_padding(*pad).is_err() {
                break;
            }
            match b.push(&m.msg()) {
                Ok(()) => packed.push(m),
                Err(omx_proto::Error::FrameFull | omx_proto::Error::TooLarge) => {}
                Err(e) => panic!("{e:?}"),
            }
        }
        prop_assert!(packed.len() <= 64);
        let n = b.finish(&h).unwrap();
        prop_assert!(n - eth.header_len() >= 48);
        prop_assert!(n - eth.header_len() <= limits.max_payload());
        prop_assert_eq!((n - eth.header_len()) % 8, 0);
        let (e2, v) = FrameView::parse_ethernet(&buf[..n], order, true).unwrap();
        prop_assert_eq!(e2, eth);
        prop_assert_eq!(v.header, h);
        prop_assert_eq!(v.message_count(), packed.len());
        prop_assert_eq!(v.computed_mask(), v.mask);
        for ((start, got), want) in v.positioned().zip(&packed) {
            prop_assert!(start <= max_start as usize);
            prop_assert_eq!(got, want.msg());
        }
    }

    #[test]
    fn decode_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600), strict in any::<bool>()) {
        if let Ok(v) = FrameView::parse(&bytes, ByteOrder::Spec, strict) {
            let mut n = 0;
            for m in v.messages() {
                let mut out = vec![0u8; m.data.len()];
                m.data.copy_to(&mut out);
                n += 1;
            }
            prop_assert_eq!(n, v.message_count());
        }
        let _ = FrameView::parse_ethernet(&bytes, ByteOrder::Raw, strict);
    }
}
