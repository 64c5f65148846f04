//! splitmix64: a small, seedable, reproducible PRNG for omx's tests, test tools (frame fuzzer,
//! impairing relay) and benchmarks (`omx-node-probe bench`). The same seed gives the same
//! run. Not for anything secret.
#![no_std]
#![forbid(unsafe_code)]

/// splitmix64 state; `Rng(seed)` starts a sequence.
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

    /// Uniform in `0..n` (0, drawing nothing, if `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// Uniform index into a slice of `len` elements (0 if it is empty).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// True with probability `permille` / 1000.
    pub fn per_mille(&mut self, permille: u64) -> bool {
        self.below(1000) < permille
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
    use super::Rng;

    #[test]
    fn splitmix64_reference_values() {
        // splitmix64 seeded with 0 (Vigna's reference implementation).
        let mut r = Rng(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn below_chance_fill() {
        let mut r = Rng(7);
        assert_eq!(r.clone().below(0), 0);
        assert!((0..1000).all(|_| r.below(10) < 10 && r.index(3) < 3));
        assert!(!r.chance(0.0) && r.chance(1.0));
        assert!(!r.per_mille(0) && r.per_mille(1000));
        let mut b = [0u8; 13];
        r.fill(&mut b);
        assert!(b.iter().any(|&x| x != 0));
        let (mut a, mut c) = (Rng(42), Rng(42));
        assert_eq!(a.next_u64(), c.next_u64());
    }
}
