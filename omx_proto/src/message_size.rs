//! The largest TileLink message a connection uses for an MTU: the kernel module's I/O piece
//! size and omx-node's client request size, computed in one place.
//!
//! There were two formulas before, and they differed: the module asked whether a PutFullData
//! fits, the client whether a PutPartialData does (its byte mask adds `max(1, size/64)`
//! flits). Both were right for what each sends: the module writes whole pieces only, the
//! client writes a ragged edge with a PutPartialData of the covering block. So both
//! questions are here, sharing the frame arithmetic: [`message_size_for_mtu`] for senders
//! of whole pieces and [`partial_message_size_for_mtu`] for senders of masked writes. They
//! agree at MTU 1500 and differ just above a PutFullData's fit (MTU 576: 512 and 256 bytes;
//! MTU 9000: 8 KiB and 4 KiB, the 128 mask flits of an 8 KiB PutPartialData do not fit).
//!
//! The cap is [`MAX_MESSAGE`], 8 KiB: the largest message a 9000-byte jumbo frame holds
//! (1 header + 1 address + 1024 data flits, 2 frame flits and the 8-byte trailer: 8232 bytes),
//! so a jumbo frame carries one 8 KiB message instead of one 4 KiB message and half a frame
//! of nothing. 16 KiB would need frames of 16 KiB and more.

use super::tilelink::{Channel, Message, Opcode};
use super::wire::FLIT_BYTES;

/// Largest message: two pages, what a 9000-byte jumbo frame carries. TileLink allows up to
/// 2^15 (its 4-bit size field and omx-node's `MAX_DATA`); a sender splitting a range into
/// messages must align each to its size (TileLink addresses are naturally aligned).
pub const MAX_MESSAGE: u32 = 8192;
/// Smallest message: one data flit.
pub const MIN_MESSAGE: u32 = 8;
/// Flits of a TLoE frame around its messages: the header and the frame mask.
const FRAME_FLITS: usize = 2;

/// Largest power-of-two message (`MIN_MESSAGE..=MAX_MESSAGE` bytes) whose PutFullData
/// (1 header + 1 address flit + data) and AccessAckData fit one frame with the TLoE header
/// and mask (2 flits) within `mtu` bytes of TLoE payload, less omx's integrity trailer
/// ([`crate::integrity::LEN`]) when `integrity`. At an MTU too small for even 8 bytes it
/// still answers 8 (the frame packer then refuses the message).
pub const fn message_size_for_mtu(mtu: u32, integrity: bool) -> u32 {
    largest(mtu, integrity, Opcode::PutFullData)
}

/// Like [`message_size_for_mtu`], but a PutPartialData of the size (its byte mask included)
/// must fit too: for a sender that writes partial blocks of up to that size.
pub const fn partial_message_size_for_mtu(mtu: u32, integrity: bool) -> u32 {
    largest(mtu, integrity, Opcode::PutPartialData)
}

const fn largest(mtu: u32, integrity: bool, write: Opcode) -> u32 {
    let trailer = if integrity {
        super::integrity::LEN as u32
    } else {
        0
    };
    let room = mtu.saturating_sub(trailer) as usize / FLIT_BYTES;
    let mut size = MAX_MESSAGE;
    while size > MIN_MESSAGE && !fits(size, write, room) {
        size /= 2;
    }
    size
}

/// Whether a `write` of `size` bytes on channel A and the AccessAckData of that size each
/// fit a frame of `room` flits.
const fn fits(size: u32, write: Opcode, room: usize) -> bool {
    let log2 = size.trailing_zeros() as u8;
    let request = Message::flits_for(Channel::A, write, log2);
    let answer = Message::flits_for(Channel::D, Opcode::AccessAckData, log2);
    let flits = if request > answer { request } else { answer };
    flits + FRAME_FLITS <= room
}

#[cfg(test)]
mod tests {
    use super::super::frame::{FrameBuilder, FrameLimits};
    use super::super::header::TloeHeader;
    use super::super::integrity;
    use super::super::seq::Seq;
    use super::super::tilelink::{ByteOrder, Message};
    use super::*;

    const MTUS: [u32; 15] = [
        64, 100, 576, 1056, 1100, 1184, 1492, 1500, 4128, 4200, 8224, 8231, 8232, 9000, 65535,
    ];
    /// Mask words of the largest PutPartialData.
    const MASK_WORDS: usize = MAX_MESSAGE as usize / 64;

    /// Length of a frame (TLoE payload, with the integrity trailer when `integrity`) holding
    /// only `msg`, or `None` when it does not fit `mtu`.
    fn frame_len(msg: &Message<'_>, mtu: u32, integrity: bool) -> Option<usize> {
        let trailer = if integrity { integrity::LEN } else { 0 };
        let limits = FrameLimits::with_mtu(mtu as usize - trailer);
        let mut buf = [0u8; 2 * MAX_MESSAGE as usize];
        let mut b = FrameBuilder::new(&mut buf, None, limits, ByteOrder::Spec).ok()?;
        b.push(msg).ok()?;
        let len = b
            .finish(&TloeHeader::new(Seq::new(0), Seq::MAX, true))
            .ok()?;
        Some(len + trailer)
    }

    fn messages(size: u32, partial: bool, f: impl Fn(&Message<'_>)) {
        let data = [0x5Au8; MAX_MESSAGE as usize * 2];
        let mask = [u64::MAX; MASK_WORDS];
        let n = size as usize;
        let log2 = size.trailing_zeros() as u8;
        f(&Message::put_full(1, 0, &data[..n]));
        f(&Message::access_ack_data(1, log2, &data[..n]));
        if partial {
            f(&Message::put_partial(
                1,
                0,
                log2,
                &data[..n],
                &mask[..super::super::tilelink::mask_flits(log2)],
            ));
        }
    }

    #[test]
    fn known_sizes() {
        assert_eq!(message_size_for_mtu(1500, false), 1024);
        assert_eq!(message_size_for_mtu(1500, true), 1024);
        // Jumbo frames: an 8 KiB PutFullData is 1026 flits + 2 = 8224 bytes (+ 8 trailer).
        assert_eq!(message_size_for_mtu(9000, false), 8192);
        assert_eq!(message_size_for_mtu(9000, true), 8192);
        assert_eq!(message_size_for_mtu(8224, false), 8192);
        assert_eq!(message_size_for_mtu(8224, true), 4096);
        assert_eq!(message_size_for_mtu(8232, true), 8192);
        assert_eq!(message_size_for_mtu(4128, false), 4096);
        assert_eq!(message_size_for_mtu(576, false), 512);
        assert_eq!(message_size_for_mtu(576, true), 512);
        assert_eq!(partial_message_size_for_mtu(576, false), 256);
        // PutFullData of 1 KiB: 132 flits + 2 = 1056 bytes; the trailer takes 8 more.
        assert_eq!(message_size_for_mtu(1056, false), 1024);
        assert_eq!(message_size_for_mtu(1056, true), 512);
        assert_eq!(message_size_for_mtu(1064, true), 1024);
        // PutPartialData of 1 KiB adds 16 mask flits: 1184 bytes.
        assert_eq!(partial_message_size_for_mtu(1183, false), 512);
        assert_eq!(partial_message_size_for_mtu(1184, false), 1024);
        assert_eq!(partial_message_size_for_mtu(1500, false), 1024);
        // An 8 KiB PutPartialData adds 128 mask flits: 9248 bytes, over 9000.
        assert_eq!(partial_message_size_for_mtu(9000, false), 4096);
        assert_eq!(partial_message_size_for_mtu(9000, true), 4096);
        assert_eq!(partial_message_size_for_mtu(9248, false), 8192);
        // Small MTUs: 32 bytes need 8 flits, 64 bytes; tiny ones still say 8.
        assert_eq!(message_size_for_mtu(64, false), 32);
        assert_eq!(message_size_for_mtu(64, true), 16);
        assert_eq!(message_size_for_mtu(0, true), 8);
        assert_eq!(message_size_for_mtu(u32::MAX, true), MAX_MESSAGE);
        assert_eq!(partial_message_size_for_mtu(u32::MAX, true), MAX_MESSAGE);
    }

    #[test]
    fn the_messages_really_fit_and_twice_the_size_does_not() {
        for mtu in MTUS {
            for integrity in [false, true] {
                for partial in [false, true] {
                    let size = if partial {
                        partial_message_size_for_mtu(mtu, integrity)
                    } else {
                        message_size_for_mtu(mtu, integrity)
                    };
                    assert!(size.is_power_of_two() && (MIN_MESSAGE..=MAX_MESSAGE).contains(&size));
                    messages(size, partial, |m| {
                        let len = frame_len(m, mtu, integrity);
                        assert!(
                            len.is_some_and(|l| l <= mtu as usize),
                            "{mtu} {integrity} {size}: {len:?}"
                        );
                    });
                    if size < MAX_MESSAGE {
                        // The PutFullData (or PutPartialData) of twice the size does not fit.
                        let data = [0u8; MAX_MESSAGE as usize];
                        let log2 = (size * 2).trailing_zeros() as u8;
                        let mask = [u64::MAX; MASK_WORDS];
                        let m = if partial {
                            Message::put_partial(
                                1,
                                0,
                                log2,
                                &data[..size as usize * 2],
                                &mask[..super::super::tilelink::mask_flits(log2)],
                            )
                        } else {
                            Message::put_full(1, 0, &data[..size as usize * 2])
                        };
                        assert_eq!(
                            frame_len(&m, mtu, integrity),
                            None,
                            "{mtu} {integrity} {size}"
                        );
                    }
                }
            }
        }
    }

    /// The two formulas this replaces, as they were written but for their cap, which was a
    /// page (4096) and is [`MAX_MESSAGE`] now.
    #[test]
    fn same_as_the_formulas_it_replaces() {
        for mtu in 64..10_000u32 {
            let mut module = MAX_MESSAGE;
            while module > 8 && (module / 8 + 4) * 8 > mtu {
                module /= 2;
            }
            assert_eq!(message_size_for_mtu(mtu, false), module, "{mtu}");
            assert_eq!(message_size_for_mtu(mtu + 8, true), module, "{mtu}");
            let mut client = 8usize;
            while client < MAX_MESSAGE as usize
                && Message::flits_for(
                    Channel::A,
                    Opcode::PutPartialData,
                    (client * 2).trailing_zeros() as u8,
                ) + 2
                    <= mtu as usize / 8
            {
                client *= 2;
            }
            assert_eq!(
                partial_message_size_for_mtu(mtu, false),
                client as u32,
                "{mtu}"
            );
        }
    }
}
