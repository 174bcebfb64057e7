//! Audio processing. Every stage implements [`AudioStage`] on 10 ms mono f32 frames
//! (concealment, DTMF detection); beside them are the tools that produce or measure audio
//! rather than transform it: the DTMF generator, comfort noise (RFC 3389) and the P.56
//! speech level meter.

pub mod cng;
pub mod dtmf;
pub mod level;
pub mod plc;
pub mod stage;

pub use stage::{check_frame, sanitize, AudioStage, ProcessError, StageMetrics};
