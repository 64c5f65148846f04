//! Source ids of the messages a node has in flight, mapping each answer back to the request
//! (entry) and the part of it the message carried.
//!
//! A source id is `generation * slots + index + 1` (id 0 is the keepalive's). The generation
//! moves on whenever the messages in flight are forgotten (a connection lost, or every request
//! failed), so an answer to a message of an earlier connection can never be taken for one to
//! a new message. Free indices are kept on a stack. The table lives in memory its owner
//! allocates (the module allocates it when a node is added, so the I/O path never does).

use core::ops::DerefMut;

/// Messages in flight per node at most: 1 MiB in the 1 KiB pieces of MTU 1500.
pub const MAX_SOURCES: usize = 1024;
/// Messages in flight per node at least: the largest request (256 KiB) in 1 KiB pieces.
pub const MIN_SOURCES: usize = 256;

/// Source ids for a node whose messages carry up to `msg_size` bytes: as many as keep
/// `window_bytes` in flight, within [`MIN_SOURCES`]..=[`MAX_SOURCES`].
pub fn source_count(window_bytes: usize, msg_size: u32) -> usize {
    (window_bytes / (msg_size as usize).max(1)).clamp(MIN_SOURCES, MAX_SOURCES)
}
/// Generations of source ids before they repeat.
pub const GENERATIONS: u32 = 64;
/// The entry of a message whose request already failed: its answer is dropped.
pub const ORPHAN: u16 = u16::MAX;

/// A message awaiting its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Source {
    /// The request it belongs to (its entry in the node's table), or [`ORPHAN`].
    pub entry: u16,
    /// Offset of the message's data within the request.
    pub off: u32,
    /// Bytes the message carries (a power of two).
    pub len: u32,
}

/// One index of a [`SourceTable`]: the message in flight under it, and one cell of the free
/// stack.
#[derive(Clone, Copy, Debug, Default)]
pub struct SourceSlot {
    pending: Option<Source>,
    free: u16,
}

/// The id the next message gets, from [`SourceTable::next`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket {
    index: u16,
    id: u32,
}

impl Ticket {
    /// The source id to put in the message.
    pub fn id(&self) -> u32 {
        self.id
    }
}

/// What an answer's source id refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// No message in flight has this id (a duplicate, an earlier connection's, or made up).
    Stray,
    /// A message whose request already failed: drop the answer.
    Orphan,
    /// This message: its id is free again.
    For(Source),
}

/// The source ids of one node, over `slots` its owner allocated (1 to [`MAX_SOURCES`] of them).
pub struct SourceTable<S> {
    slots: S,
    /// Free indices: `slots[..nfree].free`, the top last.
    nfree: usize,
    /// Current generation (`0..GENERATIONS`).
    generation: u32,
}

impl<S: DerefMut<Target = [SourceSlot]>> SourceTable<S> {
    /// A table with every id free, in generation 0; `None` for 0 or more than
    /// [`MAX_SOURCES`] slots.
    pub fn new(mut slots: S) -> Option<Self> {
        let n = slots.len();
        if n == 0 || n > MAX_SOURCES {
            return None;
        }
        for (i, s) in slots.iter_mut().enumerate() {
            // Index 0 on top: the first message gets id 1.
            *s = SourceSlot {
                pending: None,
                free: (n - 1 - i) as u16,
            };
        }
        Some(Self {
            slots,
            nfree: n,
            generation: 0,
        })
    }

    fn id(&self, index: u16) -> u32 {
        self.generation * self.slots.len() as u32 + u32::from(index) + 1
    }

    /// The id the next message gets (`None`: every id is in flight). Nothing is taken until
    /// [`SourceTable::sent`].
    pub fn next(&self) -> Option<Ticket> {
        let top = self.nfree.checked_sub(1)?;
        let index = self.slots.get(top)?.free;
        Some(Ticket {
            index,
            id: self.id(index),
        })
    }

    /// The message with the id of `ticket` (the last [`SourceTable::next`]) went out.
    pub fn sent(&mut self, ticket: Ticket, src: Source) {
        if self.next() != Some(ticket) {
            return; // not the top of the stack any more: never handed out
        }
        self.nfree -= 1;
        if let Some(slot) = self.slots.get_mut(usize::from(ticket.index)) {
            slot.pending = Some(src);
        }
    }

    /// An answer with source id `id` arrived: what it answers. Its id is free again.
    pub fn answer(&mut self, id: u32) -> Answer {
        let base = self.generation as usize * self.slots.len() + 1;
        let Some(i) = (id as usize)
            .checked_sub(base)
            .filter(|&i| i < self.slots.len())
        else {
            return Answer::Stray;
        };
        let Some(src) = self.slots.get_mut(i).and_then(|s| s.pending.take()) else {
            return Answer::Stray;
        };
        self.release(i as u16);
        if src.entry == ORPHAN {
            return Answer::Orphan;
        }
        Answer::For(src)
    }

    /// Request `entry` failed: answers to its messages still in flight will be dropped.
    pub fn orphan(&mut self, entry: usize) {
        for s in self.slots.iter_mut().filter_map(|s| s.pending.as_mut()) {
            if usize::from(s.entry) == entry {
                s.entry = ORPHAN;
            }
        }
    }

    /// Forgets every message in flight: their answers can no longer come, and would not be
    /// recognised (the ids move to the next generation).
    pub fn forget(&mut self) {
        self.generation = (self.generation + 1) % GENERATIONS;
        self.nfree = 0;
        for i in 0..self.slots.len() {
            if let Some(s) = self.slots.get_mut(i) {
                s.pending = None;
            }
            self.release(i as u16);
        }
    }

    /// Messages in flight.
    pub fn in_flight(&self) -> usize {
        self.slots.len() - self.nfree
    }

    /// The current generation.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Returns index `i` to the free stack.
    fn release(&mut self, i: u16) {
        // At most `slots.len()` indices are ever taken out, so there is always room.
        if let Some(slot) = self.slots.get_mut(self.nfree) {
            slot.free = i;
            self.nfree += 1;
        }
    }
}

/// Bytes of the next message of a request with `rest` bytes left to send from node address
/// `addr`, on a connection whose messages carry at most `msg_size`: the largest power of two
/// within both that `addr` is a multiple of (a TileLink message's address is aligned to its
/// size). So a range starting off an 8 KiB boundary begins with smaller messages up to the
/// first boundary, then goes on in whole `msg_size` messages, and ends with smaller ones.
pub fn piece_size(msg_size: u32, addr: u64, rest: u32) -> u32 {
    let piece = msg_size.min(rest);
    let piece = piece.checked_ilog2().map_or(0, |log| 1 << log);
    // The alignment of `addr` (none for address 0), capped where it no longer matters.
    let align = 1u64 << addr.trailing_zeros().min(31);
    piece.min(u32::try_from(align).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Table<'a> = SourceTable<&'a mut [SourceSlot]>;

    fn table(mem: &mut [SourceSlot]) -> Table<'_> {
        SourceTable::new(mem).unwrap()
    }

    fn send(t: &mut Table<'_>, entry: u16) -> u32 {
        let ticket = t.next().unwrap();
        t.sent(
            ticket,
            Source {
                entry,
                off: 0,
                len: 8,
            },
        );
        ticket.id()
    }

    #[test]
    fn sources_keep_the_window_in_flight_within_bounds() {
        assert_eq!(source_count(2 << 20, 1024), MAX_SOURCES);
        assert_eq!(source_count(2 << 20, 4096), 512);
        assert_eq!(source_count(2 << 20, 8192), MIN_SOURCES);
        assert_eq!(source_count(1 << 20, 8192), MIN_SOURCES);
        assert_eq!(source_count(2 << 20, 0), MAX_SOURCES);
    }

    #[test]
    fn ids_start_at_one_and_come_back_when_answered() {
        let mut mem = [SourceSlot::default(); 4];
        let mut t = table(&mut mem);
        let ids: [u32; 4] = core::array::from_fn(|_| send(&mut t, 3));
        assert_eq!(ids, [1, 2, 3, 4]);
        assert_eq!(t.next(), None);
        assert_eq!(
            t.answer(2),
            Answer::For(Source {
                entry: 3,
                off: 0,
                len: 8
            })
        );
        assert_eq!(t.answer(2), Answer::Stray);
        assert_eq!(t.in_flight(), 3);
        assert_eq!(send(&mut t, 1), 2);
        assert_eq!(t.answer(0), Answer::Stray);
        assert_eq!(t.answer(5), Answer::Stray);
    }

    #[test]
    fn an_orphan_answer_is_dropped_but_frees_its_id() {
        let mut mem = [SourceSlot::default(); 4];
        let mut t = table(&mut mem);
        let a = send(&mut t, 0);
        let b = send(&mut t, 1);
        t.orphan(0);
        assert_eq!(t.answer(a), Answer::Orphan);
        assert_eq!(
            t.answer(b),
            Answer::For(Source {
                entry: 1,
                off: 0,
                len: 8
            })
        );
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn forgetting_moves_to_the_next_generation() {
        let mut mem = [SourceSlot::default(); 4];
        let mut t = table(&mut mem);
        let old = send(&mut t, 0);
        t.forget();
        assert_eq!(t.generation(), 1);
        assert_eq!(t.in_flight(), 0);
        assert_eq!(t.answer(old), Answer::Stray);
        // After a forget the stack is in index order, the last index on top.
        assert_eq!(send(&mut t, 0), 4 + 3 + 1);
        for _ in 1..GENERATIONS {
            t.forget();
        }
        assert_eq!(t.generation(), 0);
    }

    #[test]
    fn a_stale_ticket_takes_nothing() {
        let mut mem = [SourceSlot::default(); 4];
        let mut t = table(&mut mem);
        let ticket = t.next().unwrap();
        t.forget();
        t.sent(
            ticket,
            Source {
                entry: 0,
                off: 0,
                len: 8,
            },
        );
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn table_sizes() {
        assert!(SourceTable::new(&mut [][..]).is_none());
        assert!(SourceTable::new(&mut [SourceSlot::default(); MAX_SOURCES + 1][..]).is_none());
        let mut mem = [SourceSlot::default(); MAX_SOURCES];
        let t = table(&mut mem);
        assert_eq!(t.next().map(|t| t.id()), Some(1));
    }

    #[test]
    fn pieces_are_the_largest_power_of_two_that_fits() {
        assert_eq!(piece_size(4096, 0, 8192), 4096);
        assert_eq!(piece_size(1024, 0, 3072), 1024);
        assert_eq!(piece_size(4096, 0, 3072), 2048);
        assert_eq!(piece_size(4096, 0, 4095), 2048);
        assert_eq!(piece_size(4096, 0, 1), 1);
        assert_eq!(piece_size(4096, 0, 0), 0);
        assert_eq!(piece_size(8192, 1 << 40, 1 << 20), 8192);
    }

    /// The pieces of `len` bytes at `addr`, in order.
    fn pieces(msg_size: u32, addr: u64, len: u32) -> ([u32; 8], usize) {
        let (mut out, mut n, mut done) = ([0; 8], 0, 0);
        while done < len {
            let p = piece_size(msg_size, addr + u64::from(done), len - done);
            out[n] = p;
            n += 1;
            done += p;
        }
        (out, n)
    }

    #[test]
    fn pieces_are_aligned_to_their_size() {
        // A page at an odd page offset: one 4 KiB message, not an unaligned 8 KiB one.
        assert_eq!(pieces(8192, 0x3000, 4096), ([4096, 0, 0, 0, 0, 0, 0, 0], 1));
        // 20 KiB from an odd page: 4 KiB up to the boundary, two 8 KiB, nothing left.
        assert_eq!(
            pieces(8192, 0x1000, 20480),
            ([4096, 8192, 8192, 0, 0, 0, 0, 0], 3)
        );
        // 24 KiB from an odd page: the last page goes alone.
        assert_eq!(
            pieces(8192, 0x5000, 24576),
            ([4096, 8192, 8192, 4096, 0, 0, 0, 0], 4)
        );
        // Aligned and smaller than the message size.
        assert_eq!(
            pieces(8192, 0x4000, 12288),
            ([8192, 4096, 0, 0, 0, 0, 0, 0], 2)
        );
        // 1 KiB messages (MTU 1500) are never held back by page alignment.
        assert_eq!(
            pieces(1024, 0x3000, 4096),
            ([1024, 1024, 1024, 1024, 0, 0, 0, 0], 4)
        );
    }
}
