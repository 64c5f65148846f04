// SPDX-License-Identifier: GPL-2.0

//! Owned socket buffers (`struct sk_buff`).

use crate::glue::gather::{Gather, Gathered, GATHER_BYTES};
use crate::glue::netdev::NetDevice;
use crate::mac::MacAddr;
use crate::sys;
use core::mem::MaybeUninit;
use core::ptr::NonNull;
use kernel::error::{code::*, Result};

/// Headroom of a frame to send, for the device's link-layer needs in front of our Ethernet
/// header.
pub(crate) const TX_HEADROOM: u32 = 32;

const NET_XMIT_SUCCESS: i32 = 0;
const NET_XMIT_CN: i32 = 2;

/// Whether a transmit call's return value means the frame was sent or queued, as
/// `net_xmit_eval()` reads it: congestion notification still means it was (NET_XMIT_SUCCESS is
/// also the driver's NETDEV_TX_OK).
pub(super) fn xmit_succeeded(ret: i32) -> bool {
    matches!(ret, NET_XMIT_SUCCESS | NET_XMIT_CN)
}

/// Allocation context of a socket buffer, mapped to the kernel's GFP flags.
#[derive(Clone, Copy)]
pub(crate) enum Gfp {
    /// Never sleeps and may use the emergency reserves: frames that reclaim (swap-out)
    /// waits for, as sockets with SOCK_MEMALLOC get for NBD/NFS swap. Quietly fails.
    Reserve,
    /// Never sleeps, leaves the emergency reserves alone: frames nobody's reclaim waits for
    /// (a pool node's answers). Quietly fails.
    Atomic,
}

impl Gfp {
    fn raw(self) -> sys::gfp_t {
        match self {
            Gfp::Reserve => {
                kernel::bindings::GFP_ATOMIC
                    | kernel::bindings::__GFP_NOWARN
                    | (1 << kernel::bindings::___GFP_MEMALLOC_BIT)
            }
            Gfp::Atomic => kernel::bindings::GFP_ATOMIC | kernel::bindings::__GFP_NOWARN,
        }
    }
}

/// An `sk_buff` this code owns (one reference), private and linear; freed on drop unless
/// transmitted (frames to send).
///
/// # Invariants
///
/// `ptr` points to a valid `sk_buff` whose reference is owned by this value and whose data is
/// linear (all `len` bytes lie in the head buffer).
pub(crate) struct SkBuff {
    ptr: NonNull<sys::sk_buff>,
}

// SAFETY: an owned `sk_buff` reference may be handed to and freed on any CPU or context.
unsafe impl Send for SkBuff {}

impl SkBuff {
    /// A buffer of `len` bytes, `headroom` bytes reserved before them, written by `fill`:
    /// no byte is cleared first, so `fill` gets them uninitialised and must write them all
    /// (it returns whether it did; if not, the buffer is freed unread and this fails).
    pub(crate) fn from_fill(
        headroom: u32,
        len: usize,
        gfp: Gfp,
        fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> bool,
    ) -> Result<Self> {
        let len_u32 = u32::try_from(len).map_err(|_| EINVAL)?;
        let size = headroom.checked_add(len_u32).ok_or(EINVAL)?;
        let headroom_int = i32::try_from(headroom).map_err(|_| EINVAL)?;
        let ptr = match Self::alloc_frag(size) {
            Some(ptr) => ptr,
            // SAFETY: `omx_alloc_skb` may be called in any context with matching GFP flags.
            None => NonNull::new(unsafe { sys::omx_alloc_skb(size, gfp.raw()) }).ok_or(ENOMEM)?,
        };
        // INVARIANT: a fresh buffer is linear and owned; dropping it frees it.
        let skb = Self { ptr };
        // SAFETY: the buffer is fresh and has at least `headroom` bytes of tailroom.
        unsafe { sys::omx_skb_reserve(ptr.as_ptr(), headroom_int) };
        // After the reserve the buffer has `len` bytes of tailroom: it was allocated with
        // `headroom + len`.
        // SAFETY: the buffer is valid and owned, and `skb_put` does not overrun (above).
        let at = unsafe { sys::skb_put(ptr.as_ptr(), len_u32) }.cast::<MaybeUninit<u8>>();
        if at.is_null() {
            return Err(ENOMEM);
        }
        // `skb_put` returned the `len` bytes just added to this buffer's data, which only this
        // call can reach until it returns the buffer.
        // `MaybeUninit` admits their uninitialised state.
        // SAFETY: those `len` bytes are valid and exclusive (above).
        let data = unsafe { core::slice::from_raw_parts_mut(at, len) };
        if !fill(data) {
            return Err(EINVAL);
        }
        Ok(skb)
    }

    /// A buffer of `size` bytes whose head is a fragment of the per-CPU page cache the
    /// receive path uses (`netdev_alloc_frag`, `build_skb`), for a frame too large for
    /// kmalloc's caches: `alloc_skb` would take pages of order 2 from the page allocator for
    /// each (a jumbo frame), and give them back at its end; a fragment costs a reference on
    /// a 32 KiB page. `None` for smaller frames, or when no fragment can be had (atomically,
    /// without the emergency reserves): the caller then uses `alloc_skb` with its own flags.
    fn alloc_frag(size: u32) -> Option<NonNull<sys::sk_buff>> {
        // SAFETY: only computes a size.
        let fragsz = unsafe { sys::omx_skb_head_align(size) };
        // The largest buffer kmalloc serves from its caches; above it, pages of its own.
        if fragsz <= kernel::bindings::KMALLOC_MAX_CACHE_SIZE {
            return None;
        }
        // SAFETY: called in softirq or process context, never from a hard interrupt; the
        // allocation is atomic.
        let data = NonNull::new(unsafe { sys::omx_netdev_alloc_frag(fragsz) })?;
        // SAFETY: `data` is a fresh fragment of `fragsz` bytes, room for the skb's head and
        // its shared info; on success the buffer owns it, and frees it with itself.
        let skb = NonNull::new(unsafe { sys::build_skb(data.as_ptr(), fragsz) });
        if skb.is_none() {
            // SAFETY: `data` is the fragment allocated above, which nothing else holds.
            unsafe { sys::omx_skb_free_frag(data.as_ptr()) };
        }
        skb
    }

    /// Sets what a transmission expects: the device, the protocol, the MAC header at the
    /// start of the data.
    pub(super) fn prepare_xmit(&mut self, dev: &NetDevice, ethertype: u16) {
        // SAFETY: the buffer is valid and owned, `dev` is a live device (borrowed for this call);
        // the protocol is stored big-endian as the kernel expects.
        unsafe {
            sys::omx_skb_set_dev_protocol(self.ptr.as_ptr(), dev.as_raw(), ethertype.to_be())
        };
    }

    /// Gives up ownership of the buffer (to a call that consumes it).
    pub(super) fn into_raw(self) -> *mut sys::sk_buff {
        core::mem::ManuallyDrop::new(self).ptr.as_ptr()
    }

    /// Takes back a buffer that [`SkBuff::into_raw`] gave away and its taker did not consume.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`SkBuff::into_raw`], its reference unconsumed.
    pub(super) unsafe fn from_raw(ptr: *mut sys::sk_buff) -> Option<Self> {
        // INVARIANT: an `into_raw` buffer is valid, linear and, unconsumed, still ours.
        NonNull::new(ptr).map(|ptr| Self { ptr })
    }

    /// Sends a frame whose Ethernet header is at the start of the data out of `dev`, through
    /// its queueing discipline (one frame, one doorbell; see `tx_burst` for bursts).
    ///
    /// Never sleeps; callable from process, softirq and timer context.
    pub(crate) fn transmit(mut self, dev: &NetDevice, ethertype: u16) -> Result {
        self.prepare_xmit(dev, ethertype);
        // SAFETY: `dev_queue_xmit` consumes our reference whatever it returns.
        let ret = unsafe { sys::omx_dev_queue_xmit(self.into_raw()) };
        if xmit_succeeded(ret) {
            Ok(())
        } else {
            Err(EIO)
        }
    }
}

impl Drop for SkBuff {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we own one reference.
        unsafe { sys::omx_kfree_skb(self.ptr.as_ptr()) };
    }
}

/// A received frame as the networking core hands it to a protocol handler: one reference owned
/// by this value, but the buffer may be shared with other handlers (packet taps) and its data
/// may lie in page fragments. Only what the core guarantees is read here (length, Ethernet
/// header, packet type): a handler decides from these, without allocating, whether the frame
/// is worth [`RxFrame::into_payload`]. Freed on drop.
///
/// # Invariants
///
/// `ptr` points to a valid received `sk_buff` whose reference is owned by this value; its
/// Ethernet header (set by `eth_type_trans`) lies in the head buffer.
pub(crate) struct RxFrame {
    ptr: NonNull<sys::sk_buff>,
}

// SAFETY: an owned `sk_buff` reference may be handed to and freed on any CPU or context.
unsafe impl Send for RxFrame {}

impl RxFrame {
    /// Takes over the reference the networking core gives a `packet_type` handler.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid received `sk_buff` whose reference the caller owns and gives away.
    pub(crate) unsafe fn from_raw(ptr: *mut sys::sk_buff) -> Option<Self> {
        // INVARIANT: guaranteed by the caller (NULL is refused).
        NonNull::new(ptr).map(|ptr| Self { ptr })
    }

    /// Bytes after the Ethernet header (linear or not).
    pub(crate) fn len(&self) -> usize {
        // SAFETY: the buffer is valid by the type invariant; `len` is read, not written.
        unsafe { sys::omx_skb_len(self.ptr.as_ptr()) as usize }
    }

    /// The Ethernet source address, read in place (no copy of the buffer, no allocation).
    pub(crate) fn eth_source(&self) -> Option<MacAddr> {
        // SAFETY: the buffer is valid; the helper returns NULL or a pointer to 6 bytes of the
        // MAC header, which lies in the head buffer and is never written by other readers.
        let src = unsafe { sys::omx_skb_eth_source(self.ptr.as_ptr()) };
        if src.is_null() {
            return None;
        }
        let mut mac = [0u8; 6];
        // SAFETY: `src` points to the 6-byte `h_source` of the valid MAC header.
        unsafe { core::ptr::copy_nonoverlapping(src, mac.as_mut_ptr(), mac.len()) };
        Some(MacAddr(mac))
    }

    /// Whether the frame was addressed to another host (seen only in promiscuous mode or when
    /// a switch floods unicast): protocols must ignore those.
    pub(crate) fn is_for_other_host(&self) -> bool {
        // SAFETY: the buffer is valid.
        u32::from(unsafe { sys::omx_skb_pkt_type(self.ptr.as_ptr()) })
            == kernel::bindings::PACKET_OTHERHOST
    }

    /// The payload as one slice: read in place when it already is one run of bytes (a linear
    /// buffer, or an empty head and one page fragment: virtio-net's mergeable buffers put only
    /// the Ethernet header in the head); else copied into a free buffer of `gather` (the frame
    /// is freed at once), or, when none is free or the payload is larger, made private and
    /// linear, which allocates (atomically) and copies. `None` (frame freed) when memory for
    /// that is lacking.
    pub(crate) fn into_payload(self, gather: &Gather) -> Option<RxPayload<'_>> {
        if let Some((data, len)) = self.contiguous() {
            // INVARIANT: `data` is `len` bytes of this buffer, which the payload now owns.
            return Some(RxPayload(Payload::InPlace {
                _frame: self,
                data,
                len,
            }));
        }
        let len = self.len();
        if len <= GATHER_BYTES {
            if let Some(mut buffer) = gather.take() {
                let to = buffer.bytes_mut().get_mut(..len)?;
                // SAFETY: the buffer is valid; its payload (from `data`, offset 0) is `len`
                // bytes, which `to` has room for.
                let copied = unsafe {
                    sys::skb_copy_bits(self.ptr.as_ptr(), 0, to.as_mut_ptr().cast(), len as i32)
                };
                return (copied == 0).then_some(RxPayload(Payload::Gathered { buffer, len }));
            }
        }
        let raw = core::mem::ManuallyDrop::new(self).ptr.as_ptr();
        // SAFETY: we own the reference and give it to `skb_share_check`, which frees it and
        // returns NULL on failure, otherwise returns a buffer that only we reference.
        let shared = unsafe { sys::omx_skb_share_check(raw, kernel::bindings::GFP_ATOMIC) };
        let frame = RxFrame {
            ptr: NonNull::new(shared)?,
        };
        // SAFETY: the buffer is valid and unshared, so it may be linearized in place; on
        // failure `frame` is dropped (freed).
        if unsafe { sys::omx_skb_linearize(frame.ptr.as_ptr()) } != 0 {
            return None;
        }
        let (data, len) = frame.contiguous()?;
        // INVARIANT: as above.
        Some(RxPayload(Payload::InPlace {
            _frame: frame,
            data,
            len,
        }))
    }

    /// Where the payload lies if it is one run of bytes in the buffer (head or single page
    /// fragment); never copies or allocates.
    fn contiguous(&self) -> Option<(NonNull<u8>, usize)> {
        let skb = self.ptr.as_ptr();
        // SAFETY: the buffer is valid (type invariant); these only read its fields.
        let (len, head, frags, frag_list) = unsafe {
            (
                sys::omx_skb_len(skb) as usize,
                sys::omx_skb_headlen(skb) as usize,
                sys::omx_skb_nr_frags(skb),
                sys::omx_skb_has_frag_list(skb),
            )
        };
        if len == 0 {
            return None;
        }
        if head == len {
            // SAFETY: as above; a linear buffer's `len` bytes start at `data`.
            return NonNull::new(unsafe { sys::omx_skb_data(skb) }).map(|d| (d, len));
        }
        if head != 0 || frags != 1 || frag_list {
            return None;
        }
        // SAFETY: fragment 0 exists (`nr_frags == 1`); its size and address are read.
        let (size, addr) = unsafe {
            (
                sys::omx_skb_frag_size(skb, 0) as usize,
                sys::omx_skb_frag_address_safe(skb, 0),
            )
        };
        if size != len {
            return None;
        }
        NonNull::new(addr.cast::<u8>()).map(|d| (d, len))
    }
}

/// A received frame's payload (the bytes after the Ethernet header), readable as one slice.
pub(crate) struct RxPayload<'g>(Payload<'g>);

/// Where a payload's bytes are (private: only this module makes payloads).
enum Payload<'g> {
    /// Read in place; the frame is freed on drop.
    ///
    /// # Invariants
    ///
    /// `data` points to `len` initialised bytes inside the buffer `_frame` owns (its head or
    /// its page fragment, which the buffer keeps referenced), never written while `_frame`
    /// lives.
    InPlace {
        /// Owns the buffer `data` points into (read through `data` only; freed on drop).
        _frame: RxFrame,
        data: NonNull<u8>,
        len: usize,
    },
    /// Copied into the first `len` bytes of a gather buffer (the frame is freed), given back
    /// on drop.
    Gathered { buffer: Gathered<'g>, len: usize },
}

impl RxPayload<'_> {
    pub(crate) fn data(&self) -> &[u8] {
        match &self.0 {
            // SAFETY: by the variant's invariant `data` is `len` bytes alive as long as `self`.
            Payload::InPlace { data, len, .. } => unsafe {
                core::slice::from_raw_parts(data.as_ptr(), *len)
            },
            Payload::Gathered { buffer, len } => buffer.bytes().get(..*len).unwrap_or_default(),
        }
    }
}

impl Drop for RxFrame {
    fn drop(&mut self) {
        // SAFETY: by the type invariant we own one reference.
        unsafe { sys::omx_kfree_skb(self.ptr.as_ptr()) };
    }
}
