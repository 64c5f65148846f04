// SPDX-License-Identifier: GPL-2.0

//! Sending what a connection has ready: each frame copied once into an skb of its size, its
//! integrity trailer computed in that copy (`Connection::poll_transmit_with`), in bursts that notify the device once each
//! (`glue::tx_burst`). Used by nodes and lendings alike.

use crate::glue::netdev::NetDevice;
use crate::glue::skb::{Gfp, SkBuff, TX_HEADROOM};
use crate::glue::tx_burst::TxBurst;
use crate::omx_proto::{self as proto, Connection, SlotMeta, ETHERTYPE_OMNIXTEND};
use core::ops::DerefMut;

/// What [`send_ready`] did.
pub(crate) struct Sent {
    pub(crate) frames: u64,
    pub(crate) bytes: u64,
    /// Frames that could not be had (no skb) or that the device refused: the connection
    /// resends them from its timer.
    pub(crate) errors: u64,
}

/// Sends every frame `conn` has ready out of `dev` (transmit queue `queue_hint` modulo its
/// queues), skbs allocated with `gfp`. Softirq or process context with bottom halves off.
pub(crate) fn send_ready<B, M>(
    conn: &mut Connection<B, M>,
    dev: &NetDevice,
    queue_hint: u32,
    gfp: Gfp,
    now: u64,
) -> Sent
where
    B: DerefMut<Target = [u8]>,
    M: DerefMut<Target = [SlotMeta]>,
{
    let mut sent = Sent {
        frames: 0,
        bytes: 0,
        errors: 0,
    };
    let mut burst = TxBurst::new();
    loop {
        // A frame without a buffer stays unsent ("too small": none could be had) and goes
        // at the timer.
        let polled = conn.poll_transmit_with(now, |frame| {
            let len = frame.len();
            // The trailer's check is computed as the frame is copied.
            SkBuff::from_fill(TX_HEADROOM, len, gfp, |data| {
                frame.write_to(data) == Some(len)
            })
            .map(|skb| (skb, len))
            .map_err(|_| proto::Error::BufferTooSmall)
        });
        let (skb, len) = match polled {
            Ok(Some(out)) => out,
            Ok(None) => break,
            Err(_) => {
                sent.errors += 1;
                break; // the rest is retried from the timer
            }
        };
        sent.frames += 1;
        sent.bytes += len as u64;
        if burst.push(skb).is_err() {
            // Never full here: a full burst is sent below.
            sent.errors += 1;
        }
        if burst.is_full() {
            sent.errors += u64::from(burst.send(dev, ETHERTYPE_OMNIXTEND, queue_hint));
        }
    }
    sent.errors += u64::from(burst.send(dev, ETHERTYPE_OMNIXTEND, queue_hint));
    sent
}
