//! Sequence number and timestamp unwrapping, and the RFC 3550 Appendix A.1 source validator.
//!
//! - [`SeqUnwrapper`] and [`TimestampUnwrapper`] map 16-bit sequence numbers and 32-bit
//!   timestamps onto monotonic `u64` values, placing each input at the value nearest the
//!   highest one seen so far, so reordered packets on either side of a wrap land correctly.
//! - [`SeqTracker`] is the RFC 3550 A.1 algorithm: probation before a source is valid, large
//!   jumps held back until confirmed by a second sequential packet, reordering tolerated,
//!   and the counts (received, expected, lost) that receiver reports need.

use crate::{RtpTimestamp, SeqNo};

/// Places `value` (an unsigned counter of `BITS` bits) at the extended value nearest to
/// `highest`. `None` when that value would be negative.
fn extend(highest: u64, value: u64, bits: u32) -> Option<u64> {
    let modulus = 1u64 << bits;
    let half = modulus >> 1;
    let low = highest & (modulus - 1);
    let forward = value.wrapping_sub(low) & (modulus - 1);
    if forward < half {
        highest.checked_add(forward)
    } else {
        highest.checked_sub(modulus - forward)
    }
}

/// Extends 16-bit sequence numbers to 64 bits.
///
/// The first packet's number is its own extended value (cycle 0). Later numbers are placed
/// within ±32768 of the highest extended value so far; the highest advances only forward.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqUnwrapper {
    highest: Option<u64>,
}

impl SeqUnwrapper {
    /// An unwrapper that has seen nothing.
    pub const fn new() -> Self {
        Self { highest: None }
    }

    /// The extended value of `seq`. `None` for a late packet that would fall before extended
    /// value 0 (sent before the first packet seen, across a wrap): treat it as too old.
    pub fn unwrap(&mut self, seq: SeqNo) -> Option<u64> {
        let value = u64::from(seq.0);
        let ext = match self.highest {
            None => value,
            Some(h) => extend(h, value, 16)?,
        };
        if self.highest.is_none_or(|h| ext > h) {
            self.highest = Some(ext);
        }
        Some(ext)
    }

    /// The extended value `seq` would get, without updating the state.
    pub fn peek(&self, seq: SeqNo) -> Option<u64> {
        match self.highest {
            None => Some(u64::from(seq.0)),
            Some(h) => extend(h, u64::from(seq.0), 16),
        }
    }

    /// The highest extended sequence number seen.
    pub const fn highest(&self) -> Option<u64> {
        self.highest
    }
}

/// Extends 32-bit RTP timestamps to 64 bits, the same way as [`SeqUnwrapper`] with a window
/// of ±2^31 ticks (about three days at 8 kHz, six hours at 90 kHz).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimestampUnwrapper {
    highest: Option<u64>,
}

impl TimestampUnwrapper {
    /// An unwrapper that has seen nothing.
    pub const fn new() -> Self {
        Self { highest: None }
    }

    /// The extended value of `ts`; `None` when it would fall before extended value 0.
    pub fn unwrap(&mut self, ts: RtpTimestamp) -> Option<u64> {
        let value = u64::from(ts.0);
        let ext = match self.highest {
            None => value,
            Some(h) => extend(h, value, 32)?,
        };
        if self.highest.is_none_or(|h| ext > h) {
            self.highest = Some(ext);
        }
        Some(ext)
    }

    /// The highest extended timestamp seen.
    pub const fn highest(&self) -> Option<u64> {
        self.highest
    }
}

/// How [`SeqTracker::update`] classified a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeqUpdate {
    /// The source is still on probation (RFC 3550 A.1 `MIN_SEQUENTIAL`); not yet counted.
    Probation,
    /// In order, possibly after a gap of less than `MAX_DROPOUT`; carries the new extended
    /// highest sequence number.
    InOrder(u64),
    /// At or behind the highest sequence number by less than `MAX_MISORDER`: a duplicate or
    /// a reordered packet. Counted as received; carries its extended value when it has one.
    Late(Option<u64>),
    /// A jump too large to accept; dropped until the next packet confirms it.
    Jump,
    /// The packet after a [`Jump`](Self::Jump) confirmed it: the sender restarted; counts were
    /// reset and numbering starts again from this packet (its extended value is carried).
    Restarted(u64),
}

/// The per-source sequence state of RFC 3550 Appendix A.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqTracker {
    max_seq: u16,
    cycles: u64,
    base_seq: u16,
    bad_seq: Option<u16>,
    probation: u8,
    min_sequential: u8,
    received: u64,
}

impl SeqTracker {
    /// Largest forward gap accepted as loss rather than a jump.
    pub const MAX_DROPOUT: u16 = 3000;
    /// Largest backward step accepted as reordering rather than a jump.
    pub const MAX_MISORDER: u16 = 100;
    /// Sequential packets needed before a new source is valid.
    pub const MIN_SEQUENTIAL: u8 = 2;

    /// State for a new source whose first packet carried `seq`; the source is on probation
    /// (that first packet counts toward it).
    pub const fn new(seq: SeqNo) -> Self {
        Self {
            max_seq: seq.0,
            cycles: 0,
            base_seq: seq.0,
            bad_seq: None,
            probation: Self::MIN_SEQUENTIAL - 1,
            min_sequential: Self::MIN_SEQUENTIAL,
            received: 0,
        }
    }

    /// State for a new source that must send `min_sequential` packets in sequence (this first
    /// one included) before it is valid. 0 and 1 make the source valid at once, with `seq`
    /// counted as received; [`new`](Self::new) is `with_probation(seq, MIN_SEQUENTIAL)`.
    pub const fn with_probation(seq: SeqNo, min_sequential: u8) -> Self {
        if min_sequential <= 1 {
            return Self::new_validated(seq);
        }
        let mut s = Self::new(seq);
        s.probation = min_sequential - 1;
        s.min_sequential = min_sequential;
        s
    }

    /// State for a source already known to be valid (signalled, or after SRTP authentication),
    /// with `seq` counted as received.
    pub const fn new_validated(seq: SeqNo) -> Self {
        let mut s = Self::new(seq);
        s.probation = 0;
        s.received = 1;
        s
    }

    fn restart(&mut self, seq: u16) {
        self.base_seq = seq;
        self.max_seq = seq;
        self.bad_seq = None;
        self.cycles = 0;
        self.received = 0;
    }

    const fn extended_of(&self, max_seq: u16) -> u64 {
        self.cycles + max_seq as u64
    }

    /// Feeds the sequence number of the next packet received from this source.
    pub fn update(&mut self, seq: SeqNo) -> SeqUpdate {
        let seq = seq.0;
        let udelta = seq.wrapping_sub(self.max_seq);
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.restart(seq);
                    self.received = 1;
                    return SeqUpdate::InOrder(self.extended_max());
                }
            } else {
                self.probation = self.min_sequential - 1;
                self.max_seq = seq;
            }
            return SeqUpdate::Probation;
        }
        if udelta < Self::MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles += 1 << 16;
            }
            self.max_seq = seq;
            self.received += 1;
            SeqUpdate::InOrder(self.extended_max())
        } else if udelta <= u16::MAX - Self::MAX_MISORDER + 1 {
            // A very large jump: accept only if the next packet follows it.
            if self.bad_seq == Some(seq) {
                self.restart(seq);
                self.received = 1;
                SeqUpdate::Restarted(self.extended_max())
            } else {
                self.bad_seq = Some(seq.wrapping_add(1));
                SeqUpdate::Jump
            }
        } else {
            // Duplicate or reordered: at most MAX_MISORDER behind the highest.
            self.received += 1;
            let back = u64::from(self.max_seq.wrapping_sub(seq));
            SeqUpdate::Late(self.extended_max().checked_sub(back))
        }
    }

    /// The extended highest sequence number received (cycles in the high bits). Its low 32
    /// bits are the receiver report's "extended highest sequence number received".
    pub const fn extended_max(&self) -> u64 {
        self.extended_of(self.max_seq)
    }

    /// The first sequence number counted (after probation or the last restart).
    pub const fn base_seq(&self) -> SeqNo {
        SeqNo(self.base_seq)
    }

    /// Whether the source has passed probation.
    pub const fn is_valid(&self) -> bool {
        self.probation == 0
    }

    /// Packets received and counted (duplicates included, as in RFC 3550).
    pub const fn received(&self) -> u64 {
        self.received
    }

    /// Packets expected: extended highest minus base, plus one (0 while on probation).
    pub const fn expected(&self) -> u64 {
        if self.probation > 0 {
            return 0;
        }
        self.extended_max() - self.base_seq as u64 + 1
    }

    /// Cumulative packets lost (negative when duplicates outnumber losses), as RFC 3550
    /// §6.4.1 defines it; clamp to 24 bits when writing a report block.
    pub const fn cumulative_lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwraps_across_the_wrap_with_reordering() {
        let mut u = SeqUnwrapper::new();
        let got: Vec<_> = [65533u16, 65535, 65534, 0, 2, 1, 65535, 3]
            .into_iter()
            .map(|s| u.unwrap(SeqNo(s)))
            .collect();
        let want = [65533, 65535, 65534, 65536, 65538, 65537, 65535, 65539];
        assert_eq!(got, want.map(Some));
        assert_eq!(u.highest(), Some(65539));
    }

    #[test]
    fn before_the_first_packet_is_none() {
        let mut u = SeqUnwrapper::new();
        assert_eq!(u.unwrap(SeqNo(2)), Some(2));
        assert_eq!(u.peek(SeqNo(65535)), None);
        assert_eq!(u.unwrap(SeqNo(65535)), None);
        assert_eq!(u.unwrap(SeqNo(0)), Some(0));
        assert_eq!(u.unwrap(SeqNo(3)), Some(3));
    }

    #[test]
    fn many_cycles_stay_monotonic() {
        let mut u = SeqUnwrapper::new();
        let mut seq = SeqNo(100);
        for i in 0..300_000u64 {
            assert_eq!(u.unwrap(seq), Some(100 + i));
            seq = seq.next();
        }
    }

    #[test]
    fn timestamps_unwrap() {
        let mut u = TimestampUnwrapper::new();
        assert_eq!(
            u.unwrap(RtpTimestamp(u32::MAX - 159)),
            Some(u64::from(u32::MAX) - 159)
        );
        assert_eq!(u.unwrap(RtpTimestamp(0)), Some(1 << 32));
        assert_eq!(
            u.unwrap(RtpTimestamp(u32::MAX - 319)),
            Some(u64::from(u32::MAX) - 319)
        );
        assert_eq!(u.unwrap(RtpTimestamp(160)), Some((1 << 32) + 160));
        assert_eq!(u.highest(), Some((1 << 32) + 160));
    }

    #[test]
    fn a1_probation_then_in_order() {
        let mut t = SeqTracker::new(SeqNo(1000));
        assert!(!t.is_valid());
        assert_eq!(t.expected(), 0);
        assert_eq!(t.update(SeqNo(1001)), SeqUpdate::InOrder(1001));
        assert!(t.is_valid());
        assert_eq!(t.base_seq(), SeqNo(1001));
        assert_eq!(t.update(SeqNo(1002)), SeqUpdate::InOrder(1002));
        assert_eq!(t.update(SeqNo(1005)), SeqUpdate::InOrder(1005));
        assert_eq!(t.update(SeqNo(1004)), SeqUpdate::Late(Some(1004)));
        assert_eq!(t.update(SeqNo(1004)), SeqUpdate::Late(Some(1004)));
        assert_eq!((t.received(), t.expected()), (5, 5));
        assert_eq!(t.cumulative_lost(), 0);
    }

    #[test]
    fn configurable_probation() {
        let mut t = SeqTracker::with_probation(SeqNo(10), 4);
        assert_eq!(t.update(SeqNo(11)), SeqUpdate::Probation);
        assert_eq!(t.update(SeqNo(13)), SeqUpdate::Probation);
        assert_eq!(t.update(SeqNo(14)), SeqUpdate::Probation);
        assert_eq!(t.update(SeqNo(15)), SeqUpdate::Probation);
        assert_eq!(t.update(SeqNo(16)), SeqUpdate::InOrder(16));
        assert_eq!(SeqTracker::with_probation(SeqNo(5), 1).received(), 1);
        assert!(SeqTracker::with_probation(SeqNo(5), 0).is_valid());
    }

    #[test]
    fn a1_probation_resets_on_gap() {
        let mut t = SeqTracker::new(SeqNo(10));
        assert_eq!(t.update(SeqNo(12)), SeqUpdate::Probation);
        assert_eq!(t.update(SeqNo(13)), SeqUpdate::InOrder(13));
    }

    #[test]
    fn a1_counts_cycles_and_loss() {
        let mut t = SeqTracker::new_validated(SeqNo(65530));
        for s in [65531u16, 65533, 65535, 1, 2] {
            assert!(matches!(t.update(SeqNo(s)), SeqUpdate::InOrder(_)));
        }
        assert_eq!(t.extended_max(), 65538);
        assert_eq!(t.update(SeqNo(65534)), SeqUpdate::Late(Some(65534)));
        // 65530..=65538 is 9 expected; received 7 (6 in order + 1 late).
        assert_eq!((t.expected(), t.received(), t.cumulative_lost()), (9, 7, 2));
        assert_eq!(t.extended_max() as u32, 0x0001_0002);
    }

    #[test]
    fn a1_jump_needs_confirmation() {
        let mut t = SeqTracker::new_validated(SeqNo(100));
        assert_eq!(t.update(SeqNo(20_000)), SeqUpdate::Jump);
        assert_eq!(t.update(SeqNo(101)), SeqUpdate::InOrder(101));
        assert_eq!(t.update(SeqNo(30_000)), SeqUpdate::Jump);
        assert_eq!(t.update(SeqNo(30_001)), SeqUpdate::Restarted(30_001));
        assert_eq!(
            (t.base_seq(), t.received(), t.expected()),
            (SeqNo(30_001), 1, 1)
        );
        assert_eq!(t.update(SeqNo(30_002)), SeqUpdate::InOrder(30_002));
    }

    #[test]
    fn a1_boundaries() {
        // Exactly MAX_DROPOUT ahead is a jump; one less is a gap.
        let mut t = SeqTracker::new_validated(SeqNo(0));
        assert_eq!(t.update(SeqNo(3000)), SeqUpdate::Jump);
        assert_eq!(t.update(SeqNo(2999)), SeqUpdate::InOrder(2999));
        // MAX_MISORDER behind is a jump; one less is late.
        let mut t = SeqTracker::new_validated(SeqNo(1000));
        assert_eq!(t.update(SeqNo(900)), SeqUpdate::Jump);
        assert_eq!(t.update(SeqNo(901)), SeqUpdate::Late(Some(901)));
        // A late packet before extended 0 has no extended value.
        let mut t = SeqTracker::new_validated(SeqNo(3));
        assert_eq!(t.update(SeqNo(65534)), SeqUpdate::Late(None));
    }
}
