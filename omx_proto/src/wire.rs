//! Big-endian 64-bit flit helpers.
//!
//! OmniXtend frames are sequences of 64-bit words ("flits"), each sent most
//! significant byte first (spec §6). All accessors are bounds-checked and
//! never panic.

/// Bytes per flit.
pub const FLIT_BYTES: usize = 8;

/// Byte range of flit `idx`, if it does not overflow.
fn flit_range(idx: usize) -> Option<(usize, usize)> {
    let start = idx.checked_mul(FLIT_BYTES)?;
    let end = start.checked_add(FLIT_BYTES)?;
    Some((start, end))
}

/// Reads flit `idx` (0-based) of `buf` as a big-endian `u64`.
pub fn read_flit(buf: &[u8], idx: usize) -> Option<u64> {
    let (start, end) = flit_range(idx)?;
    let bytes: [u8; 8] = buf.get(start..end)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// Returns the 8 raw bytes of flit `idx`.
pub fn flit_bytes(buf: &[u8], idx: usize) -> Option<[u8; 8]> {
    let (start, end) = flit_range(idx)?;
    buf.get(start..end)?.try_into().ok()
}

/// Writes `value` big-endian into flit `idx` of `buf`.
pub fn write_flit(buf: &mut [u8], idx: usize, value: u64) -> Option<()> {
    write_flit_bytes(buf, idx, value.to_be_bytes())
}

/// Writes 8 raw bytes into flit `idx` of `buf`.
pub fn write_flit_bytes(buf: &mut [u8], idx: usize, bytes: [u8; 8]) -> Option<()> {
    let (start, end) = flit_range(idx)?;
    buf.get_mut(start..end)?.copy_from_slice(&bytes);
    Some(())
}

/// Extracts bits `hi..=lo` of `v` (inclusive, `hi >= lo`, `hi < 64`).
pub const fn bits(v: u64, hi: u32, lo: u32) -> u64 {
    let width = hi.wrapping_sub(lo).wrapping_add(1);
    let mask = if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width).wrapping_sub(1)
    };
    (v >> (lo & 63)) & mask
}

/// Places the low `hi - lo + 1` bits of `field` at bits `hi..=lo`.
pub const fn field(field: u64, hi: u32, lo: u32) -> u64 {
    let width = hi.wrapping_sub(lo).wrapping_add(1);
    let mask = if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width).wrapping_sub(1)
    };
    (field & mask) << (lo & 63)
}

/// Splits `s` at `mid` without panicking.
pub fn split_at_checked(s: &[u8], mid: usize) -> Option<(&[u8], &[u8])> {
    if mid <= s.len() {
        Some(s.split_at(mid))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flits() {
        let mut b = [0u8; 16];
        write_flit(&mut b, 1, 0x0102_0304_0506_0708).unwrap();
        assert_eq!(b[8..], [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(read_flit(&b, 1), Some(0x0102_0304_0506_0708));
        assert_eq!(read_flit(&b, 2), None);
        assert_eq!(read_flit(&b, usize::MAX), None);
        assert!(write_flit(&mut b, 2, 0).is_none());
        assert_eq!(bits(0xF0, 7, 4), 0xF);
        assert_eq!(field(0x1F, 7, 4), 0xF0);
        assert_eq!(bits(u64::MAX, 63, 0), u64::MAX);
    }
}
