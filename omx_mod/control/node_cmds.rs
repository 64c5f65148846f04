// SPDX-License-Identifier: GPL-2.0

//! Requests about pool nodes: node-add (checking every attribute), node-del, node-get.

use super::{ethernet_interface, station_address, Control, MAX_NODE_SIZE};
use crate::attrs::fill_node;
use crate::glue::genl::{Attr, GenlFamily, Request};
use crate::netlink::{byte_order, integrity, node, version};
use crate::node::params::{NodeParams, DEFAULT_IO_TIMEOUT_MS};
use crate::node::{Node, NodeObserver};
use crate::nodes::AddError;
use crate::omx_proto::frame::MIN_PAYLOAD;
use crate::omx_proto::integrity::Check;
use crate::omx_proto::{ByteOrder, Version};
use kernel::c_str;
use kernel::prelude::*;

/// Longest I/O timeout: beyond a few minutes the hung-task detector would report the
/// processes waiting for swap-in, and an administrator wants an error instead.
const MAX_IO_TIMEOUT_MS: u32 = 300_000;

impl Control {
    pub(super) fn node_add(&self, family: &GenlFamily<Self>, req: &Request<'_>) -> Result {
        let ifname = req
            .attr(node::IFNAME)
            .ok_or_else(|| req.missing(c_str!("missing interface name (ifname)")))?;
        let mac = req
            .attr(node::PEER_MAC)
            .ok_or_else(|| req.missing(c_str!("missing peer MAC address (peer-mac)")))?;
        let size = req
            .attr(node::SIZE)
            .ok_or_else(|| req.missing(c_str!("missing size")))?;

        let (dev, name) = ethernet_interface(req, &ifname)?;
        let peer = station_address(req, &mac, &dev)?;
        let size_val = size.u64().unwrap_or(0);
        if size_val == 0 || size_val % 4096 != 0 || size_val > MAX_NODE_SIZE {
            return Err(req.fail(
                EINVAL,
                Some(&size),
                c_str!("size must be a non-zero multiple of 4096 up to 1 PiB"),
            ));
        }
        let order = match req.attr(node::BYTE_ORDER).and_then(|a| a.u32()) {
            None | Some(byte_order::SPEC) => ByteOrder::Spec,
            // The policy admits only the spec's values: anything else is `raw`.
            Some(_) => ByteOrder::Raw,
        };
        let version = match req.attr(node::VERSION).and_then(|a| a.u32()) {
            None | Some(version::V1_1) => Version::V1_1,
            // The policy admits only the spec's values: anything else is `v1-0-3`.
            Some(_) => Version::V1_0_3,
        };
        let dev_mtu = dev.mtu();
        let mtu = match req.attr(node::MTU) {
            None => dev_mtu,
            Some(a) => match a.u32() {
                Some(0) => dev_mtu,
                Some(m) if m > dev_mtu => {
                    return Err(req.fail(
                        EINVAL,
                        Some(&a),
                        c_str!("mtu is larger than the interface's MTU"),
                    ))
                }
                Some(m) if (m as usize) < MIN_PAYLOAD + 64 => {
                    return Err(req.fail(
                        EINVAL,
                        Some(&a),
                        c_str!("mtu is too small for OmniXtend"),
                    ))
                }
                Some(m) => m,
                None => return Err(req.fail(EINVAL, Some(&a), c_str!("mtu must be a u32"))),
            },
        };
        // omx's trailer unless the peer cannot take it (hardware OmniXtend nodes).
        let integrity = match req.attr(node::INTEGRITY).and_then(|a| a.u32()) {
            None | Some(integrity::XXH64) => Some(Check::Xxh64),
            Some(integrity::CRC32C) => Some(Check::Crc32c),
            // The policy admits only the spec's values: anything else is `none`.
            Some(_) => None,
        };
        let io_timeout_ms = match req.attr(node::IO_TIMEOUT) {
            None => DEFAULT_IO_TIMEOUT_MS,
            Some(a) => match a.u32() {
                Some(ms) if ms <= MAX_IO_TIMEOUT_MS => ms,
                _ => {
                    return Err(req.fail(
                        EINVAL,
                        Some(&a),
                        c_str!("io-timeout must be at most 300000 ms"),
                    ))
                }
            },
        };
        // A peer is either a node this host uses or a client it lends to (`lend_cmds.rs`).
        if self.lends.find(&dev, peer).is_some() {
            return Err(req.fail(
                EEXIST,
                Some(&mac),
                c_str!("this MAC is a client this host lends memory to on that interface"),
            ));
        }
        if let Some(existing) = self.nodes.find(&dev, peer) {
            let _ = existing;
            return Err(req.fail(
                EEXIST,
                Some(&mac),
                c_str!("a node with this interface and MAC exists"),
            ));
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
                AddError::Duplicate => req.fail(
                    EEXIST,
                    Some(&mac),
                    c_str!("a node with this interface and MAC exists"),
                ),
                AddError::Full => req.fail(ENOSPC, None, c_str!("too many pool nodes")),
            });
        }
        pr_info!(
            "node {}: {} on {}, {} bytes\n",
            id,
            peer,
            name.to_str().unwrap_or("?"),
            size_val
        );
        req.reply(family, |msg| msg.put_u32(node::ID, id))
    }

    pub(super) fn node_id<'a>(&self, req: &'a Request<'_>) -> Result<(u32, Attr<'a>)> {
        let attr = req
            .attr(node::ID)
            .ok_or_else(|| req.missing(c_str!("missing node id")))?;
        let id = attr
            .u32()
            .ok_or_else(|| req.fail(EINVAL, Some(&attr), c_str!("node id must be a u32")))?;
        Ok((id, attr))
    }

    pub(super) fn node_del(&self, req: &Request<'_>) -> Result {
        let (id, attr) = self.node_id(req)?;
        // Checked under the device list's lock by `dev_add` too, so no device can pick up
        // the node between this check and its removal (both run under genl_mutex).
        if self.devices.uses_node(id) {
            return Err(req.fail(EBUSY, Some(&attr), c_str!("node is in use by a device")));
        }
        let node = self
            .nodes
            .remove(id)
            .ok_or_else(|| req.fail(ENOENT, Some(&attr), c_str!("no such node")))?;
        node.shutdown();
        self.events.node_state_changed(&node);
        pr_info!("node {}: removed\n", id);
        Ok(())
    }

    pub(super) fn node_get(&self, family: &GenlFamily<Self>, req: &Request<'_>) -> Result {
        let (id, attr) = self.node_id(req)?;
        let node = self
            .nodes
            .get(id)
            .ok_or_else(|| req.fail(ENOENT, Some(&attr), c_str!("no such node")))?;
        req.reply(family, |msg| fill_node(msg, &node))
    }
}
