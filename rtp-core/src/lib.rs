//! # rtp-core
//!
//! The transport layer under media-core: RTP/RTCP packets, SRTP, the packet jitter buffer and a
//! sans-IO RTP session. This milestone holds the identifier newtypes shared with media-core and
//! the packet layer:
//!
//! - [`RtpPacket`] / [`RtpWriter`]: RTP (RFC 3550) parsed zero-copy from a datagram, and
//!   written into a caller buffer without allocating; header extensions per RFC 8285
//!   ([`HeaderExtension`], [`ExtensionWriter`]).
//! - [`rtcp`]: compound RTCP datagrams (reduced-size ones too), SR, RR, SDES, BYE, APP,
//!   NACK, PLI, FIR, REMB, transport-wide congestion control feedback and the XR VoIP
//!   metrics block, parsed and written.
//! - [`TelephoneEvent`] / [`EventSequence`]: the RFC 4733 payload and the packets a sender
//!   emits for one digit.
//! - [`SeqUnwrapper`], [`TimestampUnwrapper`], [`SeqTracker`]: 64-bit sequence numbers and
//!   timestamps, and the RFC 3550 A.1 source validator.
//! - [`srtp`]: SRTP/SRTCP (RFC 3711) with AES-CM/HMAC-SHA1 and AES-GCM (RFC 7714), in place
//!   and without allocating per packet, keyed from SDES `a=crypto` lines (RFC 4568).
//!
//! - [`session::RtpSession`]: a sans-IO RTP session (time passed in, datagrams in and out):
//!   source validation and receive statistics, RTCP scheduling and reports, SSRC collisions,
//!   symmetric-RTP latching, bandwidth estimation (loss-based, REMB, and GCC's delay-based
//!   controller on transport-wide congestion control feedback).
//! - `driver` (cargo feature `driver`, on by default): the tokio UDP task that runs sessions
//!   on real sockets.
//!
//! Every parser returns [`PacketError`] on malformed input and never panics; the `fuzz`
//! crate beside this one runs them on arbitrary bytes.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(feature = "driver")]
pub mod driver;
mod dtmf_event;
mod error;
mod extension;
pub mod rtcp;
mod rtp;
mod seq;
pub mod session;
pub mod srtp;

pub use dtmf_event::{
    dtmf_char, dtmf_event_code, EventPacket, EventSequence, TelephoneEvent, MAX_VOLUME,
};
pub use error::PacketError;
pub use extension::{
    ExtensionElement, ExtensionElements, ExtensionForm, ExtensionWriter, HeaderExtension,
    ONE_BYTE_PROFILE, TWO_BYTE_PROFILE,
};
pub use rtcp::{Compound, RtcpPacket, RtcpWrite};
pub use rtp::{
    Csrcs, RtpPacket, RtpWriter, MAX_CSRCS, MAX_PAYLOAD_TYPE, RTP_FIXED_HEADER_LEN, RTP_VERSION,
};
pub use seq::{SeqTracker, SeqUnwrapper, SeqUpdate, TimestampUnwrapper};

pub mod jitter;
pub mod netem;

pub use jitter::{
    JitterBuffer, JitterConfig, JitterConfigError, JitterPacket, JitterStats, Missing, MissingKind,
    NextPacket, Playout, PlayoutPacket,
};
pub use netem::{GilbertElliott, JitterDist, LossModel, Netem, NetemConfig, NetemStats, RateLimit};

/// An RTP synchronisation source identifier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ssrc(pub u32);

/// A 16-bit RTP sequence number (wraps).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
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
