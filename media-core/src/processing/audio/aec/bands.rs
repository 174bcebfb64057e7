//! Band split for 32 and 48 kHz: the echo canceller works on the 0-8 kHz band at 16 kHz and
//! puts the band above back with a gain.
//!
//! The low band is a linear-phase FIR low-pass decimated by `M` (2 or 3). After processing it
//! is interpolated with the same filter; the high band is what the unprocessed low band does
//! not explain, so the output is
//!
//! ```text
//! out = g·x_d + interp(y_processed − g·y_unprocessed)
//! ```
//!
//! with `x_d` the input delayed to match. With `y_processed = y_unprocessed` and `g = 1` this is
//! exactly `x_d` whatever the filter's quality: the split is transparent by construction.

use crate::processing::audio::ratio::dot;

/// Taps of the low-pass filter (odd, so its group delay is whole samples).
const TAPS: usize = 41;

fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let y = x * x / 4.0;
    for k in 1..30 {
        term *= y / (k as f64 * k as f64);
        sum += term;
    }
    sum
}

/// Kaiser-windowed sinc low-pass at `cutoff` (fraction of the sample rate), unit DC gain.
fn lowpass(cutoff: f64, taps: usize, beta: f64) -> Vec<f32> {
    let mid = (taps - 1) as f64 / 2.0;
    let mut h: Vec<f64> = (0..taps)
        .map(|i| {
            let t = i as f64 - mid;
            let sinc = if t == 0.0 {
                2.0 * cutoff
            } else {
                (2.0 * std::f64::consts::PI * cutoff * t).sin() / (std::f64::consts::PI * t)
            };
            let r = t / mid;
            sinc * bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / bessel_i0(beta)
        })
        .collect();
    let sum: f64 = h.iter().sum();
    for v in h.iter_mut() {
        *v /= sum;
    }
    h.into_iter().map(|v| v as f32).collect()
}

/// Taps padded with zeros to a multiple of eight, so that every dot product runs in eight
/// vectorised lanes (`ratio::dot`); the zeros change nothing but the summation order.
const PADDED: usize = TAPS.div_ceil(8) * 8;

/// Streaming decimation by `m` after the low-pass.
#[derive(Debug, Clone)]
pub(crate) struct Decimator {
    m: usize,
    /// The low-pass, time-reversed and front-padded to `PADDED`: `taps[k]` multiplies the
    /// input `PADDED - 1 - k` samples back.
    taps: Vec<f32>,
    /// The last `PADDED - 1` inputs followed by room for one chunk.
    buf: Vec<f32>,
    phase: usize,
}

/// Largest chunk processed at once (longer inputs are cut into chunks).
const CHUNK: usize = 960;

impl Decimator {
    pub(crate) fn new(m: usize) -> Self {
        let h = lowpass(7_400.0 / (16_000.0 * m as f64), TAPS, 6.0);
        let mut taps = vec![0.0; PADDED];
        for (k, t) in taps.iter_mut().enumerate() {
            // taps[k] multiplies x[i - (PADDED - 1 - k)], which h[PADDED - 1 - k] weighs.
            if let Some(&v) = h.get(PADDED - 1 - k) {
                *t = v;
            }
        }
        Self {
            m,
            taps,
            buf: vec![0.0; PADDED - 1 + CHUNK],
            phase: 0,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.buf.fill(0.0);
        self.phase = 0;
    }

    /// Decimates `input`, calling `sink` with each output sample.
    pub(crate) fn process(&mut self, input: &[f32], mut sink: impl FnMut(f32)) {
        let h = PADDED - 1;
        for chunk in input.chunks(CHUNK) {
            self.buf[h..h + chunk.len()].copy_from_slice(chunk);
            // The first output of this chunk is at the first input where the phase is 0.
            let first = (self.m - self.phase) % self.m;
            let mut i = first;
            while i < chunk.len() {
                // Window ending at input i: buf[i ..= i + h].
                sink(dot(&self.taps, &self.buf[i..i + PADDED]));
                i += self.m;
            }
            self.phase = (self.phase + chunk.len()) % self.m;
            self.buf.copy_within(chunk.len()..chunk.len() + h, 0);
        }
    }
}

/// Interpolation by `m` with the same low-pass (gain `m` to keep the level).
#[derive(Debug, Clone)]
pub(crate) struct Interpolator {
    m: usize,
    /// Polyphase taps, each phase time-reversed and front-padded to `per_phase` (a multiple
    /// of eight): `phases[p * per_phase + k]` multiplies the input `per_phase - 1 - k` back,
    /// weighing it by `m · h[p + m · (per_phase - 1 - k)]`.
    phases: Vec<f32>,
    /// Recent low-rate inputs, newest last, `per_phase - 1` of history plus one block.
    hist: Vec<f32>,
    per_phase: usize,
}

impl Interpolator {
    pub(crate) fn new(m: usize, block: usize) -> Self {
        let h = lowpass(7_400.0 / (16_000.0 * m as f64), TAPS, 6.0);
        let per_phase = TAPS.div_ceil(m).div_ceil(8) * 8;
        let mut phases = vec![0.0; m * per_phase];
        for p in 0..m {
            for k in 0..per_phase {
                let i = per_phase - 1 - k;
                phases[p * per_phase + k] = h.get(p + m * i).copied().unwrap_or(0.0) * m as f32;
            }
        }
        Self {
            m,
            phases,
            hist: vec![0.0; per_phase - 1 + block],
            per_phase,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.hist.fill(0.0);
    }

    /// Interpolates one block `input` (the block length given at construction) into `out`
    /// (`m` times as long).
    pub(crate) fn process(&mut self, input: &[f32], out: &mut [f32]) {
        let pp = self.per_phase;
        let h = pp - 1;
        let n = input.len().min(self.hist.len() - h).min(out.len() / self.m);
        self.hist[h..h + n].copy_from_slice(&input[..n]);
        for (j, o) in out.chunks_exact_mut(self.m).take(n).enumerate() {
            // Inputs j, j-1, ..., j-h are hist[h + j], ..., hist[j].
            let w = &self.hist[j..j + pp];
            for (p, v) in o.iter_mut().enumerate() {
                *v = dot(&self.phases[p * pp..(p + 1) * pp], w);
            }
        }
        self.hist.copy_within(n..n + h, 0);
    }
}

/// Full-rate delay of the decimate + interpolate round trip, in samples.
pub(crate) const ROUND_TRIP_DELAY: usize = TAPS - 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_round_trip_is_transparent_and_low_band_passes() {
        for m in [2usize, 3] {
            let n = 160;
            let mut dec = Decimator::new(m);
            let mut int = Interpolator::new(m, n);
            let rate = 16_000.0 * m as f32;
            let x: Vec<f32> = (0..m * n * 20)
                .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / rate).sin() * 0.5)
                .collect();
            let mut out = vec![0.0f32; x.len()];
            let mut low = Vec::with_capacity(n);
            for (f, frame) in x.chunks(m * n).enumerate() {
                low.clear();
                dec.process(frame, |v| low.push(v));
                assert_eq!(low.len(), n);
                int.process(&low, &mut out[f * m * n..(f + 1) * m * n]);
            }
            // A 1 kHz tone passes the low band delayed by the round trip.
            let d = ROUND_TRIP_DELAY;
            let err: f32 = (m * n * 5..m * n * 19)
                .map(|i| (out[i] - x[i - d]).abs())
                .fold(0.0, f32::max);
            assert!(err < 0.01, "m {m}: max error {err}");
        }
    }
}
