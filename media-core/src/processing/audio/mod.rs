//! Audio processing stages.

pub mod plc;
