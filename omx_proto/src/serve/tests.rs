use super::super::header::MessageType;
use super::super::identity;
use super::super::seq::Seq;
use super::super::tilelink::{Channel, INTENT_RELEASE};
use super::request::{execute, response_opcode};
use super::*;

/// A region of plain memory that counts what it was asked to give back.
struct Flat<'a> {
    bytes: &'a mut [u8],
    released: usize,
}

impl Region for Flat<'_> {
    fn bytes(&self) -> &[u8] {
        self.bytes
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        self.bytes
    }
    fn release_range(&mut self, _off: usize, len: usize) -> usize {
        self.released += len;
        len
    }
    fn identity(&self) -> Option<Identity> {
        None
    }
}

#[test]
fn only_an_open_that_received_nothing_reconnects() {
    let mut fresh = TloeHeader::new(Seq::new(0), Seq::MAX, false);
    fresh.msg_type = MessageType::OpenConnection;
    let mut resent = fresh;
    resent.seq_ack = Seq::new(3);
    // A connection long open, that has carried traffic, whose client stopped answering.
    assert!(open_starts_new_connection(
        State::Open,
        &fresh,
        false,
        false
    ));
    assert!(!open_starts_new_connection(
        State::Open,
        &resent,
        false,
        false
    ));
    // Young, or the client still answers: a fresh-looking Open is a stale duplicate of the
    // original (or a replay)...
    assert!(!open_starts_new_connection(
        State::Open,
        &fresh,
        false,
        true
    ));
    // ...unless the connection has seen nothing but its Open.
    assert!(open_starts_new_connection(State::Open, &fresh, true, true));
    // A connection that ended is replaced by any Open.
    for st in [State::Closed, State::Closing, State::Dead] {
        assert!(open_starts_new_connection(st, &resent, false, true));
    }
    assert!(!open_starts_new_connection(
        State::Listening,
        &fresh,
        true,
        false
    ));
}

#[test]
fn responses_are_known_before_requests_run() {
    let d = [0u8; 64];
    let m = [u64::MAX];
    let mut mem = [0u8; 4096];
    let mut region = Flat {
        bytes: &mut mem,
        released: 0,
    };
    let mut stats = ServeStats::default();
    let (mut r, mut dn) = (0, 0);
    let mut msgs = [
        Message::get(1, 0, 6),
        Message::get(1, 1 << 40, 6),
        Message::get(1, identity::ADDR, identity::SIZE_LOG2),
        Message::put_full(1, 0, &d),
        Message::put_full(1, 8192, &d),
        Message::put_partial(1, 0, 6, &d, &m),
        Message::arithmetic(1, 0, 4, &d[..8]),
        Message::arithmetic(1, 0, 4, &d[..16]),
        Message::logical(1, 0, 3, &d[..8]),
        Message::intent(1, 0, 6, 0),
        Message::new(Channel::A, Opcode::AcquireBlock, 6, 1),
        Message::new(Channel::E, Opcode::GrantAck, 0, 0),
        Message::new(Channel::C, Opcode::ProbeAck, 6, 1),
    ];
    msgs[7].size = 4;
    for msg in &msgs {
        let resp = execute(msg, &mut region, &mut stats, &mut r, &mut dn);
        assert_eq!(
            resp.as_ref().map(|x| x.opcode),
            response_opcode(msg),
            "{msg:?}"
        );
    }
}

/// An Intent with omx's release param asks the caller to give the block's memory back; a
/// prefetch Intent does not; an Intent outside the region is denied and releases nothing.
#[test]
fn only_a_release_intent_in_range_releases() {
    let mut mem = [0u8; 8192];
    let mut region = Flat {
        bytes: &mut mem,
        released: 0,
    };
    let mut stats = ServeStats::default();
    let (mut r, mut dn) = (0, 0);
    let mut run = |m: Message<'_>| {
        let resp = execute(&m, &mut region, &mut stats, &mut r, &mut dn).unwrap();
        assert_eq!(resp.opcode, Opcode::HintAck);
        (resp.release, resp.err)
    };
    assert_eq!(
        run(Message::intent(1, 4096, 12, INTENT_RELEASE)),
        (Some(4096), 0)
    );
    assert_eq!(run(Message::intent(1, 4096, 12, 0)), (None, 0));
    assert_eq!(run(Message::intent(1, 8192, 12, INTENT_RELEASE)), (None, 2));
    assert_eq!(run(Message::intent(1, 2048, 12, INTENT_RELEASE)), (None, 2));
}

#[test]
fn atomics() {
    use Opcode::{ArithmeticData as A, LogicalData as L};
    // 4-byte signed MIN/MAX
    assert_eq!(atomic(A, 0, 5, 0xffff_ffff, 4), Some(0xffff_ffff));
    assert_eq!(atomic(A, 1, 5, 0xffff_ffff, 4), Some(5));
    assert_eq!(atomic(A, 2, 5, 0xffff_ffff, 4), Some(5));
    assert_eq!(atomic(A, 3, 5, 0xffff_ffff, 4), Some(0xffff_ffff));
    assert_eq!(atomic(A, 4, 0xff, 1, 1), Some(0));
    assert_eq!(atomic(A, 4, u64::MAX, 2, 8), Some(1));
    assert_eq!(atomic(A, 5, 1, 1, 8), None);
    assert_eq!(atomic(L, 0, 0b1100, 0b1010, 8), Some(0b0110));
    assert_eq!(atomic(L, 1, 0b1100, 0b1010, 8), Some(0b1110));
    assert_eq!(atomic(L, 2, 0b1100, 0b1010, 8), Some(0b1000));
    assert_eq!(atomic(L, 3, 0b1100, 0b1010, 2), Some(0b1010));
    assert_eq!(atomic(L, 4, 0, 0, 8), None);
}
