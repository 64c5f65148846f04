//! The systemd service manager's notification protocol (`sd_notify(3)`), for `Type=notify`
//! units: one datagram per state change to the `AF_UNIX` socket named by `NOTIFY_SOCKET`
//! (a path, or an abstract name written with a leading `@`). Without the variable (not run
//! by systemd) nothing is sent. Written here rather than linking libsystemd: it is a
//! dozen lines, and the daemon stays free of C dependencies.

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// Sends `state` (e.g. `"READY=1\nSTATUS=serving"`) to the service manager, if there is one.
/// Errors are returned, not fatal: a unit that waits for readiness times out on its own.
pub fn notify(state: &str) -> io::Result<()> {
    match std::env::var_os("NOTIFY_SOCKET") {
        Some(to) => send(&to.to_string_lossy(), state),
        None => Ok(()),
    }
}

/// Sends `state` to the notification socket `to` (a path, or `@name` for an abstract one).
pub fn send(to: &str, state: &str) -> io::Result<()> {
    let addr = match to.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(name.as_bytes())?
        }
        None if to.starts_with('/') => SocketAddr::from_pathname(to)?,
        None => return Err(io::Error::from(io::ErrorKind::InvalidInput)),
    };
    let sock = UnixDatagram::unbound()?;
    sock.send_to_addr(state.as_bytes(), &addr)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_reaches_a_path_socket_and_an_abstract_one() {
        let dir = std::env::temp_dir().join(format!("omx-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let manager = UnixDatagram::bind(&path).unwrap();
        send(path.to_str().unwrap(), "READY=1\nSTATUS=serving").unwrap();
        let mut buf = [0u8; 64];
        let n = manager.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\nSTATUS=serving");

        use std::os::linux::net::SocketAddrExt;
        let name = format!("omx-notify-test-{}", std::process::id());
        let abs = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let manager = UnixDatagram::bind_addr(&abs).unwrap();
        send(&format!("@{name}"), "STOPPING=1").unwrap();
        let n = manager.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_relative_name_is_refused() {
        assert!(send("notify.sock", "READY=1").is_err());
    }
}
