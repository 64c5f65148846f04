// SPDX-License-Identifier: GPL-2.0

//! Requests about block devices: dev-add (members, copies, regions on the nodes), dev-del,
//! dev-get.

use super::{Control, MAX_NODE_SIZE};
use crate::attrs::fill_dev;
use crate::device::{per_node_len, Device, Member, MAX_MEMBERS, MAX_REPLICAS};
use crate::devices::{find_region, DelError};
use crate::glue::genl::{Attr, GenlFamily, Request};
use crate::netlink::dev;
use crate::node::Node;
use kernel::c_str;
use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::Arc;

/// Device names are "omx" and a number below 1000 without leading zeros ("omx0", "omx12").
fn valid_dev_name(name: &str) -> bool {
    let Some(num) = name.strip_prefix("omx") else {
        return false;
    };
    !num.is_empty()
        && num.len() <= 3
        && num.bytes().all(|b| b.is_ascii_digit())
        && (num == "0" || !num.starts_with('0'))
}

impl Control {
    pub(super) fn dev_name<'a>(&self, req: &'a Request<'_>) -> Result<(&'a str, Attr<'a>)> {
        let attr = req
            .attr(dev::NAME)
            .ok_or_else(|| req.missing(c_str!("missing device name")))?;
        let name = attr.str().ok_or_else(|| {
            req.fail(EINVAL, Some(&attr), c_str!("device name is not valid text"))
        })?;
        Ok((name, attr))
    }

    pub(super) fn dev_add(&self, req: &Request<'_>) -> Result {
        let (name, name_attr) = self.dev_name(req)?;
        if !valid_dev_name(name) {
            return Err(req.fail(
                EINVAL,
                Some(&name_attr),
                c_str!("device name must be omxN (N = 0..999)"),
            ));
        }
        let size_attr = req
            .attr(dev::SIZE)
            .ok_or_else(|| req.missing(c_str!("missing size")))?;
        let size = size_attr.u64().unwrap_or(0);
        if size == 0 || size % 4096 != 0 || size > MAX_NODE_SIZE {
            return Err(req.fail(
                EINVAL,
                Some(&size_attr),
                c_str!("size must be a non-zero multiple of 4096"),
            ));
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
            let id = a
                .u32()
                .ok_or_else(|| req.fail(EINVAL, Some(&a), c_str!("node id must be a u32")))?;
            let node = self
                .nodes
                .get(id)
                .ok_or_else(|| req.fail(ENOENT, Some(&a), c_str!("no such node")))?;
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
            return Err(req.fail(
                EINVAL,
                replicas_attr.as_ref(),
                c_str!("two copies need at least two member nodes"),
            ));
        }
        let len = per_node_len(size, nodes.len(), replicas).ok_or(EINVAL)?;
        let cname = CString::try_from_fmt(kernel::fmt!("{name}"))?;
        self.devices.with(|list| {
            if list
                .iter()
                .flatten()
                .any(|d| d.name.as_bytes() == name.as_bytes())
            {
                return Err(req.fail(
                    EEXIST,
                    Some(&name_attr),
                    c_str!("a device with this name exists"),
                ));
            }
            let Some(slot) = list.iter().position(|d| d.is_none()) else {
                return Err(req.fail(ENOSPC, None, c_str!("too many devices")));
            };
            let mut members = KVec::with_capacity(nodes.len(), GFP_KERNEL)?;
            for node in nodes {
                let base =
                    find_region(&list[..], node.id, node.params.size, len).ok_or_else(|| {
                        req.fail(
                            ENOSPC,
                            Some(&size_attr),
                            c_str!("not enough free memory on the member nodes"),
                        )
                    })?;
                let epoch = node.epoch();
                members.push(
                    Member {
                        node,
                        base,
                        len,
                        epoch,
                    },
                    GFP_KERNEL,
                )?;
            }
            let device = Device::new(cname, size, members, replicas, self.events.clone())?;
            if let Some(s) = list.get_mut(slot) {
                *s = Some(device);
            }
            Ok(())
        })?;
        pr_info!(
            "device {}: {} bytes, {} cop{}\n",
            name,
            size,
            replicas,
            if replicas == 1 { "y" } else { "ies" }
        );
        Ok(())
    }

    pub(super) fn dev_del(&self, req: &Request<'_>) -> Result {
        let (name, attr) = self.dev_name(req)?;
        match self.devices.remove(name.as_bytes()) {
            Ok(()) => {
                pr_info!("device {}: removed\n", name);
                Ok(())
            }
            Err(DelError::NotFound) => Err(req.fail(ENOENT, Some(&attr), c_str!("no such device"))),
            Err(DelError::Busy) => {
                Err(req.fail(EBUSY, Some(&attr), c_str!("device is open or swapped on")))
            }
        }
    }

    pub(super) fn dev_get(&self, family: &GenlFamily<Self>, req: &Request<'_>) -> Result {
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
}
