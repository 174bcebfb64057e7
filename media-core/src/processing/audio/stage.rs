//! The one narrow trait every audio processing stage implements (DESIGN.md principle 5).
//!
//! A stage works in place on 10 ms mono frames of 32-bit float samples (full scale ±1.0) at
//! 8, 16, 32 or 48 kHz. The processing chain converts from and to 16-bit once at its ends, so
//! stages never guess a format: a frame of another length, rate, channel count or sample
//! format is an error, not a panic. Stages are built with their configuration (validated when
//! built) and change during a call only through explicit runtime setters.

use std::fmt;

use crate::frame::{AudioFrame, SampleRate};

/// Why a stage refused a frame. The stage's state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcessError {
    /// The frame is not 10 ms at the stage's rate.
    WrongFrameLength {
        /// Samples per channel in the frame.
        got: usize,
        /// Samples per channel the stage takes.
        expected: usize,
    },
    /// The frame's rate, channels or sample format are not the stage's.
    FormatMismatch(&'static str),
    /// The configuration is invalid (when building a stage).
    InvalidConfig(String),
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongFrameLength { got, expected } => {
                write!(f, "frame of {got} samples, expected {expected} (10 ms)")
            }
            Self::FormatMismatch(why) => write!(f, "frame format mismatch: {why}"),
            Self::InvalidConfig(why) => write!(f, "invalid processing configuration: {why}"),
        }
    }
}

impl std::error::Error for ProcessError {}

/// What a stage reports about itself; each stage fills the fields that apply to it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageMetrics {
    /// Echo return loss enhancement in dB (AEC).
    pub erle_db: Option<f32>,
    /// Estimated echo path delay in ms (AEC).
    pub echo_delay_ms: Option<f32>,
    /// Estimated background noise level in dBov (NS, AGC, VAD).
    pub noise_floor_dbov: Option<f32>,
    /// Gain currently applied in dB (AGC).
    pub gain_db: Option<f32>,
    /// Probability that the last frame held speech, 0..=1 (VAD, NS).
    pub speech_probability: Option<f32>,
    /// Whether the last frame is judged speech, hangover included (VAD).
    pub speech: Option<bool>,
    /// Frames processed since the last reset.
    pub frames: u64,
    /// Non-finite input samples replaced by zero since the last reset.
    pub sanitized_samples: u64,
}

/// One stage of the capture-side processing chain.
pub trait AudioStage: Send {
    /// A short name for logs and metrics (`"aec"`, `"ns"`, ...).
    fn name(&self) -> &'static str;
    /// Processes one 10 ms mono f32 frame in place.
    fn process(&mut self, frame: &mut AudioFrame) -> Result<(), ProcessError>;
    /// Forgets all adaptation, as at a new call.
    fn reset(&mut self);
    /// The stage's current metrics.
    fn metrics(&self) -> StageMetrics;
    /// How many samples the output lags the input (0 for most stages).
    fn latency_samples(&self) -> usize {
        0
    }
    /// The probability (0..=1) that the next frame holds speech, from a detector earlier in
    /// the chain; stages that have no use for it ignore it (the default).
    fn set_speech_hint(&mut self, _probability: f32) {}
}

/// Checks that `frame` is a 10 ms mono f32 frame at `rate`, returning its samples.
pub fn check_frame(frame: &mut AudioFrame, rate: SampleRate) -> Result<&mut [f32], ProcessError> {
    if frame.sample_rate != rate {
        return Err(ProcessError::FormatMismatch(
            "sample rate differs from the stage's",
        ));
    }
    if frame.channels != 1 {
        return Err(ProcessError::FormatMismatch("stages take mono frames"));
    }
    let expected = rate.samples_in_ms(10);
    let samples = frame
        .as_f32_mut()
        .ok_or(ProcessError::FormatMismatch("stages take f32 frames"))?;
    if samples.len() != expected {
        return Err(ProcessError::WrongFrameLength {
            got: samples.len(),
            expected,
        });
    }
    Ok(samples)
}

/// Replaces NaN and infinite samples by 0 and clamps to ±1, returning how many were
/// non-finite, so one bad sample never poisons adaptive state downstream.
pub fn sanitize(samples: &mut [f32]) -> u64 {
    let mut bad = 0;
    for s in samples.iter_mut() {
        if !s.is_finite() {
            *s = 0.0;
            bad += 1;
        } else {
            *s = s.clamp(-1.0, 1.0);
        }
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{AudioFormat, SampleFormat};

    #[test]
    fn check_and_sanitize() {
        let fmt = AudioFormat {
            sample_rate: SampleRate::HZ_16000,
            channels: 1,
            sample_format: SampleFormat::F32,
        };
        let mut f = AudioFrame::silent(fmt, 160);
        let s = check_frame(&mut f, SampleRate::HZ_16000).unwrap();
        s[0] = f32::NAN;
        s[1] = f32::INFINITY;
        s[2] = 3.0;
        assert_eq!(sanitize(s), 2);
        assert_eq!(&s[..3], &[0.0, 0.0, 1.0]);
        let mut short = AudioFrame::silent(fmt, 80);
        assert_eq!(
            check_frame(&mut short, SampleRate::HZ_16000).unwrap_err(),
            ProcessError::WrongFrameLength {
                got: 80,
                expected: 160
            }
        );
        assert!(check_frame(&mut f, SampleRate::HZ_8000).is_err());
        let mut i16f = AudioFrame::silent(AudioFormat::mono_i16(16000), 160);
        assert!(check_frame(&mut i16f, SampleRate::HZ_16000).is_err());
    }
}
