//! A node's life as this host reports it: its state derived from its connection's, I/O held
//! while a lost connection is re-established, and whether the node kept its memory contents.
//!
//! A node that was up (or saying goodbye) and loses its connection is not dead at once: it
//! is `Connecting` with its I/O held (sent again once the connection is back and the node's
//! identity shows it kept its memory) until `hold_until`; then it is `Dead`. Reconnect
//! attempts of a dead node stay `Dead` until the node answers: listeners hear "dead" once
//! and "up" when it is back, not every failed attempt.

/// Node states as reported over netlink (`node-state` enum of the spec).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeState {
    /// Opening the connection, or waiting for the identity check, or reconnecting with I/O held.
    Connecting = 0,
    /// Serving I/O.
    Up = 1,
    /// Not reachable: its I/O fails.
    Dead = 2,
    /// The connection is being closed.
    Closing = 3,
}

impl NodeState {
    /// Whether I/O waiting on the node may still be answered (up, or reconnecting within its
    /// I/O timeout): block-layer timeouts are extended on it.
    pub fn is_alive(self) -> bool {
        self != NodeState::Dead
    }
}

/// What the node's connection is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnPhase {
    /// Opening (or listening for the node to open).
    Opening,
    /// Open.
    Open,
    /// Closing, from either side.
    Closing,
    /// Failed or closed for good, or there is none.
    Gone,
}

/// A node's reported state and how long its I/O is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifecycle {
    /// The state last reported.
    pub state: NodeState,
    /// While a lost connection of a node that was up is re-established: when the I/O held for
    /// it fails (0: not holding).
    pub hold_until: u64,
}

/// The outcome of [`Lifecycle::update`]: the new lifecycle and what the node must do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Update {
    /// The lifecycle to keep.
    pub next: Lifecycle,
    /// The reported state changed (to `next.state`): tell listeners. On a change to `Dead`,
    /// fail the I/O (nothing in flight will be answered) and reopen later; on a change to
    /// `Up`, schedule the next keepalive.
    pub changed: bool,
    /// The I/O is held from now on: rewind it (sent again whole on the next connection) and
    /// reopen after a pause.
    pub hold: bool,
    /// Contact with the node was lost: an unknown identity now means unknown contents.
    pub contact_lost: bool,
}

impl Lifecycle {
    /// A node just added: connecting, nothing held.
    pub const fn new() -> Self {
        Self {
            state: NodeState::Connecting,
            hold_until: 0,
        }
    }

    /// The state after the connection reached `conn`, with the node's identity `verified`
    /// on it or not, at `now` (ns); I/O of a node that was up waits `hold_ns` for it to come
    /// back (0: it fails at once).
    pub fn update(self, conn: ConnPhase, verified: bool, now: u64, hold_ns: u64) -> Update {
        let mut hold_until = self.hold_until;
        let mut hold = false;
        let mut new = match conn {
            ConnPhase::Open if verified => NodeState::Up,
            ConnPhase::Open | ConnPhase::Opening => NodeState::Connecting,
            ConnPhase::Closing => NodeState::Closing,
            ConnPhase::Gone => NodeState::Dead,
        };
        let held = if new != NodeState::Dead {
            false
        } else if hold_until != 0 {
            now < hold_until
        } else if !matches!(self.state, NodeState::Up | NodeState::Closing) || hold_ns == 0 {
            // Only a node that was serving holds its I/O.
            false
        } else {
            hold_until = now.saturating_add(hold_ns).max(1);
            hold = true;
            true
        };
        if held {
            // Not dead yet: reconnecting, with its I/O waiting.
            new = NodeState::Connecting;
        } else if hold_until != 0 && new != NodeState::Up && now >= hold_until {
            new = NodeState::Dead;
        }
        if new == NodeState::Up {
            hold_until = 0;
        }
        let mut contact_lost = hold;
        let quiet =
            new == self.state || (self.state == NodeState::Dead && new == NodeState::Connecting);
        if quiet {
            return Update {
                next: Lifecycle {
                    state: self.state,
                    hold_until,
                },
                changed: false,
                hold,
                contact_lost,
            };
        }
        if new == NodeState::Dead {
            hold_until = 0;
            // A node that never came up held nothing yet (one that was held already counts
            // as having lost contact).
            if self.state != NodeState::Connecting {
                contact_lost = true;
            }
        }
        Update {
            next: Lifecycle {
                state: new,
                hold_until,
            },
            changed: true,
            hold,
            contact_lost,
        }
    }
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether a node still holds what devices stored on it, from the identity `known` before
/// and the one it answered now (`None`: it has none): the same identity, or a first contact,
/// keeps the contents; anything else after a loss of contact (another identity, or none to
/// compare) lost them.
pub fn keeps_contents<I: PartialEq>(
    known: Option<&I>,
    got: Option<&I>,
    contact_lost: bool,
) -> bool {
    match (known, got) {
        (Some(a), Some(b)) => a == b,
        _ => !contact_lost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConnPhase::{Gone, Open, Opening};
    use NodeState::*;

    const HOLD: u64 = 10_000;

    fn at(state: NodeState, hold_until: u64) -> Lifecycle {
        Lifecycle { state, hold_until }
    }

    #[test]
    fn state_follows_the_connection_and_the_identity() {
        let l = Lifecycle::new();
        let u = l.update(Open, false, 5, HOLD);
        assert_eq!((u.next.state, u.changed), (Connecting, false));
        let u = l.update(Open, true, 5, HOLD);
        assert_eq!((u.next.state, u.changed, u.hold), (Up, true, false));
        let u = at(Up, 0).update(ConnPhase::Closing, true, 5, HOLD);
        assert_eq!((u.next.state, u.changed), (Closing, true));
    }

    #[test]
    fn a_node_that_was_up_holds_its_io_then_dies() {
        let u = at(Up, 0).update(Gone, true, 100, HOLD);
        assert_eq!(
            u,
            Update {
                next: at(Connecting, 100 + HOLD),
                changed: true,
                hold: true,
                contact_lost: true
            }
        );
        // Still held: nothing new.
        let u = u.next.update(Opening, false, 200, HOLD);
        assert_eq!(
            u,
            Update {
                next: at(Connecting, 100 + HOLD),
                changed: false,
                hold: false,
                contact_lost: false
            }
        );
        let u = u.next.update(Gone, false, 300, HOLD);
        assert_eq!(
            (u.next, u.changed, u.hold),
            (at(Connecting, 100 + HOLD), false, false)
        );
        // The hold ends: dead, and the hold is over.
        let u = u.next.update(Opening, false, 100 + HOLD, HOLD);
        assert_eq!(
            u,
            Update {
                next: at(Dead, 0),
                changed: true,
                hold: false,
                contact_lost: false
            }
        );
    }

    #[test]
    fn back_within_the_hold_is_up_again() {
        let u = at(Connecting, 500).update(Open, true, 400, HOLD);
        assert_eq!(
            u,
            Update {
                next: at(Up, 0),
                changed: true,
                hold: false,
                contact_lost: false
            }
        );
    }

    #[test]
    fn no_hold_without_an_io_timeout_or_before_first_up() {
        let u = at(Up, 0).update(Gone, true, 100, 0);
        assert_eq!(
            u,
            Update {
                next: at(Dead, 0),
                changed: true,
                hold: false,
                contact_lost: true
            }
        );
        let u = at(Connecting, 0).update(Gone, false, 100, HOLD);
        assert_eq!(
            u,
            Update {
                next: at(Dead, 0),
                changed: true,
                hold: false,
                contact_lost: false
            }
        );
        let u = at(Closing, 0).update(Gone, false, 100, HOLD);
        assert_eq!((u.next.state, u.hold), (Connecting, true));
    }

    #[test]
    fn reconnect_attempts_of_a_dead_node_stay_dead() {
        let u = at(Dead, 0).update(Opening, false, 100, HOLD);
        assert_eq!(
            u,
            Update {
                next: at(Dead, 0),
                changed: false,
                hold: false,
                contact_lost: false
            }
        );
        let u = at(Dead, 0).update(Open, false, 100, HOLD);
        assert!(!u.changed);
        let u = at(Dead, 0).update(Open, true, 100, HOLD);
        assert_eq!((u.next.state, u.changed), (Up, true));
    }

    #[test]
    fn hold_until_never_zero_while_holding() {
        let u = at(Up, 0).update(Gone, true, 0, 1);
        assert_eq!(u.next.hold_until, 1);
        let u = at(Up, 0).update(Gone, true, u64::MAX - 1, 5);
        assert_eq!(u.next.hold_until, u64::MAX);
    }

    #[test]
    fn alive_is_anything_but_dead() {
        assert!(Up.is_alive() && Connecting.is_alive() && Closing.is_alive());
        assert!(!Dead.is_alive());
    }

    #[test]
    fn contents_are_kept_by_the_same_identity_or_a_first_contact() {
        assert!(keeps_contents(Some(&1), Some(&1), true));
        assert!(!keeps_contents(Some(&1), Some(&2), false));
        assert!(keeps_contents::<u8>(None, None, false));
        assert!(keeps_contents(None, Some(&1), false));
        assert!(keeps_contents(Some(&1), None, false));
        assert!(!keeps_contents::<u8>(None, None, true));
        assert!(!keeps_contents(Some(&1), None, true));
        assert!(!keeps_contents(None, Some(&1), true));
    }
}
