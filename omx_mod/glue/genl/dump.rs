// SPDX-License-Identifier: GPL-2.0

//! One part of a dump: entries are added until netlink's buffer is full; the next part
//! resumes where this one stopped.

use super::Message;
use crate::glue::errno;
use crate::sys;
use core::marker::PhantomData;
use kernel::error::Result;

/// One part of a dump: entries are added until the buffer is full.
///
/// # Invariants
///
/// `skb` is the buffer of this part; `info` and `family` are the dump's, valid for `'a`.
pub(crate) struct Dump<'a> {
    skb: *mut sys::sk_buff,
    info: *const sys::genl_info,
    family: *mut sys::genl_family,
    cmd: u8,
    position: usize,
    added: usize,
    full: bool,
    _p: PhantomData<&'a mut ()>,
}

impl Dump<'_> {
    /// # Safety
    ///
    /// `skb`, `info` and `family` must be the buffer, `genl_info` and family of a running
    /// dump callback, which the result must not outlive.
    pub(super) unsafe fn new(
        skb: *mut sys::sk_buff,
        info: *const sys::genl_info,
        family: *mut sys::genl_family,
        cmd: u8,
        position: usize,
    ) -> Self {
        Self {
            skb,
            info,
            family,
            cmd,
            position,
            added: 0,
            full: false,
            _p: PhantomData,
        }
    }

    /// Where this part resumes: what the handler stored with `set_position` in earlier parts
    /// (0 at the start of a dump).
    pub(crate) fn position(&self) -> usize {
        self.position
    }

    /// Records where the next part resumes (e.g. the id after the last entry added).
    pub(crate) fn set_position(&mut self, position: usize) {
        self.position = position;
    }

    /// Adds one entry. Returns `false` if it did not fit: stop and wait for the next part.
    pub(crate) fn add(&mut self, fill: impl FnOnce(&mut Message<'_>) -> Result) -> Result<bool> {
        // SAFETY: the skb belongs to this dump part; `info` and the family are valid.
        let hdr = unsafe {
            sys::omx_genlmsg_put_reply(
                self.skb,
                self.info,
                self.family,
                sys::NLM_F_MULTI as i32,
                self.cmd,
            )
        };
        if hdr.is_null() {
            self.full = true;
            return Ok(false);
        }
        // SAFETY: the skb of this part, being built by us (type invariant).
        let mut msg = unsafe { Message::from_raw(self.skb) };
        match fill(&mut msg) {
            Ok(()) => {
                // SAFETY: `hdr` was returned by genlmsg_put on this skb.
                unsafe { sys::omx_genlmsg_end(self.skb, hdr) };
                self.added += 1;
                Ok(true)
            }
            Err(e) => {
                // SAFETY: as above; cancel trims the partial entry.
                unsafe { sys::omx_genlmsg_cancel(self.skb, hdr) };
                if e.to_errno() == errno::emsgsize().to_errno() {
                    self.full = true;
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// What the dump callback returns for this part, whose handler returned `result`.
    pub(super) fn finish(&self, result: Result) -> kernel::ffi::c_int {
        match result {
            Err(e) => e.to_errno(),
            // Nothing fit into an empty buffer: the entry is too large to ever send.
            Ok(()) if self.full && self.added == 0 => errno::emsgsize().to_errno(),
            // More to come: netlink calls us again with a fresh buffer.
            // SAFETY: the skb of this part is valid (type invariant).
            Ok(()) if self.full => (unsafe { sys::omx_skb_len(self.skb) }) as i32,
            Ok(()) => 0,
        }
    }
}
