//! Error types. Each enum is small and `#[non_exhaustive]`; the variant says what was wrong and
//! whether the caller can carry on (every codec error leaves the codec usable).

use std::fmt;

/// An error from an encoder, a decoder, or the codec registry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodecError {
    /// The output buffer cannot hold the result; nothing was written.
    BufferTooSmall {
        /// Elements (bytes or samples) the call needs.
        needed: usize,
        /// Elements the caller offered.
        available: usize,
    },
    /// The input frame has a length the codec cannot take (e.g. not a whole number of frames).
    InvalidFrameLength {
        /// What was given.
        got: usize,
        /// What the codec accepts, in words.
        expected: &'static str,
    },
    /// A payload is malformed: truncated, wrong size or corrupt. The decoder state is unchanged;
    /// the caller should count it and conceal.
    InvalidPayload(&'static str),
    /// A parameter (rate, channels, bitrate, ptime, fmtp) is outside what the codec supports.
    UnsupportedParameter {
        /// The parameter's name.
        name: &'static str,
        /// The value asked for, as text.
        value: String,
        /// What is supported, as text.
        supported: String,
    },
    /// No codec of that name (or rtpmap) is registered. Holds the names that are.
    UnknownCodec {
        /// The name asked for.
        name: String,
        /// The names that are registered.
        known: Vec<&'static str>,
    },
    /// An underlying codec library reported an error.
    Library(String),
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { needed, available } => {
                write!(
                    f,
                    "output buffer too small: need {needed}, have {available}"
                )
            }
            Self::InvalidFrameLength { got, expected } => {
                write!(f, "invalid frame length {got}: expected {expected}")
            }
            Self::InvalidPayload(why) => write!(f, "invalid payload: {why}"),
            Self::UnsupportedParameter {
                name,
                value,
                supported,
            } => write!(f, "unsupported {name} {value} (supported: {supported})"),
            Self::UnknownCodec { name, known } => {
                write!(f, "unknown codec '{name}' (known: {})", known.join(", "))
            }
            Self::Library(msg) => write!(f, "codec library error: {msg}"),
        }
    }
}

impl std::error::Error for CodecError {}

/// An error from format conversion (resampling, channel mapping, sample formats).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// The sample rate is not one this converter supports.
    UnsupportedRate(u32),
    /// The channel count is not one this converter supports.
    UnsupportedChannels(u16),
    /// Input or output buffer lengths do not fit the converter's frame sizes.
    BadLength {
        /// What was given.
        got: usize,
        /// What was expected.
        expected: usize,
    },
    /// The frame's format does not match what the stage was configured for.
    FormatMismatch(&'static str),
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedRate(r) => write!(f, "unsupported sample rate {r} Hz"),
            Self::UnsupportedChannels(c) => write!(f, "unsupported channel count {c}"),
            Self::BadLength { got, expected } => {
                write!(f, "bad buffer length {got}, expected {expected}")
            }
            Self::FormatMismatch(why) => write!(f, "format mismatch: {why}"),
        }
    }
}

impl std::error::Error for FormatError {}

/// An error reading or writing a WAV file.
#[derive(Debug)]
#[non_exhaustive]
pub enum WavError {
    /// The file could not be opened, read or written.
    Io(std::io::Error),
    /// The file is not a WAV file, or its header is corrupt.
    Malformed(String),
    /// A valid WAV file in a format we do not read (e.g. 3 channels, 12-bit, ADPCM).
    Unsupported(String),
}

impl fmt::Display for WavError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Malformed(why) => write!(f, "not a valid WAV file: {why}"),
            Self::Unsupported(why) => write!(f, "unsupported WAV format: {why}"),
        }
    }
}

impl std::error::Error for WavError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<hound::Error> for WavError {
    fn from(e: hound::Error) -> Self {
        match e {
            hound::Error::IoError(io) => Self::Io(io),
            hound::Error::FormatError(why) => Self::Malformed(why.to_string()),
            hound::Error::Unsupported => Self::Unsupported("encoding not supported".into()),
            hound::Error::InvalidSampleFormat => {
                Self::Unsupported("sample format does not match bits per sample".into())
            }
            hound::Error::TooWide => Self::Unsupported("sample wider than 32 bits".into()),
            hound::Error::UnfinishedSample => Self::Malformed("truncated sample".into()),
        }
    }
}

/// An error reading or writing a media container (Ogg Opus).
#[derive(Debug)]
#[non_exhaustive]
pub enum ContainerError {
    /// The source or sink failed.
    Io(std::io::Error),
    /// The input does not start with an Ogg page.
    NotOgg,
    /// An Ogg file with no Opus stream before its first data page.
    NotOpus,
    /// Damage in the stream: a bad CRC, bytes between pages, missing pages, a packet cut
    /// short. The reader has skipped past it and can be asked for the next packet.
    Corrupt(&'static str),
    /// An OpusHead or OpusTags header that breaks RFC 7845.
    BadHeader(&'static str),
    /// A valid stream we do not handle (e.g. an OpusHead major version above 0).
    Unsupported(String),
    /// A packet larger than the reader's limit; it was dropped.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A call the writer cannot honour (not an Opus packet, end trimming beyond the data).
    InvalidArgument(&'static str),
}

impl fmt::Display for ContainerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::NotOgg => write!(f, "not an Ogg file"),
            Self::NotOpus => write!(f, "no Opus stream in the Ogg file"),
            Self::Corrupt(why) => write!(f, "corrupt Ogg stream: {why}"),
            Self::BadHeader(why) => write!(f, "bad Ogg Opus header: {why}"),
            Self::Unsupported(why) => write!(f, "unsupported Ogg Opus stream: {why}"),
            Self::TooLarge { limit } => write!(f, "packet larger than the {limit}-byte limit"),
            Self::InvalidArgument(why) => write!(f, "invalid argument: {why}"),
        }
    }
}

impl std::error::Error for ContainerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for ContainerError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}
