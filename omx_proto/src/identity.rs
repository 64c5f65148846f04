//! omx's contents identity: how a client tells a pool node that kept its memory from one that
//! lost it (restarted, or zeroed the client's region after it was away too long).
//!
//! This is an omx extension of the memory map, not of the wire format: a node that supports
//! it answers a 16-byte TileLink `Get` at [`ADDR`] (far above any region) with
//! [`Identity::to_bytes`]: a random value chosen when the node started and a counter of the
//! times the client's region was wiped. Both stay the same exactly as long as the region's
//! contents do. Other peers deny the `Get` (out of range), which a client must treat as
//! "unknown": after any loss of contact, the memory may be gone.

/// Address of the identity (aligned to its size).
pub const ADDR: u64 = 0xFFFF_FFFF_FFFF_FF00;
/// log2 of its size in bytes (a 16-byte `Get`).
pub const SIZE_LOG2: u8 = 4;
/// Its size in bytes.
pub const LEN: usize = 1 << SIZE_LOG2;

/// The identity of a client region's contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Identity {
    /// Chosen at random when the node started.
    pub boot: u64,
    /// Times the region was zeroed or given to another client since then.
    pub generation: u64,
}

impl Identity {
    /// Wire form: `boot` then `generation`, little-endian (the byte order of memory).
    pub fn to_bytes(self) -> [u8; LEN] {
        let mut b = [0u8; LEN];
        b[..8].copy_from_slice(&self.boot.to_le_bytes());
        b[8..].copy_from_slice(&self.generation.to_le_bytes());
        b
    }

    /// Reads the wire form; `None` unless `b` is exactly [`LEN`] bytes.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() != LEN {
            return None;
        }
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[..8]);
        let boot = u64::from_le_bytes(w);
        w.copy_from_slice(&b[8..]);
        Some(Self {
            boot,
            generation: u64::from_le_bytes(w),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let id = Identity {
            boot: 0x0123_4567_89ab_cdef,
            generation: 3,
        };
        assert_eq!(Identity::from_bytes(&id.to_bytes()), Some(id));
        assert_eq!(Identity::from_bytes(&[0u8; 15]), None);
        assert_eq!(ADDR % LEN as u64, 0);
    }
}
