// SPDX-License-Identifier: GPL-2.0

//! A lending's transmit side and its timers: waiting requests carried out, the connection's
//! frames sent in bursts, answers held for a batch while that makes the client faster
//! (`omx_proto::serve::Coalescer`), the timer armed for the connection's next deadline.

use crate::clock::{ms_until, now_ns};
use crate::glue::hrtimer::HrTimerHandler;
use crate::glue::skb::Gfp;
use crate::glue::tasklet::TaskletHandler;
use crate::glue::timer::TimerHandler;
use crate::lend::{Lend, Lending};
use crate::omx_proto::serve::{Flush, FrameQueue};
use crate::omx_proto::State;
use crate::xmit::send_ready;
use core::sync::atomic::Ordering::Relaxed;

impl Lend {
    /// Something is due after a received frame (`had_requests`: it carried requests): the
    /// tasklet sends it after the receive batch, or the flush timer when the answers are
    /// held for a batch. With the lock held, not shut down.
    pub(super) fn send_soon(&self, st: &mut Lending, had_requests: bool, now: u64) {
        // Every frame with requests counts for the coalescer's measure of the client's pace.
        let decided = match &st.client {
            Some(client) if had_requests => Some(
                st.coalescer
                    .on_requests(now, client.connection().smoothed_rtt()),
            ),
            _ => None,
        };
        let flush = match decided {
            // Requests that wait (for credits or window space) go as soon as they can.
            _ if !st.waiting.is_empty() => Flush::Now,
            Some(flush) => flush,
            // An acknowledgement or credit alone does not break a batch up.
            None => st.coalescer.deadline().map_or(Flush::Now, Flush::At),
        };
        match flush {
            Flush::Now => self.tasklet.schedule(),
            Flush::At(at) if at != st.flush_at => {
                st.flush_at = at;
                self.flush_timer.arm_ns(at.saturating_sub(now));
            }
            Flush::At(_) => {}
        }
    }

    /// Carries out waiting requests that can go, sends every frame the connection has ready
    /// (`xmit::send_ready`) and retires a connection that ended. Softirq or process context
    /// (the lock held).
    pub(super) fn answer_and_send(&self, st: &mut Lending, now: u64) {
        // Whatever was held for a batch goes now.
        st.coalescer.sent();
        st.flush_at = 0;
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
        // A pool node's answers: nobody's reclaim waits for them, so no emergency reserves.
        let sent = send_ready(conn, dev, self.id, Gfp::Atomic, now);
        self.tx_frames.fetch_add(sent.frames, Relaxed);
        if sent.errors > 0 {
            // Counted, then recovered by the retransmit timer.
            self.tx_errors.fetch_add(sent.errors, Relaxed);
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
            self.timer.arm_ms(ms_until(due, now));
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
            self.answer_and_send(&mut st, now_ns());
        }
        self.rearm();
    }
}

impl HrTimerHandler for Lend {
    /// The answers held for a batch go out: the batch did not fill in time.
    fn hrtimer_expired(&self) {
        self.tasklet_run();
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
            self.answer_and_send(&mut st, now);
        }
        self.rearm();
    }
}
