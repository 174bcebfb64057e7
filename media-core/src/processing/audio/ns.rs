//! Noise suppression: RNNoise at every chain rate, run by our own engine (`media-rnnoise`).
//!
//! # Choice
//!
//! RNNoise is a small recurrent network that predicts 22 Bark-band gains (and a voice
//! probability) from band energies, cepstral and pitch features, followed by a pitch comb filter.
//! It was measured against sonora's port of WebRTC's NS (a Wiener filter on a noise estimate by
//! quantile tracking) on real speech mixed with pink, brown, babble and music noise at 0, 5, 10
//! and 20 dB SNR (`media-bench/examples/ns_sweep.rs`, tables in `media-bench/RESULTS.md`):
//! RNNoise scored the higher PESQ in 29 of 32 (rate, noise, SNR) cases and on average (2.76 vs
//! 2.65 at 8 kHz narrowband, 1.89 vs 1.77 at 16 kHz wideband, sonora at its `High` level; its
//! `VeryHigh` level scored lower still), so it is what this stage runs. This stage scores the
//! same as nnnoiseless run directly with ffmpeg's resampler around it (to within 0.05 PESQ in
//! every case; +0.01 on average).
//!
//! # Engine and cost
//!
//! The network runs in [`Rnnoise`] (the `media-rnnoise` crate of this workspace, re-exported
//! here): RNNoise's processing as the `nnnoiseless` crate (0.5) ports it, written again for
//! speed with the same arithmetic, so its output is the same to the bit
//! (`tests/ns_equivalence.rs`: real speech in pink noise at 5 dB SNR, silence, full scale;
//! the PESQ sweep reproduces the previous table to the digit). Its FFTs are planned once, its
//! weights converted to f32 once in register-blocked layout, its correlations vectorised
//! across lags; see the crate's docs. Per 10 ms frame, best of 100 rounds
//! (`cargo run --release -p media-bench --features c-reference --example chain_profile --
//! time 48000`), this stage costs 17.5 µs at 48 kHz where it cost 31.2 µs through
//! nnnoiseless, and 19.4 µs at 16 kHz (was 33) including the resampling. (nnnoiseless
//! converts its i8 weights to f32 inside its GRU loops, and its FFT wrapper looks the plan and
//! scratch up in thread-local maps on every call.)
//!
//! The model (RNNoise's default, BSD-3-Clause) is committed beside the engine and parsed once
//! per process; a damaged file would make [`NoiseSuppressor::new`] fail with
//! [`ProcessError::InvalidConfig`] naming the [`ModelError`].
//!
//! # Rates and latency
//!
//! The network runs at 48 kHz on 480-sample frames. At 8, 16 and 32 kHz the stage resamples
//! each 10 ms frame up to 48 kHz with a polyphase FIR, denoises, and resamples back. RNNoise's
//! overlap-add synthesis returns each frame one frame (10 ms) late, and the two FIR stages add
//! a little more: [`NoiseSuppressor::latency_samples`] reports the total at the stage's rate,
//! so that a caller aligning the capture with something else (AEC reference, a test's clean
//! signal) can account for it:
//!
//! | rate | latency |
//! |---|---|
//! | 8 kHz | 104 samples, 13.0 ms |
//! | 16 kHz | 184 samples, 11.5 ms |
//! | 32 kHz | 344 samples, 10.75 ms |
//! | 48 kHz | 480 samples, 10.0 ms |
//!
//! The resampling costs about 2 µs per 10 ms at 16 kHz beside RNNoise's ~17 µs.
//!
//! # Rough edges owned here
//!
//! * Input is sanitised ([`sanitize`]) before it reaches the network: one NaN would otherwise
//!   poison its recurrent state for the rest of the call.
//! * RNNoise skips (passes through unchanged) frames whose energy is below a tiny threshold;
//!   those report a speech probability of 0.
//! * The output is clamped to ±1 (the synthesis can overshoot slightly on full-scale input).
//! * [`NsConfig::max_attenuation_db`] bounds the suppression by mixing the delayed input back in
//!   at that level, which keeps some room tone instead of RNNoise's occasional dead silence.
//!   At 25 dB it raised the mean PESQ a little (+0.01 narrowband, +0.03 wideband; most on
//!   brown noise and music) but lost up to 0.05 on pink noise, so it is off by default.
//! * Nothing allocates after [`NoiseSuppressor::new`].
//!
//! # Metrics
//!
//! `speech_probability` is RNNoise's own voice-activity output for the last frame;
//! `noise_floor_dbov` tracks the input level of frames it judged to be noise (a slow minimum-
//! following average of frames with probability under 0.2).

pub use media_rnnoise::{ModelError, Rnnoise, FRAME_SIZE};

use super::ratio::FixedRatio;
use super::stage::{check_frame, sanitize, AudioStage, ProcessError, StageMetrics};
use crate::frame::{AudioFrame, SampleRate};

/// RNNoise's frame at 48 kHz.
const NN_FRAME: usize = FRAME_SIZE;
/// RNNoise works on 16-bit-scaled floats.
const NN_SCALE: f32 = 32768.0;

/// Configuration of a [`NoiseSuppressor`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NsConfig {
    /// The chain's rate: 8, 16, 32 or 48 kHz.
    pub sample_rate: SampleRate,
    /// The most the stage may attenuate, in dB (mixing the dry input back in). `None`: no
    /// limit (RNNoise as it is).
    pub max_attenuation_db: Option<f32>,
}

impl Default for NsConfig {
    fn default() -> Self {
        Self {
            sample_rate: SampleRate::HZ_48000,
            max_attenuation_db: None,
        }
    }
}

impl NsConfig {
    /// The default configuration at `rate`.
    pub fn at(rate: SampleRate) -> Self {
        Self {
            sample_rate: rate,
            ..Self::default()
        }
    }
}

/// Rate conversion around the 48 kHz network for 8/16/32 kHz chains.
struct Around48 {
    up: FixedRatio,
    down: FixedRatio,
}

/// RNNoise noise suppression as an [`AudioStage`].
pub struct NoiseSuppressor {
    config: NsConfig,
    state: Box<Rnnoise>,
    convert: Option<Around48>,
    /// 48 kHz input, scaled to 16-bit range.
    nn_in: Box<[f32; NN_FRAME]>,
    /// 48 kHz output, scaled to 16-bit range.
    nn_out: Box<[f32; NN_FRAME]>,
    /// The input delayed to line up with the output (for the attenuation floor).
    dry: Vec<f32>,
    /// Linear floor gain from `max_attenuation_db` (0 = none).
    floor_gain: f32,
    metrics: StageMetrics,
    noise_power: f32,
    latency: usize,
}

impl std::fmt::Debug for NoiseSuppressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoiseSuppressor")
            .field("config", &self.config)
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}

impl NoiseSuppressor {
    /// A suppressor for `config`; the rate must be 8, 16, 32 or 48 kHz and the attenuation
    /// limit, if any, positive and finite.
    pub fn new(config: NsConfig) -> Result<Self, ProcessError> {
        let hz = config.sample_rate.hz();
        if ![8000, 16000, 32000, 48000].contains(&hz) {
            return Err(ProcessError::InvalidConfig(format!(
                "noise suppression runs at 8, 16, 32 or 48 kHz, not {hz} Hz"
            )));
        }
        let floor_gain = match config.max_attenuation_db {
            None => 0.0,
            Some(db) if db.is_finite() && db > 0.0 => 10f32.powf(-db / 20.0),
            Some(db) => {
                return Err(ProcessError::InvalidConfig(format!(
                    "max_attenuation_db must be positive and finite, not {db}"
                )))
            }
        };
        let state = Rnnoise::new()
            .map_err(|e| ProcessError::InvalidConfig(format!("RNNoise weights: {e}")))?;
        let frame = config.sample_rate.samples_in_ms(10);
        let convert = (hz != 48000).then(|| Around48 {
            up: FixedRatio::new(hz, 48000, frame),
            down: FixedRatio::new(48000, hz, NN_FRAME),
        });
        // Latency at the stage rate: RNNoise's frame, plus the FIR delays (the up-converter's
        // delay is at 48 kHz, the down-converter's at the stage rate).
        let latency = match &convert {
            None => NN_FRAME,
            Some(c) => {
                let up48 = c.up.delay_out() as f64 * f64::from(hz) / 48000.0;
                frame + up48.round() as usize + c.down.delay_out()
            }
        };
        Ok(Self {
            config,
            state: Box::new(state),
            convert,
            nn_in: Box::new([0.0; NN_FRAME]),
            nn_out: Box::new([0.0; NN_FRAME]),
            dry: vec![0.0; latency + frame],
            floor_gain,
            metrics: StageMetrics::default(),
            noise_power: 0.0,
            latency,
        })
    }

    /// The configuration.
    pub fn config(&self) -> NsConfig {
        self.config
    }

    /// How many samples (at the stage's rate) the output lags the input.
    pub fn latency_samples(&self) -> usize {
        self.latency
    }

    /// Sets the attenuation limit during a call (`None`: unlimited). A non-positive or
    /// non-finite value is refused.
    pub fn set_max_attenuation_db(&mut self, db: Option<f32>) -> Result<(), ProcessError> {
        self.floor_gain = match db {
            None => 0.0,
            Some(d) if d.is_finite() && d > 0.0 => 10f32.powf(-d / 20.0),
            Some(d) => {
                return Err(ProcessError::InvalidConfig(format!(
                    "max_attenuation_db must be positive and finite, not {d}"
                )))
            }
        };
        self.config.max_attenuation_db = db;
        Ok(())
    }

    fn update_noise_floor(&mut self, power: f32, prob: f32) {
        if self.metrics.frames <= 1 {
            self.noise_power = power;
        } else if prob < 0.2 {
            // Falls fast, rises slowly (~2 s), so speech leaking past the VAD barely moves it.
            let a = if power < self.noise_power { 0.3 } else { 0.005 };
            self.noise_power += a * (power - self.noise_power);
        }
        self.metrics.noise_floor_dbov = Some(10.0 * (self.noise_power + 1e-12).log10());
    }
}

impl AudioStage for NoiseSuppressor {
    fn name(&self) -> &'static str {
        "ns"
    }

    fn process(&mut self, frame: &mut AudioFrame) -> Result<(), ProcessError> {
        let samples = check_frame(frame, self.config.sample_rate)?;
        self.metrics.sanitized_samples += sanitize(samples);
        self.metrics.frames += 1;
        let n = samples.len();

        // Keep the dry input, delayed by the latency, for the attenuation floor.
        let dl = self.dry.len();
        self.dry.copy_within(n..dl, 0);
        self.dry[dl - n..].copy_from_slice(samples);

        match &mut self.convert {
            None => {
                for (d, s) in self.nn_in.iter_mut().zip(samples.iter()) {
                    *d = s * NN_SCALE;
                }
            }
            Some(c) => {
                c.up.process(samples, &mut self.nn_in[..]);
                for d in self.nn_in.iter_mut() {
                    *d *= NN_SCALE;
                }
            }
        }
        let prob = self.state.process_frame(&mut self.nn_out, &self.nn_in);
        let prob = if prob.is_finite() {
            prob.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.metrics.speech_probability = Some(prob);
        for d in self.nn_out.iter_mut() {
            *d *= 1.0 / NN_SCALE;
        }
        match &mut self.convert {
            None => samples.copy_from_slice(&self.nn_out[..n]),
            Some(c) => {
                c.down.process(&self.nn_out[..], samples);
            }
        }
        if self.floor_gain > 0.0 {
            // Mix the dry input, delayed to line up, back in at the floor gain.
            let dry = &self.dry[dl - n - self.latency..dl - self.latency];
            let wet = 1.0 - self.floor_gain;
            for (o, d) in samples.iter_mut().zip(dry) {
                *o = wet * *o + self.floor_gain * d;
            }
        }
        for s in samples.iter_mut() {
            *s = if s.is_finite() {
                s.clamp(-1.0, 1.0)
            } else {
                0.0
            };
        }
        let power = mean_square(&self.dry[dl - n..]);
        self.update_noise_floor(power, prob);
        Ok(())
    }

    fn reset(&mut self) {
        self.state.reset();
        if let Some(c) = &mut self.convert {
            c.up.reset();
            c.down.reset();
        }
        self.dry.fill(0.0);
        self.nn_in.fill(0.0);
        self.nn_out.fill(0.0);
        self.metrics = StageMetrics::default();
        self.noise_power = 0.0;
    }

    fn metrics(&self) -> StageMetrics {
        self.metrics
    }

    fn latency_samples(&self) -> usize {
        self.latency
    }
}

/// The mean square of `x`, with eight partial sums (a sequential sum is one long dependency
/// chain).
fn mean_square(x: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += v * v;
        }
    }
    let tail: f32 = chunks.remainder().iter().map(|v| v * v).sum();
    (acc.iter().sum::<f32>() + tail) / x.len().max(1) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{AudioFormat, SampleFormat, Samples};

    #[test]
    fn latency_is_reported_and_true() {
        for (hz, want) in [
            (8000u32, 104usize),
            (16000, 184),
            (32000, 344),
            (48000, 480),
        ] {
            let mut ns = NoiseSuppressor::new(NsConfig::at(SampleRate(hz))).unwrap();
            assert_eq!(ns.latency_samples(), want, "{hz}");
            // Speech-like input: the output correlates best with the input delayed by the
            // reported latency.
            let x: Vec<f32> = crate::signal::speech_like(2.0, hz)
                .iter()
                .map(|&s| f32::from(s) / 32768.0)
                .collect();
            let fl = hz as usize / 100;
            let fmt = AudioFormat {
                sample_rate: SampleRate(hz),
                channels: 1,
                sample_format: SampleFormat::F32,
            };
            let mut y = Vec::new();
            for c in x.chunks_exact(fl) {
                let mut f = AudioFrame::silent(fmt, fl);
                if let Samples::F32(v) = &mut f.samples {
                    v.copy_from_slice(c);
                }
                ns.process(&mut f).unwrap();
                y.extend_from_slice(f.as_f32().unwrap());
            }
            let corr =
                |lag: usize| -> f32 { x.iter().zip(&y[lag..]).map(|(a, b)| a * b).sum::<f32>() };
            let best = (want - 20..want + 20)
                .max_by(|&a, &b| corr(a).total_cmp(&corr(b)))
                .unwrap();
            assert!(
                best.abs_diff(want) <= 1,
                "{hz} Hz: correlation peaks at {best}, reported {want}"
            );
        }
    }

    #[test]
    fn reports_speech_probability_and_noise_floor() {
        let mut ns = NoiseSuppressor::new(NsConfig::at(SampleRate::HZ_16000)).unwrap();
        let fmt = AudioFormat {
            sample_rate: SampleRate::HZ_16000,
            channels: 1,
            sample_format: SampleFormat::F32,
        };
        let mut seed = 1u32;
        for _ in 0..200 {
            let mut f = AudioFrame::silent(fmt, 160);
            if let Samples::F32(v) = &mut f.samples {
                for s in v.iter_mut() {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    *s = ((seed >> 9) as f32 / (1u32 << 23) as f32 - 0.5) * 0.02;
                }
            }
            ns.process(&mut f).unwrap();
        }
        let m = ns.metrics();
        assert_eq!(m.frames, 200);
        let p = m.speech_probability.unwrap();
        assert!(
            (0.0..0.5).contains(&p),
            "white noise speech probability {p}"
        );
        // Uniform noise of amplitude ±0.01: power 0.02^2 / 12, about -45 dBov.
        let floor = m.noise_floor_dbov.unwrap();
        assert!((floor + 44.8).abs() < 3.0, "noise floor {floor}");
        ns.reset();
        assert_eq!(ns.metrics().frames, 0);
    }
}
