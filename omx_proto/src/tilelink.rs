//! TileLink messages of channels A-E as carried by OmniXtend (spec §3.2,
//! Figs. 10-16 and 23).
//!
//! Message header flit (channels A-D):
//! ```text
//! R[63] Chan[62:60] Opcode[59:57] R[56] Param[55:52] Size[51:48] Domain[47:40] Err[39:38] R[37:26] Source[25:0]
//! ```
//! Channel E: `R[63] Chan[62:60]=5 R[59:26] Sink[25:0]`.
//!
//! After the header: A/B/C carry an address flit; D Grant/GrantData carry a
//! sink flit; then data flits (`max(1, 2^size/8)`), or for PutPartialData
//! groups of one mask flit followed by up to 8 data flits.

use super::error::Error;
use super::wire::{bits, copy_bytes, field, flit_bytes, read_flit, write_flit, write_flit_bytes};

/// Largest valid `size` field (log2 of the transfer size in bytes).
pub const MAX_SIZE: u8 = 15;
/// Largest source / sink identifier (26 bits).
pub const MAX_ID: u32 = (1 << 26) - 1;
/// omx extension: an Intent with this `param` (TileLink defines 0 and 1) says the block's
/// contents are no longer needed, so the memory node may give its memory back (omx-node
/// does, and reads zeros there afterwards). A hint like any Intent: a peer may ignore it
/// and answer HintAck, and the block then keeps its data, which a discard allows.
pub const INTENT_RELEASE: u8 = 15;

/// A TileLink channel. The discriminant is the wire value of the `Chan`
/// field in both message headers and the TLoE credit field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Channel {
    /// Requests from master to slave (Get, Put, atomics, Intent, Acquire).
    A = 1,
    /// Requests from slave to master (Probe and forwarded accesses).
    B = 2,
    /// Responses to B, Release/ReleaseData.
    C = 3,
    /// Responses to A (AccessAck, AccessAckData, HintAck, Grant), ReleaseAck.
    D = 4,
    /// GrantAck.
    E = 5,
}

impl Channel {
    /// All channels in order.
    pub const ALL: [Channel; 5] = [Channel::A, Channel::B, Channel::C, Channel::D, Channel::E];

    /// Decodes the 3-bit field (1..=5); 0, 6 and 7 give `None`.
    pub const fn from_bits(v: u8) -> Option<Channel> {
        match v {
            1 => Some(Channel::A),
            2 => Some(Channel::B),
            3 => Some(Channel::C),
            4 => Some(Channel::D),
            5 => Some(Channel::E),
            _ => None,
        }
    }

    /// Zero-based index (A = 0 ... E = 4), for per-channel arrays.
    pub const fn index(self) -> usize {
        (self as usize).wrapping_sub(1)
    }
}

/// A TileLink opcode. Each name has one wire value on every channel that
/// carries it; [`Opcode::from_bits`] checks which names a channel allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// A/B 0: write a full power-of-two block.
    PutFullData,
    /// A/B 1: write with a byte mask.
    PutPartialData,
    /// A/B 2: arithmetic atomic (param: 0 MIN, 1 MAX, 2 MINU, 3 MAXU, 4 ADD).
    ArithmeticData,
    /// A/B 3: logical atomic (param: 0 XOR, 1 OR, 2 AND, 3 SWAP).
    LogicalData,
    /// A/B 4: read.
    Get,
    /// A/B 5: prefetch hint (param: 0 PrefetchRead, 1 PrefetchWrite).
    Intent,
    /// A 6: acquire a block with data (param: grow 0 NtoB, 1 NtoT, 2 BtoT).
    AcquireBlock,
    /// A 7: acquire permissions only.
    AcquirePerm,
    /// B 6: probe a block (param: cap 0 toT, 1 toB, 2 toN).
    ProbeBlock,
    /// B 7: probe permissions.
    ProbePerm,
    /// C/D 0: write acknowledgement.
    AccessAck,
    /// C/D 1: read / atomic response with data.
    AccessAckData,
    /// C/D 2: Intent acknowledgement.
    HintAck,
    /// C 4: probe response without data.
    ProbeAck,
    /// C 5: probe response with data.
    ProbeAckData,
    /// C 6: voluntary release without data.
    Release,
    /// C 7: voluntary release with data.
    ReleaseData,
    /// D 4: grant permissions (carries a sink).
    Grant,
    /// D 5: grant with data (carries a sink).
    GrantData,
    /// D 6: release acknowledgement.
    ReleaseAck,
    /// E: grant acknowledgement (no opcode field on the wire).
    GrantAck,
}

impl Opcode {
    /// Decodes the opcode field `v` for channel `ch`; `None` if that channel
    /// has no such opcode. Channel E ignores `v`.
    pub const fn from_bits(ch: Channel, v: u8) -> Option<Opcode> {
        use Opcode::*;
        match (ch, v) {
            (Channel::E, _) => Some(GrantAck),
            (Channel::A | Channel::B, 0) => Some(PutFullData),
            (Channel::A | Channel::B, 1) => Some(PutPartialData),
            (Channel::A | Channel::B, 2) => Some(ArithmeticData),
            (Channel::A | Channel::B, 3) => Some(LogicalData),
            (Channel::A | Channel::B, 4) => Some(Get),
            (Channel::A | Channel::B, 5) => Some(Intent),
            (Channel::A, 6) => Some(AcquireBlock),
            (Channel::A, 7) => Some(AcquirePerm),
            (Channel::B, 6) => Some(ProbeBlock),
            (Channel::B, 7) => Some(ProbePerm),
            (Channel::C | Channel::D, 0) => Some(AccessAck),
            (Channel::C | Channel::D, 1) => Some(AccessAckData),
            (Channel::C | Channel::D, 2) => Some(HintAck),
            (Channel::C, 4) => Some(ProbeAck),
            (Channel::C, 5) => Some(ProbeAckData),
            (Channel::C, 6) => Some(Release),
            (Channel::C, 7) => Some(ReleaseData),
            (Channel::D, 4) => Some(Grant),
            (Channel::D, 5) => Some(GrantData),
            (Channel::D, 6) => Some(ReleaseAck),
            _ => None,
        }
    }

    /// The wire value of the opcode field (0 for GrantAck).
    pub const fn to_bits(self) -> u8 {
        use Opcode::*;
        match self {
            PutFullData | AccessAck | GrantAck => 0,
            PutPartialData | AccessAckData => 1,
            ArithmeticData | HintAck => 2,
            LogicalData => 3,
            Get | ProbeAck | Grant => 4,
            Intent | ProbeAckData | GrantData => 5,
            AcquireBlock | ProbeBlock | Release | ReleaseAck => 6,
            AcquirePerm | ProbePerm | ReleaseData => 7,
        }
    }

    /// Whether `ch` carries this opcode.
    pub const fn valid_on(self, ch: Channel) -> bool {
        match Opcode::from_bits(ch, self.to_bits()) {
            Some(op) => op as u8 == self as u8,
            None => false,
        }
    }
}

/// What follows the header flit of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Second {
    /// Nothing.
    None,
    /// A 64-bit address flit (channels A, B, C).
    Address,
    /// A sink flit `R[63:26] Sink[25:0]` (D Grant / GrantData).
    Sink,
}

/// Kind of payload a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// No data.
    None,
    /// `max(1, 2^size/8)` data flits.
    Data,
    /// Interleaved mask and data flits (PutPartialData).
    Partial,
}

/// Wire layout of a message kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Flit after the header.
    pub second: Second,
    /// Data that follows.
    pub payload: Payload,
}

/// Layout of `(ch, op)`; assumes `op.valid_on(ch)`.
pub const fn layout(ch: Channel, op: Opcode) -> Layout {
    use Opcode::*;
    let addr = !matches!(ch, Channel::D | Channel::E);
    let second = if addr {
        Second::Address
    } else if matches!(op, Grant | GrantData) {
        Second::Sink
    } else {
        Second::None
    };
    let payload = match op {
        PutPartialData => Payload::Partial,
        PutFullData | ArithmeticData | LogicalData | AccessAckData | ProbeAckData | ReleaseData
        | GrantData => Payload::Data,
        _ => Payload::None,
    };
    Layout { second, payload }
}

/// Number of data flits for a transfer of `2^size` bytes: `max(1, 2^size/8)`.
pub const fn data_flits(size: u8) -> usize {
    if size <= 3 {
        1
    } else {
        1usize << ((size & 15) - 3)
    }
}

/// Number of mask flits of a PutPartialData of `2^size` bytes:
/// `max(1, 2^size/64)`.
pub const fn mask_flits(size: u8) -> usize {
    if size <= 6 {
        1
    } else {
        1usize << ((size & 15) - 6)
    }
}

/// Byte order of TileLink data on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ByteOrder {
    /// Spec order (default): the byte at the lowest address is in bits
    /// \[7:0\] of its big-endian 64-bit data word, so each 8-byte group is
    /// byte-reversed on the wire relative to memory (spec Fig. 16, SiFive
    /// hardware, WD endpoint, ETRI omnixtend-c).
    #[default]
    Spec,
    /// Raw memory order: wire bytes equal memory bytes (ETRI's newer
    /// software memory node, oxmem-nbd/fuse, WD's omnixtend-rs).
    Raw,
}

impl ByteOrder {
    /// Converts 8 memory-order bytes to wire order (an involution).
    pub const fn mem_to_wire(self, b: [u8; 8]) -> [u8; 8] {
        match self {
            ByteOrder::Spec => u64::from_le_bytes(b).to_be_bytes(),
            ByteOrder::Raw => b,
        }
    }

    /// Converts 8 wire-order bytes to memory order.
    pub const fn wire_to_mem(self, b: [u8; 8]) -> [u8; 8] {
        self.mem_to_wire(b)
    }

    /// Copies the whole 8-byte words that both `dst` and `src` hold, each converted between
    /// memory and wire order (the same conversion both ways); returns the bytes copied.
    pub fn copy_words(self, dst: &mut [u8], src: &[u8]) -> usize {
        let len = dst.len().min(src.len()) / 8 * 8;
        let (Some(dst), Some(src)) = (dst.get_mut(..len), src.get(..len)) else {
            return 0;
        };
        if self == ByteOrder::Raw {
            return copy_bytes(dst, src).map_or(0, |()| len);
        }
        // Four words a step, and an opaque use of each step: left alone, LLVM turns the loop
        // into SSE2 shuffles (x86-64's baseline has no byte shuffle), 14 instructions per two
        // words. Scalar byte swaps are faster natively (0.9 against 1.2 us per 8 KiB) and
        // five times faster under QEMU's TCG (1.9 against 9.2 us): the shuffled copy was a
        // fifth of a pool node's CPU streaming reads in the VMs.
        let mut dst_steps = dst.chunks_exact_mut(32);
        let mut src_steps = src.chunks_exact(32);
        for (d, s) in (&mut dst_steps).zip(&mut src_steps) {
            self.convert_each(d, s);
            core::hint::black_box(&mut *d);
        }
        self.convert_each(dst_steps.into_remainder(), src_steps.remainder());
        len
    }

    fn convert_each(self, dst: &mut [u8], src: &[u8]) {
        for (d, s) in dst.chunks_exact_mut(8).zip(src.chunks_exact(8)) {
            if let (Ok(d), Ok(s)) = (<&mut [u8; 8]>::try_from(d), <[u8; 8]>::try_from(s)) {
                *d = self.mem_to_wire(s);
            }
        }
    }

    /// Writes memory-order bytes `src` as bytes `at..at + src.len()` of the data whose wire
    /// form (whole flits) is `wire`: the inverse of [`Data::copy_range_to`], so a sender can
    /// copy its data into a frame once, in several pieces. False (nothing written) if the
    /// range does not fit `wire`.
    pub fn put_mem(self, wire: &mut [u8], at: usize, src: &[u8]) -> bool {
        if at
            .checked_add(src.len())
            .is_none_or(|end| end > wire.len() / 8 * 8)
        {
            return false;
        }
        if at % 8 == 0 && src.len() % 8 == 0 {
            // Whole flits: 8-byte moves, one pass.
            let dst = wire.get_mut(at..at + src.len()).unwrap_or_default();
            self.copy_words(dst, src);
            return true;
        }
        for (i, &b) in src.iter().enumerate() {
            let pos = at + i;
            let lane = match self {
                ByteOrder::Spec => 7 - pos % 8,
                ByteOrder::Raw => pos % 8,
            };
            if let Some(d) = wire.get_mut(pos / 8 * 8 + lane) {
                *d = b;
            }
        }
        true
    }
}

/// The data (and PutPartialData masks) of a message.
///
/// Messages built for sending use [`Data::Mem`] (memory-order bytes owned by
/// the caller); decoded messages use [`Data::Wire`], borrowing the received
/// frame. Both are read through the same accessors, which always present
/// data in memory order.
#[derive(Debug, Clone, Copy)]
pub enum Data<'a> {
    /// No data.
    None,
    /// Caller data in memory order. `bytes` holds the transfer: exactly
    /// `data_flits(size) * 8` bytes, or for sizes below 8 bytes exactly
    /// `2^size` bytes (placed in byte lanes 0.. of the single data flit; pad
    /// them yourself to choose other lanes). `mask` holds one 64-bit word per
    /// mask flit for PutPartialData (bit i enables byte i of its 64-byte
    /// group) and is empty otherwise.
    Mem {
        /// Memory-order data bytes.
        bytes: &'a [u8],
        /// PutPartialData mask words.
        mask: &'a [u64],
    },
    /// Data as found on the wire: the flits after the header / address /
    /// sink flit, including interleaved mask flits when `partial`.
    Wire {
        /// The raw flits.
        flits: &'a [u8],
        /// Byte order used to read the data.
        order: ByteOrder,
        /// Whether mask flits are interleaved (PutPartialData).
        partial: bool,
    },
}

impl<'a> Data<'a> {
    /// Memory-order data without a mask.
    pub const fn bytes(bytes: &'a [u8]) -> Self {
        Data::Mem { bytes, mask: &[] }
    }

    /// Whether there is no data at all.
    pub const fn is_none(&self) -> bool {
        matches!(self, Data::None)
    }

    /// Number of data flits present.
    pub fn data_flit_count(&self) -> usize {
        match self {
            Data::None => 0,
            Data::Mem { bytes, .. } => bytes.len().div_ceil(8),
            Data::Wire { flits, partial, .. } => {
                let n = flits.len() / 8;
                if *partial {
                    n.saturating_sub(n.div_ceil(9))
                } else {
                    n
                }
            }
        }
    }

    /// Data length in bytes (whole flits).
    pub fn len(&self) -> usize {
        self.data_flit_count().saturating_mul(8)
    }

    /// Whether there are no data bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Data flit `k` in memory order (zero-padded for short `Mem` data).
    pub fn flit(&self, k: usize) -> Option<[u8; 8]> {
        match self {
            Data::None => None,
            Data::Mem { bytes, .. } => {
                let start = k.checked_mul(8)?;
                if start >= bytes.len() {
                    return None;
                }
                let mut out = [0u8; 8];
                for (i, o) in out.iter_mut().enumerate() {
                    if let Some(b) = bytes.get(start.wrapping_add(i)) {
                        *o = *b;
                    }
                }
                Some(out)
            }
            Data::Wire {
                flits,
                order,
                partial,
            } => {
                let idx = if *partial {
                    (k / 8).checked_mul(9)?.checked_add(1)?.checked_add(k % 8)?
                } else {
                    k
                };
                let b = flit_bytes(flits, idx)?;
                if *partial && self.data_flit_count() <= k {
                    return None;
                }
                Some(order.wire_to_mem(b))
            }
        }
    }

    /// Mask word `g` (PutPartialData), or `None`.
    pub fn mask_word(&self, g: usize) -> Option<u64> {
        match self {
            Data::None => None,
            Data::Mem { mask, .. } => mask.get(g).copied(),
            Data::Wire { flits, partial, .. } => {
                if !*partial {
                    return None;
                }
                read_flit(flits, g.checked_mul(9)?)
            }
        }
    }

    /// Whether byte `i` of the transfer is enabled (always true without mask).
    pub fn byte_enabled(&self, i: usize) -> bool {
        match self.mask_word(i / 64) {
            Some(w) => (w >> (i % 64)) & 1 != 0,
            None => !matches!(self, Data::Wire { partial: true, .. }),
        }
    }

    /// Byte `i` of the data in memory order.
    pub fn byte(&self, i: usize) -> Option<u8> {
        self.flit(i / 8).and_then(|f| f.get(i % 8).copied())
    }

    /// Copies the data in memory order into `out`; returns the bytes copied
    /// (`min(out.len(), self.len())`).
    pub fn copy_to(&self, out: &mut [u8]) -> usize {
        self.copy_range_to(0, out)
    }

    /// Copies the data's bytes from `offset` on, in memory order, into `out` (a receiver
    /// scattering one message into several pages); returns the bytes copied
    /// (`min(out.len(), self.len() - offset)`, 0 past the end).
    pub fn copy_range_to(&self, offset: usize, out: &mut [u8]) -> usize {
        // Received full data at a flit boundary (the common case): one pass over the flits,
        // 8 bytes at a time.
        if let Data::Wire {
            flits,
            order,
            partial: false,
        } = self
        {
            if offset % 8 == 0 {
                // Whole words, then the tail of `out` (less than a word), if any.
                let src = flits.get(offset..).unwrap_or_default();
                let mut n = order.copy_words(out, src);
                let tail = out.get_mut(n..).unwrap_or_default();
                let next = src.get(n..n.saturating_add(8)).map(<[u8; 8]>::try_from);
                if let (false, Some(Ok(s))) = (tail.is_empty(), next) {
                    for (d, b) in tail.iter_mut().zip(order.wire_to_mem(s)) {
                        *d = b;
                        n = n.saturating_add(1);
                    }
                }
                return n;
            }
        }
        let mut n = 0usize;
        if offset % 8 == 0 {
            for (k, chunk) in out.chunks_mut(8).enumerate() {
                let Some(f) = self.flit((offset / 8).saturating_add(k)) else {
                    break;
                };
                let take = chunk.len().min(8);
                if let (Some(dst), Some(src)) = (chunk.get_mut(..take), f.get(..take)) {
                    dst.copy_from_slice(src);
                    n = n.saturating_add(take);
                }
            }
            return n;
        }
        for (i, dst) in out.iter_mut().enumerate() {
            let Some(b) = offset.checked_add(i).and_then(|at| self.byte(at)) else {
                break;
            };
            *dst = b;
            n = n.saturating_add(1);
        }
        n
    }

    /// Content equality (memory-order data and masks), independent of the
    /// representation.
    pub fn same_content(&self, other: &Data<'_>) -> bool {
        if self.is_none() != other.is_none() {
            return false;
        }
        let n = self.data_flit_count();
        if n != other.data_flit_count() {
            return false;
        }
        for k in 0..n {
            if self.flit(k) != other.flit(k) {
                return false;
            }
        }
        let m = n.div_ceil(8);
        for g in 0..m {
            if self.mask_word(g) != other.mask_word(g) {
                return false;
            }
        }
        true
    }
}

/// One TileLink message.
///
/// Fields that a message kind does not carry are ignored when encoding and
/// zero after decoding (e.g. `address` for channel D, `source` for E).
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// Channel.
    pub chan: Channel,
    /// Opcode (must be valid on `chan`).
    pub opcode: Opcode,
    /// 4-bit parameter (atomic operation, cap/grow/prune, hint kind).
    pub param: u8,
    /// log2 of the transfer size in bytes (0..=15).
    pub size: u8,
    /// 8-bit ordering domain (0 = none).
    pub domain: u8,
    /// 2-bit error: bit 1 = denied (D only), bit 0 = corrupt.
    pub err: u8,
    /// 26-bit source identifier (A-D).
    pub source: u32,
    /// Address (A, B, C).
    pub address: u64,
    /// 26-bit sink identifier (D Grant/GrantData, E GrantAck).
    pub sink: u32,
    /// Data and masks.
    pub data: Data<'a>,
}

impl PartialEq for Message<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.chan == o.chan
            && self.opcode == o.opcode
            && self.param == o.param
            && self.size == o.size
            && self.domain == o.domain
            && self.err == o.err
            && self.source == o.source
            && self.address == o.address
            && self.sink == o.sink
            && self.data.same_content(&o.data)
    }
}

/// log2 of a power-of-two length, if it is one and at most 2^15.
fn size_of_len(len: usize) -> u8 {
    if len.is_power_of_two() && len <= (1 << MAX_SIZE) {
        len.trailing_zeros() as u8
    } else {
        0xFF // rejected by validate()
    }
}

impl<'a> Message<'a> {
    /// A message with all optional fields zero.
    pub const fn new(chan: Channel, opcode: Opcode, size: u8, source: u32) -> Self {
        Message {
            chan,
            opcode,
            param: 0,
            size,
            domain: 0,
            err: 0,
            source,
            address: 0,
            sink: 0,
            data: Data::None,
        }
    }

    /// A: Get `2^size` bytes at `address`.
    pub const fn get(source: u32, address: u64, size: u8) -> Self {
        let mut m = Message::new(Channel::A, Opcode::Get, size, source);
        m.address = address;
        m
    }

    /// A: PutFullData of `data` (length a power of two, at most 32 KiB).
    pub fn put_full(source: u32, address: u64, data: &'a [u8]) -> Self {
        let mut m = Message::new(
            Channel::A,
            Opcode::PutFullData,
            size_of_len(data.len()),
            source,
        );
        m.address = address;
        m.data = Data::bytes(data);
        m
    }

    /// A: PutPartialData of `2^size` bytes with one mask word per 64 bytes.
    pub fn put_partial(
        source: u32,
        address: u64,
        size: u8,
        data: &'a [u8],
        mask: &'a [u64],
    ) -> Self {
        let mut m = Message::new(Channel::A, Opcode::PutPartialData, size, source);
        m.address = address;
        m.data = Data::Mem { bytes: data, mask };
        m
    }

    /// A: ArithmeticData (`param`: 0 MIN, 1 MAX, 2 MINU, 3 MAXU, 4 ADD).
    pub fn arithmetic(source: u32, address: u64, param: u8, data: &'a [u8]) -> Self {
        let mut m = Message::put_full(source, address, data);
        m.opcode = Opcode::ArithmeticData;
        m.param = param;
        m
    }

    /// A: LogicalData (`param`: 0 XOR, 1 OR, 2 AND, 3 SWAP).
    pub fn logical(source: u32, address: u64, param: u8, data: &'a [u8]) -> Self {
        let mut m = Message::put_full(source, address, data);
        m.opcode = Opcode::LogicalData;
        m.param = param;
        m
    }

    /// A: Intent (`param`: 0 PrefetchRead, 1 PrefetchWrite, or omx's [`INTENT_RELEASE`]).
    pub const fn intent(source: u32, address: u64, size: u8, param: u8) -> Self {
        let mut m = Message::get(source, address, size);
        m.opcode = Opcode::Intent;
        m.param = param;
        m
    }

    /// D: AccessAck (response to Put).
    pub const fn access_ack(source: u32, size: u8) -> Self {
        Message::new(Channel::D, Opcode::AccessAck, size, source)
    }

    /// D: AccessAckData carrying `data` (response to Get / atomics).
    pub fn access_ack_data(source: u32, size: u8, data: &'a [u8]) -> Self {
        let mut m = Message::new(Channel::D, Opcode::AccessAckData, size, source);
        m.data = Data::bytes(data);
        m
    }

    /// D: HintAck (response to Intent).
    pub const fn hint_ack(source: u32, size: u8) -> Self {
        Message::new(Channel::D, Opcode::HintAck, size, source)
    }

    /// Marks a D response as denied (Err\[1\]).
    pub const fn denied(mut self) -> Self {
        self.err |= 2;
        self
    }

    /// Wire layout of this message.
    pub const fn layout(&self) -> Layout {
        layout(self.chan, self.opcode)
    }

    /// Total flits of the message on the wire, which is also its credit cost.
    pub const fn flits(&self) -> usize {
        Self::flits_for(self.chan, self.opcode, self.size)
    }

    /// Flits of a message of this kind and size.
    pub const fn flits_for(chan: Channel, opcode: Opcode, size: u8) -> usize {
        let l = layout(chan, opcode);
        let second = match l.second {
            Second::None => 0,
            _ => 1,
        };
        let payload = match l.payload {
            Payload::None => 0,
            Payload::Data => data_flits(size),
            Payload::Partial => data_flits(size) + mask_flits(size),
        };
        1 + second + payload
    }

    /// Checks every field against its width and the data against the size.
    pub fn validate(&self) -> Result<(), Error> {
        if !self.opcode.valid_on(self.chan)
            || self.size > MAX_SIZE
            || self.param > 15
            || self.err > 3
            || self.source > MAX_ID
            || self.sink > MAX_ID
        {
            return Err(Error::InvalidMessage);
        }
        let l = self.layout();
        let dflits = data_flits(self.size);
        match (l.payload, &self.data) {
            (Payload::None, Data::None) => Ok(()),
            (Payload::None, _) | (_, Data::None) => Err(Error::InvalidMessage),
            (_, Data::Wire { .. }) => {
                if self.data.data_flit_count() == dflits
                    && (l.payload == Payload::Partial)
                        == matches!(self.data, Data::Wire { partial: true, .. })
                {
                    Ok(())
                } else {
                    Err(Error::InvalidMessage)
                }
            }
            (p, Data::Mem { bytes, mask }) => {
                let ok_len =
                    bytes.len() == dflits * 8 || (self.size < 3 && bytes.len() == 1 << self.size);
                let ok_mask = match p {
                    Payload::Partial => mask.len() == mask_flits(self.size),
                    _ => mask.is_empty(),
                };
                if ok_len && ok_mask {
                    Ok(())
                } else {
                    Err(Error::InvalidMessage)
                }
            }
        }
    }

    /// The header flit value.
    pub const fn header_flit(&self) -> u64 {
        match self.chan {
            Channel::E => field(5, 62, 60) | field(self.sink as u64, 25, 0),
            ch => {
                field(ch as u64, 62, 60)
                    | field(self.opcode.to_bits() as u64, 59, 57)
                    | field(self.param as u64, 55, 52)
                    | field(self.size as u64, 51, 48)
                    | field(self.domain as u64, 47, 40)
                    | field(self.err as u64, 39, 38)
                    | field(self.source as u64, 25, 0)
            }
        }
    }

    /// Encodes the message at the start of `out` with data in `order`;
    /// returns the number of flits written (equal to [`Message::flits`]).
    pub fn encode(&self, out: &mut [u8], order: ByteOrder) -> Result<usize, Error> {
        self.validate()?;
        let n = self.flits();
        if out.len() / 8 < n {
            return Err(Error::BufferTooSmall);
        }
        let e = Error::BufferTooSmall;
        write_flit(out, 0, self.header_flit()).ok_or(e)?;
        let l = self.layout();
        let mut pos = 1usize;
        match l.second {
            Second::None => {}
            Second::Address => {
                write_flit(out, pos, self.address).ok_or(e)?;
                pos += 1;
            }
            Second::Sink => {
                write_flit(out, pos, field(self.sink as u64, 25, 0)).ok_or(e)?;
                pos += 1;
            }
        }
        let dflits = match l.payload {
            Payload::None => 0,
            _ => data_flits(self.size),
        };
        // Whole data flits in memory order (every Put and AccessAckData of 8 bytes or more):
        // one pass over the bytes, 8 at a time.
        if let (Payload::Data, Data::Mem { bytes, .. }) = (l.payload, self.data) {
            if bytes.len() == dflits * 8 {
                let dst = out.get_mut(pos * 8..(pos + dflits) * 8).ok_or(e)?;
                order.copy_words(dst, bytes);
                return Ok(pos + dflits);
            }
        }
        for k in 0..dflits {
            if l.payload == Payload::Partial && k % 8 == 0 {
                let w = self.data.mask_word(k / 8).ok_or(Error::InvalidMessage)?;
                write_flit(out, pos, w).ok_or(e)?;
                pos += 1;
            }
            let f = self.data.flit(k).ok_or(Error::InvalidMessage)?;
            write_flit_bytes(out, pos, order.mem_to_wire(f)).ok_or(e)?;
            pos += 1;
        }
        Ok(pos)
    }

    /// Decodes the message whose header flit starts `buf`; data borrows
    /// `buf` and is read in `order`. Returns the message and its flit count.
    pub fn decode(buf: &'a [u8], order: ByteOrder) -> Result<(Message<'a>, usize), Error> {
        let h = read_flit(buf, 0).ok_or(Error::Truncated)?;
        let chan = Channel::from_bits(bits(h, 62, 60) as u8).ok_or(Error::BadMessage)?;
        let opcode = Opcode::from_bits(chan, bits(h, 59, 57) as u8).ok_or(Error::BadMessage)?;
        let mut m = Message::new(chan, opcode, 0, 0);
        if chan == Channel::E {
            m.sink = bits(h, 25, 0) as u32;
        } else {
            m.param = bits(h, 55, 52) as u8;
            m.size = bits(h, 51, 48) as u8;
            m.domain = bits(h, 47, 40) as u8;
            m.err = bits(h, 39, 38) as u8;
            m.source = bits(h, 25, 0) as u32;
        }
        let n = m.flits();
        if buf.len() / 8 < n {
            return Err(Error::Truncated);
        }
        let l = m.layout();
        let mut pos = 1usize;
        match l.second {
            Second::None => {}
            Second::Address => {
                m.address = read_flit(buf, pos).ok_or(Error::Truncated)?;
                pos += 1;
            }
            Second::Sink => {
                m.sink = bits(read_flit(buf, pos).ok_or(Error::Truncated)?, 25, 0) as u32;
                pos += 1;
            }
        }
        if l.payload != Payload::None {
            let start = pos * 8;
            let end = n * 8;
            let flits = buf.get(start..end).ok_or(Error::Truncated)?;
            m.data = Data::Wire {
                flits,
                order,
                partial: l.payload == Payload::Partial,
            };
        }
        Ok((m, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcode_tables() {
        let mut count = 0;
        for ch in Channel::ALL {
            for v in 0..8u8 {
                if let Some(op) = Opcode::from_bits(ch, v) {
                    assert!(op.valid_on(ch));
                    if ch != Channel::E {
                        assert_eq!(op.to_bits(), v);
                    }
                    count += 1;
                }
            }
        }
        // A 8, B 8, C 7, D 6, E 8 (any opcode bits)
        assert_eq!(count, 8 + 8 + 7 + 6 + 8);
        assert!(!Opcode::Grant.valid_on(Channel::A));
        assert!(!Opcode::AcquireBlock.valid_on(Channel::B));
    }

    #[test]
    fn lengths() {
        assert_eq!(Message::flits_for(Channel::A, Opcode::PutFullData, 6), 10);
        assert_eq!(
            Message::flits_for(Channel::A, Opcode::PutPartialData, 6),
            11
        );
        assert_eq!(
            Message::flits_for(Channel::A, Opcode::PutPartialData, 10),
            2 + 128 + 16
        );
        assert_eq!(Message::flits_for(Channel::A, Opcode::Get, 6), 2);
        assert_eq!(Message::flits_for(Channel::C, Opcode::ProbeAckData, 6), 10);
        assert_eq!(Message::flits_for(Channel::C, Opcode::Release, 6), 2);
        assert_eq!(Message::flits_for(Channel::D, Opcode::AccessAck, 6), 1);
        assert_eq!(Message::flits_for(Channel::D, Opcode::AccessAckData, 6), 9);
        assert_eq!(Message::flits_for(Channel::D, Opcode::AccessAckData, 0), 2);
        assert_eq!(Message::flits_for(Channel::D, Opcode::Grant, 6), 2);
        assert_eq!(Message::flits_for(Channel::D, Opcode::GrantData, 6), 10);
        assert_eq!(Message::flits_for(Channel::E, Opcode::GrantAck, 0), 1);
        assert_eq!(
            Message::flits_for(Channel::D, Opcode::AccessAckData, 15),
            4097
        );
    }

    #[test]
    fn copy_words_converts_every_whole_word_and_nothing_else() {
        let src: [u8; 100] = core::array::from_fn(|i| i as u8);
        for order in [ByteOrder::Spec, ByteOrder::Raw] {
            for (dst_len, src_len) in [(0, 0), (8, 100), (100, 100), (96, 72), (40, 100), (7, 7)] {
                let mut dst = [0xEEu8; 100];
                let n = order.copy_words(&mut dst[..dst_len], &src[..src_len]);
                assert_eq!(
                    n,
                    dst_len.min(src_len) / 8 * 8,
                    "{order:?} {dst_len} {src_len}"
                );
                for (k, word) in dst.chunks_exact(8).enumerate() {
                    let want = if (k + 1) * 8 <= n {
                        let s: [u8; 8] = src[k * 8..k * 8 + 8].try_into().unwrap();
                        order.mem_to_wire(s)
                    } else {
                        [0xEE; 8]
                    };
                    assert_eq!(word, want, "{order:?} {dst_len} {src_len} word {k}");
                }
            }
        }
    }

    #[test]
    fn copy_range_to_matches_the_data_from_any_offset() {
        let data: [u8; 64] = core::array::from_fn(|i| 0x40 + i as u8);
        let m = Message::put_full(1, 0x1000, &data);
        for order in [ByteOrder::Spec, ByteOrder::Raw] {
            let mut wire = [0u8; 80];
            m.encode(&mut wire, order).unwrap();
            let (received, _) = Message::decode(&wire, order).unwrap();
            for d in [&m.data, &received.data] {
                for offset in [0, 8, 24, 56, 3, 61, 63, 64, 100] {
                    let mut out = [0u8; 20];
                    let n = d.copy_range_to(offset, &mut out);
                    let want = data.get(offset..).unwrap_or_default();
                    let want = &want[..want.len().min(20)];
                    assert_eq!(n, want.len(), "{order:?} offset {offset}");
                    assert_eq!(&out[..n], want, "{order:?} offset {offset}");
                }
            }
        }
    }

    #[test]
    fn spec_a12_put_full() {
        let data: [u8; 64] = core::array::from_fn(|i| 0x40 + i as u8);
        let m = Message::put_full(0x10F3355, 0x7BA8_0000_130E_C440, &data);
        let mut out = [0u8; 80];
        assert_eq!(m.encode(&mut out, ByteOrder::Spec).unwrap(), 10);
        assert_eq!(read_flit(&out, 0), Some(0x1006_0000_010F_3355));
        assert_eq!(read_flit(&out, 2), Some(0x4746_4544_4342_4140));
        let (d, n) = Message::decode(&out, ByteOrder::Spec).unwrap();
        assert_eq!(n, 10);
        assert_eq!(d, m);
        let mut back = [0u8; 64];
        assert_eq!(d.data.copy_to(&mut back), 64);
        assert_eq!(back, data);
        // raw order: wire bytes equal memory bytes
        m.encode(&mut out, ByteOrder::Raw).unwrap();
        assert_eq!(&out[16..24], &data[..8]);
    }

    #[test]
    fn small_sizes() {
        let m = Message::access_ack_data(1, 2, &[1, 2, 3, 4]);
        let mut out = [0u8; 16];
        assert_eq!(m.encode(&mut out, ByteOrder::Spec).unwrap(), 2);
        assert_eq!(read_flit(&out, 1), Some(0x0403_0201));
        let (d, _) = Message::decode(&out, ByteOrder::Spec).unwrap();
        assert_eq!(d.data.len(), 8);
        assert_eq!(d.data.byte(0), Some(1));
        assert_eq!(d.data.byte(3), Some(4));
        assert_eq!(d.data.byte(4), Some(0));
        let bad = Message::access_ack_data(1, 2, &[1, 2, 3]);
        assert_eq!(bad.validate(), Err(Error::InvalidMessage));
    }

    #[test]
    fn partial_groups() {
        let data = [0xABu8; 128];
        let mask = [0xFFFF_0000_0000_00FFu64, 1];
        let m = Message::put_partial(9, 0x1000, 7, &data, &mask);
        assert_eq!(m.flits(), 2 + 2 + 16);
        let mut out = [0u8; 8 * 20];
        assert_eq!(m.encode(&mut out, ByteOrder::Spec).unwrap(), 20);
        assert_eq!(read_flit(&out, 2), Some(mask[0]));
        assert_eq!(read_flit(&out, 11), Some(mask[1]));
        let (d, n) = Message::decode(&out, ByteOrder::Spec).unwrap();
        assert_eq!(n, 20);
        assert_eq!(d, m);
        assert!(d.data.byte_enabled(0));
        assert!(!d.data.byte_enabled(8));
        assert!(d.data.byte_enabled(64));
        assert!(!d.data.byte_enabled(65));
        assert_eq!(d.data.data_flit_count(), 16);
    }

    #[test]
    fn decode_errors() {
        let mut out = [0u8; 16];
        write_flit(&mut out, 0, field(6, 62, 60)).unwrap();
        assert_eq!(
            Message::decode(&out, ByteOrder::Spec).err(),
            Some(Error::BadMessage)
        );
        write_flit(&mut out, 0, field(4, 62, 60) | field(3, 59, 57)).unwrap();
        assert_eq!(
            Message::decode(&out, ByteOrder::Spec).err(),
            Some(Error::BadMessage)
        );
        write_flit(
            &mut out,
            0,
            field(1, 62, 60) | field(0, 59, 57) | field(6, 51, 48),
        )
        .unwrap();
        assert_eq!(
            Message::decode(&out, ByteOrder::Spec).err(),
            Some(Error::Truncated)
        );
    }
}
