//! What the fuzzer learns from the real traffic on the segment (the interface is
//! promiscuous; on a bridge that passes up every forwarded frame): frames to replay and
//! mutate, per destination, and the sequence numbers each side is at, so that spoofed
//! frames can be kept stale (see `spoof.rs`).

use std::collections::HashMap;
use std::io;

use omx_node::sys::{PacketSocket, RxBatch};
use omx_node::util::{Mac, Rng};
use omx_proto::{ByteOrder, EthHeader, FrameView};

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
}

impl Sniffer {
    pub fn new(slot: usize) -> Self {
        Sniffer {
            rx: RxBatch::new(64, slot),
            corpus: HashMap::new(),
            streams: HashMap::new(),
            seen: 0,
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
                if let Ok(v) = FrameView::parse(payload, ByteOrder::Spec, false) {
                    let seq = v.header.seq.get();
                    self.streams.insert((eth.src, eth.dst), (seq, now));
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
