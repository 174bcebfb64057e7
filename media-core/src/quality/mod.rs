//! Quality estimation (the E-model of ITU-T G.107).

pub mod estimation;

pub use estimation::{rate, CodecImpairment, EModelParams, Rating};
