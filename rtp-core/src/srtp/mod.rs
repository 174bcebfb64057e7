//! SRTP and SRTCP (RFC 3711) with the AES-CM/HMAC-SHA1 and AEAD AES-GCM (RFC 7714)
//! transforms, keyed from SDES `a=crypto` attributes (RFC 4568).
//!
//! An [`SrtpSession`] is one direction of one master key: a sender protects with one, a
//! receiver unprotects with another made from the same key. It derives the six session keys
//! once (RFC 3711 §4.3, key derivation rate 0), and keeps per-SSRC state created on a
//! stream's first packet: the rollover counter and index estimation of §3.3.1, a replay
//! window of [`REPLAY_WINDOW`] packets for SRTP and for SRTCP (§3.3.2), and the sender's
//! SRTCP index. The number of streams is bounded ([`DEFAULT_MAX_STREAMS`]); the least
//! recently used one is evicted, and that is counted in [`SrtpStats`].
//!
//! Packets are transformed in place in the caller's buffer; nothing allocates per packet.
//! Malformed input, failed authentication and replays are errors ([`SrtpError`]), counted,
//! never panics.
//!
//! ```
//! use rtp_core::srtp::{CryptoAttribute, SrtpProfile, SrtpSession};
//! use rtp_core::{RtpPacket, RtpTimestamp, RtpWriter, SeqNo, Ssrc};
//!
//! // The offer's key, from the caller's random source (here a fixed pattern).
//! let mut fill = |buf: &mut [u8]| buf.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
//! let offer = CryptoAttribute::generate(1, SrtpProfile::AesCm128HmacSha1_80, &mut fill);
//! let line = offer.to_string(); // "1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQF..."
//!
//! let mut sender = offer.session()?;
//! let mut receiver = CryptoAttribute::parse(&line)?.session()?;
//!
//! let payload = [0xFFu8; 160];
//! let mut buf = [0u8; 1500];
//! let len = RtpWriter::new(0, SeqNo(1), RtpTimestamp(160), Ssrc(7), &payload).write(&mut buf)?;
//! let srtp_len = sender.protect_rtp(&mut buf, len)?;
//! assert_eq!(srtp_len, len + 10);
//!
//! let rtp_len = receiver.unprotect_rtp(&mut buf[..srtp_len])?;
//! assert_eq!(RtpPacket::parse(&buf[..rtp_len])?.payload(), &payload[..]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod context;
mod crypto_attr;
mod kdf;
mod replay;
mod transform;

#[cfg(test)]
mod tests;

pub use context::{SrtpSession, SrtpStats};
pub use crypto_attr::{CryptoAttribute, SdesError};

use crate::PacketError;
use std::fmt;

/// Packets the replay window of each stream remembers behind the highest index received.
pub const REPLAY_WINDOW: u64 = 128;

/// Streams (SSRCs) a session keeps state for unless told otherwise.
pub const DEFAULT_MAX_STREAMS: usize = 64;

/// Master key length of every supported profile (AES-128).
pub const MASTER_KEY_LEN: usize = 16;

/// The largest SRTCP index (31 bits); the key must be replaced before it is reached.
pub const MAX_SRTCP_INDEX: u32 = 0x7FFF_FFFF;

/// An SRTP protection profile: cipher, authentication and their parameters.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrtpProfile {
    /// AES-128 counter mode, HMAC-SHA1 tag of 80 bits (RFC 3711's default; RFC 4568).
    AesCm128HmacSha1_80,
    /// AES-128 counter mode, HMAC-SHA1 tag of 32 bits on SRTP and 80 bits on SRTCP
    /// (RFC 4568 §6.2.2).
    AesCm128HmacSha1_32,
    /// AES-128 in Galois/Counter Mode with a 16-byte tag (RFC 7714).
    AeadAes128Gcm,
}

impl SrtpProfile {
    /// Every supported profile, strongest first.
    pub const ALL: [Self; 3] = [
        Self::AeadAes128Gcm,
        Self::AesCm128HmacSha1_80,
        Self::AesCm128HmacSha1_32,
    ];

    /// The crypto-suite name of SDES (RFC 4568 §6.2, RFC 7714 §14.1).
    pub const fn sdes_name(self) -> &'static str {
        match self {
            Self::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Self::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            Self::AeadAes128Gcm => "AEAD_AES_128_GCM",
        }
    }

    /// The profile named by an SDES crypto-suite (case-insensitive); `None` when the suite is
    /// not supported.
    pub fn from_sdes_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.sdes_name().eq_ignore_ascii_case(name))
    }

    /// Master key length in bytes (16).
    pub const fn master_key_len(self) -> usize {
        MASTER_KEY_LEN
    }

    /// Master salt length in bytes: 14 for AES-CM, 12 for AES-GCM.
    pub const fn master_salt_len(self) -> usize {
        match self {
            Self::AeadAes128Gcm => 12,
            _ => 14,
        }
    }

    /// Authentication tag length of SRTP packets.
    pub const fn rtp_tag_len(self) -> usize {
        match self {
            Self::AesCm128HmacSha1_80 => 10,
            Self::AesCm128HmacSha1_32 => 4,
            Self::AeadAes128Gcm => 16,
        }
    }

    /// Authentication tag length of SRTCP packets.
    pub const fn rtcp_tag_len(self) -> usize {
        match self {
            Self::AeadAes128Gcm => 16,
            _ => 10,
        }
    }

    /// Bytes protecting an RTP packet adds (the tag): the room a caller buffer needs.
    pub const fn rtp_overhead(self) -> usize {
        self.rtp_tag_len()
    }

    /// Bytes protecting an RTCP packet adds (E flag and SRTCP index, and the tag).
    pub const fn rtcp_overhead(self) -> usize {
        4 + self.rtcp_tag_len()
    }

    /// Whether the profile is an AEAD one (RFC 7714).
    pub const fn is_aead(self) -> bool {
        matches!(self, Self::AeadAes128Gcm)
    }
}

impl fmt::Display for SrtpProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sdes_name())
    }
}

/// Why a packet could not be protected or unprotected, or a session not created.
///
/// The enum is `#[non_exhaustive]`: match with a wildcard arm. A receiver drops the packet on
/// any of these; [`SrtpSession::stats`] counts them.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrtpError {
    /// The packet is shorter than its header plus what SRTP adds (tag, SRTCP index).
    TooShort,
    /// The RTP or RTCP header is malformed (the packet layer's error is carried).
    Malformed(PacketError),
    /// The caller buffer has no room for the tag (and SRTCP index); `needed` bytes are.
    BufferTooSmall {
        /// Bytes the protected packet needs.
        needed: usize,
    },
    /// The master key has the wrong length for the profile.
    BadKeyLength {
        /// The profile's master key length.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// The master salt has the wrong length for the profile.
    BadSaltLength {
        /// The profile's master salt length.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// The authentication tag does not match: the packet was altered, or another key made it.
    AuthFailed,
    /// The packet's index was already received (or, protecting, already sent: reusing an
    /// index would reuse keystream).
    Replayed,
    /// The packet's index lies behind the replay window; it cannot be told from a replay.
    TooOld,
    /// The stream's packet index space is used up (2^48 SRTP packets or 2^31 SRTCP packets):
    /// the master key must be replaced.
    IndexExhausted,
}

impl fmt::Display for SrtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort => f.write_str("SRTP packet too short"),
            Self::Malformed(e) => write!(f, "malformed packet header: {e}"),
            Self::BufferTooSmall { needed } => {
                write!(
                    f,
                    "buffer too small for the protected packet ({needed} bytes needed)"
                )
            }
            Self::BadKeyLength { expected, actual } => {
                write!(
                    f,
                    "master key is {actual} bytes, the profile needs {expected}"
                )
            }
            Self::BadSaltLength { expected, actual } => {
                write!(
                    f,
                    "master salt is {actual} bytes, the profile needs {expected}"
                )
            }
            Self::AuthFailed => f.write_str("SRTP authentication failed"),
            Self::Replayed => f.write_str("SRTP packet replayed"),
            Self::TooOld => f.write_str("SRTP packet older than the replay window"),
            Self::IndexExhausted => f.write_str("SRTP packet index exhausted: rekey"),
        }
    }
}

impl std::error::Error for SrtpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Malformed(e) => Some(e),
            _ => None,
        }
    }
}

impl From<PacketError> for SrtpError {
    fn from(e: PacketError) -> Self {
        Self::Malformed(e)
    }
}
