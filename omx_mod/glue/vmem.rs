// SPDX-License-Identifier: GPL-2.0

//! Large zeroed buffers from vmalloc: zeroed page by page as they are allocated (`__GFP_ZERO`),
//! not byte by byte afterwards, and without kvmalloc's limit of `INT_MAX` bytes.

use kernel::prelude::*;

/// `len` bytes, all zero, in virtually contiguous memory; `ENOMEM` (without a warning) when
/// they cannot be had. Process context (may sleep).
pub(crate) fn zeroed_bytes(len: usize) -> Result<VVec<u8>> {
    let mut v = VVec::<u8>::with_capacity(len, GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN)?;
    // SAFETY: `with_capacity` allocated room for at least `len` bytes with `__GFP_ZERO`, so the
    // first `len` are initialised (to zero, a valid `u8`).
    unsafe { v.set_len(len) };
    Ok(v)
}
