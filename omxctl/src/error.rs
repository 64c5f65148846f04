//! Errors of omxctl and how they are explained to the user.
//!
//! Kernel errors carry the errno, the extended ACK and what the command was
//! about (a node id, a device name) so the message can name the cause:
//! "no such node 3", "device omx0 is busy (open or swapped on)".

use std::fmt;
use std::io;

use netlink_packet_core::DecodeError;

use crate::netlink::attrs;
use crate::netlink::socket::Extack;

/// Message when the family is not registered.
pub const NOT_LOADED: &str = "omx_mod is not loaded (no generic netlink family 'omx'); \
load it with: modprobe omx_mod / insmod omx_mod.ko";

/// Message for EPERM/EACCES without a kernel message. CAP_NET_ADMIN counts in the initial
/// user namespace only: root in a container's user namespace does not have it.
pub const NO_PERMISSION: &str =
    "permission denied: omxctl needs CAP_NET_ADMIN (run as root on the host)";

/// What a failed request was about; picks the wording of ENOENT & co.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Target {
    /// Nothing in particular (stats, family lookup).
    #[default]
    None,
    /// node-add on this interface.
    NodeAdd { ifname: String },
    /// An existing node (node-del, node-get).
    Node(u32),
    /// dev-add of this name over these nodes (empty = all).
    DevAdd { name: String, nodes: Vec<u32> },
    /// An existing device (dev-del, dev-get).
    Dev(String),
    /// lend-add on this interface.
    LendAdd { ifname: String },
    /// An existing lending (lend-del, lend-get).
    Lend(u32),
}

/// An error reply from the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    /// Positive errno.
    pub errno: i32,
    /// Extended ACK.
    pub extack: Extack,
    /// Attribute type the extack offset points at, if any.
    pub bad_attr: Option<u16>,
    /// Command number of the request.
    pub cmd: Option<u8>,
    /// What the request was about.
    pub target: Target,
}

/// Everything that can go wrong.
#[derive(Debug)]
pub enum Error {
    /// The `omx` family is not registered: the module is not loaded.
    NotLoaded,
    /// The kernel refused a request.
    Kernel(KernelError),
    /// A system call failed.
    Io { context: String, source: io::Error },
    /// A reply could not be decoded.
    Decode(String),
    /// The kernel broke the netlink protocol, or something unexpected.
    Protocol(String),
    /// A bad value the user gave that clap could not check.
    Invalid(String),
    /// Notifications were dropped (ENOBUFS on the event socket).
    EventsLost,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Wrap an I/O error with what was being done.
    pub fn io(context: &str, source: io::Error) -> Self {
        if source.raw_os_error() == Some(libc::EPERM) || source.raw_os_error() == Some(libc::EACCES)
        {
            // e.g. joining a group with a permission flag.
            return Error::Kernel(KernelError {
                errno: libc::EPERM,
                extack: Extack::default(),
                bad_attr: None,
                cmd: None,
                target: Target::None,
            });
        }
        Error::Io {
            context: context.to_string(),
            source,
        }
    }

    /// Wrap a decoding error.
    pub fn decode(e: DecodeError) -> Self {
        Error::Decode(e.to_string())
    }

    /// Say what the failed request was about (for kernel errors).
    pub fn with_target(self, target: Target) -> Self {
        match self {
            Error::Kernel(mut k) => {
                k.target = target;
                Error::Kernel(k)
            }
            other => other,
        }
    }

    /// The kernel errno, if this is a kernel error.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Kernel(k) => Some(k.errno),
            _ => None,
        }
    }
}

/// `strerror` without Rust's " (os error N)" suffix.
pub fn strerror(errno: i32) -> String {
    let s = io::Error::from_raw_os_error(errno).to_string();
    match s.rfind(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn join_ids(ids: &[u32]) -> String {
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

impl KernelError {
    /// The cause, worded for the operation.
    pub fn cause(&self) -> String {
        use Target::*;
        let e = self.errno;
        let kernel_msg = self.extack.msg.as_deref().filter(|m| !m.is_empty());
        match (&self.target, e) {
            // The kernel says why (e.g. a command that changes state, sent from a network
            // namespace other than the one omx_mod's nodes live in): its words are the cause.
            (_, libc::EPERM) | (_, libc::EACCES) if kernel_msg.is_some() => {
                kernel_msg.unwrap_or_default().to_string()
            }
            (_, libc::EPERM) | (_, libc::EACCES) => NO_PERMISSION.to_string(),
            (Node(id), libc::ENOENT | libc::ENODEV) => format!("no such node {id}"),
            (Dev(name), libc::ENOENT | libc::ENODEV) => format!("no such device {name}"),
            (Lend(id), libc::ENOENT | libc::ENODEV) => format!("no such lending {id}"),
            (LendAdd { ifname }, libc::ENOENT | libc::ENODEV) => {
                format!("no such interface {ifname}")
            }
            (NodeAdd { ifname }, libc::ENODEV) => format!("no such interface {ifname}"),
            (NodeAdd { ifname }, libc::ENOENT) => format!("no such interface {ifname}"),
            (DevAdd { nodes, .. }, libc::ENOENT | libc::ENODEV) if nodes.is_empty() => {
                "no pool nodes to build the device on (add one with: omxctl node add)".into()
            }
            (DevAdd { nodes, .. }, libc::ENOENT | libc::ENODEV) => {
                format!("no such node among {}", join_ids(nodes))
            }
            (NodeAdd { .. }, libc::EEXIST) => {
                "a node with this interface and MAC address already exists".into()
            }
            (DevAdd { name, .. }, libc::EEXIST) => format!("device {name} already exists"),
            (LendAdd { .. }, libc::ENOMEM) => "not enough memory to lend this size".into(),
            (LendAdd { .. }, libc::EEXIST) => {
                "memory is lent to this client on this interface already".into()
            }
            (Node(id), libc::EBUSY) => {
                format!("node {id} is in use by a device (delete the device first)")
            }
            (Dev(name), libc::EBUSY) => format!("device {name} is busy (open or swapped on)"),
            (DevAdd { .. }, libc::E2BIG | libc::ENOSPC | libc::EFBIG | libc::ERANGE) => {
                "size too large for the nodes' capacity".into()
            }
            (NodeAdd { ifname }, libc::ENETDOWN) => format!("interface {ifname} is down"),
            (_, libc::EOPNOTSUPP) => "operation not supported by this omx_mod".into(),
            (_, libc::EINVAL) => "invalid argument".into(),
            (_, libc::ENOMEM) => "the kernel is out of memory".into(),
            (_, libc::ETIMEDOUT) => "the pool node did not answer (timed out)".into(),
            (_, e) => strerror(e),
        }
    }

    /// The extack part: "kernel: <msg>; bad attribute: <name>".
    pub fn detail(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(msg) = &self.extack.msg {
            if !msg.is_empty() {
                parts.push(msg.clone());
            }
        }
        if let Some(t) = self.bad_attr {
            parts.push(format!("bad attribute: {}", self.attr_name(t)));
        } else if let Some(off) = self.extack.offset {
            parts.push(format!("bad attribute at offset {off}"));
        }
        if let Some(t) = self.extack.miss_type {
            parts.push(format!("missing attribute: {}", self.attr_name(t as u16)));
        }
        if parts.is_empty() {
            None
        } else {
            Some(format!("kernel: {}", parts.join("; ")))
        }
    }

    fn attr_name(&self, kind: u16) -> String {
        let cmd = self.cmd.and_then(|c| attrs::OmxCmd::try_from(c).ok());
        let name = cmd.and_then(|c| c.attr_name(kind));
        match name {
            Some(n) => n.to_string(),
            None => format!("type {kind}"),
        }
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cause = self.cause();
        f.write_str(&cause)?;
        // "no such node 3 (kernel: no such node; bad attribute: id)" says
        // nothing new: leave the detail out when the cause already has it.
        let redundant =
            self.extack.miss_type.is_none()
                && self.extack.msg.as_deref().is_some_and(|m| {
                    !m.is_empty() && cause.to_lowercase().contains(&m.to_lowercase())
                });
        if let (false, Some(d)) = (redundant, self.detail()) {
            write!(f, " ({d})")?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotLoaded => f.write_str(NOT_LOADED),
            Error::Kernel(k) => k.fmt(f),
            Error::Io { context, source } => write!(
                f,
                "{context}: {}",
                strerror(source.raw_os_error().unwrap_or(0))
            )
            .and_then(|_| {
                if source.raw_os_error().is_none() {
                    write!(f, " ({source})")
                } else {
                    Ok(())
                }
            }),
            Error::Decode(m) => write!(f, "cannot decode the kernel's reply: {m}"),
            Error::Protocol(m) => write!(f, "netlink protocol error: {m}"),
            Error::Invalid(m) => f.write_str(m),
            Error::EventsLost => f.write_str("events were lost (socket receive buffer overflow)"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    fn kerr(errno: i32, target: Target) -> KernelError {
        KernelError {
            errno,
            extack: Extack::default(),
            bad_attr: None,
            cmd: None,
            target,
        }
    }

    #[test]
    fn names_the_cause() {
        assert_eq!(
            kerr(libc::ENOENT, Target::Node(3)).to_string(),
            "no such node 3"
        );
        assert_eq!(
            kerr(libc::ENODEV, Target::Dev("omx7".into())).to_string(),
            "no such device omx7"
        );
        assert_eq!(
            kerr(libc::EPERM, Target::Node(1)).to_string(),
            NO_PERMISSION
        );
        assert_eq!(
            kerr(
                libc::E2BIG,
                Target::DevAdd {
                    name: "omx0".into(),
                    nodes: vec![]
                }
            )
            .to_string(),
            "size too large for the nodes' capacity"
        );
        assert_eq!(
            kerr(libc::EBUSY, Target::Dev("omx0".into())).to_string(),
            "device omx0 is busy (open or swapped on)"
        );
        assert_eq!(
            kerr(
                libc::ENOENT,
                Target::DevAdd {
                    name: "omx0".into(),
                    nodes: vec![1, 9]
                }
            )
            .to_string(),
            "no such node among 1,9"
        );
        assert_eq!(
            kerr(libc::EXDEV, Target::None).to_string(),
            "Invalid cross-device link"
        );
    }

    #[test]
    fn appends_extack() {
        let mut k = kerr(
            libc::EINVAL,
            Target::NodeAdd {
                ifname: "eth1".into(),
            },
        );
        k.extack.msg = Some("mtu below 256".into());
        k.extack.offset = Some(60);
        k.bad_attr = Some(attrs::node::MTU);
        k.cmd = Some(1);
        assert_eq!(
            k.to_string(),
            "invalid argument (kernel: mtu below 256; bad attribute: mtu)"
        );
        let mut k = kerr(libc::EINVAL, Target::None);
        k.extack.miss_type = Some(attrs::dev::NAME as u32);
        k.cmd = Some(5);
        assert_eq!(
            k.to_string(),
            "invalid argument (kernel: missing attribute: name)"
        );
    }

    #[test]
    fn permission_denied_with_kernel_reason() {
        let msg = "omx_mod: pool nodes belong to the initial network namespace; run omxctl \
                   there (e.g. nsenter -t 1 -n omxctl ...)";
        let mut k = kerr(
            libc::EPERM,
            Target::NodeAdd {
                ifname: "eth0".into(),
            },
        );
        k.extack.msg = Some(msg.into());
        k.cmd = Some(1);
        assert_eq!(k.to_string(), msg);
        // Without a kernel message (the capability check of genetlink itself): the hint.
        k.extack.msg = None;
        assert_eq!(k.to_string(), NO_PERMISSION);
    }

    #[test]
    fn leaves_out_redundant_extack() {
        let mut k = kerr(libc::ENOENT, Target::Node(3));
        k.extack.msg = Some("no such node".into());
        k.bad_attr = Some(attrs::node::ID);
        k.cmd = Some(2);
        assert_eq!(k.to_string(), "no such node 3");
        let mut k = kerr(libc::EOPNOTSUPP, Target::Dev("omx0".into()));
        k.extack.msg = Some("block devices are not available in this version of omx_mod".into());
        assert_eq!(
            k.to_string(),
            "operation not supported by this omx_mod (kernel: block devices are not \
             available in this version of omx_mod)"
        );
    }

    #[test]
    fn not_loaded_message() {
        assert_eq!(
            Error::NotLoaded.to_string(),
            "omx_mod is not loaded (no generic netlink family 'omx'); \
             load it with: modprobe omx_mod / insmod omx_mod.ko"
        );
    }
}
