//! Answer coalescing, tuned by what it achieves: a pool node that answers each request
//! frame the moment it arrives makes a busy client take one interrupt, one receive poll,
//! one completion and one wake-up of its application per answer. Answers held a little
//! arrive together and the client shares those costs among them; a client whose CPU is the
//! limit then does more. In QEMU, 4 KiB reads at depth 32 on a pool node in the kernel:
//! 8,027 IOPS answered one by one, 9,894 in batches of 4, 11,677 in batches of 8 (#17).
//!
//! Whether holding pays depends on the client, which the node cannot see: a client that
//! waits for each answer (depth 1) only loses the time held. So the node measures, as
//! Linux's dynamic interrupt moderation (`lib/dim`) tunes a NIC: it counts request frames
//! in epochs of at least [`EPOCH_REQUESTS`] frames and [`EPOCH_MIN_NS`], moves one step
//! along the batch sizes [`LEVELS`] per epoch, keeps going while the request rate rises by
//! more than [`SIGNIFICANT_PCT`], and turns back otherwise. So it settles around the best
//! size. A try starts at batches of 4 and, if it does not clearly pay, goes back to
//! answering at once; it is repeated after [`REST_EPOCHS`] epochs at first, twice as late
//! after each failure, up to [`MAX_REST_EPOCHS`] (about a second: one noisy try must not
//! cost a client that would gain for long). Frames that come less often than twice per round
//! trip cannot gather in a batch: they are never held (checked at every frame), and never
//! tried. A pause of [`NEW_WORKLOAD_PAUSE_NS`] ends what was learned: the next requests are
//! another workload (another job, another burst of swapping), measured and tried afresh.
//!
//! A batch goes when it is complete, or when its first answer has waited twice the time
//! the batch takes to fill at the client's pace, at most [`MAX_HOLD_NS`].

/// The batch sizes tried, in request frames (the first: no holding).
pub const LEVELS: [u32; 7] = [1, 2, 4, 8, 16, 32, 64];
/// Where a try starts on [`LEVELS`].
const PROBE_LEVEL: usize = 2;
/// Request frames per measuring epoch, at least (a write at MTU 1500 is four).
pub const EPOCH_REQUESTS: u32 = 128;
/// Shortest measuring epoch: shorter ones are too noisy to compare.
pub const EPOCH_MIN_NS: u64 = 10_000_000;
/// A rate higher than the last epoch's by more than this, in percent, counts as a gain;
/// less is noise (lib/dim's threshold).
pub const SIGNIFICANT_PCT: u64 = 10;
/// Longest an answer waits for its batch.
pub const MAX_HOLD_NS: u64 = 1_000_000;
/// Epochs without a new try after the first failed one.
pub const REST_EPOCHS: u32 = 4;
/// Longest rest between tries: 64 epochs of 10-20 ms. Once a try failed, a whole
/// 10 s fio job in the benchmark ran unheld while it would have gained 70 % (#17).
pub const MAX_REST_EPOCHS: u32 = 64;
/// A pause without requests this long starts the tuning again.
pub const NEW_WORKLOAD_PAUSE_NS: u64 = 100_000_000;

/// When the answers of the frames taken so far should go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    /// Now: no batch, or the batch is complete or overdue.
    Now,
    /// At this time (ns) at the latest, unless the batch completes earlier.
    At(u64),
}

/// The coalescing state of one client's connection.
#[derive(Debug, Clone)]
pub struct Coalescer {
    /// When the last request frame arrived, and the smoothed gap between them (ns).
    last_request: Option<u64>,
    gap: u64,
    /// Request frames whose answers are held, and when the first of them must go.
    held: u32,
    hold_until: u64,
    /// Index into [`LEVELS`], and the way the last move went.
    level: usize,
    rising: bool,
    /// The last move was a try from answering at once.
    trying: bool,
    epoch_start: u64,
    epoch_requests: u32,
    /// Request frames per second in the last epoch (0: none measured yet).
    last_rate: u64,
    /// Epochs to wait before the next try, and the rest after the next failed one.
    rest: u32,
    next_rest: u32,
    /// Batches held so far.
    batches: u64,
}

impl Default for Coalescer {
    fn default() -> Self {
        Self::new()
    }
}

impl Coalescer {
    /// No history: nothing is held until a try shows that holding pays.
    pub const fn new() -> Self {
        Coalescer {
            last_request: None,
            gap: 0,
            held: 0,
            hold_until: 0,
            level: 0,
            rising: true,
            trying: false,
            epoch_start: 0,
            epoch_requests: 0,
            last_rate: 0,
            rest: 0,
            next_rest: REST_EPOCHS,
            batches: 0,
        }
    }

    /// A frame with requests was answered at `now`, on a connection whose smoothed round
    /// trip is `srtt` ns (0: not measured yet, nothing held). Returns when the answers
    /// should go out; call [`Coalescer::sent`] whenever they went, whatever sent them.
    pub fn on_requests(&mut self, now: u64, srtt: u64) -> Flush {
        if let Some(prev) = self.last_request {
            let since = now.saturating_sub(prev);
            if since >= NEW_WORKLOAD_PAUSE_NS {
                self.start_afresh();
            }
            // Capped, so that one pause does not hide the client's pace for long.
            let sample = since.min(srtt.saturating_mul(4));
            self.gap = self.gap - self.gap / 8 + sample / 8;
        } else {
            self.gap = srtt;
        }
        self.last_request = Some(now);
        self.count(now, srtt);
        let batch = self.batch();
        if batch <= 1 || !self.concurrent(srtt) {
            self.sent();
            return Flush::Now;
        }
        self.held += 1;
        if self.held == 1 {
            self.batches = self.batches.wrapping_add(1);
            let fill = self.gap.saturating_mul(u64::from(batch));
            self.hold_until = now.saturating_add(fill.saturating_mul(2).min(MAX_HOLD_NS));
        }
        if self.held >= batch || now >= self.hold_until {
            self.sent();
            return Flush::Now;
        }
        Flush::At(self.hold_until)
    }

    /// Answers are held for a batch: the time they must go out at the latest.
    pub const fn deadline(&self) -> Option<u64> {
        if self.held > 0 {
            Some(self.hold_until)
        } else {
            None
        }
    }

    /// Everything held went out.
    pub fn sent(&mut self) {
        self.held = 0;
    }

    /// How many batches of answers were held.
    pub const fn held_batches(&self) -> u64 {
        self.batches
    }

    /// The batch size in use, in request frames (1: none).
    pub fn batch(&self) -> u32 {
        LEVELS.get(self.level).copied().unwrap_or(1)
    }

    /// Counts a request frame; at the end of an epoch, moves on the ladder.
    fn count(&mut self, now: u64, srtt: u64) {
        if self.epoch_requests == 0 {
            self.epoch_start = now;
        }
        self.epoch_requests += 1;
        let elapsed = now.saturating_sub(self.epoch_start);
        if self.epoch_requests < EPOCH_REQUESTS || elapsed < EPOCH_MIN_NS {
            return;
        }
        let rate = u64::from(self.epoch_requests).saturating_mul(1_000_000_000) / elapsed.max(1);
        self.epoch_requests = 0;
        let concurrent = self.concurrent(srtt);
        self.step(rate, concurrent);
    }

    /// Whether request frames come at least twice per round trip (`srtt`, ns; 0: unknown),
    /// so that a batch can gather at all.
    fn concurrent(&self, srtt: u64) -> bool {
        srtt > 0 && srtt >= self.gap.saturating_mul(2)
    }

    fn step(&mut self, rate: u64, concurrent: bool) {
        let before = core::mem::replace(&mut self.last_rate, rate);
        if !concurrent {
            // Nothing to gather any more; a try under way failed.
            if self.level > 0 {
                self.level = 0;
                self.rested();
            }
            return;
        }
        if self.level == 0 {
            if self.rest > 0 {
                self.rest -= 1;
            } else {
                // A try starts at batches of 4: a clearer difference than 2's, and still
                // well within what a depth that is tried at all gathers.
                self.level = PROBE_LEVEL;
                self.rising = true;
                self.trying = true;
            }
            return;
        }
        // The last step did not clearly pay: turn back (from a try, all the way).
        let better = rate.saturating_mul(100) > before.saturating_mul(100 + SIGNIFICANT_PCT);
        if core::mem::take(&mut self.trying) && !better {
            self.level = 0;
            self.rested();
            return;
        }
        if !better {
            self.rising = !self.rising;
        }
        if self.rising {
            self.level = (self.level + 1).min(LEVELS.len() - 1);
            self.next_rest = REST_EPOCHS;
        } else {
            self.level -= 1;
            if self.level == 0 {
                self.rested();
            }
        }
    }

    /// After a pause: answer at once, and try after one epoch that measures the rate so.
    fn start_afresh(&mut self) {
        self.level = 0;
        self.trying = false;
        self.epoch_requests = 0;
        self.rest = 0;
        self.next_rest = REST_EPOCHS;
    }

    /// A try did not pay: rest, longer each time.
    fn rested(&mut self) {
        self.rest = self.next_rest;
        self.next_rest = self.next_rest.saturating_mul(2).min(MAX_REST_EPOCHS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: u64 = 1_000;
    const RTT: u64 = 300 * US;

    const TOP: u32 = LEVELS[LEVELS.len() - 1];

    /// Feeds `epochs` measuring epochs of request frames, each at the mean gap
    /// `gap_for(batch)` gives for the batch size in use (the client's answer to it), from the
    /// coalescer's last request on; returns the batch size of each epoch.
    fn drive(c: &mut Coalescer, epochs: usize, gap_for: impl Fn(u32) -> u64) -> [u32; 400] {
        let mut seen = [0u32; 400];
        let mut now = c.last_request.unwrap_or(1_000_000);
        for s in seen.iter_mut().take(epochs) {
            *s = c.batch();
            let gap = gap_for(c.batch());
            loop {
                now += gap;
                if let Flush::At(t) = c.on_requests(now, RTT) {
                    assert!(t > now && t - now <= MAX_HOLD_NS, "{t} {now}");
                }
                if c.epoch_requests == 0 {
                    break;
                }
            }
        }
        seen
    }

    /// A client whose CPU is the limit: each batch of answers costs it 100 us, each request
    /// 25 us more, so larger batches let it send requests faster.
    fn busy_client(batch: u32) -> u64 {
        (100 * US + 25 * US * u64::from(batch)) / u64::from(batch)
    }

    #[test]
    fn a_client_that_gains_gets_ever_larger_batches() {
        let mut c = Coalescer::new();
        let seen = drive(&mut c, 40, busy_client);
        assert_eq!(seen[0], 1);
        // The last doubling gains less than SIGNIFICANT_PCT: it settles between the two.
        assert!(c.batch() >= TOP / 2, "{:?}", &seen[..40]);
        assert!(c.held_batches() > 40 * u64::from(EPOCH_REQUESTS) / u64::from(TOP) / 2);
    }

    #[test]
    fn a_client_that_neither_gains_nor_loses_is_answered_at_once() {
        // Frames every 50 us whatever is held (an open-loop sender): holding buys nothing.
        let mut c = Coalescer::new();
        let seen = drive(&mut c, 400, |_| 50 * US);
        let held = seen.iter().filter(|&&b| b > 1).count();
        assert!(held <= 20, "held in {held} of 400 epochs: {seen:?}");
    }

    #[test]
    fn the_batch_settles_where_the_client_does_best() {
        // Gains up to batches of 4, then loses: each larger batch costs it 20 us a request.
        let mut c = Coalescer::new();
        let seen = drive(&mut c, 200, |batch| {
            busy_client(batch) + 20 * US * u64::from(batch.saturating_sub(4))
        });
        let near = seen[100..200]
            .iter()
            .filter(|&&b| (2..=8).contains(&b))
            .count();
        assert!(near >= 90, "{:?}", &seen[100..200]);
    }

    #[test]
    fn a_client_at_depth_one_is_never_held() {
        // Each request comes a round trip (and the client's time) after the last answer.
        let mut c = Coalescer::new();
        let seen = drive(&mut c, 100, |batch| {
            RTT + 50 * US + u64::from(batch - 1) * RTT
        });
        assert!(seen[..100].iter().all(|&b| b == 1), "{:?}", &seen[..100]);
    }

    #[test]
    fn a_client_that_loses_is_tried_rarely() {
        // Three requests outstanding, latency-bound: every hold slows it down.
        let mut c = Coalescer::new();
        let seen = drive(&mut c, 400, latency_bound_client);
        let tried = seen.iter().filter(|&&b| b > 1).count();
        assert!(tried <= 30, "held in {tried} of 400 epochs: {seen:?}");
        assert!(seen[300..].iter().filter(|&&b| b > 1).count() <= 3);
    }

    /// Losing client of `a_client_that_loses_is_tried_rarely`.
    fn latency_bound_client(batch: u32) -> u64 {
        (RTT + u64::from(batch - 1) * 200 * US) / 3
    }

    #[test]
    fn a_losing_client_is_still_tried_now_and_then() {
        // However often tries failed, the next comes within MAX_REST_EPOCHS: a client that
        // changes its ways without a pause is not left unheld for long.
        let mut c = Coalescer::new();
        let seen = drive(&mut c, 400, latency_bound_client);
        let mut tries = (1..400).filter(|&i| seen[i] > 1 && seen[i - 1] == 1);
        // The first try comes after the first epoch.
        let mut last = tries.next().unwrap_or(400);
        assert!(last <= 2, "{seen:?}");
        for next in tries {
            assert!(next - last <= MAX_REST_EPOCHS as usize + 3, "{seen:?}");
            last = next;
        }
        assert!(last >= 400 - MAX_REST_EPOCHS as usize - 3, "{seen:?}");
    }

    #[test]
    fn after_a_pause_a_new_workload_is_tried_at_once() {
        // The benchmark's order: long streaming writes whose tries all failed, then a pause,
        // then a client that gains.
        let mut c = Coalescer::new();
        drive(&mut c, 400, latency_bound_client);
        let last = c.last_request.unwrap_or(0);
        assert_eq!(c.on_requests(last + NEW_WORKLOAD_PAUSE_NS, RTT), Flush::Now);
        let seen = drive(&mut c, 10, busy_client);
        assert!(seen[..3].iter().any(|&b| b > 1), "{:?}", &seen[..10]);
        assert!(c.batch() >= 8, "{:?}", &seen[..10]);
    }

    #[test]
    fn batching_stops_when_the_client_turns_to_depth_one() {
        let mut c = Coalescer::new();
        drive(&mut c, 40, busy_client);
        assert!(c.batch() > 1);
        // At depth 1 the smoothed gap grows past half the round trip within a few frames:
        // from then on nothing is held, even before the epoch ends.
        let mut now = c.last_request.unwrap_or(0);
        let mut held = 0;
        for _ in 0..EPOCH_REQUESTS {
            now += RTT + 50 * US;
            if c.on_requests(now, RTT) != Flush::Now {
                held += 1;
                c.sent();
            }
        }
        assert!(held <= 3, "{held}");
        drive(&mut c, 2, |_| RTT + 50 * US);
        assert_eq!(c.batch(), 1);
    }

    #[test]
    fn a_held_answer_waits_twice_the_fill_time_at_most_and_never_past_the_cap() {
        // Batches of 4, a frame every 50 us: the first answer waits at most 400 us.
        let mut c = Coalescer::new();
        c.level = 2;
        c.gap = 50 * US;
        c.last_request = Some(10_000 * US);
        let now = 10_050 * US;
        assert_eq!(c.on_requests(now, RTT), Flush::At(now + 2 * 4 * 50 * US));
        assert_eq!(c.deadline(), Some(now + 400 * US));
        // Overdue when the next frame comes: all go.
        assert_eq!(c.on_requests(now + 400 * US, RTT), Flush::Now);
        assert_eq!(c.deadline(), None);
        // A slow pace on a slow path: the cap.
        let slow = 100 * MAX_HOLD_NS;
        c.gap = 500 * US;
        c.last_request = Some(now + 400 * US);
        let at = now + 900 * US;
        assert_eq!(c.on_requests(at, slow), Flush::At(at + MAX_HOLD_NS));
        c.sent();
        // No round trip measured: nothing held.
        assert_eq!(c.on_requests(at + 1, 0), Flush::Now);
    }
}
