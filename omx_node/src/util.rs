//! Size printing and the monotonic clock; MAC and size parsing from omx_args.

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
