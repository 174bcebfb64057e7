//! The VAD's network fed by our own front end, and the cheap conversion to 16 kHz before it.
//!
//! # Front end
//!
//! [`NetFrontEnd`] computes earshot's features itself and hands them to our own inference of
//! earshot's network (the `media-vad-model` crate, the same weights and bit-identical scores as
//! `earshot::DefaultPredictor`), mirroring
//! `earshot::Detector::predict_f32` step by step: the 256-sample hop scaled to the i16 range
//! and pre-emphasised (0.97) into a 768-sample history, a periodic Hann window of 768 samples,
//! zero-padded to a 1024-point real FFT, the power spectrum scaled back from the i16 range,
//! 40 triangular mel filters, `ln(x + 1e-20)`, the predictor's per-frame normalisation, and
//! the predictor over the last three frames of features. The differences from earshot's own
//! `Detector` are only in how it is computed:
//!
//! * the 1024-point real FFT is a planned 512-point complex rustfft (AVX picked at run time)
//!   of the even and odd samples, unpacked here straight into the power spectrum of the 486
//!   bins the filters read: about 11 000 instructions against 40 000 for earshot's scalar
//!   code (a planned `realfft` took 14 600, most of it its scalar unpacking);
//! * the window and the mel filters are computed here, not copied: the window is
//!   `0.5 - 0.5 cos(2 pi n / 768)` (within 2.1e-7 of earshot's table, which was computed in
//!   another precision), and the filters are HTK-mel triangles on 42 points evenly spaced in
//!   mel from 72 Hz to 7600 Hz, each point at FFT bin `floor(1025 f / 16000)` (bit-exact
//!   with earshot's table: same 40 start bins, same lengths, same f32 weights);
//! * the forty logs are one vectorised pass of a branch-free `ln` (within 1e-6 of `f32::ln`)
//!   instead of forty libm calls.
//!
//! The test `front_end_matches_earshot` (below) runs earshot's `Detector` and this front end
//! over the same real speech in noise (codec2's 16 kHz sample, 20 and 5 dB SNR, with a
//! reset in between) and bounds the difference of the scores by 1e-3; it is 3.9e-5, all of
//! it from the features. `model_matches_earshot` feeds the same features to our network and
//! to `earshot::DefaultPredictor`: the normalised features and the scores are bit-identical
//! on every hop.
//!
//! # Conversion to 16 kHz
//!
//! The network needs band energies at 16 kHz, not transparent audio, so [`To16`] is a short
//! symmetric Kaiser-windowed FIR (beta 4.55, about 50 dB stopband; cut-off at 0.45 of the
//! lower rate) of 8 taps per polyphase branch: a 24-tap decimator by 3 from 48 kHz, a 16-tap
//! decimator by 2 from 32 kHz, a 16-tap interpolator by 2 from 8 kHz. A 12 kHz tone at
//! 48 kHz comes out 51 dB down, 10 kHz at 32 kHz 56 dB down (the test
//! `to16_passes_speech_band_and_rejects_aliases`).
//! Each runs its branches over whole 10 ms blocks, sixteen outputs at a time held in
//! registers while every tap is added in (a loop the compiler vectorises). Against the 72-tap
//! resampler it replaces (built for the noise suppressor, far steeper) the VAD's frame
//! accuracy rose or stayed the same at every rate and SNR but one row (48 kHz, 10 dB:
//! 0.893 -> 0.890, still above webrtcvad's 0.872); see `media-bench/RESULTS.md`.

use std::sync::Arc;

use media_vad_model::{VadModel, FEATURES, FRAMES};
use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

/// Earshot's hop at 16 kHz.
pub(crate) const HOP: usize = 256;
/// Earshot's analysis window (48 ms at 16 kHz).
const WINDOW: usize = 768;
/// Earshot's FFT length.
const FFT: usize = 1024;
/// The complex FFT that computes the real one.
const HALF: usize = FFT / 2;
/// Power-spectrum bins the mel filters read (the last filter ends below bin 486).
const BINS: usize = 486;
/// Mel bands.
const MELS: usize = FEATURES;
/// Earshot's pre-emphasis.
const PRE_EMPHASIS: f32 = 0.97;
/// Earshot runs the FFT at the i16 scale, then scales the power back down.
const SCALE: f32 = 32768.0;
/// See [`SCALE`].
const POWER_FAC: f32 = 1.0 / (32768.0 * 32768.0);
/// Lowest and highest frequency of the mel points (Hz).
const MEL_LOW_HZ: f64 = 72.0;
/// See [`MEL_LOW_HZ`].
const MEL_HIGH_HZ: f64 = 7600.0;

fn hz_to_mel(f: f64) -> f64 {
    2595.0 * (1.0 + f / 700.0).log10()
}

fn mel_to_hz(m: f64) -> f64 {
    700.0 * (10f64.powf(m / 2595.0) - 1.0)
}

/// Earshot's analysis window: periodic Hann of 768 samples.
pub(crate) fn hann_window() -> Vec<f32> {
    (0..WINDOW)
        .map(|n| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / WINDOW as f64).cos()) as f32)
        .collect()
}

/// Earshot's mel filters: for each band its first FFT bin and its weights (the first weight
/// is always 0, as in earshot's table).
pub(crate) fn mel_filters() -> Vec<(usize, Vec<f32>)> {
    let (lo, hi) = (hz_to_mel(MEL_LOW_HZ), hz_to_mel(MEL_HIGH_HZ));
    let points: Vec<usize> = (0..MELS + 2)
        .map(|i| {
            let f = mel_to_hz(lo + (hi - lo) * i as f64 / (MELS + 1) as f64);
            (f * (FFT + 1) as f64 / 16000.0).floor() as usize
        })
        .collect();
    points
        .windows(3)
        .map(|p| {
            let (l, c, r) = (p[0], p[1], p[2]);
            let w = (l..r)
                .map(|k| {
                    if k < c {
                        (k - l) as f32 / (c - l) as f32
                    } else {
                        (r - k) as f32 / (r - c) as f32
                    }
                })
                .collect();
            (l, w)
        })
        .collect()
}

/// Earshot's feature extraction on a planned real FFT, feeding our inference of earshot's
/// network.
pub(crate) struct NetFrontEnd {
    model: VadModel,
    /// The last pre-emphasised input sample (i16 scale).
    prev: f32,
    /// The last 768 pre-emphasised samples (i16 scale).
    history: Vec<f32>,
    /// Normalised features of the last three hops, oldest first.
    features: [[f32; MELS]; FRAMES],
    /// Complex FFT of `HALF` points: the windowed frame's even samples as real parts, odd
    /// samples as imaginary parts.
    fft: Arc<dyn Fft<f32>>,
    time: Vec<Complex32>,
    spectrum: Vec<Complex32>,
    /// `spectrum[(HALF - k) % HALF]` for bin `k`.
    mirrored: Vec<Complex32>,
    scratch: Vec<Complex32>,
    /// `cos` and `sin` of `2 pi k / FFT` for bin `k`.
    twiddle_cos: Vec<f32>,
    twiddle_sin: Vec<f32>,
    power: Vec<f32>,
    window: Vec<f32>,
    /// Mel filters: first bin, offset of the weights in `mel_weights`, count.
    mel_bands: Vec<(usize, usize, usize)>,
    mel_weights: Vec<f32>,
    /// Log-mel bands (natural log) of the last two hops before normalisation, the newest at
    /// `log_mel_at` (a ring, so that nothing is shifted per hop).
    log_mel: [[f32; MELS]; 2],
    /// Index of the newest hop in `log_mel`.
    log_mel_at: usize,
    /// Spectral flux of the newest hop (see [`NetFrontEnd::flux`]).
    flux: f32,
}

impl NetFrontEnd {
    /// A front end with fresh state.
    pub(crate) fn new() -> Self {
        let fft = FftPlanner::<f32>::new().plan_fft_forward(HALF);
        let scratch = vec![Complex32::new(0.0, 0.0); fft.get_outofplace_scratch_len()];
        let angle = |k: usize| 2.0 * std::f64::consts::PI * k as f64 / FFT as f64;
        let mut mel_bands = Vec::with_capacity(MELS);
        let mut mel_weights = Vec::new();
        for (start, w) in mel_filters() {
            mel_bands.push((start, mel_weights.len(), w.len()));
            mel_weights.extend_from_slice(&w);
        }
        Self {
            model: VadModel::new(),
            prev: 0.0,
            history: vec![0.0; WINDOW],
            features: [[0.0; MELS]; FRAMES],
            fft,
            time: vec![Complex32::new(0.0, 0.0); HALF],
            spectrum: vec![Complex32::new(0.0, 0.0); HALF],
            mirrored: vec![Complex32::new(0.0, 0.0); BINS],
            scratch,
            twiddle_cos: (0..BINS).map(|k| angle(k).cos() as f32).collect(),
            twiddle_sin: (0..BINS).map(|k| angle(k).sin() as f32).collect(),
            power: vec![0.0; BINS],
            window: hann_window(),
            mel_bands,
            mel_weights,
            log_mel: [[0.0; MELS]; 2],
            log_mel_at: 0,
            flux: 0.0,
        }
    }

    /// Forgets everything heard (as `earshot::Detector::reset`).
    pub(crate) fn reset(&mut self) {
        self.model.reset();
        self.prev = 0.0;
        self.history.fill(0.0);
        self.features = [[0.0; MELS]; FRAMES];
        self.log_mel = [[0.0; MELS]; 2];
        self.log_mel_at = 0;
        self.flux = 0.0;
    }

    /// Spectral flux (dB) of the newest hop against the hop 32 ms before ([`flux`]).
    pub(crate) fn flux(&self) -> f32 {
        self.flux
    }

    /// `power[k]` = |X[k]|^2 scaled back from the i16 range, for X the 1024-point real FFT
    /// of the windowed history zero-padded, computed as a 512-point complex FFT of
    /// z[n] = x[2n] + i x[2n+1]: with Z its transform and Z'[k] = conj(Z[512 - k]),
    /// X[k] = (Z[k] + Z'[k]) / 2 - i e^(-2 pi i k / 1024) (Z[k] - Z'[k]) / 2.
    fn power_spectrum(&mut self) {
        for ((t, h), w) in self.time[..WINDOW / 2]
            .iter_mut()
            .zip(self.history.chunks_exact(2))
            .zip(self.window.chunks_exact(2))
        {
            *t = Complex32::new(h[0] * w[0], h[1] * w[1]);
        }
        self.time[WINDOW / 2..].fill(Complex32::new(0.0, 0.0));
        self.fft.process_outofplace_with_scratch(
            &mut self.time,
            &mut self.spectrum,
            &mut self.scratch,
        );
        self.mirrored[0] = self.spectrum[0];
        for (m, s) in self.mirrored[1..]
            .iter_mut()
            .zip(self.spectrum[HALF - BINS + 1..].iter().rev())
        {
            *m = *s;
        }
        // The halves are folded into the scale: 4 |X|^2 is computed below.
        const FAC: f32 = POWER_FAC / 4.0;
        for ((((p, a), b), &c), &s) in self
            .power
            .iter_mut()
            .zip(&self.spectrum[..BINS])
            .zip(&self.mirrored)
            .zip(&self.twiddle_cos)
            .zip(&self.twiddle_sin)
        {
            // 2 E = Z + Z', 2 O = -i (Z - Z'), X = E + e^(-i theta) O.
            let (er, ei) = (a.re + b.re, a.im - b.im);
            let (or, oi) = (a.im + b.im, b.re - a.re);
            let xr = er + c * or + s * oi;
            let xi = ei + c * oi - s * or;
            *p = (xr * xr + xi * xi) * FAC;
        }
    }

    /// The score (0..1) of one 256-sample hop at 16 kHz with samples in -1..1, as
    /// `earshot::Detector::predict_f32`; `None` for a hop of another length.
    pub(crate) fn predict(&mut self, hop: &[f32]) -> Option<f32> {
        if !self.push_features(hop) {
            return None;
        }
        VadModel::normalize(&mut self.features[FRAMES - 1]);
        Some(self.model.predict(&self.features))
    }

    /// Shifts the features and computes the hop's log-mel bands (not yet normalised) as the
    /// newest; `false` (and nothing done) for a hop of another length than [`HOP`].
    fn push_features(&mut self, hop: &[f32]) -> bool {
        if hop.len() != HOP {
            return false;
        }
        self.history.copy_within(HOP.., 0);
        let mut prev = self.prev;
        for (e, &s) in self.history[WINDOW - HOP..].iter_mut().zip(hop) {
            let s = s * SCALE;
            *e = s - PRE_EMPHASIS * prev;
            prev = s;
        }
        self.prev = prev;
        self.power_spectrum();
        self.features.copy_within(1.., 0);
        let current = &mut self.features[FRAMES - 1];
        for (f, &(start, off, n)) in current.iter_mut().zip(&self.mel_bands) {
            let band = dot4(
                &self.power[start..start + n],
                &self.mel_weights[off..off + n],
            );
            *f = band + 1e-20;
        }
        // Natural log of the forty bands in one vectorised pass (`ln` is a libm call each).
        for f in current.iter_mut() {
            *f = ln_positive(*f);
        }
        // The other slot holds the hop 32 ms before: compared, then overwritten.
        let older = 1 - self.log_mel_at;
        self.flux = flux(current, &self.log_mel[older]);
        self.log_mel[older] = *current;
        self.log_mel_at = older;
        true
    }
}

/// Bands more than this far under the hop's strongest (dB) are left out of the flux: in a
/// recording they hold the background's noise, whose estimation noise is not the sound's.
const FLUX_RANGE_DB: f32 = 30.0;

/// Spectral flux between two hops' log-mel bands (natural log): over the bands of `new`
/// within [`FLUX_RANGE_DB`] of its strongest, the mean absolute change in dB once their mean
/// change (the level's) is taken out. About 2 dB on noise (the bands' estimation noise), more
/// on speech, less on a sustained tone (a held note, a hum).
fn flux(new: &[f32; MELS], old: &[f32; MELS]) -> f32 {
    const DB: f32 = 10.0 / std::f32::consts::LN_10;
    // Eight lanes throughout (forty bands), so that each pass vectorises instead of waiting
    // on one running sum.
    let mut top = [f32::NEG_INFINITY; 8];
    for c in new.chunks_exact(8) {
        for l in 0..8 {
            top[l] = if c[l] > top[l] { c[l] } else { top[l] };
        }
    }
    let floor = top.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) - FLUX_RANGE_DB / DB;
    let (mut n, mut change, mut dev) = ([0.0f32; 8], [0.0f32; 8], [0.0f32; 8]);
    for (a, b) in new.chunks_exact(8).zip(old.chunks_exact(8)) {
        for l in 0..8 {
            let on = if a[l] >= floor { 1.0 } else { 0.0 };
            n[l] += on;
            change[l] += on * (a[l] - b[l]);
        }
    }
    let n: f32 = n.iter().sum();
    let shift = change.iter().sum::<f32>() / n;
    for (a, b) in new.chunks_exact(8).zip(old.chunks_exact(8)) {
        for l in 0..8 {
            let on = if a[l] >= floor { 1.0 } else { 0.0 };
            dev[l] += on * (a[l] - b[l] - shift).abs();
        }
    }
    dev.iter().sum::<f32>() / n * DB
}

/// `x.ln()` for a positive normal finite `x`, branch-free so that a loop of it vectorises:
/// `x = 2^e m` with `m` in [0.707, 1.414), `ln m = 2 atanh(z)` with `z = (m - 1) / (m + 1)`
/// (|z| <= 0.172) by its series to `z^9` (truncation under 1e-9); within a few f32 roundings
/// of `f32::ln` (see `ln_positive_matches_ln`).
#[inline(always)]
fn ln_positive(x: f32) -> f32 {
    let bits = x.to_bits();
    let e = ((bits >> 23) & 0xff) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let big = m > std::f32::consts::SQRT_2;
    let m = if big { m * 0.5 } else { m };
    let e = if big { e + 1 } else { e };
    let z = (m - 1.0) / (m + 1.0);
    let z2 = z * z;
    let series = 2.0 + z2 * (2.0 / 3.0 + z2 * (2.0 / 5.0 + z2 * (2.0 / 7.0 + z2 * (2.0 / 9.0))));
    e as f32 * std::f32::consts::LN_2 + z * series
}

/// A short dot product in four lanes (one SSE register), inlined: the mel bands are 6 to 58
/// bins long.
#[inline(always)]
fn dot4(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 4];
    for (ca, cb) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for l in 0..4 {
            lanes[l] += ca[l] * cb[l];
        }
    }
    let tail = a.len() - a.len() % 4;
    let mut acc = (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]);
    for (x, y) in a[tail..].iter().zip(&b[tail..]) {
        acc += x * y;
    }
    acc
}

/// Kaiser-windowed sinc low-pass of `n` taps at cut-off `fc` (cycles per sample), gain `gain`.
fn kaiser_sinc(n: usize, fc: f64, beta: f64, gain: f64) -> Vec<f64> {
    let centre = (n as f64 - 1.0) / 2.0;
    let i0b = bessel_i0(beta);
    let h: Vec<f64> = (0..n)
        .map(|i| {
            let t = i as f64 - centre;
            let sinc = if t == 0.0 {
                2.0 * fc
            } else {
                (2.0 * std::f64::consts::PI * fc * t).sin() / (std::f64::consts::PI * t)
            };
            let r = t / (centre + 1.0);
            sinc * bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / i0b
        })
        .collect();
    let sum: f64 = h.iter().sum();
    h.iter().map(|v| v * gain / sum).collect()
}

/// Zeroth-order modified Bessel function of the first kind (series), for the Kaiser window.
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term) = (1.0, 1.0);
    let q = x * x / 4.0;
    for k in 1..50 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < 1e-12 * sum {
            break;
        }
    }
    sum
}

/// Kaiser beta for about 50 dB of stopband attenuation.
const BETA: f64 = 4.55;
/// Taps per polyphase branch.
const BRANCH_TAPS: usize = 8;

/// Outputs computed together in [`branches`]: four SSE registers of accumulators.
const LANES: usize = 16;

/// `y[j] = sum_b sum_m h_b[m] x_b[j + m]` over the branches `(h_b, x_b)` (each `h_b` of
/// `BRANCH_TAPS` taps, each `x_b` at least `y.len() + BRANCH_TAPS - 1` long), for `y` a
/// multiple of [`LANES`] long. Sixteen outputs at a time stay in registers while every tap
/// of every branch is added in: a broadcast and a contiguous multiply-add per tap.
#[inline]
fn branches<const B: usize>(taps: [&[f32]; B], xs: [&[f32]; B], y: &mut [f32]) {
    for (jb, yb) in y.chunks_exact_mut(LANES).enumerate() {
        let mut acc = [0.0f32; LANES];
        for (h, x) in taps.iter().zip(&xs) {
            let x = &x[jb * LANES..jb * LANES + LANES + BRANCH_TAPS - 1];
            for (m, &c) in h[..BRANCH_TAPS].iter().enumerate() {
                let w = &x[m..m + LANES];
                for l in 0..LANES {
                    acc[l] += c * w[l];
                }
            }
        }
        yb.copy_from_slice(&acc);
    }
}

/// Cheap streaming conversion of 10 ms blocks to 16 kHz for the VAD network.
pub(crate) struct To16 {
    /// Decimation (`true`: 48 or 32 kHz down) or interpolation by 2 (8 kHz up).
    down: bool,
    /// The factor: 3 or 2.
    factor: usize,
    /// Branch coefficients, `BRANCH_TAPS` per branch, `factor` branches.
    coeffs: Vec<f32>,
    /// Per branch: its last `BRANCH_TAPS - 1` input samples then the current block's.
    phases: Vec<Vec<f32>>,
    /// Per output branch when interpolating: the block's outputs of that branch.
    outs: Vec<Vec<f32>>,
    /// Input samples per block.
    block: usize,
}

impl To16 {
    /// A converter from `hz` (8000, 32000 or 48000) in blocks of 10 ms; `None` at other rates.
    pub(crate) fn new(hz: u32) -> Option<Self> {
        let (down, factor) = match hz {
            48000 => (true, 3),
            32000 => (true, 2),
            8000 => (false, 2),
            _ => return None,
        };
        let block = hz as usize / 100;
        let n = BRANCH_TAPS * factor;
        // Cut-off at 0.45 of the lower rate (7.2 kHz at 16 kHz, 3.6 kHz at 8 kHz).
        let fc = 0.45 / factor as f64;
        let gain = if down { 1.0 } else { factor as f64 };
        let proto = kaiser_sinc(n, fc, BETA, gain);
        // Branch p's tap m multiplies the m-th sample of its window, oldest first (see
        // `process` for the indices).
        let mut coeffs = vec![0.0f32; n];
        for p in 0..factor {
            for m in 0..BRANCH_TAPS {
                let a = BRANCH_TAPS - 1 - m;
                let t = if down {
                    factor * a + factor - 1 - p
                } else {
                    factor * a + p
                };
                coeffs[p * BRANCH_TAPS + m] = proto[t] as f32;
            }
        }
        let per_branch = if down { block / factor } else { block };
        let hist = BRANCH_TAPS - 1;
        Some(Self {
            down,
            factor,
            coeffs,
            phases: vec![vec![0.0; hist + per_branch]; if down { factor } else { 1 }],
            outs: vec![vec![0.0; if down { 0 } else { block }]; if down { 0 } else { factor }],
            block,
        })
    }

    /// Converts one 10 ms block (`input`: 10 ms at the source rate) into `out` (160 samples).
    /// Blocks of other lengths leave `out` unchanged.
    pub(crate) fn process(&mut self, input: &[f32], out: &mut [f32]) {
        if input.len() != self.block || out.len() != 160 {
            return;
        }
        let hist = BRANCH_TAPS - 1;
        let f = self.factor;
        if self.down {
            // y[j] = sum_t h[t] x[f j + f - 1 - t]. With phase p holding x[f i + p] after
            // `hist` older ones, tap t = f a + b reads phase f - 1 - b at i = j - a, which is
            // its window's sample m = hist - a for output j.
            if let [p0, p1, p2] = &mut self.phases[..] {
                for (((c, a), b), d) in input
                    .chunks_exact(3)
                    .zip(&mut p0[hist..])
                    .zip(&mut p1[hist..])
                    .zip(&mut p2[hist..])
                {
                    (*a, *b, *d) = (c[0], c[1], c[2]);
                }
            } else if let [p0, p1] = &mut self.phases[..] {
                for ((c, a), b) in input
                    .chunks_exact(2)
                    .zip(&mut p0[hist..])
                    .zip(&mut p1[hist..])
                {
                    (*a, *b) = (c[0], c[1]);
                }
            }
            let c = &self.coeffs;
            let t = BRANCH_TAPS;
            if f == 3 {
                let x = [&self.phases[0][..], &self.phases[1], &self.phases[2]];
                branches([&c[..t], &c[t..2 * t], &c[2 * t..]], x, out);
            } else {
                let x = [&self.phases[0][..], &self.phases[1]];
                branches([&c[..t], &c[t..]], x, out);
            }
            for ph in &mut self.phases {
                let n = ph.len();
                ph.copy_within(n - hist.., 0);
            }
        } else {
            // y[2 j + q] = sum_t h[t] u[2 j + q - t] with u the input with zeros between its
            // samples: tap t = 2 a + q reads x[j - a], sample m = hist - a of the window.
            let ph = &mut self.phases[0];
            ph[hist..].copy_from_slice(input);
            for (q, o) in self.outs.iter_mut().enumerate() {
                let h = &self.coeffs[q * BRANCH_TAPS..(q + 1) * BRANCH_TAPS];
                branches([h], [&ph[..]], o);
            }
            let n = ph.len();
            ph.copy_within(n - hist.., 0);
            for ((pair, &e), &o) in out
                .chunks_exact_mut(2)
                .zip(&self.outs[0])
                .zip(&self.outs[1])
            {
                pair[0] = e;
                pair[1] = o;
            }
        }
    }

    /// Forgets the history.
    pub(crate) fn reset(&mut self) {
        for ph in &mut self.phases {
            ph.fill(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEECH_16K: &str = "/usr/share/codec2/raw/speech_orig_16k.wav";

    /// Two seconds of noise, then real speech at 16 kHz (codec2-examples) in the same noise,
    /// seeded, at `snr_db` over the whole, in -1..1.
    fn noisy_speech(snr_db: f32) -> Vec<f32> {
        let mut r = hound::WavReader::open(SPEECH_16K).unwrap_or_else(|e| {
            panic!("{SPEECH_16K}: {e}; run scripts/setup.sh (codec2-examples)")
        });
        // Two seconds of noise alone, then the speech.
        let s: Vec<f32> = std::iter::repeat_n(0.0, 32000)
            .chain(r.samples::<i16>().map(|v| f32::from(v.unwrap()) / 32768.0))
            .collect();
        // Brownish noise: white through a one-pole low-pass.
        let mut seed = 12345u32;
        let mut lp = 0.0f32;
        let n: Vec<f32> = (0..s.len())
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let w = (seed >> 9) as f32 / (1u32 << 23) as f32 - 0.5;
                lp = 0.9 * lp + w;
                lp
            })
            .collect();
        let ps = s.iter().map(|v| v * v).sum::<f32>();
        let pn = n.iter().map(|v| v * v).sum::<f32>();
        let g = (ps / pn / 10f32.powf(snr_db / 10.0)).sqrt();
        s.iter()
            .zip(&n)
            .map(|(a, b)| (a + g * b).clamp(-1.0, 1.0))
            .collect()
    }

    #[test]
    fn front_end_matches_earshot() {
        let mut worst = 0.0f32;
        let (mut lo, mut hi) = (0, 0);
        for snr in [20.0, 5.0] {
            let x = noisy_speech(snr);
            let mut theirs = earshot::Detector::default_boxed();
            let mut ours = NetFrontEnd::new();
            for (i, hop) in x.chunks_exact(HOP).enumerate() {
                if i == 300 {
                    // Both must forget alike.
                    theirs.reset();
                    ours.reset();
                }
                let a = theirs.predict_f32(hop);
                let b = ours.predict(hop).unwrap();
                worst = worst.max((a - b).abs());
                lo += usize::from(a < 0.2);
                hi += usize::from(a > 0.8);
            }
            eprintln!("{snr} dB SNR: {lo} hops so far below 0.2, {hi} above 0.8");
        }
        // The signal exercises both ends of the score.
        assert!(lo > 50 && hi > 50, "{lo} {hi}");
        eprintln!("max |earshot - ours| = {worst:e}");
        assert!(worst <= 1e-3, "scores differ by {worst}");
        assert_eq!(NetFrontEnd::new().predict(&[0.0; 100]), None);
    }

    /// Our network (`media-vad-model`) against `earshot::DefaultPredictor` fed the same
    /// features over real speech in noise (two SNRs, with a reset in each): the normalised
    /// features and the scores identical bit for bit, hop by hop.
    #[test]
    fn model_matches_earshot() {
        use earshot::Predictor;
        let mut buffer = vec![0.0f32; 1026];
        let (mut hops, mut lo, mut hi) = (0, 0, 0);
        for snr in [20.0, 5.0] {
            let x = noisy_speech(snr);
            let mut fe = NetFrontEnd::new();
            let mut theirs = earshot::DefaultPredictor::new();
            let mut their_features = [0.0f32; MELS * FRAMES];
            for (i, hop) in x.chunks_exact(HOP).enumerate() {
                if i == 300 {
                    fe.reset();
                    theirs.reset();
                    their_features.fill(0.0);
                }
                assert!(fe.push_features(hop));
                their_features.copy_within(MELS.., 0);
                let current = &mut their_features[MELS * (FRAMES - 1)..];
                current.copy_from_slice(&fe.features[FRAMES - 1]);
                theirs.normalize(current);
                VadModel::normalize(&mut fe.features[FRAMES - 1]);
                for (a, b) in fe.features.as_flattened().iter().zip(&their_features) {
                    assert_eq!(a.to_bits(), b.to_bits(), "hop {i}: features {a} vs {b}");
                }
                let a = theirs.predict(&their_features, &mut buffer);
                let b = fe.model.predict(&fe.features);
                assert_eq!(a.to_bits(), b.to_bits(), "{snr} dB, hop {i}: {a} vs {b}");
                hops += 1;
                lo += usize::from(a < 0.2);
                hi += usize::from(a > 0.8);
            }
        }
        eprintln!("{hops} hops, {lo} below 0.2, {hi} above 0.8");
        assert!(hops >= 1000 && lo > 50 && hi > 50, "{hops} {lo} {hi}");
    }

    #[test]
    fn power_spectrum_is_the_real_ffts() {
        let mut fe = NetFrontEnd::new();
        let mut seed = 99u32;
        for h in fe.history.iter_mut() {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *h = ((seed >> 9) as f32 / (1u32 << 23) as f32 - 0.5) * 20000.0;
        }
        fe.power_spectrum();
        let fft = realfft::RealFftPlanner::<f32>::new().plan_fft_forward(FFT);
        let mut x: Vec<f32> = fe
            .history
            .iter()
            .zip(&fe.window)
            .map(|(h, w)| h * w)
            .collect();
        x.resize(FFT, 0.0);
        let mut y = fft.make_output_vec();
        fft.process(&mut x, &mut y).unwrap();
        let peak = y.iter().map(|c| c.norm_sqr()).fold(0.0f32, f32::max) * POWER_FAC;
        for (k, (p, c)) in fe.power.iter().zip(&y).enumerate() {
            let want = c.norm_sqr() * POWER_FAC;
            assert!((p - want).abs() <= 1e-5 * peak, "bin {k}: {p} vs {want}");
        }
    }

    #[test]
    fn ln_positive_matches_ln() {
        let mut worst = 0.0f32;
        let mut x = 1e-20f32;
        while x < 1e12 {
            let (a, b) = (ln_positive(x), x.ln());
            worst = worst.max((a - b).abs() / b.abs().max(1.0));
            x *= 1.0137;
        }
        assert!(worst < 1e-6, "relative error {worst}");
    }

    #[test]
    fn window_and_filters_are_earshots() {
        // Spot values of earshot's tables (filters.rs).
        let w = hann_window();
        assert_eq!(w.len(), 768);
        assert!((w[1] - 1.673_304_4e-5).abs() < 1e-9);
        assert!((w[384] - 1.0).abs() < 1e-7);
        assert!((w[591] - 0.438_794_46).abs() < 3e-7);
        let m = mel_filters();
        assert_eq!(m.len(), 40);
        let starts: Vec<usize> = m.iter().map(|b| b.0).collect();
        assert_eq!(&starts[..6], &[4, 7, 10, 13, 17, 21]);
        assert_eq!(&starts[36..], &[353, 376, 402, 428]);
        assert_eq!(m[2].1, [0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0, 0.75, 0.5, 0.25]);
        assert_eq!(m[39].1.len(), 58);
        assert_eq!(m[39].1[57], 1.0 / 30.0);
    }

    /// Converts `x` (at `hz`) block by block.
    fn convert(hz: u32, x: &[f32]) -> Vec<f32> {
        let mut c = To16::new(hz).unwrap();
        let mut out = vec![0.0; 160];
        let mut y = Vec::new();
        for b in x.chunks_exact(hz as usize / 100) {
            c.process(b, &mut out);
            y.extend_from_slice(&out);
        }
        y
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    fn tone(hz: u32, f: f32, secs: f32) -> Vec<f32> {
        (0..(hz as f32 * secs) as usize)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * f * i as f32 / hz as f32).sin())
            .collect()
    }

    #[test]
    fn to16_passes_speech_band_and_rejects_aliases() {
        assert!(To16::new(16000).is_none());
        let tail = 1600;
        for hz in [8000, 32000, 48000] {
            // 1 kHz passes at unity gain, as a 1 kHz tone at 16 kHz.
            let y = convert(hz, &tone(hz, 1000.0, 0.5));
            assert_eq!(y.len(), 8000);
            let a = rms(&y[tail..]) / (0.5 / 2f32.sqrt());
            assert!((a - 1.0).abs() < 0.01, "{hz}: gain {a}");
            // Against a 1 kHz tone fitted in phase: the output is that tone (no distortion).
            let (mut c, mut s) = (0.0f32, 0.0f32);
            for (i, v) in y[tail..].iter().enumerate() {
                let p = 2.0 * std::f32::consts::PI * 1000.0 * (i + tail) as f32 / 16000.0;
                c += v * p.cos();
                s += v * p.sin();
            }
            let n = (y.len() - tail) as f32;
            let resid: Vec<f32> = y[tail..]
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let p = 2.0 * std::f32::consts::PI * 1000.0 * (i + tail) as f32 / 16000.0;
                    v - 2.0 / n * (c * p.cos() + s * p.sin())
                })
                .collect();
            assert!(rms(&resid) < 1e-3, "{hz}: residual {}", rms(&resid));
        }
        // Far above the new band: 12 kHz at 48 kHz (would alias to 4 kHz) and 10 kHz at
        // 32 kHz (to 6 kHz); the image of 1 kHz at 8 kHz is 7 kHz, whose tone at 16 kHz
        // would be there: measure the whole output against the 1 kHz part.
        for (hz, f) in [(48000, 12000.0), (32000, 10000.0)] {
            let y = convert(hz, &tone(hz, f, 0.5));
            let db = 20.0 * (rms(&y[tail..]) / (0.5 / 2f32.sqrt())).log10();
            assert!(db < -45.0, "{hz} Hz, {f} Hz: {db:.1} dB");
            eprintln!("{hz} Hz: {f} Hz tone at {db:.1} dB");
        }
    }
}
