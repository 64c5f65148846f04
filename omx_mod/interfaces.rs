// SPDX-License-Identifier: GPL-2.0

//! Interfaces going away: their nodes and lendings are removed, so the unregistration can
//! finish.

use crate::events::Events;
use crate::glue::netdev::NetDevice;
use crate::glue::notifier::NetdevHandler;
use crate::lends::Lends;
use crate::node::NodeObserver;
use crate::nodes::Nodes;
use kernel::prelude::*;
use kernel::sync::Arc;

/// Drops the nodes of an interface that goes away, so its unregistration can finish. Only
/// interfaces of the initial network namespace carry nodes: events of other namespaces (a
/// container's interface with the same index going away) are ignored. An interface moved out
/// of the initial namespace is unregistered there first, and so loses its nodes.
pub(crate) struct InterfaceWatch {
    pub(crate) nodes: Arc<Nodes>,
    pub(crate) lends: Arc<Lends>,
    pub(crate) events: Arc<Events>,
}

impl NetdevHandler for InterfaceWatch {
    fn unregistering(&self, dev: &NetDevice) {
        if !dev.in_initial_netns() {
            return;
        }
        while let Some(node) = self.nodes.remove_one_on(dev) {
            node.shutdown();
            node.release_device();
            self.events.node_state_changed(&node);
            pr_info!(
                "node {}: interface {} went away, node removed\n",
                node.id,
                dev.name()
            );
        }
        while let Some(lending) = self.lends.remove_one_on(dev) {
            lending.shutdown();
            lending.release_device();
            pr_info!(
                "lend {}: interface {} went away, its memory freed\n",
                lending.id,
                dev.name()
            );
        }
    }
}
