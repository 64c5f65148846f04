//! Go-Back-N reliability (spec §4): the transmit window with its retransmit
//! buffer, and the receive-side sequence / acknowledgement state.
//!
//! Transmitter: `NEXT_TX_SEQ` starts at 0 and `ACKD_SEQ` at 2^22 - 1; a new
//! frame may be started while the retransmit buffer has room and
//! `(NEXT_TX_SEQ - ACKD_SEQ) mod 2^22 < 2^21`. ACK(N) frees every frame up to
//! N; NAK(N) frees them and resends everything after N; a timeout resends
//! everything unacknowledged. Receiver: accept only `NEXT_RX_SEQ`, drop and
//! ACK duplicates, drop and NAK frames from the future.
//!
//! Sealing and transmitting are separate: a sealed frame waits in the retransmit buffer
//! until the congestion window ([`Congestion`]) lets it out. The window limits frames
//! transmitted and unacknowledged (`next_send` counted from the oldest unacknowledged
//! frame), so a go-back resends at most a window's worth and the rest as acknowledgements
//! free room.

use core::ops::DerefMut;

use super::congestion::Congestion;
use super::error::Error;
use super::frame::{FrameLimits, Packer};
use super::header::{MessageType, TloeHeader};
use super::rto::Rto;
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
    /// Transmitted more than once (no round-trip sample from it: Karn).
    resent: bool,
}

impl SlotMeta {
    /// An unused slot: what the caller fills its slot memory with.
    pub const EMPTY: SlotMeta = SlotMeta {
        len: 0,
        seq: Seq::new(0),
        eliciting: false,
        msg_type: MessageType::Normal,
        packer: Packer::new(),
        sent_at: 0,
        resent: false,
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
    /// A NAK held off earlier (see [`TxWindow::on_nak`]) still stands: going back now.
    GoBack,
}

/// The transmit side: a ring of frame slots carved from caller memory.
///
/// Ring layout from `head`: `[sent/unsent sealed frames ...][open frame]`.
/// Sealed frames own a sequence number and are kept until acknowledged.
#[derive(Debug)]
pub struct TxWindow<B, M> {
    mem: B,
    slot_size: usize,
    meta: M,
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
    /// A NAK of this `ACKD_SEQ` that came within the holdoff, and when the holdoff ends.
    held_nak: Option<(Seq, u64)>,
    /// Sealed frames that need no acknowledgement (1.0.3's sequenced empty frames): kept
    /// count of, so that with none (always, in 1.1) the window checks take no scan of the
    /// ring, which they would on every frame sent and received.
    non_eliciting: usize,
    /// A held NAK was answered by the frame it missed arriving after all: the path
    /// reordered, and the go-back that the receiver's dropping of the frames that overtook
    /// it causes next is no sign of congestion.
    reordered: bool,
    cc: Congestion,
    /// The retransmit timeout's round-trip variation and back-off.
    rto: Rto,
}

impl<B: DerefMut<Target = [u8]>, M: DerefMut<Target = [SlotMeta]>> TxWindow<B, M> {
    /// Gives the slot memory back (e.g. to build a fresh window on it).
    pub fn into_memory(self) -> (B, M) {
        (self.mem, self.meta)
    }

    /// A window of `meta.len()` slots of `slot_size` bytes of `mem`, at most `window`
    /// frames unacknowledged, first sequence number `start`. The slots' bookkeeping lives
    /// in the caller's `meta`, not inline: a window of hundreds of slots would not fit a
    /// kernel stack on its way into place.
    pub fn new(
        mem: B,
        mut meta: M,
        slot_size: usize,
        window: u32,
        start: Seq,
    ) -> Result<Self, Error> {
        let slots = meta.len();
        let need = slot_size.checked_mul(slots).ok_or(Error::BadConfig)?;
        if slots < 1 || mem.len() < need || slot_size < 16 || window == 0 {
            return Err(Error::BadConfig);
        }
        meta.fill(SlotMeta::EMPTY);
        let window = (window.min(MAX_WINDOW) as usize).min(slots);
        Ok(TxWindow {
            mem,
            slot_size,
            meta,
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
            held_nak: None,
            non_eliciting: 0,
            reordered: false,
            cc: Congestion::disabled(window as u32),
            rto: Rto::default(),
        })
    }

    fn idx(&self, off: usize) -> usize {
        self.head.wrapping_add(off) % self.meta.len().max(1)
    }

    fn slot_mut(&mut self, idx: usize) -> Option<&mut [u8]> {
        let start = idx.checked_mul(self.slot_size)?;
        let end = start.checked_add(self.slot_size)?;
        self.mem.get_mut(start..end)
    }

    /// Replaces the congestion control (fixed at [`TxWindow::window`] frames until set).
    /// Its `max` should be [`TxWindow::window`]; a larger one changes nothing.
    pub fn set_congestion(&mut self, cc: Congestion) {
        self.cc = cc;
    }

    /// The congestion control state.
    pub const fn congestion(&self) -> &Congestion {
        &self.cc
    }

    /// Frames the congestion window lets be in flight (at most [`TxWindow::window`]).
    fn cwnd(&self) -> usize {
        (self.cc.window() as usize).clamp(1, self.window.max(1))
    }

    /// The highest sequence number transmitted (`ACKD_SEQ` if none is outstanding).
    fn highest_seq(&self) -> Seq {
        self.ackd.add(self.highest_sent as u32)
    }

    /// `NEXT_TX_SEQ`.
    pub const fn next_seq(&self) -> Seq {
        self.next_seq
    }

    /// The sequence number after the highest frame transmitted so far: `NEXT_TX_SEQ` as a
    /// peer that numbers a frame when it sends it has it. Sealed frames waiting for the
    /// congestion window are not counted: an AckOnly numbered past them would tell the
    /// receiver of frames it cannot have, and every such AckOnly would draw a NAK.
    pub fn next_unsent_seq(&self) -> Seq {
        self.highest_seq().next()
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
        !self.open && self.sealed < self.window && self.sealed.saturating_add(1) <= self.meta.len()
    }

    /// Whether, after sealing the open frame, another one could be opened.
    pub fn can_open_after_seal(&self) -> bool {
        let sealed = self.sealed.saturating_add(1);
        self.open && sealed < self.window && sealed.saturating_add(1) <= self.meta.len()
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
        if !m.eliciting {
            self.non_eliciting = self.non_eliciting.saturating_add(1);
        }
        self.open = false;
        self.sealed = self.sealed.saturating_add(1);
        let s = self.next_seq;
        self.next_seq = s.next();
        Ok(s)
    }

    /// The next frame to (re)transmit: its payload, message type and whether
    /// it is a retransmission.
    /// `None` also while the congestion window is full.
    pub fn peek_transmit(&self) -> Option<(&[u8], MessageType, bool)> {
        let (at, msg_type, resent) = self.next_transmit()?;
        Some((self.mem.get(at)?, msg_type, resent))
    }

    /// [`TxWindow::peek_transmit`], the frame writable (its acknowledgement fields are
    /// filled in at each transmission).
    pub fn peek_transmit_mut(&mut self) -> Option<(&mut [u8], MessageType, bool)> {
        let (at, msg_type, resent) = self.next_transmit()?;
        Some((self.mem.get_mut(at)?, msg_type, resent))
    }

    /// Where in the slot memory the next frame to (re)transmit lies, its message type and
    /// whether it is a retransmission.
    fn next_transmit(&self) -> Option<(core::ops::Range<usize>, MessageType, bool)> {
        if !self.has_pending_transmit() {
            return None;
        }
        let i = self.idx(self.next_send);
        let m = self.meta.get(i)?;
        let start = i.checked_mul(self.slot_size)?;
        let end = start.checked_add(m.len)?;
        Some((start..end, m.msg_type, self.next_send < self.highest_sent))
    }

    /// Records that the frame returned by [`TxWindow::peek_transmit`] went out.
    pub fn mark_transmitted(&mut self, now: u64, rto: u64) {
        if self.next_send >= self.sealed {
            return;
        }
        self.cc.on_send(now, self.highest_sent == 0, rto);
        let i = self.idx(self.next_send);
        let resent = self.next_send < self.highest_sent;
        if let Some(m) = self.meta.get_mut(i) {
            m.sent_at = now;
            m.resent |= resent;
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
    pub const fn unacked_non_eliciting(&self) -> usize {
        self.non_eliciting
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
        if let Some(m) = self
            .meta
            .get(self.idx(d.saturating_sub(1)))
            .filter(|m| !m.resent)
        {
            let rtt = now.saturating_sub(m.sent_at);
            self.rto.on_sample(self.cc.srtt(), rtt);
            self.cc.on_rtt_sample(now, rtt);
        }
        if self.held_nak.is_some() && !self.cc.in_recovery() {
            // (In a loss epoch such NAKs are the stale ones of the go-back.)
            self.reordered = true;
        }
        self.held_nak = None;
        self.cc.on_ack(d as u32, n, self.highest_sent as u32);
        if self.non_eliciting > 0 {
            let freed = (0..d)
                .filter(|off| self.meta.get(self.idx(*off)).is_some_and(|m| !m.eliciting))
                .count();
            self.non_eliciting = self.non_eliciting.saturating_sub(freed);
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
    /// than `holdoff` ago (the NAK may predate that transmission, e.g. it
    /// was caused by reordering). Returns whether a go-back was started.
    ///
    /// A NAK held off is not forgotten: if nothing after `n` is acknowledged by the
    /// end of the holdoff, [`TxWindow::on_timer`] goes back then. Otherwise a sender
    /// whose whole (congestion) window is in flight would wait for the retransmit
    /// timeout, as the receiver, seeing no new frames, sends no second NAK.
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
            // A NAK sooner than a round trip after the frame may predate it: the holdoff,
            // or the smoothed round trip if longer (queues on the path stretch it; junk
            // frames of a window dropped by the receiver keep causing NAKs until then).
            // Held, it stands once the (re)sent frame had time to be acknowledged.
            let srtt = self.cc.srtt();
            if now < m.sent_at.saturating_add(holdoff.max(srtt)) {
                let wait = holdoff.max(srtt.saturating_add(srtt / 2));
                self.held_nak = Some((n, m.sent_at.saturating_add(wait)));
                return false;
            }
        }
        self.go_back_after_nak();
        true
    }

    fn go_back_after_nak(&mut self) {
        self.held_nak = None;
        self.next_send = 0;
        let highest = self.highest_seq();
        if self.reordered {
            self.reordered = false;
        } else {
            self.cc.on_nak_loss(highest);
        }
    }

    /// Whether the held-off NAK still names `ACKD_SEQ` with frames outstanding.
    fn held_nak_stands(&self) -> bool {
        self.held_nak
            .is_some_and(|(n, _)| n == self.ackd && self.highest_sent > 0)
    }

    /// Runs the retransmit timer: on expiry everything unacknowledged is
    /// scheduled again; after more than `max_retransmits` consecutive
    /// expiries without progress the window reports exhaustion.
    pub fn on_timer(&mut self, now: u64, max_retransmits: u32) -> TimerOutcome {
        if let Some((_, t)) = self.held_nak {
            if now >= t {
                let stands = self.held_nak_stands();
                self.held_nak = None;
                if stands {
                    self.go_back_after_nak();
                    return TimerOutcome::GoBack;
                }
            }
        }
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
                let highest = self.highest_seq();
                self.cc.on_timeout(highest);
                self.rto.on_timeout();
                TimerOutcome::Retransmit
            }
            _ => TimerOutcome::Idle,
        }
    }

    /// The retransmit timeout ([`crate::rto`]): at least `floor`, at most
    /// `floor << max_shift`.
    pub fn rto(&self, floor: u64, max_shift: u32) -> u64 {
        self.rto.timeout(self.cc.srtt(), floor, max_shift)
    }

    /// Consecutive retransmit timeouts without progress.
    pub const fn timeouts(&self) -> u32 {
        self.timeouts
    }

    /// Deadline of the retransmit timer.
    pub const fn rto_deadline(&self) -> Option<u64> {
        self.rto_deadline
    }

    /// When [`TxWindow::on_timer`] has work: the retransmit timer or the end of a NAK's
    /// holdoff.
    pub fn timer_deadline(&self) -> Option<u64> {
        let held = self
            .held_nak
            .filter(|_| self.held_nak_stands())
            .map(|(_, t)| t);
        [self.rto_deadline, held].into_iter().flatten().min()
    }

    /// When pacing lets the next frame leave, if later than `now`.
    pub fn pace_deadline(&self, now: u64) -> Option<u64> {
        self.cc.pace_deadline(now)
    }

    /// Whether a sealed frame is waiting to be (re)transmitted and the congestion window
    /// lets it go (pacing aside: [`TxWindow::pace_deadline`]).
    pub fn has_pending_transmit(&self) -> bool {
        self.has_unsent() && self.cwnd_room()
    }

    /// Whether a frame sealed now would leave at once: none sealed waits before it, and the
    /// congestion window has room.
    pub fn would_send_at_once(&self) -> bool {
        !self.has_unsent() && self.cwnd_room()
    }

    /// Whether a sealed frame is waiting to be (re)transmitted, congestion window or not.
    pub const fn has_unsent(&self) -> bool {
        self.next_send < self.sealed
    }

    /// Whether the congestion window has room for one more transmission. Frames that need
    /// no acknowledgement (1.0.3's sequenced empty frames) do not count: nothing may
    /// acknowledge them, so counted they could hold the window shut with no timer armed.
    pub fn cwnd_room(&self) -> bool {
        let cwnd = self.cwnd();
        self.next_send < cwnd
            || (self.non_eliciting > 0
                && (0..self.next_send)
                    .filter(|off| self.meta.get(self.idx(*off)).is_some_and(|m| m.eliciting))
                    .take(cwnd)
                    .count()
                    < cwnd)
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

    /// Frames needing no acknowledgement (1.0.3's sequenced empty frames) are counted as
    /// they are sealed and acknowledged, and only frames that need one fill the window.
    #[test]
    fn non_eliciting_frames_are_counted_and_leave_the_window_open() {
        let mut mem = [0u8; 8 * 64];
        let mut meta = [SlotMeta::EMPTY; 8];
        let mut t = TxWindow::new(&mut mem[..], &mut meta[..], 64, 8, Seq::new(0)).unwrap();
        t.set_congestion(Congestion::new(2, 2, 8));
        let l = FrameLimits::with_mtu(64);
        let h = TloeHeader::new(Seq::new(0), Seq::MAX, true);
        // Empty, empty, eliciting, empty, eliciting.
        for eliciting in [false, false, true, false, true] {
            t.seal(&l, h, eliciting).unwrap();
        }
        assert_eq!(t.unacked_non_eliciting(), 3);
        for _ in 0..5 {
            assert!(t.cwnd_room());
            t.mark_transmitted(0, 100);
        }
        // Two eliciting frames in flight fill a window of 2; the empty ones do not count.
        assert!(!t.cwnd_room());
        assert!(t.on_ack(Seq::new(1), 1, 100));
        assert_eq!(t.unacked_non_eliciting(), 1);
        assert!(t.on_ack(Seq::new(4), 2, 100));
        assert_eq!(t.unacked_non_eliciting(), 0);
    }

    #[test]
    fn ack_frees_and_gobackn() {
        let mut mem = [0u8; 4 * 64];
        let mut meta = [SlotMeta::EMPTY; 4];
        let mut t = TxWindow::new(&mut mem[..], &mut meta[..], 64, 100, Seq::new(0)).unwrap();
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
        assert_eq!(t.on_timer(99, 1), TimerOutcome::Idle);
        // The NAK held off at 60 still stands when its holdoff ends (frame 2 sent at 50).
        assert_eq!(t.timer_deadline(), Some(100));
        assert_eq!(t.on_timer(100, 1), TimerOutcome::GoBack);
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
