// SPDX-License-Identifier: GPL-2.0

//! Network devices (`struct net_device`) and counted references to them.

use crate::mac::MacAddr;
use crate::sys;
use core::ptr::NonNull;
use kernel::error::{code::*, Result};
use kernel::str::CStr;
use kernel::types::{ARef, AlwaysRefCounted, Opaque};

/// A network device, only ever seen by reference.
///
/// # Invariants
///
/// A `&NetDevice` refers to a registered device that stays valid for the reference's lifetime
/// (the caller holds a reference count or is inside a callback that guarantees it).
#[repr(transparent)]
pub(crate) struct NetDevice(Opaque<sys::net_device>);

// SAFETY: the fields read here are read-only or read with READ_ONCE; net_device is shared by design.
unsafe impl Sync for NetDevice {}
// SAFETY: a device reference can be dropped on any CPU (`dev_put` is context-safe).
unsafe impl Send for NetDevice {}

// SAFETY: `dev_hold`/`dev_put` manage the device's reference count; an `ARef` keeps it registered
// memory valid until the last `dev_put`.
unsafe impl AlwaysRefCounted for NetDevice {
    fn inc_ref(&self) {
        // SAFETY: `self` is a valid device by the type invariant.
        unsafe { sys::omx_dev_hold(self.as_raw()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller gives up one reference it owns.
        unsafe { sys::omx_dev_put(obj.cast::<sys::net_device>().as_ptr()) };
    }
}

impl NetDevice {
    /// Looks a device up by name in the initial network namespace, taking a reference.
    pub(crate) fn get_by_name(name: &CStr) -> Result<ARef<Self>> {
        // SAFETY: `name` is NUL-terminated; the helper returns a held device or NULL.
        let raw = unsafe { sys::omx_dev_get_by_name(name.as_char_ptr()) };
        let raw = NonNull::new(raw.cast::<Self>()).ok_or(ENODEV)?;
        // SAFETY: `dev_get_by_name` took the reference that the `ARef` now owns.
        Ok(unsafe { ARef::from_raw(raw) })
    }

    /// Borrows a device the kernel passed to a callback.
    ///
    /// # Safety
    ///
    /// `raw` must be valid for the returned lifetime.
    pub(crate) unsafe fn from_raw<'a>(raw: *mut sys::net_device) -> &'a Self {
        // SAFETY: `NetDevice` is a transparent wrapper; the caller guarantees validity.
        unsafe { &*raw.cast::<Self>() }
    }

    pub(crate) fn as_raw(&self) -> *mut sys::net_device {
        self.0.get()
    }

    /// The device's current Ethernet address.
    pub(crate) fn mac(&self) -> MacAddr {
        let mut mac = [0u8; 6];
        // SAFETY: the device is valid; `dev_addr` of an Ethernet device holds at least 6 bytes.
        unsafe {
            core::ptr::copy_nonoverlapping(sys::omx_dev_addr(self.as_raw()), mac.as_mut_ptr(), 6)
        };
        MacAddr(mac)
    }

    /// Whether the device belongs to the initial network namespace (`init_net`), the one
    /// omx's pool nodes live in. Interface indexes and names are only unique within one
    /// namespace, so a device of another one matches no node whatever its index.
    pub(crate) fn in_initial_netns(&self) -> bool {
        // SAFETY: the device is valid; its namespace pointer is read, not dereferenced.
        unsafe { sys::omx_dev_net_is_init(self.as_raw()) }
    }

    /// The interface index (unique within the device's network namespace only).
    pub(crate) fn ifindex(&self) -> i32 {
        // SAFETY: the device is valid.
        unsafe { sys::omx_dev_ifindex(self.as_raw()) }
    }

    /// Whether this is an Ethernet device (ARPHRD_ETHER), the only kind OmniXtend runs on.
    pub(crate) fn is_ethernet(&self) -> bool {
        // SAFETY: the device is valid.
        u32::from(unsafe { sys::omx_dev_type(self.as_raw()) }) == sys::ARPHRD_ETHER
    }

    /// The device's MTU (payload bytes per frame).
    pub(crate) fn mtu(&self) -> u32 {
        // SAFETY: the device is valid.
        unsafe { sys::omx_dev_mtu(self.as_raw()) }
    }

    /// The device's name, e.g. `eth0`.
    pub(crate) fn name(&self) -> &CStr {
        // SAFETY: `dev->name` is a NUL-terminated array inside the valid device.
        unsafe { CStr::from_char_ptr(sys::omx_dev_name(self.as_raw())) }
    }
}
