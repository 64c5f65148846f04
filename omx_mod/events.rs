// SPDX-License-Identifier: GPL-2.0

//! Netlink events (the `events` multicast group): node state changes, device I/O errors.
//! The nodes and devices below raise them through [`NodeObserver`] and [`DevObserver`];
//! they go out through the registered family, known here only as a [`Multicaster`].

use crate::attrs::fill_node;
use crate::device::mirror::DevObserver;
use crate::glue::genl::{GenlFamily, GenlHandler, Message};
use crate::glue::spinlock_bh::{new_spinlock_bh, SpinLockBh};
use crate::netlink::{cmd, dev, MCGRP_EVENTS};
use crate::node::{Node, NodeObserver};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::Arc;

/// A registered generic netlink family, whatever handles its requests.
pub(crate) trait Multicaster: Send + Sync {
    /// Sends a message `fill` writes to multicast group `group` (best effort, any context).
    fn send_event(&self, group: u32, cmd: u8, fill: &mut dyn FnMut(&mut Message<'_>) -> Result);
}

impl<T: GenlHandler + 'static> Multicaster for GenlFamily<T> {
    fn send_event(&self, group: u32, cmd: u8, fill: &mut dyn FnMut(&mut Message<'_>) -> Result) {
        self.multicast(group, cmd, |msg| fill(msg));
    }
}

/// Where events go: the registered family, once there is one.
///
/// The family owns the control state, which owns the nodes, which hold this: the cycle is
/// broken by [`Events::detach`] before the module tears the nodes down.
#[pin_data]
pub(crate) struct Events {
    #[pin]
    family: SpinLockBh<Option<Arc<dyn Multicaster>>>,
}

impl Events {
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self { family <- new_spinlock_bh!(None, "omx_events") }),
            GFP_KERNEL,
        )
    }

    pub(crate) fn attach(&self, family: Arc<dyn Multicaster>) {
        *self.family.lock() = Some(family);
    }

    pub(crate) fn detach(&self) {
        let family = self.family.lock().take();
        drop(family);
    }
}

impl NodeObserver for Events {
    /// Tells listeners a node changed state. Any context.
    fn node_state_changed(&self, node: &Node) {
        let Some(family) = self.family.lock().clone() else {
            return;
        };
        family.send_event(MCGRP_EVENTS, cmd::NODE_STATE_NTF, &mut |msg| {
            fill_node(msg, node)
        });
    }
}

impl DevObserver for Events {
    /// Tells listeners device `name` failed I/O on node `node_id`. Any context.
    fn dev_error(&self, name: &CStr, node_id: u32) {
        let Some(family) = self.family.lock().clone() else {
            return;
        };
        family.send_event(MCGRP_EVENTS, cmd::DEV_ERROR_NTF, &mut |msg| {
            msg.put_str(dev::NAME, name)?;
            msg.put_u32(dev::NODE_ID, node_id)
        });
    }
}
