//! RNNoise noise suppression for media-core: the processing of Xiph's RNNoise (as ported to
//! Rust by nnnoiseless 0.5) written for speed, with the same output.
//!
//! [`Rnnoise`] takes 480-sample frames of 48 kHz audio in the 16-bit range and returns each
//! frame denoised one frame later, with the network's voice probability. Compared with
//! nnnoiseless on the same input the output is identical to the bit (checked by media-core's
//! `tests/ns_equivalence.rs` on real speech in noise, silence and full-scale input), at about
//! 55 % of its cost (17.5 µs against 31.2 µs per 10 ms at 48 kHz on the machine it was
//! written on, media-core's chain profile; its README has the figures):
//!
//! * the FFTs are planned once (`realfft`), with scratch owned by the state, where
//!   nnnoiseless's FFT wrapper looks its planner and scratch up in thread-local maps on every
//!   call;
//! * the weights are converted to f32 once, the 1/256 scale folded in (a power of two: every
//!   sum rounds as before), and stored in column blocks of 32/16/8 outputs so that a block's
//!   accumulators stay in registers: the GRU gates are fused (update and reset gates in one
//!   pass over `[input; state]`, the candidate in another) and each output still sums its
//!   inputs in RNNoise's order;
//! * the pitch correlations are vectorised across lags or candidates, never across a sum, so
//!   the periods found are the same;
//! * the band energies and correlation are one pass; nothing allocates per frame.
//!
//! The model is RNNoise's default, committed here in nnnoiseless's format
//! (`src/rnnoise_weights.rnn`; BSD-3-Clause, see `LICENSE` and `README.md`) and parsed once per
//! process into f32 matrices shared by every [`Rnnoise`]; a damaged file is a [`ModelError`].
//!
//! The crate is separate from media-core so that it can be built optimised in debug profiles
//! (like the other DSP dependencies): every processing test runs it.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod model;
mod pitch;
mod rnnoise;

pub use model::ModelError;
pub use rnnoise::{Rnnoise, FRAME_SIZE};
