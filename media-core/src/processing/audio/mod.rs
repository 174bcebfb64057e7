//! Audio processing stages. Every stage implements [`AudioStage`] on 10 ms mono f32 frames.
//!
//! The capture chain is high-pass -> AEC -> NS ([`ns`]) -> AGC ([`agc`]) -> VAD ([`vad`]);
//! [`level`] measures active speech level (ITU-T P.56) for the AGC's tests and for analysis.

pub mod agc;
pub mod level;
pub mod ns;
pub mod plc;
mod ratio;
pub mod stage;
pub mod vad;

pub use agc::{AgcConfig, GainController};
pub use level::active_speech_level;
pub use ns::{NoiseSuppressor, NsConfig};
pub use stage::{check_frame, sanitize, AudioStage, ProcessError, StageMetrics};
pub use vad::{VadConfig, VoiceActivityDetector};
