//! The capture processing chain: high-pass -> AEC -> NS -> AGC -> VAD.
//!
//! The chain takes 16-bit capture audio of any length, cuts it into 10 ms frames, converts each
//! to f32 once, runs the enabled stages in order and converts back once. Noise suppression,
//! gain control and voice activity detection are slots taking any [`AudioStage`], so they plug in
//! as they are written. Each stage can be switched on or off during a call; a switch takes
//! effect at the next frame boundary, never inside a frame. Nothing allocates per frame.
//!
//! ```
//! use media_core::frame::SampleRate;
//! use media_core::processing::audio::chain::{ChainConfig, ProcessingChain, Slot};
//! let mut chain = ProcessingChain::new(ChainConfig::new(SampleRate::HZ_16000)).unwrap();
//! let far = vec![0i16; 160];
//! chain.render_i16(&far).unwrap(); // what the loudspeaker played
//! let capture = vec![0i16; 250];
//! let mut out = vec![0i16; capture.len() + chain.frame_len()];
//! let n = chain.process_i16(&capture, &mut out).unwrap();
//! assert_eq!(n, 160); // one whole frame; 90 samples wait for the next call
//! chain.set_enabled(Slot::Aec, false); // from the next frame on
//! ```

use super::aec::{EchoCanceller, EchoConfig, EchoMetrics, FarEndSender};
use super::highpass::{HighPass, DEFAULT_CUTOFF_HZ};
use super::stage::{AudioStage, ProcessError, StageMetrics};
use crate::frame::{AudioFormat, AudioFrame, SampleFormat, SampleRate};
use crate::processing::format::{f32_to_i16, i16_to_f32};

/// A position in the chain, in processing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    /// High-pass filter.
    HighPass,
    /// Acoustic echo cancellation.
    Aec,
    /// Noise suppression.
    Ns,
    /// Automatic gain control.
    Agc,
    /// Voice activity detection.
    Vad,
}

impl Slot {
    /// All slots in processing order.
    pub const ALL: [Slot; 5] = [Slot::HighPass, Slot::Aec, Slot::Ns, Slot::Agc, Slot::Vad];

    fn index(self) -> usize {
        match self {
            Slot::HighPass => 0,
            Slot::Aec => 1,
            Slot::Ns => 2,
            Slot::Agc => 3,
            Slot::Vad => 4,
        }
    }
}

/// Chain configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainConfig {
    /// Capture rate: 8, 16, 32 or 48 kHz.
    pub sample_rate: SampleRate,
    /// Whether the high-pass starts enabled.
    pub high_pass: bool,
    /// High-pass corner in Hz.
    pub high_pass_hz: f32,
    /// The echo canceller's configuration, or `None` for no echo canceller slot. Its rate must
    /// be the chain's.
    pub aec: Option<EchoConfig>,
}

impl ChainConfig {
    /// High-pass at 90 Hz and the echo canceller with its defaults, both enabled.
    pub fn new(sample_rate: SampleRate) -> Self {
        Self {
            sample_rate,
            high_pass: true,
            high_pass_hz: DEFAULT_CUTOFF_HZ,
            aec: Some(EchoConfig::new(sample_rate)),
        }
    }
}

/// What one slot reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageReport {
    /// The slot.
    pub slot: Slot,
    /// The stage's name, or `""` for an empty slot.
    pub name: &'static str,
    /// Whether a stage is plugged in.
    pub present: bool,
    /// Whether it runs.
    pub enabled: bool,
    /// Frames on which the stage failed (it was skipped for those frames).
    pub errors: u64,
    /// The stage's own metrics.
    pub metrics: StageMetrics,
}

/// The capture processing chain; see the [module docs](self).
pub struct ProcessingChain {
    rate: SampleRate,
    frame_len: usize,
    high_pass: HighPass,
    aec: Option<EchoCanceller>,
    ns: Option<Box<dyn AudioStage>>,
    agc: Option<Box<dyn AudioStage>>,
    vad: Option<Box<dyn AudioStage>>,
    enabled: [bool; 5],
    pending: [Option<bool>; 5],
    errors: [u64; 5],
    work: AudioFrame,
    /// Input samples waiting for a whole frame.
    held: Vec<i16>,
}

impl std::fmt::Debug for ProcessingChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessingChain")
            .field("rate", &self.rate)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl ProcessingChain {
    /// Builds the chain (validating the high-pass and echo canceller configurations).
    pub fn new(cfg: ChainConfig) -> Result<Self, ProcessError> {
        let high_pass = HighPass::new(cfg.sample_rate, cfg.high_pass_hz)?;
        let aec = match cfg.aec {
            Some(a) if a.sample_rate != cfg.sample_rate => {
                return Err(ProcessError::InvalidConfig(format!(
                    "echo canceller at {}, chain at {}",
                    a.sample_rate, cfg.sample_rate
                )))
            }
            Some(a) => Some(EchoCanceller::new(a)?),
            None => None,
        };
        let frame_len = cfg.sample_rate.samples_in_ms(10);
        let fmt = AudioFormat {
            sample_rate: cfg.sample_rate,
            channels: 1,
            sample_format: SampleFormat::F32,
        };
        Ok(Self {
            rate: cfg.sample_rate,
            frame_len,
            high_pass,
            enabled: [cfg.high_pass, aec.is_some(), false, false, false],
            aec,
            ns: None,
            agc: None,
            vad: None,
            pending: [None; 5],
            errors: [0; 5],
            work: AudioFrame::silent(fmt, frame_len),
            held: Vec::with_capacity(frame_len),
        })
    }

    /// Samples per 10 ms frame.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// Delay the built-in stages add now, in samples (the echo canceller's when it runs;
    /// plugged-in stages do not report theirs).
    pub fn latency_samples(&self) -> usize {
        match &self.aec {
            Some(a) if self.enabled[Slot::Aec.index()] => a.latency_samples(),
            _ => 0,
        }
    }

    /// The chain's rate.
    pub fn sample_rate(&self) -> SampleRate {
        self.rate
    }

    /// Plugs a stage into the NS, AGC or VAD slot (enabled from the next frame), replacing
    /// what was there. The stage is tried on one silent frame and reset, so a stage that
    /// refuses the chain's format is rejected here rather than on every frame. The high-pass
    /// and AEC slots are built in.
    pub fn set_stage(
        &mut self,
        slot: Slot,
        mut stage: Box<dyn AudioStage>,
    ) -> Result<(), ProcessError> {
        if matches!(slot, Slot::HighPass | Slot::Aec) {
            return Err(ProcessError::InvalidConfig(
                "the high-pass and AEC slots are built in".into(),
            ));
        }
        if let Some(s) = self.work.as_f32_mut() {
            s.fill(0.0);
        }
        stage.process(&mut self.work)?;
        stage.reset();
        match slot {
            Slot::Ns => self.ns = Some(stage),
            Slot::Agc => self.agc = Some(stage),
            _ => self.vad = Some(stage),
        }
        self.pending[slot.index()] = Some(true);
        Ok(())
    }

    /// Whether `slot` holds a stage.
    pub fn has_stage(&self, slot: Slot) -> bool {
        match slot {
            Slot::HighPass => true,
            Slot::Aec => self.aec.is_some(),
            Slot::Ns => self.ns.is_some(),
            Slot::Agc => self.agc.is_some(),
            Slot::Vad => self.vad.is_some(),
        }
    }

    /// Switches a stage on or off from the next frame boundary (ignored for an empty slot).
    /// Re-enabling the echo canceller resets it: the echo path may have changed meanwhile.
    pub fn set_enabled(&mut self, slot: Slot, on: bool) {
        self.pending[slot.index()] = Some(on);
    }

    /// Whether a stage runs now.
    pub fn is_enabled(&self, slot: Slot) -> bool {
        self.enabled[slot.index()]
    }

    /// Hands the far-end path to the playback side (see [`EchoCanceller::far_end_sender`]).
    pub fn far_end_sender(&mut self) -> Option<FarEndSender> {
        self.aec.as_mut().and_then(|a| a.far_end_sender())
    }

    /// Feeds what the loudspeaker played (16-bit, any length, at the chain's rate) from the
    /// capture thread. A no-op without an echo canceller.
    pub fn render_i16(&mut self, far: &[i16]) -> Result<(), ProcessError> {
        let Some(aec) = self.aec.as_mut() else {
            return Ok(());
        };
        // Convert in frame-sized pieces through the work frame: no allocation.
        for chunk in far.chunks(self.frame_len) {
            let f = self
                .work
                .as_f32_mut()
                .ok_or(ProcessError::FormatMismatch("work frame lost its format"))?;
            i16_to_f32(chunk, &mut f[..chunk.len()]);
            aec.render_f32(&f[..chunk.len()])?;
        }
        Ok(())
    }

    /// Processes capture audio of any length: whole 10 ms frames go through the chain and are
    /// written to `out`; a trailing partial frame is held for the next call. Returns the
    /// samples written (a multiple of [`Self::frame_len`]). `out` must hold
    /// `input.len() + frame_len() - 1` samples.
    pub fn process_i16(&mut self, input: &[i16], out: &mut [i16]) -> Result<usize, ProcessError> {
        let need = input.len() + self.frame_len - 1;
        if out.len() < need {
            return Err(ProcessError::WrongFrameLength {
                got: out.len(),
                expected: need,
            });
        }
        let mut written = 0;
        let mut rest = input;
        // Complete a held partial frame first.
        if !self.held.is_empty() {
            let take = (self.frame_len - self.held.len()).min(rest.len());
            self.held.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.held.len() == self.frame_len {
                let frame = std::mem::take(&mut self.held);
                self.run_frame(&frame, &mut out[..self.frame_len]);
                self.held = frame;
                self.held.clear();
                written += self.frame_len;
            }
        }
        let mut chunks = rest.chunks_exact(self.frame_len);
        for chunk in &mut chunks {
            self.run_frame(chunk, &mut out[written..written + self.frame_len]);
            written += self.frame_len;
        }
        self.held.extend_from_slice(chunks.remainder());
        Ok(written)
    }

    /// Processes exactly one 10 ms frame in place.
    pub fn process_frame(&mut self, frame: &mut [i16]) -> Result<(), ProcessError> {
        if frame.len() != self.frame_len {
            return Err(ProcessError::WrongFrameLength {
                got: frame.len(),
                expected: self.frame_len,
            });
        }
        let mut tmp = [0i16; 480];
        let n = self.frame_len;
        tmp[..n].copy_from_slice(frame);
        self.run_frame(&tmp[..n], frame);
        Ok(())
    }

    fn apply_pending(&mut self) {
        for slot in Slot::ALL {
            let i = slot.index();
            if let Some(on) = self.pending[i].take() {
                let on = on && self.has_stage(slot);
                if slot == Slot::Aec && on && !self.enabled[i] {
                    if let Some(a) = self.aec.as_mut() {
                        a.reset();
                    }
                }
                self.enabled[i] = on;
            }
        }
    }

    fn run_frame(&mut self, input: &[i16], out: &mut [i16]) {
        self.apply_pending();
        if let Some(s) = self.work.as_f32_mut() {
            i16_to_f32(input, s);
        }
        let enabled = self.enabled;
        let errors = &mut self.errors;
        let work = &mut self.work;
        let mut run = |i: usize, stage: &mut dyn AudioStage| {
            if enabled[i] && stage.process(work).is_err() {
                errors[i] += 1;
            }
        };
        run(0, &mut self.high_pass);
        match self.aec.as_mut() {
            Some(a) if enabled[1] => run(1, a),
            Some(a) => a.discard_far_end(),
            None => {}
        }
        if let Some(s) = self.ns.as_deref_mut() {
            run(2, s);
        }
        if let Some(s) = self.agc.as_deref_mut() {
            run(3, s);
        }
        if let Some(s) = self.vad.as_deref_mut() {
            run(4, s);
        }
        if let Some(s) = self.work.as_f32() {
            f32_to_i16(s, out);
        }
    }

    /// Every slot's report, in processing order.
    pub fn metrics(&self) -> [StageReport; 5] {
        Slot::ALL.map(|slot| {
            let i = slot.index();
            let stage: Option<&dyn AudioStage> = match slot {
                Slot::HighPass => Some(&self.high_pass),
                Slot::Aec => self.aec.as_ref().map(|a| a as &dyn AudioStage),
                Slot::Ns => self.ns.as_deref(),
                Slot::Agc => self.agc.as_deref(),
                Slot::Vad => self.vad.as_deref(),
            };
            StageReport {
                slot,
                name: stage.map_or("", |s| s.name()),
                present: stage.is_some(),
                enabled: self.enabled[i],
                errors: self.errors[i],
                metrics: stage.map(|s| s.metrics()).unwrap_or_default(),
            }
        })
    }

    /// The echo canceller's own metrics (ERLE, delay, who is talking), if it is present.
    pub fn echo_metrics(&self) -> Option<EchoMetrics> {
        self.aec.as_ref().map(|a| a.echo_metrics())
    }

    /// Resets every stage and drops held input, as at a new call.
    pub fn reset(&mut self) {
        self.high_pass.reset();
        if let Some(a) = self.aec.as_mut() {
            a.reset();
        }
        for s in [&mut self.ns, &mut self.agc, &mut self.vad]
            .into_iter()
            .flatten()
        {
            s.reset();
        }
        self.held.clear();
        self.errors = [0; 5];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processing::audio::check_frame;

    /// A stage that scales by a constant (stands in for NS/AGC) and counts frames.
    struct Gain(f32, StageMetrics);

    impl AudioStage for Gain {
        fn name(&self) -> &'static str {
            "gain"
        }
        fn process(&mut self, frame: &mut AudioFrame) -> Result<(), ProcessError> {
            let s = check_frame(frame, SampleRate::HZ_16000)?;
            for v in s.iter_mut() {
                *v *= self.0;
            }
            self.1.frames += 1;
            Ok(())
        }
        fn reset(&mut self) {
            self.1 = StageMetrics::default();
        }
        fn metrics(&self) -> StageMetrics {
            self.1
        }
    }

    fn plain(rate: SampleRate) -> ProcessingChain {
        let mut cfg = ChainConfig::new(rate);
        cfg.high_pass = false;
        cfg.aec = None;
        ProcessingChain::new(cfg).unwrap()
    }

    #[test]
    fn splits_any_input_into_frames_and_passes_through() {
        let mut c = plain(SampleRate::HZ_16000);
        let input: Vec<i16> = (0..1000).map(|i| (i * 37 % 20000) as i16 - 10000).collect();
        let mut out = vec![0i16; 2000];
        let mut got = Vec::new();
        for piece in input.chunks(77) {
            let n = c.process_i16(piece, &mut out).unwrap();
            assert_eq!(n % 160, 0);
            got.extend_from_slice(&out[..n]);
        }
        assert_eq!(got.len(), 960);
        assert_eq!(&got[..], &input[..960]);
        // Too small an output buffer is an error, not a panic.
        assert!(c.process_i16(&input, &mut out[..100]).is_err());
        assert!(c.process_frame(&mut [0i16; 100]).is_err());
    }

    #[test]
    fn slots_switch_at_frame_boundaries() {
        let mut c = plain(SampleRate::HZ_16000);
        c.set_stage(Slot::Ns, Box::new(Gain(0.5, StageMetrics::default())))
            .unwrap();
        let mut f = [1000i16; 160];
        c.process_frame(&mut f).unwrap();
        assert!(f.iter().all(|&v| v == 500));
        // Half a frame in, then switch off: the frame in progress finishes with the stage
        // still off only from the next boundary.
        let mut out = [0i16; 480];
        assert_eq!(c.process_i16(&[1000; 80], &mut out).unwrap(), 0);
        c.set_enabled(Slot::Ns, false);
        assert_eq!(c.process_i16(&[1000; 80], &mut out).unwrap(), 160);
        assert!(out[..160].iter().all(|&v| v == 1000));
        let m = c.metrics();
        assert_eq!(m[2].name, "gain");
        assert!(m[2].present && !m[2].enabled);
        assert_eq!(m[2].metrics.frames, 1);
        assert!(!m[3].present);
        // A stage for another rate is refused when plugged in.
        let mut c8 = plain(SampleRate::HZ_8000);
        assert!(c8
            .set_stage(Slot::Agc, Box::new(Gain(1.0, StageMetrics::default())))
            .is_err());
        assert!(c8
            .set_stage(Slot::Aec, Box::new(Gain(1.0, StageMetrics::default())))
            .is_err());
    }

    #[test]
    fn high_pass_and_aec_run_in_the_chain() {
        let mut c = ProcessingChain::new(ChainConfig::new(SampleRate::HZ_16000)).unwrap();
        assert!(c.is_enabled(Slot::HighPass) && c.is_enabled(Slot::Aec));
        // DC is removed by the high-pass.
        let mut out = vec![0i16; 16_000 + 160];
        let n = c.process_i16(&vec![8000i16; 16_000], &mut out).unwrap();
        assert!(out[n - 160..n].iter().all(|v| v.abs() < 50));
        c.render_i16(&[0; 160]).unwrap();
        let m = c.echo_metrics().unwrap();
        assert_eq!(m.far_dropped, 0);
        c.set_enabled(Slot::Aec, false);
        c.process_frame(&mut [0; 160]).unwrap();
        assert!(!c.is_enabled(Slot::Aec));
        assert!(ProcessingChain::new(ChainConfig {
            aec: Some(EchoConfig::new(SampleRate::HZ_8000)),
            ..ChainConfig::new(SampleRate::HZ_16000)
        })
        .is_err());
    }
}
