//! Counters in the Prometheus text exposition format (0.0.4), the format node_exporter's
//! textfile collector reads from `*.prom` files: `omxctl stats --prometheus` on a client,
//! `omx-node --metrics-file` on a pool node. One writer, so both sides name, label and escape
//! the same way.
//!
//! A metric family's samples must follow its `# HELP`/`# TYPE` lines together, so a family is
//! written whole by [`Exposition::family`]: the caller adds one sample per object (node,
//! device, client) to it. Counter names end in `_total`, durations are in seconds, as the
//! Prometheus naming conventions ask.

use std::fmt::Write;

/// What a metric family is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (until the process or module restarts).
    Counter,
    /// Goes up and down.
    Gauge,
    /// Cumulative buckets, a sum and a count ([`Family::histogram`]).
    Histogram,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A text exposition being written.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

/// One metric family being written: its samples.
pub struct Family<'a> {
    out: &'a mut String,
    name: &'a str,
}

impl Exposition {
    /// An empty exposition.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes the family `name` of `kind`: its help line, its type line, then whatever
    /// `samples` adds. `name` must be a valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
    pub fn family(
        &mut self,
        name: &str,
        kind: Kind,
        help: &str,
        samples: impl FnOnce(&mut Family<'_>),
    ) {
        debug_assert!(valid_name(name), "bad metric name {name}");
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.name());
        samples(&mut Family {
            out: &mut self.out,
            name,
        });
    }

    /// The text, ending with a newline.
    pub fn finish(self) -> String {
        self.out
    }
}

impl Family<'_> {
    /// One sample of a counter or gauge.
    pub fn sample(&mut self, labels: &[(&str, &str)], value: u64) {
        let name = self.name;
        self.line(name, "", labels, None, &value.to_string());
    }

    /// One histogram: `buckets` are (inclusive upper bound in seconds, requests in that bucket
    /// alone) in increasing order, the last one unbounded (`None`); `sum` is in seconds.
    /// Written as Prometheus wants it: cumulative `_bucket` lines up to `le="+Inf"`, `_sum`,
    /// `_count`.
    pub fn histogram(&mut self, labels: &[(&str, &str)], buckets: &[(Option<f64>, u64)], sum: f64) {
        let name = self.name;
        let mut cumulative = 0u64;
        let mut inf_written = false;
        for &(bound, count) in buckets {
            cumulative = cumulative.saturating_add(count);
            let le = match bound {
                Some(b) => format_float(b),
                None => {
                    inf_written = true;
                    "+Inf".to_string()
                }
            };
            self.line(name, "_bucket", labels, Some(&le), &cumulative.to_string());
        }
        if !inf_written {
            self.line(
                name,
                "_bucket",
                labels,
                Some("+Inf"),
                &cumulative.to_string(),
            );
        }
        self.line(name, "_sum", labels, None, &format_float(sum));
        self.line(name, "_count", labels, None, &cumulative.to_string());
    }

    fn line(
        &mut self,
        name: &str,
        suffix: &str,
        labels: &[(&str, &str)],
        le: Option<&str>,
        value: &str,
    ) {
        let mut pairs: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
            .collect();
        if let Some(le) = le {
            pairs.push(format!("le=\"{le}\""));
        }
        if pairs.is_empty() {
            let _ = writeln!(self.out, "{name}{suffix} {value}");
        } else {
            let _ = writeln!(self.out, "{name}{suffix}{{{}}} {value}", pairs.join(","));
        }
    }
}

/// Whether `name` is a valid metric name.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// A float as Prometheus reads it (Rust's shortest round-trip form: `0.000008`, `33.554432`).
fn format_float(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else if v.is_nan() {
        "NaN".to_string()
    } else if v > 0.0 {
        "+Inf".to_string()
    } else {
        "-Inf".to_string()
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Help text with `\` and newlines escaped.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_gauges_follow_their_help_and_type() {
        let mut e = Exposition::new();
        e.family(
            "omx_node_tx_frames_total",
            Kind::Counter,
            "Frames sent.",
            |f| {
                f.sample(&[("node", "1"), ("ifname", "eth1")], 12);
                f.sample(&[("node", "2"), ("ifname", "eth\"2\\\n")], 0);
            },
        );
        e.family("omx_up", Kind::Gauge, "Line one\nline two \\.", |f| {
            f.sample(&[], 1)
        });
        assert_eq!(
            e.finish(),
            "# HELP omx_node_tx_frames_total Frames sent.\n\
             # TYPE omx_node_tx_frames_total counter\n\
             omx_node_tx_frames_total{node=\"1\",ifname=\"eth1\"} 12\n\
             omx_node_tx_frames_total{node=\"2\",ifname=\"eth\\\"2\\\\\\n\"} 0\n\
             # HELP omx_up Line one\\nline two \\\\.\n\
             # TYPE omx_up gauge\n\
             omx_up 1\n"
        );
    }

    #[test]
    fn histograms_are_cumulative_up_to_inf_with_sum_and_count() {
        let mut e = Exposition::new();
        e.family("omx_read_latency_seconds", Kind::Histogram, "Reads.", |f| {
            f.histogram(
                &[("node", "1")],
                &[
                    (Some(0.000008), 2),
                    (Some(0.000016), 0),
                    (Some(0.5), 3),
                    (None, 1),
                ],
                1.25,
            );
        });
        assert_eq!(
            e.finish(),
            "# HELP omx_read_latency_seconds Reads.\n\
             # TYPE omx_read_latency_seconds histogram\n\
             omx_read_latency_seconds_bucket{node=\"1\",le=\"0.000008\"} 2\n\
             omx_read_latency_seconds_bucket{node=\"1\",le=\"0.000016\"} 2\n\
             omx_read_latency_seconds_bucket{node=\"1\",le=\"0.5\"} 5\n\
             omx_read_latency_seconds_bucket{node=\"1\",le=\"+Inf\"} 6\n\
             omx_read_latency_seconds_sum{node=\"1\"} 1.25\n\
             omx_read_latency_seconds_count{node=\"1\"} 6\n"
        );
    }

    #[test]
    fn a_histogram_without_an_unbounded_bucket_gets_one() {
        let mut e = Exposition::new();
        e.family("h_seconds", Kind::Histogram, "H.", |f| {
            f.histogram(&[], &[(Some(1.0), 4)], 2.0)
        });
        let text = e.finish();
        assert!(
            text.contains("h_seconds_bucket{le=\"1\"} 4\nh_seconds_bucket{le=\"+Inf\"} 4\n"),
            "{text}"
        );
        assert!(
            text.ends_with("h_seconds_sum 2\nh_seconds_count 4\n"),
            "{text}"
        );
    }

    #[test]
    fn metric_names_are_checked() {
        assert!(valid_name("omx_node_tx_frames_total"));
        assert!(valid_name("a:b_c9"));
        assert!(!valid_name("9omx"));
        assert!(!valid_name("omx-node"));
        assert!(!valid_name(""));
    }
}
