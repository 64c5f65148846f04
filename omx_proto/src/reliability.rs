//! Go-Back-N reliability (spec §4): the transmit window with its retransmit
//! buffer, and the receive-side sequence / acknowledgement state.
//!
//! Transmitter: `NEXT_TX_SEQ` starts at 0 and `ACKD_SEQ` at 2^22 - 1; a new
//! frame may be started while the retransmit buffer has room and
//! `(NEXT_TX_SEQ - ACKD_SEQ) mod 2^22 < 2^21`. ACK(N) frees every frame up to
//! N; NAK(N) frees them and resends everything after N; a timeout resends
//! everything unacknowledged. Receiver: accept only `NEXT_RX_SEQ`, drop and
//! ACK duplicates, drop and NAK frames from the future.

use core::ops::DerefMut;

use super::error::Error;
use super::frame::{FrameLimits, Packer};
use super::header::{MessageType, TloeHeader};
use super::seq::{Seq, SeqClass, MAX_WINDOW, SEQ_HALF};

/// Bookkeeping of one retransmit-buffer slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotMeta {
    len: usize,
    seq: Seq,
    eliciting: bool,
    msg_type: MessageType,
    packer: Packer,
    sent_at: u64,
}

impl SlotMeta {
    const EMPTY: SlotMeta = SlotMeta {
        len: 0,
        seq: Seq::new(0),
        eliciting: false,
        msg_type: MessageType::Normal,
        packer: Packer::new(),
        sent_at: 0,
    };
}

/// Outcome of the retransmit timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerOutcome {
    /// Nothing happened.
    Idle,
    /// The timer expired; everything unacknowledged will be resent.
    Retransmit,
    /// The timer expired more than the allowed number of times in a row.
    Exhausted,
}

/// The transmit side: a ring of `N` frame slots carved from caller memory.
///
/// Ring layout from `head`: `[sent/unsent sealed frames ...][open frame]`.
/// Sealed frames own a sequence number and are kept until acknowledged.
#[derive(Debug)]
pub struct TxWindow<B, const N: usize> {
    mem: B,
    slot_size: usize,
    meta: [SlotMeta; N],
    head: usize,
    sealed: usize,
    open: bool,
    next_send: usize,
    highest_sent: usize,
    ackd: Seq,
    next_seq: Seq,
    window: usize,
    rto_deadline: Option<u64>,
    timeouts: u32,
}

impl<B: DerefMut<Target = [u8]>, const N: usize> TxWindow<B, N> {
    /// Gives the slot memory back (e.g. to build a fresh window on it).
    pub fn into_memory(self) -> B {
        self.mem
    }

    /// A window over `mem` split into `N` slots of `slot_size` bytes, at most
    /// `window` frames unacknowledged, first sequence number `start`.
    pub fn new(mem: B, slot_size: usize, window: u32, start: Seq) -> Result<Self, Error> {
        let need = slot_size.checked_mul(N).ok_or(Error::BadConfig)?;
        if N < 1 || mem.len() < need || slot_size < 16 || window == 0 {
            return Err(Error::BadConfig);
        }
        let window = (window.min(MAX_WINDOW) as usize).min(N);
        Ok(TxWindow {
            mem,
            slot_size,
            meta: [SlotMeta::EMPTY; N],
            head: 0,
            sealed: 0,
            open: false,
            next_send: 0,
            highest_sent: 0,
            ackd: start.prev(),
            next_seq: start,
            window,
            rto_deadline: None,
            timeouts: 0,
        })
    }

    fn idx(&self, off: usize) -> usize {
        self.head.wrapping_add(off) % N.max(1)
    }

    fn slot_mut(&mut self, idx: usize) -> Option<&mut [u8]> {
        let start = idx.checked_mul(self.slot_size)?;
        let end = start.checked_add(self.slot_size)?;
        self.mem.get_mut(start..end)
    }

    /// `NEXT_TX_SEQ`.
    pub const fn next_seq(&self) -> Seq {
        self.next_seq
    }

    /// `ACKD_SEQ`.
    pub const fn ackd(&self) -> Seq {
        self.ackd
    }

    /// Number of sealed, unacknowledged frames.
    pub const fn unacked(&self) -> usize {
        self.sealed
    }

    /// Whether `s` (a sequence number this window issued) is acknowledged.
    pub fn is_acked(&self, s: Seq) -> bool {
        self.ackd.distance_from(s) < SEQ_HALF
    }

    /// Whether a new frame can be opened (retransmit buffer and window).
    pub fn can_open(&self) -> bool {
        !self.open && self.sealed < self.window && self.sealed.saturating_add(1) <= N
    }

    /// Whether, after sealing the open frame, another one could be opened.
    pub fn can_open_after_seal(&self) -> bool {
        let sealed = self.sealed.saturating_add(1);
        self.open && sealed < self.window && sealed.saturating_add(1) <= N
    }

    /// Whether an open (unsealed) frame exists.
    pub const fn has_open(&self) -> bool {
        self.open
    }

    /// The packer of the open frame.
    pub fn open_packer(&self) -> Option<&Packer> {
        if self.open {
            self.meta.get(self.idx(self.sealed)).map(|m| &m.packer)
        } else {
            None
        }
    }

    /// Opens a new empty frame.
    pub fn open_new(&mut self) -> Result<(), Error> {
        if !self.can_open() {
            return Err(Error::WindowFull);
        }
        let i = self.idx(self.sealed);
        let m = self.meta.get_mut(i).ok_or(Error::WindowFull)?;
        *m = SlotMeta::EMPTY;
        self.open = true;
        Ok(())
    }

    /// Runs `f` on the open frame's payload buffer and packer.
    pub fn with_open<R>(&mut self, f: impl FnOnce(&mut [u8], &mut Packer) -> R) -> Option<R> {
        if !self.open {
            return None;
        }
        let i = self.idx(self.sealed);
        let mut packer = self.meta.get(i)?.packer;
        let r = f(self.slot_mut(i)?, &mut packer);
        if let Some(m) = self.meta.get_mut(i) {
            m.packer = packer;
        }
        Some(r)
    }

    /// Seals the open frame (opening an empty one first if needed): assigns
    /// `NEXT_TX_SEQ`, writes `header` (with that sequence number), padding and
    /// mask. `eliciting` marks frames whose loss must be repaired by timeout.
    pub fn seal(
        &mut self,
        limits: &FrameLimits,
        mut header: TloeHeader,
        eliciting: bool,
    ) -> Result<Seq, Error> {
        if !self.open {
            self.open_new()?;
        }
        let i = self.idx(self.sealed);
        let packer = self.meta.get(i).ok_or(Error::WindowFull)?.packer;
        header.seq = self.next_seq;
        let len = packer.finish(
            self.slot_mut(i).ok_or(Error::BufferTooSmall)?,
            limits,
            &header,
        )?;
        let m = self.meta.get_mut(i).ok_or(Error::WindowFull)?;
        m.len = len;
        m.seq = header.seq;
        m.eliciting = eliciting || !packer.is_empty();
        m.msg_type = header.msg_type;
        self.open = false;
        self.sealed = self.sealed.saturating_add(1);
        let s = self.next_seq;
        self.next_seq = s.next();
        Ok(s)
    }

    /// The next frame to (re)transmit: its payload, message type and whether
    /// it is a retransmission.
    pub fn peek_transmit(&self) -> Option<(&[u8], MessageType, bool)> {
        if self.next_send >= self.sealed {
            return None;
        }
        let i = self.idx(self.next_send);
        let m = self.meta.get(i)?;
        let start = i.checked_mul(self.slot_size)?;
        let end = start.checked_add(m.len)?;
        let buf = self.mem.get(start..end)?;
        Some((buf, m.msg_type, self.next_send < self.highest_sent))
    }

    /// Records that the frame returned by [`TxWindow::peek_transmit`] went out.
    pub fn mark_transmitted(&mut self, now: u64, rto: u64) {
        if self.next_send >= self.sealed {
            return;
        }
        let i = self.idx(self.next_send);
        if let Some(m) = self.meta.get_mut(i) {
            m.sent_at = now;
        }
        self.next_send = self.next_send.saturating_add(1);
        self.highest_sent = self.highest_sent.max(self.next_send);
        if self.rto_deadline.is_none() && self.outstanding_eliciting() {
            self.rto_deadline = Some(now.saturating_add(rto));
        }
    }

    /// Whether a transmitted, unacknowledged frame needs an acknowledgement.
    pub fn outstanding_eliciting(&self) -> bool {
        (0..self.highest_sent).any(|off| self.meta.get(self.idx(off)).is_some_and(|m| m.eliciting))
    }

    /// Number of sealed, unacknowledged frames that need no acknowledgement.
    pub fn unacked_non_eliciting(&self) -> usize {
        (0..self.sealed)
            .filter(|off| self.meta.get(self.idx(*off)).is_some_and(|m| !m.eliciting))
            .count()
    }

    /// The effective window (frames).
    pub const fn window(&self) -> usize {
        self.window
    }

    /// Whether any sealed, unacknowledged frame needs an acknowledgement.
    pub fn unacked_eliciting(&self) -> bool {
        (0..self.sealed).any(|off| self.meta.get(self.idx(off)).is_some_and(|m| m.eliciting))
    }

    /// Whether an acknowledgement (ACK or NAK) of `n` names a frame never transmitted: after
    /// `ACKD_SEQ` (in the half of the sequence space ahead of it) and beyond the last frame
    /// sent. Older ones (behind `ACKD_SEQ`) are late, not unsent.
    pub fn names_unsent(&self, n: Seq) -> bool {
        let d = n.distance_from(self.ackd);
        d < SEQ_HALF && d as usize > self.highest_sent
    }

    /// Applies a cumulative acknowledgement of everything up to `n`.
    /// Returns whether `ACKD_SEQ` advanced. Acknowledgements that do not
    /// advance it, or name frames never sent, are ignored.
    pub fn on_ack(&mut self, n: Seq, now: u64, rto: u64) -> bool {
        let d = n.distance_from(self.ackd) as usize;
        if d == 0 || d > self.highest_sent {
            return false;
        }
        self.head = self.idx(d);
        self.sealed = self.sealed.saturating_sub(d);
        self.next_send = self.next_send.saturating_sub(d);
        self.highest_sent = self.highest_sent.saturating_sub(d);
        self.ackd = n;
        self.timeouts = 0;
        self.rto_deadline = if self.outstanding_eliciting() {
            Some(now.saturating_add(rto))
        } else {
            None
        };
        true
    }

    /// Applies a NAK: acknowledges up to `n`, then goes back to resend
    /// everything after `n`, unless the frame after `n` was (re)sent less
    /// than `holdoff` ago (the NAK then predates that transmission, e.g. it
    /// was caused by reordering). Returns whether a go-back was started.
    pub fn on_nak(&mut self, n: Seq, now: u64, rto: u64, holdoff: u64) -> bool {
        let behind = self.ackd.distance_from(n);
        if behind != 0 && behind <= SEQ_HALF {
            return false; // stale NAK from before our current ACKD_SEQ
        }
        self.on_ack(n, now, rto);
        if self.ackd != n || self.highest_sent == 0 {
            return false;
        }
        if let Some(m) = self.meta.get(self.idx(0)) {
            if now < m.sent_at.saturating_add(holdoff) {
                return false;
            }
        }
        self.next_send = 0;
        true
    }

    /// Runs the retransmit timer: on expiry everything unacknowledged is
    /// scheduled again; after more than `max_retransmits` consecutive
    /// expiries without progress the window reports exhaustion.
    pub fn on_timer(&mut self, now: u64, max_retransmits: u32) -> TimerOutcome {
        match self.rto_deadline {
            Some(t) if now >= t => {
                self.rto_deadline = None;
                if !self.outstanding_eliciting() {
                    return TimerOutcome::Idle;
                }
                self.timeouts = self.timeouts.saturating_add(1);
                if self.timeouts > max_retransmits {
                    return TimerOutcome::Exhausted;
                }
                self.next_send = 0;
                TimerOutcome::Retransmit
            }
            _ => TimerOutcome::Idle,
        }
    }

    /// Consecutive retransmit timeouts without progress.
    pub const fn timeouts(&self) -> u32 {
        self.timeouts
    }

    /// Deadline of the retransmit timer.
    pub const fn rto_deadline(&self) -> Option<u64> {
        self.rto_deadline
    }

    /// Whether a sealed frame is waiting to be (re)transmitted.
    pub const fn has_pending_transmit(&self) -> bool {
        self.next_send < self.sealed
    }
}

/// The receive side: `NEXT_RX_SEQ` and what to acknowledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxState {
    next: Seq,
    ack_deadline: Option<u64>,
    nak_pending: bool,
    last_nak: Option<(Seq, u64)>,
    received_any: bool,
}

impl RxState {
    /// Expecting `start` first.
    pub const fn new(start: Seq) -> Self {
        RxState {
            next: start,
            ack_deadline: None,
            nak_pending: false,
            last_nak: None,
            received_any: false,
        }
    }

    /// `NEXT_RX_SEQ`.
    pub const fn next(&self) -> Seq {
        self.next
    }

    /// Whether an in-order frame was ever accepted.
    pub const fn received_any(&self) -> bool {
        self.received_any
    }

    /// Classifies an incoming sequence number.
    pub const fn classify(&self, s: Seq) -> SeqClass {
        s.classify(self.next)
    }

    /// Accepts the in-order frame (a NAK still pending for the gap it
    /// closes is dropped).
    pub fn accept(&mut self) {
        self.next = self.next.next();
        self.nak_pending = false;
        self.received_any = true;
    }

    /// Requests an ACK no later than `at`.
    pub fn schedule_ack(&mut self, at: u64) {
        self.ack_deadline = Some(self.ack_deadline.map_or(at, |d| d.min(at)));
    }

    /// Requests a NAK for the current gap, unless one was sent for it less
    /// than `holdoff` ago. Returns whether one was requested.
    pub fn request_nak(&mut self, now: u64, holdoff: u64) -> bool {
        if let Some((s, t)) = self.last_nak {
            if s == self.next && now < t.saturating_add(holdoff) {
                return false;
            }
        }
        self.nak_pending = true;
        true
    }

    /// Whether a NAK is waiting to be sent.
    pub const fn nak_pending(&self) -> bool {
        self.nak_pending
    }

    /// Pending ACK deadline.
    pub const fn ack_deadline(&self) -> Option<u64> {
        self.ack_deadline
    }

    /// Whether an acknowledgement (ACK due or NAK pending) must go out by `now`.
    pub fn ack_due(&self, now: u64) -> bool {
        self.nak_pending || self.ack_deadline.is_some_and(|d| now >= d)
    }

    /// The `(Sequence_number_ack, Ack)` fields for a frame sent now; sending
    /// them satisfies any pending ACK or NAK.
    pub fn take_ack_fields(&mut self, now: u64) -> (Seq, bool) {
        let nak = self.nak_pending;
        if nak {
            self.last_nak = Some((self.next, now));
            self.nak_pending = false;
        }
        self.ack_deadline = None;
        (self.next.prev(), !nak)
    }

    /// The current fields without consuming anything.
    pub const fn ack_fields(&self) -> (Seq, bool) {
        (self.next.prev(), !self.nak_pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_frees_and_gobackn() {
        let mut mem = [0u8; 4 * 64];
        let mut t: TxWindow<&mut [u8], 4> =
            TxWindow::new(&mut mem[..], 64, 100, Seq::new(0)).unwrap();
        let l = FrameLimits::with_mtu(64);
        let h = TloeHeader::new(Seq::new(0), Seq::MAX, true);
        for i in 0..4 {
            assert_eq!(t.seal(&l, h, true).unwrap(), Seq::new(i));
        }
        assert!(!t.can_open());
        assert_eq!(t.seal(&l, h, true), Err(Error::WindowFull));
        for _ in 0..4 {
            assert!(t.peek_transmit().is_some());
            t.mark_transmitted(0, 100);
        }
        assert!(t.peek_transmit().is_none());
        assert_eq!(t.rto_deadline(), Some(100));
        assert!(t.on_ack(Seq::new(1), 10, 100));
        assert_eq!(t.unacked(), 2);
        assert!(!t.on_ack(Seq::new(1), 10, 100));
        assert!(!t.on_ack(Seq::new(9), 10, 100)); // never sent
        assert!(!t.on_nak(Seq::new(1), 20, 100, 50)); // frame 2 sent at 0 < 50
        assert!(t.on_nak(Seq::new(1), 50, 100, 50));
        let (f, _, retx) = t.peek_transmit().unwrap();
        assert!(retx);
        assert_eq!(
            TloeHeader::from_flit(u64::from_be_bytes(f[..8].try_into().unwrap())).seq,
            Seq::new(2)
        );
        t.mark_transmitted(50, 100);
        assert!(!t.on_nak(Seq::new(1), 60, 100, 50)); // holdoff: just resent
        assert!(!t.on_nak(Seq::new(0), 30, 100, 50)); // stale
        assert_eq!(t.on_timer(109, 1), TimerOutcome::Idle);
        assert_eq!(t.on_timer(110, 1), TimerOutcome::Retransmit);
        t.mark_transmitted(110, 100);
        assert_eq!(t.on_timer(210, 1), TimerOutcome::Exhausted);
        assert!(t.is_acked(Seq::new(1)));
        assert!(!t.is_acked(Seq::new(2)));
    }

    #[test]
    fn rx_nak_holdoff() {
        let mut r = RxState::new(Seq::new(5));
        assert_eq!(r.classify(Seq::new(6)), SeqClass::Ahead);
        assert!(r.request_nak(0, 10));
        assert_eq!(r.take_ack_fields(0), (Seq::new(4), false));
        assert!(!r.request_nak(5, 10));
        assert!(r.request_nak(10, 10));
        r.accept();
        assert_eq!(r.take_ack_fields(11), (Seq::new(5), true));
    }
}
