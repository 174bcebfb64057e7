//! Echo-path simulation for testing echo cancellers on real speech: synthetic room impulse
//! responses, a bulk delay, an echo return loss, and the measures (ERLE) the tests judge by.
//!
//! Everything is deterministic for a given seed, so a test case is the same on every run. The
//! model is the classic linear one: the loudspeaker signal (far end) reaches the microphone
//! through `delay` plus a room response decaying by 60 dB in RT60, scaled so that the echo is
//! `erl_db` below the far-end signal; the microphone adds the near-end talker.
//!
//! ```
//! use media_core::processing::audio::aec::sim::{EchoPath, erle_db};
//! let far: Vec<f32> = (0..16_000).map(|i| ((i * 7919) % 200) as f32 / 1000.0 - 0.1).collect();
//! let path = EchoPath { rt60_s: 0.2, delay_ms: 40.0, erl_db: 10.0, seed: 1 };
//! let echo = path.echo(&far, 16_000);
//! assert_eq!(echo.len(), far.len());
//! let residual: Vec<f32> = echo.iter().map(|e| e * 0.01).collect();
//! assert!((erle_db(&echo, &residual) - 40.0).abs() < 0.01);
//! ```

use std::path::Path;

use realfft::RealFftPlanner;

use crate::error::WavError;
use crate::processing::format::resampler::resample_all;
use crate::signal::SplitMix64;
use crate::wav::read_wav;

/// A simulated echo path: room response, bulk delay and echo return loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EchoPath {
    /// Reverberation time (60 dB decay) of the room response, in seconds.
    pub rt60_s: f32,
    /// Bulk delay from loudspeaker signal to microphone (buffers plus acoustics), in ms.
    pub delay_ms: f32,
    /// Echo return loss: how far the echo is below the far-end signal, in dB (power).
    pub erl_db: f32,
    /// Seed of the room response.
    pub seed: u64,
}

impl EchoPath {
    /// The echo of `far` at the microphone (same length as `far`).
    pub fn echo(&self, far: &[f32], rate: u32) -> Vec<f32> {
        let rir = room_impulse_response(rate, self.rt60_s, self.seed);
        let mut echo = convolve(far, &rir);
        echo.truncate(far.len());
        let p_far = power(far);
        let p_echo = power(&echo);
        let gain = if p_echo > 0.0 {
            (p_far / p_echo / 10f64.powf(f64::from(self.erl_db) / 10.0)).sqrt() as f32
        } else {
            0.0
        };
        let delay = (f64::from(self.delay_ms.max(0.0)) * f64::from(rate) / 1000.0).round() as usize;
        let mut out = vec![0.0; far.len()];
        for (o, &e) in out.iter_mut().skip(delay).zip(&echo) {
            *o = e * gain;
        }
        out
    }
}

/// A synthetic room impulse response at `rate` Hz decaying by 60 dB in `rt60_s` seconds, of unit
/// energy: a direct path, a few early reflections, then exponentially decaying low-passed noise,
/// all seen through a loudspeaker's high-pass (about 150 Hz).
pub fn room_impulse_response(rate: u32, rt60_s: f32, seed: u64) -> Vec<f32> {
    let fs = f64::from(rate.max(1));
    let rt60 = f64::from(rt60_s.clamp(0.01, 2.0));
    let len = ((rt60 * fs) as usize).max(16);
    let mut rng = SplitMix64(seed ^ 0x005e_ed0f_ec40);
    let mut gauss = move || {
        // Sum of uniforms: close enough to Gaussian for a diffuse tail.
        (0..4).map(|_| rng.unit()).sum::<f64>() - 2.0
    };
    let decay = |n: usize| (-6.908 * n as f64 / (rt60 * fs)).exp();
    let mut h = vec![0.0f64; len];
    h[0] = 1.0;
    // Early reflections between 2 and 20 ms.
    for k in 0..6 {
        let t = 0.002 + 0.003 * k as f64 + 0.002 * (gauss() + 2.0) / 4.0;
        let n = ((t * fs) as usize).min(len - 1);
        let sign = if gauss() > 0.0 { 1.0 } else { -1.0 };
        h[n] += sign * 0.5 * decay(n) * (0.6 + 0.4 * (gauss() + 2.0) / 4.0);
    }
    // Diffuse tail from 5 ms, low-passed (air and wall absorption) with a one-pole filter.
    let start = (0.005 * fs) as usize;
    let mut lp = 0.0;
    let tail_gain = 0.35;
    for (n, x) in h.iter_mut().enumerate().skip(start) {
        lp = 0.6 * lp + 0.4 * gauss();
        *x += tail_gain * lp * decay(n);
    }
    // Loudspeaker: second-order high-pass (two one-pole sections) at about 150 Hz.
    let a = (-2.0 * std::f64::consts::PI * 150.0 / fs).exp();
    for _ in 0..2 {
        let (mut x1, mut y1) = (0.0, 0.0);
        for x in h.iter_mut() {
            let y = a * (y1 + *x - x1);
            x1 = *x;
            y1 = y;
            *x = y;
        }
    }
    let energy: f64 = h.iter().map(|x| x * x).sum();
    let norm = if energy > 0.0 { energy.sqrt() } else { 1.0 };
    h.iter().map(|&x| (x / norm) as f32).collect()
}

/// Linear convolution of `x` with `h` (length `x.len() + h.len() - 1`), through the FFT.
pub fn convolve(x: &[f32], h: &[f32]) -> Vec<f32> {
    if x.is_empty() || h.is_empty() {
        return Vec::new();
    }
    let n = (x.len() + h.len() - 1).next_power_of_two();
    let mut planner = RealFftPlanner::<f64>::new();
    let fwd = planner.plan_fft_forward(n);
    let inv = planner.plan_fft_inverse(n);
    let mut a: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    a.resize(n, 0.0);
    let mut b: Vec<f64> = h.iter().map(|&v| f64::from(v)).collect();
    b.resize(n, 0.0);
    let mut fa = fwd.make_output_vec();
    let mut fb = fwd.make_output_vec();
    // Lengths are the planner's own, so these cannot fail.
    if fwd.process(&mut a, &mut fa).is_err() || fwd.process(&mut b, &mut fb).is_err() {
        return Vec::new();
    }
    for (p, q) in fa.iter_mut().zip(&fb) {
        *p *= q / n as f64;
    }
    let mut out = inv.make_output_vec();
    if inv.process(&mut fa, &mut out).is_err() {
        return Vec::new();
    }
    out.truncate(x.len() + h.len() - 1);
    out.into_iter().map(|v| v as f32).collect()
}

/// Mean power of a signal.
pub fn power(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64
}

/// Echo return loss enhancement in dB: `10 log10(E[echo²] / E[residual²])` (the two slices are
/// compared over their common length). 200 dB if the residual is exactly zero.
pub fn erle_db(echo: &[f32], residual: &[f32]) -> f32 {
    let n = echo.len().min(residual.len());
    let pe = power(&echo[..n]);
    let pr = power(&residual[..n]);
    if pr <= 0.0 {
        return 200.0;
    }
    (10.0 * (pe / pr).log10()) as f32
}

/// Active speech level of `x` in dB relative to full scale: the power of the samples in 10 ms
/// blocks whose power lies within 30 dB of the loudest block (a simple stand-in for ITU-T P.56).
pub fn active_level_db(x: &[f32], rate: u32) -> f32 {
    let block = (rate as usize / 100).max(1);
    let powers: Vec<f64> = x.chunks(block).map(power).collect();
    let peak = powers.iter().cloned().fold(0.0, f64::max);
    if peak <= 0.0 {
        return -200.0;
    }
    let active: Vec<f64> = powers.into_iter().filter(|&p| p > peak * 1e-3).collect();
    let mean = active.iter().sum::<f64>() / active.len().max(1) as f64;
    (10.0 * mean.log10()) as f32
}

/// Scales `x` in place so that its active speech level is `level_db` (dBFS).
pub fn set_active_level(x: &mut [f32], rate: u32, level_db: f32) {
    let now = active_level_db(x, rate);
    if now <= -199.0 {
        return;
    }
    let g = 10f32.powf((level_db - now) / 20.0);
    for v in x.iter_mut() {
        *v *= g;
    }
}

/// Reads WAV files (any rate; stereo is averaged), resamples each to `rate`, and concatenates
/// them with `gap_ms` of silence after each, as f32 in ±1.
pub fn speech_from_files<P: AsRef<Path>>(
    paths: &[P],
    rate: u32,
    gap_ms: u32,
) -> Result<Vec<f32>, WavError> {
    let mut out = Vec::new();
    for p in paths {
        let wav = read_wav(p)?;
        let mono: Vec<i16> = if wav.channels == 2 {
            wav.samples
                .chunks_exact(2)
                .map(|c| ((i32::from(c[0]) + i32::from(c[1])) / 2) as i16)
                .collect()
        } else {
            wav.samples
        };
        let resampled = if wav.sample_rate == rate {
            mono
        } else {
            resample_all(&mono, wav.sample_rate, rate, 1)
                .map_err(|e| WavError::Unsupported(e.to_string()))?
        };
        out.extend(resampled.iter().map(|&s| f32::from(s) / 32768.0));
        out.resize(out.len() + (rate as usize * gap_ms as usize) / 1000, 0.0);
    }
    Ok(out)
}

/// A test call: what the microphone picked up and what went into it.
#[derive(Debug, Clone)]
pub struct EchoScenario {
    /// Sample rate of every signal.
    pub rate: u32,
    /// The far-end (loudspeaker) signal.
    pub far: Vec<f32>,
    /// The near-end talker as the microphone hears it, without echo.
    pub near: Vec<f32>,
    /// The echo alone.
    pub echo: Vec<f32>,
    /// What the microphone captured: `near + echo` (plus any noise).
    pub mic: Vec<f32>,
}

impl EchoScenario {
    /// Builds a call of `far.len()` samples: `far` through `path`, plus `near` starting at
    /// `near_start` samples (zero-padded or cut to fit), plus white noise at `noise_db` dBFS
    /// (use -200 for none, seeded from the path's seed).
    pub fn new(
        rate: u32,
        far: Vec<f32>,
        near: &[f32],
        near_start: usize,
        path: &EchoPath,
        noise_db: f32,
    ) -> Self {
        let len = far.len();
        let echo = path.echo(&far, rate);
        let mut near_full = vec![0.0; len];
        for (d, &s) in near_full.iter_mut().skip(near_start).zip(near) {
            *d = s;
        }
        let mut rng = SplitMix64(path.seed.wrapping_mul(31).wrapping_add(7));
        let noise_amp = 10f32.powf(noise_db / 20.0) * 3f32.sqrt();
        let mic = near_full
            .iter()
            .zip(&echo)
            .map(|(&n, &e)| {
                let w = if noise_db > -199.0 {
                    noise_amp * (2.0 * rng.unit() as f32 - 1.0)
                } else {
                    0.0
                };
                n + e + w
            })
            .collect();
        Self {
            rate,
            far,
            near: near_full,
            echo,
            mic,
        }
    }

    /// Runs a canceller over the call in 10 ms frames: `f(far_frame, mic_frame, out_frame)`.
    /// Returns the output (a trailing partial frame is passed through unprocessed).
    pub fn run(&self, mut f: impl FnMut(&[f32], &[f32], &mut [f32])) -> Vec<f32> {
        let n = self.rate as usize / 100;
        let mut out = self.mic.clone();
        for ((far, mic), o) in self
            .far
            .chunks_exact(n)
            .zip(self.mic.chunks_exact(n))
            .zip(out.chunks_exact_mut(n))
        {
            f(far, mic, o);
        }
        out
    }
}

/// Converts f32 samples in ±1 to 16-bit with rounding and saturation.
pub fn to_i16(x: &[f32]) -> Vec<i16> {
    x.iter()
        .map(|&v| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rir_decays_and_has_unit_energy() {
        let h = room_impulse_response(16_000, 0.3, 7);
        assert_eq!(h.len(), 4800);
        let e: f64 = h.iter().map(|&x| f64::from(x * x)).sum();
        assert!((e - 1.0).abs() < 1e-3);
        let head: f64 = h[..800].iter().map(|&x| f64::from(x * x)).sum();
        let tail: f64 = h[4000..].iter().map(|&x| f64::from(x * x)).sum();
        assert!(head > 1000.0 * tail, "head {head} tail {tail}");
        assert_eq!(h, room_impulse_response(16_000, 0.3, 7));
    }

    #[test]
    fn echo_has_the_asked_delay_and_loss() {
        let mut rng = SplitMix64(3);
        let far: Vec<f32> = (0..32_000).map(|_| rng.unit() as f32 - 0.5).collect();
        let path = EchoPath {
            rt60_s: 0.2,
            delay_ms: 50.0,
            erl_db: 12.0,
            seed: 2,
        };
        let echo = path.echo(&far, 16_000);
        assert!(echo[..800].iter().all(|&x| x == 0.0));
        assert!(echo[800..900].iter().any(|&x| x != 0.0));
        let erl = 10.0 * (power(&far) / power(&echo)).log10();
        // The delay removes the last 50 ms of echo from the measured power.
        assert!((erl - 12.0).abs() < 0.2, "{erl}");
    }

    #[test]
    fn convolution_matches_direct_form() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let h = [0.5, -1.0];
        let y = convolve(&x, &h);
        let want = [0.5, 0.0, -0.5, -1.0, -4.0];
        for (a, b) in y.iter().zip(want) {
            assert!((a - b).abs() < 1e-5);
        }
    }
}
