// SPDX-License-Identifier: GPL-2.0

//! omx_mod: remote memory over plain Ethernet, speaking OmniXtend (TileLink over Ethernet).
//!
//! Layers, bottom to top (`Documentation/design.md` walks a read and a write through them;
//! `scripts/checks/layers.sh` keeps them free of import circles): [`sys`] raw bindings
//! generated at build time, [`glue`] thin safe wrappers (the only place with `unsafe`), the
//! protocol core [`omx_proto`] (shared with userspace); then the driver: [`io`] (a node's
//! block I/O in flight), [`node`] (the connection to one pool node: state, transmit,
//! receive, timers, identity), [`nodes`] (their table), [`device`] (the block devices and
//! their mirror policy), [`devices`] (their table), [`lend`] (memory this host lends to a
//! client: an in-kernel pool node), [`lends`] (their table), [`rx`] (the receive hook), [`attrs`] and
//! [`events`] (netlink messages and events), [`control`] (the `omx` generic netlink family), [`interfaces`] (interfaces going away)
//! and this file (init and exit). Lower layers report upward through traits the layers above
//! implement (`io::LegOwner`, `node::NodeObserver`, `device::mirror::DevObserver`).

mod attrs;
mod clock;
mod control;
mod device;
mod devices;
mod events;
mod glue;
mod ifname;
mod interfaces;
mod io;
mod lend;
mod lends;
mod mac;
#[cfg(any(omx_mutation = "flip_read", omx_mutation = "flip_write"))]
mod mutation;
mod netlink;
mod node;
mod nodes;
// The protocol core, shared with userspace, compiled in as a source module.
#[path = "../omx_proto/src/lib.rs"]
#[expect(unused_attributes, unused_imports, unreachable_pub, dead_code)]
mod omx_proto;
// The module's decisions (placement, mirror, source ids, node states), host-tested, likewise.
#[path = "../omx_logic/src/lib.rs"]
#[expect(unused_attributes, unused_imports, unreachable_pub, dead_code)]
mod omx_logic;
mod rx;
mod sys;
mod xmit;

use control::Control;
use core::pin::Pin;
use devices::Devices;
use events::Events;
use glue::genl::{GenlFamily, GenlRegistration};
use glue::notifier::NetdevNotifier;
use glue::packet::PacketTypeRegistration;
use interfaces::InterfaceWatch;
use kernel::prelude::*;
use kernel::sync::Arc;
use lends::Lends;
use nodes::Nodes;
use omx_proto::ETHERTYPE_OMNIXTEND;
use rx::Receiver;

module! {
    type: OmxModule,
    name: "omx_mod",
    author: "omx developers",
    description: "Remote memory over Ethernet with OmniXtend",
    license: "GPL",
}

struct OmxModule {
    genl: Option<GenlRegistration<Control>>,
    netdev_watch: Option<Pin<KBox<NetdevNotifier<InterfaceWatch>>>>,
    rx: Option<Pin<KBox<PacketTypeRegistration<Arc<Receiver>>>>>,
    nodes: Arc<Nodes>,
    lends: Arc<Lends>,
    devices: Arc<Devices>,
    events: Arc<Events>,
}

impl kernel::Module for OmxModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        // The codec every frame goes through, checked on the spec's vectors before any is
        // used (as WireGuard checks its primitives): a miscompiled codec refuses to load.
        omx_proto::selftest().map_err(|e| {
            pr_err!("omx_proto self-tests: {e}\n");
            EINVAL
        })?;
        pr_info!("omx_proto self-tests: pass\n");
        let events = Events::new()?;
        let nodes = Nodes::new()?;
        let lends = Lends::new()?;
        let devices = Devices::new()?;
        let receiver = Arc::new(Receiver::new(nodes.clone(), lends.clone())?, GFP_KERNEL)?;
        let rx = PacketTypeRegistration::new(ETHERTYPE_OMNIXTEND, receiver.clone())?;
        let control = Control {
            nodes: nodes.clone(),
            events: events.clone(),
            receiver,
            devices: devices.clone(),
            lends: lends.clone(),
        };
        let netdev_watch = NetdevNotifier::new(InterfaceWatch {
            nodes: nodes.clone(),
            lends: lends.clone(),
            events: events.clone(),
        })?;
        let genl = GenlFamily::register(&netlink::FAMILY, module, control)?;
        events.attach(genl.family().clone());
        #[cfg(any(omx_mutation = "flip_read", omx_mutation = "flip_write"))]
        mutation::announce();
        pr_info!(
            "loaded: OmniXtend on EtherType {:#06x}, control through generic netlink family omx\n",
            ETHERTYPE_OMNIXTEND
        );
        Ok(Self {
            genl: Some(genl),
            netdev_watch: Some(netdev_watch),
            rx: Some(rx),
            nodes,
            lends,
            devices,
            events,
        })
    }
}

impl Drop for OmxModule {
    fn drop(&mut self) {
        // Order matters: no more events (this also breaks the family -> nodes -> events
        // cycle), no more requests, devices (del_gendisk waits for their I/O, which the
        // nodes still serve), no more timers, then no more received frames.
        self.events.detach();
        self.genl = None;
        self.devices.remove_all();
        self.netdev_watch = None;
        while let Some(node) = self.nodes.remove_any() {
            node.shutdown();
        }
        while let Some(lending) = self.lends.remove_any() {
            lending.shutdown();
        }
        self.rx = None;
        pr_info!("unloaded\n");
    }
}
