//! Encoding/decoding of every attribute and message of the omx family
//! against hand-computed bytes (little-endian hosts), plus round trips.

use netlink_packet_core::{
    DefaultNla, Emitable, NlaBuffer, Parseable, ParseableParametrized, NLM_F_ACK, NLM_F_DUMP,
    NLM_F_REQUEST,
};
use netlink_packet_generic::GenlHeader;

use super::attrs::*;
use super::messages::{OmxAttrs, OmxCmd, OmxMessage};
use super::socket::{decode_genl, encode_request, split_messages};
use super::{event_from_message, DevAddRequest, NodeAddRequest};
use crate::model::{Dev, Event, Node};

fn emit<T: Emitable>(v: &T) -> Vec<u8> {
    let mut buf = vec![0xaa; v.buffer_len()]; // garbage, so padding must be written
    v.emit(&mut buf);
    buf
}

fn parse_node(bytes: &[u8]) -> NodeAttr {
    NodeAttr::parse(&NlaBuffer::new_checked(bytes).unwrap()).unwrap()
}

fn parse_dev(bytes: &[u8]) -> DevAttr {
    DevAttr::parse(&NlaBuffer::new_checked(bytes).unwrap()).unwrap()
}

/// (attribute, its exact encoding) for every node attribute.
fn node_cases() -> Vec<(NodeAttr, Vec<u8>)> {
    vec![
        (NodeAttr::Id(7), vec![8, 0, 1, 0, 7, 0, 0, 0]),
        (
            NodeAttr::Ifname("eth1".into()),
            // len 9 = 4 + "eth1\0"; padded to 12
            vec![9, 0, 2, 0, b'e', b't', b'h', b'1', 0, 0, 0, 0],
        ),
        (NodeAttr::Ifindex(3), vec![8, 0, 3, 0, 3, 0, 0, 0]),
        (
            NodeAttr::IoTimeout(10_000),
            vec![8, 0, 12, 0, 0x10, 0x27, 0, 0],
        ),
        (
            NodeAttr::PeerMac([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]),
            // len 10 = 4 + 6; padded to 12
            vec![10, 0, 4, 0, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0],
        ),
        (
            NodeAttr::Size(4 << 30),
            vec![12, 0, 5, 0, 0, 0, 0, 0, 1, 0, 0, 0],
        ),
        (
            NodeAttr::ByteOrder(ByteOrder::Spec),
            vec![8, 0, 6, 0, 0, 0, 0, 0],
        ),
        (
            NodeAttr::ByteOrder(ByteOrder::Raw),
            vec![8, 0, 6, 0, 1, 0, 0, 0],
        ),
        (
            NodeAttr::Version(Version::V1_1),
            vec![8, 0, 7, 0, 0, 0, 0, 0],
        ),
        (
            NodeAttr::Version(Version::V1_0_3),
            vec![8, 0, 7, 0, 1, 0, 0, 0],
        ),
        (NodeAttr::Mtu(1500), vec![8, 0, 8, 0, 0xdc, 0x05, 0, 0]),
        (
            NodeAttr::State(NodeState::Connecting),
            vec![8, 0, 9, 0, 0, 0, 0, 0],
        ),
        (NodeAttr::State(NodeState::Up), vec![8, 0, 9, 0, 1, 0, 0, 0]),
        (
            NodeAttr::State(NodeState::Dead),
            vec![8, 0, 9, 0, 2, 0, 0, 0],
        ),
        (
            NodeAttr::State(NodeState::Closing),
            vec![8, 0, 9, 0, 3, 0, 0, 0],
        ),
        (
            NodeAttr::Stats(vec![
                NodeStatsAttr::TxFrames(1),
                NodeStatsAttr::Reconnects(0x0102),
            ]),
            vec![
                28, 0, 10, 0x80, // len 4 + 2 * 12, type 10 | NLA_F_NESTED
                12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, // tx-frames = 1
                12, 0, 10, 0, 2, 1, 0, 0, 0, 0, 0, 0, // reconnects = 0x102
            ],
        ),
    ]
}

fn dev_cases() -> Vec<(DevAttr, Vec<u8>)> {
    vec![
        (
            DevAttr::Name("omx0".into()),
            vec![9, 0, 1, 0, b'o', b'm', b'x', b'0', 0, 0, 0, 0],
        ),
        (
            DevAttr::Name("omx12345".into()),
            // 8 chars + NUL = 9 -> len 13, padded to 16
            vec![
                13, 0, 1, 0, b'o', b'm', b'x', b'1', b'2', b'3', b'4', b'5', 0, 0, 0, 0,
            ],
        ),
        (
            DevAttr::Size(8 << 30),
            vec![12, 0, 2, 0, 0, 0, 0, 0, 2, 0, 0, 0],
        ),
        (DevAttr::NodeId(2), vec![8, 0, 3, 0, 2, 0, 0, 0]),
        (DevAttr::Replicas(2), vec![8, 0, 4, 0, 2, 0, 0, 0]),
        (DevAttr::FailedNodeId(3), vec![8, 0, 6, 0, 3, 0, 0, 0]),
        (
            DevAttr::Stats(vec![
                DevStatsAttr::Reads(5),
                DevStatsAttr::InFlight(u64::MAX),
            ]),
            vec![
                28, 0, 5, 0x80, // len 28, type 5 | NLA_F_NESTED
                12, 0, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, // reads = 5
                12, 0, 7, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // in-flight
            ],
        ),
    ]
}

#[test]
fn node_attributes_encode_and_decode() {
    for (attr, bytes) in node_cases() {
        assert_eq!(emit(&attr), bytes, "encoding {attr:?}");
        assert_eq!(emit(&attr).len() % 4, 0);
        assert_eq!(parse_node(&bytes), attr, "decoding {bytes:?}");
    }
}

#[test]
fn dev_attributes_encode_and_decode() {
    for (attr, bytes) in dev_cases() {
        assert_eq!(emit(&attr), bytes, "encoding {attr:?}");
        assert_eq!(parse_dev(&bytes), attr, "decoding {bytes:?}");
    }
}

#[test]
fn every_counter_has_its_spec_number() {
    let node_stats = NodeStats {
        tx_frames: 1,
        rx_frames: 2,
        tx_bytes: 3,
        rx_bytes: 4,
        retransmits: 5,
        naks_sent: 6,
        naks_received: 7,
        malformed: 8,
        timeouts: 9,
        reconnects: 10,
        integrity_errors: 11,
        out_of_window: 12,
        out_of_order: 13,
        duplicates: 14,
    };
    // Attribute type i carries value i: spec order is numbering order.
    for a in node_stats.to_attrs() {
        let b = emit(&a);
        assert_eq!(b.len(), 12);
        assert_eq!(b[0..2], [12, 0]);
        let kind = u16::from_ne_bytes([b[2], b[3]]);
        assert_eq!(
            u64::from_ne_bytes(b[4..12].try_into().unwrap()),
            kind as u64
        );
        let back = NodeStatsAttr::parse(&NlaBuffer::new(&b[..])).unwrap();
        assert_eq!(back, a);
    }
    assert_eq!(NodeStats::from_attrs(&node_stats.to_attrs()), node_stats);

    let dev_stats = DevStats {
        reads: 1,
        writes: 2,
        read_bytes: 3,
        write_bytes: 4,
        discards: 5,
        errors: 6,
        in_flight: 7,
        failovers: 8,
        readahead_hits: 9,
        readahead_fetches: 10,
    };
    for a in dev_stats.to_attrs() {
        let b = emit(&a);
        let kind = u16::from_ne_bytes([b[2], b[3]]);
        assert_eq!(
            u64::from_ne_bytes(b[4..12].try_into().unwrap()),
            kind as u64
        );
    }
    assert_eq!(DevStats::from_attrs(&dev_stats.to_attrs()), dev_stats);

    let module = ModuleStats {
        rx_frames: 1,
        rx_malformed: 2,
        rx_unknown_peer: 3,
        rx_dropped: 4,
        rx_other_netns: 5,
    };
    for a in module.to_attrs() {
        let b = emit(&a);
        let kind = u16::from_ne_bytes([b[2], b[3]]);
        assert_eq!(
            u64::from_ne_bytes(b[4..12].try_into().unwrap()),
            kind as u64
        );
        assert_eq!(StatsAttr::parse(&NlaBuffer::new(&b[..])).unwrap(), a);
    }
    assert_eq!(ModuleStats::from_attrs(&module.to_attrs()), module);
}

#[test]
fn u64_values_need_no_8_byte_alignment() {
    // A u64 attribute after a u32 one sits at offset 8 of the stream and its
    // value at offset 12 (4 mod 8); start the stream at an odd address too.
    let mut stream = vec![0xee];
    stream.extend([8, 0, 1, 0, 1, 0, 0, 0]); // id = 1
    stream.extend([12, 0, 5, 0, 8, 7, 6, 5, 4, 3, 2, 1]); // size
    let attrs = parse_attrs(&stream[1..], |nla| NodeAttr::parse(nla)).unwrap();
    assert_eq!(
        attrs,
        vec![NodeAttr::Id(1), NodeAttr::Size(0x0102_0304_0506_0708)]
    );
}

#[test]
fn u64_accepts_4_byte_values_and_rejects_odd_sizes() {
    assert_eq!(
        parse_node(&[8, 0, 5, 0, 0, 0x10, 0, 0]),
        NodeAttr::Size(0x1000)
    );
    let bad = [7u8, 0, 5, 0, 1, 2, 3, 0];
    assert!(NodeAttr::parse(&NlaBuffer::new_checked(&bad[..]).unwrap()).is_err());
    let bad_u32 = [6u8, 0, 1, 0, 1, 2, 0, 0];
    assert!(NodeAttr::parse(&NlaBuffer::new_checked(&bad_u32[..]).unwrap()).is_err());
    let bad_mac = [9u8, 0, 4, 0, 1, 2, 3, 4, 5, 0, 0, 0];
    assert!(NodeAttr::parse(&NlaBuffer::new_checked(&bad_mac[..]).unwrap()).is_err());
}

#[test]
fn pad_attributes_before_u64_are_skipped() {
    // nla_put_64bit() on strict-alignment architectures inserts an empty
    // attribute of the pad type (0 in omx_mod) before the u64.
    let mut stream = Vec::new();
    stream.extend([8, 0, 1, 0, 1, 0, 0, 0]); // id = 1
    stream.extend([4, 0, 0, 0]); // pad (type 0, no value)
    stream.extend([12, 0, 5, 0, 0, 0x10, 0, 0, 0, 0, 0, 0]); // size = 4096
    let attrs = parse_attrs(&stream, |nla| NodeAttr::parse(nla)).unwrap();
    let node = Node::from_attrs(&attrs);
    assert_eq!(node.id, 1);
    assert_eq!(node.size, Some(4096));
    assert!(matches!(attrs[1], NodeAttr::Other(_)));
}

#[test]
fn nested_stats_decode_without_nested_flag() {
    // nla_nest_start_noflag() leaves NLA_F_NESTED clear.
    let bytes = [16u8, 0, 10, 0, 12, 0, 9, 0, 3, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(
        parse_node(&bytes),
        NodeAttr::Stats(vec![NodeStatsAttr::Timeouts(3)])
    );
}

#[test]
fn unknown_attributes_are_kept() {
    let bytes = [8u8, 0, 42, 0, 1, 2, 3, 4];
    let a = parse_node(&bytes);
    assert_eq!(a, NodeAttr::Other(DefaultNla::new(42, vec![1, 2, 3, 4])));
    assert_eq!(emit(&a), bytes);
    let d = parse_dev(&bytes);
    assert!(matches!(d, DevAttr::Other(_)));
    // Unknown counter inside a nest, and unknown enum values.
    let s = NodeStatsAttr::parse(&NlaBuffer::new(
        &[12u8, 0, 99, 0, 1, 0, 0, 0, 0, 0, 0, 0][..],
    ))
    .unwrap();
    assert!(matches!(s, NodeStatsAttr::Other(_)));
    assert_eq!(
        parse_node(&[8, 0, 9, 0, 7, 0, 0, 0]),
        NodeAttr::State(NodeState::Other(7))
    );
    assert_eq!(u32::from(NodeState::Other(7)), 7);
}

#[test]
fn strings_without_nul_decode() {
    assert_eq!(
        parse_dev(&[8, 0, 1, 0, b'o', b'm', b'x', b'1']),
        DevAttr::Name("omx1".into())
    );
}

#[test]
fn command_numbers_follow_the_spec() {
    let names: Vec<(u8, &str)> = OmxCmd::ALL.iter().map(|c| (*c as u8, c.name())).collect();
    assert_eq!(
        names,
        vec![
            (1, "node-add"),
            (2, "node-del"),
            (3, "node-get"),
            (4, "dev-add"),
            (5, "dev-del"),
            (6, "dev-get"),
            (7, "stats-get"),
            (8, "node-state-ntf"),
            (9, "dev-error-ntf"),
            (10, "lend-add"),
            (11, "lend-del"),
            (12, "lend-get"),
        ]
    );
    assert!(OmxCmd::try_from(0).is_err());
    assert!(OmxCmd::try_from(13).is_err());
    assert_eq!(OmxCmd::try_from(8).unwrap(), OmxCmd::NodeStateNtf);
}

#[test]
fn attribute_names_follow_the_command_set() {
    // Extended ACKs name the attribute of the failed command's set (error.rs).
    assert_eq!(
        OmxCmd::NodeGet.attr_name(node::INTEGRITY),
        Some("integrity")
    );
    assert_eq!(
        OmxCmd::NodeAdd.attr_name(node::IO_TIMEOUT),
        Some("io-timeout")
    );
    assert_eq!(OmxCmd::NodeStateNtf.attr_name(node::STATE), Some("state"));
    assert_eq!(
        OmxCmd::DevErrorNtf.attr_name(dev::FAILED_NODE_ID),
        Some("failed-node-id")
    );
    assert_eq!(
        OmxCmd::StatsGet.attr_name(stats::RX_OTHER_NETNS),
        Some("rx-other-netns")
    );
    assert_eq!(OmxCmd::DevAdd.attr_name(dev::FAILED_NODE_ID + 1), None);
}

fn nlmsghdr(len: u32, ty: u16, flags: u16, seq: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(len.to_ne_bytes());
    v.extend(ty.to_ne_bytes());
    v.extend(flags.to_ne_bytes());
    v.extend(seq.to_ne_bytes());
    v.extend(0u32.to_ne_bytes());
    v
}

#[test]
fn node_add_request_bytes() {
    let req = NodeAddRequest {
        ifname: "eth1".into(),
        peer_mac: [2, 0, 0, 0, 0, 2],
        size: 4 << 30,
        byte_order: ByteOrder::Raw,
        version: Version::V1_0_3,
        mtu: Some(1500),
        integrity: Integrity::Xxh64,
        io_timeout_ms: Some(2500),
    };
    let buf = encode_request(0x22, req.to_message(), NLM_F_REQUEST | NLM_F_ACK, 5);
    let mut want = nlmsghdr(16 + 4 + 12 + 12 + 12 + 8 + 8 + 8 + 8 + 8, 0x22, 0x5, 5);
    want.extend([1, 1, 0, 0]); // genlmsghdr: cmd node-add, version 1
    want.extend([9, 0, 2, 0, b'e', b't', b'h', b'1', 0, 0, 0, 0]);
    want.extend([10, 0, 4, 0, 2, 0, 0, 0, 0, 2, 0, 0]);
    want.extend([12, 0, 5, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
    want.extend([8, 0, 6, 0, 1, 0, 0, 0]);
    want.extend([8, 0, 7, 0, 1, 0, 0, 0]);
    want.extend([8, 0, 8, 0, 0xdc, 5, 0, 0]);
    want.extend([8, 0, 11, 0, 2, 0, 0, 0]); // integrity xxh64
    want.extend([8, 0, 12, 0, 0xc4, 9, 0, 0]); // io-timeout 2500 ms
    assert_eq!(buf, want);

    // Without --mtu the attribute is left out (kernel default).
    let req = NodeAddRequest { mtu: None, ..req };
    let buf = encode_request(0x22, req.to_message(), NLM_F_REQUEST | NLM_F_ACK, 5);
    assert_eq!(buf.len(), want.len() - 8);
}

#[test]
fn dev_add_request_repeats_node_id() {
    let req = DevAddRequest {
        name: "omx0".into(),
        size: 8 << 30,
        nodes: vec![1, 2],
        replicas: Some(2),
    };
    let buf = encode_request(0x22, req.to_message(), NLM_F_REQUEST | NLM_F_ACK, 1);
    let mut want = nlmsghdr(16 + 4 + 12 + 12 + 8 + 8 + 8, 0x22, 0x5, 1);
    want.extend([4, 1, 0, 0]); // dev-add
    want.extend([9, 0, 1, 0, b'o', b'm', b'x', b'0', 0, 0, 0, 0]);
    want.extend([12, 0, 2, 0, 0, 0, 0, 0, 2, 0, 0, 0]);
    want.extend([8, 0, 3, 0, 1, 0, 0, 0]);
    want.extend([8, 0, 3, 0, 2, 0, 0, 0]);
    want.extend([8, 0, 4, 0, 2, 0, 0, 0]);
    assert_eq!(buf, want);

    // All nodes, default replicas: just name and size.
    let req = DevAddRequest {
        nodes: vec![],
        replicas: None,
        ..req
    };
    let msg = req.to_message();
    assert_eq!(msg.buffer_len(), 24);
}

#[test]
fn del_get_and_dump_requests() {
    let cases: Vec<(OmxMessage, u16, Vec<u8>)> = vec![
        (
            OmxMessage::node(OmxCmd::NodeDel, vec![NodeAttr::Id(3)]),
            NLM_F_REQUEST | NLM_F_ACK,
            vec![2, 1, 0, 0, 8, 0, 1, 0, 3, 0, 0, 0],
        ),
        (
            OmxMessage::node(OmxCmd::NodeGet, vec![NodeAttr::Id(3)]),
            NLM_F_REQUEST | NLM_F_ACK,
            vec![3, 1, 0, 0, 8, 0, 1, 0, 3, 0, 0, 0],
        ),
        (
            OmxMessage::node(OmxCmd::NodeGet, vec![]),
            NLM_F_REQUEST | NLM_F_DUMP,
            vec![3, 1, 0, 0],
        ),
        (
            OmxMessage::dev(OmxCmd::DevDel, vec![DevAttr::Name("omx0".into())]),
            NLM_F_REQUEST | NLM_F_ACK,
            vec![5, 1, 0, 0, 9, 0, 1, 0, b'o', b'm', b'x', b'0', 0, 0, 0, 0],
        ),
        (
            OmxMessage::dev(OmxCmd::DevGet, vec![DevAttr::Name("omx0".into())]),
            NLM_F_REQUEST | NLM_F_ACK,
            vec![6, 1, 0, 0, 9, 0, 1, 0, b'o', b'm', b'x', b'0', 0, 0, 0, 0],
        ),
        (
            OmxMessage::dev(OmxCmd::DevGet, vec![]),
            NLM_F_REQUEST | NLM_F_DUMP,
            vec![6, 1, 0, 0],
        ),
        (
            OmxMessage::stats(vec![]),
            NLM_F_REQUEST | NLM_F_ACK,
            vec![7, 1, 0, 0],
        ),
    ];
    for (msg, flags, body) in cases {
        let buf = encode_request(0x30, msg.clone(), flags, 9);
        let mut want = nlmsghdr(16 + body.len() as u32, 0x30, flags, 9);
        want.extend(&body);
        assert_eq!(buf, want, "{msg:?}");
    }
    assert_eq!(NLM_F_REQUEST | NLM_F_DUMP, 0x301);
}

/// A kernel message: nlmsghdr + genlmsghdr(cmd, version 1) + attributes.
fn kernel_msg(family: u16, cmd: u8, attrs: &[u8]) -> Vec<u8> {
    let mut v = nlmsghdr(16 + 4 + attrs.len() as u32, family, 0x2, 0);
    v.extend([cmd, 1, 0, 0]);
    v.extend(attrs);
    v
}

#[test]
fn decodes_node_get_reply() {
    let mut attrs = Vec::new();
    for (_, bytes) in node_cases() {
        attrs.extend(bytes);
    }
    let buf = kernel_msg(0x30, 3, &attrs);
    let raw = split_messages(&buf).unwrap();
    let msg: OmxMessage = decode_genl(&raw[0]).unwrap();
    assert_eq!(msg.cmd, OmxCmd::NodeGet);
    let expected: Vec<NodeAttr> = node_cases().into_iter().map(|(a, _)| a).collect();
    assert_eq!(msg.attrs, OmxAttrs::Node(expected));
    let node = Node::from_attrs(msg.node_attrs().unwrap());
    assert_eq!(node.id, 7);
    assert_eq!(node.peer_mac, Some([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]));
    assert_eq!(node.state, Some(NodeState::Closing)); // last one wins
    assert_eq!(node.stats.unwrap().reconnects, 0x102);
}

#[test]
fn decodes_dev_get_reply_with_multi_attr_node_id() {
    let mut attrs = Vec::new();
    attrs.extend([9, 0, 1, 0, b'o', b'm', b'x', b'0', 0, 0, 0, 0]);
    attrs.extend([12, 0, 2, 0, 0, 0, 0, 0, 2, 0, 0, 0]);
    attrs.extend([8, 0, 3, 0, 2, 0, 0, 0]);
    attrs.extend([8, 0, 3, 0, 1, 0, 0, 0]);
    attrs.extend([8, 0, 4, 0, 2, 0, 0, 0]);
    let buf = kernel_msg(0x30, 6, &attrs);
    let raw = split_messages(&buf).unwrap();
    let msg: OmxMessage = decode_genl(&raw[0]).unwrap();
    let dev = Dev::from_attrs(msg.dev_attrs().unwrap());
    assert_eq!(dev.name, "omx0");
    assert_eq!(dev.size, Some(8 << 30));
    assert_eq!(dev.nodes, vec![2, 1]);
    assert_eq!(dev.replicas, Some(2));
    assert_eq!(dev.stats, None);
}

#[test]
fn decodes_stats_get_reply() {
    let mut attrs = Vec::new();
    for (kind, v) in [(1u16, 100u64), (2, 2), (3, 3), (4, 4), (5, 5)] {
        attrs.extend(12u16.to_ne_bytes());
        attrs.extend(kind.to_ne_bytes());
        attrs.extend(v.to_ne_bytes());
    }
    let buf = kernel_msg(0x30, 7, &attrs);
    let raw = split_messages(&buf).unwrap();
    let msg: OmxMessage = decode_genl(&raw[0]).unwrap();
    let s = ModuleStats::from_attrs(msg.stats_attrs().unwrap());
    assert_eq!(
        s,
        ModuleStats {
            rx_frames: 100,
            rx_malformed: 2,
            rx_unknown_peer: 3,
            rx_dropped: 4,
            rx_other_netns: 5
        }
    );
}

#[test]
fn decodes_notifications() {
    let mut attrs = Vec::new();
    attrs.extend([8, 0, 1, 0, 4, 0, 0, 0]);
    attrs.extend([8, 0, 9, 0, 2, 0, 0, 0]);
    let buf = kernel_msg(0x30, 8, &attrs);
    let raw = split_messages(&buf).unwrap();
    assert_eq!(raw[0].seq, 0);
    let msg: OmxMessage = decode_genl(&raw[0]).unwrap();
    match event_from_message(&msg).unwrap() {
        Event::NodeState { node } => {
            assert_eq!(node.id, 4);
            assert_eq!(node.state, Some(NodeState::Dead));
        }
        e => panic!("wrong event {e:?}"),
    }

    let buf = kernel_msg(0x30, 9, &[9, 0, 1, 0, b'o', b'm', b'x', b'3', 0, 0, 0, 0]);
    let raw = split_messages(&buf).unwrap();
    let msg: OmxMessage = decode_genl(&raw[0]).unwrap();
    assert_eq!(
        event_from_message(&msg),
        Some(Event::DevError {
            dev: Dev {
                name: "omx3".into(),
                ..Default::default()
            }
        })
    );

    // A reply command is not an event.
    let msg = OmxMessage::node(OmxCmd::NodeGet, vec![]);
    assert_eq!(event_from_message(&msg), None);
}

#[test]
fn rejects_unknown_command() {
    let err = OmxMessage::parse_with_param(
        &[][..],
        GenlHeader {
            cmd: 42,
            version: 1,
        },
    );
    assert!(err
        .unwrap_err()
        .to_string()
        .contains("unknown omx command 42"));
}

#[test]
fn every_message_round_trips() {
    let node_all: Vec<NodeAttr> = node_cases().into_iter().map(|(a, _)| a).collect();
    let dev_all: Vec<DevAttr> = dev_cases().into_iter().map(|(a, _)| a).collect();
    let msgs = vec![
        NodeAddRequest {
            ifname: "enp1s0".into(),
            peer_mac: [0x0a, 0, 0, 0, 0, 1],
            size: 3 << 29,
            byte_order: ByteOrder::Spec,
            version: Version::V1_1,
            mtu: None,
            integrity: Integrity::None,
            io_timeout_ms: Some(0),
        }
        .to_message(),
        OmxMessage::node(OmxCmd::NodeAdd, vec![NodeAttr::Id(1)]), // reply
        OmxMessage::node(OmxCmd::NodeDel, vec![NodeAttr::Id(1)]),
        OmxMessage::node(OmxCmd::NodeGet, node_all.clone()),
        OmxMessage::node(OmxCmd::NodeStateNtf, node_all),
        DevAddRequest {
            name: "omx9".into(),
            size: 4096,
            nodes: vec![3, 1, 2],
            replicas: Some(1),
        }
        .to_message(),
        OmxMessage::dev(OmxCmd::DevDel, vec![DevAttr::Name("omx9".into())]),
        OmxMessage::dev(OmxCmd::DevGet, dev_all.clone()),
        OmxMessage::dev(OmxCmd::DevErrorNtf, dev_all),
        OmxMessage::stats(ModuleStats::default().to_attrs()),
    ];
    for m in msgs {
        let buf = encode_request(0x30, m.clone(), 0, 0);
        let raw = split_messages(&buf).unwrap();
        assert_eq!(raw.len(), 1);
        assert_eq!(raw[0].payload[0], m.cmd as u8);
        assert_eq!(raw[0].payload[1], 1, "family version");
        let back: OmxMessage = decode_genl(&raw[0]).unwrap();
        assert_eq!(back, m);
    }
}
