//! Residual echo suppressor, double-talk aware.
//!
//! **Residual estimate.** The linear filter's echo estimate `Y` is untouched by near-end
//! speech; what it leaves behind is, per band, a fraction of it: `R(k) = |Y(k)|² / ERLE_b`.
//! The per-band ERLE (capture power over output power) is learned only while the far end talks
//! alone, so the residual estimate stays right when the near end joins in: near-end speech
//! raises the output power but not `R`.
//!
//! **Who is talking.** The output carrying clearly more power than residual echo and noise
//! explain means near-end speech; the flag is held for a few blocks.
//!
//! **Gains.** Wiener gains on the decision-directed a-priori echo-to-signal ratio
//! (Ephraim-Malah smoothing, so no musical noise). A soft near-end score moves over-subtraction
//! and floor from their far-end single-talk values (residual over-estimated fourfold, -40 dB
//! floor: what the filter leaves is removed) to their near-end values (twofold, -20 dB floor:
//! bins where the near end dominates pass nearly untouched, only bins the echo dominates are
//! attenuated). The near-end flag is held for 150 ms so suppression does not snap shut between
//! syllables; within that hangover the score is at least half way, and further (up to 0.85) as
//! the output shows any excess over residual and noise: the residual estimate runs high in
//! double talk, so the near end's quieter sounds show only a small excess.
//!
//! **Holding the residual.** The residual outlasts the echo estimate's dips (reverberation
//! beyond the filter, misadjustment at far-end offsets): the estimate holds its peaks with a
//! decay, and what was observed to be residual in confident single talk (capped at a fraction
//! of the echo estimate, so a missed near-end onset cannot lock the suppressor shut) decays no
//! faster than the room, whose decay per block the core hands in: the slower of what the
//! filter's tail shows and what the capture shows dying away at far-end offsets (`decay.rs`),
//! a long room assumed until the capture has shown it.
//!
//! Before the linear filter helps (start of a call, lost alignment) the capture itself is
//! treated as residual while the far end talks: half duplex until the filter converges.

use super::TalkState;

/// What the suppressor sees of one block.
pub(crate) struct SuppressorInput<'a> {
    /// Power spectrum of the signal to suppress (linear output, or capture when unusable).
    pub e_pow: &'a [f32],
    /// Power spectrum of the linear echo estimate.
    pub y_pow: &'a [f32],
    /// Power spectrum of the capture.
    pub d_pow: &'a [f32],
    /// Whether the linear filter's output can be trusted.
    pub linear_usable: bool,
    /// Per-block power decay of the room (the filter's tail or the capture's free decay).
    pub tail_decay: f32,
    /// Whether the far end has been active within the echo path's span.
    pub echo_possible: bool,
    /// Off: unity gains (linear cancellation only).
    pub enabled: bool,
}

/// Bands for the ERLE estimate.
const BANDS: usize = 16;
/// Blocks the near-end flag is held after the last evidence.
const NEAR_HANGOVER: u32 = 15;
/// Over-subtraction and floor (amplitude) in far-end single talk.
const BETA_FAR: f32 = 4.0;
const FLOOR_FAR: f32 = 0.01;
/// The same while the near end talks.
const BETA_NEAR: f32 = 2.0;
const FLOOR_NEAR: f32 = 0.1;
/// Near-end score: log2 of output over (residual + noise) at which it starts and saturates.
const NEAR_LO: f32 = 1.5;
const NEAR_HI: f32 = 4.0;
/// Score the hangover lifts to when the output exceeds residual and noise by `NEAR_LO`.
const HOLD_SCORE: f32 = 0.85;
/// Decision-directed smoothing.
const ALPHA: f32 = 0.85;
/// Per-block decay of the residual estimate's peak hold.
const PEAK_HOLD: f32 = 0.6;
/// How fast a band's ERLE estimate follows evidence of more residual (it follows evidence of
/// less at 0.03 per block).
const LEARN_DOWN: f32 = 0.15;
/// The observed single-talk residual is held at most at this fraction of the echo estimate.
const OBS_CAP: f32 = 0.3;

#[derive(Debug, Clone)]
pub(crate) struct Suppressor {
    k: usize,
    band_of: Vec<u8>,
    erle: [f32; BANDS],
    num: [f32; BANDS],
    den: [f32; BANDS],
    gain: Vec<f32>,
    prev_e: Vec<f32>,
    r: Vec<f32>,
    r_obs: Vec<f32>,
    noise: Vec<f32>,
    near_hold: u32,
    log_ratio: f32,
    state: TalkState,
    high_gain: f32,
    /// Noise floor summed over the bins (last block).
    noise_sum: f32,
    blocks: u64,
}

impl Suppressor {
    pub(crate) fn new(k: usize) -> Self {
        // Bands equally wide on a square-root frequency scale (narrow at low frequencies).
        let band_of = (0..k)
            .map(|i| {
                let f = (i as f32 / k as f32).sqrt();
                ((f * BANDS as f32) as usize).min(BANDS - 1) as u8
            })
            .collect();
        Self {
            k,
            band_of,
            erle: [1.0; BANDS],
            num: [0.0; BANDS],
            den: [0.0; BANDS],
            gain: vec![1.0; k],
            prev_e: vec![0.0; k],
            r: vec![0.0; k],
            r_obs: vec![0.0; k],
            noise: vec![0.0; k],
            near_hold: 0,
            log_ratio: 0.0,
            state: TalkState::Silence,
            high_gain: 1.0,
            noise_sum: 0.0,
            blocks: 0,
        }
    }

    /// Back to the state of [`Self::new`], without allocating.
    pub(crate) fn reset(&mut self) {
        self.erle = [1.0; BANDS];
        self.num = [0.0; BANDS];
        self.den = [0.0; BANDS];
        self.gain.fill(1.0);
        for v in [
            &mut self.prev_e,
            &mut self.r,
            &mut self.r_obs,
            &mut self.noise,
        ] {
            v.fill(0.0);
        }
        self.near_hold = 0;
        self.log_ratio = 0.0;
        self.state = TalkState::Silence;
        self.high_gain = 1.0;
        self.noise_sum = 0.0;
        self.blocks = 0;
    }

    pub(crate) fn state(&self) -> TalkState {
        self.state
    }

    /// Leakage of the linear filter at bin `i`: 1 / ERLE of its band.
    pub(crate) fn leak(&self, i: usize) -> f32 {
        1.0 / self.erle[usize::from(self.band_of[i])]
    }

    /// The output's noise floor, summed over the bins (as of the last block).
    pub(crate) fn noise_power(&self) -> f32 {
        self.noise_sum
    }

    pub(crate) fn high_band_gain(&self) -> f32 {
        self.high_gain
    }

    /// Computes this block's gains.
    pub(crate) fn update(&mut self, inp: &SuppressorInput<'_>) -> &[f32] {
        let k = self.k;
        self.blocks += 1;
        // Noise floor: follows minima at once, rises slowly (about 3 dB/s).
        for (nf, &e) in self.noise.iter_mut().zip(inp.e_pow) {
            if self.blocks <= 10 {
                *nf = nf.max(e);
            } else if e < *nf {
                *nf = e;
            } else {
                *nf *= 1.002;
            }
        }
        // Residual echo estimate.
        let (mut r_sum, mut e_sum, mut n_sum) = (0.0f32, 0.0f32, 0.0f32);
        for i in 0..k {
            let inst = if !inp.echo_possible {
                0.0
            } else if inp.linear_usable {
                inp.y_pow[i] / self.erle[usize::from(self.band_of[i])]
            } else {
                inp.d_pow[i]
            };
            // Residual echo outlasts its estimate's dips: hold peaks, decaying; and what was
            // observed to be residual in far-end single talk decays no faster than the room.
            let obs = if inp.echo_possible {
                inp.tail_decay.max(0.3) * self.r_obs[i]
            } else {
                0.0
            };
            self.r[i] = inst.max(PEAK_HOLD * self.r[i]).max(obs);
            r_sum += self.r[i];
            e_sum += inp.e_pow[i];
            n_sum += self.noise[i];
        }
        self.noise_sum = n_sum;
        // Near-end evidence: the output holds clearly more than residual echo and noise
        // explain. Scored softly (0: far end alone, 1: near end dominant) on a smoothed ratio.
        let ratio = if inp.linear_usable || !inp.echo_possible {
            (e_sum + 1e-12) / (r_sum + 2.0 * n_sum + 1e-12)
        } else {
            1.0
        };
        self.log_ratio = 0.5 * self.log_ratio + 0.5 * ratio.log2().clamp(-10.0, 20.0);
        let score = ((self.log_ratio - NEAR_LO) / (NEAR_HI - NEAR_LO)).clamp(0.0, 1.0);
        if score >= 0.5 {
            self.near_hold = NEAR_HANGOVER;
        } else {
            self.near_hold = self.near_hold.saturating_sub(1);
        }
        // The hangover keeps the suppression relaxed between near-end syllables: at least half
        // way, and further (up to `HOLD_SCORE`) as the output shows any excess over residual
        // echo and noise. The residual estimate runs high in double talk (what the near end
        // joins is a filter still converging, held peaks, the room's tail), so within a
        // hangover an excess too small to count as fresh evidence is still the near end's
        // quieter sounds more often than echo; an output at or below what residual and noise
        // explain gets the half-way suppression as before.
        let score = if self.near_hold > 0 {
            let excess = (self.log_ratio / NEAR_LO).clamp(0.0, 1.0);
            score.max(0.5 + (HOLD_SCORE - 0.5) * excess)
        } else {
            score
        };
        let near = self.near_hold > 0;
        let echo = inp.echo_possible && r_sum > 0.1 * n_sum;
        self.state = match (echo, near) {
            (false, false) => TalkState::Silence,
            (true, false) => TalkState::FarEnd,
            (false, true) => TalkState::NearEnd,
            (true, true) => TalkState::DoubleTalk,
        };
        // The observed residual envelope (all of the output is echo in far-end single talk).
        let decay = inp.tail_decay.max(0.3);
        let single = inp.linear_usable && self.state == TalkState::FarEnd && score < 0.2;
        for ((o, &e), &y) in self.r_obs.iter_mut().zip(inp.e_pow).zip(inp.y_pow.iter()) {
            // Never more than a few times what the echo estimate explains, so a near-end onset
            // the detector missed for a block cannot lock the suppressor shut.
            let cap = OBS_CAP * y;
            *o = if single {
                e.min(cap).max(decay * *o)
            } else {
                decay * *o
            };
        }
        // Learn the filter's ERLE per band in far-end single talk.
        if inp.linear_usable && self.state == TalkState::FarEnd && score < 0.2 {
            self.num = [0.0; BANDS];
            self.den = [0.0; BANDS];
            for i in 0..k {
                let b = usize::from(self.band_of[i]);
                self.num[b] += inp.d_pow[i];
                self.den[b] += inp.e_pow[i] + self.noise[i];
            }
            for b in 0..BANDS {
                if self.num[b] > 0.0 && self.den[b] > 0.0 {
                    let ratio = (self.num[b] / self.den[b]).clamp(1.0, 1e4);
                    // Quick to believe more residual, slow to believe less.
                    let a = if ratio < self.erle[b] {
                        LEARN_DOWN
                    } else {
                        0.03
                    };
                    self.erle[b] += a * (ratio - self.erle[b]);
                }
            }
        }
        if !inp.enabled {
            self.gain.fill(1.0);
            self.high_gain = 1.0;
            return &self.gain;
        }
        // Over-subtraction and floor move geometrically from their far-end to their near-end
        // values with the score.
        let beta = BETA_FAR * (BETA_NEAR / BETA_FAR).powf(score);
        let floor = FLOOR_FAR * (FLOOR_NEAR / FLOOR_FAR).powf(score);
        for i in 0..k {
            let e = inp.e_pow[i];
            let g = if self.r[i] <= 0.0 {
                1.0
            } else {
                let r = beta * self.r[i] + 1e-20;
                let post = e / r;
                let prior_prev = self.gain[i] * self.gain[i] * self.prev_e[i] / r;
                let xi = ALPHA * prior_prev + (1.0 - ALPHA) * (post - 1.0).max(0.0);
                (xi / (1.0 + xi)).max(floor)
            };
            self.gain[i] = g;
            self.prev_e[i] = e;
        }
        let top = 3 * k / 4;
        self.high_gain = self.gain[top..].iter().sum::<f32>() / (k - top).max(1) as f32;
        &self.gain
    }
}
