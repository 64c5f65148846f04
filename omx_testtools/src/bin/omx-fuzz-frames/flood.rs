//! `--flood`: hostile clients at one pool node, as fast as allowed. Each source MAC opens a
//! connection (OpenConnection, sequence 0) and then sends, in sequence, frames full of Gets
//! whose answers need more credits than it ever grants: 1 KiB Gets (129 flits, more than the
//! 128 a 1.1 peer is assumed to grant at open) and 32 KiB Gets (larger than a frame can
//! carry). It never acknowledges anything nor returns a credit. The sources are `--flood-macs`
//! random MACs (strangers, which should cost the node nothing) and every `--flood-as` MAC
//! (e.g. one on the node's allowlist, which should cost it at most its per-connection
//! budget): every other frame comes from one of those, the rest from the strangers in turn.
//! Opens are resent now and then, as a client that restarts would: by a stranger at random,
//! by a named MAC after [`RESTART_AFTER`] times the node's waiting-frame budget, so that each
//! of its connections outgrows that budget (and is held back) before it starts over.

use std::time::Duration;

use omx_node::sys::{self, PacketSocket, TxBatch};
use omx_node::util::{now_ns, Mac};
use omx_proto::{Message, MessageType, Seq, TloeHeader};
use omx_rng::Rng;

use crate::craft::{frame_of, ETH_LEN};

/// What the flood sent.
#[derive(Debug, Default)]
pub struct FloodReport {
    pub sent: u64,
    pub opens: u64,
    pub send_errors: u64,
    pub seconds: f64,
}

impl FloodReport {
    pub fn to_json(&self) -> String {
        format!(
            "{{\"mode\":\"flood\",\"sent\":{},\"opens\":{},\"send_errors\":{},\"seconds\":{:.1}}}",
            self.sent, self.opens, self.send_errors, self.seconds
        )
    }
}

/// A named source's connection lasts this many times the node's waiting-frame budget
/// (`omx_node::server::max_deferred`) in frames: long enough to be held back even if a frame
/// or two are lost (a lost frame stalls it: it never resends), short enough to restart a few
/// times in a flood of seconds.
const RESTART_AFTER: u32 = 3;

struct Source {
    mac: Mac,
    /// Next sequence number (0: the Open is next).
    seq: u32,
}

/// Floods `dst` from the sources until `frames` are sent, `seconds` pass or `stop` says so.
#[allow(clippy::too_many_arguments)]
pub fn run(
    sock: &PacketSocket,
    dst: Mac,
    strangers: usize,
    named: &[Mac],
    frames: u64,
    seconds: f64,
    rate: f64,
    stop: &dyn Fn() -> bool,
    rng: &mut Rng,
) -> std::io::Result<FloodReport> {
    let mtu = sock.info().mtu;
    let named_life = RESTART_AFTER * omx_node::server::max_deferred(mtu) as u32;
    let mut sources: Vec<Source> = named.iter().map(|m| Source { mac: *m, seq: 0 }).collect();
    let n_named = sources.len();
    for _ in 0..strangers {
        let mut mac = [0u8; 6];
        rng.fill(&mut mac);
        // Locally administered unicast.
        mac[0] = (mac[0] & 0xfc) | 0x02;
        sources.push(Source { mac, seq: 0 });
    }
    let small: Vec<Message<'_>> = (0..128)
        .map(|i| Message::get(i, (u64::from(i) % 16) << 10, 10))
        .collect();
    let huge: Vec<Message<'_>> = (0..128).map(|i| Message::get(i, 0, 15)).collect();
    const BATCH: usize = 32;
    let mut tx = TxBatch::new(BATCH, ETH_LEN + mtu + 4);
    let mut buf = vec![0u8; ETH_LEN + mtu + 4];
    let mut rep = FloodReport::default();
    let start = now_ns();
    let deadline = (seconds > 0.0).then(|| start + (seconds * 1e9) as u64);
    let (mut next_named, mut next_stranger, mut turn) = (0usize, 0usize, 0u64);
    let mut checked = start;
    while rep.sent + rep.send_errors < frames {
        let now = now_ns();
        if deadline.is_some_and(|d| now >= d)
            || sys::SIG_TERM.load(std::sync::atomic::Ordering::SeqCst)
        {
            break;
        }
        if now - checked >= 200_000_000 {
            checked = now;
            if stop() {
                break;
            }
        }
        // Pacing: no more than `rate` frames a second on average.
        let due = ((now - start) as f64 / 1e9 * rate) as u64;
        if rep.sent + rep.send_errors >= due {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        let mut opens = 0;
        for _ in 0..BATCH {
            turn += 1;
            let n_strangers = sources.len() - n_named;
            let i = if n_named > 0 && (turn % 2 == 0 || n_strangers == 0) {
                next_named += 1;
                next_named % n_named
            } else {
                next_stranger += 1;
                n_named + next_stranger % n_strangers.max(1)
            };
            let Some(s) = sources.get_mut(i) else { break };
            // Now and then a source starts over (a client restarting, or pretending to).
            let restart = if i < n_named {
                s.seq >= named_life
            } else {
                s.seq > 0 && rng.chance(0.002)
            };
            if restart {
                s.seq = 0;
            }
            let len = if s.seq == 0 {
                let mut h = TloeHeader::new(Seq::new(0), Seq::MAX, false);
                h.msg_type = MessageType::OpenConnection;
                opens += 1;
                frame_of(&mut buf, mtu, dst, s.mac, &h, &[])
            } else {
                // Acknowledges nothing (SeqAck: the one before 0), grants nothing.
                let mut h = TloeHeader::new(Seq::new(s.seq), Seq::MAX, true);
                h.msg_type = MessageType::Normal;
                let msgs = if s.seq % 2 == 1 { &small } else { &huge };
                frame_of(&mut buf, mtu, dst, s.mac, &h, msgs)
            };
            s.seq = (s.seq + 1) & Seq::MAX.get();
            if len > 0 {
                tx.push(&buf[..len]);
            }
        }
        let queued = tx.len();
        let ok = sock
            .send_batch(&mut tx, Duration::from_millis(5))
            .unwrap_or(0);
        rep.sent += ok as u64;
        rep.send_errors += (queued - ok) as u64;
        rep.opens += opens;
    }
    rep.seconds = (now_ns() - start) as f64 / 1e9;
    Ok(rep)
}
