//! A quick frequency-domain judge for resamplers, so a bench can show each implementation's
//! quality beside its speed: passband ripple and the worst alias / image, measured with
//! multi-tone signals and a Kaiser-windowed spectrum (the same method as media-core's unit
//! tests).

use std::f64::consts::PI;

/// What [`measure`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quality {
    /// Largest gain error, dB, over 24 tones up to 90% of the lower Nyquist frequency.
    pub ripple_db: f64,
    /// Worst alias, image or spur relative to the tone that caused it, dB: in-band tones
    /// (images), transition-band tones (anything landing in the passband) and, when
    /// downsampling, tones between the output and input Nyquist frequencies.
    pub spur_db: f64,
}

const N: usize = 4096;

fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let (mut term, mut sum, mut k) = (1.0, 1.0, 1.0);
    while term > sum * 1e-17 {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

fn window() -> Vec<f64> {
    let beta = 20.0;
    (0..N)
        .map(|i| {
            let x = 2.0 * i as f64 / (N - 1) as f64 - 1.0;
            bessel_i0(beta * (1.0 - x * x).max(0.0).sqrt()) / bessel_i0(beta)
        })
        .collect()
}

fn amplitude_at(x: &[f64], w: &[f64], f: f64, fs: f64) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (n, (&v, &wv)) in x.iter().zip(w).enumerate() {
        let ph = 2.0 * PI * f / fs * n as f64;
        re += v * wv * ph.cos();
        im -= v * wv * ph.sin();
    }
    2.0 * (re * re + im * im).sqrt() / w.iter().sum::<f64>()
}

fn spectrum(x: &[f64], w: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut re: Vec<f64> = x.iter().zip(w).map(|(a, b)| a * b).collect();
    let mut im = vec![0.0; n];
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= n {
        let ang = -2.0 * PI / len as f64;
        for start in (0..n).step_by(len) {
            for k in 0..len / 2 {
                let (s, c) = (ang * k as f64).sin_cos();
                let (a, b) = (start + k, start + k + len / 2);
                let tr = re[b] * c - im[b] * s;
                let ti = re[b] * s + im[b] * c;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
            }
        }
        len <<= 1;
    }
    let norm = 2.0 / w.iter().sum::<f64>();
    (0..=n / 2)
        .map(|k| (re[k] * re[k] + im[k] * im[k]).sqrt() * norm)
        .collect()
}

fn db(x: f64) -> f64 {
    20.0 * x.max(1e-300).log10()
}

/// Measures a resampler from `from` to `to` Hz. `run` must resample the whole (mono) input
/// it is given as a stream (e.g. in 20 ms chunks) and return everything it output; the first
/// 200 ms of output are skipped, and the input runs half a second beyond the analysed span, so
/// delays up to that are fine. The input length is a whole number of 20 ms frames. If `run`
/// returns too little output to analyse, both figures are NaN.
pub fn measure(from: u32, to: u32, run: impl FnMut(&[f32]) -> Vec<f32>) -> Quality {
    measure_opt(from, to, run).unwrap_or(Quality {
        ripple_db: f64::NAN,
        spur_db: f64::NAN,
    })
}

fn measure_opt(from: u32, to: u32, mut run: impl FnMut(&[f32]) -> Vec<f32>) -> Option<Quality> {
    let (fi, fo) = (f64::from(from), f64::from(to));
    let lo = fi.min(fo);
    let skip = to as usize / 5;
    let frame = from as usize / 50;
    // Half a second beyond the analysed span, for implementations that buffer (soxr).
    let n_in =
        ((skip + N + to as usize / 2) as u64 * u64::from(from)).div_ceil(u64::from(to)) as usize;
    let n_in = n_in.div_ceil(frame) * frame;
    let w = window();
    let guard = 8.0 * fo / N as f64;
    let bin = fo / N as f64;
    const K: usize = 24;
    let amp = 1.0 / K as f64;
    let mut analyse = |freqs: &[f64]| -> Option<Vec<f64>> {
        let x: Vec<f32> = (0..n_in)
            .map(|i| {
                let t = i as f64 / fi;
                freqs
                    .iter()
                    .enumerate()
                    .map(|(k, &f)| amp * (2.0 * PI * f * t + 0.7 * k as f64).sin())
                    .sum::<f64>() as f32
            })
            .collect();
        let y = run(&x);
        if y.len() < skip + N {
            // Not enough output to judge: poison the result rather than guess.
            return None;
        }
        let y: Vec<f64> = y.iter().skip(skip).take(N).map(|&v| f64::from(v)).collect();
        Some(y)
    };

    let tones: Vec<f64> = (1..=K)
        .map(|k| (0.45 * lo * k as f64 / K as f64).round())
        .collect();
    let y = analyse(&tones)?;
    let ripple_db = tones
        .iter()
        .map(|&f| db(amplitude_at(&y, &w, f, fo) / amp).abs())
        .fold(0.0, f64::max);
    let mut spur: f64 = 0.0;
    for (k, &v) in spectrum(&y, &w).iter().enumerate() {
        let f = k as f64 * bin;
        if tones.iter().all(|&t| (f - t).abs() > guard) {
            spur = spur.max(v);
        }
    }
    let trans: Vec<f64> = [0.46, 0.475, 0.49, 0.499]
        .iter()
        .map(|&x| (x * lo).round())
        .collect();
    let y = analyse(&trans)?;
    for (k, &v) in spectrum(&y, &w).iter().enumerate() {
        if (k as f64 * bin) <= 0.45 * lo - guard {
            spur = spur.max(v);
        }
    }
    if to < from {
        let stop: Vec<f64> = (0..K)
            .map(|k| (0.5 * fo + (0.5 * fi - 0.5 * fo) * (k as f64 + 0.02) / K as f64).round())
            .collect();
        let y = analyse(&stop)?;
        for &v in &spectrum(&y, &w) {
            spur = spur.max(v);
        }
    }
    Some(Quality {
        ripple_db,
        spur_db: db(spur / amp),
    })
}
