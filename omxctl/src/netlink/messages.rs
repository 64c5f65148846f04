//! Messages of the `omx` generic netlink family.
//!
//! The command determines the attribute set: node-* and node-state-ntf carry
//! the `node` set, dev-* and dev-error-ntf the `dev` set, lend-* the `lend` set,
//! stats-get the `stats` set. Replies use the request's command number (the kernel copies
//! `info->genlhdr->cmd` into `genlmsg_put`).

use std::fmt;

use netlink_packet_core::{DecodeError, Emitable, ErrorContext, Parseable, ParseableParametrized};
use netlink_packet_generic::{GenlFamily, GenlHeader};

use super::attrs::{parse_attrs, DevAttr, LendAttr, NodeAttr, StatsAttr};

// Generated from the spec (attrs.rs includes spec_generated.rs).
pub use super::attrs::{OmxCmd, FAMILY_NAME, FAMILY_VERSION, MCAST_GROUP_EVENTS};

impl fmt::Display for OmxCmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<u8> for OmxCmd {
    type Error = DecodeError;

    fn try_from(v: u8) -> Result<Self, DecodeError> {
        OmxCmd::ALL
            .iter()
            .copied()
            .find(|c| *c as u8 == v)
            .ok_or_else(|| DecodeError::from(format!("unknown omx command {v}")))
    }
}

/// Attributes of a message, by attribute set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OmxAttrs {
    Node(Vec<NodeAttr>),
    Dev(Vec<DevAttr>),
    Lend(Vec<LendAttr>),
    Stats(Vec<StatsAttr>),
}

/// One `omx` message: the command and its attributes. Build with the
/// constructors so that command and attribute set always match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OmxMessage {
    pub cmd: OmxCmd,
    pub attrs: OmxAttrs,
}

impl OmxMessage {
    /// A message of a node-set command (node-add/del/get, node-state-ntf).
    pub fn node(cmd: OmxCmd, attrs: Vec<NodeAttr>) -> Self {
        debug_assert!(matches!(
            cmd,
            OmxCmd::NodeAdd | OmxCmd::NodeDel | OmxCmd::NodeGet | OmxCmd::NodeStateNtf
        ));
        OmxMessage {
            cmd,
            attrs: OmxAttrs::Node(attrs),
        }
    }

    /// A message of a dev-set command (dev-add/del/get, dev-error-ntf).
    pub fn dev(cmd: OmxCmd, attrs: Vec<DevAttr>) -> Self {
        debug_assert!(matches!(
            cmd,
            OmxCmd::DevAdd | OmxCmd::DevDel | OmxCmd::DevGet | OmxCmd::DevErrorNtf
        ));
        OmxMessage {
            cmd,
            attrs: OmxAttrs::Dev(attrs),
        }
    }

    /// A message of a lend-set command (lend-add/del/get).
    pub fn lend(cmd: OmxCmd, attrs: Vec<LendAttr>) -> Self {
        debug_assert!(matches!(
            cmd,
            OmxCmd::LendAdd | OmxCmd::LendDel | OmxCmd::LendGet
        ));
        OmxMessage {
            cmd,
            attrs: OmxAttrs::Lend(attrs),
        }
    }

    /// A stats-get message.
    pub fn stats(attrs: Vec<StatsAttr>) -> Self {
        OmxMessage {
            cmd: OmxCmd::StatsGet,
            attrs: OmxAttrs::Stats(attrs),
        }
    }

    /// The node attributes, if this is a node-set message.
    pub fn node_attrs(&self) -> Option<&[NodeAttr]> {
        match &self.attrs {
            OmxAttrs::Node(a) => Some(a),
            _ => None,
        }
    }

    /// The dev attributes, if this is a dev-set message.
    pub fn dev_attrs(&self) -> Option<&[DevAttr]> {
        match &self.attrs {
            OmxAttrs::Dev(a) => Some(a),
            _ => None,
        }
    }

    /// The lend attributes, if this is a lend-set message.
    pub fn lend_attrs(&self) -> Option<&[LendAttr]> {
        match &self.attrs {
            OmxAttrs::Lend(a) => Some(a),
            _ => None,
        }
    }

    /// The stats attributes, if this is a stats-get message.
    pub fn stats_attrs(&self) -> Option<&[StatsAttr]> {
        match &self.attrs {
            OmxAttrs::Stats(a) => Some(a),
            _ => None,
        }
    }
}

impl GenlFamily for OmxMessage {
    fn family_name() -> &'static str {
        FAMILY_NAME
    }

    fn command(&self) -> u8 {
        self.cmd as u8
    }

    fn version(&self) -> u8 {
        FAMILY_VERSION
    }
}

impl Emitable for OmxMessage {
    fn buffer_len(&self) -> usize {
        match &self.attrs {
            OmxAttrs::Node(a) => a.as_slice().buffer_len(),
            OmxAttrs::Dev(a) => a.as_slice().buffer_len(),
            OmxAttrs::Lend(a) => a.as_slice().buffer_len(),
            OmxAttrs::Stats(a) => a.as_slice().buffer_len(),
        }
    }

    fn emit(&self, buffer: &mut [u8]) {
        match &self.attrs {
            OmxAttrs::Node(a) => a.as_slice().emit(buffer),
            OmxAttrs::Dev(a) => a.as_slice().emit(buffer),
            OmxAttrs::Lend(a) => a.as_slice().emit(buffer),
            OmxAttrs::Stats(a) => a.as_slice().emit(buffer),
        }
    }
}

impl ParseableParametrized<[u8], GenlHeader> for OmxMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let cmd = OmxCmd::try_from(header.cmd)?;
        let attrs = match cmd {
            OmxCmd::NodeAdd | OmxCmd::NodeDel | OmxCmd::NodeGet | OmxCmd::NodeStateNtf => {
                OmxAttrs::Node(
                    parse_attrs(buf, |nla| NodeAttr::parse(nla))
                        .with_context(|| format!("failed to parse {cmd} attributes"))?,
                )
            }
            OmxCmd::DevAdd | OmxCmd::DevDel | OmxCmd::DevGet | OmxCmd::DevErrorNtf => {
                OmxAttrs::Dev(
                    parse_attrs(buf, |nla| DevAttr::parse(nla))
                        .with_context(|| format!("failed to parse {cmd} attributes"))?,
                )
            }
            OmxCmd::LendAdd | OmxCmd::LendDel | OmxCmd::LendGet => OmxAttrs::Lend(
                parse_attrs(buf, |nla| LendAttr::parse(nla))
                    .with_context(|| format!("failed to parse {cmd} attributes"))?,
            ),
            OmxCmd::StatsGet => OmxAttrs::Stats(
                parse_attrs(buf, |nla| StatsAttr::parse(nla))
                    .with_context(|| format!("failed to parse {cmd} attributes"))?,
            ),
        };
        Ok(OmxMessage { cmd, attrs })
    }
}
