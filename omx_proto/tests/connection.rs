//! Scenario tests of the connection state machine, frame by frame.

use omx_proto::integrity::{self, Check};
use omx_proto::tilelink::Channel;
use omx_proto::{
    ByteOrder, Config, Connection, Disposition, Error, EthHeader, FrameView, Message, MessageType,
    SlotMeta, State, Version,
};

type Conn = Connection<Vec<u8>, Vec<SlotMeta>>;
const A_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const B_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];

fn pair(version: Version, tweak: impl Fn(&mut Config)) -> (Conn, Conn) {
    let mut ca = Config::new(version);
    ca.rto_ns = 1_000;
    ca.ack_delay_ns = 100;
    ca.nak_holdoff_ns = 500;
    tweak(&mut ca);
    let mut cb = ca.clone();
    ca.ethernet = Some(EthHeader::new(B_MAC, A_MAC));
    cb.ethernet = Some(EthHeader::new(A_MAC, B_MAC));
    let a = Conn::new(
        ca.clone(),
        vec![0u8; Conn::required_memory(&ca, 16)],
        vec![SlotMeta::EMPTY; 16],
    )
    .unwrap();
    let b = Conn::new(
        cb.clone(),
        vec![0u8; Conn::required_memory(&cb, 16)],
        vec![SlotMeta::EMPTY; 16],
    )
    .unwrap();
    (a, b)
}

/// Drains `from`'s transmit queue.
fn drain(from: &mut Conn, now: u64) -> Vec<Vec<u8>> {
    let mut buf = vec![0u8; from.max_frame_len()];
    let mut v = Vec::new();
    while let Some(n) = from.poll_transmit(now, &mut buf).unwrap() {
        v.push(buf[..n].to_vec());
    }
    v
}

fn header(f: &[u8]) -> omx_proto::TloeHeader {
    FrameView::parse_ethernet(f, ByteOrder::Spec, true)
        .unwrap()
        .1
        .header
}

/// Delivers frames, returns the sources of delivered messages.
fn deliver(to: &mut Conn, frames: &[Vec<u8>], now: u64) -> Vec<u32> {
    let mut got = Vec::new();
    for f in frames {
        let rx = to.on_frame(f, now).unwrap();
        got.extend(rx.messages().map(|m| m.source));
    }
    got
}

/// Runs both ends to quiescence over a perfect link.
fn settle(a: &mut Conn, b: &mut Conn, mut now: u64) -> u64 {
    for _ in 0..100 {
        let fa = drain(a, now);
        deliver(b, &fa, now);
        let fb = drain(b, now);
        deliver(a, &fb, now);
        let next = [a.next_deadline(), b.next_deadline()]
            .into_iter()
            .flatten()
            .min();
        match next {
            Some(t) if t <= now + 10_000 => now = t.max(now + 1),
            _ => break,
        }
    }
    now
}

#[test]
fn v11_open_handshake_and_close() {
    let (mut a, mut b) = pair(Version::V1_1, |_| {});
    assert_eq!(a.state(), State::Listening);
    assert_eq!(b.state(), State::Listening);
    // Frames before OpenConnection are ignored by a listener.
    a.open(0).unwrap();
    assert_eq!(a.state(), State::Opening);
    let frames = drain(&mut a, 0);
    let h = header(&frames[0]);
    assert_eq!(h.msg_type, MessageType::OpenConnection);
    assert_eq!(h.seq.get(), 0);
    assert!(!h.ack);
    assert_eq!(h.seq_ack.get(), 0x3F_FFFF);
    // Deliver everything except the open frame: ignored.
    for f in &frames[1..] {
        assert_eq!(b.on_frame(f, 0).unwrap().disposition, Disposition::Ignored);
    }
    assert_eq!(
        b.on_frame(&frames[0], 0).unwrap().disposition,
        Disposition::Accepted
    );
    assert_eq!(b.state(), State::Open);
    let now = settle(&mut a, &mut b, 1);
    assert_eq!(a.state(), State::Open);
    // 1.1: 128 assumed + the rest of the 1024-flit buffers granted.
    assert_eq!(a.tx_credits(Channel::A), 1024);
    assert_eq!(b.tx_credits(Channel::D), 1024);

    a.close(now).unwrap();
    assert_eq!(a.state(), State::Closing);
    assert_eq!(a.send(&Message::get(1, 0, 6), now), Err(Error::NotOpen));
    let f = drain(&mut a, now);
    assert!(f
        .iter()
        .any(|f| header(f).msg_type == MessageType::CloseConnection));
    deliver(&mut b, &f, now);
    assert_eq!(b.state(), State::PeerClosing);
    b.send(&Message::access_ack(3, 6), now).unwrap(); // still allowed
    b.close(now).unwrap();
    settle(&mut a, &mut b, now);
    assert_eq!(a.state(), State::Closed);
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn v103_no_credit_until_granted() {
    let (mut a, mut b) = pair(Version::V1_0_3, |c| {
        c.rx_buffer_flits = [512, 0, 0, 512, 64]
    });
    assert_eq!(a.state(), State::Open);
    assert_eq!(a.send(&Message::get(1, 0, 6), 0), Err(Error::NoCredit));
    settle(&mut a, &mut b, 0);
    assert_eq!(a.tx_credits(Channel::A), 512);
    assert_eq!(a.tx_credits(Channel::B), 0);
    assert_eq!(a.tx_credits(Channel::E), 64);
    a.send(&Message::get(1, 0, 6), 100).unwrap();
    assert_eq!(a.tx_credits(Channel::A), 510);
}

#[test]
fn duplicates_are_dropped_and_acked_gaps_are_naked() {
    let (mut a, mut b) = pair(Version::V1_0_3, |c| c.pack_delay_ns = 0);
    let now = settle(&mut a, &mut b, 0);
    a.send(&Message::get(1, 0, 6), now).unwrap();
    let f1 = drain(&mut a, now);
    a.send(&Message::get(2, 0, 6), now).unwrap();
    let f2 = drain(&mut a, now);
    a.send(&Message::get(3, 0, 6), now).unwrap();
    let f3 = drain(&mut a, now);
    assert_eq!((f1.len(), f2.len(), f3.len()), (1, 1, 1));
    // f2 lost: f1 accepted, f3 out of order -> NAK.
    assert_eq!(deliver(&mut b, &f1, now), vec![1]);
    let rx = b.on_frame(&f3[0], now).unwrap();
    assert_eq!(rx.disposition, Disposition::OutOfOrder);
    assert_eq!(rx.message_count(), 0);
    let nak = drain(&mut b, now);
    assert_eq!(nak.len(), 1);
    let h = header(&nak[0]);
    assert!(!h.ack);
    assert_eq!(h.seq_ack, header(&f1[0]).seq);
    // A goes back: resends f2 and f3 (after the holdoff since their send).
    deliver(&mut a, &nak, now + 600);
    let resent = drain(&mut a, now + 600);
    assert_eq!(resent.len(), 2);
    assert_eq!(deliver(&mut b, &resent, now + 600), vec![2, 3]);
    // A duplicate of f1 is dropped and acknowledged at once.
    let rx = b.on_frame(&f1[0], now + 700).unwrap();
    assert_eq!(rx.disposition, Disposition::Duplicate);
    assert_eq!(rx.messages().count(), 0);
    let ack = drain(&mut b, now + 700);
    assert_eq!(ack.len(), 1);
    assert!(header(&ack[0]).ack);
    assert_eq!(header(&ack[0]).seq_ack, header(&f3[0]).seq);
    deliver(&mut a, &ack, now + 700);
    assert_eq!(a.unacked_frames(), 0);
    assert_eq!(b.stats().duplicates, 1);
}

#[test]
fn retransmit_on_timeout_and_ack_only_in_v11() {
    let (mut a, mut b) = pair(Version::V1_1, |_| {});
    a.open(0).unwrap();
    let now = settle(&mut a, &mut b, 0);
    a.send(&Message::get(7, 0x40, 6), now).unwrap();
    let lost = drain(&mut a, now);
    assert_eq!(lost.len(), 1);
    assert_eq!(a.next_deadline(), Some(now + 1_000));
    let again = drain(&mut a, now + 1_000);
    assert_eq!(again, lost, "byte-identical replay (ack fields unchanged)");
    assert_eq!(a.stats().frames_retx, 1);
    assert_eq!(deliver(&mut b, &again, now + 1_000), vec![7]);
    // After the ACK delay B acknowledges with an unsequenced AckOnly: the Get's 2 flits of
    // credit are too few for a frame of their own (less than a sixteenth of B's buffer).
    assert!(drain(&mut b, now + 1_000).is_empty());
    let ack = drain(&mut b, now + 1_100);
    assert_eq!(ack.len(), 1);
    let h = header(&ack[0]);
    assert_eq!(h.msg_type, MessageType::AckOnly);
    assert!(h.ack);
    assert_eq!(h.credit_chan, 0);
    assert_eq!(
        a.on_frame(&ack[0], now + 1_100).unwrap().disposition,
        Disposition::AckOnly
    );
    assert_eq!(a.unacked_frames(), 0);
    assert_eq!(a.next_deadline(), None);
    assert_eq!(
        b.next_deadline(),
        None,
        "no timer for credit too small for a frame"
    );
    // The credit rides on B's next frame.
    b.send(&Message::access_ack_data(7, 3, &[0x11; 8]), now + 1_200)
        .unwrap();
    let answer = drain(&mut b, now + 1_200);
    assert_eq!(answer.len(), 1);
    assert_eq!(header(&answer[0]).credit_grant(), Some((Channel::A, 2)));
    assert_eq!(deliver(&mut a, &answer, now + 1_200), vec![7]);
    // A owes nothing back: its acknowledgement is an unsequenced AckOnly,
    // which is never retransmitted and never acknowledged itself.
    let ao = drain(&mut a, now + 1_300);
    assert_eq!(ao.len(), 1);
    let h = header(&ao[0]);
    assert_eq!(h.msg_type, MessageType::AckOnly);
    assert_eq!(h.credit_chan, 0);
    assert_eq!(h.seq, a.next_tx_seq());
    assert_eq!(
        b.on_frame(&ao[0], now + 1_300).unwrap().disposition,
        Disposition::AckOnly
    );
    assert_eq!(b.unacked_frames(), 0);
    assert_eq!(a.next_deadline(), None);
    assert_eq!(b.next_deadline(), None);
}

/// An AckOnly carries the sequence number after the last frame sent, not after the last
/// frame sealed: frames waiting for the congestion window are not on the wire, and an
/// AckOnly numbered past them made the receiver see a gap that was not there and NAK. (A
/// pool node with 250 responses held by a window of 4 drew a NAK with every AckOnly.)
/// A connected pair whose A has a congestion window of one frame (a lost frame and a
/// retransmit timeout put it there), both ends quiet; returns the time.
fn window_of_one(a: &mut Conn, b: &mut Conn) -> u64 {
    a.open(0).unwrap();
    let mut now = settle(a, b, 0);
    a.send(&Message::get(1, 0x40, 6), now).unwrap();
    drain(a, now);
    now += 1_000_000;
    let resent = drain(a, now);
    assert_eq!((resent.len(), a.congestion_window()), (1, 1));
    deliver(b, &resent, now);
    settle(a, b, now)
}

fn window_of_one_pair() -> (Conn, Conn) {
    pair(Version::V1_1, |c| {
        c.min_window = 1;
        c.rto_ns = 1_000_000;
        c.initial_tx_credits = Some(1 << 14);
        c.rx_buffer_flits = [1 << 14; 5];
    })
}

#[test]
fn v11_ack_only_names_no_frame_still_waiting_for_the_window() {
    let (mut a, mut b) = window_of_one_pair();
    let now = window_of_one(&mut a, &mut b);
    // Ten 1 KiB writes fill ten frames; the window lets a few go.
    let data = [7u8; 1024];
    for i in 0..10 {
        a.send(&Message::put_full(i, 0x1000 * u64::from(i), &data), now)
            .unwrap();
    }
    let sent = drain(&mut a, now);
    assert!(
        sent.len() < 9,
        "{} frames sent: the window holds the rest",
        sent.len()
    );
    // B asks something before those frames reach it (so its frame acknowledges none of
    // them and opens no room): A owes an acknowledgement it cannot piggy-back.
    b.send(&Message::get(9, 0x40, 6), now).unwrap();
    let ask = drain(&mut b, now);
    assert_eq!(ask.len(), 1);
    deliver(&mut b, &sent, now);
    deliver(&mut a, &ask, now);
    let later = now + 200;
    let ao: Vec<_> = drain(&mut a, later)
        .into_iter()
        .filter(|f| header(f).msg_type == MessageType::AckOnly)
        .collect();
    assert_eq!(ao.len(), 1);
    assert_eq!(
        header(&ao[0]).seq,
        b.next_rx_seq(),
        "numbered after the frames sent"
    );
    assert_eq!(
        b.on_frame(&ao[0], later).unwrap().disposition,
        Disposition::AckOnly
    );
    let naks = b.stats().naks_tx;
    for f in drain(&mut b, later + 1_000) {
        assert!(header(&f).ack, "B saw no gap: no NAK");
    }
    assert_eq!(b.stats().naks_tx, naks);
}

/// While a sealed frame waits for the congestion window, messages queued after it share one
/// frame instead of each sealing its own when its packing delay (0) runs out: a pool node
/// held by a window of 4 had queued 250 frames of one AccessAck each.
#[test]
fn messages_queued_behind_the_window_share_a_frame() {
    let (mut a, mut b) = window_of_one_pair();
    let mut now = window_of_one(&mut a, &mut b);
    a.send(&Message::get(2, 0x40, 6), now).unwrap();
    let first = drain(&mut a, now);
    assert_eq!(first.len(), 1, "the window of one is now full");
    // Three more messages, polled one by one, each past its packing delay.
    for src in 3..6 {
        a.send(&Message::get(src, 0x40, 6), now).unwrap();
        now += 10;
        assert!(drain(&mut a, now).is_empty());
    }
    // The first frame is acknowledged: what waited goes out as one frame.
    assert_eq!(deliver(&mut b, &first, now), vec![2]);
    let ack = drain(&mut b, now + 1_000);
    deliver(&mut a, &ack, now + 1_000);
    let rest = drain(&mut a, now + 1_000);
    assert_eq!(rest.len(), 1, "one frame, not one per message");
    assert_eq!(deliver(&mut b, &rest, now + 1_000), vec![3, 4, 5]);
}

#[test]
fn keepalive_and_idle_timeout() {
    let (mut a, mut b) = pair(Version::V1_1, |c| {
        c.keepalive_ns = 10_000;
        c.idle_timeout_ns = 50_000;
    });
    a.open(0).unwrap();
    let mut now = settle(&mut a, &mut b, 0);
    // A long idle period over a working link: keepalives keep both alive.
    let end = now + 1_000_000;
    let mut frames = 0;
    while now < end {
        let fa = drain(&mut a, now);
        frames += fa.len();
        deliver(&mut b, &fa, now);
        let fb = drain(&mut b, now);
        deliver(&mut a, &fb, now);
        now = [a.next_deadline(), b.next_deadline()]
            .into_iter()
            .flatten()
            .min()
            .unwrap()
            .max(now + 1);
    }
    assert_eq!(a.state(), State::Open);
    assert_eq!(b.state(), State::Open);
    assert!((50..400).contains(&frames), "{frames} keepalive frames");
    // Cut the link: both sides are declared dead within the idle timeout.
    let cut = now;
    while a.state() != State::Dead || b.state() != State::Dead {
        drain(&mut a, now);
        drain(&mut b, now);
        now = [a.next_deadline(), b.next_deadline()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(now + 1)
            .max(now + 1);
        assert!(now - cut <= 60_000, "not dead after {} ns", now - cut);
    }
}

#[test]
fn send_errors() {
    let (mut a, _) = pair(Version::V1_0_3, |c| c.initial_tx_credits = Some(1 << 20));
    let big = vec![0u8; 2048];
    assert_eq!(
        a.send(&Message::put_full(1, 0, &big), 0),
        Err(Error::TooLarge)
    );
    assert_eq!(
        a.send(&Message::put_full(1, 0, &big[..3]), 0),
        Err(Error::InvalidMessage)
    );
    // Fill the window (16 slots) with one 1 KiB write per frame.
    let mut n = 0;
    loop {
        match a.send(&Message::put_full(n, 0, &big[..1024]), 0) {
            Ok(()) => n += 1,
            Err(e) => {
                assert_eq!(e, Error::WindowFull);
                break;
            }
        }
    }
    assert!((15..=16).contains(&n), "{n}");
    let (_, b) = pair(Version::V1_1, |_| {});
    let mut b = b;
    assert_eq!(b.send(&Message::get(1, 0, 6), 0), Err(Error::NotOpen));
}

#[test]
fn v11_reopened_connection_takes_no_frame_of_the_old_one() {
    // First incarnation: open, one request answered, one answer still on its way.
    let (mut a, mut b) = pair(Version::V1_1, |_| {});
    a.open(0).unwrap();
    let mut now = settle(&mut a, &mut b, 1);
    a.send(&Message::get(7, 0, 6), now).unwrap();
    let f = drain(&mut a, now);
    deliver(&mut b, &f, now);
    b.send(&Message::access_ack_data(7, 6, &[0xAB; 64]), now)
        .unwrap();
    let stale = drain(&mut b, now);
    assert!(!stale.is_empty());
    // The client gives up on that connection and opens a new one; the node's old frame
    // arrives only now (it was queued while the client stalled).
    now += 1_000_000;
    let (mut a2, mut b2) = pair(Version::V1_1, |_| {});
    a2.open(now).unwrap();
    for f in &stale {
        // Dropped by the Opening guard, or before it for acknowledging a2's frames never sent.
        let d = a2.on_frame(f, now).unwrap().disposition;
        assert!(
            matches!(d, Disposition::Ignored | Disposition::OutOfWindow),
            "{d:?}"
        );
    }
    assert_eq!(a2.state(), State::Opening);
    // The node's answer to the new OpenConnection opens it, with nothing delivered.
    let got = {
        let f = drain(&mut a2, now);
        deliver(&mut b2, &f, now);
        let back = drain(&mut b2, now + 1_000);
        deliver(&mut a2, &back, now + 1_000)
    };
    assert!(got.is_empty());
    settle(&mut a2, &mut b2, now + 2_000);
    assert_eq!(a2.state(), State::Open);
}

/// A frame "from B to A" made up by someone else: an empty frame with header `h`.
fn forge(h: omx_proto::TloeHeader) -> Vec<u8> {
    let mut buf = vec![0u8; 1514];
    let eth = EthHeader::new(A_MAC, B_MAC);
    let b = omx_proto::FrameBuilder::new(
        &mut buf,
        Some(&eth),
        omx_proto::FrameLimits::default(),
        ByteOrder::Spec,
    )
    .unwrap();
    let n = b.finish(&h).unwrap();
    buf.truncate(n);
    buf
}

/// What a received frame can change at A, to compare before and after.
fn snapshot(a: &Conn) -> impl PartialEq + std::fmt::Debug {
    let s = a.stats();
    (
        a.state(),
        a.unacked_frames(),
        a.tx_credits(Channel::A),
        a.last_rx(),
        a.next_rx_seq(),
        a.next_tx_seq(),
        (s.gobacks, s.naks_rx, s.frames_accepted, s.msgs_rx),
    )
}

/// A open with B (quiet), then three requests sent to B and not yet answered.
fn three_unanswered(version: Version) -> (Conn, Conn, u64) {
    let (mut a, mut b) = pair(version, |c| c.pack_delay_ns = 0);
    a.open(0).unwrap();
    let now = settle(&mut a, &mut b, 1);
    // 1.0.3: A's last empty acknowledgement frame is never acknowledged on its own.
    let quiet = a.unacked_frames();
    assert!(quiet <= 1);
    for i in 0..3 {
        a.send(&Message::get(i, 0, 6), now).unwrap();
        assert_eq!(drain(&mut a, now).len(), 1);
    }
    assert_eq!(a.unacked_frames(), quiet + 3);
    (a, b, now)
}

/// A's ACKD_SEQ.
fn ackd(a: &Conn) -> omx_proto::Seq {
    a.next_tx_seq().sub(a.unacked_frames() as u32 + 1)
}

/// Feeds a forged frame with header `h` to a fresh A with three requests outstanding, past
/// the NAK holdoff and the ACK delay and before the retransmit timeout (a NAK taken would
/// start a go-back, a frame taken as a sign of life would move `last_rx`); checks that
/// nothing changed, nothing is to be sent, and the frame was counted as out of the window.
fn forged_changes_nothing(version: Version, make: impl Fn(&Conn) -> omx_proto::TloeHeader) {
    let (mut a, _b, now) = three_unanswered(version);
    let now = now + 600;
    let before = snapshot(&a);
    let h = make(&a);
    let f = forge(h);
    let rx = a.on_frame(&f, now).unwrap();
    assert_eq!(
        rx.disposition,
        Disposition::OutOfWindow,
        "{version:?} {h:?}"
    );
    assert_eq!(rx.message_count(), 0);
    assert_eq!(snapshot(&a), before, "{version:?} {h:?}");
    // Nothing was requested either: no NAK, no acknowledgement to send.
    let out = drain(&mut a, now);
    assert!(
        out.is_empty(),
        "{version:?} {h:?}: sent {:?}",
        header(&out[0])
    );
    assert_eq!(a.stats().out_of_window, 1, "{version:?} {h:?}");
}

#[test]
fn forged_frames_outside_the_window_change_nothing() {
    use omx_proto::seq::SEQ_HALF;
    use omx_proto::TloeHeader;
    for version in [Version::V1_0_3, Version::V1_1] {
        // Far ahead and far behind, up to the ends of the spec's halves of the space.
        let offsets: [fn(omx_proto::Seq) -> omx_proto::Seq; 4] = [
            |n| n.add(100_000),
            |n| n.add(SEQ_HALF - 1),
            |n| n.sub(100_000),
            |n| n.sub(SEQ_HALF),
        ];
        for at in offsets {
            let seq = |a: &Conn| at(a.next_rx_seq());
            // An acknowledgement of everything A sent.
            forged_changes_nothing(version, |a| {
                TloeHeader::new(seq(a), a.next_tx_seq().prev(), true)
            });
            // A NAK: go back and resend everything unacknowledged.
            forged_changes_nothing(version, |a| TloeHeader::new(seq(a), ackd(a), false));
            // A credit grant of 2^20 flits on A.
            forged_changes_nothing(version, |a| {
                let mut h = TloeHeader::new(seq(a), ackd(a), true);
                h.set_credit(Some((Channel::A, 20)));
                h
            });
            if version == Version::V1_1 {
                for t in [MessageType::AckOnly, MessageType::CloseConnection] {
                    forged_changes_nothing(version, |a| {
                        let mut h = TloeHeader::new(seq(a), a.next_tx_seq().prev(), true);
                        h.msg_type = t;
                        h
                    });
                }
            }
        }
    }
}

#[test]
fn acknowledgements_of_frames_never_sent_change_nothing() {
    use omx_proto::TloeHeader;
    for version in [Version::V1_0_3, Version::V1_1] {
        // In the window (the frame B is to send next, or its last one again), but naming a
        // frame A never sent: not from B's connection, so nothing of it is used.
        for back in [0, 1] {
            for ack in [true, false] {
                forged_changes_nothing(version, |a| {
                    let seq = a.next_rx_seq().sub(back);
                    let mut h = TloeHeader::new(seq, a.next_tx_seq().add(10), ack);
                    h.set_credit(Some((Channel::A, 20)));
                    h
                });
            }
        }
        // Older than ACKD_SEQ (a late duplicate of B's): legitimate, and moves nothing back.
        let (mut a, _b, now) = three_unanswered(version);
        let now = now + 600;
        let unacked = a.unacked_frames();
        let dup = a.next_rx_seq().prev();
        for ack in [true, false] {
            let f = forge(TloeHeader::new(dup, ackd(&a).sub(2), ack));
            assert_eq!(
                a.on_frame(&f, now).unwrap().disposition,
                Disposition::Duplicate
            );
            assert_eq!(a.unacked_frames(), unacked);
            assert_eq!(a.stats().gobacks, 0);
        }
        assert_eq!(a.stats().out_of_window, 0, "{version:?}");
        // A real acknowledgement in a duplicate still counts (Go-Back-N).
        let f = forge(TloeHeader::new(dup, ackd(&a).add(2), true));
        assert_eq!(
            a.on_frame(&f, now).unwrap().disposition,
            Disposition::Duplicate
        );
        assert_eq!(a.unacked_frames(), unacked - 2, "{version:?}");
    }
}

/// What A, open with B with `peer_window` set, does with a forged frame: its sequence number
/// is `NEXT_RX_SEQ + ahead` and it acknowledges A's frames up to `ACKD_SEQ + acks`.
fn disposition_at(
    version: Version,
    peer_window: u32,
    ahead: i64,
    acks: u32,
    msg_type: MessageType,
) -> Disposition {
    let (mut a, mut b) = pair(version, |c| {
        c.pack_delay_ns = 0;
        c.peer_window = peer_window;
    });
    a.open(0).unwrap();
    let now = settle(&mut a, &mut b, 1);
    let quiet = a.unacked_frames();
    a.send(&Message::get(1, 0, 6), now).unwrap();
    assert_eq!(drain(&mut a, now).len(), 1);
    assert_eq!(a.unacked_frames(), quiet + 1);
    let next = a.next_rx_seq();
    let seq = if ahead >= 0 {
        next.add(ahead as u32)
    } else {
        next.sub(ahead.unsigned_abs() as u32)
    };
    let mut h = omx_proto::TloeHeader::new(seq, ackd(&a).add(acks), true);
    h.msg_type = msg_type;
    let f = forge(h);
    let d = a.on_frame(&f, now + 600).unwrap().disposition;
    assert_eq!(
        a.stats().out_of_window,
        u64::from(d == Disposition::OutOfWindow)
    );
    d
}

#[test]
fn the_window_is_the_peers_window_ahead_and_one_more_behind() {
    use omx_proto::seq::SEQ_HALF;
    use Disposition::*;
    let normal = MessageType::Normal;
    for v in [Version::V1_0_3, Version::V1_1] {
        assert_eq!(disposition_at(v, 4, 0, 0, normal), Accepted);
        assert_eq!(disposition_at(v, 4, 4, 0, normal), OutOfOrder);
        assert_eq!(disposition_at(v, 4, 5, 0, normal), OutOfWindow);
        assert_eq!(disposition_at(v, 4, -5, 0, normal), Duplicate);
        assert_eq!(disposition_at(v, 4, -6, 0, normal), OutOfWindow);
        // 0 is taken as 1.
        assert_eq!(disposition_at(v, 0, 1, 0, normal), OutOfOrder);
        assert_eq!(disposition_at(v, 0, 2, 0, normal), OutOfWindow);
        assert_eq!(disposition_at(v, 0, -2, 0, normal), Duplicate);
        assert_eq!(disposition_at(v, 0, -3, 0, normal), OutOfWindow);
        // The largest window takes everything the spec's classification does.
        let max = u32::MAX;
        let half = i64::from(SEQ_HALF);
        assert_eq!(disposition_at(v, max, half - 1, 0, normal), OutOfOrder);
        assert_eq!(disposition_at(v, max, -half, 0, normal), Duplicate);
        // The default is well below half the space.
        assert_eq!(
            disposition_at(v, Config::new(v).peer_window, 1 << 15, 0, normal),
            OutOfWindow
        );
        // Acknowledgements: of the one frame A sent (and the empty 1.0.3 one before it), yes;
        // of one more, no.
        let sent = if v == Version::V1_0_3 { 2 } else { 1 };
        assert_eq!(disposition_at(v, 4, -1, sent, normal), Duplicate);
        assert_eq!(disposition_at(v, 4, -1, sent + 1, normal), OutOfWindow);
    }
    // 1.1 AckOnly carries the peer's NEXT_TX_SEQ: up to a whole window ahead.
    let v = Version::V1_1;
    assert_eq!(disposition_at(v, 4, 4, 1, MessageType::AckOnly), AckOnly);
    assert_eq!(
        disposition_at(v, 4, 5, 1, MessageType::AckOnly),
        OutOfWindow
    );
    assert_eq!(
        disposition_at(v, 4, -6, 1, MessageType::AckOnly),
        OutOfWindow
    );
    // CloseConnection in the window is taken; out of it, not.
    assert_eq!(
        disposition_at(v, 4, 0, 1, MessageType::CloseConnection),
        Accepted
    );
    assert_eq!(
        disposition_at(v, 4, 5, 1, MessageType::CloseConnection),
        OutOfWindow
    );
}

#[test]
fn v11_a_listener_takes_only_an_open_in_the_window() {
    let (mut a, mut b) = pair(Version::V1_1, |_| {});
    let mut h =
        omx_proto::TloeHeader::new(omx_proto::Seq::new(100_000), omx_proto::Seq::MAX, false);
    h.msg_type = MessageType::OpenConnection;
    let f = forge(h);
    assert_eq!(
        a.on_frame(&f, 0).unwrap().disposition,
        Disposition::OutOfWindow
    );
    assert_eq!(a.state(), State::Listening);
    assert_eq!(a.last_rx(), None);
    assert!(drain(&mut a, 0).is_empty());
    // In the window but not the first frame: ignored, as before.
    h.seq = omx_proto::Seq::new(1);
    let f = forge(h);
    assert_eq!(a.on_frame(&f, 0).unwrap().disposition, Disposition::Ignored);
    assert_eq!(a.state(), State::Listening);
    // The real one opens.
    b.open(0).unwrap();
    let open = drain(&mut b, 0);
    assert_eq!(
        a.on_frame(&open[0], 0).unwrap().disposition,
        Disposition::Accepted
    );
    assert_eq!(a.state(), State::Open);
    assert_eq!(a.stats().out_of_window, 1);
}

#[test]
fn a_refused_frame_gives_its_acknowledgement_and_is_taken_when_resent() {
    for version in [Version::V1_0_3, Version::V1_1] {
        // A has three requests out (their frames lost); past its retransmit timeout it resends
        // them, B takes them and sends a request of its own that acknowledges them.
        let (mut a, mut b, now) = three_unanswered(version);
        let now = now + 2_000;
        let resent = drain(&mut a, now);
        assert_eq!(deliver(&mut b, &resent, now).len(), 3, "{version:?}");
        b.send(&Message::get(77, 0, 6), now).unwrap();
        let fb = drain(&mut b, now);
        // A's queue is full: it refuses B's frames, yet its window empties (what a full queue
        // may wait for), and nothing of them is delivered.
        let unacked = a.unacked_frames();
        let mut refused = 0;
        for f in &fb {
            let rx = a.on_payload_refused(&f[14..], now).unwrap();
            assert!(rx.messages().next().is_none());
            refused += usize::from(rx.disposition == Disposition::Refused);
        }
        assert!(refused > 0, "{version:?}: nothing refused");
        assert!(
            a.unacked_frames() < unacked,
            "{version:?}: the refused frames' ACK was not used"
        );
        assert_eq!(a.stats().msgs_rx, 0);
        // B resends its request after its retransmit timeout: taken this time, exactly once.
        let mut now = now;
        let mut got = Vec::new();
        for _ in 0..20 {
            now += 1_000;
            let fb = drain(&mut b, now);
            got.extend(deliver(&mut a, &fb, now));
            let fa = drain(&mut a, now);
            deliver(&mut b, &fa, now);
        }
        assert_eq!(got, vec![77], "{version:?}");
    }
}

#[test]
fn a_payload_checked_by_the_caller_is_taken_as_a_whole_frame_is() {
    for check in Check::ALL {
        let (mut a, mut b) = pair(Version::V1_1, |c| c.integrity = Some(check));
        a.open(0).unwrap();
        let now = settle(&mut a, &mut b, 1);
        a.send(&Message::get(7, 0x1000, 6), now).unwrap();
        let frames = drain(&mut a, now);
        let f = frames.last().unwrap();
        let payload = &f[14..];
        // The trailer is verified once, by the caller; the connection takes what is left.
        assert_eq!(integrity::detect(payload).map(|(c, _)| c), Some(check));
        let tloe = integrity::strip(check, payload).unwrap();
        let rx = b.on_checked_payload(tloe, now).unwrap();
        assert_eq!(rx.disposition, Disposition::Accepted);
        assert_eq!(rx.messages().map(|m| m.source).collect::<Vec<_>>(), [7]);
        // The same frame as received (trailer included) is a duplicate now: it was taken.
        let again = b.on_payload(payload, now).unwrap();
        assert_eq!(again.disposition, Disposition::Duplicate);
        // A corrupt frame still goes through `on_payload`, which rejects and counts it.
        let mut bad = payload.to_vec();
        bad[20] ^= 1;
        assert_eq!(b.on_payload(&bad, now).err(), Some(Error::BadIntegrity));
        // So is an intact frame whose trailer is of the other check.
        let other = Check::ALL.into_iter().find(|&c| c != check).unwrap();
        let mut foreign = tloe.to_vec();
        foreign.extend_from_slice(&integrity::trailer(other, tloe));
        assert_eq!(b.on_payload(&foreign, now).err(), Some(Error::BadIntegrity));
        assert_eq!(b.stats().integrity_errors, 2, "{check:?}");
    }
}

/// A PutFullData whose data is written into the frame in pieces (`send_put_full_with`, with
/// `ByteOrder::put_mem`) goes out as the same frame as one sent from a buffer, in both byte
/// orders; a fill that fails sends nothing.
#[test]
fn put_full_filled_in_place_is_the_same_frame() {
    for order in [ByteOrder::Spec, ByteOrder::Raw] {
        let tweak = |c: &mut Config| {
            c.initial_tx_credits = Some(1 << 20);
            c.order = order;
        };
        let (mut a, _) = pair(Version::V1_0_3, tweak);
        let (mut b, _) = pair(Version::V1_0_3, tweak);
        let data: Vec<u8> = (0..1024u32).map(|i| (i * 7 + i / 256) as u8).collect();
        a.send(&Message::put_full(9, 0x4000, &data), 0).unwrap();
        // In three pieces, one of them off a flit boundary, as bio segments may be.
        b.send_put_full_with(9, 0x4000, 10, 0, |wire, order| {
            order.put_mem(wire, 0, &data[..100])
                && order.put_mem(wire, 100, &data[100..512])
                && order.put_mem(wire, 512, &data[512..])
        })
        .unwrap();
        let (fa, fb) = (drain(&mut a, 10_000), drain(&mut b, 10_000));
        assert_eq!(fa, fb, "{order:?}");
        let put = fb
            .iter()
            .flat_map(|f| {
                let (_, v) = FrameView::parse_ethernet(f, order, true).unwrap();
                v.messages()
                    .map(|m| {
                        (
                            m.source,
                            m.data
                                .same_content(&Message::put_full(9, 0x4000, &data).data),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>();
        assert_eq!(put, [(9, true)]);
        // A fill that cannot read its data: an error, and no frame.
        assert_eq!(
            b.send_put_full_with(10, 0, 10, 20_000, |_, _| false),
            Err(Error::InvalidMessage)
        );
        // (frames still go out: retransmissions of the first, unacknowledged here)
        let sources: Vec<u32> = drain(&mut b, 30_000)
            .iter()
            .flat_map(|f| {
                let (_, v) = FrameView::parse_ethernet(f, order, true).unwrap();
                v.messages().map(|m| m.source).collect::<Vec<_>>()
            })
            .collect();
        assert!(!sources.contains(&10), "{sources:?}");
        // Sizes the message cannot have.
        assert_eq!(
            b.send_put_full_with(11, 0, 14, 40_000, |_, _| true),
            Err(Error::InvalidMessage)
        );
        // An out-of-range piece is refused.
        let mut wire = [0u8; 16];
        assert!(!order.put_mem(&mut wire, 9, &[0u8; 8]));
        assert!(order.put_mem(&mut wire, 8, &[0u8; 8]));
    }
}

/// Drains `from` with `poll_transmit_with`, each frame refused once by its sender first.
fn drain_refusing_once(from: &mut Conn, now: u64) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    loop {
        match from.poll_transmit_with(now, |_| Err::<(), _>(Error::BufferTooSmall)) {
            Ok(None) => return v,
            Err(Error::BufferTooSmall) => {}
            other => panic!("refused frame: {other:?}"),
        }
        let frame = from
            .poll_transmit_with(now, |f| {
                let mut v = vec![0u8; f.len()];
                f.copy_to(&mut v).map(|_| v).ok_or(Error::BufferTooSmall)
            })
            .unwrap()
            .expect("a refused frame goes out at the next call");
        v.push(frame);
    }
}

/// A frame taken in pieces (`poll_transmit_with`) is the frame `poll_transmit` writes, and one
/// its sender refused is sent again, unchanged, at the next call: open, data, ack-only and
/// acknowledging frames, with and without a trailer.
#[test]
fn a_frame_in_pieces_is_the_frame_and_a_refused_one_goes_again() {
    for check in [None, Some(Check::Xxh64), Some(Check::Crc32c)] {
        let mut runs = Vec::new();
        for refuse in [false, true] {
            let (mut a, mut b) = pair(Version::V1_1, |c| c.integrity = check);
            let drain_a = |c: &mut Conn, now| {
                if refuse {
                    drain_refusing_once(c, now)
                } else {
                    drain(c, now)
                }
            };
            let mut wire = Vec::new();
            a.open(0).unwrap();
            let mut now = 1;
            for step in 0..6u32 {
                if step == 2 {
                    a.send(&Message::get(7, 0x1000, 6), now).unwrap();
                    a.send(&Message::put_full(8, 0x2000, &[step as u8; 64]), now)
                        .unwrap();
                }
                let from_a = drain_a(&mut a, now);
                deliver(&mut b, &from_a, now);
                let from_b = drain(&mut b, now);
                deliver(&mut a, &from_b, now);
                wire.push(from_a);
                now += 1_000;
            }
            assert!(wire.iter().flatten().count() >= 3, "{check:?}: {wire:?}");
            runs.push((wire, a.stats().frames_tx, a.stats().ack_only_tx));
        }
        assert!(runs[0].2 > 0, "{check:?}: no ack-only frame");
        assert_eq!(runs[0], runs[1], "{check:?}");
    }
}
