// SPDX-License-Identifier: GPL-2.0

//! Buffers that a received frame in pieces is gathered into. virtio-net puts a jumbo frame in
//! consecutive 4 KiB buffers of a 32 KiB page, and a frame that crosses into the next page
//! arrives in two page fragments (a sixth of the frames of 1 MiB reads at MTU 9000). Gathering
//! it here costs one copy; `skb_linearize` cost the same copy plus a 9 KiB allocation (pages of
//! order 2) and its free, per frame.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::prelude::*;

/// Bytes of one buffer: a payload of MTU 9000 (larger ones are linearized).
pub(crate) const GATHER_BYTES: usize = 9000;
/// Buffers: as many frames in pieces are gathered at once (receive softirqs on as many CPUs);
/// more are linearized.
const BUFFERS: usize = 4;

struct Buffer {
    /// Whether a [`Gathered`] holds the buffer.
    busy: AtomicBool,
    /// `GATHER_BYTES` bytes, reached only by the [`Gathered`] holding the buffer.
    bytes: UnsafeCell<KVec<u8>>,
}

/// The gather buffers of a receiver, allocated once.
pub(crate) struct Gather {
    buffers: KVec<Buffer>,
}

// SAFETY: a buffer's bytes are reached only through the one `Gathered` that took its `busy`
// flag (Acquire) and clears it when dropped (Release), so no two holders share them.
unsafe impl Sync for Gather {}
// SAFETY: as above; the buffers are plain memory, freed on any CPU.
unsafe impl Send for Gather {}

impl Gather {
    /// `BUFFERS` buffers of `GATHER_BYTES`. Process context.
    pub(crate) fn new() -> Result<Self> {
        let mut buffers = KVec::with_capacity(BUFFERS, GFP_KERNEL)?;
        for _ in 0..BUFFERS {
            let bytes = KVec::from_elem(0u8, GATHER_BYTES, GFP_KERNEL)?;
            buffers.push(
                Buffer {
                    busy: AtomicBool::new(false),
                    bytes: UnsafeCell::new(bytes),
                },
                GFP_KERNEL,
            )?;
        }
        Ok(Self { buffers })
    }

    /// A free buffer, held until the returned value is dropped; `None` if all are taken.
    /// Any context.
    pub(crate) fn take(&self) -> Option<Gathered<'_>> {
        self.buffers
            .iter()
            .find(|b| {
                b.busy
                    .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            })
            .map(|buffer| Gathered { buffer })
    }
}

/// A gather buffer taken for one frame.
///
/// # Invariants
///
/// `buffer.busy` was set by this value, so it alone reaches `buffer.bytes`.
pub(crate) struct Gathered<'a> {
    buffer: &'a Buffer,
}

impl Gathered<'_> {
    /// The buffer's `GATHER_BYTES` bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: by the type invariant nobody else reaches the bytes while `self` lives, and
        // `&self` allows no writes through `bytes_mut` meanwhile.
        unsafe { &*self.buffer.bytes.get() }.as_slice()
    }

    /// The buffer's bytes, to fill.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: by the type invariant nobody else reaches the bytes; `&mut self` makes this
        // the only reference through `self`.
        unsafe { &mut *self.buffer.bytes.get() }.as_mut_slice()
    }
}

impl Drop for Gathered<'_> {
    fn drop(&mut self) {
        self.buffer.busy.store(false, Ordering::Release);
    }
}
