// SPDX-License-Identifier: GPL-2.0

//! Load-time link self-test: proves that frames of EtherType 0xAAAA leave this module on one
//! host and reach omx_mod on another.
//!
//! Temporary knob until the control plane exists: on load, omx_mod broadcasts probe frames on
//! `eth0` and every omx_mod that receives one answers with an echo. Self-test frames are TLoE
//! frames without TileLink messages on virtual channel 7, which omx reserves for this purpose:
//! Ack=0 marks a probe, Ack=1 an echo, and the sequence fields carry probe numbers.

use crate::glue::netdev::NetDevice;
use crate::glue::skb::{Gfp, SkBuff};
use crate::glue::spinlock_bh::{new_spinlock_bh, SpinLockBh};
use crate::glue::timer::{impl_has_timer, Timer, TimerHandler};
use crate::mac::MacAddr;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::time::Ktime;
use kernel::types::ARef;

use crate::rx::{ETH_P_OMNIXTEND, MIN_PAYLOAD};

const ETH_HLEN: usize = 14;
/// Virtual channel that omx reserves for the self-test.
pub(crate) const SELFTEST_VC: u8 = 7;
/// Probes sent before the self-test gives up, one every `PROBE_INTERVAL_MS`.
const MAX_PROBES: u32 = 100;
const PROBE_INTERVAL_MS: u32 = 200;
/// Echoes after which the self-test has proven the link and stops probing.
const ECHOES_WANTED: u64 = 5;

/// Counters of the self-test, reported at unload.
#[derive(Default)]
pub(crate) struct SelfTestStats {
    pub(crate) probes: AtomicU64,
    pub(crate) echoes: AtomicU64,
    pub(crate) tx: AtomicU64,
    pub(crate) tx_errors: AtomicU64,
}

struct ProbeState {
    sent: u32,
    /// Send time of each probe number modulo 16, for round-trip times.
    sent_at: [i64; 16],
    reported: bool,
}

/// Self-test state shared by the probe timer and the packet handler.
#[pin_data]
pub(crate) struct SelfTest {
    #[pin]
    probe_timer: Timer<SelfTest>,
    dev: ARef<NetDevice>,
    pub(crate) stats: SelfTestStats,
    #[pin]
    probes: SpinLockBh<ProbeState>,
}

/// A decoded self-test frame.
struct SelfTestFrame {
    echo: bool,
    number: u32,
}

impl SelfTest {
    pub(crate) fn new(dev: ARef<NetDevice>) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                probe_timer <- Timer::new(),
                dev,
                stats: SelfTestStats::default(),
                probes <- new_spinlock_bh!(
                    ProbeState { sent: 0, sent_at: [0; 16], reported: false },
                    "omx_selftest_probes"
                ),
            }),
            GFP_KERNEL,
        )
    }

    /// Starts probing (every `PROBE_INTERVAL_MS` until enough echoes arrived).
    pub(crate) fn start(&self) {
        self.probe_timer.arm_ms(0);
    }

    /// Stops probing for good; waits for a running probe. Process context.
    pub(crate) fn stop(&self) {
        self.probe_timer.shutdown();
    }

    pub(crate) fn device(&self) -> &NetDevice {
        &self.dev
    }

    fn send(&self, dst: MacAddr, frame: SelfTestFrame, gfp: Gfp) {
        match build_frame(&self.dev, dst, &frame, gfp).and_then(|skb| skb.transmit(&self.dev, ETH_P_OMNIXTEND)) {
            Ok(()) => self.stats.tx.fetch_add(1, Relaxed),
            Err(_) => self.stats.tx_errors.fetch_add(1, Relaxed),
        };
    }

    fn on_echo(&self, from: MacAddr, number: u32) {
        let echoes = self.stats.echoes.fetch_add(1, Relaxed) + 1;
        let now = Ktime::ktime_get().to_ns();
        let mut probes = self.probes.lock();
        let sent_at = probes.sent_at.get((number % 16) as usize).copied().unwrap_or(0);
        let rtt_us = now.saturating_sub(sent_at) / 1000;
        if echoes >= ECHOES_WANTED && !probes.reported {
            probes.reported = true;
            drop(probes);
            pr_info!(
                "self-test passed on {}: {} echoes, the last from {} after {} us\n",
                self.dev.name(),
                echoes,
                from,
                rtt_us
            );
        }
    }
}

impl SelfTest {
    /// A self-test frame (virtual channel 7) from `from`. Softirq context.
    pub(crate) fn handle(&self, payload: &[u8], from: MacAddr, dev: &NetDevice) {
        match parse_frame(payload) {
            Some(SelfTestFrame { echo: false, number }) => {
                self.stats.probes.fetch_add(1, Relaxed);
                // Answer on the device the probe came in on only if it is ours.
                if dev.as_raw() == self.dev.as_raw() {
                    self.send(from, SelfTestFrame { echo: true, number }, Gfp::Atomic);
                }
            }
            Some(SelfTestFrame { echo: true, number }) => self.on_echo(from, number),
            None => {}
        }
    }
}

impl_has_timer!(SelfTest, probe_timer);

impl TimerHandler for SelfTest {
    fn timer_expired(&self) {
        if let Some(msecs) = self.probe() {
            self.probe_timer.arm_ms(msecs);
        }
    }
}

impl SelfTest {
    /// Sends the next probe; returns when to send another, if at all.
    fn probe(&self) -> Option<u32> {
        let number = {
            let mut probes = self.probes.lock();
            if probes.reported || probes.sent >= MAX_PROBES {
                return None;
            }
            let number = probes.sent;
            probes.sent += 1;
            if let Some(slot) = probes.sent_at.get_mut((number % 16) as usize) {
                *slot = Ktime::ktime_get().to_ns();
            }
            number
        };
        self.send(MacAddr::BROADCAST, SelfTestFrame { echo: false, number }, Gfp::Atomic);
        Some(PROBE_INTERVAL_MS)
    }
}

/// Builds a self-test frame: Ethernet header, TLoE header flit, padding, empty frame mask.
fn build_frame(dev: &NetDevice, dst: MacAddr, frame: &SelfTestFrame, gfp: Gfp) -> Result<SkBuff> {
    let mut skb = SkBuff::alloc(16, (ETH_HLEN + MIN_PAYLOAD) as u32, gfp)?;
    let bytes = skb.put((ETH_HLEN + MIN_PAYLOAD) as u32)?;
    let (eth, payload) = bytes.split_at_mut(ETH_HLEN);
    eth[..6].copy_from_slice(&dst.0);
    eth[6..12].copy_from_slice(&dev.mac().0);
    eth[12..14].copy_from_slice(&ETH_P_OMNIXTEND.to_be_bytes());
    let seq = u64::from(frame.number & 0x3f_ffff);
    let header = (u64::from(SELFTEST_VC) << 61) | (seq << 32) | (seq << 10) | (u64::from(frame.echo) << 9);
    payload[..8].copy_from_slice(&header.to_be_bytes());
    Ok(skb)
}

/// Parses the TLoE header of a self-test frame.
fn parse_frame(payload: &[u8]) -> Option<SelfTestFrame> {
    let header = u64::from_be_bytes(payload.get(..8)?.try_into().ok()?);
    Some(SelfTestFrame {
        echo: header & (1 << 9) != 0,
        number: ((header >> 32) & 0x3f_ffff) as u32,
    })
}
