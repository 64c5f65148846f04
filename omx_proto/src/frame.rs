//! TLoE frames: decoding and MTU-aware packing.
//!
//! ```text
//! TLoE payload = header (1 flit) | messages (0..=64) | padding (zero flits) | frame mask (1 flit)
//! ```
//! Bit `k` of the frame mask is set iff a message starts at flit `k + 1`
//! after the header. The payload is at least 6 flits (46-byte Ethernet
//! minimum rounded up to flits) and padding goes between the last message and
//! the mask. All-zero (channel 0) flits between messages are padding too.

use super::error::Error;
use super::ethernet::EthHeader;
use super::header::TloeHeader;
use super::tilelink::{ByteOrder, Channel, Message, Opcode};
use super::wire::{bits, read_flit, write_flit};

/// Minimum TLoE payload in bytes (header + messages + padding + mask).
pub const MIN_PAYLOAD: usize = 48;
/// Maximum number of messages per frame (width of the frame mask).
pub const MAX_MESSAGES: usize = 64;
/// Default MTU (maximum TLoE payload bytes per Ethernet frame).
pub const DEFAULT_MTU: usize = 1500;

/// Limits applied when packing frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimits {
    /// Maximum TLoE payload in bytes (the interface MTU; the Ethernet header
    /// and VLAN tag are not counted). Rounded down to whole flits.
    pub mtu: usize,
    /// MaxStartOfMessageFlit: messages may only start in flits
    /// `1..=max_start_flit` (1..=64; 1 = one message per frame).
    pub max_start_flit: u8,
    /// Minimum payload in bytes; padding flits are added to reach it.
    pub min_payload: usize,
}

impl Default for FrameLimits {
    fn default() -> Self {
        FrameLimits {
            mtu: DEFAULT_MTU,
            max_start_flit: 64,
            min_payload: MIN_PAYLOAD,
        }
    }
}

impl FrameLimits {
    /// Limits for `mtu` with the other fields at their defaults.
    pub const fn with_mtu(mtu: usize) -> Self {
        FrameLimits {
            mtu,
            max_start_flit: 64,
            min_payload: MIN_PAYLOAD,
        }
    }

    /// Largest TLoE payload in bytes (whole flits, at least the minimum).
    pub const fn max_payload(&self) -> usize {
        let m = self.mtu / 8 * 8;
        let min = self.min_payload.div_ceil(8) * 8;
        if m < min {
            min
        } else {
            m
        }
    }

    /// Largest message (in flits) that fits into one frame.
    pub const fn max_message_flits(&self) -> usize {
        (self.max_payload() / 8).saturating_sub(2)
    }

    fn start_limit(&self) -> usize {
        let m = self.max_start_flit as usize;
        if m == 0 || m > MAX_MESSAGES {
            MAX_MESSAGES
        } else {
            m
        }
    }
}

/// A validated, decoded TLoE payload borrowing the received bytes.
#[derive(Debug, Clone, Copy)]
pub struct FrameView<'a> {
    /// The TLoE header.
    pub header: TloeHeader,
    /// The frame mask (last flit).
    pub mask: u64,
    /// Flits between header and mask.
    body: &'a [u8],
    order: ByteOrder,
    count: usize,
    /// Flits of the messages on each channel (A = 0 ... E = 4), summed by the walk that
    /// checks the mask, so a receiver releasing credit need not decode every message again.
    channel_flits: [usize; 5],
}

impl<'a> FrameView<'a> {
    /// Decodes and validates a TLoE payload (everything after the Ethernet
    /// header). Messages are walked by their lengths; the result must match
    /// the trailing frame mask unless `strict_mask` is false, in which case
    /// the walked positions win. `order` is how data will be read.
    pub fn parse(payload: &'a [u8], order: ByteOrder, strict_mask: bool) -> Result<Self, Error> {
        let n = payload.len() / 8;
        if payload.len() % 8 != 0 || n < 2 {
            return Err(Error::BadLength);
        }
        let header = TloeHeader::from_flit(read_flit(payload, 0).ok_or(Error::BadLength)?);
        let last = n - 1;
        let mask = read_flit(payload, last).ok_or(Error::BadLength)?;
        let body = payload.get(8..last * 8).ok_or(Error::BadLength)?;
        let walked = walk(body, order)?;
        if strict_mask && walked.mask != mask {
            return Err(Error::MaskMismatch);
        }
        Ok(FrameView {
            header,
            mask,
            body,
            order,
            count: walked.count,
            channel_flits: walked.channel_flits,
        })
    }

    /// Parses a complete Ethernet frame with EtherType 0xAAAA.
    pub fn parse_ethernet(
        frame: &'a [u8],
        order: ByteOrder,
        strict_mask: bool,
    ) -> Result<(EthHeader, Self), Error> {
        let (eth, payload) = EthHeader::parse_omnixtend(frame)?;
        Ok((eth, Self::parse(payload, order, strict_mask)?))
    }

    /// Number of TileLink messages in the frame.
    pub const fn message_count(&self) -> usize {
        self.count
    }

    /// The frame mask recomputed from the message lengths.
    pub fn computed_mask(&self) -> u64 {
        walk(self.body, self.order).map(|w| w.mask).unwrap_or(0)
    }

    /// Flits of the frame's messages on `ch` (the credit they use).
    pub fn channel_flits(&self, ch: Channel) -> usize {
        self.channel_flits.get(ch.index()).copied().unwrap_or(0)
    }

    /// Iterates over the messages in order.
    pub fn messages(&self) -> Messages<'a> {
        Messages {
            body: self.body,
            pos: 0,
            order: self.order,
        }
    }

    /// Iterates over `(start flit, message)`, the start flit counted from 1
    /// after the TLoE header (frame-mask bit = start flit - 1).
    pub fn positioned(&self) -> Positioned<'a> {
        Positioned {
            inner: self.messages(),
        }
    }

    /// Total payload flits (header + body + mask).
    pub const fn payload_flits(&self) -> usize {
        self.body.len() / 8 + 2
    }
}

/// What a walk of a frame's body found.
struct Walked {
    /// The frame mask implied by the message lengths.
    mask: u64,
    count: usize,
    channel_flits: [usize; 5],
}

/// Walks the body, message by message.
fn walk(body: &[u8], order: ByteOrder) -> Result<Walked, Error> {
    let n = body.len() / 8;
    let mut pos = 0usize;
    let mut mask = 0u64;
    let mut count = 0usize;
    let mut channel_flits = [0usize; 5];
    while pos < n {
        let w = read_flit(body, pos).ok_or(Error::Truncated)?;
        if bits(w, 62, 60) == 0 {
            pos += 1;
            continue;
        }
        if pos >= MAX_MESSAGES {
            return Err(Error::TooManyMessages);
        }
        let rest = body.get(pos * 8..).ok_or(Error::Truncated)?;
        let (msg, len) = Message::decode(rest, order)?;
        mask |= 1u64 << pos;
        count += 1;
        if let Some(f) = channel_flits.get_mut(msg.chan.index()) {
            *f += len;
        }
        pos = pos.saturating_add(len);
    }
    Ok(Walked {
        mask,
        count,
        channel_flits,
    })
}

/// Iterator over the messages of a [`FrameView`].
#[derive(Debug, Clone)]
pub struct Messages<'a> {
    body: &'a [u8],
    pos: usize,
    order: ByteOrder,
}

impl<'a> Messages<'a> {
    /// An iterator yielding nothing.
    pub const fn empty() -> Self {
        Messages {
            body: &[],
            pos: 0,
            order: ByteOrder::Spec,
        }
    }

    fn next_with_pos(&mut self) -> Option<(usize, Message<'a>)> {
        loop {
            let w = read_flit(self.body, self.pos)?;
            if bits(w, 62, 60) == 0 {
                self.pos = self.pos.saturating_add(1);
                continue;
            }
            let rest = self.body.get(self.pos.checked_mul(8)?..)?;
            let Ok((m, len)) = Message::decode(rest, self.order) else {
                self.pos = usize::MAX;
                return None;
            };
            let start = self.pos.saturating_add(1);
            self.pos = self.pos.saturating_add(len);
            return Some((start, m));
        }
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Message<'a>;
    fn next(&mut self) -> Option<Message<'a>> {
        self.next_with_pos().map(|(_, m)| m)
    }
}

/// Iterator over `(start flit, message)`; see [`FrameView::positioned`].
#[derive(Debug, Clone)]
pub struct Positioned<'a> {
    inner: Messages<'a>,
}

impl<'a> Iterator for Positioned<'a> {
    type Item = (usize, Message<'a>);
    fn next(&mut self) -> Option<(usize, Message<'a>)> {
        self.inner.next_with_pos()
    }
}

/// Incremental packing state of one frame, separate from its buffer so a
/// partly filled frame can live in a retransmit-buffer slot between calls.
///
/// The buffer passed to every method is the TLoE payload area (header at
/// byte 0); messages are written from flit 1 on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Packer {
    body_flits: usize,
    mask: u64,
    msgs: usize,
}

impl Packer {
    /// An empty frame.
    pub const fn new() -> Self {
        Packer {
            body_flits: 0,
            mask: 0,
            msgs: 0,
        }
    }

    /// Number of messages packed.
    pub const fn message_count(&self) -> usize {
        self.msgs
    }

    /// Whether no message has been packed.
    pub const fn is_empty(&self) -> bool {
        self.msgs == 0
    }

    /// Flits used by messages and inner padding.
    pub const fn body_flits(&self) -> usize {
        self.body_flits
    }

    /// The frame mask so far.
    pub const fn mask(&self) -> u64 {
        self.mask
    }

    /// Checks whether a message of `flits` flits fits: [`Error::FrameFull`]
    /// if it would fit an empty frame, [`Error::TooLarge`] if it never fits.
    pub fn check_fit(
        &self,
        limits: &FrameLimits,
        flits: usize,
        buf_len: usize,
    ) -> Result<(), Error> {
        let cap = limits.max_payload().min(buf_len / 8 * 8) / 8;
        if flits.saturating_add(2) > cap {
            return Err(Error::TooLarge);
        }
        let start = self.body_flits.saturating_add(1);
        if self.msgs >= MAX_MESSAGES || start > limits.start_limit() {
            return Err(Error::FrameFull);
        }
        if self.body_flits.saturating_add(flits).saturating_add(2) > cap {
            return Err(Error::FrameFull);
        }
        Ok(())
    }

    /// Appends `msg` to the frame in `buf` (data in `order`).
    pub fn push(
        &mut self,
        buf: &mut [u8],
        limits: &FrameLimits,
        msg: &Message<'_>,
        order: ByteOrder,
    ) -> Result<(), Error> {
        msg.validate()?;
        let flits = msg.flits();
        self.check_fit(limits, flits, buf.len())?;
        let off = self.body_flits.saturating_add(1).saturating_mul(8);
        let out = buf.get_mut(off..).ok_or(Error::BufferTooSmall)?;
        let written = msg.encode(out, order)?;
        self.mask |= 1u64 << (self.body_flits & 63);
        self.body_flits = self.body_flits.saturating_add(written);
        self.msgs = self.msgs.saturating_add(1);
        Ok(())
    }

    /// Appends `shape`, a PutFullData of at least one data flit, whose data `fill` writes
    /// into the frame itself in wire order for `order` (with [`ByteOrder::put_mem`]): `fill`
    /// gets the data flits, whatever `shape`'s data holds. If `fill` returns false, nothing
    /// is appended ([`Error::InvalidMessage`]).
    pub fn push_filled(
        &mut self,
        buf: &mut [u8],
        limits: &FrameLimits,
        shape: &Message<'_>,
        order: ByteOrder,
        fill: impl FnOnce(&mut [u8], ByteOrder) -> bool,
    ) -> Result<(), Error> {
        shape.validate()?;
        let layout = (shape.chan, shape.opcode);
        if layout != (Channel::A, Opcode::PutFullData) || shape.size < 3 {
            return Err(Error::InvalidMessage);
        }
        let flits = shape.flits();
        self.check_fit(limits, flits, buf.len())?;
        let off = self.body_flits.saturating_add(1).saturating_mul(8);
        let e = Error::BufferTooSmall;
        let out = buf.get_mut(off..off + flits * 8).ok_or(e)?;
        write_flit(out, 0, shape.header_flit()).ok_or(e)?;
        write_flit(out, 1, shape.address).ok_or(e)?;
        if !fill(out.get_mut(16..).ok_or(e)?, order) {
            return Err(Error::InvalidMessage);
        }
        self.mask |= 1u64 << (self.body_flits & 63);
        self.body_flits = self.body_flits.saturating_add(flits);
        self.msgs = self.msgs.saturating_add(1);
        Ok(())
    }

    /// Appends `n` zero padding flits after the last message.
    pub fn push_padding(
        &mut self,
        buf: &mut [u8],
        limits: &FrameLimits,
        n: usize,
    ) -> Result<(), Error> {
        let cap = limits.max_payload().min(buf.len() / 8 * 8) / 8;
        if self.body_flits.saturating_add(n).saturating_add(2) > cap {
            return Err(Error::FrameFull);
        }
        for i in 0..n {
            let idx = self.body_flits.saturating_add(1).saturating_add(i);
            write_flit(buf, idx, 0).ok_or(Error::BufferTooSmall)?;
        }
        self.body_flits = self.body_flits.saturating_add(n);
        Ok(())
    }

    /// Writes `header`, the padding and the frame mask; returns the payload
    /// length in bytes. The packer is left unchanged, so calling it again
    /// with another header rewrites the same frame.
    pub fn finish(
        &self,
        buf: &mut [u8],
        limits: &FrameLimits,
        header: &TloeHeader,
    ) -> Result<usize, Error> {
        let min_flits = limits.min_payload.div_ceil(8).max(2);
        let total = self.body_flits.saturating_add(2).max(min_flits);
        if buf.len() / 8 < total {
            return Err(Error::BufferTooSmall);
        }
        let e = Error::BufferTooSmall;
        write_flit(buf, 0, header.to_flit()).ok_or(e)?;
        for idx in self.body_flits.saturating_add(1)..total.saturating_sub(1) {
            write_flit(buf, idx, 0).ok_or(e)?;
        }
        write_flit(buf, total.saturating_sub(1), self.mask).ok_or(e)?;
        Ok(total.saturating_mul(8))
    }
}

/// Builds one complete frame (optional Ethernet header + TLoE payload) in a
/// caller buffer.
///
/// ```
/// use omx_proto::{ByteOrder, EthHeader, FrameBuilder, FrameLimits, FrameView, Message, Seq, TloeHeader};
/// let mut buf = [0u8; 1514];
/// let eth = EthHeader::new([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1]);
/// let mut b = FrameBuilder::new(&mut buf, Some(&eth), FrameLimits::default(), ByteOrder::Spec).unwrap();
/// b.push(&Message::get(1, 0x1000, 6)).unwrap();
/// b.push(&Message::get(2, 0x1040, 6)).unwrap();
/// let len = b.finish(&TloeHeader::new(Seq::new(0), Seq::MAX, true)).unwrap();
/// assert_eq!(len, 14 + 48);
/// let (_, view) = FrameView::parse_ethernet(&buf[..len], ByteOrder::Spec, true).unwrap();
/// assert_eq!(view.mask, 0b101);
/// assert_eq!(view.messages().count(), 2);
/// ```
#[derive(Debug)]
pub struct FrameBuilder<'b> {
    buf: &'b mut [u8],
    eth_len: usize,
    packer: Packer,
    limits: FrameLimits,
    order: ByteOrder,
}

impl<'b> FrameBuilder<'b> {
    /// Starts a frame in `buf`, writing `eth` first if given.
    pub fn new(
        buf: &'b mut [u8],
        eth: Option<&EthHeader>,
        limits: FrameLimits,
        order: ByteOrder,
    ) -> Result<Self, Error> {
        let eth_len = match eth {
            Some(h) => h.write(buf)?,
            None => 0,
        };
        Ok(FrameBuilder {
            buf,
            eth_len,
            packer: Packer::new(),
            limits,
            order,
        })
    }

    fn payload(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.eth_len..).unwrap_or(&mut [])
    }

    /// Appends a message ([`Error::FrameFull`] when it does not fit).
    pub fn push(&mut self, msg: &Message<'_>) -> Result<(), Error> {
        let (limits, order) = (self.limits, self.order);
        let mut p = self.packer;
        p.push(self.payload(), &limits, msg, order)?;
        self.packer = p;
        Ok(())
    }

    /// Appends `n` padding flits.
    pub fn push_padding(&mut self, n: usize) -> Result<(), Error> {
        let limits = self.limits;
        let mut p = self.packer;
        p.push_padding(self.payload(), &limits, n)?;
        self.packer = p;
        Ok(())
    }

    /// The packing state.
    pub const fn packer(&self) -> &Packer {
        &self.packer
    }

    /// Completes the frame; returns its total length in bytes.
    pub fn finish(mut self, header: &TloeHeader) -> Result<usize, Error> {
        let limits = self.limits;
        let p = self.packer;
        let n = p.finish(self.payload(), &limits, header)?;
        Ok(n.saturating_add(self.eth_len))
    }
}

#[cfg(test)]
mod tests {
    use super::super::seq::Seq;
    use super::super::tilelink::{Channel, Opcode};
    use super::*;

    #[test]
    fn spec_mask_example() {
        // messages at flits 1, 3, 14, 15, 18 => mask 0x26005
        let mut buf = [0u8; 256];
        let limits = FrameLimits::default();
        let mut p = Packer::new();
        let o = ByteOrder::Spec;
        p.push(&mut buf, &limits, &Message::get(1, 0, 3), o)
            .unwrap(); // 1..2
        let data = [0u8; 64];
        p.push(&mut buf, &limits, &Message::put_full(2, 0, &data), o)
            .unwrap(); // 3..12
        p.push_padding(&mut buf, &limits, 1).unwrap(); // 13
        p.push(&mut buf, &limits, &Message::access_ack(3, 3), o)
            .unwrap(); // 14
        p.push(&mut buf, &limits, &Message::get(4, 0, 3), o)
            .unwrap(); // 15..16
        p.push_padding(&mut buf, &limits, 1).unwrap(); // 17
        p.push(
            &mut buf,
            &limits,
            &Message::new(Channel::E, Opcode::GrantAck, 0, 0),
            o,
        )
        .unwrap(); // 18
        assert_eq!(p.mask(), 0x26005);
        let len = p
            .finish(
                &mut buf,
                &limits,
                &TloeHeader::new(Seq::new(1), Seq::new(2), true),
            )
            .unwrap();
        let v = FrameView::parse(&buf[..len], o, true).unwrap();
        assert_eq!(v.mask, 0x26005);
        assert_eq!(v.message_count(), 5);
        let starts: [usize; 5] = {
            let mut s = [0; 5];
            for (i, (f, _)) in v.positioned().enumerate() {
                s[i] = f;
            }
            s
        };
        assert_eq!(starts, [1, 3, 14, 15, 18]);
        // Credit by channel: A 2 + 10 + 2 flits, D 1, E 1; padding is no one's.
        let flits = Channel::ALL.map(|ch| v.channel_flits(ch));
        assert_eq!(flits, [14, 0, 0, 1, 1]);
    }

    #[test]
    fn limits() {
        let mut buf = [0u8; 1600];
        let limits = FrameLimits::default();
        let o = ByteOrder::Spec;
        let mut p = Packer::new();
        for i in 0..64 {
            p.push(&mut buf, &limits, &Message::access_ack(i, 3), o)
                .unwrap();
        }
        assert_eq!(
            p.push(&mut buf, &limits, &Message::access_ack(99, 3), o),
            Err(Error::FrameFull)
        );
        let mut p = Packer::new();
        let l1 = FrameLimits {
            max_start_flit: 1,
            ..limits
        };
        p.push(&mut buf, &l1, &Message::access_ack(1, 3), o)
            .unwrap();
        assert_eq!(
            p.push(&mut buf, &l1, &Message::access_ack(2, 3), o),
            Err(Error::FrameFull)
        );
        // 1 KiB PutFullData fits at MTU 1500, 2 KiB does not
        let data = [0u8; 2048];
        let mut p = Packer::new();
        p.push(
            &mut buf,
            &limits,
            &Message::put_full(1, 0, &data[..1024]),
            o,
        )
        .unwrap();
        assert_eq!(
            p.push(
                &mut buf,
                &limits,
                &Message::put_full(1, 0, &data[..1024]),
                o
            ),
            Err(Error::FrameFull)
        );
        let mut p = Packer::new();
        assert_eq!(
            p.push(&mut buf, &limits, &Message::put_full(1, 0, &data), o),
            Err(Error::TooLarge)
        );
    }

    #[test]
    fn parse_errors() {
        assert_eq!(
            FrameView::parse(&[0u8; 8], ByteOrder::Spec, true).err(),
            Some(Error::BadLength)
        );
        assert_eq!(
            FrameView::parse(&[0u8; 47], ByteOrder::Spec, true).err(),
            Some(Error::BadLength)
        );
        let mut b = [0u8; 48];
        assert!(FrameView::parse(&b, ByteOrder::Spec, true).is_ok());
        b[47] = 1; // mask claims a message at flit 1 which is padding
        assert_eq!(
            FrameView::parse(&b, ByteOrder::Spec, true).err(),
            Some(Error::MaskMismatch)
        );
        assert!(FrameView::parse(&b, ByteOrder::Spec, false).is_ok());
    }
}
