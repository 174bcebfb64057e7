//! Automatic gain control: brings active speech to a target level slowly, never in noise, and
//! never lets the output clip.
//!
//! # Algorithm
//!
//! 1. **Speech gating.** Each 10 ms frame is judged speech or not, by the speech hint the chain
//!    passes ([`GainController::set_speech_hint`], e.g. the noise suppressor's speech
//!    probability, which costs nothing more) or, without a hint, by an internal
//!    [`VoiceActivityDetector`]. A hint of 0.2 or more counts as speech (RNNoise's probability
//!    is low on the weak frames of words; with 0.5 the level came out 1.2-1.7 dB under target,
//!    with 0.2 within 1 dB). A frame must also be above an absolute floor (-80 dBov) and 6 dB
//!    above the tracked noise floor.
//! 2. **Speech level** (P.56-style active level). Over speech frames only, the mean power is
//!    averaged: a running mean over the first second of speech (so the first estimate is good
//!    quickly), then an exponential average with a 5 s time constant of speech. That is the
//!    power over active time, which is what ITU-T P.56 calls the active speech level
//!    ([`super::level::active_speech_level`] is the offline reference it is tested against).
//!    Non-speech frames feed a noise-floor tracker instead (fast down, slow up).
//! 3. **Gain.** The wanted gain is `target - level`, clamped to
//!    [-[`AgcConfig::max_attenuation_db`], [`AgcConfig::max_gain_db`]], and, so as not to
//!    pump noise up, never more than brings the noise floor to
//!    [`AgcConfig::max_output_noise_dbov`] (this cap never pushes the gain below 0 dB). The
//!    applied gain moves toward it only during speech, by at most
//!    [`AgcConfig::max_increase_db_per_s`] up and [`AgcConfig::max_decrease_db_per_s`] down
//!    (2 and 4 dB/s by default), except during the first [`AgcConfig::fast_start_s`] of speech
//!    after a reset, when it may move [`AgcConfig::fast_start_db_per_s`] (20 dB/s) to converge
//!    from a quiet start within a couple of seconds. After that it moves only once it is more
//!    than 1 dB from the wanted gain, until within 0.2 dB (hysteresis: the level estimate's
//!    small wander does not reach the output). In noise it is frozen. Within a frame the
//!    linear gain is interpolated sample by sample, so a change makes no step.
//! 4. **Limiter.** A look-ahead-free peak limiter at [`AgcConfig::limiter_dbfs`] (-1 dBFS):
//!    when a gained sample would exceed the ceiling the limiter gain drops at once to exactly
//!    meet it, then recovers with a 60 ms time constant. The output magnitude therefore never
//!    exceeds the ceiling, so it never clips.
//!
//! # Pumping
//!
//! "Pumping" is measured as the largest change of the applied (slow) gain over any one-second
//! window of speech after convergence; by construction it is at most the slew limits (2 dB up,
//! 4 dB down per second) and on steady speech it is far less (the tests bound it at 1.5 dB and
//! the standard deviation of the gain during speech at 1 dB).
//!
//! # Defaults
//!
//! Target -18 dBov active speech (P.56): peaks of normal speech then sit 12-15 dB higher,
//! around -4 dBFS, leaving the limiter little to do. Maximum gain +35 dB, so input at
//! -50 dBov still reaches the target; maximum attenuation 20 dB.

use super::stage::{check_frame, AudioStage, ProcessError, StageMetrics};
use super::vad::{VadConfig, VoiceActivityDetector};
use crate::frame::{AudioFrame, SampleRate};

/// Configuration of a [`GainController`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgcConfig {
    /// The chain's rate: 8, 16, 32 or 48 kHz.
    pub sample_rate: SampleRate,
    /// Wanted active speech level (ITU-T P.56) of the output, dBov (-40..=-3).
    pub target_dbov: f32,
    /// Most gain applied, dB (0..=60).
    pub max_gain_db: f32,
    /// Most attenuation applied, dB (0..=60).
    pub max_attenuation_db: f32,
    /// Fastest gain increase in steady state, dB/s.
    pub max_increase_db_per_s: f32,
    /// Fastest gain decrease in steady state, dB/s.
    pub max_decrease_db_per_s: f32,
    /// Seconds of speech after a reset during which the gain may move at
    /// `fast_start_db_per_s`.
    pub fast_start_s: f32,
    /// Gain slew during the fast start, dB/s.
    pub fast_start_db_per_s: f32,
    /// The gain never lifts the noise floor above this (dBov); `None`: no cap.
    pub max_output_noise_dbov: Option<f32>,
    /// Limiter ceiling, dBFS (-20..=0).
    pub limiter_dbfs: f32,
}

impl Default for AgcConfig {
    fn default() -> Self {
        Self {
            sample_rate: SampleRate::HZ_16000,
            target_dbov: -18.0,
            max_gain_db: 35.0,
            max_attenuation_db: 20.0,
            max_increase_db_per_s: 2.0,
            max_decrease_db_per_s: 4.0,
            fast_start_s: 2.0,
            fast_start_db_per_s: 20.0,
            max_output_noise_dbov: Some(-45.0),
            limiter_dbfs: -1.0,
        }
    }
}

impl AgcConfig {
    /// The default configuration at `rate`.
    pub fn at(rate: SampleRate) -> Self {
        Self {
            sample_rate: rate,
            ..Self::default()
        }
    }

    fn validate(&self) -> Result<(), ProcessError> {
        let bad = |what: &str| Err(ProcessError::InvalidConfig(format!("AGC: {what}")));
        if ![8000, 16000, 32000, 48000].contains(&self.sample_rate.hz()) {
            return bad("rate must be 8, 16, 32 or 48 kHz");
        }
        let in_range = |v: f32, lo: f32, hi: f32| v.is_finite() && v >= lo && v <= hi;
        if !in_range(self.target_dbov, -40.0, -3.0) {
            return bad("target_dbov must be in -40..=-3");
        }
        if !in_range(self.max_gain_db, 0.0, 60.0) || !in_range(self.max_attenuation_db, 0.0, 60.0) {
            return bad("max gain and attenuation must be in 0..=60 dB");
        }
        for r in [
            self.max_increase_db_per_s,
            self.max_decrease_db_per_s,
            self.fast_start_db_per_s,
        ] {
            if !in_range(r, 0.01, 200.0) {
                return bad("gain rates must be in 0.01..=200 dB/s");
            }
        }
        if !in_range(self.fast_start_s, 0.0, 60.0) {
            return bad("fast_start_s must be in 0..=60");
        }
        if let Some(n) = self.max_output_noise_dbov {
            if !in_range(n, -120.0, 0.0) {
                return bad("max_output_noise_dbov must be in -120..=0");
            }
        }
        if !in_range(self.limiter_dbfs, -20.0, 0.0) {
            return bad("limiter_dbfs must be in -20..=0");
        }
        Ok(())
    }
}

/// Frames (10 ms) of speech over which the first level estimate is a plain running mean.
const INITIAL_MEAN_FRAMES: f32 = 100.0;
/// Time constant of the steady-state level average, in frames of speech (5 s).
const LEVEL_TAU_FRAMES: f32 = 500.0;
/// The gain starts moving when it is this far from the wanted gain (dB)...
const ADAPT_START_DB: f32 = 1.0;
/// ...and stops when it is this close (dB).
const ADAPT_STOP_DB: f32 = 0.2;
/// Frames below this power (dBov) are never speech for the level estimate.
const ABSOLUTE_FLOOR_DBOV: f32 = -80.0;
/// Speech frames must be this far above the noise floor (dB).
const ABOVE_NOISE_DB: f32 = 6.0;
/// A speech hint at or above this counts as speech. RNNoise's probability is conservative
/// (weak frames of words score low), so a low bar matches P.56's notion of active time better.
const HINT_THRESHOLD: f32 = 0.2;
/// Limiter release time constant (s).
const LIMITER_RELEASE_S: f32 = 0.06;

/// Automatic gain control with a limiter, as an [`AudioStage`].
pub struct GainController {
    config: AgcConfig,
    vad: VoiceActivityDetector,
    hint: Option<f32>,
    /// Mean power of speech frames (linear), and how many speech frames fed it.
    level_power: f32,
    speech_frames: u32,
    noise_power: f32,
    /// The applied slow gain, dB, and its linear value at the end of the last frame.
    gain_db: f32,
    gain_lin: f32,
    limiter_gain: f32,
    limiter_min: f32,
    release: f32,
    ceiling: f32,
    last_speech_prob: f32,
    /// Whether the gain is moving toward the wanted gain (hysteresis between
    /// `ADAPT_START_DB` and `ADAPT_STOP_DB`).
    adapting: bool,
    metrics: StageMetrics,
}

impl std::fmt::Debug for GainController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GainController")
            .field("config", &self.config)
            .field("gain_db", &self.gain_db)
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}

fn db_to_lin(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

fn power_db(p: f32) -> f32 {
    10.0 * (p.max(1e-15)).log10()
}

impl GainController {
    /// A controller for `config` (validated).
    pub fn new(config: AgcConfig) -> Result<Self, ProcessError> {
        config.validate()?;
        let fs = config.sample_rate.hz() as f32;
        Ok(Self {
            config,
            vad: VoiceActivityDetector::new(VadConfig::at(config.sample_rate))?,
            hint: None,
            level_power: 0.0,
            speech_frames: 0,
            noise_power: 0.0,
            gain_db: 0.0,
            gain_lin: 1.0,
            limiter_gain: 1.0,
            limiter_min: 1.0,
            release: 1.0 - (-1.0 / (LIMITER_RELEASE_S * fs)).exp(),
            ceiling: db_to_lin(config.limiter_dbfs),
            last_speech_prob: 0.0,
            adapting: true,
            metrics: StageMetrics::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> AgcConfig {
        self.config
    }

    /// Passes the probability (0..1) that the next frame holds speech, from a detector earlier
    /// in the chain (the noise suppressor's); used for that one frame instead of the internal
    /// detector. Non-finite values are ignored.
    pub fn set_speech_hint(&mut self, probability: f32) {
        if probability.is_finite() {
            self.hint = Some(probability.clamp(0.0, 1.0));
        }
    }

    /// Changes the target level during a call (dBov, -40..=-3).
    pub fn set_target_dbov(&mut self, target: f32) -> Result<(), ProcessError> {
        let mut c = self.config;
        c.target_dbov = target;
        c.validate()?;
        self.config = c;
        Ok(())
    }

    /// Changes the maximum gain during a call (dB, 0..=60).
    pub fn set_max_gain_db(&mut self, max_gain: f32) -> Result<(), ProcessError> {
        let mut c = self.config;
        c.max_gain_db = max_gain;
        c.validate()?;
        self.config = c;
        Ok(())
    }

    /// The slow gain applied now, dB.
    pub fn gain_db(&self) -> f32 {
        self.gain_db
    }

    /// The lowest limiter gain within the last frame, dB (0 when the limiter did nothing).
    pub fn limiter_gain_db(&self) -> f32 {
        20.0 * self.limiter_min.max(1e-6).log10()
    }

    /// The current estimate of the input's active speech level, dBov (`None` before any
    /// speech).
    pub fn speech_level_dbov(&self) -> Option<f32> {
        (self.speech_frames > 0).then(|| power_db(self.level_power))
    }

    /// Processes one 10 ms frame of samples at the stage's rate in place (the same as
    /// `process` without an [`AudioFrame`]).
    pub fn process_samples(&mut self, samples: &mut [f32]) -> Result<(), ProcessError> {
        // The internal detector checks the length and does its own sanitising copy.
        let vad_speech = match self.hint.take() {
            Some(p) => {
                self.last_speech_prob = p;
                if samples.len() != self.vad.config().sample_rate.samples_in_ms(10) {
                    return Err(ProcessError::WrongFrameLength {
                        got: samples.len(),
                        expected: self.vad.config().sample_rate.samples_in_ms(10),
                    });
                }
                p >= HINT_THRESHOLD
            }
            None => {
                let s = self.vad.process_samples(samples)?;
                self.last_speech_prob = self.vad.score();
                s
            }
        };
        self.metrics.sanitized_samples += super::stage::sanitize(samples);
        self.metrics.frames += 1;
        let n = samples.len();
        let power = samples.iter().map(|x| x * x).sum::<f32>() / n as f32;
        let p_db = power_db(power);
        let noise_known = self.metrics.frames > 1;
        let speech = vad_speech
            && p_db > ABSOLUTE_FLOOR_DBOV
            && (!noise_known || p_db > power_db(self.noise_power) + ABOVE_NOISE_DB);

        if speech {
            self.speech_frames = self.speech_frames.saturating_add(1);
            let k = self.speech_frames as f32;
            let a = if k <= INITIAL_MEAN_FRAMES {
                1.0 / k
            } else {
                1.0 / LEVEL_TAU_FRAMES
            };
            self.level_power += a * (power - self.level_power);
        } else if !vad_speech {
            if self.metrics.frames <= 1 {
                self.noise_power = power;
            } else {
                let a = if power < self.noise_power { 0.2 } else { 0.01 };
                self.noise_power += a * (power - self.noise_power);
            }
        }

        // The wanted gain, and the slew toward it (during speech only).
        if speech {
            let c = &self.config;
            let level_db = power_db(self.level_power);
            let mut want = (c.target_dbov - level_db).clamp(-c.max_attenuation_db, c.max_gain_db);
            if let Some(max_noise) = c.max_output_noise_dbov {
                if self.noise_power > 0.0 {
                    let cap = (max_noise - power_db(self.noise_power)).max(0.0);
                    want = want.min(cap);
                }
            }
            let fast = (self.speech_frames as f32) * 0.01 <= c.fast_start_s;
            let (up, down) = if fast {
                (c.fast_start_db_per_s, c.fast_start_db_per_s)
            } else {
                (c.max_increase_db_per_s, c.max_decrease_db_per_s)
            };
            let err = want - self.gain_db;
            if err.abs() > ADAPT_START_DB {
                self.adapting = true;
            } else if err.abs() < ADAPT_STOP_DB {
                self.adapting = false;
            }
            if self.adapting || fast {
                self.gain_db += err.clamp(-down * 0.01, up * 0.01);
            }
        }

        // Apply: interpolate the linear gain across the frame, then limit.
        let target_lin = db_to_lin(self.gain_db);
        let start = self.gain_lin;
        let inc = (target_lin - start) / n as f32;
        let mut lim_min: f32 = 1.0;
        let (ceiling, release) = (self.ceiling, self.release);
        let mut lg = self.limiter_gain;
        // The peak of the frame, in eight lanes (vectorised; the samples are finite).
        let mut lanes = [0.0f32; 8];
        for c in samples.chunks_exact(8) {
            for (l, v) in lanes.iter_mut().zip(c) {
                *l = l.max(v.abs());
            }
        }
        let tail = samples.len() - samples.len() % 8;
        let peak = samples[tail..]
            .iter()
            .fold(lanes.iter().fold(0.0f32, |m, &v| m.max(v)), |m, v| {
                m.max(v.abs())
            });
        if lg == 1.0 && peak * start.max(target_lin) <= ceiling {
            // Fast path: the limiter is at rest and no sample can reach the ceiling, so the
            // frame is only the gain ramp (the clamp is a no-op kept against rounding).
            for (i, s) in samples.iter_mut().enumerate() {
                let g = start + inc * (i as f32 + 1.0);
                *s = (*s * g).clamp(-ceiling, ceiling);
            }
        } else {
            for (i, s) in samples.iter_mut().enumerate() {
                let g = start + inc * (i as f32 + 1.0);
                let y = *s * g;
                let a = y.abs();
                // Recover toward 1 (snapping the last 0.001 dB, which f32 steps of the
                // recursion cannot close, so the fast path above can take over), unless that
                // would put this sample over the ceiling: then drop at once to exactly meet it.
                let mut recovered = lg + release * (1.0 - lg);
                if recovered > 1.0 - 1e-4 {
                    recovered = 1.0;
                }
                lg = if a * recovered > ceiling {
                    ceiling / a
                } else {
                    recovered
                };
                lim_min = lim_min.min(lg);
                *s = (y * lg).clamp(-ceiling, ceiling);
            }
        }
        self.limiter_gain = lg;
        self.gain_lin = target_lin;
        self.limiter_min = lim_min;

        self.metrics.gain_db = Some(self.gain_db);
        self.metrics.speech_probability = Some(self.last_speech_prob);
        self.metrics.noise_floor_dbov = noise_known.then(|| power_db(self.noise_power));
        Ok(())
    }
}

impl AudioStage for GainController {
    fn name(&self) -> &'static str {
        "agc"
    }

    fn process(&mut self, frame: &mut AudioFrame) -> Result<(), ProcessError> {
        let samples = check_frame(frame, self.config.sample_rate)?;
        self.process_samples(samples)
    }

    fn reset(&mut self) {
        self.vad.reset();
        self.hint = None;
        self.level_power = 0.0;
        self.speech_frames = 0;
        self.noise_power = 0.0;
        self.gain_db = 0.0;
        self.gain_lin = 1.0;
        self.limiter_gain = 1.0;
        self.limiter_min = 1.0;
        self.last_speech_prob = 0.0;
        self.adapting = true;
        self.metrics = StageMetrics::default();
    }

    fn metrics(&self) -> StageMetrics {
        self.metrics
    }

    fn set_speech_hint(&mut self, probability: f32) {
        GainController::set_speech_hint(self, probability);
    }
}
