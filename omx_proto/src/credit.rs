//! Credit-based flow control (spec §5).
//!
//! Credits count 64-bit flits (every flit of a message, header included;
//! padding is free), per channel and per direction. A frame returns credits
//! for at most one channel, as a power of two `2^Credit`.

use super::tilelink::Channel;

/// Credits OmniXtend 1.1 assumes the peer has granted on every channel at
/// connection start (WD endpoint `OX_11_MODE`).
pub const V11_DEFAULT_CREDITS: u32 = 128;
/// Largest grant exponent the 5-bit Credit field can carry.
pub const MAX_GRANT_LOG2: u8 = 31;

/// Credits we may spend sending (granted by the peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxCredits {
    avail: [u32; 5],
}

impl TxCredits {
    /// `initial` flits on every channel (0 for 1.0.3, 128 for 1.1).
    pub const fn new(initial: u32) -> Self {
        TxCredits {
            avail: [initial; 5],
        }
    }

    /// Flits we may still send on `ch`.
    pub fn available(&self, ch: Channel) -> u32 {
        self.avail.get(ch.index()).copied().unwrap_or(0)
    }

    /// Whether a message of `flits` flits may be sent on `ch`.
    pub fn can_send(&self, ch: Channel, flits: usize) -> bool {
        u32::try_from(flits).is_ok_and(|f| self.available(ch) >= f)
    }

    /// Spends `flits` on `ch`; returns `false` (and spends nothing) if the
    /// credit does not cover it.
    pub fn consume(&mut self, ch: Channel, flits: usize) -> bool {
        let Ok(f) = u32::try_from(flits) else {
            return false;
        };
        match self.avail.get_mut(ch.index()) {
            Some(a) if *a >= f => {
                *a -= f;
                true
            }
            _ => false,
        }
    }

    /// Adds a grant of `flits` on `ch` (saturating).
    pub fn grant(&mut self, ch: Channel, flits: u64) {
        if let Some(a) = self.avail.get_mut(ch.index()) {
            let add = u32::try_from(flits).unwrap_or(u32::MAX);
            *a = a.saturating_add(add);
        }
    }
}

/// Credit owed on a channel waits for a frame that goes anyway while it is at most this
/// fraction (1/N) of the channel's buffer ([`RxCredits::worth_a_frame`]).
pub const QUIET_DIVISOR: u32 = 16;

/// Credits we owe the peer for our receive buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxCredits {
    pending: [u64; 5],
    buffer: [u32; 5],
    /// Per channel, how much may stay owed without a frame of its own.
    quiet: [u64; 5],
}

impl RxCredits {
    /// Our receive buffer sizes per channel (A..E, in flits), of which the
    /// peer already assumes `assumed` (0 in 1.0.3, 128 in 1.1): the rest is
    /// owed from the start. `largest_message` (flits) is the most one message
    /// the peer sends can take.
    pub fn new(buffer: [u32; 5], assumed: u32, largest_message: u32) -> Self {
        let mut pending = [0u64; 5];
        let mut quiet = [0u64; 5];
        for ((p, q), b) in pending.iter_mut().zip(quiet.iter_mut()).zip(buffer.iter()) {
            *p = u64::from(b.saturating_sub(assumed));
            // What the peer has then left (the buffer less what is owed) still takes
            // its largest message: withholding that much can never stall it.
            *q = u64::from((b / QUIET_DIVISOR).min(b.saturating_sub(largest_message)));
        }
        RxCredits {
            pending,
            buffer,
            quiet,
        }
    }

    /// Records that `flits` of channel `ch` left our receive buffer (the
    /// message was delivered), so they are owed to the peer again.
    pub fn release(&mut self, ch: Channel, flits: usize) {
        if let Some(p) = self.pending.get_mut(ch.index()) {
            *p = p.saturating_add(flits as u64);
        }
    }

    /// Flits owed on `ch`.
    pub fn pending(&self, ch: Channel) -> u64 {
        self.pending.get(ch.index()).copied().unwrap_or(0)
    }

    /// Whether anything is owed.
    pub fn any_pending(&self) -> bool {
        self.pending.iter().any(|p| *p > 0)
    }

    /// Whether some channel has at least half its buffer owed, so the peer
    /// may be about to stall and a credit frame should go out now.
    pub fn urgent(&self) -> bool {
        self.pending
            .iter()
            .zip(self.buffer.iter())
            .any(|(p, b)| *p > 0 && *p >= u64::from(*b / 2).max(1))
    }

    /// Whether some channel owes enough for a frame of its own: more than a sixteenth of its
    /// buffer, or more than leaves room for the peer's largest message. Less rides on the
    /// frames that go anyway (every sealed frame takes a grant): the peer keeps room for its
    /// next message, and a remainder too small for one power-of-two grant no longer costs
    /// frames of its own (a client's 4 KiB reads at MTU 1500 sent 0.9 credit-only frames per
    /// read, each acknowledged by the pool).
    pub fn worth_a_frame(&self) -> bool {
        self.pending
            .iter()
            .zip(self.quiet.iter())
            .any(|(p, q)| *p > 0 && *p > *q)
    }

    /// Takes the next grant: the largest power of two not above the largest
    /// owed amount (WD endpoint policy). Returns channel and exponent.
    pub fn take_grant(&mut self) -> Option<(Channel, u8)> {
        let mut best: Option<(usize, u64)> = None;
        for (i, p) in self.pending.iter().enumerate() {
            if *p > 0 && best.is_none_or(|(_, b)| *p > b) {
                best = Some((i, *p));
            }
        }
        let (i, p) = best?;
        let log2 = (63 - p.leading_zeros()).min(u32::from(MAX_GRANT_LOG2)) as u8;
        let ch = *Channel::ALL.get(i)?;
        if let Some(slot) = self.pending.get_mut(i) {
            *slot = slot.saturating_sub(1u64 << log2);
        }
        Some((ch, log2))
    }

    /// Puts back a grant taken with [`RxCredits::take_grant`] that was not sent.
    pub fn untake(&mut self, grant: (Channel, u8)) {
        self.release(grant.0, 1usize << (grant.1 & 31).min(62));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tx() {
        let mut c = TxCredits::new(0);
        assert!(!c.consume(Channel::A, 2));
        c.grant(Channel::A, 4);
        assert!(c.can_send(Channel::A, 4));
        assert!(c.consume(Channel::A, 3));
        assert_eq!(c.available(Channel::A), 1);
        c.grant(Channel::A, 1 << 31);
        c.grant(Channel::A, 1 << 31);
        assert_eq!(c.available(Channel::A), u32::MAX);
    }

    #[test]
    fn rx_grants_powers_of_two() {
        let mut r = RxCredits::new([1000, 0, 0, 128, 0], 0, 1000);
        assert!(r.urgent());
        let mut total = 0u64;
        let mut n = 0;
        while let Some((ch, l)) = r.take_grant() {
            if ch == Channel::A {
                total += 1 << l;
            }
            n += 1;
        }
        assert_eq!(total, 1000);
        assert_eq!(n, 6 + 1); // 512 256 128 64 32 8 on A, 128 on D
        let mut r = RxCredits::new([256; 5], 128, 256);
        assert_eq!(r.pending(Channel::C), 128);
        r.release(Channel::A, 10);
        assert_eq!(r.take_grant(), Some((Channel::A, 7)));
    }

    #[test]
    fn small_debts_wait_for_a_frame_unless_the_peer_could_stall() {
        // A large buffer: up to a sixteenth of it waits (1024 / 16 = 64 flits).
        let mut r = RxCredits::new([1024; 5], 1024, 187);
        assert!(!r.worth_a_frame());
        r.release(Channel::D, 64);
        assert!(
            !r.worth_a_frame(),
            "64 of 1024 owed: the peer has 960 for a 187-flit message"
        );
        r.release(Channel::D, 1);
        assert!(r.worth_a_frame());
        // A buffer of one largest message: every flit owed could stall the peer.
        let mut r = RxCredits::new([146; 5], 146, 146);
        r.release(Channel::A, 1);
        assert!(r.worth_a_frame());
        // Between: the room for the largest message bounds the wait below the sixteenth.
        let mut r = RxCredits::new([1000; 5], 1000, 990);
        r.release(Channel::A, 10);
        assert!(!r.worth_a_frame());
        r.release(Channel::A, 1);
        assert!(
            r.worth_a_frame(),
            "11 owed leaves 989 flits, less than a 990-flit message"
        );
    }
}
