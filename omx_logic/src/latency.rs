//! Request latency histograms: how long a node took to complete block requests, from the
//! moment a request (or a mirrored write's leg) entered the node's table to its last answer,
//! reconnect waits included. Buckets double from [`FIRST_BOUND_US`]: recording costs a
//! leading-zero count and two additions under the lock the completion already holds, and a
//! percentile read from them is exact to within a factor of two, as for the block layer's
//! own `blk-iolatency` buckets or bpftrace's `hist()`.
//!
//! The module keeps one histogram per node and direction (page-in: reads; page-out: writes
//! and writes of zeroes); netlink carries the counts under the spec's bucket names
//! (`le-8us`, ..., `longer`), which [`upper_bound_us`] must match (omxctl's tests check it);
//! omxctl prints percentiles ([`quantile`]) and Prometheus histograms.

/// Upper bound of the first bucket, in microseconds.
pub const FIRST_BOUND_US: u64 = 8;

/// Buckets with an upper bound: 8 µs, 16 µs, ..., 2^25 µs (33.6 s, beyond the block layer's
/// first 30 s timeout).
pub const BOUNDED_BUCKETS: usize = 23;

/// All buckets: the bounded ones and one for longer latencies.
pub const BUCKETS: usize = BOUNDED_BUCKETS + 1;

/// Inclusive upper bound of bucket `bucket` in microseconds; `None` for the last bucket
/// (longer than every bound) and beyond.
pub const fn upper_bound_us(bucket: usize) -> Option<u64> {
    if bucket < BOUNDED_BUCKETS {
        Some(FIRST_BOUND_US << bucket)
    } else {
        None
    }
}

/// The bucket of a latency of `us` microseconds: the first whose bound is at least `us`.
pub const fn bucket_of(us: u64) -> usize {
    if us <= FIRST_BOUND_US {
        return 0;
    }
    // us in (2^(k-1), 2^k] has k = 64 - leading_zeros(us - 1); FIRST_BOUND_US is 2^3.
    let k = (64 - (us - 1).leading_zeros()) as usize;
    let b = k - FIRST_BOUND_US.trailing_zeros() as usize;
    if b < BOUNDED_BUCKETS {
        b
    } else {
        BOUNDED_BUCKETS
    }
}

/// Completed requests by latency, and the sum of their latencies (for a mean, and
/// Prometheus's `_sum`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    /// Requests per bucket (not cumulative).
    pub counts: [u64; BUCKETS],
    /// Sum of all recorded latencies, in microseconds.
    pub sum_us: u64,
}

impl Histogram {
    /// Records one request that took `elapsed_ns` nanoseconds.
    pub fn record(&mut self, elapsed_ns: u64) {
        let us = elapsed_ns / 1000;
        if let Some(c) = self.counts.get_mut(bucket_of(us)) {
            *c = c.wrapping_add(1);
        }
        self.sum_us = self.sum_us.wrapping_add(us);
    }

    /// Requests recorded.
    pub fn count(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, &c| a.wrapping_add(c))
    }
}

/// A percentile read from a histogram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantile {
    /// At most this many microseconds (the bound of the bucket it falls in).
    AtMost(u64),
    /// Longer than this many microseconds (it falls in the last bucket).
    Above(u64),
}

/// The `num/den` quantile (99/100 for p99, 999/1000 for p99.9) of requests counted in
/// `counts`, or `None` when nothing was counted or the fraction is not in (0, 1].
pub fn quantile(counts: &[u64; BUCKETS], num: u64, den: u64) -> Option<Quantile> {
    if num == 0 || den == 0 || num > den {
        return None;
    }
    let total = counts.iter().fold(0u128, |a, &c| a + u128::from(c));
    if total == 0 {
        return None;
    }
    // The rank of the request the quantile names: ceil(total * num / den), at least 1.
    let rank = (total * u128::from(num)).div_ceil(u128::from(den)).max(1);
    let mut seen = 0u128;
    for (b, &c) in counts.iter().enumerate() {
        seen += u128::from(c);
        if seen >= rank {
            return Some(match upper_bound_us(b) {
                Some(bound) => Quantile::AtMost(bound),
                None => Quantile::Above(FIRST_BOUND_US << (BOUNDED_BUCKETS - 1)),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_double_from_8_us_to_33_s() {
        assert_eq!(upper_bound_us(0), Some(8));
        assert_eq!(upper_bound_us(1), Some(16));
        assert_eq!(upper_bound_us(BOUNDED_BUCKETS - 1), Some(1 << 25));
        assert_eq!(upper_bound_us(BOUNDED_BUCKETS), None);
    }

    #[test]
    fn a_latency_falls_in_the_first_bucket_whose_bound_holds_it() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(8), 0);
        assert_eq!(bucket_of(9), 1);
        assert_eq!(bucket_of(16), 1);
        assert_eq!(bucket_of(17), 2);
        assert_eq!(bucket_of(1 << 25), BOUNDED_BUCKETS - 1);
        assert_eq!(bucket_of((1 << 25) + 1), BOUNDED_BUCKETS);
        assert_eq!(bucket_of(u64::MAX), BOUNDED_BUCKETS);
        for us in 1..5000u64 {
            let b = bucket_of(us);
            assert!(
                upper_bound_us(b).is_some_and(|hi| us <= hi),
                "{us} above bucket {b}"
            );
            if b > 0 {
                assert!(
                    upper_bound_us(b - 1).is_some_and(|lo| us > lo),
                    "{us} fits bucket {}",
                    b - 1
                );
            }
        }
    }

    #[test]
    fn record_counts_and_sums_microseconds() {
        let mut h = Histogram::default();
        h.record(500); // 0 µs
        h.record(300_000); // 300 µs: bucket of 512
        h.record(300_999);
        h.record(40_000_000_000); // 40 s
        assert_eq!(h.count(), 4);
        assert_eq!(h.counts[0], 1);
        assert_eq!(h.counts[6], 2);
        assert_eq!(h.counts[BOUNDED_BUCKETS], 1);
        assert_eq!(h.sum_us, 600 + 40_000_000);
    }

    #[test]
    fn quantiles_name_the_bucket_of_their_rank() {
        let mut counts = [0u64; BUCKETS];
        assert_eq!(quantile(&counts, 1, 2), None);
        counts[2] = 90; // up to 32 µs
        counts[5] = 9; // up to 256 µs
        counts[10] = 1; // up to 8192 µs
        assert_eq!(quantile(&counts, 1, 2), Some(Quantile::AtMost(32)));
        assert_eq!(quantile(&counts, 90, 100), Some(Quantile::AtMost(32)));
        assert_eq!(quantile(&counts, 91, 100), Some(Quantile::AtMost(256)));
        assert_eq!(quantile(&counts, 99, 100), Some(Quantile::AtMost(256)));
        assert_eq!(quantile(&counts, 999, 1000), Some(Quantile::AtMost(8192)));
        assert_eq!(quantile(&counts, 1, 1), Some(Quantile::AtMost(8192)));
        counts[BOUNDED_BUCKETS] = 100;
        assert_eq!(quantile(&counts, 99, 100), Some(Quantile::Above(1 << 25)));
        assert_eq!(quantile(&counts, 0, 100), None);
        assert_eq!(quantile(&counts, 101, 100), None);
    }
}
