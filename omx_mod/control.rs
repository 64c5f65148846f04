// SPDX-License-Identifier: GPL-2.0

//! The control plane: the `omx` generic netlink family's requests (see `netlink.rs` and
//! `Documentation/netlink/specs/omx.yaml`).

use crate::events::Events;
use crate::glue::errno::eopnotsupp;
use crate::glue::genl::{Dump, GenlFamily, GenlHandler, Message, Request};
use crate::glue::netdev::NetDevice;
use crate::glue::notifier::NetdevHandler;
use crate::mac::MacAddr;
use crate::netlink::{cmd, node, node_stats, stats};
use crate::node::{Node, NodeParams};
use crate::nodes::{AddError, Nodes};
use crate::omx_proto::{ByteOrder, Version};
use crate::rx::{Receiver, MIN_PAYLOAD};
use core::sync::atomic::Ordering::Relaxed;
use kernel::c_str;
use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::Arc;

/// Largest size a node may lend (bounded so sizes in bytes never overflow).
const MAX_NODE_SIZE: u64 = 1 << 50;

pub(crate) struct Control {
    pub(crate) nodes: Arc<Nodes>,
    pub(crate) events: Arc<Events>,
    pub(crate) receiver: Arc<Receiver>,
}

/// Writes a node's attributes (node-get replies, dumps and events).
pub(crate) fn fill_node(msg: &mut Message<'_>, n: &Node) -> Result {
    let p = &n.params;
    msg.put_u32(node::ID, n.id)?;
    msg.put_str(node::IFNAME, p.dev.name())?;
    msg.put_u32(node::IFINDEX, p.dev.ifindex() as u32)?;
    msg.put_bytes(node::PEER_MAC, &p.peer.0)?;
    msg.put_u64(node::SIZE, p.size)?;
    msg.put_u32(node::BYTE_ORDER, if p.order == ByteOrder::Spec { 0 } else { 1 })?;
    msg.put_u32(node::VERSION, if p.version == Version::V1_1 { 0 } else { 1 })?;
    msg.put_u32(node::MTU, p.mtu)?;
    msg.put_u32(node::STATE, n.state() as u32)?;
    let s = n.stats();
    msg.nest(node::STATS, |m| {
        m.put_u64(node_stats::TX_FRAMES, s.tx_frames)?;
        m.put_u64(node_stats::RX_FRAMES, s.rx_frames)?;
        m.put_u64(node_stats::TX_BYTES, s.tx_bytes)?;
        m.put_u64(node_stats::RX_BYTES, s.rx_bytes)?;
        m.put_u64(node_stats::RETRANSMITS, s.retransmits)?;
        m.put_u64(node_stats::NAKS_SENT, s.naks_sent)?;
        m.put_u64(node_stats::NAKS_RECEIVED, s.naks_received)?;
        m.put_u64(node_stats::MALFORMED, s.malformed)?;
        m.put_u64(node_stats::TIMEOUTS, s.timeouts)?;
        m.put_u64(node_stats::RECONNECTS, s.reconnects)
    })
}

impl Control {
    fn node_add(&self, family: &GenlFamily<Self>, req: &Request<'_>) -> Result {
        let ifname = req.attr(node::IFNAME).ok_or_else(|| req.missing(c_str!("missing interface name (ifname)")))?;
        let mac = req.attr(node::PEER_MAC).ok_or_else(|| req.missing(c_str!("missing peer MAC address (peer-mac)")))?;
        let size = req.attr(node::SIZE).ok_or_else(|| req.missing(c_str!("missing size")))?;

        let name = ifname.str().ok_or_else(|| req.fail(EINVAL, Some(&ifname), c_str!("interface name is not valid text")))?;
        let name = CString::try_from_fmt(kernel::fmt!("{name}"))?;
        let dev = NetDevice::get_by_name(&name)
            .map_err(|_| req.fail(ENODEV, Some(&ifname), c_str!("no such interface")))?;
        if !dev.is_ethernet() {
            return Err(req.fail(EINVAL, Some(&ifname), c_str!("interface is not an Ethernet device")));
        }
        let peer: [u8; 6] = mac.payload.try_into().map_err(|_| req.fail(EINVAL, Some(&mac), c_str!("peer MAC must be 6 bytes")))?;
        let peer = MacAddr(peer);
        if peer.is_multicast() || peer.0 == [0; 6] {
            return Err(req.fail(EINVAL, Some(&mac), c_str!("peer MAC must be a unicast address")));
        }
        if peer == dev.mac() {
            return Err(req.fail(EINVAL, Some(&mac), c_str!("peer MAC is this interface's own address")));
        }
        let size_val = size.u64().unwrap_or(0);
        if size_val == 0 || size_val % 4096 != 0 || size_val > MAX_NODE_SIZE {
            return Err(req.fail(EINVAL, Some(&size), c_str!("size must be a non-zero multiple of 4096 up to 1 PiB")));
        }
        let order = match req.attr(node::BYTE_ORDER).and_then(|a| a.u32()) {
            None | Some(0) => ByteOrder::Spec,
            Some(_) => ByteOrder::Raw,
        };
        let version = match req.attr(node::VERSION).and_then(|a| a.u32()) {
            None | Some(0) => Version::V1_1,
            Some(_) => Version::V1_0_3,
        };
        let dev_mtu = dev.mtu();
        let mtu = match req.attr(node::MTU) {
            None => dev_mtu,
            Some(a) => match a.u32() {
                Some(0) => dev_mtu,
                Some(m) if m > dev_mtu => return Err(req.fail(EINVAL, Some(&a), c_str!("mtu is larger than the interface's MTU"))),
                Some(m) if (m as usize) < MIN_PAYLOAD + 64 => return Err(req.fail(EINVAL, Some(&a), c_str!("mtu is too small for OmniXtend"))),
                Some(m) => m,
                None => return Err(req.fail(EINVAL, Some(&a), c_str!("mtu must be a u32"))),
            },
        };
        if let Some(existing) = self.nodes.find(&dev, peer) {
            let _ = existing;
            return Err(req.fail(EEXIST, Some(&mac), c_str!("a node with this interface and MAC exists")));
        }

        let id = self.nodes.allocate_id();
        let params = NodeParams { dev, peer, size: size_val, order, version, mtu };
        let node = Node::new(id, params, self.events.clone())?;
        if let Err((err, node)) = self.nodes.insert(node) {
            node.shutdown();
            return Err(match err {
                AddError::Duplicate => req.fail(EEXIST, Some(&mac), c_str!("a node with this interface and MAC exists")),
                AddError::Full => req.fail(ENOSPC, None, c_str!("too many pool nodes")),
            });
        }
        pr_info!("node {}: {} on {}, {} bytes\n", id, peer, name.to_str().unwrap_or("?"), size_val);
        req.reply(family, |msg| msg.put_u32(node::ID, id))
    }

    fn node_id<'a>(&self, req: &'a Request<'_>) -> Result<(u32, crate::glue::genl::Attr<'a>)> {
        let attr = req.attr(node::ID).ok_or_else(|| req.missing(c_str!("missing node id")))?;
        let id = attr.u32().ok_or_else(|| req.fail(EINVAL, Some(&attr), c_str!("node id must be a u32")))?;
        Ok((id, attr))
    }

    fn node_del(&self, req: &Request<'_>) -> Result {
        let (id, attr) = self.node_id(req)?;
        let node = self.nodes.remove(id).ok_or_else(|| req.fail(ENOENT, Some(&attr), c_str!("no such node")))?;
        node.shutdown();
        self.events.node_state_changed(&node);
        pr_info!("node {}: removed\n", id);
        Ok(())
    }

    fn node_get(&self, family: &GenlFamily<Self>, req: &Request<'_>) -> Result {
        let (id, attr) = self.node_id(req)?;
        let node = self.nodes.get(id).ok_or_else(|| req.fail(ENOENT, Some(&attr), c_str!("no such node")))?;
        req.reply(family, |msg| fill_node(msg, &node))
    }

    fn stats_get(&self, family: &GenlFamily<Self>, req: &Request<'_>) -> Result {
        let c = &self.receiver.counters;
        req.reply(family, |msg| {
            msg.put_u64(stats::RX_FRAMES, c.frames.load(Relaxed))?;
            msg.put_u64(stats::RX_MALFORMED, c.malformed.load(Relaxed))?;
            msg.put_u64(stats::RX_UNKNOWN_PEER, c.unknown_peer.load(Relaxed))?;
            msg.put_u64(stats::RX_DROPPED, c.dropped.load(Relaxed))
        })
    }
}

impl GenlHandler for Control {
    fn doit(&self, family: &GenlFamily<Self>, req: &Request<'_>) -> Result {
        match req.cmd {
            cmd::NODE_ADD => self.node_add(family, req),
            cmd::NODE_DEL => self.node_del(req),
            cmd::NODE_GET => self.node_get(family, req),
            cmd::STATS_GET => self.stats_get(family, req),
            cmd::DEV_ADD | cmd::DEV_DEL | cmd::DEV_GET => {
                Err(req.fail(eopnotsupp(), None, c_str!("block devices are not available in this version of omx_mod")))
            }
            _ => Err(eopnotsupp()),
        }
    }

    fn dumpit(&self, cmd_id: u8, dump: &mut Dump<'_>) -> Result {
        match cmd_id {
            // The dump position is the next node id to report: stable across removals.
            cmd::NODE_GET => {
                while let Some(node) = self.nodes.next_from(dump.position() as u32) {
                    if !dump.add(|msg| fill_node(msg, &node))? {
                        break;
                    }
                    dump.set_position(node.id as usize + 1);
                }
                Ok(())
            }
            // No block devices yet: an empty list.
            cmd::DEV_GET => Ok(()),
            _ => Err(eopnotsupp()),
        }
    }
}

/// Drops the nodes of an interface that goes away, so its unregistration can finish.
pub(crate) struct InterfaceWatch {
    pub(crate) nodes: Arc<Nodes>,
    pub(crate) events: Arc<Events>,
}

impl NetdevHandler for InterfaceWatch {
    fn unregistering(&self, dev: &NetDevice) {
        while let Some(node) = self.nodes.remove_one_on(dev) {
            node.shutdown();
            self.events.node_state_changed(&node);
            pr_info!("node {}: interface {} went away, node removed\n", node.id, dev.name());
        }
    }
}
