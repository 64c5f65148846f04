//! omx-pcap-check: decodes every EtherType 0xAAAA frame of a capture (classic pcap, Ethernet
//! link type, as `tcpdump -w` writes it) with the protocol core and reports what it found.
//! Exits 1 if any OmniXtend frame does not decode (strict frame-mask check), 2 on bad usage.
//! Frames with omx's integrity trailer (`omx_proto::integrity`) are checked and decoded
//! without it.
//!
//!     omx-pcap-check CAPTURE.pcap [--byte-order spec|raw]

use omx_proto::{integrity, ByteOrder, FrameView, MessageType, ETHERTYPE_OMNIXTEND};
use std::process::ExitCode;

/// Classic pcap: 24-byte file header, then 16-byte record headers, either byte order.
fn records(file: &[u8]) -> Result<Vec<&[u8]>, String> {
    let magic = file.get(..4).ok_or("file too short for a pcap header")?;
    let little = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => return Err("not a classic pcap file (pcapng is not supported)".into()),
    };
    let u32_at = |off: usize| -> Option<u32> {
        let b: [u8; 4] = file.get(off..off + 4)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    if u32_at(20) != Some(1) {
        return Err("capture is not of Ethernet frames (link type 1)".into());
    }
    let mut out = Vec::new();
    let mut off = 24;
    while off < file.len() {
        let caplen = u32_at(off + 8).ok_or("truncated record header")? as usize;
        let data = file
            .get(off + 16..off + 16 + caplen)
            .ok_or("truncated record")?;
        out.push(data);
        off += 16 + caplen;
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, order) = match args.as_slice() {
        [p] => (p, ByteOrder::Spec),
        [p, flag, o] if flag == "--byte-order" && (o == "spec" || o == "raw") => (
            p,
            if o == "raw" {
                ByteOrder::Raw
            } else {
                ByteOrder::Spec
            },
        ),
        _ => {
            eprintln!("usage: omx-pcap-check CAPTURE.pcap [--byte-order spec|raw]");
            return ExitCode::from(2);
        }
    };
    let file = match std::fs::read(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("omx-pcap-check: cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let frames = match records(&file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("omx-pcap-check: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut omx, mut bad, mut messages, mut opens, mut trailers) = (0u64, 0u64, 0u64, 0u64, 0u64);
    for (i, frame) in frames.iter().enumerate() {
        // EtherType after the two MACs (an 802.1Q tag is handled by the decoder).
        let ethertype = frame.get(12..14).map(|b| u16::from_be_bytes([b[0], b[1]]));
        let tagged = ethertype == Some(0x8100)
            && frame.get(16..18).map(|b| u16::from_be_bytes([b[0], b[1]]))
                == Some(ETHERTYPE_OMNIXTEND);
        if ethertype != Some(ETHERTYPE_OMNIXTEND) && !tagged {
            continue;
        }
        omx += 1;
        let payload = frame.get(if tagged { 18 } else { 14 }..).unwrap_or(&[]);
        let payload = match integrity::detect(payload) {
            Some((_, p)) => {
                trailers += 1;
                p
            }
            None => payload,
        };
        match FrameView::parse(payload, order, true) {
            Ok(view) => {
                messages += view.message_count() as u64;
                if view.header.msg_type == MessageType::OpenConnection {
                    opens += 1;
                }
            }
            Err(e) => {
                bad += 1;
                if bad <= 10 {
                    eprintln!("frame {} ({} bytes): {e:?}", i + 1, frame.len());
                }
            }
        }
    }
    println!(
        "{path}: {} frames, {omx} OmniXtend ({trailers} with the integrity trailer), {bad} invalid, {messages} TileLink messages, {opens} OpenConnection",
        frames.len()
    );
    if bad > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
