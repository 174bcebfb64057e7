//! Comfort noise: the RFC 3389 payload (a SID, "silence insertion descriptor"), its analysis
//! from background noise and the synthesis of noise that matches it.
//!
//! # The payload
//!
//! One byte of noise level, `0..=127` meaning 0 to -127 dBov (0 dBov is the overload point: a
//! full-scale square wave, so a full-scale sine is -3 dBov and 0 dBm0 is -6.18 dBov), then
//! optionally `M` bytes of reflection coefficients of an all-pole model of the noise spectrum,
//! lowest order first (RFC 3389 §3). Each coefficient `k` in (-1, 1) is quantised as
//! `round(128 k) + 127`, so byte `b` stands for `(b - 127) / 128`, as in G.711 Appendix II and
//! the implementations that interoperate (WebRTC, FFmpeg). The sign convention is that of the
//! Levinson-Durbin recursion with the synthesis filter `1 / A(z)`,
//! `A(z) = 1 + a1 z^-1 + ... + aM z^-M`, `a_m = k_m` at step `m`: a low-pass noise has a
//! negative first coefficient.
//!
//! [`CnPayload`] keeps the bytes as they are (so parsing and writing round-trip) and gives the
//! values; up to [`MAX_ORDER`] = 12 coefficients are kept, further ones are ignored as RFC 3389
//! allows ("the decoder may reduce the model order").
//!
//! # Analysis
//!
//! [`CnEncoder`] measures the mean power of a block of background noise (any length) for the
//! level, and for the spectrum runs Levinson-Durbin on the autocorrelation of the
//! Hann-windowed block, with a Gaussian lag window (60 Hz bandwidth expansion) and a -40 dB
//! white-noise floor so that the model stays well-conditioned, at orders up to 12.
//!
//! # Synthesis
//!
//! [`CnGenerator`] drives the all-pole filter `1 / A(z)` with white noise from a seeded
//! [`SplitMix64`], scaled so that the output power is the coded level: for reflection
//! coefficients `k_i` the filter's power gain is `1 / prod(1 - k_i^2)`. A new SID does not
//! switch the noise abruptly: level (in amplitude) and reflection coefficients glide linearly
//! to the new values over [`CnGenerator::GLIDE_MS`], the filter being rebuilt every
//! millisecond (interpolated reflection coefficients of magnitude below 1 always give a stable
//! filter). Nothing allocates after construction.

use std::fmt;

use crate::frame::SampleRate;
use crate::signal::SplitMix64;

/// The highest model order kept.
pub const MAX_ORDER: usize = 12;
/// The longest payload: level byte and [`MAX_ORDER`] coefficients.
pub const MAX_PAYLOAD: usize = 1 + MAX_ORDER;
/// The noise level byte that means silence (-127 dBov).
pub const SILENT_LEVEL: u8 = 127;

/// A malformed comfort noise payload or a bad argument.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CnError {
    /// The payload is empty (it needs at least the level byte).
    Empty,
    /// The output buffer is too small.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
    },
    /// A configuration value is out of range.
    InvalidConfig(&'static str),
}

impl fmt::Display for CnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "empty comfort noise payload"),
            Self::BufferTooSmall { needed } => {
                write!(f, "comfort noise payload needs {needed} bytes")
            }
            Self::InvalidConfig(why) => write!(f, "invalid comfort noise configuration: {why}"),
        }
    }
}

impl std::error::Error for CnError {}

/// An RFC 3389 comfort noise payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CnPayload {
    level: u8,
    order: u8,
    coeffs: [u8; MAX_ORDER],
}

impl CnPayload {
    /// Parses a payload. The level byte's unused top bit is ignored; coefficients beyond the
    /// twelfth are dropped. Fails only on an empty payload.
    pub fn parse(payload: &[u8]) -> Result<Self, CnError> {
        let (&level, rest) = payload.split_first().ok_or(CnError::Empty)?;
        let order = rest.len().min(MAX_ORDER);
        let mut coeffs = [127u8; MAX_ORDER];
        coeffs[..order].copy_from_slice(&rest[..order]);
        Ok(Self {
            level: level & 0x7F,
            order: order as u8,
            coeffs,
        })
    }

    /// A payload for a noise level in dBov (rounded to whole dB, clamped to 0..=-127) and
    /// reflection coefficients (at most [`MAX_ORDER`] used, each clamped to ±127/128).
    pub fn new(level_dbov: f64, reflection: &[f64]) -> Self {
        let level = if level_dbov.is_finite() {
            (-level_dbov).round().clamp(0.0, 127.0) as u8
        } else {
            SILENT_LEVEL
        };
        let order = reflection.len().min(MAX_ORDER);
        let mut coeffs = [127u8; MAX_ORDER];
        for (c, &k) in coeffs.iter_mut().zip(reflection) {
            let k = if k.is_finite() { k } else { 0.0 };
            *c = ((k * 128.0).round() + 127.0).clamp(0.0, 254.0) as u8;
        }
        Self {
            level,
            order: order as u8,
            coeffs,
        }
    }

    /// The noise level byte: the level in -dBov, 0..=127.
    pub fn level(&self) -> u8 {
        self.level
    }

    /// The noise level in dBov (0 down to -127).
    pub fn level_dbov(&self) -> f64 {
        -f64::from(self.level)
    }

    /// The model order: how many reflection coefficients the payload carries (up to 12).
    pub fn order(&self) -> usize {
        usize::from(self.order)
    }

    /// The coefficient bytes as carried.
    pub fn coefficient_bytes(&self) -> &[u8] {
        &self.coeffs[..self.order()]
    }

    /// Reflection coefficient `i` (0-based), `(b - 127) / 128`, kept within ±127/128 so
    /// that the synthesis filter is stable; 0 beyond the order.
    pub fn reflection(&self, i: usize) -> f64 {
        if i >= self.order() {
            return 0.0;
        }
        ((f64::from(self.coeffs[i]) - 127.0) / 128.0).clamp(-127.0 / 128.0, 127.0 / 128.0)
    }

    /// The payload's length in bytes.
    pub fn len(&self) -> usize {
        1 + self.order()
    }

    /// Always false: a payload has at least its level byte.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the payload at the start of `out`; returns its length.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, CnError> {
        let n = self.len();
        let dst = out
            .get_mut(..n)
            .ok_or(CnError::BufferTooSmall { needed: n })?;
        dst[0] = self.level;
        dst[1..].copy_from_slice(self.coefficient_bytes());
        Ok(n)
    }
}

/// Levinson-Durbin: reflection coefficients `k[..order]` and predictor `a[..order]`
/// (`A(z) = 1 + sum a_i z^-i`) from autocorrelation `r[..=order]`. Returns the prediction
/// error power; stops early (leaving the rest zero) if the error vanishes.
fn levinson(r: &[f64], order: usize, k: &mut [f64], a: &mut [f64]) -> f64 {
    k[..order].fill(0.0);
    a[..order].fill(0.0);
    let mut err = r[0];
    let mut prev = [0f64; MAX_ORDER];
    for m in 0..order {
        if err <= r[0] * 1e-12 {
            break;
        }
        let mut acc = r[m + 1];
        for i in 0..m {
            acc += a[i] * r[m - i];
        }
        let km = (-acc / err).clamp(-0.999_999, 0.999_999);
        prev[..m].copy_from_slice(&a[..m]);
        for i in 0..m {
            a[i] = prev[i] + km * prev[m - 1 - i];
        }
        a[m] = km;
        k[m] = km;
        err *= 1.0 - km * km;
    }
    err
}

/// Predictor coefficients to reflection coefficients (the step-down recursion); returns
/// `prod(1 - k^2)`, the filter's prediction gain, or 0 if the filter is not stable.
fn step_down(a: &[f64; MAX_ORDER]) -> f64 {
    let mut cur = *a;
    let mut prev = [0f64; MAX_ORDER];
    let mut e = 1.0;
    for m in (0..MAX_ORDER).rev() {
        let k = cur[m];
        if k.abs() >= 1.0 {
            return 0.0;
        }
        let d = 1.0 - k * k;
        e *= d;
        for i in 0..m {
            prev[i] = (cur[i] - k * cur[m - 1 - i]) / d;
        }
        cur[..m].copy_from_slice(&prev[..m]);
    }
    e
}

/// Reflection coefficients to predictor coefficients (the step-up recursion).
fn step_up(k: &[f64; MAX_ORDER], a: &mut [f64; MAX_ORDER]) {
    let mut prev = [0f64; MAX_ORDER];
    for m in 0..MAX_ORDER {
        prev[..m].copy_from_slice(&a[..m]);
        for i in 0..m {
            a[i] = prev[i] + k[m] * prev[m - 1 - i];
        }
        a[m] = k[m];
    }
}

/// Analyses background noise into comfort noise payloads.
#[derive(Debug, Clone)]
pub struct CnEncoder {
    rate: u32,
    order: usize,
    /// Windowed samples of the current chunk (capacity fixed at construction).
    scratch: Vec<f64>,
    /// Gaussian lag window.
    lag: [f64; MAX_ORDER + 1],
}

impl CnEncoder {
    /// The longest block analysed in one piece; longer blocks are cut into pieces of this
    /// length whose autocorrelations add up.
    pub const CHUNK_MS: u32 = 40;

    /// An encoder for `rate` (8 to 96 kHz) producing `order` coefficients (0 to 12; 0 sends
    /// the level only).
    pub fn new(rate: SampleRate, order: usize) -> Result<Self, CnError> {
        if !(8000..=96_000).contains(&rate.hz()) {
            return Err(CnError::InvalidConfig("rate must be 8000..=96000 Hz"));
        }
        if order > MAX_ORDER {
            return Err(CnError::InvalidConfig("order must be 0..=12"));
        }
        let mut lag = [1.0; MAX_ORDER + 1];
        // Gaussian lag window of 60 Hz (one-sided) bandwidth.
        let a = std::f64::consts::TAU * 60.0 / f64::from(rate.hz());
        for (i, l) in lag.iter_mut().enumerate() {
            *l = (-0.5 * (a * i as f64).powi(2)).exp();
        }
        Ok(Self {
            rate: rate.hz(),
            order,
            scratch: Vec::with_capacity(rate.samples_in_ms(Self::CHUNK_MS)),
            lag,
        })
    }

    /// The model order.
    pub fn order(&self) -> usize {
        self.order
    }

    /// A payload describing `noise` (16-bit samples).
    pub fn analyze_i16(&mut self, noise: &[i16]) -> CnPayload {
        self.analyze(noise.len(), |i| f64::from(noise[i]) / 32768.0)
    }

    /// A payload describing `noise` (f32 samples, full scale ±1; non-finite ones count as 0).
    pub fn analyze_f32(&mut self, noise: &[f32]) -> CnPayload {
        self.analyze(noise.len(), |i| {
            let s = f64::from(noise[i]);
            if s.is_finite() {
                s
            } else {
                0.0
            }
        })
    }

    fn analyze(&mut self, len: usize, sample: impl Fn(usize) -> f64) -> CnPayload {
        if len == 0 {
            return CnPayload::new(-127.0, &[]);
        }
        let chunk = (self.rate as usize * Self::CHUNK_MS as usize / 1000).max(1);
        let mut power = 0.0;
        let mut r = [0f64; MAX_ORDER + 1];
        let mut start = 0;
        while start < len {
            let n = chunk.min(len - start);
            self.scratch.clear();
            for i in 0..n {
                let x = sample(start + i);
                power += x * x;
                let w = 0.5 - 0.5 * (std::f64::consts::TAU * (i as f64 + 0.5) / n as f64).cos();
                // Within capacity: n <= chunk.
                self.scratch.push(w * x);
            }
            for (lag, rl) in r.iter_mut().enumerate().take(self.order + 1) {
                *rl += self.scratch[..n.saturating_sub(lag)]
                    .iter()
                    .zip(&self.scratch[lag.min(n)..])
                    .map(|(a, b)| a * b)
                    .sum::<f64>();
            }
            start += n;
        }
        let power = power / len as f64;
        let level_dbov = if power > 0.0 {
            10.0 * power.log10()
        } else {
            -127.0
        };
        if r[0] <= 0.0 || self.order == 0 {
            return CnPayload::new(level_dbov, &[]);
        }
        for (rl, l) in r.iter_mut().zip(&self.lag) {
            *rl *= l;
        }
        // White-noise floor 40 dB down keeps the recursion well-conditioned.
        r[0] *= 1.0001;
        let mut k = [0f64; MAX_ORDER];
        let mut a = [0f64; MAX_ORDER];
        levinson(&r, self.order, &mut k, &mut a);
        CnPayload::new(level_dbov, &k[..self.order])
    }
}

/// Synthesises comfort noise from RFC 3389 payloads, streaming into caller buffers.
///
/// ```
/// use media_core::processing::audio::cng::{CnEncoder, CnGenerator, CnPayload};
/// use media_core::SampleRate;
///
/// // The far end sent a SID: -50 dBov, gently low-pass.
/// let sid = CnPayload::parse(&[50, 127 - 60, 127 + 20])?;
/// let mut cng = CnGenerator::new(SampleRate::HZ_8000, 1)?;
/// cng.update(&sid);
/// let mut frame = [0i16; 160];
/// cng.fill_i16(&mut frame);
/// assert!(frame.iter().any(|&s| s != 0));
/// # Ok::<(), media_core::processing::audio::cng::CnError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CnGenerator {
    rate: u32,
    glide: u32,
    block: u32,
    /// Bandwidth expansion factor per sample.
    gamma: f64,
    rng: SplitMix64,
    seed: u64,
    /// Whether a SID has arrived (silence before).
    active: bool,
    /// Glide from (level, k) to (level, k); `pos` samples of `glide` done.
    from_amp: f64,
    from_k: [f64; MAX_ORDER],
    to_amp: f64,
    to_k: [f64; MAX_ORDER],
    pos: u32,
    /// The filter in use: predictor, excitation gain, samples to its next rebuild.
    a: [f64; MAX_ORDER],
    gain: f64,
    until_rebuild: u32,
    cur_amp: f64,
    cur_k: [f64; MAX_ORDER],
    /// Past outputs, newest first.
    hist: [f64; MAX_ORDER],
}

impl CnGenerator {
    /// How long a change of SID takes to sound fully, ms.
    pub const GLIDE_MS: u32 = 50;
    /// Bandwidth expansion of the synthesis filter, Hz: every pole is widened by this much
    /// (0.988 of the unit circle at 8 kHz), which bounds how long the filter rings.
    pub const BANDWIDTH_HZ: f64 = 30.0;

    /// A generator at `rate` (8 to 96 kHz) whose noise comes from `seed`; silent until the
    /// first [`update`](Self::update).
    pub fn new(rate: SampleRate, seed: u64) -> Result<Self, CnError> {
        if !(8000..=96_000).contains(&rate.hz()) {
            return Err(CnError::InvalidConfig("rate must be 8000..=96000 Hz"));
        }
        Ok(Self {
            rate: rate.hz(),
            glide: rate.samples_in_ms(Self::GLIDE_MS) as u32,
            block: rate.samples_in_ms(1).max(1) as u32,
            gamma: (-std::f64::consts::PI * Self::BANDWIDTH_HZ / f64::from(rate.hz())).exp(),
            rng: SplitMix64(seed),
            seed,
            active: false,
            from_amp: 0.0,
            from_k: [0.0; MAX_ORDER],
            to_amp: 0.0,
            to_k: [0.0; MAX_ORDER],
            pos: 0,
            a: [0.0; MAX_ORDER],
            gain: 0.0,
            until_rebuild: 0,
            cur_amp: 0.0,
            cur_k: [0.0; MAX_ORDER],
            hist: [0.0; MAX_ORDER],
        })
    }

    /// The output rate in Hz.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Takes a new SID. The first one sounds at once; later ones glide in over
    /// [`GLIDE_MS`](Self::GLIDE_MS).
    pub fn update(&mut self, sid: &CnPayload) {
        let amp = if sid.level() >= SILENT_LEVEL {
            0.0
        } else {
            10f64.powf(sid.level_dbov() / 20.0)
        };
        let mut k = [0.0; MAX_ORDER];
        for (i, k) in k.iter_mut().enumerate() {
            *k = sid.reflection(i);
        }
        if self.active {
            self.from_amp = self.cur_amp;
            self.from_k = self.cur_k;
            self.pos = 0;
        } else {
            self.from_amp = amp;
            self.from_k = k;
            self.pos = self.glide;
            self.active = true;
        }
        self.to_amp = amp;
        self.to_k = k;
        self.until_rebuild = 0;
    }

    /// Parses `payload` and takes it as the new SID.
    pub fn update_from_bytes(&mut self, payload: &[u8]) -> Result<(), CnError> {
        let sid = CnPayload::parse(payload)?;
        self.update(&sid);
        Ok(())
    }

    /// Back to silence, with the filter cleared and the noise restarted from the seed.
    pub fn reset(&mut self) {
        if let Ok(fresh) = Self::new(SampleRate(self.rate), self.seed) {
            *self = fresh;
        }
    }

    /// Rebuilds the filter at the current point of the glide.
    fn rebuild(&mut self) {
        let t = if self.glide == 0 {
            1.0
        } else {
            (f64::from(self.pos) / f64::from(self.glide)).min(1.0)
        };
        let amp = self.from_amp + t * (self.to_amp - self.from_amp);
        // The filter's memory carries the old level: scale it with the level, or a sharply
        // resonant model (poles near the unit circle ring for a long time) would keep
        // sounding at the old level long after a quieter SID.
        if self.cur_amp > 0.0 {
            let r = amp / self.cur_amp;
            self.hist.iter_mut().for_each(|h| *h *= r);
        }
        self.cur_amp = amp;
        for i in 0..MAX_ORDER {
            self.cur_k[i] = self.from_k[i] + t * (self.to_k[i] - self.from_k[i]);
        }
        step_up(&self.cur_k, &mut self.a);
        // Bandwidth expansion: poles pulled in to at most `gamma` of the unit circle, so that
        // the filter forgets its past within tens of ms whatever the payload says.
        let mut g = 1.0;
        for a in self.a.iter_mut() {
            g *= self.gamma;
            *a *= g;
        }
        // Output power = excitation power x prod(1 - k^2) of the filter actually used; the
        // excitation is uniform with unit variance.
        let e = step_down(&self.a);
        self.gain = self.cur_amp * e.sqrt();
        self.until_rebuild = self.block;
    }

    #[inline]
    fn next_sample(&mut self) -> f64 {
        if !self.active {
            return 0.0;
        }
        if self.until_rebuild == 0 {
            self.rebuild();
        }
        self.until_rebuild -= 1;
        if self.pos < self.glide {
            self.pos += 1;
        }
        // Uniform in [-sqrt 3, sqrt 3): unit variance.
        let u = (self.rng.unit() * 2.0 - 1.0) * 1.732_050_807_568_877_2;
        let mut y = self.gain * u;
        for (a, h) in self.a.iter().zip(&self.hist) {
            y -= a * h;
        }
        if y.is_nan() || y.abs() > 8.0 {
            // Cannot happen with a stable filter and a level of at most 0 dBov; if rounding
            // ever says otherwise, start the filter afresh rather than run away.
            self.hist = [0.0; MAX_ORDER];
            y = 0.0;
        }
        self.hist.copy_within(..MAX_ORDER - 1, 1);
        self.hist[0] = y;
        y
    }

    /// Writes the next `out.len()` samples of comfort noise (16-bit).
    pub fn fill_i16(&mut self, out: &mut [i16]) {
        for o in out {
            *o = (self.next_sample() * 32768.0)
                .round()
                .clamp(-32768.0, 32767.0) as i16;
        }
    }

    /// Writes the next `out.len()` samples of comfort noise (f32, full scale ±1).
    pub fn fill_f32(&mut self, out: &mut [f32]) {
        for o in out {
            *o = self.next_sample().clamp(-1.0, 1.0) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_bytes_and_values() {
        let p = CnPayload::parse(&[0x80 | 40, 0, 127, 254, 255]).unwrap();
        assert_eq!(p.level(), 40);
        assert_eq!(p.level_dbov(), -40.0);
        assert_eq!(p.order(), 4);
        assert_eq!(p.reflection(0), -127.0 / 128.0);
        assert_eq!(p.reflection(1), 0.0);
        assert_eq!(p.reflection(2), 127.0 / 128.0);
        // 255 would be +1: kept just inside the unit circle.
        assert_eq!(p.reflection(3), 127.0 / 128.0);
        assert_eq!(p.reflection(4), 0.0);
        let mut out = [0u8; 5];
        assert_eq!(p.write(&mut out), Ok(5));
        assert_eq!(out, [40, 0, 127, 254, 255]);
        assert_eq!(
            p.write(&mut [0u8; 4]),
            Err(CnError::BufferTooSmall { needed: 5 })
        );
        assert_eq!(CnPayload::parse(&[]), Err(CnError::Empty));
        let long: Vec<u8> = (0..20).collect();
        assert_eq!(CnPayload::parse(&long).unwrap().order(), MAX_ORDER);
        // Quantisation: round(128 k) + 127.
        let q = CnPayload::new(-33.4, &[-0.5, 0.25, 2.0, f64::NAN]);
        assert_eq!(q.level(), 33);
        assert_eq!(q.coefficient_bytes(), &[63, 159, 254, 127]);
        assert_eq!(CnPayload::new(5.0, &[]).level(), 0);
        assert_eq!(CnPayload::new(f64::NEG_INFINITY, &[]).level(), 127);
    }

    #[test]
    fn levinson_recovers_an_ar1_process() {
        // r[l] = rho^l for an AR(1) process x[n] = rho x[n-1] + e[n]: k1 = -rho, rest 0.
        let rho = 0.8f64;
        let r: Vec<f64> = (0..=4).map(|l| rho.powi(l)).collect();
        let (mut k, mut a) = ([0.0; MAX_ORDER], [0.0; MAX_ORDER]);
        let err = levinson(&r, 4, &mut k, &mut a);
        assert!((k[0] + rho).abs() < 1e-12 && k[1..4].iter().all(|k| k.abs() < 1e-12));
        assert!((err - (1.0 - rho * rho)).abs() < 1e-12);
        let mut a2 = [0.0; MAX_ORDER];
        step_up(&k, &mut a2);
        assert!(a.iter().zip(&a2).all(|(x, y)| (x - y).abs() < 1e-12));
    }

    #[test]
    fn silent_until_the_first_sid_and_after_reset() {
        let mut g = CnGenerator::new(SampleRate::HZ_16000, 3).unwrap();
        let mut b = [1i16; 64];
        g.fill_i16(&mut b);
        assert!(b.iter().all(|&s| s == 0));
        g.update(&CnPayload::new(-30.0, &[]));
        g.fill_i16(&mut b);
        assert!(b.iter().any(|&s| s != 0));
        g.reset();
        g.fill_i16(&mut b);
        assert!(b.iter().all(|&s| s == 0));
        // A silent SID is silence.
        g.update(&CnPayload::new(-127.0, &[0.5]));
        g.fill_i16(&mut b);
        assert!(b.iter().all(|&s| s == 0));
        assert!(CnGenerator::new(SampleRate(4000), 0).is_err());
        assert!(CnEncoder::new(SampleRate::HZ_8000, 13).is_err());
    }
}
