//! Test-only fault, compiled in only with the cargo feature `mutation-drop-write` (never on by
//! default): the node acknowledges every [`DROP_EVERY`]th write (PutFullData or PutPartialData
//! message) without storing it. `scripts/mutation-check.sh` runs the data-verifying VM tests
//! against such a node to prove that they notice a lost write.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// One write in this many is acknowledged and not stored.
pub const DROP_EVERY: u64 = 100;

/// Writes this process has seen.
static WRITES: AtomicU64 = AtomicU64::new(0);

/// Whether the `n`th write (counted from 1) is dropped.
fn dropped(n: u64) -> bool {
    n % DROP_EVERY == 0
}

/// Counts one write in range; true when it is to be acknowledged without being stored.
pub fn drop_this_write() -> bool {
    dropped(WRITES.fetch_add(1, Relaxed) + 1)
}

/// Told once at start, so that a log shows which mutant ran.
pub const NOTICE: &str = "built with the test-only mutation drop-write: every 100th write is acknowledged and not stored";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_exactly_every_hundredth_write() {
        let dropped_writes: Vec<u64> = (1..=1000).filter(|&n| dropped(n)).collect();
        assert_eq!(
            dropped_writes,
            (1..=10).map(|k| k * DROP_EVERY).collect::<Vec<_>>()
        );
        assert!(!dropped(1) && !dropped(99) && dropped(100) && !dropped(101));
    }

    #[test]
    fn the_counter_drops_one_in_a_hundred() {
        // The only test touching the process-wide counter: any 100 calls in a row drop one.
        let n = (0..10 * DROP_EVERY).filter(|_| drop_this_write()).count();
        assert_eq!(n, 10);
    }
}
