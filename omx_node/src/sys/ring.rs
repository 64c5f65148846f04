//! What the packet sockets' shared-memory rings (TPACKET_V2,
//! `Documentation/networking/packet_mmap.rst`) have in common: their geometry, setting one up
//! on a socket and mapping it, and the status word through which the kernel and the daemon
//! hand each frame slot to one another.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::AtomicU32;

use super::cvt;

const PACKET_VERSION: libc::c_int = 10;
const TPACKET_V2: libc::c_int = 1;
/// Ring memory comes in blocks of this size (16 pages: an order-4 allocation, which the
/// kernel makes without falling back to vmalloc), or of the power of two that holds one
/// frame when frames are larger (MTUs above 64 KiB, e.g. loopback).
pub(super) const BLOCK: usize = 64 << 10;

/// `struct tpacket_req`.
#[repr(C)]
struct TpacketReq {
    block_size: u32,
    block_nr: u32,
    frame_size: u32,
    frame_nr: u32,
}

/// A ring's geometry: at least `frames` slots of `slot_bytes` (header and data, rounded up to
/// 16), in whole blocks, no slot straddling two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Geometry {
    pub(super) frame_size: usize,
    pub(super) block: usize,
    pub(super) blocks: usize,
    pub(super) per_block: usize,
}

impl Geometry {
    pub(super) fn new(frames: usize, slot_bytes: usize) -> Option<Geometry> {
        let frame_size = slot_bytes.checked_next_multiple_of(16)?;
        let block = BLOCK.max(frame_size.checked_next_power_of_two()?);
        let per_block = block / frame_size;
        Some(Geometry {
            frame_size,
            block,
            blocks: frames.max(1).div_ceil(per_block),
            per_block,
        })
    }

    pub(super) fn frames(&self) -> usize {
        self.blocks * self.per_block
    }

    pub(super) fn bytes(&self) -> usize {
        self.blocks * self.block
    }

    /// Offset of slot `i` in the mapping (slots never straddle blocks).
    pub(super) fn slot(&self, i: usize) -> usize {
        (i / self.per_block) * self.block + (i % self.per_block) * self.frame_size
    }
}

/// A ring set up on a socket (`PACKET_RX_RING` or `PACKET_TX_RING`) and mapped.
///
/// Invariant: `map` is a live `MAP_SHARED` mapping of `geo.bytes()` bytes of the ring of the
/// socket `fd` (closed after `Drop` unmaps the ring).
pub(super) struct Ring {
    pub(super) fd: OwnedFd,
    map: NonNull<u8>,
    pub(super) geo: Geometry,
}

impl Ring {
    /// Switches `fd` to TPACKET_V2, sets up a ring `which` of geometry `geo` on it and maps it.
    pub(super) fn new(fd: OwnedFd, which: libc::c_int, geo: Geometry) -> io::Result<Ring> {
        let v = TPACKET_V2;
        // SAFETY: `v` lives across the call and the length is that of an int.
        cvt(unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_PACKET,
                PACKET_VERSION,
                std::ptr::addr_of!(v).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        })?;
        let too_big = || io::Error::from_raw_os_error(libc::EMSGSIZE);
        let req = TpacketReq {
            block_size: u32::try_from(geo.block).map_err(|_| too_big())?,
            block_nr: u32::try_from(geo.blocks).map_err(|_| too_big())?,
            frame_size: u32::try_from(geo.frame_size).map_err(|_| too_big())?,
            frame_nr: u32::try_from(geo.frames()).map_err(|_| too_big())?,
        };
        // SAFETY: `req` lives across the call and the length is that of `struct tpacket_req`.
        cvt(unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_PACKET,
                which,
                std::ptr::addr_of!(req).cast(),
                std::mem::size_of::<TpacketReq>() as libc::socklen_t,
            )
        })?;
        // SAFETY: maps the ring just set up on `fd`, of exactly its size; no other mapping is
        // affected (the kernel picks the address).
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                geo.bytes(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let map = NonNull::new(p.cast::<u8>()).ok_or_else(io::Error::last_os_error)?;
        Ok(Ring { fd, map, geo })
    }

    /// The status word (`tp_status`) of slot `i` (< frames).
    pub(super) fn status(&self, i: usize) -> &AtomicU32 {
        // SAFETY: slot `i` lies in the mapping and starts 16-byte aligned with the 32-bit
        // `tp_status`, which the kernel also accesses atomically (READ_ONCE/WRITE_ONCE with
        // barriers); the mapping lives as long as `self`.
        unsafe { &*self.map.as_ptr().add(self.geo.slot(i)).cast::<AtomicU32>() }
    }

    /// The start of slot `i` (< frames) in the mapping.
    pub(super) fn slot_ptr(&self, i: usize) -> *mut u8 {
        // SAFETY: the offset of a slot lies within the mapping.
        unsafe { self.map.as_ptr().add(self.geo.slot(i)) }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, of its size, unmapped once.
        unsafe { libc::munmap(self.map.as_ptr().cast(), self.geo.bytes()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_fills_whole_blocks_and_never_straddles_one() {
        let g = Geometry::new(64, 32 + 1500 + 14).unwrap();
        assert_eq!(g.frame_size, 1552);
        assert_eq!(g.per_block, 42);
        assert_eq!(g.blocks, 2);
        assert_eq!(g.frames(), 84);
        assert_eq!(g.bytes(), 128 << 10);
        let g = Geometry::new(64, 32 + 9000 + 14).unwrap();
        assert_eq!((g.frame_size, g.per_block, g.blocks), (9056, 7, 10));
        for i in 0..g.frames() {
            let end = g.slot(i) + g.frame_size;
            assert!(end <= g.bytes());
            assert_eq!(g.slot(i) / BLOCK, (end - 1) / BLOCK, "slot {i}");
        }
        // Loopback's 64 KiB MTU: one frame per 128 KiB block.
        let g = Geometry::new(64, 32 + 65536 + 64).unwrap();
        assert_eq!((g.block, g.per_block, g.blocks), (128 << 10, 1, 64));
        assert_eq!(Geometry::new(1, usize::MAX), None);
    }
}
