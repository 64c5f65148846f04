//! omxctl as a library: the `omx` generic netlink family (attributes,
//! messages, a sync client), argument parsing helpers and output
//! formatting. The `omxctl` binary (src/main.rs) is a thin front end.

pub mod cli;
pub mod error;
pub mod mac;
pub mod model;
pub mod monitor;
pub mod netlink;
pub mod show;
pub mod units;
