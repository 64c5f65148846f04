//! omx-fuzz-frames: sends random, truncated, mutated and replayed OmniXtend frames
//! (EtherType 0xAAAA) at omx_mod clients and omx-node pool nodes on a segment, some with the
//! source MAC of the peer each one trusts, paced so slow (emulated) receivers take most of
//! them. Seeds are valid frames built with omx_proto and, with `--sniff`, frames seen on the
//! segment. Prints a JSON summary of what it sent. With `--flood`, hostile clients instead
//! (see flood.rs): many source MACs opening connections and asking for more than they let
//! the node answer.

mod craft;
mod flood;
mod fuzzer;
mod mutate;
mod pace;
mod report;
mod rtt;
mod session;
mod sniff;
mod spoof;

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Parser;
use fuzzer::{Fuzzer, Knobs};
use omx_node::sys::{self, PacketSocket, TxBatch};
use omx_node::util::{now_ns, parse_mac, Mac};
use omx_proto::ETHERTYPE_OMNIXTEND;
use pace::{Pacer, RxWatch};
use report::Report;

/// Frames per sendmmsg.
const BATCH: usize = 32;

/// Hostile OmniXtend frames at the receivers on a segment.
#[derive(Debug, Parser)]
#[command(name = "omx-fuzz-frames", version, about)]
struct Args {
    /// Interface to send on (a bridge of the segment: it also sniffs with --sniff).
    #[arg(long)]
    iface: String,
    /// DST[=PEER]: a receiver's MAC and the peer it has registered, whose MAC is spoofed
    /// as the source of some frames (repeatable).
    #[arg(long = "target", required = true)]
    targets: Vec<String>,
    /// Frames to send.
    #[arg(long, default_value_t = 1_000_000)]
    frames: u64,
    /// Stop after this many seconds even if frames are left (0: no limit).
    #[arg(long, default_value_t = 0.0)]
    seconds: f64,
    /// Stop as soon as this file exists (e.g. a guest's "I am done" marker).
    #[arg(long)]
    stop_file: Option<PathBuf>,
    /// Highest rate, frames per second.
    #[arg(long, default_value_t = 20_000.0)]
    rate: f64,
    /// Interfaces (comma separated, e.g. the VMs' taps) whose dropped frames lower the rate.
    #[arg(long, value_delimiter = ',')]
    watch: Vec<String>,
    /// FILE:KEY=MAC: a receiver's JSON counter of received frames (e.g. omx-node
    /// --stats-file and frames_rx); fewer frames counted than sent lowers the rate
    /// (repeatable).
    #[arg(long)]
    watch_rx: Vec<String>,
    /// Fraction of frames with the registered peer's source MAC.
    #[arg(long, default_value_t = 0.3)]
    spoof: f64,
    /// Fraction of frames sent to the broadcast address.
    #[arg(long, default_value_t = 0.02)]
    broadcast: f64,
    /// Learn real frames and sequence numbers from the segment (promiscuous mode).
    #[arg(long)]
    sniff: bool,
    /// Only these kinds (comma separated): random, truncated, mutated, replayed,
    /// structured, session.
    #[arg(long, value_delimiter = ',')]
    kinds: Vec<String>,
    /// Let malformed spoofed frames carry an OpenConnection header.
    #[arg(long)]
    spoof_open: bool,
    /// PRNG seed (default: random).
    #[arg(long)]
    seed: Option<u64>,
    /// Also write the JSON summary to this file.
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Flood mode: hostile clients at the first --target (see --flood-macs, --flood-as)
    /// instead of random frames.
    #[arg(long)]
    flood: bool,
    /// Flood mode: this many random source MACs.
    #[arg(long, default_value_t = 1000)]
    flood_macs: usize,
    /// Flood mode: also flood as this MAC (repeatable; e.g. one on the node's allowlist).
    #[arg(long)]
    flood_as: Vec<String>,
    /// Seconds between progress lines on stderr (0: none).
    #[arg(long, default_value_t = 5.0)]
    progress: f64,
}

fn parse_target(s: &str) -> Result<(Mac, Option<Mac>), String> {
    match s.split_once('=') {
        Some((d, p)) => Ok((parse_mac(d)?, Some(parse_mac(p)?))),
        None => Ok((parse_mac(s)?, None)),
    }
}

fn fail(code: u8, msg: &str) -> ExitCode {
    eprintln!("omx-fuzz-frames: {msg}");
    ExitCode::from(code)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let targets: Result<Vec<_>, _> = args.targets.iter().map(|t| parse_target(t)).collect();
    let targets = match targets {
        Ok(t) => t,
        Err(e) => return fail(2, &e),
    };
    for (n, p) in [("spoof", args.spoof), ("broadcast", args.broadcast)] {
        if !(0.0..=1.0).contains(&p) {
            return fail(2, &format!("--{n} must be a fraction between 0 and 1"));
        }
    }
    let mut weights = fuzzer::WEIGHTS;
    if !args.kinds.is_empty() {
        for (k, w) in report::KINDS.iter().zip(weights.iter_mut()) {
            if !args.kinds.iter().any(|a| a == k) {
                *w = 0;
            }
        }
        if weights.iter().all(|w| *w == 0) {
            return fail(
                2,
                "--kinds: use random, truncated, mutated, replayed, structured, session",
            );
        }
    }
    if args.rate <= 0.0 {
        return fail(2, "--rate must be positive");
    }
    let sock = match PacketSocket::open(&args.iface, ETHERTYPE_OMNIXTEND) {
        Ok(s) => s,
        Err(e) => return fail(3, &format!("cannot open {}: {e}", args.iface)),
    };
    sock.set_buffers(8 << 20);
    if args.sniff {
        if let Err(e) = sock.set_promiscuous() {
            return fail(3, &format!("cannot make {} promiscuous: {e}", args.iface));
        }
    }
    if let Err(e) = sys::install_signal_handlers() {
        return fail(1, &format!("signals: {e}"));
    }
    let seed = args.seed.unwrap_or_else(sys::random_u64);
    if args.flood {
        let named: Result<Vec<_>, _> = args.flood_as.iter().map(|m| parse_mac(m)).collect();
        let named = match named {
            Ok(n) => n,
            Err(e) => return fail(2, &e.to_string()),
        };
        let stop_file = args.stop_file.clone();
        let stop = move || stop_file.as_ref().is_some_and(|p| p.exists());
        let mut rng = omx_rng::Rng(seed | 1);
        let r = flood::run(
            &sock,
            targets[0].0,
            args.flood_macs,
            &named,
            args.frames,
            args.seconds,
            args.rate,
            &stop,
            &mut rng,
        );
        return match r {
            Ok(rep) => summarize(&rep.to_json(), args.summary.as_deref()),
            Err(e) => fail(1, &format!("failed: {e}")),
        };
    }
    let mtu = sock.info().mtu;
    let knobs = Knobs {
        spoof: args.spoof,
        broadcast: args.broadcast,
        spoof_open: args.spoof_open,
        weights,
    };
    let mut fz = Fuzzer::new(seed, mtu, &targets, knobs);
    let mut rep = Report {
        seed,
        per_target: fz.targets().map(|t| (t.dst, 0)).collect(),
        ..Report::default()
    };
    match run(&args, &sock, &mut fz, &mut rep) {
        Ok(()) => summarize(&rep.to_json(), args.summary.as_deref()),
        Err(e) => fail(1, &format!("failed: {e}")),
    }
}

/// Prints a run's JSON summary, and writes it to `path` if given.
fn summarize(json: &str, path: Option<&Path>) -> ExitCode {
    println!("{json}");
    if let Some(p) = path {
        if let Err(e) = std::fs::write(p, format!("{json}\n")) {
            return fail(1, &format!("cannot write {}: {e}", p.display()));
        }
    }
    ExitCode::SUCCESS
}

fn run(args: &Args, sock: &PacketSocket, fz: &mut Fuzzer, rep: &mut Report) -> std::io::Result<()> {
    let mtu = sock.info().mtu;
    let mut tx = TxBatch::new(BATCH, craft::ETH_LEN + mtu + 4);
    let mut meta = Vec::with_capacity(BATCH);
    let mut frame = Vec::with_capacity(craft::ETH_LEN + mtu + 4);
    let start = now_ns();
    let receivers = args
        .watch_rx
        .iter()
        .map(|w| RxWatch::parse(w))
        .collect::<Result<Vec<_>, _>>()
        .map_err(std::io::Error::other)?;
    let mut pacer = Pacer::new(args.rate, args.watch.clone(), receivers, start);
    let progress = (args.progress * 1e9) as u64;
    let mut shown = start;
    let mut first_error = true;
    let deadline = (args.seconds > 0.0).then(|| start + (args.seconds * 1e9) as u64);
    let mut checked_stop = start;
    while rep.sent + rep.send_errors < args.frames && !sys::SIG_TERM.load(Ordering::SeqCst) {
        let now = now_ns();
        if deadline.is_some_and(|d| now >= d) {
            break;
        }
        if now - checked_stop >= 200_000_000 {
            checked_stop = now;
            if args.stop_file.as_ref().is_some_and(|p| p.exists()) {
                break;
            }
        }
        if args.sniff {
            fz.sniffer.drain(sock, &mut fz.rng, now)?;
        }
        pacer.adjust(now, rep.sent, |mac| rep.sent_to(mac), &mut fz.sniffer.rtt);
        if progress > 0 && now - shown >= progress {
            shown = now;
            eprintln!(
                "omx-fuzz-frames: {} sent, rate {:.0}/s, {} dropped at {:?}, {} sniffed, round trip {} ms",
                rep.sent,
                pacer.rate(),
                pacer.dropped(),
                args.watch,
                fz.sniffer.seen,
                pacer.last_rtt / 1_000_000
            );
        }
        let n = match pacer.allow(now, BATCH) {
            Ok(n) => n.min((args.frames - rep.sent - rep.send_errors) as usize),
            Err(wait) => {
                // Sleep, but wake for sniffed frames.
                let fds = [(sock.as_raw_fd(), false)];
                sys::poll_fds(&fds, Some(wait.min(Duration::from_millis(20))), false)?;
                continue;
            }
        };
        for _ in 0..n {
            let sent = fz.next_frame(&mut frame, now, &mut rep.mutations);
            if tx.push(&frame) {
                meta.push(sent);
            }
        }
        let queued = meta.len();
        let ok = match sock.send_batch(&mut tx, Duration::from_millis(5)) {
            Ok(k) => k,
            Err(e) => {
                if first_error {
                    eprintln!("omx-fuzz-frames: send: {e} (counted, going on)");
                    first_error = false;
                }
                0
            }
        };
        pacer.spent(n);
        for m in meta.drain(..ok) {
            rep.sent += 1;
            rep.kinds[m.kind] += 1;
            match m.target {
                Some(t) => rep.per_target[t].1 += 1,
                None => rep.broadcast += 1,
            }
            if let Some(v) = m.spoof {
                rep.spoofed[v as usize] += 1;
            }
        }
        rep.send_errors += (queued - ok) as u64;
        meta.clear();
    }
    rep.sniffed = fz.sniffer.seen;
    rep.dropped = pacer.dropped();
    rep.seconds = (now_ns() - start) as f64 / 1e9;
    rep.final_rate = pacer.rate();
    rep.rtt_worst_ms = fz.sniffer.rtt.worst_ever / 1_000_000;
    rep.rtt_samples = fz.sniffer.rtt.samples;
    Ok(())
}
