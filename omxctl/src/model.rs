//! Plain views of what the kernel reports (built from decoded attributes),
//! with the JSON shapes omxctl prints.

use serde::{Serialize, Serializer};

use crate::latency::LatencySummary;
use crate::netlink::attrs::{
    ByteOrder, DevAttr, DevStats, Integrity, Latency, LendAttr, LendState, LendStats, ModuleStats,
    NodeAttr, NodeState, NodeStats, Version,
};
use omx_args::format_mac;

fn mac_json<S: Serializer>(mac: &Option<[u8; 6]>, s: S) -> Result<S::Ok, S::Error> {
    match mac {
        Some(m) => s.serialize_str(&format_mac(m)),
        None => s.serialize_none(),
    }
}

/// A pool node. Attributes the kernel did not send are `None` (JSON null).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Node {
    pub id: u32,
    pub ifname: Option<String>,
    pub ifindex: Option<u32>,
    #[serde(serialize_with = "mac_json")]
    pub peer_mac: Option<[u8; 6]>,
    pub size: Option<u64>,
    pub byte_order: Option<ByteOrder>,
    pub version: Option<Version>,
    pub mtu: Option<u32>,
    /// Frame integrity check.
    pub integrity: Option<Integrity>,
    /// How long I/O waits for the node after losing its connection, in ms.
    pub io_timeout_ms: Option<u32>,
    pub state: Option<NodeState>,
    pub stats: Option<NodeStats>,
    /// How long completed reads (page-in) took: requests per latency bucket.
    pub read_latency: Option<Latency>,
    /// How long completed writes (page-out) took.
    pub write_latency: Option<Latency>,
}

impl Node {
    /// Collect a node from its attributes.
    pub fn from_attrs(attrs: &[NodeAttr]) -> Self {
        let mut n = Node::default();
        for a in attrs {
            match a {
                NodeAttr::Id(v) => n.id = *v,
                NodeAttr::Ifname(v) => n.ifname = Some(v.clone()),
                NodeAttr::Ifindex(v) => n.ifindex = Some(*v),
                NodeAttr::PeerMac(v) => n.peer_mac = Some(*v),
                NodeAttr::Size(v) => n.size = Some(*v),
                NodeAttr::ByteOrder(v) => n.byte_order = Some(*v),
                NodeAttr::Version(v) => n.version = Some(*v),
                NodeAttr::Mtu(v) => n.mtu = Some(*v),
                NodeAttr::Integrity(v) => n.integrity = Some(*v),
                NodeAttr::IoTimeout(v) => n.io_timeout_ms = Some(*v),
                NodeAttr::State(v) => n.state = Some(*v),
                NodeAttr::Stats(v) => n.stats = Some(NodeStats::from_attrs(v)),
                NodeAttr::ReadLatency(v) => n.read_latency = Some(Latency::from_attrs(v)),
                NodeAttr::WriteLatency(v) => n.write_latency = Some(Latency::from_attrs(v)),
                NodeAttr::Other(_) => {}
            }
        }
        n
    }
}

/// Memory this host lends to a client. Attributes the kernel did not send are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Lend {
    pub id: u32,
    pub ifname: Option<String>,
    pub ifindex: Option<u32>,
    #[serde(serialize_with = "mac_json")]
    pub client_mac: Option<[u8; 6]>,
    pub size: Option<u64>,
    pub state: Option<LendState>,
    pub stats: Option<LendStats>,
}

impl Lend {
    /// Collect a lending from its attributes.
    pub fn from_attrs(attrs: &[LendAttr]) -> Self {
        let mut l = Lend::default();
        for a in attrs {
            match a {
                LendAttr::Id(v) => l.id = *v,
                LendAttr::Ifname(v) => l.ifname = Some(v.clone()),
                LendAttr::Ifindex(v) => l.ifindex = Some(*v),
                LendAttr::ClientMac(v) => l.client_mac = Some(*v),
                LendAttr::Size(v) => l.size = Some(*v),
                LendAttr::State(v) => l.state = Some(*v),
                LendAttr::Stats(v) => l.stats = Some(LendStats::from_attrs(v)),
                LendAttr::Other(_) => {}
            }
        }
        l
    }
}

/// A block device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Dev {
    pub name: String,
    pub size: Option<u64>,
    /// Member nodes, in the order the kernel listed them.
    pub nodes: Vec<u32>,
    pub replicas: Option<u32>,
    /// Members whose copies left the mirror.
    pub failed_nodes: Vec<u32>,
    pub stats: Option<DevStats>,
}

impl Dev {
    /// Collect a device from its attributes (node-id is multi-attr).
    pub fn from_attrs(attrs: &[DevAttr]) -> Self {
        let mut d = Dev::default();
        for a in attrs {
            match a {
                DevAttr::Name(v) => d.name = v.clone(),
                DevAttr::Size(v) => d.size = Some(*v),
                DevAttr::NodeId(v) => d.nodes.push(*v),
                DevAttr::Replicas(v) => d.replicas = Some(*v),
                DevAttr::Stats(v) => d.stats = Some(DevStats::from_attrs(v)),
                DevAttr::FailedNodeId(v) => d.failed_nodes.push(*v),
                DevAttr::Other(_) => {}
            }
        }
        d
    }
}

/// Everything `omxctl show` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Overview {
    pub nodes: Vec<Node>,
    pub devices: Vec<Dev>,
    /// Memory this host lends from the kernel (`omxctl lend`): a pool host's view.
    pub lendings: Vec<Lend>,
}

/// A node's counters, for `omxctl stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeCounters {
    pub id: u32,
    pub ifname: Option<String>,
    pub state: Option<NodeState>,
    pub stats: NodeStats,
    /// Reads (page-in): count, mean and percentiles.
    pub read_latency: LatencySummary,
    /// Writes (page-out).
    pub write_latency: LatencySummary,
}

/// A device's counters, for `omxctl stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DevCounters {
    pub name: String,
    pub stats: DevStats,
}

/// Everything `omxctl stats` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatsReport {
    pub module: ModuleStats,
    pub nodes: Vec<NodeCounters>,
    pub devices: Vec<DevCounters>,
}

impl StatsReport {
    /// Build from stats-get and the node/dev dumps.
    pub fn new(module: ModuleStats, nodes: &[Node], devices: &[Dev]) -> Self {
        StatsReport {
            module,
            nodes: nodes
                .iter()
                .map(|n| NodeCounters {
                    id: n.id,
                    ifname: n.ifname.clone(),
                    state: n.state,
                    stats: n.stats.clone().unwrap_or_default(),
                    read_latency: LatencySummary::new(n.read_latency.as_ref()),
                    write_latency: LatencySummary::new(n.write_latency.as_ref()),
                })
                .collect(),
            devices: devices
                .iter()
                .map(|d| DevCounters {
                    name: d.name.clone(),
                    stats: d.stats.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }
}

/// A notification from the "events" group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// node-state-ntf
    NodeState { node: Node },
    /// dev-error-ntf
    DevError { dev: Dev },
}
