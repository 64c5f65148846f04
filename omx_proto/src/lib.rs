//! OmniXtend (TileLink over Ethernet, "TLoE") protocol core for omx.
//!
//! This crate is `no_std`, allocation-free, `unsafe`-free and sans-IO. It is
//! used as a normal crate by userspace tools and compiled *into* the Linux
//! kernel module as a source submodule, so every file refers to its siblings
//! through `super::` and this root holds only module declarations and
//! re-exports.
//!
//! Layers, bottom up:
//! - [`wire`]: big-endian 64-bit flit helpers.
//! - [`ethernet`]: Ethernet II header with EtherType 0xAAAA (802.1Q accepted).
//! - [`header`]: the TLoE frame header (1.0.3 and the 1.1 message type).
//! - [`tilelink`]: TileLink messages of channels A-E, data and masks.
//! - [`frame`]: frame decoding ([`FrameView`]) and packing ([`FrameBuilder`]).
//! - [`seq`], [`credit`], [`reliability`]: sequence numbers, flow control
//!   credits and the Go-Back-N machinery.
//! - [`connection`]: the [`Connection`] state machine a driver talks to.
//!
//! # Driving a connection
//!
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod error;
pub mod ethernet;
pub mod frame;
pub mod header;

pub mod seq;
pub mod tilelink;
pub mod wire;

pub use error::Error;
pub use ethernet::{EthHeader, ETHERTYPE_OMNIXTEND};
pub use frame::{FrameBuilder, FrameLimits, FrameView, Messages, Packer};
pub use header::{MessageType, TloeHeader};
pub use seq::Seq;
pub use tilelink::{ByteOrder, Channel, Data, Message, Opcode};
