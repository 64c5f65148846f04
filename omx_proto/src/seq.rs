//! 22-bit TLoE sequence numbers with wrap-around arithmetic (spec §4).

/// Width of a sequence number in bits.
pub const SEQ_BITS: u32 = 22;
/// Number of distinct sequence numbers (2^22).
pub const SEQ_MODULUS: u32 = 1 << SEQ_BITS;
/// Mask of the sequence-number bits.
pub const SEQ_MASK: u32 = SEQ_MODULUS - 1;
/// Half the sequence space (2^21): the unacknowledged window must stay below.
pub const SEQ_HALF: u32 = 1 << (SEQ_BITS - 1);
/// Largest usable window (frames in flight): 2^21 - 1.
pub const MAX_WINDOW: u32 = SEQ_HALF - 1;

/// A 22-bit sequence number. Arithmetic wraps modulo 2^22.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Seq(u32);

impl Seq {
    /// Sequence number `v` reduced modulo 2^22.
    pub const fn new(v: u32) -> Self {
        Seq(v & SEQ_MASK)
    }

    /// The largest sequence number, 2^22 - 1 (the initial ACKD_SEQ).
    pub const MAX: Seq = Seq(SEQ_MASK);

    /// The raw 22-bit value.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// `self + n` modulo 2^22.
    pub const fn add(self, n: u32) -> Seq {
        Seq::new(self.0.wrapping_add(n))
    }

    /// `self - n` modulo 2^22.
    pub const fn sub(self, n: u32) -> Seq {
        Seq::new(self.0.wrapping_sub(n))
    }

    /// The following sequence number.
    pub const fn next(self) -> Seq {
        self.add(1)
    }

    /// The preceding sequence number.
    pub const fn prev(self) -> Seq {
        self.sub(1)
    }

    /// `(self - earlier) mod 2^22`: how many steps `self` is after `earlier`.
    pub const fn distance_from(self, earlier: Seq) -> u32 {
        self.0.wrapping_sub(earlier.0) & SEQ_MASK
    }

    /// Receiver classification of an incoming sequence number `self`
    /// against the expected `next_rx` (spec §4, TLoE receiver).
    pub const fn classify(self, next_rx: Seq) -> SeqClass {
        if self.0 == next_rx.0 {
            SeqClass::InOrder
        } else if next_rx.distance_from(self) <= SEQ_HALF {
            SeqClass::Duplicate
        } else {
            SeqClass::Ahead
        }
    }
}

/// How a received sequence number relates to the expected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqClass {
    /// Exactly the expected sequence number: accept.
    InOrder,
    /// Already received: drop and acknowledge.
    Duplicate,
    /// Beyond the expected number (frames were lost): drop and NAK.
    Ahead,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap() {
        assert_eq!(Seq::MAX.next(), Seq::new(0));
        assert_eq!(Seq::new(0).prev(), Seq::MAX);
        assert_eq!(Seq::new(3).distance_from(Seq::MAX), 4);
        assert_eq!(Seq::new(5).classify(Seq::new(5)), SeqClass::InOrder);
        assert_eq!(Seq::new(4).classify(Seq::new(5)), SeqClass::Duplicate);
        assert_eq!(Seq::MAX.classify(Seq::new(1)), SeqClass::Duplicate);
        assert_eq!(Seq::new(6).classify(Seq::new(5)), SeqClass::Ahead);
        assert_eq!(Seq::new(1).classify(Seq::MAX), SeqClass::Ahead);
        // exactly half behind counts as a duplicate
        assert_eq!(
            Seq::new(0).classify(Seq::new(SEQ_HALF)),
            SeqClass::Duplicate
        );
        assert_eq!(
            Seq::new(0).classify(Seq::new(SEQ_HALF + 1)),
            SeqClass::Ahead
        );
    }
}
