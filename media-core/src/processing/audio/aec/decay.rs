//! The room's decay read off the capture's free decay at far-end offsets.
//!
//! When the far end stops, the microphone hears only the room's reverberation dying away: its
//! power falls by the room's decay per block (60 dB over RT60), whatever the adaptive filter
//! has learned. The filter's own tail (`Partitions::tail_decay`) is a poor witness in long
//! rooms: it spans only part of the tail, and its late partitions are the last to converge,
//! so it reads the decay as faster than it is (RT60 400 ms: 0.61 per block instead of 0.71).
//! A residual echo estimate that dies that much faster than the echo lets the late
//! reverberation through, and worse, makes it look like near-end speech, which relaxes the
//! suppression right when it is needed.
//!
//! A decay run starts when the far end falls silent at the echo's direct-path age while the
//! canceller saw far-end single talk, with the capture well above the noise floor. The run
//! skips its first block (the direct path and early reflections fade faster than the diffuse
//! tail), and ends when the capture has fallen by 15 dB, rises (the near end, or the far end
//! again), stalls (the echo of the far end's own background noise), nears the noise floor, or
//! the far end resumes. A run yields one decay (least-squares slope of the log power up to the
//! run's last new low) if it fell the whole 15 dB, or else measured at least six blocks: only
//! runs cut short would otherwise count in short rooms, and those read slow. Decays are
//! smoothed in the log domain. Until a run has been measured the canceller assumes a long room
//! (see `core.rs`).

/// Blocks a run must measure to count, unless it fell through the whole span (then two do:
/// a short room falls 15 dB in a few blocks).
const MIN_BLOCKS: u32 = 6;
/// Blocks without a new low after which the decay has stalled (the run ends at its last low).
const STALL: u32 = 3;
/// A run starts only this far above the noise floor (power ratio, 30 dB)...
const START_SNR: f32 = 1e3;
/// ...and ends this close to it (10 dB).
const END_SNR: f32 = 10.0;
/// A run measures the first 15 dB of decay (below, the echo of the far end's own background
/// noise and the next syllable's onset bend the curve, and the decay reads slower than it is).
const SPAN: f32 = 0.03;
/// A block this far above the run's quietest so far ends it (something new is talking; the
/// reverberation of speech itself wobbles by a dB or two from block to block).
const RISE: f32 = 2.0;
/// Weight of a new run in the log-domain average.
const LEARN: f32 = 0.3;

/// Free-decay estimator; see the module docs.
#[derive(Debug, Clone, Default)]
pub(crate) struct RoomDecay {
    /// Smoothed log of the per-block power decay, once a run has been measured.
    log_decay: Option<f32>,
    /// Blocks in the current run (0: none).
    run: u32,
    /// Quietest capture power of the run so far.
    min: f32,
    /// Capture power where the run started.
    start: f32,
    /// Blocks since the last new low.
    since_min: u32,
    /// Least-squares sums over the measured blocks: Σt, Σl, Σt·l, Σt² (t: block, l: log power).
    sums: [f32; 4],
    /// The sums and the block count up to the last new low (what the fit uses).
    at_min: ([f32; 4], u32),
}

impl RoomDecay {
    /// Back to the state of a new estimator.
    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }

    /// Per-block power decay of the room, once measured.
    pub(crate) fn decay(&self) -> Option<f32> {
        self.log_decay.map(f32::exp)
    }

    /// One block: whether the far end is silent around the echo's direct-path age, whether
    /// the canceller saw far-end single talk in the block before, the capture's power and the
    /// noise floor's (same scale).
    pub(crate) fn update(&mut self, far_silent: bool, single_talk: bool, capture: f32, noise: f32) {
        let noise = noise.max(1e-20);
        if self.run == 0 {
            if far_silent && single_talk && capture > START_SNR * noise {
                self.run = 1;
                self.min = capture;
                self.start = capture;
                self.since_min = 0;
                self.sums = [0.0; 4];
                self.at_min = ([0.0; 4], 0);
            }
            return;
        }
        if !far_silent
            || capture > RISE * self.min
            || capture < END_SNR * noise
            || self.since_min >= STALL
        {
            self.finish(MIN_BLOCKS);
            return;
        }
        self.run += 1;
        let t = (self.run - 2) as f32;
        let l = capture.ln();
        for (s, v) in self.sums.iter_mut().zip([t, l, t * l, t * t]) {
            *s += v;
        }
        if capture < self.min {
            self.min = capture;
            self.since_min = 0;
            self.at_min = (self.sums, self.run - 1);
        } else {
            self.since_min += 1;
        }
        if capture < SPAN * self.start {
            self.finish(2);
        }
    }

    /// Ends the current run, learning from it if it measured at least `min_blocks`.
    fn finish(&mut self, min_blocks: u32) {
        // Blocks measured up to the last low (a run's first block is skipped).
        let (sums, blocks) = self.at_min;
        self.run = 0;
        if blocks < min_blocks.max(2) {
            return;
        }
        let n = blocks as f32;
        let [st, sl, stl, stt] = sums;
        let den = n * stt - st * st;
        if den <= 0.0 {
            return;
        }
        let slope = ((n * stl - st * sl) / den).clamp(0.05f32.ln(), 0.95f32.ln());
        self.log_decay = Some(match self.log_decay {
            None => slope,
            Some(d) => d + LEARN * (slope - d),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(decay: f32, blocks: usize, single_talk: bool) -> RoomDecay {
        let mut r = RoomDecay::default();
        let mut p = 1.0f32;
        for _ in 0..blocks {
            r.update(true, single_talk, p, 1e-9);
            p *= decay;
        }
        // The far end resumes: the run ends.
        r.update(false, true, 1.0, 1e-9);
        r
    }

    #[test]
    fn measures_a_free_decay() {
        for want in [0.25f32, 0.5, 0.71, 0.9] {
            let got = run(want, 12, true).decay().expect("measured");
            assert!((got - want).abs() < 1e-3, "want {want} got {got}");
        }
    }

    #[test]
    fn needs_single_talk_and_a_long_enough_run() {
        assert!(run(0.7, 12, false).decay().is_none());
        // Cut short (the far end resumes) before six blocks or the whole span.
        assert!(run(0.9, 5, true).decay().is_none());
    }

    #[test]
    fn a_rise_or_a_stall_ends_the_run() {
        let mut r = RoomDecay::default();
        let mut p = 1.0f32;
        for _ in 0..8 {
            r.update(true, true, p, 1e-9);
            p *= 0.7;
        }
        // Near-end speech: the capture rises; what came before still counts.
        r.update(true, true, 1.0, 1e-9);
        let d = r.decay().expect("measured");
        assert!((d - 0.7).abs() < 1e-3, "{d}");
        // A stall (the echo of the far end's background noise): measured up to the last low.
        let mut r = RoomDecay::default();
        for k in 0..16 {
            r.update(true, true, 0.8f32.powi(k.min(9)), 1e-9);
        }
        let d = r.decay().expect("measured");
        assert!((d - 0.8).abs() < 1e-3, "{d}");
    }
}
