//! Audio processing stages. Every stage implements [`AudioStage`] on 10 ms mono f32 frames.

pub mod cng;
pub mod dtmf;
pub mod plc;
pub mod stage;

pub use stage::{check_frame, sanitize, AudioStage, ProcessError, StageMetrics};
