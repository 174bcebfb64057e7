//! RNNoise's pitch search (from Opus/CELT): a 2x-decimated, LPC-whitened copy of the last
//! 1728 samples, a coarse cross-correlation search at 4x decimation, a fine one at 2x around
//! the two best candidates, then the search for sub-multiples of the period
//! (`remove_doubling`).
//!
//! The correlations are vectorised across lags (or across candidates), never across the sum:
//! every lag's dot product adds its terms in the same order as RNNoise's, so the periods found
//! are the same.

/// Shortest period searched, at 48 kHz.
const MIN_PERIOD: usize = 60;
/// Longest period searched, at 48 kHz.
const MAX_PERIOD: usize = 768;
/// The analysis frame of the search.
const FRAME: usize = 960;
/// The history the search reads: `MAX_PERIOD + FRAME` samples.
pub(crate) const BUF_SIZE: usize = MAX_PERIOD + FRAME;

/// Lags of the coarse search (at 4x decimation).
const COARSE_LAGS: usize = (MAX_PERIOD - 3 * MIN_PERIOD) / 4;
/// Lags per block of the coarse search.
const LAG_BLOCK: usize = 32;
/// The coarse lags rounded up to whole blocks.
const COARSE_PADDED: usize = COARSE_LAGS.div_ceil(LAG_BLOCK) * LAG_BLOCK;
/// Lags of the fine search (at 2x decimation).
const FINE_LAGS: usize = (MAX_PERIOD - 3 * MIN_PERIOD) / 2;

/// The pitch tracker's state and scratch.
pub(crate) struct PitchFinder {
    last_period: usize,
    last_gain: f32,
    /// The 2x-decimated, whitened history (`BUF_SIZE / 2`, then 8 zeros for `autocorr`).
    buf: Vec<f32>,
    /// The 4x-decimated frame.
    x4: Vec<f32>,
    /// The 4x-decimated history, zero-padded for whole lag blocks.
    y4: Vec<f32>,
    /// Correlations per lag.
    xcorr: Vec<f32>,
    /// `yy` per lag in `remove_doubling`.
    yy: Vec<f32>,
    /// Window energy per lag in `best_pitch`.
    energy: Vec<f32>,
}

impl PitchFinder {
    pub(crate) fn new() -> Self {
        Self {
            last_period: 0,
            last_gain: 0.0,
            buf: vec![0.0; BUF_SIZE / 2 + 8],
            x4: vec![0.0; FRAME / 4],
            y4: vec![0.0; FRAME / 4 + COARSE_PADDED],
            xcorr: vec![0.0; COARSE_PADDED.max(FINE_LAGS)],
            yy: vec![0.0; MAX_PERIOD / 2 + 1],
            energy: vec![0.0; FINE_LAGS],
        }
    }

    pub(crate) fn reset(&mut self) {
        self.last_period = 0;
        self.last_gain = 0.0;
    }

    /// The pitch period (in samples at 48 kHz) of `input`, the last [`BUF_SIZE`] samples.
    pub(crate) fn process(&mut self, input: &[f32]) -> usize {
        downsample(input, &mut self.buf);
        let idx = MAX_PERIOD - self.search();
        let (period, gain) = self.remove_doubling(idx);
        self.last_period = period;
        self.last_gain = gain;
        period
    }

    /// The best lag (at 48 kHz, counted back from the end of the history).
    fn search(&mut self) -> usize {
        let len = FRAME;
        let max_pitch = MAX_PERIOD - 3 * MIN_PERIOD;
        let x_lp = &self.buf[MAX_PERIOD / 2..BUF_SIZE / 2];
        let y = &self.buf[..BUF_SIZE / 2];
        for (d, s) in self.x4.iter_mut().zip(x_lp.iter().step_by(2)) {
            *d = *s;
        }
        let ny4 = len / 4 + max_pitch / 4;
        for (d, s) in self.y4[..ny4].iter_mut().zip(y.iter().step_by(2)) {
            *d = *s;
        }
        xcorr_lags(&self.x4, &self.y4, &mut self.xcorr[..COARSE_PADDED]);
        let (best, second) = best_pitch(
            &self.xcorr[..COARSE_LAGS],
            &self.y4,
            len / 4,
            &mut self.energy,
        );

        // Finer search at 2x decimation, around the two coarse candidates only.
        let xcorr = &mut self.xcorr[..FINE_LAGS];
        xcorr.fill(0.0);
        for centre in [2 * best, 2 * second] {
            let lo = centre.saturating_sub(2);
            let hi = (centre + 2).min(FINE_LAGS - 1);
            if lo > hi {
                continue;
            }
            // Five candidates at once (clamped starts repeat a valid lag; extra results are
            // dropped).
            let starts: [usize; 5] = std::array::from_fn(|k| (lo + k).min(hi));
            let Ok(xl) = <&[f32; FRAME / 2]>::try_from(&x_lp[..len / 2]) else {
                continue;
            };
            let v = dot_many(xl, y, starts);
            for (k, &s) in starts.iter().enumerate() {
                xcorr[s] = v[k].max(-1.0);
            }
        }
        let (best, _) = best_pitch(xcorr, y, len / 2, &mut self.energy);

        // Pseudo-interpolation.
        let offset: isize = if best > 0 && best < FINE_LAGS - 1 {
            let (a, b, c) = (xcorr[best - 1], xcorr[best], xcorr[best + 1]);
            if c - a > 0.7 * (b - a) {
                1
            } else if a - c > 0.7 * (b - c) {
                -1
            } else {
                0
            }
        } else {
            0
        };
        (2 * best as isize - offset) as usize
    }

    /// Looks for a period that divides `pitch_idx` with nearly as strong a correlation, which
    /// avoids doubled periods; returns the period at 48 kHz and its gain.
    fn remove_doubling(&mut self, pitch_idx: usize) -> (usize, f32) {
        let x = &self.buf[..BUF_SIZE / 2];
        let min_period = MIN_PERIOD / 2;
        let max_period = MAX_PERIOD / 2;
        let n = FRAME / 2;
        let t0 = (pitch_idx / 2).min(max_period - 1);
        let prev_period = self.last_period / 2;
        let Ok(xs) = <&[f32; FRAME / 2]>::try_from(&x[max_period..max_period + n]) else {
            return (self.last_period.max(MIN_PERIOD), 0.0);
        };
        let lag = |t: usize| max_period - t;

        let [xx, mut xy] = dot_many(xs, x, [max_period, lag(t0)]);
        let yy_lookup = &mut self.yy[..];
        yy_lookup[0] = xx;
        let mut yy = xx;
        for i in 1..=max_period {
            yy += x[max_period - i] * x[max_period - i]
                - x[max_period + n - i] * x[max_period + n - i];
            yy_lookup[i] = yy.max(0.0);
        }
        yy = yy_lookup[t0];
        let mut best_xy = xy;
        let mut best_yy = yy;
        let mut t = t0;
        let g0 = pitch_gain(xy, xx, yy);
        let mut g = g0;

        for (k, &check) in SECOND_CHECK.iter().enumerate().skip(2) {
            let t1 = (2 * t0 + k) / (2 * k);
            if t1 < min_period {
                break;
            }
            let t1b = if k == 2 {
                if t1 + t0 > max_period {
                    t0
                } else {
                    t0 + t1
                }
            } else {
                (2 * check * t0 + k) / (2 * k)
            };
            let [a, b] = dot_many(xs, x, [lag(t1), lag(t1b)]);
            xy = (a + b) / 2.0;
            yy = (yy_lookup[t1] + yy_lookup[t1b]) / 2.0;
            let g1 = pitch_gain(xy, xx, yy);
            let d = t1.abs_diff(prev_period);
            let cont = if d <= 1 {
                self.last_gain
            } else if d <= 2 && 5 * k * k < t0 {
                self.last_gain / 2.0
            } else {
                0.0
            };
            // Bias against very short periods (RNNoise's thresholds, in its order).
            let thresh = if t1 < 3 * min_period {
                (0.85 * g0 - cont).max(0.4)
            } else if t1 < 2 * min_period {
                (0.9 * g0 - cont).max(0.5)
            } else {
                (0.7 * g0 - cont).max(0.3)
            };
            if g1 > thresh {
                best_xy = xy;
                best_yy = yy;
                t = t1;
                g = g1;
            }
        }

        let best_xy = best_xy.max(0.0);
        let pg = if best_yy <= best_xy {
            1.0
        } else {
            best_xy / (best_yy + 1.0)
        };
        let c = dot_many(xs, x, [lag(t - 1), lag(t), lag(t + 1)]);
        let offset: isize = if c[2] - c[0] > 0.7 * (c[1] - c[0]) {
            1
        } else if c[0] - c[2] > 0.7 * (c[1] - c[2]) {
            -1
        } else {
            0
        };
        let pg = pg.min(g);
        let period = ((2 * t) as isize + offset).max(MIN_PERIOD as isize) as usize;
        (period, pg)
    }
}

const SECOND_CHECK: [usize; 16] = [0, 0, 3, 2, 3, 2, 5, 2, 3, 2, 3, 2, 5, 2, 3, 2];

fn pitch_gain(xy: f32, xx: f32, yy: f32) -> f32 {
    xy / (1.0 + xx * yy).sqrt()
}

/// `L` dot products of `x` with `y[start..start + N]`, each summed as RNNoise's `inner_prod`
/// does (four interleaved partial sums, combined in order; `N` is a multiple of 4), run side
/// by side so that their dependency chains overlap.
fn dot_many<const N: usize, const L: usize>(
    x: &[f32; N],
    y: &[f32],
    starts: [usize; L],
) -> [f32; L] {
    // Every start is in range by construction; an out-of-range one would read `x` itself
    // (a wrong value, never a panic).
    let ys: [&[f32; N]; L] = std::array::from_fn(|l| {
        y.get(starts[l]..starts[l] + N)
            .and_then(|s| s.try_into().ok())
            .unwrap_or(x)
    });
    let mut acc = [[0f32; 4]; L];
    for c in 0..N / 4 {
        for (a, yl) in acc.iter_mut().zip(ys.iter()) {
            for k in 0..4 {
                a[k] += x[4 * c + k] * yl[4 * c + k];
            }
        }
    }
    acc.map(|a| a[0] + a[1] + a[2] + a[3])
}

/// `out[i] = sum_j x[j] * y[i + j]` for every lag `i` of `out` (a multiple of [`LAG_BLOCK`]
/// lags; `y` must hold `x.len() + out.len() - 1` samples, or the lags short of data come out
/// short). Each sum runs in `j` order; the lags of a block are computed together.
fn xcorr_lags(x: &[f32], y: &[f32], out: &mut [f32]) {
    for (b, o) in out.chunks_exact_mut(LAG_BLOCK).enumerate() {
        let mut acc = [0f32; LAG_BLOCK];
        let y = y.get(b * LAG_BLOCK..).unwrap_or(&[]);
        for (&xj, w) in x.iter().zip(y.windows(LAG_BLOCK)) {
            if let Ok(w) = <&[f32; LAG_BLOCK]>::try_from(w) {
                for (a, &yv) in acc.iter_mut().zip(w) {
                    *a += xj * yv;
                }
            }
        }
        o.copy_from_slice(&acc);
    }
}

/// The two lags with the largest normalised correlation (RNNoise's `find_best_pitch`), with
/// `energy` as scratch (one per lag).
///
/// Two shortcuts that change no result: lags after the last positive correlation cannot be
/// chosen, so the scan stops there (the fine search has only a few candidates); and the
/// window energy's running sum is floored at 1 after every step, which with real signals
/// never bites, so the sum runs without the floor (half the dependency chain) and is redone
/// with it only if some value fell under 1.
fn best_pitch(xcorr: &[f32], y: &[f32], len: usize, energy: &mut [f32]) -> (usize, usize) {
    let n = xcorr
        .iter()
        .rposition(|&c| c > 0.0)
        .map_or(0, |p| p + 1)
        .min(energy.len());
    let xcorr = &xcorr[..n];
    let energy = &mut energy[..n];
    let mut start = 1.0f32;
    for v in &y[..len] {
        start += v * v;
    }
    let mut yy = start;
    let mut floored = false;
    for (i, e) in energy.iter_mut().enumerate() {
        *e = yy;
        yy += y[i + len] * y[i + len] - y[i] * y[i];
        floored |= yy.is_nan() | (yy < 1.0);
    }
    if floored {
        yy = start;
        for (i, e) in energy.iter_mut().enumerate() {
            *e = yy;
            yy += y[i + len] * y[i + len] - y[i] * y[i];
            yy = yy.max(1.0);
        }
    }
    let mut best_num = -1.0f32;
    let mut second_num = -1.0f32;
    let mut best_den = 0.0f32;
    let mut second_den = 0.0f32;
    let mut best = 0;
    let mut second = 1;
    for (i, (&corr, &yy)) in xcorr.iter().zip(energy.iter()).enumerate() {
        // One branch, rarely taken, instead of a coin toss on the sign of `corr`.
        let num = corr * corr;
        if (corr > 0.0) & (num * second_den > second_num * yy) {
            if num * best_den > best_num * yy {
                second_num = best_num;
                second_den = best_den;
                second = best;
                best_num = num;
                best_den = yy;
                best = i;
            } else {
                second_num = num;
                second_den = yy;
                second = i;
            }
        }
    }
    (best, second)
}

/// Halves the rate with a [1 2 1]/4 filter, then whitens with a 4th-order LPC (plus a zero),
/// as RNNoise's `pitch_downsample`.
fn downsample(x: &[f32], x_lp: &mut [f32]) {
    let half = x.len() / 2;
    for i in 1..half {
        x_lp[i] = ((x[2 * i - 1] + x[2 * i + 1]) / 2.0 + x[2 * i]) / 2.0;
    }
    x_lp[0] = (x[1] / 2.0 + x[0]) / 2.0;
    let mut ac = [0f32; 5];
    autocorr(x_lp, half, &mut ac);
    let x_lp = &mut x_lp[..half];
    ac[0] *= 1.0001;
    for (i, a) in ac.iter_mut().enumerate().skip(1) {
        *a -= *a * (0.008 * i as f32) * (0.008 * i as f32);
    }
    let mut lpc_c = [0f32; 4];
    lpc(&mut lpc_c, &ac);
    let mut tmp = 1.0f32;
    for c in lpc_c.iter_mut() {
        tmp *= 0.9;
        *c *= tmp;
    }
    let c = [
        lpc_c[0] + 0.8,
        lpc_c[1] + 0.8 * lpc_c[0],
        lpc_c[2] + 0.8 * lpc_c[1],
        lpc_c[3] + 0.8 * lpc_c[2],
        0.8 * lpc_c[3],
    ];
    let mut mem = [0f32; 5];
    for v in x_lp.iter_mut() {
        let out =
            *v + c[0] * mem[0] + c[1] * mem[1] + c[2] * mem[2] + c[3] * mem[3] + c[4] * mem[4];
        mem = [*v, mem[0], mem[1], mem[2], mem[3]];
        *v = out;
    }
}

/// The autocorrelation of `x[..n]` at lags 0 to 4, each summed in index order as RNNoise's
/// `celt_autocorr` does (the main part, then the last terms separately). `x` holds 8 samples
/// more (zeros): eight lags are computed side by side and the last three dropped.
fn autocorr(x: &[f32], n: usize, ac: &mut [f32; 5]) {
    let mut acc = [0f32; 8];
    for w in x.windows(8).take(n - 4) {
        if let Ok(w) = <&[f32; 8]>::try_from(w) {
            let xi = w[0];
            for (a, &v) in acc.iter_mut().zip(w) {
                *a += xi * v;
            }
        }
    }
    let x = &x[..n];
    for (k, a) in ac.iter_mut().enumerate() {
        let mut d = 0.0f32;
        for i in (k + n - 4)..n {
            d += x[i] * x[i - k];
        }
        *a = acc[k] + d;
    }
}

/// Levinson-Durbin: `lpc` from the autocorrelation `ac` (one longer).
fn lpc(lpc: &mut [f32; 4], ac: &[f32; 5]) {
    let p = lpc.len();
    let mut error = ac[0];
    lpc.fill(0.0);
    if ac[0] == 0.0 {
        return;
    }
    for i in 0..p {
        let mut rr = 0.0f32;
        for j in 0..i {
            rr += lpc[j] * ac[i - j];
        }
        rr += ac[i + 1];
        let r = -rr / error;
        lpc[i] = r;
        for j in 0..i.div_ceil(2) {
            let t1 = lpc[j];
            let t2 = lpc[i - 1 - j];
            lpc[j] = t1 + r * t2;
            lpc[i - 1 - j] = t2 + r * t1;
        }
        error = error - r * r * error;
        if error < 0.001 * ac[0] {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_blocks_match_plain_sums() {
        let x: Vec<f32> = (0..40).map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.1).collect();
        let y: Vec<f32> = (0..40 + 64)
            .map(|i| ((i * 5 % 11) as f32 - 5.0) * 0.3)
            .collect();
        let mut out = vec![0.0; 64];
        xcorr_lags(&x, &y, &mut out);
        for (i, &o) in out.iter().enumerate() {
            let mut want = 0.0f32;
            for j in 0..x.len() {
                want += x[j] * y[i + j];
            }
            assert_eq!(o, want, "lag {i}");
        }
        let x36: &[f32; 36] = x[..36].try_into().unwrap();
        let d = dot_many(x36, &y, [3, 0]);
        let mut s = [0f32; 4];
        for c in 0..9 {
            for k in 0..4 {
                s[k] += x[4 * c + k] * y[3 + 4 * c + k];
            }
        }
        let want = s[0] + s[1] + s[2] + s[3];
        assert_eq!(d[0], want);
    }

    #[test]
    fn finds_the_period_of_a_pulse_train() {
        // Pulses every 200 samples (240 Hz) with a little decay.
        let x: Vec<f32> = (0..BUF_SIZE)
            .map(|i| {
                let ph = i % 200;
                1000.0 * (-(ph as f32) / 20.0).exp()
            })
            .collect();
        let mut p = PitchFinder::new();
        let mut period = 0;
        for _ in 0..3 {
            period = p.process(&x);
        }
        assert!(period.abs_diff(200) <= 2, "period {period}");
    }
}
