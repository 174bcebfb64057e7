//! Bench support: safe wrappers over C reference implementations, compiled only with the
//! `c-reference` feature, so that each bench can report our time beside theirs in one run.
#![deny(missing_docs)]

/// Test signals for benches.
pub mod signal {
    /// `n` samples of media-core's built-in speech-like test signal at `rate` Hz, starting
    /// inside a syllable so that every bench frame carries signal.
    pub fn speechlike(n: usize, rate: u32) -> Vec<i16> {
        let all = media_core::signal::speech_like((n as f64 / f64::from(rate)) + 1.0, rate);
        let start = all
            .iter()
            .position(|x| x.unsigned_abs() > 4000)
            .unwrap_or(0);
        let mut v: Vec<i16> = all.into_iter().skip(start).take(n).collect();
        v.resize(n, 0);
        v
    }
}

pub mod quality;

#[cfg(feature = "c-reference")]
pub mod cref;
pub mod dtmf;

pub mod eval;
