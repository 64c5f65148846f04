//! Human output (tables, detail views, event lines) and JSON output.

use std::fmt::Display;

use serde::Serialize;

use crate::latency::{LatencySummary, PERCENTILES};
use crate::model::{Dev, Event, Lend, Node, NodeCounters, Overview, StatsReport};
use crate::units::format_size;
use omx_args::format_mac;

/// JSON for read commands: one line, as `ip -j` prints, or indented (`-p`, as `ip -j -p`).
pub fn json<T: Serialize + ?Sized>(v: &T, pretty: bool) -> String {
    if pretty {
        serde_json::to_string_pretty(v).expect("JSON serialization cannot fail")
    } else {
        json_line(v)
    }
}

/// One-line JSON for streams (monitor, stats --watch).
pub fn json_line<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("JSON serialization cannot fail")
}

/// Render rows under headers, columns left-aligned and two spaces apart.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            l.push_str(cell);
            l.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

fn opt<T: Display>(v: &Option<T>) -> String {
    match v {
        Some(v) => v.to_string(),
        None => "-".into(),
    }
}

fn size(v: Option<u64>) -> String {
    v.map(format_size).unwrap_or_else(|| "-".into())
}

fn mtu(v: Option<u32>) -> String {
    match v {
        Some(0) => "auto".into(),
        Some(m) => m.to_string(),
        None => "-".into(),
    }
}

/// Milliseconds as seconds, without a fraction when there is none (10000 -> "10").
fn format_seconds(ms: u32) -> String {
    if ms % 1000 == 0 {
        (ms / 1000).to_string()
    } else {
        format!("{}", f64::from(ms) / 1000.0)
    }
}

fn mac(v: &Option<[u8; 6]>) -> String {
    v.map(|m| format_mac(&m)).unwrap_or_else(|| "-".into())
}

fn ids(v: &[u32]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
    }
}

/// `omxctl node show`: one row per node.
pub fn nodes_table(nodes: &[Node]) -> String {
    let rows: Vec<Vec<String>> = nodes
        .iter()
        .map(|n| {
            vec![
                n.id.to_string(),
                opt(&n.ifname),
                mac(&n.peer_mac),
                size(n.size),
                opt(&n.state),
                opt(&n.version),
                opt(&n.byte_order),
                mtu(n.mtu),
            ]
        })
        .collect();
    table(
        &[
            "ID", "IFACE", "PEER", "SIZE", "STATE", "VERSION", "ORDER", "MTU",
        ],
        &rows,
    )
}

/// `omxctl lend show`: one row per lending.
pub fn lends_table(lends: &[Lend]) -> String {
    let rows: Vec<Vec<String>> = lends
        .iter()
        .map(|l| {
            let s = l.stats.clone().unwrap_or_default();
            vec![
                l.id.to_string(),
                opt(&l.ifname),
                mac(&l.client_mac),
                size(l.size),
                opt(&l.state),
                s.gets.to_string(),
                s.puts.to_string(),
                s.connections.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "IFACE",
            "CLIENT",
            "SIZE",
            "STATE",
            "GETS",
            "PUTS",
            "CONNECTIONS",
        ],
        &rows,
    )
}

/// `omxctl lend show ID`: one lending, every counter.
pub fn lend_detail(l: &Lend) -> String {
    let mut out = String::new();
    kv(&mut out, "lend", l.id);
    kv(&mut out, "interface", opt(&l.ifname));
    kv(&mut out, "client", mac(&l.client_mac));
    kv(&mut out, "size", size(l.size));
    kv(&mut out, "state", opt(&l.state));
    if let Some(s) = &l.stats {
        for (k, v) in s.fields() {
            kv(&mut out, &k.replace('_', " "), v);
        }
    }
    out
}

/// `omxctl dev show`: one row per device.
pub fn devs_table(devs: &[Dev]) -> String {
    let rows: Vec<Vec<String>> = devs
        .iter()
        .map(|d| {
            let s = d.stats.clone().unwrap_or_default();
            vec![
                d.name.clone(),
                size(d.size),
                opt(&d.replicas),
                if d.nodes.is_empty() {
                    "all".into()
                } else {
                    ids(&d.nodes)
                },
                s.reads.to_string(),
                s.writes.to_string(),
                s.errors.to_string(),
                s.in_flight.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "NAME",
            "SIZE",
            "REPLICAS",
            "NODES",
            "READS",
            "WRITES",
            "ERRORS",
            "IN-FLIGHT",
        ],
        &rows,
    )
}

fn kv(out: &mut String, key: &str, value: impl Display) {
    out.push_str(&format!("  {key}: {value}\n"));
}

/// `omxctl node show ID`: everything about one node.
pub fn node_detail(n: &Node) -> String {
    let mut out = format!("node {}\n", n.id);
    kv(
        &mut out,
        "interface",
        match (&n.ifname, n.ifindex) {
            (Some(name), Some(idx)) => format!("{name} (ifindex {idx})"),
            (name, _) => opt(name),
        },
    );
    kv(&mut out, "peer", mac(&n.peer_mac));
    kv(&mut out, "size", size(n.size));
    kv(&mut out, "state", opt(&n.state));
    kv(&mut out, "version", opt(&n.version));
    kv(&mut out, "byte order", opt(&n.byte_order));
    kv(&mut out, "mtu", mtu(n.mtu));
    kv(&mut out, "integrity", opt(&n.integrity));
    if let Some(ms) = n.io_timeout_ms {
        kv(&mut out, "io timeout", format!("{} s", format_seconds(ms)));
    }
    if let Some(s) = &n.stats {
        kv(
            &mut out,
            "transfer",
            format!(
                "{} received ({} frames), {} sent ({} frames)",
                format_size(s.rx_bytes),
                s.rx_frames,
                format_size(s.tx_bytes),
                s.tx_frames
            ),
        );
        for (k, v) in s.fields() {
            if !k.ends_with("_bytes") && !k.ends_with("_frames") {
                kv(&mut out, &k.replace('_', " "), v);
            }
        }
    }
    for (name, l) in [
        ("read latency", &n.read_latency),
        ("write latency", &n.write_latency),
    ] {
        if let Some(l) = l {
            kv(&mut out, name, latency_line(&LatencySummary::new(Some(l))));
        }
    }
    out
}

/// `1234 requests, mean 300us, p50 <=256us p90 <=256us p99 <=512us p99.9 <=4.1ms`.
fn latency_line(l: &LatencySummary) -> String {
    let mut line = format!("{} requests, mean {}", l.count, l.mean_text());
    for ((label, _, _), text) in PERCENTILES.iter().zip(l.percentiles_text()) {
        line.push_str(&format!(" {} {text}", label.to_lowercase()));
    }
    line
}

/// `omxctl dev show NAME`: everything about one device.
pub fn dev_detail(d: &Dev) -> String {
    let mut out = format!("device {}\n", d.name);
    kv(&mut out, "size", size(d.size));
    kv(
        &mut out,
        "nodes",
        if d.nodes.is_empty() {
            "all".into()
        } else {
            ids(&d.nodes)
        },
    );
    kv(&mut out, "replicas", opt(&d.replicas));
    if !d.failed_nodes.is_empty() {
        kv(&mut out, "out of mirror", ids(&d.failed_nodes));
    }
    if let Some(s) = &d.stats {
        kv(
            &mut out,
            "read",
            format!("{} in {} requests", format_size(s.read_bytes), s.reads),
        );
        kv(
            &mut out,
            "written",
            format!("{} in {} requests", format_size(s.write_bytes), s.writes),
        );
        kv(&mut out, "discards", s.discards);
        kv(&mut out, "errors", s.errors);
        kv(&mut out, "in flight", s.in_flight);
        kv(&mut out, "failovers", s.failovers);
        kv(
            &mut out,
            "read ahead",
            format!(
                "{} reads answered, {} blocks fetched",
                s.readahead_hits, s.readahead_fetches
            ),
        );
    }
    out
}

/// `omxctl show`: nodes and devices, and the lendings if this host lends memory (a client
/// host has none, and is not told about them).
pub fn overview(o: &Overview) -> String {
    let mut out = String::new();
    if o.nodes.is_empty() {
        out.push_str("nodes: none (add one with: omxctl node add IFACE MAC --size SIZE)\n");
    } else {
        out.push_str("nodes:\n");
        out.push_str(&indent(&nodes_table(&o.nodes)));
    }
    out.push('\n');
    if o.devices.is_empty() {
        out.push_str("devices: none (create one with: omxctl dev add NAME --size SIZE)\n");
    } else {
        out.push_str("devices:\n");
        out.push_str(&indent(&devs_table(&o.devices)));
    }
    if !o.lendings.is_empty() {
        out.push_str("\nlendings:\n");
        out.push_str(&indent(&lends_table(&o.lendings)));
    }
    out
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}

/// `omxctl stats`: module counters, then per-node and per-device tables.
pub fn stats(r: &StatsReport) -> String {
    let mut out = String::from("module:\n");
    for (k, v) in r.module.fields() {
        out.push_str(&format!("  {k}: {v}\n"));
    }
    out.push('\n');
    if r.nodes.is_empty() {
        out.push_str("nodes: none\n");
    } else {
        out.push_str("nodes:\n");
        let mut headers = vec!["ID".to_string()];
        headers.extend(
            r.nodes[0]
                .stats
                .fields()
                .iter()
                .map(|(k, _)| k.to_uppercase()),
        );
        let rows: Vec<Vec<String>> = r
            .nodes
            .iter()
            .map(|n| {
                let mut row = vec![n.id.to_string()];
                row.extend(n.stats.fields().iter().map(|(_, v)| v.to_string()));
                row
            })
            .collect();
        let h: Vec<&str> = headers.iter().map(String::as_str).collect();
        out.push_str(&indent(&table(&h, &rows)));
        out.push_str("\nlatency (percentiles: bounds of doubling buckets):\n");
        out.push_str(&indent(&latency_table(&r.nodes)));
    }
    out.push('\n');
    if r.devices.is_empty() {
        out.push_str("devices: none\n");
    } else {
        out.push_str("devices:\n");
        let mut headers = vec!["NAME".to_string()];
        headers.extend(
            r.devices[0]
                .stats
                .fields()
                .iter()
                .map(|(k, _)| k.to_uppercase()),
        );
        let rows: Vec<Vec<String>> = r
            .devices
            .iter()
            .map(|d| {
                let mut row = vec![d.name.clone()];
                row.extend(d.stats.fields().iter().map(|(_, v)| v.to_string()));
                row
            })
            .collect();
        let h: Vec<&str> = headers.iter().map(String::as_str).collect();
        out.push_str(&indent(&table(&h, &rows)));
    }
    out
}

/// Per node and direction: requests completed, mean, percentiles.
fn latency_table(nodes: &[NodeCounters]) -> String {
    let mut headers = vec!["ID", "OP", "COUNT", "MEAN"];
    headers.extend(PERCENTILES.iter().map(|(label, _, _)| *label));
    let rows: Vec<Vec<String>> = nodes
        .iter()
        .flat_map(|n| {
            [("read", &n.read_latency), ("write", &n.write_latency)].map(|(op, l)| {
                let mut row = vec![
                    n.id.to_string(),
                    op.to_string(),
                    l.count.to_string(),
                    l.mean_text(),
                ];
                row.extend(l.percentiles_text());
                row
            })
        })
        .collect();
    table(&headers, &rows)
}

/// `omxctl monitor`: one line per event.
pub fn event_line(e: &Event) -> String {
    match e {
        Event::NodeState { node } => format!(
            "node {} {} {}: state {}",
            node.id,
            opt(&node.ifname),
            mac(&node.peer_mac),
            opt(&node.state)
        ),
        Event::DevError { dev } => {
            let mut l = format!("dev {}: I/O error", dev.name);
            if !dev.nodes.is_empty() {
                l.push_str(&format!(" (nodes {})", ids(&dev.nodes)));
            }
            if let Some(s) = &dev.stats {
                l.push_str(&format!(", {} errors so far", s.errors));
            }
            l
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::attrs::{
        ByteOrder, DevStats, Integrity, Latency, LendState, LendStats, ModuleStats, NodeState,
        NodeStats, Version,
    };
    use serde_json::json;

    fn node() -> Node {
        Node {
            id: 1,
            ifname: Some("eth1".into()),
            ifindex: Some(3),
            peer_mac: Some([2, 0, 0, 0, 0, 2]),
            size: Some(4 << 30),
            byte_order: Some(ByteOrder::Spec),
            version: Some(Version::V1_1),
            mtu: Some(0),
            integrity: Some(Integrity::Xxh64),
            io_timeout_ms: Some(10_000),
            state: Some(NodeState::Up),
            stats: Some(NodeStats {
                tx_frames: 10,
                rx_frames: 9,
                tx_bytes: 4096,
                rx_bytes: 2048,
                ..Default::default()
            }),
            read_latency: Some(Latency {
                le_256us: 3,
                le_1024us: 1,
                sum_us: 1000,
                ..Default::default()
            }),
            write_latency: Some(Latency::default()),
        }
    }

    fn lend() -> Lend {
        Lend {
            id: 1,
            ifname: Some("eth1".into()),
            ifindex: Some(3),
            client_mac: Some([2, 0, 0, 0, 0, 1]),
            size: Some(256 << 20),
            state: Some(LendState::Open),
            stats: Some(LendStats {
                gets: 7,
                puts: 8,
                connections: 1,
                ..Default::default()
            }),
        }
    }

    fn dev() -> Dev {
        Dev {
            name: "omx0".into(),
            size: Some(8 << 30),
            nodes: vec![1, 2],
            replicas: Some(2),
            failed_nodes: vec![2],
            stats: Some(DevStats {
                reads: 5,
                writes: 6,
                ..Default::default()
            }),
        }
    }

    #[test]
    fn node_json_shape() {
        let v: serde_json::Value = serde_json::from_str(&json(&node(), true)).unwrap();
        assert_eq!(
            v,
            json!({
                "id": 1,
                "ifname": "eth1",
                "ifindex": 3,
                "peer_mac": "02:00:00:00:00:02",
                "size": 4294967296u64,
                "byte_order": "spec",
                "version": "1.1",
                "mtu": 0,
                "integrity": "xxh64",
                "io_timeout_ms": 10000,
                "state": "up",
                "stats": {
                    "tx_frames": 10, "rx_frames": 9, "tx_bytes": 4096, "rx_bytes": 2048,
                    "retransmits": 0, "naks_sent": 0, "naks_received": 0,
                    "malformed": 0, "timeouts": 0, "reconnects": 0,
                    "integrity_errors": 0, "out_of_window": 0, "out_of_order": 0,
                    "duplicates": 0
                },
                "read_latency": latency(&[("le_256us", 3), ("le_1024us", 1), ("sum_us", 1000)]),
                "write_latency": latency(&[])
            })
        );
    }

    /// A latency histogram's JSON: every bucket 0 but those given.
    fn latency(nonzero: &[(&str, u64)]) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for (k, _) in Latency::default().fields() {
            let v = nonzero.iter().find(|(n, _)| *n == k).map_or(0, |&(_, v)| v);
            m.insert(k.to_string(), v.into());
        }
        serde_json::Value::Object(m)
    }

    /// Every key of an object and of the objects nested in it, as dotted paths.
    fn keys(v: &serde_json::Value) -> std::collections::BTreeSet<String> {
        fn walk(v: &serde_json::Value, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
            if let serde_json::Value::Object(m) = v {
                for (k, x) in m {
                    let path = format!("{prefix}{k}");
                    walk(x, &format!("{path}."), out);
                    out.insert(path);
                }
            }
        }
        let mut out = std::collections::BTreeSet::new();
        walk(v, "", &mut out);
        out
    }

    /// The node and device objects `Documentation/omxctl.md` shows have exactly the keys
    /// omxctl prints.
    #[test]
    fn the_documented_json_objects_have_the_printed_keys() {
        let doc = include_str!("../../Documentation/omxctl.md");
        let examples: Vec<serde_json::Value> = doc
            .split("```json\n")
            .skip(1)
            .map(|b| serde_json::from_str(b.split("```").next().unwrap()).unwrap())
            .collect();
        fn printed<T: Serialize>(v: &T) -> serde_json::Value {
            serde_json::from_str(&json(v, false)).unwrap()
        }
        assert_eq!(examples.len(), 2, "a node and a device object");
        assert_eq!(keys(&examples[0]), keys(&printed(&node())), "node object");
        assert_eq!(keys(&examples[1]), keys(&printed(&dev())), "device object");
    }

    /// `-j` prints one line, `-p` indents.
    #[test]
    fn json_is_one_line_unless_pretty() {
        assert_eq!(json(&node(), false).lines().count(), 1);
        assert!(json(&node(), true).lines().count() > 10);
    }

    #[test]
    fn missing_node_attrs_are_null() {
        let v: serde_json::Value = serde_json::from_str(&json_line(&Node {
            id: 4,
            ..Default::default()
        }))
        .unwrap();
        assert_eq!(v["id"], 4);
        assert!(v["peer_mac"].is_null());
        assert!(v["state"].is_null());
        assert!(v["stats"].is_null());
    }

    #[test]
    fn dev_and_overview_json_shape() {
        let o = Overview {
            nodes: vec![node()],
            devices: vec![dev()],
            lendings: vec![],
        };
        let v: serde_json::Value = serde_json::from_str(&json(&o, false)).unwrap();
        assert_eq!(v["nodes"][0]["id"], 1);
        assert_eq!(
            v["devices"][0],
            json!({
                "name": "omx0",
                "size": 8589934592u64,
                "nodes": [1, 2],
                "replicas": 2,
                "failed_nodes": [2],
                "stats": {
                    "reads": 5, "writes": 6, "read_bytes": 0, "write_bytes": 0,
                    "discards": 0, "errors": 0, "in_flight": 0, "failovers": 0,
                    "readahead_hits": 0, "readahead_fetches": 0
                }
            })
        );
    }

    #[test]
    fn stats_json_shape() {
        let r = StatsReport::new(
            ModuleStats {
                rx_frames: 7,
                ..Default::default()
            },
            &[node()],
            &[dev()],
        );
        let v: serde_json::Value = serde_json::from_str(&json_line(&r)).unwrap();
        assert_eq!(
            v["module"],
            json!({"rx_frames": 7, "rx_malformed": 0, "rx_unknown_peer": 0, "rx_dropped": 0, "rx_other_netns": 0})
        );
        assert_eq!(v["nodes"][0]["id"], 1);
        assert_eq!(v["nodes"][0]["ifname"], "eth1");
        assert_eq!(v["nodes"][0]["stats"]["tx_frames"], 10);
        assert_eq!(v["devices"][0]["name"], "omx0");
        assert_eq!(v["devices"][0]["stats"]["writes"], 6);
    }

    #[test]
    fn event_json_shape() {
        let e = Event::NodeState {
            node: Node {
                id: 2,
                state: Some(NodeState::Dead),
                ..Default::default()
            },
        };
        let v: serde_json::Value = serde_json::from_str(&json_line(&e)).unwrap();
        assert_eq!(v["event"], "node-state");
        assert_eq!(v["node"]["id"], 2);
        assert_eq!(v["node"]["state"], "dead");
        let e = Event::DevError { dev: dev() };
        let line = json_line(&e);
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["event"], "dev-error");
        assert_eq!(v["dev"]["name"], "omx0");
    }

    #[test]
    fn unknown_enum_values_print() {
        let n = Node {
            id: 1,
            state: Some(NodeState::Other(9)),
            ..Default::default()
        };
        let v: serde_json::Value = serde_json::from_str(&json_line(&n)).unwrap();
        assert_eq!(v["state"], "unknown(9)");
    }

    #[test]
    fn tables_align() {
        let t = nodes_table(&[node()]);
        assert_eq!(
            t,
            "ID  IFACE  PEER               SIZE   STATE  VERSION  ORDER  MTU\n\
             1   eth1   02:00:00:00:00:02  4 GiB  up     1.1      spec   auto\n"
        );
        let t = devs_table(&[dev()]);
        assert_eq!(
            t,
            "NAME  SIZE   REPLICAS  NODES  READS  WRITES  ERRORS  IN-FLIGHT\n\
             omx0  8 GiB  2         1,2    5      6       0       0\n"
        );
    }

    #[test]
    fn overview_and_details() {
        let o = Overview {
            nodes: vec![node()],
            devices: vec![],
            lendings: vec![],
        };
        let s = overview(&o);
        assert!(s.starts_with("nodes:\n  ID  IFACE"), "{s}");
        assert!(s.contains("devices: none"), "{s}");
        assert!(!s.contains("lendings"), "{s}");
        let o = Overview {
            nodes: vec![],
            devices: vec![],
            lendings: vec![lend()],
        };
        let s = overview(&o);
        assert!(s.contains("nodes: none"), "{s}");
        assert!(
            s.ends_with("\nlendings:\n  ID  IFACE  CLIENT             SIZE     STATE  GETS  PUTS  CONNECTIONS\n  1   eth1   02:00:00:00:00:01  256 MiB  open   7     8     1\n"),
            "{s}"
        );
        let d = node_detail(&node());
        assert!(d.contains("  interface: eth1 (ifindex 3)\n"), "{d}");
        assert!(d.contains("  transfer: 2 KiB received (9 frames), 4 KiB sent (10 frames)\n"));
        assert!(d.contains("  naks sent: 0\n"));
        let d = dev_detail(&dev());
        assert!(d.contains("  nodes: 1,2\n"), "{d}");
    }

    #[test]
    fn event_lines() {
        let e = Event::NodeState { node: node() };
        assert_eq!(event_line(&e), "node 1 eth1 02:00:00:00:00:02: state up");
        let e = Event::DevError { dev: dev() };
        assert_eq!(
            event_line(&e),
            "dev omx0: I/O error (nodes 1,2), 0 errors so far"
        );
    }
}
