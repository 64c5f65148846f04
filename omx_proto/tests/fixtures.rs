//! Spec Appendix A vectors and the real SiFive capture: decode every frame,
//! compare with the listed fields, re-encode byte-exact.

use omx_proto::frame::FrameLimits;
use omx_proto::tilelink::Channel;
use omx_proto::{ByteOrder, EthHeader, FrameBuilder, FrameView, Message, MessageType};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}{name}")).unwrap()
}

fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Frames of a classic little-endian pcap file.
fn pcap_frames(b: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(u32le(b, 0), 0xa1b2_c3d4, "little-endian pcap expected");
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= b.len() {
        let incl = u32le(b, at + 8) as usize;
        out.push(b[at + 16..at + 16 + incl].to_vec());
        at += 16 + incl;
    }
    out
}

/// Frames (Enhanced Packet Blocks) of a little-endian pcapng file.
fn pcapng_frames(b: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(u32le(b, 0), 0x0a0d_0d0a);
    assert_eq!(u32le(b, 8), 0x1a2b_3c4d, "little-endian pcapng expected");
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= b.len() {
        let ty = u32le(b, at);
        let len = u32le(b, at + 4) as usize;
        if ty == 6 {
            let cap = u32le(b, at + 20) as usize;
            out.push(b[at + 28..at + 28 + cap].to_vec());
        }
        at += len;
    }
    out
}

#[derive(Debug, Default)]
struct ExpMsg {
    flit: usize,
    chan: String,
    name: String,
    fields: Vec<(String, u64)>,
    data: Option<String>,
    masks: Vec<u64>,
}

#[derive(Debug, Default)]
struct ExpFrame {
    dst: String,
    src: String,
    ethertype: u16,
    len: usize,
    vc: u8,
    msg_type: String,
    seq: u32,
    seq_ack: u32,
    ack: bool,
    credit_chan: String,
    credit: u8,
    mask: u64,
    msgs: Vec<ExpMsg>,
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim().trim_start_matches("0x"), 16).unwrap()
}

fn kv<'a>(line: &'a str, key: &str) -> &'a str {
    let i = line.find(&format!("{key}=")).unwrap() + key.len() + 1;
    line[i..].split_whitespace().next().unwrap()
}

fn parse_decoded(text: &str) -> Vec<ExpFrame> {
    let mut frames: Vec<ExpFrame> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') {
            frames.push(ExpFrame {
                dst: kv(t, "dst").into(),
                src: kv(t, "src").into(),
                ethertype: hex(kv(t, "type")) as u16,
                len: kv(t, "len").parse().unwrap(),
                ..Default::default()
            });
        } else if let Some(rest) = t.strip_prefix("TLoE ") {
            let f = frames.last_mut().unwrap();
            f.vc = kv(rest, "vc").parse().unwrap();
            f.msg_type = kv(rest, "type").into();
            f.seq = kv(rest, "seq").parse().unwrap();
            f.seq_ack = kv(rest, "seq_ack").parse().unwrap();
            f.ack = rest.contains(" ACK ");
            f.credit_chan = kv(rest, "chan").into();
            f.credit = rest.rsplit("2^").next().unwrap().trim().parse().unwrap();
        } else if let Some(rest) = t.strip_prefix("frame mask=") {
            frames.last_mut().unwrap().mask = hex(rest);
        } else if let Some(rest) = t.strip_prefix("flit ") {
            let mut m = ExpMsg::default();
            let mut it = rest.splitn(3, ' ').filter(|s| !s.is_empty());
            m.flit = it.next().unwrap().parse().unwrap();
            let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
            let (kind, rest) = rest.split_once(' ').unwrap();
            let (chan, name) = kind.split_once('/').unwrap();
            m.chan = chan.into();
            m.name = name.into();
            let open = rest.find('{').unwrap();
            let close = rest.find('}').unwrap();
            for kvp in rest[open + 1..close].split(',') {
                let (k, v) = kvp.split_once(':').unwrap();
                let k = k.trim().trim_matches('\'').to_string();
                let v = hex(v.trim().trim_matches('\''));
                m.fields.push((k, v));
            }
            let tail = &rest[close + 1..];
            if tail.contains("data=") {
                m.data = Some(kv(tail, "data").into());
            }
            if let Some(i) = tail.find("bytemask=[") {
                let j = tail[i..].find(']').unwrap() + i;
                for w in tail[i + 10..j].split(',') {
                    m.masks.push(hex(w.trim().trim_matches('\'')));
                }
            }
            frames.last_mut().unwrap().msgs.push(m);
        }
    }
    frames
}

fn mac(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn chan_name(c: u8) -> &'static str {
    ["pad", "A", "B", "C", "D", "E", "6", "7"][c as usize]
}

fn type_name(t: MessageType) -> &'static str {
    match t {
        MessageType::Normal => "Normal",
        MessageType::AckOnly => "AckOnly",
        MessageType::OpenConnection => "OpenConnection",
        MessageType::CloseConnection => "CloseConnection",
        MessageType::Reserved(_) => "Reserved",
    }
}

fn msg_chan(c: Channel) -> &'static str {
    match c {
        Channel::A => "A",
        Channel::B => "B",
        Channel::C => "C",
        Channel::D => "D",
        Channel::E => "E",
    }
}

fn check_message(m: &Message<'_>, exp: &ExpMsg, ctx: &str) {
    assert_eq!(msg_chan(m.chan), exp.chan, "{ctx}: channel");
    assert_eq!(format!("{:?}", m.opcode), exp.name, "{ctx}: opcode");
    for (k, v) in &exp.fields {
        let got = match k.as_str() {
            "param" => m.param as u64,
            "size" => m.size as u64,
            "domain" => m.domain as u64,
            "err" => m.err as u64,
            "source" => m.source as u64,
            "address" => m.address,
            "sink" => m.sink as u64,
            other => panic!("{ctx}: unknown field {other}"),
        };
        assert_eq!(got, *v, "{ctx}: field {k}");
    }
    match &exp.data {
        Some(d) => {
            let mut buf = vec![0u8; m.data.len()];
            assert_eq!(m.data.copy_to(&mut buf), buf.len());
            let got: String = buf.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(&got, d, "{ctx}: data (memory order)");
        }
        None => assert!(m.data.is_none(), "{ctx}: unexpected data"),
    }
    for (g, w) in exp.masks.iter().enumerate() {
        assert_eq!(m.data.mask_word(g), Some(*w), "{ctx}: mask word {g}");
    }
}

/// Decodes `frame`, compares with `exp`, re-encodes and compares bytes.
fn check_frame(frame: &[u8], exp: &ExpFrame, ctx: &str) {
    assert_eq!(frame.len(), exp.len, "{ctx}: length");
    let (eth, view) = FrameView::parse_ethernet(frame, ByteOrder::Spec, true).unwrap();
    assert_eq!(mac(&eth.dst), exp.dst, "{ctx}");
    assert_eq!(mac(&eth.src), exp.src, "{ctx}");
    assert_eq!(eth.ethertype, exp.ethertype, "{ctx}");
    let h = view.header;
    assert_eq!(h.vc, exp.vc, "{ctx}: vc");
    assert_eq!(type_name(h.msg_type), exp.msg_type, "{ctx}: type");
    assert_eq!(h.seq.get(), exp.seq, "{ctx}: seq");
    assert_eq!(h.seq_ack.get(), exp.seq_ack, "{ctx}: seq_ack");
    assert_eq!(h.ack, exp.ack, "{ctx}: ack");
    assert_eq!(
        chan_name(h.credit_chan),
        exp.credit_chan,
        "{ctx}: credit chan"
    );
    assert_eq!(h.credit, exp.credit, "{ctx}: credit");
    assert_eq!(view.mask, exp.mask, "{ctx}: mask");
    assert_eq!(view.computed_mask(), exp.mask, "{ctx}: computed mask");
    let got: Vec<(usize, Message<'_>)> = view.positioned().collect();
    assert_eq!(got.len(), exp.msgs.len(), "{ctx}: message count");
    assert_eq!(view.message_count(), exp.msgs.len());
    for ((start, m), e) in got.iter().zip(&exp.msgs) {
        let c = format!("{ctx} flit {}", e.flit);
        assert_eq!(start - 1, e.flit, "{c}: position");
        check_message(m, e, &c);
    }

    // Re-encode byte-exact (padding only where the original has it).
    let mut buf = vec![0u8; 2048];
    let mut b = FrameBuilder::new(
        &mut buf,
        Some(&eth),
        FrameLimits::default(),
        ByteOrder::Spec,
    )
    .unwrap();
    let mut next = 1;
    for (start, m) in &got {
        if *start > next {
            b.push_padding(start - next).unwrap();
        }
        b.push(m).unwrap();
        next = start + m.flits();
    }
    let n = b.finish(&h).unwrap();
    assert_eq!(hex_str(&buf[..n]), hex_str(frame), "{ctx}: re-encoding");

    // Also re-encode from memory-order copies (exercises Data::Mem).
    let mut copies: Vec<(Vec<u8>, Vec<u64>)> = Vec::new();
    for (_, m) in &got {
        let mut d = vec![0u8; m.data.len()];
        m.data.copy_to(&mut d);
        let masks: Vec<u64> = (0..8).map_while(|g| m.data.mask_word(g)).collect();
        copies.push((d, masks));
    }
    let mut buf2 = vec![0u8; 2048];
    let eth2 = EthHeader { ..eth };
    let mut b = FrameBuilder::new(
        &mut buf2,
        Some(&eth2),
        FrameLimits::default(),
        ByteOrder::Spec,
    )
    .unwrap();
    let mut next = 1;
    for ((start, m), (d, masks)) in got.iter().zip(&copies) {
        if *start > next {
            b.push_padding(start - next).unwrap();
        }
        let mut m2 = *m;
        if !m.data.is_none() {
            m2.data = omx_proto::Data::Mem {
                bytes: d,
                mask: masks,
            };
        }
        b.push(&m2).unwrap();
        next = start + m.flits();
    }
    let n = b.finish(&h).unwrap();
    assert_eq!(
        hex_str(&buf2[..n]),
        hex_str(frame),
        "{ctx}: re-encoding from memory order"
    );
}

fn hex_str(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn spec_appendix_a() {
    let frames = pcap_frames(&read("omnixtend-1.0.3-appendixA.pcap"));
    let exp =
        parse_decoded(&String::from_utf8(read("omnixtend-1.0.3-appendixA_decoded.txt")).unwrap());
    assert_eq!(frames.len(), 9);
    assert_eq!(exp.len(), 9);
    // The JSON holds the same frames as hex and the payload words.
    let json = String::from_utf8(read("omnixtend-1.0.3-appendixA.json")).unwrap();
    let hexes: Vec<&str> = json
        .lines()
        .filter_map(|l| l.trim().strip_prefix("\"frame_hex\": \""))
        .map(|l| l.trim_end_matches(['"', ',']))
        .collect();
    assert_eq!(hexes.len(), 9);
    for (i, (f, e)) in frames.iter().zip(&exp).enumerate() {
        assert_eq!(hex_str(f), hexes[i], "pcap vs json frame {}", i + 1);
        check_frame(f, e, &format!("appendix A frame {}", i + 1));
    }
}

#[test]
fn sifive_capture() {
    let frames = pcapng_frames(&read("OmniXtend202010_ethertype_AAAA.pcapng"));
    let exp = parse_decoded(&String::from_utf8(read("OmniXtend202010_decoded.txt")).unwrap());
    assert_eq!(frames.len(), 20);
    assert_eq!(exp.len(), 20);
    for (i, (f, e)) in frames.iter().zip(&exp).enumerate() {
        check_frame(f, e, &format!("capture frame {}", i + 1));
    }
    // The originally published capture (EtherType 0) carries the same payloads.
    let orig = pcapng_frames(&read("OmniXtend202010.cap"));
    assert_eq!(orig.len(), 20);
    for (a, b) in orig.iter().zip(&frames) {
        let (ha, pa) = EthHeader::parse(a).unwrap();
        assert_eq!(ha.ethertype, 0);
        let (_, pb) = EthHeader::parse_omnixtend(b).unwrap();
        assert_eq!(pa, pb);
    }
}

#[test]
fn capture_credit_accounting() {
    // The peers' credit returns add up to the flit counts of the messages
    // (PROTOCOL.md §3.3): A = 2 per Acquire/Get, D = 10 for the GrantData.
    let frames = pcapng_frames(&read("OmniXtend202010_ethertype_AAAA.pcapng"));
    let mut sent = [[0u64; 5]; 2]; // per direction: flits sent by the master side
    let mut granted = [[0u64; 5]; 2];
    for f in &frames {
        let (eth, v) = FrameView::parse_ethernet(f, ByteOrder::Spec, true).unwrap();
        let from_master = eth.src[5] & 0xF0 == 0x10;
        let dir = usize::from(!from_master);
        for m in v.messages() {
            sent[dir][m.chan.index()] += m.flits() as u64;
        }
        if let Some((ch, n)) = v.header.credit_grant() {
            granted[1 - dir][ch.index()] += n;
        }
    }
    // master -> slave A flits (2 Acquire + 4 Get = 12) were all returned
    assert_eq!(sent[0][Channel::A.index()], 12);
    assert_eq!(granted[0][Channel::A.index()], 12);
    // slave -> master D: 2 GrantData (20) + 4 AccessAckData (2 each) = 28;
    // returned: 10 for the first GrantData (4+2+4), 7 of the 8 AccessAckData
    // flits (1+4+2); the second GrantData's credits fall after the capture.
    assert_eq!(sent[1][Channel::D.index()], 28);
    assert_eq!(granted[1][Channel::D.index()], 4 + 2 + 4 + 1 + 4 + 2);
    assert_eq!(sent[0][Channel::E.index()], 1);
    assert_eq!(granted[0][Channel::E.index()], 1);
}
