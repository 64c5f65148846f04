//! Frames with the source MAC of a registered peer. OmniXtend has no authentication: a
//! well-formed frame carrying the next expected sequence number, or acknowledging frames
//! still in flight, is indistinguishable from the peer's own and would be obeyed (that is
//! MACsec's job). So a spoofed frame that omx_proto would accept is given sequence numbers
//! far from the live ones (learned by sniffing): the receiver must classify it as a
//! duplicate or as from the future and ignore its acknowledgement. Without fresh sequence
//! numbers it is made malformed instead. A 1.1 OpenConnection from a client's MAC is a
//! reconnect by design, so well-formed spoofed frames never carry that message type, and
//! malformed ones only when asked to (`--spoof-open`: nothing may act on a malformed frame).

use crate::mutate::eth_len;
use crate::sniff::Sniffer;
use omx_node::util::Mac;
use omx_proto::{ByteOrder, FrameView, MessageType, Seq, TloeHeader};
use omx_rng::Rng;

/// Sniffed sequence numbers older than this are not trusted (ns).
const MAX_AGE: u64 = 2_000_000_000;
/// Distance kept from the live sequence numbers: far more frames than either side sends
/// while the sniffed value ages (both stay within half the 22-bit space).
const MARGIN: u32 = 1 << 16;

/// What was done to a spoofed frame.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Malformed already: no receiver gets past decoding it.
    Malformed,
    /// Well formed, now with stale sequence numbers.
    Stale,
    /// Well formed, made malformed (no fresh sequence numbers known).
    Broken,
}

/// A sequence number at least [`MARGIN`] behind `live` or far ahead of it.
fn stale(live: u32, rng: &mut Rng) -> Seq {
    let s = Seq::new(live);
    if rng.chance(0.5) {
        s.sub(MARGIN + rng.below(1 << 20) as u32)
    } else {
        s.add((1 << 20) + rng.below(1 << 19) as u32)
    }
}

/// Makes the frame `f` from `peer` to `target` harmless by design (see the module doc).
pub fn sanitize(
    f: &mut Vec<u8>,
    (peer, target): (Mac, Mac),
    sniff: &Sniffer,
    rng: &mut Rng,
    allow_open: bool,
    now: u64,
) -> Verdict {
    let start = eth_len(f);
    if f.len() < start + 8 || f.get(start - 2..start) != Some(&[0xAA, 0xAA]) {
        return Verdict::Malformed;
    }
    let mut w = [0u8; 8];
    w.copy_from_slice(&f[start..start + 8]);
    let mut h = TloeHeader::from_flit(u64::from_be_bytes(w));
    let valid = FrameView::parse(&f[start..], ByteOrder::Spec, false).is_ok();
    if h.vc == 0 && h.msg_type == MessageType::OpenConnection && (valid || !allow_open) {
        h.msg_type = MessageType::Normal;
    }
    let verdict = if !valid {
        Verdict::Malformed
    } else {
        let into = sniff.stream(&peer, &target, now, MAX_AGE);
        let back = sniff.stream(&target, &peer, now, MAX_AGE);
        match (into, back) {
            (Some(into), Some(back)) => {
                h.seq = stale(into, rng);
                h.seq_ack = stale(back, rng);
                Verdict::Stale
            }
            _ => Verdict::Broken,
        }
    };
    f[start..start + 8].copy_from_slice(&h.to_flit().to_be_bytes());
    if verdict == Verdict::Broken {
        // A payload that is not whole flits is dropped before anything reads it.
        let cut = 1 + rng.below(7) as usize;
        f.truncate(f.len() - cut);
    }
    verdict
}
