// SPDX-License-Identifier: GPL-2.0

//! Filling a netlink message with attributes, and owning its skb until it is sent.

use crate::glue::errno;
use crate::sys;
use core::marker::PhantomData;
use kernel::error::{code::*, to_result, Result};
use kernel::str::CStr;

/// A netlink message being filled.
///
/// # Invariants
///
/// `skb` is a netlink message being built by its owner, valid for `'a`.
pub(crate) struct Message<'a> {
    skb: *mut sys::sk_buff,
    _p: PhantomData<&'a mut ()>,
}

impl Message<'_> {
    /// # Safety
    ///
    /// `skb` must be a netlink message the caller is building and owns for the result's life.
    pub(super) unsafe fn from_raw(skb: *mut sys::sk_buff) -> Self {
        Self {
            skb,
            _p: PhantomData,
        }
    }

    pub(crate) fn put_bytes(&mut self, ty: u16, data: &[u8]) -> Result {
        let len = i32::try_from(data.len()).map_err(|_| EINVAL)?;
        // SAFETY: the skb is being built by us; `data` is valid for `len` bytes.
        to_result(unsafe { sys::nla_put(self.skb, ty.into(), len, data.as_ptr().cast()) })
    }

    pub(crate) fn put_u32(&mut self, ty: u16, v: u32) -> Result {
        self.put_bytes(ty, &v.to_ne_bytes())
    }

    pub(crate) fn put_u64(&mut self, ty: u16, v: u64) -> Result {
        let bytes = v.to_ne_bytes();
        // SAFETY: as in `put_bytes`; the pad attribute type 0 is unused by our families.
        to_result(unsafe { sys::nla_put_64bit(self.skb, ty.into(), 8, bytes.as_ptr().cast(), 0) })
    }

    /// A string attribute, NUL-terminated as NLA_NUL_STRING expects.
    pub(crate) fn put_str(&mut self, ty: u16, s: &CStr) -> Result {
        self.put_bytes(ty, s.as_bytes_with_nul())
    }

    /// A nested attribute filled by `fill`.
    pub(crate) fn nest(&mut self, ty: u16, fill: impl FnOnce(&mut Self) -> Result) -> Result {
        // SAFETY: the skb is being built by us.
        let start = unsafe { sys::omx_nla_nest_start(self.skb, ty.into()) };
        if start.is_null() {
            return Err(errno::emsgsize());
        }
        fill(self)?;
        // SAFETY: `start` was returned by nla_nest_start on this skb.
        unsafe { sys::omx_nla_nest_end(self.skb, start) };
        Ok(())
    }
}

/// A netlink skb we own until it is sent.
pub(super) struct OwnedMessage {
    skb: *mut sys::sk_buff,
}

impl OwnedMessage {
    pub(super) fn new(gfp: kernel::bindings::gfp_t) -> Result<Self> {
        // NLMSG_GOODSIZE: a page, enough for any single omx message.
        // SAFETY: allocation in the context implied by `gfp`.
        let skb = unsafe { sys::omx_genlmsg_new(3800, gfp) };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        Ok(Self { skb })
    }

    pub(super) fn skb(&self) -> *mut sys::sk_buff {
        self.skb
    }

    /// The message, to fill it.
    pub(super) fn message(&mut self) -> Message<'_> {
        // SAFETY: the skb is ours until `take` (which needs `&mut self`) or drop.
        unsafe { Message::from_raw(self.skb) }
    }

    /// Gives up ownership of the skb, to send it.
    pub(super) fn take(&mut self) -> *mut sys::sk_buff {
        core::mem::replace(&mut self.skb, core::ptr::null_mut())
    }
}

impl Drop for OwnedMessage {
    fn drop(&mut self) {
        if !self.skb.is_null() {
            // SAFETY: we still own the unsent skb.
            unsafe { sys::omx_kfree_skb(self.skb) };
        }
    }
}
