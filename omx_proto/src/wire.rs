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

/// Largest piece [`copy_bytes`] hands to `memcpy` at once.
const COPY_PIECE: usize = 1024;

/// Copies `src` into `dst`, of the same length (`None` otherwise); with the
/// `piecewise-copy` feature (userspace), in pieces of at most [`COPY_PIECE`] bytes.
///
/// glibc's `memcpy` moves copies from 2-8 KiB up (its `rep_movsb_threshold`, by vector
/// width) with `rep movsb`, which a CPU emulated by QEMU's TCG runs byte by byte: a whole
/// 8.3 KB frame took 17 us under `qemu-x86_64 -cpu max`, in 1 KiB pieces 3.5 us (0.33 and
/// 0.31 us natively). That copy of each frame into the transmit ring was a quarter of a pool
/// node's CPU streaming 8 KiB answers in the VMs. The kernel's `memcpy` never uses `rep
/// movsb` without FSRM, and there the pieces cost more: omx_mod's 1 MiB writes at MTU 9000
/// lost 15-20 % with them (measured, not understood), so it copies whole frames.
pub fn copy_bytes(dst: &mut [u8], src: &[u8]) -> Option<()> {
    if dst.len() != src.len() {
        return None;
    }
    if cfg!(feature = "piecewise-copy") {
        for (d, s) in dst.chunks_mut(COPY_PIECE).zip(src.chunks(COPY_PIECE)) {
            d.copy_from_slice(s);
        }
    } else {
        dst.copy_from_slice(src);
    }
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
    fn copies_in_pieces() {
        // Lengths around the piece size, and a frame's.
        for len in [0, 1, COPY_PIECE - 1, COPY_PIECE, COPY_PIECE + 1, 8_318] {
            let src: [u8; 8_318] = core::array::from_fn(|i| (i * 7 + i / 251) as u8);
            let mut dst = [0u8; 8_318];
            assert_eq!(copy_bytes(&mut dst[..len], &src[..len]), Some(()));
            assert_eq!(dst[..len], src[..len]);
            assert!(dst[len..].iter().all(|&b| b == 0));
        }
        assert_eq!(copy_bytes(&mut [0u8; 3], &[1, 2]), None);
    }

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
