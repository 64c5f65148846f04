//! Node counters, printed on SIGUSR1 and dumped as JSON.

use std::fmt::Write;

use omx_proto::serve::{ServeStats, REQUEST_KINDS};
use omx_proto::Stats;

/// Node-wide counters.
#[derive(Debug, Clone, Default)]
pub struct NodeStats {
    /// The requests served (`omx_proto::serve`).
    pub serve: ServeStats,
    /// Frames received (OmniXtend EtherType, any destination).
    pub frames_rx: u64,
    /// Frames sent.
    pub frames_tx: u64,
    /// Bytes received (Ethernet header included, FCS excluded).
    pub bytes_rx: u64,
    /// Bytes sent.
    pub bytes_tx: u64,
    /// Frames addressed to another MAC.
    pub not_for_us: u64,
    /// Frames from a MAC without connection that do not open one.
    pub no_connection: u64,
    /// Frames from a MAC that holds no region and cannot get one: dropped, no connection.
    pub no_region: u64,
    /// Frames the kernel dropped on arrival because the receive ring was full (the client
    /// resends them).
    pub rx_dropped: u64,
    /// Frames that could not be sent (socket full).
    pub tx_dropped: u64,
    /// Connections opened.
    pub connections_opened: u64,
    /// Connections closed by the peer.
    pub connections_closed: u64,
    /// Connections declared dead (peer silent).
    pub connections_dead: u64,
    /// Regions freed by --forget-after.
    pub regions_forgotten: u64,
    /// Receive calls that returned frames, and frames in them (batching).
    pub rx_batches: u64,
    /// Send calls and frames in them (batching).
    pub tx_batches: u64,
    /// Protocol counters of connections that are gone, summed.
    pub retired: Stats,
}

/// Per-client line of the JSON dump.
#[derive(Debug, Clone)]
pub struct ClientReport {
    /// MAC.
    pub mac: String,
    /// Connection state or "away".
    pub state: String,
    /// Protocol version.
    pub version: String,
    /// Region size (0 = none).
    pub region_size: u64,
    /// Requests served.
    pub requests: u64,
    /// Requests denied.
    pub denied: u64,
}

impl NodeStats {
    /// The node-wide counters by their JSON names (`requests` and `clients` aside), in the
    /// order the JSON dump and the Prometheus metrics list them.
    pub fn counters(&self, link: &Stats) -> [(&'static str, u64); 31] {
        [
            ("frames_rx", self.frames_rx),
            ("frames_tx", self.frames_tx),
            ("bytes_rx", self.bytes_rx),
            ("bytes_tx", self.bytes_tx),
            ("data_read", self.serve.data_read),
            ("data_written", self.serve.data_written),
            ("data_released", self.serve.data_released),
            ("denied", self.serve.denied),
            ("malformed", self.serve.malformed),
            ("not_for_us", self.not_for_us),
            ("no_connection", self.no_connection),
            ("no_region", self.no_region),
            ("backpressure_drops", self.serve.backpressure_drops),
            ("deferred", self.serve.deferred),
            ("rx_dropped", self.rx_dropped),
            ("tx_dropped", self.tx_dropped),
            ("connections_opened", self.connections_opened),
            ("connections_closed", self.connections_closed),
            ("connections_dead", self.connections_dead),
            ("regions_forgotten", self.regions_forgotten),
            ("rx_batches", self.rx_batches),
            ("tx_batches", self.tx_batches),
            ("retransmits", link.frames_retx),
            ("timeouts", link.timeouts),
            ("naks_tx", link.naks_tx),
            ("naks_rx", link.naks_rx),
            ("duplicates", link.duplicates),
            ("out_of_order", link.out_of_order),
            ("link_rx_errors", link.rx_errors),
            ("integrity_errors", link.integrity_errors),
            ("out_of_window", link.out_of_window),
        ]
    }

    /// Counters as one JSON object.
    pub fn to_json(&self, link: &Stats, clients: &[ClientReport]) -> String {
        let mut s = String::from("{");
        let mut kv = |k: &str, v: u64| {
            let _ = write!(s, "\"{k}\":{v},");
        };
        for (k, v) in self.counters(link) {
            kv(k, v);
        }
        s.push_str("\"requests\":{");
        for (i, name) in REQUEST_KINDS.iter().enumerate() {
            let _ = write!(s, "\"{name}\":{}", self.serve.requests[i]);
            s.push(if i + 1 < REQUEST_KINDS.len() {
                ','
            } else {
                '}'
            });
        }
        s.push_str(",\"clients\":[");
        for (i, c) in clients.iter().enumerate() {
            let _ = write!(
                s,
                "{{\"mac\":\"{}\",\"state\":\"{}\",\"version\":\"{}\",\"region_size\":{},\"requests\":{},\"denied\":{}}}",
                c.mac, c.state, c.version, c.region_size, c.requests, c.denied
            );
            if i + 1 < clients.len() {
                s.push(',');
            }
        }
        s.push_str("]}");
        s
    }

    /// Counters as readable lines.
    pub fn to_text(&self, link: &Stats, clients: &[ClientReport]) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "frames rx {} tx {}  bytes rx {} tx {}  data read {} written {} released {}",
            self.frames_rx,
            self.frames_tx,
            self.bytes_rx,
            self.bytes_tx,
            self.serve.data_read,
            self.serve.data_written,
            self.serve.data_released
        );
        let _ = write!(s, "requests:");
        for (i, name) in REQUEST_KINDS.iter().enumerate() {
            let _ = write!(s, " {name} {}", self.serve.requests[i]);
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "denied {}  malformed {}  retransmits {}  timeouts {}  naks tx {} rx {}  duplicates {}  out-of-order {}  out-of-window {}",
            self.serve.denied,
            self.serve.malformed,
            link.frames_retx,
            link.timeouts,
            link.naks_tx,
            link.naks_rx,
            link.duplicates,
            link.out_of_order,
            link.out_of_window
        );
        let _ = writeln!(
            s,
            "connections opened {} closed {} dead {}  deferred {}  backpressure drops {}  rx dropped {}  tx dropped {}  not-for-us {}  no region {}",
            self.connections_opened,
            self.connections_closed,
            self.connections_dead,
            self.serve.deferred,
            self.serve.backpressure_drops,
            self.rx_dropped,
            self.tx_dropped,
            self.not_for_us,
            self.no_region
        );
        for c in clients {
            let _ = writeln!(
                s,
                "client {} {} {} region {} requests {} denied {}",
                c.mac, c.state, c.version, c.region_size, c.requests, c.denied
            );
        }
        s
    }
}
