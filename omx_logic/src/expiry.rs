//! What a block-layer timeout does to a request on a node. The block layer's timeout (30 s)
//! is a last resort: a node that answers nothing is declared dead far sooner, so a request
//! still waiting on a node that is alive (up, or reconnecting within its I/O timeout) is
//! queued behind others on a slow node, not lost.
//!
//! How long it may wait depends on whether the node still answers: a node that answered
//! other requests since the last timeout works through its queue (a client starved under
//! memory pressure drained its 128-request queue at a few frames a second, and requests
//! failed after 120 s that would have completed), so the request gets up to
//! [`MAX_EXTENSIONS`] more timeouts; a node that answered nothing in a whole timeout gets
//! [`MAX_IDLE_EXTENSIONS`]. Then the request fails, so a request lost for good (a bug) ends
//! with an error, not a task hung for ever. As nvme-tcp retries and nbd waits, a swap-in
//! that fails kills the process that needed the page: waiting is the better failure.

/// Block-layer timeouts on top of the first that a request gets while its node is alive but
/// answered nothing since the previous one.
pub const MAX_IDLE_EXTENSIONS: u8 = 3;

/// Block-layer timeouts on top of the first that a request gets in all while its node is
/// alive (answering others in between): 11 x 30 s = 5.5 min at most.
pub const MAX_EXTENSIONS: u8 = 10;

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

/// The timeouts a request has been given so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extensions {
    /// All of them.
    pub total: u8,
    /// Those its node answered nothing before.
    pub idle: u8,
}

/// A block-layer timeout of a request on a node that is `alive` or not, and that
/// `answered` other requests since the request's previous timeout (or its start):
/// [`Expiry::Extended`] (counted in `ext`) or [`Expiry::Cancelled`].
pub fn on_timeout(alive: bool, answered: bool, ext: &mut Extensions) -> Expiry {
    let idle = u8::from(!answered);
    if !alive || ext.total >= MAX_EXTENSIONS || ext.idle + idle > MAX_IDLE_EXTENSIONS {
        return Expiry::Cancelled;
    }
    ext.total += 1;
    ext.idle += idle;
    Expiry::Extended
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_node_that_answers_nothing_gets_max_idle_extensions_then_fails() {
        let mut e = Extensions::default();
        for i in 1..=MAX_IDLE_EXTENSIONS {
            assert_eq!(on_timeout(true, false, &mut e), Expiry::Extended);
            assert_eq!(e.idle, i);
        }
        assert_eq!(on_timeout(true, false, &mut e), Expiry::Cancelled);
    }

    #[test]
    fn a_live_node_that_answers_others_gets_max_extensions_then_fails() {
        let mut e = Extensions::default();
        for i in 1..=MAX_EXTENSIONS {
            assert_eq!(
                on_timeout(true, true, &mut e),
                Expiry::Extended,
                "timeout {i}"
            );
        }
        assert_eq!(
            e,
            Extensions {
                total: MAX_EXTENSIONS,
                idle: 0
            }
        );
        assert_eq!(on_timeout(true, true, &mut e), Expiry::Cancelled);
    }

    #[test]
    fn idle_timeouts_add_up_across_answered_ones() {
        let mut e = Extensions::default();
        for answered in [false, true, false, true, false] {
            assert_eq!(on_timeout(true, answered, &mut e), Expiry::Extended);
        }
        assert_eq!(e, Extensions { total: 5, idle: 3 });
        assert_eq!(on_timeout(true, true, &mut e), Expiry::Extended);
        assert_eq!(on_timeout(true, false, &mut e), Expiry::Cancelled);
    }

    #[test]
    fn a_dead_node_fails_at_once() {
        let mut e = Extensions::default();
        assert_eq!(on_timeout(false, true, &mut e), Expiry::Cancelled);
        assert_eq!(e, Extensions::default());
    }
}
