// SPDX-License-Identifier: GPL-2.0

//! Error codes that the 6.12 `kernel::error::code` module does not name.

use kernel::error::Error;

fn from_bindings(errno: u32) -> Error {
    // Kernel errno constants are small positive numbers; `from_errno` takes them negated.
    Error::from_errno(-(errno as i32))
}

/// `EMSGSIZE`: a frame does not fit.
pub(crate) fn emsgsize() -> Error {
    from_bindings(kernel::bindings::EMSGSIZE)
}

/// `EOPNOTSUPP`: the operation is not supported.
pub(crate) fn eopnotsupp() -> Error {
    from_bindings(kernel::bindings::EOPNOTSUPP)
}
