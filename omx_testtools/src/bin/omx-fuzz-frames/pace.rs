//! Pacing: a token bucket at the current rate. Guests under TCG take frames slowly: what a
//! guest's kernel cannot take is dropped at its tap device (`tx_dropped`), what a userspace
//! receiver cannot take is dropped at its socket, which only its own count of received
//! frames shows (a JSON counter in a file it rewrites, as `omx-node --stats-file` does). The
//! rate is lowered while the watched interfaces drop frames or a watched receiver counts
//! fewer frames than were sent to it, and raised again, up to the maximum, otherwise.
//! Queues grow long before they drop, though, so the real connections' round trips (see
//! `rtt.rs`) cut the rate too, and keep it from growing.

use std::path::PathBuf;
use std::time::Duration;

use crate::rtt::Rtt;
use omx_node::util::Mac;

/// Rate adjustments happen this often (ns).
const PERIOD: u64 = 200_000_000;
/// Lowest rate the feedback goes down to (frames per second).
const MIN_RATE: f64 = 200.0;
/// The rate starts here (at most the maximum) and grows while nobody falls behind.
const START_RATE: f64 = 4000.0;
/// Round trips (ns) above which the rate is halved, and up to which it may grow.
const RTT_CUT: u64 = 600_000_000;
const RTT_OK: u64 = 250_000_000;
/// A watched counter that does not move for this long (ns) means its receiver is stuck.
const STALL: u64 = 3_000_000_000;

/// A receiver's own counter of received frames, in a file it rewrites.
pub struct RxWatch {
    pub path: PathBuf,
    pub key: String,
    pub mac: Mac,
    /// Counter value, frames sent to `mac` and the time when it last changed.
    last: Option<(u64, u64, u64)>,
}

impl RxWatch {
    /// Parses `FILE:KEY=MAC`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("bad --watch-rx '{s}': use FILE:KEY=MAC");
        let (rest, mac) = s.rsplit_once('=').ok_or_else(bad)?;
        let (path, key) = rest.rsplit_once(':').ok_or_else(bad)?;
        Ok(RxWatch {
            path: PathBuf::from(path),
            key: key.to_string(),
            mac: omx_node::util::parse_mac(mac)?,
            last: None,
        })
    }

    /// The first number after `"KEY":` in the file.
    fn read(&self) -> Option<u64> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let at = text.find(&format!("\"{}\":", self.key))? + self.key.len() + 3;
        let digits: String = text[at..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse().ok()
    }

    /// How the receiver does, from its counter: `Some(true)` if it counted clearly fewer
    /// frames than were sent to it (`sent` so far) since the counter last changed, or if
    /// the counter has not moved for [`STALL`] while frames were sent; `Some(false)` if it
    /// keeps up; `None` if there is nothing new to tell.
    fn behind(&mut self, sent: u64, now: u64) -> Option<bool> {
        let rx = self.read()?;
        match self.last {
            Some((prev, sent_then, at)) if prev == rx => {
                let stalled = now.saturating_sub(at) > STALL && sent > sent_then + 1000;
                if stalled {
                    self.last = Some((rx, sent, now));
                }
                stalled.then_some(true)
            }
            Some((prev, sent_then, _)) => {
                self.last = Some((rx, sent, now));
                // The file lags a little: only a clear shortfall counts.
                Some((rx - prev.min(rx)) * 10 < sent.saturating_sub(sent_then) * 8)
            }
            None => {
                self.last = Some((rx, sent, now));
                None
            }
        }
    }
}

pub struct Pacer {
    rate: f64,
    max: f64,
    tokens: f64,
    last: u64,
    watch: Vec<String>,
    receivers: Vec<RxWatch>,
    dropped_start: u64,
    dropped_last: u64,
    checked_at: u64,
    sent_at_check: u64,
    /// The longest round trip of the last period (ns).
    pub last_rtt: u64,
}

fn read_dropped(ifaces: &[String]) -> u64 {
    ifaces
        .iter()
        .filter_map(|i| {
            std::fs::read_to_string(format!("/sys/class/net/{i}/statistics/tx_dropped")).ok()
        })
        .filter_map(|s| s.trim().parse::<u64>().ok())
        .sum()
}

impl Pacer {
    /// At most `max` frames per second; `watch`: interfaces whose drops slow us down;
    /// `receivers`: receivers' counters that do.
    pub fn new(max: f64, watch: Vec<String>, receivers: Vec<RxWatch>, now: u64) -> Self {
        let d = read_dropped(&watch);
        Pacer {
            rate: max.min(START_RATE),
            max,
            tokens: 0.0,
            last: now,
            watch,
            receivers,
            dropped_start: d,
            dropped_last: d,
            checked_at: now,
            sent_at_check: 0,
            last_rtt: 0,
        }
    }

    /// How many frames (at most `batch`) may go now, or how long to wait for one.
    pub fn allow(&mut self, now: u64, batch: usize) -> Result<usize, Duration> {
        let dt = now.saturating_sub(self.last) as f64 / 1e9;
        self.last = now;
        self.tokens = (self.tokens + dt * self.rate).min(batch as f64);
        if self.tokens >= 1.0 {
            Ok(self.tokens as usize)
        } else {
            let wait = (1.0 - self.tokens) / self.rate;
            Err(Duration::from_secs_f64(wait))
        }
    }

    /// Records `n` frames sent.
    pub fn spent(&mut self, n: usize) {
        self.tokens -= n as f64;
    }

    /// Adapts the rate to the drops and round trips seen since the last adjustment; `sent`
    /// is the total, `sent_to` what was sent to a MAC.
    pub fn adjust(&mut self, now: u64, sent: u64, sent_to: impl Fn(&Mac) -> u64, rtt: &mut Rtt) {
        if now.saturating_sub(self.checked_at) < PERIOD {
            return;
        }
        let d = read_dropped(&self.watch);
        let dropped = d.saturating_sub(self.dropped_last);
        let frames = sent.saturating_sub(self.sent_at_check);
        // With receivers' counters, the rate only grows on their word (they answer about
        // once a second); without, while the taps drop nothing.
        let mut behind = false;
        let mut fine = self.receivers.is_empty();
        for r in &mut self.receivers {
            match r.behind(sent_to(&r.mac), now) {
                Some(true) => behind = true,
                Some(false) => fine = true,
                None => {}
            }
        }
        self.last_rtt = rtt.take(now);
        if self.last_rtt > RTT_CUT {
            self.rate = (self.rate * 0.5).max(MIN_RATE);
        } else if behind || dropped * 100 > frames {
            self.rate = (self.rate * 0.7).max(MIN_RATE);
        } else if dropped == 0 && fine && self.last_rtt <= RTT_OK {
            let step = if self.receivers.is_empty() { 1.05 } else { 1.1 };
            self.rate = (self.rate * step).min(self.max);
        }
        self.dropped_last = d;
        self.checked_at = now;
        self.sent_at_check = sent;
    }

    /// The current rate (frames per second).
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Frames the watched interfaces dropped since we started.
    pub fn dropped(&self) -> u64 {
        read_dropped(&self.watch).saturating_sub(self.dropped_start)
    }
}
