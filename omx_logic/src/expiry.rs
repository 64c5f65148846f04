//! What a block-layer timeout does to a request on a node. The block layer's timeout (30 s)
//! is a last resort: a node that answers nothing is declared dead far sooner, so a request
//! still waiting on a node that is alive (up, or reconnecting within its I/O timeout) is
//! queued behind others on a slow node, not lost. It gets a few more timeouts, then fails.

/// Block-layer timeouts a request on a node that is alive gets on top of the first.
pub const MAX_EXTENSIONS: u8 = 3;

/// What a block-layer timeout did to a request on one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// Not on this node.
    NotHere,
    /// Still waiting: the timer is extended.
    Extended,
    /// Failed now.
    Cancelled,
}

/// The timeout of a request that was extended `extensions` times so far, on a node that is
/// `alive` or not: [`Expiry::Extended`] (and one more extension counted) or
/// [`Expiry::Cancelled`].
pub fn on_timeout(alive: bool, extensions: &mut u8) -> Expiry {
    if alive && *extensions < MAX_EXTENSIONS {
        *extensions += 1;
        return Expiry::Extended;
    }
    Expiry::Cancelled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_node_gets_max_extensions_then_fails() {
        let mut n = 0;
        for i in 1..=MAX_EXTENSIONS {
            assert_eq!(on_timeout(true, &mut n), Expiry::Extended);
            assert_eq!(n, i);
        }
        assert_eq!(on_timeout(true, &mut n), Expiry::Cancelled);
        assert_eq!(n, MAX_EXTENSIONS);
    }

    #[test]
    fn a_dead_node_fails_at_once() {
        let mut n = 0;
        assert_eq!(on_timeout(false, &mut n), Expiry::Cancelled);
        assert_eq!(n, 0);
    }
}
