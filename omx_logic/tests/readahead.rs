//! The read-ahead bookkeeping (`omx_logic::readahead`): what a sequential reader gets
//! fetched, which reads the buffer answers, and that a write or a late fetch never lets
//! stale data through.

use omx_logic::readahead::{Fetch, Found, Readahead, AHEAD, BLOCK, CLUSTER, SLOTS, START};

type Plan = Readahead;

fn new(capacity: u64) -> Plan {
    Readahead::new(capacity)
}
use proptest::prelude::*;

const CAP: u64 = 64 << 20;
const WINDOW: u32 = 32 << 10;

fn fetches(r: &mut Plan, off: u64, idle: bool) -> (bool, Vec<Fetch>) {
    let plan = r.read(off, WINDOW, idle);
    (plan.hit(), plan.fetches.iter().collect())
}

/// A device whose reader read two windows one after the other, idle: the fetches of the
/// blocks from 0 on that asked for (none landed yet).
fn streaming() -> (Plan, Vec<Fetch>) {
    let mut r = new(CAP);
    fetches(&mut r, 0, true);
    let (_, f) = fetches(&mut r, u64::from(WINDOW), true);
    (r, f)
}

/// Completes every fetch in `f` successfully.
fn land(r: &mut Plan, f: &[Fetch]) {
    for x in f {
        assert!(r.fill_target(x.tag).is_some());
        r.fetched(x.tag, true);
    }
}

#[test]
fn an_idle_sequential_reader_gets_the_blocks_after_it_fetched() {
    let mut r = new(CAP);
    let (hit, f) = fetches(&mut r, 0, true);
    assert!(!hit && f.is_empty(), "one read is no stream");
    let (hit, f) = fetches(&mut r, u64::from(WINDOW), true);
    assert!(!hit);
    let blocks: Vec<u64> = f.iter().map(|x| x.off / BLOCK).collect();
    assert_eq!(blocks, (0..START as u64).collect::<Vec<_>>());
    assert!(f.iter().all(|x| u64::from(x.len) == BLOCK));
    land(&mut r, &f);
    // The stream's next reads are answered from the buffer, and keep the window ahead.
    let off = 2 * u64::from(WINDOW);
    let (hit, f) = fetches(&mut r, off, false);
    assert!(hit);
    assert!(
        f.iter().all(|x| x.off / BLOCK >= START as u64),
        "blocks already held are fetched again"
    );
    land(&mut r, &f);
    let at = r.locate(off).unwrap();
    let f0 = r.locate(0).unwrap();
    assert_eq!(
        at,
        f0 + off as usize,
        "bytes of a block follow each other in the buffer"
    );
    let mut off = off + u64::from(WINDOW);
    let mut fetched = 0;
    while off < 6 * BLOCK {
        let (hit, f) = fetches(&mut r, off, false);
        assert!(hit, "read at {off} not answered");
        fetched += f.len();
        land(&mut r, &f);
        off += u64::from(WINDOW);
    }
    assert!(fetched > 0, "the window moved with the reader");
}

#[test]
fn a_reader_that_keeps_reads_queued_gets_nothing_fetched() {
    let mut r = new(CAP);
    // Idle at first (nothing in flight yet), then reads queued behind each other.
    fetches(&mut r, 0, true);
    let (_, f) = fetches(&mut r, u64::from(WINDOW), true);
    assert!(!f.is_empty());
    let (_, f) = fetches(&mut r, 2 * u64::from(WINDOW), false);
    assert!(f.is_empty());
    for i in 3..20u64 {
        let (_, f) = fetches(&mut r, i * u64::from(WINDOW), true);
        assert!(
            f.is_empty(),
            "read {i}: the stream once came with reads queued"
        );
    }
    // A new stream starts afresh.
    fetches(&mut r, 100 * BLOCK, true);
    let (_, f) = fetches(&mut r, 100 * BLOCK + u64::from(WINDOW), true);
    assert!(!f.is_empty());
}

#[test]
fn a_busy_or_random_reader_gets_nothing_fetched() {
    let mut r = new(CAP);
    for i in 0..10u64 {
        let (_, f) = fetches(&mut r, i * u64::from(WINDOW), false);
        assert!(f.is_empty(), "a reader with other reads in flight");
    }
    let mut r = new(CAP);
    for i in 0..10u64 {
        let (_, f) = fetches(&mut r, (i * 7919 % 1000) * 2 * u64::from(WINDOW), true);
        assert!(f.is_empty(), "reads that do not follow each other");
    }
}

#[test]
fn a_write_makes_held_and_fetching_blocks_stale() {
    let (mut r, f) = streaming();
    // Block 0 arrives; block 1 is overwritten while on its way.
    r.fetched(f[0].tag, true);
    r.invalidate(BLOCK + 4096, 4096);
    assert_eq!(
        r.fill_target(f[1].tag),
        None,
        "a late fetch's data is not taken"
    );
    r.fetched(f[1].tag, true);
    assert_eq!(r.locate(BLOCK), None);
    // The untouched block still serves, until it is overwritten too.
    assert!(r.locate(0).is_some());
    r.invalidate(4096, 4096);
    assert_eq!(r.locate(0), None);
    assert_eq!(r.read(0, WINDOW, true).found, Found::Missing);
}

#[test]
fn a_read_of_a_block_on_its_way_waits_for_that_fetch() {
    let (mut r, f) = streaming();
    // Block 0 (being fetched) and 1 (ready): it waits for block 0's fetch; once that
    // landed, it is answered.
    r.fetched(f[1].tag, true);
    let at = BLOCK - u64::from(WINDOW) / 2;
    assert_eq!(r.read(at, WINDOW, false).found, Found::OnItsWay(f[0].tag));
    r.fetched(f[0].tag, true);
    assert_eq!(r.find(at, WINDOW), Found::Ready);
    assert!(r.read(at, WINDOW, false).hit());
}

#[test]
fn a_read_waiting_for_a_fetch_overtaken_by_a_write_is_sent() {
    let (mut r, f) = streaming();
    assert_eq!(r.find(0, WINDOW), Found::OnItsWay(f[0].tag));
    r.invalidate(0, 4096);
    r.fetched(f[0].tag, true);
    assert_eq!(r.find(0, WINDOW), Found::Missing);
}

#[test]
fn a_failed_fetch_leaves_nothing() {
    let (mut r, f) = streaming();
    r.fetched(f[0].tag, false);
    assert_eq!(r.locate(0), None);
    assert_eq!(r.read(0, WINDOW, false).found, Found::Missing);
}

#[test]
fn nothing_past_the_last_whole_block_is_fetched() {
    // One whole block fewer than a stream's start gets fetched, and a partial one.
    let whole = START as u64 - 1;
    let mut r = new(whole * BLOCK + 4096);
    fetches(&mut r, 0, true);
    let (_, f) = fetches(&mut r, u64::from(WINDOW), true);
    assert_eq!(
        f.iter().map(|x| x.off / BLOCK).collect::<Vec<_>>(),
        (0..whole).collect::<Vec<_>>()
    );
}

/// Reads a stream of `WINDOW`s from `from` to `to`, idle, every fetch landing at once:
/// the blocks fetched, in order.
fn stream(r: &mut Plan, from: u64, to: u64) -> Vec<u64> {
    let mut got = Vec::new();
    for off in (from..to).step_by(WINDOW as usize) {
        let (_, f) = fetches(r, off, true);
        got.extend(f.iter().map(|x| x.off / BLOCK));
        land(r, &f);
    }
    got
}

#[test]
fn the_window_grows_with_the_stream() {
    let mut r = new(CAP);
    let mut furthest = 0;
    for off in (0..CLUSTER / 2).step_by(WINDOW as usize) {
        let (_, f) = fetches(&mut r, off, true);
        let ahead = f.iter().map(|x| x.off / BLOCK).max();
        land(&mut r, &f);
        let Some(ahead) = ahead else { continue };
        // Blocks ahead of the reader's: START at first, AHEAD once the stream is longer.
        let lead = ahead - off / BLOCK;
        if off == u64::from(WINDOW) {
            assert_eq!(lead, START as u64 - 1 + u64::from(WINDOW) * 2 / BLOCK);
        }
        furthest = furthest.max(lead);
    }
    assert_eq!(
        furthest, AHEAD as u64,
        "the window reached AHEAD blocks past the reader's"
    );
}

#[test]
fn fetches_stop_at_the_end_of_a_swap_cluster() {
    let mut r = new(CAP);
    let fetched = stream(&mut r, CLUSTER - 4 * BLOCK, CLUSTER);
    assert!(!fetched.is_empty());
    assert!(
        fetched.iter().all(|&b| b < CLUSTER / BLOCK),
        "fetched past the cluster: {fetched:?}"
    );
    // A stream that goes on into the next cluster reads the device in order: its
    // fetches go on past that cluster's end.
    let fetched = stream(&mut r, CLUSTER, 2 * CLUSTER);
    assert_eq!(fetched.first(), Some(&(CLUSTER / BLOCK)));
    assert!(fetched.contains(&(2 * CLUSTER / BLOCK)), "{fetched:?}");
}

/// A read of `WINDOW` bytes at `off` answered from the buffer sees each block's latest
/// version (`buffer`: what each slot's bytes hold, as (block, version)).
fn check(
    r: &Plan,
    off: u64,
    buffer: &[Option<(u64, u32)>],
    version: &[u32],
) -> Result<(), TestCaseError> {
    for page in (off..off + u64::from(WINDOW)).step_by(4096) {
        let pos = r.locate(page);
        prop_assert!(pos.is_some(), "a hit with byte {} not held", page);
        let b = page / BLOCK;
        let slot = pos.unwrap_or(0) / BLOCK as usize;
        prop_assert_eq!(buffer[slot], Some((b, version[b as usize])));
    }
    Ok(())
}

proptest! {
    /// Against a model of the device's bytes (a version per block), whatever reads, writes
    /// and fetch answers come in whatever order: every read the buffer answers sees the
    /// latest version of each block it covers, and fetches only go to slots in the buffer.
    #[test]
    fn the_buffer_never_answers_with_stale_data(
        ops in proptest::collection::vec((0u8..4, 0u64..96, any::<bool>(), 0usize..16), 1..300)
    ) {
        let blocks = 24u64;
        let mut r = new(blocks * BLOCK);
        // The device's current version of each block, and what each slot's bytes hold.
        let mut version = vec![0u32; blocks as usize];
        let mut buffer: Vec<Option<(u64, u32)>> = vec![None; SLOTS];
        // Fetches on their way: (fetch, the version the node answers with).
        let mut flying: Vec<(Fetch, u32)> = Vec::new();
        // Reads waiting for a fetch: (offset, the fetch's tag).
        let mut waiting: Vec<(u64, u64)> = Vec::new();
        for (op, at, idle, pick) in ops {
            let off = at * BLOCK / 4;
            match op {
                0 | 1 => {
                    let plan = r.read(off, WINDOW, idle);
                    match plan.found {
                        Found::Ready => check(&r, off, &buffer, &version)?,
                        Found::OnItsWay(tag) => waiting.push((off, tag)),
                        Found::Missing => {}
                    }
                    for f in plan.fetches.iter() {
                        prop_assert!(f.buffer_off + f.len as usize <= SLOTS * BLOCK as usize);
                        prop_assert_eq!(f.buffer_off % BLOCK as usize, 0);
                        flying.push((f, version[(f.off / BLOCK) as usize]));
                    }
                }
                2 => {
                    r.invalidate(off, 4096);
                    version[(off / BLOCK) as usize] += 1;
                }
                _ => {
                    // A read only ever waits for a fetch still on its way (else it
                    // would wait forever).
                    for (_, tag) in &waiting {
                        prop_assert!(flying.iter().any(|(f, _)| f.tag == *tag));
                    }
                    if !flying.is_empty() {
                        let (f, v) = flying.remove(pick % flying.len());
                        if let Some(pos) = r.fill_target(f.tag) {
                            prop_assert_eq!(pos, f.buffer_off);
                            buffer[pos / BLOCK as usize] = Some((f.off / BLOCK, v));
                        }
                        r.fetched(f.tag, pick % 5 != 0);
                        // The reads waiting for it are looked up again.
                        for (off, tag) in core::mem::take(&mut waiting) {
                            if tag != f.tag {
                                waiting.push((off, tag));
                                continue;
                            }
                            match r.find(off, WINDOW) {
                                Found::Ready => check(&r, off, &buffer, &version)?,
                                Found::OnItsWay(t) => waiting.push((off, t)),
                                Found::Missing => {}
                            }
                        }
                    }
                }
            }
        }
    }
}
