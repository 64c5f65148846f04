// SPDX-License-Identifier: GPL-2.0

//! omx_mod: remote memory over plain Ethernet, speaking OmniXtend (TileLink over Ethernet).
//!
//! Layers: [`sys`] raw bindings generated at build time, [`glue`] thin safe wrappers (the only
//! place with `unsafe`), and driver logic above them. This skeleton registers the OmniXtend
//! EtherType and runs the link self-test of [`selftest`].

mod glue;
mod mac;
mod selftest;
mod sys;

use core::pin::Pin;
use core::sync::atomic::Ordering::Relaxed;
use glue::netdev::NetDevice;
use glue::packet::PacketTypeRegistration;
use glue::timer::Timer;
use kernel::prelude::*;
use kernel::sync::Arc;
use selftest::{SelfTest, ETH_P_OMNIXTEND};

module! {
    type: OmxModule,
    name: "omx_mod",
    author: "omx developers",
    description: "Remote memory over Ethernet with OmniXtend",
    license: "GPL",
}

/// Self-test interface until the control plane lets administrators pick one.
const SELFTEST_IFNAME: &kernel::str::CStr = kernel::c_str!("eth0");

struct OmxModule {
    // Field order is drop order: stop the timer, then unregister the EtherType.
    probe_timer: Option<Pin<KBox<Timer<Arc<SelfTest>>>>>,
    rx: Option<Pin<KBox<PacketTypeRegistration<Arc<SelfTest>>>>>,
    selftest: Option<Arc<SelfTest>>,
}

impl kernel::Module for OmxModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let dev = match NetDevice::get_by_name(SELFTEST_IFNAME) {
            Ok(dev) => dev,
            Err(_) => {
                pr_info!("loaded; no eth0, link self-test off\n");
                return Ok(Self { probe_timer: None, rx: None, selftest: None });
            }
        };
        let selftest = SelfTest::new(dev)?;
        let rx = PacketTypeRegistration::new(ETH_P_OMNIXTEND, selftest.clone())?;
        let probe_timer = Timer::new(selftest.clone())?;
        probe_timer.arm_ms(0);
        pr_info!(
            "loaded: OmniXtend on EtherType {:#06x}, self-test on {} (mtu {}, mac {})\n",
            ETH_P_OMNIXTEND,
            selftest.device().name(),
            selftest.device().mtu(),
            selftest.device().mac()
        );
        Ok(Self { probe_timer: Some(probe_timer), rx: Some(rx), selftest: Some(selftest) })
    }
}

impl Drop for OmxModule {
    fn drop(&mut self) {
        self.probe_timer = None;
        self.rx = None;
        if let Some(st) = self.selftest.take() {
            let s = &st.stats;
            pr_info!(
                "unloaded: rx {} frames ({} probes, {} echoes, {} other, {} malformed, {} dropped), tx {} ({} errors)\n",
                s.frames.load(Relaxed),
                s.probes.load(Relaxed),
                s.echoes.load(Relaxed),
                s.other.load(Relaxed),
                s.malformed.load(Relaxed),
                s.dropped.load(Relaxed),
                s.tx.load(Relaxed),
                s.tx_errors.load(Relaxed)
            );
        } else {
            pr_info!("unloaded\n");
        }
    }
}
