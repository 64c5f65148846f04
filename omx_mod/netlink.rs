// SPDX-License-Identifier: GPL-2.0

//! The `omx` generic netlink family as numbers and policies, mirroring
//! `Documentation/netlink/specs/omx.yaml` (YNL numbering: commands and attributes from 1,
//! enums from 0). Keep both in sync.

use crate::glue::genl::{AttrPolicy as P, FamilySpec, OpSpec};

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
}

/// Attributes of the `stats` set.
pub(crate) mod stats {
    pub(crate) const RX_FRAMES: u16 = 1;
    pub(crate) const RX_MALFORMED: u16 = 2;
    pub(crate) const RX_UNKNOWN_PEER: u16 = 3;
    pub(crate) const RX_DROPPED: u16 = 4;
    pub(crate) const RX_OTHER_NETNS: u16 = 5;
}

/// Index of the `events` multicast group.
pub(crate) const MCGRP_EVENTS: u32 = 0;

/// Largest interface name (IFNAMSIZ - 1).
const IFNAME_MAX: u16 = 15;
const DEV_NAME_MAX: u16 = 31;

const NODE_ADD_POLICY: [P; 12] = [
    P::Reject,                          // id: chosen by the module
    P::String { max_len: IFNAME_MAX },  // ifname
    P::Reject,                          // ifindex: reported, not set
    P::ExactLen(6),                     // peer-mac
    P::U64,                             // size
    P::U32Max(1),                       // byte-order
    P::U32Max(1),                       // version
    P::U32,                             // mtu
    P::Reject,                          // state: reported, not set
    P::Reject,                          // stats: reported, not set
    P::U32Max(1),                       // integrity
    P::U32,                             // io-timeout (ms; range checked by node-add)
];
const NODE_ID_POLICY: [P; 1] = [P::U32];
const DEV_ADD_POLICY: [P; 4] = [P::String { max_len: DEV_NAME_MAX }, P::U64, P::U32, P::U32];
const DEV_NAME_POLICY: [P; 1] = [P::String { max_len: DEV_NAME_MAX }];

// Commands that change state (admin) are refused outside the initial network namespace, where
// pool nodes and devices live; the others answer everywhere with the host's view
// (Documentation/design.md, "Network namespaces").
const OPS: [OpSpec; 7] = [
    OpSpec { cmd: cmd::NODE_ADD, admin: true, initial_netns_only: true, doit: true, dumpit: false, policy: &NODE_ADD_POLICY },
    OpSpec { cmd: cmd::NODE_DEL, admin: true, initial_netns_only: true, doit: true, dumpit: false, policy: &NODE_ID_POLICY },
    OpSpec { cmd: cmd::NODE_GET, admin: false, initial_netns_only: false, doit: true, dumpit: true, policy: &NODE_ID_POLICY },
    OpSpec { cmd: cmd::DEV_ADD, admin: true, initial_netns_only: true, doit: true, dumpit: false, policy: &DEV_ADD_POLICY },
    OpSpec { cmd: cmd::DEV_DEL, admin: true, initial_netns_only: true, doit: true, dumpit: false, policy: &DEV_NAME_POLICY },
    OpSpec { cmd: cmd::DEV_GET, admin: false, initial_netns_only: false, doit: true, dumpit: true, policy: &DEV_NAME_POLICY },
    OpSpec { cmd: cmd::STATS_GET, admin: false, initial_netns_only: false, doit: true, dumpit: false, policy: &[] },
];

/// The `omx` family.
pub(crate) static FAMILY: FamilySpec = FamilySpec {
    name: kernel::c_str!("omx"),
    version: 1,
    ops: &OPS,
    mcast_groups: &[kernel::c_str!("events")],
    other_netns_msg: kernel::c_str!(
        "omx_mod: pool nodes belong to the initial network namespace; run omxctl there (e.g. nsenter -t 1 -n omxctl ...)"
    ),
};
