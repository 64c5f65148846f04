// SPDX-License-Identifier: GPL-2.0

//! Netlink events (the `events` multicast group): node state changes, device I/O errors.

use crate::control::{fill_node, Control};
use crate::glue::genl::GenlFamily;
use crate::glue::spinlock_bh::{new_spinlock_bh, SpinLockBh};
use crate::netlink::{cmd, dev, MCGRP_EVENTS};
use crate::node::Node;
use kernel::prelude::*;
use kernel::sync::Arc;

/// Where events go: the registered family, once there is one.
///
/// The family owns the control state, which owns the nodes, which hold this: the cycle is
/// broken by [`Events::detach`] before the module tears the nodes down.
#[pin_data]
pub(crate) struct Events {
    #[pin]
    family: SpinLockBh<Option<Arc<GenlFamily<Control>>>>,
}

impl Events {
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(pin_init!(Self { family <- new_spinlock_bh!(None, "omx_events") }), GFP_KERNEL)
    }

    pub(crate) fn attach(&self, family: Arc<GenlFamily<Control>>) {
        *self.family.lock() = Some(family);
    }

    pub(crate) fn detach(&self) {
        let family = self.family.lock().take();
        drop(family);
    }

    /// Tells listeners a node changed state. Any context.
    pub(crate) fn node_state_changed(&self, node: &Node) {
        let Some(family) = self.family.lock().clone() else { return };
        family.multicast(MCGRP_EVENTS, cmd::NODE_STATE_NTF, |msg| fill_node(msg, node));
    }

    /// Tells listeners device `name` failed I/O on node `node_id`. Any context.
    pub(crate) fn dev_error(&self, name: &kernel::str::CStr, node_id: u32) {
        let Some(family) = self.family.lock().clone() else { return };
        family.multicast(MCGRP_EVENTS, cmd::DEV_ERROR_NTF, |msg| {
            msg.put_str(dev::NAME, name)?;
            msg.put_u32(dev::NODE_ID, node_id)
        });
    }
}
