// SPDX-License-Identifier: GPL-2.0

//! Answers from the node: each completes its message of a request, and a read's data goes
//! into the request's pages or the read-ahead buffer, copied while the frame is checked
//! where that is safe (`copy_unchecked`) or once the connection has taken it.

use super::entry::IoEntry;
use super::{IoKind, IoState};
use crate::omx_logic::sources::{Answer, Source};
use crate::omx_proto::{DataPass, Message, Opcode};

impl IoState {
    /// A D-channel response from the node, received at `now` (ns; softirq) in a frame the
    /// connection took; `copied`: its data is in place already (`copy_unchecked`).
    pub(crate) fn on_response(&mut self, m: &Message<'_>, now: u64, copied: bool) {
        let src = match self.sources.answer(m.source) {
            Answer::For(src) => src,
            Answer::Orphan => return,
            Answer::Stray => {
                self.stray = self.stray.wrapping_add(1);
                return;
            }
        };
        self.answered = self.answered.wrapping_add(1);
        let idx = usize::from(src.entry);
        let Some(Some(e)) = self.entries.get_mut(idx) else {
            return;
        };
        e.outstanding = e.outstanding.saturating_sub(1);
        let read = e.kind == IoKind::Read;
        if !Self::answers(e, m, &src) {
            e.failed = true;
        } else if read && !e.failed {
            let (off, len) = (src.off as usize, src.len as usize);
            let ok = if copied {
                // Already in place (`copy_unchecked`, this very frame): it counts now.
                e.rq.landed(off, len)
            } else {
                // Straight from the frame into the pages: one copy (with the byte-order swap).
                e.rq.fill(off, len, |dst, at| {
                    m.data.copy_range_to(at, dst);
                    flip_read(&src, at, dst);
                })
            };
            if !ok {
                e.failed = true;
            }
        }
        self.try_finish(idx, now);
    }

    /// Whether `m` is the answer its message `src` of request `e` expects.
    fn answers(e: &IoEntry, m: &Message<'_>, src: &Source) -> bool {
        let expected = match e.kind {
            IoKind::Read => Opcode::AccessAckData,
            IoKind::Discard => Opcode::HintAck,
            IoKind::Write | IoKind::Zeroes => Opcode::AccessAck,
        };
        let data_len = if e.kind == IoKind::Read {
            src.len as usize
        } else {
            0
        };
        m.opcode == expected
            && m.err == 0
            && u32::from(m.size) == src.len.trailing_zeros()
            && m.data.len() == data_len
    }

    /// While `m`'s frame is checked (`omx_proto::Connection::check_copying`), before the
    /// connection takes it: copies its data to where it goes if it is the answer a read
    /// waits for, so the frame's bytes are read once. Only where nothing is read until the
    /// answer the connection accepts has been written: the pages of a read whose message
    /// with this source id is in flight (the request cannot end before that answer), or
    /// read-ahead bytes that have not landed. Returns whether all of it was copied: then
    /// [`IoState::on_response`] with `copied` does not copy it again.
    pub(crate) fn copy_unchecked(&mut self, m: &Message<'_>, pass: &mut DataPass<'_, '_>) -> bool {
        let Some(src) = self.sources.pending(m.source) else {
            return false;
        };
        let Some(Some(e)) = self.entries.get_mut(usize::from(src.entry)) else {
            return false;
        };
        if e.kind != IoKind::Read || e.failed || !Self::answers(e, m, &src) {
            return false;
        }
        let filled =
            e.rq.fill_unchecked(src.off as usize, src.len as usize, |dst, at| {
                let copied = pass.copy_to(at, dst);
                flip_read(&src, at, dst);
                copied
            });
        filled && pass.copied_all()
    }
}

/// The test-only mutation `flip_read` (`mutation.rs`): a byte of one read in 128 flipped as
/// its first piece is copied in. Nothing in a normal build.
#[cfg_attr(not(omx_mutation = "flip_read"), expect(unused_variables))]
fn flip_read(src: &Source, at: usize, dst: &mut [u8]) {
    #[cfg(omx_mutation = "flip_read")]
    if src.off == 0 && at == 0 {
        crate::mutation::flip_one_in_n(dst);
    }
}
