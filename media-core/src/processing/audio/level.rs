//! Speech level: the active speech level of ITU-T P.56 (method B), as the ITU-T Software
//! Tool Library's speech voltmeter (`sv-p56.c`, G.191) measures it, streaming and
//! allocation-free.
//!
//! # Method B
//!
//! * Process 1 sums the squares of all samples (the long-term level).
//! * Process 2 follows the signal's envelope with two cascaded one-pole smoothers of time
//!   constant 30 ms on `|x|`, and for each of 15 thresholds `c_j = 2^(j - 15)` of full scale
//!   counts the samples where the envelope is at or above `c_j`, or fell below it less than
//!   200 ms ago (the hangover).
//! * The active level for threshold `j` is the energy over the active count,
//!   `A_j = 10 log10(sum x^2 / a_j)`. The active speech level is where `A_j` lies the margin
//!   `M = 15.9 dB` above the threshold `C_j = 20 log10 c_j`: found, as in the STL, by
//!   bisection between the two thresholds that straddle it (to 0.5 dB). The activity factor
//!   is the long-term energy over the active energy.
//!
//! Levels are in dBov: 0 dBov is the mean power of a full-scale square wave (samples at ±1,
//! or ±32768 in 16-bit), so a full-scale sine is -3 dBov.

/// Time constant of the envelope, s.
// The offline, whole-signal form (used by the AGC's tests and the evaluation tools).
pub use super::speech_level::{active_speech_level, rms_dbov};

const T: f64 = 0.03;
/// Hangover, s.
const H: f64 = 0.2;
/// Margin between the active level and the threshold, dB.
pub const MARGIN_DB: f64 = 15.9;
/// Number of thresholds.
const THRESHOLDS: usize = 15;
/// Keeps log10 finite on silence.
const MIN_LOG_OFFSET: f64 = 1e-20;

/// The result of a P.56 measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActiveLevel {
    /// The active speech level, dBov; `None` if nothing rose above the lowest threshold by
    /// the margin (silence).
    pub active_dbov: Option<f64>,
    /// The long-term level (mean power of everything), dBov.
    pub long_term_dbov: f64,
    /// The activity factor, 0..=1: the share of time P.56 counts as active speech.
    pub activity: f64,
    /// Samples measured.
    pub samples: u64,
}

/// The P.56 method B speech voltmeter for one mono stream.
///
/// ```
/// use media_core::processing::audio::level::ActiveLevelMeter;
///
/// // One second of a -20 dBov sine, one second of silence: active level -20 dBov, less about
/// // a dB because P.56 counts the envelope's decay and its 200 ms hangover as active.
/// let mut meter = ActiveLevelMeter::new(8000);
/// let amp = 10f64.powf(-20.0 / 20.0) * 2f64.sqrt();
/// let tone: Vec<f32> = (0..8000)
///     .map(|i| (amp * (i as f64 * 0.3).sin()) as f32)
///     .collect();
/// meter.process_f32(&tone);
/// meter.process_f32(&[0.0; 8000]);
/// let level = meter.result();
/// let active = level.active_dbov.unwrap_or(-100.0);
/// assert!((-21.5..=-20.0).contains(&active), "{active}");
/// assert!((level.long_term_dbov + 23.0).abs() < 0.1);
/// # Ok::<(), std::convert::Infallible>(())
/// ```
#[derive(Debug, Clone)]
pub struct ActiveLevelMeter {
    g: f64,
    hangover: u32,
    c: [f64; THRESHOLDS],
    a: [u64; THRESHOLDS],
    hang: [u32; THRESHOLDS],
    sq: f64,
    n: u64,
    p: f64,
    q: f64,
}

impl ActiveLevelMeter {
    /// A meter for a stream at `rate` Hz (any positive rate; 0 is taken as 1).
    pub fn new(rate: u32) -> Self {
        let fs = f64::from(rate.max(1));
        let hangover = (H * fs + 0.5).floor() as u32;
        let mut c = [0.0; THRESHOLDS];
        for (j, c) in c.iter_mut().enumerate() {
            *c = 2f64.powi(j as i32 - THRESHOLDS as i32);
        }
        Self {
            g: (-1.0 / (fs * T)).exp(),
            hangover,
            c,
            a: [0; THRESHOLDS],
            hang: [hangover; THRESHOLDS],
            sq: 0.0,
            n: 0,
            p: 0.0,
            q: 0.0,
        }
    }

    #[inline]
    fn push(&mut self, x: f64) {
        self.sq += x * x;
        self.n += 1;
        self.p = self.g * self.p + (1.0 - self.g) * x.abs();
        self.q = self.g * self.q + (1.0 - self.g) * self.p;
        for j in 0..THRESHOLDS {
            if self.q >= self.c[j] {
                self.a[j] += 1;
                self.hang[j] = 0;
            } else if self.hang[j] < self.hangover {
                self.a[j] += 1;
                self.hang[j] += 1;
            }
        }
    }

    /// Measures 16-bit samples.
    pub fn process_i16(&mut self, samples: &[i16]) {
        for &s in samples {
            self.push(f64::from(s) / 32768.0);
        }
    }

    /// Measures f32 samples (full scale ±1; non-finite samples count as 0).
    pub fn process_f32(&mut self, samples: &[f32]) {
        for &s in samples {
            let x = f64::from(s);
            self.push(if x.is_finite() { x } else { 0.0 });
        }
    }

    /// The measurement so far.
    pub fn result(&self) -> ActiveLevel {
        let n = self.n.max(1) as f64;
        let long_term = 10.0 * (self.sq / n + MIN_LOG_OFFSET).log10();
        let silent = ActiveLevel {
            active_dbov: None,
            long_term_dbov: long_term,
            activity: 0.0,
            samples: self.n,
        };
        let a_db = |j: usize| 10.0 * (self.sq / self.a[j] as f64 + MIN_LOG_OFFSET).log10();
        let c_db = |j: usize| 20.0 * (self.c[j] + MIN_LOG_OFFSET).log10();
        if self.a[0] == 0 || a_db(0) - c_db(0) < MARGIN_DB {
            return silent;
        }
        for j in 1..THRESHOLDS {
            if self.a[j] == 0 {
                continue;
            }
            if a_db(j) - c_db(j) <= MARGIN_DB {
                let level = bin_interp(a_db(j), a_db(j - 1), c_db(j), c_db(j - 1), MARGIN_DB, 0.5);
                return ActiveLevel {
                    active_dbov: Some(level),
                    long_term_dbov: long_term,
                    activity: 10f64.powf((long_term - level) / 10.0).min(1.0),
                    samples: self.n,
                };
            }
        }
        // Even the highest threshold is more than the margin below: the signal is active
        // nearly everywhere and louder than P.56's range; its active level is its level
        // over the highest threshold's count.
        let j = THRESHOLDS - 1;
        if self.a[j] == 0 {
            return silent;
        }
        let level = a_db(j);
        ActiveLevel {
            active_dbov: Some(level),
            long_term_dbov: long_term,
            activity: 10f64.powf((long_term - level) / 10.0).min(1.0),
            samples: self.n,
        }
    }

    /// Starts a new measurement.
    pub fn reset(&mut self) {
        self.a = [0; THRESHOLDS];
        self.hang = [self.hangover; THRESHOLDS];
        self.sq = 0.0;
        self.n = 0;
        self.p = 0.0;
        self.q = 0.0;
    }
}

/// The STL's bisection: the active level between the bracketing thresholds' levels
/// (`up*` the higher threshold, `lw*` the lower), where level minus threshold equals the
/// margin, to within `tol` dB (the tolerance grows by 10 % per step after 20 steps).
fn bin_interp(
    mut upcount: f64,
    mut lwcount: f64,
    mut upthr: f64,
    mut lwthr: f64,
    margin: f64,
    tol: f64,
) -> f64 {
    let mut tol = tol.abs();
    if ((upcount - upthr) - margin).abs() < tol {
        return upcount;
    }
    if ((lwcount - lwthr) - margin).abs() < tol {
        return lwcount;
    }
    let mut midcount = (upcount + lwcount) / 2.0;
    let mut midthr = (upthr + lwthr) / 2.0;
    let mut diff = (midcount - midthr) - margin;
    let mut iter = 1;
    while diff.abs() > tol && iter < 200 {
        iter += 1;
        if iter > 20 {
            tol *= 1.1;
        }
        if diff > tol {
            midcount = (upcount + midcount) / 2.0;
            midthr = (upthr + midthr) / 2.0;
            lwcount = midcount;
            lwthr = midthr;
        } else if diff < -tol {
            midcount = (midcount + lwcount) / 2.0;
            midthr = (midthr + lwthr) / 2.0;
            upcount = midcount;
            upthr = midthr;
        }
        diff = (midcount - midthr) - margin;
    }
    midcount
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, dbov: f64, seconds: f64) -> Vec<f32> {
        let amp = 10f64.powf(dbov / 20.0) * 2f64.sqrt();
        (0..(f64::from(rate) * seconds) as usize)
            .map(|i| {
                (amp * (std::f64::consts::TAU * 1000.0 * i as f64 / f64::from(rate)).sin()) as f32
            })
            .collect()
    }

    #[test]
    fn continuous_tone_is_fully_active() {
        for dbov in [-10.0, -26.0, -50.0] {
            let mut m = ActiveLevelMeter::new(16000);
            m.process_f32(&sine(16000, dbov, 2.0));
            let r = m.result();
            let active = r.active_dbov.unwrap_or(-200.0);
            assert!((active - dbov).abs() < 0.6, "{dbov}: {r:?}");
            assert!((r.long_term_dbov - dbov).abs() < 0.01);
            assert!(r.activity > 0.85, "{r:?}");
        }
    }

    #[test]
    fn bursts_keep_their_level_and_activity_counts_the_hangover() {
        // 1 s on, 1 s off, four times. P.56 counts as active the second of tone, the envelope's
        // decay below the threshold and the 200 ms hangover: about 1.27 s of every 2, so the
        // active level is about 1 dB under the tone's own.
        let mut m = ActiveLevelMeter::new(8000);
        for _ in 0..4 {
            m.process_f32(&sine(8000, -30.0, 1.0));
            m.process_i16(&[0; 8000]);
        }
        let r = m.result();
        let active = r.active_dbov.unwrap_or(-200.0);
        assert!((-31.6..=-30.0).contains(&active), "{r:?}");
        assert!((r.long_term_dbov + 33.01).abs() < 0.05, "{r:?}");
        assert!((0.6..=0.7).contains(&r.activity), "{r:?}");
        // Activity and levels agree: long-term = active + 10 log10(activity).
        assert!((r.long_term_dbov - active - 10.0 * r.activity.log10()).abs() < 1e-9);
    }

    #[test]
    fn silence_and_reset() {
        let mut m = ActiveLevelMeter::new(8000);
        m.process_i16(&[0; 4000]);
        assert_eq!(m.result().active_dbov, None);
        m.process_f32(&[f32::NAN; 10]);
        assert_eq!(m.result().samples, 4010);
        m.reset();
        assert_eq!(m.result().samples, 0);
        // Full-scale square wave: 0 dBov.
        let sq: Vec<i16> = (0..16000)
            .map(|i| if i % 16 < 8 { 32767 } else { -32768 })
            .collect();
        m.process_i16(&sq);
        let r = m.result();
        assert!(r.long_term_dbov.abs() < 0.01 && (r.active_dbov.unwrap_or(-200.0)).abs() < 0.6);
    }
}
