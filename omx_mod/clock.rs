// SPDX-License-Identifier: GPL-2.0

//! The driver's clock: monotonic nanoseconds, the unit the protocol core counts time in.

use kernel::time::Ktime;

pub(crate) const NS_PER_MS: u64 = 1_000_000;

/// Now, in nanoseconds of the monotonic clock.
pub(crate) fn now_ns() -> u64 {
    u64::try_from(Ktime::ktime_get().to_ns()).unwrap_or(0)
}

/// Milliseconds from `now` until `due` (rounded up, at least one: a timer armed with it
/// fires at or after `due`).
pub(crate) fn ms_until(due: u64, now: u64) -> u32 {
    u32::try_from(due.saturating_sub(now).div_ceil(NS_PER_MS))
        .unwrap_or(u32::MAX)
        .max(1)
}
