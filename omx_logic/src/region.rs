//! Where a new device's region goes on a node: first fit among the regions other devices
//! already hold there.

use super::placement::CHUNK;

/// The lowest chunk-aligned base of a free range of `len` bytes on a node of `size` bytes,
/// given the `(base, len)` regions already `used` there (`None`: no room).
pub fn find_region<I>(used: I, size: u64, len: u64) -> Option<u64>
where
    I: Iterator<Item = (u64, u64)> + Clone,
{
    first_fit(used, size, len, CHUNK)
}

/// [`find_region`] with an alignment of `align` bytes (not 0).
pub fn first_fit<I>(used: I, size: u64, len: u64, align: u64) -> Option<u64>
where
    I: Iterator<Item = (u64, u64)> + Clone,
{
    let mut base = 0u64;
    // Bump past every overlapping region until none overlaps: each region is bumped past at
    // most once (the base only grows), so one pass per region plus one suffices.
    for _ in 0..=used.clone().count() {
        let end = base.checked_add(len)?;
        match used
            .clone()
            .find(|&(b, l)| base < b.saturating_add(l) && b < end)
        {
            Some((b, l)) => base = b.checked_add(l)?.checked_next_multiple_of(align)?,
            None => return if end <= size { Some(base) } else { None },
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_fit_takes_the_first_gap_that_fits() {
        assert_eq!(
            find_region(core::iter::empty(), 4 * CHUNK, 2 * CHUNK),
            Some(0)
        );
        assert_eq!(find_region(core::iter::empty(), CHUNK, 2 * CHUNK), None);
        let used = [(0, CHUNK), (3 * CHUNK, CHUNK)];
        assert_eq!(
            find_region(used.iter().copied(), 8 * CHUNK, 2 * CHUNK),
            Some(CHUNK)
        );
        assert_eq!(
            find_region(used.iter().copied(), 8 * CHUNK, 3 * CHUNK),
            Some(4 * CHUNK)
        );
        assert_eq!(
            find_region(used.iter().copied(), 6 * CHUNK, 3 * CHUNK),
            None
        );
        // A region ending mid-chunk pushes the next one to the chunk after.
        let odd = [(0, CHUNK + 1)];
        assert_eq!(
            find_region(odd.iter().copied(), 8 * CHUNK, CHUNK),
            Some(2 * CHUNK)
        );
    }

    #[test]
    fn overflow_is_no_room() {
        let used = [(0, u64::MAX)];
        assert_eq!(find_region(used.iter().copied(), u64::MAX, CHUNK), None);
        assert_eq!(
            find_region(core::iter::empty(), u64::MAX, u64::MAX),
            Some(0)
        );
        assert_eq!(first_fit(core::iter::empty(), 8, 1, 0), Some(0));
        assert_eq!(first_fit([(0, 1)].into_iter(), 8, 1, 0), None);
    }
}
