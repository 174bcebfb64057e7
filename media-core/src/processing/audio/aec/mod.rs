//! Acoustic echo cancellation: [`EchoCanceller`], the capture-side stage, and
//! [`FarEndSender`], the playback side's way to hand it what the loudspeaker played.
//!
//! # Design
//!
//! - **Far-end path.** Playback pushes far-end samples into a lock-free single-producer
//!   single-consumer ring ([`FarEndSender`], movable to the playback thread), or calls
//!   [`EchoCanceller::render`] on the capture thread. Capture drains the ring each frame into a
//!   FIFO and consumes exactly one block of far end per capture block, so playback and capture
//!   may use different buffer sizes, threads and scheduling jitter (the FIFO absorbs it).
//!   Underruns (zeros used, then re-primed) and overruns (dropped back to the prebuffer) are
//!   counted, and the delay estimator finds the new alignment.
//! - **Delay estimation** on binary spectra (see `delay.rs`) over 0..`max_delay_ms` in 10 ms
//!   steps, with hysteresis; once the filter cancels, small moves are left to the filter
//!   itself (it keeps its strongest partition, the direct path, three blocks into its window)
//!   and only large ones (a buffer changed) are followed, keeping the filter's shape. Drift
//!   within a block is absorbed by the filter's headroom and adaptation.
//! - **Linear canceller**: a two-path (foreground/background, as speexdsp) partitioned-block
//!   frequency-domain adaptive filter with proportionate updates, its strongest partition
//!   constrained every block. The background's per-bin step is Valin's optimal step, residual
//!   echo over error, the residual being the echo estimate over the filter's per-band ERLE
//!   learned in far-end single talk (taken as at most 21 dB, so the filter keeps converging
//!   through double talk): near-end speech in the error makes the step small by itself, and the
//!   foreground only takes weights that are reliably better.
//! - **Residual echo suppressor**, double-talk aware (see `suppress.rs`): residual echo per
//!   bin = echo estimate / per-band ERLE (learned in single talk only, so double talk cannot
//!   inflate it), held at the room's decay (the slower of what the filter's tail shows and what
//!   the capture shows dying away at far-end offsets, see `decay.rs`: in long rooms the filter's
//!   tail reads the decay too fast, and the late reverberation then passed for near-end speech
//!   and went through unsuppressed); a soft near-end score from output vs residual
//!   power moves the suppression from hard (4x over-subtraction, -40 dB floor) in far-end
//!   single talk to gentle (2x, -20 dB) when the near end talks, held over 150 ms and relaxed
//!   further within that hangover as the output shows any excess over residual and noise;
//!   Wiener gains on the decision-directed a-priori ratio. While the near end talks, one block
//!   whose output is louder than the capture (near end and echo interfering in the capture)
//!   does not count as a failed linear filter: powers smoothed over two blocks decide.
//! - Runs on 10 ms blocks at 8 or 16 kHz; at 32 and 48 kHz on the 0-8 kHz band with the band
//!   above gain-suppressed (see `bands.rs`). Adds 10 ms of delay (plus 0.8 ms at 32/48 kHz):
//!   [`EchoCanceller::latency_samples`].
//!
//! # Measured
//!
//! On real speech through 27 simulated rooms (RT60 100-400 ms x delay 20-200 ms x echo return
//! loss 0-20 dB; `media-bench`'s `aec_table --sweep`, table in media-bench/RESULTS.md): ERLE
//! in far-end single talk after 2 s 35-68 dB (speexdsp 17-43 dB, handed the true delay),
//! above speexdsp's on every call; double-talk PESQ against the clean near end 2.30-4.35,
//! above speexdsp's on all 27 (closest: the ERL 0 dB calls, echo as loud as the near end,
//! e.g. 3.31 vs 3.29 and 2.58 vs 2.53). CI runs four further calls (tests/aec_quality.rs,
//! media-bench/tests/aec_vs_speexdsp.rs), the latter also the two sweep calls that were the
//! last behind speexdsp (rt250-d200-erl0, rt400-d100-erl0).
//!
//! # Why not `sonora` (WebRTC AEC3) as the engine
//!
//! `sonora` 0.2 was evaluated first (`examples/sonora_gaps.rs`, `media-bench`'s `aec` bench and
//! `aec_table` example): it allocates about 35 times per 10 ms frame (its `sonora-aec3` block
//! processor about 11 times per 4 ms block), costs 42 us per 10 ms at 16 kHz and 58 us at
//! 48 kHz (the whole chain's budget is 50 us), one NaN turns all later output into NaN, a short
//! capture slice panics, and its residual echo suppressor wrecks near-end speech in double
//! talk (PESQ 1.1-1.8 on our calls, below no echo cancellation at all). Its tuning is closed at
//! the `sonora` level but open in `sonora-aec3` (full `EchoCanceller3Config`, linear output
//! from `BlockProcessor`), which would fix neither the allocations nor the cost. This canceller
//! is our own; `sonora` remains a dev-dependency, the reference it is measured against.
//!
//! Non-finite samples on either path are replaced by zero and counted, so one NaN never reaches
//! the adaptive state; a frame of the wrong length is an error, never a panic; the per-frame
//! path allocates nothing (tests/aec_no_alloc.rs).

mod bands;
mod core;
mod decay;
mod delay;
mod fft;
mod filter;
pub mod sim;
mod suppress;

use rtrb::{Consumer, Producer, RingBuffer};

use self::bands::{Decimator, Interpolator, ROUND_TRIP_DELAY};
use self::core::{CoreConfig, EchoCore};
use super::stage::{check_frame, sanitize, AudioStage, ProcessError, StageMetrics};
use crate::frame::{AudioFrame, SampleFormat, SampleRate};

/// Who is talking, as the echo canceller sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TalkState {
    /// Neither end (or no far end within the echo path's span).
    #[default]
    Silence,
    /// Only the far end: its echo is being suppressed hard.
    FarEnd,
    /// Only the near end.
    NearEnd,
    /// Both: suppression relaxes so near-end speech survives.
    DoubleTalk,
}

/// Echo canceller configuration. Build with [`EchoConfig::new`] and adjust fields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EchoConfig {
    /// Capture and far-end sample rate: 8, 16, 32 or 48 kHz.
    pub sample_rate: SampleRate,
    /// Echo tail the linear filter models after the direct path, in ms (40..=500).
    pub tail_ms: u32,
    /// Largest echo delay searched (playback-to-capture, buffers included), in ms (50..=1000).
    pub max_delay_ms: u32,
    /// Far-end ring capacity, in ms of audio (how far playback may run ahead), 100..=2000.
    pub far_buffer_ms: u32,
    /// Far-end audio kept queued before capture starts consuming it (absorbs scheduling
    /// jitter between playback and capture threads), in ms (0..=200).
    pub far_prebuffer_ms: u32,
    /// Residual echo suppression after the linear filter (off: linear cancellation only).
    pub suppression: bool,
}

impl EchoConfig {
    /// Defaults for `sample_rate`: 190 ms of tail, delays up to 500 ms, 1 s of far-end ring,
    /// 10 ms prebuffer, suppression on.
    pub fn new(sample_rate: SampleRate) -> Self {
        Self {
            sample_rate,
            tail_ms: 190,
            max_delay_ms: 500,
            far_buffer_ms: 1000,
            far_prebuffer_ms: 10,
            suppression: true,
        }
    }

    fn validate(&self) -> Result<(), ProcessError> {
        let bad = |why: String| Err(ProcessError::InvalidConfig(why));
        if ![8000, 16000, 32000, 48000].contains(&self.sample_rate.hz()) {
            return bad(format!(
                "echo canceller runs at 8, 16, 32 or 48 kHz, not {}",
                self.sample_rate
            ));
        }
        if !(40..=500).contains(&self.tail_ms) {
            return bad(format!("tail {} ms outside 40..=500", self.tail_ms));
        }
        if !(50..=1000).contains(&self.max_delay_ms) {
            return bad(format!(
                "max delay {} ms outside 50..=1000",
                self.max_delay_ms
            ));
        }
        if !(100..=2000).contains(&self.far_buffer_ms) {
            return bad(format!(
                "far-end buffer {} ms outside 100..=2000",
                self.far_buffer_ms
            ));
        }
        if self.far_prebuffer_ms > 200 {
            return bad(format!(
                "far-end prebuffer {} ms above 200",
                self.far_prebuffer_ms
            ));
        }
        Ok(())
    }
}

/// Echo canceller metrics beyond [`StageMetrics`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EchoMetrics {
    /// Echo return loss enhancement over recent far-end single talk, in dB.
    pub erle_db: Option<f32>,
    /// Estimated echo delay from far-end push to capture, in ms (buffered far end included).
    pub delay_ms: Option<f32>,
    /// Who is talking now.
    pub talk_state: TalkState,
    /// Capture blocks that found too little far end queued (zeros were used).
    pub far_underruns: u64,
    /// Far-end samples discarded because capture fell behind (ring full or FIFO over its
    /// high-water mark), at the far-end rate.
    pub far_dropped: u64,
    /// Far-end audio queued for capture now, in ms.
    pub far_queued_ms: f32,
    /// Non-finite far-end samples replaced by zero.
    pub far_sanitized: u64,
    /// Times the canceller restarted because its output went non-finite (should stay 0).
    pub divergences: u64,
}

/// The playback side of the echo canceller: push what the loudspeaker plays. Lock-free and
/// allocation-free; move it to the playback thread. Samples are mono f32 (±1) at the canceller's
/// rate; a full ring drops the excess and counts it.
#[derive(Debug)]
pub struct FarEndSender {
    tx: Producer<f32>,
    rate: SampleRate,
    dropped: u64,
    sanitized: u64,
}

impl FarEndSender {
    /// Pushes far-end samples; returns how many fit (the rest are dropped and counted).
    /// Non-finite samples are replaced by zero.
    pub fn push(&mut self, samples: &[f32]) -> usize {
        let n = samples.len().min(self.tx.slots());
        if let Ok(mut chunk) = self.tx.write_chunk(n) {
            let (a, b) = chunk.as_mut_slices();
            let (sa, sb) = samples[..n].split_at(a.len());
            a.copy_from_slice(sa);
            b.copy_from_slice(sb);
            self.sanitized += sanitize(a) + sanitize(b);
            chunk.commit_all();
        }
        self.dropped += (samples.len() - n) as u64;
        n
    }

    /// Pushes 16-bit far-end samples (converted to f32).
    pub fn push_i16(&mut self, samples: &[i16]) -> usize {
        let n = samples.len().min(self.tx.slots());
        if let Ok(mut chunk) = self.tx.write_chunk(n) {
            let (a, b) = chunk.as_mut_slices();
            let (sa, sb) = samples[..n].split_at(a.len());
            crate::processing::format::i16_to_f32(sa, a);
            crate::processing::format::i16_to_f32(sb, b);
            chunk.commit_all();
        }
        self.dropped += (samples.len() - n) as u64;
        n
    }

    /// Pushes a mono frame of any length at the canceller's rate (f32 or 16-bit).
    pub fn push_frame(&mut self, frame: &AudioFrame) -> Result<usize, ProcessError> {
        if frame.sample_rate != self.rate {
            return Err(ProcessError::FormatMismatch(
                "far-end rate differs from the echo canceller's",
            ));
        }
        if frame.channels != 1 {
            return Err(ProcessError::FormatMismatch("far end must be mono"));
        }
        Ok(match frame.samples.format() {
            SampleFormat::F32 => self.push(frame.as_f32().unwrap_or(&[])),
            SampleFormat::I16 => self.push_i16(frame.as_i16().unwrap_or(&[])),
        })
    }

    /// Samples dropped because the ring was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Non-finite samples replaced by zero.
    pub fn sanitized(&self) -> u64 {
        self.sanitized
    }

    /// The canceller's rate.
    pub fn sample_rate(&self) -> SampleRate {
        self.rate
    }
}

/// Band split state at 32 and 48 kHz.
#[derive(Debug)]
struct Split {
    m: usize,
    cap_dec: Decimator,
    interp: Interpolator,
    /// Full-rate input delay line (`ROUND_TRIP_DELAY + m·N` long, ring).
    delay: Vec<f32>,
    delay_pos: usize,
    low: Vec<f32>,
    low_prev: Vec<f32>,
    low_out: Vec<f32>,
    z: Vec<f32>,
    up: Vec<f32>,
    gain: f32,
}

/// Far-end FIFO at the core rate.
#[derive(Debug)]
struct FarFifo {
    buf: Vec<f32>,
    head: usize,
    len: usize,
}

impl FarFifo {
    fn push(&mut self, v: f32) -> bool {
        if self.len == self.buf.len() {
            return false;
        }
        let cap = self.buf.len();
        self.buf[(self.head + self.len) % cap] = v;
        self.len += 1;
        true
    }

    fn pop_into(&mut self, out: &mut [f32]) -> usize {
        let n = out.len().min(self.len);
        let cap = self.buf.len();
        for o in out[..n].iter_mut() {
            *o = self.buf[self.head];
            self.head = (self.head + 1) % cap;
        }
        self.len -= n;
        n
    }

    fn discard(&mut self, n: usize) {
        let n = n.min(self.len);
        self.head = (self.head + n) % self.buf.len();
        self.len -= n;
    }
}

/// Acoustic echo canceller for the capture path; see the [module docs](self).
#[derive(Debug)]
pub struct EchoCanceller {
    cfg: EchoConfig,
    /// Samples per 10 ms frame at the stage rate.
    frame_len: usize,
    /// Samples per block at the core rate.
    n: usize,
    core: EchoCore,
    split: Option<Split>,
    far_rx: Consumer<f32>,
    far_tx: Option<FarEndSender>,
    far_dec: Option<Decimator>,
    fifo: FarFifo,
    far_started: bool,
    prebuffer: usize,
    high_water: usize,
    far_scratch: Vec<f32>,
    far_block: Vec<f32>,
    core_out: Vec<f32>,
    metrics: StageMetrics,
    underruns: u64,
    far_dropped: u64,
    far_sanitized: u64,
    divergences: u64,
}

impl EchoCanceller {
    /// An echo canceller with `cfg` (validated).
    pub fn new(cfg: EchoConfig) -> Result<Self, ProcessError> {
        cfg.validate()?;
        let rate = cfg.sample_rate.hz();
        let core_rate = rate.min(16_000);
        let m = (rate / core_rate) as usize;
        let n = core_rate as usize / 100;
        let frame_len = rate as usize / 100;
        let blocks = |ms: u32| (ms as usize).div_ceil(10);
        let headroom = 3;
        let core = EchoCore::new(CoreConfig {
            n,
            partitions: blocks(cfg.tail_ms) + headroom,
            max_lag: blocks(cfg.max_delay_ms),
            headroom,
            suppress: cfg.suppression,
        });
        let far_cap = rate as usize * cfg.far_buffer_ms as usize / 1000;
        let (tx, rx) = RingBuffer::<f32>::new(far_cap.max(frame_len));
        let split = (m > 1).then(|| Split {
            m,
            cap_dec: Decimator::new(m),
            interp: Interpolator::new(m, n),
            delay: vec![0.0; ROUND_TRIP_DELAY + m * n],
            delay_pos: 0,
            low: Vec::with_capacity(n),
            low_prev: vec![0.0; n],
            low_out: vec![0.0; n],
            z: vec![0.0; n],
            up: vec![0.0; m * n],
            gain: 1.0,
        });
        let core_cap = core_rate as usize * cfg.far_buffer_ms as usize / 1000;
        Ok(Self {
            cfg,
            frame_len,
            n,
            core,
            split,
            far_rx: rx,
            far_tx: Some(FarEndSender {
                tx,
                rate: cfg.sample_rate,
                dropped: 0,
                sanitized: 0,
            }),
            far_dec: (m > 1).then(|| Decimator::new(m)),
            fifo: FarFifo {
                buf: vec![0.0; core_cap.max(2 * n)],
                head: 0,
                len: 0,
            },
            far_started: false,
            prebuffer: core_rate as usize * cfg.far_prebuffer_ms as usize / 1000,
            high_water: core_rate as usize * (cfg.far_prebuffer_ms as usize + 100) / 1000,
            far_scratch: vec![0.0; 1024],
            far_block: vec![0.0; n],
            core_out: vec![0.0; n],
            metrics: StageMetrics::default(),
            underruns: 0,
            far_dropped: 0,
            far_sanitized: 0,
            divergences: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EchoConfig {
        &self.cfg
    }

    /// Delay the canceller adds to the capture, in samples at its rate: one 10 ms block, plus
    /// the band split's filters at 32 and 48 kHz.
    pub fn latency_samples(&self) -> usize {
        match &self.split {
            None => self.frame_len,
            Some(sp) => sp.m * self.n + ROUND_TRIP_DELAY,
        }
    }

    /// Hands the far-end path to the playback side (once): after this, feed the far end
    /// through the returned sender, possibly from another thread; [`Self::render`] then fails.
    pub fn far_end_sender(&mut self) -> Option<FarEndSender> {
        self.far_tx.take()
    }

    /// Feeds far-end (loudspeaker) audio from the capture thread: a mono frame of any length at
    /// the canceller's rate, f32 or 16-bit.
    pub fn render(&mut self, far: &AudioFrame) -> Result<(), ProcessError> {
        let tx = self.far_tx.as_mut().ok_or_else(|| {
            ProcessError::InvalidConfig("far end was handed to a FarEndSender".into())
        })?;
        tx.push_frame(far).map(|_| ())
    }

    /// Feeds far-end f32 samples from the capture thread (see [`Self::render`]).
    pub fn render_f32(&mut self, far: &[f32]) -> Result<(), ProcessError> {
        let tx = self.far_tx.as_mut().ok_or_else(|| {
            ProcessError::InvalidConfig("far end was handed to a FarEndSender".into())
        })?;
        tx.push(far);
        Ok(())
    }

    /// Echo-specific metrics.
    pub fn echo_metrics(&self) -> EchoMetrics {
        let core_rate = self.n as f32 * 100.0;
        let delay_ms = self
            .core
            .lag()
            .map(|l| l as f32 * 10.0 + self.fifo.len as f32 * 1000.0 / core_rate);
        let sender_dropped = self.far_tx.as_ref().map_or(0, |t| t.dropped);
        let sender_sanitized = self.far_tx.as_ref().map_or(0, |t| t.sanitized);
        EchoMetrics {
            erle_db: self.core.erle_db(),
            delay_ms,
            talk_state: self.core.talk_state(),
            far_underruns: self.underruns,
            far_dropped: self.far_dropped + sender_dropped,
            far_queued_ms: self.fifo.len as f32 * 1000.0 / core_rate,
            far_sanitized: self.far_sanitized + sender_sanitized,
            divergences: self.divergences,
        }
    }

    /// Drops the far-end audio queued so far. Call it once per frame while the canceller is
    /// bypassed, so playback does not fill the ring; [`AudioStage::reset`] it before using it
    /// again (the echo path may have changed meanwhile).
    pub fn discard_far_end(&mut self) {
        let n = self.far_rx.slots();
        if let Ok(chunk) = self.far_rx.read_chunk(n) {
            chunk.commit_all();
        }
        let len = self.fifo.len;
        self.fifo.discard(len);
        self.far_started = false;
    }

    /// Moves queued far-end samples from the ring into the core-rate FIFO.
    fn drain_far(&mut self) {
        loop {
            let avail = self.far_rx.slots().min(self.far_scratch.len());
            if avail == 0 {
                break;
            }
            let Ok(chunk) = self.far_rx.read_chunk(avail) else {
                break;
            };
            let (a, b) = chunk.as_slices();
            self.far_scratch[..a.len()].copy_from_slice(a);
            self.far_scratch[a.len()..avail].copy_from_slice(b);
            chunk.commit_all();
            let scratch = &mut self.far_scratch[..avail];
            self.far_sanitized += sanitize(scratch);
            let fifo = &mut self.fifo;
            let mut lost = 0u64;
            match self.far_dec.as_mut() {
                Some(dec) => dec.process(scratch, |v| {
                    if !fifo.push(v) {
                        lost += 1;
                    }
                }),
                None => {
                    for &v in scratch.iter() {
                        if !fifo.push(v) {
                            lost += 1;
                        }
                    }
                }
            }
            let m = self.split.as_ref().map_or(1, |s| s.m) as u64;
            self.far_dropped += lost * m;
        }
    }

    /// Takes this block's far end from the FIFO (zeros before the far end starts or on
    /// underrun).
    fn next_far_block(&mut self) {
        let n = self.n;
        if !self.far_started {
            if self.fifo.len >= self.prebuffer.max(1) {
                self.far_started = true;
            } else {
                self.far_block.fill(0.0);
                return;
            }
        }
        if self.fifo.len > self.high_water + n {
            // Playback runs ahead of capture: drop back to the prebuffer level.
            let excess = self.fifo.len - self.prebuffer - n;
            self.fifo.discard(excess);
            let m = self.split.as_ref().map_or(1, |s| s.m) as u64;
            self.far_dropped += excess as u64 * m;
        }
        let got = self.fifo.pop_into(&mut self.far_block);
        if got < n {
            self.far_block[got..].fill(0.0);
            self.underruns += 1;
            // Re-prime so that jitter does not cause an underrun every block.
            self.far_started = false;
        }
    }
}

impl AudioStage for EchoCanceller {
    fn name(&self) -> &'static str {
        "aec"
    }

    fn process(&mut self, frame: &mut AudioFrame) -> Result<(), ProcessError> {
        let samples = check_frame(frame, self.cfg.sample_rate)?;
        debug_assert_eq!(samples.len(), self.frame_len);
        self.metrics.sanitized_samples += sanitize(samples);
        self.metrics.frames += 1;
        self.drain_far();
        self.next_far_block();
        match self.split.as_mut() {
            None => {
                self.core
                    .process(&self.far_block, samples, &mut self.core_out);
                samples.copy_from_slice(&self.core_out);
            }
            Some(sp) => {
                let n = self.n;
                sp.low.clear();
                let low = &mut sp.low;
                sp.cap_dec.process(samples, |v| low.push(v));
                if sp.low.len() != n {
                    // Cannot happen with whole frames; keep the output sane regardless.
                    sp.low.resize(n, 0.0);
                }
                self.core.process(&self.far_block, &sp.low, &mut sp.low_out);
                // High-band gain, ramped over the frame.
                let g_new = self.core.high_band_gain();
                let g_old = sp.gain;
                sp.gain = g_new;
                for j in 0..n {
                    let g = g_old + (g_new - g_old) * (j as f32 + 1.0) / n as f32;
                    sp.z[j] = sp.low_out[j] - g * sp.low_prev[j];
                }
                sp.low_prev.copy_from_slice(&sp.low);
                sp.interp.process(&sp.z, &mut sp.up);
                let len = sp.delay.len();
                let total = samples.len();
                for (i, s) in samples.iter_mut().enumerate() {
                    let delayed = sp.delay[sp.delay_pos];
                    sp.delay[sp.delay_pos] = *s;
                    sp.delay_pos = (sp.delay_pos + 1) % len;
                    let g = g_old + (g_new - g_old) * (i as f32 + 1.0) / total as f32;
                    *s = g * delayed + sp.up[i];
                }
            }
        }
        // Defence in depth: should the adaptive state ever blow up (it is bounded by the
        // sanitised, clamped inputs, but never trust an adaptive filter blindly), start over
        // rather than emit non-finite audio.
        if samples.iter().any(|v| !v.is_finite()) {
            sanitize(samples);
            self.core.reset();
            self.divergences += 1;
        }
        let em = self.echo_metrics();
        self.metrics.erle_db = em.erle_db;
        self.metrics.echo_delay_ms = em.delay_ms;
        Ok(())
    }

    fn reset(&mut self) {
        self.core.reset();
        if let Some(sp) = self.split.as_mut() {
            sp.cap_dec.reset();
            sp.interp.reset();
            sp.delay.fill(0.0);
            sp.low_prev.fill(0.0);
            sp.gain = 1.0;
        }
        if let Some(d) = self.far_dec.as_mut() {
            d.reset();
        }
        let len = self.fifo.len;
        self.fifo.discard(len);
        self.far_started = false;
        self.metrics = StageMetrics::default();
        self.underruns = 0;
        self.far_dropped = 0;
        self.far_sanitized = 0;
    }

    fn metrics(&self) -> StageMetrics {
        self.metrics
    }

    fn latency_samples(&self) -> usize {
        EchoCanceller::latency_samples(self)
    }
}
