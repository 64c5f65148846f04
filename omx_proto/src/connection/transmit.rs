//! The transmit side of [`Connection`]: which frame goes out next, and how it is put
//! together.
//!
//! A frame leaves as an [`OutFrame`]: the Ethernet header and the TLoE frame, and the
//! check of the integrity trailer that follows them. A sealed frame is read straight from its
//! retransmit slot, its acknowledgement fields filled in there (they are rewritten at every
//! transmission); an ack-only frame is built on the stack. A sender copies the frame once
//! into a buffer of its size ([`Connection::poll_transmit_with`], [`OutFrame::write_to`]),
//! so it needs neither a buffer of the largest frame nor to clear one, and the trailer's
//! check is computed in that copy.

use core::ops::DerefMut;

use super::super::error::Error;
use super::super::ethernet::ETH_VLAN_HEADER_LEN;
use super::super::frame::{Packer, MIN_PAYLOAD};
use super::super::header::{MessageType, TloeHeader};
use super::super::integrity;
use super::super::reliability::SlotMeta;
use super::super::wire::{copy_bytes, read_flit, write_flit};
use super::{can_seq_credit, inc, Connection, State, Version};

/// A frame ready to send: its pieces, which follow each other on the wire.
#[derive(Debug, Clone, Copy)]
pub struct OutFrame<'a> {
    /// The Ethernet header (empty for a connection without one).
    pub eth: &'a [u8],
    /// The TLoE frame: header flit, messages, padding and frame mask.
    pub tloe: &'a [u8],
    /// The check of omx's integrity trailer, which follows the TLoE frame ([`integrity`]),
    /// if the connection uses one.
    pub check: Option<integrity::Check>,
}

impl OutFrame<'_> {
    /// The frame's length on the wire (without the FCS).
    pub fn len(&self) -> usize {
        let trailer = if self.check.is_some() {
            integrity::LEN
        } else {
            0
        };
        self.eth.len() + self.tloe.len() + trailer
    }

    /// Never true: a frame has at least its TLoE header and mask.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the frame, its trailer computed on the way, to the start of `out` (a fresh
    /// buffer may be `[MaybeUninit<u8>]`); returns its length, or `None` (nothing written) if
    /// `out` is too short.
    pub fn write_to<T: integrity::OutByte>(&self, out: &mut [T]) -> Option<usize> {
        let len = self.len();
        let (eth, rest) = out.get_mut(..len)?.split_at_mut(self.eth.len());
        for (d, &b) in eth.iter_mut().zip(self.eth) {
            d.set(b);
        }
        match self.check {
            Some(check) => integrity::copy_with_trailer(check, rest, self.tloe)?,
            None => {
                for (d, &b) in rest.iter_mut().zip(self.tloe) {
                    d.set(b);
                }
                self.tloe.len()
            }
        };
        Some(len)
    }

    /// [`OutFrame::write_to`] for an initialised buffer. Only XXH64 is computed in the copy;
    /// otherwise the frame goes through [`copy_bytes`] (its care for userspace `memcpy`) and a
    /// CRC-32C trailer is computed after it.
    pub fn copy_to(&self, out: &mut [u8]) -> Option<usize> {
        if self.check == Some(integrity::Check::Xxh64) {
            return self.write_to(out);
        }
        let len = self.len();
        let (eth, rest) = out.get_mut(..len)?.split_at_mut(self.eth.len());
        let (tloe, trailer) = rest.split_at_mut(self.tloe.len());
        copy_bytes(eth, self.eth)?;
        copy_bytes(tloe, self.tloe)?;
        if let Some(check) = self.check {
            trailer.copy_from_slice(&integrity::trailer(check, self.tloe));
        }
        Some(len)
    }
}

/// What goes out next.
enum Next {
    /// The sealed frame [`super::super::reliability::TxWindow::peek_transmit`] points at.
    Sealed,
    /// A frame that carries only the acknowledgement fields.
    AckOnly,
}

/// An ack-only frame: a TLoE header, padding and the mask, the minimum payload in all.
const ACK_ONLY_LEN: usize = MIN_PAYLOAD.div_ceil(8) * 8;

impl<B: DerefMut<Target = [u8]>, M: DerefMut<Target = [SlotMeta]>> Connection<B, M> {
    /// Writes the next frame to send into `out` and returns its length, or
    /// `None` when nothing is due. Call repeatedly until `None`. `out` must
    /// hold [`Connection::max_frame_len`] bytes.
    pub fn poll_transmit(&mut self, now: u64, out: &mut [u8]) -> Result<Option<usize>, Error> {
        self.poll_transmit_with(now, |frame| frame.copy_to(out).ok_or(Error::BufferTooSmall))
    }

    /// [`Connection::poll_transmit`] for a sender that copies the frame itself: `emit`
    /// gets the next frame due, in pieces, and its result is returned. If `emit` fails, the
    /// frame counts as not sent (it goes out again at the next call) and its error is
    /// returned. `None` when nothing is due.
    pub fn poll_transmit_with<R>(
        &mut self,
        now: u64,
        emit: impl FnOnce(&OutFrame<'_>) -> Result<R, Error>,
    ) -> Result<Option<R>, Error> {
        let Some(next) = self.next_frame(now)? else {
            return Ok(None);
        };
        let mut eth = [0u8; ETH_VLAN_HEADER_LEN];
        let eth_len = match &self.cfg.ethernet {
            Some(e) => e.write(&mut eth)?,
            None => 0,
        };
        let eth = eth.get(..eth_len).ok_or(Error::BufferTooSmall)?;
        // Set only for an ack-only frame: a sealed frame is read from its slot.
        let mut ack_only: [u8; ACK_ONLY_LEN];
        let (sa, ack) = self.rx.ack_fields();
        let (tloe, retx, is_open): (&[u8], bool, bool) = match next {
            Next::Sealed => {
                let (frame, msg_type, retx) =
                    self.tx.peek_transmit_mut().ok_or(Error::WindowFull)?;
                let e = Error::BufferTooSmall;
                let mut h = TloeHeader::from_flit(read_flit(frame, 0).ok_or(e)?);
                let is_open = msg_type == MessageType::OpenConnection;
                if is_open {
                    h.seq_ack = self.rx.next().prev();
                    h.ack = false;
                } else {
                    h.seq_ack = sa;
                    h.ack = ack;
                }
                write_flit(frame, 0, h.to_flit()).ok_or(e)?;
                (frame, retx, is_open)
            }
            Next::AckOnly => {
                let mut h = self.base_header();
                match self.cfg.version {
                    Version::V1_1 => {
                        h.msg_type = MessageType::AckOnly;
                        h.seq = self.tx.next_unsent_seq();
                    }
                    Version::V1_0_3 => h.seq = self.tx.ackd(),
                }
                h.seq_ack = sa;
                h.ack = ack;
                ack_only = [0u8; ACK_ONLY_LEN];
                let n = Packer::new().finish(&mut ack_only, &self.limits, &h)?;
                (
                    ack_only.get(..n).ok_or(Error::BufferTooSmall)?,
                    false,
                    false,
                )
            }
        };
        // The trailer covers the final bytes, acknowledgement fields included.
        let check = self.cfg.integrity;
        let result = emit(&OutFrame { eth, tloe, check })?;
        // Sent: what the frame carried is now the peer's.
        let was_nak = self.rx.nak_pending();
        if !is_open {
            self.rx.take_ack_fields(now);
            if was_nak {
                inc(&mut self.stats.naks_tx);
            }
        }
        inc(&mut self.stats.frames_tx);
        match next {
            Next::Sealed => {
                self.tx.mark_transmitted(now, self.current_rto());
                if retx {
                    inc(&mut self.stats.frames_retx);
                }
            }
            Next::AckOnly => inc(&mut self.stats.ack_only_tx),
        }
        Ok(Some(result))
    }

    /// Decides what goes out next, sealing the open frame or a credit or probe frame first
    /// when one is due.
    fn next_frame(&mut self, now: u64) -> Result<Option<Next>, Error> {
        self.poll(now);
        if matches!(self.state, State::Dead | State::Listening) {
            return Ok(None);
        }
        // A partly filled frame whose packing delay expired, once it could leave at once:
        // while the congestion window is full it keeps taking messages, so a sender held by
        // its window sends full frames when it may, not a queue of one-message frames (a
        // pool node's answers to writes: 250 frames of one AccessAck each, behind a window
        // of 4).
        if self.pack_deadline.is_some_and(|d| now >= d)
            && self.tx.open_packer().is_some_and(|p| !p.is_empty())
            && self.tx.would_send_at_once()
        {
            self.seal_open()?;
        }
        // Credits owed: piggy-back on the open frame or send a credit frame.
        if can_seq_credit(self) && self.credits_due(now) {
            self.seal_open()?;
        }
        if self.keepalive_due(now) {
            self.probe(now)?;
        }
        if self.tx.has_pending_transmit() && self.tx.pace_deadline(now).is_none() {
            return Ok(Some(Next::Sealed));
        }
        if self.rx.ack_due(now) {
            match self.cfg.version {
                Version::V1_1 => return Ok(Some(Next::AckOnly)),
                Version::V1_0_3 => {
                    // Sequenced empty frames are never acknowledged on their
                    // own (that would ping-pong), so cap how many may sit in
                    // the window; otherwise a run of lost ones could fill it.
                    // One goes out at once or not at all: not behind frames
                    // waiting for the congestion window.
                    let cap = (self.tx.window() / 4).max(1);
                    if self.sequenced_allowed()
                        && (self.tx.has_open() || self.tx.can_open())
                        && self.tx.unacked_non_eliciting() < cap
                        && !self.tx.has_unsent()
                        && self.tx.cwnd_room()
                    {
                        self.seal_open()?;
                        return Ok(Some(Next::Sealed));
                    }
                    // No room for a sequenced ack frame: send an empty frame
                    // numbered ACKD_SEQ, which every receiver classifies as a
                    // duplicate (dropped, never delivered) but whose ACK/NAK
                    // fields our receivers still use.
                    return Ok(Some(Next::AckOnly));
                }
            }
        }
        Ok(None)
    }
}
