//! A small streaming fixed-ratio polyphase FIR resampler for stages that run a model at one
//! rate (RNNoise at 48 kHz, the VAD network at 16 kHz) inside a chain at another.
//!
//! It converts between rates whose ratio is L/M in lowest terms, one 10 ms block at a time,
//! with a Kaiser-windowed sinc prototype (cut-off at 0.92 of the lower Nyquist frequency,
//! `TAPS` taps per output at the higher of the two rates' scale, so about 24 multiplies per
//! output sample when upsampling and 24 x M / L when downsampling). Ten milliseconds at 8/16/32/48 kHz is
//! always a whole number of output samples, so every block starts at polyphase phase 0 and the
//! conversion is exactly the same however the stream is cut. Group delay is
//! [`FixedRatio::delay_out`] output samples. Nothing allocates after [`FixedRatio::new`].
//!
//! # Why not the shared `Resampler`
//!
//! The crate's general-purpose resampler (`processing::format::resampler`) was measured in its
//! place on the conversions the stages make (`cost_against_the_shared_resampler` below, best of
//! 20 rounds on the project's loaded 2-core machine, per 10 ms frame):
//!
//! | conversion (used by) | this one | shared `Resampler` |
//! |---|---|---|
//! | 48 -> 16 kHz (VAD at 48 kHz; NS back down at 16 kHz) | 0.82 us, 0.74 ms delay | 1.62 us, 4.5 ms |
//! | 16 -> 48 kHz (NS up at 16 kHz) | 1.16 us, 0.74 ms | 0.91 us, 2.0 ms |
//! | 8 -> 16 kHz (VAD at 8 kHz) | 0.39 us, 1.5 ms | 0.27 us, 4.1 ms |
//!
//! The shared resampler is built for transparency (100 dB stopband, 0.1 dB passband to 90% of
//! Nyquist), which these stages do not need: RNNoise and the VAD network see band energies,
//! and 60-80 dB of image and alias rejection is far below the noise they work in. Its
//! steeper filters cost latency that the call hears: the NS at 16 kHz would go from 1.5 ms of
//! resampling delay to 6.5 ms (and cost 2.5 us instead of 2.0 us per frame), and the VAD at
//! 48 kHz would cost twice as much. Only the VAD's 8 -> 16 kHz step is 0.12 us cheaper with
//! it, too little to carry two resamplers for; so the stages keep this one.

/// Taps of the prototype per polyphase branch when upsampling (scaled by M / L when
/// downsampling, so the transition band stays the same relative to the lower rate).
const TAPS: usize = 24;

/// A streaming L/M resampler on f32 blocks.
#[derive(Debug, Clone)]
pub(crate) struct FixedRatio {
    up: usize,
    down: usize,
    /// Taps per polyphase branch.
    taps: usize,
    /// Polyphase coefficients, each branch stored time-reversed: `coeffs[p * taps + taps-1-k]`
    /// multiplies `x[i - k]` for phase p, so a branch and its input window run forward together.
    coeffs: Vec<f32>,
    /// The last `taps - 1` inputs followed by the current block.
    hist: Vec<f32>,
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Zeroth-order modified Bessel function of the first kind (series), for the Kaiser window.
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
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

/// A dot product in eight independent lanes, which the compiler vectorises (a single running
/// sum would be one long dependency chain). Fastest when the length is a multiple of eight.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for l in 0..8 {
            lanes[l] += ca[l] * cb[l];
        }
    }
    let mut acc = lanes.iter().sum::<f32>();
    let tail = a.len() - a.len() % 8;
    for (x, y) in a[tail..].iter().zip(&b[tail..]) {
        acc += x * y;
    }
    acc
}

impl FixedRatio {
    /// A resampler from `from` Hz to `to` Hz taking blocks of up to `max_block` input samples.
    pub(crate) fn new(from: u32, to: u32, max_block: usize) -> Self {
        let g = gcd(from as usize, to as usize).max(1);
        let up = (to as usize / g).max(1);
        let down = (from as usize / g).max(1);
        let taps = TAPS * up.max(down) / up;
        let n = up * taps;
        // Cut-off relative to the upsampled rate (from * up): the lower of the two Nyquists.
        let fc = 0.92 * 0.5 / up.max(down) as f64;
        let beta = 8.0;
        let centre = (n as f64 - 1.0) / 2.0;
        let i0b = bessel_i0(beta);
        let mut proto = vec![0.0f64; n];
        for (i, h) in proto.iter_mut().enumerate() {
            let t = i as f64 - centre;
            let sinc = if t == 0.0 {
                2.0 * fc
            } else {
                (2.0 * std::f64::consts::PI * fc * t).sin() / (std::f64::consts::PI * t)
            };
            let r = t / (centre + 0.5);
            let w = bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / i0b;
            *h = sinc * w * up as f64;
        }
        // Normalise each branch to unity DC gain (removes the small ripple between phases).
        let mut coeffs = vec![0.0f32; n];
        for p in 0..up {
            let sum: f64 = (0..taps).map(|k| proto[p + k * up]).sum();
            for k in 0..taps {
                coeffs[p * taps + taps - 1 - k] = (proto[p + k * up] / sum) as f32;
            }
        }
        Self {
            up,
            down,
            taps,
            coeffs,
            hist: vec![0.0; taps - 1 + max_block],
        }
    }

    /// Output samples for `n` input samples (exact for 10 ms blocks at the supported rates).
    pub(crate) fn out_len(&self, n: usize) -> usize {
        n * self.up / self.down
    }

    /// The group delay in output samples (rounded to the nearest sample).
    pub(crate) fn delay_out(&self) -> usize {
        self.delay_out_exact().round() as usize
    }

    /// The group delay in output samples: the prototype's (n-1)/2 at the upsampled rate.
    pub(crate) fn delay_out_exact(&self) -> f64 {
        (self.up * self.taps - 1) as f64 / 2.0 / self.down as f64
    }

    /// Resamples `input` into `out`, which must hold [`Self::out_len`] samples. Returns the number
    /// written; a block longer than the construction's `max_block` is truncated to it.
    pub(crate) fn process(&mut self, input: &[f32], out: &mut [f32]) -> usize {
        let taps = self.taps;
        let k0 = taps - 1;
        let n_in = input.len().min(self.hist.len() - k0);
        self.hist[k0..k0 + n_in].copy_from_slice(&input[..n_in]);
        let n_out = self.out_len(n_in).min(out.len());
        for (j, o) in out[..n_out].iter_mut().enumerate() {
            let t = j * self.down;
            let i = t / self.up;
            let p = t % self.up;
            let c = &self.coeffs[p * taps..(p + 1) * taps];
            // x[i - k] is hist[k0 + i - k]: a window ending at k0 + i, read backwards.
            let w = &self.hist[i..i + taps];
            *o = dot(c, w);
        }
        self.hist.copy_within(n_in..n_in + k0, 0);
        n_out
    }

    /// Forgets the history.
    pub(crate) fn reset(&mut self) {
        self.hist.fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone_delayed(rate: u32, f: f64, n: usize, delay: f64) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let t = (i as f64 - delay) / f64::from(rate);
                (0.5 * (2.0 * std::f64::consts::PI * f * t).sin()) as f32
            })
            .collect()
    }

    fn tone(rate: u32, f: f64, n: usize) -> Vec<f32> {
        tone_delayed(rate, f, n, 0.0)
    }

    fn run(from: u32, to: u32, x: &[f32]) -> Vec<f32> {
        let block = from as usize / 100;
        let mut r = FixedRatio::new(from, to, block);
        let mut out = Vec::new();
        let mut buf = vec![0.0; r.out_len(block)];
        for chunk in x.chunks_exact(block) {
            let n = r.process(chunk, &mut buf);
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    #[test]
    fn tones_pass_with_the_reported_delay() {
        for (from, to) in [
            (8000, 48000),
            (16000, 48000),
            (32000, 48000),
            (48000, 16000),
            (48000, 8000),
            (48000, 32000),
            (8000, 16000),
            (32000, 16000),
        ] {
            let f = 1000.0;
            let x = tone(from, f, from as usize / 2);
            let y = run(from, to, &x);
            assert_eq!(y.len(), x.len() * to as usize / from as usize);
            let r = FixedRatio::new(from, to, 1);
            let want = tone_delayed(to, f, y.len(), r.delay_out_exact());
            // Compare after the filter has settled, shifted by the delay.
            let mut err = 0.0f64;
            let mut cnt = 0;
            for i in (to as usize / 20)..y.len() {
                let e = f64::from(y[i] - want[i]);
                err += e * e;
                cnt += 1;
            }
            let rms = (err / cnt as f64).sqrt();
            assert!(rms < 0.005, "{from}->{to}: rms error {rms}");
        }
    }

    #[test]
    fn rejects_images_and_aliases() {
        // 7 kHz at 48 kHz down to 8 kHz: above the new Nyquist, must be strongly attenuated.
        let x = tone(48000, 7000.0, 24000);
        let y = run(48000, 8000, &x);
        let rms = (y[800..].iter().map(|v| v * v).sum::<f32>() / (y.len() - 800) as f32).sqrt();
        assert!(rms < 0.5 / 2f32.sqrt() * 0.01, "alias rms {rms}");
    }

    /// Cost and latency of this resampler against the crate's general `Resampler` on the
    /// conversions the stages make, per 10 ms frame (the figures in the module docs):
    /// `cargo test --release -p media-core --lib ratio::tests::cost -- --ignored --nocapture`
    /// (best of 20 rounds of 2000 frames; valgrind --tool=callgrind on the same gives the
    /// instruction counts).
    #[test]
    #[ignore = "a measurement, not a check"]
    fn cost_against_the_shared_resampler() {
        use crate::processing::format::resampler::Resampler;
        use std::hint::black_box;
        use std::time::Instant;
        for (from, to) in [
            (48000u32, 16000u32),
            (8000, 16000),
            (16000, 48000),
            (48000, 16000),
        ] {
            let bi = from as usize / 100;
            let bo = to as usize / 100;
            let x = tone(from, 440.0, bi * 50);
            let mut fr = FixedRatio::new(from, to, bi);
            let mut rs = Resampler::new(from, to, 1).unwrap();
            let mut out = vec![0.0f32; bo + 8];
            let (mut best_f, mut best_r) = (f64::MAX, f64::MAX);
            for _ in 0..20 {
                let t = Instant::now();
                for k in 0..2000 {
                    let c = &x[(k % 50) * bi..(k % 50 + 1) * bi];
                    black_box(fr.process(black_box(c), &mut out));
                }
                best_f = best_f.min(t.elapsed().as_secs_f64() / 2000.0);
                let t = Instant::now();
                for k in 0..2000 {
                    let c = &x[(k % 50) * bi..(k % 50 + 1) * bi];
                    black_box(rs.process(black_box(c), &mut out).unwrap());
                }
                best_r = best_r.min(t.elapsed().as_secs_f64() / 2000.0);
            }
            println!(
                "{from} -> {to}: FixedRatio {:.2} us, delay {:.1} out samples; Resampler {:.2} us, latency {} out samples",
                best_f * 1e6,
                fr.delay_out_exact(),
                best_r * 1e6,
                rs.latency()
            );
        }
    }
}
