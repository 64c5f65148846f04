// SPDX-License-Identifier: GPL-2.0

//! Safe wrappers over the kernel APIs that the 6.12 `kernel` crate lacks.
//!
//! Every `unsafe` block of omx_mod lives below this module; the driver logic above it is safe Rust.

pub(crate) mod blk;
pub(crate) mod errno;
pub(crate) mod gather;
pub(crate) mod genl;
pub(crate) mod hrtimer;
pub(crate) mod netdev;
pub(crate) mod notifier;
pub(crate) mod packet;
pub(crate) mod random;
pub(crate) mod skb;
pub(crate) mod spinlock_bh;
pub(crate) mod tasklet;
pub(crate) mod timer;
pub(crate) mod tx_burst;
pub(crate) mod vmem;
