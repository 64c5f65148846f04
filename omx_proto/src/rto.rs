//! The retransmit timeout, from measured round trips (omx extension: nothing of it is on the
//! wire, so any peer works).
//!
//! Why: a fixed timeout below the path's real round trip resends every window that was
//! only slow, not lost. A client starved under memory pressure (its receive ring refilled
//! late, its vCPU busy reclaiming) took 65 ms to acknowledge what a pool node sent; with
//! the node's fixed 50 ms timeout every burst went twice, the congestion window sat at its
//! minimum, and swap-out crawled for minutes.
//!
//! The scheme is TCP's (RFC 6298): `RTO = max(floor, SRTT + 4 x RTTVAR)`, with SRTT from
//! [`crate::congestion`] (one smoothed round trip for both), RTTVAR updated here from the
//! same samples (frames sent once: Karn). The configured timeout is the floor, so a fast
//! path keeps it. Each timeout doubles the result (up to `floor << max_shift`, the most a
//! timeout may wait), and the doubling is kept until a frame sent once is acknowledged: an
//! acknowledgement of a resent frame says nothing of the round trip (Karn again), so it
//! must not bring back the timeout that just fired too early.

/// Round-trip variation and the timeout's back-off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rto {
    /// RTTVAR, ns (0 before the first sample).
    rttvar: u64,
    /// Consecutive doublings since the last valid sample.
    backoff: u32,
}

/// The largest back-off shift whatever the configuration says (the result saturates anyway).
const MAX_SHIFT: u32 = 16;

impl Rto {
    /// A round-trip sample `rtt` of a frame sent once, taken before SRTT learns it
    /// (`srtt`: its value before the sample, 0 if none yet). Ends any back-off.
    pub fn on_sample(&mut self, srtt: u64, rtt: u64) {
        self.rttvar = if srtt == 0 {
            rtt / 2
        } else {
            // rttvar += (|srtt - rtt| - rttvar) / 4
            self.rttvar - self.rttvar / 4 + srtt.abs_diff(rtt) / 4
        };
        self.backoff = 0;
    }

    /// The retransmit timer expired.
    pub fn on_timeout(&mut self) {
        self.backoff = self.backoff.saturating_add(1).min(MAX_SHIFT);
    }

    /// The timeout for the smoothed round trip `srtt`: at least `floor`, doubled per
    /// timeout since the last valid sample, at most `floor << max_shift`.
    pub fn timeout(&self, srtt: u64, floor: u64, max_shift: u32) -> u64 {
        let measured = srtt.saturating_add(self.rttvar.saturating_mul(4));
        let cap = floor.saturating_mul(1 << max_shift.min(MAX_SHIFT));
        measured
            .max(floor)
            .saturating_mul(1 << self.backoff.min(MAX_SHIFT))
            .min(cap)
    }

    /// RTTVAR, ns.
    pub const fn rttvar(&self) -> u64 {
        self.rttvar
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn a_fast_path_keeps_the_floor() {
        let mut r = Rto::default();
        assert_eq!(r.timeout(0, 50 * MS, 5), 50 * MS);
        r.on_sample(0, MS);
        assert_eq!(r.rttvar(), MS / 2);
        // 1 ms + 4 x 0.5 ms is far below the floor.
        assert_eq!(r.timeout(MS, 50 * MS, 5), 50 * MS);
    }

    #[test]
    fn a_slow_path_stretches_the_timeout_above_its_round_trip() {
        let mut r = Rto::default();
        let mut srtt = 0;
        for _ in 0..50 {
            r.on_sample(srtt, 65 * MS);
            srtt = if srtt == 0 {
                65 * MS
            } else {
                srtt - srtt / 8 + 65 * MS / 8
            };
        }
        let t = r.timeout(srtt, 50 * MS, 5);
        assert!(t > 65 * MS && t < 100 * MS, "{t}");
        // A jump of the round trip widens RTTVAR at once, before SRTT catches up.
        r.on_sample(srtt, 200 * MS);
        assert!(r.timeout(srtt, 50 * MS, 5) > 200 * MS);
    }

    #[test]
    fn timeouts_double_until_a_valid_sample_and_stop_at_the_cap() {
        let mut r = Rto::default();
        r.on_timeout();
        assert_eq!(r.timeout(0, 50 * MS, 5), 100 * MS);
        r.on_timeout();
        assert_eq!(r.timeout(0, 50 * MS, 5), 200 * MS);
        for _ in 0..10 {
            r.on_timeout();
        }
        assert_eq!(r.timeout(0, 50 * MS, 5), 1600 * MS);
        // Without back-off allowed (max_shift 0) the floor is also the cap.
        assert_eq!(r.timeout(0, 200 * MS, 0), 200 * MS);
        assert_eq!(r.timeout(900 * MS, 200 * MS, 0), 200 * MS);
        r.on_sample(0, MS);
        assert_eq!(r.timeout(MS, 50 * MS, 5), 50 * MS);
    }
}
