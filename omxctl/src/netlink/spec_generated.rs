// Generated from Documentation/netlink/specs/omx.yaml by scripts/netlink-gen.py; do not edit.
// Regenerate with scripts/netlink-gen.sh; scripts/checks/netlink-spec.sh fails on drift.
// Included by attrs.rs, after its macros u32_enum! and counter_set!.

/// Generic netlink family name.
pub const FAMILY_NAME: &str = "omx";
/// Family version.
pub const FAMILY_VERSION: u8 = 1;
/// Multicast group `events`.
pub const MCAST_GROUP_EVENTS: &str = "events";

/// Commands, numbered from 1 in the spec's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OmxCmd {
    /// Register a pool node and open an OmniXtend connection to it.
    NodeAdd = 1,
    /// Close the connection to a node and forget it (refused while a device uses it).
    NodeDel = 2,
    /// Get / dump pool nodes.
    NodeGet = 3,
    /// Create a block device over pool nodes.
    DevAdd = 4,
    /// Remove a block device (refused while it is open or swapped on).
    DevDel = 5,
    /// Get / dump block devices.
    DevGet = 6,
    /// Module-wide receive counters.
    StatsGet = 7,
    /// A node's connection changed state (up, dead, ...).
    NodeStateNtf = 8,
    /// A device failed I/O on a node: mirrored, the node's copies left the mirror and I/O goes on
    /// with the other copy; otherwise the I/O failed with EIO (at most one report a second).
    DevErrorNtf = 9,
    /// Lend memory to a client: allocate the region, and serve the client's requests on it from the
    /// receive path (an in-kernel pool node).
    LendAdd = 10,
    /// Close the client's connection and free the memory lent to it.
    LendDel = 11,
    /// Get / dump the memory this host lends.
    LendGet = 12,
}

impl OmxCmd {
    /// All commands in numeric order.
    pub const ALL: [OmxCmd; 12] = [
        OmxCmd::NodeAdd,
        OmxCmd::NodeDel,
        OmxCmd::NodeGet,
        OmxCmd::DevAdd,
        OmxCmd::DevDel,
        OmxCmd::DevGet,
        OmxCmd::StatsGet,
        OmxCmd::NodeStateNtf,
        OmxCmd::DevErrorNtf,
        OmxCmd::LendAdd,
        OmxCmd::LendDel,
        OmxCmd::LendGet,
    ];

    /// The spec's name of the command.
    pub fn name(self) -> &'static str {
        match self {
            OmxCmd::NodeAdd => "node-add",
            OmxCmd::NodeDel => "node-del",
            OmxCmd::NodeGet => "node-get",
            OmxCmd::DevAdd => "dev-add",
            OmxCmd::DevDel => "dev-del",
            OmxCmd::DevGet => "dev-get",
            OmxCmd::StatsGet => "stats-get",
            OmxCmd::NodeStateNtf => "node-state-ntf",
            OmxCmd::DevErrorNtf => "dev-error-ntf",
            OmxCmd::LendAdd => "lend-add",
            OmxCmd::LendDel => "lend-del",
            OmxCmd::LendGet => "lend-get",
        }
    }

    /// The spec's name of attribute `kind` of the command's attribute set.
    pub fn attr_name(self, kind: u16) -> Option<&'static str> {
        match self {
            OmxCmd::NodeAdd | OmxCmd::NodeDel | OmxCmd::NodeGet | OmxCmd::NodeStateNtf => {
                node_attr_name(kind)
            }
            OmxCmd::DevAdd | OmxCmd::DevDel | OmxCmd::DevGet | OmxCmd::DevErrorNtf => {
                dev_attr_name(kind)
            }
            OmxCmd::StatsGet => stats_attr_name(kind),
            OmxCmd::LendAdd | OmxCmd::LendDel | OmxCmd::LendGet => lend_attr_name(kind),
        }
    }
}

/// `node` attribute set.
pub mod node {
    pub const ID: u16 = 1;
    pub const IFNAME: u16 = 2;
    pub const IFINDEX: u16 = 3;
    pub const PEER_MAC: u16 = 4;
    pub const SIZE: u16 = 5;
    pub const BYTE_ORDER: u16 = 6;
    pub const VERSION: u16 = 7;
    pub const MTU: u16 = 8;
    pub const STATE: u16 = 9;
    pub const STATS: u16 = 10;
    pub const INTEGRITY: u16 = 11;
    pub const IO_TIMEOUT: u16 = 12;
    pub const READ_LATENCY: u16 = 13;
    pub const WRITE_LATENCY: u16 = 14;
    /// Longest `ifname` the kernel accepts (`max-len`).
    pub const IFNAME_MAX_LEN: usize = 15;
}

/// `node-stats` attribute set.
pub mod node_stats {
    pub const TX_FRAMES: u16 = 1;
    pub const RX_FRAMES: u16 = 2;
    pub const TX_BYTES: u16 = 3;
    pub const RX_BYTES: u16 = 4;
    pub const RETRANSMITS: u16 = 5;
    pub const NAKS_SENT: u16 = 6;
    pub const NAKS_RECEIVED: u16 = 7;
    pub const MALFORMED: u16 = 8;
    pub const TIMEOUTS: u16 = 9;
    pub const RECONNECTS: u16 = 10;
    pub const INTEGRITY_ERRORS: u16 = 11;
    pub const OUT_OF_WINDOW: u16 = 12;
    pub const OUT_OF_ORDER: u16 = 13;
    pub const DUPLICATES: u16 = 14;
}

/// `latency` attribute set.
pub mod latency {
    pub const LE_8US: u16 = 1;
    pub const LE_16US: u16 = 2;
    pub const LE_32US: u16 = 3;
    pub const LE_64US: u16 = 4;
    pub const LE_128US: u16 = 5;
    pub const LE_256US: u16 = 6;
    pub const LE_512US: u16 = 7;
    pub const LE_1024US: u16 = 8;
    pub const LE_2048US: u16 = 9;
    pub const LE_4096US: u16 = 10;
    pub const LE_8192US: u16 = 11;
    pub const LE_16384US: u16 = 12;
    pub const LE_32768US: u16 = 13;
    pub const LE_65536US: u16 = 14;
    pub const LE_131072US: u16 = 15;
    pub const LE_262144US: u16 = 16;
    pub const LE_524288US: u16 = 17;
    pub const LE_1048576US: u16 = 18;
    pub const LE_2097152US: u16 = 19;
    pub const LE_4194304US: u16 = 20;
    pub const LE_8388608US: u16 = 21;
    pub const LE_16777216US: u16 = 22;
    pub const LE_33554432US: u16 = 23;
    pub const LONGER: u16 = 24;
    pub const SUM_US: u16 = 25;
}

/// `dev` attribute set.
pub mod dev {
    pub const NAME: u16 = 1;
    pub const SIZE: u16 = 2;
    pub const NODE_ID: u16 = 3;
    pub const REPLICAS: u16 = 4;
    pub const STATS: u16 = 5;
    pub const FAILED_NODE_ID: u16 = 6;
    /// Longest `name` the kernel accepts (`max-len`).
    pub const NAME_MAX_LEN: usize = 31;
}

/// `dev-stats` attribute set.
pub mod dev_stats {
    pub const READS: u16 = 1;
    pub const WRITES: u16 = 2;
    pub const READ_BYTES: u16 = 3;
    pub const WRITE_BYTES: u16 = 4;
    pub const DISCARDS: u16 = 5;
    pub const ERRORS: u16 = 6;
    pub const IN_FLIGHT: u16 = 7;
    pub const FAILOVERS: u16 = 8;
    pub const READAHEAD_HITS: u16 = 9;
    pub const READAHEAD_FETCHES: u16 = 10;
}

/// `lend` attribute set.
pub mod lend {
    pub const ID: u16 = 1;
    pub const IFNAME: u16 = 2;
    pub const IFINDEX: u16 = 3;
    pub const CLIENT_MAC: u16 = 4;
    pub const SIZE: u16 = 5;
    pub const STATE: u16 = 6;
    pub const STATS: u16 = 7;
    /// Longest `ifname` the kernel accepts (`max-len`).
    pub const IFNAME_MAX_LEN: usize = 15;
}

/// `lend-stats` attribute set.
pub mod lend_stats {
    pub const GETS: u16 = 1;
    pub const PUTS: u16 = 2;
    pub const OTHER_REQUESTS: u16 = 3;
    pub const DATA_READ: u16 = 4;
    pub const DATA_WRITTEN: u16 = 5;
    pub const DENIED: u16 = 6;
    pub const MALFORMED: u16 = 7;
    pub const BACKPRESSURE_DROPS: u16 = 8;
    pub const DEFERRED: u16 = 9;
    pub const TX_FRAMES: u16 = 10;
    pub const RX_FRAMES: u16 = 11;
    pub const RETRANSMITS: u16 = 12;
    pub const TIMEOUTS: u16 = 13;
    pub const CONNECTIONS: u16 = 14;
    pub const TX_ERRORS: u16 = 15;
    pub const HELD_BATCHES: u16 = 16;
}

/// `stats` attribute set.
pub mod stats {
    pub const RX_FRAMES: u16 = 1;
    pub const RX_MALFORMED: u16 = 2;
    pub const RX_UNKNOWN_PEER: u16 = 3;
    pub const RX_DROPPED: u16 = 4;
    pub const RX_OTHER_NETNS: u16 = 5;
}

/// Spec name of a `node` attribute type.
pub fn node_attr_name(kind: u16) -> Option<&'static str> {
    Some(match kind {
        node::ID => "id",
        node::IFNAME => "ifname",
        node::IFINDEX => "ifindex",
        node::PEER_MAC => "peer-mac",
        node::SIZE => "size",
        node::BYTE_ORDER => "byte-order",
        node::VERSION => "version",
        node::MTU => "mtu",
        node::STATE => "state",
        node::STATS => "stats",
        node::INTEGRITY => "integrity",
        node::IO_TIMEOUT => "io-timeout",
        node::READ_LATENCY => "read-latency",
        node::WRITE_LATENCY => "write-latency",
        _ => return None,
    })
}

/// Spec name of a `node-stats` attribute type.
pub fn node_stats_attr_name(kind: u16) -> Option<&'static str> {
    Some(match kind {
        node_stats::TX_FRAMES => "tx-frames",
        node_stats::RX_FRAMES => "rx-frames",
        node_stats::TX_BYTES => "tx-bytes",
        node_stats::RX_BYTES => "rx-bytes",
        node_stats::RETRANSMITS => "retransmits",
        node_stats::NAKS_SENT => "naks-sent",
        node_stats::NAKS_RECEIVED => "naks-received",
        node_stats::MALFORMED => "malformed",
        node_stats::TIMEOUTS => "timeouts",
        node_stats::RECONNECTS => "reconnects",
        node_stats::INTEGRITY_ERRORS => "integrity-errors",
        node_stats::OUT_OF_WINDOW => "out-of-window",
        node_stats::OUT_OF_ORDER => "out-of-order",
        node_stats::DUPLICATES => "duplicates",
        _ => return None,
    })
}

/// Spec name of a `latency` attribute type.
pub fn latency_attr_name(kind: u16) -> Option<&'static str> {
    Some(match kind {
        latency::LE_8US => "le-8us",
        latency::LE_16US => "le-16us",
        latency::LE_32US => "le-32us",
        latency::LE_64US => "le-64us",
        latency::LE_128US => "le-128us",
        latency::LE_256US => "le-256us",
        latency::LE_512US => "le-512us",
        latency::LE_1024US => "le-1024us",
        latency::LE_2048US => "le-2048us",
        latency::LE_4096US => "le-4096us",
        latency::LE_8192US => "le-8192us",
        latency::LE_16384US => "le-16384us",
        latency::LE_32768US => "le-32768us",
        latency::LE_65536US => "le-65536us",
        latency::LE_131072US => "le-131072us",
        latency::LE_262144US => "le-262144us",
        latency::LE_524288US => "le-524288us",
        latency::LE_1048576US => "le-1048576us",
        latency::LE_2097152US => "le-2097152us",
        latency::LE_4194304US => "le-4194304us",
        latency::LE_8388608US => "le-8388608us",
        latency::LE_16777216US => "le-16777216us",
        latency::LE_33554432US => "le-33554432us",
        latency::LONGER => "longer",
        latency::SUM_US => "sum-us",
        _ => return None,
    })
}

/// Spec name of a `dev` attribute type.
pub fn dev_attr_name(kind: u16) -> Option<&'static str> {
    Some(match kind {
        dev::NAME => "name",
        dev::SIZE => "size",
        dev::NODE_ID => "node-id",
        dev::REPLICAS => "replicas",
        dev::STATS => "stats",
        dev::FAILED_NODE_ID => "failed-node-id",
        _ => return None,
    })
}

/// Spec name of a `dev-stats` attribute type.
pub fn dev_stats_attr_name(kind: u16) -> Option<&'static str> {
    Some(match kind {
        dev_stats::READS => "reads",
        dev_stats::WRITES => "writes",
        dev_stats::READ_BYTES => "read-bytes",
        dev_stats::WRITE_BYTES => "write-bytes",
        dev_stats::DISCARDS => "discards",
        dev_stats::ERRORS => "errors",
        dev_stats::IN_FLIGHT => "in-flight",
        dev_stats::FAILOVERS => "failovers",
        dev_stats::READAHEAD_HITS => "readahead-hits",
        dev_stats::READAHEAD_FETCHES => "readahead-fetches",
        _ => return None,
    })
}

/// Spec name of a `lend` attribute type.
pub fn lend_attr_name(kind: u16) -> Option<&'static str> {
    Some(match kind {
        lend::ID => "id",
        lend::IFNAME => "ifname",
        lend::IFINDEX => "ifindex",
        lend::CLIENT_MAC => "client-mac",
        lend::SIZE => "size",
        lend::STATE => "state",
        lend::STATS => "stats",
        _ => return None,
    })
}

/// Spec name of a `lend-stats` attribute type.
pub fn lend_stats_attr_name(kind: u16) -> Option<&'static str> {
    Some(match kind {
        lend_stats::GETS => "gets",
        lend_stats::PUTS => "puts",
        lend_stats::OTHER_REQUESTS => "other-requests",
        lend_stats::DATA_READ => "data-read",
        lend_stats::DATA_WRITTEN => "data-written",
        lend_stats::DENIED => "denied",
        lend_stats::MALFORMED => "malformed",
        lend_stats::BACKPRESSURE_DROPS => "backpressure-drops",
        lend_stats::DEFERRED => "deferred",
        lend_stats::TX_FRAMES => "tx-frames",
        lend_stats::RX_FRAMES => "rx-frames",
        lend_stats::RETRANSMITS => "retransmits",
        lend_stats::TIMEOUTS => "timeouts",
        lend_stats::CONNECTIONS => "connections",
        lend_stats::TX_ERRORS => "tx-errors",
        lend_stats::HELD_BATCHES => "held-batches",
        _ => return None,
    })
}

/// Spec name of a `stats` attribute type.
pub fn stats_attr_name(kind: u16) -> Option<&'static str> {
    Some(match kind {
        stats::RX_FRAMES => "rx-frames",
        stats::RX_MALFORMED => "rx-malformed",
        stats::RX_UNKNOWN_PEER => "rx-unknown-peer",
        stats::RX_DROPPED => "rx-dropped",
        stats::RX_OTHER_NETNS => "rx-other-netns",
        _ => return None,
    })
}

u32_enum! {
    /// `byte-order` enum (Order of data bytes in TileLink data flits).
    ByteOrder {
        Spec = 0 => "spec",
        Raw = 1 => "raw",
    }
}

u32_enum! {
    /// `version` enum (OmniXtend protocol version of a connection).
    Version {
        V1_1 = 0 => "1.1",
        V1_0_3 = 1 => "1.0.3",
    }
}

u32_enum! {
    /// `node-state` enum.
    NodeState {
        Connecting = 0 => "connecting",
        Up = 1 => "up",
        Dead = 2 => "dead",
        Closing = 3 => "closing",
    }
}

u32_enum! {
    /// `lend-state` enum (The connection of a client this host lends memory to).
    LendState {
        Waiting = 0 => "waiting",
        Open = 1 => "open",
        Closing = 2 => "closing",
    }
}

u32_enum! {
    /// `integrity` enum (End-to-end check of every frame beyond the Ethernet FCS).
    Integrity {
        None = 0 => "none",
        Crc32c = 1 => "crc32c",
        Xxh64 = 2 => "xxh64",
    }
}

counter_set! {
    /// `node-stats` attribute set (nested in node `stats`).
    NodeStatsAttr, NodeStats {
        TxFrames / tx_frames = node_stats::TX_FRAMES,
        RxFrames / rx_frames = node_stats::RX_FRAMES,
        TxBytes / tx_bytes = node_stats::TX_BYTES,
        RxBytes / rx_bytes = node_stats::RX_BYTES,
        Retransmits / retransmits = node_stats::RETRANSMITS,
        NaksSent / naks_sent = node_stats::NAKS_SENT,
        NaksReceived / naks_received = node_stats::NAKS_RECEIVED,
        Malformed / malformed = node_stats::MALFORMED,
        Timeouts / timeouts = node_stats::TIMEOUTS,
        Reconnects / reconnects = node_stats::RECONNECTS,
        IntegrityErrors / integrity_errors = node_stats::INTEGRITY_ERRORS,
        OutOfWindow / out_of_window = node_stats::OUT_OF_WINDOW,
        OutOfOrder / out_of_order = node_stats::OUT_OF_ORDER,
        Duplicates / duplicates = node_stats::DUPLICATES,
    }
}

counter_set! {
    /// `latency` attribute set (nested in node `read-latency`).
    LatencyAttr, Latency {
        Le8us / le_8us = latency::LE_8US,
        Le16us / le_16us = latency::LE_16US,
        Le32us / le_32us = latency::LE_32US,
        Le64us / le_64us = latency::LE_64US,
        Le128us / le_128us = latency::LE_128US,
        Le256us / le_256us = latency::LE_256US,
        Le512us / le_512us = latency::LE_512US,
        Le1024us / le_1024us = latency::LE_1024US,
        Le2048us / le_2048us = latency::LE_2048US,
        Le4096us / le_4096us = latency::LE_4096US,
        Le8192us / le_8192us = latency::LE_8192US,
        Le16384us / le_16384us = latency::LE_16384US,
        Le32768us / le_32768us = latency::LE_32768US,
        Le65536us / le_65536us = latency::LE_65536US,
        Le131072us / le_131072us = latency::LE_131072US,
        Le262144us / le_262144us = latency::LE_262144US,
        Le524288us / le_524288us = latency::LE_524288US,
        Le1048576us / le_1048576us = latency::LE_1048576US,
        Le2097152us / le_2097152us = latency::LE_2097152US,
        Le4194304us / le_4194304us = latency::LE_4194304US,
        Le8388608us / le_8388608us = latency::LE_8388608US,
        Le16777216us / le_16777216us = latency::LE_16777216US,
        Le33554432us / le_33554432us = latency::LE_33554432US,
        Longer / longer = latency::LONGER,
        SumUs / sum_us = latency::SUM_US,
    }
}

counter_set! {
    /// `dev-stats` attribute set (nested in dev `stats`).
    DevStatsAttr, DevStats {
        Reads / reads = dev_stats::READS,
        Writes / writes = dev_stats::WRITES,
        ReadBytes / read_bytes = dev_stats::READ_BYTES,
        WriteBytes / write_bytes = dev_stats::WRITE_BYTES,
        Discards / discards = dev_stats::DISCARDS,
        Errors / errors = dev_stats::ERRORS,
        InFlight / in_flight = dev_stats::IN_FLIGHT,
        Failovers / failovers = dev_stats::FAILOVERS,
        ReadaheadHits / readahead_hits = dev_stats::READAHEAD_HITS,
        ReadaheadFetches / readahead_fetches = dev_stats::READAHEAD_FETCHES,
    }
}

counter_set! {
    /// `lend-stats` attribute set (nested in lend `stats`).
    LendStatsAttr, LendStats {
        Gets / gets = lend_stats::GETS,
        Puts / puts = lend_stats::PUTS,
        OtherRequests / other_requests = lend_stats::OTHER_REQUESTS,
        DataRead / data_read = lend_stats::DATA_READ,
        DataWritten / data_written = lend_stats::DATA_WRITTEN,
        Denied / denied = lend_stats::DENIED,
        Malformed / malformed = lend_stats::MALFORMED,
        BackpressureDrops / backpressure_drops = lend_stats::BACKPRESSURE_DROPS,
        Deferred / deferred = lend_stats::DEFERRED,
        TxFrames / tx_frames = lend_stats::TX_FRAMES,
        RxFrames / rx_frames = lend_stats::RX_FRAMES,
        Retransmits / retransmits = lend_stats::RETRANSMITS,
        Timeouts / timeouts = lend_stats::TIMEOUTS,
        Connections / connections = lend_stats::CONNECTIONS,
        TxErrors / tx_errors = lend_stats::TX_ERRORS,
        HeldBatches / held_batches = lend_stats::HELD_BATCHES,
    }
}

counter_set! {
    /// `stats` attribute set.
    StatsAttr, ModuleStats {
        RxFrames / rx_frames = stats::RX_FRAMES,
        RxMalformed / rx_malformed = stats::RX_MALFORMED,
        RxUnknownPeer / rx_unknown_peer = stats::RX_UNKNOWN_PEER,
        RxDropped / rx_dropped = stats::RX_DROPPED,
        RxOtherNetns / rx_other_netns = stats::RX_OTHER_NETNS,
    }
}
