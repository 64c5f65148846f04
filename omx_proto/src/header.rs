//! The TLoE frame header: the first flit of every frame (spec Fig. 9).
//!
//! ```text
//! VC[63:61] Res/MsgType[60:54] Seq[53:32] SeqAck[31:10] Ack[9] R[8] Chan[7:5] Credit[4:0]
//! ```
//! OmniXtend 1.1 (as implemented by WD's endpoint and ETRI) puts a message
//! type in bits 60:57; in 1.0.3 those bits are reserved and zero, which reads
//! as [`MessageType::Normal`].

use super::seq::Seq;
use super::tilelink::Channel;
use super::wire::{bits, field};

/// The OmniXtend 1.1 message type (bits 60:57 of the TLoE header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// A normal, sequenced frame (also every 1.0.3 frame).
    Normal,
    /// An unsequenced acknowledgement carrying no messages and no credits.
    AckOnly,
    /// First frame of a 1.1 connection (sequence number 0).
    OpenConnection,
    /// Sequenced request to close the connection.
    CloseConnection,
    /// Any other value (reserved); kept for byte-exact re-encoding.
    Reserved(u8),
}

impl MessageType {
    /// Decodes the 4-bit field.
    pub const fn from_bits(v: u8) -> Self {
        match v & 0xF {
            0 => MessageType::Normal,
            1 => MessageType::AckOnly,
            2 => MessageType::OpenConnection,
            3 => MessageType::CloseConnection,
            x => MessageType::Reserved(x),
        }
    }

    /// Encodes to the 4-bit field.
    pub const fn to_bits(self) -> u8 {
        match self {
            MessageType::Normal => 0,
            MessageType::AckOnly => 1,
            MessageType::OpenConnection => 2,
            MessageType::CloseConnection => 3,
            MessageType::Reserved(x) => x & 0xF,
        }
    }
}

/// A decoded TLoE frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TloeHeader {
    /// Virtual channel (3 bits).
    pub vc: u8,
    /// 1.1 message type (reserved bits in 1.0.3).
    pub msg_type: MessageType,
    /// Reserved bits 56:54 (kept for byte-exact re-encoding; write 0).
    pub reserved: u8,
    /// This frame's sequence number.
    pub seq: Seq,
    /// Last sequence number the sender received in order.
    pub seq_ack: Seq,
    /// `true` = ACK, `false` = NAK (resend everything after `seq_ack`).
    pub ack: bool,
    /// Raw credit channel field: 0 = no credit, 1..=5 = A..E.
    pub credit_chan: u8,
    /// Credit exponent: the grant is `2^credit` flits.
    pub credit: u8,
}

impl TloeHeader {
    /// A Normal header with the given sequence numbers and no credit.
    pub const fn new(seq: Seq, seq_ack: Seq, ack: bool) -> Self {
        TloeHeader {
            vc: 0,
            msg_type: MessageType::Normal,
            reserved: 0,
            seq,
            seq_ack,
            ack,
            credit_chan: 0,
            credit: 0,
        }
    }

    /// Decodes the header from its 64-bit flit value. Never fails: reserved
    /// values are preserved.
    pub const fn from_flit(w: u64) -> Self {
        TloeHeader {
            vc: bits(w, 63, 61) as u8,
            msg_type: MessageType::from_bits(bits(w, 60, 57) as u8),
            reserved: bits(w, 56, 54) as u8,
            seq: Seq::new(bits(w, 53, 32) as u32),
            seq_ack: Seq::new(bits(w, 31, 10) as u32),
            ack: bits(w, 9, 9) != 0,
            credit_chan: bits(w, 7, 5) as u8,
            credit: bits(w, 4, 0) as u8,
        }
    }

    /// Encodes the header into its 64-bit flit value.
    pub const fn to_flit(self) -> u64 {
        field(self.vc as u64, 63, 61)
            | field(self.msg_type.to_bits() as u64, 60, 57)
            | field(self.reserved as u64, 56, 54)
            | field(self.seq.get() as u64, 53, 32)
            | field(self.seq_ack.get() as u64, 31, 10)
            | field(self.ack as u64, 9, 9)
            | field(self.credit_chan as u64, 7, 5)
            | field(self.credit as u64, 4, 0)
    }

    /// The credit grant carried by this header: channel and number of flits.
    pub fn credit_grant(&self) -> Option<(Channel, u64)> {
        let ch = Channel::from_bits(self.credit_chan)?;
        Some((ch, 1u64 << (self.credit & 31)))
    }

    /// Sets the credit grant to `2^log2` flits on `ch` (or none).
    pub fn set_credit(&mut self, grant: Option<(Channel, u8)>) {
        match grant {
            Some((ch, log2)) => {
                self.credit_chan = ch as u8;
                self.credit = log2 & 31;
            }
            None => {
                self.credit_chan = 0;
                self.credit = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_a11_header() {
        // SPEC A.1.1: VC 0, seq 0x2E50D, ack 0x56D4B, Ack 1, Chan 2 (B), Credit 8
        let h = TloeHeader::from_flit(0x0002_E50D_15B5_2E48);
        assert_eq!(h.vc, 0);
        assert_eq!(h.msg_type, MessageType::Normal);
        assert_eq!(h.seq.get(), 0x2E50D);
        assert_eq!(h.seq_ack.get(), 0x56D4B);
        assert!(h.ack);
        assert_eq!(h.credit_chan, 2);
        assert_eq!(h.credit, 8);
        assert_eq!(h.credit_grant(), Some((Channel::B, 256)));
        assert_eq!(h.to_flit(), 0x0002_E50D_15B5_2E48);
    }

    #[test]
    fn message_type_bits() {
        let mut h = TloeHeader::new(Seq::new(0), Seq::MAX, false);
        h.msg_type = MessageType::OpenConnection;
        h.vc = 7;
        let w = h.to_flit();
        assert_eq!(bits(w, 60, 57), 2);
        assert_eq!(TloeHeader::from_flit(w), h);
        for v in 0..16u8 {
            assert_eq!(MessageType::from_bits(v).to_bits(), v);
        }
    }
}
