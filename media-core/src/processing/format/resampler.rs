//! Streaming sample-rate conversion between 8000, 16000, 32000, 44100 and 48000 Hz.
//!
//! # Design
//!
//! A [`Resampler`] is a cascade of one to three rational polyphase FIR stages. Each stage
//! converts by `L/M` (reduced by their gcd) with a Kaiser-windowed sinc designed in `f64` and
//! run in `f32`. The plan for a pair (see [`Resampler::stages`]) puts the sharp filter at the
//! lowest rate it can run at:
//!
//! * downsampling by 2.5 or more first halves the rate with cheap half-band stages (whose
//!   zero taps are skipped), then one sharp stage makes the final conversion;
//! * upsampling by four or more first doubles the rate with the sharp stage, then a cheap
//!   wide-transition stage makes the rest;
//! * everything else (2x down, 2x and 3x up, 3/2, 44.1 kHz <-> 48 kHz, ...) is one sharp stage.
//!
//! Stages whose `L` is small run as "block" kernels: the history is split into `M` streams so
//! that, for each phase, the outputs of 32 consecutive cycles are one contiguous
//! multiply-accumulate (`acc[i] += c * x[t + i]`), which the compiler vectorises with baseline
//! SSE2. Stages with many phases (the 44.1 kHz ratios: 147, 160, 320, 441 phases) run as
//! "group" kernels: 16 consecutive outputs share one window of a contiguous history and their
//! coefficients are stored interleaved, so each window position is one broadcast sample times a
//! row of 16 coefficients. Either way each output is computed by the same arithmetic in the same
//! order whatever the chunking, so processing a stream (of finite samples) in 10 ms frames,
//! 20 ms frames, odd sizes or one call gives bit-identical output.
//!
//! Half-band stages also run before the sharp stage for 44.1 kHz -> 8/16 kHz, and the cheap
//! stages are designed for 110 dB so that they never limit the result.
//!
//! # Quality
//!
//! The passband is flat to within 0.1 dB (in practice a few thousandths of a dB) up to 90% of
//! the lower Nyquist frequency, `0.45 * min(from, to)`. The sharp stage is designed for 100 dB
//! stopband attenuation (Kaiser `beta = 10.06`):
//!
//! * downsampling: every input frequency at or above the output Nyquist frequency comes out at
//!   least 90 dB down (the transition band is 90%..100% of the output Nyquist frequency);
//! * upsampling: images of every input frequency up to 90% of the input Nyquist frequency are at
//!   least 90 dB down (the transition band is 90%..110% of the input Nyquist frequency, so
//!   only images of input frequencies in the top 10% of the band fall in it).
//!
//! Unit tests measure both with multi-tone signals and a windowed DFT.
//!
//! # Latency
//!
//! The filters are linear phase. [`Resampler::latency`] is the group delay in output frames,
//! an integer by design: output frame `k` is the band-limited input signal at time
//! `(k - latency) / to` seconds. The sharp stage's transition band (10% of the lower Nyquist
//! frequency) sets it: about 32 input samples when upsampling (4.1-4.6 ms from 8 kHz, 2.0 ms
//! from 16 kHz, 1.0 ms from 32 kHz, 0.7 ms from 44.1 kHz) and about 64 output samples when
//! downsampling (8.1-9.5 ms to 8 kHz, 4.1-4.6 ms to 16 kHz, 2.0 ms to 32 kHz, 1.5 ms to
//! 44.1 kHz). [`resample_all`] removes it.
//!
//! # Frame counts
//!
//! After `n` input frames in total the resampler has output exactly `ceil(n * to / from)`
//! frames, so a stream of 10 ms frames (441 frames at 44.1 kHz) yields exactly 10 ms of output
//! per call. [`Resampler::output_len_for`] gives the exact count for the next call, and
//! [`Resampler::max_output_len`] a bound that holds in any state.
//!
//! # Real time
//!
//! [`Resampler::new`] allocates everything. [`Resampler::process`] and
//! [`Resampler::process_i16`] never allocate, lock or make system calls, and never panic on
//! caller input: wrong buffer sizes return [`FormatError::BadLength`] and leave the state
//! untouched.

use crate::error::FormatError;

/// The sample rates the resampler converts between, in Hz.
pub const SUPPORTED_RATES: [u32; 5] = [8000, 16000, 32000, 44100, 48000];

/// The largest channel count accepted (channels are interleaved and filtered independently).
pub const MAX_CHANNELS: u16 = 8;

/// Stopband attenuation the sharp stages are designed for, in dB.
const ATTENUATION_DB: f64 = 100.0;

/// Design attenuation of the cheap half-band and wide-transition stages. Kaiser's length
/// estimate is optimistic for such short filters; the extra 10 dB costs a few taps.
const ATTENUATION_CHEAP_DB: f64 = 110.0;

/// Input frames handled per internal sub-chunk; bounds the scratch buffers.
const CHUNK: usize = 1024;

/// Stages with at most this many phases use the block kernel.
const MAX_BLOCK_PHASES: usize = 8;

mod design;
use design::{design, gcd, plan, PhaseTable};
mod kernel;
use kernel::{block_kernel, group_kernel, group_lane, BlockFilter, Filter, GroupFilter, LANES};
mod stage;
use stage::{available, Sample, StageState};

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// Facts about one stage of a [`Resampler`], for reports and benches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageInfo {
    /// Input rate of the stage, Hz.
    pub from: u32,
    /// Output rate of the stage, Hz.
    pub to: u32,
    /// Upsampling factor `L` (number of phases).
    pub phases: usize,
    /// Downsampling factor `M`.
    pub decimation: usize,
    /// Coefficients stored: non-zero ones over all phases (block kernel), or window length
    /// times 16 lanes over all groups (group kernel, zero-padded).
    pub coefficients: usize,
    /// Multiply-accumulates per output sample, on average.
    pub macs_per_output: f64,
    /// Whether the stage runs the block kernel (else the group kernel).
    pub block_kernel: bool,
}

/// A streaming sample-rate converter for interleaved audio. See the [module docs](self).
pub struct Resampler {
    from: u32,
    to: u32,
    channels: usize,
    /// Overall `L / M`.
    l: usize,
    m: usize,
    filters: Vec<Filter>,
    infos: Vec<StageInfo>,
    /// `states[ch][stage]`.
    states: Vec<Vec<StageState>>,
    /// Scratch between stages: `inter[stage]` holds the output of `stage` for one channel.
    inter: Vec<Vec<f32>>,
    /// Scratch: one channel of the input sub-chunk, as `f32`.
    conv: Vec<f32>,
    /// Input and output frames so far (per channel).
    n_in: u64,
    n_out: u64,
    latency: usize,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("from", &self.from)
            .field("to", &self.to)
            .field("channels", &self.channels)
            .field("stages", &self.infos)
            .field("latency", &self.latency)
            .finish_non_exhaustive()
    }
}

impl Resampler {
    /// A resampler from `from` Hz to `to` Hz for `channels` interleaved channels.
    ///
    /// Both rates must be in [`SUPPORTED_RATES`] (they may be equal: the resampler then copies)
    /// and `channels` must be 1..=[`MAX_CHANNELS`]. This designs the filters and allocates all
    /// buffers; it takes up to about a millisecond in release builds (the 44.1 kHz ratios).
    pub fn new(from: u32, to: u32, channels: u16) -> Result<Self, FormatError> {
        for rate in [from, to] {
            if !SUPPORTED_RATES.contains(&rate) {
                return Err(FormatError::UnsupportedRate(rate));
            }
        }
        if channels == 0 || channels > MAX_CHANNELS {
            return Err(FormatError::UnsupportedChannels(channels));
        }
        let g = gcd(from, to);
        let (l, m) = ((to / g) as usize, (from / g) as usize);
        let specs = if from == to {
            Vec::new()
        } else {
            plan(from, to)
        };

        // Delays: every stage but the last gets the smallest integer delay its filter needs
        // (an integer keeps half-band zeros exact); the last stage makes the total delay a
        // whole number of output samples.
        let mut filters = Vec::new();
        let mut infos = Vec::new();
        let mut delay_in = 0.0f64; // accumulated delay, in input samples of the whole resampler
        let mut scale = 1.0f64; // input samples of the whole resampler per stage input sample
        let mut latency = 0usize;
        let mut rate = from;
        for (i, spec) in specs.iter().enumerate() {
            let w = spec.half_width();
            let delay = if i + 1 < specs.len() {
                w.ceil()
            } else {
                let ratio = l as f64 / m as f64;
                let d = ((delay_in + w * scale) * ratio - 1e-9).ceil();
                latency = d as usize;
                ((d / ratio - delay_in) / scale).max(w)
            };
            delay_in += delay * scale;
            scale *= spec.m as f64 / spec.l as f64;
            let table = design(spec, delay);
            let next_rate = (u64::from(rate) * spec.l as u64 / spec.m as u64) as u32;
            let (filter, coefficients, macs) = if spec.l <= MAX_BLOCK_PHASES {
                let f = BlockFilter::new(&table);
                let n = f.taps();
                (Filter::Block(f), n, n as f64 / spec.l as f64)
            } else {
                let f = GroupFilter::new(&table);
                let (n, macs) = (f.coefs.len(), f.macs_per_output());
                (Filter::Group(f), n, macs)
            };
            infos.push(StageInfo {
                from: rate,
                to: next_rate,
                phases: spec.l,
                decimation: spec.m,
                coefficients,
                macs_per_output: macs,
                block_kernel: matches!(filter, Filter::Block(_)),
            });
            filters.push(filter);
            rate = next_rate;
        }

        // Buffers: stage s receives at most `push[s]` samples per sub-chunk.
        let mut push = CHUNK;
        let mut inter = Vec::new();
        let mut pushes = Vec::new();
        for f in &filters {
            pushes.push(push);
            let (fl, fm) = f.lm();
            push = (push * fl).div_ceil(fm) + 2;
            inter.push(vec![0.0f32; push]);
        }
        let states = (0..channels)
            .map(|_| {
                filters
                    .iter()
                    .zip(&pushes)
                    .map(|(f, &p)| StageState::new(f, p))
                    .collect()
            })
            .collect();
        Ok(Self {
            from,
            to,
            channels: usize::from(channels),
            l,
            m,
            filters,
            infos,
            states,
            inter,
            conv: vec![0.0; CHUNK],
            n_in: 0,
            n_out: 0,
            latency,
        })
    }

    /// Input rate, Hz.
    pub fn from_rate(&self) -> u32 {
        self.from
    }

    /// Output rate, Hz.
    pub fn to_rate(&self) -> u32 {
        self.to
    }

    /// Interleaved channels.
    pub fn channels(&self) -> u16 {
        self.channels as u16
    }

    /// The stages of the conversion, first to last (empty when the rates are equal).
    pub fn stages(&self) -> &[StageInfo] {
        &self.infos
    }

    /// Group delay in output frames (samples per channel): output frame `k` is the input
    /// signal at time `(k - latency) / to`. Zero when the rates are equal.
    pub fn latency(&self) -> usize {
        self.latency
    }

    /// [`latency`](Self::latency) in seconds.
    pub fn latency_seconds(&self) -> f64 {
        self.latency as f64 / f64::from(self.to)
    }

    fn total_out(&self, n_in: u64) -> u64 {
        available(n_in, self.l, self.m)
    }

    /// Exactly how many interleaved samples the next [`process`](Self::process) call writes
    /// for `input_len` interleaved input samples (rounded down to whole frames).
    pub fn output_len_for(&self, input_len: usize) -> usize {
        let frames = (input_len / self.channels) as u64;
        let n = self.total_out(self.n_in + frames) - self.n_out;
        n as usize * self.channels
    }

    /// An upper bound on [`output_len_for`](Self::output_len_for) in any state:
    /// `ceil(frames * to / from) + 1` frames.
    pub fn max_output_len(&self, input_len: usize) -> usize {
        let frames = input_len / self.channels;
        ((frames * self.l).div_ceil(self.m) + 1) * self.channels
    }

    /// Interleaved input and output lengths of a frame of `ms` milliseconds, if both are whole
    /// numbers of samples (any `ms` for 8/16/32/48 kHz; multiples of 10 ms with 44.1 kHz).
    /// A stream fed only such frames gets exactly the output length back on every call.
    pub fn frame_lengths(&self, ms: u32) -> Option<(usize, usize)> {
        let whole = |rate: u32| {
            let n = u64::from(rate) * u64::from(ms);
            (n % 1000 == 0).then_some((n / 1000) as usize * self.channels)
        };
        Some((whole(self.from)?, whole(self.to)?))
    }

    /// Forgets all history: the next call starts a new stream.
    pub fn reset(&mut self) {
        for chan in &mut self.states {
            for s in chan {
                s.reset();
            }
        }
        self.n_in = 0;
        self.n_out = 0;
    }

    /// Resamples interleaved `f32` samples (full scale +-1.0).
    ///
    /// Consumes all of `input` (a whole number of frames) and writes exactly
    /// [`output_len_for`](Self::output_len_for)`(input.len())` samples to the start of
    /// `output`; returns `(input samples consumed, output samples written)`. Fails with
    /// [`FormatError::BadLength`], changing nothing, if `input` is not a whole number of frames
    /// or `output` is too short. Never allocates.
    pub fn process(
        &mut self,
        input: &[f32],
        output: &mut [f32],
    ) -> Result<(usize, usize), FormatError> {
        self.run(input, output)
    }

    /// [`process`](Self::process) for 16-bit samples (full scale 32768; output rounded to
    /// nearest, ties to even, and saturated).
    pub fn process_i16(
        &mut self,
        input: &[i16],
        output: &mut [i16],
    ) -> Result<(usize, usize), FormatError> {
        self.run(input, output)
    }

    fn run<S: Sample>(
        &mut self,
        input: &[S],
        output: &mut [S],
    ) -> Result<(usize, usize), FormatError> {
        let ch = self.channels;
        if !input.len().is_multiple_of(ch) {
            return Err(FormatError::BadLength {
                got: input.len(),
                expected: input.len() / ch * ch,
            });
        }
        let needed = self.output_len_for(input.len());
        if output.len() < needed {
            return Err(FormatError::BadLength {
                got: output.len(),
                expected: needed,
            });
        }
        let frames = input.len() / ch;
        if self.filters.is_empty() {
            output[..input.len()].copy_from_slice(input);
            self.n_in += frames as u64;
            self.n_out += frames as u64;
            return Ok((input.len(), input.len()));
        }
        let mut done_in = 0;
        let mut done_out = 0;
        while done_in < frames {
            let take = (frames - done_in).min(CHUNK);
            let want = (self.total_out(self.n_in + take as u64) - self.n_out) as usize;
            for c in 0..ch {
                let states = &mut self.states[c];
                let last = self.filters.len() - 1;
                let conv = &mut self.conv[..take];
                let frames_in = &input[done_in * ch..(done_in + take) * ch];
                if ch == 1 {
                    for (d, &x) in conv.iter_mut().zip(frames_in) {
                        *d = x.to_f32();
                    }
                } else {
                    for (d, frame) in conv.iter_mut().zip(frames_in.chunks_exact(ch)) {
                        *d = frame[c].to_f32();
                    }
                }
                states[0].push(&self.filters[0], conv);
                for s in 0..last {
                    let (head, tail) = states.split_at_mut(s + 1);
                    let n = head[s].produce(&self.filters[s], &mut self.inter[s]);
                    tail[0].push(&self.filters[s + 1], &self.inter[s][..n]);
                }
                let out = &mut self.inter[last][..want];
                let n = states[last].produce(&self.filters[last], out);
                debug_assert_eq!(n, want);
                let frames_out = &mut output[done_out * ch..(done_out + want) * ch];
                if ch == 1 {
                    for (o, &v) in frames_out.iter_mut().zip(out.iter()) {
                        *o = S::from_f32(v);
                    }
                } else {
                    for (frame, &v) in frames_out.chunks_exact_mut(ch).zip(out.iter()) {
                        frame[c] = S::from_f32(v);
                    }
                }
            }
            self.n_in += take as u64;
            self.n_out += want as u64;
            done_in += take;
            done_out += want;
        }
        Ok((input.len(), done_out * ch))
    }
}

/// Resamples a whole clip of interleaved 16-bit audio, compensating the filter delay: the
/// output is time-aligned with the input and `round(len * to / from)` frames long (the tail is
/// flushed with silence). Allocates; for offline use.
pub fn resample_all(
    input: &[i16],
    from: u32,
    to: u32,
    channels: u16,
) -> Result<Vec<i16>, FormatError> {
    resample_all_generic(input, from, to, channels)
}

/// [`resample_all`] for `f32` samples.
pub fn resample_all_f32(
    input: &[f32],
    from: u32,
    to: u32,
    channels: u16,
) -> Result<Vec<f32>, FormatError> {
    resample_all_generic(input, from, to, channels)
}

fn resample_all_generic<S: Sample + Default>(
    input: &[S],
    from: u32,
    to: u32,
    channels: u16,
) -> Result<Vec<S>, FormatError> {
    let mut r = Resampler::new(from, to, channels)?;
    let ch = r.channels;
    if !input.len().is_multiple_of(ch) {
        return Err(FormatError::BadLength {
            got: input.len(),
            expected: input.len() / ch * ch,
        });
    }
    let frames = (input.len() / ch) as u64;
    let (l, m) = (r.l as u64, r.m as u64);
    let want = ((2 * frames * l + m) / (2 * m)) as usize; // round(frames * to / from)
    let lat = r.latency;
    let mut out = vec![S::default(); r.max_output_len(input.len())];
    let (_, mut n) = r.run(input, &mut out)?;
    // Flush with silence until the delayed tail is out.
    let total = (lat + want) as u64;
    let zeros_needed = (total * m).div_ceil(l).saturating_sub(frames) as usize;
    if zeros_needed > 0 {
        let zeros = vec![S::default(); zeros_needed * ch];
        out.resize(n + r.max_output_len(zeros.len()), S::default());
        let (_, k) = r.run(&zeros, &mut out[n..])?;
        n += k;
    }
    out.truncate(n);
    let begin = (lat * ch).min(out.len());
    let end = ((lat + want) * ch).min(out.len());
    Ok(out[begin..end].to_vec())
}

#[cfg(test)]
mod tests;
