//! What can be wrong with an SDP or a negotiation, with the line it is about.

use super::*;

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

pub(super) fn shorten(s: &str) -> String {
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

pub(super) fn parser_error(data: &[u8], e: &sdpt::ParserError) -> SdpError {
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
