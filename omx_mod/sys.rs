// SPDX-License-Identifier: GPL-2.0

//! Raw bindings generated at build time from `sys/bindings.h` (see `Kbuild`).
//!
//! Only the safe wrappers in [`crate::glue`] may use these; driver logic never does.

#![allow(
    dead_code,
    missing_docs,
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    improper_ctypes,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    clippy::all,
    clippy::undocumented_unsafe_blocks
)]

use kernel::ffi;
// Block-layer structs: the kernel crate's definitions, so pointers pass between both.
use kernel::bindings::{bio, bio_vec, blk_mq_queue_data, bvec_iter, gendisk, page, request};

// Blocklisted by the bindgen options, as in the kernel's own `rust/bindings/lib.rs`.
type __kernel_size_t = usize;
type __kernel_ssize_t = isize;
type __kernel_ptrdiff_t = isize;

include!("sys/bindings_generated.rs");
