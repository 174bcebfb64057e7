//! Audio processing stages. Every stage implements [`AudioStage`] on 10 ms mono f32 frames.

pub mod aec;
pub mod plc;
pub mod stage;

pub use stage::{check_frame, sanitize, AudioStage, ProcessError, StageMetrics};
