//! Builds each frame: its target (round robin), destination (the target, sometimes
//! broadcast), source (the target's registered peer, the target itself, one of many
//! unknown MACs), kind and seed frame.

use crate::craft::{self, Scratch};
use crate::mutate;
use crate::report::KINDS;
use crate::session::Session;
use crate::sniff::Sniffer;
use crate::spoof::{self, Verdict};
use omx_node::util::Mac;
use omx_rng::Rng;

const BROADCAST: Mac = [0xFF; 6];
/// Default weights of the kinds, in the order of `report::KINDS`.
pub const WEIGHTS: [u64; 6] = [10, 20, 40, 15, 10, 5];
const SESSION: usize = 5;
/// Unknown source MACs; a pool node accepts at most 64 clients.
const UNKNOWN_MACS: usize = 200;
const SESSIONS_PER_TARGET: usize = 4;

pub struct Target {
    pub dst: Mac,
    /// The peer the target has registered (its source MAC is spoofed).
    pub peer: Option<Mac>,
    sessions: Vec<Session>,
}

pub struct Knobs {
    /// Fraction of frames from the registered peer's MAC.
    pub spoof: f64,
    /// Fraction sent to the broadcast address.
    pub broadcast: f64,
    /// Malformed spoofed frames may say OpenConnection.
    pub spoof_open: bool,
    /// Relative weight of each kind, in the order of `report::KINDS`.
    pub weights: [u64; 6],
}

/// What one frame was, for the counters.
pub struct Sent {
    /// The target's index, None if broadcast.
    pub target: Option<usize>,
    pub kind: usize,
    pub spoof: Option<Verdict>,
}

pub struct Fuzzer {
    pub rng: Rng,
    pub sniffer: Sniffer,
    mtu: usize,
    scratch: Scratch,
    templates: Vec<Vec<u8>>,
    targets: Vec<Target>,
    unknown: Vec<Mac>,
    knobs: Knobs,
    next: usize,
}

/// A unicast, locally administered MAC.
fn local_mac(rng: &mut Rng) -> Mac {
    let mut m = [0u8; 6];
    rng.fill(&mut m);
    m[0] = (m[0] & 0xFC) | 0x02;
    m
}

fn pick_kind(rng: &mut Rng, weights: &[u64; 6]) -> usize {
    let mut r = rng.below(weights.iter().sum());
    for (k, w) in weights.iter().enumerate() {
        if r < *w {
            return k;
        }
        r -= w;
    }
    0
}

impl Fuzzer {
    pub fn new(seed: u64, mtu: usize, targets: &[(Mac, Option<Mac>)], knobs: Knobs) -> Self {
        let mut rng = Rng(seed);
        let scratch = Scratch::new(&mut rng);
        let templates = craft::templates(&mut rng, &scratch, mtu);
        let targets: Vec<Target> = targets
            .iter()
            .map(|(dst, peer)| Target {
                dst: *dst,
                peer: *peer,
                sessions: (0..SESSIONS_PER_TARGET)
                    .map(|_| Session::new(local_mac(&mut rng)))
                    .collect(),
            })
            .collect();
        let unknown = (0..UNKNOWN_MACS).map(|_| local_mac(&mut rng)).collect();
        let mut sniffer = Sniffer::new(craft::ETH_LEN + mtu + 4);
        for t in &targets {
            if let Some(peer) = t.peer {
                sniffer.rtt.watch(t.dst, peer);
            }
        }
        Fuzzer {
            rng,
            sniffer,
            mtu,
            scratch,
            templates,
            targets,
            unknown,
            knobs,
            next: 0,
        }
    }

    pub fn targets(&self) -> impl Iterator<Item = &Target> {
        self.targets.iter()
    }

    /// The source MAC of a frame to target `t`: its peer's, its own, or an unknown one.
    fn source(&mut self, t: usize) -> Mac {
        let r = self.rng.below(1000) as f64 / 1000.0;
        let spoof = self.knobs.spoof;
        match self.targets[t].peer {
            Some(peer) if r < spoof => peer,
            _ if r < spoof + 0.02 => self.targets[t].dst,
            _ if r < spoof + 0.03 => {
                let mut m = [0u8; 6];
                self.rng.fill(&mut m);
                m
            }
            _ => {
                let i = self.rng.below(self.unknown.len() as u64) as usize;
                self.unknown[i]
            }
        }
    }

    /// A valid frame to start from: one really sent to `dst` (half the time, if any was
    /// seen) or a template.
    fn seed_frame(&mut self, out: &mut Vec<u8>, dst: &Mac) {
        out.clear();
        if self.rng.chance(0.5) {
            if let Some(f) = self.sniffer.pick(dst, &mut self.rng) {
                out.extend_from_slice(f);
                return;
            }
        }
        let i = self.rng.below(self.templates.len() as u64) as usize;
        out.extend_from_slice(&self.templates[i]);
    }

    /// Writes the next frame into `out`.
    pub fn next_frame(&mut self, out: &mut Vec<u8>, now: u64, mutations: &mut [u64; 12]) -> Sent {
        let t = self.next % self.targets.len();
        self.next += 1;
        let bcast = self.rng.chance(self.knobs.broadcast);
        let target = self.targets[t].dst;
        let dst = if bcast { BROADCAST } else { target };
        let kind = pick_kind(&mut self.rng, &self.knobs.weights);
        let max_len = craft::ETH_LEN + self.mtu;
        let src = if kind == SESSION {
            let Fuzzer {
                rng,
                scratch,
                targets,
                mtu,
                ..
            } = self;
            let sessions = &mut targets[t].sessions;
            let i = rng.below(sessions.len() as u64) as usize;
            sessions[i].frame(out, *mtu, dst, rng, scratch, now);
            sessions[i].mac
        } else {
            let src = self.source(t);
            match KINDS[kind] {
                "random" => craft::random_bytes(out, self.mtu, dst, src, &mut self.rng),
                "structured" => {
                    let h = craft::random_header(&mut self.rng);
                    let (mtu, s) = (self.mtu, &self.scratch);
                    craft::random_valid_frame(out, mtu, (dst, src), &h, &mut self.rng, s, 8);
                }
                k => {
                    self.seed_frame(out, &target);
                    out[0..6].copy_from_slice(&dst);
                    out[6..12].copy_from_slice(&src);
                    match k {
                        "truncated" => mutate::truncate(out, &mut self.rng),
                        "mutated" => mutate::mutate(out, &mut self.rng, max_len, mutations),
                        _ => {}
                    }
                }
            }
            src
        };
        // A receiver that trusts the source MAC: the target, or with a broadcast any target
        // (a target's own MAC is another one's peer).
        let trusting = if bcast {
            self.targets
                .iter()
                .find(|x| x.peer == Some(src))
                .map(|x| x.dst)
        } else {
            (self.targets[t].peer == Some(src)).then_some(target)
        };
        let spoof = trusting.map(|rcv| {
            spoof::sanitize(
                out,
                (src, rcv),
                &self.sniffer,
                &mut self.rng,
                self.knobs.spoof_open,
                now,
            )
        });
        Sent {
            target: (!bcast).then_some(t),
            kind,
            spoof,
        }
    }
}
