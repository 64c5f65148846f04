//! omx pool node: lends part of a Linux box's RAM to omx clients over
//! OmniXtend (TileLink over Ethernet, EtherType 0xAAAA) from userspace, on a
//! stock kernel, through an `AF_PACKET` socket.
//!
//! - [`server`]: the daemon's core (`omx-node`): one [`omx_proto::Connection`]
//!   per client MAC, per-client memory regions, TileLink execution.
//! - [`memory`]: the lent mapping (anonymous, or a `--memory-file` that outlives the
//!   daemon, with its state) and its per-client regions.
//! - [`client`]: a userspace client library (`omx-node-probe` uses it) to
//!   read and write a node's memory without the kernel module.
//! - [`sys`]: the only `unsafe` code: a small documented syscall layer (also used by the
//!   test tools in `omx_testtools`).
#![deny(unsafe_code)]

pub mod client;
pub mod log;
pub mod memory;
pub mod metrics;
#[cfg(feature = "mutation-drop-write")]
pub mod mutation;
pub mod notify;
pub mod server;
pub mod stats;
#[allow(unsafe_code)]
pub mod sys;
pub mod util;
