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
//! - [`congestion`]: the sender's congestion window over the Go-Back-N window.
//! - [`connection`]: the [`Connection`] state machine a driver talks to, and its [`Stats`].
//! - [`message_size`]: the largest message a connection uses for an MTU.
//! - [`integrity`]: omx's optional CRC-32C trailer for corruption the Ethernet FCS misses.
//! - [`identity`]: omx's memory-map extension telling a node that kept a client's memory
//!   from one that lost it.
//! - [`serve`]: the pool node's side: a client's requests carried out on its region and
//!   answered, in order, with back-pressure.
//! - [`selftest`]: the codec checked on the spec's vectors where it runs (omx_mod, at load).
//!
//! # Driving a connection
//!
//! ```
//! use omx_proto::{Config, Connection, EthHeader, Message, SlotMeta, Version};
//!
//! const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
//! const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];
//! let mut cfg_a = Config::new(Version::V1_1);
//! cfg_a.ethernet = Some(EthHeader::new(MAC_B, MAC_A)); // dst, src
//! let mut cfg_b = cfg_a.clone();
//! cfg_b.ethernet = Some(EthHeader::new(MAC_A, MAC_B));
//!
//! // 8 retransmit slots: frame memory from anything that derefs to [u8], their
//! // bookkeeping from anything that derefs to [SlotMeta].
//! type Conn = Connection<Vec<u8>, Vec<SlotMeta>>;
//! let mem_a = vec![0u8; Conn::required_memory(&cfg_a, 8)];
//! let mem_b = vec![0u8; Conn::required_memory(&cfg_b, 8)];
//! let mut a = Conn::new(cfg_a, mem_a, vec![SlotMeta::EMPTY; 8]).unwrap();
//! let mut b = Conn::new(cfg_b, mem_b, vec![SlotMeta::EMPTY; 8]).unwrap(); // 1.1 responder: Listening
//!
//! let mut now = 0u64;
//! a.open(now).unwrap();
//! a.send(&Message::get(7, 0x1000, 6), now).unwrap();
//!
//! let mut buf = [0u8; 1600];
//! let mut got = 0;
//! for _ in 0..10 {
//!     // Everything A wants to send goes to B ...
//!     while let Some(n) = a.poll_transmit(now, &mut buf).unwrap() {
//!         let frame = buf[..n].to_vec();
//!         let rx = b.on_frame(&frame, now).unwrap();
//!         for msg in rx.messages() {
//!             assert_eq!(msg.source, 7);
//!             got += 1;
//!         }
//!     }
//!     // ... and everything B wants to send goes back to A.
//!     while let Some(n) = b.poll_transmit(now, &mut buf).unwrap() {
//!         let frame = buf[..n].to_vec();
//!         let _ = a.on_frame(&frame, now);
//!     }
//!     // Sleep until the next timer (delayed ACK, retransmit, ...).
//!     now = [a.next_deadline(), b.next_deadline()]
//!         .into_iter()
//!         .flatten()
//!         .min()
//!         .unwrap_or(now)
//!         .max(now + 1);
//! }
//! assert_eq!(got, 1);
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod congestion;
pub mod connection;
pub mod credit;
pub mod error;
pub mod ethernet;
pub mod frame;
pub mod header;
pub mod identity;
pub mod integrity;
pub mod message_size;
pub mod reliability;
pub mod rto;
pub mod selftest;
pub mod seq;
pub mod serve;
pub mod stats;
pub mod tilelink;
pub mod wire;

pub use connection::{Config, Connection, Disposition, Received, State, Version};
pub use error::Error;
pub use ethernet::{EthHeader, ETHERTYPE_OMNIXTEND};
pub use frame::{FrameBuilder, FrameLimits, FrameView, Messages, Packer};
pub use header::{MessageType, TloeHeader};
pub use message_size::{message_size_for_mtu, partial_message_size_for_mtu};
pub use reliability::SlotMeta;
pub use selftest::selftest;
pub use seq::Seq;
pub use stats::Stats;
pub use tilelink::{ByteOrder, Channel, Data, Message, Opcode};
