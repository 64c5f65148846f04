//! What the fuzzer learns from the real traffic on the segment (the interface is
//! promiscuous; on a bridge that passes up every forwarded frame): frames to replay and
//! mutate, per destination, and the sequence numbers each side is at, so that spoofed
//! frames can be kept stale (see `spoof.rs`), and the round trips of the real connections
//! (see `rtt.rs`).

use std::collections::HashMap;
use std::io;

use crate::rtt::Rtt;
use omx_node::sys::{PacketSocket, RxBatch};
use omx_node::util::Mac;
use omx_proto::{EthHeader, TloeHeader};
use omx_rng::Rng;

/// Frames kept per destination MAC.
const KEEP: usize = 256;

/// Real frames seen on the segment and the senders' sequence numbers.
pub struct Sniffer {
    rx: RxBatch,
    corpus: HashMap<Mac, Vec<Vec<u8>>>,
    /// (source, destination) -> (last sequence number sent, when it was seen).
    streams: HashMap<(Mac, Mac), (u32, u64)>,
    /// Frames seen.
    pub seen: u64,
    pub rtt: Rtt,
}

impl Sniffer {
    pub fn new(slot: usize) -> Self {
        Sniffer {
            rx: RxBatch::new(64, slot),
            corpus: HashMap::new(),
            streams: HashMap::new(),
            seen: 0,
            rtt: Rtt::default(),
        }
    }

    /// Takes in everything waiting on `sock` (never blocks).
    pub fn drain(&mut self, sock: &PacketSocket, rng: &mut Rng, now: u64) -> io::Result<()> {
        loop {
            let got = sock.recv_batch(&mut self.rx)?;
            for i in 0..got {
                let Ok(f) = self.rx.frame(i) else { continue };
                let Ok((eth, payload)) = EthHeader::parse_omnixtend(f) else {
                    continue;
                };
                self.seen += 1;
                // The header is enough here: these are real frames.
                if let Some(first) = payload.get(..8) {
                    let mut w = [0u8; 8];
                    w.copy_from_slice(first);
                    let h = TloeHeader::from_flit(u64::from_be_bytes(w));
                    self.streams.insert((eth.src, eth.dst), (h.seq.get(), now));
                    self.rtt.frame(eth.src, eth.dst, &h, now);
                }
                // A sample of them is plenty to replay and mutate.
                if self.seen % 8 != 0 {
                    continue;
                }
                let kept = self.corpus.entry(eth.dst).or_default();
                if kept.len() < KEEP {
                    kept.push(f.to_vec());
                } else {
                    let i = rng.below(KEEP as u64) as usize;
                    kept[i].clear();
                    kept[i].extend_from_slice(f);
                }
            }
            if got < self.rx.capacity() {
                return Ok(());
            }
        }
    }

    /// A real frame that was sent to `dst`, if any was seen.
    pub fn pick(&self, dst: &Mac, rng: &mut Rng) -> Option<&[u8]> {
        let kept = self.corpus.get(dst)?;
        if kept.is_empty() {
            return None;
        }
        Some(&kept[rng.below(kept.len() as u64) as usize])
    }

    /// The last sequence number `src` sent to `dst`, if seen within `max_age` ns.
    pub fn stream(&self, src: &Mac, dst: &Mac, now: u64, max_age: u64) -> Option<u32> {
        let (seq, at) = self.streams.get(&(*src, *dst))?;
        (now.saturating_sub(*at) <= max_age).then_some(*seq)
    }
}
