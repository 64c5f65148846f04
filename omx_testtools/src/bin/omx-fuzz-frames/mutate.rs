//! Mutations of valid frames: bit flips, random bytes, TLoE header and TileLink message
//! fields, the frame mask, lengths (whole flits and odd bytes), duplicated, swapped and zeroed
//! flits, an 802.1Q tag. And truncation.

use crate::craft::ETH_LEN;
use omx_rng::Rng;

/// Names of the mutation operators, in the order of the counters.
pub const OP_NAMES: [&str; 12] = [
    "bit_flip",
    "random_byte",
    "tloe_field",
    "message_field",
    "frame_mask",
    "extend",
    "shrink",
    "odd_length",
    "duplicate_flit",
    "swap_flits",
    "vlan_tag",
    "zero_flits",
];

/// Where the TLoE payload starts (after one 802.1Q / 802.1ad tag, if any).
pub fn eth_len(f: &[u8]) -> usize {
    match f.get(12..14) {
        Some([0x81, 0x00]) | Some([0x88, 0xA8]) => ETH_LEN + 4,
        _ => ETH_LEN,
    }
}

fn set_bits(w: u64, hi: u32, lo: u32, v: u64) -> u64 {
    let mask = ((1u64 << (hi - lo + 1)) - 1) << lo;
    (w & !mask) | ((v << lo) & mask)
}

fn flit(f: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&f[at..at + 8]);
    u64::from_be_bytes(b)
}

fn put_flit(f: &mut [u8], at: usize, w: u64) {
    f[at..at + 8].copy_from_slice(&w.to_be_bytes());
}

/// Applies one to three random operators to the Ethernet frame `f`, which stays at most
/// `max_len` bytes (4 more with a VLAN tag). Counts the operators used in `counts`.
pub fn mutate(f: &mut Vec<u8>, rng: &mut Rng, max_len: usize, counts: &mut [u64; 12]) {
    let n = 1 + rng.below(3);
    for _ in 0..n {
        let op = rng.below(OP_NAMES.len() as u64) as usize;
        counts[op] += 1;
        apply(op, f, rng, max_len);
    }
}

fn apply(op: usize, f: &mut Vec<u8>, rng: &mut Rng, max_len: usize) {
    let start = eth_len(f);
    let pl = f.len().saturating_sub(start);
    let flits = pl / 8;
    // Payload offset of a random whole flit (None if there is none).
    let pick = |rng: &mut Rng| (flits > 0).then(|| start + 8 * rng.below(flits as u64) as usize);
    match op {
        0 if pl > 0 => {
            let i = start + rng.below(pl as u64) as usize;
            f[i] ^= 1 << rng.below(8);
        }
        1 if pl > 0 => {
            let i = start + rng.below(pl as u64) as usize;
            f[i] = match rng.below(3) {
                0 => 0,
                1 => 0xFF,
                _ => rng.next_u64() as u8,
            };
        }
        2 if flits > 0 => {
            // vc, message type, reserved, seq, seq_ack, ack, R, credit channel, credit
            const FIELDS: [(u32, u32); 9] = [
                (63, 61),
                (60, 57),
                (56, 54),
                (53, 32),
                (31, 10),
                (9, 9),
                (8, 8),
                (7, 5),
                (4, 0),
            ];
            let (hi, lo) = FIELDS[rng.below(9) as usize];
            let w = set_bits(flit(f, start), hi, lo, rng.next_u64());
            put_flit(f, start, w);
        }
        3 if flits > 2 => {
            // A flit of the body, read as a message header: channel, opcode, param, size.
            let at = start + 8 * (1 + rng.below(flits as u64 - 2) as usize);
            const FIELDS: [(u32, u32); 5] = [(62, 60), (59, 57), (55, 52), (51, 48), (63, 0)];
            let (hi, lo) = FIELDS[rng.below(5) as usize];
            let w = set_bits(flit(f, at), hi, lo, rng.next_u64());
            put_flit(f, at, w);
        }
        4 if flits > 0 => {
            let at = start + 8 * (flits - 1);
            let w = match rng.below(4) {
                0 => 0,
                1 => u64::MAX,
                2 => flit(f, at) ^ (1 << rng.below(64)),
                _ => rng.next_u64(),
            };
            put_flit(f, at, w);
        }
        5 => {
            let add = (8 * (1 + rng.below(4)) as usize).min(max_len.saturating_sub(f.len()));
            let old = f.len();
            f.resize(old + add, 0);
            if rng.chance(0.5) {
                rng.fill(&mut f[old..]);
            }
        }
        6 if flits > 0 => {
            let cut = 8 * (1 + rng.below(flits.min(4) as u64) as usize);
            f.truncate(f.len() - cut);
        }
        7 => {
            let k = 1 + rng.below(7) as usize;
            if rng.chance(0.5) && pl >= k {
                f.truncate(f.len() - k);
            } else if f.len() + k <= max_len {
                let old = f.len();
                f.resize(old + k, 0);
                rng.fill(&mut f[old..]);
            }
        }
        8 if flits > 0 && f.len() + 8 <= max_len => {
            if let (Some(from), Some(to)) = (pick(rng), pick(rng)) {
                let w = f[from..from + 8].to_vec();
                f.splice(to..to, w);
            }
        }
        9 => {
            if let (Some(a), Some(b)) = (pick(rng), pick(rng)) {
                let (wa, wb) = (flit(f, a), flit(f, b));
                put_flit(f, a, wb);
                put_flit(f, b, wa);
            }
        }
        10 if start == ETH_LEN => {
            let tci = if rng.chance(0.5) {
                0
            } else {
                rng.next_u64() as u16
            };
            let mut tag = vec![0x81, 0x00];
            tag.extend_from_slice(&tci.to_be_bytes());
            f.splice(12..12, tag);
        }
        11 => {
            if let (Some(a), Some(b)) = (pick(rng), pick(rng)) {
                let (a, b) = (a.min(b), a.max(b) + 8);
                f[a..b].fill(0);
            }
        }
        _ => {}
    }
}

/// Cuts the frame short: below the TLoE minimum, at a flit boundary (the mask is lost), or
/// anywhere.
pub fn truncate(f: &mut Vec<u8>, rng: &mut Rng) {
    let start = eth_len(f);
    let pl = f.len().saturating_sub(start) as u64;
    if pl == 0 {
        return;
    }
    let keep = match rng.below(10) {
        0..=2 => rng.below(pl.min(48)),
        3..=5 => 8 * rng.below(pl.div_ceil(8)),
        _ => rng.below(pl),
    };
    f.truncate(start + keep as usize);
}
