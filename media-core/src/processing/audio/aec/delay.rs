//! Echo delay estimation on binary spectra (the approach of WebRTC's legacy delay estimator).
//!
//! Each block's magnitude spectrum is reduced to 32 bits: bit `b` says whether band `b` is
//! above its own running mean. The far-end bits of the last `max_lag` blocks are kept; for every
//! lag the capture bits are compared with the far bits that many blocks back (Hamming distance)
//! and the distance is averaged over time, but only while both ends carry signal. The echo
//! delay is the lag with the smallest average distance, accepted with hysteresis: a new lag
//! must stay the best, clearly below the current one, for a while before it replaces it. Cost:
//! one XOR and popcount per lag per block.

/// Bands of two bins each from bin `FIRST_BIN` (50 Hz bins: 250 Hz to 3.45 kHz).
const BANDS: usize = 32;
const FIRST_BIN: usize = 5;
const BINS_PER_BAND: usize = 2;

/// Binary spectrum of one block: bands above their running mean.
#[derive(Debug, Clone)]
pub(crate) struct BinarySpectrum {
    mean: [f32; BANDS],
    initialised: bool,
}

impl BinarySpectrum {
    pub(crate) fn new() -> Self {
        Self {
            mean: [0.0; BANDS],
            initialised: false,
        }
    }

    /// The bits of a block whose bin powers are `power` (at least `FIRST_BIN + 64` bins), and
    /// updates the running means when `active`.
    pub(crate) fn bits(&mut self, power: &[f32], active: bool) -> u32 {
        let mut bits = 0u32;
        for b in 0..BANDS {
            let lo = FIRST_BIN + b * BINS_PER_BAND;
            let v: f32 = power
                .get(lo..lo + BINS_PER_BAND)
                .map(|s| s.iter().sum())
                .unwrap_or(0.0);
            let v = v.sqrt();
            if active {
                if self.initialised {
                    self.mean[b] += 0.02 * (v - self.mean[b]);
                } else {
                    self.mean[b] = v;
                }
            }
            if v > self.mean[b] {
                bits |= 1 << b;
            }
        }
        if active {
            self.initialised = true;
        }
        bits
    }
}

/// Tracks the echo delay in blocks.
#[derive(Debug, Clone)]
pub(crate) struct DelayEstimator {
    /// Far-end bits, ring of `max_lag + 1`, newest at `head`.
    far_bits: Vec<u32>,
    /// Whether each far block carried signal.
    far_active: Vec<bool>,
    head: usize,
    filled: usize,
    /// Average Hamming distance per lag.
    mean_dist: Vec<f32>,
    /// Updates seen per lag (for the average's warm-up).
    updates: Vec<u32>,
    /// The accepted lag, once there is one.
    current: Option<usize>,
    candidate: usize,
    candidate_count: u32,
    /// How much the best lag stands out from the average (bits), a confidence measure.
    contrast: f32,
}

/// Updates a lag needs before its average counts.
const MIN_UPDATES: u32 = 20;
/// How many consecutive blocks a new lag must stay best before it is accepted.
const HOLD_BLOCKS: u32 = 15;
/// The same while the filter cancels well at the current lag.
const SETTLED_HOLD_BLOCKS: u32 = 50;

impl DelayEstimator {
    /// An estimator for lags `0..=max_lag` blocks.
    pub(crate) fn new(max_lag: usize) -> Self {
        let n = max_lag + 1;
        Self {
            far_bits: vec![0; n],
            far_active: vec![false; n],
            head: 0,
            filled: 0,
            mean_dist: vec![16.0; n],
            updates: vec![0; n],
            current: None,
            candidate: 0,
            candidate_count: 0,
            contrast: 0.0,
        }
    }

    /// Back to the state of [`Self::new`], without allocating.
    pub(crate) fn reset(&mut self) {
        self.far_bits.fill(0);
        self.far_active.fill(false);
        self.head = 0;
        self.filled = 0;
        self.mean_dist.fill(16.0);
        self.updates.fill(0);
        self.current = None;
        self.candidate = 0;
        self.candidate_count = 0;
        self.contrast = 0.0;
    }

    /// Adds the newest far-end block's bits.
    pub(crate) fn push_far(&mut self, bits: u32, active: bool) {
        let n = self.far_bits.len();
        self.head = (self.head + 1) % n;
        self.far_bits[self.head] = bits;
        self.far_active[self.head] = active;
        self.filled = (self.filled + 1).min(n);
    }

    /// Compares the capture block's bits with every lag; returns the accepted lag, if any.
    /// While `settled` (the filter cancels well at the current lag) a move needs much longer
    /// and clearer evidence; while `strict` (the near end may be talking) the best lag must
    /// also stand out twice as clearly.
    pub(crate) fn update(
        &mut self,
        near_bits: u32,
        near_active: bool,
        settled: bool,
        strict: bool,
    ) -> Option<usize> {
        if !near_active {
            return self.current;
        }
        let n = self.far_bits.len();
        let mut best = usize::MAX;
        let mut best_val = f32::MAX;
        let mut sum = 0.0;
        let mut counted = 0usize;
        for lag in 0..self.filled {
            let idx = (self.head + n - lag) % n;
            if self.far_active[idx] {
                let d = (near_bits ^ self.far_bits[idx]).count_ones() as f32;
                let u = self.updates[lag];
                // Faster averaging while warming up, then a ~50-block memory.
                let a = if u < MIN_UPDATES {
                    1.0 / (u as f32 + 1.0)
                } else {
                    0.02
                };
                self.mean_dist[lag] += a * (d - self.mean_dist[lag]);
                self.updates[lag] = u.saturating_add(1);
            }
            if self.updates[lag] >= MIN_UPDATES {
                let v = self.mean_dist[lag];
                sum += v;
                counted += 1;
                if v < best_val {
                    best_val = v;
                    best = lag;
                }
            }
        }
        if best == usize::MAX || counted < 4 {
            return self.current;
        }
        let mean = sum / counted as f32;
        self.contrast = mean - best_val;
        // A real echo stands out from the background of unrelated lags.
        if self.contrast < if strict { 3.0 } else { 1.5 } {
            return self.current;
        }
        if best == self.candidate {
            self.candidate_count = self.candidate_count.saturating_add(1);
        } else {
            self.candidate = best;
            self.candidate_count = 1;
        }
        match self.current {
            None => {
                if self.candidate_count >= 4 {
                    self.current = Some(best);
                }
            }
            Some(cur) if cur != best => {
                let margin = self.mean_dist[cur] - best_val;
                let (hold, need) = if settled {
                    (SETTLED_HOLD_BLOCKS, 2.0)
                } else {
                    (HOLD_BLOCKS, 1.5)
                };
                if self.candidate_count >= hold && margin > need {
                    self.current = Some(best);
                }
            }
            Some(_) => {}
        }
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::SplitMix64;

    #[test]
    fn finds_a_delay_in_random_spectra() {
        let mut rng = SplitMix64(5);
        let mut est = DelayEstimator::new(50);
        let lag = 17;
        let mut history = vec![0u32; 200];
        let mut found = None;
        for t in 0..200 {
            let far = rng.next_u64() as u32;
            history[t] = far;
            est.push_far(far, true);
            let near = if t >= lag {
                // The echo, with a few bits flipped by noise.
                history[t - lag] ^ (1 << (rng.next_u64() % 32)) ^ (1 << (rng.next_u64() % 32))
            } else {
                rng.next_u64() as u32
            };
            found = est.update(near, true, false, false);
        }
        assert_eq!(found, Some(lag));
    }
}
