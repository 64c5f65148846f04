//! Ethernet addresses: strict `aa:bb:cc:dd:ee:ff` parsing and printing.

use std::fmt;

/// Why a MAC argument was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacError {
    /// The argument as given.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for MacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid MAC address '{}': {}", self.value, self.reason)
    }
}

impl std::error::Error for MacError {}

const FORMAT: &str = "expected six colon-separated hex bytes, like aa:bb:cc:dd:ee:ff";

/// Parse `aa:bb:cc:dd:ee:ff` (hex digits in either case, exactly two per
/// byte). Multicast/broadcast and all-zero addresses are rejected: a pool
/// node is a single station.
pub fn parse_mac(s: &str) -> Result<[u8; 6], MacError> {
    let bad = |reason| MacError {
        value: s.to_string(),
        reason,
    };
    let mut out = [0u8; 6];
    let mut parts = s.split(':');
    for byte in out.iter_mut() {
        let part = parts.next().ok_or_else(|| bad(FORMAT))?;
        if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(FORMAT));
        }
        *byte = u8::from_str_radix(part, 16).map_err(|_| bad(FORMAT))?;
    }
    if parts.next().is_some() {
        return Err(bad(FORMAT));
    }
    if out == [0; 6] {
        return Err(bad("the all-zero address is not a valid peer"));
    }
    if out[0] & 1 != 0 {
        return Err(bad(
            "a multicast/broadcast address cannot be a pool node (the first byte is odd)",
        ));
    }
    Ok(out)
}

/// Print as lower-case `aa:bb:cc:dd:ee:ff`.
pub fn format_mac(mac: &[u8]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_good_addresses() {
        assert_eq!(parse_mac("02:00:00:00:00:02"), Ok([2, 0, 0, 0, 0, 2]));
        assert_eq!(
            parse_mac("AA:bb:Cc:dD:ee:FE"),
            Ok([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xfe])
        );
    }

    #[test]
    fn rejects_bad_syntax_naming_the_value() {
        for bad in [
            "",
            "02:00:00:00:00",
            "02:00:00:00:00:02:03",
            "02-00-00-00-00-02",
            "0200.0000.0002",
            "2:0:0:0:0:2",
            "02:00:00:00:00:0g",
            "02:00:00:00:00:002",
            " 02:00:00:00:00:02",
            "02:00:00:00:00:",
        ] {
            let e = parse_mac(bad).unwrap_err();
            assert_eq!(e.value, bad);
            assert!(
                e.to_string()
                    .starts_with(&format!("invalid MAC address '{bad}'")),
                "{e}"
            );
        }
    }

    #[test]
    fn rejects_multicast_and_zero() {
        assert!(parse_mac("ff:ff:ff:ff:ff:ff")
            .unwrap_err()
            .to_string()
            .contains("multicast"));
        assert!(parse_mac("01:00:5e:00:00:01").is_err());
        assert!(parse_mac("00:00:00:00:00:00")
            .unwrap_err()
            .to_string()
            .contains("all-zero"));
    }

    #[test]
    fn formats_lower_case() {
        assert_eq!(
            format_mac(&[0xaa, 0xbb, 0xcc, 0x0d, 0xee, 0xff]),
            "aa:bb:cc:0d:ee:ff"
        );
    }
}
