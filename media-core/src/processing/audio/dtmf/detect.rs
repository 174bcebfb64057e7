//! The DTMF detector (ITU-T Q.24).
//!
//! # How it decides
//!
//! The detector looks at the last 20 ms of signal every 5 ms (a window of `N` samples, `N/4`
//! hop: 160 and 40 at 8 kHz, 960 and 240 at 48 kHz, so every rate sees the same time spans and
//! the same 50 Hz resolution). For each window:
//!
//! 1. **Eight single-bin DFTs**, one per DTMF frequency, over the Hann-windowed 20 ms: the
//!    quantity the Goertzel algorithm computes, evaluated as dot products with precomputed
//!    tables (the same arithmetic without Goertzel's serial recurrence, so that it vectorises;
//!    and with a fixed phase reference, which step 2 needs). The Hann window keeps the other
//!    group's tone 55 dB down. The strongest bin of each group is the candidate row and
//!    column; a cheap gate on their level and share of the window's energy ends most windows
//!    here.
//! 2. **Frequency**, from the phase advance of each candidate tone across three 10 ms
//!    half-windows 5 ms apart (unambiguous to ±100 Hz, accurate to about 2 Hz). Both tones
//!    must be within ±2.5 % of nominal: halfway between Q.24's "accept ±1.5 %" and
//!    "reject ±3.5 %", with about 1 % margin on each side at every frequency.
//! 3. **Level and twist** from the 20 ms bins, corrected for the window's loss at the measured
//!    frequency offset, so that a tone 1.5 % off is measured as strong as one on frequency:
//!    each tone at least [`DetectorConfig::min_level_dbm0`]; the high tone at most
//!    [`DetectorConfig::max_normal_twist_db`] weaker and at most
//!    [`DetectorConfig::max_reverse_twist_db`] stronger than the low one.
//! 4. **Purity**: the two tones must carry [`DetectorConfig::min_tone_ratio`] of the window's
//!    energy (DC removed), each tone must be steady (its three half-window amplitudes within
//!    2 dB: this also rejects windows only partly covered by a tone, which is what makes short
//!    tones fail), and the **second harmonic** of each tone must be
//!    [`DetectorConfig::max_harmonic_db`] below it. Speech that puts two harmonics on DTMF
//!    frequencies almost always has energy elsewhere or at twice those frequencies: this is
//!    the talk-off protection. Where a second harmonic falls next to the other tone (2 × 697 Hz
//!    beside 1336 Hz), the other tone's predicted leakage is subtracted first.
//!
//! # Timing
//!
//! A digit starts after **3 consecutive hits** of the same digit (windows spanning 30 ms; with
//! the steadiness test a tone needs about 23 to 30 ms to produce them, depending on where it
//! falls on the 5 ms grid, and any tone of 35 ms or more always does). It continues while each
//! window still holds both of its tones within 9 dB of their level at the start (a
//! neighbouring frequency of the same group is 14 dB or more down in the bin, so a change of
//! digit without a pause ends it) and with half the window's energy; it ends after **4 consecutive windows** that do
//! not: an interruption of up to 15 ms is bridged, a pause of 25 ms or more always ends the
//! digit (Q.24: pauses of 40 ms must be recognised). A detection is reported when the digit
//! ends (20 ms after), with its start and duration within about ±2.5 ms at every rate.
//!
//! # Cost
//!
//! About 2,900 multiply-adds per analysed window at 8 kHz (scaled by the rate), 640 while a
//! digit is in progress (only its two bins), none beyond the energy for windows too quiet to
//! hold a tone; while nothing is going on only every other window is analysed (see `analyse`
//! in the source for why that changes no decision). Measured beside spandsp in `media-bench`
//! (`cargo bench -p media-bench --features c-reference --bench dtmf`).
//!
//! Everything is allocated in [`DtmfDetector::new`]: tables, the 20 ms history and a queue of
//! [`EVENT_CAPACITY`] detections (if the caller stops polling, the oldest are dropped and
//! counted).

use std::collections::VecDeque;
use std::f64::consts::TAU;

use rtp_core::{EventSequence, RtpTimestamp};

use super::{dbm0_to_peak, digit_at, peak_to_dbm0, DtmfError, HIGH_GROUP_HZ, LOW_GROUP_HZ};
use crate::frame::{AudioFrame, MediaTime, SampleRate};
use crate::processing::audio::stage::{check_frame, AudioStage, ProcessError, StageMetrics};

/// Detections held for [`DtmfDetector::poll`] before the oldest is dropped.
pub const EVENT_CAPACITY: usize = 32;

/// Consecutive hits that start a digit.
const HITS_TO_START: u32 = 3;
/// Consecutive misses that end a digit.
const MISSES_TO_END: u32 = 4;
/// A digit continues while each tone's energy stays within this factor of its level at the
/// start (-9 dB).
const CONTINUE_ENERGY: f64 = 0.125_892_54;
/// ... and the pair keeps this share of the window's energy.
const CONTINUE_RATIO: f64 = 0.5;
/// Largest spread of a tone's three half-window amplitudes (2 dB).
const STEADY_RATIO: f64 = 1.258_925_4;
/// Harmonic and steadiness limits grow by this many times the noise's expected magnitude in
/// the bin.
const NOISE_ALLOWANCE: f64 = 2.5;

mod config;
pub use config::{DetectorConfig, DtmfDetection};
mod spectrum;
use spectrum::{
    argmax, bin_energies, dft16, dot2, freq, hann_gain, hann_response, weighted_energy, Floor,
};

/// A digit in progress.
#[derive(Debug, Clone, Copy)]
struct Active {
    /// Tone indices: row 0..4, column 4..8.
    row: usize,
    col: usize,
    /// Estimated first sample (may be negative before clamping: windows start before the
    /// stream).
    start: i64,
    /// Start of the last window that held the digit.
    last_window: i64,
    misses: u32,
    /// Bin energies as the digit started, and the window's loss at each tone's offset.
    e_row: f64,
    e_col: f64,
    g_row: f64,
    g_col: f64,
    low_dbm0: f64,
    high_dbm0: f64,
}

/// The outcome of the strict test of one window.
#[derive(Debug, Clone, Copy)]
struct Hit {
    /// Tone indices: row 0..4, column 4..8.
    row: usize,
    col: usize,
    g_row: f64,
    g_col: f64,
    amp_row: f64,
    amp_col: f64,
}

/// What [`DtmfDetector`] has seen, for tests and tuning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetectorStats {
    /// Windows analysed.
    pub windows: u64,
    /// Windows that passed the cheap gate and got the full test.
    pub full_tests: u64,
    /// Windows that passed the full test.
    pub hits: u64,
    /// Detections dropped because nobody polled.
    pub dropped: u64,
}

/// Finds DTMF digits in a mono stream. Feed it with [`process_i16`](Self::process_i16) or
/// [`process_f32`](Self::process_f32) (any lengths) or as an [`AudioStage`] (10 ms f32 frames,
/// left unchanged), and pull what it found with [`poll`](Self::poll).
///
/// ```
/// use media_core::processing::audio::dtmf::{
///     DetectorConfig, DtmfDetector, DtmfGenerator, GeneratorConfig,
/// };
///
/// let mut gen = DtmfGenerator::new(GeneratorConfig::default())?;
/// gen.push_str("159#")?;
/// let mut det = DtmfDetector::new(DetectorConfig::default())?;
/// let mut frame = [0i16; 80];
/// let mut digits = String::new();
/// for _ in 0..100 {
///     gen.fill_i16(&mut frame);
///     det.process_i16(&frame);
///     while let Some(d) = det.poll() {
///         digits.push(d.digit);
///     }
/// }
/// assert_eq!(digits, "159#");
/// # Ok::<(), media_core::processing::audio::dtmf::DtmfError>(())
/// ```
#[derive(Debug, Clone)]
pub struct DtmfDetector {
    config: DetectorConfig,
    rate: f64,
    /// Window, hop and half-window lengths.
    n: usize,
    hop: usize,
    half: usize,
    /// The last `n + hop` samples, oldest first: the window before last and the last one
    /// overlap in all but a hop; the newest `fill` samples arrived since the last analysis.
    buf: Vec<f32>,
    fill: usize,
    /// Samples consumed since the stream start.
    pos: u64,
    /// Hann(n)-weighted cos / -sin at the 8 frequencies, sample-major, two samples per entry:
    /// `main[i / 2][16 * (i % 2) + 2 * k]` (+1 for the sine).
    main: Vec<[f32; 32]>,
    /// The same, tone-major (`full_cos[k * n + i]`), for the two bins of a digit in progress.
    full_cos: Vec<f32>,
    full_sin: Vec<f32>,
    /// Hann(n) squared.
    w2: Vec<f32>,
    sum_w2: f64,
    /// Hann(n/2)-weighted cos and -sin at the 8 frequencies, tone-major.
    sub_cos: Vec<f32>,
    sub_sin: Vec<f32>,
    /// Hann(n)-weighted cos and -sin at twice the 8 frequencies, tone-major.
    harm_cos: Vec<f32>,
    harm_sin: Vec<f32>,
    /// Per tone: e^{-j w hop}, to take the nominal phase advance out of the measured one.
    advance: [(f64, f64); 8],
    /// Gate thresholds on bin energy.
    gate_energy: f64,
    min_amp: f64,
    floor: Floor,
    /// The energy of the window skipped while idle, to be analysed if the next one passes
    /// the gate.
    skipped: Option<f64>,
    /// Whether the last analysed window passed the gate.
    gate_open: bool,
    run: Option<(usize, usize)>,
    run_len: u32,
    run_start: i64,
    run_amp: (f64, f64),
    active: Option<Active>,
    events: VecDeque<DtmfDetection>,
    stats: DetectorStats,
    frames: u64,
    sanitized: u64,
}

impl DtmfDetector {
    /// A detector with `config`, validated; allocates everything it will use.
    pub fn new(config: DetectorConfig) -> Result<Self, DtmfError> {
        config.validate()?;
        let rate = f64::from(config.sample_rate.hz());
        let hop = (rate * 0.005).round() as usize;
        let n = 4 * hop;
        let half = n / 2;
        let freqs: Vec<f64> = LOW_GROUP_HZ.iter().chain(&HIGH_GROUP_HZ).copied().collect();
        let hann = |len: usize, i: usize| 0.5 - 0.5 * (TAU * (i as f64 + 0.5) / len as f64).cos();
        let mut main = vec![[0f32; 32]; n / 2];
        let mut full_cos = vec![0f32; 8 * n];
        let mut full_sin = vec![0f32; 8 * n];
        let mut w2 = vec![0f32; n];
        let c = (n as f64 - 1.0) / 2.0;
        for i in 0..n {
            let w = hann(n, i);
            w2[i] = (w * w) as f32;
            for (k, f) in freqs.iter().enumerate() {
                let ph = TAU * f / rate * (i as f64 - c);
                main[i / 2][16 * (i % 2) + 2 * k] = (w * ph.cos()) as f32;
                main[i / 2][16 * (i % 2) + 2 * k + 1] = (-w * ph.sin()) as f32;
                full_cos[k * n + i] = (w * ph.cos()) as f32;
                full_sin[k * n + i] = (-w * ph.sin()) as f32;
            }
        }
        let sum_w2 = w2.iter().map(|&v| f64::from(v)).sum();
        let mut sub_cos = vec![0f32; 8 * half];
        let mut sub_sin = vec![0f32; 8 * half];
        let mut harm_cos = vec![0f32; 8 * n];
        let mut harm_sin = vec![0f32; 8 * n];
        let c2 = (half as f64 - 1.0) / 2.0;
        for (k, f) in freqs.iter().enumerate() {
            for i in 0..half {
                let w = hann(half, i);
                let ph = TAU * f / rate * (i as f64 - c2);
                sub_cos[k * half + i] = (w * ph.cos()) as f32;
                sub_sin[k * half + i] = (-w * ph.sin()) as f32;
            }
            for i in 0..n {
                let w = hann(n, i);
                let ph = 2.0 * TAU * f / rate * (i as f64 - c);
                harm_cos[k * n + i] = (w * ph.cos()) as f32;
                harm_sin[k * n + i] = (-w * ph.sin()) as f32;
            }
        }
        let mut advance = [(0.0, 0.0); 8];
        for (a, f) in advance.iter_mut().zip(&freqs) {
            let ph = TAU * f / rate * hop as f64;
            *a = (ph.cos(), -ph.sin());
        }
        // A tone of peak amplitude a gives |X| = a N / 4 at its bin; the gate lets through
        // tones down to the minimum level at the largest offset (window loss up to 4 dB) and
        // then some.
        let min_amp = dbm0_to_peak(config.min_level_dbm0);
        let gate_amp = min_amp * 0.5;
        let gate_energy = (gate_amp * n as f64 / 4.0).powi(2);
        Ok(Self {
            config,
            rate,
            n,
            hop,
            half,
            buf: vec![0.0; n + hop],
            fill: 0,
            pos: 0,
            main,
            full_cos,
            full_sin,
            w2,
            sum_w2,
            sub_cos,
            sub_sin,
            harm_cos,
            harm_sin,
            advance,
            gate_energy,
            min_amp,
            floor: Floor::new(),
            skipped: None,
            gate_open: false,
            run: None,
            run_len: 0,
            run_start: 0,
            run_amp: (0.0, 0.0),
            active: None,
            events: VecDeque::with_capacity(EVENT_CAPACITY),
            stats: DetectorStats::default(),
            frames: 0,
            sanitized: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Samples consumed since the stream start (or the last reset).
    pub fn position(&self) -> MediaTime {
        MediaTime(self.pos)
    }

    /// The digit being received right now, if any (reported by [`poll`](Self::poll) once it
    /// ends).
    pub fn current(&self) -> Option<char> {
        self.active.and_then(|a| digit_at(a.row, a.col - 4))
    }

    /// Counters of what the detector has seen.
    pub fn stats(&self) -> DetectorStats {
        self.stats
    }

    /// The next finished digit, oldest first.
    pub fn poll(&mut self) -> Option<DtmfDetection> {
        self.events.pop_front()
    }

    /// Analyses 16-bit samples (any count).
    pub fn process_i16(&mut self, samples: &[i16]) {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (self.hop - self.fill).min(rest.len());
            let at = self.n + self.fill;
            for (d, &s) in self.buf[at..at + take].iter_mut().zip(&rest[..take]) {
                *d = f32::from(s) * (1.0 / 32768.0);
            }
            self.advance_by(take);
            rest = &rest[take..];
        }
    }

    /// Analyses f32 samples (full scale ±1, any count). Non-finite samples count as silence.
    pub fn process_f32(&mut self, samples: &[f32]) {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (self.hop - self.fill).min(rest.len());
            let at = self.n + self.fill;
            for (d, &s) in self.buf[at..at + take].iter_mut().zip(&rest[..take]) {
                *d = if s.is_finite() {
                    s.clamp(-1.0, 1.0)
                } else {
                    self.sanitized += 1;
                    0.0
                };
            }
            self.advance_by(take);
            rest = &rest[take..];
        }
    }

    /// Ends the stream: a digit still in progress is reported as ending with the last window
    /// that held it. Detection then carries on as if after a pause.
    pub fn flush(&mut self) {
        if let Some(a) = self.active.take() {
            self.finish(a);
        }
        self.run = None;
        self.run_len = 0;
    }

    fn advance_by(&mut self, take: usize) {
        self.fill += take;
        self.pos += take as u64;
        if self.fill == self.hop {
            self.analyse();
            self.buf.copy_within(self.hop.., 0);
            self.fill = 0;
        }
    }

    /// The window that just completed: the last `n` samples.
    ///
    /// Work is saved two ways without changing any decision. A window whose energy is too
    /// small to hold a tone at the gate's level (or the current digit's) needs no DFT. And
    /// while nothing is happening (no digit, no run of hits, the last window shut at the
    /// gate), only every other window is analysed: the one skipped is analysed after all
    /// when the next one passes the gate, before it, so a run of hits is never missed; a
    /// skipped window that would have passed between two that do not could only have been an
    /// isolated hit, which starts nothing.
    fn analyse(&mut self) {
        self.stats.windows += 1;
        let n = self.n;
        let window_start = self.pos as i64 - n as i64;
        let (s2, s1) = weighted_energy(&self.buf[self.hop..], &self.w2);
        // Window energy with the (weighted) mean taken out, so DC does not count against
        // the tones.
        let total = (s2 - s1 * s1 / self.sum_w2).max(1e-20);
        // No bin can exceed n times the windowed energy (Cauchy-Schwarz).
        let mut needed = self.gate_energy;
        if let Some(a) = self.active {
            needed = needed.min(CONTINUE_ENERGY * a.e_row.min(a.e_col));
        }
        if (n as f64) * s2 < needed {
            self.floor.push(total);
            self.skipped = None;
            self.gate_open = false;
            self.no_tone();
            return;
        }
        if let Some(mut a) = self.active {
            // A digit in progress needs only its own two bins (a quarter of the work).
            let x = &self.buf[self.hop..];
            let bin = |k: usize| {
                let (re, im) = dot2(
                    x,
                    &self.full_cos[k * n..(k + 1) * n],
                    &self.full_sin[k * n..(k + 1) * n],
                );
                re * re + im * im
            };
            let (e_row, e_col) = (bin(a.row), bin(a.col));
            // A tone of peak a carries 3 N a^2 / 16 of the Hann^2-weighted energy and gives
            // |X|^2 = (a N / 4)^2 at its bin: the tone's energy is 3 |X|^2 / N.
            let nf = n as f64;
            let share =
                3.0 * e_row / (nf * a.g_row * a.g_row) + 3.0 * e_col / (nf * a.g_col * a.g_col);
            if e_row >= a.e_row * CONTINUE_ENERGY
                && e_col >= a.e_col * CONTINUE_ENERGY
                && share >= CONTINUE_RATIO * total
            {
                a.misses = 0;
                a.last_window = window_start;
                self.active = Some(a);
                self.gate_open = true;
                self.floor.push(total);
                return;
            }
            self.miss_active();
        }
        let busy = self.active.is_some() || self.run_len > 0 || self.gate_open;
        if !busy && self.stats.windows % 2 == 1 && self.skipped.is_none() {
            self.floor.push(total);
            self.skipped = Some(total);
            return;
        }
        let bins = dft16(&self.buf[self.hop..], &self.main);
        if let Some(prev_total) = self.skipped.take() {
            let e = bin_energies(&bins);
            if self.gate(&e, total).is_some() {
                // The skipped window first, as if on time.
                let prev_bins = dft16(&self.buf[..n], &self.main);
                self.evaluate(0, window_start - self.hop as i64, &prev_bins, prev_total);
            }
        }
        self.floor.push(total);
        self.evaluate(self.hop, window_start, &bins, total);
    }

    /// The gate: the strongest bin of each group, if both are strong enough and carry enough
    /// of the window's energy for the full test to have a chance.
    fn gate(&self, e: &[f64; 8], total: f64) -> Option<(usize, usize)> {
        let row = argmax(&e[..4]);
        let col = 4 + argmax(&e[4..]);
        let worst_gain = 0.6;
        let share = 3.0 * (e[row] + e[col]) / (self.n as f64 * worst_gain * worst_gain);
        (e[row] >= self.gate_energy
            && e[col] >= self.gate_energy
            && share >= 0.5 * self.config.min_tone_ratio * total)
            .then_some((row, col))
    }

    /// A window with no tone in it: a miss for the digit in progress and the end of any run.
    fn no_tone(&mut self) {
        self.miss_active();
        self.run = None;
        self.run_len = 0;
    }

    /// Counts a miss for the digit in progress, ending it after [`MISSES_TO_END`].
    fn miss_active(&mut self) {
        if let Some(mut a) = self.active {
            a.misses += 1;
            if a.misses >= MISSES_TO_END {
                self.active = None;
                self.finish(a);
            } else {
                self.active = Some(a);
            }
        }
    }

    /// Decides whether the window at `buf[base..base + n]`, starting at stream sample
    /// `window_start`, is a hit (given its bins and energy), and starts a digit after enough
    /// of them.
    fn evaluate(&mut self, base: usize, window_start: i64, bins: &[f32; 16], total: f64) {
        let e = bin_energies(bins);
        let gated = self.gate(&e, total);
        self.gate_open = gated.is_some();
        let hit = gated.and_then(|(row, col)| {
            self.stats.full_tests += 1;
            self.full_test(base, row, col, bins, &e, total)
        });
        let Some(hit) = hit else {
            self.run = None;
            self.run_len = 0;
            return;
        };
        self.stats.hits += 1;
        if self.run == Some((hit.row, hit.col)) {
            self.run_len += 1;
        } else {
            self.run = Some((hit.row, hit.col));
            self.run_len = 1;
            self.run_start = window_start;
            self.run_amp = (hit.amp_row, hit.amp_col);
        }
        if self.run_len >= HITS_TO_START && self.active.is_none() {
            // The first hit window starts at most ~2.5 ms before the tone and the window
            // before it (5 ms earlier) missed: the tone started within about 2.5 ms of the
            // first hit window's start (measured: -2.4 to +2.5 ms at every rate).
            let start = self.run_start;
            self.active = Some(Active {
                row: hit.row,
                col: hit.col,
                start,
                last_window: window_start,
                misses: 0,
                e_row: e[hit.row],
                e_col: e[hit.col],
                g_row: hit.g_row,
                g_col: hit.g_col,
                low_dbm0: peak_to_dbm0(self.run_amp.0),
                high_dbm0: peak_to_dbm0(self.run_amp.1),
            });
            self.run = None;
            self.run_len = 0;
        }
    }

    /// The strict test of the window for the digit (row, col): frequency, level, twist,
    /// energy share, second harmonics and steadiness.
    fn full_test(
        &self,
        base: usize,
        row: usize,
        col: usize,
        bins: &[f32; 16],
        e: &[f64; 8],
        total: f64,
    ) -> Option<Hit> {
        let cfg = &self.config;
        let (n, half) = (self.n, self.half);
        let nf = n as f64;
        let tones = [row, col];
        // Half-window DFTs of both tones at offsets 0, hop, 2 hop.
        let mut z = [[(0f64, 0f64); 3]; 2];
        for (t, &k) in tones.iter().enumerate() {
            let (c, s) = (
                &self.sub_cos[k * half..(k + 1) * half],
                &self.sub_sin[k * half..(k + 1) * half],
            );
            for (m, zm) in z[t].iter_mut().enumerate() {
                let x = &self.buf[base + m * self.hop..base + m * self.hop + half];
                *zm = dot2(x, c, s);
            }
        }
        // Frequency from the phase advance over one hop; amplitude from the 20 ms bin,
        // corrected for the window's loss at that offset.
        let mut amp = [0f64; 2];
        let mut g = [0f64; 2];
        let mut offset_hz = [0f64; 2];
        for (t, &k) in tones.iter().enumerate() {
            let mut p = (0.0, 0.0);
            for m in 0..2 {
                let (a, b) = (z[t][m + 1], z[t][m]);
                p.0 += a.0 * b.0 + a.1 * b.1;
                p.1 += a.1 * b.0 - a.0 * b.1;
            }
            let (ac, as_) = self.advance[k];
            let q = (p.0 * ac - p.1 * as_, p.0 * as_ + p.1 * ac);
            let off = q.1.atan2(q.0) * self.rate / (TAU * self.hop as f64);
            if off.abs() > cfg.freq_tolerance * freq(k) {
                return None;
            }
            offset_hz[t] = off;
            g[t] = hann_gain(n, TAU * off / self.rate);
            amp[t] = 4.0 * e[k].sqrt() / (nf * g[t]);
        }
        // Level and twist.
        if amp[0] < self.min_amp || amp[1] < self.min_amp {
            return None;
        }
        let twist_db = 20.0 * (amp[1] / amp[0]).log10();
        if twist_db < -cfg.max_normal_twist_db || twist_db > cfg.max_reverse_twist_db {
            return None;
        }
        // Share of the window's energy (a tone of peak a carries 3 N a^2 / 16).
        let tones_energy = 3.0 * nf / 16.0 * (amp[0] * amp[0] + amp[1] * amp[1]);
        if tones_energy < cfg.min_tone_ratio * total {
            return None;
        }
        // Second harmonics over the 20 ms window. The low tone's second harmonic can lie next
        // to the high tone (2 x 697 Hz is 58 Hz from 1336 Hz): the high tone's leakage into
        // that bin, predicted from its measured bin, frequency and the window's response, is
        // taken out first. Everything else is at least 10 bins away, 80 dB down.
        let mut harm = [0f64; 2];
        let mut harm_energy = 0.0;
        for (t, &k) in tones.iter().enumerate() {
            let (c, s) = (
                &self.harm_cos[k * n..(k + 1) * n],
                &self.harm_sin[k * n..(k + 1) * n],
            );
            let (mut re, mut im) = dot2(&self.buf[base..base + n], c, s);
            let f_high = freq(col) + offset_hz[1];
            let apart = TAU * (2.0 * freq(k) - f_high) / self.rate;
            if t == 0 && apart.abs() < 10.0 * TAU / nf {
                let r = hann_response(n, apart) / (0.5 * nf * g[1]);
                re -= f64::from(bins[2 * col]) * r;
                im -= f64::from(bins[2 * col + 1]) * r;
            }
            let mag2 = re * re + im * im;
            harm_energy += 3.0 * mag2 / nf;
            harm[t] = mag2.sqrt() / (nf / 4.0 * hann_gain(n, TAU * 2.0 * offset_hz[t] / self.rate));
        }
        // The noise: what is left of the window's energy, but no more than the background
        // level of the last half second (a window only partly covered by the tone also leaves
        // a remainder, and must not pass as noisy). Its variance per sample, and its expected
        // magnitude in a 20 ms and in a 10 ms bin in the amplitude units of `amp`: the checks
        // below allow for it, so that a noisy tone is judged on its tones, not on the noise.
        let residual = (total - tones_energy - harm_energy).max(0.0);
        let noise_var = residual.min(self.floor.level()) / self.sum_w2;
        let noise_full = (noise_var * 3.0 * nf / 8.0).sqrt() * 4.0 / nf;
        let noise_half = (noise_var * 3.0 * half as f64 / 8.0).sqrt() * 4.0 / half as f64;
        let max_ratio = 10f64.powf(cfg.max_harmonic_db / 20.0);
        for t in 0..2 {
            if harm[t] > max_ratio * amp[t] + NOISE_ALLOWANCE * noise_full {
                return None;
            }
        }
        // Steadiness: the tone's three half-window amplitudes agree within 2 dB (plus noise).
        for (t, zt) in z.iter().enumerate() {
            let mags = zt.map(|(re, im)| (re * re + im * im).sqrt() * 4.0 / half as f64);
            let (lo, hi) = mags
                .iter()
                .fold((f64::MAX, 0f64), |(lo, hi), &m| (lo.min(m), hi.max(m)));
            let slack =
                NOISE_ALLOWANCE * noise_half * hann_gain(half, TAU * offset_hz[t] / self.rate);
            if hi > lo * STEADY_RATIO + slack || hi <= 0.0 {
                return None;
            }
        }
        Some(Hit {
            row,
            col,
            g_row: g[0],
            g_col: g[1],
            amp_row: amp[0],
            amp_col: amp[1],
        })
    }

    fn finish(&mut self, a: Active) {
        // The last window that held the digit had the tone's end 10 to 15 ms in (the window
        // still holds the digit while the tone covers its middle); measured at every rate,
        // 12.75 ms centres the error within about ±2.5 ms.
        let end = a.last_window + (self.rate * 0.012_75).round() as i64;
        let start = a.start.max(0);
        let Some(digit) = digit_at(a.row, a.col - 4) else {
            return;
        };
        let det = DtmfDetection {
            digit,
            start: MediaTime(start as u64),
            duration: (end - start).max(0) as u64,
            sample_rate: self.config.sample_rate,
            low_dbm0: a.low_dbm0 as f32,
            high_dbm0: a.high_dbm0 as f32,
        };
        if self.events.len() == EVENT_CAPACITY {
            self.events.pop_front();
            self.stats.dropped += 1;
        }
        self.events.push_back(det);
    }

    /// Forgets everything, as at a new stream (position back to 0; pending detections
    /// dropped).
    pub fn reset_stream(&mut self) {
        self.buf.fill(0.0);
        self.fill = 0;
        self.pos = 0;
        self.floor = Floor::new();
        self.skipped = None;
        self.gate_open = false;
        self.run = None;
        self.run_len = 0;
        self.active = None;
        self.events.clear();
        self.stats = DetectorStats::default();
        self.frames = 0;
        self.sanitized = 0;
    }
}

impl AudioStage for DtmfDetector {
    fn name(&self) -> &'static str {
        "dtmf"
    }

    /// Analyses the frame and leaves it unchanged.
    fn process(&mut self, frame: &mut AudioFrame) -> Result<(), ProcessError> {
        let samples = check_frame(frame, self.config.sample_rate)?;
        self.frames += 1;
        // Reborrow as shared: the detector only reads.
        let samples: &[f32] = samples;
        // `process_f32` needs `&mut self` while `samples` borrows the frame, not `self`.
        self.process_f32(samples);
        Ok(())
    }

    fn reset(&mut self) {
        self.reset_stream();
    }

    fn metrics(&self) -> StageMetrics {
        StageMetrics {
            frames: self.frames,
            sanitized_samples: self.sanitized,
            ..StageMetrics::default()
        }
    }
}

#[cfg(test)]
mod tests;
