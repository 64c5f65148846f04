// SPDX-License-Identifier: GPL-2.0

//! A family's registration (its C tables built from the spec), its events, and the callbacks
//! genetlink calls for `do` and `dump` requests.

use super::dump::Dump;
use super::message::OwnedMessage;
use super::request::Request;
use super::{AttrPolicy, FamilySpec, GenlHandler, Message};
use crate::sys;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::alloc::{flags, KVec};
use kernel::error::{code::*, to_result, Result};
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::Arc;
use kernel::types::Opaque;

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
            let admin = if op.admin {
                sys::GENL_ADMIN_PERM as u8
            } else {
                0
            };
            let split_op = |cap: u32| sys::genl_split_ops {
                cmd: op.cmd,
                flags: admin | cap as u8,
                policy: table.as_ptr(),
                maxattr: op.policy.len() as u32,
                ..Default::default()
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

    /// The registered C family, for building messages of it.
    pub(super) fn raw(&self) -> *mut sys::genl_family {
        self.raw.get()
    }

    /// Sends an event to multicast group `group` (index into the spec's groups); any context.
    /// Quietly does nothing when nobody listens or memory is short: events are best effort.
    pub(crate) fn multicast(
        &self,
        group: u32,
        cmd: u8,
        fill: impl FnOnce(&mut Message<'_>) -> Result,
    ) {
        if !self.registered.load(Ordering::Acquire) {
            return;
        }
        // No allocation-failure warnings: under memory pressure an event is simply not sent.
        let gfp = kernel::bindings::GFP_ATOMIC | kernel::bindings::__GFP_NOWARN;
        let Ok(mut msg) = OwnedMessage::new(gfp) else {
            return;
        };
        // SAFETY: the skb is ours and the family is registered.
        let hdr = unsafe { sys::genlmsg_put(msg.skb(), 0, 0, self.raw.get(), 0, cmd) };
        if hdr.is_null() {
            return;
        }
        if fill(&mut msg.message()).is_err() {
            return;
        }
        // SAFETY: `hdr` was returned by genlmsg_put on this skb.
        unsafe { sys::omx_genlmsg_end(msg.skb(), hdr) };
        let skb = msg.take();
        // SAFETY: multicast consumes the skb; the family is registered (checked above, and
        // callers stop emitting events before the registration is dropped).
        unsafe { sys::omx_genlmsg_multicast(self.raw.get(), skb, group, gfp) };
    }

    /// Whether command `cmd` may only come from the initial network namespace.
    fn initial_netns_only(&self, cmd: u8) -> bool {
        self.spec
            .ops
            .iter()
            .any(|op| op.cmd == cmd && op.initial_netns_only)
    }

    /// # Safety
    ///
    /// `raw` must be the `raw` field of a live `GenlFamily<T>`.
    unsafe fn from_raw<'a>(raw: *const sys::genl_family) -> &'a Self {
        // SAFETY: guaranteed by the caller.
        unsafe { &*kernel::container_of!(raw, Self, raw) }
    }

    /// genetlink's `doit`: refuses a command from the wrong namespace, else hands the request
    /// to [`GenlHandler::doit`].
    ///
    /// # Safety
    ///
    /// Called by genetlink only, with a valid `info` of a request to this registered family.
    unsafe extern "C" fn doit_callback(
        _skb: *mut sys::sk_buff,
        info: *mut sys::genl_info,
    ) -> kernel::ffi::c_int {
        // SAFETY: genetlink calls us with a valid `info` of our registered family; the family
        // lives until unregistration, which waits for running callbacks.
        let family = unsafe { Self::from_raw(sys::omx_genl_info_family(info)) };
        // SAFETY: `info` is valid for the call, which the request does not outlive.
        let req = unsafe { Request::new(info) };
        if family.initial_netns_only(req.cmd) && !req.is_from_initial_netns() {
            return req
                .fail(EPERM, None, family.spec.other_netns_msg)
                .to_errno();
        }
        match family.handler.doit(family, &req) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// genetlink's `dumpit`: refuses a command from the wrong namespace, else lets
    /// [`GenlHandler::dumpit`] fill one part of the dump.
    ///
    /// # Safety
    ///
    /// Called by genetlink only, with the skb of this part and a valid callback of a dump of
    /// this registered family.
    unsafe extern "C" fn dumpit_callback(
        skb: *mut sys::sk_buff,
        cb: *mut sys::netlink_callback,
    ) -> kernel::ffi::c_int {
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
        // SAFETY: the skb of this part, `info` and the family are valid during this call,
        // which the dump does not outlive.
        let mut dump = unsafe { Dump::new(skb, info, family.raw.get(), cmd, position) };
        let result = family.handler.dumpit(cmd, &mut dump);
        // SAFETY: as above.
        unsafe { *args = dump.position() as kernel::ffi::c_long };
        dump.finish(result)
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
