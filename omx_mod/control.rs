// SPDX-License-Identifier: GPL-2.0

//! The control plane: the `omx` generic netlink family's requests (see `netlink.rs` and
//! `Documentation/netlink/specs/omx.yaml`).

mod dev_cmds;
mod lend_cmds;
mod node_cmds;

use crate::attrs::{fill_dev, fill_lend, fill_node};
use crate::devices::Devices;
use crate::events::Events;
use crate::glue::errno::eopnotsupp;
use crate::glue::genl::{Attr, Dump, GenlFamily, GenlHandler, Request};
use crate::glue::netdev::NetDevice;
use crate::lends::Lends;
use crate::mac::MacAddr;
use crate::netlink::{cmd, stats};
use crate::nodes::Nodes;
use crate::rx::Receiver;
use core::sync::atomic::Ordering::Relaxed;
use kernel::c_str;
use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::Arc;
use kernel::types::ARef;

/// Largest size a node may lend or a device have (bounded so sizes in bytes never overflow).
const MAX_NODE_SIZE: u64 = 1 << 50;

/// The family's handler: node requests in `control/node_cmds.rs`, device requests in
/// `control/dev_cmds.rs`, lending requests in `control/lend_cmds.rs`, the module's counters
/// and the dispatch here.
pub(crate) struct Control {
    pub(crate) nodes: Arc<Nodes>,
    pub(crate) events: Arc<Events>,
    pub(crate) receiver: Arc<Receiver>,
    pub(crate) devices: Arc<Devices>,
    pub(crate) lends: Arc<Lends>,
}

/// The Ethernet interface `attr` names (in the initial network namespace), and its name.
fn ethernet_interface(req: &Request<'_>, attr: &Attr<'_>) -> Result<(ARef<NetDevice>, CString)> {
    let name = attr.str().ok_or_else(|| {
        req.fail(
            EINVAL,
            Some(attr),
            c_str!("interface name is not valid text"),
        )
    })?;
    let name = CString::try_from_fmt(kernel::fmt!("{name}"))?;
    let dev = NetDevice::get_by_name(&name)
        .map_err(|_| req.fail(ENODEV, Some(attr), c_str!("no such interface")))?;
    if !dev.is_ethernet() {
        return Err(req.fail(
            EINVAL,
            Some(attr),
            c_str!("interface is not an Ethernet device"),
        ));
    }
    Ok((dev, name))
}

/// The address of another station on `dev` that `attr` holds: six bytes, unicast, not `dev`'s.
fn station_address(req: &Request<'_>, attr: &Attr<'_>, dev: &NetDevice) -> Result<MacAddr> {
    let mac: [u8; 6] = attr
        .payload
        .try_into()
        .map_err(|_| req.fail(EINVAL, Some(attr), c_str!("MAC address must be 6 bytes")))?;
    let mac = MacAddr(mac);
    if mac.is_multicast() || mac.0 == [0; 6] {
        return Err(req.fail(
            EINVAL,
            Some(attr),
            c_str!("MAC address must be a unicast address"),
        ));
    }
    if mac == dev.mac() {
        return Err(req.fail(
            EINVAL,
            Some(attr),
            c_str!("MAC address is this interface's own address"),
        ));
    }
    Ok(mac)
}

impl Control {
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
            cmd::LEND_ADD => self.lend_add(family, req),
            cmd::LEND_DEL => self.lend_del(req),
            cmd::LEND_GET => self.lend_get(family, req),
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
            // As for nodes: the position is the next lending id to report.
            cmd::LEND_GET => {
                while let Some(lending) = self.lends.next_from(dump.position() as u32) {
                    if !dump.add(|msg| fill_lend(msg, &lending))? {
                        break;
                    }
                    dump.set_position(lending.id as usize + 1);
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
