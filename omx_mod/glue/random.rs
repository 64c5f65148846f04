// SPDX-License-Identifier: GPL-2.0

//! Random numbers from the kernel's CRNG (`get_random_u64`).

/// A random 64-bit value. Any context.
pub(crate) fn random_u64() -> u64 {
    // SAFETY: `get_random_u64` takes no argument and may be called from any context.
    unsafe { kernel::bindings::get_random_u64() }
}
