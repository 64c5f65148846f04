// SPDX-License-Identifier: GPL-2.0

//! Generic netlink families: registration, strict policies, requests, replies, dumps, events.
//!
//! A family is described by static tables ([`FamilySpec`], [`OpSpec`], [`AttrPolicy`]) taken
//! from its YAML spec; the kernel validates every request against the policies before a
//! handler sees it, and [`Request`] re-parses the attributes with bounds checks anyway.
//!
//! Files: [`family`] (registration, events, genetlink's callbacks), [`request`] (a `do`
//! request's attributes and its reply), [`message`] (filling a message), [`dump`] (one part
//! of a dump).

mod dump;
mod family;
mod message;
mod request;

pub(crate) use dump::Dump;
pub(crate) use family::{GenlFamily, GenlRegistration};
pub(crate) use message::Message;
pub(crate) use request::{Attr, Request};

use kernel::error::Result;
use kernel::str::CStr;

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
    String {
        max_len: u16,
    },
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
