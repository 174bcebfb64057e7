//! Packet index estimation (RFC 3711 §3.3.1, Appendix A) and the replay window (§3.3.2).

use super::{SrtpError, REPLAY_WINDOW};

/// The 48-bit SRTP packet index `2^16 * ROC + SEQ` a packet with sequence number `seq` most
/// likely has, given the highest index `highest` authenticated so far (whose low 16 bits are
/// the RFC's `s_l` and high 32 bits its `ROC`).
///
/// This is the RFC's guess of `v` among `ROC - 1`, `ROC` and `ROC + 1`: the index nearest to
/// `highest`. Errors: [`SrtpError::TooOld`] for a packet from before index 0,
/// [`SrtpError::IndexExhausted`] for a rollover counter past 2^32 - 1.
pub(crate) fn estimate_index(highest: u64, seq: u16) -> Result<u64, SrtpError> {
    let roc = highest >> 16;
    let s_l = highest & 0xFFFF;
    let seq = u64::from(seq);
    let v = if s_l < 0x8000 {
        if seq > s_l && seq - s_l > 0x8000 {
            roc.checked_sub(1).ok_or(SrtpError::TooOld)?
        } else {
            roc
        }
    } else if s_l - 0x8000 > seq {
        roc + 1
    } else {
        roc
    };
    if v > u64::from(u32::MAX) {
        return Err(SrtpError::IndexExhausted);
    }
    Ok((v << 16) | seq)
}

/// A sliding window over packet indexes: the highest index accepted and a bitmap of the
/// [`REPLAY_WINDOW`] indexes at and behind it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ReplayWindow {
    highest: Option<u64>,
    /// Bit `k` set: index `highest - k` was accepted.
    seen: u128,
}

const _: () = assert!(REPLAY_WINDOW as u32 == u128::BITS);

impl ReplayWindow {
    /// The highest index accepted, if any.
    pub(crate) const fn highest(&self) -> Option<u64> {
        self.highest
    }

    /// Whether `index` may be accepted: new, or inside the window and not yet seen.
    pub(crate) fn check(&self, index: u64) -> Result<(), SrtpError> {
        let Some(highest) = self.highest else {
            return Ok(());
        };
        if index > highest {
            return Ok(());
        }
        let behind = highest - index;
        if behind >= REPLAY_WINDOW {
            Err(SrtpError::TooOld)
        } else if self.seen >> behind & 1 == 1 {
            Err(SrtpError::Replayed)
        } else {
            Ok(())
        }
    }

    /// Records `index` as accepted (after [`check`](Self::check) and authentication).
    pub(crate) fn accept(&mut self, index: u64) {
        match self.highest {
            Some(highest) if index <= highest => {
                let behind = highest - index;
                if behind < REPLAY_WINDOW {
                    self.seen |= 1 << behind;
                }
            }
            Some(highest) => {
                let ahead = index - highest;
                self.seen = if ahead >= REPLAY_WINDOW {
                    0
                } else {
                    self.seen << ahead
                };
                self.seen |= 1;
                self.highest = Some(index);
            }
            None => {
                self.seen = 1;
                self.highest = Some(index);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_across_the_wrap() {
        // ROC 0, s_l 65535: the next packet (seq 0) is ROC 1.
        assert_eq!(estimate_index(65535, 0), Ok(65536));
        assert_eq!(estimate_index(65535, 65534), Ok(65534));
        // ROC 1, s_l 2: a late packet with seq 65533 belongs to ROC 0.
        assert_eq!(estimate_index(65538, 65533), Ok(65533));
        assert_eq!(estimate_index(65538, 3), Ok(65539));
        // The boundaries of the guess: exactly half the space either way.
        assert_eq!(estimate_index(100, 100 + 0x8000), Ok(100 + 0x8000));
        assert_eq!(estimate_index(100, 101 + 0x8000), Err(SrtpError::TooOld));
        assert_eq!(
            estimate_index((5 << 16) | 100, 101 + 0x8000),
            Ok((4 << 16) | (101 + 0x8000))
        );
        assert_eq!(estimate_index(0x9000, 0x1000), Ok(0x9000 - 0x8000));
        assert_eq!(estimate_index(0x9000, 0x0FFF), Ok(0x1_0FFF));
        // Before index 0, and past ROC 2^32 - 1.
        assert_eq!(estimate_index(10, 65000), Err(SrtpError::TooOld));
        assert_eq!(
            estimate_index((u64::from(u32::MAX) << 16) | 65000, 5),
            Err(SrtpError::IndexExhausted)
        );
        assert_eq!(
            estimate_index((u64::from(u32::MAX) << 16) | 65000, 65001),
            Ok((u64::from(u32::MAX) << 16) | 65001)
        );
    }

    #[test]
    fn window_accepts_new_and_late_once() {
        let mut w = ReplayWindow::default();
        assert_eq!(w.check(1000), Ok(()));
        w.accept(1000);
        assert_eq!(w.check(1000), Err(SrtpError::Replayed));
        assert_eq!(w.check(1001), Ok(()));
        assert_eq!(w.check(999), Ok(()));
        w.accept(999);
        assert_eq!(w.check(999), Err(SrtpError::Replayed));
        // The window's far edge: 127 behind is inside, 128 behind is too old.
        assert_eq!(w.check(1000 - 127), Ok(()));
        assert_eq!(w.check(1000 - 128), Err(SrtpError::TooOld));
        w.accept(1000 - 127);
        assert_eq!(w.check(1000 - 127), Err(SrtpError::Replayed));
        // A jump keeps what is still inside the window.
        w.accept(1100);
        assert_eq!(w.highest(), Some(1100));
        assert_eq!(w.check(1000), Err(SrtpError::Replayed));
        assert_eq!(w.check(1001), Ok(()));
        assert_eq!(w.check(999), Err(SrtpError::Replayed));
        assert_eq!(w.check(1100 - 127), Ok(()));
        assert_eq!(w.check(1100 - 128), Err(SrtpError::TooOld));
        // A jump past the whole window forgets it.
        w.accept(5000);
        assert_eq!(w.check(5000 - 127), Ok(()));
        assert_eq!(w.check(5000), Err(SrtpError::Replayed));
        // Accepting something already too old changes nothing.
        w.accept(1);
        assert_eq!(w.highest(), Some(5000));
    }

    #[test]
    fn window_edge_shift_by_exactly_its_size() {
        let mut w = ReplayWindow::default();
        w.accept(0);
        w.accept(REPLAY_WINDOW);
        assert_eq!(w.check(0), Err(SrtpError::TooOld));
        assert_eq!(w.check(1), Ok(()));
        w.accept(REPLAY_WINDOW + REPLAY_WINDOW - 1);
        assert_eq!(w.check(REPLAY_WINDOW), Err(SrtpError::Replayed));
    }
}
