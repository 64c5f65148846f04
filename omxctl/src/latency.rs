//! A node's latency histograms as netlink carries them (the spec's `latency` counter set,
//! one attribute per bucket), turned into `omx_logic::latency`'s histogram, and the summary
//! omxctl prints: count, mean and percentiles. A percentile is the upper bound of the
//! doubling bucket it falls in, so `p99 <=512us` means the 99th percentile is above 256 and
//! at most 512 microseconds.

use omx_logic::latency::{quantile, Histogram, Quantile};
use serde::Serialize;

use crate::netlink::attrs::Latency;

/// The histogram in the netlink counters (buckets in the spec's order, then the sum).
pub fn histogram(l: &Latency) -> Histogram {
    let mut h = Histogram::default();
    for (count, (_, v)) in h.counts.iter_mut().zip(l.fields()) {
        *count = v;
    }
    h.sum_us = l.sum_us;
    h
}

/// What `omxctl stats` shows of one histogram. Percentiles are bucket bounds in
/// microseconds; `null` when nothing was counted or the percentile is beyond the last bound.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LatencySummary {
    /// Requests completed.
    pub count: u64,
    /// Mean latency in microseconds.
    pub mean_us: Option<u64>,
    pub p50_us: Option<u64>,
    pub p90_us: Option<u64>,
    pub p99_us: Option<u64>,
    pub p99_9_us: Option<u64>,
    /// The buckets themselves (Prometheus output).
    #[serde(skip)]
    pub histogram: Histogram,
}

/// The percentiles shown, as (label, numerator, denominator).
pub const PERCENTILES: [(&str, u64, u64); 4] = [
    ("P50", 50, 100),
    ("P90", 90, 100),
    ("P99", 99, 100),
    ("P99.9", 999, 1000),
];

impl LatencySummary {
    /// Summary of a node's histogram (absent: nothing counted).
    pub fn new(l: Option<&Latency>) -> Self {
        let h = l.map(histogram).unwrap_or_default();
        let count = h.count();
        let bound = |num, den| match quantile(&h.counts, num, den) {
            Some(Quantile::AtMost(us)) => Some(us),
            _ => None,
        };
        Self {
            count,
            mean_us: h.sum_us.checked_div(count),
            p50_us: bound(50, 100),
            p90_us: bound(90, 100),
            p99_us: bound(99, 100),
            p99_9_us: bound(999, 1000),
            histogram: h,
        }
    }

    /// Each of [`PERCENTILES`] as text: `<=512us`, `<=4.1ms`, `>33.6s`, or `-` (none counted).
    pub fn percentiles_text(&self) -> Vec<String> {
        PERCENTILES
            .iter()
            .map(
                |&(_, num, den)| match quantile(&self.histogram.counts, num, den) {
                    Some(Quantile::AtMost(us)) => format!("<={}", duration(us)),
                    Some(Quantile::Above(us)) => format!(">{}", duration(us)),
                    None => "-".to_string(),
                },
            )
            .collect()
    }

    /// The mean as text, or `-`.
    pub fn mean_text(&self) -> String {
        self.mean_us.map_or_else(|| "-".to_string(), duration)
    }
}

/// Microseconds as `512us`, `4.1ms` or `33.6s`.
pub fn duration(us: u64) -> String {
    if us < 1000 {
        format!("{us}us")
    } else if us < 1_000_000 {
        format!("{:.1}ms", us as f64 / 1e3)
    } else {
        format!("{:.1}s", us as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omx_logic::latency::{upper_bound_us, BUCKETS};

    /// The spec names each bucket by its bound (`le-8us`, ..., `longer`): they must be the
    /// bounds `omx_logic::latency` counts with, in the same order.
    #[test]
    fn the_spec_bucket_names_are_omx_logic_bounds() {
        let fields = Latency::default().fields();
        assert_eq!(fields.len(), BUCKETS + 1, "buckets and the sum");
        for (i, (name, _)) in fields.iter().take(BUCKETS).enumerate() {
            let want = match upper_bound_us(i) {
                Some(us) => format!("le_{us}us"),
                None => "longer".to_string(),
            };
            assert_eq!(*name, want, "bucket {i}");
        }
        assert_eq!(fields[BUCKETS].0, "sum_us");
    }

    #[test]
    fn summary_of_counters() {
        let l = Latency {
            le_256us: 90,
            le_512us: 9,
            le_4096us: 1,
            sum_us: 30_000,
            ..Latency::default()
        };
        let s = LatencySummary::new(Some(&l));
        assert_eq!(s.count, 100);
        assert_eq!(s.mean_us, Some(300));
        assert_eq!(
            (s.p50_us, s.p90_us, s.p99_us, s.p99_9_us),
            (Some(256), Some(256), Some(512), Some(4096))
        );
        assert_eq!(
            s.percentiles_text(),
            ["<=256us", "<=256us", "<=512us", "<=4.1ms"]
        );
        assert_eq!(s.mean_text(), "300us");
        let slow = LatencySummary::new(Some(&Latency {
            longer: 3,
            ..Latency::default()
        }));
        assert_eq!(slow.p50_us, None);
        assert_eq!(slow.percentiles_text()[0], ">33.6s");
        let none = LatencySummary::new(None);
        assert_eq!((none.count, none.mean_us, none.p99_us), (0, None, None));
        assert_eq!(none.percentiles_text(), ["-", "-", "-", "-"]);
    }
}
