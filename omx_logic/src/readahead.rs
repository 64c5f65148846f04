//! Read-ahead for a reader that waits for each read: swap-in of a sequential scan (an LLM's
//! weights at decode) faults a window of 8 pages at a time and waits for it, so a device
//! whose round trip is long spends most of that time idle. When such a reader's reads
//! follow each other, the device fetches the blocks after them into its own buffers and
//! answers the next reads from there, as the link's bandwidth allows instead of one
//! round trip per window; a read of a block still on its way waits for that fetch, or
//! only for its own bytes of it: a fetch's pieces land in order, and a read of bytes
//! landed is answered before the rest of the block has come.
//!
//! This is the bookkeeping only: which blocks a device's buffer slots hold or are fetching,
//! which read may be answered from them or wait for which fetch, what to fetch next, and
//! what a write makes stale. The module owns the buffers, the lock, the fetches and the
//! waiting reads (looked up again with [`Readahead::find`] as pieces of their fetch land
//! and when it ends).
//!
//! Correctness rests on two rules: a write (or discard, or write of zeroes) frees every
//! slot it overlaps before it is sent, so a later read never sees older data from a slot;
//! and a fetch's data is taken only while its slot still waits for that very fetch (a
//! tag that changes each time a slot is given out), so a fetch overtaken by a write, or
//! whose slot went to another block, is dropped when its answer comes.

use super::placement::CHUNK;

/// Bytes of one slot: a block of the device, aligned to its size (a divisor of
/// [`CHUNK`], so a block lives on one node per copy).
pub const BLOCK: u64 = 128 << 10;
const _: () = assert!(CHUNK % BLOCK == 0);
/// Slots of a device: its buffer is `SLOTS * BLOCK` bytes (1 MiB).
pub const SLOTS: usize = 8;
/// Blocks fetched ahead of a reader at most (512 KiB), once its stream is a few reads
/// long; a stream's first fetches go [`START`] blocks ahead. A reader that streams only a
/// few reads (a random fault that continued the previous one) then leaves little fetched
/// unread in front of its next reads. Measured in Documentation/benchmarks.md ("Reads that
/// wait for their fetch, and a window bounded by swap clusters").
pub const AHEAD: usize = 4;
/// Blocks fetched ahead of a stream's second read.
pub const START: usize = 2;
// Room for the reader's block and the blocks ahead of it.
const _: () = assert!(START <= AHEAD && AHEAD < SLOTS);
/// Swap hands out its slots in clusters of 2 MiB (the kernel's `SWAPFILE_CLUSTER` of 512
/// pages), so a scan's swap-in reads a cluster to its end and then jumps to another,
/// rarely the next on the device: a stream's fetches stop at the end of the cluster it
/// started in (a stream that went on past it reads the device in order, and the fetches
/// go on with it).
pub const CLUSTER: u64 = 2 << 20;
const _: () = assert!(CLUSTER % BLOCK == 0);

/// What a slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    Nothing,
    /// A fetch of the block is on its way.
    Fetching,
    /// The block's data, current (no write overlapped it since its fetch was sent).
    Ready,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    block: u64,
    held: Held,
    /// Given out afresh with every fetch (`Fetch::tag`).
    generation: u32,
    /// When a read last touched it, for choosing which slot to reuse.
    touched: u64,
    /// While fetching: bytes from the block's start that have landed (pieces land in
    /// order; one out of order waits for the end of the fetch).
    landed: u32,
}

/// A fetch to send: `len` bytes at the device's byte `off`, into the device buffer at
/// `buffer_off`; its answer is handed back with `tag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetch {
    /// Names the fetch to [`Readahead::land`] and [`Readahead::fetched`].
    pub tag: u64,
    /// Device byte of the block's start.
    pub off: u64,
    /// Bytes (one block).
    pub len: u32,
    /// Where the block's data goes in the device's buffer.
    pub buffer_off: usize,
}

/// The fetches one read asks for (at most [`AHEAD`]).
#[derive(Debug, Default)]
pub struct Fetches {
    list: [Option<Fetch>; AHEAD],
}

impl Fetches {
    fn push(&mut self, f: Fetch) {
        if let Some(free) = self.list.iter_mut().find(|s| s.is_none()) {
            *free = Some(f);
        }
    }

    /// The fetches, in block order.
    pub fn iter(&self) -> impl Iterator<Item = Fetch> + '_ {
        self.list.iter().flatten().copied()
    }
}

/// Where the bytes of a read are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Every byte in ready slots or landed of a fetch on its way: the read is answered from
    /// the buffer ([`Readahead::locate`]) and never sent.
    Ready,
    /// Every byte there or on its way, some of it yet to land from the fetch `tag`: the
    /// read waits for that fetch and is looked up again as its pieces land
    /// ([`Readahead::land`]) and when it ends ([`Readahead::fetched`]); sending it would
    /// ask the node for the same bytes twice.
    OnItsWay(u64),
    /// Some byte neither held nor on its way: the read is sent.
    Missing,
}

/// What a read found, and the blocks to fetch now.
#[derive(Debug)]
pub struct ReadPlan {
    /// Where its bytes are (before the fetches below).
    pub found: Found,
    /// Blocks to fetch now.
    pub fetches: Fetches,
}

impl ReadPlan {
    /// Whether the buffer answers the read now.
    pub fn hit(&self) -> bool {
        self.found == Found::Ready
    }
}

/// The slots of one device and the reader's stream.
#[derive(Debug)]
pub struct Readahead {
    slots: [Slot; SLOTS],
    /// Whole blocks of the device (a partial last block is never fetched).
    blocks: u64,
    /// Where the last read ended: a read starting there continues the stream.
    next_off: u64,
    /// Reads in a row that continued the stream.
    streak: u32,
    /// Where the stream began.
    stream_start: u64,
    /// Whether a read of the stream came while other reads were in flight: its reader keeps
    /// reads queued (fio at QD8, a 1 MiB `dd` split into requests) and has its own
    /// parallelism, which read-ahead would only replace by a smaller one (64 KiB reads at
    /// QD8 and MTU 1500: 91 MB/s without, 70 with). Until the stream breaks.
    queued: bool,
    clock: u64,
}

impl Readahead {
    /// The slots of a device of `capacity` bytes, all empty.
    pub fn new(capacity: u64) -> Self {
        Readahead {
            slots: [Slot {
                block: 0,
                held: Held::Nothing,
                generation: 0,
                touched: 0,
                landed: 0,
            }; SLOTS],
            blocks: capacity / BLOCK,
            next_off: u64::MAX,
            streak: 0,
            stream_start: 0,
            queued: false,
            clock: 0,
        }
    }

    /// The slot holding `block` in any state.
    fn slot_of(&self, block: u64) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.held != Held::Nothing && s.block == block)
    }

    /// A read of `len` bytes at `off`. `idle`: no other read of the device is in flight, so
    /// the reader waits for this read alone. Fetches follow a read that continues the
    /// stream of an idle reader, and every read the buffer answers, unless a read of the
    /// stream came while others were in flight.
    pub fn read(&mut self, off: u64, len: u32, idle: bool) -> ReadPlan {
        self.clock += 1;
        let end = off.saturating_add(u64::from(len));
        let found = self.find(off, len);
        let hit = found == Found::Ready;
        if hit {
            let clock = self.clock;
            for s in self.slots.iter_mut() {
                let (start, stop) = (s.block * BLOCK, (s.block + 1) * BLOCK);
                if s.held != Held::Nothing && start < end && off < stop {
                    s.touched = clock;
                }
            }
        }
        // A read sent while others are in flight: its stream keeps reads queued.
        let queued = !idle && !hit;
        if off == self.next_off {
            self.streak = self.streak.saturating_add(1);
            self.queued |= queued;
        } else {
            self.streak = 0;
            self.stream_start = off;
            self.queued = queued;
        }
        self.next_off = end;
        let mut fetches = Fetches::default();
        // (A read that is neither idle nor a hit marked its stream queued just above.)
        if !self.queued && (hit || self.streak > 0) {
            self.plan_after(off, end, &mut fetches);
        }
        ReadPlan { found, fetches }
    }

    /// Where the bytes of a read of `len` bytes at `off` are.
    pub fn find(&self, off: u64, len: u32) -> Found {
        let Some(last) = off.saturating_add(u64::from(len)).checked_sub(1) else {
            return Found::Missing;
        };
        if len == 0 {
            return Found::Missing;
        }
        let mut found = Found::Ready;
        for b in off / BLOCK..=last / BLOCK {
            let Some(i) = self.slot_of(b) else {
                return Found::Missing;
            };
            let s = &self.slots[i];
            // The read's bytes of this block, from its start: up to `needed`.
            let needed = (last + 1).min((b + 1) * BLOCK) - b * BLOCK;
            let landed = s.held == Held::Ready || needed <= u64::from(s.landed);
            if !landed && found == Found::Ready {
                found = Found::OnItsWay(tag(i, s.generation));
            }
        }
        found
    }

    /// Fetches for the blocks from the one holding byte `end` on, as many as the stream's
    /// window and not past the end of the cluster it started in, those not held yet.
    fn plan_after(&mut self, off: u64, end: u64, out: &mut Fetches) {
        let mut path = [u64::MAX; AHEAD];
        let stop = if off / CLUSTER == self.stream_start / CLUSTER {
            self.blocks.min((off / CLUSTER + 1) * (CLUSTER / BLOCK))
        } else {
            self.blocks
        };
        let window = (self.streak as usize + 1).clamp(START, AHEAD);
        for (p, block) in path.iter_mut().take(window).zip(end / BLOCK..stop) {
            *p = block;
        }
        for block in path.into_iter().filter(|&b| b != u64::MAX) {
            if self.slot_of(block).is_some() {
                continue;
            }
            let Some(i) = self.victim(off / BLOCK, &path) else {
                return;
            };
            let clock = self.clock;
            let s = &mut self.slots[i];
            s.generation = s.generation.wrapping_add(1);
            *s = Slot {
                block,
                held: Held::Fetching,
                generation: s.generation,
                touched: clock,
                landed: 0,
            };
            out.push(Fetch {
                tag: tag(i, s.generation),
                off: block * BLOCK,
                len: BLOCK as u32,
                buffer_off: i * BLOCK as usize,
            });
        }
    }

    /// A slot to fetch into: an empty one, else the least recently touched ready one
    /// holding neither the reader's block `current` nor one of the blocks it reads next
    /// (`path`): blocks it read past are the first to go. A slot whose fetch is on its way
    /// is not taken: a read (another reader's) may wait for that fetch, and would be sent
    /// again instead.
    fn victim(&self, current: u64, path: &[u64]) -> Option<usize> {
        if let Some(i) = self.slots.iter().position(|s| s.held == Held::Nothing) {
            return Some(i);
        }
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.held == Held::Ready && s.block != current && !path.contains(&s.block)
            })
            .min_by_key(|(_, s)| s.touched)
            .map(|(i, _)| i)
    }

    /// Where the `len` bytes from the device's byte `off` (within one block) are in the
    /// device's buffer, if all of them are there: a ready block, or bytes of a block on its
    /// way that landed.
    pub fn locate(&self, off: u64, len: u32) -> Option<usize> {
        let i = self.slot_of(off / BLOCK)?;
        let s = &self.slots[i];
        let in_block = off % BLOCK;
        let end = in_block.checked_add(u64::from(len))?;
        let there = end <= BLOCK && (s.held == Held::Ready || end <= u64::from(s.landed));
        there.then(|| i * BLOCK as usize + in_block as usize)
    }

    /// A write, write of zeroes or discard of `len` bytes at `off` is about to be sent:
    /// the slots it overlaps hold stale data (or will, for fetches on their way).
    pub fn invalidate(&mut self, off: u64, len: u32) {
        let end = off.saturating_add(u64::from(len));
        for s in self.slots.iter_mut() {
            let (start, stop) = (s.block * BLOCK, (s.block + 1) * BLOCK);
            if s.held != Held::Nothing && start < end && off < stop {
                s.held = Held::Nothing;
            }
        }
    }

    /// Where the bytes `offset..offset + len` of fetch `tag`'s block go in the buffer, if
    /// its slot still waits for it. The caller copies them there under the same lock:
    /// from then on they count as landed, and reads of them are answered before the fetch
    /// ends.
    pub fn land(&mut self, tag: u64, offset: u32, len: u32) -> Option<usize> {
        let i = self.waiting(tag)?;
        let end = offset.checked_add(len).filter(|&e| u64::from(e) <= BLOCK)?;
        let s = &mut self.slots[i];
        if offset <= s.landed {
            s.landed = s.landed.max(end);
        }
        Some(i * BLOCK as usize + offset as usize)
    }

    /// Fetch `tag` ended: its block is ready if it succeeded and its slot still waits for it.
    pub fn fetched(&mut self, tag: u64, ok: bool) {
        if let Some(i) = self.waiting(tag) {
            self.slots[i].held = if ok { Held::Ready } else { Held::Nothing };
        }
    }

    /// The slot waiting for fetch `tag`.
    fn waiting(&self, tag: u64) -> Option<usize> {
        let i = (tag & 0xff) as usize;
        let s = self.slots.get(i)?;
        (s.held == Held::Fetching && u64::from(s.generation) == tag >> 8).then_some(i)
    }
}

fn tag(slot: usize, generation: u32) -> u64 {
    (u64::from(generation) << 8) | slot as u64
}
