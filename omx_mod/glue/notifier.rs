// SPDX-License-Identifier: GPL-2.0

//! Network device notifications (`register_netdevice_notifier`): lets the driver drop its
//! references to an interface that is being unregistered, so the unregistration completes.

use crate::glue::netdev::NetDevice;
use crate::sys;
use core::pin::Pin;
use kernel::alloc::{flags, KBox};
use kernel::error::{to_result, Result};
use kernel::types::Opaque;

/// What the driver does when an interface goes away (process context, RTNL held).
pub(crate) trait NetdevHandler: Send + Sync {
    fn unregistering(&self, dev: &NetDevice);
}

/// A registered netdevice notifier; unregistered on drop.
pub(crate) struct NetdevNotifier<T: NetdevHandler> {
    nb: Opaque<sys::notifier_block>,
    handler: T,
}

// SAFETY: the notifier chain serialises callbacks under RTNL; `handler` is `Send + Sync`.
unsafe impl<T: NetdevHandler> Send for NetdevNotifier<T> {}
// SAFETY: as above.
unsafe impl<T: NetdevHandler> Sync for NetdevNotifier<T> {}

impl<T: NetdevHandler> NetdevNotifier<T> {
    /// Registers `handler`. Process context.
    pub(crate) fn new(handler: T) -> Result<Pin<KBox<Self>>> {
        let nb = sys::notifier_block {
            notifier_call: Some(Self::callback),
            ..Default::default()
        };
        let this = KBox::pin(
            Self {
                nb: Opaque::new(nb),
                handler,
            },
            flags::GFP_KERNEL,
        )?;
        // SAFETY: `nb` lives in a pinned allocation until `drop` unregisters it.
        to_result(unsafe { sys::register_netdevice_notifier(this.nb.get()) })?;
        Ok(this)
    }

    /// The notifier chain's callback: tells the handler about an interface being unregistered.
    ///
    /// # Safety
    ///
    /// Called by the netdevice notifier chain only, with the `nb` of a live registration.
    unsafe extern "C" fn callback(
        nb: *mut sys::notifier_block,
        event: kernel::ffi::c_ulong,
        ptr: *mut kernel::ffi::c_void,
    ) -> kernel::ffi::c_int {
        if event == sys::netdev_cmd_NETDEV_UNREGISTER as kernel::ffi::c_ulong {
            // SAFETY: `nb` is the `nb` field of a live registration (drop unregisters first).
            let this = unsafe { &*kernel::container_of!(nb, Self, nb) };
            // SAFETY: for netdevice events `ptr` is a `netdev_notifier_info` naming a valid
            // device for the duration of the call.
            let dev = unsafe { NetDevice::from_raw(sys::omx_netdev_notifier_info_to_dev(ptr)) };
            this.handler.unregistering(dev);
        }
        sys::NOTIFY_DONE as kernel::ffi::c_int
    }
}

impl<T: NetdevHandler> Drop for NetdevNotifier<T> {
    fn drop(&mut self) {
        // SAFETY: registered in `new`; unregistering waits for running callbacks (RTNL).
        unsafe { sys::unregister_netdevice_notifier(self.nb.get()) };
    }
}
