// SPDX-License-Identifier: GPL-2.0
//! Test-only faults, there to prove that the data-verifying tests notice a wrong byte
//! (scripts/mutation-check.sh). Compiled in only when the module is built with
//! `OMX_MUTATION=flip_read` or `flip_write` (Kbuild sets the cfg); a normal build has none of it.
//! One byte of every [`EVERY`]th read request is flipped as it is copied from the frame into
//! the bio (`flip_read`, in `io.rs`), or of every `EVERY`th write request before it
//! is sent (`flip_write`): corruption the protocol's checks cannot see, as a bug there would be.

use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Few enough that each data test (hundreds of requests at least) is hit.
pub(crate) const EVERY: u32 = 128;
static REQUESTS: AtomicU32 = AtomicU32::new(0);

/// `buf` is the first piece of a request: flips its middle byte once every `EVERY` calls.
pub(crate) fn flip_one_in_n(buf: &mut [u8]) {
    if REQUESTS.fetch_add(1, Relaxed) % EVERY == EVERY - 1 {
        let mid = buf.len() / 2;
        if let Some(b) = buf.get_mut(mid) {
            *b ^= 0xff;
        }
    }
}

/// Told at load time, so that a log shows which mutant ran (one literal: greppable in the .ko).
pub(crate) fn announce() {
    #[cfg(omx_mutation = "flip_read")]
    kernel::pr_warn!(
        "built with the test-only mutation flip_read: flips a byte of one read request in 128\n"
    );
    #[cfg(omx_mutation = "flip_write")]
    kernel::pr_warn!(
        "built with the test-only mutation flip_write: flips a byte of one write request in 128\n"
    );
}
