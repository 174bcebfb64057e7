//! Audio on the media clock: the conference [`mixer`] (N-1 mixes, per-participant resampling
//! and codecs, limiter, active speaker) and the call [`mod@recorder`] (WAV through a lock-free ring,
//! never blocking the media path).

mod limiter;
pub mod mixer;
mod participant;
pub mod recorder;
mod speaker;

pub use mixer::{
    input_latency, AudioMixer, MixerConfig, MixerError, MixerEvent, MixerStats, ParticipantCodec,
    ParticipantConfig, ParticipantId,
};
pub use recorder::{
    recorder, RecordMode, RecorderConfig, RecorderError, RecorderTap, RecorderWriter,
    RecordingReport,
};
