//! Attributes of the `omx` family, per Documentation/netlink/specs/omx.yaml.
//!
//! The numbers, enums, counter sets and names are generated from the spec into
//! `spec_generated.rs` (included below, after the macros it uses; regenerate with
//! `scripts/netlink-gen.sh`). YNL numbering: attributes start at 1 in listed order, enum
//! values at 0.
//!
//! Every attribute set has an `Other(DefaultNla)` variant so that a newer
//! kernel's extra attributes (or padding attributes) are carried, not fatal.

use std::fmt;

use netlink_packet_core::{
    emit_u32, emit_u64, parse_mac, parse_string, parse_u32, parse_u64, DecodeError, DefaultNla,
    Emitable, ErrorContext, Nla, NlaBuffer, NlasIterator, Parseable, NLA_F_NESTED,
};
use serde::Serialize;

/// Longest interface name the kernel accepts (the spec's `max-len`: IFNAMSIZ - 1).
pub const IFNAME_MAX: usize = node::IFNAME_MAX_LEN;
/// Longest device name the kernel accepts (the spec's `max-len`).
pub const DEVNAME_MAX: usize = dev::NAME_MAX_LEN;

/// Read an unsigned integer attribute of the spec type u64. A 4-byte value is
/// also accepted (as the kernel's `nla_put_uint` would send for small values).
fn parse_u64_attr(value: &[u8]) -> Result<u64, DecodeError> {
    match value.len() {
        8 => parse_u64(value),
        4 => parse_u32(value).map(u64::from),
        n => Err(DecodeError::invalid_number(8, n)),
    }
}

fn parse_nested<A, F>(value: &[u8], parse: F) -> Result<Vec<A>, DecodeError>
where
    F: Fn(&NlaBuffer<&[u8]>) -> Result<A, DecodeError>,
{
    NlasIterator::new(value)
        .map(|nla| nla.and_then(|nla| parse(&nla)))
        .collect()
}

/// Emit a string attribute value: the bytes plus the terminating NUL
/// (`type: string` is NLA_NUL_STRING-compatible).
fn emit_string(buffer: &mut [u8], s: &str) {
    buffer[..s.len()].copy_from_slice(s.as_bytes());
    buffer[s.len()] = 0;
}

// ---------------------------------------------------------------------------
// u32 enums (the spec's definitions)
// ---------------------------------------------------------------------------

macro_rules! u32_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($variant,)*
            /// A value this omxctl does not know (newer kernel).
            Other(u32),
        }

        impl From<u32> for $name {
            fn from(v: u32) -> Self {
                match v {
                    $($value => Self::$variant,)*
                    other => Self::Other(other),
                }
            }
        }

        impl From<$name> for u32 {
            fn from(v: $name) -> u32 {
                match v {
                    $($name::$variant => $value,)*
                    $name::Other(other) => other,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(Self::$variant => f.write_str($text),)*
                    Self::Other(v) => write!(f, "unknown({v})"),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}

// ---------------------------------------------------------------------------
// Counter sets (attribute sets of u64 counters: node-stats, dev-stats, stats)
// ---------------------------------------------------------------------------

macro_rules! counter_set {
    (
        $(#[$meta:meta])*
        $attr:ident, $stats:ident {
            $($variant:ident / $field:ident = $kind:path,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $attr {
            $($variant(u64),)*
            /// An attribute this omxctl does not know.
            Other(DefaultNla),
        }

        impl Nla for $attr {
            fn value_len(&self) -> usize {
                match self {
                    Self::Other(nla) => nla.value_len(),
                    _ => 8,
                }
            }

            fn kind(&self) -> u16 {
                match self {
                    $(Self::$variant(_) => $kind,)*
                    Self::Other(nla) => nla.kind(),
                }
            }

            fn emit_value(&self, buffer: &mut [u8]) {
                match self {
                    $(Self::$variant(v) => emit_u64(buffer, *v).unwrap(),)*
                    Self::Other(nla) => nla.emit_value(buffer),
                }
            }
        }

        impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for $attr {
            fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
                let value = buf.value();
                Ok(match buf.kind() {
                    $($kind => Self::$variant(
                        parse_u64_attr(value)
                            .context(concat!("invalid ", stringify!($attr), "::", stringify!($variant)))?,
                    ),)*
                    _ => Self::Other(DefaultNla::parse(buf)?),
                })
            }
        }

        /// Counters as a struct (absent counters read as 0); JSON keys are
        /// the spec's attribute names with `_` for `-`.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
        pub struct $stats {
            $(pub $field: u64,)*
        }

        impl $stats {
            /// Collect known counters from decoded attributes.
            pub fn from_attrs(attrs: &[$attr]) -> Self {
                let mut s = Self::default();
                for a in attrs {
                    match a {
                        $($attr::$variant(v) => s.$field = *v,)*
                        $attr::Other(_) => {}
                    }
                }
                s
            }

            /// All counters as attributes, in spec order.
            pub fn to_attrs(&self) -> Vec<$attr> {
                vec![$($attr::$variant(self.$field),)*]
            }

            /// (label, value) pairs in spec order, labels as in the spec.
            pub fn fields(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($field), self.$field),)*]
            }
        }
    };
}

// The spec's numbers, enums and counter sets; the names of attribute types.
include!("spec_generated.rs");

// ---------------------------------------------------------------------------
// node attribute set
// ---------------------------------------------------------------------------

/// `node` attribute set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeAttr {
    Id(u32),
    Ifname(String),
    Ifindex(u32),
    PeerMac([u8; 6]),
    Size(u64),
    ByteOrder(ByteOrder),
    Version(Version),
    Mtu(u32),
    State(NodeState),
    Integrity(Integrity),
    /// How long I/O waits for the node after losing its connection, in ms.
    IoTimeout(u32),
    Stats(Vec<NodeStatsAttr>),
    /// How long completed reads took (a histogram).
    ReadLatency(Vec<LatencyAttr>),
    /// How long completed writes took.
    WriteLatency(Vec<LatencyAttr>),
    Other(DefaultNla),
}

impl Nla for NodeAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Id(_)
            | Self::Ifindex(_)
            | Self::ByteOrder(_)
            | Self::Version(_)
            | Self::Mtu(_)
            | Self::Integrity(_)
            | Self::IoTimeout(_)
            | Self::State(_) => 4,
            Self::Ifname(s) => s.len() + 1,
            Self::PeerMac(_) => 6,
            Self::Size(_) => 8,
            Self::Stats(attrs) => attrs.as_slice().buffer_len(),
            Self::ReadLatency(attrs) | Self::WriteLatency(attrs) => attrs.as_slice().buffer_len(),
            Self::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::Id(_) => node::ID,
            Self::Ifname(_) => node::IFNAME,
            Self::Ifindex(_) => node::IFINDEX,
            Self::PeerMac(_) => node::PEER_MAC,
            Self::Size(_) => node::SIZE,
            Self::ByteOrder(_) => node::BYTE_ORDER,
            Self::Version(_) => node::VERSION,
            Self::Mtu(_) => node::MTU,
            Self::Integrity(_) => node::INTEGRITY,
            Self::IoTimeout(_) => node::IO_TIMEOUT,
            Self::State(_) => node::STATE,
            Self::Stats(_) => node::STATS | NLA_F_NESTED,
            Self::ReadLatency(_) => node::READ_LATENCY | NLA_F_NESTED,
            Self::WriteLatency(_) => node::WRITE_LATENCY | NLA_F_NESTED,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::Id(v) | Self::Ifindex(v) | Self::Mtu(v) | Self::IoTimeout(v) => {
                emit_u32(buffer, *v).unwrap()
            }
            Self::ByteOrder(v) => emit_u32(buffer, (*v).into()).unwrap(),
            Self::Integrity(v) => emit_u32(buffer, (*v).into()).unwrap(),
            Self::Version(v) => emit_u32(buffer, (*v).into()).unwrap(),
            Self::State(v) => emit_u32(buffer, (*v).into()).unwrap(),
            Self::Ifname(s) => emit_string(buffer, s),
            Self::PeerMac(mac) => buffer.copy_from_slice(mac),
            Self::Size(v) => emit_u64(buffer, *v).unwrap(),
            Self::Stats(attrs) => attrs.as_slice().emit(buffer),
            Self::ReadLatency(attrs) | Self::WriteLatency(attrs) => attrs.as_slice().emit(buffer),
            Self::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for NodeAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match buf.kind() {
            node::ID => Self::Id(parse_u32(v).context("invalid node id")?),
            node::IFNAME => Self::Ifname(parse_string(v).context("invalid node ifname")?),
            node::IFINDEX => Self::Ifindex(parse_u32(v).context("invalid node ifindex")?),
            node::PEER_MAC => Self::PeerMac(parse_mac(v).context("invalid node peer-mac")?),
            node::SIZE => Self::Size(parse_u64_attr(v).context("invalid node size")?),
            node::BYTE_ORDER => {
                Self::ByteOrder(parse_u32(v).context("invalid node byte-order")?.into())
            }
            node::VERSION => Self::Version(parse_u32(v).context("invalid node version")?.into()),
            node::MTU => Self::Mtu(parse_u32(v).context("invalid node mtu")?),
            node::INTEGRITY => {
                Self::Integrity(parse_u32(v).context("invalid node integrity")?.into())
            }
            node::IO_TIMEOUT => Self::IoTimeout(parse_u32(v).context("invalid node io-timeout")?),
            node::STATE => Self::State(parse_u32(v).context("invalid node state")?.into()),
            node::STATS => Self::Stats(
                parse_nested(v, |nla| NodeStatsAttr::parse(nla)).context("invalid node stats")?,
            ),
            node::READ_LATENCY => Self::ReadLatency(
                parse_nested(v, |nla| LatencyAttr::parse(nla)).context("invalid read-latency")?,
            ),
            node::WRITE_LATENCY => Self::WriteLatency(
                parse_nested(v, |nla| LatencyAttr::parse(nla)).context("invalid write-latency")?,
            ),
            _ => Self::Other(DefaultNla::parse(buf)?),
        })
    }
}

// ---------------------------------------------------------------------------
// dev attribute set
// ---------------------------------------------------------------------------

/// `dev` attribute set. `NodeId` and `FailedNodeId` are multi-attr: one attribute per node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevAttr {
    Name(String),
    Size(u64),
    NodeId(u32),
    Replicas(u32),
    Stats(Vec<DevStatsAttr>),
    FailedNodeId(u32),
    Other(DefaultNla),
}

impl Nla for DevAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Name(s) => s.len() + 1,
            Self::Size(_) => 8,
            Self::NodeId(_) | Self::Replicas(_) | Self::FailedNodeId(_) => 4,
            Self::Stats(attrs) => attrs.as_slice().buffer_len(),
            Self::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::Name(_) => dev::NAME,
            Self::Size(_) => dev::SIZE,
            Self::NodeId(_) => dev::NODE_ID,
            Self::Replicas(_) => dev::REPLICAS,
            Self::Stats(_) => dev::STATS | NLA_F_NESTED,
            Self::FailedNodeId(_) => dev::FAILED_NODE_ID,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::Name(s) => emit_string(buffer, s),
            Self::Size(v) => emit_u64(buffer, *v).unwrap(),
            Self::NodeId(v) | Self::Replicas(v) | Self::FailedNodeId(v) => {
                emit_u32(buffer, *v).unwrap()
            }
            Self::Stats(attrs) => attrs.as_slice().emit(buffer),
            Self::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DevAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match buf.kind() {
            dev::NAME => Self::Name(parse_string(v).context("invalid dev name")?),
            dev::SIZE => Self::Size(parse_u64_attr(v).context("invalid dev size")?),
            dev::NODE_ID => Self::NodeId(parse_u32(v).context("invalid dev node-id")?),
            dev::REPLICAS => Self::Replicas(parse_u32(v).context("invalid dev replicas")?),
            dev::STATS => Self::Stats(
                parse_nested(v, |nla| DevStatsAttr::parse(nla)).context("invalid dev stats")?,
            ),
            dev::FAILED_NODE_ID => {
                Self::FailedNodeId(parse_u32(v).context("invalid dev failed-node-id")?)
            }
            _ => Self::Other(DefaultNla::parse(buf)?),
        })
    }
}

// ---------------------------------------------------------------------------
// lend attribute set
// ---------------------------------------------------------------------------

/// `lend` attribute set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LendAttr {
    Id(u32),
    Ifname(String),
    Ifindex(u32),
    ClientMac([u8; 6]),
    Size(u64),
    State(LendState),
    Stats(Vec<LendStatsAttr>),
    Other(DefaultNla),
}

impl Nla for LendAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Id(_) | Self::Ifindex(_) | Self::State(_) => 4,
            Self::Ifname(s) => s.len() + 1,
            Self::ClientMac(_) => 6,
            Self::Size(_) => 8,
            Self::Stats(attrs) => attrs.as_slice().buffer_len(),
            Self::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::Id(_) => lend::ID,
            Self::Ifname(_) => lend::IFNAME,
            Self::Ifindex(_) => lend::IFINDEX,
            Self::ClientMac(_) => lend::CLIENT_MAC,
            Self::Size(_) => lend::SIZE,
            Self::State(_) => lend::STATE,
            Self::Stats(_) => lend::STATS | NLA_F_NESTED,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::Id(v) | Self::Ifindex(v) => emit_u32(buffer, *v).unwrap(),
            Self::State(v) => emit_u32(buffer, (*v).into()).unwrap(),
            Self::Ifname(s) => emit_string(buffer, s),
            Self::ClientMac(mac) => buffer.copy_from_slice(mac),
            Self::Size(v) => emit_u64(buffer, *v).unwrap(),
            Self::Stats(attrs) => attrs.as_slice().emit(buffer),
            Self::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for LendAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match buf.kind() {
            lend::ID => Self::Id(parse_u32(v).context("invalid lend id")?),
            lend::IFNAME => Self::Ifname(parse_string(v).context("invalid lend ifname")?),
            lend::IFINDEX => Self::Ifindex(parse_u32(v).context("invalid lend ifindex")?),
            lend::CLIENT_MAC => Self::ClientMac(parse_mac(v).context("invalid lend client-mac")?),
            lend::SIZE => Self::Size(parse_u64_attr(v).context("invalid lend size")?),
            lend::STATE => Self::State(parse_u32(v).context("invalid lend state")?.into()),
            lend::STATS => Self::Stats(
                parse_nested(v, |nla| LendStatsAttr::parse(nla)).context("invalid lend stats")?,
            ),
            _ => Self::Other(DefaultNla::parse(buf)?),
        })
    }
}

/// Parse a flat attribute stream (a message body) with `parse`.
pub fn parse_attrs<A, F>(buf: &[u8], parse: F) -> Result<Vec<A>, DecodeError>
where
    F: Fn(&NlaBuffer<&[u8]>) -> Result<A, DecodeError>,
{
    parse_nested(buf, parse)
}
