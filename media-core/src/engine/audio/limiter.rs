//! The mixer's output limiter: off (bit-exact plain sum) until a mix would exceed full scale,
//! then a smooth gain that never lets a sample past the ceiling.
//!
//! The mixer hands a whole frame of the wide (i32) mix at once, so the frame itself is the
//! look-ahead and the limiter adds no latency. Per sample, the gain needed to keep the sample
//! at or below [`CEILING`] is `r[n] = min(1, CEILING / |y[n]|)`. A backward pass turns the
//! needed gains into an attack envelope that ramps down linearly over [`ATTACK_MS`] ahead of
//! each peak (`a[n] = min(r[n], a[n+1] + step)`); a forward pass releases towards 1 with a
//! [`RELEASE_MS`] time constant but never above the attack envelope
//! (`g[n] = min(a[n], g[n-1] + (1 - g[n-1]) * k)`). So no sample exceeds the ceiling (the gain
//! is at most `r[n]` everywhere), the gain falls smoothly before a peak within the frame and
//! recovers slowly (no pumping on the syllable rate). Only a peak within the first
//! [`ATTACK_MS`] of a frame, right after a quiet frame, makes a steeper drop: the price of
//! adding no latency. Once the gain has recovered to within 1e-4 of unity it snaps to 1 and the
//! fast path (plain saturation-free copy) resumes.

/// Highest magnitude the limiter lets out: 0.98 of full scale (-0.18 dBFS).
pub const CEILING: f32 = 32112.0;
/// Length of the attack ramp ahead of a peak.
pub const ATTACK_MS: u32 = 2;
/// Release time constant.
pub const RELEASE_MS: u32 = 80;

/// Limiter state of one output.
#[derive(Debug, Clone)]
pub struct Limiter {
    gain: f32,
    step: f32,
    release: f32,
    /// Attack envelope of the current frame.
    env: Vec<f32>,
}

impl Limiter {
    /// A limiter for frames of `frame` samples at `rate` Hz (allocates its envelope).
    pub fn new(rate: u32, frame: usize) -> Self {
        let attack = (rate as f32 * ATTACK_MS as f32 / 1000.0).max(1.0);
        let release_samples = rate as f32 * RELEASE_MS as f32 / 1000.0;
        Self {
            gain: 1.0,
            step: 1.0 / attack,
            release: 1.0 - (-1.0 / release_samples).exp(),
            env: vec![1.0; frame],
        }
    }

    /// Whether the limiter is engaged (gain below 1).
    pub fn engaged(&self) -> bool {
        self.gain < 1.0
    }

    /// Writes `mix` to `out` (same length as the frame). Returns whether the limiter acted on
    /// this frame; when it did not, `out` is exactly `mix`.
    pub fn process(&mut self, mix: &[i32], out: &mut [i16]) -> bool {
        if self.gain >= 1.0 {
            let (mut lo, mut hi) = (0i32, 0i32);
            for (o, &y) in out.iter_mut().zip(mix) {
                lo = lo.min(y);
                hi = hi.max(y);
                *o = y as i16;
            }
            if lo >= -32768 && hi <= 32767 {
                return false;
            }
        }
        self.limit(mix, out);
        true
    }

    #[cold]
    fn limit(&mut self, mix: &[i32], out: &mut [i16]) {
        let n = mix.len().min(self.env.len()).min(out.len());
        // Backward: the needed gain, ramped down ahead of each peak.
        let mut next = 1.0f32;
        for i in (0..n).rev() {
            let a = mix[i].unsigned_abs() as f32;
            let need = if a > CEILING { CEILING / a } else { 1.0 };
            next = need.min(next + self.step);
            self.env[i] = next;
        }
        // Forward: slow release, never above the attack envelope.
        let mut g = self.gain;
        for i in 0..n {
            g = (g + (1.0 - g) * self.release).min(self.env[i]);
            let v = (mix[i] as f32 * g).round();
            out[i] = v.clamp(-CEILING, CEILING) as i16;
        }
        self.gain = if g > 0.9999 { 1.0 } else { g };
    }

    /// Back to unity gain.
    pub fn reset(&mut self) {
        self.gain = 1.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_exactly_below_full_scale() {
        let mut l = Limiter::new(16000, 320);
        let mix: Vec<i32> = (0..320).map(|i| (i * 211 % 65535) - 32768).collect();
        let mut out = vec![0i16; 320];
        assert!(!l.process(&mix, &mut out));
        for (o, m) in out.iter().zip(&mix) {
            assert_eq!(i32::from(*o), *m);
        }
    }

    #[test]
    fn never_exceeds_ceiling_and_recovers() {
        let mut l = Limiter::new(16000, 320);
        let mut out = vec![0i16; 320];
        let mut engaged_frames = 0;
        let mut last = 0.0f32;
        let mut max_jump = 0.0f32;
        for f in 0..200 {
            // 1 s of a tone at 3x full scale, then 3 s at half scale.
            let amp = if f < 50 { 3.0 * 32767.0 } else { 0.5 * 32767.0 };
            let mix: Vec<i32> = (0..320)
                .map(|i| {
                    let t = (f * 320 + i) as f32 / 16000.0;
                    (amp * (2.0 * std::f32::consts::PI * 200.0 * t).sin()) as i32
                })
                .collect();
            if l.process(&mix, &mut out) {
                engaged_frames += 1;
            }
            for &o in &out {
                assert!(f32::from(o).abs() <= CEILING);
                max_jump = max_jump.max((f32::from(o) - last).abs());
                last = f32::from(o);
            }
            if f == 199 {
                // Recovered: exact again.
                for (o, m) in out.iter().zip(&mix) {
                    assert_eq!(i32::from(*o), *m);
                }
            }
        }
        assert!(engaged_frames > 50 && engaged_frames < 120, "{engaged_frames}");
        // The limiter never makes a step larger than the input's own largest step (a 200 Hz
        // tone at 3x full scale moves at most 7718 per sample at 16 kHz): no clicks.
        let input_step = 3.0 * 32767.0 * (2.0 * std::f32::consts::PI * 200.0 / 16000.0).sin();
        assert!(max_jump <= input_step + 1.0, "{max_jump}");
    }
}
