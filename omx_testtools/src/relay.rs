//! An impairing two-port Ethernet relay: every frame received on one
//! interface is sent out of the other, after random loss, reordering and
//! duplication. Userspace replacement for netem (which the CI kernel lacks);
//! works between veth pairs in namespaces or between VM tap devices.

use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::time::Duration;

use omx_node::sys::{self, PacketSocket, RxBatch, TxBatch};
use omx_node::util::now_ns;
use omx_rng::Rng;

/// Impairments, each a probability per frame.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Drop the frame.
    pub loss: f64,
    /// Hold the frame back and send it after the next one (or after
    /// `reorder_delay` if no other frame comes).
    pub reorder: f64,
    /// Send the frame twice.
    pub duplicate: f64,
    /// Longest a held-back frame waits.
    pub reorder_delay: Duration,
    /// PRNG seed (same seed, same decisions for the same frame sequence).
    pub seed: u64,
    /// Frames per batch.
    pub batch: usize,
}

impl Default for RelayOptions {
    fn default() -> Self {
        RelayOptions {
            loss: 0.0,
            reorder: 0.0,
            duplicate: 0.0,
            reorder_delay: Duration::from_millis(1),
            seed: 1,
            batch: 64,
        }
    }
}

/// Relay counters.
#[derive(Debug, Clone, Copy, Default)]
pub struct RelayStats {
    /// Frames received a->b and b->a.
    pub received: [u64; 2],
    /// Frames sent a->b and b->a (duplicates included).
    pub sent: [u64; 2],
    /// Frames dropped.
    pub lost: u64,
    /// Frames reordered.
    pub reordered: u64,
    /// Frames duplicated.
    pub duplicated: u64,
}

impl std::fmt::Display for RelayStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a->b received {} sent {}, b->a received {} sent {}, lost {}, reordered {}, duplicated {}",
            self.received[0],
            self.sent[0],
            self.received[1],
            self.sent[1],
            self.lost,
            self.reordered,
            self.duplicated
        )
    }
}

struct Dir {
    rx: RxBatch,
    tx: TxBatch,
    held: Option<(Vec<u8>, u64)>,
}

/// Relays between `a` and `b` until SIGTERM/SIGINT.
pub fn run(a: &PacketSocket, b: &PacketSocket, opts: &RelayOptions) -> io::Result<RelayStats> {
    const SLOT: usize = 16384;
    let mut rng = Rng(opts.seed);
    let mut st = RelayStats::default();
    let mut dirs = [
        Dir {
            rx: RxBatch::new(opts.batch, SLOT),
            tx: TxBatch::new(opts.batch * 3, SLOT),
            held: None,
        },
        Dir {
            rx: RxBatch::new(opts.batch, SLOT),
            tx: TxBatch::new(opts.batch * 3, SLOT),
            held: None,
        },
    ];
    let socks = [a, b];
    let delay = opts.reorder_delay.as_nanos() as u64;
    while !sys::SIG_TERM.load(Ordering::SeqCst) {
        let now = now_ns();
        let next_held = dirs
            .iter()
            .filter_map(|d| d.held.as_ref().map(|h| h.1))
            .min();
        let timeout = match next_held {
            Some(t) => Duration::from_nanos(t.saturating_sub(now)),
            None => Duration::from_millis(50),
        };
        sys::poll_fds(
            &[(a.as_raw_fd(), false), (b.as_raw_fd(), false)],
            Some(timeout),
            false,
        )?;
        for (i, d) in dirs.iter_mut().enumerate() {
            let src = socks[i];
            let dst = socks[1 - i];
            loop {
                let got = src.recv_batch(&mut d.rx)?;
                for k in 0..got {
                    let Ok(f) = d.rx.frame(k) else { continue };
                    if f.is_empty() {
                        continue;
                    }
                    st.received[i] += 1;
                    if rng.chance(opts.loss) {
                        st.lost += 1;
                        continue;
                    }
                    if d.held.is_none() && rng.chance(opts.reorder) {
                        st.reordered += 1;
                        d.held = Some((f.to_vec(), now_ns() + delay));
                        continue;
                    }
                    let copies = if rng.chance(opts.duplicate) {
                        st.duplicated += 1;
                        2
                    } else {
                        1
                    };
                    for _ in 0..copies {
                        if d.tx.is_full() {
                            st.sent[i] +=
                                dst.send_batch(&mut d.tx, Duration::from_millis(2))? as u64;
                        }
                        d.tx.push(f);
                    }
                    if let Some((h, _)) = d.held.take() {
                        if d.tx.is_full() {
                            st.sent[i] +=
                                dst.send_batch(&mut d.tx, Duration::from_millis(2))? as u64;
                        }
                        d.tx.push(&h);
                    }
                }
                if got < d.rx.capacity() {
                    break;
                }
            }
            if d.held.as_ref().is_some_and(|h| h.1 <= now_ns()) {
                if let Some((h, _)) = d.held.take() {
                    if d.tx.is_full() {
                        st.sent[i] += dst.send_batch(&mut d.tx, Duration::from_millis(2))? as u64;
                    }
                    d.tx.push(&h);
                }
            }
            st.sent[i] += dst.send_batch(&mut d.tx, Duration::from_millis(2))? as u64;
        }
    }
    Ok(st)
}
