//! Hostile clients that keep in sequence: an OpenConnection, then numbered frames of random
//! TileLink messages, never acknowledging anything. A pool node executes their requests (it
//! has no memory for these MACs, so it denies them) until it gives up on the client; they
//! open again regularly, as a client that restarted would.

use crate::craft::{self, Scratch, ETH_LEN};
use omx_node::util::Mac;
use omx_proto::{MessageType, Seq, TloeHeader};
use omx_rng::Rng;

/// A session reopens after this long (ns): longer than the node's guard against stale
/// duplicates of an OpenConnection (100 ms), shorter than its dead-client timeout.
const REOPEN: u64 = 300_000_000;

pub struct Session {
    pub mac: Mac,
    next_seq: u32,
    opened_at: u64,
}

impl Session {
    pub fn new(mac: Mac) -> Self {
        Session {
            mac,
            next_seq: 0,
            opened_at: 0,
        }
    }

    /// The session's next frame to `dst`, in `out`.
    pub fn frame(
        &mut self,
        out: &mut Vec<u8>,
        mtu: usize,
        dst: Mac,
        rng: &mut Rng,
        s: &Scratch,
        now: u64,
    ) {
        if self.next_seq == 0 || now.saturating_sub(self.opened_at) > REOPEN {
            let mut h = TloeHeader::new(Seq::new(0), Seq::MAX, false);
            h.msg_type = MessageType::OpenConnection;
            self.next_seq = 1;
            self.opened_at = now;
            out.resize(ETH_LEN + mtu, 0);
            let n = craft::frame_of(out, mtu, dst, self.mac, &h, &[]);
            out.truncate(n);
        } else {
            // SeqAck -1: acknowledges nothing the node sent.
            let h = TloeHeader::new(Seq::new(self.next_seq), Seq::MAX, true);
            self.next_seq += 1;
            craft::random_valid_frame(out, mtu, (dst, self.mac), &h, rng, s, 16);
        }
    }
}
