//! Parsing helpers (sizes, MACs), the monotonic clock and a small PRNG.

use std::sync::OnceLock;
use std::time::Instant;

/// A MAC address.
pub type Mac = [u8; 6];

/// Parses a size such as `8G`, `512M`, `4096`, `1.5G`, `64KiB`
/// (binary units: K = 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let bad = || format!("bad size '{s}': use e.g. 8G, 512M, 64K or a byte count");
    let lower = t.to_ascii_lowercase();
    let stripped = lower
        .strip_suffix("ib")
        .or_else(|| lower.strip_suffix('b'))
        .unwrap_or(&lower);
    let (num, mult) = match stripped.chars().last() {
        Some('k') => (&stripped[..stripped.len() - 1], 1u64 << 10),
        Some('m') => (&stripped[..stripped.len() - 1], 1u64 << 20),
        Some('g') => (&stripped[..stripped.len() - 1], 1u64 << 30),
        Some('t') => (&stripped[..stripped.len() - 1], 1u64 << 40),
        Some(c) if c.is_ascii_digit() => (stripped, 1u64),
        _ => return Err(bad()),
    };
    if num.is_empty() {
        return Err(bad());
    }
    if let Ok(v) = num.parse::<u64>() {
        return v.checked_mul(mult).ok_or_else(bad);
    }
    let f: f64 = num.parse().map_err(|_| bad())?;
    if !f.is_finite() || f < 0.0 {
        return Err(bad());
    }
    let v = f * mult as f64;
    if v > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(v as u64)
}

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

/// Parses `aa:bb:cc:dd:ee:ff` (also `-` separated).
pub fn parse_mac(s: &str) -> Result<Mac, String> {
    let mut mac = [0u8; 6];
    let parts: Vec<&str> = s.trim().split([':', '-']).collect();
    if parts.len() != 6 {
        return Err(format!("bad MAC address '{s}': use aa:bb:cc:dd:ee:ff"));
    }
    for (m, p) in mac.iter_mut().zip(parts) {
        *m = u8::from_str_radix(p, 16)
            .map_err(|_| format!("bad MAC address '{s}': use aa:bb:cc:dd:ee:ff"))?;
    }
    Ok(mac)
}

/// Formats a MAC as `aa:bb:cc:dd:ee:ff`.
pub fn fmt_mac(m: &Mac) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
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
        assert_eq!(parse_size("8G"), Ok(8 << 30));
        assert_eq!(parse_size("512m"), Ok(512 << 20));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert!(parse_size("8Q").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("G").is_err());
        assert!(parse_size("-1G").is_err());
        assert_eq!(fmt_size(8 << 30), "8G");
        assert_eq!(fmt_size(1000), "1000");
    }

    #[test]
    fn macs() {
        let m = parse_mac("02:00:00:0a:0B:ff").unwrap();
        assert_eq!(m, [2, 0, 0, 10, 11, 255]);
        assert_eq!(fmt_mac(&m), "02:00:00:0a:0b:ff");
        assert!(parse_mac("02:00:00:0a:0b").is_err());
        assert!(parse_mac("zz:00:00:0a:0b:01").is_err());
    }
}
