// SPDX-License-Identifier: GPL-2.0

//! The block devices of this host, and where on each node their regions lie.
//! Process context only (netlink requests, module unload).

use crate::device::Device;
use crate::omx_logic::region;
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

/// Devices per host.
pub(crate) const MAX_DEVICES: usize = 16;

#[pin_data]
pub(crate) struct Devices {
    #[pin]
    list: Mutex<[Option<Device>; MAX_DEVICES]>,
}

/// Why a device cannot be removed.
pub(crate) enum DelError {
    NotFound,
    Busy,
}

impl Devices {
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self { list <- new_mutex!([const { None }; MAX_DEVICES], "omx_devices") }),
            GFP_KERNEL,
        )
    }

    /// Runs `f` on the device list (held locked).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut [Option<Device>; MAX_DEVICES]) -> R) -> R {
        f(&mut self.list.lock())
    }

    /// Whether any device stores data on node `id`.
    pub(crate) fn uses_node(&self, id: u32) -> bool {
        self.list
            .lock()
            .iter()
            .flatten()
            .any(|d| d.members().iter().any(|m| m.node.id == id))
    }

    /// Removes the device called `name` unless it is open. After the lock is released, the
    /// device is discarded whole, so its nodes give its memory back (best effort: a node that
    /// cannot answer keeps it, which is logged), then the disk goes away (waiting for its
    /// I/O).
    pub(crate) fn remove(&self, name: &[u8]) -> Result<(), DelError> {
        let dev = {
            let mut list = self.list.lock();
            let slot = list
                .iter_mut()
                .find(|d| d.as_ref().is_some_and(|d| d.name.as_bytes() == name))
                .ok_or(DelError::NotFound)?;
            if slot.as_ref().is_some_and(|d| d.is_open()) {
                return Err(DelError::Busy);
            }
            slot.take()
        };
        if let Some(dev) = &dev {
            if let Err(e) = dev.release_memory() {
                pr_warn!(
                    "device {}: not all of its memory on the nodes could be released ({:?}): a node that failed keeps it\n",
                    &*dev.name,
                    e
                );
            }
        }
        drop(dev);
        Ok(())
    }

    /// Removes every device (module unload: nothing can hold them open then).
    pub(crate) fn remove_all(&self) {
        loop {
            let dev = self.list.lock().iter_mut().find_map(|d| d.take());
            match dev {
                Some(dev) => drop(dev),
                None => return,
            }
        }
    }
}

/// First-fit: a chunk-aligned free range of `len` bytes on node `id` of `size` bytes.
pub(crate) fn find_region(list: &[Option<Device>], id: u32, size: u64, len: u64) -> Option<u64> {
    let used = list.iter().flatten().flat_map(|d| {
        d.members()
            .iter()
            .filter(move |m| m.node.id == id)
            .map(|m| (m.base, m.len))
    });
    region::find_region(used, size, len)
}
