// SPDX-License-Identifier: GPL-2.0

//! A validated `do` request: its attributes (re-parsed with bounds checks), its errors with
//! extended ACKs, and its reply.

use super::message::OwnedMessage;
use super::{GenlFamily, GenlHandler, Message};
use crate::sys;
use kernel::error::{code::*, to_result, Error, Result};
use kernel::str::CStr;

/// One attribute of a request.
#[derive(Clone, Copy)]
pub(crate) struct Attr<'a> {
    pub(crate) ty: u16,
    pub(crate) payload: &'a [u8],
    /// Offset of the attribute header in the request, for error reports.
    offset: usize,
}

impl<'a> Attr<'a> {
    pub(crate) fn u32(&self) -> Option<u32> {
        Some(u32::from_ne_bytes(self.payload.get(..4)?.try_into().ok()?))
    }

    pub(crate) fn u64(&self) -> Option<u64> {
        Some(u64::from_ne_bytes(self.payload.get(..8)?.try_into().ok()?))
    }

    /// A NUL-terminated string attribute, without its NUL.
    pub(crate) fn str(&self) -> Option<&'a str> {
        let end = self.payload.iter().position(|&b| b == 0)?;
        core::str::from_utf8(self.payload.get(..end)?).ok()
    }
}

/// A validated `do` request.
///
/// # Invariants
///
/// `info` is the valid `genl_info` of the running request, whose message holds `attrs`.
pub(crate) struct Request<'a> {
    pub(crate) cmd: u8,
    attrs: &'a [u8],
    info: *mut sys::genl_info,
}

const NLA_HDRLEN: usize = 4;
const NLA_TYPE_MASK: u16 = 0x3fff;

impl<'a> Request<'a> {
    /// # Safety
    ///
    /// `info` must be the valid `genl_info` of a running `do` request, valid for `'a`.
    pub(super) unsafe fn new(info: *mut sys::genl_info) -> Self {
        let mut len = 0;
        // SAFETY: `info` is valid; the helper returns the validated attribute area and length.
        let attrs = unsafe { sys::omx_genl_info_attrs(info, &mut len) };
        let attrs: &[u8] = match usize::try_from(len) {
            // SAFETY: `len` bytes from `attrs` lie inside the request message.
            Ok(n) if n > 0 && !attrs.is_null() => unsafe {
                core::slice::from_raw_parts(attrs.cast(), n)
            },
            _ => &[],
        };
        // SAFETY: `info` is valid for the call.
        let cmd = unsafe { sys::omx_genl_info_cmd(info) };
        Self { cmd, attrs, info }
    }

    /// All attributes in message order (multi-attrs appear several times).
    pub(crate) fn attrs(&self) -> AttrIter<'a> {
        AttrIter {
            buf: self.attrs,
            offset: 0,
        }
    }

    /// The last attribute of type `ty`.
    pub(crate) fn attr(&self, ty: u16) -> Option<Attr<'a>> {
        self.attrs().filter(|a| a.ty == ty).last()
    }

    /// Fails the request with `err` and an extended-ACK message pointing at `attr`.
    pub(crate) fn fail(&self, err: Error, attr: Option<&Attr<'_>>, msg: &'static CStr) -> Error {
        let ptr = match attr {
            // SAFETY: `offset` is inside `attrs`, which is inside the request message.
            Some(a) => unsafe { self.attrs.as_ptr().add(a.offset) }.cast::<sys::nlattr>(),
            None => core::ptr::null(),
        };
        // SAFETY: `info` is valid during the request; `msg` is static.
        unsafe { sys::omx_genl_info_set_err(self.info, msg.as_char_ptr(), ptr) };
        err
    }

    /// Whether the request came from a socket of the initial network namespace.
    pub(crate) fn is_from_initial_netns(&self) -> bool {
        // SAFETY: `info` is valid during the request; genetlink set its namespace from the
        // requesting socket.
        unsafe { sys::omx_genl_info_net_is_init(self.info) }
    }

    /// Fails the request because attribute `ty` is missing.
    pub(crate) fn missing(&self, msg: &'static CStr) -> Error {
        self.fail(EINVAL, None, msg)
    }

    /// Sends one reply message with command `cmd`, filled by `fill`.
    pub(crate) fn reply<T: GenlHandler>(
        &self,
        family: &GenlFamily<T>,
        fill: impl FnOnce(&mut Message<'_>) -> Result,
    ) -> Result {
        let mut msg = OwnedMessage::new(kernel::bindings::GFP_KERNEL)?;
        // SAFETY: the skb is ours, `info` is valid, the family is registered.
        let hdr =
            unsafe { sys::omx_genlmsg_put_reply(msg.skb(), self.info, family.raw(), 0, self.cmd) };
        if hdr.is_null() {
            return Err(ENOMEM);
        }
        fill(&mut msg.message())?;
        // SAFETY: `hdr` was returned by genlmsg_put on this skb.
        unsafe { sys::omx_genlmsg_end(msg.skb(), hdr) };
        let skb = msg.take();
        // SAFETY: genlmsg_reply consumes the skb; `info` is valid.
        to_result(unsafe { sys::omx_genlmsg_reply(skb, self.info) })
    }
}

/// Iterator over the attributes of a request, with bounds checks on every length.
pub(crate) struct AttrIter<'a> {
    buf: &'a [u8],
    offset: usize,
}

impl<'a> Iterator for AttrIter<'a> {
    type Item = Attr<'a>;

    fn next(&mut self) -> Option<Attr<'a>> {
        let rest = self.buf.get(self.offset..)?;
        let len = usize::from(u16::from_ne_bytes(rest.get(0..2)?.try_into().ok()?));
        let ty = u16::from_ne_bytes(rest.get(2..4)?.try_into().ok()?) & NLA_TYPE_MASK;
        let payload = rest.get(NLA_HDRLEN..len)?;
        let attr = Attr {
            ty,
            payload,
            offset: self.offset,
        };
        self.offset = self.offset.checked_add(len.checked_add(3)? & !3)?;
        Some(attr)
    }
}
