//! A frame's integrity trailer checked while its responses' data is copied out: a receiver
//! that copies each piece of data to where it goes would otherwise read every byte twice,
//! once for the check and once for the copy ([`Connection::check_copying`]).

use core::ops::DerefMut;

use super::super::frame::FrameView;
use super::super::integrity::{self, Check, Xxh64Stream};
use super::super::reliability::SlotMeta;
use super::super::tilelink::{ByteOrder, Data, Message};
use super::Connection;

/// One message's data on its way through the check ([`Connection::check_copying`]): the
/// receiver may copy it, in pieces in order from its start, while it is checked.
pub struct DataPass<'s, 'f> {
    stream: &'s mut Xxh64Stream,
    flits: &'f [u8],
    order: ByteOrder,
    /// Bytes of the data checked (and copied) so far.
    at: usize,
}

impl DataPass<'_, '_> {
    /// Copies the data's bytes `at..at + dst.len()` into `dst` in memory order as they are
    /// checked; false (nothing copied) unless `at` is where the pass stands (pieces go in
    /// order from the data's start) and the piece is whole words within the data.
    pub fn copy_to(&mut self, at: usize, dst: &mut [u8]) -> bool {
        let end = at.saturating_add(dst.len());
        let Some(src) = self.flits.get(at..end).filter(|_| at == self.at) else {
            return false;
        };
        let order = self.order;
        if !self.stream.feed_copy(src, dst, |w| order.wire_to_mem(w)) {
            return false;
        }
        self.at = end;
        true
    }

    /// Whether every byte of the data was copied.
    pub fn copied_all(&self) -> bool {
        self.at == self.flits.len()
    }
}

impl<B: DerefMut<Target = [u8]>, M: DerefMut<Target = [SlotMeta]>> Connection<B, M> {
    /// For a receiver that copies responses' data out of frames: checks `payload`'s XXH64
    /// trailer in one pass, offering each message's data to `visit(index, message, pass)`
    /// on its way (index in frame order); what `visit` copies with [`DataPass::copy_to`] is
    /// checked as it is copied. Returns the TLoE payload if the trailer is right: hand it to
    /// [`Connection::on_checked_payload`], whose messages are the ones visited, in the same
    /// order. `None` if the trailer is wrong, the frame does not parse, or the connection
    /// does not check XXH64 trailers: hand `payload` to [`Connection::on_payload`] (which
    /// checks it again and counts it), and trust nothing `visit` copied.
    ///
    /// `visit` sees unchecked bytes: it must copy only to where no reader looks until an
    /// answer the connection accepted has been written there.
    pub fn check_copying<'f>(
        &self,
        payload: &'f [u8],
        mut visit: impl FnMut(usize, &Message<'f>, &mut DataPass<'_, 'f>),
    ) -> Option<&'f [u8]> {
        if self.cfg.integrity != Some(Check::Xxh64) {
            return None;
        }
        let split = payload.len().checked_sub(integrity::LEN)?;
        let (tloe, trailer) = payload.split_at(split);
        let view = FrameView::parse(tloe, self.cfg.order, self.cfg.strict_mask).ok()?;
        let mut stream = Xxh64Stream::new(tloe.len())?;
        let base = tloe.as_ptr() as usize;
        for (i, m) in view.messages().enumerate() {
            let Data::Wire {
                flits,
                order,
                partial: false,
            } = m.data
            else {
                continue;
            };
            // Where the data lies in the frame (the messages borrow it).
            let start = (flits.as_ptr() as usize).wrapping_sub(base);
            if flits.is_empty() {
                continue;
            }
            if !stream.feed(tloe.get(stream.fed()..start)?) {
                return None;
            }
            let mut pass = DataPass {
                stream: &mut stream,
                flits,
                order,
                at: 0,
            };
            visit(i, &m, &mut pass);
            let rest = flits.get(pass.at..)?;
            if !stream.feed(rest) {
                return None;
            }
        }
        let rest = tloe.get(stream.fed()..)?;
        if !stream.feed(rest) {
            return None;
        }
        let sum = stream.finish()? as u32;
        let magic = Check::Xxh64.magic().to_be_bytes();
        let right = trailer.get(..4) == Some(&magic[..])
            && trailer.get(4..) == Some(&sum.to_be_bytes()[..]);
        right.then_some(tloe)
    }
}
