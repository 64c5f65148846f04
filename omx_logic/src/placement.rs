//! Where a device's data lives: fixed-size chunks striped round-robin over its members, each
//! chunk stored once or, mirrored, on two neighbouring members. Copy `r` of chunk `c` lives on
//! member `(c + r) % k`, in slot `(c / k) * replicas + r` of that member's region, so a
//! member's region holds `replicas` slots per stripe and the two copies of a chunk are never
//! on the same member (with at least as many members as copies).

/// Striping unit: a request never crosses a chunk, so it has one node per copy.
pub const CHUNK: u64 = 1 << 20;
/// Most copies of a chunk.
pub const MAX_REPLICAS: u32 = 2;
/// Most members of a device (one bit each in the mirror's out-of-service mask).
pub const MAX_MEMBERS: usize = 64;

/// Bytes of each member's region for a device of `size` bytes over `members` nodes with
/// `replicas` copies of each chunk (`None`: no members, or too large).
pub fn per_node_len(size: u64, members: usize, replicas: u32) -> Option<u64> {
    let chunks = size.div_ceil(CHUNK);
    let per_node = chunks.div_ceil(u64::try_from(members).ok().filter(|&m| m > 0)?);
    per_node
        .checked_mul(u64::from(replicas))?
        .checked_mul(CHUNK)
}

/// Where one copy of a disk byte lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    /// Index of the member among the device's members.
    pub member: usize,
    /// Offset of the byte within that member's region.
    pub offset: u64,
}

impl Placed {
    /// The node address of the byte in a region of `len` bytes at `base` (`None`: past the
    /// region's end).
    pub fn addr(&self, base: u64, len: u64) -> Option<u64> {
        if self.offset >= len {
            return None;
        }
        base.checked_add(self.offset)
    }
}

/// The shape of a device: how many members, how many copies of each chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stripe {
    /// Member nodes.
    pub members: usize,
    /// Copies of each chunk (1 or 2).
    pub replicas: u32,
}

impl Stripe {
    /// Member and region offset of copy `r` of the disk byte `off` (`None`: no members, or
    /// out of range).
    pub fn place(&self, off: u64, r: u32) -> Option<Placed> {
        let k = self.members as u64;
        let chunk = off / CHUNK;
        // The remainder first: it fails on zero members before the division below could.
        let member = usize::try_from(chunk.checked_add(u64::from(r))?.checked_rem(k)?).ok()?;
        let slot = (chunk / k)
            .checked_mul(u64::from(self.replicas))?
            .checked_add(u64::from(r))?;
        let offset = slot.checked_mul(CHUNK)?.checked_add(off % CHUNK)?;
        Some(Placed { member, offset })
    }
}

/// The order in which a request tries the copies of its chunk (the first `replicas` of it
/// are used). A read prefers a copy whose node serves it (`serving(r)`: in service, node up)
/// to one waiting for its node to reconnect; a write goes to every copy in order.
pub fn copy_order(read: bool, replicas: u32, serving: impl Fn(u32) -> bool) -> [u32; 2] {
    let second_first = read && replicas == 2 && !serving(0) && serving(1);
    if second_first {
        [1, 0]
    } else {
        [0, 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_node_len_rounds_up_to_chunks_and_stripes() {
        assert_eq!(per_node_len(1, 1, 1), Some(CHUNK));
        assert_eq!(per_node_len(3 * CHUNK, 2, 1), Some(2 * CHUNK));
        assert_eq!(per_node_len(3 * CHUNK, 2, 2), Some(4 * CHUNK));
        assert_eq!(per_node_len(4 * CHUNK, 2, 2), Some(4 * CHUNK));
        assert_eq!(per_node_len(0, 3, 2), Some(0));
        assert_eq!(per_node_len(CHUNK, 0, 1), None);
        assert_eq!(per_node_len(u64::MAX, 1, 2), None);
    }

    #[test]
    fn place_stripes_round_robin_and_mirrors_on_the_next_member() {
        let s = Stripe {
            members: 3,
            replicas: 2,
        };
        // Chunk 4 = stripe 1, member 1; its second copy on member 2, slot 3.
        let off = 4 * CHUNK + 5;
        assert_eq!(
            s.place(off, 0),
            Some(Placed {
                member: 1,
                offset: 2 * CHUNK + 5
            })
        );
        assert_eq!(
            s.place(off, 1),
            Some(Placed {
                member: 2,
                offset: 3 * CHUNK + 5
            })
        );
        // The last member's second copy wraps to member 0.
        assert_eq!(
            s.place(2 * CHUNK, 1),
            Some(Placed {
                member: 0,
                offset: CHUNK
            })
        );
        let single = Stripe {
            members: 2,
            replicas: 1,
        };
        assert_eq!(
            single.place(3 * CHUNK, 0),
            Some(Placed {
                member: 1,
                offset: CHUNK
            })
        );
        assert_eq!(
            Stripe {
                members: 0,
                replicas: 1
            }
            .place(0, 0),
            None
        );
    }

    #[test]
    fn addr_stays_within_the_region() {
        let p = Placed {
            member: 0,
            offset: CHUNK,
        };
        assert_eq!(p.addr(10 * CHUNK, 2 * CHUNK), Some(11 * CHUNK));
        assert_eq!(p.addr(10 * CHUNK, CHUNK), None);
        assert_eq!(p.addr(u64::MAX, 2 * CHUNK), None);
    }

    #[test]
    fn a_read_prefers_the_copy_that_serves() {
        assert_eq!(copy_order(true, 2, |r| r == 1), [1, 0]);
        assert_eq!(copy_order(true, 2, |_| true), [0, 1]);
        assert_eq!(copy_order(true, 2, |_| false), [0, 1]);
        assert_eq!(copy_order(false, 2, |r| r == 1), [0, 1]);
        assert_eq!(copy_order(true, 1, |r| r == 1), [0, 1]);
    }
}
