//! The signal processing under the detector: the background level, windowed DFT bins and the
//! Hann window's response at a tone frequency.

use super::*;

/// The background level: the smallest window energy of the last 400 to 500 ms (minimum
/// statistics over blocks of 100 ms).
#[derive(Debug, Clone, Copy)]
pub(super) struct Floor {
    blocks: [f64; 4],
    next: usize,
    current: f64,
    count: u32,
}

impl Floor {
    /// Windows per block (100 ms).
    const BLOCK: u32 = 20;

    pub(super) fn new() -> Self {
        Self {
            blocks: [f64::MAX; 4],
            next: 0,
            current: f64::MAX,
            count: 0,
        }
    }

    pub(super) fn push(&mut self, energy: f64) {
        self.current = self.current.min(energy);
        self.count += 1;
        if self.count == Self::BLOCK {
            self.blocks[self.next] = self.current;
            self.next = (self.next + 1) % self.blocks.len();
            self.current = f64::MAX;
            self.count = 0;
        }
    }

    pub(super) fn level(&self) -> f64 {
        self.blocks.iter().fold(self.current, |m, &b| m.min(b))
    }
}

/// The nominal frequency of tone `k` (0..4 low group, 4..8 high group).
pub(super) fn freq(k: usize) -> f64 {
    if k < 4 {
        LOW_GROUP_HZ[k]
    } else {
        HIGH_GROUP_HZ[k - 4]
    }
}

/// The energies of the eight bins.
pub(super) fn bin_energies(bins: &[f32; 16]) -> [f64; 8] {
    let mut e = [0f64; 8];
    for (k, e) in e.iter_mut().enumerate() {
        let (re, im) = (f64::from(bins[2 * k]), f64::from(bins[2 * k + 1]));
        *e = re * re + im * im;
    }
    e
}

pub(super) fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// The real transfer function at `theta` rad/sample of a centre-referenced Hann window of
/// `len` samples (`w[i] = 0.5 - 0.5 cos(2 pi (i + 0.5) / len)`): a sum of three Dirichlet
/// kernels `D(t) = sin(len t / 2) / sin(t / 2)` at `theta` and `theta -+ 2 pi / len`, whose
/// numerators are the same but for sign, so three trigonometric calls do.
pub(super) fn hann_response(len: usize, theta: f64) -> f64 {
    let l = len as f64;
    let half_a = std::f64::consts::PI / l;
    let (s, c) = (theta / 2.0).sin_cos();
    let (sa, ca) = half_a.sin_cos();
    // sin((theta -+ a) / 2).
    let dm = s * ca - c * sa;
    let dp = s * ca + c * sa;
    if s.abs() < 1e-9 || dm.abs() < 1e-9 || dp.abs() < 1e-9 {
        // At a kernel's peak: sum the kernels one by one, with D(0) = len.
        let d = |t: f64| {
            let s = (t / 2.0).sin();
            if s.abs() < 1e-9 {
                l
            } else {
                (l * t / 2.0).sin() / s
            }
        };
        return 0.5 * d(theta) + 0.25 * d(theta - 2.0 * half_a) + 0.25 * d(theta + 2.0 * half_a);
    }
    (l * theta / 2.0).sin() * (0.5 / s - 0.25 / dm - 0.25 / dp)
}

/// [`hann_response`] relative to its peak.
pub(super) fn hann_gain(len: usize, theta: f64) -> f64 {
    hann_response(len, theta) / (0.5 * len as f64)
}

/// Sixteen dot products of `x` with the sample-major table:
/// `out[r] = sum x[i] table[i / 2][16 * (i % 2) + r]`. Two accumulator sets (even and odd
/// samples) halve the dependency chain; the 16 lanes vectorise. Kept out of line: inlined
/// into its caller, the vectoriser gathers the table element by element.
#[inline(never)]
pub(super) fn dft16(x: &[f32], table: &[[f32; 32]]) -> [f32; 16] {
    let mut a = [0f32; 16];
    let mut b = [0f32; 16];
    for (xs, t) in x.chunks_exact(2).zip(table) {
        let (x0, x1) = (xs[0], xs[1]);
        for r in 0..16 {
            a[r] += x0 * t[r];
        }
        for r in 0..16 {
            b[r] += x1 * t[16 + r];
        }
    }
    for r in 0..16 {
        a[r] += b[r];
    }
    a
}

/// Eight lanes of `s` (which holds eight), as an array the vectoriser can see whole.
#[inline(always)]
fn lanes(s: &[f32]) -> [f32; 8] {
    <[f32; 8]>::try_from(s).unwrap_or([0.0; 8])
}

/// `(sum w2 x^2, sum w2 x)`.
#[inline(never)]
pub(super) fn weighted_energy(x: &[f32], w2: &[f32]) -> (f64, f64) {
    // Two passes, each one clean eight-lane reduction: written as one loop, the vectoriser
    // pairs the two sums lane by lane instead.
    let mut m = [0f32; 8];
    for (xs, ws) in x.chunks_exact(8).zip(w2.chunks_exact(8)) {
        let (xs, ws) = (lanes(xs), lanes(ws));
        for i in 0..8 {
            m[i] += ws[i] * xs[i];
        }
    }
    let mut e = [0f32; 8];
    for (xs, ws) in x.chunks_exact(8).zip(w2.chunks_exact(8)) {
        let (xs, ws) = (lanes(xs), lanes(ws));
        for i in 0..8 {
            e[i] += ws[i] * xs[i] * xs[i];
        }
    }
    let tail = x.len() / 8 * 8;
    let mut es = e.iter().map(|&v| f64::from(v)).sum::<f64>();
    let mut ms = m.iter().map(|&v| f64::from(v)).sum::<f64>();
    for (&xv, &wv) in x[tail..].iter().zip(&w2[tail..]) {
        es += f64::from(wv * xv * xv);
        ms += f64::from(wv * xv);
    }
    (es, ms)
}

/// `(sum x c, sum x s)`: two separate dot products (one loop computing both is vectorised
/// across the pair instead of across eight samples).
pub(super) fn dot2(x: &[f32], c: &[f32], s: &[f32]) -> (f64, f64) {
    (dot(x, c), dot(x, s))
}

/// `sum x y`, eight lanes at a time.
#[inline(never)]
fn dot(x: &[f32], y: &[f32]) -> f64 {
    let mut acc = [0f32; 8];
    for (xs, ys) in x.chunks_exact(8).zip(y.chunks_exact(8)) {
        let (xs, ys) = (lanes(xs), lanes(ys));
        for i in 0..8 {
            acc[i] += xs[i] * ys[i];
        }
    }
    let tail = x.len().min(y.len()) / 8 * 8;
    let mut r = acc.iter().map(|&v| f64::from(v)).sum::<f64>();
    for (&a, &b) in x[tail..].iter().zip(&y[tail..]) {
        r += f64::from(a * b);
    }
    r
}
