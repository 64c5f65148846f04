//! omx's frame integrity trailer: a checksum over the whole TLoE payload, for corruption that
//! the Ethernet FCS cannot see (a bit flipped in a NIC's, switch's or host's memory before the
//! FCS is computed, or by a software bridge). TLoE itself has no checksum: a flipped data bit
//! is stored, a flipped source id or address misdirects a message.
//!
//! This is an omx extension, off by default ([`crate::Config::integrity`]): with it, every
//! frame of a connection ends with one more flit after the frame mask, a magic number naming
//! the [`Check`] in its upper half and the check of all the TLoE bytes before it in its lower
//! half, both big-endian. A frame whose trailer is missing or wrong is dropped like a lost
//! frame, and Go-Back-N retransmits it. Peers that do not know the extension cannot parse
//! such frames, so both ends must agree: omx-node follows what the client's first frame does
//! ([`detect`]).

use core::mem::MaybeUninit;

/// Bytes the trailer adds to every frame.
pub const LEN: usize = 8;

/// The checksum a trailer carries; its magic number says which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// CRC-32C (Castagnoli, as iSCSI and NVMe/TCP digests), magic "OMXI". Table-driven in
    /// software: eight table loads per 8 bytes.
    Crc32c,
    /// The low 32 bits of XXH64 (seed 0), magic "OMXH". One multiply-rotate-multiply per
    /// 8 bytes in four independent lanes: 3.5-4x the CRC's speed in a TCG guest and 6.5x
    /// natively (`scripts/bench/crc32c-speed.sh`). Like any good 32-bit check it misses a
    /// random corruption with odds of 2^-32; unlike CRC-32C it does not guarantee to catch
    /// every burst of up to 32 bits (the Ethernet FCS does that on the wire).
    Xxh64,
}

impl Check {
    /// Both checks, for code that tries each ([`detect`]) and for tests.
    pub const ALL: [Check; 2] = [Check::Crc32c, Check::Xxh64];

    /// The trailer's upper half for this check.
    pub const fn magic(self) -> u32 {
        match self {
            Check::Crc32c => 0x4F4D_5849, // "OMXI"
            Check::Xxh64 => 0x4F4D_5848,  // "OMXH"
        }
    }

    /// The trailer's lower half for TLoE payload `payload`.
    pub fn sum(self, payload: &[u8]) -> u32 {
        match self {
            Check::Crc32c => crc32c(payload),
            Check::Xxh64 => xxh64(payload, 0) as u32,
        }
    }
}

/// Slicing-by-8 tables: `TABLES[0]` is the classic byte table, `TABLES[k][b]` the CRC of byte
/// `b` followed by `k` zero bytes, so eight bytes are folded in with eight independent lookups.
const fn tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82F6_3B78
            } else {
                c >> 1
            };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut s = 1;
    while s < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            i += 1;
        }
        s += 1;
    }
    t
}

static TABLES: [[u32; 256]; 8] = tables();

/// CRC-32C (Castagnoli, reflected, as iSCSI and NVMe/TCP digests) of `data`.
pub fn crc32c(data: &[u8]) -> u32 {
    let t = &TABLES;
    let mut c = !0u32;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let lo = u32::from_le_bytes([w[0], w[1], w[2], w[3]]) ^ c;
        let hi = u32::from_le_bytes([w[4], w[5], w[6], w[7]]);
        c = t[7][(lo & 0xFF) as usize]
            ^ t[6][((lo >> 8) & 0xFF) as usize]
            ^ t[5][((lo >> 16) & 0xFF) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][(hi & 0xFF) as usize]
            ^ t[2][((hi >> 8) & 0xFF) as usize]
            ^ t[1][((hi >> 16) & 0xFF) as usize]
            ^ t[0][(hi >> 24) as usize];
    }
    for &b in words.remainder() {
        c = t[0][((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

fn xxh64_round(acc: u64, input: u64) -> u64 {
    acc.wrapping_add(input.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

fn xxh64_merge(acc: u64, lane: u64) -> u64 {
    (acc ^ xxh64_round(0, lane))
        .wrapping_mul(P1)
        .wrapping_add(P4)
}

fn le64(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(b);
    u64::from_le_bytes(w)
}

/// XXH64 (Yann Collet's xxHash, 64-bit, seed `seed`) of `data`: four independent lanes of one
/// multiply-rotate-multiply per 8 bytes, where a table-driven CRC needs eight table loads.
pub fn xxh64(data: &[u8], seed: u64) -> u64 {
    let mut stripes = data.chunks_exact(32);
    let lanes = (data.len() >= 32).then(|| {
        let mut v = xxh64_lanes(seed);
        for s in &mut stripes {
            xxh64_stripe(&mut v, stripe_words(s));
        }
        v
    });
    xxh64_finish(lanes, seed, data.len(), stripes.remainder())
}

/// A byte a copy may write: `u8`, or `MaybeUninit<u8>` for a buffer fresh from an allocator
/// (a socket buffer's data) that nothing has written yet.
pub trait OutByte: Copy {
    /// The byte holding `b`.
    fn from_byte(b: u8) -> Self;

    /// Sets the byte.
    fn set(&mut self, b: u8) {
        *self = Self::from_byte(b);
    }
}

impl OutByte for u8 {
    fn from_byte(b: u8) -> Self {
        b
    }
}

impl OutByte for MaybeUninit<u8> {
    fn from_byte(b: u8) -> Self {
        MaybeUninit::new(b)
    }
}

/// [`xxh64`] (seed 0) of `src` while copying it to `dst`, which must be as long (`None`
/// otherwise, nothing written): one read of each byte where a copy and then a checksum read it
/// twice. A frame sent with an integrity trailer is checked while it is copied to its socket
/// buffer; under an emulated CPU every load counts.
pub fn xxh64_copy<T: OutByte>(dst: &mut [T], src: &[u8]) -> Option<u64> {
    if dst.len() != src.len() {
        return None;
    }
    let mut stripes = src.chunks_exact(32);
    let mut out = dst.chunks_exact_mut(32);
    let lanes = (src.len() >= 32).then(|| {
        let mut v = xxh64_lanes(0);
        for (s, d) in (&mut stripes).zip(&mut out) {
            // Each word is loaded once, then hashed and stored.
            let words = stripe_words(s);
            xxh64_stripe(&mut v, words);
            for (d, w) in d.chunks_exact_mut(8).zip(words) {
                // A whole array at once: one 8-byte store, not eight.
                if let Ok(d) = <&mut [T; 8]>::try_from(d) {
                    *d = w.to_le_bytes().map(T::from_byte);
                }
            }
        }
        v
    });
    let rest = stripes.remainder();
    for (d, &b) in out.into_remainder().iter_mut().zip(rest) {
        d.set(b);
    }
    Some(xxh64_finish(lanes, 0, src.len(), rest))
}

fn xxh64_lanes(seed: u64) -> [u64; 4] {
    [
        seed.wrapping_add(P1).wrapping_add(P2),
        seed.wrapping_add(P2),
        seed,
        seed.wrapping_sub(P1),
    ]
}

/// The four little-endian words of a 32-byte stripe.
fn stripe_words(s: &[u8]) -> [u64; 4] {
    [
        le64(&s[0..8]),
        le64(&s[8..16]),
        le64(&s[16..24]),
        le64(&s[24..32]),
    ]
}

/// Folds one stripe's words into the four lanes.
fn xxh64_stripe(v: &mut [u64; 4], w: [u64; 4]) {
    v[0] = xxh64_round(v[0], w[0]);
    v[1] = xxh64_round(v[1], w[1]);
    v[2] = xxh64_round(v[2], w[2]);
    v[3] = xxh64_round(v[3], w[3]);
}

/// The hash of `len` bytes from the lanes (`None`: fewer than 32 bytes) and the bytes after
/// the last whole stripe.
fn xxh64_finish(lanes: Option<[u64; 4]>, seed: u64, len: usize, rest: &[u8]) -> u64 {
    let mut h = match lanes {
        Some(v) => {
            let h = v[0]
                .rotate_left(1)
                .wrapping_add(v[1].rotate_left(7))
                .wrapping_add(v[2].rotate_left(12))
                .wrapping_add(v[3].rotate_left(18));
            v.iter().fold(h, |h, &lane| xxh64_merge(h, lane))
        }
        None => seed.wrapping_add(P5),
    };
    h = h.wrapping_add(len as u64);
    let mut words = rest.chunks_exact(8);
    for w in &mut words {
        h = (h ^ xxh64_round(0, le64(w)))
            .rotate_left(27)
            .wrapping_mul(P1)
            .wrapping_add(P4);
    }
    let mut tail = words.remainder();
    if tail.len() >= 4 {
        let mut w = [0u8; 4];
        w.copy_from_slice(&tail[..4]);
        h = (h ^ u64::from(u32::from_le_bytes(w)).wrapping_mul(P1))
            .rotate_left(23)
            .wrapping_mul(P2)
            .wrapping_add(P3);
        tail = &tail[4..];
    }
    for &b in tail {
        h = (h ^ u64::from(b).wrapping_mul(P5))
            .rotate_left(11)
            .wrapping_mul(P1);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

/// The trailer for TLoE payload `payload`.
pub fn trailer(check: Check, payload: &[u8]) -> [u8; LEN] {
    let mut t = [0u8; LEN];
    t[..4].copy_from_slice(&check.magic().to_be_bytes());
    t[4..].copy_from_slice(&check.sum(payload).to_be_bytes());
    t
}

/// Copies TLoE payload `payload` followed by its trailer to the start of `out`, checking it
/// while copying (XXH64: [`xxh64_copy`]); returns the bytes written, or `None` (nothing
/// written) if `out` is too short.
pub fn copy_with_trailer<T: OutByte>(check: Check, out: &mut [T], payload: &[u8]) -> Option<usize> {
    let end = payload.len().checked_add(LEN)?;
    let (body, t) = out.get_mut(..end)?.split_at_mut(payload.len());
    let sum = match check {
        Check::Xxh64 => xxh64_copy(body, payload)? as u32,
        Check::Crc32c => {
            for (d, &b) in body.iter_mut().zip(payload) {
                d.set(b);
            }
            crc32c(payload)
        }
    };
    let magic = check.magic().to_be_bytes();
    for (d, b) in t.iter_mut().zip(magic.into_iter().chain(sum.to_be_bytes())) {
        d.set(b);
    }
    Some(end)
}

/// The TLoE payload without its trailer if `frame` (a TLoE payload with trailer) carries a
/// valid one of `check`, else `None`.
pub fn strip(check: Check, frame: &[u8]) -> Option<&[u8]> {
    let split = frame.len().checked_sub(LEN)?;
    let (payload, t) = frame.split_at(split);
    (t == trailer(check, payload)).then_some(payload)
}

/// The check and the TLoE payload if `frame` ends with a valid trailer of either check, for
/// a server that learns from a client's first frame what it uses. Only the check its magic
/// names is computed.
pub fn detect(frame: &[u8]) -> Option<(Check, &[u8])> {
    let split = frame.len().checked_sub(LEN)?;
    let magic = frame.get(split..split + 4)?;
    let check = Check::ALL
        .into_iter()
        .find(|c| magic == c.magic().to_be_bytes())?;
    Some((check, strip(check, frame)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_check_value() {
        // The standard check value of CRC-32C.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    /// Bit at a time, straight from the definition.
    fn crc32c_bitwise(data: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ 0x82F6_3B78
                } else {
                    c >> 1
                };
            }
        }
        !c
    }

    #[test]
    fn slicing_by_8_matches_the_definition_at_every_length_and_alignment() {
        let data: [u8; 300] =
            core::array::from_fn(|i| (i as u8).wrapping_mul(167).wrapping_add(13));
        for start in 0..9 {
            for end in start..data.len() {
                assert_eq!(
                    crc32c(&data[start..end]),
                    crc32c_bitwise(&data[start..end]),
                    "{start}..{end}"
                );
            }
        }
    }

    #[test]
    fn xxh64_matches_the_reference_at_every_tail_length() {
        // From the reference implementation (python-xxhash 3.x), over the same bytes as above.
        let data: [u8; 300] =
            core::array::from_fn(|i| (i as u8).wrapping_mul(167).wrapping_add(13));
        let seed = 0x0123_4567_89AB_CDEF;
        let expected: [(usize, u64, u64); 17] = [
            (0, 0xef46db3751d8e999, 0x51e24c0e9077a48c),
            (1, 0x2078e1ad38ad738b, 0xdd9601a83502d067),
            (3, 0x634d95fc01a189cd, 0xe4c365bc044a747e),
            (4, 0xeed340908a1ac6c6, 0xb5a2a9728e48da0c),
            (5, 0x342bd7a5f3e2edcd, 0x09608c4a8a506dff),
            (7, 0x0da493621d6dc898, 0x1ec13d441cce956b),
            (8, 0x76f916c7bb523126, 0xd1f0dbff0acfdb8b),
            (9, 0x175d7bee83bd73b9, 0x413e6d4f52e39a22),
            (15, 0x4e1c333b057fb6a4, 0xfe28c70cc92b7aaf),
            (16, 0x7bbeff67699312f6, 0x70ed5103452464de),
            (31, 0x65c5feb01da7464d, 0x3202a071789d8325),
            (32, 0x7665c921c9bf2ec7, 0x479f249c89cf0193),
            (33, 0xb5a9d9ef259ae821, 0xcb5f02aeb2f3af68),
            (63, 0xb0289cd9324034f0, 0xf94d43beaefdaf03),
            (64, 0xfff2525c99bf2005, 0x0592dff3499d78f8),
            (100, 0x74e502db362efd4c, 0x2eb34fbb6c2c25ff),
            (299, 0x35a3e570daaed144, 0x555a156743c3216a),
        ];
        for (len, unseeded, seeded) in expected {
            assert_eq!(xxh64(&data[..len], 0), unseeded, "{len}");
            assert_eq!(xxh64(&data[..len], seed), seeded, "{len} seeded");
        }
        assert_eq!(xxh64(b"abc", 0), 0x44bc_2cf5_ad77_0999);
    }

    #[test]
    fn a_checked_copy_copies_every_byte_and_checks_as_xxh64() {
        let data: [u8; 300] =
            core::array::from_fn(|i| (i as u8).wrapping_mul(167).wrapping_add(13));
        for len in 0..data.len() {
            let src = &data[..len];
            let mut dst = [0u8; 300];
            assert_eq!(
                xxh64_copy(&mut dst[..len], src),
                Some(xxh64(src, 0)),
                "{len}"
            );
            assert_eq!(&dst[..len], src, "{len}");
            assert!(
                dst[len..].iter().all(|&b| b == 0),
                "{len}: wrote past the end"
            );
            // Into a fresh buffer (the same code; its bytes cannot be read without `unsafe`).
            let mut fresh = [MaybeUninit::<u8>::uninit(); 300];
            assert_eq!(xxh64_copy(&mut fresh[..len], src), Some(xxh64(src, 0)));
        }
        let mut short = [0u8; 8];
        assert_eq!(xxh64_copy(&mut short, &data[..9]), None);
        assert_eq!(short, [0; 8], "nothing written on a length mismatch");
    }

    #[test]
    fn a_copy_with_its_trailer_is_what_strip_accepts() {
        let payload: [u8; 200] = core::array::from_fn(|i| (i as u8).wrapping_mul(31));
        for check in Check::ALL {
            for len in [0, 7, 32, 33, 200] {
                let mut out = [0xEEu8; 220];
                assert_eq!(
                    copy_with_trailer(check, &mut out, &payload[..len]),
                    Some(len + LEN)
                );
                assert_eq!(&out[len..len + LEN], &trailer(check, &payload[..len]));
                assert_eq!(strip(check, &out[..len + LEN]), Some(&payload[..len]));
                assert_eq!(
                    out[len + LEN..],
                    [0xEE; 220][len + LEN..],
                    "wrote past the frame"
                );
                let mut short = [0u8; 207];
                assert_eq!(
                    copy_with_trailer(check, &mut short[..len + LEN - 1], &payload[..len]),
                    None
                );
                assert!(
                    short.iter().all(|&b| b == 0),
                    "nothing written when it does not fit"
                );
            }
        }
    }

    #[test]
    fn strip_accepts_only_intact_frames() {
        for check in Check::ALL {
            let payload = [7u8; 48];
            let mut frame = [0u8; 56];
            frame[..48].copy_from_slice(&payload);
            frame[48..].copy_from_slice(&trailer(check, &payload));
            assert_eq!(strip(check, &frame), Some(&payload[..]));
            assert_eq!(detect(&frame), Some((check, &payload[..])));
            for bit in 0..frame.len() * 8 {
                let mut bad = frame;
                bad[bit / 8] ^= 1 << (bit % 8);
                assert_eq!(strip(check, &bad), None, "{check:?} bit {bit}");
                assert_eq!(detect(&bad), None, "{check:?} bit {bit}");
            }
            assert_eq!(strip(check, &payload), None);
            assert_eq!(strip(check, &[1, 2, 3]), None);
            assert_eq!(detect(&payload), None);
        }
    }

    #[test]
    fn a_trailer_of_one_check_is_not_taken_for_the_other() {
        let payload = [0x5Au8; 64];
        let mut frame = [0u8; 72];
        frame[..64].copy_from_slice(&payload);
        frame[64..].copy_from_slice(&trailer(Check::Xxh64, &payload));
        assert_eq!(strip(Check::Crc32c, &frame), None);
        frame[64..].copy_from_slice(&trailer(Check::Crc32c, &payload));
        assert_eq!(strip(Check::Xxh64, &frame), None);
    }
}
