//! omxctl as a library: the `omx` generic netlink family (attributes,
//! messages, a sync client), size arguments (MACs and sizes are parsed by omx_args) and output
//! formatting. The `omxctl` binary (src/main.rs) is a thin front end.

pub mod cli;
pub mod conf;
pub mod error;
pub mod latency;
pub mod model;
pub mod monitor;
pub mod netlink;
pub mod prometheus;
pub mod show;
pub mod units;
