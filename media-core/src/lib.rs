//! # media-core
//!
//! The media engine of a VoIP stack: codecs, audio processing, format conversion, and (in later
//! milestones) media sessions, mixing, quality estimation and synchronisation. Packets, SRTP,
//! the packet jitter buffer and sockets belong to `rtp-core`.
//!
//! ## The run loop as a contract
//!
//! Everything in the core is sans-IO: audio moves as [`frame::AudioFrame`]s on a 10 ms cadence,
//! per-frame calls write into buffers the caller owns and never allocate, and time is passed in
//! rather than read from a clock. A send path is:
//!
//! ```text
//! capture -> 10 ms frames -> processing -> Resampler -> AudioEncoder::encode -> RTP
//! ```
//!
//! and a receive path:
//!
//! ```text
//! RTP -> jitter buffer -> AudioDecoder::decode (or ::conceal on loss) -> Resampler -> playout
//! ```
//!
//! Codecs are found through a [`codec::CodecRegistry`] built from static
//! [`codec::CodecDescriptor`]s; [`container`] holds the file formats of framed codecs.
//!
//! A call leg is a [`session::MediaSession`]: an explicit state machine driven by the
//! signalling layer (start, hold, update, stop) and by the driver (transport up, failure),
//! configured by a validated [`session::MediaSessionConfig`]. What it reports goes out as
//! pulled events: the session queues [`session::SessionEvent`]s, and the
//! [`events::EventBus`] fans events out to subscribers by category and priority, never
//! dropping a high-priority one and counting what it drops or coalesces.
//!
//! Conferences run through [`engine::audio::AudioMixer`] (N-1 mixes in O(N), per-participant
//! resampling and codecs, limiter, active speaker; topology changes applied at the tick), and
//! calls or conferences are recorded with [`engine::audio::recorder`](mod@engine::audio::recorder) (a lock-free ring to a
//! writer thread, never blocking the media path).
//!
//! ## Cargo features
//!
//! - `opus`: Opus through libopus (`codec::audio::opus`) and Ogg Opus files (`container`).
//!   The bundled libopus is built with cmake, so this is off by default here; the `mediacore`
//!   command turns it on.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod codec;
pub mod container;
pub mod engine;
pub mod error;
pub mod events;
pub mod frame;
pub mod integration;
pub mod loss;
pub mod processing;
pub mod quality;
pub mod session;
pub mod signal;
pub mod transcode;
pub mod wav;

pub use codec::{
    AudioDecoder, AudioEncoder, CodecDescriptor, CodecParams, CodecRegistry, PayloadType,
};
pub use error::{CodecError, ContainerError, FormatError, WavError};
pub use events::{
    Category, CodecEventPublisher, CorrelationId, DeviceEventPublisher, Event, EventBus, EventKind,
    MediaEventPublisher, Priority, PublishError, Subscriber,
};
pub use frame::{AudioFormat, AudioFrame, FramePool, MediaTime, SampleFormat, SampleRate};
pub use session::{
    ConfigError, HoldMode, MediaSession, MediaSessionConfig, SessionError, SessionEvent, SessionId,
    SessionState,
};
