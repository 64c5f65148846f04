//! Minimal leveled logging to stderr (`LEVEL omx-node: message`).

use std::sync::atomic::{AtomicU8, Ordering};

/// Log levels, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Level {
    /// Errors only.
    Error = 0,
    /// Warnings and errors.
    Warn = 1,
    /// Normal operation messages (default).
    Info = 2,
    /// Per-connection details.
    Debug = 3,
    /// Per-frame details.
    Trace = 4,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

/// Sets the most verbose level printed.
pub fn set_level(l: Level) {
    LEVEL.store(l as u8, Ordering::Relaxed);
}

/// Whether `l` is printed.
pub fn enabled(l: Level) -> bool {
    (l as u8) <= LEVEL.load(Ordering::Relaxed)
}

/// Whether stderr is the journal's stream (systemd sets `JOURNAL_STREAM` to its
/// `device:inode`): then each line starts with its syslog priority, `<3>` to `<7>`, which
/// journald takes as the line's priority (`journalctl -p warning` shows warnings and errors).
fn stderr_is_journal() -> bool {
    use std::os::unix::fs::MetadataExt;
    static ANSWER: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ANSWER.get_or_init(|| {
        let Some(want) = std::env::var_os("JOURNAL_STREAM") else {
            return false;
        };
        std::fs::metadata("/proc/self/fd/2")
            .map(|m| journal_stream_is(&want.to_string_lossy(), m.dev(), m.ino()))
            .unwrap_or(false)
    })
}

/// Whether `JOURNAL_STREAM`'s value `var` names the file `dev`:`ino`.
pub fn journal_stream_is(var: &str, dev: u64, ino: u64) -> bool {
    var.split_once(':')
        .is_some_and(|(d, i)| d.parse() == Ok(dev) && i.parse() == Ok(ino))
}

/// One log line: the level's tag, or with `journal` its syslog priority prefix too.
pub fn line(l: Level, journal: bool, prog: &str, args: std::fmt::Arguments<'_>) -> String {
    let (tag, priority) = match l {
        Level::Error => ("error", 3),
        Level::Warn => ("warn", 4),
        Level::Info => ("info", 6),
        Level::Debug => ("debug", 7),
        Level::Trace => ("trace", 7),
    };
    if journal {
        format!("<{priority}>{tag:5} {prog}: {args}")
    } else {
        format!("{tag:5} {prog}: {args}")
    }
}

/// Prints one line (used by the macros).
pub fn emit(l: Level, args: std::fmt::Arguments<'_>) {
    let prog = std::env::args()
        .next()
        .and_then(|a| a.rsplit('/').next().map(str::to_owned))
        .unwrap_or_else(|| "omx".into());
    eprintln!("{}", line(l, stderr_is_journal(), &prog, args));
}

/// Logs at a level: `log!(Level::Info, "x {}", y)`.
#[macro_export]
macro_rules! log {
    ($lvl:expr, $($arg:tt)*) => {
        if $crate::log::enabled($lvl) {
            $crate::log::emit($lvl, format_args!($($arg)*));
        }
    };
}

/// `error!` level log.
#[macro_export]
macro_rules! error { ($($a:tt)*) => { $crate::log!($crate::log::Level::Error, $($a)*) } }
/// `warn!` level log.
#[macro_export]
macro_rules! warn { ($($a:tt)*) => { $crate::log!($crate::log::Level::Warn, $($a)*) } }
/// `info!` level log.
#[macro_export]
macro_rules! info { ($($a:tt)*) => { $crate::log!($crate::log::Level::Info, $($a)*) } }
/// `debug!` level log.
#[macro_export]
macro_rules! debug { ($($a:tt)*) => { $crate::log!($crate::log::Level::Debug, $($a)*) } }

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_lines_carry_their_syslog_priority() {
        let l = |lvl, j| line(lvl, j, "omx-node", format_args!("x {}", 1));
        assert_eq!(l(Level::Error, true), "<3>error omx-node: x 1");
        assert_eq!(l(Level::Warn, true), "<4>warn  omx-node: x 1");
        assert_eq!(l(Level::Info, true), "<6>info  omx-node: x 1");
        assert_eq!(l(Level::Debug, true), "<7>debug omx-node: x 1");
        assert_eq!(l(Level::Warn, false), "warn  omx-node: x 1");
    }

    #[test]
    fn the_journal_stream_is_recognised_by_device_and_inode() {
        assert!(journal_stream_is("8:1234", 8, 1234));
        assert!(!journal_stream_is("8:1234", 8, 1235));
        assert!(!journal_stream_is("8", 8, 1234));
        assert!(!journal_stream_is("", 0, 0));
    }
}
