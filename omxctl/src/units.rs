//! Byte sizes: node and device size arguments (read by [`omx_args::parse_size`], whose rules
//! every omx program shares) and printing human sizes.

use omx_args::{parse_size, ArgError};

/// Block size that device capacities must be a multiple of.
pub const BLOCK: u64 = 4096;

/// Parse a node or device size: like [`parse_size`], not zero and a multiple of 4096 (omx_mod
/// lends and stripes memory in 4 KiB blocks).
pub fn parse_block_size(s: &str) -> Result<u64, ArgError> {
    let bytes = parse_size(s)?;
    if bytes == 0 {
        return Err(ArgError::size(s, "size must be greater than zero"));
    }
    if bytes % BLOCK != 0 {
        return Err(ArgError::size(
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
    fn dev_size_must_be_block_multiple() {
        assert_eq!(parse_block_size("8G"), Ok(8 << 30));
        assert_eq!(parse_block_size("4096"), Ok(4096));
        let e = parse_block_size("4097").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid size '4097': sizes must be a multiple of 4096 bytes (4097 is not)"
        );
        assert!(parse_block_size("1K").is_err());
        assert_eq!(parse_block_size("1.5G"), Ok(3 << 29));
        let e = parse_block_size("0").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid size '0': size must be greater than zero"
        );
        let e = parse_block_size("4X").unwrap_err();
        assert!(e.to_string().contains("unknown suffix 'X'"), "{e}");
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
