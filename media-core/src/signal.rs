//! Built-in test signals, so that commands and benches run with no input file.

use std::f64::consts::PI;

/// A deterministic speech-like signal: a voiced source (harmonics of a gliding 100-220 Hz pitch,
/// shaped by two moving formant-like resonances) gated into 150-400 ms syllables with pauses,
/// plus low-level noise. Not speech, but it exercises codecs and concealment the way speech does
/// (pitch periods, onsets, silence). `seconds` long at `rate` Hz, peaks near -6 dBFS.
pub fn speech_like(seconds: f64, rate: u32) -> Vec<i16> {
    let n = (seconds * f64::from(rate)).round() as usize;
    let fs = f64::from(rate);
    let mut rng = SplitMix64(0x5eed);
    let mut out = Vec::with_capacity(n);
    let mut phase = 0.0f64;
    // Syllable schedule: (start, length) in samples, regenerated as we go.
    let mut syl_start = 0usize;
    let mut syl_len = 0usize;
    let mut gap = 0usize;
    let mut f0_base = 140.0;
    for i in 0..n {
        if i >= syl_start + syl_len + gap {
            syl_start = i;
            syl_len = ((0.15 + 0.25 * rng.unit()) * fs) as usize;
            gap = ((0.05 + 0.2 * rng.unit()) * fs) as usize;
            f0_base = 100.0 + 120.0 * rng.unit();
        }
        let k = i - syl_start;
        let env = if k < syl_len {
            (PI * k as f64 / syl_len as f64).sin().powf(0.7)
        } else {
            0.0
        };
        let t = k as f64 / fs;
        let f0 = f0_base * (1.0 + 0.15 * (2.0 * PI * 2.0 * t).sin());
        phase += 2.0 * PI * f0 / fs;
        if phase > 2.0 * PI {
            phase -= 2.0 * PI;
        }
        let f1 = 500.0 + 300.0 * (2.0 * PI * 1.3 * t).sin();
        let f2 = 1500.0 + 600.0 * (2.0 * PI * 0.9 * t).cos();
        let mut x = 0.0;
        let mut h = 1.0;
        while h * f0 < (fs / 2.0).min(3800.0) {
            let f = h * f0;
            // Spectral envelope: two resonances over a -6 dB/octave source.
            let g = 1.0 / h
                * (1.0 / (1.0 + ((f - f1) / 150.0).powi(2))
                    + 0.5 / (1.0 + ((f - f2) / 250.0).powi(2))
                    + 0.05);
            x += g * (h * phase).sin();
            h += 1.0;
        }
        let noise = (rng.unit() - 0.5) * 0.002;
        out.push(((x * 0.45 * env + noise) * 32767.0).clamp(-32768.0, 32767.0) as i16);
    }
    out
}

/// A small deterministic PRNG (SplitMix64): fast, seedable, good enough for test signals and
/// loss patterns; not for cryptography.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform value in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_like_is_deterministic_and_not_silent() {
        let a = speech_like(1.0, 8000);
        assert_eq!(a, speech_like(1.0, 8000));
        assert_eq!(a.len(), 8000);
        let peak = a.iter().map(|x| x.unsigned_abs()).max().unwrap_or(0);
        assert!(peak > 8000 && peak < 32767, "peak {peak}");
        // It has pauses.
        assert!(a
            .windows(400)
            .any(|w| w.iter().all(|x| x.unsigned_abs() < 200)));
    }
}
