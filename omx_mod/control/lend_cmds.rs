// SPDX-License-Identifier: GPL-2.0

//! Requests about memory this host lends: lend-add (checking every attribute), lend-del,
//! lend-get.

use super::{ethernet_interface, station_address, Control, MAX_NODE_SIZE};
use crate::attrs::fill_lend;
use crate::glue::genl::{Attr, GenlFamily, Request};
use crate::lend::Lend;
use crate::lends::LendAddError;
use crate::netlink::lend;
use crate::omx_proto::frame::MIN_PAYLOAD;
use kernel::c_str;
use kernel::prelude::*;

impl Control {
    pub(super) fn lend_add(&self, family: &GenlFamily<Self>, req: &Request<'_>) -> Result {
        let ifname = req
            .attr(lend::IFNAME)
            .ok_or_else(|| req.missing(c_str!("missing interface name (ifname)")))?;
        let mac = req
            .attr(lend::CLIENT_MAC)
            .ok_or_else(|| req.missing(c_str!("missing client MAC address (client-mac)")))?;
        let size = req
            .attr(lend::SIZE)
            .ok_or_else(|| req.missing(c_str!("missing size")))?;

        let (dev, name) = ethernet_interface(req, &ifname)?;
        if (dev.mtu() as usize) < MIN_PAYLOAD + 64 {
            return Err(req.fail(
                EINVAL,
                Some(&ifname),
                c_str!("interface MTU is too small for OmniXtend"),
            ));
        }
        let client = station_address(req, &mac, &dev)?;
        // A peer is either a node this host uses or a client it lends to: frames from a
        // node's MAC go to the node.
        if self.nodes.find(&dev, client).is_some() {
            return Err(req.fail(
                EEXIST,
                Some(&mac),
                c_str!("this MAC is a pool node of this host on that interface"),
            ));
        }
        let size_val = size.u64().unwrap_or(0);
        if size_val == 0 || size_val % 4096 != 0 || size_val > MAX_NODE_SIZE {
            return Err(req.fail(
                EINVAL,
                Some(&size),
                c_str!("size must be a non-zero multiple of 4096 up to 1 PiB"),
            ));
        }
        let id = self.lends.allocate_id();
        let lending = Lend::new(id, dev, client, size_val).map_err(|e| {
            if e == ENOMEM {
                req.fail(
                    ENOMEM,
                    Some(&size),
                    c_str!("not enough memory to lend this size"),
                )
            } else {
                e
            }
        })?;
        if let Err((err, lending)) = self.lends.insert(lending) {
            lending.shutdown();
            return Err(match err {
                LendAddError::Duplicate => req.fail(
                    EEXIST,
                    Some(&mac),
                    c_str!("memory is lent to this client on this interface already"),
                ),
                LendAddError::Full => req.fail(ENOSPC, None, c_str!("too many lendings")),
            });
        }
        pr_info!(
            "lend {}: {} bytes to {} on {}\n",
            id,
            size_val,
            client,
            name.to_str().unwrap_or("?")
        );
        req.reply(family, |msg| msg.put_u32(lend::ID, id))
    }

    fn lend_id<'a>(&self, req: &'a Request<'_>) -> Result<(u32, Attr<'a>)> {
        let attr = req
            .attr(lend::ID)
            .ok_or_else(|| req.missing(c_str!("missing lending id")))?;
        let id = attr
            .u32()
            .ok_or_else(|| req.fail(EINVAL, Some(&attr), c_str!("lending id must be a u32")))?;
        Ok((id, attr))
    }

    pub(super) fn lend_del(&self, req: &Request<'_>) -> Result {
        let (id, attr) = self.lend_id(req)?;
        let lending = self
            .lends
            .remove(id)
            .ok_or_else(|| req.fail(ENOENT, Some(&attr), c_str!("no such lending")))?;
        lending.shutdown();
        pr_info!("lend {}: removed, its memory freed\n", id);
        Ok(())
    }

    pub(super) fn lend_get(&self, family: &GenlFamily<Self>, req: &Request<'_>) -> Result {
        let (id, attr) = self.lend_id(req)?;
        let lending = self
            .lends
            .get(id)
            .ok_or_else(|| req.fail(ENOENT, Some(&attr), c_str!("no such lending")))?;
        req.reply(family, |msg| fill_lend(msg, &lending))
    }
}
