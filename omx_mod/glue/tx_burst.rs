// SPDX-License-Identifier: GPL-2.0

//! Bursts of frames handed to one transmit queue of a device under one lock, each but the last
//! marked "more to come" (`netdev_start_xmit(..., more)`, as pktgen and the qdisc layer's bulk
//! dequeue do), so that the driver notifies the device once per burst, not once per frame: a
//! doorbell is a write to the device (under emulation, an exit to the hypervisor).
//!
//! Frames go straight to the driver only where `dev_queue_xmit` itself would send them
//! straight: a device without a queue, or a work-conserving queue discipline (`pfifo_fast`,
//! `fq_codel` without filters: TCQ_F_CAN_BYPASS) that is empty, claimed for the burst as the
//! kernel claims it (`qdisc_run_begin`), so nothing it holds or takes meanwhile is overtaken.
//! Anything else (netem, shaping, filters, a stopped queue) gets the frames through the queue
//! discipline one by one, in order. Packet taps see every frame.

use crate::glue::netdev::NetDevice;
use crate::glue::skb::{xmit_succeeded, SkBuff};
use crate::sys;

/// Frames per burst: the qdisc layer's and pktgen's usual batch.
pub(crate) const BURST: usize = 32;

/// The driver did not take the frame (`netdev_tx_t`): the caller still owns it.
const NETDEV_TX_BUSY: i32 = 0x10;

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
        if let Some(claim) = DirectClaim::take(raw_dev, txq) {
            next = self.send_direct(dev, ethertype, txq, index, n, &mut errors);
            claim.release();
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

    /// Hands frames `0..n` to the driver under the queue's lock until it stops; returns how
    /// many it took (counting those it dropped into `errors`).
    fn send_direct(
        &mut self,
        dev: &NetDevice,
        ethertype: u16,
        txq: *mut sys::netdev_queue,
        index: u32,
        n: usize,
        errors: &mut u32,
    ) -> usize {
        let raw_dev = dev.as_raw();
        // SAFETY: the device is live.
        let taps = unsafe { sys::dev_nit_active(raw_dev) };
        // SAFETY: bottom halves are disabled, as HARD_TX_LOCK requires; unlocked below on
        // every path (nothing in between returns).
        unsafe { sys::omx_hard_tx_lock(raw_dev, txq) };
        let mut next = 0;
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
                // SAFETY: `raw` is valid with its MAC header set; taps get clones, the buffer
                // stays ours.
                unsafe { sys::dev_queue_xmit_nit(raw, raw_dev) };
            }
            // Frames after this one: the driver may wait for them before notifying the
            // device (it does anyway when the queue stops); the last one rings.
            let more = next + 1 < n;
            // SAFETY: `raw` is our buffer, set up for `dev`, the queue locked and running; the
            // driver consumes it unless it answers NETDEV_TX_BUSY.
            let rc = unsafe { sys::omx_netdev_start_xmit(raw, raw_dev, txq, more) };
            if rc == NETDEV_TX_BUSY {
                // SAFETY: not consumed: the reference is still ours.
                let skb = unsafe { SkBuff::from_raw(raw) };
                if let Some(slot) = self.frames.get_mut(next) {
                    *slot = skb;
                }
                break;
            }
            if !xmit_succeeded(rc) {
                *errors += 1;
            }
            next += 1;
        }
        // SAFETY: locked above by this function.
        unsafe { sys::omx_hard_tx_unlock(raw_dev, txq) };
        next
    }
}

/// The right to send straight to a transmit queue's driver, as `__dev_xmit_skb` takes it.
enum DirectClaim {
    /// The device has no queue discipline.
    NoQueue,
    /// An empty work-conserving discipline, marked running by us (`qdisc_run_begin`): others
    /// queue behind our burst meanwhile, and are sent once we release it.
    Running(*mut sys::Qdisc),
}

impl DirectClaim {
    /// Claims `txq` of `dev` for a direct burst, or `None` when the frames must go through the
    /// queue discipline. Bottom halves disabled (the caller's contract).
    fn take(dev: *mut sys::net_device, txq: *mut sys::netdev_queue) -> Option<Self> {
        // SAFETY: the device is live.
        if !unsafe { sys::omx_netif_running(dev) && sys::omx_netif_carrier_ok(dev) } {
            return None;
        }
        // SAFETY: the queue is live; the caller's disabled bottom halves are an RCU-BH read
        // side, which keeps the discipline alive until `release`.
        let q = unsafe { sys::omx_txq_qdisc(txq) };
        if q.is_null() {
            return None;
        }
        // Claimed as `__dev_xmit_skb` claims it: a lockless discipline by its seqlock, a
        // locked one under its root lock.
        // SAFETY: `q` is live (above); each begin that succeeds is ended once, in `release`
        // or right here.
        unsafe {
            if sys::omx_qdisc_is_noqueue(q) {
                return Some(Self::NoQueue);
            }
            if !sys::omx_qdisc_can_bypass(q) {
                return None;
            }
            if sys::omx_qdisc_is_nolock(q) {
                if !sys::omx_qdisc_run_begin(q) {
                    return None;
                }
                if !sys::omx_qdisc_is_empty(q) {
                    sys::omx_qdisc_run_end(q);
                    return None;
                }
                return Some(Self::Running(q));
            }
            sys::omx_qdisc_lock(q);
            let claimed = !sys::omx_qdisc_is_deactivated(q)
                && sys::omx_qdisc_is_empty(q)
                && sys::omx_qdisc_run_begin(q);
            sys::omx_qdisc_unlock(q);
            claimed.then_some(Self::Running(q))
        }
    }

    /// Ends the claim; what others queued meanwhile is sent by the transmit softirq.
    fn release(self) {
        let Self::Running(q) = self else {
            return;
        };
        // SAFETY: `q` is live (the caller's bottom halves stayed disabled since `take`) and
        // claimed by us; ended as it was begun.
        unsafe {
            if sys::omx_qdisc_is_nolock(q) {
                sys::omx_qdisc_run_end(q);
            } else {
                sys::omx_qdisc_lock(q);
                sys::omx_qdisc_run_end(q);
                sys::omx_qdisc_unlock(q);
            }
            if !sys::omx_qdisc_is_empty(q) {
                sys::__netif_schedule(q);
            }
        }
    }
}

impl Default for TxBurst {
    fn default() -> Self {
        Self::new()
    }
}
