// SPDX-License-Identifier: GPL-2.0

//! The `omx` generic netlink family. Its numbers, policies and operations are generated from
//! `Documentation/netlink/specs/omx.yaml` into `netlink_generated.rs` (regenerate with
//! `scripts/netlink-gen.sh`); only what the spec cannot say is written here.

use crate::glue::genl::FamilySpec;

#[path = "netlink_generated.rs"]
mod generated;

pub(crate) use generated::*;

/// The `omx` family.
pub(crate) static FAMILY: FamilySpec = FamilySpec {
    name: NAME,
    version: VERSION,
    ops: &OPS,
    mcast_groups: &MCAST_GROUPS,
    other_netns_msg: kernel::c_str!(
        "omx_mod: pool nodes belong to the initial network namespace; run omxctl there (e.g. nsenter -t 1 -n omxctl ...)"
    ),
};
