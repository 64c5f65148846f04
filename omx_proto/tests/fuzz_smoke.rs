//! Stable, libFuzzer-free fuzz loop over the same logic as the cargo-fuzz
//! targets in `omx_proto/fuzz/` (which need nightly).
//!
//! By default it runs a few seconds as part of `cargo test`. Longer runs:
//! `OMX_FUZZ_SECS=600 cargo test -p omx_proto --release --test fuzz_smoke -- --nocapture`
//! (`OMX_FUZZ_SEED=n` picks the PRNG seed, `OMX_FUZZ_SAVE=1` writes inputs
//! with a new behaviour signature to `fuzz/corpus/<target>/`).

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz_logic;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use omx_rng::Rng;

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

fn load_corpus(target: &str) -> Vec<Vec<u8>> {
    let mut v = load_dir(corpus_dir(target));
    // Inputs that once crashed (fixed since): always replayed.
    let reg = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    v.extend(load_dir(reg));
    v
}

fn load_dir(dir: PathBuf) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut paths: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if let Ok(b) = std::fs::read(&p) {
                v.push(b);
            }
        }
    }
    v
}

/// Fixture frames (spec Appendix A pcap + SiFive capture) as decode seeds.
fn fixture_frames() -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    if let Ok(b) = std::fs::read(dir.join("omnixtend-1.0.3-appendixA.pcap")) {
        let mut at = 24;
        while at + 16 <= b.len() {
            let incl = u32::from_le_bytes(b[at + 8..at + 12].try_into().unwrap()) as usize;
            if at + 16 + incl > b.len() {
                break;
            }
            let f = b[at + 16..at + 16 + incl].to_vec();
            out.push(f[14..].to_vec());
            out.push(f);
            at += 16 + incl;
        }
    }
    out
}

const INTERESTING: [u8; 12] = [
    0, 1, 0x10, 0x18, 0x22, 0x40, 0x42, 0x4a, 0x50, 0x7f, 0x80, 0xff,
];

fn mutate(rng: &mut Rng, input: &[u8], pool: &[Vec<u8>], max_len: usize) -> Vec<u8> {
    let mut v = input.to_vec();
    let rounds = 1 + rng.index(4);
    for _ in 0..rounds {
        match rng.index(9) {
            0 if !v.is_empty() => {
                let i = rng.index(v.len());
                v[i] ^= 1 << rng.index(8);
            }
            1 if !v.is_empty() => {
                let i = rng.index(v.len());
                v[i] = INTERESTING[rng.index(INTERESTING.len())];
            }
            2 if !v.is_empty() => {
                let i = rng.index(v.len());
                v[i] = rng.next_u64() as u8;
            }
            3 => {
                let i = rng.index(v.len() + 1);
                let n = 1 + rng.index(16);
                for _ in 0..n {
                    v.insert(i.min(v.len()), rng.next_u64() as u8);
                }
            }
            4 if !v.is_empty() => {
                let i = rng.index(v.len());
                let n = (1 + rng.index(16)).min(v.len() - i);
                v.drain(i..i + n);
            }
            5 if !pool.is_empty() => {
                let other = &pool[rng.index(pool.len())];
                if !other.is_empty() {
                    let a = rng.index(other.len());
                    let b = a + rng.index(other.len() - a + 1);
                    let at = rng.index(v.len() + 1);
                    v.splice(at..at, other[a..b].iter().copied());
                }
            }
            6 if v.len() >= 8 => {
                // overwrite a whole flit with a plausible message header
                let f = rng.index(v.len() / 8) * 8;
                let w: u64 = ((1 + rng.index(5) as u64) << 60)
                    | ((rng.index(8) as u64) << 57)
                    | ((rng.index(16) as u64) << 48)
                    | (rng.next_u64() & 0x3FF_FFFF);
                v[f..f + 8].copy_from_slice(&w.to_be_bytes());
            }
            7 if v.len() >= 8 => {
                // truncate / extend to a flit boundary
                let n = (v.len() / 8 + rng.index(3)).saturating_sub(1) * 8;
                v.resize(n, 0);
            }
            _ => {
                let n = rng.index(64);
                v.extend((0..n).map(|_| rng.next_u64() as u8));
            }
        }
    }
    v.truncate(max_len);
    v
}

struct Outcome {
    execs: u64,
    signatures: usize,
    saved: usize,
}

fn run(
    target: &str,
    f: fn(&[u8]) -> u64,
    seeds: Vec<Vec<u8>>,
    budget: Duration,
    max_iters: u64,
    seed: u64,
) -> Outcome {
    let save = std::env::var_os("OMX_FUZZ_SAVE").is_some();
    let mut rng = Rng(seed);
    let mut pool: Vec<Vec<u8>> = seeds;
    if pool.is_empty() {
        pool.push(vec![0; 64]);
    }
    let mut seen: HashSet<u64> = HashSet::new();
    let mut bits = 0u64;
    for s in &pool {
        let sig = f(s);
        seen.insert(sig);
        bits |= sig;
    }
    let start = Instant::now();
    let mut execs = 0u64;
    let mut saved = 0;
    let max_len = if target == "decode" { 9100 } else { 4096 };
    while execs < max_iters && start.elapsed() < budget {
        let base = pool[rng.index(pool.len())].clone();
        let input = if rng.index(16) == 0 {
            (0..rng.index(max_len.min(1024)))
                .map(|_| rng.next_u64() as u8)
                .collect()
        } else {
            mutate(&mut rng, &base, &pool, max_len)
        };
        let r = std::panic::catch_unwind(|| f(&input));
        let sig = match r {
            Ok(s) => s,
            Err(_) => {
                let path = std::env::temp_dir().join(format!("omx-fuzz-crash-{target}-{execs}"));
                std::fs::write(&path, &input).unwrap();
                panic!("{target}: crash, input written to {}", path.display());
            }
        };
        execs += 1;
        if save && sig & !bits != 0 {
            // A behaviour bit never seen before: keep the input in the corpus.
            let dir = corpus_dir(target);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("sig-{sig:016x}")), &input).unwrap();
            saved += 1;
        }
        bits |= sig;
        if seen.insert(sig) {
            if pool.len() < 4096 {
                pool.push(input);
            } else {
                let i = rng.index(pool.len());
                pool[i] = input;
            }
        }
    }
    Outcome {
        execs,
        signatures: seen.len(),
        saved,
    }
}

fn budget() -> (Duration, u64) {
    match std::env::var("OMX_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        Some(s) => (Duration::from_secs(s), u64::MAX),
        None => (Duration::from_secs(5), 60_000),
    }
}

fn seed() -> u64 {
    std::env::var("OMX_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0A1B_2C3D)
}

#[test]
fn fuzz_decode() {
    let mut seeds = load_corpus("decode");
    seeds.extend(fixture_frames());
    let (t, n) = budget();
    let o = run("decode", fuzz_logic::decode, seeds, t, n, seed());
    eprintln!(
        "decode: {} execs, {} signatures, {} saved",
        o.execs, o.signatures, o.saved
    );
    assert!(o.execs > 0);
}

#[test]
fn fuzz_receive() {
    let seeds = load_corpus("receive");
    let (t, n) = budget();
    let o = run(
        "receive",
        fuzz_logic::receive,
        seeds,
        t,
        n / 8,
        seed() ^ 0x5555,
    );
    eprintln!(
        "receive: {} execs, {} signatures, {} saved",
        o.execs, o.signatures, o.saved
    );
    assert!(o.execs > 0);
}
