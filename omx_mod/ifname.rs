// SPDX-License-Identifier: GPL-2.0

//! An interface's name as nodes and lendings keep it for their reports: the device reference
//! itself may be dropped (the interface unregistered) while the node or lending remains.

use crate::glue::netdev::NetDevice;

/// Up to 15 bytes and a NUL, as `IFNAMSIZ`.
#[derive(Clone, Copy)]
pub(crate) struct IfName([u8; 16]);

impl IfName {
    /// `dev`'s name now.
    pub(crate) fn of(dev: &NetDevice) -> Self {
        let mut name = [0u8; 16];
        for (d, s) in name.iter_mut().take(15).zip(dev.name().as_bytes()) {
            *d = *s;
        }
        Self(name)
    }

    /// The name with its NUL, as netlink string attributes carry it.
    pub(crate) fn with_nul(&self) -> &[u8] {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(15);
        self.0.get(..=len).unwrap_or(&[0])
    }
}
