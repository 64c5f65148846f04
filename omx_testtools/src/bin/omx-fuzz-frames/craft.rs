//! Frame generators: valid OmniXtend frames built with omx_proto (the seeds that are
//! mutated, truncated and replayed), frames of random TileLink messages, random bytes.

use omx_node::util::Mac;
use omx_proto::identity;
use omx_proto::tilelink::{data_flits, layout, mask_flits, Data, Payload, MAX_ID};
use omx_proto::{
    ByteOrder, Channel, Error, EthHeader, FrameBuilder, FrameLimits, Message, MessageType, Opcode,
    Seq, TloeHeader, ETHERTYPE_OMNIXTEND,
};
use omx_rng::Rng;

/// Untagged Ethernet header length.
pub const ETH_LEN: usize = 14;
/// Size of the region a pool node lends in the tests: addresses around its end matter.
const REGION: u64 = 128 << 20;

/// Random bytes and PutPartialData masks that messages borrow as their data.
pub struct Scratch {
    bytes: Vec<u8>,
    masks: Vec<u64>,
}

impl Scratch {
    pub fn new(rng: &mut Rng) -> Self {
        let mut bytes = vec![0u8; 1024];
        rng.fill(&mut bytes);
        let masks = (0..16).map(|_| rng.next_u64()).collect();
        Scratch { bytes, masks }
    }
}

/// Memory-order data length of a transfer of `2^size` bytes as omx_proto wants it.
fn data_len(size: u8) -> usize {
    if size < 3 {
        1 << size
    } else {
        data_flits(size) * 8
    }
}

fn random_address(rng: &mut Rng, size: u8) -> u64 {
    let align = 1u64 << size;
    match rng.below(6) {
        0 => rng.below(REGION) & !(align - 1),
        1 => rng.next_u64(),
        2 => identity::ADDR,
        3 => u64::MAX - rng.below(1 << 16),
        // The last block of the region and the first one past it.
        4 => (REGION - align).wrapping_add(rng.below(2) * align),
        _ => rng.below(REGION) | 1,
    }
}

/// A random TileLink message that omx_proto can encode: any channel and opcode, random
/// size, parameters, source, sink and address; data up to 1 KiB so it fits MTU 1500.
pub fn random_message<'a>(rng: &mut Rng, s: &'a Scratch) -> Message<'a> {
    let chan = match rng.below(10) {
        0..=5 => Channel::A,
        6 => Channel::B,
        7 => Channel::C,
        8 => Channel::D,
        _ => Channel::E,
    };
    let opcode = loop {
        if let Some(op) = Opcode::from_bits(chan, rng.below(8) as u8) {
            break op;
        }
    };
    let l = layout(chan, opcode);
    let size = match l.payload {
        Payload::None => rng.below(16) as u8,
        _ => rng.below(11) as u8,
    };
    let mut m = Message::new(chan, opcode, size, rng.below(u64::from(MAX_ID) + 1) as u32);
    m.param = rng.below(16) as u8;
    m.domain = if rng.chance(0.1) {
        rng.next_u64() as u8
    } else {
        0
    };
    m.err = rng.below(4) as u8;
    m.sink = rng.below(u64::from(MAX_ID) + 1) as u32;
    m.address = random_address(rng, size);
    let n = data_len(size);
    m.data = match l.payload {
        Payload::None => Data::None,
        Payload::Data => Data::bytes(&s.bytes[..n]),
        Payload::Partial => Data::Mem {
            bytes: &s.bytes[..n],
            mask: &s.masks[..mask_flits(size)],
        },
    };
    m
}

/// A TLoE header with every field random, weighted towards what receivers act on
/// (virtual channel 0, the 1.1 message types).
pub fn random_header(rng: &mut Rng) -> TloeHeader {
    let msg_type = match rng.below(10) {
        0..=5 => MessageType::Normal,
        6 => MessageType::AckOnly,
        7 => MessageType::OpenConnection,
        8 => MessageType::CloseConnection,
        _ => MessageType::Reserved(4 + rng.below(12) as u8),
    };
    TloeHeader {
        vc: if rng.chance(0.9) {
            0
        } else {
            rng.below(8) as u8
        },
        msg_type,
        reserved: if rng.chance(0.9) {
            0
        } else {
            rng.below(8) as u8
        },
        seq: Seq::new(rng.next_u64() as u32),
        seq_ack: Seq::new(rng.next_u64() as u32),
        ack: rng.chance(0.5),
        credit_chan: rng.below(8) as u8,
        credit: rng.below(32) as u8,
    }
}

/// Builds a frame from `src` to `dst` into `buf`; messages that do not fit are left out.
/// Returns the frame length (0 if `buf` is too small).
pub fn frame_of(
    buf: &mut [u8],
    mtu: usize,
    dst: Mac,
    src: Mac,
    h: &TloeHeader,
    msgs: &[Message<'_>],
) -> usize {
    let eth = EthHeader::new(dst, src);
    let limits = FrameLimits::with_mtu(mtu);
    let Ok(mut b) = FrameBuilder::new(buf, Some(&eth), limits, ByteOrder::Spec) else {
        return 0;
    };
    for m in msgs {
        if let Err(Error::FrameFull) = b.push(m) {
            break;
        }
    }
    b.finish(h).unwrap_or(0)
}

/// A well-formed frame (header as given) of 1..=`max_msgs` random messages, in `out`.
pub fn random_valid_frame(
    out: &mut Vec<u8>,
    mtu: usize,
    (dst, src): (Mac, Mac),
    h: &TloeHeader,
    rng: &mut Rng,
    s: &Scratch,
    max_msgs: u64,
) {
    let n = 1 + rng.below(max_msgs) as usize;
    let msgs: Vec<Message<'_>> = (0..n).map(|_| random_message(rng, s)).collect();
    out.resize(ETH_LEN + mtu, 0);
    let len = frame_of(out, mtu, dst, src, h, &msgs);
    out.truncate(len);
}

/// Random bytes behind an OmniXtend Ethernet header: mostly short, up to a full frame.
pub fn random_bytes(out: &mut Vec<u8>, mtu: usize, dst: Mac, src: Mac, rng: &mut Rng) {
    let payload = if rng.chance(0.4) {
        rng.below(64) as usize
    } else {
        rng.below(mtu as u64 + 1) as usize
    };
    out.clear();
    out.extend_from_slice(&dst);
    out.extend_from_slice(&src);
    out.extend_from_slice(&ETHERTYPE_OMNIXTEND.to_be_bytes());
    out.resize(ETH_LEN + payload, 0);
    rng.fill(&mut out[ETH_LEN..]);
}

/// Valid frames of every kind the two sides exchange, and of kinds they never should (the
/// coherence messages): the seeds of mutation, truncation and replay. Addresses are zero;
/// callers fill them in.
pub fn templates(rng: &mut Rng, s: &Scratch, mtu: usize) -> Vec<Vec<u8>> {
    let d = &s.bytes;
    let mut out = Vec::new();
    let mut buf = vec![0u8; ETH_LEN + mtu];
    for shape in 0..24 {
        let mut h = TloeHeader::new(
            Seq::new(rng.next_u64() as u32),
            Seq::new(rng.next_u64() as u32),
            true,
        );
        let msgs: Vec<Message<'_>> = match shape {
            0 => {
                h.msg_type = MessageType::OpenConnection;
                h.seq = Seq::new(0);
                h.seq_ack = Seq::MAX;
                h.ack = false;
                vec![]
            }
            1 => {
                h.msg_type = MessageType::AckOnly;
                vec![]
            }
            2 => {
                h.msg_type = MessageType::CloseConnection;
                vec![]
            }
            3 => {
                h.set_credit(Some((Channel::D, 13)));
                vec![]
            }
            4 => vec![Message::get(1, 0x1000, 10)],
            5 => vec![Message::get(
                (1 << 26) - 1,
                identity::ADDR,
                identity::SIZE_LOG2,
            )],
            6 => vec![Message::put_full(2, 0x2000, &d[..1024])],
            7 => vec![Message::put_full(3, 0x40, &d[..8])],
            8 => vec![Message::put_partial(4, 0x80, 6, &d[..64], &s.masks[..1])],
            9 => vec![Message::arithmetic(5, 0x100, 4, &d[..8])],
            10 => vec![Message::logical(6, 0x108, 3, &d[..4])],
            11 => vec![Message::intent(7, 0x200, 6, 0)],
            12 => vec![Message::access_ack(8, 10)],
            13 => vec![Message::access_ack_data(9, 10, &d[..1024])],
            14 => vec![Message::hint_ack(0, 6)],
            15 => vec![Message::access_ack_data(10, 4, &d[..16]).denied()],
            16 => (0..64)
                .map(|i| Message::get(i + 1, u64::from(i) * 4096, 10))
                .collect(),
            17 => (0..32).map(|i| Message::access_ack(i + 1, 10)).collect(),
            18 => vec![Message::new(Channel::A, Opcode::AcquireBlock, 6, 11)],
            19 => {
                let mut g = Message::new(Channel::D, Opcode::Grant, 6, 12);
                g.sink = 99;
                vec![g]
            }
            20 => vec![Message::new(Channel::E, Opcode::GrantAck, 0, 0)],
            21 => vec![Message::new(Channel::C, Opcode::ProbeAck, 6, 13)],
            22 => vec![Message::new(Channel::B, Opcode::ProbeBlock, 6, 14)],
            _ => (0..8).map(|_| random_message(rng, s)).collect(),
        };
        let n = frame_of(&mut buf, mtu, [0; 6], [0; 6], &h, &msgs);
        if n > 0 {
            out.push(buf[..n].to_vec());
        }
    }
    out
}
