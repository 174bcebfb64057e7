//! Private wrap-around helpers: extended (unwrapped) sequence numbers and timestamps, and a
//! bitmap of recently received sequence numbers for duplicate detection.
//!
//! Kept private to the jitter buffer on purpose; the packet layer has its own general helper.

/// Unwraps a `BITS`-bit counter (16 for sequence numbers, 32 for timestamps) into an `i64`
/// relative to the highest value seen, so values within half the range on either side of it
/// map to the nearest extended value.
#[derive(Debug, Clone, Copy)]
pub(super) struct Unwrapper<const BITS: u32> {
    highest: i64,
}

impl<const BITS: u32> Unwrapper<BITS> {
    const MASK: u64 = (1u64 << BITS) - 1;

    /// Starts at `first`, whose extended value is `first` itself.
    pub(super) fn new(first: u32) -> Self {
        Self {
            highest: i64::from(first) & Self::MASK as i64,
        }
    }

    /// The extended value of `v` without updating the reference.
    pub(super) fn peek(&self, v: u32) -> i64 {
        let v = u64::from(v) & Self::MASK;
        let h = (self.highest as u64) & Self::MASK;
        let diff = v.wrapping_sub(h) & Self::MASK;
        // Sign-extend the BITS-bit difference.
        let shift = 64 - BITS;
        let signed = ((diff << shift) as i64) >> shift;
        self.highest.saturating_add(signed)
    }

    /// The extended value of `v`; moves the reference forward if `v` is the newest.
    pub(super) fn unwrap(&mut self, v: u32) -> i64 {
        let e = self.peek(v);
        if e > self.highest {
            self.highest = e;
        }
        e
    }

    /// The highest extended value seen.
    pub(super) fn highest(&self) -> i64 {
        self.highest
    }
}

/// Which of the last 128 sequence numbers (below the highest) were received.
#[derive(Debug, Clone, Copy)]
pub(super) struct ReceivedWindow {
    highest: i64,
    /// Bit `i` set: `highest - i` was received.
    mask: u128,
}

/// What [`ReceivedWindow::record`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seen {
    /// First time.
    New,
    /// Received before.
    Duplicate,
    /// Older than the window: unknown.
    TooOld,
}

impl ReceivedWindow {
    /// Nothing received yet; `reference` is just below the first expected value.
    pub(super) fn new(reference: i64) -> Self {
        Self {
            highest: reference,
            mask: 0,
        }
    }

    /// Records `seq`, reporting whether it was seen already.
    pub(super) fn record(&mut self, seq: i64) -> Seen {
        if seq > self.highest {
            let shift = seq.saturating_sub(self.highest);
            self.mask = if shift >= 128 { 0 } else { self.mask << shift };
            self.mask |= 1;
            self.highest = seq;
            return Seen::New;
        }
        let back = self.highest.saturating_sub(seq);
        if back >= 128 {
            return Seen::TooOld;
        }
        let bit = 1u128 << back;
        if self.mask & bit != 0 {
            Seen::Duplicate
        } else {
            self.mask |= bit;
            Seen::New
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_unwraps_across_65535() {
        let mut u = Unwrapper::<16>::new(65534);
        assert_eq!(u.unwrap(65535), 65535);
        assert_eq!(u.unwrap(0), 65536);
        assert_eq!(u.unwrap(65533), 65533);
        assert_eq!(u.unwrap(5), 65541);
        assert_eq!(u.highest(), 65541);
    }

    #[test]
    fn ts_unwraps_across_2_32() {
        let mut u = Unwrapper::<32>::new(u32::MAX - 100);
        assert_eq!(u.unwrap(60), (1i64 << 32) + 60);
        assert_eq!(u.unwrap(u32::MAX - 200), i64::from(u32::MAX) - 200);
        assert_eq!(u.peek(u32::MAX), i64::from(u32::MAX));
    }

    #[test]
    fn received_window() {
        let mut w = ReceivedWindow::new(9);
        assert_eq!(w.record(10), Seen::New);
        assert_eq!(w.record(10), Seen::Duplicate);
        assert_eq!(w.record(12), Seen::New);
        assert_eq!(w.record(11), Seen::New);
        assert_eq!(w.record(11), Seen::Duplicate);
        assert_eq!(w.record(500), Seen::New);
        assert_eq!(w.record(12), Seen::TooOld);
        assert_eq!(w.record(499), Seen::New);
    }
}
