//! Sender-side congestion control for the Go-Back-N transmit window (omx extension: the
//! spec has none; nothing of it is on the wire, so any peer works).
//!
//! Why: a fixed window that is large enough to fill a fast link overflows the first small
//! queue on the path (a switch port, a virtio ring, an AF_PACKET socket buffer) with every
//! burst, and Go-Back-N then resends everything after the first lost frame, which
//! overflows the queue again: a loss storm. A window that adapts keeps the burst below
//! what the path can hold.
//!
//! The scheme is TCP's (RFC 5681) counted in frames instead of bytes, which fits: frames
//! are what a slot of the retransmit buffer, a ring entry and a socket-buffer packet hold.
//! - Slow start: from [`Congestion::new`]'s initial window, +1 frame per acknowledged
//!   frame (the window doubles per round trip) until the slow-start threshold.
//! - Congestion avoidance: +1 frame per window of acknowledged frames (a counter of
//!   acknowledged frames carries the fraction).
//! - A NAK that starts a go-back (a frame was lost, the receiver saw a gap) halves the
//!   window, at most once per loss epoch: the epoch ends when the highest frame sent at
//!   the decrease is acknowledged (TCP's recovery point), so the NAKs and go-backs caused
//!   by the same burst cost one halving, not one each. No growth inside the epoch.
//! - A retransmit timeout (the whole window, or its acknowledgements, lost) drops the
//!   window to the minimum, the threshold to half the window, and starts an epoch too.
//! - Growth only while the window limits the sender (at least half of it was in flight
//!   when the acknowledgement came; RFC 7661's idea): an application-limited sender
//!   does not build a big window it never tested.
//! - Restart after idle (RFC 5681 §4.1): a frame sent when nothing was in flight for
//!   longer than a retransmit timeout starts from at most the initial window again, so a
//!   stale big window is not blasted into a path whose state is unknown.
//!
//! - Optional pacing ([`Congestion::set_pacing`]): frames leave spaced by
//!   `srtt / cwnd` (sped up 2x in slow start, 1.25x after, as Linux paces TCP) with bursts
//!   of at most [`PACING_BURST`] frames, instead of a window's worth at once after a
//!   go-back or a stretch of acknowledgements: a shallow queue (a switch port of a few
//!   frames) then takes the window without tail drops. The smoothed round-trip time comes
//!   from acknowledgements of frames sent once (Karn). Off by default: it needs the
//!   driver's timer to fire with microsecond precision.
//!
//! - Optional delay signal ([`Congestion::set_delay_target`]), in the spirit of Swift:
//!   when the smoothed round trip exceeds the base (the smallest sample of the last
//!   [`MIN_RTT_WINDOW_NS`]) by more than a target, the window shrinks by
//!   `0.8 x excess / srtt` (at most half), at most once per round trip, and does not grow;
//!   a deep receive queue (an AF_PACKET buffer of thousands of frames) then stays short
//!   instead of filling until it drops. Off by default: a target too small for the path's
//!   jitter starves the sender.
//!
//! The window is bounded by `[min, max]`: `max` is the configured window (the retransmit
//! slot count), `min` at least 1. Acknowledgement-only frames are not counted and never
//! wait for the window ([`crate::connection`]). Disabled ([`Congestion::disabled`]), the
//! window is always `max`: plain Go-Back-N with a fixed window.

use super::seq::{Seq, SEQ_HALF};

/// How much omx keeps in flight towards one peer at most, in bytes of frames: the transmit
/// window (the retransmit slots) holds this much at the MTU, within
/// [`MIN_WINDOW_FRAMES`]..=[`MAX_WINDOW_FRAMES`] frames (1,024 at MTU 1500, 932 at 9000).
/// A client keeps as many requests outstanding ([`crate::message_size_for_mtu`]'s messages),
/// so a node's answers fit its window. 256 frames of 1 KiB (the former fixed window) held
/// 1 MiB writes at MTU 1500 to 61 MB/s under emulation; 1,024 let them reach 77 (issue #17).
/// 2 MiB (256 frames at MTU 9000) held 1 MiB reads there to 135-153 MB/s and writes to
/// 243-251; 8 MiB (932 frames) gave 181-183 and 299-321 in the same back-to-back runs.
pub const WINDOW_BYTES: usize = 8 << 20;
/// Credit (flits) each end grants on the channel it receives data on (a client: D, the
/// answers to its reads; a node: A, the writes): twice the window's data, so every message
/// the window may hold fits with its headers and credit never limits a transfer before the
/// congestion window does.
pub const WINDOW_CREDIT_FLITS: u32 = (2 * WINDOW_BYTES / 8) as u32;
/// Fewest frames of a transmit window (large MTUs).
pub const MIN_WINDOW_FRAMES: usize = 256;
/// Most frames of a transmit window (small MTUs).
pub const MAX_WINDOW_FRAMES: usize = 1024;

/// Frames of the transmit window at `mtu`: [`WINDOW_BYTES`] within bounds.
pub const fn window_frames(mtu: usize) -> usize {
    let n = WINDOW_BYTES / if mtu == 0 { 1 } else { mtu };
    if n < MIN_WINDOW_FRAMES {
        MIN_WINDOW_FRAMES
    } else if n > MAX_WINDOW_FRAMES {
        MAX_WINDOW_FRAMES
    } else {
        n
    }
}

/// Default initial window (frames): 16 frames of 1500 bytes are 24 KB, the order of
/// TCP's initial window of 10 segments of Ethernet, and a burst every receive queue
/// omx meets takes.
pub const DEFAULT_INITIAL_WINDOW: u32 = 16;

/// Default minimum window (frames): after a timeout; small enough to get through a
/// congested queue, large enough that a delayed acknowledgement does not stall the
/// sender for its whole delay.
pub const DEFAULT_MIN_WINDOW: u32 = 4;

/// How long the base round-trip time of the delay signal is remembered: a path that
/// became slower for good is taken as the new base after this long.
pub const MIN_RTT_WINDOW_NS: u64 = 10_000_000_000;

/// Frames that may leave back to back when pacing (after an idle moment).
pub const PACING_BURST: u64 = 4;

/// The congestion window state of one transmit window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Congestion {
    enabled: bool,
    cwnd: u32,
    ssthresh: u32,
    /// Frames acknowledged in congestion avoidance since the last +1.
    acked: u32,
    initial: u32,
    min: u32,
    max: u32,
    /// Inside a loss epoch: the highest sequence number sent when it began.
    recover: Option<Seq>,
    reductions: u64,
    /// When the last frame was sent (idle detection).
    last_send: Option<u64>,
    pacing: bool,
    /// Smoothed round-trip time, ns (0: no sample yet).
    srtt: u64,
    /// Earliest time the next frame may leave when pacing.
    pace_at: u64,
    /// Delay signal: the allowed queueing delay over the base RTT, ns (0: off).
    delay_target: u64,
    /// Smallest round-trip sample and when it was taken.
    min_rtt: u64,
    min_rtt_at: u64,
    /// The smoothed round trip is above base + target: no growth.
    over_target: bool,
    last_delay_cut: Option<u64>,
}

impl Congestion {
    /// No congestion control: the window is always `max` frames.
    pub fn disabled(max: u32) -> Self {
        let max = if max == 0 { 1 } else { max };
        Congestion {
            enabled: false,
            ..Self::new(max, max, max)
        }
    }

    /// Congestion control between `min` and `max` frames (`min` clamped to `1..=max`),
    /// starting at `initial` (clamped to `min..=max`) in slow start.
    pub fn new(initial: u32, min: u32, max: u32) -> Self {
        let max = max.max(1);
        let min = min.clamp(1, max);
        let initial = initial.clamp(min, max);
        Congestion {
            enabled: true,
            cwnd: initial,
            ssthresh: max,
            acked: 0,
            initial,
            min,
            max,
            recover: None,
            reductions: 0,
            last_send: None,
            pacing: false,
            srtt: 0,
            pace_at: 0,
            delay_target: 0,
            min_rtt: 0,
            min_rtt_at: 0,
            over_target: false,
            last_delay_cut: None,
        }
    }

    /// Turns pacing on or off (only with congestion control on).
    pub fn set_pacing(&mut self, on: bool) {
        self.pacing = on && self.enabled;
    }

    /// The smoothed round-trip time in ns (0 before the first sample).
    pub const fn srtt(&self) -> u64 {
        self.srtt
    }

    /// Turns the delay signal on (`target_ns` > 0: the queueing delay allowed over the
    /// base round trip) or off (0). Only with congestion control on.
    pub fn set_delay_target(&mut self, target_ns: u64) {
        self.delay_target = if self.enabled { target_ns } else { 0 };
    }

    /// The smallest recent round-trip sample, ns (0 before the first).
    pub const fn min_rtt(&self) -> u64 {
        self.min_rtt
    }

    /// A round-trip time sample at `now` (a frame sent once, acknowledged `rtt` ns later).
    pub fn on_rtt_sample(&mut self, now: u64, rtt: u64) {
        let rtt = rtt.max(1);
        self.srtt = if self.srtt == 0 {
            rtt
        } else {
            // srtt += (rtt - srtt) / 8
            self.srtt - self.srtt / 8 + rtt / 8
        };
        if self.min_rtt == 0
            || rtt <= self.min_rtt
            || now.saturating_sub(self.min_rtt_at) > MIN_RTT_WINDOW_NS
        {
            self.min_rtt = rtt;
            self.min_rtt_at = now;
        }
        if self.delay_target == 0 {
            return;
        }
        let limit = self.min_rtt.saturating_add(self.delay_target);
        self.over_target = self.srtt > limit;
        let cut_recently = self
            .last_delay_cut
            .is_some_and(|t| now < t.saturating_add(self.srtt));
        if !self.over_target || self.recover.is_some() || cut_recently {
            return;
        }
        // Swift: cwnd x (1 - 0.8 x (delay - target) / delay), at most halved.
        let cwnd = u64::from(self.cwnd);
        let excess = self.srtt - limit;
        let cut = (cwnd.saturating_mul(excess).saturating_mul(4) / self.srtt.saturating_mul(5))
            .clamp(1, (cwnd / 2).max(1));
        let cut = u32::try_from(cut).unwrap_or(self.cwnd);
        self.cwnd = self.cwnd.saturating_sub(cut).max(self.min);
        self.ssthresh = self.cwnd; // out of slow start
        self.acked = 0;
        self.last_delay_cut = Some(now);
        self.reductions = self.reductions.wrapping_add(1);
    }

    /// Pacing gap between frames, ns (0: not pacing).
    fn pace_interval(&self) -> u64 {
        if !self.pacing || self.srtt == 0 {
            return 0;
        }
        // gain in percent: 200 in slow start, 125 after.
        let gain: u64 = if self.cwnd < self.ssthresh { 200 } else { 125 };
        let per = u64::from(self.cwnd.max(1)).saturating_mul(gain);
        self.srtt.saturating_mul(100) / per.max(1)
    }

    /// When pacing lets the next frame leave (`None`: at once is fine, or not pacing).
    pub fn pace_deadline(&self, now: u64) -> Option<u64> {
        if self.pace_interval() == 0 || now >= self.pace_at {
            None
        } else {
            Some(self.pace_at)
        }
    }

    /// Whether congestion control is on.
    pub const fn enabled(&self) -> bool {
        self.enabled
    }

    /// The congestion window: how many transmitted frames may be unacknowledged.
    pub const fn window(&self) -> u32 {
        self.cwnd
    }

    /// The slow-start threshold (frames).
    pub const fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    /// How often the window was reduced (NAK halvings and timeouts).
    pub const fn reductions(&self) -> u64 {
        self.reductions
    }

    /// Whether a loss epoch is in progress.
    pub const fn in_recovery(&self) -> bool {
        self.recover.is_some()
    }

    /// `acked` frames were newly acknowledged, up to `ackd`; `flight` frames were in flight
    /// (transmitted, unacknowledged) before.
    pub fn on_ack(&mut self, acked: u32, ackd: Seq, flight: u32) {
        if !self.enabled || acked == 0 {
            return;
        }
        if let Some(r) = self.recover {
            // ACKD_SEQ at or past the recovery point ends the epoch.
            if ackd.distance_from(r) < SEQ_HALF {
                self.recover = None;
            }
            return;
        }
        if flight.saturating_mul(2) < self.cwnd {
            return; // not window-limited: the window is not being tested
        }
        if self.delay_target > 0 && self.over_target {
            return; // queues are building: hold
        }
        let mut left = acked;
        if self.cwnd < self.ssthresh {
            let grow = left.min(self.ssthresh - self.cwnd);
            self.cwnd = self.cwnd.saturating_add(grow);
            left -= grow;
        }
        self.acked = self.acked.saturating_add(left);
        while self.acked >= self.cwnd && self.cwnd > 0 {
            self.acked -= self.cwnd;
            self.cwnd = self.cwnd.saturating_add(1);
        }
        if self.cwnd >= self.max {
            self.cwnd = self.max;
            self.acked = 0;
        }
    }

    /// A NAK started a go-back; `highest` is the highest sequence number sent. Halves the
    /// window unless a loss epoch is in progress. Returns whether it was reduced.
    pub fn on_nak_loss(&mut self, highest: Seq) -> bool {
        if !self.enabled || self.recover.is_some() {
            return false;
        }
        self.ssthresh = (self.cwnd / 2).max(self.min);
        self.cwnd = self.ssthresh;
        self.acked = 0;
        self.recover = Some(highest);
        self.reductions = self.reductions.wrapping_add(1);
        true
    }

    /// The retransmit timer expired; `highest` is the highest sequence number sent. Falls
    /// to the minimum window.
    pub fn on_timeout(&mut self, highest: Seq) {
        if !self.enabled {
            return;
        }
        if self.recover.is_none() {
            // A second timeout in the same epoch keeps the threshold of the first.
            self.ssthresh = (self.cwnd / 2).max(self.min);
        }
        self.cwnd = self.min;
        self.acked = 0;
        self.recover = Some(highest);
        self.reductions = self.reductions.wrapping_add(1);
    }

    /// A frame is sent at `now`; `idle` says nothing was in flight. After more than `rto`
    /// of idleness the window restarts from at most the initial window.
    pub fn on_send(&mut self, now: u64, idle: bool, rto: u64) {
        if !self.enabled {
            return;
        }
        if idle {
            if let Some(t) = self.last_send {
                if now.saturating_sub(t) > rto && self.recover.is_none() {
                    self.cwnd = self.cwnd.min(self.initial);
                    self.acked = 0;
                }
            }
        }
        self.last_send = Some(now);
        let gap = self.pace_interval();
        if gap > 0 {
            let slack = gap.saturating_mul(PACING_BURST - 1);
            self.pace_at = self
                .pace_at
                .max(now.saturating_sub(slack))
                .saturating_add(gap);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_holds_window_bytes_at_the_mtu_within_bounds() {
        assert_eq!(window_frames(1500), MAX_WINDOW_FRAMES);
        assert_eq!(window_frames(4000), MAX_WINDOW_FRAMES);
        assert_eq!(window_frames(9000), 932);
        assert_eq!(window_frames(65535), MIN_WINDOW_FRAMES);
        assert_eq!(window_frames(0), MAX_WINDOW_FRAMES);
    }

    #[test]
    fn disabled_is_fixed() {
        let mut c = Congestion::disabled(256);
        assert_eq!(c.window(), 256);
        assert!(!c.on_nak_loss(Seq::new(9)));
        c.on_timeout(Seq::new(9));
        c.on_ack(100, Seq::new(9), 256);
        assert_eq!(c.window(), 256);
        assert_eq!(Congestion::disabled(0).window(), 1);
    }

    #[test]
    fn slow_start_then_avoidance() {
        let mut c = Congestion::new(16, 4, 256);
        assert_eq!(c.window(), 16);
        c.on_ack(16, Seq::new(15), 16);
        assert_eq!(c.window(), 32); // doubled in one round trip
        assert!(c.on_nak_loss(Seq::new(47)));
        assert_eq!((c.window(), c.ssthresh()), (16, 16));
        // Same epoch: no second halving, no growth.
        assert!(!c.on_nak_loss(Seq::new(47)));
        c.on_ack(10, Seq::new(30), 16);
        assert_eq!(c.window(), 16);
        c.on_ack(17, Seq::new(47), 16); // recovery point reached
        assert!(!c.in_recovery());
        // Congestion avoidance: +1 per window of acknowledged frames.
        c.on_ack(15, Seq::new(62), 16);
        assert_eq!(c.window(), 16);
        c.on_ack(1, Seq::new(63), 16);
        assert_eq!(c.window(), 17);
        c.on_ack(17, Seq::new(80), 17);
        assert_eq!(c.window(), 18);
        assert_eq!(c.reductions(), 1);
    }

    #[test]
    fn timeout_falls_to_min_and_bounds_hold() {
        let mut c = Congestion::new(100, 4, 64);
        assert_eq!(c.window(), 64); // initial clamped to max
        c.on_ack(1000, Seq::new(5), 64);
        assert_eq!(c.window(), 64);
        c.on_timeout(Seq::new(100));
        assert_eq!((c.window(), c.ssthresh()), (4, 32));
        c.on_timeout(Seq::new(100));
        assert_eq!((c.window(), c.ssthresh()), (4, 32));
        c.on_ack(1, Seq::new(100), 4);
        c.on_ack(4, Seq::new(104), 4);
        assert_eq!(c.window(), 8);
        // The window never halves below the minimum.
        let mut c = Congestion::new(5, 4, 64);
        c.on_nak_loss(Seq::new(1));
        assert_eq!(c.window(), 4);
        assert_eq!(Congestion::new(0, 0, 0).window(), 1);
    }

    #[test]
    fn recovery_point_wraps() {
        let mut c = Congestion::new(16, 4, 256);
        c.on_nak_loss(Seq::new(2));
        c.on_ack(4, Seq::MAX, 8); // behind the recovery point across the wrap
        assert!(c.in_recovery());
        c.on_ack(3, Seq::new(2), 8);
        assert!(!c.in_recovery());
    }

    #[test]
    fn grows_only_when_window_limited_and_restarts_after_idle() {
        let mut c = Congestion::new(16, 4, 256);
        c.on_ack(4, Seq::new(3), 4); // 4 of 16 in flight: application-limited
        assert_eq!(c.window(), 16);
        c.on_ack(16, Seq::new(19), 16);
        assert_eq!(c.window(), 32);
        c.on_send(0, true, 100);
        c.on_send(50, false, 100);
        c.on_send(120, true, 100); // idle 70 <= rto
        assert_eq!(c.window(), 32);
        c.on_send(300, true, 100); // idle 180 > rto
        assert_eq!(c.window(), 16);
    }

    #[test]
    fn pacing_spaces_frames_after_a_burst() {
        let mut c = Congestion::new(10, 4, 256);
        c.set_pacing(true);
        assert_eq!(c.pace_deadline(0), None); // no RTT sample yet
        c.on_rtt_sample(0, 1000);
        c.on_rtt_sample(0, 1000);
        assert_eq!(c.srtt(), 1000);
        // Slow start: 1000 ns / (10 frames x 2) = 50 ns apart, 4 frames at once.
        for _ in 0..PACING_BURST {
            assert_eq!(c.pace_deadline(10_000), None);
            c.on_send(10_000, false, 100_000);
        }
        assert_eq!(c.pace_deadline(10_000), Some(10_050));
        assert_eq!(c.pace_deadline(10_050), None);
        let mut off = Congestion::disabled(8);
        off.set_pacing(true);
        off.on_rtt_sample(0, 1000);
        off.on_send(0, true, 10);
        assert_eq!(off.pace_deadline(0), None);
    }

    #[test]
    fn delay_signal_cuts_once_per_round_trip() {
        let mut c = Congestion::new(100, 4, 256);
        c.set_delay_target(100);
        c.on_rtt_sample(0, 1000);
        assert_eq!((c.min_rtt(), c.window()), (1000, 100));
        // srtt 1000 -> 1500 over target 1100: cut by 0.8 x 400 / 1500 of 100 = 21.
        c.on_rtt_sample(10, 5000);
        assert_eq!(c.srtt(), 1500);
        assert_eq!(c.window(), 79);
        c.on_ack(79, Seq::new(79), 79); // over target: no growth
        c.on_rtt_sample(20, 5000); // within one round trip of the cut
        assert_eq!(c.window(), 79);
        c.on_rtt_sample(3000, 5000); // a round trip (srtt 2321) later
        assert!(c.window() < 79);
        assert_eq!(c.reductions(), 2);
        // A new base after the window of the minimum.
        c.on_rtt_sample(MIN_RTT_WINDOW_NS + 10, 5000);
        assert_eq!(c.min_rtt(), 5000);
        // Off: no cut.
        let mut c = Congestion::new(100, 4, 256);
        c.on_rtt_sample(0, 1000);
        c.on_rtt_sample(10, 50_000);
        assert_eq!(c.window(), 100);
    }
}
