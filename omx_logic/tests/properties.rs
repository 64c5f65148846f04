//! Property tests of the module's decisions: random devices, nodes and event sequences
//! checked against what must always hold.

use omx_logic::lifecycle::{ConnPhase, Lifecycle, NodeState};
use omx_logic::mirror::{in_service, take_out};
use omx_logic::region::first_fit;
use omx_logic::sources::{
    Answer, Source, SourceSlot, SourceTable, GENERATIONS, MAX_SOURCES, ORPHAN,
};
use omx_logic::{
    find_region, on_timeout, per_node_len, piece_size, Expiry, Extensions, Stripe, CHUNK,
    MAX_EXTENSIONS, MAX_IDLE_EXTENSIONS, MAX_MEMBERS,
};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

proptest! {
    /// Every copy of every chunk lands within its member's region, the copies of a chunk on
    /// distinct members, and no two copies share a slot of a member.
    #[test]
    fn placement_is_disjoint_and_within_regions(
        members in 1usize..=MAX_MEMBERS,
        replicas in 1u32..=2,
        chunks in 1u64..200,
        tail in 0u64..CHUNK,
    ) {
        prop_assume!(members as u32 >= replicas);
        let size = (chunks - 1) * CHUNK + tail + 1;
        let len = per_node_len(size, members, replicas).unwrap();
        let stripe = Stripe { members, replicas };
        let mut slots = HashSet::new();
        for c in 0..chunks {
            let mut on = HashSet::new();
            for r in 0..replicas {
                for off in [c * CHUNK, c * CHUNK + tail, (c + 1) * CHUNK - 1] {
                    let p = stripe.place(off, r).unwrap();
                    prop_assert!(p.member < members);
                    prop_assert!(p.offset < len, "chunk {c} copy {r} at {} past region of {len}", p.offset);
                    prop_assert_eq!(p.offset % CHUNK, off % CHUNK);
                    prop_assert_eq!(p.addr(7 * CHUNK, len), Some(7 * CHUNK + p.offset));
                }
                let p = stripe.place(c * CHUNK, r).unwrap();
                prop_assert!(on.insert(p.member), "chunk {c}: two copies on member {}", p.member);
                prop_assert!(slots.insert((p.member, p.offset / CHUNK)), "chunk {c} copy {r} shares a slot");
            }
        }
    }

    /// First fit returns an aligned free range within the node, the lowest there is.
    #[test]
    fn first_fit_is_free_in_bounds_and_lowest(
        used in proptest::collection::vec((0u64..64, 0u64..16), 0..8),
        size in 0u64..80,
        len in 0u64..24,
        align in 1u64..5,
    ) {
        let overlaps = |base: u64| used.iter().any(|&(b, l)| base < b + l && b < base + len);
        let lowest = (0..=size).step_by(align as usize).find(|&base| base + len <= size && !overlaps(base));
        let got = first_fit(used.iter().copied(), size, len, align);
        prop_assert_eq!(got, lowest);
        if let Some(base) = got {
            prop_assert!(base % align == 0 && base + len <= size && !overlaps(base));
        }
    }

    /// Devices placed one after another on a node never overlap.
    #[test]
    fn regions_placed_in_turn_never_overlap(
        lens in proptest::collection::vec(0u64..5, 1..12),
        odd in proptest::collection::vec(0u64..CHUNK, 12),
        size_chunks in 1u64..40,
    ) {
        let size = size_chunks * CHUNK;
        let mut used: Vec<(u64, u64)> = Vec::new();
        for (i, l) in lens.iter().enumerate() {
            // Regions are whole chunks in practice; an odd length checks the rounding.
            let len = l * CHUNK + odd[i] % 2 * odd[i];
            if let Some(base) = find_region(used.iter().copied(), size, len) {
                prop_assert!(base % CHUNK == 0 && base + len <= size);
                for &(b, l) in &used {
                    prop_assert!(base + len <= b || b + l <= base || len == 0, "[{base}, +{len}) overlaps [{b}, +{l})");
                }
                used.push((base, len));
            }
        }
    }

    /// Whatever members fail, in whatever order, every chunk keeps a copy in service.
    #[test]
    fn the_mirror_never_takes_out_both_copies(
        members in 1usize..=MAX_MEMBERS,
        failures in proptest::collection::vec(0usize..70, 0..200),
    ) {
        let mut mask = 0u64;
        for m in failures {
            let before = mask;
            match take_out(mask, m, members) {
                Some(next) => {
                    prop_assert!(next & !before == 0 || next & !before == 1 << m);
                    mask = next;
                    prop_assert!(!in_service(mask, m));
                }
                None => prop_assert!(m >= members || members < 2 || !in_service(mask, (m + 1) % members) || !in_service(mask, (m + members - 1) % members)),
            }
            let stripe = Stripe { members, replicas: 2 };
            for c in 0..members as u64 {
                let served = (0..2).any(|r| in_service(mask, stripe.place(c * CHUNK, r).unwrap().member));
                prop_assert!(served, "chunk {c} has no copy in service (mask {mask:#x})");
            }
        }
    }

    /// Source ids: an answer matches exactly the messages in flight now; ids in flight never
    /// collide, are never 0 and stay far below the identity's source id; an answer to a
    /// message sent before a forget (a rewind) never matches.
    #[test]
    fn source_ids_match_only_messages_in_flight(
        slots in prop_oneof![1usize..9, Just(MAX_SOURCES)],
        ops in proptest::collection::vec((0u8..10, any::<u16>()), 0..400),
    ) {
        let mut mem = vec![SourceSlot::default(); slots];
        let mut t = SourceTable::new(&mut mem[..]).unwrap();
        let mut pending: HashMap<u32, Source> = HashMap::new();
        let mut history: Vec<u32> = vec![0, u32::MAX];
        for (op, x) in ops {
            match op {
                0..=3 => match t.next() {
                    Some(ticket) => {
                        let id = ticket.id();
                        prop_assert!(id != 0 && id < (1 << 26) - 1);
                        prop_assert!(!pending.contains_key(&id), "id {id} given out twice");
                        let src = Source { entry: x % 128, off: u32::from(x), len: 8 };
                        t.sent(ticket, src);
                        pending.insert(id, src);
                        history.push(id);
                    }
                    None => prop_assert_eq!(pending.len(), slots),
                },
                4..=7 => {
                    let id = history[usize::from(x) % history.len()];
                    let expected = match pending.remove(&id) {
                        None => Answer::Stray,
                        Some(s) if s.entry == ORPHAN => Answer::Orphan,
                        Some(s) => Answer::For(s),
                    };
                    prop_assert_eq!(t.answer(id), expected);
                }
                8 => {
                    let entry = usize::from(x % 128);
                    t.orphan(entry);
                    for s in pending.values_mut().filter(|s| usize::from(s.entry) == entry) {
                        s.entry = ORPHAN;
                    }
                }
                _ => {
                    t.forget();
                    pending.clear();
                }
            }
            prop_assert_eq!(t.in_flight(), pending.len());
        }
    }

    /// Ids sent before a forget never match an answer in the next GENERATIONS - 1
    /// generations, however the ids are reused meanwhile.
    #[test]
    fn a_rewind_never_lets_an_old_answer_match(
        slots in 1usize..6,
        forgets in 1u32..GENERATIONS,
        sends in 0usize..6,
    ) {
        let mut mem = vec![SourceSlot::default(); slots];
        let mut t = SourceTable::new(&mut mem[..]).unwrap();
        let mut old = Vec::new();
        while let Some(ticket) = t.next() {
            t.sent(ticket, Source { entry: 1, off: 0, len: 8 });
            old.push(ticket.id());
        }
        for _ in 0..forgets {
            t.forget();
            for _ in 0..sends {
                if let Some(ticket) = t.next() {
                    t.sent(ticket, Source { entry: 2, off: 0, len: 8 });
                }
            }
        }
        for id in old {
            prop_assert_eq!(t.answer(id), Answer::Stray, "old id {} matched after {} forgets", id, forgets);
        }
    }

    /// A piece is the largest power of two within the message size and what is left that
    /// the address is aligned to.
    #[test]
    fn pieces_are_powers_of_two_that_fit(msg in 1u32.., addr in any::<u64>(), rest in 1u32..) {
        let p = piece_size(msg, addr, rest);
        let limit = msg.min(rest);
        prop_assert!(p.is_power_of_two() && p <= limit);
        prop_assert_eq!(addr % u64::from(p), 0);
        // Twice as large would not fit, or not be aligned.
        let twice = u64::from(p) * 2;
        prop_assert!(twice > u64::from(limit) || addr % twice != 0);
    }

    /// A request split piece by piece is covered exactly, every message aligned to its size
    /// and within the message size, with at most two smaller messages at each edge per
    /// power of two (the count of whole messages is what the range allows).
    #[test]
    fn a_range_splits_into_aligned_messages(
        log in 3u32..=15,
        addr in (0u64..1 << 40).prop_map(|a| a & !511),
        len in (1u32..(1 << 20)).prop_map(|l| (l & !511).max(512)),
    ) {
        let msg = 1u32 << log;
        let (mut at, mut left, mut n) = (addr, len, 0u32);
        while left > 0 {
            let p = piece_size(msg, at, left);
            prop_assert!(p > 0 && p <= msg && p <= left);
            prop_assert_eq!(at % u64::from(p), 0);
            at += u64::from(p);
            left -= p;
            n += 1;
        }
        prop_assert_eq!(at, addr + u64::from(len));
        // At most the whole messages of the range plus two edges of up to log2 pieces each.
        prop_assert!(n <= len / msg + 2 * log + 2, "{} pieces", n);
    }

    /// A request is extended at most MAX_EXTENSIONS times, at most MAX_IDLE_EXTENSIONS of
    /// them without an answer of its node in between, and only while its node lives.
    #[test]
    fn expiry_is_bounded(events in proptest::collection::vec((any::<bool>(), any::<bool>()), 1..40)) {
        let mut ext = Extensions::default();
        let (mut extended, mut idle) = (0u8, 0u8);
        for (alive, answered) in events {
            match on_timeout(alive, answered, &mut ext) {
                Expiry::Extended => {
                    prop_assert!(alive);
                    extended += 1;
                    idle += u8::from(!answered);
                }
                _ => {
                    prop_assert!(
                        !alive || extended == MAX_EXTENSIONS || (!answered && idle == MAX_IDLE_EXTENSIONS)
                    );
                    break;
                }
            }
        }
        prop_assert!(extended <= MAX_EXTENSIONS && idle <= MAX_IDLE_EXTENSIONS);
    }

    /// Over any sequence of connection events: a change is reported exactly when the state
    /// changes, never from dead to connecting; a dead node holds nothing; held I/O is held
    /// at most `hold_ns`, and holding starts only for a node that was serving.
    #[test]
    fn node_states_follow_the_rules(
        hold_ns in prop_oneof![Just(0u64), 1u64..50],
        steps in proptest::collection::vec((0u8..4, any::<bool>(), 0u64..20), 0..100),
    ) {
        let mut l = Lifecycle::new();
        let mut now = 0u64;
        for (phase, verified, dt) in steps {
            now += dt;
            let conn = [ConnPhase::Opening, ConnPhase::Open, ConnPhase::Closing, ConnPhase::Gone][usize::from(phase)];
            let u = l.update(conn, verified, now, hold_ns);
            prop_assert_eq!(u.changed, u.next.state != l.state);
            prop_assert!(!(l.state == NodeState::Dead && u.next.state == NodeState::Connecting));
            if u.next.state == NodeState::Dead {
                prop_assert_eq!(u.next.hold_until, 0);
            }
            if u.hold {
                prop_assert!(matches!(l.state, NodeState::Up | NodeState::Closing) && hold_ns > 0);
                prop_assert_eq!(u.next.hold_until, (now + hold_ns).max(1));
                prop_assert!(u.contact_lost);
            }
            if l.hold_until != 0 && now >= l.hold_until {
                prop_assert!(matches!(u.next.state, NodeState::Up | NodeState::Dead));
                prop_assert_eq!(u.next.hold_until, 0);
            }
            if u.next.state == NodeState::Up {
                prop_assert!(conn == ConnPhase::Open && verified);
            }
            l = u.next;
        }
    }
}
