//! Audio processing stages. Every stage implements [`AudioStage`] on 10 ms mono f32 frames;
//! [`chain::ProcessingChain`] runs them in order on 16-bit or f32 capture audio.

pub mod aec;
pub mod agc;
pub mod chain;
pub mod cng;
pub mod dtmf;
pub mod highpass;
pub mod level;
pub mod ns;
pub mod plc;
mod ratio;
pub mod speech_level;
pub mod stage;
mod switch;
pub mod time_stretch;
pub mod vad;
mod vad_net;

pub use agc::{AgcConfig, GainController};
pub use chain::{ChainConfig, ChainMetrics, ProcessingChain, Slot, SpeechHint, VadInput};
pub use level::active_speech_level;
pub use ns::{NoiseSuppressor, NsConfig};
pub use stage::{check_frame, sanitize, AudioStage, ProcessError, StageMetrics};
pub use time_stretch::{StretchError, StretchMode, StretchOutcome, TimeStretcher};
pub use vad::{VadConfig, VoiceActivityDetector};
