//! The capture processing chain: high-pass -> AEC -> NS -> AGC -> VAD.
//!
//! The chain takes capture audio (16-bit or f32) of any length, cuts it into 10 ms frames,
//! converts each to f32 once, runs the stages in order and converts back once. Nothing
//! allocates per frame.
//!
//! # Stages and defaults
//!
//! [`ChainConfig::voip`] is a softphone's chain: a 90 Hz high-pass, the echo canceller (fed the
//! far end through [`ProcessingChain::render_i16`] or a [`FarEndSender`]), RNNoise noise
//! suppression ([`NoiseSuppressor`]), gain control with a limiter
//! ([`GainController`]) and voice activity detection
//! ([`VoiceActivityDetector`]). [`ChainConfig::new`] has the
//! high-pass and echo canceller only; the `with_*` methods add or remove stages. The NS, AGC
//! and VAD slots also take any other [`AudioStage`] ([`ProcessingChain::set_stage`]).
//!
//! # Switching during a call
//!
//! [`ProcessingChain::set_enabled`] takes effect at the next frame boundary, never inside a
//! frame, and never clicks: a stage is crossfaded in and out over 20 ms, a stage turned on is
//! reset and run for a few frames before it is heard (so its start-up transient is not), and
//! the bypass of a stage with latency (AEC, NS) is delayed by that latency, so the chain's
//! latency ([`ProcessingChain::latency_samples`]) is the same whatever is switched on and the
//! audio never jumps in time.
//!
//! # The VAD's input and the AGC's speech decision
//!
//! The VAD never changes the audio, so where it sits is only a matter of what it judges.
//! [`ChainConfig::vad_input`] is [`VadInput::Capture`] by default: the capture after the
//! high-pass and the echo canceller, before noise suppression, which is what the detector was
//! tuned on. Judging the denoised, gain-controlled output instead ([`VadInput::Processed`])
//! costs it accuracy: on the labelled mixes of `vad_sweep` (`cargo run --release -p
//! media-bench --example chain_vad_sweep [--processed]`) its frame accuracy at 10 and 20 dB
//! SNR fell from 0.896 / 0.921 to 0.860 / 0.864, under webrtcvad's 0.870 / 0.916, while on the
//! capture it is not below webrtcvad at any rate and SNR (48 kHz at 20 dB is a tie at
//! 0.917).
//!
//! The gain controller adapts only on speech, so it needs a speech decision per frame.
//! [`ChainConfig::speech_hint`] says where it comes from:
//!
//! * [`SpeechHint::Vad`] (the default): the AGC takes the chain VAD's decision when the VAD
//!   judges the AGC's own input (no NS running between them, or [`VadInput::Processed`]);
//!   it is then the same detector on the same signal, so the output is exactly what the AGC's
//!   own detector gives (0.00 dB difference in 72 cases of `chain_hint`) for one detector's
//!   cost instead of two (about 4 us per frame). With the NS running between a VAD on the
//!   capture and the AGC, the AGC runs its own detector: fed the capture's decisions it
//!   tracked the denoised noise floor wrongly and came out up to 11 dB under target in
//!   babble and pink noise at 10 dB SNR.
//! * [`SpeechHint::Ns`]: RNNoise's speech probability of the previous frame (RNNoise analyses
//!   each frame one frame before it outputs it, which lines up with the audio the AGC
//!   receives). Measured, it does not help: on real speech at -40 dBov in pink, brown and
//!   babble noise (`cargo run --release -p media-bench --example chain_hint`) it lowered the
//!   noise in pauses only as much as it lowered the gain, and it put the output speech level
//!   1.4 dB lower on average and up to 4.7 dB under the target (RNNoise's probability misses
//!   the weak frames of a quiet talker, so the level estimate comes out high). Kept as an
//!   option for the record, not the default.
//! * [`SpeechHint::None`]: the AGC always runs its own detector.
//!
//! # Metrics
//!
//! [`ProcessingChain::metrics`] gives one [`ChainMetrics`] snapshot: ERLE and echo delay (AEC),
//! noise floor (NS, else VAD, else AGC), applied gain (AGC), speech probability and decision
//! (VAD, else NS), and every slot's own [`StageMetrics`].
//!
//! ```
//! use media_core::frame::SampleRate;
//! use media_core::processing::audio::chain::{ChainConfig, ProcessingChain, Slot};
//! let mut chain = ProcessingChain::new(ChainConfig::voip(SampleRate::HZ_16000)).unwrap();
//! let far = vec![0i16; 160];
//! chain.render_i16(&far).unwrap(); // what the loudspeaker played
//! let capture = vec![0i16; 250];
//! let mut out = vec![0i16; capture.len() + chain.frame_len()];
//! let n = chain.process_i16(&capture, &mut out).unwrap();
//! assert_eq!(n, 160); // one whole frame; 90 samples wait for the next call
//! chain.set_enabled(Slot::Agc, false); // from the next frame on, faded out over 20 ms
//! let m = chain.metrics();
//! assert_eq!(m.frames, 1);
//! assert!(m.gain_db.is_some() && m.speech.is_some());
//! ```

use super::aec::{EchoCanceller, EchoMetrics, FarEndSender};
use super::agc::GainController;
use super::highpass::HighPass;
use super::ns::NoiseSuppressor;
use super::stage::{sanitize, AudioStage, ProcessError, StageMetrics};
use super::switch::SlotSwitch;
use super::vad::VoiceActivityDetector;
use crate::frame::{AudioFormat, AudioFrame, SampleFormat, SampleRate};
use crate::processing::format::{f32_to_i16, i16_to_f32};

#[path = "chain_config.rs"]
mod config;
pub use config::{ChainConfig, Slot, SpeechHint, VadInput};

/// What one slot reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageReport {
    /// The slot.
    pub slot: Slot,
    /// The stage's name, or `""` for an empty slot.
    pub name: &'static str,
    /// Whether a stage is plugged in.
    pub present: bool,
    /// Whether it is switched on.
    pub enabled: bool,
    /// Frames on which the stage failed (it was bypassed for those frames).
    pub errors: u64,
    /// The stage's own metrics.
    pub metrics: StageMetrics,
}

/// One snapshot of the whole chain; each figure comes from the stage that owns it, and is
/// `None` when that stage is absent or off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChainMetrics {
    /// Frames processed since the chain was built or reset.
    pub frames: u64,
    /// The chain's latency, samples.
    pub latency_samples: usize,
    /// Echo return loss enhancement, dB (AEC).
    pub erle_db: Option<f32>,
    /// Estimated echo path delay, ms (AEC).
    pub echo_delay_ms: Option<f32>,
    /// Background noise level, dBov (NS, else VAD, else AGC).
    pub noise_floor_dbov: Option<f32>,
    /// Gain the AGC applies now, dB.
    pub gain_db: Option<f32>,
    /// Probability that the last frame held speech (VAD's fused score, else NS, else AGC).
    pub speech_probability: Option<f32>,
    /// The VAD's decision on the last frame, hangover included.
    pub speech: Option<bool>,
    /// Non-finite f32 input samples replaced by zero at the chain's entry.
    pub sanitized_samples: u64,
    /// Every slot's report, in processing order.
    pub stages: [StageReport; 5],
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
    switches: [SlotSwitch; 5],
    pending: [Option<bool>; 5],
    errors: [u64; 5],
    speech_hint: SpeechHint,
    vad_input: VadInput,
    /// The VAD's recent decisions (newest at `vad_pos`), to hand the AGC the one that lines up
    /// with its frame when the VAD judges the capture before NS.
    vad_hist: [Option<bool>; VAD_HIST],
    vad_pos: usize,
    /// How many frames back that decision is (the NS latency in whole frames).
    vad_delay: usize,
    /// The NS's speech probability of the previous frame (the hint for this one).
    ns_prob: Option<f32>,
    frames: u64,
    sanitized: u64,
    work: AudioFrame,
    /// A slot's bypass signal for the current frame.
    dry: Vec<f32>,
    /// Input samples waiting for a whole frame.
    held: Vec<i16>,
}

impl std::fmt::Debug for ProcessingChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessingChain")
            .field("rate", &self.rate)
            .field("switches", &self.switches)
            .finish_non_exhaustive()
    }
}

/// Decisions kept for lining the VAD up with the AGC (the NS latency is at most 13 ms).
const VAD_HIST: usize = 4;

/// Runs one slot on the work frame: the stage (when it runs), then the switch's bypass and
/// fade. Returns whether the stage processed the frame.
fn run_slot(
    sw: &mut SlotSwitch,
    stage: &mut dyn AudioStage,
    work: &mut AudioFrame,
    dry: &mut [f32],
    errors: &mut u64,
) -> bool {
    if !sw.running() && sw.latency() == 0 {
        return false;
    }
    let Some(s) = work.as_f32_mut() else {
        return false;
    };
    sw.before(s, dry);
    let ran = sw.running()
        && match stage.process(work) {
            Ok(()) => true,
            Err(_) => {
                *errors += 1;
                false
            }
        };
    if let Some(s) = work.as_f32_mut() {
        sw.after(s, dry, ran);
    }
    ran
}

impl ProcessingChain {
    /// Builds the chain, validating every stage's configuration.
    pub fn new(cfg: ChainConfig) -> Result<Self, ProcessError> {
        let rate = cfg.sample_rate;
        let high_pass = HighPass::new(rate, cfg.high_pass_hz)?;
        let frame_len = rate.samples_in_ms(10);
        let aec = match cfg.aec {
            Some(a) => {
                cfg.check_rate("echo canceller", a.sample_rate)?;
                Some(EchoCanceller::new(a)?)
            }
            None => None,
        };
        let ns: Option<Box<dyn AudioStage>> = match cfg.ns {
            Some(c) => {
                cfg.check_rate("noise suppressor", c.sample_rate)?;
                Some(Box::new(NoiseSuppressor::new(c)?))
            }
            None => None,
        };
        let agc: Option<Box<dyn AudioStage>> = match cfg.agc {
            Some(c) => {
                cfg.check_rate("gain controller", c.sample_rate)?;
                Some(Box::new(GainController::new(c)?))
            }
            None => None,
        };
        let vad: Option<Box<dyn AudioStage>> = match cfg.vad {
            Some(c) => {
                cfg.check_rate("voice activity detector", c.sample_rate)?;
                Some(Box::new(VoiceActivityDetector::new(c)?))
            }
            None => None,
        };
        let lat = |s: Option<&dyn AudioStage>| s.map_or(0, |s| s.latency_samples());
        // The NS latency in whole frames: how far the VAD's decision on the capture leads the
        // audio the AGC gets.
        let vad_delay = ((lat(ns.as_deref()) + frame_len / 2) / frame_len).min(VAD_HIST - 1);
        let switches = [
            SlotSwitch::new(0, frame_len, cfg.high_pass, true),
            SlotSwitch::new(
                lat(aec.as_ref().map(|a| a as &dyn AudioStage)),
                frame_len,
                aec.is_some(),
                true,
            ),
            SlotSwitch::new(lat(ns.as_deref()), frame_len, ns.is_some(), true),
            SlotSwitch::new(0, frame_len, agc.is_some(), true),
            SlotSwitch::new(0, frame_len, vad.is_some(), false),
        ];
        let fmt = AudioFormat {
            sample_rate: rate,
            channels: 1,
            sample_format: SampleFormat::F32,
        };
        Ok(Self {
            rate,
            frame_len,
            high_pass,
            aec,
            ns,
            agc,
            vad,
            switches,
            pending: [None; 5],
            errors: [0; 5],
            speech_hint: cfg.speech_hint,
            vad_input: cfg.vad_input,
            vad_hist: [None; VAD_HIST],
            vad_pos: 0,
            vad_delay,
            ns_prob: None,
            frames: 0,
            sanitized: 0,
            work: AudioFrame::silent(fmt, frame_len),
            dry: vec![0.0; frame_len],
            held: Vec::with_capacity(frame_len),
        })
    }

    /// Samples per 10 ms frame.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// How many samples the output lags the input: the sum of the latencies of the stages
    /// present (echo canceller, noise suppressor), whether they are switched on or not.
    pub fn latency_samples(&self) -> usize {
        self.switches.iter().map(SlotSwitch::latency).sum()
    }

    /// How many samples the audio the VAD judges lags the chain's input (the echo canceller's
    /// latency, and with [`VadInput::Processed`] the noise suppressor's too): the VAD's
    /// decision on frame `k` is about input samples from `k * frame_len() - this`.
    pub fn vad_latency_samples(&self) -> usize {
        match self.vad_input {
            VadInput::Capture => self.switches[Slot::Aec.index()].latency(),
            VadInput::Processed => self.latency_samples(),
        }
    }

    /// The chain's rate.
    pub fn sample_rate(&self) -> SampleRate {
        self.rate
    }

    /// Plugs a stage into the NS, AGC or VAD slot, replacing what was there; it is faded in
    /// from the next frame. The stage is tried on one silent frame and reset, so a stage that
    /// refuses the chain's format is rejected here rather than on every frame. A stage of
    /// another latency than the one it replaces changes the chain's latency. The high-pass and
    /// AEC slots are built in.
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
        let i = slot.index();
        self.switches[i] = SlotSwitch::new(
            stage.latency_samples(),
            self.frame_len,
            false,
            slot != Slot::Vad,
        );
        match slot {
            Slot::Ns => self.ns = Some(stage),
            Slot::Agc => self.agc = Some(stage),
            _ => self.vad = Some(stage),
        }
        self.pending[i] = Some(true);
        Ok(())
    }

    /// Whether `slot` holds a stage.
    pub fn has_stage(&self, slot: Slot) -> bool {
        self.stage(slot).is_some()
    }

    fn stage(&self, slot: Slot) -> Option<&dyn AudioStage> {
        match slot {
            Slot::HighPass => Some(&self.high_pass),
            Slot::Aec => self.aec.as_ref().map(|a| a as &dyn AudioStage),
            Slot::Ns => self.ns.as_deref(),
            Slot::Agc => self.agc.as_deref(),
            Slot::Vad => self.vad.as_deref(),
        }
    }

    fn stage_mut(&mut self, slot: Slot) -> Option<&mut (dyn AudioStage + 'static)> {
        match slot {
            Slot::HighPass => Some(&mut self.high_pass),
            Slot::Aec => self.aec.as_mut().map(|a| a as &mut dyn AudioStage),
            Slot::Ns => self.ns.as_deref_mut(),
            Slot::Agc => self.agc.as_deref_mut(),
            Slot::Vad => self.vad.as_deref_mut(),
        }
    }

    /// Switches a stage on or off from the next frame boundary (ignored for an empty slot),
    /// crossfading over 20 ms. A stage switched on after it stopped is reset first (the echo
    /// path or the level may have changed meanwhile), except the one in the NS slot: RNNoise
    /// cannot be reset without allocating, and its state from earlier in the call (its noise
    /// estimate) is a better start than none; what was left in its buffers is flushed during
    /// the warm-up, before it is heard.
    pub fn set_enabled(&mut self, slot: Slot, on: bool) {
        self.pending[slot.index()] = Some(on);
    }

    /// Whether a stage is switched on (a stage switched off may still be fading out).
    pub fn is_enabled(&self, slot: Slot) -> bool {
        self.switches[slot.index()].is_on()
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
        // Convert in frame-sized pieces through the bypass buffer: no allocation.
        for chunk in far.chunks(self.frame_len) {
            let f = &mut self.dry[..chunk.len()];
            i16_to_f32(chunk, f);
            aec.render_f32(f)?;
        }
        Ok(())
    }

    /// Feeds what the loudspeaker played as f32 (full scale ±1; non-finite samples are
    /// replaced by zero and counted by the echo canceller). A no-op without an echo canceller.
    pub fn render_f32(&mut self, far: &[f32]) -> Result<(), ProcessError> {
        match self.aec.as_mut() {
            Some(aec) => aec.render_f32(far),
            None => Ok(()),
        }
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
                self.run_i16(&frame, &mut out[..self.frame_len]);
                self.held = frame;
                self.held.clear();
                written += self.frame_len;
            }
        }
        let mut chunks = rest.chunks_exact(self.frame_len);
        for chunk in &mut chunks {
            self.run_i16(chunk, &mut out[written..written + self.frame_len]);
            written += self.frame_len;
        }
        self.held.extend_from_slice(chunks.remainder());
        Ok(written)
    }

    /// Processes exactly one 10 ms frame in place.
    pub fn process_frame(&mut self, frame: &mut [i16]) -> Result<(), ProcessError> {
        self.check_len(frame.len())?;
        let mut tmp = [0i16; 480];
        let n = self.frame_len;
        tmp[..n].copy_from_slice(frame);
        self.run_i16(&tmp[..n], frame);
        Ok(())
    }

    /// Processes exactly one 10 ms frame of f32 samples (full scale ±1) in place. Non-finite
    /// samples are replaced by zero and out-of-range ones clamped before any stage sees them
    /// (counted in [`ChainMetrics::sanitized_samples`]).
    pub fn process_frame_f32(&mut self, frame: &mut [f32]) -> Result<(), ProcessError> {
        self.check_len(frame.len())?;
        self.sanitized += sanitize(frame);
        if let Some(s) = self.work.as_f32_mut() {
            s.copy_from_slice(frame);
        }
        self.run_work();
        if let Some(s) = self.work.as_f32() {
            frame.copy_from_slice(s);
        }
        Ok(())
    }

    fn check_len(&self, len: usize) -> Result<(), ProcessError> {
        if len == self.frame_len {
            Ok(())
        } else {
            Err(ProcessError::WrongFrameLength {
                got: len,
                expected: self.frame_len,
            })
        }
    }

    fn apply_pending(&mut self) {
        for slot in Slot::ALL {
            let i = slot.index();
            if let Some(on) = self.pending[i].take() {
                let on = on && self.has_stage(slot);
                if self.switches[i].set(on) && slot != Slot::Ns {
                    if let Some(s) = self.stage_mut(slot) {
                        s.reset();
                    }
                }
            }
        }
    }

    fn run_i16(&mut self, input: &[i16], out: &mut [i16]) {
        if let Some(s) = self.work.as_f32_mut() {
            i16_to_f32(input, s);
        }
        self.run_work();
        if let Some(s) = self.work.as_f32() {
            f32_to_i16(s, out);
        }
    }

    /// Runs the work frame through the slots.
    fn run_work(&mut self) {
        self.apply_pending();
        self.frames += 1;
        let [hp_sw, aec_sw, ns_sw, agc_sw, vad_sw] = &mut self.switches;
        let (work, dry, err) = (&mut self.work, &mut self.dry[..], &mut self.errors);
        run_slot(hp_sw, &mut self.high_pass, work, dry, &mut err[0]);
        if let Some(a) = self.aec.as_mut() {
            if !run_slot(aec_sw, a, work, dry, &mut err[1]) {
                a.discard_far_end();
            }
        }
        let mut vad_done = false;
        let mut vad_hint = None;
        if self.vad_input == VadInput::Capture {
            if let Some(vad) = self.vad.as_deref_mut() {
                let ran = run_slot(vad_sw, vad, work, dry, &mut err[4]);
                self.vad_pos = (self.vad_pos + 1) % VAD_HIST;
                self.vad_hist[self.vad_pos] = if ran { vad.metrics().speech } else { None };
                vad_hint = self.vad_hist[(self.vad_pos + VAD_HIST - self.vad_delay) % VAD_HIST];
                vad_done = true;
            }
        }
        if let Some(ns) = self.ns.as_deref_mut() {
            let prob = self.ns_prob.take();
            if run_slot(ns_sw, ns, work, dry, &mut err[2]) {
                self.ns_prob = ns.metrics().speech_probability;
            }
            if self.speech_hint == SpeechHint::Ns && agc_sw.running() {
                if let (Some(p), Some(agc)) = (prob, self.agc.as_deref_mut()) {
                    agc.set_speech_hint(p);
                }
            }
        }
        // The AGC shares the VAD only when the VAD judges the AGC's own input: with the VAD on
        // the capture and the NS running between them, the VAD's word on the noisy capture
        // misleads the AGC's noise tracking on the denoised audio (see the module docs).
        let share = self.speech_hint == SpeechHint::Vad
            && self.agc.is_some()
            && agc_sw.running()
            && vad_sw.running()
            && (self.vad_input == VadInput::Processed || !ns_sw.running());
        if share && !vad_done {
            // The VAD judges the AGC's input and the AGC takes its decision.
            if let Some(vad) = self.vad.as_deref_mut() {
                if run_slot(vad_sw, vad, work, dry, &mut err[4]) {
                    vad_hint = vad.metrics().speech;
                }
                vad_done = true;
            }
        }
        if let Some(agc) = self.agc.as_deref_mut() {
            if share {
                if let Some(s) = vad_hint {
                    agc.set_speech_hint(if s { 1.0 } else { 0.0 });
                }
            }
            run_slot(agc_sw, agc, work, dry, &mut err[3]);
        }
        if !vad_done {
            if let Some(vad) = self.vad.as_deref_mut() {
                run_slot(vad_sw, vad, work, dry, &mut err[4]);
            }
        }
    }

    /// One snapshot of the chain's metrics.
    pub fn metrics(&self) -> ChainMetrics {
        let stages = Slot::ALL.map(|slot| {
            let i = slot.index();
            let stage = self.stage(slot);
            StageReport {
                slot,
                name: stage.map_or("", |s| s.name()),
                present: stage.is_some(),
                enabled: stage.is_some() && self.switches[i].is_on(),
                errors: self.errors[i],
                metrics: stage.map(|s| s.metrics()).unwrap_or_default(),
            }
        });
        let on = |slot: Slot| {
            let r = &stages[slot.index()];
            r.enabled.then_some(&r.metrics)
        };
        let first = |slots: &[Slot], f: &dyn Fn(&StageMetrics) -> Option<f32>| {
            slots.iter().find_map(|&s| on(s).and_then(f))
        };
        ChainMetrics {
            frames: self.frames,
            latency_samples: self.latency_samples(),
            erle_db: on(Slot::Aec).and_then(|m| m.erle_db),
            echo_delay_ms: on(Slot::Aec).and_then(|m| m.echo_delay_ms),
            noise_floor_dbov: first(&[Slot::Ns, Slot::Vad, Slot::Agc], &|m| m.noise_floor_dbov),
            gain_db: on(Slot::Agc).and_then(|m| m.gain_db),
            speech_probability: first(&[Slot::Vad, Slot::Ns, Slot::Agc], &|m| m.speech_probability),
            speech: on(Slot::Vad).and_then(|m| m.speech),
            sanitized_samples: self.sanitized,
            stages,
        }
    }

    /// The echo canceller's own metrics (ERLE, delay, who is talking), if it is present.
    pub fn echo_metrics(&self) -> Option<EchoMetrics> {
        self.aec.as_ref().map(|a| a.echo_metrics())
    }

    /// Resets every stage and drops held input, as at a new call (what is switched on stays
    /// on).
    pub fn reset(&mut self) {
        for slot in Slot::ALL {
            if let Some(s) = self.stage_mut(slot) {
                s.reset();
            }
        }
        for sw in &mut self.switches {
            sw.reset();
        }
        self.held.clear();
        self.errors = [0; 5];
        self.ns_prob = None;
        self.vad_hist = [None; VAD_HIST];
        self.frames = 0;
        self.sanitized = 0;
    }
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
