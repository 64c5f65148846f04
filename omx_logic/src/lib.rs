//! The decisions of omx's kernel module, as pure code tested on the host.
//!
//! This crate is `no_std`, allocation-free, `unsafe`-free and has no dependencies. Like
//! `omx_proto`, it is a normal crate for the host tests and is compiled *into* the kernel
//! module as a source submodule (`#[path = "../omx_logic/src/lib.rs"] mod omx_logic;` in
//! `omx_mod/omx.rs`), so files refer to their siblings through `super::` and this root holds
//! only module declarations and re-exports. The module keeps the glue: locks, atomics, timers,
//! block requests and frames; it asks this crate what to do and does it.
//!
//! - [`placement`]: where each copy of a chunk lives (round-robin stripes, mirror copies on
//!   neighbouring members), how big each member's region is, which copy a read tries first.
//! - [`readahead`]: which blocks a device fetches ahead of a reader that waits for each read
//!   (swap-in of a sequential scan), and which reads its buffer answers.
//! - [`region`]: first-fit of a device's region among those already on a node.
//! - [`mirror`]: which members may leave a mirror (the out-of-service mask).
//! - [`sources`]: source ids of the messages in flight on a node, in generations so an answer
//!   from an earlier connection never matches a new message; the size of each message.
//! - [`slots`]: sets of request-table entries (free, with data left to send) as bits.
//! - [`expiry`]: what a block-layer timeout does to a request.
//! - [`latency`]: how long requests took on a node, in doubling buckets, and percentiles.
//! - [`lifecycle`]: a node's state derived from its connection, I/O held across a lost
//!   connection, and whether a node kept its memory contents.
//!
//! `tests/properties.proptest-regressions` is kept in git on purpose: proptest replays the
//! failing cases it once found before generating new ones.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod expiry;
pub mod latency;
pub mod lifecycle;
pub mod mirror;
pub mod placement;
pub mod readahead;
pub mod region;
pub mod slots;
pub mod sources;

pub use expiry::{on_timeout, Expiry, Extensions, MAX_EXTENSIONS, MAX_IDLE_EXTENSIONS};
pub use lifecycle::{keeps_contents, ConnPhase, Lifecycle, NodeState, Update};
pub use placement::{copy_order, per_node_len, Placed, Stripe, CHUNK, MAX_MEMBERS, MAX_REPLICAS};
pub use region::find_region;
pub use sources::{
    piece_size, Answer, Source, SourceSlot, SourceTable, Ticket, GENERATIONS, MAX_SOURCES, ORPHAN,
};
