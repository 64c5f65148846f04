// SPDX-License-Identifier: GPL-2.0

//! The control plane: the `omx` generic netlink family's requests (see `netlink.rs` and
//! `Documentation/netlink/specs/omx.yaml`).

use crate::attrs::{fill_dev, fill_node};
use crate::device::{per_node_len, Device, Member, MAX_MEMBERS, MAX_REPLICAS};
use crate::devices::{find_region, DelError, Devices};
use crate::events::Events;
use crate::glue::errno::eopnotsupp;
use crate::glue::genl::{Dump, GenlFamily, GenlHandler, Request};
use crate::glue::netdev::NetDevice;
use crate::mac::MacAddr;
use crate::netlink::{cmd, dev, node, stats};
use crate::node::params::{NodeParams, DEFAULT_IO_TIMEOUT_MS};
use crate::node::{Node, NodeObserver};
use crate::nodes::{AddError, Nodes};
use crate::omx_proto::{ByteOrder, Version};
use crate::omx_proto::frame::MIN_PAYLOAD;
use crate::rx::Receiver;
use core::sync::atomic::Ordering::Relaxed;
use kernel::c_str;
use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::Arc;

/// Largest size a node may lend (bounded so sizes in bytes never overflow).
const MAX_NODE_SIZE: u64 = 1 << 50;
/// Longest I/O timeout: beyond a few minutes the hung-task detector would report the
/// processes waiting for swap-in, and an administrator wants an error instead.
const MAX_IO_TIMEOUT_MS: u32 = 300_000;

pub(crate) struct Control {
    pub(crate) nodes: Arc<Nodes>,
    pub(crate) events: Arc<Events>,
    pub(crate) receiver: Arc<Receiver>,
    pub(crate) devices: Arc<Devices>,
}

/// Device names are "omx" and a number below 1000 without leading zeros ("omx0", "omx12").
fn valid_dev_name(name: &str) -> bool {
    let Some(num) = name.strip_prefix("omx") else { return false };
    !num.is_empty() && num.len() <= 3 && num.bytes().all(|b| b.is_ascii_digit()) && (num == "0" || !num.starts_with('0'))
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
        // The omx CRC trailer unless the peer cannot take it (hardware OmniXtend nodes).
        let integrity = !matches!(req.attr(node::INTEGRITY).and_then(|a| a.u32()), Some(0));
        let io_timeout_ms = match req.attr(node::IO_TIMEOUT) {
            None => DEFAULT_IO_TIMEOUT_MS,
            Some(a) => match a.u32() {
                Some(ms) if ms <= MAX_IO_TIMEOUT_MS => ms,
                _ => return Err(req.fail(EINVAL, Some(&a), c_str!("io-timeout must be at most 300000 ms"))),
            },
        };
        if let Some(existing) = self.nodes.find(&dev, peer) {
            let _ = existing;
            return Err(req.fail(EEXIST, Some(&mac), c_str!("a node with this interface and MAC exists")));
        }

        let id = self.nodes.allocate_id();
        let mut params = NodeParams::new(&dev, peer, size_val);
        params.order = order;
        params.version = version;
        params.mtu = mtu;
        params.integrity = integrity;
        params.io_timeout_ms = io_timeout_ms;
        let node = Node::new(id, dev, params, self.events.clone())?;
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
        // Checked under the device list's lock by `dev_add` too, so no device can pick up
        // the node between this check and its removal (both run under genl_mutex).
        if self.devices.uses_node(id) {
            return Err(req.fail(EBUSY, Some(&attr), c_str!("node is in use by a device")));
        }
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

    fn dev_name<'a>(&self, req: &'a Request<'_>) -> Result<(&'a str, crate::glue::genl::Attr<'a>)> {
        let attr = req.attr(dev::NAME).ok_or_else(|| req.missing(c_str!("missing device name")))?;
        let name = attr.str().ok_or_else(|| req.fail(EINVAL, Some(&attr), c_str!("device name is not valid text")))?;
        Ok((name, attr))
    }

    fn dev_add(&self, req: &Request<'_>) -> Result {
        let (name, name_attr) = self.dev_name(req)?;
        if !valid_dev_name(name) {
            return Err(req.fail(EINVAL, Some(&name_attr), c_str!("device name must be omxN (N = 0..999)")));
        }
        let size_attr = req.attr(dev::SIZE).ok_or_else(|| req.missing(c_str!("missing size")))?;
        let size = size_attr.u64().unwrap_or(0);
        if size == 0 || size % 4096 != 0 || size > MAX_NODE_SIZE {
            return Err(req.fail(EINVAL, Some(&size_attr), c_str!("size must be a non-zero multiple of 4096")));
        }
        let replicas_attr = req.attr(dev::REPLICAS);
        let replicas = match &replicas_attr {
            None => 1,
            Some(r) => match r.u32() {
                Some(n @ 1..=MAX_REPLICAS) => n,
                _ => return Err(req.fail(EINVAL, Some(r), c_str!("replicas must be 1 or 2"))),
            },
        };
        // Members: the listed nodes in order, or every node by id.
        let mut nodes = KVec::new();
        for a in req.attrs().filter(|a| a.ty == dev::NODE_ID) {
            let id = a.u32().ok_or_else(|| req.fail(EINVAL, Some(&a), c_str!("node id must be a u32")))?;
            let node = self.nodes.get(id).ok_or_else(|| req.fail(ENOENT, Some(&a), c_str!("no such node")))?;
            if nodes.iter().any(|n: &Arc<Node>| n.id == id) {
                return Err(req.fail(EINVAL, Some(&a), c_str!("node listed twice")));
            }
            nodes.push(node, GFP_KERNEL)?;
        }
        if nodes.is_empty() {
            let mut id = 0;
            while let Some(node) = self.nodes.next_from(id) {
                let next = node.id.checked_add(1);
                nodes.push(node, GFP_KERNEL)?;
                match next {
                    Some(n) => id = n,
                    None => break,
                }
            }
        }
        if nodes.is_empty() {
            return Err(req.fail(ENOENT, None, c_str!("no pool nodes")));
        }
        if nodes.len() > MAX_MEMBERS {
            return Err(req.fail(EINVAL, None, c_str!("too many member nodes")));
        }
        if (nodes.len() as u32) < replicas {
            return Err(req.fail(EINVAL, replicas_attr.as_ref(), c_str!("two copies need at least two member nodes")));
        }
        let len = per_node_len(size, nodes.len(), replicas).ok_or(EINVAL)?;
        let cname = CString::try_from_fmt(kernel::fmt!("{name}"))?;
        self.devices.with(|list| {
            if list.iter().flatten().any(|d| d.name.as_bytes() == name.as_bytes()) {
                return Err(req.fail(EEXIST, Some(&name_attr), c_str!("a device with this name exists")));
            }
            let Some(slot) = list.iter().position(|d| d.is_none()) else {
                return Err(req.fail(ENOSPC, None, c_str!("too many devices")));
            };
            let mut members = KVec::with_capacity(nodes.len(), GFP_KERNEL)?;
            for node in nodes {
                let base = find_region(&list[..], node.id, node.params.size, len)
                    .ok_or_else(|| req.fail(ENOSPC, Some(&size_attr), c_str!("not enough free memory on the member nodes")))?;
                let epoch = node.epoch();
                members.push(Member { node, base, len, epoch }, GFP_KERNEL)?;
            }
            let device = Device::new(cname, size, members, replicas, self.events.clone())?;
            if let Some(s) = list.get_mut(slot) {
                *s = Some(device);
            }
            Ok(())
        })?;
        pr_info!("device {}: {} bytes, {} cop{}\n", name, size, replicas, if replicas == 1 { "y" } else { "ies" });
        Ok(())
    }

    fn dev_del(&self, req: &Request<'_>) -> Result {
        let (name, attr) = self.dev_name(req)?;
        match self.devices.remove(name.as_bytes()) {
            Ok(()) => {
                pr_info!("device {}: removed\n", name);
                Ok(())
            }
            Err(DelError::NotFound) => Err(req.fail(ENOENT, Some(&attr), c_str!("no such device"))),
            Err(DelError::Busy) => Err(req.fail(EBUSY, Some(&attr), c_str!("device is open or swapped on"))),
        }
    }

    fn dev_get(&self, family: &GenlFamily<Self>, req: &Request<'_>) -> Result {
        let (name, attr) = self.dev_name(req)?;
        self.devices.with(|list| {
            let d = list
                .iter()
                .flatten()
                .find(|d| d.name.as_bytes() == name.as_bytes())
                .ok_or_else(|| req.fail(ENOENT, Some(&attr), c_str!("no such device")))?;
            req.reply(family, |msg| fill_dev(msg, d))
        })
    }

    fn stats_get(&self, family: &GenlFamily<Self>, req: &Request<'_>) -> Result {
        let c = &self.receiver.counters;
        req.reply(family, |msg| {
            msg.put_u64(stats::RX_FRAMES, c.frames.load(Relaxed))?;
            msg.put_u64(stats::RX_MALFORMED, c.malformed.load(Relaxed))?;
            msg.put_u64(stats::RX_UNKNOWN_PEER, c.unknown_peer.load(Relaxed))?;
            msg.put_u64(stats::RX_DROPPED, c.dropped.load(Relaxed))?;
            msg.put_u64(stats::RX_OTHER_NETNS, c.other_netns.load(Relaxed))
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
            cmd::DEV_ADD => self.dev_add(req),
            cmd::DEV_DEL => self.dev_del(req),
            cmd::DEV_GET => self.dev_get(family, req),
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
            // The dump position is the next slot of the device table to report.
            cmd::DEV_GET => self.devices.with(|list| {
                let start = dump.position();
                for (i, d) in list.iter().enumerate().skip(start) {
                    if let Some(d) = d {
                        if !dump.add(|msg| fill_dev(msg, d))? {
                            return Ok(());
                        }
                    }
                    dump.set_position(i + 1);
                }
                Ok(())
            }),
            _ => Err(eopnotsupp()),
        }
    }
}
