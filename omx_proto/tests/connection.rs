//! Scenario tests of the connection state machine, frame by frame.

use omx_proto::tilelink::Channel;
use omx_proto::{
    ByteOrder, Config, Connection, Disposition, Error, EthHeader, FrameView, Message, MessageType,
    State, Version,
};

type Conn = Connection<Vec<u8>, 16>;
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
    let a = Conn::new(ca.clone(), vec![0; Conn::required_memory(&ca)]).unwrap();
    let b = Conn::new(cb.clone(), vec![0; Conn::required_memory(&cb)]).unwrap();
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
    // After the ACK delay B returns the Get's 2 credits, piggy-backing the ACK.
    assert!(drain(&mut b, now + 1_000).is_empty());
    let ack = drain(&mut b, now + 1_100);
    assert_eq!(ack.len(), 1);
    let h = header(&ack[0]);
    assert_eq!(h.msg_type, MessageType::Normal);
    assert!(h.ack);
    assert_eq!(h.credit_grant(), Some((Channel::A, 2)));
    assert_eq!(
        a.on_frame(&ack[0], now + 1_100).unwrap().disposition,
        Disposition::Accepted
    );
    assert_eq!(a.unacked_frames(), 0);
    // A owes nothing back: its acknowledgement is an unsequenced AckOnly,
    // which is never retransmitted and never acknowledged itself.
    let ao = drain(&mut a, now + 1_200);
    assert_eq!(ao.len(), 1);
    let h = header(&ao[0]);
    assert_eq!(h.msg_type, MessageType::AckOnly);
    assert_eq!(h.credit_chan, 0);
    assert_eq!(h.seq, a.next_tx_seq());
    assert_eq!(
        b.on_frame(&ao[0], now + 1_200).unwrap().disposition,
        Disposition::AckOnly
    );
    assert_eq!(b.unacked_frames(), 0);
    assert_eq!(a.next_deadline(), None);
    assert_eq!(b.next_deadline(), None);
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
        assert_eq!(
            a2.on_frame(f, now).unwrap().disposition,
            Disposition::Ignored
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
