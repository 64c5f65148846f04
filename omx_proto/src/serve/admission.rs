//! Which frames from a client open a connection, and when an OpenConnection from a client
//! that has one starts a new one.

use super::super::connection::{State, Version};
use super::super::header::{MessageType, TloeHeader};
use super::super::seq::Seq;

/// Which protocol versions a node accepts from new clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionPolicy {
    /// 1.1 when the first frame is OpenConnection, else 1.0.3 (seq 0).
    Auto,
    /// Only 1.1 (OpenConnection required).
    V1_1,
    /// Only 1.0.3.
    V1_0_3,
}

/// The version of the connection a frame with header `h` opens from a client without one
/// under `policy`, or `None` if it opens none.
pub fn opening_version(h: &TloeHeader, policy: VersionPolicy) -> Option<Version> {
    match (h.msg_type, policy) {
        (MessageType::OpenConnection, VersionPolicy::Auto | VersionPolicy::V1_1) => {
            Some(Version::V1_1)
        }
        (MessageType::Normal, VersionPolicy::Auto | VersionPolicy::V1_0_3) if h.seq.get() == 0 => {
            Some(Version::V1_0_3)
        }
        _ => None,
    }
}

/// Whether a 1.1 OpenConnection `open` from a client whose connection is in `st` starts a new
/// connection. 1.1 has no connection id and every connection starts at sequence 0, but a
/// client resends its Open (Go-Back-N) until it is acknowledged, with SeqAck saying what it
/// received of ours, while a new connection's Open has received nothing (SeqAck 0x3FFFFF). A
/// slow client (a debug kernel under emulation) resends its window, Open included, long
/// after opening: taking that for a reconnect would drop a working connection and the
/// answers on their way. So an Open that acknowledges something is a duplicate. One that
/// does not is a reconnect unless the client is `in_contact`: the connection is young (a
/// stale duplicate of the original), or the client still acknowledges what we send. A
/// client that restarted acknowledges nothing (when idle, a probe sent on its Open finds that
/// out within a retransmit timeout), while an Open replayed or forged in its name must not
/// cut off a client that is working. Resetting a connection that has seen nothing but the
/// Open is harmless either way.
pub fn open_starts_new_connection(
    st: State,
    open: &TloeHeader,
    only_open: bool,
    in_contact: bool,
) -> bool {
    if matches!(st, State::Closed | State::Closing | State::Dead) {
        return true;
    }
    st != State::Listening && opens_afresh(open) && (only_open || !in_contact)
}

/// Whether an OpenConnection has received nothing of ours: a new connection's, not a resend.
pub fn opens_afresh(open: &TloeHeader) -> bool {
    !open.ack && open.seq_ack == Seq::MAX
}
