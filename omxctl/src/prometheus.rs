//! `omxctl stats --prometheus`: the module's, nodes' and devices' counters and the nodes'
//! latency histograms in the Prometheus text format, for node_exporter's textfile collector
//! (write it to a temporary file and rename it into the collector's directory). Metric names
//! are the netlink spec's counter names (`omx_node_tx_frames_total`, ...), so they follow
//! the spec; nodes are labelled `node` and `ifname`, devices `dev`.

use omx_logic::latency::upper_bound_us;
use omx_metrics::{Exposition, Kind};

use crate::latency::LatencySummary;
use crate::model::{NodeCounters, StatsReport};
use crate::netlink::attrs::NodeState;

/// Device counters that are levels, not totals.
const DEV_GAUGES: [&str; 1] = ["in_flight"];

/// The whole report as a text exposition.
pub fn render(r: &StatsReport) -> String {
    let mut e = Exposition::new();
    for (field, value) in r.module.fields() {
        let help = format!("omx_mod: {} (netlink stats-get).", field.replace('_', "-"));
        e.family(&format!("omx_{field}_total"), Kind::Counter, &help, |f| {
            f.sample(&[], value)
        });
    }

    let labels: Vec<(String, String)> = r
        .nodes
        .iter()
        .map(|n| (n.id.to_string(), n.ifname.clone().unwrap_or_default()))
        .collect();
    let node_labels = |i: usize| -> [(&str, &str); 2] {
        let (id, ifname) = &labels[i];
        [("node", id.as_str()), ("ifname", ifname.as_str())]
    };
    if !r.nodes.is_empty() {
        e.family(
            "omx_node_up",
            Kind::Gauge,
            "Whether the pool node's connection is up (1) or not (0).",
            |f| {
                for (i, n) in r.nodes.iter().enumerate() {
                    f.sample(&node_labels(i), u64::from(n.state == Some(NodeState::Up)));
                }
            },
        );
        let fields: Vec<&str> = r.nodes[0].stats.fields().iter().map(|(k, _)| *k).collect();
        for (col, field) in fields.iter().enumerate() {
            let help = format!(
                "Pool node counter {} (netlink node-stats).",
                field.replace('_', "-")
            );
            e.family(
                &format!("omx_node_{field}_total"),
                Kind::Counter,
                &help,
                |f| {
                    for (i, n) in r.nodes.iter().enumerate() {
                        f.sample(&node_labels(i), n.stats.fields()[col].1);
                    }
                },
            );
        }
        type Pick = fn(&NodeCounters) -> &LatencySummary;
        let histograms: [(&str, &str, Pick); 2] = [
            ("read", "reads (page-in)", |n| &n.read_latency),
            ("write", "writes (page-out)", |n| &n.write_latency),
        ];
        for (op, what, pick) in histograms {
            let help = format!(
                "Time the pool node took to complete {what}, from queueing to the last answer."
            );
            e.family(
                &format!("omx_node_{op}_latency_seconds"),
                Kind::Histogram,
                &help,
                |f| {
                    for (i, n) in r.nodes.iter().enumerate() {
                        let h = &pick(n).histogram;
                        let buckets: Vec<(Option<f64>, u64)> = h
                            .counts
                            .iter()
                            .enumerate()
                            .map(|(b, &c)| (upper_bound_us(b).map(|us| us as f64 / 1e6), c))
                            .collect();
                        f.histogram(&node_labels(i), &buckets, h.sum_us as f64 / 1e6);
                    }
                },
            );
        }
    }

    if let Some(first) = r.devices.first() {
        let fields: Vec<&str> = first.stats.fields().iter().map(|(k, _)| *k).collect();
        for (col, field) in fields.iter().enumerate() {
            let gauge = DEV_GAUGES.contains(field);
            let (name, kind) = if gauge {
                (format!("omx_dev_{field}"), Kind::Gauge)
            } else {
                (format!("omx_dev_{field}_total"), Kind::Counter)
            };
            let help = format!(
                "Device counter {} (netlink dev-stats).",
                field.replace('_', "-")
            );
            e.family(&name, kind, &help, |f| {
                for d in &r.devices {
                    f.sample(&[("dev", d.name.as_str())], d.stats.fields()[col].1);
                }
            });
        }
    }
    e.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dev, Node};
    use crate::netlink::attrs::{DevStats, Latency, ModuleStats, NodeStats};

    fn report() -> StatsReport {
        let node = Node {
            id: 3,
            ifname: Some("eth1".into()),
            state: Some(NodeState::Up),
            stats: Some(NodeStats {
                tx_frames: 10,
                ..NodeStats::default()
            }),
            read_latency: Some(Latency {
                le_256us: 4,
                le_512us: 1,
                sum_us: 1_300,
                ..Latency::default()
            }),
            ..Node::default()
        };
        let dev = Dev {
            name: "omx0".into(),
            stats: Some(DevStats {
                writes: 6,
                in_flight: 2,
                ..DevStats::default()
            }),
            ..Dev::default()
        };
        StatsReport::new(
            ModuleStats {
                rx_frames: 7,
                ..ModuleStats::default()
            },
            &[node],
            &[dev],
        )
    }

    #[test]
    fn counters_gauges_and_histograms() {
        let text = render(&report());
        for line in [
            "# TYPE omx_rx_frames_total counter",
            "omx_rx_frames_total 7",
            "omx_node_up{node=\"3\",ifname=\"eth1\"} 1",
            "omx_node_tx_frames_total{node=\"3\",ifname=\"eth1\"} 10",
            "# TYPE omx_node_read_latency_seconds histogram",
            "omx_node_read_latency_seconds_bucket{node=\"3\",ifname=\"eth1\",le=\"0.000128\"} 0",
            "omx_node_read_latency_seconds_bucket{node=\"3\",ifname=\"eth1\",le=\"0.000256\"} 4",
            "omx_node_read_latency_seconds_bucket{node=\"3\",ifname=\"eth1\",le=\"0.000512\"} 5",
            "omx_node_read_latency_seconds_bucket{node=\"3\",ifname=\"eth1\",le=\"33.554432\"} 5",
            "omx_node_read_latency_seconds_bucket{node=\"3\",ifname=\"eth1\",le=\"+Inf\"} 5",
            "omx_node_read_latency_seconds_sum{node=\"3\",ifname=\"eth1\"} 0.0013",
            "omx_node_read_latency_seconds_count{node=\"3\",ifname=\"eth1\"} 5",
            "omx_node_write_latency_seconds_count{node=\"3\",ifname=\"eth1\"} 0",
            "omx_dev_writes_total{dev=\"omx0\"} 6",
            "# TYPE omx_dev_in_flight gauge",
            "omx_dev_in_flight{dev=\"omx0\"} 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        // Every sample's family was announced before it, and names are valid.
        let mut declared = std::collections::BTreeSet::new();
        for l in text.lines() {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                declared.insert(rest.split(' ').next().unwrap().to_string());
            } else if !l.starts_with('#') {
                let name = l.split(['{', ' ']).next().unwrap();
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|f| declared.contains(*f)))
                    .unwrap_or(name);
                assert!(declared.contains(family), "{name} before its # TYPE");
                assert!(omx_metrics::valid_name(name), "{name}");
            }
        }
    }

    #[test]
    fn no_nodes_no_devices() {
        let text = render(&StatsReport::new(ModuleStats::default(), &[], &[]));
        assert!(text.contains("omx_rx_frames_total 0\n"));
        assert!(!text.contains("omx_node_"));
        assert!(!text.contains("omx_dev_"));
    }
}
