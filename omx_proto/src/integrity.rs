//! omx's frame integrity trailer: a CRC-32C over the whole TLoE payload, for corruption that
//! the Ethernet FCS cannot see (a bit flipped in a NIC's, switch's or host's memory before the
//! FCS is computed, or by a software bridge). TLoE itself has no checksum: a flipped data bit
//! is stored, a flipped source id or address misdirects a message.
//!
//! This is an omx extension, off by default ([`crate::Config::integrity`]): with it, every
//! frame of a connection ends with one more flit after the frame mask, [`MAGIC`] in its upper
//! half and the CRC-32C (Castagnoli) of all the TLoE bytes before it in its lower half, both
//! big-endian. A frame whose trailer is missing or wrong is dropped like a lost frame, and
//! Go-Back-N retransmits it. Peers that do not know the extension cannot parse such frames,
//! so both ends must agree: omx-node follows what the client's first frame does.

/// Bytes the trailer adds to every frame.
pub const LEN: usize = 8;
/// Upper half of the trailer flit ("OMXI").
pub const MAGIC: u32 = 0x4F4D_5849;

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

/// The trailer for TLoE payload `payload`.
pub fn trailer(payload: &[u8]) -> [u8; LEN] {
    let mut t = [0u8; LEN];
    t[..4].copy_from_slice(&MAGIC.to_be_bytes());
    t[4..].copy_from_slice(&crc32c(payload).to_be_bytes());
    t
}

/// The TLoE payload without its trailer if `frame` (a TLoE payload with trailer) carries a
/// valid one, else `None`.
pub fn strip(frame: &[u8]) -> Option<&[u8]> {
    let split = frame.len().checked_sub(LEN)?;
    let (payload, t) = frame.split_at(split);
    (t == trailer(payload)).then_some(payload)
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
    fn strip_accepts_only_intact_frames() {
        let payload = [7u8; 48];
        let mut frame = [0u8; 56];
        frame[..48].copy_from_slice(&payload);
        frame[48..].copy_from_slice(&trailer(&payload));
        assert_eq!(strip(&frame), Some(&payload[..]));
        for bit in 0..frame.len() * 8 {
            let mut bad = frame;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(strip(&bad), None, "bit {bit}");
        }
        assert_eq!(strip(&payload), None);
        assert_eq!(strip(&[1, 2, 3]), None);
    }
}
