//! The node's counters in the Prometheus text format (`--metrics-file`), for node_exporter's
//! textfile collector: `omx_pool_<counter>_total` for each JSON counter, requests by kind
//! (`omx_pool_requests_total{op}`), and per client (`{mac}`) whether it is connected, its
//! region's size and the requests it made.

use omx_metrics::{Exposition, Kind};
use omx_proto::Stats;

use crate::stats::{ClientReport, NodeStats};
use omx_proto::serve::REQUEST_KINDS;

/// The exposition of `stats`, the connections' `link` counters and the `clients`.
pub fn render(stats: &NodeStats, link: &Stats, clients: &[ClientReport]) -> String {
    let mut e = Exposition::new();
    for (name, value) in stats.counters(link) {
        let help = format!("omx-node counter {name} (as in --stats-file).");
        e.family(
            &format!("omx_pool_{name}_total"),
            Kind::Counter,
            &help,
            |f| f.sample(&[], value),
        );
    }
    e.family(
        "omx_pool_requests_total",
        Kind::Counter,
        "Requests served, by kind.",
        |f| {
            for (op, n) in REQUEST_KINDS.iter().zip(stats.serve.requests) {
                f.sample(&[("op", op)], n);
            }
        },
    );
    type PerClient = fn(&ClientReport) -> u64;
    let per_client: [(&str, Kind, &str, PerClient); 4] = [
        (
            "omx_pool_client_connected",
            Kind::Gauge,
            "Whether the client has a connection (1) or is away (0).",
            |c| u64::from(c.state != "away"),
        ),
        (
            "omx_pool_client_region_bytes",
            Kind::Gauge,
            "Bytes of memory the client's region holds (0: none).",
            |c| c.region_size,
        ),
        (
            "omx_pool_client_requests_total",
            Kind::Counter,
            "Requests the client made.",
            |c| c.requests,
        ),
        (
            "omx_pool_client_denied_total",
            Kind::Counter,
            "Requests of the client answered with denied.",
            |c| c.denied,
        ),
    ];
    if !clients.is_empty() {
        for (name, kind, help, value) in per_client {
            e.family(name, kind, help, |f| {
                for c in clients {
                    f.sample(&[("mac", &c.mac)], value(c));
                }
            });
        }
    }
    e.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_requests_and_clients() {
        let stats = NodeStats {
            frames_rx: 5,
            serve: omx_proto::serve::ServeStats {
                requests: [3, 1, 0, 0, 0, 0, 0],
                ..Default::default()
            },
            ..NodeStats::default()
        };
        let link = Stats {
            frames_retx: 2,
            ..Stats::default()
        };
        let clients = [ClientReport {
            mac: "02:00:00:00:00:01".into(),
            state: "open".into(),
            version: "1.1".into(),
            region_size: 4096,
            requests: 4,
            denied: 0,
        }];
        let text = render(&stats, &link, &clients);
        for line in [
            "# TYPE omx_pool_frames_rx_total counter",
            "omx_pool_frames_rx_total 5",
            "omx_pool_retransmits_total 2",
            "omx_pool_out_of_window_total 0",
            "omx_pool_requests_total{op=\"get\"} 3",
            "omx_pool_requests_total{op=\"put_full\"} 1",
            "omx_pool_client_connected{mac=\"02:00:00:00:00:01\"} 1",
            "omx_pool_client_region_bytes{mac=\"02:00:00:00:00:01\"} 4096",
            "omx_pool_client_requests_total{mac=\"02:00:00:00:00:01\"} 4",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        // Every counter of the JSON dump is a metric.
        for (name, _) in stats.counters(&link) {
            assert!(
                text.contains(&format!("\nomx_pool_{name}_total ")),
                "{name}"
            );
        }
    }
}
