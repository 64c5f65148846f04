//! A `PACKET_RX_RING` (TPACKET_V2): the kernel copies each received frame straight into
//! memory shared with the daemon, from the receive softirq, and the daemon reads it there.
//! With `recvmmsg` every frame waited in the socket's queue as a socket buffer and was copied
//! out by a system call (`copy_to_user`: a third of the pool node's CPU when a client streams
//! writes to it, under emulation).
//!
//! A frame slot belongs to the daemon while its status has `TP_STATUS_USER`, to the kernel
//! once set back to `TP_STATUS_KERNEL`. The kernel fills slots in ring order; a frame that
//! finds its slot still the daemon's is dropped, as one that found a full socket buffer was,
//! and counted ([`RxRing::take_drops`]).

use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;

use super::ring::{Geometry, Ring};
use super::{cvt, PacketSocket, PACKET_OUTGOING};

const PACKET_RX_RING: libc::c_int = 5;
const PACKET_STATISTICS: libc::c_int = 6;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
/// `struct tpacket2_hdr`: `tp_len` (the frame's length), `tp_snaplen` (what the slot holds
/// of it), `tp_mac` (u16: where the frame starts in the slot).
const LEN_OFFSET: usize = 4;
const SNAPLEN_OFFSET: usize = 8;
const MAC_OFFSET: usize = 12;
/// `sll_pkttype` of the `struct sockaddr_ll` after the header (TPACKET_ALIGN'ed to 32).
const PKTTYPE_OFFSET: usize = 32 + 10;
/// Where the kernel puts a frame with its 14-byte Ethernet header: the network header at
/// `TPACKET_ALIGN(TPACKET2_HDRLEN + 16)` = 80 (`tpacket_rcv`), the frame 14 bytes before.
const NET_OFFSET: usize = 80;

fn geometry(frames: usize, max_frame: usize) -> Option<Geometry> {
    Geometry::new(frames, NET_OFFSET.checked_add(max_frame)?)
}

/// Memory of the ring [`RxRing::new`] builds for `frames` frames of at most `max_frame`
/// bytes (whole blocks), for the memory ceiling; 0 if there can be none.
pub fn rx_ring_bytes(frames: usize, max_frame: usize) -> usize {
    geometry(frames, max_frame).map_or(0, |g| g.bytes())
}

/// A receive ring on a packet socket.
pub struct RxRing {
    ring: Ring,
    /// The next slot to read.
    head: usize,
}

impl RxRing {
    /// Sets up a ring of at least `frames` frames of at most `max_frame` bytes on `sock`,
    /// which from then on receives into it (and no longer into its queue).
    pub fn new(sock: &PacketSocket, frames: usize, max_frame: usize) -> io::Result<RxRing> {
        let geo = geometry(frames, max_frame)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EMSGSIZE))?;
        Ok(RxRing {
            ring: Ring::new(sock.fd.try_clone()?, PACKET_RX_RING, geo)?,
            head: 0,
        })
    }

    /// Frames the ring holds.
    pub fn capacity(&self) -> usize {
        self.ring.geo.frames()
    }

    /// Frames the kernel dropped, the ring full, since the last call (`PACKET_STATISTICS`,
    /// which reading resets).
    pub fn take_drops(&self) -> io::Result<u64> {
        // `struct tpacket_stats`: tp_packets, tp_drops.
        let mut st = [0u32; 2];
        let mut len = std::mem::size_of_val(&st) as libc::socklen_t;
        // SAFETY: `st` and `len` live across the call; `len` is the size of `st`, which has
        // the layout of `struct tpacket_stats`.
        cvt(unsafe {
            libc::getsockopt(
                self.ring.fd.as_raw_fd(),
                libc::SOL_PACKET,
                PACKET_STATISTICS,
                st.as_mut_ptr().cast(),
                &mut len,
            )
        })?;
        Ok(u64::from(st[1]))
    }

    fn header_u32(&self, at: usize) -> u32 {
        // SAFETY: the slot is the daemon's (its status said so), `at` is a 4-byte aligned
        // field of its header within the mapping, which lives as long as `self`.
        unsafe { self.ring.slot_ptr(self.head).add(at).cast::<u32>().read() }
    }

    /// The next received frame if the kernel has handed one over: `Ok(bytes)`, `Ok(empty)`
    /// for our own transmissions, `Err(())` if it was truncated (larger than a slot). Give
    /// the slot back with [`RxRing::release`].
    #[allow(clippy::result_unit_err)]
    pub fn next(&self) -> Option<Result<&[u8], ()>> {
        let status = self.ring.status(self.head).load(Ordering::Acquire);
        if status & TP_STATUS_USER == 0 {
            return None;
        }
        let len = self.header_u32(LEN_OFFSET) as usize;
        let snap = self.header_u32(SNAPLEN_OFFSET) as usize;
        // SAFETY: as in `header_u32`: the 2-byte aligned `tp_mac`.
        let mac = unsafe {
            self.ring
                .slot_ptr(self.head)
                .add(MAC_OFFSET)
                .cast::<u16>()
                .read()
        };
        let mac = usize::from(mac);
        if snap < len || mac.saturating_add(snap) > self.ring.geo.frame_size {
            return Some(Err(()));
        }
        // SAFETY: as in `header_u32`: a byte of the slot's header.
        let pkttype = unsafe { self.ring.slot_ptr(self.head).add(PKTTYPE_OFFSET).read() };
        if pkttype == PACKET_OUTGOING {
            return Some(Ok(&[]));
        }
        // SAFETY: the slot is the daemon's until released (which takes `&mut self`, so the
        // borrow has ended); `mac + snap` lies within the slot, checked above.
        Some(Ok(unsafe {
            std::slice::from_raw_parts(self.ring.slot_ptr(self.head).add(mac), snap)
        }))
    }

    /// Gives the slot of the frame [`RxRing::next`] returned back to the kernel.
    pub fn release(&mut self) {
        let status = self.ring.status(self.head);
        if status.load(Ordering::Relaxed) & TP_STATUS_USER == 0 {
            return;
        }
        // Release: our reads of the frame are done before the kernel may overwrite it.
        status.store(TP_STATUS_KERNEL, Ordering::Release);
        self.head = (self.head + 1) % self.ring.geo.frames();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_holds_the_kernel_header_and_a_whole_frame() {
        // MTU 1500: 80 + 1564 bytes a slot, 39 slots a 64 KiB block.
        let g = geometry(1024, 1500 + 64).unwrap();
        assert_eq!((g.frame_size, g.per_block, g.blocks), (1648, 39, 27));
        assert_eq!(rx_ring_bytes(1024, 1564), 27 << 16);
        let g = geometry(1024, 9000 + 64).unwrap();
        assert_eq!((g.frame_size, g.per_block, g.blocks), (9152, 7, 147));
        assert!(NET_OFFSET - 14 + 9000 + 14 <= g.frame_size);
    }
}
