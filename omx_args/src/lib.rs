//! Command-line values shared by omx's userspace programs (`omxctl`, `omx-node` and the test
//! tools), so that a MAC address or a size a script passes to one is read the same way by the
//! others, and a bad one is refused with the same message:
//! `invalid MAC address 'zz:54:00:0a:aa:05': 'zz' is not a hex byte (...)`.
//!
//! - [`mac`]: `aa:bb:cc:dd:ee:ff` (also `-` separated, either case, one or two digits a byte).
//! - [`size`]: `4096`, `64K`, `512M`, `8G`, `1T`, `1.5G`, `4KiB`, `4kb`: 1024-based units.

use std::fmt;

pub mod mac;
pub mod size;

pub use mac::{format_mac, parse_mac, parse_unicast_mac, Mac};
pub use size::parse_size;

/// Why an argument was refused: `invalid <what> '<value>': <reason>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    /// What was expected ("MAC address", "size").
    pub what: &'static str,
    /// The argument as given.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ArgError {
    /// A refused size (also for checks a program adds after [`parse_size`]).
    pub fn size(value: &str, reason: impl Into<String>) -> Self {
        ArgError {
            what: "size",
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    /// A refused MAC address.
    pub fn mac(value: &str, reason: impl Into<String>) -> Self {
        ArgError {
            what: "MAC address",
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} '{}': {}", self.what, self.value, self.reason)
    }
}

impl std::error::Error for ArgError {}

impl From<ArgError> for String {
    fn from(e: ArgError) -> String {
        e.to_string()
    }
}

/// Test support: `parse` refuses each `(value, reason)` case with exactly
/// `invalid <what> '<value>': <reason>...`; returns the messages.
#[cfg(test)]
fn refusals<T: fmt::Debug>(
    parse: fn(&str) -> Result<T, ArgError>,
    what: &str,
    cases: &[(&str, &str)],
) -> Vec<String> {
    let mut texts = Vec::new();
    for (value, reason) in cases {
        let e = parse(value).unwrap_err();
        assert_eq!(e.value, *value);
        let text = e.to_string();
        let want = format!("invalid {what} '{value}': {reason}");
        assert!(
            text.starts_with(&want),
            "{text:?} does not start with {want:?}"
        );
        texts.push(text);
    }
    texts
}
