//! Media containers. Ogg Opus (RFC 7845) for recording and playing Opus files, over a small
//! Ogg page layer (RFC 3533) of our own.

pub mod ogg;
pub mod ogg_opus;

pub use ogg_opus::{OggOpusReader, OggOpusWriter, OpusHead, OpusPacket, OpusTags, ReaderLimits};
