//! Active speech level, ITU-T P.56 method B (the algorithm of the ITU-T STL's `sv56demo`).
//!
//! The speech is rectified and smoothed twice with a 30 ms time constant to an envelope. For
//! each of a ladder of thresholds `c_j` (a factor of two apart) the activity `a_j` counts the
//! samples whose envelope is at or above `c_j`, plus a 200 ms hangover after each. The active
//! level for threshold j is `A_j = 10 log10(sum x^2 / a_j)`; the speech level is where
//! `A_j - 20 log10(c_j)` falls to the margin M = 15.9 dB, interpolated linearly between the
//! two thresholds that straddle it. The activity factor is the long-term power over the active
//! power.
//!
//! Levels are in dBov: 0 dBov is the power of a full-scale square wave (mean square 1.0 with
//! samples in ±1), so a full-scale sine is -3.01 dBov.

/// The envelope time constant (s).
const TIME_CONSTANT_S: f64 = 0.03;
/// The hangover (s).
const HANGOVER_S: f64 = 0.2;
/// The margin between the active level and the activity threshold (dB).
const MARGIN_DB: f64 = 15.9;
/// Thresholds `c_j = 2^(j - THRESHOLDS)` for j in 0..THRESHOLDS: -150 dB up to -6 dB.
const THRESHOLDS: usize = 25;

/// The level reported for silence (no active samples), in dBov.
pub const SILENCE_DBOV: f64 = -150.0;

/// The active speech level of `samples` (full scale ±1) at `rate` Hz, in dBov, and the activity
/// factor (0..=1, the fraction of time the speech was active). Silence (or an empty slice)
/// gives ([`SILENCE_DBOV`], 0). Non-finite samples count as zero.
pub fn active_speech_level(samples: &[f32], rate: u32) -> (f64, f64) {
    let fs = f64::from(rate.max(1));
    let g = (-1.0 / (fs * TIME_CONSTANT_S)).exp();
    let hang_max = (HANGOVER_S * fs).round() as u64;
    let mut c = [0.0f64; THRESHOLDS];
    for (j, cj) in c.iter_mut().enumerate() {
        *cj = 2f64.powi(j as i32 - THRESHOLDS as i32);
    }
    let mut a = [0u64; THRESHOLDS];
    let mut hang = [hang_max; THRESHOLDS];
    let (mut p, mut q, mut sq) = (0.0f64, 0.0f64, 0.0f64);
    for &x in samples {
        let x = if x.is_finite() { f64::from(x) } else { 0.0 };
        sq += x * x;
        p = g * p + (1.0 - g) * x.abs();
        q = g * q + (1.0 - g) * p;
        for j in 0..THRESHOLDS {
            if q >= c[j] {
                a[j] += 1;
                hang[j] = 0;
            } else if hang[j] < hang_max {
                a[j] += 1;
                hang[j] += 1;
            }
        }
    }
    let n = samples.len();
    if n == 0 || sq <= 0.0 || a[0] == 0 {
        return (SILENCE_DBOV, 0.0);
    }
    let long_term = sq / n as f64;
    let level_for = |j: usize| 10.0 * (sq / a[j] as f64).log10();
    let thr_db = |j: usize| 20.0 * c[j].log10();
    let mut level = level_for(0);
    let mut prev_delta = level - thr_db(0);
    if prev_delta > MARGIN_DB {
        level = f64::NAN;
        for (j, &aj) in a.iter().enumerate().skip(1) {
            if aj == 0 {
                // No sample reached this threshold: the level lies below it; take the last.
                level = level_for(j - 1);
                break;
            }
            let delta = level_for(j) - thr_db(j);
            if delta <= MARGIN_DB {
                let t = (prev_delta - MARGIN_DB) / (prev_delta - delta);
                level = level_for(j - 1) + t * (level_for(j) - level_for(j - 1));
                break;
            }
            prev_delta = delta;
        }
        if level.is_nan() {
            level = level_for(THRESHOLDS - 1);
        }
    }
    let activity = (long_term / 10f64.powf(level / 10.0)).clamp(0.0, 1.0);
    (level, activity)
}

/// The RMS level of `samples` in dBov (mean square over all samples), [`SILENCE_DBOV`] for
/// silence.
pub fn rms_dbov(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return SILENCE_DBOV;
    }
    let sq: f64 = samples
        .iter()
        .map(|&x| {
            if x.is_finite() {
                f64::from(x).powi(2)
            } else {
                0.0
            }
        })
        .sum();
    if sq <= 0.0 {
        SILENCE_DBOV
    } else {
        (10.0 * (sq / samples.len() as f64).log10()).max(SILENCE_DBOV)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(amp: f32, rate: u32, secs: f32) -> Vec<f32> {
        let n = (rate as f32 * secs) as usize;
        (0..n)
            .map(|i| amp * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin())
            .collect()
    }

    #[test]
    fn continuous_sine_is_its_rms_level_with_full_activity() {
        let x = sine(0.5, 8000, 4.0);
        let (lev, act) = active_speech_level(&x, 8000);
        let rms = 20.0 * (0.5f64 / 2f64.sqrt()).log10();
        assert!((lev - rms).abs() < 0.1, "{lev} vs {rms}");
        assert!(act > 0.98, "{act}");
    }

    #[test]
    fn gated_sine_reports_active_level_and_fraction() {
        // 1 s on, 1 s off, four times: P.56 counts the 200 ms hangover and the envelope's
        // tail after each burst as active, so the active time is about 1.25 s per burst: the
        // level is the sine's less about 1 dB, the activity about 0.6.
        let on = sine(0.1, 16000, 1.0);
        let mut x = Vec::new();
        for _ in 0..4 {
            x.extend_from_slice(&on);
            x.extend(std::iter::repeat_n(0.0, 16000));
        }
        let (lev, act) = active_speech_level(&x, 16000);
        let rms = 20.0 * (0.1f64 / 2f64.sqrt()).log10();
        assert!(lev < rms - 0.7 && lev > rms - 1.3, "{lev} vs {rms}");
        assert!((0.58..0.65).contains(&act), "{act}");
        // Scaling by 20 dB moves the level by 20 dB.
        let y: Vec<f32> = x.iter().map(|v| v * 0.1).collect();
        let (lev2, _) = active_speech_level(&y, 16000);
        assert!((lev - lev2 - 20.0).abs() < 0.2, "{lev} {lev2}");
    }

    #[test]
    fn silence_and_empty() {
        assert_eq!(active_speech_level(&[], 8000), (SILENCE_DBOV, 0.0));
        assert_eq!(active_speech_level(&[0.0; 800], 8000), (SILENCE_DBOV, 0.0));
        assert_eq!(rms_dbov(&[0.0; 10]), SILENCE_DBOV);
        let (l, _) = active_speech_level(&[f32::NAN; 100], 8000);
        assert_eq!(l, SILENCE_DBOV);
    }
}
