//! Round trips of the real connections, as seen on the segment: a sequenced frame from one
//! side until the first frame from the other side whose SeqAck covers it. Under a flood the
//! receivers' queues grow before they drop anything, and a peer that waits too long for
//! acknowledgements declares the other dead (omx_mod after 2.2 s), so this is what the
//! pacing must keep short.

use std::collections::HashMap;

use omx_node::util::Mac;
use omx_proto::{MessageType, TloeHeader};

/// A probe left unanswered this long (ns) is given up (its acknowledgement may have been
/// missed); it counts as a round trip that long.
const GIVE_UP: u64 = 3_000_000_000;

#[derive(Default)]
pub struct Rtt {
    /// Directions (from, to) of the watched connections and their outstanding probe
    /// (sequence number, when it was seen).
    probes: HashMap<(Mac, Mac), Option<(u32, u64)>>,
    /// Longest round trip completed since the last `take`.
    worst: u64,
    /// Longest over the whole run.
    pub worst_ever: u64,
    pub samples: u64,
}

impl Rtt {
    /// Watches the connection between `a` and `b`, both ways.
    pub fn watch(&mut self, a: Mac, b: Mac) {
        self.probes.insert((a, b), None);
        self.probes.insert((b, a), None);
    }

    fn sample(&mut self, ns: u64) {
        self.worst = self.worst.max(ns);
        self.worst_ever = self.worst_ever.max(ns);
        self.samples += 1;
    }

    /// A valid frame from `src` to `dst` with header `h`, seen at `now`.
    pub fn frame(&mut self, src: Mac, dst: Mac, h: &TloeHeader, now: u64) {
        // It acknowledges the probe of the other direction?
        if h.msg_type != MessageType::OpenConnection {
            if let Some(Some((seq, at))) = self.probes.get(&(dst, src)).copied() {
                if h.seq_ack.get().wrapping_sub(seq) & 0x3F_FFFF < 1 << 21 {
                    self.probes.insert((dst, src), None);
                    self.sample(now.saturating_sub(at));
                }
            }
        }
        // A sequenced frame becomes this direction's probe.
        if let Some(p) = self.probes.get_mut(&(src, dst)) {
            if p.is_none() && h.msg_type != MessageType::AckOnly {
                *p = Some((h.seq.get(), now));
            }
        }
    }

    /// The longest round trip since the last call, counting probes still outstanding.
    pub fn take(&mut self, now: u64) -> u64 {
        let mut worst = std::mem::take(&mut self.worst);
        let mut expired = Vec::new();
        for (dir, p) in &self.probes {
            if let Some((_, at)) = p {
                let age = now.saturating_sub(*at);
                worst = worst.max(age);
                if age > GIVE_UP {
                    expired.push(*dir);
                }
            }
        }
        for dir in expired {
            self.probes.insert(dir, None);
            self.sample(GIVE_UP);
        }
        worst
    }
}
