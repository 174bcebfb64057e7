//! # rtp-core
//!
//! The transport layer under media-core: RTP/RTCP packets, SRTP, the packet jitter buffer and a
//! sans-IO RTP session. This first milestone holds the identifier newtypes shared with
//! media-core.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod jitter;
pub mod netem;

pub use jitter::{
    JitterBuffer, JitterConfig, JitterConfigError, JitterPacket, JitterStats, Missing, MissingKind,
    NextPacket, Playout, PlayoutPacket,
};
pub use netem::{GilbertElliott, JitterDist, LossModel, Netem, NetemConfig, NetemStats, RateLimit};

/// An RTP synchronisation source identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ssrc(pub u32);

/// A 16-bit RTP sequence number (wraps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeqNo(pub u16);

impl SeqNo {
    /// The next sequence number, wrapping at 65535.
    pub const fn next(self) -> Self {
        Self(self.0.wrapping_add(1))
    }

    /// Signed distance from `self` to `other` in sequence space (positive if `other` is later).
    pub const fn distance_to(self, other: Self) -> i16 {
        other.0.wrapping_sub(self.0) as i16
    }
}

/// A 32-bit RTP timestamp in the payload's clock rate (wraps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RtpTimestamp(pub u32);

impl RtpTimestamp {
    /// This timestamp advanced by `ticks`, wrapping.
    pub const fn advanced(self, ticks: u32) -> Self {
        Self(self.0.wrapping_add(ticks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_wraps() {
        assert_eq!(SeqNo(65535).next(), SeqNo(0));
        assert_eq!(SeqNo(65530).distance_to(SeqNo(4)), 10);
        assert_eq!(SeqNo(4).distance_to(SeqNo(65530)), -10);
        assert_eq!(RtpTimestamp(u32::MAX).advanced(160), RtpTimestamp(159));
    }
}
