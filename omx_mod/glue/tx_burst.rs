// SPDX-License-Identifier: GPL-2.0

//! Bursts of frames handed to one transmit queue of a device under one lock, each but the last
//! marked "more to come" (`netdev_start_xmit(..., more)`, as pktgen and the qdisc layer's bulk
//! dequeue do), so that the driver notifies the device once per burst, not once per frame: a
//! doorbell is a write to the device (under emulation, an exit to the hypervisor).
//!
//! Frames go straight to the driver only while the queue's discipline holds nothing (else they
//! would overtake what it holds) and the queue runs; the rest of a burst goes through the
//! discipline (`dev_queue_xmit`), in order. Like pktgen and AF_PACKET's qdisc bypass, the
//! direct frames are not shaped by traffic control; packet taps still see them.

use crate::glue::netdev::NetDevice;
use crate::glue::skb::SkBuff;
use crate::sys;

/// Frames per burst: the qdisc layer's and pktgen's usual batch.
pub(crate) const BURST: usize = 32;

/// `netdev_tx_t` values: taken, and not taken (the caller still owns the frame).
const NETDEV_TX_OK: i32 = 0;
const NETDEV_TX_BUSY: i32 = 0x10;
/// Taken, queue congested: still sent.
const NET_XMIT_CN: i32 = 2;

/// Up to [`BURST`] frames waiting to be sent together.
pub(crate) struct TxBurst {
    frames: [Option<SkBuff>; BURST],
    len: usize,
}

impl TxBurst {
    pub(crate) const fn new() -> Self {
        Self {
            frames: [const { None }; BURST],
            len: 0,
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == BURST
    }

    /// Adds a frame whose Ethernet header starts its data; gives it back if the burst is full.
    pub(crate) fn push(&mut self, skb: SkBuff) -> Result<(), SkBuff> {
        match self.frames.get_mut(self.len) {
            Some(slot) => {
                *slot = Some(skb);
                self.len += 1;
                Ok(())
            }
            None => Err(skb),
        }
    }

    /// Sends the burst's frames, in order, out of `dev`'s transmit queue `queue_hint` modulo
    /// its queues (one queue per peer keeps a peer's frames in order on a multiqueue device),
    /// and empties it. Returns how many frames the device refused or dropped. Never sleeps;
    /// the caller has bottom halves disabled (softirq, or under a BH lock).
    pub(crate) fn send(&mut self, dev: &NetDevice, ethertype: u16, queue_hint: u32) -> u32 {
        let n = core::mem::take(&mut self.len);
        if n == 0 {
            return 0;
        }
        let raw_dev = dev.as_raw();
        // SAFETY: `dev` is a live device for this call.
        let queues = unsafe { sys::omx_dev_real_num_tx_queues(raw_dev) }.max(1);
        let index = queue_hint % queues;
        // SAFETY: `index` is below the device's real queue count.
        let txq = unsafe { sys::omx_netdev_get_tx_queue(raw_dev, index) };
        let mut errors = 0;
        let mut next = 0;
        // SAFETY: the device and its queue are live; bottom halves are disabled (the caller's
        // contract), which the queue discipline's RCU-BH read needs.
        let direct = unsafe {
            sys::omx_netif_running(raw_dev)
                && sys::omx_netif_carrier_ok(raw_dev)
                && sys::omx_txq_qdisc_is_empty(txq)
        };
        if direct {
            // SAFETY: the device is live.
            let taps = unsafe { sys::dev_nit_active(raw_dev) };
            // SAFETY: bottom halves are disabled, as HARD_TX_LOCK requires; unlocked below on
            // every path (nothing in between returns).
            unsafe { sys::omx_hard_tx_lock(raw_dev, txq) };
            while next < n {
                // SAFETY: the queue is live and locked.
                if unsafe { sys::omx_netif_xmit_frozen_or_drv_stopped(txq) } {
                    break;
                }
                let Some(mut skb) = self.frames.get_mut(next).and_then(Option::take) else {
                    next += 1;
                    continue;
                };
                skb.prepare_xmit(dev, ethertype);
                let raw = skb.into_raw();
                // SAFETY: `raw` is our valid buffer; `index` fits in u16 (a device has at most
                // 4096 queues).
                unsafe { sys::omx_skb_set_queue_mapping(raw, index as u16) };
                if taps {
                    // SAFETY: `raw` is valid with its MAC header set; taps get clones, the
                    // buffer stays ours.
                    unsafe { sys::dev_queue_xmit_nit(raw, raw_dev) };
                }
                // Frames after this one: the driver may wait for them before notifying the
                // device (it does anyway when the queue stops); the last one rings.
                let more = next + 1 < n;
                // SAFETY: `raw` is our buffer, set up for `dev`, the queue locked and running;
                // the driver consumes it unless it answers NETDEV_TX_BUSY.
                let rc = unsafe { sys::omx_netdev_start_xmit(raw, raw_dev, txq, more) };
                if rc == NETDEV_TX_BUSY {
                    // SAFETY: not consumed: the reference is still ours.
                    let skb = unsafe { SkBuff::from_raw(raw) };
                    if let Some(slot) = self.frames.get_mut(next) {
                        *slot = skb;
                    }
                    break;
                }
                if rc != NETDEV_TX_OK && rc != NET_XMIT_CN {
                    errors += 1;
                }
                next += 1;
            }
            // SAFETY: locked above by this function.
            unsafe { sys::omx_hard_tx_unlock(raw_dev, txq) };
        }
        // What the driver could not take now goes through the queue discipline, which holds
        // it until the queue runs again.
        for slot in self.frames.iter_mut().take(n).skip(next) {
            if let Some(skb) = slot.take() {
                if skb.transmit(dev, ethertype).is_err() {
                    errors += 1;
                }
            }
        }
        errors
    }
}

impl Default for TxBurst {
    fn default() -> Self {
        Self::new()
    }
}
