//! What was sent, as counters and as the JSON summary tests read.

use std::fmt::Write;

use crate::mutate::OP_NAMES;
use omx_node::util::{format_mac, Mac};

/// Kinds of frames, in the order of the counters.
pub const KINDS: [&str; 6] = [
    "random",
    "truncated",
    "mutated",
    "replayed",
    "structured",
    "session",
];

#[derive(Default)]
pub struct Report {
    pub seed: u64,
    /// Frames sent.
    pub sent: u64,
    /// Unicast frames sent to each target.
    pub per_target: Vec<(Mac, u64)>,
    /// Frames sent to the broadcast address.
    pub broadcast: u64,
    pub kinds: [u64; 6],
    /// Frames with a registered peer's source MAC: already malformed, made stale, made
    /// malformed (see spoof.rs).
    pub spoofed: [u64; 3],
    pub mutations: [u64; 12],
    /// Frames the sender could not hand to the kernel.
    pub send_errors: u64,
    /// Real frames seen on the segment.
    pub sniffed: u64,
    /// Frames the watched interfaces dropped meanwhile.
    pub dropped: u64,
    pub seconds: f64,
    pub final_rate: f64,
    /// Longest round trip of the real connections, and how many were measured.
    pub rtt_worst_ms: u64,
    pub rtt_samples: u64,
}

fn obj(names: &[&str], values: &[u64]) -> String {
    let fields: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("\"{n}\": {v}"))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

impl Report {
    /// Frames sent to `mac`: unicast and broadcast.
    pub fn sent_to(&self, mac: &Mac) -> u64 {
        let unicast: u64 = self
            .per_target
            .iter()
            .filter(|(m, _)| m == mac)
            .map(|(_, n)| n)
            .sum();
        unicast + self.broadcast
    }

    pub fn to_json(&self) -> String {
        let mut s = String::from("{");
        let _ = write!(s, "\"seed\": {}, \"sent\": {}, ", self.seed, self.sent);
        let targets: Vec<String> = self
            .per_target
            .iter()
            .map(|(m, n)| format!("\"{}\": {n}", format_mac(m)))
            .collect();
        let _ = write!(s, "\"per_target\": {{{}}}, ", targets.join(", "));
        let _ = write!(s, "\"broadcast\": {}, ", self.broadcast);
        let _ = write!(s, "\"kinds\": {}, ", obj(&KINDS, &self.kinds));
        let _ = write!(
            s,
            "\"spoofed\": {}, ",
            obj(&["malformed", "stale", "broken"], &self.spoofed)
        );
        let _ = write!(s, "\"mutations\": {}, ", obj(&OP_NAMES, &self.mutations));
        let _ = write!(
            s,
            "\"send_errors\": {}, \"sniffed\": {}, \"dropped\": {}, \"rtt_worst_ms\": {}, \"rtt_samples\": {}, \"seconds\": {:.1}, \"rate\": {:.0}, \"final_rate\": {:.0}}}",
            self.send_errors,
            self.sniffed,
            self.dropped,
            self.rtt_worst_ms,
            self.rtt_samples,
            self.seconds,
            self.sent as f64 / self.seconds.max(1e-9),
            self.final_rate
        );
        s
    }
}
