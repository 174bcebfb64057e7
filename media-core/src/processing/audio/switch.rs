//! Click-free switching of one chain slot at frame boundaries.
//!
//! A slot keeps the chain's latency constant whether its stage runs or not: a stage that delays
//! its output by `L` samples (the echo canceller, the noise suppressor) has its bypass delayed
//! by the same `L`, so switching never shifts the audio in time. Turning a stage on (the chain
//! resets it first, or not, see `ProcessingChain::set_enabled`) lets it run for
//! `ceil(L / frame) + 2` frames while the delayed dry signal still goes out (so that what it
//! outputs is its steady-state output, not the zeros of its start-up or what was left in its
//! buffers), then crossfades from the dry signal to its output sample by sample over
//! [`FADE_FRAMES`] frames. Turning it off crossfades back and then stops running it. A
//! reversal in the middle of a fade continues from where the fade is.

/// Frames a crossfade lasts (20 ms): long enough that a level change is a ramp, not a step.
pub(crate) const FADE_FRAMES: u32 = 2;

/// The switching state of one slot.
#[derive(Debug, Clone)]
pub(crate) struct SlotSwitch {
    /// The fraction of the stage's output in the mix at the end of the last frame.
    mix: f32,
    /// Whether the stage is wanted on.
    target: bool,
    /// Frames left to run the stage before its output is faded in.
    warm_left: u32,
    /// Warm-up frames after a reset.
    warm_frames: u32,
    /// Mix change per frame.
    step: f32,
    /// The stage's latency, samples.
    latency: usize,
    /// The last `latency + frame` inputs (empty without latency).
    delay: Vec<f32>,
}

impl SlotSwitch {
    /// A switch for a stage of `latency` samples on frames of `frame` samples; `fade` is false
    /// for stages that do not change the audio (the VAD), which switch at once.
    pub(crate) fn new(latency: usize, frame: usize, on: bool, fade: bool) -> Self {
        Self {
            mix: if on { 1.0 } else { 0.0 },
            target: on,
            warm_left: 0,
            warm_frames: if latency > 0 {
                latency.div_ceil(frame.max(1)) as u32 + 2
            } else {
                0
            },
            step: if fade { 1.0 / FADE_FRAMES as f32 } else { 1.0 },
            latency,
            delay: if latency > 0 {
                vec![0.0; latency + frame]
            } else {
                Vec::new()
            },
        }
    }

    /// The stage's latency (the slot's, whether it runs or not).
    pub(crate) fn latency(&self) -> usize {
        self.latency
    }

    /// Whether the stage is wanted on.
    pub(crate) fn is_on(&self) -> bool {
        self.target
    }

    /// Whether the stage must process the coming frame.
    pub(crate) fn running(&self) -> bool {
        self.target || self.mix > 0.0
    }

    /// Asks for the stage on or off from the next frame. Returns true when the stage must be
    /// reset first (it was not running at all).
    pub(crate) fn set(&mut self, on: bool) -> bool {
        let reset = on && !self.running();
        if reset {
            self.warm_left = self.warm_frames;
        }
        if !on && self.warm_left > 0 {
            // Still warming up, never heard: stop at once.
            self.warm_left = 0;
            self.mix = 0.0;
        }
        self.target = on;
        reset
    }

    /// Before the stage runs: records the frame's input and writes to `dry` what the slot
    /// outputs when bypassed (the input, delayed by the latency).
    pub(crate) fn before(&mut self, samples: &[f32], dry: &mut [f32]) {
        let n = samples.len();
        if self.latency == 0 {
            dry[..n].copy_from_slice(samples);
            return;
        }
        let len = self.delay.len();
        self.delay.copy_within(n..len, 0);
        self.delay[len - n..].copy_from_slice(samples);
        dry[..n].copy_from_slice(&self.delay[..n]);
    }

    /// After the stage ran (or not): forms the slot's output in `samples` from the stage's
    /// output there and the bypass in `dry`, and advances the fade.
    pub(crate) fn after(&mut self, samples: &mut [f32], dry: &[f32], ran: bool) {
        if !ran || self.warm_left > 0 {
            self.warm_left = self.warm_left.saturating_sub(1);
            samples.copy_from_slice(&dry[..samples.len()]);
            return;
        }
        let goal = if self.target { 1.0 } else { 0.0 };
        if self.mix == goal {
            return; // fully on (a fully-off stage does not run)
        }
        let start = self.mix;
        let end = if goal > start {
            (start + self.step).min(1.0)
        } else {
            (start - self.step).max(0.0)
        };
        let inv = 1.0 / samples.len() as f32;
        for (i, (s, d)) in samples.iter_mut().zip(dry).enumerate() {
            let w = start + (end - start) * (i as f32 + 1.0) * inv;
            *s = d + w * (*s - d);
        }
        self.mix = end;
    }

    /// Clears the bypass delay (a new call).
    pub(crate) fn reset(&mut self) {
        self.delay.fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `frames` frames of a ramp through a slot whose "stage" delays by `lat` and negates.
    fn run(sw: &mut SlotSwitch, lat: usize, hist: &mut Vec<f32>, x: &[f32]) -> Vec<f32> {
        let n = x.len();
        let mut dry = vec![0.0; n];
        let mut s = x.to_vec();
        hist.extend_from_slice(x);
        sw.before(&s, &mut dry);
        let ran = sw.running();
        if ran {
            let end = hist.len() - lat;
            for (i, v) in s.iter_mut().enumerate() {
                let k = end as isize - n as isize + i as isize;
                *v = if k >= 0 { -0.5 * hist[k as usize] } else { 0.0 };
            }
        }
        sw.after(&mut s, &dry, ran);
        s
    }

    #[test]
    fn bypass_keeps_latency_and_fades_are_continuous() {
        let (n, lat) = (160, 184);
        let mut sw = SlotSwitch::new(lat, n, false, true);
        let mut hist = Vec::new();
        let x: Vec<f32> = (0..n * 40).map(|i| 1.0 + i as f32 * 1e-6).collect();
        let mut y = Vec::new();
        for (k, f) in x.chunks(n).enumerate() {
            if k == 10 {
                assert!(sw.set(true));
            }
            if k == 25 {
                assert!(!sw.set(false));
            }
            y.extend(run(&mut sw, lat, &mut hist, f));
        }
        // Off: the input delayed by the latency (zeros first).
        assert_eq!(y[lat - 1], 0.0);
        for i in lat..10 * n {
            assert_eq!(y[i], x[i - lat]);
        }
        // Warm-up (ceil(184/160) + 2 = 4 frames) still dry, then a two-frame fade to -0.5x,
        // then on, then a fade back. Never a step bigger than the fade's slope allows.
        for i in 10 * n..14 * n {
            assert_eq!(y[i], x[i - lat]);
        }
        for i in 16 * n..25 * n {
            assert!((y[i] + 0.5 * x[i - lat]).abs() < 1e-6);
        }
        for i in 27 * n..40 * n {
            assert_eq!(y[i], x[i - lat]);
        }
        let max_step = y[lat + 1..]
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0f32, f32::max);
        assert!(max_step < 1.6 / (2 * n) as f32 * 1.1, "step {max_step}");
        // Off again: not running.
        assert!(!sw.running());
    }

    #[test]
    fn reversal_mid_fade_and_off_during_warm_up() {
        let n = 80;
        let mut sw = SlotSwitch::new(0, n, true, true);
        let mut hist = Vec::new();
        let x = vec![1.0f32; n];
        sw.set(false);
        let y = run(&mut sw, 0, &mut hist, &x);
        assert!((y[n - 1] - 0.25).abs() < 1e-6, "{}", y[n - 1]); // half way to 1
        assert!(!sw.set(true)); // still running: no reset
        let y = run(&mut sw, 0, &mut hist, &x);
        assert!((y[n - 1] + 0.5).abs() < 1e-6);
        let mut sw = SlotSwitch::new(100, n, false, true);
        assert!(sw.set(true));
        run(&mut sw, 100, &mut hist, &x);
        sw.set(false);
        assert!(!sw.running());
    }
}
