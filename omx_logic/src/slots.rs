//! Sets of request-table entries as bits, so a node's I/O path finds a free entry and the
//! entries with data left to send without walking its whole table (128 entries, each
//! looked at twice per request before: a few per cent of an emulated client's CPU at QD32).

/// Entries of a table of at most [`SlotSet::CAPACITY`], as a bit set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlotSet(u128);

impl SlotSet {
    /// Most entries a set can name.
    pub const CAPACITY: usize = 128;

    /// No entry.
    pub const fn new() -> Self {
        SlotSet(0)
    }

    /// Adds entry `i` (ignored beyond the capacity).
    pub fn insert(&mut self, i: usize) {
        if i < Self::CAPACITY {
            self.0 |= 1 << i;
        }
    }

    /// Removes entry `i`.
    pub fn remove(&mut self, i: usize) {
        if i < Self::CAPACITY {
            self.0 &= !(1 << i);
        }
    }

    /// Whether entry `i` is in the set.
    pub fn contains(&self, i: usize) -> bool {
        i < Self::CAPACITY && self.0 & (1 << i) != 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// How many entries the set holds.
    pub const fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// The lowest entry below `limit` that is not in the set.
    pub fn first_absent(&self, limit: usize) -> Option<usize> {
        let i = self.0.trailing_ones() as usize;
        (i < limit.min(Self::CAPACITY)).then_some(i)
    }

    /// The entries in the set, lowest first.
    pub fn iter(&self) -> impl Iterator<Item = usize> {
        let mut rest = self.0;
        core::iter::from_fn(move || {
            if rest == 0 {
                return None;
            }
            let i = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            Some(i)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_holds_what_was_put_in_and_finds_the_first_gap() {
        let mut s = SlotSet::new();
        assert!(s.is_empty());
        assert_eq!(s.first_absent(128), Some(0));
        for i in [0, 1, 2, 5, 64, 127] {
            s.insert(i);
        }
        s.insert(128); // beyond the capacity: ignored
        assert_eq!(s.len(), 6);
        let mut got = [usize::MAX; 6];
        for (g, i) in got.iter_mut().zip(s.iter()) {
            *g = i;
        }
        assert_eq!(got, [0, 1, 2, 5, 64, 127]);
        assert_eq!(s.iter().count(), 6);
        assert!(s.contains(64) && !s.contains(63) && !s.contains(128));
        assert_eq!(s.first_absent(128), Some(3));
        assert_eq!(s.first_absent(3), None, "only entries below the limit");
        s.remove(1);
        assert_eq!(s.first_absent(128), Some(1));
        let mut full = SlotSet::new();
        for i in 0..128 {
            full.insert(i);
        }
        assert_eq!(full.first_absent(128), None);
        assert_eq!(full.len(), 128);
        assert_eq!(full.iter().count(), 128);
        full.remove(127);
        assert_eq!(full.first_absent(128), Some(127));
        assert_eq!(full.first_absent(127), None);
    }
}
