//! `omxctl monitor`: follow the "events" multicast group until killed.

use std::io::Write;

use crate::error::{Error, Result};
use crate::netlink::Omx;
use crate::show;

/// Subscribe and print each event as a line (or a JSON line) as it comes.
pub fn run(omx: &mut Omx, json: bool) -> Result<()> {
    omx.subscribe_events()?;
    let stdout = std::io::stdout();
    loop {
        let events = match omx.next_events() {
            Ok(events) => events,
            Err(Error::EventsLost) => {
                eprintln!("omxctl: warning: {}", Error::EventsLost);
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut out = stdout.lock();
        for e in &events {
            let line = if json {
                show::json_line(e)
            } else {
                show::event_line(e)
            };
            writeln!(out, "{line}").map_err(|e| Error::io("cannot write to stdout", e))?;
        }
        out.flush()
            .map_err(|e| Error::io("cannot write to stdout", e))?;
    }
}
