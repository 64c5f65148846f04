//! Byte sizes.
//!
//! Accepted: a number of bytes, whole (`4096`) or with a decimal fraction (`1.5`, `.5`),
//! directly followed by an optional unit: `B` (bytes), `K`, `M`, `G`, `T`, each also as `KB` or
//! `KiB` and so on, in any case. Every unit is 1024-based (`4K` = 4096, `1.5G` = 1536 MiB): omx
//! sizes memory, and memory comes in pages. A fraction is rounded down to whole bytes. Blanks
//! around the whole are ignored; none between the number and the unit. Zero is a size here:
//! a program that needs more says so itself.

use crate::ArgError;

const FORMAT: &str =
    "expected a number of bytes with an optional K, M, G or T suffix (1024-based), like 4096, 64K, 512M or 1.5G";

/// Digits of a fraction that are read; more is a precision no size has.
const MAX_FRACTION_DIGITS: usize = 18;

/// Parses a size into bytes.
pub fn parse_size(s: &str) -> Result<u64, ArgError> {
    let bad = |reason: String| ArgError::size(s, reason);
    let t = s.trim();
    let num_end = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, suffix) = t.split_at(num_end);
    let (whole, fraction) = num.split_once('.').unwrap_or((num, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(bad(FORMAT.to_string()));
    }
    if fraction.contains('.') {
        return Err(bad(format!("'{num}' is not a number; {FORMAT}")));
    }
    if fraction.len() > MAX_FRACTION_DIGITS {
        return Err(bad(format!(
            "more than {MAX_FRACTION_DIGITS} digits after the point"
        )));
    }
    let shift = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(bad(format!(
                "unknown suffix '{suffix}' (use K, M, G or T, 1024-based)"
            )))
        }
    };
    let too_large = || bad("too large (more than 2^64 - 1 bytes)".to_string());
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse::<u64>().map_err(|_| too_large())?.into()
    };
    let mut bytes = whole << shift;
    if !fraction.is_empty() {
        let digits: u128 = fraction.parse::<u64>().map_err(|_| too_large())?.into();
        bytes += (digits << shift) / 10u128.pow(fraction.len() as u32);
    }
    u64::try_from(bytes).map_err(|_| too_large())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_bytes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("1"), Ok(1));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("12B"), Ok(12));
        assert_eq!(parse_size(" 12b\n"), Ok(12));
    }

    #[test]
    fn every_unit_spelling_either_tool_took_is_1024_based() {
        for (s, v) in [
            ("4k", 4 << 10),
            ("4K", 4 << 10),
            ("4KB", 4 << 10),
            ("4kib", 4 << 10),
            ("64KiB", 64 << 10),
            ("512M", 512 << 20),
            ("512m", 512 << 20),
            ("512MB", 512 << 20),
            ("512MiB", 512 << 20),
            ("8G", 8 << 30),
            ("8g", 8 << 30),
            ("8GiB", 8 << 30),
            ("1T", 1 << 40),
            ("2TiB", 2 << 40),
            ("2tb", 2 << 40),
        ] {
            assert_eq!(parse_size(s), Ok(v), "{s}");
        }
    }

    #[test]
    fn fractions_round_down_to_whole_bytes() {
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_size(".5K"), Ok(512));
        assert_eq!(parse_size("2.K"), Ok(2048));
        assert_eq!(parse_size("0.1K"), Ok(102));
        assert_eq!(parse_size("1.1G"), Ok(1_181_116_006));
        assert_eq!(parse_size("1.9"), Ok(1));
        assert_eq!(parse_size("0.000000000000000001T"), Ok(0));
        assert_eq!(parse_size("15.999999999999999999T"), Ok((16 << 40) - 1));
    }

    #[test]
    fn says_what_is_wrong() {
        let cases = [
            ("", "expected a number of bytes"),
            ("G", "expected a number of bytes"),
            ("-4G", "expected a number of bytes"),
            (".", "expected a number of bytes"),
            ("4X", "unknown suffix 'X' (use K, M, G or T, 1024-based)"),
            ("8Q", "unknown suffix 'Q'"),
            ("4 G", "unknown suffix ' G'"),
            ("4ib", "unknown suffix 'ib'"),
            ("1e3", "unknown suffix 'e3'"),
            ("1.2.3", "'1.2.3' is not a number"),
            ("99999999999999999999", "too large"),
            ("16777216T", "too large"),
            ("0.1234567890123456789K", "more than 18 digits"),
        ];
        crate::refusals(parse_size, "size", &cases);
        assert_eq!(parse_size("16777215T"), Ok(16_777_215 << 40));
    }
}
