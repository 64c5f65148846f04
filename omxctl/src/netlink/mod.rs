//! The `omx` generic netlink family: a typed client over a sync socket.

pub mod attrs;
pub mod family;
pub mod messages;
pub mod socket;

use crate::error::{Error, Result, Target};
use crate::model::{Dev, Event, Lend, Node};
use attrs::{ByteOrder, DevAttr, Integrity, LendAttr, ModuleStats, NodeAttr, Version};
use family::FamilyInfo;
use messages::{OmxCmd, OmxMessage, FAMILY_NAME, FAMILY_VERSION, MCAST_GROUP_EVENTS};
use socket::GenlSocket;

/// Parameters of node-add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddRequest {
    pub ifname: String,
    pub peer_mac: [u8; 6],
    pub size: u64,
    pub byte_order: ByteOrder,
    pub version: Version,
    pub mtu: Option<u32>,
    /// Frame integrity trailer's check, or none.
    pub integrity: Integrity,
    /// How long I/O waits for the node after losing its connection (ms); `None` = the
    /// module's default.
    pub io_timeout_ms: Option<u32>,
}

impl NodeAddRequest {
    /// The request's attributes, in spec order.
    pub fn to_message(&self) -> OmxMessage {
        let mut a = vec![
            NodeAttr::Ifname(self.ifname.clone()),
            NodeAttr::PeerMac(self.peer_mac),
            NodeAttr::Size(self.size),
            NodeAttr::ByteOrder(self.byte_order),
            NodeAttr::Version(self.version),
        ];
        if let Some(mtu) = self.mtu {
            a.push(NodeAttr::Mtu(mtu));
        }
        a.push(NodeAttr::Integrity(self.integrity));
        if let Some(ms) = self.io_timeout_ms {
            a.push(NodeAttr::IoTimeout(ms));
        }
        OmxMessage::node(OmxCmd::NodeAdd, a)
    }
}

/// Parameters of dev-add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevAddRequest {
    pub name: String,
    pub size: u64,
    /// Member nodes; empty = all nodes.
    pub nodes: Vec<u32>,
    pub replicas: Option<u32>,
}

impl DevAddRequest {
    /// The request's attributes: name, size, one node-id per member,
    /// replicas.
    pub fn to_message(&self) -> OmxMessage {
        let mut a = vec![DevAttr::Name(self.name.clone()), DevAttr::Size(self.size)];
        a.extend(self.nodes.iter().map(|id| DevAttr::NodeId(*id)));
        if let Some(r) = self.replicas {
            a.push(DevAttr::Replicas(r));
        }
        OmxMessage::dev(OmxCmd::DevAdd, a)
    }
}

/// Parameters of lend-add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LendAddRequest {
    pub ifname: String,
    pub client_mac: [u8; 6],
    pub size: u64,
}

impl LendAddRequest {
    /// The request's attributes, in spec order.
    pub fn to_message(&self) -> OmxMessage {
        OmxMessage::lend(
            OmxCmd::LendAdd,
            vec![
                LendAttr::Ifname(self.ifname.clone()),
                LendAttr::ClientMac(self.client_mac),
                LendAttr::Size(self.size),
            ],
        )
    }
}

/// A connection to the omx family.
pub struct Omx {
    sock: GenlSocket,
    family: FamilyInfo,
}

impl Omx {
    /// Open a socket and resolve the family (Error::NotLoaded if absent).
    pub fn connect() -> Result<Self> {
        let mut sock = GenlSocket::open()?;
        let family = family::resolve(&mut sock, FAMILY_NAME)?;
        if family.version != 0 && family.version < u32::from(FAMILY_VERSION) {
            return Err(Error::Protocol(format!(
                "omx_mod registered family version {}, omxctl needs {}",
                family.version, FAMILY_VERSION
            )));
        }
        Ok(Omx { sock, family })
    }

    /// What the controller reported about the family.
    pub fn family(&self) -> &FamilyInfo {
        &self.family
    }

    fn call(&mut self, msg: OmxMessage, dump: bool) -> Result<Vec<OmxMessage>> {
        let cmd = msg.cmd;
        let replies = self.sock.request(self.family.id, msg, dump)?;
        // Replies carry the request's command; anything else is ignored.
        Ok(replies.into_iter().filter(|m| m.cmd == cmd).collect())
    }

    /// Sends an add request and returns the id its reply carries (`what`: "node", ...).
    fn add(
        &mut self,
        msg: OmxMessage,
        target: Target,
        what: &str,
        id_of: impl Fn(&OmxMessage) -> Option<u32>,
    ) -> Result<u32> {
        let cmd = msg.cmd;
        let replies = self.call(msg, false).map_err(|e| e.with_target(target))?;
        replies
            .iter()
            .find_map(id_of)
            .ok_or_else(|| Error::Protocol(format!("{cmd} reply carried no {what} id")))
    }

    /// Sends a get request (do) and returns the object its reply describes; ENOENT, as the
    /// kernel says it, when there is none.
    fn get<T>(
        &mut self,
        msg: OmxMessage,
        target: Target,
        from: impl Fn(&OmxMessage) -> Option<T>,
    ) -> Result<T> {
        let cmd = msg.cmd;
        let replies = self
            .call(msg, false)
            .map_err(|e| e.with_target(target.clone()))?;
        replies.iter().find_map(from).ok_or_else(|| {
            Error::Kernel(crate::error::KernelError {
                errno: libc::ENOENT,
                extack: Default::default(),
                bad_attr: None,
                cmd: Some(cmd as u8),
                target,
            })
        })
    }

    /// node-add; returns the new node's id.
    pub fn node_add(&mut self, req: &NodeAddRequest) -> Result<u32> {
        let target = Target::NodeAdd {
            ifname: req.ifname.clone(),
        };
        self.add(req.to_message(), target, "node", |m| {
            m.node_attrs()?.iter().find_map(|a| match a {
                NodeAttr::Id(id) => Some(*id),
                _ => None,
            })
        })
    }

    /// node-del.
    pub fn node_del(&mut self, id: u32) -> Result<()> {
        self.call(
            OmxMessage::node(OmxCmd::NodeDel, vec![NodeAttr::Id(id)]),
            false,
        )
        .map_err(|e| e.with_target(Target::Node(id)))?;
        Ok(())
    }

    /// node-get (do) for one node.
    pub fn node_get(&mut self, id: u32) -> Result<Node> {
        let msg = OmxMessage::node(OmxCmd::NodeGet, vec![NodeAttr::Id(id)]);
        self.get(msg, Target::Node(id), |m| {
            m.node_attrs().map(Node::from_attrs)
        })
    }

    /// node-get dump: all nodes, sorted by id.
    pub fn node_dump(&mut self) -> Result<Vec<Node>> {
        let replies = self.call(OmxMessage::node(OmxCmd::NodeGet, vec![]), true)?;
        let mut nodes: Vec<Node> = replies
            .iter()
            .filter_map(|m| m.node_attrs())
            .map(Node::from_attrs)
            .collect();
        nodes.sort_by_key(|n| n.id);
        Ok(nodes)
    }

    /// dev-add.
    pub fn dev_add(&mut self, req: &DevAddRequest) -> Result<()> {
        let target = Target::DevAdd {
            name: req.name.clone(),
            nodes: req.nodes.clone(),
        };
        self.call(req.to_message(), false)
            .map_err(|e| e.with_target(target))?;
        Ok(())
    }

    /// dev-del.
    pub fn dev_del(&mut self, name: &str) -> Result<()> {
        self.call(
            OmxMessage::dev(OmxCmd::DevDel, vec![DevAttr::Name(name.to_string())]),
            false,
        )
        .map_err(|e| e.with_target(Target::Dev(name.to_string())))?;
        Ok(())
    }

    /// dev-get (do) for one device.
    pub fn dev_get(&mut self, name: &str) -> Result<Dev> {
        let msg = OmxMessage::dev(OmxCmd::DevGet, vec![DevAttr::Name(name.to_string())]);
        self.get(msg, Target::Dev(name.to_string()), |m| {
            m.dev_attrs().map(Dev::from_attrs)
        })
    }

    /// dev-get dump: all devices, sorted by name.
    pub fn dev_dump(&mut self) -> Result<Vec<Dev>> {
        let replies = self.call(OmxMessage::dev(OmxCmd::DevGet, vec![]), true)?;
        let mut devs: Vec<Dev> = replies
            .iter()
            .filter_map(|m| m.dev_attrs())
            .map(Dev::from_attrs)
            .collect();
        devs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(devs)
    }

    /// lend-add; returns the new lending's id.
    pub fn lend_add(&mut self, req: &LendAddRequest) -> Result<u32> {
        let target = Target::LendAdd {
            ifname: req.ifname.clone(),
        };
        self.add(req.to_message(), target, "lending", |m| {
            m.lend_attrs()?.iter().find_map(|a| match a {
                LendAttr::Id(id) => Some(*id),
                _ => None,
            })
        })
    }

    /// lend-del.
    pub fn lend_del(&mut self, id: u32) -> Result<()> {
        self.call(
            OmxMessage::lend(OmxCmd::LendDel, vec![LendAttr::Id(id)]),
            false,
        )
        .map_err(|e| e.with_target(Target::Lend(id)))?;
        Ok(())
    }

    /// lend-get (do) for one lending.
    pub fn lend_get(&mut self, id: u32) -> Result<Lend> {
        let msg = OmxMessage::lend(OmxCmd::LendGet, vec![LendAttr::Id(id)]);
        self.get(msg, Target::Lend(id), |m| {
            m.lend_attrs().map(Lend::from_attrs)
        })
    }

    /// lend-get dump: all lendings, sorted by id.
    pub fn lend_dump(&mut self) -> Result<Vec<Lend>> {
        let replies = self.call(OmxMessage::lend(OmxCmd::LendGet, vec![]), true)?;
        let mut lends: Vec<Lend> = replies
            .iter()
            .filter_map(|m| m.lend_attrs())
            .map(Lend::from_attrs)
            .collect();
        lends.sort_by_key(|l| l.id);
        Ok(lends)
    }

    /// stats-get.
    pub fn stats_get(&mut self) -> Result<ModuleStats> {
        let replies = self.call(OmxMessage::stats(vec![]), false)?;
        let attrs: Vec<_> = replies
            .iter()
            .filter_map(|m| m.stats_attrs())
            .flatten()
            .cloned()
            .collect();
        Ok(ModuleStats::from_attrs(&attrs))
    }

    /// Join the "events" multicast group.
    pub fn subscribe_events(&mut self) -> Result<()> {
        let group = self.family.group(MCAST_GROUP_EVENTS).ok_or_else(|| {
            Error::Protocol(format!(
                "family '{FAMILY_NAME}' has no multicast group '{MCAST_GROUP_EVENTS}'"
            ))
        })?;
        self.sock.add_membership(group)
    }

    /// Block for the next notifications (after [`Omx::subscribe_events`]).
    pub fn next_events(&mut self) -> Result<Vec<Event>> {
        let msgs: Vec<OmxMessage> = self.sock.recv_notifications(self.family.id)?;
        Ok(msgs.iter().filter_map(event_from_message).collect())
    }
}

/// Turn a notification into an [`Event`] (other commands give `None`).
pub fn event_from_message(m: &OmxMessage) -> Option<Event> {
    match m.cmd {
        OmxCmd::NodeStateNtf => Some(Event::NodeState {
            node: Node::from_attrs(m.node_attrs()?),
        }),
        OmxCmd::DevErrorNtf => Some(Event::DevError {
            dev: Dev::from_attrs(m.dev_attrs()?),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
