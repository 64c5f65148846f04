// SPDX-License-Identifier: GPL-2.0
// Generated from Documentation/netlink/specs/omx.yaml by scripts/netlink-gen.py; do not edit.
// Regenerate with scripts/netlink-gen.sh; scripts/checks/netlink-spec.sh fails on drift.

//! The `omx` generic netlink family as numbers, attribute policies and operations
//! (YNL numbering: commands and attributes from 1 in listed order, enum values from 0).

use crate::glue::genl::{AttrPolicy as P, OpSpec};
use kernel::str::CStr;

/// Family name.
pub(crate) const NAME: &CStr = kernel::c_str!("omx");
/// Family version.
pub(crate) const VERSION: u32 = 1;

/// Commands.
pub(crate) mod cmd {
    pub(crate) const NODE_ADD: u8 = 1;
    pub(crate) const NODE_DEL: u8 = 2;
    pub(crate) const NODE_GET: u8 = 3;
    pub(crate) const DEV_ADD: u8 = 4;
    pub(crate) const DEV_DEL: u8 = 5;
    pub(crate) const DEV_GET: u8 = 6;
    pub(crate) const STATS_GET: u8 = 7;
    pub(crate) const NODE_STATE_NTF: u8 = 8;
    pub(crate) const DEV_ERROR_NTF: u8 = 9;
    pub(crate) const LEND_ADD: u8 = 10;
    pub(crate) const LEND_DEL: u8 = 11;
    pub(crate) const LEND_GET: u8 = 12;
}

/// Attributes of the `node` set.
pub(crate) mod node {
    pub(crate) const ID: u16 = 1;
    pub(crate) const IFNAME: u16 = 2;
    pub(crate) const IFINDEX: u16 = 3;
    pub(crate) const PEER_MAC: u16 = 4;
    pub(crate) const SIZE: u16 = 5;
    pub(crate) const BYTE_ORDER: u16 = 6;
    pub(crate) const VERSION: u16 = 7;
    pub(crate) const MTU: u16 = 8;
    pub(crate) const STATE: u16 = 9;
    pub(crate) const STATS: u16 = 10;
    pub(crate) const INTEGRITY: u16 = 11;
    pub(crate) const IO_TIMEOUT: u16 = 12;
    pub(crate) const READ_LATENCY: u16 = 13;
    pub(crate) const WRITE_LATENCY: u16 = 14;
}

/// Attributes of the `node-stats` set.
pub(crate) mod node_stats {
    pub(crate) const TX_FRAMES: u16 = 1;
    pub(crate) const RX_FRAMES: u16 = 2;
    pub(crate) const TX_BYTES: u16 = 3;
    pub(crate) const RX_BYTES: u16 = 4;
    pub(crate) const RETRANSMITS: u16 = 5;
    pub(crate) const NAKS_SENT: u16 = 6;
    pub(crate) const NAKS_RECEIVED: u16 = 7;
    pub(crate) const MALFORMED: u16 = 8;
    pub(crate) const TIMEOUTS: u16 = 9;
    pub(crate) const RECONNECTS: u16 = 10;
    pub(crate) const INTEGRITY_ERRORS: u16 = 11;
    pub(crate) const OUT_OF_WINDOW: u16 = 12;
    pub(crate) const OUT_OF_ORDER: u16 = 13;
    pub(crate) const DUPLICATES: u16 = 14;
}

/// Attributes of the `latency` set.
pub(crate) mod latency {
    pub(crate) const LE_8US: u16 = 1;
    pub(crate) const LE_16US: u16 = 2;
    pub(crate) const LE_32US: u16 = 3;
    pub(crate) const LE_64US: u16 = 4;
    pub(crate) const LE_128US: u16 = 5;
    pub(crate) const LE_256US: u16 = 6;
    pub(crate) const LE_512US: u16 = 7;
    pub(crate) const LE_1024US: u16 = 8;
    pub(crate) const LE_2048US: u16 = 9;
    pub(crate) const LE_4096US: u16 = 10;
    pub(crate) const LE_8192US: u16 = 11;
    pub(crate) const LE_16384US: u16 = 12;
    pub(crate) const LE_32768US: u16 = 13;
    pub(crate) const LE_65536US: u16 = 14;
    pub(crate) const LE_131072US: u16 = 15;
    pub(crate) const LE_262144US: u16 = 16;
    pub(crate) const LE_524288US: u16 = 17;
    pub(crate) const LE_1048576US: u16 = 18;
    pub(crate) const LE_2097152US: u16 = 19;
    pub(crate) const LE_4194304US: u16 = 20;
    pub(crate) const LE_8388608US: u16 = 21;
    pub(crate) const LE_16777216US: u16 = 22;
    pub(crate) const LE_33554432US: u16 = 23;
    pub(crate) const LONGER: u16 = 24;
    pub(crate) const SUM_US: u16 = 25;
}

/// Attributes of the `dev` set.
pub(crate) mod dev {
    pub(crate) const NAME: u16 = 1;
    pub(crate) const SIZE: u16 = 2;
    pub(crate) const NODE_ID: u16 = 3;
    pub(crate) const REPLICAS: u16 = 4;
    pub(crate) const STATS: u16 = 5;
    pub(crate) const FAILED_NODE_ID: u16 = 6;
}

/// Attributes of the `dev-stats` set.
pub(crate) mod dev_stats {
    pub(crate) const READS: u16 = 1;
    pub(crate) const WRITES: u16 = 2;
    pub(crate) const READ_BYTES: u16 = 3;
    pub(crate) const WRITE_BYTES: u16 = 4;
    pub(crate) const DISCARDS: u16 = 5;
    pub(crate) const ERRORS: u16 = 6;
    pub(crate) const IN_FLIGHT: u16 = 7;
    pub(crate) const FAILOVERS: u16 = 8;
    pub(crate) const READAHEAD_HITS: u16 = 9;
    pub(crate) const READAHEAD_FETCHES: u16 = 10;
}

/// Attributes of the `lend` set.
pub(crate) mod lend {
    pub(crate) const ID: u16 = 1;
    pub(crate) const IFNAME: u16 = 2;
    pub(crate) const IFINDEX: u16 = 3;
    pub(crate) const CLIENT_MAC: u16 = 4;
    pub(crate) const SIZE: u16 = 5;
    pub(crate) const STATE: u16 = 6;
    pub(crate) const STATS: u16 = 7;
}

/// Attributes of the `lend-stats` set.
pub(crate) mod lend_stats {
    pub(crate) const GETS: u16 = 1;
    pub(crate) const PUTS: u16 = 2;
    pub(crate) const OTHER_REQUESTS: u16 = 3;
    pub(crate) const DATA_READ: u16 = 4;
    pub(crate) const DATA_WRITTEN: u16 = 5;
    pub(crate) const DENIED: u16 = 6;
    pub(crate) const MALFORMED: u16 = 7;
    pub(crate) const BACKPRESSURE_DROPS: u16 = 8;
    pub(crate) const DEFERRED: u16 = 9;
    pub(crate) const TX_FRAMES: u16 = 10;
    pub(crate) const RX_FRAMES: u16 = 11;
    pub(crate) const RETRANSMITS: u16 = 12;
    pub(crate) const TIMEOUTS: u16 = 13;
    pub(crate) const CONNECTIONS: u16 = 14;
    pub(crate) const TX_ERRORS: u16 = 15;
    pub(crate) const HELD_BATCHES: u16 = 16;
}

/// Attributes of the `stats` set.
pub(crate) mod stats {
    pub(crate) const RX_FRAMES: u16 = 1;
    pub(crate) const RX_MALFORMED: u16 = 2;
    pub(crate) const RX_UNKNOWN_PEER: u16 = 3;
    pub(crate) const RX_DROPPED: u16 = 4;
    pub(crate) const RX_OTHER_NETNS: u16 = 5;
}

/// Values of the `byte-order` enum (Order of data bytes in TileLink data flits).
pub(crate) mod byte_order {
    pub(crate) const SPEC: u32 = 0;
    pub(crate) const RAW: u32 = 1;
}

/// Values of the `version` enum (OmniXtend protocol version of a connection).
pub(crate) mod version {
    pub(crate) const V1_1: u32 = 0;
    pub(crate) const V1_0_3: u32 = 1;
}

/// Values of the `node-state` enum.
pub(crate) mod node_state {
    pub(crate) const CONNECTING: u32 = 0;
    pub(crate) const UP: u32 = 1;
    pub(crate) const DEAD: u32 = 2;
    pub(crate) const CLOSING: u32 = 3;
}

/// Values of the `lend-state` enum (The connection of a client this host lends memory to).
pub(crate) mod lend_state {
    pub(crate) const WAITING: u32 = 0;
    pub(crate) const OPEN: u32 = 1;
    pub(crate) const CLOSING: u32 = 2;
}

/// Values of the `integrity` enum (End-to-end check of every frame beyond the Ethernet FCS).
pub(crate) mod integrity {
    pub(crate) const NONE: u32 = 0;
    pub(crate) const CRC32C: u32 = 1;
    pub(crate) const XXH64: u32 = 2;
}

/// Multicast groups; an event names its group by index.
pub(crate) const MCAST_GROUPS: [&CStr; 1] = [kernel::c_str!("events")];
/// Index of the `events` multicast group.
pub(crate) const MCGRP_EVENTS: u32 = 0;

/// What a `node-add` request may carry (attribute types 1..=12).
const NODE_ADD_POLICY: [P; 12] = [
    P::Reject,                 // id: not in the request
    P::String { max_len: 15 }, // ifname
    P::Reject,                 // ifindex: not in the request
    P::ExactLen(6),            // peer-mac
    P::U64,                    // size
    P::U32Max(1),              // byte-order
    P::U32Max(1),              // version
    P::U32,                    // mtu
    P::Reject,                 // state: not in the request
    P::Reject,                 // stats: not in the request
    P::U32Max(2),              // integrity
    P::U32,                    // io-timeout
];

/// What a `node-del` request may carry (attribute types 1..=1).
const NODE_DEL_POLICY: [P; 1] = [
    P::U32, // id
];

/// What a `node-get` request may carry (attribute types 1..=1).
const NODE_GET_POLICY: [P; 1] = [
    P::U32, // id
];

/// What a `dev-add` request may carry (attribute types 1..=4).
const DEV_ADD_POLICY: [P; 4] = [
    P::String { max_len: 31 }, // name
    P::U64,                    // size
    P::U32,                    // node-id
    P::U32,                    // replicas
];

/// What a `dev-del` request may carry (attribute types 1..=1).
const DEV_DEL_POLICY: [P; 1] = [
    P::String { max_len: 31 }, // name
];

/// What a `dev-get` request may carry (attribute types 1..=1).
const DEV_GET_POLICY: [P; 1] = [
    P::String { max_len: 31 }, // name
];

/// What a `lend-add` request may carry (attribute types 1..=5).
const LEND_ADD_POLICY: [P; 5] = [
    P::Reject,                 // id: not in the request
    P::String { max_len: 15 }, // ifname
    P::Reject,                 // ifindex: not in the request
    P::ExactLen(6),            // client-mac
    P::U64,                    // size
];

/// What a `lend-del` request may carry (attribute types 1..=1).
const LEND_DEL_POLICY: [P; 1] = [
    P::U32, // id
];

/// What a `lend-get` request may carry (attribute types 1..=1).
const LEND_GET_POLICY: [P; 1] = [
    P::U32, // id
];

/// Operations. `admin-perm` commands are for CAP_NET_ADMIN in the initial network
/// namespace only, where pool nodes and devices live (the spec's doc).
pub(crate) const OPS: [OpSpec; 10] = [
    OpSpec {
        cmd: cmd::NODE_ADD,
        admin: true,
        initial_netns_only: true,
        doit: true,
        dumpit: false,
        policy: &NODE_ADD_POLICY,
    },
    OpSpec {
        cmd: cmd::NODE_DEL,
        admin: true,
        initial_netns_only: true,
        doit: true,
        dumpit: false,
        policy: &NODE_DEL_POLICY,
    },
    OpSpec {
        cmd: cmd::NODE_GET,
        admin: false,
        initial_netns_only: false,
        doit: true,
        dumpit: true,
        policy: &NODE_GET_POLICY,
    },
    OpSpec {
        cmd: cmd::DEV_ADD,
        admin: true,
        initial_netns_only: true,
        doit: true,
        dumpit: false,
        policy: &DEV_ADD_POLICY,
    },
    OpSpec {
        cmd: cmd::DEV_DEL,
        admin: true,
        initial_netns_only: true,
        doit: true,
        dumpit: false,
        policy: &DEV_DEL_POLICY,
    },
    OpSpec {
        cmd: cmd::DEV_GET,
        admin: false,
        initial_netns_only: false,
        doit: true,
        dumpit: true,
        policy: &DEV_GET_POLICY,
    },
    OpSpec {
        cmd: cmd::STATS_GET,
        admin: false,
        initial_netns_only: false,
        doit: true,
        dumpit: false,
        policy: &[],
    },
    OpSpec {
        cmd: cmd::LEND_ADD,
        admin: true,
        initial_netns_only: true,
        doit: true,
        dumpit: false,
        policy: &LEND_ADD_POLICY,
    },
    OpSpec {
        cmd: cmd::LEND_DEL,
        admin: true,
        initial_netns_only: true,
        doit: true,
        dumpit: false,
        policy: &LEND_DEL_POLICY,
    },
    OpSpec {
        cmd: cmd::LEND_GET,
        admin: false,
        initial_netns_only: false,
        doit: true,
        dumpit: true,
        policy: &LEND_GET_POLICY,
    },
];
