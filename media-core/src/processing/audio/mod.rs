//! Audio processing stages. Every stage implements [`AudioStage`] on 10 ms mono f32 frames;
//! [`chain::ProcessingChain`] runs them in order on 16-bit capture audio.

pub mod aec;
pub mod chain;
pub mod cng;
pub mod dtmf;
pub mod highpass;
pub mod level;
pub mod plc;
pub mod stage;

pub use stage::{check_frame, sanitize, AudioStage, ProcessError, StageMetrics};
