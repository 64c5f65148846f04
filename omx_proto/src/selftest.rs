//! A self-test of the codec on the spec's vectors, run where the codec runs (omx_mod runs it at
//! load time, as WireGuard tests its primitives): a frame codec miscompiled for a kernel, or
//! broken by a change the host tests did not cover, is refused before it touches a frame.
//!
//! The vectors are the crate's own test data: the spec's Appendix A frames (the capture in
//! `tests/fixtures`, which `tests/fixtures.rs` checks field by field on the host), decoded and
//! re-encoded byte-exact here, with the first frame's fields checked; a header flit; CRC-32C's
//! check value.

use super::ethernet::ETHERTYPE_OMNIXTEND;
use super::frame::{FrameBuilder, FrameLimits, FrameView};
use super::header::{MessageType, TloeHeader};
use super::integrity::crc32c;
use super::tilelink::{ByteOrder, Channel, Opcode};

/// The spec's Appendix A frames, a classic little-endian pcap file.
const APPENDIX_A: &[u8] = include_bytes!("../tests/fixtures/omnixtend-1.0.3-appendixA.pcap");
/// How many frames Appendix A lists.
const APPENDIX_A_FRAMES: usize = 9;
/// The largest Appendix A frame is 110 bytes; room to re-encode any of them.
const FRAME_ROOM: usize = 256;

/// Runs every self-test; the error names the first that failed.
pub fn selftest() -> Result<(), &'static str> {
    check_header_flit()?;
    check_crc32c()?;
    if check_capture(APPENDIX_A)? != APPENDIX_A_FRAMES {
        return Err("Appendix A: wrong number of frames");
    }
    Ok(())
}

fn check_header_flit() -> Result<(), &'static str> {
    // Appendix A's header flit (the header test of header.rs).
    const FLIT: u64 = 0x0002_E50D_15B5_2E48;
    let h = TloeHeader::from_flit(FLIT);
    let fields_ok = h.vc == 0
        && h.msg_type == MessageType::Normal
        && h.seq.get() == 0x2E50D
        && h.seq_ack.get() == 0x56D4B
        && h.ack
        && h.credit_chan == 2
        && h.credit == 8;
    if !fields_ok || h.to_flit() != FLIT {
        return Err("header: Appendix A's flit decodes or encodes wrong");
    }
    Ok(())
}

fn check_crc32c() -> Result<(), &'static str> {
    // The check value of CRC-32C (iSCSI, RFC 3720 B.4).
    if crc32c(b"123456789") != 0xE306_9283 {
        return Err("crc32c: wrong check value");
    }
    Ok(())
}

/// Decodes every frame of `pcap`, checks the first one's fields, re-encodes each byte-exact.
/// Returns the number of frames.
fn check_capture(pcap: &[u8]) -> Result<usize, &'static str> {
    let word = |at: usize| -> Result<usize, &'static str> {
        let b = pcap.get(at..at + 4).ok_or("capture: truncated")?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    if word(0)? != 0xa1b2_c3d4 {
        return Err("capture: not a little-endian pcap file");
    }
    let mut frames = 0;
    let mut at = 24;
    while at < pcap.len() {
        let len = word(at + 8)?;
        let frame = pcap
            .get(at + 16..at + 16 + len)
            .ok_or("capture: truncated frame")?;
        check_frame(frame, frames == 0)?;
        frames += 1;
        at += 16 + len;
    }
    Ok(frames)
}

fn check_frame(frame: &[u8], first: bool) -> Result<(), &'static str> {
    let (eth, view) = FrameView::parse_ethernet(frame, ByteOrder::Spec, true)
        .map_err(|_| "Appendix A: a frame does not decode")?;
    if eth.ethertype != ETHERTYPE_OMNIXTEND || view.computed_mask() != view.mask {
        return Err("Appendix A: wrong EtherType or mask");
    }
    // Every frame of Appendix A has the same header but for its credit (its decoded listing).
    let h = view.header;
    let m = view
        .messages()
        .next()
        .ok_or("Appendix A: a frame without a message")?;
    let common_ok = h.vc == 0
        && h.msg_type == MessageType::Normal
        && h.seq.get() == 189_709
        && h.seq_ack.get() == 355_659
        && h.ack;
    if !common_ok {
        return Err("Appendix A: wrong header fields");
    }
    // Frame 1: an A/Get with 256 credits for channel B.
    let first_ok = h.credit_chan == 2
        && h.credit == 8
        && m.chan == Channel::A
        && m.opcode == Opcode::Get
        && m.size == 5
        && m.source == 0x10f_3355
        && m.address == 0x7ba8_0000_130e_c440;
    if first && !first_ok {
        return Err("Appendix A frame 1: wrong fields");
    }
    let mut buf = [0u8; FRAME_ROOM];
    let mut b = FrameBuilder::new(
        &mut buf,
        Some(&eth),
        FrameLimits::default(),
        ByteOrder::Spec,
    )
    .map_err(|_| "Appendix A: no room to re-encode")?;
    let mut next = 1;
    for (start, m) in view.positioned() {
        if start > next {
            b.push_padding(start - next)
                .map_err(|_| "Appendix A: padding does not re-encode")?;
        }
        b.push(&m)
            .map_err(|_| "Appendix A: a message does not re-encode")?;
        next = start + m.flits();
    }
    let n = b
        .finish(&view.header)
        .map_err(|_| "Appendix A: a frame does not re-encode")?;
    if buf.get(..n) != Some(frame) {
        return Err("Appendix A: a frame re-encodes differently");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes() {
        assert_eq!(selftest(), Ok(()));
    }

    #[test]
    fn notices_a_changed_frame() {
        let mut pcap = [0u8; APPENDIX_A.len()];
        pcap.copy_from_slice(APPENDIX_A);
        // The last byte of the first frame's A/Get address (pcap header 24, record header 16,
        // Ethernet 14, TLoE header 8, A/Get's first flit 8, then the address).
        pcap[24 + 16 + 14 + 8 + 8 + 7] ^= 1;
        assert_eq!(
            check_capture(&pcap),
            Err("Appendix A frame 1: wrong fields")
        );
        // A bit of a later frame's header (its sequence number acknowledged).
        let mut pcap = [0u8; APPENDIX_A.len()];
        pcap.copy_from_slice(APPENDIX_A);
        pcap[24 + 16 + 62 + 16 + 20] ^= 0x80;
        assert_eq!(check_capture(&pcap), Err("Appendix A: wrong header fields"));
    }
}
