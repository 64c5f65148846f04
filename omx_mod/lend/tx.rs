// SPDX-License-Identifier: GPL-2.0

//! A lending's transmit side and its timers: waiting requests carried out, the connection's
//! frames sent in bursts, the timer armed for the connection's next deadline.

use crate::glue::skb::{Gfp, SkBuff, TX_HEADROOM};
use crate::glue::tasklet::TaskletHandler;
use crate::glue::timer::TimerHandler;
use crate::glue::tx_burst::TxBurst;
use crate::lend::{now_ns, Lend, Lending};
use crate::omx_proto::serve::FrameQueue;
use crate::omx_proto::{self as proto, State, ETHERTYPE_OMNIXTEND};
use core::sync::atomic::Ordering::Relaxed;

const NS_PER_MS: u64 = 1_000_000;

impl Lend {
    /// Carries out waiting requests, sends every frame the connection has ready in bursts
    /// that notify the device once each, and retires a connection that ended. Softirq or
    /// process context (the lock held).
    pub(super) fn flush(&self, st: &mut Lending, now: u64) {
        let Lending {
            dev: Some(dev),
            client: Some(client),
            waiting,
            memory,
            stats,
            ..
        } = st
        else {
            return;
        };
        client.drain(waiting, memory, stats, now);
        let conn = client.connection_mut();
        let mut burst = TxBurst::new();
        let mut refused = 0;
        loop {
            // A frame without a buffer stays unsent and goes at the timer.
            let polled = conn.poll_transmit_with(now, |frame| {
                SkBuff::from_pieces(TX_HEADROOM, &frame.pieces(), Gfp::Reserve)
                    .map_err(|_| proto::Error::BufferTooSmall)
            });
            let skb = match polled {
                Ok(Some(skb)) => skb,
                Ok(None) => break,
                Err(_) => {
                    refused += 1;
                    break;
                }
            };
            self.tx_frames.fetch_add(1, Relaxed);
            if burst.push(skb).is_err() {
                refused += 1; // never: a full burst is sent below
            }
            if burst.is_full() {
                refused += burst.send(dev, ETHERTYPE_OMNIXTEND, self.id);
            }
        }
        refused += burst.send(dev, ETHERTYPE_OMNIXTEND, self.id);
        if refused > 0 {
            // Counted, then recovered by the retransmit timer.
            self.tx_errors.fetch_add(u64::from(refused), Relaxed);
        }
        let ended = matches!(conn.state(), State::Closed | State::Dead);
        if ended {
            st.retire();
        }
    }

    /// Re-arms the timer for the connection's next deadline.
    pub(super) fn rearm(&self) {
        let now = now_ns();
        let due = {
            let st = self.state.lock();
            if st.shut_down {
                return;
            }
            st.client
                .as_ref()
                .and_then(|c| c.next_deadline(st.waiting.len(), now))
        };
        if let Some(due) = due {
            let msecs = due.saturating_sub(now).div_ceil(NS_PER_MS);
            self.timer
                .arm_ms(u32::try_from(msecs).unwrap_or(u32::MAX).max(1));
        }
    }
}

impl TaskletHandler for Lend {
    /// After a receive batch (softirq): the answers and acknowledgements it made ready.
    fn tasklet_run(&self) {
        {
            let mut st = self.state.lock();
            if st.shut_down {
                return;
            }
            self.flush(&mut st, now_ns());
        }
        self.rearm();
    }
}

impl TimerHandler for Lend {
    /// Retransmissions, delayed acknowledgements, keepalives, waiting requests.
    fn timer_expired(&self) {
        {
            let now = now_ns();
            let mut st = self.state.lock();
            if st.shut_down {
                return;
            }
            if let Some(client) = st.client.as_mut() {
                client.connection_mut().poll(now);
            }
            self.flush(&mut st, now);
        }
        self.rearm();
    }
}
