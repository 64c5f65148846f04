//! Ethernet addresses.
//!
//! Accepted: six bytes separated all by `:` or all by `-`, each one or two hex digits in
//! either case (`02:00:00:0a:0b:ff`, `02-00-00-0A-0B-FF`, `2:0:0:a:b:ff`); blanks around the
//! whole are ignored. Printed as lower-case `aa:bb:cc:dd:ee:ff`.

use crate::ArgError;

/// A MAC address.
pub type Mac = [u8; 6];

const FORMAT: &str = "expected six hex bytes like aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff";

/// Parses a MAC address (any: unicast, multicast, broadcast, all-zero).
pub fn parse_mac(s: &str) -> Result<Mac, ArgError> {
    let bad = |reason: String| ArgError::mac(s, reason);
    let t = s.trim();
    if t.is_empty() {
        return Err(bad(format!("empty; {FORMAT}")));
    }
    let sep = if t.contains(':') { ':' } else { '-' };
    if t.contains(':') && t.contains('-') {
        return Err(bad(format!("mixes ':' and '-'; {FORMAT}")));
    }
    let parts: Vec<&str> = t.split(sep).collect();
    match parts.len() {
        6 => {}
        1 => return Err(bad(format!("no ':' or '-' between the bytes; {FORMAT}"))),
        n => return Err(bad(format!("{n} bytes, not six; {FORMAT}"))),
    }
    let mut mac = [0u8; 6];
    for (byte, part) in mac.iter_mut().zip(parts) {
        if part.is_empty() || part.len() > 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(format!("'{part}' is not a hex byte; {FORMAT}")));
        }
        *byte = u8::from_str_radix(part, 16).map_err(|_| bad(FORMAT.to_string()))?;
    }
    Ok(mac)
}

/// Parses the address of one station (a pool node, a client): like [`parse_mac`], and
/// neither all-zero nor multicast/broadcast.
pub fn parse_unicast_mac(s: &str) -> Result<Mac, ArgError> {
    let mac = parse_mac(s)?;
    if mac == [0; 6] {
        return Err(ArgError::mac(s, "the all-zero address is not a station"));
    }
    if mac[0] & 1 != 0 {
        return Err(ArgError::mac(
            s,
            "a multicast/broadcast address is not a station (the first byte is odd)",
        ));
    }
    Ok(mac)
}

/// Formats as lower-case `aa:bb:cc:dd:ee:ff`.
pub fn format_mac(m: &Mac) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_form_either_tool_took() {
        let m = [0x02, 0, 0, 0x0a, 0x0b, 0xff];
        for s in [
            "02:00:00:0a:0b:ff",
            "02:00:00:0A:0B:FF",
            "02-00-00-0a-0b-ff",
            "2:0:0:a:b:ff",
            " 02:00:00:0a:0b:ff\n",
        ] {
            assert_eq!(parse_mac(s), Ok(m), "{s}");
        }
        assert_eq!(parse_mac("ff:ff:ff:ff:ff:ff"), Ok([0xff; 6]));
        assert_eq!(parse_mac("00:00:00:00:00:00"), Ok([0; 6]));
    }

    #[test]
    fn says_what_is_wrong() {
        let cases = [
            ("", "empty"),
            ("02:00:00:00:00", "5 bytes, not six"),
            ("02:00:00:00:00:02:03", "7 bytes, not six"),
            ("02:00:00:00:00:", "'' is not a hex byte"),
            ("0200.0000.0002", "no ':' or '-' between the bytes"),
            ("02:00:00:00:00:0g", "'0g' is not a hex byte"),
            ("02:00:00:00:00:002", "'002' is not a hex byte"),
            ("02:00:00:00:00:+2", "'+2' is not a hex byte"),
            ("02:00-00:00:00:02", "mixes ':' and '-'"),
        ];
        for text in crate::refusals(parse_mac, "MAC address", &cases) {
            assert!(
                text.ends_with("like aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_station_is_unicast_and_not_zero() {
        assert_eq!(
            parse_unicast_mac("02:00:00:00:00:02"),
            Ok([2, 0, 0, 0, 0, 2])
        );
        let e = parse_unicast_mac("ff:ff:ff:ff:ff:ff").unwrap_err();
        assert!(e.to_string().contains("multicast"), "{e}");
        assert!(parse_unicast_mac("01:00:5e:00:00:01").is_err());
        let e = parse_unicast_mac("00-00-00-00-00-00").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid MAC address '00-00-00-00-00-00': the all-zero address is not a station"
        );
        assert!(parse_unicast_mac("zz:00:00:00:00:02").is_err());
    }

    #[test]
    fn formats_lower_case_and_round_trips() {
        let m = [0xaa, 0xbb, 0xcc, 0x0d, 0xee, 0xff];
        assert_eq!(format_mac(&m), "aa:bb:cc:0d:ee:ff");
        assert_eq!(parse_mac(&format_mac(&m)), Ok(m));
    }
}
