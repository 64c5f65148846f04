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

/// Prints one line (used by the macros).
pub fn emit(l: Level, args: std::fmt::Arguments<'_>) {
    let tag = match l {
        Level::Error => "error",
        Level::Warn => "warn",
        Level::Info => "info",
        Level::Debug => "debug",
        Level::Trace => "trace",
    };
    let prog = std::env::args()
        .next()
        .and_then(|a| a.rsplit('/').next().map(str::to_owned))
        .unwrap_or_else(|| "omx".into());
    eprintln!("{tag:5} {prog}: {args}");
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
