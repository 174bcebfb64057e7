//! Filter design in `f64`: Kaiser-windowed sinc polyphase tables and the stage plan for a rate pair.

use super::*;

/// Zeroth-order modified Bessel function of the first kind, by its power series.
pub(super) fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1.0;
    while term > sum * 1e-17 {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

/// `sin(pi x) / (pi x)`, exactly 0 at non-zero integers (so half-band zeros are exact).
pub(super) fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    let r = x.round();
    if r != 0.0 && (x - r).abs() < 1e-12 {
        return 0.0;
    }
    let px = std::f64::consts::PI * x;
    px.sin() / px
}

/// Kaiser's estimate of `beta` for a stopband attenuation of `a` dB.
fn kaiser_beta(a: f64) -> f64 {
    if a > 50.0 {
        0.1102 * (a - 8.7)
    } else if a > 21.0 {
        0.5842 * (a - 21.0).powf(0.4) + 0.07886 * (a - 21.0)
    } else {
        0.0
    }
}

/// What one stage must do, in Hz at its input rate.
#[derive(Debug, Clone, Copy)]
pub(super) struct StageSpec {
    /// Upsampling factor.
    pub(super) l: usize,
    /// Downsampling factor.
    pub(super) m: usize,
    /// Input rate of the stage.
    fs_in: f64,
    /// Passband edge.
    pass: f64,
    /// Stopband edge.
    stop: f64,
    /// Design stopband attenuation, dB.
    atten: f64,
}

impl StageSpec {
    fn new(from: u32, to: u32, pass: f64, stop: f64) -> Self {
        let g = gcd(from, to);
        Self {
            l: (to / g) as usize,
            m: (from / g) as usize,
            fs_in: f64::from(from),
            pass,
            stop,
            atten: ATTENUATION_DB,
        }
    }

    fn cheap(self) -> Self {
        Self {
            atten: ATTENUATION_CHEAP_DB,
            ..self
        }
    }

    /// Half-length of the continuous prototype, in input samples (Kaiser's length formula).
    pub(super) fn half_width(&self) -> f64 {
        let transition = (self.stop - self.pass) / self.fs_in;
        (self.atten - 7.95) / (14.357 * transition) / 2.0
    }
}

pub(super) fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The stage plan for a pair of supported, distinct rates.
pub(super) fn plan(from: u32, to: u32) -> Vec<StageSpec> {
    let lo = f64::from(from.min(to));
    let mut stages = Vec::new();
    if to < from {
        let out = f64::from(to);
        // Half-band pre-decimation while it leaves the sharp stage at least 1.25x the output
        // rate (below that the half-band's own transition gets too narrow to be cheap).
        let mut rate = from;
        while rate.is_multiple_of(2) && rate / 2 >= to + to / 4 {
            let half = f64::from(rate / 2);
            // Pass up to the final Nyquist frequency; stop where aliases would fold into it.
            stages.push(StageSpec::new(rate, rate / 2, out / 2.0, half - out / 2.0).cheap());
            rate /= 2;
        }
        stages.push(StageSpec::new(rate, to, 0.45 * out, 0.5 * out));
    } else if to >= 4 * from {
        // Sharp 2x first, then a wide-transition stage whose images of the guaranteed passband
        // (<= 0.45 from) must be gone: stop at 2 from - 0.45 from.
        let mid = 2 * from;
        stages.push(StageSpec::new(from, mid, 0.45 * lo, 0.55 * lo));
        stages.push(StageSpec::new(mid, to, 0.5 * lo, f64::from(mid) - 0.45 * lo).cheap());
    } else {
        stages.push(StageSpec::new(from, to, 0.45 * lo, 0.55 * lo));
    }
    stages
}

/// Coefficients of one stage: `coef[p][u]` weights input sample `b_j - u` for output `j` of
/// phase `p`, where `b_j = floor(j M / L)` is the newest input the output may use.
pub(super) struct PhaseTable {
    pub(super) l: usize,
    pub(super) m: usize,
    /// `floor(p M / L)`: the newest input of phase `p` relative to the cycle start `c M`.
    pub(super) off: Vec<usize>,
    /// Per phase, the lag of `coef[p][0]`, and the (trimmed) coefficients.
    pub(super) phases: Vec<(usize, Vec<f64>)>,
}

/// Designs a stage with delay `delay` (input samples): output `j` approximates the input at
/// time `j M / L - delay`.
pub(super) fn design(spec: &StageSpec, delay: f64) -> PhaseTable {
    let (l, m) = (spec.l, spec.m);
    let w = spec.half_width();
    let fc = (spec.pass + spec.stop) / 2.0 / spec.fs_in;
    let beta = kaiser_beta(spec.atten);
    let i0_beta = bessel_i0(beta);
    let h = |tau: f64| -> f64 {
        let x = tau / w;
        if x.abs() >= 1.0 {
            return 0.0;
        }
        let win = bessel_i0(beta * (1.0 - x * x).sqrt()) / i0_beta;
        2.0 * fc * sinc(2.0 * fc * tau) * win
    };
    let max_lag = (delay + w).ceil() as usize + 2;
    let mut off = Vec::with_capacity(l);
    let mut phases = Vec::with_capacity(l);
    for p in 0..l {
        off.push(p * m / l);
        let frac = ((p * m) % l) as f64 / l as f64;
        let mut c: Vec<f64> = (0..max_lag).map(|u| h(u as f64 + frac - delay)).collect();
        let sum: f64 = c.iter().sum();
        if sum != 0.0 {
            for v in &mut c {
                *v /= sum;
            }
        }
        let first = c.iter().position(|&v| v != 0.0).unwrap_or(0);
        let last = c.iter().rposition(|&v| v != 0.0).map_or(first, |i| i + 1);
        phases.push((first, c[first..last].to_vec()));
    }
    PhaseTable { l, m, off, phases }
}
