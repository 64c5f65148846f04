// SPDX-License-Identifier: GPL-2.0

//! Receiving frames of one EtherType from every device (`dev_add_pack`).

use crate::glue::{netdev::NetDevice, skb::RxFrame};
use crate::sys;
use core::pin::Pin;
use kernel::alloc::{flags, KBox};
use kernel::error::Result;
use kernel::types::Opaque;

/// What a registered EtherType hands its frames to.
pub(crate) trait PacketHandler: Send + Sync {
    /// What the frames of one receive batch leave to do once all of them are handled
    /// (the work a frame makes due, done once for the batch).
    type Batch: Default;

    /// Called in the NET_RX softirq for every frame of the EtherType that any device of any
    /// network namespace receives (including frames for other hosts seen in promiscuous
    /// mode): must not sleep. `frame` is the frame as received, its data starting after the
    /// Ethernet header, not yet copied or linearized; `dev` is the receiving device.
    fn receive(&self, frame: RxFrame, dev: &NetDevice, batch: &mut Self::Batch);

    /// The frames of a batch were all handed to [`PacketHandler::receive`]: the frames the
    /// core delivers as a list (`netif_receive_skb_list`, GRO's batches), or a lone frame.
    fn end_batch(&self, batch: Self::Batch);
}

/// Waits until every handler running when it was called has returned (`synchronize_net`):
/// what a handler found in a table before it was unlinked is no longer in use. Process
/// context (sleeps).
pub(crate) fn wait_for_receivers() {
    // SAFETY: `synchronize_net` takes no argument; it only sleeps, which the caller allows.
    unsafe { sys::synchronize_net() };
}

/// A live `dev_add_pack` registration; unregisters (and waits for running handlers) on drop.
pub(crate) struct PacketTypeRegistration<T: PacketHandler> {
    ptype: Opaque<sys::packet_type>,
    handler: T,
}

// SAFETY: after registration `ptype` is only touched by the networking core under its own
// locking; `handler` is `Send + Sync`.
unsafe impl<T: PacketHandler> Send for PacketTypeRegistration<T> {}
// SAFETY: as above; shared access only reads `handler`, which is `Sync`.
unsafe impl<T: PacketHandler> Sync for PacketTypeRegistration<T> {}

impl<T: PacketHandler> PacketTypeRegistration<T> {
    /// Registers `handler` for frames with `ethertype` on all devices of all network
    /// namespaces (a `packet_type` without a device is global). Must be called in process
    /// context.
    pub(crate) fn new(ethertype: u16, handler: T) -> Result<Pin<KBox<Self>>> {
        let this = KBox::pin(
            Self {
                ptype: Opaque::new(sys::packet_type::default()),
                handler,
            },
            flags::GFP_KERNEL,
        )?;
        let raw = this.ptype.get();
        // SAFETY: `raw` points into a pinned allocation that lives until `drop` unregisters it;
        // the fields are set before `dev_add_pack` publishes the structure.
        unsafe {
            (*raw).type_ = ethertype.to_be();
            (*raw).func = Some(Self::receive_callback);
            (*raw).list_func = Some(Self::receive_list_callback);
            sys::dev_add_pack(raw);
        }
        Ok(this)
    }

    /// The `packet_type.func` trampoline.
    ///
    /// # Safety
    ///
    /// Called by the networking core with a valid skb whose reference it gives us, the receiving
    /// device, and the `packet_type` embedded in a live `PacketTypeRegistration<T>`.
    unsafe extern "C" fn receive_callback(
        skb: *mut sys::sk_buff,
        dev: *mut sys::net_device,
        ptype: *mut sys::packet_type,
        _orig_dev: *mut sys::net_device,
    ) -> kernel::ffi::c_int {
        // SAFETY: `ptype` is the `ptype` field of a registration that outlives this call
        // (`dev_remove_pack` waits for running handlers before `drop` frees it).
        let this = unsafe { &*kernel::container_of!(ptype, Self, ptype).cast::<Self>() };
        // SAFETY: the core hands us our own reference to `skb`.
        if let Some(frame) = unsafe { RxFrame::from_raw(skb) } {
            // SAFETY: `dev` is valid for the duration of the callback.
            let dev = unsafe { NetDevice::from_raw(dev) };
            let mut batch = T::Batch::default();
            this.handler.receive(frame, dev, &mut batch);
            this.handler.end_batch(batch);
        }
        0 // NET_RX_SUCCESS: the core ignores the value of packet_type handlers
    }

    /// The `packet_type.list_func` trampoline: a list of frames for us, one batch.
    ///
    /// # Safety
    ///
    /// Called by the networking core with a list of valid skbs whose references it gives
    /// us, each with its receiving device, and the `packet_type` embedded in a live
    /// `PacketTypeRegistration<T>`.
    unsafe extern "C" fn receive_list_callback(
        head: *mut sys::list_head,
        ptype: *mut sys::packet_type,
        _orig_dev: *mut sys::net_device,
    ) {
        // SAFETY: as in `receive_callback`.
        let this = unsafe { &*kernel::container_of!(ptype, Self, ptype).cast::<Self>() };
        let mut batch = T::Batch::default();
        loop {
            // SAFETY: `head` is the core's list of skbs for us, valid during the call; each
            // skb taken off it is ours.
            let skb = unsafe { sys::omx_skb_list_pop(head) };
            if skb.is_null() {
                break;
            }
            // SAFETY: `skb` is a valid received skb; its device is live during the callback.
            let dev = unsafe { sys::omx_skb_dev(skb) };
            // SAFETY: the reference to `skb` is ours (taken off the list) and given away.
            if let Some(frame) = unsafe { RxFrame::from_raw(skb) } {
                // SAFETY: `dev` is valid for the duration of the callback.
                let dev = unsafe { NetDevice::from_raw(dev) };
                this.handler.receive(frame, dev, &mut batch);
            }
        }
        this.handler.end_batch(batch);
    }

    /// The handler this registration feeds.
    #[expect(
        dead_code,
        reason = "no caller today; the registration owns the handler"
    )]
    pub(crate) fn handler(&self) -> &T {
        &self.handler
    }
}

impl<T: PacketHandler> Drop for PacketTypeRegistration<T> {
    fn drop(&mut self) {
        // SAFETY: `ptype` was registered in `new`; `dev_remove_pack` unlinks it and waits
        // (synchronize_net) until no CPU runs our callback, so freeing afterwards is safe.
        unsafe { sys::dev_remove_pack(self.ptype.get()) };
    }
}
