//! The mixer's output limiter: off (bit-exact plain sum) until a mix would exceed full scale,
//! then a smooth gain that never lets a sample past the ceiling.
//!
//! The mixer hands a whole frame of the wide (i32) mix at once, so the frame itself is the
//! look-ahead and the limiter adds no latency. The gain is computed per 1 ms block and
//! interpolated linearly within each block (so applying it vectorises, which matters with a
//! thousand outputs). With `need[b] = min(1, CEILING / peak of block b)`, the gain at each
//! block boundary is at most the need of both blocks it touches, so the interpolated gain never
//! exceeds the need of any sample: no sample passes the ceiling. A backward pass over the
//! boundaries ramps the gain down over [`ATTACK_MS`] ahead of a loud block
//! (`a[i] = min(need, a[i+1] + step)`); a forward pass releases towards 1 with a
//! [`RELEASE_MS`] time constant but never above that envelope. So the gain falls smoothly
//! before a peak within the frame and recovers slowly (no pumping on the syllable rate). Only a
//! peak within the first [`ATTACK_MS`] of a frame, right after quiet, makes a steeper drop:
//! the price of adding no latency. Once the gain has recovered to within 1e-4 of unity it snaps
//! to 1 and the fast path (the plain sum, exact) resumes.

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
    /// Samples per block (1 ms).
    block: usize,
    /// Gain change per block of the attack ramp.
    step: f32,
    /// Release coefficient per block.
    release: f32,
    /// Peak magnitude of each block of the current frame.
    peaks: Vec<f32>,
    /// Gain at each block boundary (blocks + 1).
    env: Vec<f32>,
    /// `i / block` for i in 0..block: the interpolation ramp within a block.
    ramp: Vec<f32>,
}

/// Rounds to nearest (|x| < 2^22) without a libm call, so the loop vectorises.
#[inline(always)]
fn round_i16(x: f32) -> i16 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23
    ((x + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32) as i16
}

impl Limiter {
    /// A limiter for frames of `frame` samples at `rate` Hz (allocates its state).
    pub fn new(rate: u32, frame: usize) -> Self {
        let block = (rate as usize / 1000).max(1);
        let blocks = frame.div_ceil(block);
        Self {
            gain: 1.0,
            block,
            step: 1.0 / ATTACK_MS as f32,
            release: 1.0 - (-1.0 / RELEASE_MS as f32).exp(),
            peaks: vec![0.0; blocks],
            env: vec![1.0; blocks + 1],
            ramp: (0..block).map(|i| i as f32 / block as f32).collect(),
        }
    }

    /// Writes `mix` to `out`. Returns whether the limiter acted on this frame; when it did
    /// not, `out` is exactly `mix`.
    pub fn process(&mut self, mix: &[i32], out: &mut [i16]) -> bool {
        self.process_diff(mix, None, out)
    }

    /// Writes `total - own` (or `total`) to `out`, limited. Returns whether the limiter acted;
    /// when it did not, `out` is exactly the difference.
    pub fn process_diff(&mut self, total: &[i32], own: Option<&[i16]>, out: &mut [i16]) -> bool {
        if self.gain >= 1.0 {
            let (mut lo, mut hi) = (0i32, 0i32);
            match own {
                Some(own) => {
                    for ((o, &t), &c) in out.iter_mut().zip(total).zip(own) {
                        let y = t.wrapping_sub(i32::from(c));
                        lo = lo.min(y);
                        hi = hi.max(y);
                        *o = y as i16;
                    }
                }
                None => {
                    for (o, &y) in out.iter_mut().zip(total) {
                        lo = lo.min(y);
                        hi = hi.max(y);
                        *o = y as i16;
                    }
                }
            }
            if lo >= -32768 && hi <= 32767 {
                return false;
            }
        }
        self.limit(total, own, out);
        true
    }

    #[cold]
    fn limit(&mut self, total: &[i32], own: Option<&[i16]>, out: &mut [i16]) {
        let blocks = self.peaks.len();
        let n = total.len().min(out.len());
        let block = self.block;
        for (b, peak) in self.peaks.iter_mut().enumerate() {
            let r = b * block..((b + 1) * block).min(n);
            // In f32 (SSE2 has packed f32 max, not i32): exact below 2^24, monotonic above.
            let mut p = 0.0f32;
            match own {
                Some(own) => {
                    for (&t, &c) in total[r.clone()].iter().zip(&own[r]) {
                        let a = (t.wrapping_sub(i32::from(c)) as f32).abs();
                        p = if a > p { a } else { p };
                    }
                }
                None => {
                    for &t in &total[r] {
                        let a = (t as f32).abs();
                        p = if a > p { a } else { p };
                    }
                }
            }
            *peak = p;
        }
        let need = |p: f32| if p > CEILING { CEILING / p } else { 1.0 };
        // Backward: each boundary at most the need of both blocks it touches, ramped down
        // ahead of loud blocks.
        let mut next = 1.0f32;
        for i in (0..=blocks).rev() {
            let left = if i > 0 { need(self.peaks[i - 1]) } else { 1.0 };
            let right = if i < blocks { need(self.peaks[i]) } else { 1.0 };
            next = left.min(right).min(next + self.step);
            self.env[i] = next;
        }
        // Forward: slow release, never above the envelope. The frame starts where the last
        // one ended unless its first block needs less.
        let mut g = self.gain.min(self.env[0]);
        self.env[0] = g;
        for i in 1..=blocks {
            g = (g + (1.0 - g) * self.release).min(self.env[i]);
            self.env[i] = g;
        }
        self.gain = if g > 0.9999 { 1.0 } else { g };
        for b in 0..blocks {
            let r = b * block..((b + 1) * block).min(n);
            let g0 = self.env[b];
            let dg = self.env[b + 1] - g0;
            let outs = &mut out[r.clone()];
            let tot = &total[r.clone()];
            match own {
                Some(own) => {
                    for (((o, &t), &c), &k) in outs.iter_mut().zip(tot).zip(&own[r]).zip(&self.ramp)
                    {
                        let x = t.wrapping_sub(i32::from(c)) as f32 * (g0 + dg * k);
                        *o = round_i16(x.clamp(-CEILING, CEILING));
                    }
                }
                None => {
                    for ((o, &t), &k) in outs.iter_mut().zip(tot).zip(&self.ramp) {
                        let x = t as f32 * (g0 + dg * k);
                        *o = round_i16(x.clamp(-CEILING, CEILING));
                    }
                }
            }
        }
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
        assert!(
            engaged_frames > 50 && engaged_frames < 120,
            "{engaged_frames}"
        );
        // The limiter never makes a step larger than the input's own largest step (a 200 Hz
        // tone at 3x full scale moves at most 7718 per sample at 16 kHz): no clicks.
        let input_step = 3.0 * 32767.0 * (2.0 * std::f32::consts::PI * 200.0 / 16000.0).sin();
        assert!(max_jump <= input_step + 1.0, "{max_jump}");
    }
}
