//! SDP media negotiation for a signalling layer: RFC 4566 session descriptions, RFC 3264
//! offer/answer, RFC 3551 static payload types, RFC 4733 telephone events and RFC 4568 SDES
//! `a=crypto` lines.
//!
//! The signalling layer hands us SDP bytes from the network and gets back typed results and SDP
//! text to send; it never needs to look inside either. Three entry points:
//!
//! - [`parse_remote`]: any SDP (offer or answer) to a [`RemoteSdp`], one [`MediaSection`] per
//!   m-line, each audio one parsed into a [`RemoteMedia`] or the [`SdpError`] that makes it
//!   unusable. It takes raw bytes and never panics, so a fuzz target is one line:
//!   `let _ = media_core::integration::sdp::parse_remote(data);`
//! - [`Negotiator::answer`]: answers a remote offer, returning the [`NegotiatedMedia`] to set the
//!   call up with and the answer SDP.
//! - [`Negotiator::offer`] and [`Negotiator::process_answer`]: the other side of the exchange.
//!
//! One audio stream per call: the first acceptable audio m-line is used and every other m-line is
//! answered with port 0, with the reason in [`NegotiatedMedia::rejected`].
//!
//! Text parsing and writing is done by the `sdp-types` crate; this module adds the media-level
//! meaning, limits on size ([`MAX_SDP_BYTES`], [`MAX_MEDIA`], [`MAX_FORMATS`]) and line numbers
//! for errors found after the text has parsed.
//!
//! Nothing here has IO, a clock or a random number generator: SRTP keys come from a random source
//! the caller passes in (`&mut dyn FnMut(&mut [u8])`, to be filled with cryptographically secure
//! random bytes).
//!
//! ```
//! use media_core::codec::CodecRegistry;
//! use media_core::integration::sdp::{LocalConfig, Negotiator};
//!
//! let registry = CodecRegistry::with_builtin();
//! let config = LocalConfig::new("192.0.2.10".parse().unwrap(), 40000);
//! let negotiator = Negotiator::new(&registry, config).unwrap();
//! let offer = "v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\n\
//!              t=0 0\r\nm=audio 5004 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
//! // Plain RTP needs no keys; the random source is only called for SRTP.
//! let (media, answer) = negotiator.answer(offer.as_bytes(), &mut |_: &mut [u8]| {}).unwrap();
//! assert_eq!(media.codec.name, "pcma");
//! assert!(answer.contains("m=audio 40000 RTP/AVP 8 101"));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use sdp_types as sdpt;

use crate::codec::{CodecDescriptor, CodecParams, CodecRegistry, PayloadType, SdpCodec};

/// The largest SDP we parse, in bytes.
pub const MAX_SDP_BYTES: usize = 64 * 1024;
/// The most m-lines an SDP may have.
pub const MAX_MEDIA: usize = 64;
/// The most formats (payload types) one m-line may list.
pub const MAX_FORMATS: usize = 128;

/// The longest base64 key-and-salt we decode (30 bytes encode to 40 characters).
const MAX_KEY_B64: usize = 64;
/// Packet times and maximum packet times above this many milliseconds are rejected.
const MAX_PTIME_MS: u32 = 1000;

/// Base64 as RFC 4568 uses it; some stacks leave the padding off, so accept it either way.
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// What was wrong with an SDP or with a negotiation. Line numbers are 1-based lines of the SDP
/// the error is about (0 where no line can be named).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpError {
    /// The SDP is larger than [`MAX_SDP_BYTES`].
    TooLarge {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field is not valid UTF-8.
    NotUtf8 {
        /// The line.
        line: usize,
        /// Which field.
        field: &'static str,
    },
    /// The text is not SDP: a malformed line, a missing `v=0`, a duplicated session-level line.
    Syntax {
        /// The line.
        line: usize,
        /// What the parser said.
        reason: String,
    },
    /// More m-lines than [`MAX_MEDIA`].
    TooManyMedia {
        /// How many there were.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// An m-line lists more formats than [`MAX_FORMATS`].
    TooManyFormats {
        /// The m-line.
        line: usize,
        /// How many it lists.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// An RTP m-line lists a format that is not a payload type 0-127, or lists one twice.
    BadFormat {
        /// The m-line.
        line: usize,
        /// The format as written.
        token: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A port (of an m-line or `a=rtcp`) is not a number from 0 to 65535.
    BadPort {
        /// The line.
        line: usize,
        /// The line's text (shortened).
        value: String,
    },
    /// A connection address we cannot use: not `IN IP4`/`IN IP6` with a literal address of that
    /// family (host names are not resolved here).
    BadAddress {
        /// The line.
        line: usize,
        /// The address as written.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An audio m-line with a port has no `c=` at media or session level.
    MissingConnection {
        /// The m-line.
        line: usize,
    },
    /// The m-line's transport protocol is not RTP/AVP, RTP/AVPF, RTP/SAVP or RTP/SAVPF.
    UnsupportedTransport {
        /// The m-line.
        line: usize,
        /// The protocol as written.
        proto: String,
        /// Why we cannot use it.
        reason: &'static str,
    },
    /// An attribute we interpret (rtpmap, fmtp, ptime, maxptime, rtcp, direction) is malformed,
    /// out of range, or contradicts another.
    BadAttribute {
        /// The line.
        line: usize,
        /// The attribute name.
        name: &'static str,
        /// Its value as written (shortened).
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An `a=crypto` line is malformed, has a suite we do not support, or a key of the wrong
    /// length for its suite.
    BadCrypto {
        /// The line.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The m-line is not audio (video, application, ...): we answer it with port 0.
    NotAudio {
        /// The m-line.
        line: usize,
        /// Its media type.
        media: String,
    },
    /// The m-line has port 0: the stream is disabled (in an offer) or was rejected (in an
    /// answer).
    MediaDisabled {
        /// The m-line.
        line: usize,
    },
    /// None of the offered codecs is one we have (or one the local configuration allows).
    NoCommonCodec {
        /// The m-line.
        line: usize,
        /// The offered formats, as `PT ENCODING/CLOCK[/CHANNELS]` (or `PT ?` for a dynamic type
        /// without rtpmap).
        offered: Vec<String>,
    },
    /// The offer is plain RTP and the local configuration requires SRTP.
    SrtpRequired {
        /// The m-line.
        line: usize,
    },
    /// The offer is SRTP and the local configuration has SRTP disabled.
    SrtpDisabled {
        /// The m-line.
        line: usize,
    },
    /// An SRTP m-line has no `a=crypto` line with a suite we accept.
    NoAcceptableCrypto {
        /// The m-line.
        line: usize,
    },
    /// A further audio m-line: we use one audio stream per call.
    ExtraAudioStream {
        /// The m-line.
        line: usize,
    },
    /// No m-line could be accepted. From [`Negotiator::answer`], `answer` is the answer SDP that
    /// rejects every m-line with port 0, for a signalling layer that sends one rather than
    /// refusing the offer (SIP's usual reply is 488 Not Acceptable Here); from
    /// [`Negotiator::process_answer`] (the remote rejected everything) it is empty.
    NoAcceptableMedia {
        /// Every m-line and why it was rejected.
        rejected: Vec<Rejection>,
        /// The all-rejecting answer SDP.
        answer: String,
    },
    /// An answer does not fit the offer it answers (RFC 3264 section 6).
    AnswerMismatch {
        /// The line of the answer (0 for the whole answer).
        line: usize,
        /// What does not fit.
        reason: String,
    },
    /// The local configuration cannot be used.
    InvalidConfig {
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len, max } => write!(f, "SDP too large: {len} bytes (max {max})"),
            Self::NotUtf8 { line, field } => write!(f, "line {line}: {field} is not UTF-8"),
            Self::Syntax { line, reason } => write!(f, "line {line}: malformed SDP: {reason}"),
            Self::TooManyMedia { count, max } => {
                write!(f, "too many m-lines: {count} (max {max})")
            }
            Self::TooManyFormats { line, count, max } => {
                write!(f, "line {line}: too many formats: {count} (max {max})")
            }
            Self::BadFormat {
                line,
                token,
                reason,
            } => write!(f, "line {line}: format '{token}': {reason}"),
            Self::BadPort { line, value } => write!(f, "line {line}: bad port in '{value}'"),
            Self::BadAddress {
                line,
                value,
                reason,
            } => write!(f, "line {line}: connection address '{value}': {reason}"),
            Self::MissingConnection { line } => {
                write!(f, "line {line}: no c= line for this m-line or the session")
            }
            Self::UnsupportedTransport {
                line,
                proto,
                reason,
            } => write!(f, "line {line}: transport '{proto}': {reason}"),
            Self::BadAttribute {
                line,
                name,
                value,
                reason,
            } => write!(f, "line {line}: a={name}:{value}: {reason}"),
            Self::BadCrypto { line, reason } => write!(f, "line {line}: a=crypto: {reason}"),
            Self::NotAudio { line, media } => {
                write!(f, "line {line}: '{media}' stream: only audio is supported")
            }
            Self::MediaDisabled { line } => write!(f, "line {line}: stream disabled (port 0)"),
            Self::NoCommonCodec { line, offered } => write!(
                f,
                "line {line}: no supported codec among: {}",
                offered.join(", ")
            ),
            Self::SrtpRequired { line } => {
                write!(f, "line {line}: plain RTP offered but SRTP is required")
            }
            Self::SrtpDisabled { line } => {
                write!(f, "line {line}: SRTP offered but SRTP is disabled")
            }
            Self::NoAcceptableCrypto { line } => {
                write!(f, "line {line}: no a=crypto line with a supported suite")
            }
            Self::ExtraAudioStream { line } => {
                write!(
                    f,
                    "line {line}: only one audio stream per call is supported"
                )
            }
            Self::NoAcceptableMedia { rejected, .. } => {
                write!(f, "no acceptable media stream")?;
                for r in rejected {
                    write!(f, "; m-line {} ({}): {}", r.index, r.media, r.reason)?;
                }
                Ok(())
            }
            Self::AnswerMismatch { line, reason } => {
                write!(f, "line {line}: answer does not fit the offer: {reason}")
            }
            Self::InvalidConfig { reason } => write!(f, "invalid SDP configuration: {reason}"),
        }
    }
}

impl std::error::Error for SdpError {}

/// An m-line that was answered with port 0 (or that the answerer rejected), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The m-line's position in the SDP, from 0.
    pub index: usize,
    /// Its media type (`audio`, `video`, ...).
    pub media: String,
    /// Why it was rejected.
    pub reason: SdpError,
}

fn shorten(s: &str) -> String {
    const MAX: usize = 80;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// The text of line `n` (1-based) of `data`, lossily decoded and shortened.
fn raw_line(data: &[u8], n: usize) -> String {
    let line = data
        .split(|&b| b == b'\n')
        .nth(n.saturating_sub(1))
        .unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    shorten(&String::from_utf8_lossy(line))
}

fn parser_error(data: &[u8], e: &sdpt::ParserError) -> SdpError {
    use sdpt::ParserError as P;
    #[allow(deprecated)]
    let line = match *e {
        P::UnexpectedLine(l, _)
        | P::InvalidLineFormat(l, _)
        | P::InvalidFieldEncoding(l, _)
        | P::InvalidFieldFormat(l, _)
        | P::MissingField(l, _)
        | P::FieldTrailingData(l, _)
        | P::InvalidVersion(l, _)
        | P::MultipleVersions(l)
        | P::MultipleOrigins(l)
        | P::MultipleSessionNames(l)
        | P::MultipleSessionDescription(l)
        | P::MultipleUris(l)
        | P::MultipleConnections(l)
        | P::MultipleTimeZones(l)
        | P::MultipleMediaTitles(l)
        | P::MultipleKeys(l)
        | P::RepeatWithoutTime(l) => l,
        P::NoVersion => 1,
        _ => 0,
    };
    match *e {
        P::InvalidFieldEncoding(line, field) => SdpError::NotUtf8 { line, field },
        P::InvalidFieldFormat(line, "Media port" | "Media num-ports") => SdpError::BadPort {
            line,
            value: raw_line(data, line),
        },
        _ => SdpError::Syntax {
            line,
            reason: e.to_string(),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Small types: transport, direction, telephone events, SRTP
// ---------------------------------------------------------------------------------------------

/// The RTP transport profiles we carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// `RTP/AVP` (RFC 3551).
    RtpAvp,
    /// `RTP/AVPF` (RFC 4585); we send no RTCP feedback, which the profile allows.
    RtpAvpf,
    /// `RTP/SAVP` (RFC 3711), keyed by SDES `a=crypto`.
    RtpSavp,
    /// `RTP/SAVPF` (RFC 5124), keyed by SDES `a=crypto`.
    RtpSavpf,
}

impl Transport {
    /// The protocol as written on the m-line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RtpAvp => "RTP/AVP",
            Self::RtpAvpf => "RTP/AVPF",
            Self::RtpSavp => "RTP/SAVP",
            Self::RtpSavpf => "RTP/SAVPF",
        }
    }

    /// Whether the profile is SRTP.
    pub fn is_secure(self) -> bool {
        matches!(self, Self::RtpSavp | Self::RtpSavpf)
    }

    /// The profile an m-line names (case-insensitive), or why we cannot carry it.
    pub fn parse(proto: &str) -> Result<Self, &'static str> {
        const KNOWN: [Transport; 4] = [
            Transport::RtpAvp,
            Transport::RtpAvpf,
            Transport::RtpSavp,
            Transport::RtpSavpf,
        ];
        if let Some(t) = KNOWN
            .iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(proto))
        {
            return Ok(*t);
        }
        let upper = proto.to_ascii_uppercase();
        Err(if upper.contains("TLS") || upper.contains("DTLS") {
            "DTLS-SRTP is not supported (yet); only SDES a=crypto keying"
        } else if upper.contains("TCP") {
            "RTP over TCP is not supported"
        } else {
            "not an RTP profile we support (RTP/AVP, RTP/AVPF, RTP/SAVP, RTP/SAVPF)"
        })
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The direction of a media stream, from the point of view of whoever wrote the SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Sends and receives.
    #[default]
    SendRecv,
    /// Only sends.
    SendOnly,
    /// Only receives.
    RecvOnly,
    /// Neither.
    Inactive,
}

impl Direction {
    fn from_flags(send: bool, recv: bool) -> Self {
        match (send, recv) {
            (true, true) => Self::SendRecv,
            (true, false) => Self::SendOnly,
            (false, true) => Self::RecvOnly,
            (false, false) => Self::Inactive,
        }
    }

    /// The attribute name (`sendrecv`, `sendonly`, `recvonly`, `inactive`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// The direction an attribute name means (case-insensitive).
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::SendRecv,
            Self::SendOnly,
            Self::RecvOnly,
            Self::Inactive,
        ]
        .into_iter()
        .find(|d| d.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether media is sent.
    pub fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// Whether media is received.
    pub fn receives(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }

    /// The same stream seen from the other end: sendonly becomes recvonly and back.
    pub fn reversed(self) -> Self {
        Self::from_flags(self.receives(), self.sends())
    }

    /// What both allow.
    pub fn intersect(self, other: Self) -> Self {
        Self::from_flags(
            self.sends() && other.sends(),
            self.receives() && other.receives(),
        )
    }

    /// Whether everything `self` does, `other` allows.
    pub fn within(self, other: Self) -> bool {
        (!self.sends() || other.sends()) && (!self.receives() || other.receives())
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of RFC 4733 event codes (0-255), as an `a=fmtp` line of telephone-event lists them
/// (`0-15,66,70`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EventSet([u64; 4]);

impl EventSet {
    /// The DTMF events 0-15 (digits, `*`, `#`, A-D): what we send and understand.
    pub const DTMF: EventSet = EventSet([0xffff, 0, 0, 0]);

    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an event code.
    pub fn insert(&mut self, event: u8) {
        self.0[usize::from(event >> 6)] |= 1u64 << (event & 63);
    }

    /// Whether `event` is in the set.
    pub fn contains(&self, event: u8) -> bool {
        self.0[usize::from(event >> 6)] & (1u64 << (event & 63)) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    /// The events in both sets.
    pub fn intersection(&self, other: &Self) -> Self {
        let mut out = *self;
        for (o, b) in out.0.iter_mut().zip(other.0) {
            *o &= b;
        }
        out
    }

    /// Parses an fmtp event list: comma-separated codes and inclusive ranges, each 0-255.
    pub fn parse(s: &str) -> Option<Self> {
        let mut set = Self::new();
        for item in s.split(',') {
            let item = item.trim();
            let (lo, hi) = match item.split_once('-') {
                Some((a, b)) => (a.trim().parse::<u8>().ok()?, b.trim().parse::<u8>().ok()?),
                None => {
                    let v = item.parse::<u8>().ok()?;
                    (v, v)
                }
            };
            if lo > hi {
                return None;
            }
            for e in lo..=hi {
                set.insert(e);
            }
        }
        Some(set)
    }
}

impl fmt::Display for EventSet {
    /// Writes the set as an fmtp event list, ranges collapsed (`0-15,66`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut e: u16 = 0;
        while e < 256 {
            if !self.contains(e as u8) {
                e += 1;
                continue;
            }
            let start = e;
            while e + 1 < 256 && self.contains((e + 1) as u8) {
                e += 1;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if start == e {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}-{e}")?;
            }
            e += 1;
        }
        Ok(())
    }
}

impl fmt::Debug for EventSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventSet({self})")
    }
}

/// The SRTP crypto suites we accept in `a=crypto` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrtpSuite {
    /// `AES_CM_128_HMAC_SHA1_80` (RFC 4568): 16-byte key, 14-byte salt, 80-bit tag.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32` (RFC 4568): 16-byte key, 14-byte salt, 32-bit tag.
    AesCm128HmacSha1_32,
    /// `AEAD_AES_128_GCM` (RFC 7714): 16-byte key, 12-byte salt.
    AeadAes128Gcm,
}

impl SrtpSuite {
    /// The suite's name in `a=crypto`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Self::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            Self::AeadAes128Gcm => "AEAD_AES_128_GCM",
        }
    }

    /// The suite a name means (case-insensitive), if we support it.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::AesCm128HmacSha1_80,
            Self::AesCm128HmacSha1_32,
            Self::AeadAes128Gcm,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }

    /// Master key length in bytes.
    pub fn key_len(self) -> usize {
        16
    }

    /// Master salt length in bytes.
    pub fn salt_len(self) -> usize {
        match self {
            Self::AesCm128HmacSha1_80 | Self::AesCm128HmacSha1_32 => 14,
            Self::AeadAes128Gcm => 12,
        }
    }

    /// Length of the key and salt together, as carried base64-encoded in `inline:`.
    pub fn key_salt_len(self) -> usize {
        self.key_len() + self.salt_len()
    }
}

impl fmt::Display for SrtpSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Master Key Identifier: its value and the length in bytes of the MKI field in each packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mki {
    /// The MKI value.
    pub value: u32,
    /// Bytes the MKI takes in each SRTP packet (1-128).
    pub length: u8,
}

/// One SDES master key (`inline:KEY||SALT|lifetime|MKI:length`), decoded. `Debug` does not show
/// the key.
#[derive(Clone, PartialEq, Eq)]
pub struct SdesKey {
    /// The master key.
    pub master_key: Vec<u8>,
    /// The master salt.
    pub master_salt: Vec<u8>,
    /// The key's lifetime in packets, if given.
    pub lifetime: Option<u64>,
    /// The MKI, if given.
    pub mki: Option<Mki>,
}

impl SdesKey {
    /// The master key followed by the master salt, as SRTP libraries take them.
    pub fn key_salt(&self) -> Vec<u8> {
        let mut v = self.master_key.clone();
        v.extend_from_slice(&self.master_salt);
        v
    }

    fn from_key_salt(suite: SrtpSuite, key_salt: &[u8]) -> Option<Self> {
        if key_salt.len() != suite.key_salt_len() {
            return None;
        }
        let (key, salt) = key_salt.split_at(suite.key_len());
        Some(Self {
            master_key: key.to_vec(),
            master_salt: salt.to_vec(),
            lifetime: None,
            mki: None,
        })
    }

    fn write(&self, out: &mut String) {
        out.push_str("inline:");
        out.push_str(&B64.encode(self.key_salt()));
        if let Some(l) = self.lifetime {
            if l.is_power_of_two() {
                out.push_str(&format!("|2^{}", l.trailing_zeros()));
            } else {
                out.push_str(&format!("|{l}"));
            }
        }
        if let Some(m) = self.mki {
            out.push_str(&format!("|{}:{}", m.value, m.length));
        }
    }
}

impl fmt::Debug for SdesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SdesKey")
            .field(
                "master_key",
                &format_args!("<{} bytes>", self.master_key.len()),
            )
            .field(
                "master_salt",
                &format_args!("<{} bytes>", self.master_salt.len()),
            )
            .field("lifetime", &self.lifetime)
            .field("mki", &self.mki)
            .finish()
    }
}

/// An `a=crypto` line (RFC 4568) with a supported suite, its keys decoded and length-checked.
/// Turning it into SRTP contexts is rtp-core's work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdesCrypto {
    /// The tag that pairs an answer's line with the offer's.
    pub tag: u32,
    /// The crypto suite.
    pub suite: SrtpSuite,
    /// The master keys (usually one; several only with MKIs).
    pub keys: Vec<SdesKey>,
    /// Session parameters (`KDR=1`, `UNENCRYPTED_SRTCP`, ...) as written.
    pub session_params: Vec<String>,
}

impl SdesCrypto {
    /// A line with one fresh key for `suite`, filled from `random`.
    pub fn generate(tag: u32, suite: SrtpSuite, random: &mut dyn FnMut(&mut [u8])) -> Self {
        let mut key_salt = vec![0u8; suite.key_salt_len()];
        random(&mut key_salt);
        let key = SdesKey {
            master_key: key_salt[..suite.key_len()].to_vec(),
            master_salt: key_salt[suite.key_len()..].to_vec(),
            lifetime: None,
            mki: None,
        };
        Self {
            tag,
            suite,
            keys: vec![key],
            session_params: Vec::new(),
        }
    }

    /// The value of the `a=crypto` attribute (after `a=crypto:`).
    pub fn to_attribute_value(&self) -> String {
        let mut out = format!("{} {} ", self.tag, self.suite);
        for (i, k) in self.keys.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            k.write(&mut out);
        }
        for p in &self.session_params {
            out.push(' ');
            out.push_str(p);
        }
        out
    }

    /// Parses an `a=crypto` value, checking the suite and key lengths.
    pub fn parse(value: &str) -> Result<Self, String> {
        // sdp-types splits on single spaces; collapse runs of whitespace first.
        let normalized = value.split_whitespace().collect::<Vec<_>>().join(" ");
        let parsed = sdpt::Crypto::from_str(&normalized).map_err(|e| e.to_string())?;
        let suite_name = parsed.crypto_suite.as_str();
        let suite = SrtpSuite::from_name(suite_name)
            .ok_or_else(|| format!("unsupported crypto suite '{}'", shorten(suite_name)))?;
        let mut keys = Vec::with_capacity(parsed.key_params.len());
        for kp in &parsed.key_params {
            if kp.key_and_salt.len() > MAX_KEY_B64 {
                return Err(format!(
                    "key is {} base64 characters, longer than any suite's",
                    kp.key_and_salt.len()
                ));
            }
            let bytes = B64
                .decode(kp.key_and_salt.as_bytes())
                .map_err(|e| format!("key is not base64: {e}"))?;
            let mut key = SdesKey::from_key_salt(suite, &bytes).ok_or_else(|| {
                format!(
                    "{suite} needs {} bytes of key and salt, got {}",
                    suite.key_salt_len(),
                    bytes.len()
                )
            })?;
            key.lifetime = kp.lifetime;
            if let Some((value, length)) = kp.mki_and_length {
                let length = u8::try_from(length)
                    .ok()
                    .filter(|l| (1..=128).contains(l))
                    .ok_or_else(|| format!("MKI length {length} is not 1-128"))?;
                key.mki = Some(Mki { value, length });
            }
            keys.push(key);
        }
        if keys.is_empty() {
            return Err("no key".into());
        }
        Ok(Self {
            tag: parsed.tag,
            suite,
            keys,
            session_params: normalized.split(' ').skip(3).map(str::to_string).collect(),
        })
    }
}

/// An `a=crypto` line as received: the raw value, its tag and suite if they can be read, and
/// the decoded line or why it cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoAttribute {
    /// The line.
    pub line: usize,
    /// The value after `a=crypto:`, as written.
    pub raw: String,
    /// The tag, if it is a number.
    pub tag: Option<u32>,
    /// The suite name as written, if present.
    pub suite: Option<String>,
    /// The decoded line, or why it is unusable.
    pub parsed: Result<SdesCrypto, SdpError>,
}

impl CryptoAttribute {
    fn parse(value: &str, line: usize) -> Self {
        let mut toks = value.split_whitespace();
        let tag = toks.next().and_then(|t| t.parse::<u32>().ok());
        let suite = toks.next().map(shorten);
        Self {
            line,
            raw: value.to_string(),
            tag,
            suite,
            parsed: SdesCrypto::parse(value).map_err(|reason| SdpError::BadCrypto { line, reason }),
        }
    }
}

/// Both ends' SDES crypto for a negotiated SRTP stream: ours keys what we send, theirs what we
/// receive. They share tag and suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedCrypto {
    /// Our line (what we send with).
    pub local: SdesCrypto,
    /// The remote line (what we receive with).
    pub remote: SdesCrypto,
}

// ---------------------------------------------------------------------------------------------
// The remote SDP model
// ---------------------------------------------------------------------------------------------

/// An rtpmap value: encoding name, clock rate and channels.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RtpMap {
    /// The encoding name as written (`PCMU`, `opus`, `telephone-event`).
    pub encoding_name: String,
    /// The RTP clock rate.
    pub clock_rate: u32,
    /// The channel count (1 when not written).
    pub channels: u16,
}

impl RtpMap {
    /// Parses `ENCODING/CLOCK[/CHANNELS]`.
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.trim().split('/');
        let name = parts.next()?.trim();
        if name.is_empty() || name.len() > 64 || name.contains(char::is_whitespace) {
            return None;
        }
        let clock_rate: u32 = parts.next()?.trim().parse().ok().filter(|&c| c > 0)?;
        let channels = match parts.next() {
            Some(c) => c.trim().parse().ok().filter(|&c| c > 0)?,
            None => 1,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            encoding_name: name.to_string(),
            clock_rate,
            channels,
        })
    }

    /// The RFC 3551 meaning of a static payload type used without an rtpmap (table 4); `None`
    /// for dynamic and unassigned types.
    pub fn for_static(pt: u8) -> Option<Self> {
        let (name, clock_rate, channels) = match pt {
            0 => ("PCMU", 8000, 1),
            3 => ("GSM", 8000, 1),
            4 => ("G723", 8000, 1),
            5 => ("DVI4", 8000, 1),
            6 => ("DVI4", 16000, 1),
            7 => ("LPC", 8000, 1),
            8 => ("PCMA", 8000, 1),
            9 => ("G722", 8000, 1),
            10 => ("L16", 44100, 2),
            11 => ("L16", 44100, 1),
            12 => ("QCELP", 8000, 1),
            13 => ("CN", 8000, 1),
            14 => ("MPA", 90000, 1),
            15 => ("G728", 8000, 1),
            16 => ("DVI4", 11025, 1),
            17 => ("DVI4", 22050, 1),
            18 => ("G729", 8000, 1),
            _ => return None,
        };
        Some(Self {
            encoding_name: name.to_string(),
            clock_rate,
            channels,
        })
    }

    /// Whether both name the same format (encoding name compared case-insensitively).
    pub fn same_format(&self, other: &Self) -> bool {
        self.encoding_name
            .eq_ignore_ascii_case(&other.encoding_name)
            && self.clock_rate == other.clock_rate
            && self.channels == other.channels
    }

    fn is_telephone_event(&self) -> bool {
        self.encoding_name.eq_ignore_ascii_case("telephone-event")
    }
}

impl fmt::Display for RtpMap {
    /// `ENCODING/CLOCK`, with `/CHANNELS` when not 1.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.encoding_name, self.clock_rate)?;
        if self.channels != 1 {
            write!(f, "/{}", self.channels)?;
        }
        Ok(())
    }
}

/// One format of an RTP m-line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFormat {
    /// The payload type.
    pub payload_type: PayloadType,
    /// What it is: from `a=rtpmap`, else the RFC 3551 static table; `None` for a dynamic type
    /// without rtpmap.
    pub rtpmap: Option<RtpMap>,
    /// Whether [`Self::rtpmap`] came from an `a=rtpmap` line.
    pub explicit_rtpmap: bool,
    /// The `a=fmtp` parameters for this payload type, as written.
    pub fmtp: Option<String>,
}

impl RemoteFormat {
    fn describe(&self) -> String {
        match &self.rtpmap {
            Some(m) => format!("{} {m}", self.payload_type.0),
            None => format!("{} ?", self.payload_type.0),
        }
    }
}

/// A telephone-event (RFC 4733) format offered on an m-line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// The payload type.
    pub payload_type: PayloadType,
    /// Its clock rate (8000, or that of the audio codec it goes with).
    pub clock_rate: u32,
    /// The events listed in its fmtp (0-15 when there is none, per RFC 4733).
    pub events: EventSet,
}

/// An `a=rtcp` attribute (RFC 3605).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpAttribute {
    /// The RTCP port.
    pub port: u16,
    /// The RTCP address, when it differs from the connection address.
    pub address: Option<IpAddr>,
}

/// A usable audio m-line of a remote SDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteMedia {
    /// The RTP port (not 0).
    pub port: u16,
    /// The connection address (media-level `c=`, else session-level). `0.0.0.0` is RFC 2543
    /// hold: nothing may be sent to it.
    pub address: IpAddr,
    /// The transport profile.
    pub transport: Transport,
    /// Every format, in m-line order (the sender's preference), telephone-event included.
    pub formats: Vec<RemoteFormat>,
    /// The telephone-event formats among [`Self::formats`].
    pub telephone_events: Vec<TelephoneEvent>,
    /// `a=ptime`: the packet time the sender wants to receive, in ms.
    pub ptime: Option<u16>,
    /// `a=maxptime`, in ms.
    pub maxptime: Option<u16>,
    /// The direction (media-level, else session-level, else sendrecv).
    pub direction: Direction,
    /// Whether `a=rtcp-mux` is present.
    pub rtcp_mux: bool,
    /// `a=rtcp`, if present.
    pub rtcp: Option<RtcpAttribute>,
    /// The `a=crypto` lines, in order (the sender's preference).
    pub crypto: Vec<CryptoAttribute>,
}

impl RemoteMedia {
    /// The RTP address to send to.
    pub fn rtp_addr(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.port)
    }

    /// The RTCP address to send to: the RTP address with rtcp-mux, else `a=rtcp`, else the next
    /// port up (`None` when the RTP port is 65535).
    pub fn rtcp_addr(&self, muxed: bool) -> Option<SocketAddr> {
        if muxed {
            return Some(self.rtp_addr());
        }
        match self.rtcp {
            Some(r) => Some(SocketAddr::new(r.address.unwrap_or(self.address), r.port)),
            None => self
                .port
                .checked_add(1)
                .map(|p| SocketAddr::new(self.address, p)),
        }
    }

    /// The format with payload type `pt`, if listed.
    pub fn format(&self, pt: PayloadType) -> Option<&RemoteFormat> {
        self.formats.iter().find(|f| f.payload_type == pt)
    }
}

/// One m-line of a remote SDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSection {
    /// Its position, from 0.
    pub index: usize,
    /// The line of its `m=`.
    pub line: usize,
    /// The media type (`audio`, `video`, ...).
    pub media: String,
    /// The port.
    pub port: u16,
    /// The transport protocol as written.
    pub proto: String,
    /// The formats as written.
    pub formats: Vec<String>,
    /// The parsed audio stream, or why it cannot be used: [`SdpError::NotAudio`] for other
    /// media, [`SdpError::MediaDisabled`] for port 0, or what is wrong with it.
    pub audio: Result<RemoteMedia, SdpError>,
}

/// A remote SDP, offer or answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSdp {
    /// `o=` session id.
    pub session_id: String,
    /// `o=` session version: a re-offer with the same version changes nothing.
    pub session_version: u64,
    /// Every m-line, in order.
    pub media: Vec<MediaSection>,
}

impl RemoteSdp {
    /// The usable audio m-lines.
    pub fn audio(&self) -> impl Iterator<Item = (&MediaSection, &RemoteMedia)> {
        self.media
            .iter()
            .filter_map(|s| s.audio.as_ref().ok().map(|a| (s, a)))
    }
}

/// Where the lines sdp-types keeps came from, so errors found after parsing can name a line.
#[derive(Default)]
struct LineMap {
    session_c: usize,
    session_a: Vec<usize>,
    media: Vec<MediaLines>,
}

#[derive(Default)]
struct MediaLines {
    m: usize,
    c: Vec<usize>,
    a: Vec<usize>,
}

impl LineMap {
    /// Numbers lines the way sdp-types does (split at LF, CR of CRLF dropped, empty lines
    /// counted but skipped).
    fn new(data: &[u8]) -> Self {
        let mut map = Self::default();
        for (i, raw) in data.split(|&b| b == b'\n').enumerate() {
            let n = i + 1;
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            let (Some(&key), Some(&b'=')) = (line.first(), line.get(1)) else {
                continue;
            };
            match (key, map.media.last_mut()) {
                (b'm', _) => map.media.push(MediaLines {
                    m: n,
                    ..MediaLines::default()
                }),
                (b'a', None) => map.session_a.push(n),
                (b'c', None) => map.session_c = n,
                (b'a', Some(m)) => m.a.push(n),
                (b'c', Some(m)) => m.c.push(n),
                _ => {}
            }
        }
        map
    }
}

/// Parses a remote SDP (offer or answer). Fails only for what spoils the whole description
/// (size, syntax, limits); what spoils one m-line is in that [`MediaSection::audio`].
///
/// Never panics, whatever the bytes: this is the fuzzing entry point.
pub fn parse_remote(sdp: &[u8]) -> Result<RemoteSdp, SdpError> {
    if sdp.len() > MAX_SDP_BYTES {
        return Err(SdpError::TooLarge {
            len: sdp.len(),
            max: MAX_SDP_BYTES,
        });
    }
    let session = sdpt::Session::parse(sdp).map_err(|e| parser_error(sdp, &e))?;
    if session.medias.len() > MAX_MEDIA {
        return Err(SdpError::TooManyMedia {
            count: session.medias.len(),
            max: MAX_MEDIA,
        });
    }
    let lines = LineMap::new(sdp);
    let session_dir = direction_of(&session.attributes, &lines.session_a)?;
    let session_conn = session.connection.as_ref().map(|c| (c, lines.session_c));

    let mut media = Vec::with_capacity(session.medias.len());
    for (index, m) in session.medias.iter().enumerate() {
        let no_lines = MediaLines::default();
        let ml = lines.media.get(index).unwrap_or(&no_lines);
        let line = ml.m;
        // sdp-types splits the m-line at single spaces: with a doubled space the protocol comes
        // out empty and the formats start with it. Re-split on any whitespace.
        let mut tokens = m.proto.split_whitespace().chain(m.fmt.split_whitespace());
        let proto = tokens.next().unwrap_or_default().to_string();
        let count = tokens.clone().count();
        if count > MAX_FORMATS {
            return Err(SdpError::TooManyFormats {
                line,
                count,
                max: MAX_FORMATS,
            });
        }
        if count == 0 {
            return Err(SdpError::Syntax {
                line,
                reason: "m-line lists no formats".into(),
            });
        }
        let formats: Vec<String> = tokens.map(str::to_string).collect();
        let audio = if !m.media.eq_ignore_ascii_case("audio") {
            Err(SdpError::NotAudio {
                line,
                media: shorten(&m.media),
            })
        } else if m.port == 0 {
            Err(SdpError::MediaDisabled { line })
        } else {
            parse_audio(m, ml, &proto, &formats, session_conn, session_dir)
        };
        media.push(MediaSection {
            index,
            line,
            media: m.media.clone(),
            port: m.port,
            proto,
            formats,
            audio,
        });
    }
    Ok(RemoteSdp {
        session_id: session.origin.sess_id.clone(),
        session_version: session.origin.sess_version,
        media,
    })
}

/// The direction attribute among `attrs`, if any; two different ones are an error.
fn direction_of(attrs: &[sdpt::Attribute], lines: &[usize]) -> Result<Option<Direction>, SdpError> {
    let mut found: Option<Direction> = None;
    for (j, a) in attrs.iter().enumerate() {
        if let Some(d) = Direction::parse(a.attribute.trim()) {
            if found.is_some_and(|f| f != d) {
                return Err(SdpError::BadAttribute {
                    line: lines.get(j).copied().unwrap_or(0),
                    name: d.as_str(),
                    value: String::new(),
                    reason: "contradicts an earlier direction attribute",
                });
            }
            found = Some(d);
        }
    }
    Ok(found)
}

fn connection_address(conn: &sdpt::Connection, line: usize) -> Result<IpAddr, SdpError> {
    let bad = |reason| SdpError::BadAddress {
        line,
        value: shorten(&conn.connection_address),
        reason,
    };
    if conn.nettype != sdpt::NetType::In {
        return Err(bad("network type is not IN"));
    }
    let addr = conn
        .try_address()
        .map_err(|_| bad("not a literal IP address"))?;
    match (&conn.addrtype, addr.ip) {
        (sdpt::AddrType::Ip4, IpAddr::V4(_)) | (sdpt::AddrType::Ip6, IpAddr::V6(_)) => Ok(addr.ip),
        (sdpt::AddrType::Ip4 | sdpt::AddrType::Ip6, _) => {
            Err(bad("address family does not match IP4/IP6"))
        }
        _ => Err(bad("address type is not IP4 or IP6")),
    }
}

/// Splits `PT rest` (an rtpmap or fmtp value) into a payload type 0-127 and the rest, trimmed.
fn split_pt(value: &str) -> Option<(u8, &str)> {
    let value = value.trim_start();
    let (pt, rest) = match value.find(char::is_whitespace) {
        Some(i) => (&value[..i], value[i..].trim()),
        None => (value, ""),
    };
    let pt: u8 = pt.parse().ok()?;
    (pt <= 127).then_some((pt, rest))
}

/// Parses a ptime-like value in ms (`20`, or `20.0` as some stacks write it).
fn parse_ms(value: &str) -> Option<u16> {
    let int = match value.split_once('.') {
        Some((i, frac)) if !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()) => i,
        Some(_) => return None,
        None => value,
    };
    let ms: u32 = int.parse().ok()?;
    if ms == 0 || ms > MAX_PTIME_MS {
        return None;
    }
    u16::try_from(ms).ok()
}

fn parse_rtcp(value: &str) -> Option<RtcpAttribute> {
    let mut toks = value.split_whitespace();
    let port: u16 = toks.next()?.parse().ok().filter(|&p| p != 0)?;
    let address = match (toks.next(), toks.next(), toks.next(), toks.next()) {
        (None, ..) => None,
        (Some(net), Some(ty), Some(addr), None) if net.eq_ignore_ascii_case("IN") => {
            let ip: IpAddr = addr.parse().ok()?;
            let family_ok = (ty.eq_ignore_ascii_case("IP4") && ip.is_ipv4())
                || (ty.eq_ignore_ascii_case("IP6") && ip.is_ipv6());
            if !family_ok {
                return None;
            }
            Some(ip)
        }
        _ => return None,
    };
    Some(RtcpAttribute { port, address })
}

fn parse_audio(
    m: &sdpt::Media,
    ml: &MediaLines,
    proto: &str,
    format_tokens: &[String],
    session_conn: Option<(&sdpt::Connection, usize)>,
    session_dir: Option<Direction>,
) -> Result<RemoteMedia, SdpError> {
    let line = ml.m;
    let transport = Transport::parse(proto).map_err(|reason| SdpError::UnsupportedTransport {
        line,
        proto: shorten(proto),
        reason,
    })?;
    let mut pts: Vec<u8> = Vec::with_capacity(format_tokens.len());
    for token in format_tokens {
        let bad = |reason| SdpError::BadFormat {
            line,
            token: shorten(token),
            reason,
        };
        let pt = token
            .parse::<u8>()
            .ok()
            .filter(|&p| p <= 127)
            .ok_or_else(|| bad("not an RTP payload type 0-127"))?;
        if pts.contains(&pt) {
            return Err(bad("payload type listed twice"));
        }
        pts.push(pt);
    }

    let address = match (m.connections.first(), session_conn) {
        (Some(c), _) => connection_address(c, ml.c.first().copied().unwrap_or(0))?,
        (None, Some((c, cline))) => connection_address(c, cline)?,
        (None, None) => return Err(SdpError::MissingConnection { line }),
    };

    let mut rtpmaps: BTreeMap<u8, RtpMap> = BTreeMap::new();
    let mut fmtps: BTreeMap<u8, (usize, String)> = BTreeMap::new();
    let mut ptime = None;
    let mut maxptime = None;
    let mut rtcp_mux = false;
    let mut rtcp = None;
    let mut crypto = Vec::new();
    for (j, a) in m.attributes.iter().enumerate() {
        let aline = ml.a.get(j).copied().unwrap_or(0);
        let name = a.attribute.trim();
        let value = a.value.as_deref().unwrap_or_default().trim();
        let bad = |name: &'static str, reason: &'static str| SdpError::BadAttribute {
            line: aline,
            name,
            value: shorten(value),
            reason,
        };
        if name.eq_ignore_ascii_case("rtpmap") {
            let (pt, rest) =
                split_pt(value).ok_or_else(|| bad("rtpmap", "no payload type 0-127"))?;
            if !pts.contains(&pt) {
                continue; // RFC 4566: attributes for formats not on the m-line are ignored
            }
            let map = RtpMap::parse(rest)
                .ok_or_else(|| bad("rtpmap", "not ENCODING/CLOCK[/CHANNELS]"))?;
            if rtpmaps.insert(pt, map).is_some() {
                return Err(bad("rtpmap", "second rtpmap for this payload type"));
            }
        } else if name.eq_ignore_ascii_case("fmtp") {
            let (pt, rest) = split_pt(value).ok_or_else(|| bad("fmtp", "no payload type 0-127"))?;
            if !pts.contains(&pt) || rest.is_empty() {
                continue;
            }
            if fmtps.insert(pt, (aline, rest.to_string())).is_some() {
                return Err(bad("fmtp", "second fmtp for this payload type"));
            }
        } else if name.eq_ignore_ascii_case("ptime") {
            ptime = Some(parse_ms(value).ok_or_else(|| bad("ptime", "not 1-1000 ms"))?);
        } else if name.eq_ignore_ascii_case("maxptime") {
            maxptime = Some(parse_ms(value).ok_or_else(|| bad("maxptime", "not 1-1000 ms"))?);
        } else if name.eq_ignore_ascii_case("rtcp-mux") {
            rtcp_mux = true;
        } else if name.eq_ignore_ascii_case("rtcp") {
            rtcp = Some(parse_rtcp(value).ok_or_else(|| {
                bad(
                    "rtcp",
                    "not 'PORT' or 'PORT IN IP4|IP6 ADDRESS' with a port 1-65535",
                )
            })?);
        } else if name.eq_ignore_ascii_case("crypto") {
            crypto.push(CryptoAttribute::parse(value, aline));
        }
    }
    let direction = direction_of(&m.attributes, &ml.a)?
        .or(session_dir)
        .unwrap_or_default();

    let mut formats = Vec::with_capacity(pts.len());
    let mut telephone_events = Vec::new();
    for pt in pts {
        let (rtpmap, explicit_rtpmap) = match rtpmaps.remove(&pt) {
            Some(m) => (Some(m), true),
            None => (RtpMap::for_static(pt), false),
        };
        let fmtp = fmtps.remove(&pt);
        if let Some(map) = rtpmap.as_ref().filter(|m| m.is_telephone_event()) {
            let events = match &fmtp {
                Some((fline, f)) => EventSet::parse(f).ok_or_else(|| SdpError::BadAttribute {
                    line: *fline,
                    name: "fmtp",
                    value: shorten(f),
                    reason: "not a telephone-event list such as 0-15",
                })?,
                None => EventSet::DTMF,
            };
            telephone_events.push(TelephoneEvent {
                payload_type: PayloadType(pt),
                clock_rate: map.clock_rate,
                events,
            });
        }
        formats.push(RemoteFormat {
            payload_type: PayloadType(pt),
            rtpmap,
            explicit_rtpmap,
            fmtp: fmtp.map(|(_, f)| f),
        });
    }

    Ok(RemoteMedia {
        port: m.port,
        address,
        transport,
        formats,
        telephone_events,
        ptime,
        maxptime,
        direction,
        rtcp_mux,
        rtcp,
        crypto,
    })
}

// ---------------------------------------------------------------------------------------------
// Negotiation
// ---------------------------------------------------------------------------------------------

/// Whether we use SRTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SrtpPolicy {
    /// Plain RTP only: SRTP m-lines are rejected.
    Disabled,
    /// We offer plain RTP and accept SRTP (SDES) when it is offered.
    #[default]
    Optional,
    /// We offer SRTP (SDES) and reject plain RTP m-lines.
    Required,
}

/// How we want our side of a call: address, codecs, packet time, direction, SRTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalConfig {
    /// Our RTP address (written in `o=` and `c=`).
    pub address: IpAddr,
    /// Our RTP port (not 0).
    pub port: u16,
    /// Our RTCP port if it is not `port + 1` (written as `a=rtcp`).
    pub rtcp_port: Option<u16>,
    /// `o=` session id.
    pub session_id: u64,
    /// `o=` session version: raise it for every new offer or answer in the same session.
    pub session_version: u64,
    /// `s=` (`-` when empty).
    pub session_name: String,
    /// The codecs we accept, by our name or encoding name, in our order of preference; empty
    /// means every registered codec in registry priority order.
    pub codecs: Vec<String>,
    /// The packet time we ask for, in ms.
    pub ptime: u16,
    /// The longest packet time we accept, in ms (written as `a=maxptime`).
    pub maxptime: Option<u16>,
    /// What we want to do: sendonly (or inactive) puts the call on hold.
    pub direction: Direction,
    /// Whether we offer and accept RTP/RTCP multiplexing (RFC 5761).
    pub rtcp_mux: bool,
    /// Whether we offer and accept telephone-event (RFC 4733 DTMF).
    pub telephone_event: bool,
    /// SRTP use.
    pub srtp: SrtpPolicy,
    /// The SRTP suites we accept and offer, in our order of preference.
    pub srtp_suites: Vec<SrtpSuite>,
}

impl LocalConfig {
    /// Defaults: every codec, 20 ms, sendrecv, rtcp-mux, telephone-event, SRTP optional with
    /// the two AES-CM suites.
    pub fn new(address: IpAddr, port: u16) -> Self {
        Self {
            address,
            port,
            rtcp_port: None,
            session_id: 1,
            session_version: 1,
            session_name: "-".into(),
            codecs: Vec::new(),
            ptime: 20,
            maxptime: None,
            direction: Direction::SendRecv,
            rtcp_mux: true,
            telephone_event: true,
            srtp: SrtpPolicy::Optional,
            srtp_suites: vec![
                SrtpSuite::AesCm128HmacSha1_80,
                SrtpSuite::AesCm128HmacSha1_32,
            ],
        }
    }
}

/// How to decode one payload type we may receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiveFormat {
    /// Audio in a codec we have.
    Codec {
        /// The codec.
        codec: &'static CodecDescriptor,
        /// Its parameters.
        params: CodecParams,
    },
    /// RFC 4733 events.
    TelephoneEvent {
        /// Their clock rate.
        clock_rate: u32,
    },
}

/// Negotiated telephone-event use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiatedEvents {
    /// The payload type we send events with.
    pub send_payload_type: PayloadType,
    /// The payload type we receive events with.
    pub receive_payload_type: PayloadType,
    /// The clock rate (that of the audio codec).
    pub clock_rate: u32,
    /// Events both ends support (at most DTMF 0-15).
    pub events: EventSet,
}

/// The outcome of an offer/answer exchange: everything needed to set up the audio stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedMedia {
    /// The m-line the stream is on, from 0.
    pub media_index: usize,
    /// Where to send RTP.
    pub remote: SocketAddr,
    /// Where to send RTCP (the RTP address with rtcp-mux).
    pub remote_rtcp: Option<SocketAddr>,
    /// The transport profile.
    pub transport: Transport,
    /// The codec we send (and mostly receive) with.
    pub codec: &'static CodecDescriptor,
    /// Its parameters: sample rate, channels, ptime (the remote's `a=ptime` where the codec
    /// allows it), and the remote's fmtp for this payload type, passed through as written.
    pub params: CodecParams,
    /// The payload type we send the codec with.
    pub payload_type: PayloadType,
    /// The remote's `a=maxptime`, ms: the longest packets it takes (the adaptation may switch
    /// Opus up to it mid-call).
    pub max_ptime_ms: Option<u16>,
    /// Telephone-event, if both ends use it at the codec's clock rate.
    pub telephone_event: Option<NegotiatedEvents>,
    /// What we do: send, receive, both or neither.
    pub direction: Direction,
    /// Whether RTP and RTCP share a port.
    pub rtcp_mux: bool,
    /// SRTP keys, for the SAVP profiles.
    pub crypto: Option<NegotiatedCrypto>,
    /// Every payload type we may receive and what it is.
    pub receive: BTreeMap<PayloadType, ReceiveFormat>,
    /// The other m-lines, answered (or answered by the remote) with port 0, and why.
    pub rejected: Vec<Rejection>,
}

impl NegotiatedMedia {
    /// Our name of the negotiated codec (`pcmu`, `g722`, ...).
    pub fn codec_name(&self) -> &'static str {
        self.codec.name
    }
}

/// Writes offers and answers for our side, and reads the other side's, with a codec registry
/// and a [`LocalConfig`].
#[derive(Debug, Clone)]
pub struct Negotiator<'a> {
    registry: &'a CodecRegistry,
    config: LocalConfig,
    /// Our names of the allowed codecs, in preference order; empty for all.
    allowed: Vec<&'static str>,
}

/// A codec we can use for a remote format.
struct Resolved<'f> {
    format: &'f RemoteFormat,
    rtpmap: &'f RtpMap,
    codec: &'static CodecDescriptor,
    params: CodecParams,
}

impl<'a> Negotiator<'a> {
    /// Checks `config` against `registry`.
    pub fn new(registry: &'a CodecRegistry, config: LocalConfig) -> Result<Self, SdpError> {
        let invalid = |reason: String| SdpError::InvalidConfig { reason };
        if config.port == 0 {
            return Err(invalid("port is 0".into()));
        }
        if config.rtcp_port == Some(0) {
            return Err(invalid("RTCP port is 0".into()));
        }
        if config.ptime == 0 || u32::from(config.ptime) > MAX_PTIME_MS {
            return Err(invalid(format!("ptime {} is not 1-1000 ms", config.ptime)));
        }
        if config
            .maxptime
            .is_some_and(|m| m == 0 || u32::from(m) > MAX_PTIME_MS || m < config.ptime)
        {
            return Err(invalid("maxptime is not ptime-1000 ms".into()));
        }
        let mut allowed = Vec::new();
        for name in &config.codecs {
            let entry = registry
                .find(name)
                .map_err(|e| invalid(format!("codec list: {e}")))?;
            if !allowed.contains(&entry.descriptor.name) {
                allowed.push(entry.descriptor.name);
            }
        }
        if registry.entries().is_empty() {
            return Err(invalid("the codec registry is empty".into()));
        }
        if config.srtp != SrtpPolicy::Disabled && config.srtp_suites.is_empty() {
            return Err(invalid("SRTP is enabled but no suites are listed".into()));
        }
        Ok(Self {
            registry,
            config,
            allowed,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &LocalConfig {
        &self.config
    }

    fn allows(&self, codec: &CodecDescriptor) -> bool {
        self.allowed.is_empty() || self.allowed.contains(&codec.name)
    }

    /// Our capabilities as SDP lines, in our order of preference.
    fn offered_codecs(&self) -> Vec<SdpCodec> {
        let caps = self.registry.capabilities();
        if self.allowed.is_empty() {
            return caps;
        }
        self.allowed
            .iter()
            .filter_map(|name| caps.iter().find(|c| c.descriptor.name == *name).cloned())
            .collect()
    }

    /// What our registry makes of a remote format.
    fn resolve<'f>(&self, format: &'f RemoteFormat) -> Option<Resolved<'f>> {
        let rtpmap = format.rtpmap.as_ref()?;
        if rtpmap.is_telephone_event() {
            return None;
        }
        let (entry, params) = self.registry.find_rtpmap(&rtpmap.to_string())?;
        self.allows(entry.descriptor).then_some(Resolved {
            format,
            rtpmap,
            codec: entry.descriptor,
            params,
        })
    }

    /// The packet time to send with: the remote's ptime where the codec can, else ours, else the
    /// codec's default; then no more than the remote's maxptime.
    fn choose_ptime(&self, codec: &CodecDescriptor, remote: &RemoteMedia) -> u16 {
        let supported = |p: &u16| codec.ptimes.contains(p);
        let mut ptime = remote
            .ptime
            .filter(supported)
            .or(Some(self.config.ptime).filter(supported))
            .unwrap_or(codec.default_ptime);
        if let Some(max) = remote.maxptime {
            if ptime > max {
                ptime = codec
                    .ptimes
                    .iter()
                    .copied()
                    .filter(|&p| p <= max)
                    .max()
                    .or_else(|| codec.ptimes.iter().copied().min())
                    .unwrap_or(ptime);
            }
        }
        ptime
    }

    fn our_fmtp(&self, codec: &CodecDescriptor) -> Option<String> {
        self.registry
            .capabilities()
            .into_iter()
            .find(|c| c.descriptor.name == codec.name)
            .and_then(|c| c.fmtp)
    }

    fn session(&self, medias: Vec<sdpt::Media>) -> String {
        let origin = sdpt::Origin::with_ip_addr(
            self.config.session_id,
            self.config.session_version,
            self.config.address,
        );
        let name = if self.config.session_name.trim().is_empty() {
            "-"
        } else {
            self.config.session_name.as_str()
        };
        let mut session = sdpt::Session::new(origin, name);
        session.connection = Some(sdpt::Connection::from_ip_addr(self.config.address));
        session.times.push(sdpt::Time::new(0, 0));
        session.medias = medias;
        session.to_string()
    }

    fn audio_media(&self, transport: Transport, pts: &[u8]) -> sdpt::Media {
        let fmt = pts.iter().map(u8::to_string).collect::<Vec<_>>().join(" ");
        let mut m = sdpt::Media::new(
            sdpt::MediaType::Audio,
            self.config.port,
            sdpt::TransportProto::RtpAvp,
            fmt,
        );
        m.proto = transport.as_str().to_string();
        m
    }

    fn common_attributes(&self, m: &mut sdpt::Media, ptime: u16, direction: Direction, mux: bool) {
        m.add_attribute_with_value("ptime", ptime);
        if let Some(max) = self.config.maxptime {
            m.add_attribute_with_value("maxptime", max);
        }
        m.add_attribute(sdpt::Attribute::new(direction.as_str()));
        if mux {
            m.add_attribute(sdpt::Attribute::new("rtcp-mux"));
        }
        if let Some(p) = self.config.rtcp_port {
            m.add_attribute_with_value("rtcp", p);
        }
    }

    /// An offer with every codec we accept, in our order of preference: static payload types
    /// where the codec has one, dynamic ones from 96 otherwise; telephone-event at 8000 Hz (and
    /// 48000 Hz when a 48 kHz codec such as Opus is offered); ptime, direction, rtcp-mux; and,
    /// with [`SrtpPolicy::Required`], RTP/SAVP with one `a=crypto` per suite keyed from `random`.
    pub fn offer(&self, random: &mut dyn FnMut(&mut [u8])) -> String {
        let caps = self.offered_codecs();
        let mut pts: Vec<u8> = caps.iter().map(|c| c.payload_type.0).collect();
        let mut events = Vec::new();
        if self.config.telephone_event {
            let mut clocks = vec![8000u32];
            if caps.iter().any(|c| c.descriptor.clock_rate == 48000) {
                clocks.push(48000);
            }
            for clock in clocks {
                if let Some(pt) = free_dynamic_pt(&pts) {
                    pts.push(pt);
                    events.push((pt, clock));
                }
            }
        }
        let transport = if self.config.srtp == SrtpPolicy::Required {
            Transport::RtpSavp
        } else {
            Transport::RtpAvp
        };
        let mut m = self.audio_media(transport, &pts);
        for c in &caps {
            m.add_attribute_with_value("rtpmap", format!("{} {}", c.payload_type.0, c.rtpmap));
            if let Some(f) = &c.fmtp {
                m.add_attribute_with_value("fmtp", format!("{} {f}", c.payload_type.0));
            }
        }
        for (pt, clock) in events {
            m.add_attribute_with_value("rtpmap", format!("{pt} telephone-event/{clock}"));
            m.add_attribute_with_value("fmtp", format!("{pt} {}", EventSet::DTMF));
        }
        self.common_attributes(
            &mut m,
            self.config.ptime,
            self.config.direction,
            self.config.rtcp_mux,
        );
        if transport.is_secure() {
            for (tag, suite) in (1u32..).zip(&self.config.srtp_suites) {
                let c = SdesCrypto::generate(tag, *suite, random);
                m.add_attribute_with_value("crypto", c.to_attribute_value());
            }
        }
        self.session(vec![m])
    }

    /// Answers a remote offer (RFC 3264 section 6). On the first acceptable audio m-line we pick
    /// the first codec in the offer's order that we have, keep the offer's payload type numbers,
    /// add telephone-event if offered at the codec's clock rate, reverse the direction
    /// (sendonly becomes recvonly) within what we want, mirror rtcp-mux and, for SRTP, answer
    /// the first offered `a=crypto` whose suite we accept with a key from `random`. Every other
    /// m-line gets port 0.
    ///
    /// `a=crypto` lines with session parameters (`UNENCRYPTED_SRTP`, `KDR=`, ...) are passed
    /// over, as we cannot yet honour them; `a=crypto` on a plain RTP/AVP m-line ("best effort"
    /// SRTP) is ignored and the stream stays plain RTP. `random` is called only for SRTP.
    ///
    /// Returns the negotiated stream and the answer SDP; [`SdpError::NoAcceptableMedia`] (with
    /// an all-rejecting answer) when no m-line is acceptable, or the error that makes the offer
    /// unreadable.
    pub fn answer(
        &self,
        offer: &[u8],
        random: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(NegotiatedMedia, String), SdpError> {
        let remote = parse_remote(offer)?;
        let mut chosen: Option<NegotiatedMedia> = None;
        let mut rejected = Vec::new();
        let mut medias = Vec::with_capacity(remote.media.len());
        for section in &remote.media {
            let outcome = match &section.audio {
                Err(e) => Err(e.clone()),
                Ok(_) if chosen.is_some() => Err(SdpError::ExtraAudioStream { line: section.line }),
                Ok(audio) => self.answer_audio(section, audio, random),
            };
            match outcome {
                Ok((negotiated, media)) => {
                    medias.push(media);
                    chosen = Some(negotiated);
                }
                Err(reason) => {
                    medias.push(rejected_media(section));
                    rejected.push(Rejection {
                        index: section.index,
                        media: section.media.clone(),
                        reason,
                    });
                }
            }
        }
        let answer = self.session(medias);
        match chosen {
            Some(mut negotiated) => {
                negotiated.rejected = rejected;
                Ok((negotiated, answer))
            }
            None => Err(SdpError::NoAcceptableMedia { rejected, answer }),
        }
    }

    fn answer_audio(
        &self,
        section: &MediaSection,
        remote: &RemoteMedia,
        random: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(NegotiatedMedia, sdpt::Media), SdpError> {
        let line = section.line;
        match (remote.transport.is_secure(), self.config.srtp) {
            (true, SrtpPolicy::Disabled) => return Err(SdpError::SrtpDisabled { line }),
            (false, SrtpPolicy::Required) => return Err(SdpError::SrtpRequired { line }),
            _ => {}
        }
        let chosen = remote
            .formats
            .iter()
            .find_map(|f| self.resolve(f))
            .ok_or_else(|| SdpError::NoCommonCodec {
                line,
                offered: remote.formats.iter().map(RemoteFormat::describe).collect(),
            })?;
        let crypto = if remote.transport.is_secure() {
            let theirs = remote
                .crypto
                .iter()
                .filter_map(|c| c.parsed.as_ref().ok())
                .find(|c| self.config.srtp_suites.contains(&c.suite) && c.session_params.is_empty())
                .ok_or(SdpError::NoAcceptableCrypto { line })?;
            let ours = SdesCrypto::generate(theirs.tag, theirs.suite, random);
            Some(NegotiatedCrypto {
                local: ours,
                remote: theirs.clone(),
            })
        } else {
            None
        };

        let pt = chosen.format.payload_type;
        let ptime = self.choose_ptime(chosen.codec, remote);
        let mut params = chosen.params;
        params.ptime_ms = ptime;
        params.fmtp = chosen.format.fmtp.clone();

        let events = if self.config.telephone_event {
            remote
                .telephone_events
                .iter()
                .find(|t| t.clock_rate == chosen.rtpmap.clock_rate)
                .map(|t| (t, t.events.intersection(&EventSet::DTMF)))
                .filter(|(_, e)| !e.is_empty())
                .map(|(t, events)| NegotiatedEvents {
                    send_payload_type: t.payload_type,
                    receive_payload_type: t.payload_type,
                    clock_rate: t.clock_rate,
                    events,
                })
        } else {
            None
        };

        let mut direction = self.config.direction.intersect(remote.direction.reversed());
        if remote.address.is_unspecified() {
            // RFC 3264 section 8.4: c=0.0.0.0 means send nothing.
            direction = direction.intersect(Direction::RecvOnly);
        }
        let rtcp_mux = self.config.rtcp_mux && remote.rtcp_mux;

        let mut pts = vec![pt.0];
        if let Some(e) = &events {
            pts.push(e.receive_payload_type.0);
        }
        let mut m = self.audio_media(remote.transport, &pts);
        m.add_attribute_with_value("rtpmap", format!("{} {}", pt.0, chosen.rtpmap));
        if let Some(f) = self.our_fmtp(chosen.codec) {
            m.add_attribute_with_value("fmtp", format!("{} {f}", pt.0));
        }
        if let Some(e) = &events {
            let ept = e.receive_payload_type.0;
            m.add_attribute_with_value("rtpmap", format!("{ept} telephone-event/{}", e.clock_rate));
            m.add_attribute_with_value("fmtp", format!("{ept} {}", e.events));
        }
        self.common_attributes(&mut m, ptime, direction, rtcp_mux);
        if let Some(c) = &crypto {
            m.add_attribute_with_value("crypto", c.local.to_attribute_value());
        }

        let mut receive = BTreeMap::new();
        receive.insert(
            pt,
            ReceiveFormat::Codec {
                codec: chosen.codec,
                params: params.clone(),
            },
        );
        if let Some(e) = &events {
            receive.insert(
                e.receive_payload_type,
                ReceiveFormat::TelephoneEvent {
                    clock_rate: e.clock_rate,
                },
            );
        }
        let negotiated = NegotiatedMedia {
            media_index: section.index,
            remote: remote.rtp_addr(),
            remote_rtcp: remote.rtcp_addr(rtcp_mux),
            transport: remote.transport,
            codec: chosen.codec,
            params,
            payload_type: pt,
            max_ptime_ms: remote.maxptime,
            telephone_event: events,
            direction,
            rtcp_mux,
            crypto,
            receive,
            rejected: Vec::new(),
        };
        Ok((negotiated, m))
    }

    /// Reads the answer to an offer we made (`our_offer` is the SDP we sent, as from
    /// [`Self::offer`]) and checks that it fits it (RFC 3264 section 6): same m-lines, same
    /// transport, only formats we offered, a direction our offer allows, rtcp-mux only if
    /// offered, and for SRTP exactly one `a=crypto` matching one of ours by tag and suite.
    ///
    /// We send with the first codec of the answer; we receive what the answer lists, with our
    /// offer's payload type numbers.
    pub fn process_answer(
        &self,
        our_offer: &[u8],
        answer: &[u8],
    ) -> Result<NegotiatedMedia, SdpError> {
        let ours = parse_remote(our_offer).map_err(|e| SdpError::InvalidConfig {
            reason: format!("our own offer does not parse: {e}"),
        })?;
        let theirs = parse_remote(answer)?;
        let mismatch = |line: usize, reason: String| SdpError::AnswerMismatch { line, reason };
        if ours.media.len() != theirs.media.len() {
            return Err(mismatch(
                0,
                format!(
                    "{} m-lines in the answer, {} in the offer",
                    theirs.media.len(),
                    ours.media.len()
                ),
            ));
        }
        let mut rejected = Vec::new();
        let mut negotiated: Option<NegotiatedMedia> = None;
        for (o, a) in ours.media.iter().zip(&theirs.media) {
            if !o.media.eq_ignore_ascii_case(&a.media) {
                return Err(mismatch(
                    a.line,
                    format!("m-line {} is '{}', offered '{}'", a.index, a.media, o.media),
                ));
            }
            let reject = |reason| Rejection {
                index: a.index,
                media: a.media.clone(),
                reason,
            };
            match (&o.audio, &a.audio) {
                (Ok(offered), Ok(answered)) if negotiated.is_none() => {
                    negotiated = Some(self.accept_answer(a, offered, answered)?);
                }
                (Ok(_), Ok(_)) => {
                    rejected.push(reject(SdpError::ExtraAudioStream { line: a.line }))
                }
                // Port 0: the answerer rejected the stream.
                (Ok(_), Err(e @ SdpError::MediaDisabled { .. })) => {
                    rejected.push(reject(e.clone()))
                }
                // Accepted, but we cannot use what the answer says.
                (Ok(_), Err(e)) => return Err(e.clone()),
                (Err(_), _) if o.port == 0 && a.port != 0 => {
                    return Err(mismatch(
                        a.line,
                        format!("m-line {} was offered with port 0 but is accepted", a.index),
                    ));
                }
                (Err(e), _) => rejected.push(reject(e.clone())),
            }
        }
        match negotiated {
            Some(mut n) => {
                n.rejected = rejected;
                Ok(n)
            }
            None => Err(SdpError::NoAcceptableMedia {
                rejected,
                answer: String::new(),
            }),
        }
    }

    fn accept_answer(
        &self,
        section: &MediaSection,
        offered: &RemoteMedia,
        answered: &RemoteMedia,
    ) -> Result<NegotiatedMedia, SdpError> {
        let line = section.line;
        let mismatch = |reason: String| SdpError::AnswerMismatch { line, reason };
        if answered.transport != offered.transport {
            return Err(mismatch(format!(
                "transport {} does not match the offer's {}",
                answered.transport, offered.transport
            )));
        }
        // Every answered format must be one we offered; map it to our payload type.
        let mut send: Option<(Resolved<'_>, PayloadType)> = None;
        let mut receive = BTreeMap::new();
        for f in &answered.formats {
            let map = f.rtpmap.as_ref().ok_or_else(|| {
                mismatch(format!(
                    "payload type {} has no rtpmap and is not static",
                    f.payload_type.0
                ))
            })?;
            let ours = offered
                .formats
                .iter()
                .find(|o| o.rtpmap.as_ref().is_some_and(|m| m.same_format(map)))
                .ok_or_else(|| mismatch(format!("{} was not in the offer", f.describe())))?;
            if map.is_telephone_event() {
                continue;
            }
            if let Some(r) = self.resolve(f) {
                let our_pt = ours.payload_type;
                receive.insert(
                    our_pt,
                    ReceiveFormat::Codec {
                        codec: r.codec,
                        params: {
                            let mut p = r.params.clone();
                            p.fmtp = f.fmtp.clone();
                            p
                        },
                    },
                );
                if send.is_none() {
                    send = Some((r, our_pt));
                }
            }
        }
        let (chosen, _) = send.ok_or_else(|| SdpError::NoCommonCodec {
            line,
            offered: answered
                .formats
                .iter()
                .map(RemoteFormat::describe)
                .collect(),
        })?;
        let ptime = self.choose_ptime(chosen.codec, answered);
        let mut params = chosen.params.clone();
        params.ptime_ms = ptime;
        params.fmtp = chosen.format.fmtp.clone();
        for r in receive.values_mut() {
            if let ReceiveFormat::Codec { params: p, .. } = r {
                p.ptime_ms = ptime;
            }
        }

        let clock = chosen.rtpmap.clock_rate;
        let events = if self.config.telephone_event {
            let theirs = answered
                .telephone_events
                .iter()
                .find(|t| t.clock_rate == clock);
            let ours = offered
                .telephone_events
                .iter()
                .find(|t| t.clock_rate == clock);
            match (theirs, ours) {
                (Some(t), Some(o)) => {
                    let events = t.events.intersection(&o.events);
                    (!events.is_empty()).then_some(NegotiatedEvents {
                        send_payload_type: t.payload_type,
                        receive_payload_type: o.payload_type,
                        clock_rate: clock,
                        events,
                    })
                }
                _ => None,
            }
        } else {
            None
        };
        if let Some(e) = &events {
            receive.insert(
                e.receive_payload_type,
                ReceiveFormat::TelephoneEvent { clock_rate: clock },
            );
        }

        if !answered.direction.within(offered.direction.reversed()) {
            return Err(mismatch(format!(
                "answer is {} to an offer that is {}",
                answered.direction, offered.direction
            )));
        }
        let mut direction = offered.direction.intersect(answered.direction.reversed());
        if answered.address.is_unspecified() {
            direction = direction.intersect(Direction::RecvOnly);
        }
        if answered.rtcp_mux && !offered.rtcp_mux {
            return Err(mismatch(
                "rtcp-mux in the answer but not in the offer".into(),
            ));
        }
        let rtcp_mux = answered.rtcp_mux;

        let crypto = if answered.transport.is_secure() {
            let valid: Vec<&SdesCrypto> = answered
                .crypto
                .iter()
                .filter_map(|c| c.parsed.as_ref().ok())
                .collect();
            let [theirs] = valid.as_slice() else {
                return Err(answered
                    .crypto
                    .iter()
                    .find_map(|c| c.parsed.as_ref().err().cloned())
                    .filter(|_| valid.is_empty())
                    .unwrap_or_else(|| {
                        mismatch(format!(
                            "{} usable a=crypto lines in the answer; it must have exactly one",
                            valid.len()
                        ))
                    }));
            };
            let ours = offered
                .crypto
                .iter()
                .filter_map(|c| c.parsed.as_ref().ok())
                .find(|o| o.tag == theirs.tag && o.suite == theirs.suite)
                .ok_or_else(|| {
                    mismatch(format!(
                        "a=crypto tag {} {} was not offered",
                        theirs.tag, theirs.suite
                    ))
                })?;
            Some(NegotiatedCrypto {
                local: ours.clone(),
                remote: (*theirs).clone(),
            })
        } else {
            None
        };

        Ok(NegotiatedMedia {
            media_index: section.index,
            remote: answered.rtp_addr(),
            remote_rtcp: answered.rtcp_addr(rtcp_mux),
            transport: answered.transport,
            codec: chosen.codec,
            params,
            payload_type: chosen.format.payload_type,
            max_ptime_ms: answered.maxptime,
            telephone_event: events,
            direction,
            rtcp_mux,
            crypto,
            receive,
            rejected: Vec::new(),
        })
    }
}

/// The first free dynamic payload type, 101 (the customary telephone-event type) if it is free.
fn free_dynamic_pt(used: &[u8]) -> Option<u8> {
    std::iter::once(101)
        .chain(96..=127)
        .find(|pt| !used.contains(pt))
}

/// An m-line answered with port 0: same media, protocol and formats (RFC 3264 section 6).
fn rejected_media(section: &MediaSection) -> sdpt::Media {
    let mut m = sdpt::Media::new(
        sdpt::MediaType::Audio,
        0,
        sdpt::TransportProto::RtpAvp,
        section.formats.join(" "),
    );
    m.media = section.media.clone();
    m.proto = section.proto.clone();
    m
}

#[cfg(test)]
mod tests;
