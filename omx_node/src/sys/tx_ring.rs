//! A `PACKET_TX_RING` (TPACKET_V2, `Documentation/networking/packet_mmap.rst`): frames are
//! written straight into memory shared with the kernel, which sends them by reference (page
//! fragments of the ring, no copy) when kicked with one `send()` per batch. With `sendmmsg`
//! every frame was copied from the daemon's buffer into a socket buffer: `copy_from_user` was
//! the pool node's largest cost when it streams data to a client.
//!
//! A frame slot belongs to the daemon while its status is `TP_STATUS_AVAILABLE`; marked
//! `TP_STATUS_SEND_REQUEST` it belongs to the kernel until the device has sent it and freed
//! its buffer. Slots are used in ring order, as the kernel walks them.
//!
//! The ring lives on a socket of its own that receives nothing (protocol 0; the kernel takes
//! each frame's protocol from its Ethernet header). Each frame carries a `virtio_net_hdr`
//! (`PACKET_VNET_HDR`) whose `hdr_len` has the kernel copy the frame's first
//! [`LINEAR`] bytes into the socket buffer's linear part, as the kernel's own senders have
//! their headers: what reads a frame's headers there (qdiscs, filters; netem's corruption
//! only ever flips a byte of the linear part) sees the TLoE header, not the Ethernet
//! header alone.

use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::ring::{Geometry, Ring};
use super::{poll_fds, IfInfo, PacketSocket};

const PACKET_TX_RING: libc::c_int = 13;
const PACKET_LOSS: libc::c_int = 14;
const PACKET_VNET_HDR: libc::c_int = 15;
const TP_STATUS_AVAILABLE: u32 = 0;
const TP_STATUS_SEND_REQUEST: u32 = 1;
/// `tp_len` in `struct tpacket2_hdr` (after the 32-bit `tp_status`).
const LEN_OFFSET: usize = 4;
/// Where a slot's data starts: `TPACKET2_HDRLEN - sizeof(struct sockaddr_ll)`, after the
/// 32-byte `struct tpacket2_hdr` (TPACKET_ALIGN'ed). The data is a `virtio_net_hdr`, then the
/// frame.
const DATA_OFFSET: usize = 32;
/// `struct virtio_net_hdr`: flags, gso_type (u8 each), then hdr_len, gso_size, csum_start,
/// csum_offset (u16, little-endian on the hosts we run on: `vio_le()`).
const VNET_HDR: usize = 10;
/// Bytes of each frame the kernel copies into the socket buffer's linear part: the Ethernet
/// header, the TLoE header and the first message's header and more.
const LINEAR: usize = 64;

fn geometry(frames: usize, max_frame: usize) -> Option<Geometry> {
    Geometry::new(frames, DATA_OFFSET.checked_add(max_frame)?)
}

/// Memory of the ring [`TxRing::new`] builds for `frames` frames of at most `max_frame`
/// bytes (whole blocks), for the memory ceiling; 0 if there can be none.
pub fn tx_ring_bytes(frames: usize, max_frame: usize) -> usize {
    geometry(frames, max_frame).map_or(0, |g| g.bytes())
}

impl PacketSocket {
    /// A raw packet socket that only sends, out of interface `index`: protocol 0, so the
    /// kernel hands it no received frame.
    fn transmit_only(index: i32) -> io::Result<PacketSocket> {
        let fd = Self::bound(index, 0)?;
        Ok(PacketSocket {
            fd,
            info: IfInfo {
                index,
                mac: [0; 6],
                mtu: 0,
                up: false,
            },
        })
    }
}

/// A mapped transmit ring on a packet socket of its own.
pub struct TxRing {
    ring: Ring,
    /// The next slot to write.
    head: usize,
    /// Slots handed to the kernel since the last kick.
    queued: usize,
}

impl TxRing {
    /// Sets up a ring of at least `frames` frames of at most `max_frame` bytes (virtio header
    /// included) on a socket of its own, sending out of `sock`'s interface.
    pub fn new(sock: &PacketSocket, frames: usize, max_frame: usize) -> io::Result<TxRing> {
        let geo = geometry(frames, max_frame)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EMSGSIZE))?;
        let tx = PacketSocket::transmit_only(sock.info.index)?;
        tx.setsockopt_int(libc::SOL_PACKET, PACKET_VNET_HDR, 1)?;
        // A malformed frame is skipped (marked available again), not left blocking the ring.
        tx.setsockopt_int(libc::SOL_PACKET, PACKET_LOSS, 1)?;
        Ok(TxRing {
            ring: Ring::new(tx.fd, PACKET_TX_RING, geo)?,
            head: 0,
            queued: 0,
        })
    }

    /// Frames the ring holds.
    pub fn capacity(&self) -> usize {
        self.ring.geo.frames()
    }

    /// Frames handed to the kernel since the last [`TxRing::kick`].
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// The next slot's frame buffer (`max_frame` bytes or more) if the kernel is done with it.
    pub fn slot_mut(&mut self) -> Option<&mut [u8]> {
        if self.ring.status(self.head).load(Ordering::Acquire) != TP_STATUS_AVAILABLE {
            return None;
        }
        let len = self.ring.geo.frame_size - DATA_OFFSET - VNET_HDR;
        // SAFETY: the slot is available, so the kernel does not touch its data until it is
        // committed; the bytes lie in the mapping and are borrowed mutably with `self`.
        Some(unsafe {
            std::slice::from_raw_parts_mut(
                self.ring.slot_ptr(self.head).add(DATA_OFFSET + VNET_HDR),
                len,
            )
        })
    }

    /// Hands the frame just written into [`TxRing::slot_mut`] (`len` bytes) to the kernel; it
    /// leaves at the next [`TxRing::kick`].
    pub fn commit(&mut self, len: usize) {
        if self.ring.status(self.head).load(Ordering::Relaxed) != TP_STATUS_AVAILABLE {
            return;
        }
        let len = len.min(self.ring.geo.frame_size - DATA_OFFSET - VNET_HDR);
        let mut vnet = [0u8; VNET_HDR];
        // No offloads (flags 0, GSO_NONE); hdr_len at bytes 2..4.
        vnet[2..4].copy_from_slice(&(len.min(LINEAR) as u16).to_le_bytes());
        // SAFETY: the available slot `head` lies in the mapping and is ours until its status
        // says otherwise: its virtio header, then `tp_len` (4-byte aligned).
        unsafe {
            let base = self.ring.slot_ptr(self.head);
            std::ptr::copy_nonoverlapping(vnet.as_ptr(), base.add(DATA_OFFSET), VNET_HDR);
            base.add(LEN_OFFSET)
                .cast::<u32>()
                .write_volatile((VNET_HDR + len) as u32);
        }
        // Release: the frame and its length are visible before the kernel sees the request.
        self.ring
            .status(self.head)
            .store(TP_STATUS_SEND_REQUEST, Ordering::Release);
        self.head = (self.head + 1) % self.ring.geo.frames();
        self.queued += 1;
    }

    /// Has the kernel send every committed frame not sent yet (without waiting for the
    /// device).
    pub fn kick(&mut self) -> io::Result<()> {
        self.queued = 0;
        // SAFETY: a send without data on a socket with a transmit ring sends the ring's
        // pending frames; MSG_DONTWAIT returns without waiting for their completion.
        let r = unsafe {
            libc::send(
                self.ring.fd.as_raw_fd(),
                std::ptr::null(),
                0,
                libc::MSG_DONTWAIT,
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            // A full socket buffer: the frames stay requested and leave with the next kick.
            if !matches!(
                e.raw_os_error(),
                Some(libc::EAGAIN) | Some(libc::ENOBUFS) | Some(libc::EINTR)
            ) {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Kicks, then waits up to `patience` for the next slot to be free again. Returns whether
    /// it is.
    pub fn wait_for_slot(&mut self, patience: Duration) -> io::Result<bool> {
        let deadline = Instant::now() + patience;
        loop {
            self.kick()?;
            if self.ring.status(self.head).load(Ordering::Acquire) == TP_STATUS_AVAILABLE {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            poll_fds(
                &[(self.ring.fd.as_raw_fd(), false)],
                Some(Duration::from_micros(200)),
                true,
            )?;
        }
    }
}
