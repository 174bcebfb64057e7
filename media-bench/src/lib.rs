//! Bench support: safe wrappers over C reference implementations, compiled only with the
//! `c-reference` feature, so that each bench can report our time beside theirs in one run.
#![deny(missing_docs)]

/// Test signals for benches.
pub mod signal {
    /// A deterministic speech-like test signal: a few harmonics with a slow amplitude envelope
    /// plus low-level noise, `n` samples at `rate` Hz.
    pub fn speechlike(n: usize, rate: u32) -> Vec<i16> {
        let mut seed = 0x1234_5678u32;
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                let env = 0.5 + 0.5 * (2.0 * std::f64::consts::PI * 3.0 * t).sin();
                let f0 = 140.0 + 30.0 * (2.0 * std::f64::consts::PI * 0.7 * t).sin();
                let mut x = 0.0;
                for h in 1..8 {
                    x += (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64;
                }
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = f64::from((seed >> 16) as i16) / 32768.0 * 0.01;
                ((x * 0.3 * env + noise) * 20000.0).clamp(-32768.0, 32767.0) as i16
            })
            .collect()
    }
}

pub mod quality;

#[cfg(feature = "c-reference")]
pub mod cref;
