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
        assert!(r.land(x.tag, 0, x.len).is_some());
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
    let at = r.locate(off, 4096).unwrap();
    let f0 = r.locate(0, 4096).unwrap();
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
        r.land(f[1].tag, 0, 4096),
        None,
        "a late fetch's data is not taken"
    );
    r.fetched(f[1].tag, true);
    assert_eq!(r.locate(BLOCK, 4096), None);
    // The untouched block still serves, until it is overwritten too.
    assert!(r.locate(0, 4096).is_some());
    r.invalidate(4096, 4096);
    assert_eq!(r.locate(0, 4096), None);
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
fn a_read_of_bytes_landed_is_answered_before_the_fetch_ends() {
    let (mut r, f) = streaming();
    let tag = f[0].tag;
    assert_eq!(r.find(0, WINDOW), Found::OnItsWay(tag));
    // The fetch's first pieces land, in order: a read of them is answered, one of bytes
    // past them still waits.
    assert_eq!(r.land(tag, 0, 16 << 10), Some(f[0].buffer_off));
    assert_eq!(
        r.land(tag, 16 << 10, 16 << 10),
        Some(f[0].buffer_off + (16 << 10))
    );
    assert_eq!(r.find(0, WINDOW), Found::Ready);
    assert_eq!(r.locate(4096, 4096), Some(f[0].buffer_off + 4096));
    assert_eq!(r.locate(WINDOW as u64 - 4096, 8192), None);
    assert_eq!(r.find(u64::from(WINDOW), WINDOW), Found::OnItsWay(tag));
    // A piece out of order does not count until the fetch ends.
    r.land(tag, 64 << 10, 16 << 10);
    assert_eq!(r.find(64 << 10, 4096), Found::OnItsWay(tag));
    r.fetched(tag, true);
    assert_eq!(r.find(u64::from(WINDOW), WINDOW), Found::Ready);
}

#[test]
fn bytes_landed_of_a_fetch_overtaken_by_a_write_are_not_read() {
    let (mut r, f) = streaming();
    r.land(f[0].tag, 0, WINDOW);
    r.invalidate(BLOCK - 4096, 4096);
    assert_eq!(r.locate(0, 4096), None);
    assert_eq!(r.find(0, WINDOW), Found::Missing);
    assert_eq!(r.land(f[0].tag, WINDOW, WINDOW), None);
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
    assert_eq!(r.locate(0, 4096), None);
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

#[test]
fn a_fetch_on_its_way_is_not_given_up_for_another_stream() {
    let (mut r, f) = streaming();
    assert_eq!(r.find(0, WINDOW), Found::OnItsWay(f[0].tag));
    // Another reader streams through a cluster far away, twice as many blocks as the
    // buffer holds, its fetches landing at once: it takes slots from its own blocks read
    // past, not from the first reader's fetches still on their way.
    let far = 4 * CLUSTER;
    let fetched = stream(&mut r, far, far + CLUSTER);
    assert!(fetched.len() > SLOTS, "{fetched:?}");
    for x in &f {
        assert_eq!(r.find(x.off, WINDOW), Found::OnItsWay(x.tag));
    }
    land(&mut r, &f);
    assert!(r.read(0, WINDOW, true).hit());
}

/// Pages of a block, as the model tracks the buffer's bytes.
const PAGES: usize = (BLOCK / 4096) as usize;

/// What each slot's pages hold, as (block, version).
type Buffer = Vec<[Option<(u64, u32)>; PAGES]>;

/// A read of `WINDOW` bytes at `off` answered from the buffer sees each block's latest
/// version (`buffer`: what each slot's pages hold).
fn check(r: &Plan, off: u64, buffer: &Buffer, version: &[u32]) -> Result<(), TestCaseError> {
    for page in (off..off + u64::from(WINDOW)).step_by(4096) {
        let pos = r.locate(page, 4096);
        prop_assert!(pos.is_some(), "a hit with byte {} not held", page);
        let pos = pos.unwrap_or(0);
        let b = page / BLOCK;
        let (slot, at) = (pos / BLOCK as usize, pos % BLOCK as usize / 4096);
        prop_assert_eq!(buffer[slot][at], Some((b, version[b as usize])));
    }
    Ok(())
}

proptest! {
    /// Against a model of the device's bytes (a version per block), whatever reads, writes
    /// and fetch answers (a piece at a time, in order or one out of it) come in whatever order: every read
    /// the buffer answers, at once or while it waits for a fetch, sees the latest version
    /// of each block it covers, and fetches only go to slots in the buffer.
    #[test]
    fn the_buffer_never_answers_with_stale_data(
        ops in proptest::collection::vec((0u8..4, 0u64..768, any::<bool>(), 0usize..64), 1..300)
    ) {
        let blocks = 24u64;
        let mut r = new(blocks * BLOCK);
        // The device's current version of each block, and what each slot's pages hold.
        let mut version = vec![0u32; blocks as usize];
        let mut buffer: Buffer = vec![[None; PAGES]; SLOTS];
        // Fetches on their way: (fetch, the version the node answers with, pages landed in
        // order, whether the page after those landed before them).
        let mut flying: Vec<(Fetch, u32, usize, bool)> = Vec::new();
        // Reads waiting for a fetch: (offset, the fetch's tag).
        let mut waiting: Vec<(u64, u64)> = Vec::new();
        let mut next_read = 0;
        for (op, at, idle, pick) in ops {
            // Any page: a read may span two blocks.
            let off = at * 4096;
            match op {
                0 | 1 => {
                    // Half the reads continue the last one: streams that get fetches.
                    let off = if op == 1 { next_read } else { off };
                    next_read = off + u64::from(WINDOW);
                    let plan = r.read(off, WINDOW, idle);
                    match plan.found {
                        Found::Ready => check(&r, off, &buffer, &version)?,
                        Found::OnItsWay(tag) => waiting.push((off, tag)),
                        Found::Missing => {}
                    }
                    for f in plan.fetches.iter() {
                        prop_assert!(f.buffer_off + f.len as usize <= SLOTS * BLOCK as usize);
                        prop_assert_eq!(f.buffer_off % BLOCK as usize, 0);
                        flying.push((f, version[(f.off / BLOCK) as usize], 0, false));
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
                        prop_assert!(flying.iter().any(|(f, ..)| f.tag == *tag));
                    }
                    if flying.is_empty() {
                        continue;
                    }
                    let k = pick % flying.len();
                    let (f, v, landed, skipped) = flying[k];
                    // The next pieces land (the node answers a fetch in order), sometimes
                    // one out of order (the page after the next, then the next), or the
                    // fetch fails (its node died) with some of them landed.
                    let fails = pick % 7 == 0;
                    let (first, pages) = if fails {
                        (landed, 0)
                    } else if skipped {
                        (landed, 1)
                    } else if pick % 11 == 1 && landed + 2 < PAGES {
                        (landed + 1, 1)
                    } else {
                        (landed, 1 + pick % (PAGES - landed))
                    };
                    if pages > 0 {
                        let from = first as u32 * 4096;
                        if let Some(pos) = r.land(f.tag, from, pages as u32 * 4096) {
                            prop_assert_eq!(pos, f.buffer_off + from as usize);
                            let slot = f.buffer_off / BLOCK as usize;
                            for p in &mut buffer[slot][first..first + pages] {
                                *p = Some((f.off / BLOCK, v));
                            }
                            // Reads waiting for it whose bytes all landed are answered.
                            for (off, tag) in core::mem::take(&mut waiting) {
                                match r.find(off, WINDOW) {
                                    Found::Ready if tag == f.tag => {
                                        check(&r, off, &buffer, &version)?
                                    }
                                    Found::OnItsWay(t) if tag == f.tag => waiting.push((off, t)),
                                    _ => waiting.push((off, tag)),
                                }
                            }
                        }
                        flying[k] = match (skipped, first > landed) {
                            // The page after the next landed first.
                            (false, true) => (f, v, landed, true),
                            // The next one, after it: both are in.
                            (true, _) => (f, v, landed + 2, false),
                            _ => (f, v, landed + pages, false),
                        };
                    }
                    if fails || flying[k].2 == PAGES {
                        flying.remove(k);
                        r.fetched(f.tag, !fails);
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
