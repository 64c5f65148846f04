//! Error type shared by the codec and the state machines.

use core::fmt;

/// Everything that can go wrong when encoding, decoding or driving a
/// connection. All variants are plain values so the type is `Copy` and can be
/// returned from kernel code without allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The input ended before a complete structure could be read.
    Truncated,
    /// The caller's output buffer is too small for what must be written.
    BufferTooSmall,
    /// The Ethernet frame does not carry the expected EtherType (value found).
    WrongEtherType(u16),
    /// The TLoE payload is not a whole number of 64-bit flits, or is shorter
    /// than a header plus a frame mask.
    BadLength,
    /// A message header names channel 6/7 or an opcode its channel lacks.
    BadMessage,
    /// The trailing frame mask disagrees with the message positions found by
    /// walking the message lengths.
    MaskMismatch,
    /// A message would start beyond flit 64 (outside the frame mask) or past
    /// the configured MaxStartOfMessageFlit.
    TooManyMessages,
    /// A message to encode has an out-of-range field or data / mask of the
    /// wrong length for its size.
    InvalidMessage,
    /// The message does not fit into the frame being built (start a new one).
    FrameFull,
    /// The message can never fit into one frame with the configured MTU.
    TooLarge,
    /// Not enough flow-control credits on the message's channel.
    NoCredit,
    /// The retransmit window or the retransmit buffer is full.
    WindowFull,
    /// The connection is not in a state that allows this operation.
    NotOpen,
    /// The connection was declared dead (peer unreachable).
    Dead,
    /// The configuration or the storage handed to the connection is invalid.
    BadConfig,
    /// The frame's integrity trailer is missing or wrong (omx extension).
    BadIntegrity,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Error::Truncated => "input truncated",
            Error::BufferTooSmall => "output buffer too small",
            Error::WrongEtherType(_) => "wrong EtherType",
            Error::BadLength => "payload length not a valid number of flits",
            Error::BadMessage => "invalid channel or opcode",
            Error::MaskMismatch => "frame mask does not match message positions",
            Error::TooManyMessages => "message starts beyond the allowed flit",
            Error::InvalidMessage => "invalid message fields or data length",
            Error::FrameFull => "frame full",
            Error::TooLarge => "message larger than one frame",
            Error::NoCredit => "no flow-control credit",
            Error::WindowFull => "retransmit window full",
            Error::NotOpen => "connection not open",
            Error::Dead => "connection dead",
            Error::BadConfig => "invalid configuration",
            Error::BadIntegrity => "integrity trailer missing or wrong",
        };
        f.write_str(s)
    }
}
