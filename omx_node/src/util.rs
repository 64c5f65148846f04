//! Size printing, the monotonic clock and a small PRNG; MAC and size parsing from omx_args.

use std::sync::OnceLock;
use std::time::Instant;

// MAC addresses and sizes are read by omx_args, with the rules omxctl's arguments follow too.
pub use omx_args::{format_mac, parse_mac, parse_size, Mac};

/// Formats bytes with a binary unit (`8G`, `512M`, `4K`, `100`).
pub fn fmt_size(v: u64) -> String {
    for (m, u) in [
        (1u64 << 40, "T"),
        (1 << 30, "G"),
        (1 << 20, "M"),
        (1 << 10, "K"),
    ] {
        if v >= m && v % m == 0 {
            return format!("{}{u}", v / m);
        }
    }
    format!("{v}")
}

/// Nanoseconds on a process-wide monotonic clock (starts near 0).
pub fn now_ns() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    let b = BASE.get_or_init(Instant::now);
    u64::try_from(b.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// splitmix64: small, seedable, good enough for tests and impairments.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 if `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for c in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(fmt_size(8 << 30), "8G");
        assert_eq!(fmt_size(1000), "1000");
        assert_eq!(fmt_size(3 << 29), "1536M");
    }
}
