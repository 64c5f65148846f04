//! Speed of omx's integrity checks (`omx_proto::integrity`: XXH64 and the portable CRC-32C,
//! slicing-by-8) and of the SSE4.2 `crc32` instruction, over frame-sized buffers: which check
//! is cheapest where omx runs (`scripts/bench/crc32c-speed.sh` runs this on the host and in a
//! guest: under TCG the instruction is emulated).

use std::hint::black_box;
use std::time::Instant;

/// CRC-32C with the SSE4.2 instruction, eight bytes at a time.
///
/// # Safety
/// The CPU must have SSE4.2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
unsafe fn crc32c_sse42(data: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_crc32_u64, _mm_crc32_u8};
    let mut c = u64::from(!0u32);
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        c = _mm_crc32_u64(c, u64::from_le_bytes(b));
    }
    // The instruction keeps the CRC in the low 32 bits.
    let mut c = c as u32;
    for &b in words.remainder() {
        c = _mm_crc32_u8(c, b);
    }
    !c
}

/// MB/s of `f` over `frame`, repeated for about `secs`.
fn speed(frame: &[u8], secs: f64, f: impl Fn(&[u8]) -> u32) -> f64 {
    let start = Instant::now();
    let mut bytes = 0usize;
    while start.elapsed().as_secs_f64() < secs {
        for _ in 0..100 {
            black_box(f(black_box(frame)));
        }
        bytes += 100 * frame.len();
    }
    bytes as f64 / start.elapsed().as_secs_f64() / 1e6
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    // A full MTU-1500 frame of omx (1 KiB data messages), and a jumbo frame's 4 KiB page.
    for len in [1070usize, 4200] {
        let frame: Vec<u8> = (0..len).map(|i| (i * 167 + 13) as u8).collect();
        let soft = speed(&frame, secs, omx_proto::integrity::crc32c);
        let xxh = speed(&frame, secs, |d| omx_proto::integrity::xxh64(d, 0) as u32);
        println!(
            "{len} B: xxh64 {xxh:.0} MB/s ({:.2}x slicing-by-8)",
            xxh / soft
        );
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("sse4.2") {
            // SAFETY: the CPU has SSE4.2 (checked just above).
            let hw = |d: &[u8]| unsafe { crc32c_sse42(d) };
            assert_eq!(hw(&frame), omx_proto::integrity::crc32c(&frame));
            let fast = speed(&frame, secs, hw);
            println!(
                "{len} B: slicing-by-8 {soft:.0} MB/s, sse4.2 {fast:.0} MB/s ({:.2}x)",
                fast / soft
            );
            continue;
        }
        println!("{len} B: slicing-by-8 {soft:.0} MB/s (no SSE4.2)");
    }
}
