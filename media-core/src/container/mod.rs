//! File formats that carry codec streams: Ogg Opus (RFC 7845, over a small Ogg page layer of
//! our own, RFC 3533) and the iLBC storage format, for framed codecs whose raw stream has no
//! natural file form.

pub mod ilbc_file;
#[cfg(feature = "opus")]
pub mod ogg;
#[cfg(feature = "opus")]
pub mod ogg_opus;

#[cfg(feature = "opus")]
pub use ogg_opus::{OggOpusReader, OggOpusWriter, OpusHead, OpusPacket, OpusTags, ReaderLimits};
