//! A connection's diagnostic counters, and their sum (over a pool node's connections, over the
//! connections a module node had before its current one).

/// Counters for diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames written by `poll_transmit` (including retransmissions).
    pub frames_tx: u64,
    /// Retransmitted frames.
    pub frames_retx: u64,
    /// Unsequenced acknowledgements sent (1.1 AckOnly; in 1.0.3 empty
    /// frames numbered ACKD_SEQ, used when the window is full).
    pub ack_only_tx: u64,
    /// NAKs sent.
    pub naks_tx: u64,
    /// NAKs received.
    pub naks_rx: u64,
    /// Go-Back-N restarts caused by a NAK.
    pub gobacks: u64,
    /// Retransmit timer expiries that caused a resend.
    pub timeouts: u64,
    /// Frames successfully parsed.
    pub frames_rx: u64,
    /// In-order frames accepted.
    pub frames_accepted: u64,
    /// Duplicate frames dropped.
    pub duplicates: u64,
    /// Out-of-order frames dropped.
    pub out_of_order: u64,
    /// Frames that failed to parse.
    pub rx_errors: u64,
    /// Frames dropped because omx's integrity trailer was missing or did not match (corrupted
    /// in transit; also counted in `rx_errors`).
    pub integrity_errors: u64,
    /// Frames ignored.
    pub rx_ignored: u64,
    /// Frames dropped unread because they were outside the window
    /// ([`crate::Disposition::OutOfWindow`]): a sequence number further from `NEXT_RX_SEQ` than
    /// [`crate::Config::peer_window`] allows, or an acknowledgement naming a frame never sent. Too
    /// far off to be this connection's, nothing of them is used: no message, acknowledgement,
    /// NAK, credit or sign of life, and nothing is sent in answer.
    pub out_of_window: u64,
    /// In-window frames refused by the caller ([`crate::Connection::on_payload_refused`]): only
    /// their acknowledgement was used.
    pub rx_refused: u64,
    /// TileLink messages sent (first transmission only).
    pub msgs_tx: u64,
    /// TileLink messages delivered.
    pub msgs_rx: u64,
}

impl Stats {
    /// Field-by-field sum (wrapping, like the counters themselves).
    pub const fn sum(&self, other: &Stats) -> Stats {
        Stats {
            frames_tx: self.frames_tx.wrapping_add(other.frames_tx),
            frames_retx: self.frames_retx.wrapping_add(other.frames_retx),
            ack_only_tx: self.ack_only_tx.wrapping_add(other.ack_only_tx),
            naks_tx: self.naks_tx.wrapping_add(other.naks_tx),
            naks_rx: self.naks_rx.wrapping_add(other.naks_rx),
            gobacks: self.gobacks.wrapping_add(other.gobacks),
            timeouts: self.timeouts.wrapping_add(other.timeouts),
            frames_rx: self.frames_rx.wrapping_add(other.frames_rx),
            frames_accepted: self.frames_accepted.wrapping_add(other.frames_accepted),
            duplicates: self.duplicates.wrapping_add(other.duplicates),
            out_of_order: self.out_of_order.wrapping_add(other.out_of_order),
            rx_errors: self.rx_errors.wrapping_add(other.rx_errors),
            integrity_errors: self.integrity_errors.wrapping_add(other.integrity_errors),
            rx_ignored: self.rx_ignored.wrapping_add(other.rx_ignored),
            out_of_window: self.out_of_window.wrapping_add(other.out_of_window),
            rx_refused: self.rx_refused.wrapping_add(other.rx_refused),
            msgs_tx: self.msgs_tx.wrapping_add(other.msgs_tx),
            msgs_rx: self.msgs_rx.wrapping_add(other.msgs_rx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Stats;

    const FIELDS: usize = 18;

    /// Every counter of `s`, in declaration order. The pattern names each field (no `..`), so
    /// a new field breaks the build here until this test, and so [`Stats::sum`], know it.
    fn fields(s: &mut Stats) -> [&mut u64; FIELDS] {
        macro_rules! all {
            ($($f:ident),*) => {{
                let Stats { $($f),* } = s;
                [$($f),*]
            }};
        }
        all!(
            frames_tx,
            frames_retx,
            ack_only_tx,
            naks_tx,
            naks_rx,
            gobacks,
            timeouts,
            frames_rx,
            frames_accepted,
            duplicates,
            out_of_order,
            rx_errors,
            integrity_errors,
            rx_ignored,
            out_of_window,
            rx_refused,
            msgs_tx,
            msgs_rx
        )
    }

    /// Counters with all-distinct values from `base` on.
    fn distinct(base: u64) -> Stats {
        let mut s = Stats::default();
        for (i, f) in fields(&mut s).into_iter().enumerate() {
            *f = base + i as u64;
        }
        s
    }

    #[test]
    fn sum_adds_every_field() {
        let mut sum = distinct(1).sum(&distinct(1000));
        let got = fields(&mut sum).map(|f| *f);
        let want: [u64; FIELDS] = core::array::from_fn(|i| 1 + 1000 + 2 * i as u64);
        assert_eq!(got, want);
    }

    #[test]
    fn sum_wraps() {
        let max = Stats {
            frames_tx: u64::MAX,
            ..Stats::default()
        };
        let one = Stats {
            frames_tx: 2,
            msgs_rx: 3,
            ..Stats::default()
        };
        let s = max.sum(&one);
        assert_eq!((s.frames_tx, s.msgs_rx), (1, 3));
        assert_eq!(Stats::default().sum(&one), one);
    }
}
