//! Which members of a mirrored device hold copies in service. Copy 0 of chunk `c` is on
//! member `c % k`, copy 1 on member `(c + 1) % k`, so each member shares chunks with its two
//! neighbours (cyclically). A member whose I/O fails leaves the mirror only if both
//! neighbours are in service: then every chunk keeps a copy in service. The set of members
//! out of service is a bit mask (one bit per member, [`super::MAX_MEMBERS`] at most), updated
//! by the module atomically with [`take_out`] as the update function.

/// The mask bit of member `m` (0 for a member past the mask).
pub fn bit(m: usize) -> u64 {
    1u64.checked_shl(m as u32).unwrap_or(0)
}

/// Whether member `m` still holds valid copies under the out-of-service `mask`.
pub fn in_service(mask: u64, m: usize) -> bool {
    mask & bit(m) == 0
}

/// The mask with member `m` of `members` out of service, or `None` if it must stay: a
/// single member, an unknown one, or a neighbour already out (its chunks would have no copy
/// left). A member already out stays out (`Some(mask)` unchanged).
pub fn take_out(mask: u64, m: usize, members: usize) -> Option<u64> {
    let k = members;
    if k < 2 || m >= k {
        return None;
    }
    let neighbours = bit((m + 1) % k) | bit((m + k - 1) % k);
    (mask & neighbours == 0).then_some(mask | bit(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_leaves_only_with_both_neighbours_in() {
        assert_eq!(take_out(0, 1, 4), Some(0b0010));
        // Member 0's neighbours are 1 and 3.
        assert_eq!(take_out(0b0010, 0, 4), None);
        assert_eq!(take_out(0b1000, 0, 4), None);
        assert_eq!(take_out(0b0100, 0, 4), Some(0b0101));
        // Already out: stays out.
        assert_eq!(take_out(0b0001, 0, 4), Some(0b0001));
        // Two members: each is the other's neighbour.
        assert_eq!(take_out(0, 0, 2), Some(1));
        assert_eq!(take_out(1, 1, 2), None);
        // Nobody to fail over to, or not a member.
        assert_eq!(take_out(0, 0, 1), None);
        assert_eq!(take_out(0, 4, 4), None);
    }

    #[test]
    fn bits_past_the_mask_are_zero() {
        assert_eq!(bit(63), 1 << 63);
        assert_eq!(bit(64), 0);
        assert!(in_service(u64::MAX >> 1, 63));
        assert!(in_service(0b10, 0));
        assert!(!in_service(0b10, 1));
    }
}
