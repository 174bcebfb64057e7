//! What can be wrong with a session configuration.

use super::*;

/// What is wrong with a session configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No codec was chosen.
    MissingCodec,
    /// The codec is not in the registry. Holds the names that are.
    UnknownCodec {
        /// The name asked for.
        name: String,
        /// The names registered.
        known: Vec<&'static str>,
    },
    /// The codec does not support the parameters (rate, channels, ptime, bitrate).
    InvalidCodecParams {
        /// The codec.
        codec: &'static str,
        /// What its descriptor said.
        error: CodecError,
    },
    /// A payload type above 127.
    PayloadTypeOutOfRange(u8),
    /// Payload types 72-76 collide with RTCP packet types (RFC 5761) and are never used.
    PayloadTypeReserved(u8),
    /// A payload type below 96 is a static assignment (RFC 3551) and must be the codec's own,
    /// at the rate and channels it is assigned for.
    StaticPayloadTypeMismatch {
        /// The payload type given.
        payload_type: u8,
        /// The codec.
        codec: &'static str,
        /// The codec's static type at these parameters, if it has one.
        expected: Option<u8>,
    },
    /// telephone-event needs a dynamic payload type (96-127).
    DtmfPayloadTypeNotDynamic(u8),
    /// The telephone-event payload type is the codec's.
    DtmfPayloadTypeConflict(u8),
    /// No local address was given.
    MissingLocalAddress,
    /// The remote address has port 0.
    RemotePortZero(SocketAddr),
    /// The remote address is 0.0.0.0 or `::` (old-style hold is a direction, not an address).
    RemoteAddressUnspecified(SocketAddr),
    /// Local and remote addresses are of different IP families (and the local one is not
    /// the dual-stack `[::]`).
    AddressFamilyMismatch {
        /// The local address.
        local: SocketAddr,
        /// The remote address.
        remote: SocketAddr,
    },
    /// The SRTP master key has the wrong length for the profile.
    SrtpKeyLength {
        /// The profile.
        profile: SrtpProfile,
        /// Bytes it needs.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// The SRTP master salt has the wrong length for the profile.
    SrtpSaltLength {
        /// The profile.
        profile: SrtpProfile,
        /// Bytes it needs.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// A required identity field (call-id, local URI, remote URI) is unset or blank.
    MissingField(&'static str),
    /// An identity field contains control characters.
    ControlCharacter(&'static str),
    /// The jitter buffer's minimum delay exceeds its maximum.
    JitterMinAboveMax {
        /// The minimum given.
        min_ms: u16,
        /// The maximum given.
        max_ms: u16,
    },
    /// The jitter buffer's maximum delay is shorter than one packet or above the limit.
    JitterMaxOutOfRange {
        /// The maximum given.
        max_ms: u16,
        /// The packet duration, the least it may be.
        ptime_ms: u16,
        /// The most it may be.
        limit_ms: u16,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingCodec => f.write_str("no codec chosen"),
            Self::UnknownCodec { name, known } => {
                write!(
                    f,
                    "codec '{name}' is not registered (known: {})",
                    known.join(", ")
                )
            }
            Self::InvalidCodecParams { codec, error } => write!(f, "{codec}: {error}"),
            Self::PayloadTypeOutOfRange(pt) => {
                write!(f, "payload type {pt} is out of range (0-127)")
            }
            Self::PayloadTypeReserved(pt) => {
                write!(f, "payload type {pt} is reserved (72-76 collide with RTCP)")
            }
            Self::StaticPayloadTypeMismatch {
                payload_type,
                codec,
                expected,
            } => {
                write!(f, "static payload type {payload_type} is not {codec}'s")?;
                match expected {
                    Some(e) => write!(f, " (use {e} or a dynamic type 96-127)"),
                    None => f.write_str(" (use a dynamic type 96-127)"),
                }
            }
            Self::DtmfPayloadTypeNotDynamic(pt) => {
                write!(
                    f,
                    "telephone-event payload type {pt} must be dynamic (96-127)"
                )
            }
            Self::DtmfPayloadTypeConflict(pt) => {
                write!(f, "telephone-event payload type {pt} is the codec's")
            }
            Self::MissingLocalAddress => f.write_str("no local address"),
            Self::RemotePortZero(a) => write!(f, "remote address {a} has port 0"),
            Self::RemoteAddressUnspecified(a) => {
                write!(f, "remote address {a} is unspecified")
            }
            Self::AddressFamilyMismatch { local, remote } => write!(
                f,
                "local address {local} and remote address {remote} are of different IP families"
            ),
            Self::SrtpKeyLength {
                profile,
                expected,
                got,
            } => write!(
                f,
                "{profile} needs a {expected}-byte master key, got {got} bytes"
            ),
            Self::SrtpSaltLength {
                profile,
                expected,
                got,
            } => write!(
                f,
                "{profile} needs a {expected}-byte master salt, got {got} bytes"
            ),
            Self::MissingField(field) => write!(f, "{field} is required"),
            Self::ControlCharacter(field) => write!(f, "{field} contains control characters"),
            Self::JitterMinAboveMax { min_ms, max_ms } => write!(
                f,
                "jitter buffer minimum delay {min_ms} ms exceeds the maximum {max_ms} ms"
            ),
            Self::JitterMaxOutOfRange {
                max_ms,
                ptime_ms,
                limit_ms,
            } => write!(
                f,
                "jitter buffer maximum delay {max_ms} ms is outside {ptime_ms}..={limit_ms} ms"
            ),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidCodecParams { error, .. } => Some(error),
            _ => None,
        }
    }
}
