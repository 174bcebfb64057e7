//! The echo canceller's block processor at 8 or 16 kHz: far-end intake, delay estimation,
//! the two-path adaptive linear filter with its step-size control, and the residual echo
//! suppressor.
//!
//! One block is `N` samples (10 ms: 160 at 16 kHz, 80 at 8 kHz); transforms are `2N` long.
//! Output lags input by one block (the suppressor's overlap-add).
//!
//! Two filters run on the same far end (Valin's two-path scheme, as in speexdsp): the
//! background filter adapts every block with a step that follows the residual-to-error ratio;
//! the foreground filter produces the output and only takes the background's weights when they
//! are reliably better, so a background filter that strays during double talk never reaches
//! the output (and is itself reset to the foreground when it is reliably worse).

use realfft::num_complex::Complex32;

use super::decay::RoomDecay;
use super::delay::{BinarySpectrum, DelayEstimator};
use super::fft::Fft;
use super::filter::{FarSpectra, Partitions};
use super::suppress::{Suppressor, SuppressorInput};
use super::TalkState;

/// Core tuning, derived from the public configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CoreConfig {
    /// Samples per block (10 ms).
    pub n: usize,
    /// Filter partitions (blocks of echo path).
    pub partitions: usize,
    /// Largest echo delay searched, in blocks.
    pub max_lag: usize,
    /// Partitions of the filter placed before the estimated delay.
    pub headroom: usize,
    /// Whether the residual echo suppressor runs (off: linear output only).
    pub suppress: bool,
}

/// Mean-square level below which a block counts as silent (-70 dBFS).
const SILENCE: f32 = 1e-7;
/// Step of the initial phase.
const INITIAL_STEP: f32 = 0.8;
/// Largest step of the adapted phase.
const MAX_STEP: f32 = 1.0;
/// Smallest leak (residual echo over echo estimate) the step assumes: however well the
/// single-talk ERLE says the filter cancels, the step takes it as at most 21 dB, so the filter
/// keeps learning through double talk (speexdsp's MDF has a floor too, at 23 dB). Without it a
/// filter that had not finished converging when the near end joined in (5 s of far-end speech
/// leave bands barely excited) froze there: on the ERL 0 dB calls its residual echo in double
/// talk stayed 3 dB above speexdsp's linear filter's (rt100-d20-erl0: 24.3 vs 27.5 dB).
const MIN_LEAK: f32 = 0.008;
/// Weight of the broadband residual-to-error ratio in the step (speexdsp uses 3): the per-band
/// leak under-reads the residual where the far end has only just reached a band.
const RER_GAIN: f32 = 2.0;

/// Per-block power decay the suppressor assumes until the capture has shown the room's
/// (RT60 about 500 ms): erring long costs near-end speech little (on the 27-case sweep, no
/// case's double-talk PESQ moves by 0.01 between 0.72 and 0.80), erring short lets the
/// reverberation through.
const ASSUMED_DECAY: f32 = 0.76;

/// Two-path comparison statistics.
#[derive(Debug, Clone, Copy, Default)]
struct TwoPath {
    davg1: f32,
    davg2: f32,
    dvar1: f32,
    dvar2: f32,
}

#[derive(Debug)]
pub(crate) struct EchoCore {
    cfg: CoreConfig,
    n: usize,
    k: usize,
    fft: Fft,
    window: Vec<f32>,
    far_prev: Vec<f32>,
    far: FarSpectra,
    far_power: Vec<f32>,
    far_peak: f32,
    align_offset: isize,
    lag_used: Option<usize>,
    /// Per-block power decay of the echo tail as the filter's shape shows it.
    tail_decay: f32,
    /// The room's decay as the capture shows it at far-end offsets.
    room: RoomDecay,
    far_bin_power: Vec<f32>,
    far_bits: BinarySpectrum,
    near_bits: BinarySpectrum,
    delay: DelayEstimator,
    /// Filter start age in blocks (lag minus headroom) once the delay is known.
    start: Option<usize>,
    bg: Partitions,
    fg: Partitions,
    two_path: TwoPath,
    fg_updates: u64,
    bg_resets: u64,
    constrain: usize,
    prop: Vec<f32>,
    // Time-domain blocks.
    e_prev: Vec<f32>,
    y_prev: Vec<f32>,
    y_bg: Vec<f32>,
    e_bg: Vec<f32>,
    y_out: Vec<f32>,
    e_out: Vec<f32>,
    // Scratch.
    time: Vec<f32>,
    time2: Vec<f32>,
    spec: Vec<Complex32>,
    e_u: Vec<Complex32>,
    y_u: Vec<Complex32>,
    ew: Vec<Complex32>,
    yw: Vec<Complex32>,
    dw: Vec<Complex32>,
    e_pow: Vec<f32>,
    y_pow: Vec<f32>,
    d_pow: Vec<f32>,
    eu_pow: Vec<f32>,
    yu_pow: Vec<f32>,
    step: Vec<f32>,
    step_norm: Vec<f32>,
    // Initial-phase bookkeeping.
    sum_adapt: f32,
    adapted: bool,
    /// Smoothed capture-to-output power ratio of the foreground filter while the far end talks.
    erle_lin: f32,
    /// Output and capture power, smoothed over about two blocks.
    see_s: f32,
    sdd_s: f32,
    res: Suppressor,
    ola: Vec<f32>,
    // Metrics.
    erle_num: f32,
    erle_den: f32,
    blocks: u64,
}

fn zeros_c(k: usize) -> Vec<Complex32> {
    vec![Complex32::new(0.0, 0.0); k]
}

impl EchoCore {
    pub(crate) fn new(cfg: CoreConfig) -> Self {
        let n = cfg.n;
        let k = n + 1;
        let window: Vec<f32> = (0..2 * n)
            .map(|i| (std::f32::consts::PI * i as f32 / (2 * n) as f32).sin())
            .collect();
        let cap = cfg.max_lag + cfg.partitions + 2;
        Self {
            cfg,
            n,
            k,
            fft: Fft::new(2 * n),
            window,
            far_prev: vec![0.0; n],
            far: FarSpectra::new(k, cap),
            far_power: vec![0.0; k],
            far_peak: 0.0,
            align_offset: 0,
            lag_used: None,
            tail_decay: 0.5,
            room: RoomDecay::default(),
            far_bin_power: vec![0.0; k],
            far_bits: BinarySpectrum::new(),
            near_bits: BinarySpectrum::new(),
            delay: DelayEstimator::new(cfg.max_lag),
            start: None,
            bg: Partitions::new(cfg.partitions, k),
            fg: Partitions::new(cfg.partitions, k),
            two_path: TwoPath::default(),
            fg_updates: 0,
            bg_resets: 0,
            constrain: 0,
            prop: vec![1.0; cfg.partitions],
            e_prev: vec![0.0; n],
            y_prev: vec![0.0; n],
            y_bg: vec![0.0; n],
            e_bg: vec![0.0; n],
            y_out: vec![0.0; n],
            e_out: vec![0.0; n],
            time: vec![0.0; 2 * n],
            time2: vec![0.0; 2 * n],
            spec: zeros_c(k),
            e_u: zeros_c(k),
            y_u: zeros_c(k),
            ew: zeros_c(k),
            yw: zeros_c(k),
            dw: zeros_c(k),
            e_pow: vec![0.0; k],
            y_pow: vec![0.0; k],
            d_pow: vec![0.0; k],
            eu_pow: vec![0.0; k],
            yu_pow: vec![0.0; k],
            step: vec![0.0; k],
            step_norm: vec![0.0; k],
            sum_adapt: 0.0,
            adapted: false,
            erle_lin: 1.0,
            see_s: 0.0,
            sdd_s: 0.0,
            res: Suppressor::new(k),
            ola: vec![0.0; n],
            erle_num: 0.0,
            erle_den: 0.0,
            blocks: 0,
        }
    }

    /// Back to the state of [`Self::new`] without allocating (the echo canceller is reset
    /// when the chain switches it back on, on the audio thread). `reset_matches_new` checks
    /// that nothing is forgotten.
    pub(crate) fn reset(&mut self) {
        let z = Complex32::new(0.0, 0.0);
        self.far.reset();
        self.far_peak = 0.0;
        self.align_offset = 0;
        self.lag_used = None;
        self.tail_decay = 0.5;
        self.room.reset();
        self.far_bits = BinarySpectrum::new();
        self.near_bits = BinarySpectrum::new();
        self.delay.reset();
        self.start = None;
        self.bg.clear();
        self.fg.clear();
        self.two_path = TwoPath::default();
        self.fg_updates = 0;
        self.bg_resets = 0;
        self.constrain = 0;
        self.prop.fill(1.0);
        for v in [
            &mut self.far_prev,
            &mut self.far_power,
            &mut self.far_bin_power,
            &mut self.e_prev,
            &mut self.y_prev,
            &mut self.y_bg,
            &mut self.e_bg,
            &mut self.y_out,
            &mut self.e_out,
            &mut self.time,
            &mut self.time2,
            &mut self.e_pow,
            &mut self.y_pow,
            &mut self.d_pow,
            &mut self.eu_pow,
            &mut self.yu_pow,
            &mut self.step,
            &mut self.step_norm,
            &mut self.ola,
        ] {
            v.fill(0.0);
        }
        for v in [
            &mut self.spec,
            &mut self.e_u,
            &mut self.y_u,
            &mut self.ew,
            &mut self.yw,
            &mut self.dw,
        ] {
            v.fill(z);
        }
        self.sum_adapt = 0.0;
        self.adapted = false;
        self.erle_lin = 1.0;
        self.see_s = 0.0;
        self.sdd_s = 0.0;
        self.res.reset();
        self.erle_num = 0.0;
        self.erle_den = 0.0;
        self.blocks = 0;
    }

    /// Estimated echo delay in blocks (of the direct path), once known.
    pub(crate) fn lag(&self) -> Option<usize> {
        self.start.map(|s| s + self.cfg.headroom)
    }

    /// Smoothed ERLE in dB over far-end single talk.
    pub(crate) fn erle_db(&self) -> Option<f32> {
        (self.erle_den > 0.0)
            .then(|| 10.0 * ((self.erle_num + 1e-12) / (self.erle_den + 1e-12)).log10())
    }

    pub(crate) fn talk_state(&self) -> TalkState {
        self.res.state()
    }

    /// The suppressor's average gain over the top quarter of the band (for higher bands).
    pub(crate) fn high_band_gain(&self) -> f32 {
        self.res.high_band_gain()
    }

    /// Echo estimate of `w` at `start` into `y` (time, `N`), and `e = near - y`.
    #[allow(clippy::too_many_arguments)] // disjoint borrows of the core's buffers
    fn echo_estimate(
        w: &Partitions,
        far: &FarSpectra,
        start: usize,
        fft: &mut Fft,
        spec: &mut [Complex32],
        time: &mut [f32],
        power: Option<&mut [f32]>,
        near: &[f32],
        y: &mut [f32],
        e: &mut [f32],
    ) {
        w.filter(far, start, spec, power);
        fft.inverse(spec, time);
        let n = y.len();
        let scale = 1.0 / (2 * n) as f32;
        for (((y, e), &t), &d) in y.iter_mut().zip(e.iter_mut()).zip(&time[n..]).zip(near) {
            *y = t * scale;
            *e = d - *y;
        }
    }

    /// Processes one block: `far` is the far-end block consumed now, `near` the capture block.
    pub(crate) fn process(&mut self, far: &[f32], near: &[f32], out: &mut [f32]) {
        let n = self.n;
        let k = self.k;
        self.blocks += 1;

        // Far-end intake: spectrum, power, binary spectrum.
        self.time[..n].copy_from_slice(&self.far_prev);
        self.time[n..].copy_from_slice(&far[..n]);
        self.far_prev.copy_from_slice(&far[..n]);
        let far_ms = far[..n].iter().map(|x| x * x).sum::<f32>() / n as f32;
        // Active: above -70 dBFS and within 40 dB of the recent peak (pauses are not talk).
        self.far_peak = (self.far_peak * 0.995).max(far_ms);
        let far_active = far_ms > SILENCE.max(1e-4 * self.far_peak);
        {
            let x = self.far.push();
            self.fft.forward(&self.time, x);
            for (p, c) in self.far_bin_power.iter_mut().zip(x.iter()) {
                *p = c.norm_sqr();
            }
        }
        self.far
            .set_newest_energy(if far_active { far_ms } else { 0.0 });
        let fbits = self.far_bits.bits(&self.far_bin_power, far_active);
        self.delay.push_far(fbits, far_active);

        // Both filters' echo estimates at the current alignment.
        let start = self.start;
        let mut crossfade = false;
        if let Some(s) = start {
            Self::echo_estimate(
                &self.bg,
                &self.far,
                s,
                &mut self.fft,
                &mut self.spec,
                &mut self.time,
                Some(&mut self.far_power),
                near,
                &mut self.y_bg,
                &mut self.e_bg,
            );
            Self::echo_estimate(
                &self.fg,
                &self.far,
                s,
                &mut self.fft,
                &mut self.spec,
                &mut self.time,
                None,
                near,
                &mut self.y_out,
                &mut self.e_out,
            );
            crossfade = self.two_path_update();
        } else {
            self.y_bg.fill(0.0);
            self.e_bg.copy_from_slice(&near[..n]);
            self.y_out.fill(0.0);
            self.e_out.copy_from_slice(&near[..n]);
        }
        if crossfade {
            // The foreground just took the background's weights: fade to its output.
            for (i, ((e, y), (&eb, &d))) in self
                .e_out
                .iter_mut()
                .zip(self.y_out.iter_mut())
                .zip(self.e_bg.iter().zip(near))
                .enumerate()
            {
                let a = (i as f32 + 0.5) / n as f32;
                *e = (1.0 - a) * *e + a * eb;
                *y = d - *e;
            }
        }

        // Windowed spectra of the output, its echo estimate and (their sum) the capture.
        for i in 0..n {
            self.time[i] = self.e_prev[i] * self.window[i];
            self.time[n + i] = self.e_out[i] * self.window[n + i];
            self.time2[i] = self.y_prev[i] * self.window[i];
            self.time2[n + i] = self.y_out[i] * self.window[n + i];
        }
        self.fft.forward(&self.time, &mut self.ew);
        self.fft.forward(&self.time2, &mut self.yw);
        let (mut see, mut sdd) = (0.0f32, 0.0f32);
        for i in 0..k {
            self.dw[i] = self.ew[i] + self.yw[i];
            self.e_pow[i] = self.ew[i].norm_sqr();
            self.y_pow[i] = self.yw[i].norm_sqr();
            self.d_pow[i] = self.dw[i].norm_sqr();
            see += self.e_pow[i];
            sdd += self.d_pow[i];
        }
        // The foreground filter's ERLE, learned while the far end talks alone (near-end speech
        // would pull it down).
        if start.is_some()
            && far_active
            && sdd > 1e-9
            && !matches!(self.res.state(), TalkState::NearEnd | TalkState::DoubleTalk)
        {
            self.erle_lin = 0.95 * self.erle_lin + 0.05 * (sdd / (see + 1e-12)).min(1e4);
        }

        // Delay estimation on the capture's binary spectrum.
        let near_ms = near[..n].iter().map(|x| x * x).sum::<f32>() / n as f32;
        let near_active = near_ms > SILENCE;
        let nbits = self.near_bits.bits(&self.d_pow, near_active);
        // While the near end seems to talk, only a far-end match that stands out clearly may
        // move the delay: near-end speech must not drag the estimate, but a moved echo (a
        // buffer changed) also looks like near-end speech until the delay follows it.
        let near_talking = matches!(self.res.state(), TalkState::NearEnd | TalkState::DoubleTalk);
        let est = self
            .delay
            .update(nbits, near_active, self.erle_lin > 2.0, near_talking);
        // Follow the estimator freely until the filter cancels; after that, small moves are
        // left to the filter-based alignment (the estimate wobbles by a block or two in
        // reverberant rooms) and only a large move (a buffer changed) is taken.
        let mut path_moved = false;
        match (self.lag_used, est) {
            (None, Some(l)) => self.lag_used = Some(l),
            (Some(cur), Some(l)) if l != cur => {
                let jump = (l as isize - cur as isize).unsigned_abs();
                if self.erle_lin < 1.6 || jump > 3 {
                    self.lag_used = Some(l);
                    path_moved = jump > 2;
                }
            }
            _ => {}
        }
        let new_start = self.lag_used.map(|l| {
            let s = l as isize - self.cfg.headroom as isize - self.align_offset;
            s.max(0) as usize
        });

        // Far-end activity over the filter's span.
        let echo_possible = match start {
            Some(s) => (s..s + self.cfg.partitions).any(|a| self.far.energy(a) > SILENCE),
            None => (0..self.far.capacity()).any(|a| self.far.energy(a) > SILENCE),
        };

        if let Some(s) = start {
            if echo_possible {
                self.adapt(s);
            }
        }

        // The room's decay, from the capture dying away once the far end stopped (the
        // filter's tail reads it too fast in long rooms); the suppressor holds the residual
        // echo at the slower of the two.
        if let Some(s) = start {
            let lag = s + self.cfg.headroom;
            let far_silent = (lag.saturating_sub(1)..=lag + 1).all(|a| self.far.energy(a) == 0.0);
            let single = self.res.state() == TalkState::FarEnd;
            self.room
                .update(far_silent, single, sdd, self.res.noise_power());
        }
        let tail_decay = self
            .room
            .decay()
            .unwrap_or(ASSUMED_DECAY)
            .max(self.tail_decay);

        // Residual echo suppression.
        // The filter is usable unless its output is clearly louder than the capture (a moved
        // echo path, a diverged filter). While the near end talks, one block of that is no
        // evidence: near-end speech and echo can cancel each other in the capture while the
        // output carries the near end whole (rt400-d100-erl0 at 5.43 s: capture 2 dB below
        // the near end alone), and treating that block's capture as residual echo swallowed
        // 30 dB of near-end speech for three blocks. Then the powers smoothed over about two
        // blocks decide.
        self.see_s = 0.5 * self.see_s + 0.5 * see;
        self.sdd_s = 0.5 * self.sdd_s + 0.5 * sdd;
        let fits = see <= 1.5 * sdd || (near_talking && self.see_s <= 1.5 * self.sdd_s);
        let linear_usable = start.is_some() && self.erle_lin > 2.0 && fits;
        let gains = self.res.update(&SuppressorInput {
            e_pow: if linear_usable {
                &self.e_pow
            } else {
                &self.d_pow
            },
            y_pow: &self.y_pow,
            d_pow: &self.d_pow,
            linear_usable,
            tail_decay,
            echo_possible,
            enabled: self.cfg.suppress,
        });
        let src = if linear_usable { &self.ew } else { &self.dw };
        let mut out_pow = 0.0f32;
        for ((o, &s), &g) in self.spec.iter_mut().zip(src.iter()).zip(gains) {
            *o = s * g;
            out_pow += o.norm_sqr();
        }
        self.fft.inverse(&self.spec, &mut self.time);
        let scale = 1.0 / (2 * n) as f32;
        let (first, second) = self.time.split_at(n);
        let (w1, w2) = self.window.split_at(n);
        for ((((o, ola), &t1), &t2), (&a, &b)) in out
            .iter_mut()
            .zip(self.ola.iter_mut())
            .zip(first)
            .zip(second)
            .zip(w1.iter().zip(w2))
        {
            *o = *ola + t1 * a * scale;
            *ola = t2 * b * scale;
        }

        // Metrics: ERLE over far-end single talk.
        if echo_possible && self.res.state() == TalkState::FarEnd {
            self.erle_num = 0.98 * self.erle_num + 0.02 * sdd;
            self.erle_den = 0.98 * self.erle_den + 0.02 * out_pow;
        }

        self.e_prev.copy_from_slice(&self.e_out);
        self.y_prev.copy_from_slice(&self.y_out);
        // Apply a new alignment from the next block on. A moved echo path (a buffer changed)
        // keeps the filters' shape relative to the delay; any other move (alignment
        // refinement) keeps the modelled echo path where it is.
        if new_start != self.start {
            match (self.start, new_start) {
                (Some(old), Some(new)) => {
                    if !path_moved {
                        let delta = new as isize - old as isize;
                        self.bg.shift(delta);
                        self.fg.shift(delta);
                    }
                }
                _ => {
                    self.bg.clear();
                    self.fg.clear();
                }
            }
            self.start = new_start;
        }
    }

    /// Speexdsp's two-path decision: returns whether the foreground took the background's
    /// weights (the output then fades over to the background's error).
    fn two_path_update(&mut self) -> bool {
        let sff: f32 = self.e_out.iter().map(|x| x * x).sum();
        let see: f32 = self.e_bg.iter().map(|x| x * x).sum();
        let dbf: f32 = self
            .y_out
            .iter()
            .zip(&self.y_bg)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            + 1e-10;
        let tp = &mut self.two_path;
        let diff = sff - see;
        tp.davg1 = 0.6 * tp.davg1 + 0.4 * diff;
        tp.davg2 = 0.85 * tp.davg2 + 0.15 * diff;
        tp.dvar1 = 0.36 * tp.dvar1 + 0.16 * sff * dbf;
        tp.dvar2 = 0.7225 * tp.dvar2 + 0.0225 * sff * dbf;
        let update = diff * diff.abs() > sff * dbf
            || tp.davg1 * tp.davg1.abs() > 0.5 * tp.dvar1
            || tp.davg2 * tp.davg2.abs() > 0.25 * tp.dvar2;
        if update {
            self.fg_updates += 1;
            *tp = TwoPath::default();
            self.fg.copy_from(&self.bg);
            return true;
        }
        let reset = -diff * diff.abs() > 4.0 * sff * dbf
            || -tp.davg1 * tp.davg1.abs() > 4.0 * tp.dvar1
            || -tp.davg2 * tp.davg2.abs() > 4.0 * tp.dvar2;
        if reset {
            self.bg_resets += 1;
            *tp = TwoPath::default();
            self.bg.copy_from(&self.fg);
            self.e_bg.copy_from_slice(&self.e_out);
            self.y_bg.copy_from_slice(&self.y_out);
        }
        false
    }

    /// One adaptation step of the background filter.
    fn adapt(&mut self, s: usize) {
        let n = self.n;
        let k = self.k;
        // Unwindowed spectra of the background error and echo estimate.
        self.time[..n].fill(0.0);
        self.time[n..].copy_from_slice(&self.e_bg);
        self.fft.forward(&self.time, &mut self.e_u);
        self.time[n..].copy_from_slice(&self.y_bg);
        self.fft.forward(&self.time, &mut self.y_u);
        for i in 0..k {
            self.eu_pow[i] = self.e_u[i].norm_sqr();
            self.yu_pow[i] = self.y_u[i].norm_sqr();
        }

        // Normalisation: the far power over the filter's span (from the filtering pass),
        // regularised so that bins the far end barely excites do not get huge steps.
        let p_mean = self.far_power.iter().sum::<f32>() / k as f32;
        let reg = 0.01 * p_mean;
        for (q, &p) in self.step_norm.iter_mut().zip(&self.far_power) {
            *q = p.max(reg);
        }
        let floor = 1e-9 * (2 * n) as f32;
        if self.adapted {
            // Step = residual echo / error per bin (Valin's optimal step), the residual being
            // the echo estimate over the filter's ERLE in that band as the suppressor learned
            // it in far-end single talk (taken as at most 21 dB, [`MIN_LEAK`]); near-end speech in
            // the error makes the step small.
            let max_step = MAX_STEP;
            let (mut r_sum, mut e_sum) = (0.0f32, 0.0f32);
            for i in 0..k {
                let e = self.eu_pow[i] + 1e-12;
                let leak = self.res.leak(i).max(MIN_LEAK);
                let r = (self.yu_pow[i] * leak).min(max_step * e);
                self.step[i] = r / e;
                r_sum += r;
                e_sum += e;
            }
            let rer = (RER_GAIN * r_sum / e_sum).min(max_step);
            for i in 0..k {
                let mu = 0.7 * self.step[i] + 0.3 * rer;
                self.step[i] = mu / (self.step_norm[i] + floor);
            }
        } else {
            // Initial phase: a fixed step, smaller when the error outweighs the far end
            // (near-end speech or a loud echo), until the filter clearly helps.
            // Far energy where the echo comes from (around the estimated delay), not now.
            let h = self.cfg.headroom;
            let sxx = (s + h.saturating_sub(1)..s + h + 3)
                .map(|a| self.far.energy(a))
                .fold(0.0f32, f32::max)
                * n as f32;
            let sed = self.e_bg.iter().map(|x| x * x).sum::<f32>();
            let rate = INITIAL_STEP * (sxx / (sed + 1e-20)).min(1.0);
            for i in 0..k {
                self.step[i] = rate / (self.step_norm[i] + floor);
            }
            self.sum_adapt += rate;
            if self.sum_adapt > self.cfg.partitions as f32 && self.erle_lin > 8.0 {
                self.adapted = true;
            }
        }
        self.bg.proportions(&mut self.prop);
        // The converged filter shows where the direct path really is: keep it `headroom`
        // partitions into the window (the delay estimate may sit late in reverberant rooms).
        if self.blocks.is_multiple_of(25) && self.erle_lin > 4.0 {
            if let Some(peak) = self.fg.strongest() {
                let want = self.cfg.headroom as isize;
                let p = peak as isize;
                if p + 1 < want || p > want + 3 {
                    self.align_offset += want - p;
                    self.align_offset = self.align_offset.clamp(-4, 8);
                }
            }
        }
        if self.blocks.is_multiple_of(10) {
            if let Some(d) = self.fg.tail_decay() {
                self.tail_decay = 0.8 * self.tail_decay + 0.2 * d.clamp(0.05, 0.95);
            }
        }
        self.bg.adapt(
            &self.far,
            s,
            &self.step,
            &self.prop,
            &self.e_u,
            self.constrain,
            &mut self.fft,
            &mut self.time2,
        );
        self.constrain = (self.constrain + 1) % self.cfg.partitions;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::SplitMix64;

    /// ERLE of the linear filter alone over the last 50 blocks of white noise through a pure
    /// delay and gain.
    fn run(delay: usize, gain: f32, blocks: usize) -> f32 {
        let n = 160;
        let mut core = EchoCore::new(CoreConfig {
            n,
            partitions: 12,
            max_lag: 30,
            headroom: 3,
            suppress: false,
        });
        let mut rng = SplitMix64(9);
        let total = n * blocks;
        let far: Vec<f32> = (0..total)
            .map(|_| (rng.unit() as f32 - 0.5) * 0.2)
            .collect();
        let mut out = vec![0.0f32; n];
        let (mut pe, mut po) = (0.0, 0.0);
        for b in 0..blocks {
            let mic: Vec<f32> = (0..n)
                .map(|i| {
                    let t = b * n + i;
                    if t >= delay {
                        far[t - delay] * gain
                    } else {
                        0.0
                    }
                })
                .collect();
            core.process(&far[b * n..(b + 1) * n], &mic, &mut out);
            if b >= blocks - 50 {
                pe += mic.iter().map(|x| x * x).sum::<f32>();
                po += out.iter().map(|x| x * x).sum::<f32>();
            }
        }
        10.0 * (pe / po).log10()
    }

    #[test]
    fn linear_filter_converges_on_white_noise() {
        let erle = run(1234, 0.5, 300);
        assert!(erle > 30.0, "erle {erle}");
    }

    #[test]
    fn reset_matches_new() {
        let cfg = CoreConfig {
            n: 160,
            partitions: 8,
            max_lag: 20,
            headroom: 3,
            suppress: true,
        };
        let mut rng = SplitMix64(3);
        let far: Vec<f32> = (0..160 * 300)
            .map(|_| (rng.unit() as f32 - 0.5) * 0.2)
            .collect();
        let near: Vec<f32> = (0..far.len())
            .map(|i| {
                let echo = if i >= 800 { far[i - 800] * 0.4 } else { 0.0 };
                echo + (rng.unit() as f32 - 0.5) * 0.01
            })
            .collect();
        let run = |core: &mut EchoCore, blocks: std::ops::Range<usize>| -> Vec<f32> {
            let mut out = vec![0.0f32; 160];
            let mut all = Vec::new();
            for b in blocks {
                let r = b * 160..(b + 1) * 160;
                core.process(&far[r.clone()], &near[r], &mut out);
                all.extend_from_slice(&out);
            }
            all
        };
        let mut used = EchoCore::new(cfg);
        run(&mut used, 0..300);
        used.reset();
        let mut fresh = EchoCore::new(cfg);
        let a = run(&mut used, 0..300);
        let b = run(&mut fresh, 0..300);
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        assert_eq!(format!("{:?}", used.lag()), format!("{:?}", fresh.lag()));
    }
}
