//! Time-stretching of decoded audio by whole pitch periods: WebRTC NetEq's *accelerate* and
//! *preemptive expand*, for a playout that must change its delay without dropping or inserting
//! whole frames.
//!
//! # The algorithm
//!
//! One call takes a block of decoded audio (a packet, usually 20 ms) and removes or repeats
//! one pitch period `T` at its start, where the splice cannot be heard:
//!
//! - **Pitch search** on the channel average: the lag with the highest normalised
//!   cross-correlation between the block's first `W` samples and the `W` samples `T` later
//!   (`W` = the block length minus the longest lag tried), searched on a 4 kHz decimated copy,
//!   then refined at the full rate. Lags from 2.5 ms (400 Hz) up to 15 ms (67 Hz), and at most
//!   half the block.
//! - **Decision**: the block is stretched only when the correlation is at least
//!   [`TimeStretcher::min_correlation`] (0.9 by default: voiced or stationary audio, where
//!   one period looks like the next) or when the block is quiet (RMS below
//!   [`TimeStretcher::quiet_rms`]: pauses and low-energy segments, where any splice is
//!   inaudible). Otherwise the block passes unchanged and the caller tries again on the next.
//!   With [`TimeStretcher::set_voiced`]`(false)` only quiet blocks are stretched.
//! - **Accelerate** (shorter by `T`): `x[0..T]` fading out is overlap-added with `x[T..2T]`
//!   fading in, followed by `x[2T..]`.
//! - **Expand** (longer by `T`): `x[0..T]`, then `x[T..2T]` fading out overlap-added with
//!   `x[0..T]` fading in, then `x[T..]` again.
//!
//! Both splices start and end on the original samples (the first output sample is `x[0]`, the
//! last is the last input sample), so consecutive blocks join without a seam, and the
//! crossfade spans a whole period, so a periodic signal is changed only in duration.
//!
//! Sans-IO and allocation-free after [`TimeStretcher::new`]: the work buffers are sized for
//! the longest block announced there.

/// Shortest pitch period tried, ms × 10 (2.5 ms: 400 Hz).
const MIN_LAG_MS_X10: usize = 25;
/// Longest pitch period tried, ms (67 Hz).
const MAX_LAG_MS: usize = 15;
/// Rate of the coarse pitch search, Hz.
const COARSE_RATE: u32 = 4000;

/// What to do with a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StretchMode {
    /// Make it shorter by one pitch period (the playout delay falls).
    Accelerate,
    /// Make it longer by one pitch period (the playout delay grows).
    Expand,
}

/// What a call did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StretchOutcome {
    /// Interleaved samples written to `out`.
    pub written: usize,
    /// Samples per channel removed (accelerate) or added (expand); 0 when the block was
    /// copied unchanged (no period found that could be spliced inaudibly, or too short).
    pub period: usize,
    /// Normalised correlation at the chosen lag (0 when no search ran).
    pub correlation: f32,
}

/// Why a call could not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StretchError {
    /// `out` is shorter than the input plus [`TimeStretcher::max_period`].
    BufferTooSmall {
        /// Interleaved samples needed.
        needed: usize,
        /// Interleaved samples given.
        available: usize,
    },
    /// The input is longer than announced to [`TimeStretcher::new`], or not a whole number of
    /// interleaved frames.
    InputLength(usize),
}

impl std::fmt::Display for StretchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BufferTooSmall { needed, available } => {
                write!(f, "time stretch: output holds {available}, needs {needed}")
            }
            Self::InputLength(n) => write!(f, "time stretch: input of {n} samples not accepted"),
        }
    }
}

impl std::error::Error for StretchError {}

/// Pitch-synchronous time-stretcher; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct TimeStretcher {
    channels: usize,
    /// Lag range at the full rate, samples per channel.
    min_lag: usize,
    max_lag: usize,
    /// Decimation factor of the coarse search.
    decim: usize,
    /// Longest input, samples per channel.
    max_frames: usize,
    /// Channel average of the block, full rate.
    mono: Vec<f32>,
    /// Decimated copy of `mono`.
    coarse: Vec<f32>,
    min_correlation: f32,
    quiet_rms: f32,
    voiced: bool,
}

/// Normalised cross-correlation of `x[..w]` with `x[lag..lag + w]`.
fn ncc(x: &[f32], lag: usize, w: usize) -> f32 {
    let (mut xy, mut xx, mut yy) = (0.0f32, 0.0f32, 0.0f32);
    for (&a, &b) in x[..w].iter().zip(&x[lag..lag + w]) {
        xy += a * b;
        xx += a * a;
        yy += b * b;
    }
    let den = (xx * yy).sqrt();
    if den > 0.0 {
        xy / den
    } else {
        0.0
    }
}

impl TimeStretcher {
    /// A stretcher for `channels` interleaved channels at `sample_rate`, for blocks of at most
    /// `max_block_ms`.
    pub fn new(sample_rate: u32, channels: u16, max_block_ms: u32) -> Self {
        let rate = sample_rate.max(1000) as usize;
        let min_lag = (rate * MIN_LAG_MS_X10 / 10_000).max(2);
        let max_lag = (rate * MAX_LAG_MS / 1000).max(min_lag);
        let max_frames = rate * max_block_ms.max(1) as usize / 1000;
        let decim = (sample_rate / COARSE_RATE).max(1) as usize;
        Self {
            channels: usize::from(channels.max(1)),
            min_lag,
            max_lag,
            decim,
            max_frames,
            mono: vec![0.0; max_frames],
            coarse: vec![0.0; max_frames / decim + 1],
            min_correlation: 0.9,
            quiet_rms: 300.0,
            voiced: true,
        }
    }

    /// The correlation a pitch period needs before it is removed or repeated (0.9).
    pub fn min_correlation(&self) -> f32 {
        self.min_correlation
    }

    /// Sets [`Self::min_correlation`] (clamped to 0..=1).
    pub fn set_min_correlation(&mut self, c: f32) {
        self.min_correlation = if c.is_finite() {
            c.clamp(0.0, 1.0)
        } else {
            0.9
        };
    }

    /// RMS (on the 16-bit scale) below which a block is stretched whatever its correlation
    /// (300, about -41 dBFS).
    pub fn quiet_rms(&self) -> f32 {
        self.quiet_rms
    }

    /// Sets [`Self::quiet_rms`].
    pub fn set_quiet_rms(&mut self, rms: f32) {
        self.quiet_rms = if rms.is_finite() { rms.max(0.0) } else { 300.0 };
    }

    /// Whether blocks above [`Self::quiet_rms`] may be stretched at all (`true`). A caller
    /// with time to spare clears it, so that only pauses and low-energy segments are touched.
    pub fn voiced(&self) -> bool {
        self.voiced
    }

    /// Sets [`Self::voiced`].
    pub fn set_voiced(&mut self, allow: bool) {
        self.voiced = allow;
    }

    /// The longest period one call adds, interleaved samples: `out` must hold the input plus
    /// this much.
    pub fn max_period(&self) -> usize {
        self.max_lag * self.channels
    }

    /// Stretches `input` (interleaved) into `out`; see the [module docs](self).
    pub fn process(
        &mut self,
        mode: StretchMode,
        input: &[i16],
        out: &mut [i16],
    ) -> Result<StretchOutcome, StretchError> {
        let ch = self.channels;
        if !input.len().is_multiple_of(ch) || input.len() / ch > self.max_frames {
            return Err(StretchError::InputLength(input.len()));
        }
        let needed = input.len() + self.max_period();
        if out.len() < needed {
            return Err(StretchError::BufferTooSmall {
                needed,
                available: out.len(),
            });
        }
        let frames = input.len() / ch;
        let copy = |out: &mut [i16], correlation: f32| {
            out[..input.len()].copy_from_slice(input);
            StretchOutcome {
                written: input.len(),
                period: 0,
                correlation,
            }
        };
        let top = self.max_lag.min(frames / 2);
        if top < self.min_lag {
            return Ok(copy(out, 0.0));
        }
        let Some((lag, corr, rms)) = self.search(input, frames, top) else {
            return Ok(copy(out, 0.0));
        };
        let quiet = rms < self.quiet_rms;
        if !quiet && (!self.voiced || corr < self.min_correlation) {
            return Ok(copy(out, corr));
        }
        let t = lag;
        let fade = |i: usize| (i + 1) as f32 / (t + 1) as f32;
        let mix = |a: i16, b: i16, w: f32| {
            (f32::from(a) * (1.0 - w) + f32::from(b) * w)
                .round()
                .clamp(-32768.0, 32767.0) as i16
        };
        let written = match mode {
            StretchMode::Accelerate => {
                for i in 0..t {
                    let w = fade(i);
                    for c in 0..ch {
                        out[i * ch + c] = mix(input[i * ch + c], input[(i + t) * ch + c], w);
                    }
                }
                let rest = &input[2 * t * ch..];
                out[t * ch..t * ch + rest.len()].copy_from_slice(rest);
                (frames - t) * ch
            }
            StretchMode::Expand => {
                out[..t * ch].copy_from_slice(&input[..t * ch]);
                for i in 0..t {
                    let w = fade(i);
                    for c in 0..ch {
                        out[(t + i) * ch + c] = mix(input[(t + i) * ch + c], input[i * ch + c], w);
                    }
                }
                let rest = &input[t * ch..];
                out[2 * t * ch..2 * t * ch + rest.len()].copy_from_slice(rest);
                (frames + t) * ch
            }
        };
        Ok(StretchOutcome {
            written,
            period: t,
            correlation: corr,
        })
    }

    /// The best lag in `[min_lag, top]` with its correlation, and the block's RMS.
    fn search(&mut self, input: &[i16], frames: usize, top: usize) -> Option<(usize, f32, f32)> {
        let ch = self.channels;
        let mut energy = 0.0f32;
        for (i, m) in self.mono[..frames].iter_mut().enumerate() {
            let s: i32 = input[i * ch..(i + 1) * ch]
                .iter()
                .map(|&v| i32::from(v))
                .sum();
            *m = s as f32 / ch as f32;
            energy += *m * *m;
        }
        let rms = (energy / frames as f32).sqrt();
        let w = frames - top;
        // Coarse search at about 4 kHz.
        let d = self.decim;
        let nc = frames / d;
        for (i, c) in self.coarse[..nc].iter_mut().enumerate() {
            *c = self.mono[i * d..(i + 1) * d].iter().sum::<f32>() / d as f32;
        }
        let (lo, hi, wc) = (self.min_lag.div_ceil(d), top / d, w / d);
        let mut best = None::<(usize, f32)>;
        if d > 1 && hi >= lo && wc >= 8 {
            for lag in lo..=hi {
                let c = ncc(&self.coarse[..nc], lag, wc.min(nc - lag));
                if best.is_none_or(|(_, b)| c > b) {
                    best = Some((lag, c));
                }
            }
        }
        // Fine search: around the coarse lag, or the whole range at low rates.
        let (flo, fhi) = match best {
            Some((lag, _)) => (
                (lag * d).saturating_sub(d).max(self.min_lag),
                (lag * d + d).min(top),
            ),
            None => (self.min_lag, top),
        };
        let mut fine = None::<(usize, f32)>;
        for lag in flo..=fhi {
            let c = ncc(&self.mono[..frames], lag, w);
            if fine.is_none_or(|(_, b)| c > b) {
                fine = Some((lag, c));
            }
        }
        fine.map(|(lag, c)| (lag, c, rms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A voiced-like signal: harmonics of `f0` with a slow amplitude change.
    fn voiced(rate: u32, f0: f32, n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| {
                let t = i as f32 / rate as f32;
                let env = 0.6 + 0.4 * (t * 3.0).sin();
                let s: f32 = (1..6)
                    .map(|k| (2.0 * std::f32::consts::PI * f0 * k as f32 * t).sin() / k as f32)
                    .sum();
                (env * s * 6000.0) as i16
            })
            .collect()
    }

    #[test]
    fn accelerate_and_expand_by_one_period() {
        for rate in [8000u32, 16000, 48000] {
            let mut ts = TimeStretcher::new(rate, 1, 30);
            let n = rate as usize / 50;
            let x = voiced(rate, 125.0, n);
            let period = rate as usize / 125;
            let mut out = vec![0i16; n + ts.max_period()];
            let a = ts.process(StretchMode::Accelerate, &x, &mut out).unwrap();
            assert!(a.correlation > 0.9, "{rate}: {a:?}");
            // One period (or, for a harmonic signal, possibly one within a sample of it).
            assert!(a.period.abs_diff(period) <= 1, "{rate}: {a:?}");
            assert_eq!(a.written, n - a.period);
            assert_eq!(out[0], x[0]);
            assert_eq!(out[a.written - 1], x[n - 1]);
            let e = ts.process(StretchMode::Expand, &x, &mut out).unwrap();
            assert!(e.period.abs_diff(period) <= 1, "{rate}: {e:?}");
            assert_eq!(e.written, n + e.period);
            assert_eq!(out[0], x[0]);
            assert_eq!(out[e.written - 1], x[n - 1]);
        }
    }

    #[test]
    fn no_discontinuity_at_the_splice() {
        // The largest sample-to-sample step of the output is no larger than the input's.
        let rate = 16000;
        let x = voiced(rate, 180.0, 640);
        let step = |s: &[i16]| {
            s.windows(2)
                .map(|w| (i32::from(w[1]) - i32::from(w[0])).abs())
                .max()
                .unwrap_or(0)
        };
        let mut ts = TimeStretcher::new(rate, 1, 40);
        let mut out = vec![0i16; 640 + ts.max_period()];
        for mode in [StretchMode::Accelerate, StretchMode::Expand] {
            let r = ts.process(mode, &x, &mut out).unwrap();
            assert!(r.period > 0);
            let max_in = step(&x);
            let max_out = step(&out[..r.written]);
            assert!(
                max_out <= max_in + max_in / 10,
                "{mode:?}: step {max_out} vs {max_in}"
            );
        }
    }

    #[test]
    fn noise_is_left_alone_and_silence_is_stretched() {
        let mut state = 1u32;
        let noise: Vec<i16> = (0..320)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((state >> 16) as i16) / 2
            })
            .collect();
        let mut ts = TimeStretcher::new(16000, 1, 20);
        let mut out = vec![0i16; 320 + ts.max_period()];
        let r = ts
            .process(StretchMode::Accelerate, &noise, &mut out)
            .unwrap();
        assert_eq!((r.period, r.written), (0, 320));
        assert_eq!(&out[..320], &noise[..]);
        let quiet: Vec<i16> = noise.iter().map(|&s| s / 200).collect();
        let r = ts.process(StretchMode::Expand, &quiet, &mut out).unwrap();
        assert!(r.period > 0 && r.written == 320 + r.period, "{r:?}");
        // Quiet-only: voiced audio is left alone, quiet audio still stretched.
        ts.set_voiced(false);
        let v = voiced(16000, 150.0, 320);
        let r = ts.process(StretchMode::Expand, &v, &mut out).unwrap();
        assert_eq!(r.period, 0, "{r:?}");
        let r = ts.process(StretchMode::Expand, &quiet, &mut out).unwrap();
        assert!(r.period > 0, "{r:?}");
    }

    #[test]
    fn stereo_keeps_channels_apart() {
        let mono = voiced(48000, 150.0, 960);
        let stereo: Vec<i16> = mono.iter().flat_map(|&s| [s, s / 2]).collect();
        let mut ts = TimeStretcher::new(48000, 2, 20);
        let mut out = vec![0i16; stereo.len() + ts.max_period()];
        let r = ts
            .process(StretchMode::Accelerate, &stereo, &mut out)
            .unwrap();
        assert!(r.period > 0);
        for f in out[..r.written].chunks(2) {
            assert!((i32::from(f[0]) / 2 - i32::from(f[1])).abs() <= 1);
        }
    }

    #[test]
    fn errors() {
        let mut ts = TimeStretcher::new(8000, 2, 20);
        let x = vec![0i16; 320];
        let mut small = vec![0i16; 320];
        assert!(matches!(
            ts.process(StretchMode::Expand, &x, &mut small),
            Err(StretchError::BufferTooSmall { .. })
        ));
        let mut out = vec![0i16; 1000];
        assert_eq!(
            ts.process(StretchMode::Expand, &x[..3], &mut out),
            Err(StretchError::InputLength(3))
        );
        assert_eq!(
            ts.process(StretchMode::Expand, &[0; 640], &mut out),
            Err(StretchError::InputLength(640))
        );
        // Too short to hold two periods: copied.
        let r = ts.process(StretchMode::Expand, &x[..20], &mut out).unwrap();
        assert_eq!((r.period, r.written), (0, 20));
    }
}
