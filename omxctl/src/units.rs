//! Byte sizes: parsing `4G`-style arguments and printing human sizes.
//!
//! Suffixes are binary (K = 1024). `B`, `iB` and lower case are accepted:
//! `4096`, `4k`, `4K`, `4KiB`, `4KB`, `8G`, `1T`.

use std::fmt;

/// Block size that device capacities must be a multiple of.
pub const BLOCK: u64 = 4096;

/// Why a size argument was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeError {
    /// The argument as given.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid size '{}': {}", self.value, self.reason)
    }
}

impl std::error::Error for SizeError {}

fn err(value: &str, reason: impl Into<String>) -> SizeError {
    SizeError {
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// Parse a size such as `4G`, `512M`, `4096` into bytes. Zero is rejected.
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    let t = s.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, suffix) = t.split_at(digits_end);
    if num.is_empty() {
        return Err(err(
            s,
            "expected a number of bytes with an optional K/M/G/T suffix, e.g. 4G",
        ));
    }
    let shift = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(err(
                s,
                format!("unknown suffix '{suffix}' (use K, M, G or T, 1024-based)"),
            ))
        }
    };
    let n: u64 = num.parse().map_err(|_| err(s, "number too large"))?;
    let bytes = n
        .checked_mul(1u64 << shift)
        .ok_or_else(|| err(s, "number too large"))?;
    if bytes == 0 {
        return Err(err(s, "size must be greater than zero"));
    }
    Ok(bytes)
}

/// Parse a node or device size: like [`parse_size`], and a multiple of
/// 4096 (omx_mod lends and stripes memory in 4 KiB blocks).
pub fn parse_block_size(s: &str) -> Result<u64, SizeError> {
    let bytes = parse_size(s)?;
    if bytes % BLOCK != 0 {
        return Err(err(
            s,
            format!("sizes must be a multiple of {BLOCK} bytes ({bytes} is not)"),
        ));
    }
    Ok(bytes)
}

/// Print bytes for humans: `4 GiB`, `1.5 MiB`, `512 B`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut unit = 0;
    while unit + 1 < UNITS.len() && bytes >= 1u64 << (10 * (unit + 1)) {
        unit += 1;
    }
    if unit == 0 {
        return format!("{bytes} B");
    }
    let div = 1u64 << (10 * unit);
    if bytes % div == 0 {
        format!("{} {}", bytes / div, UNITS[unit])
    } else {
        format!("{:.2} {}", bytes as f64 / div as f64, UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_bytes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("1"), Ok(1));
        assert_eq!(parse_size("12B"), Ok(12));
    }

    #[test]
    fn suffixes_are_binary() {
        assert_eq!(parse_size("4K"), Ok(4096));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("8g"), Ok(8 << 30));
        assert_eq!(parse_size("1T"), Ok(1 << 40));
        assert_eq!(parse_size("2TiB"), Ok(2 << 40));
    }

    #[test]
    fn rejects_garbage() {
        let e = parse_size("4X").unwrap_err();
        assert_eq!(e.value, "4X");
        assert!(e.to_string().contains("unknown suffix 'X'"), "{e}");
        assert!(parse_size("").is_err());
        assert!(parse_size("G").is_err());
        assert!(parse_size("-4G").is_err());
        assert!(parse_size("1.5G").is_err());
        assert!(parse_size("4 G").is_err());
        let e = parse_size("0").unwrap_err();
        assert!(e.to_string().contains("greater than zero"), "{e}");
    }

    #[test]
    fn rejects_overflow() {
        let e = parse_size("99999999999999999999").unwrap_err();
        assert!(e.to_string().contains("too large"));
        let e = parse_size("20000000T").unwrap_err();
        assert!(e.to_string().contains("too large"));
    }

    #[test]
    fn dev_size_must_be_block_multiple() {
        assert_eq!(parse_block_size("8G"), Ok(8 << 30));
        assert_eq!(parse_block_size("4096"), Ok(4096));
        let e = parse_block_size("4097").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid size '4097': sizes must be a multiple of 4096 bytes (4097 is not)"
        );
        assert!(parse_block_size("1K").is_err());
    }

    #[test]
    fn formats_sizes() {
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(512), "512 B");
        assert_eq!(format_size(4096), "4 KiB");
        assert_eq!(format_size(4 << 30), "4 GiB");
        assert_eq!(format_size(3 << 19), "1.50 MiB");
        assert_eq!(format_size(1 << 40), "1 TiB");
    }
}
