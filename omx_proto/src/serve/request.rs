//! One TileLink request carried out on a client's region, and its response.
//!
//! Whether a response can be sent is known before its request runs ([`response_opcode`]):
//! a request is carried out only when its answer can go at once, so nothing is ever
//! executed twice or answered late.

use super::super::identity;
use super::super::tilelink::{Channel, Message, Opcode, INTENT_RELEASE};
use super::{Region, ServeStats};

/// Largest data block ever returned (2^15, the size field's limit).
const MAX_DATA: usize = 1 << 15;
/// The data of denied responses and of the probes [`super::Responder`] asks with.
pub(super) static ZEROS: [u8; MAX_DATA] = [0u8; MAX_DATA];

/// Bytes of a message of size field `size`.
pub(super) fn data_len(size: u8) -> usize {
    1usize << size.min(15)
}

fn sign_extend(v: u64, bits: u32) -> i64 {
    let sh = 64 - bits;
    ((v << sh) as i64) >> sh
}

/// Computes a TileLink atomic on an `n`-byte little-endian value; `None` for an undefined
/// param.
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

/// Where a response's data comes from.
pub(super) enum Src {
    None,
    Region(usize),
    Zero,
    Inline([u8; 8]),
    /// The client's contents identity (`identity`).
    Identity([u8; identity::LEN]),
}

/// What [`execute`] did with a request, to be answered.
pub(super) struct Response {
    pub(super) opcode: Opcode,
    pub(super) source: u32,
    pub(super) size: u8,
    pub(super) err: u8,
    pub(super) src: Src,
    /// An omx release (Intent [`INTENT_RELEASE`]) of the region's `2^size` bytes at this
    /// offset: the caller gives the memory back ([`Region::release_range`]).
    pub(super) release: Option<usize>,
}

/// Counts a denied request and makes its response say so.
fn deny(r: &mut Response, stats: &mut ServeStats, denied: &mut u64, data: bool) {
    stats.denied += 1;
    *denied += 1;
    // TileLink: a denied response with data must also be corrupt.
    if data {
        r.err = 3;
        r.src = Src::Zero;
    } else {
        r.err = 2;
        r.src = Src::None;
    }
}

/// Executes one request on `region` (empty when the client has none), counting it in
/// `stats` and in the client's `requests` and `denied`. Returns the response, or `None` for
/// messages that get none.
pub(super) fn execute(
    msg: &Message<'_>,
    region: &mut impl Region,
    stats: &mut ServeStats,
    requests: &mut u64,
    denied: &mut u64,
) -> Option<Response> {
    if msg.chan != Channel::A {
        // GrantAck (E) and anything on B/C: nothing to answer.
        if msg.chan != Channel::E {
            stats.requests[6] += 1;
        }
        return None;
    }
    *requests += 1;
    let n = data_len(msg.size);
    let addr = msg.address;
    let mem = region.bytes_mut();
    let in_range = usize::try_from(addr)
        .ok()
        .filter(|a| a % n == 0)
        .and_then(|a| a.checked_add(n).filter(|e| *e <= mem.len()).map(|_| a));
    let mut resp = Response {
        opcode: Opcode::AccessAck,
        source: msg.source,
        size: msg.size,
        err: 0,
        src: Src::None,
        release: None,
    };
    match msg.opcode {
        Opcode::Get if addr == identity::ADDR && msg.size == identity::SIZE_LOG2 => {
            stats.requests[0] += 1;
            resp.opcode = Opcode::AccessAckData;
            match region.identity() {
                Some(id) => resp.src = Src::Identity(id.to_bytes()),
                None => deny(&mut resp, stats, denied, true),
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
                None => deny(&mut resp, stats, denied, true),
            }
        }
        Opcode::PutFullData => {
            stats.requests[1] += 1;
            match in_range {
                Some(a) => {
                    if region.keeps_write() {
                        msg.data.copy_to(&mut region.bytes_mut()[a..a + n]);
                    }
                    stats.data_written += n as u64;
                }
                None => deny(&mut resp, stats, denied, false),
            }
        }
        Opcode::PutPartialData => {
            stats.requests[2] += 1;
            match in_range {
                Some(a) => {
                    if region.keeps_write() {
                        put_partial(msg, &mut region.bytes_mut()[a..a + n]);
                    }
                    stats.data_written += n as u64;
                }
                None => deny(&mut resp, stats, denied, false),
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
                    let cell = &mut region.bytes_mut()[a..a + n];
                    let mut old = [0u8; 8];
                    old[..n].copy_from_slice(cell);
                    match atomic(
                        msg.opcode,
                        msg.param,
                        u64::from_le_bytes(old),
                        u64::from_le_bytes(operand),
                        n,
                    ) {
                        Some(new) => {
                            cell.copy_from_slice(&new.to_le_bytes()[..n]);
                            resp.src = Src::Inline(old);
                            stats.data_written += n as u64;
                        }
                        None => deny(&mut resp, stats, denied, true),
                    }
                }
                None => deny(&mut resp, stats, denied, true),
            }
        }
        Opcode::Intent => {
            stats.requests[5] += 1;
            resp.opcode = Opcode::HintAck;
            match in_range {
                Some(a) if msg.param == INTENT_RELEASE => resp.release = Some(a),
                Some(_) => {}
                None => deny(&mut resp, stats, denied, false),
            }
        }
        _ => {
            // AcquireBlock / AcquirePerm: this node is not a coherence manager; answer with
            // a denied Grant (no data).
            stats.requests[6] += 1;
            resp.opcode = Opcode::Grant;
            deny(&mut resp, stats, denied, false);
        }
    }
    Some(resp)
}

/// Writes the bytes of a PutPartialData its mask selects into `dst`.
fn put_partial(msg: &Message<'_>, dst: &mut [u8]) {
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
}

/// The response message of opcode `op` to request `source` of size `size`.
pub(super) fn response_message(
    op: Opcode,
    source: u32,
    size: u8,
    err: u8,
    data: &[u8],
) -> Message<'_> {
    let mut m = match op {
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
pub(super) fn response_opcode(msg: &Message<'_>) -> Option<Opcode> {
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

/// The data `resp` carries, read from `region` (after [`execute`] ran).
pub(super) fn response_data<'a>(resp: &'a Response, region: &'a impl Region) -> &'a [u8] {
    let n = data_len(resp.size);
    match &resp.src {
        Src::None => &[],
        Src::Region(a) => &region.bytes()[*a..*a + n],
        Src::Zero => &ZEROS[..n],
        Src::Inline(b) => &b[..n.min(8)],
        Src::Identity(b) => &b[..n.min(identity::LEN)],
    }
}
