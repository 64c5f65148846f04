// SPDX-License-Identifier: GPL-2.0

//! Generic netlink families: registration, strict policies, requests, replies, dumps, events.
//!
//! A family is described by static tables ([`FamilySpec`], [`OpSpec`], [`AttrPolicy`]) taken
//! from its YAML spec; the kernel validates every request against the policies before a
//! handler sees it, and [`Request`] re-parses the attributes with bounds checks anyway.

use crate::glue::errno;
use crate::sys;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::alloc::{flags, KVec};
use kernel::error::{code::*, to_result, Error, Result};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::Arc;
use kernel::types::Opaque;

/// Type and checks of one request attribute (the `checks:` of the YAML spec).
#[derive(Clone, Copy)]
pub(crate) enum AttrPolicy {
    /// Not accepted in this request.
    Reject,
    U32,
    /// A u32 enum: values above `max` are rejected.
    U32Max(u32),
    U64,
    /// A NUL-terminated string of at most `max_len` characters.
    String { max_len: u16 },
    /// Binary of exactly `len` bytes.
    ExactLen(u16),
}

/// One command of a family.
pub(crate) struct OpSpec {
    pub(crate) cmd: u8,
    /// Only for CAP_NET_ADMIN (in the initial user namespace: GENL_ADMIN_PERM).
    pub(crate) admin: bool,
    /// Only from the initial network namespace: refused elsewhere with EPERM and the
    /// family's [`FamilySpec::other_netns_msg`] (checked before the handler runs).
    pub(crate) initial_netns_only: bool,
    pub(crate) doit: bool,
    pub(crate) dumpit: bool,
    /// Policy of attribute types 1..=len.
    pub(crate) policy: &'static [AttrPolicy],
}

/// A family's static description.
pub(crate) struct FamilySpec {
    pub(crate) name: &'static CStr,
    pub(crate) version: u32,
    pub(crate) ops: &'static [OpSpec],
    pub(crate) mcast_groups: &'static [&'static CStr],
    /// Extended-ACK message for an `initial_netns_only` command from another namespace.
    pub(crate) other_netns_msg: &'static CStr,
}

/// What a family does with its requests.
pub(crate) trait GenlHandler: Send + Sync + Sized {
    /// A `do` request (process context, may sleep).
    fn doit(&self, family: &GenlFamily<Self>, req: &Request<'_>) -> Result;
    /// One part of a `dump` (process context): add entries from `dump.position()` on.
    fn dumpit(&self, cmd: u8, dump: &mut Dump<'_>) -> Result;
}

/// A generic netlink family and its handler. Registered by [`GenlFamily::register`].
pub(crate) struct GenlFamily<T: GenlHandler> {
    raw: Opaque<sys::genl_family>,
    // Never read from Rust: `raw` points into these tables, which must live as long.
    _ops: KVec<sys::genl_split_ops>,
    _policies: KVec<KVec<sys::nla_policy>>,
    _mcgrps: KVec<sys::genl_multicast_group>,
    registered: AtomicBool,
    spec: &'static FamilySpec,
    handler: T,
}

// SAFETY: the C tables are written before registration and only read afterwards; the handler
// is `Send + Sync`.
unsafe impl<T: GenlHandler> Send for GenlFamily<T> {}
// SAFETY: as above.
unsafe impl<T: GenlHandler> Sync for GenlFamily<T> {}

/// Unregisters its family on drop (waiting for running requests).
pub(crate) struct GenlRegistration<T: GenlHandler>(Arc<GenlFamily<T>>);

fn copy_name(dst: &mut [kernel::ffi::c_char], name: &CStr) -> Result {
    let bytes = name.as_bytes();
    if bytes.len() >= dst.len() {
        return Err(EINVAL);
    }
    for (d, s) in dst.iter_mut().zip(bytes) {
        *d = *s as kernel::ffi::c_char;
    }
    Ok(())
}

fn nla_policy(p: AttrPolicy) -> sys::nla_policy {
    let mut raw = sys::nla_policy::default();
    match p {
        AttrPolicy::Reject => raw.type_ = sys::NLA_REJECT as u8,
        AttrPolicy::U32 => raw.type_ = sys::NLA_U32 as u8,
        AttrPolicy::U32Max(max) => {
            raw.type_ = sys::NLA_U32 as u8;
            raw.validation_type = sys::nla_policy_validation_NLA_VALIDATE_MAX as u8;
            raw.__bindgen_anon_1.__bindgen_anon_1.max = i16::try_from(max).unwrap_or(i16::MAX);
        }
        AttrPolicy::U64 => raw.type_ = sys::NLA_U64 as u8,
        AttrPolicy::String { max_len } => {
            raw.type_ = sys::NLA_NUL_STRING as u8;
            raw.len = max_len;
        }
        AttrPolicy::ExactLen(len) => {
            raw.type_ = sys::NLA_BINARY as u8;
            raw.validation_type = sys::nla_policy_validation_NLA_VALIDATE_RANGE as u8;
            raw.__bindgen_anon_1.__bindgen_anon_1.min = len as i16;
            raw.__bindgen_anon_1.__bindgen_anon_1.max = len as i16;
        }
    }
    raw
}

impl<T: GenlHandler> GenlFamily<T> {
    /// Builds the family's C tables and registers it. Process context.
    pub(crate) fn register(
        spec: &'static FamilySpec,
        module: &'static ThisModule,
        handler: T,
    ) -> Result<GenlRegistration<T>> {
        let mut ops = KVec::with_capacity(spec.ops.len() * 2, GFP_KERNEL)?;
        let mut policies = KVec::with_capacity(spec.ops.len(), GFP_KERNEL)?;
        for op in spec.ops {
            // Index 0 is unused by netlink (attribute types start at 1).
            let mut table = KVec::with_capacity(op.policy.len() + 1, GFP_KERNEL)?;
            table.push(nla_policy(AttrPolicy::Reject), GFP_KERNEL)?;
            for p in op.policy {
                table.push(nla_policy(*p), GFP_KERNEL)?;
            }
            policies.push(table, GFP_KERNEL)?;
        }
        for (op, table) in spec.ops.iter().zip(policies.iter()) {
            let admin = if op.admin { sys::GENL_ADMIN_PERM as u8 } else { 0 };
            let split_op = |cap: u32| {
                let mut raw = sys::genl_split_ops::default();
                raw.cmd = op.cmd;
                raw.flags = admin | cap as u8;
                raw.policy = table.as_ptr();
                raw.maxattr = op.policy.len() as u32;
                raw
            };
            if op.doit {
                let mut raw = split_op(sys::GENL_CMD_CAP_DO);
                raw.__bindgen_anon_1.__bindgen_anon_1.doit = Some(Self::doit_callback);
                ops.push(raw, GFP_KERNEL)?;
            }
            if op.dumpit {
                let mut raw = split_op(sys::GENL_CMD_CAP_DUMP);
                raw.__bindgen_anon_1.__bindgen_anon_2.dumpit = Some(Self::dumpit_callback);
                ops.push(raw, GFP_KERNEL)?;
            }
        }
        let mut mcgrps = KVec::with_capacity(spec.mcast_groups.len(), GFP_KERNEL)?;
        for name in spec.mcast_groups {
            let mut grp = sys::genl_multicast_group::default();
            copy_name(&mut grp.name, name)?;
            mcgrps.push(grp, GFP_KERNEL)?;
        }

        let mut raw = sys::genl_family::default();
        copy_name(&mut raw.name, spec.name)?;
        raw.version = spec.version;
        raw.module = module.as_ptr().cast();
        raw.split_ops = ops.as_ptr();
        raw.n_split_ops = u8::try_from(ops.len()).map_err(|_| EINVAL)?;
        raw.mcgrps = mcgrps.as_ptr();
        raw.n_mcgrps = u8::try_from(mcgrps.len()).map_err(|_| EINVAL)?;
        // Commands start at 1: reject unknown ones strictly.
        raw.resv_start_op = 0;
        raw.set_parallel_ops(0);
        // Requests are taken from every network namespace (the family is visible there);
        // `initial_netns_only` commands are refused outside the initial one. Multicast events
        // (`genlmsg_multicast`) still reach listeners in the initial namespace only.
        raw.set_netnsok(1);

        let family = Arc::new(
            Self {
                raw: Opaque::new(raw),
                _ops: ops,
                _policies: policies,
                _mcgrps: mcgrps,
                registered: AtomicBool::new(false),
                spec,
                handler,
            },
            flags::GFP_KERNEL,
        )?;
        // SAFETY: the family and the tables it points to live in the `Arc` until the
        // registration is dropped, which unregisters first.
        to_result(unsafe { sys::genl_register_family(family.raw.get()) })?;
        family.registered.store(true, Ordering::Release);
        Ok(GenlRegistration(family))
    }

    /// Sends an event to multicast group `group` (index into the spec's groups); any context.
    /// Quietly does nothing when nobody listens or memory is short: events are best effort.
    pub(crate) fn multicast(&self, group: u32, cmd: u8, fill: impl FnOnce(&mut Message<'_>) -> Result) {
        if !self.registered.load(Ordering::Acquire) {
            return;
        }
        // No allocation-failure warnings: under memory pressure an event is simply not sent.
        let gfp = kernel::bindings::GFP_ATOMIC | kernel::bindings::__GFP_NOWARN;
        let Ok(mut msg) = OwnedMessage::new(gfp) else { return };
        // SAFETY: the skb is ours and the family is registered.
        let hdr = unsafe { sys::genlmsg_put(msg.skb, 0, 0, self.raw.get(), 0, cmd) };
        if hdr.is_null() {
            return;
        }
        let mut m = Message { skb: msg.skb, _p: core::marker::PhantomData };
        if fill(&mut m).is_err() {
            return;
        }
        // SAFETY: `hdr` was returned by genlmsg_put on this skb.
        unsafe { sys::omx_genlmsg_end(msg.skb, hdr) };
        let skb = msg.take();
        // SAFETY: multicast consumes the skb; the family is registered (checked above, and
        // callers stop emitting events before the registration is dropped).
        unsafe { sys::omx_genlmsg_multicast(self.raw.get(), skb, group, gfp) };
    }

    /// Whether command `cmd` may only come from the initial network namespace.
    fn initial_netns_only(&self, cmd: u8) -> bool {
        self.spec.ops.iter().any(|op| op.cmd == cmd && op.initial_netns_only)
    }

    /// # Safety
    ///
    /// `raw` must be the `raw` field of a live `GenlFamily<T>`.
    unsafe fn from_raw<'a>(raw: *const sys::genl_family) -> &'a Self {
        // SAFETY: guaranteed by the caller.
        unsafe { &*kernel::container_of!(raw, Self, raw) }
    }

    unsafe extern "C" fn doit_callback(_skb: *mut sys::sk_buff, info: *mut sys::genl_info) -> kernel::ffi::c_int {
        // SAFETY: genetlink calls us with a valid `info` of our registered family; the family
        // lives until unregistration, which waits for running callbacks.
        let family = unsafe { Self::from_raw(sys::omx_genl_info_family(info)) };
        let mut len = 0;
        // SAFETY: `info` is valid; the helper returns the validated attribute area and length.
        let attrs = unsafe { sys::omx_genl_info_attrs(info, &mut len) };
        let attrs: &[u8] = match usize::try_from(len) {
            // SAFETY: `len` bytes from `attrs` lie inside the request message.
            Ok(n) if n > 0 && !attrs.is_null() => unsafe { core::slice::from_raw_parts(attrs.cast(), n) },
            _ => &[],
        };
        // SAFETY: `info` is valid for the call.
        let cmd = unsafe { sys::omx_genl_info_cmd(info) };
        let req = Request { cmd, attrs, info };
        if family.initial_netns_only(cmd) && !req.from_initial_netns() {
            return req.fail(EPERM, None, family.spec.other_netns_msg).to_errno();
        }
        match family.handler.doit(family, &req) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    unsafe extern "C" fn dumpit_callback(skb: *mut sys::sk_buff, cb: *mut sys::netlink_callback) -> kernel::ffi::c_int {
        // SAFETY: genetlink calls us with a valid callback of our family.
        let info = unsafe { sys::omx_genl_info_dump(cb) };
        // SAFETY: `info` of a dump is valid and names our family, alive as in `doit_callback`.
        let family = unsafe { Self::from_raw(sys::omx_genl_info_family(info)) };
        // SAFETY: `info` is valid.
        let cmd = unsafe { sys::omx_genl_info_cmd(info) };
        // SAFETY: `info` is valid; genetlink set its namespace from the requesting socket.
        if family.initial_netns_only(cmd) && !unsafe { sys::omx_genl_info_net_is_init(info) } {
            return EPERM.to_errno();
        }
        // SAFETY: `cb->args` is an array of 6 longs owned by this dump.
        let args = unsafe { sys::omx_netlink_cb_args(cb) };
        // SAFETY: as above; args[0] is our cursor, zero at the start of a dump.
        let position = unsafe { *args } as usize;
        let mut dump = Dump { skb, info, family: family.raw.get(), cmd, position, added: 0, full: false, _p: core::marker::PhantomData };
        let result = family.handler.dumpit(cmd, &mut dump);
        // SAFETY: as above.
        unsafe { *args = dump.position as kernel::ffi::c_long };
        match result {
            Err(e) => e.to_errno(),
            // Nothing fit into an empty buffer: the entry is too large to ever send.
            Ok(()) if dump.full && dump.added == 0 => errno::emsgsize().to_errno(),
            // More to come: netlink calls us again with a fresh buffer.
            // SAFETY: `skb` is valid.
            Ok(()) if dump.full => (unsafe { sys::omx_skb_len_of(skb) }) as i32,
            Ok(()) => 0,
        }
    }
}

impl<T: GenlHandler> GenlRegistration<T> {
    pub(crate) fn family(&self) -> &Arc<GenlFamily<T>> {
        &self.0
    }
}

impl<T: GenlHandler> Drop for GenlRegistration<T> {
    fn drop(&mut self) {
        self.0.registered.store(false, Ordering::Release);
        // SAFETY: registered in `register`; unregistering waits for running callbacks.
        unsafe { sys::genl_unregister_family(self.0.raw.get()) };
    }
}

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
pub(crate) struct Request<'a> {
    pub(crate) cmd: u8,
    attrs: &'a [u8],
    info: *mut sys::genl_info,
}

const NLA_HDRLEN: usize = 4;
const NLA_TYPE_MASK: u16 = 0x3fff;

impl<'a> Request<'a> {
    /// All attributes in message order (multi-attrs appear several times).
    pub(crate) fn attrs(&self) -> AttrIter<'a> {
        AttrIter { buf: self.attrs, offset: 0 }
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
    pub(crate) fn from_initial_netns(&self) -> bool {
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
        let hdr = unsafe { sys::omx_genlmsg_put_reply(msg.skb, self.info, family.raw.get(), 0, self.cmd) };
        if hdr.is_null() {
            return Err(ENOMEM);
        }
        fill(&mut Message { skb: msg.skb, _p: core::marker::PhantomData })?;
        // SAFETY: `hdr` was returned by genlmsg_put on this skb.
        unsafe { sys::omx_genlmsg_end(msg.skb, hdr) };
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
        let attr = Attr { ty, payload, offset: self.offset };
        self.offset = self.offset.checked_add(len.checked_add(3)? & !3)?;
        Some(attr)
    }
}

/// A netlink message being filled.
pub(crate) struct Message<'a> {
    skb: *mut sys::sk_buff,
    _p: core::marker::PhantomData<&'a mut ()>,
}

impl Message<'_> {
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
struct OwnedMessage {
    skb: *mut sys::sk_buff,
}

impl OwnedMessage {
    fn new(gfp: kernel::bindings::gfp_t) -> Result<Self> {
        // NLMSG_GOODSIZE: a page, enough for any single omx message.
        // SAFETY: allocation in the context implied by `gfp`.
        let skb = unsafe { sys::omx_genlmsg_new(3800, gfp) };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        Ok(Self { skb })
    }

    fn take(&mut self) -> *mut sys::sk_buff {
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

/// One part of a dump: entries are added until the buffer is full.
pub(crate) struct Dump<'a> {
    skb: *mut sys::sk_buff,
    info: *const sys::genl_info,
    family: *mut sys::genl_family,
    cmd: u8,
    position: usize,
    added: usize,
    full: bool,
    _p: core::marker::PhantomData<&'a mut ()>,
}

impl Dump<'_> {
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
        let hdr = unsafe { sys::omx_genlmsg_put_reply(self.skb, self.info, self.family, sys::NLM_F_MULTI as i32, self.cmd) };
        if hdr.is_null() {
            self.full = true;
            return Ok(false);
        }
        let mut msg = Message { skb: self.skb, _p: core::marker::PhantomData };
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
}
