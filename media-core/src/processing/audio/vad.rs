//! Voice activity detection per 10 ms frame, for DTX and the conference's active speaker.
//!
//! # Choice
//!
//! The detector is `earshot`'s network (40 log-mel bands of a 48 ms window every 16 ms at
//! 16 kHz, normalised per frame, through a small convolutional + recurrent net) wrapped for the
//! chain: the frame is converted to 16 kHz (a short FIR from 8, 32 or 48 kHz), gathered into
//! earshot's 256-sample hops, and each 10 ms frame takes the score of the latest hop that ended
//! in it (or, when none did, the previous score). The features are computed here
//! (`vad_net.rs`: earshot's pre-emphasis, window, mel filters and logs on a planned FFT) and
//! given to our own inference of earshot's network (the `media-vad-model` crate: earshot's
//! weights, bit-identical scores to `earshot::DefaultPredictor`); the scores match earshot's
//! `Detector` to within 4e-5, all of it from the features.
//!
//! The network alone misses the weak edges of words and calls tonal noise (music) speech; the
//! frame energy relative to the noise floor sets both right, so the decision fuses the two.
//! With `above` the frame's energy over the noise floor (dB) and `net` the network's score:
//!
//! * below 4 dB above the floor a frame is never speech;
//! * at 16 kHz and up, the score is `net + (above + 3) / 30 - 0.4` (clamped to 0..1): each dB
//!   above the floor adds 1/30 to the network's confidence, so a loud frame needs little of
//!   it and a weak one a lot;
//! * at 8 kHz, where the network sees only half its band and is less sure, the score is 1
//!   from 18 dB above the floor up, and below the larger of `net` and the graded score above
//!   (which lets energy 9-18 dB over the floor make up for an unsure network: against `net`
//!   alone, 8 kHz moved by -0.002 to +0.005 per SNR over five noise draws of the sweep, +0.001
//!   on average).
//!
//! `net` is the network's score less a discount on sustained tones (see "Sustained tones").
//!
//! A frame is speech when the score reaches [`VadConfig::threshold`] (0.6); then a hangover
//! ([`VadConfig::hangover_ms`], 120 ms, 100 ms at 8 kHz) that shortens as the talkspurt stands
//! further above the floor (see "Hangover"). The noise floor is the minimum over the last 2 s
//! of the frame energy (dB) smoothed over about 50 ms (minimum statistics). The rule and its
//! constants were chosen on the labelled set below by the worst margin over webrtcvad across
//! rates and SNRs.
//!
//! # Sustained tones
//!
//! The network scores held musical notes about as high as speech (0.7-0.8 in the set's music
//! between phrases), and the notes' decays stand 4-12 dB over the floor, so its word turned
//! them into speech. What sets them apart is that their spectrum does not move: the spectral
//! flux of a hop (over its log-mel bands within 30 dB of the strongest, the mean absolute
//! change in dB against the hop 32 ms before, their mean change, the level's, taken out) is
//! about 2 dB in noise (the bands' own estimation noise) and more in speech, and under 1.2 dB
//! in a quarter to a half of the music frames the network called speech. Each dB of flux
//! under 1.5 takes 0.3 from the network's score (down to 0, so a frame loud enough to be speech
//! on its energy alone stays so). Bands 30 dB under the strongest are left out because in a
//! recording they hold the background's noise, which would hide a tone's steadiness. The flux
//! comes from the bands the front end computes anyway: about 600 instructions a hop, 380 per
//! 10 ms frame of speech in noise (callgrind, `vad_profile 16000 noisy 1`).
//!
//! # Hangover
//!
//! The hangover bridges the weak ends of words and the short pauses between them, which sink
//! into the noise at low SNR; when speech stands well above the floor those are seen directly
//! and a long hangover only adds false alarms after each talkspurt. The talkspurt's level is
//! tracked (each speech frame's dB above the floor, weight 0.05: about the last 20 speech
//! frames), and the hangover is the configured one up to 12 dB, half of it from 24 dB,
//! linearly in between. With the tone discount and the 8 kHz rule above this moved the
//! sweep's pooled frame accuracy from 0.842 / 0.873 / 0.890 / 0.925 to 0.844 / 0.875 / 0.893 /
//! 0.930 at 0 / 5 / 10 / 20 dB SNR (`media-bench/RESULTS.md`, with held-out noise draws). Halving
//! from 20 dB already (the configured hangover up to 10 dB) gained 0.002 more at 20 dB but cost
//! one of the three talkers 0.003-0.005 outside music in every draw; from 24 dB no talker
//! loses more than 0.001 overall.
//!
//! On labelled real speech mixed with pink, brown, babble and music noise at 0 to 20 dB SNR the
//! fused detector scored a higher frame accuracy than webrtcvad in its best mode at each SNR
//! (`scripts/vad_judge.py`, `media-bench/tests/stage_quality.rs`, `media-bench/RESULTS.md`);
//! the network alone did not at 10 and 20 dB, where webrtcvad's energy-driven model is strong.
//!
//! The stage never changes the audio. A frame with non-finite samples is judged with those
//! samples taken as zero (counted in `sanitized_samples`), and the frame itself is left as it
//! came. `speech_probability` is the fused score of the last frame, `noise_floor_dbov` the
//! minimum-statistics floor; [`VoiceActivityDetector::is_speech`] is the decision with hangover.
//!
//! # Cost
//!
//! Per 16 ms hop the network costs about 48 000 instructions (callgrind over real speech,
//! `media-bench/examples/vad_profile.rs`): the network (`media-vad-model`: vectorised f32
//! convolutions, `pmaddwd` dot products in the i16 minGRUs) 29 000, where earshot's own
//! predictor took 53 000; our front end 19 000, of which the 512-point complex FFT (rustfft,
//! AVX chosen at run time) is 4 600, its real-FFT unpacking and power spectrum 6 000, mel
//! bands and logs about 2 000. Earshot's own `Detector` took 107 000, its scalar 1024-point
//! FFT 40 000 of them. The conversion to 16 kHz costs about 4 800 instructions per 10 ms
//! frame at 48 kHz (a 24-tap decimator; 28 000 with the 72-tap polyphase resampler used
//! before) and 1 700 at 8 kHz (18 000 before). Per 10 ms frame of speech in noise, where the
//! network runs on every hop, that is about 32 000 instructions at 8 kHz, 30 400 at 16 kHz
//! and 36 600 at 48 kHz (46 900, 45 200 and 51 500 with earshot's predictor): best of 20
//! passes over real speech in pink noise at 10 dB SNR, 1.52-1.53, 1.46-1.48 and 1.76-1.82 µs
//! (2.04-2.05, 1.97 and 2.30-2.32 µs with earshot's predictor, the builds alternated;
//! `vad_profile RATE noisy time`), so the 2 µs goal is met at every rate. The network is still
//! the larger part (18 000 of the 30 400 instructions per frame at 16 kHz). The sustained-tone
//! flux and the rules around it added about 380 instructions per frame (1 500 000 over the
//! 4 029 frames at 16 kHz). Once its history became a two-hop ring instead of a shifted array
//! and the hangover's rounding stopped calling libm's `round` they cost 0.01-0.05 µs: 1.68, 1.59 and 1.88
//! µs against 1.63, 1.55 and 1.87 µs without them, the builds alternated in one session.
//!
//! The stage also asks the network only when its word can change the decision:
//!
//! * With [`VadConfig::rest_in_pauses`] (the default) the network rests after half a second
//!   in a row within 4 dB of the noise floor (where its word would not count anyway), and the
//!   first frame above the gate re-primes it with the last 128 ms (eight hops). The history
//!   is kept at the stage's rate, so a resting frame costs one vectorised pass (sanitise into
//!   the history, sum the energy), a `log10` and the floor's update (0.05-0.11 µs).
//!   Resting costs a little accuracy at the start of the next talkspurt (frame accuracy
//!   -0.008 at 8 kHz and 20 dB SNR when it was introduced, nothing measurable at 0-10 dB).
//! * At 16 kHz and up, from the third frame in a row at least 27 dB above the floor (where
//!   `(above + 3) / 30 - 0.4` alone reaches the threshold) the network is skipped, and the
//!   first frame below re-primes it with the last 64 ms (four hops). In clean speech this
//!   halves the active cost (14 000 instructions per frame at 16 kHz, 17 600 at 48 kHz;
//!   0.68 and 0.84 µs over clean speech with its pauses); in noise, where speech is rarely
//!   27 dB above the floor, it changes little. At 8 kHz, where
//!   speech 18 dB above the floor is already sure, the same skipping cost 0.010 of accuracy
//!   at 20 dB SNR and fell under webrtcvad, so 8 kHz keeps the network on every hop.
//!
//! With either rule the stage still leads webrtcvad at every rate and SNR of the sweep.

use super::stage::{check_frame, AudioStage, ProcessError, StageMetrics};
use super::vad_net::{NetFrontEnd, To16, HOP};
use crate::frame::{AudioFrame, SampleRate};

/// 10 ms at 16 kHz.
const FRAME16: usize = 160;
/// A frame must be this far above the noise floor for the network's word to count (dB).
const GATE_DB: f32 = 4.0;
/// At 8 kHz, a frame this far above the noise floor is speech whatever the network says (dB).
const LOUD_DB: f32 = 18.0;
/// At 16 kHz and up, the score is the network's plus `(above - OFFSET) / SPAN - BIAS`: each
/// dB above the floor is worth 1/30 of the network's confidence.
const GRADED_OFFSET_DB: f32 = -3.0;
/// See [`GRADED_OFFSET_DB`].
const GRADED_SPAN_DB: f32 = 30.0;
/// See [`GRADED_OFFSET_DB`] (chosen so that the default threshold 0.6 means
/// `network + (above + 3) / 30 >= 1`).
const GRADED_BIAS: f32 = 0.4;
/// Minimum statistics: the floor is the least smoothed energy over `MIN_BLOCKS` blocks of
/// `MIN_BLOCK` frames (2 s).
const MIN_BLOCK: u32 = 20;
/// See [`MIN_BLOCK`].
const MIN_BLOCKS: usize = 10;
/// After this many frames in a row within the gate, the network rests until a frame is not.
const SKIP_AFTER_QUIET: u32 = 50;
/// Hops of history the network is re-primed with after a rest (128 ms).
const PRIME_HOPS: usize = 8;
/// At 16 kHz and up, after this many frames in a row loud enough to be speech whatever the
/// network says, the network is skipped until a frame is not.
const SURE_RUN: u32 = 3;
/// Hops the network is re-primed with after a loud run (64 ms).
const SURE_PRIME_HOPS: usize = 4;
/// Sustained tones: a hop whose spectral flux is under this (dB) loses
/// `TONAL_WEIGHT` of the network's score per dB short of it.
const TONAL_FLUX_DB: f32 = 1.5;
/// See [`TONAL_FLUX_DB`].
const TONAL_WEIGHT: f32 = 0.3;
/// The hangover is the configured one while the talkspurt's level is at most this far above
/// the noise floor (dB), and half of it from `HANG_HALF_DB` up, linearly in between.
const HANG_FULL_DB: f32 = 12.0;
/// See [`HANG_FULL_DB`].
const HANG_HALF_DB: f32 = 24.0;
/// Weight of each speech frame in the talkspurt's level (a 200 ms memory of speech frames).
const LEVEL_ALPHA: f32 = 0.05;
/// The talkspurt level assumed before any speech (dB above the floor).
const LEVEL_INIT_DB: f32 = 15.0;
/// 10 ms frames of history kept at the stage's rate for the re-priming (130 ms, the least
/// whole number of frames covering `PRIME_HOPS` hops).
const RING_FRAMES: usize = (PRIME_HOPS * HOP).div_ceil(FRAME16);

/// Configuration of a [`VoiceActivityDetector`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// The chain's rate: 8, 16, 32 or 48 kHz.
    pub sample_rate: SampleRate,
    /// Smoothed score at or above which a frame is speech (0..1).
    pub threshold: f32,
    /// How long a decision stays "speech" after the score last reached the threshold (ms,
    /// a multiple of 10; at most 2000), while the talkspurt is within 12 dB of the noise floor;
    /// half of it (rounded up to whole frames) from 24 dB above (see the module's "Hangover").
    pub hangover_ms: u32,
    /// Rest the network in long pauses (see the module's "Cost"): far cheaper in pauses, a
    /// little less accurate at 8 kHz and high SNR. On by default.
    pub rest_in_pauses: bool,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            sample_rate: SampleRate::HZ_16000,
            threshold: 0.6,
            hangover_ms: 120,
            rest_in_pauses: true,
        }
    }
}

impl VadConfig {
    /// The default configuration at `rate` (hangover 100 ms at 8 kHz, 120 ms above).
    pub fn at(rate: SampleRate) -> Self {
        Self {
            sample_rate: rate,
            hangover_ms: if rate.hz() == 8000 { 100 } else { 120 },
            ..Self::default()
        }
    }
}

/// Speech / non-speech per 10 ms frame, as an [`AudioStage`] that leaves the audio unchanged.
pub struct VoiceActivityDetector {
    config: VadConfig,
    net: NetFrontEnd,
    to16: Option<To16>,
    /// Samples in a 10 ms frame at the stage rate.
    frame_len: usize,
    /// The last `RING_FRAMES` frames, sanitised, at the stage rate (ring of whole frames;
    /// `ring_pos` is the slot the next frame goes to, so the oldest one). Kept at the stage
    /// rate so that a resting detector converts nothing to 16 kHz.
    ring: Vec<f32>,
    ring_pos: usize,
    /// 16 kHz samples waiting for a full hop (capacity HOP + FRAME16).
    pending: Vec<f32>,
    filled: usize,
    /// 16 kHz conversion of the current frame.
    frame16: Vec<f32>,
    /// The ring converted to 16 kHz when the network wakes up.
    prime16: Vec<f32>,
    quiet_run: u32,
    skipping: bool,
    /// 8 kHz input: the network sees only half its band, so energy decides more on its own.
    narrowband: bool,
    /// Frames at least this far above the floor are speech whatever the network says (dB).
    sure_db: f32,
    /// Frames in a row at least `sure_db` above the floor.
    sure_run: u32,
    /// The network is skipped through a run of such frames (16 kHz and up).
    sure_skipping: bool,
    raw_score: f32,
    /// Spectral flux of the network's latest hop (dB).
    flux: f32,
    /// Level of the recent speech frames over the noise floor (dB), for the hangover.
    speech_level: f32,
    score: f32,
    hang_frames: u32,
    hang_left: u32,
    speech: bool,
    /// Smoothed frame energy, dB.
    smooth_db: f32,
    /// Minimum of `smooth_db` in each of the last blocks (ring), the current block's minimum
    /// and how many frames it has seen.
    block_min: [f32; MIN_BLOCKS],
    block_idx: usize,
    cur_min: f32,
    cur_count: u32,
    metrics: StageMetrics,
}

impl std::fmt::Debug for VoiceActivityDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceActivityDetector")
            .field("config", &self.config)
            .field("speech", &self.speech)
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}

impl VoiceActivityDetector {
    /// A detector for `config`: rate 8, 16, 32 or 48 kHz, threshold in (0, 1), hangover a
    /// multiple of 10 ms up to 2 s.
    pub fn new(config: VadConfig) -> Result<Self, ProcessError> {
        let hz = config.sample_rate.hz();
        if ![8000, 16000, 32000, 48000].contains(&hz) {
            return Err(ProcessError::InvalidConfig(format!(
                "voice activity detection runs at 8, 16, 32 or 48 kHz, not {hz} Hz"
            )));
        }
        if !(config.threshold > 0.0 && config.threshold < 1.0) {
            return Err(ProcessError::InvalidConfig(format!(
                "VAD threshold must be in (0, 1), not {}",
                config.threshold
            )));
        }
        if !config.hangover_ms.is_multiple_of(10) || config.hangover_ms > 2000 {
            return Err(ProcessError::InvalidConfig(format!(
                "VAD hangover must be a multiple of 10 ms up to 2000, not {}",
                config.hangover_ms
            )));
        }
        let frame = config.sample_rate.samples_in_ms(10);
        Ok(Self {
            config,
            net: NetFrontEnd::new(),
            to16: To16::new(hz),
            frame_len: frame,
            ring: vec![0.0; RING_FRAMES * frame],
            ring_pos: 0,
            pending: vec![0.0; HOP + FRAME16],
            filled: 0,
            frame16: vec![0.0; FRAME16],
            prime16: vec![0.0; RING_FRAMES * FRAME16],
            quiet_run: 0,
            skipping: false,
            narrowband: hz == 8000,
            sure_db: if hz == 8000 {
                LOUD_DB
            } else {
                (config.threshold + GRADED_BIAS) * GRADED_SPAN_DB + GRADED_OFFSET_DB
            },
            sure_run: 0,
            sure_skipping: false,
            raw_score: 0.0,
            flux: 0.0,
            speech_level: LEVEL_INIT_DB,
            score: 0.0,
            hang_frames: config.hangover_ms / 10,
            hang_left: 0,
            speech: false,
            smooth_db: f32::NAN,
            block_min: [f32::INFINITY; MIN_BLOCKS],
            block_idx: 0,
            cur_min: f32::INFINITY,
            cur_count: 0,
            metrics: StageMetrics::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> VadConfig {
        self.config
    }

    /// Whether the last frame was speech (including hangover).
    pub fn is_speech(&self) -> bool {
        self.speech
    }

    /// The fused score of the last frame (0..1).
    pub fn score(&self) -> f32 {
        self.score
    }

    /// Judges one 10 ms frame of samples at the stage's rate (the same as `process` without an
    /// [`AudioFrame`]), returning whether it is speech.
    pub fn process_samples(&mut self, samples: &[f32]) -> Result<bool, ProcessError> {
        let fl = self.frame_len;
        if samples.len() != fl {
            return Err(ProcessError::WrongFrameLength {
                got: samples.len(),
                expected: fl,
            });
        }
        // One pass: sanitise into the history ring and sum the energy. While the network
        // rests this (and the floor below) is all the frame costs.
        let slot = self.ring_pos * fl;
        self.ring_pos = (self.ring_pos + 1) % RING_FRAMES;
        let (bad, energy) = sanitize_energy(samples, &mut self.ring[slot..slot + fl]);
        self.metrics.sanitized_samples += bad;
        self.metrics.frames += 1;
        // Frame energy against the minimum-statistics noise floor.
        let power = energy / fl as f32;
        let e_db = 10.0 * (power + 1e-12).log10();
        self.smooth_db = if self.smooth_db.is_finite() {
            0.8 * self.smooth_db + 0.2 * e_db
        } else {
            e_db
        };
        self.cur_min = self.cur_min.min(self.smooth_db);
        self.cur_count += 1;
        let floor = self.block_min.iter().fold(self.cur_min, |m, &b| m.min(b));
        if self.cur_count >= MIN_BLOCK {
            self.block_min[self.block_idx] = self.cur_min;
            self.block_idx = (self.block_idx + 1) % MIN_BLOCKS;
            self.cur_min = f32::INFINITY;
            self.cur_count = 0;
        }
        let above = e_db - floor;
        self.quiet_run = if above < GATE_DB {
            self.quiet_run.saturating_add(1)
        } else {
            0
        };
        self.sure_run = if above >= self.sure_db {
            self.sure_run.saturating_add(1)
        } else {
            0
        };
        if self.config.rest_in_pauses && self.quiet_run > SKIP_AFTER_QUIET {
            // Within the gate the network's word does not count: rest it.
            self.skipping = true;
            self.filled = 0;
            self.raw_score = 0.0;
        } else if self.skipping {
            // Waking up: re-prime the network with the last 128 ms.
            self.skipping = false;
            self.filled = 0;
            self.prime(PRIME_HOPS);
        } else if !self.narrowband && self.sure_run >= SURE_RUN {
            // Loud speech: speech whatever the network says, so it is not asked.
            self.sure_skipping = true;
        } else if self.sure_skipping {
            // Out of a loud run: re-prime the network with the last 64 ms.
            self.sure_skipping = false;
            self.filled = 0;
            self.prime(SURE_PRIME_HOPS);
        } else {
            let frame = &self.ring[slot..slot + fl];
            match &mut self.to16 {
                None => self.frame16.copy_from_slice(frame),
                Some(r) => {
                    r.process(frame, &mut self.frame16);
                    for s in self.frame16.iter_mut() {
                        *s = s.clamp(-1.0, 1.0);
                    }
                }
            }
            self.pending[self.filled..self.filled + FRAME16].copy_from_slice(&self.frame16);
            self.filled += FRAME16;
            if self.filled >= HOP {
                if let Some(p) = self.net.predict(&self.pending[..HOP]) {
                    if p.is_finite() && p >= 0.0 {
                        self.raw_score = p.min(1.0);
                    }
                    self.flux = self.net.flux();
                }
                self.pending.copy_within(HOP..self.filled, 0);
                self.filled -= HOP;
            }
        }
        // The network's word, discounted on a sustained tone (never below 0, so that a frame
        // loud enough to be speech on its energy alone stays so).
        let tonal = (TONAL_FLUX_DB - self.flux).max(0.0) * TONAL_WEIGHT;
        let net = (self.raw_score - tonal).max(0.0);
        let graded =
            (net + (above - GRADED_OFFSET_DB) / GRADED_SPAN_DB - GRADED_BIAS).clamp(0.0, 1.0);
        self.score = if above < GATE_DB {
            0.0
        } else if self.narrowband {
            if above >= LOUD_DB {
                1.0
            } else {
                net.max(graded)
            }
        } else {
            graded
        };
        if self.score >= self.config.threshold {
            self.speech = true;
            // The hangover shortens as the talkspurt stands further above the floor.
            self.speech_level += LEVEL_ALPHA * (above - self.speech_level);
            let t = ((self.speech_level - HANG_FULL_DB) / (HANG_HALF_DB - HANG_FULL_DB))
                .clamp(0.0, 1.0);
            let cut = (self.hang_frames - self.hang_frames / 2) as f32 * t;
            // `cut` >= 0: adding a half and truncating rounds it (`round` is a libm call).
            self.hang_left = self.hang_frames - (cut + 0.5) as u32;
        } else if self.hang_left > 0 {
            self.hang_left -= 1;
            self.speech = true;
        } else {
            self.speech = false;
        }
        self.metrics.noise_floor_dbov = Some(floor);
        self.metrics.speech_probability = Some(self.score);
        self.metrics.speech = Some(self.speech);
        Ok(self.speech)
    }

    /// Wakes the network: converts the history ring (oldest frame first, the current one
    /// last) to 16 kHz from a reset resampler, which leaves it continuous for the next frame,
    /// and runs the network over the last `PRIME_HOPS` hops of it.
    fn prime(&mut self, hops: usize) {
        let fl = self.frame_len;
        if let Some(r) = &mut self.to16 {
            r.reset();
        }
        // The frames holding the hops, and one more for the resampler to settle.
        let frames = ((hops * HOP).div_ceil(FRAME16) + 1).min(RING_FRAMES);
        for k in RING_FRAMES - frames..RING_FRAMES {
            let slot = ((self.ring_pos + k) % RING_FRAMES) * fl;
            let frame = &self.ring[slot..slot + fl];
            let out = &mut self.prime16[k * FRAME16..(k + 1) * FRAME16];
            match &mut self.to16 {
                None => out.copy_from_slice(frame),
                Some(r) => {
                    r.process(frame, out);
                    for s in out.iter_mut() {
                        *s = s.clamp(-1.0, 1.0);
                    }
                }
            }
        }
        let start = self.prime16.len() - hops * HOP;
        for h in self.prime16[start..].chunks_exact(HOP) {
            if let Some(p) = self.net.predict(h) {
                if p.is_finite() && p >= 0.0 {
                    self.raw_score = p.min(1.0);
                }
                self.flux = self.net.flux();
            }
        }
    }
}

/// Whether `s` is finite, and `s` clamped to -1..1 (0 when not finite), as selects that
/// vectorise (`f32::clamp` and `is_finite` did not).
#[inline(always)]
fn sanitize(s: f32) -> (bool, f32) {
    // NaN and infinities fail the comparison.
    let ok = s.abs() < f32::INFINITY;
    let c = if s > 1.0 { 1.0 } else { s };
    let c = if c < -1.0 { -1.0 } else { c };
    (ok, if ok { c } else { 0.0 })
}

/// Copies `samples` into `out` clamped to -1..1, non-finite ones as 0, and returns how many
/// were non-finite and the sum of the squares of the copy. Branch-free, with eight partial
/// sums, so that it vectorises: 10 ms at 48 kHz in about 0.1 µs (a frame is always a multiple
/// of 8 samples at 8-48 kHz; any remainder is summed on its own).
fn sanitize_energy(samples: &[f32], out: &mut [f32]) -> (u64, f32) {
    let mut acc = [0.0f32; 8];
    let mut bad = [0u32; 8];
    let mut oc = out.chunks_exact_mut(8);
    let mut ic = samples.chunks_exact(8);
    for (o, i) in (&mut oc).zip(&mut ic) {
        for k in 0..8 {
            let (ok, v) = sanitize(i[k]);
            bad[k] += u32::from(!ok);
            o[k] = v;
            acc[k] += v * v;
        }
    }
    let mut nbad: u64 = bad.iter().map(|&b| u64::from(b)).sum();
    let mut energy = acc.iter().sum::<f32>();
    for (o, &s) in oc.into_remainder().iter_mut().zip(ic.remainder()) {
        let (ok, v) = sanitize(s);
        nbad += u64::from(!ok);
        *o = v;
        energy += v * v;
    }
    (nbad, energy)
}

impl AudioStage for VoiceActivityDetector {
    fn name(&self) -> &'static str {
        "vad"
    }

    fn process(&mut self, frame: &mut AudioFrame) -> Result<(), ProcessError> {
        let samples = check_frame(frame, self.config.sample_rate)?;
        self.process_samples(samples).map(|_| ())
    }

    fn reset(&mut self) {
        self.net.reset();
        if let Some(r) = &mut self.to16 {
            r.reset();
        }
        self.filled = 0;
        self.pending.fill(0.0);
        self.ring.fill(0.0);
        self.ring_pos = 0;
        self.quiet_run = 0;
        self.skipping = false;
        self.sure_run = 0;
        self.sure_skipping = false;
        self.raw_score = 0.0;
        self.flux = 0.0;
        self.speech_level = LEVEL_INIT_DB;
        self.score = 0.0;
        self.hang_left = 0;
        self.speech = false;
        self.smooth_db = f32::NAN;
        self.block_min = [f32::INFINITY; MIN_BLOCKS];
        self.block_idx = 0;
        self.cur_min = f32::INFINITY;
        self.cur_count = 0;
        self.metrics = StageMetrics::default();
    }

    fn metrics(&self) -> StageMetrics {
        self.metrics
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_energy_matches_the_scalar_rule() {
        let mut x: Vec<f32> = (0..203)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 40.0)
            .collect();
        x[3] = f32::NAN;
        x[64] = f32::INFINITY;
        x[200] = f32::NEG_INFINITY;
        x[201] = 1e30;
        let mut out = vec![9.0; x.len()];
        let (bad, energy) = sanitize_energy(&x, &mut out);
        let want: Vec<f32> = x
            .iter()
            .map(|&s| {
                if s.is_finite() {
                    s.clamp(-1.0, 1.0)
                } else {
                    0.0
                }
            })
            .collect();
        assert_eq!(bad, 3);
        assert_eq!(out, want);
        let e: f32 = want.iter().map(|v| v * v).sum();
        assert!((energy - e).abs() <= 1e-4 * e, "{energy} vs {e}");
    }

    /// 10 ms frames of white noise at `amp`, with a 440 Hz tone at 0.3 in frames `burst`.
    fn run(rate: u32, burst: std::ops::Range<usize>, frames: usize) -> (Vec<bool>, Vec<bool>) {
        let mut vad = VoiceActivityDetector::new(VadConfig::at(SampleRate(rate))).unwrap();
        let fl = rate as usize / 100;
        let mut seed = 7u32;
        let (mut speech, mut skipped) = (Vec::new(), Vec::new());
        let mut frame = vec![0.0f32; fl];
        for f in 0..frames {
            for (i, s) in frame.iter_mut().enumerate() {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let n = ((seed >> 9) as f32 / (1u32 << 23) as f32 - 0.5) * 0.002;
                let t = (f * fl + i) as f32 / rate as f32;
                let tone = if burst.contains(&f) {
                    0.3 * (2.0 * std::f32::consts::PI * 440.0 * t).sin()
                } else {
                    0.0
                };
                *s = n + tone;
            }
            speech.push(vad.process_samples(&frame).unwrap());
            skipped.push(vad.sure_skipping);
        }
        (speech, skipped)
    }

    #[test]
    fn loud_runs_skip_the_network_at_16_khz_and_up_only() {
        for rate in [8000, 16000, 48000] {
            let (speech, skipped) = run(rate, 100..130, 200);
            // The burst is far above the floor: speech throughout, and the hangover after.
            assert!(speech[100..130].iter().all(|&s| s), "{rate}");
            assert!(!speech[90], "{rate}");
            assert!(!speech[190], "{rate}");
            let n = skipped.iter().filter(|&&s| s).count();
            if rate == 8000 {
                assert_eq!(n, 0);
            } else {
                // From the third loud frame to the end of the burst.
                assert_eq!(n, 28, "{rate}");
                assert!(skipped[102] && skipped[129] && !skipped[130], "{rate}");
            }
        }
    }

    /// The flux is low on a held harmonic tone over faint noise, whatever the tone's decay, and
    /// higher on noise.
    #[test]
    fn flux_is_low_on_a_held_tone_only() {
        let mut seed = 1u32;
        let mut noise = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 9) as f32 / (1u32 << 23) as f32 - 0.5
        };
        let (mut tone, mut hiss) = (NetFrontEnd::new(), NetFrontEnd::new());
        let (mut tone_max, mut hiss_sum) = (0.0f32, 0.0f32);
        for h in 0..40 {
            let t_hop: Vec<f32> = (0..HOP)
                .map(|i| {
                    let t = (h * HOP + i) as f32 / 16000.0;
                    let env = 0.3 * (-1.5 * t).exp();
                    let f = |k: f32| (2.0 * std::f32::consts::PI * 262.0 * k * t).sin() / (k * k);
                    env * (f(1.0) + f(2.0) + f(3.0)) + 1e-4 * noise()
                })
                .collect();
            let n_hop: Vec<f32> = (0..HOP).map(|_| 0.1 * noise()).collect();
            tone.predict(&t_hop).unwrap();
            hiss.predict(&n_hop).unwrap();
            if h >= 4 {
                tone_max = tone_max.max(tone.flux());
                hiss_sum += hiss.flux();
            }
        }
        // Measured: 0.004 dB (tone), 1.87 dB (noise).
        let hiss_mean = hiss_sum / 36.0;
        assert!(
            tone_max < 1.0 && hiss_mean > 1.5,
            "{tone_max} {hiss_mean} dB"
        );
    }
}
