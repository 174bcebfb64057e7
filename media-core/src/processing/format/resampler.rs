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

// ---------------------------------------------------------------------------------------------
// Filter design (f64)
// ---------------------------------------------------------------------------------------------

/// Zeroth-order modified Bessel function of the first kind, by its power series.
fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1.0;
    while term > sum * 1e-17 {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

/// `sin(pi x) / (pi x)`, exactly 0 at non-zero integers (so half-band zeros are exact).
fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    let r = x.round();
    if r != 0.0 && (x - r).abs() < 1e-12 {
        return 0.0;
    }
    let px = std::f64::consts::PI * x;
    px.sin() / px
}

/// Kaiser's estimate of `beta` for a stopband attenuation of `a` dB.
fn kaiser_beta(a: f64) -> f64 {
    if a > 50.0 {
        0.1102 * (a - 8.7)
    } else if a > 21.0 {
        0.5842 * (a - 21.0).powf(0.4) + 0.07886 * (a - 21.0)
    } else {
        0.0
    }
}

/// What one stage must do, in Hz at its input rate.
#[derive(Debug, Clone, Copy)]
struct StageSpec {
    /// Upsampling factor.
    l: usize,
    /// Downsampling factor.
    m: usize,
    /// Input rate of the stage.
    fs_in: f64,
    /// Passband edge.
    pass: f64,
    /// Stopband edge.
    stop: f64,
    /// Design stopband attenuation, dB.
    atten: f64,
}

impl StageSpec {
    fn new(from: u32, to: u32, pass: f64, stop: f64) -> Self {
        let g = gcd(from, to);
        Self {
            l: (to / g) as usize,
            m: (from / g) as usize,
            fs_in: f64::from(from),
            pass,
            stop,
            atten: ATTENUATION_DB,
        }
    }

    fn cheap(self) -> Self {
        Self {
            atten: ATTENUATION_CHEAP_DB,
            ..self
        }
    }

    /// Half-length of the continuous prototype, in input samples (Kaiser's length formula).
    fn half_width(&self) -> f64 {
        let transition = (self.stop - self.pass) / self.fs_in;
        (self.atten - 7.95) / (14.357 * transition) / 2.0
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The stage plan for a pair of supported, distinct rates.
fn plan(from: u32, to: u32) -> Vec<StageSpec> {
    let lo = f64::from(from.min(to));
    let mut stages = Vec::new();
    if to < from {
        let out = f64::from(to);
        // Half-band pre-decimation while it leaves the sharp stage at least 1.25x the output
        // rate (below that the half-band's own transition gets too narrow to be cheap).
        let mut rate = from;
        while rate.is_multiple_of(2) && rate / 2 >= to + to / 4 {
            let half = f64::from(rate / 2);
            // Pass up to the final Nyquist frequency; stop where aliases would fold into it.
            stages.push(StageSpec::new(rate, rate / 2, out / 2.0, half - out / 2.0).cheap());
            rate /= 2;
        }
        stages.push(StageSpec::new(rate, to, 0.45 * out, 0.5 * out));
    } else if to >= 4 * from {
        // Sharp 2x first, then a wide-transition stage whose images of the guaranteed passband
        // (<= 0.45 from) must be gone: stop at 2 from - 0.45 from.
        let mid = 2 * from;
        stages.push(StageSpec::new(from, mid, 0.45 * lo, 0.55 * lo));
        stages.push(StageSpec::new(mid, to, 0.5 * lo, f64::from(mid) - 0.45 * lo).cheap());
    } else {
        stages.push(StageSpec::new(from, to, 0.45 * lo, 0.55 * lo));
    }
    stages
}

/// Coefficients of one stage: `coef[p][u]` weights input sample `b_j - u` for output `j` of
/// phase `p`, where `b_j = floor(j M / L)` is the newest input the output may use.
struct PhaseTable {
    l: usize,
    m: usize,
    /// `floor(p M / L)`: the newest input of phase `p` relative to the cycle start `c M`.
    off: Vec<usize>,
    /// Per phase, the lag of `coef[p][0]`, and the (trimmed) coefficients.
    phases: Vec<(usize, Vec<f64>)>,
}

/// Designs a stage with delay `delay` (input samples): output `j` approximates the input at
/// time `j M / L - delay`.
fn design(spec: &StageSpec, delay: f64) -> PhaseTable {
    let (l, m) = (spec.l, spec.m);
    let w = spec.half_width();
    let fc = (spec.pass + spec.stop) / 2.0 / spec.fs_in;
    let beta = kaiser_beta(spec.atten);
    let i0_beta = bessel_i0(beta);
    let h = |tau: f64| -> f64 {
        let x = tau / w;
        if x.abs() >= 1.0 {
            return 0.0;
        }
        let win = bessel_i0(beta * (1.0 - x * x).sqrt()) / i0_beta;
        2.0 * fc * sinc(2.0 * fc * tau) * win
    };
    let max_lag = (delay + w).ceil() as usize + 2;
    let mut off = Vec::with_capacity(l);
    let mut phases = Vec::with_capacity(l);
    for p in 0..l {
        off.push(p * m / l);
        let frac = ((p * m) % l) as f64 / l as f64;
        let mut c: Vec<f64> = (0..max_lag).map(|u| h(u as f64 + frac - delay)).collect();
        let sum: f64 = c.iter().sum();
        if sum != 0.0 {
            for v in &mut c {
                *v /= sum;
            }
        }
        let first = c.iter().position(|&v| v != 0.0).unwrap_or(0);
        let last = c.iter().rposition(|&v| v != 0.0).map_or(first, |i| i + 1);
        phases.push((first, c[first..last].to_vec()));
    }
    PhaseTable { l, m, off, phases }
}

// ---------------------------------------------------------------------------------------------
// Kernels
// ---------------------------------------------------------------------------------------------

/// A run of coefficients of one phase that reads one input stream at consecutive positions.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// The stream (input index mod M).
    stream: usize,
    /// Position of the first tap relative to the output's cycle (<= 0).
    q0: isize,
    /// Offset in the coefficient table.
    at: usize,
    /// Number of taps.
    len: usize,
}

/// A stage with few phases: history kept as `M` streams (`stream r` holds inputs `q M + r`),
/// outputs computed a block of cycles at a time.
struct BlockFilter {
    l: usize,
    m: usize,
    coefs: Vec<f32>,
    segments: Vec<Segment>,
    /// `segments[phase_seg[p]..phase_seg[p + 1]]` belong to phase `p`.
    phase_seg: Vec<usize>,
    /// History in cycles each stream must keep: `-min(q0)`.
    history: usize,
}

impl BlockFilter {
    fn new(t: &PhaseTable) -> Self {
        let (l, m) = (t.l, t.m);
        let mut coefs = Vec::new();
        let mut segments = Vec::new();
        let mut phase_seg = vec![0];
        let mut history = 0usize;
        for (p, (first, c)) in t.phases.iter().enumerate() {
            let newest = t.off[p] as isize;
            for r in 0..m {
                // Taps u with (newest - u) mod M == r, in increasing stream position (falling u).
                let mut taps: Vec<(isize, f64)> = c
                    .iter()
                    .enumerate()
                    .map(|(k, &v)| (newest - (first + k) as isize, v))
                    .filter(|&(idx, _)| idx.rem_euclid(m as isize) == r as isize)
                    .map(|(idx, v)| (idx.div_euclid(m as isize), v))
                    .collect();
                taps.sort_by_key(|&(q, _)| q);
                while taps.first().is_some_and(|&(_, v)| v == 0.0) {
                    taps.remove(0);
                }
                while taps.last().is_some_and(|&(_, v)| v == 0.0) {
                    taps.pop();
                }
                let Some(&(q0, _)) = taps.first() else {
                    continue;
                };
                history = history.max(q0.unsigned_abs());
                segments.push(Segment {
                    stream: r,
                    q0,
                    at: coefs.len(),
                    len: taps.len(),
                });
                coefs.extend(taps.iter().map(|&(_, v)| v as f32));
            }
            phase_seg.push(segments.len());
        }
        Self {
            l,
            m,
            coefs,
            segments,
            phase_seg,
            history,
        }
    }

    fn taps(&self) -> usize {
        self.coefs.len()
    }
}

/// Consecutive outputs computed together by the group kernel.
const LANES: usize = 16;

/// Up to [`LANES`] consecutive phases of a [`GroupFilter`] and the input window they share.
#[derive(Debug, Clone, Copy)]
struct Group {
    /// First phase.
    p0: usize,
    /// Number of phases (outputs).
    n: usize,
    /// Window start relative to the cycle's first input `c M` (may be negative).
    lo: isize,
    /// Window length.
    taps: usize,
    /// Offset of the `taps x LANES` coefficients (lane-minor) in the table.
    at: usize,
}

/// A stage with many phases (the 44.1 kHz ratios): one contiguous history. Each group of up to
/// 16 consecutive outputs reads one window of the history; their coefficients are stored
/// interleaved, so the group is one multiply-accumulate of a broadcast input sample with a row
/// of 16 coefficients per window position (`acc[k] += c[t][k] * x[t]`), and each output is a
/// sequential sum over the window, whether computed in its group or alone.
struct GroupFilter {
    l: usize,
    m: usize,
    groups: Vec<Group>,
    /// Group of each phase.
    group_of: Vec<usize>,
    coefs: Vec<f32>,
    /// Samples kept before the cycle start: `-min(lo)`.
    history: usize,
}

impl GroupFilter {
    fn new(t: &PhaseTable) -> Self {
        let (l, m) = (t.l, t.m);
        let mut groups = Vec::new();
        let mut group_of = Vec::with_capacity(l);
        let mut coefs = Vec::new();
        for p0 in (0..l).step_by(LANES) {
            let n = LANES.min(l - p0);
            // Input positions (relative to c M) each phase reads: off_p - u.
            let span = |p: usize| {
                let (first, c) = &t.phases[p];
                let newest = t.off[p] as isize - *first as isize;
                (newest - c.len().max(1) as isize + 1, newest)
            };
            let lo = (p0..p0 + n).map(|p| span(p).0).min().unwrap_or(0);
            let hi = (p0..p0 + n).map(|p| span(p).1).max().unwrap_or(0);
            let taps = (hi - lo + 1) as usize;
            let taps = taps + taps % 2; // the kernel takes window positions in pairs
            let at = coefs.len();
            coefs.resize(at + taps * LANES, 0.0);
            for k in 0..n {
                let p = p0 + k;
                let (first, c) = &t.phases[p];
                for (i, &v) in c.iter().enumerate() {
                    let pos = t.off[p] as isize - (first + i) as isize;
                    coefs[at + (pos - lo) as usize * LANES + k] = v as f32;
                }
                group_of.push(groups.len());
            }
            groups.push(Group {
                p0,
                n,
                lo,
                taps,
                at,
            });
        }
        let history = groups.iter().map(|g| -g.lo).max().unwrap_or(0).max(0) as usize;
        Self {
            l,
            m,
            groups,
            group_of,
            coefs,
            history,
        }
    }

    /// Multiply-accumulates per output, on average (padding lanes included).
    fn macs_per_output(&self) -> f64 {
        let total: usize = self.groups.iter().map(|g| g.taps * LANES).sum();
        total as f64 / self.l as f64
    }
}

enum Filter {
    Block(BlockFilter),
    Group(GroupFilter),
}

impl Filter {
    fn lm(&self) -> (usize, usize) {
        match self {
            Self::Block(f) => (f.l, f.m),
            Self::Group(f) => (f.l, f.m),
        }
    }
}

/// All outputs of a group: `acc[k] += c[t][k] * x[t]`, even and odd `t` in two accumulators
/// (eight independent chains of SSE adds), summed at the end.
#[inline(always)]
fn group_kernel(c: &[f32], x: &[f32], out: &mut [f32]) {
    let mut even = [0.0f32; LANES];
    let mut odd = [0.0f32; LANES];
    for (rows, xs) in c.chunks_exact(2 * LANES).zip(x.chunks_exact(2)) {
        let (r0, r1) = rows.split_at(LANES);
        for (a, &cv) in even.iter_mut().zip(r0) {
            *a += cv * xs[0];
        }
        for (a, &cv) in odd.iter_mut().zip(r1) {
            *a += cv * xs[1];
        }
    }
    for ((o, &e), &d) in out.iter_mut().zip(&even).zip(&odd) {
        *o = e + d;
    }
}

/// Lane `k` of [`group_kernel`] alone, with the same arithmetic.
#[inline(always)]
fn group_lane(c: &[f32], x: &[f32], k: usize) -> f32 {
    let (mut even, mut odd) = (0.0f32, 0.0f32);
    for (rows, xs) in c.chunks_exact(2 * LANES).zip(x.chunks_exact(2)) {
        even += rows[k] * xs[0];
        odd += rows[LANES + k] * xs[1];
    }
    even + odd
}

/// Outputs `out[i * l + (p - p0)]` for cycles `c .. c + B` and phases `p0 .. p1`. Each output
/// is a sequential sum over its segments and taps, the same for every `B`.
#[inline(always)]
fn block_kernel<const B: usize>(
    f: &BlockFilter,
    buf: &[f32],
    cap: usize,
    rel_c: usize,
    phases: std::ops::Range<usize>,
    out: &mut [f32],
) {
    let p0 = phases.start;
    for p in phases {
        let mut acc = [0.0f32; B];
        for seg in &f.segments[f.phase_seg[p]..f.phase_seg[p + 1]] {
            let start = seg.stream * cap + rel_c.wrapping_add_signed(seg.q0);
            let x = &buf[start..start + seg.len + B - 1];
            let c = &f.coefs[seg.at..seg.at + seg.len];
            for (w, &cv) in x.windows(B).zip(c) {
                for (a, &xv) in acc.iter_mut().zip(w) {
                    *a += cv * xv;
                }
            }
        }
        for (i, &a) in acc.iter().enumerate() {
            out[i * f.l + p - p0] = a;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Per-channel stage state
// ---------------------------------------------------------------------------------------------

/// Outputs available after `n` inputs: `#{ j : floor(j M / L) < n } = ceil(n L / M)`.
fn available(n: u64, l: usize, m: usize) -> u64 {
    let num = u128::from(n) * l as u128 + (m as u128 - 1);
    (num / m as u128) as u64
}

/// History and counters of one stage for one channel.
struct StageState {
    /// Block: `M` streams of `cap` cycles. Group: one stream of `cap` samples.
    buf: Box<[f32]>,
    cap: usize,
    /// Block: cycle index of `buf[r * cap]`. Group: input index of `buf[0]`.
    start: i64,
    /// Inputs received.
    n_in: u64,
    /// Index of the next output.
    next_out: u64,
    /// History to keep behind the oldest needed position (cycles or samples).
    history: usize,
}

impl StageState {
    /// State for `filter` accepting pushes of up to `max_push` samples at a time.
    fn new(filter: &Filter, max_push: usize) -> Self {
        let (streams, history, cap) = match filter {
            Filter::Block(f) => {
                let cap = f.history + max_push.div_ceil(f.m) + 4;
                (f.m, f.history, cap)
            }
            // A group's window may reach up to M samples past the newest input (with zero
            // coefficients for the outputs already due), hence the extra M.
            Filter::Group(f) => (1, f.history, f.history + max_push + 3 * f.m + 16),
        };
        let mut s = Self {
            buf: vec![0.0; streams * cap].into_boxed_slice(),
            cap,
            start: 0,
            n_in: 0,
            next_out: 0,
            history,
        };
        s.reset();
        s
    }

    fn reset(&mut self) {
        self.buf.fill(0.0);
        // The history before the first input is silence.
        self.start = -(self.history as i64);
        self.n_in = 0;
        self.next_out = 0;
    }

    /// Drops history no future output needs, so that `incoming` more samples fit.
    fn make_room(&mut self, filter: &Filter, incoming: usize) {
        match filter {
            Filter::Block(f) => {
                let end = self.n_in.div_ceil(f.m as u64) as i64; // cycles touched so far
                if (end - self.start) as usize + incoming.div_ceil(f.m) < self.cap {
                    return;
                }
                let next_cycle = (self.next_out / f.l as u64) as i64;
                let keep = (next_cycle - f.history as i64).min(end);
                let drop = (keep - self.start).max(0) as usize;
                let used = (end - self.start) as usize;
                for r in 0..f.m {
                    let s = r * self.cap;
                    self.buf.copy_within(s + drop..s + used, s);
                }
                self.start += drop as i64;
            }
            Filter::Group(f) => {
                let end = self.n_in as i64;
                if (end - self.start) as usize + incoming + f.m < self.cap {
                    return;
                }
                let c = (self.next_out / f.l as u64) as i64;
                let keep = (c * f.m as i64 - f.history as i64).min(end);
                let drop = (keep - self.start).max(0) as usize;
                let used = (end - self.start) as usize;
                self.buf.copy_within(drop..used, 0);
                self.start += drop as i64;
            }
        }
    }

    /// Appends `src` to the history.
    fn push(&mut self, filter: &Filter, src: &[f32]) {
        self.make_room(filter, src.len());
        match filter {
            Filter::Block(f) => {
                let m = f.m;
                let mut r = (self.n_in % m as u64) as usize;
                let mut pos = ((self.n_in / m as u64) as i64 - self.start) as usize;
                let mut rest = src;
                // Finish a partial cycle.
                while r != 0 {
                    let Some((&x, tail)) = rest.split_first() else {
                        break;
                    };
                    self.buf[r * self.cap + pos] = x;
                    rest = tail;
                    r += 1;
                    if r == m {
                        r = 0;
                        pos += 1;
                    }
                }
                // Whole cycles, one stream at a time.
                let whole = rest.len() / m;
                let cycles = &rest[..whole * m];
                match m {
                    1 => self.buf[pos..pos + whole].copy_from_slice(cycles),
                    2 => deinterleave::<2>(cycles, &mut self.buf, self.cap, pos),
                    3 => deinterleave::<3>(cycles, &mut self.buf, self.cap, pos),
                    _ => {
                        for s in 0..m {
                            let dst = &mut self.buf[s * self.cap + pos..][..whole];
                            for (d, &x) in dst.iter_mut().zip(cycles[s..].iter().step_by(m)) {
                                *d = x;
                            }
                        }
                    }
                }
                // Start the next partial cycle.
                for (s, &x) in rest[whole * m..].iter().enumerate() {
                    self.buf[s * self.cap + pos + whole] = x;
                }
            }
            Filter::Group(_) => {
                let at = (self.n_in as i64 - self.start) as usize;
                self.buf[at..at + src.len()].copy_from_slice(src);
            }
        }
        self.n_in += src.len() as u64;
    }

    /// Computes up to `out.len()` of the available outputs into `out`; returns how many.
    fn produce(&mut self, filter: &Filter, out: &mut [f32]) -> usize {
        let (l, m) = filter.lm();
        let ready = available(self.n_in, l, m).saturating_sub(self.next_out);
        let n = (ready.min(out.len() as u64)) as usize;
        match filter {
            Filter::Block(f) => self.produce_block(f, &mut out[..n]),
            Filter::Group(f) => self.produce_group(f, &mut out[..n]),
        }
        n
    }

    fn produce_block(&mut self, f: &BlockFilter, out: &mut [f32]) {
        let l = f.l;
        let mut w = 0;
        while w < out.len() {
            let c = (self.next_out / l as u64) as i64;
            let p = (self.next_out % l as u64) as usize;
            let rel = (c - self.start) as usize;
            let left = out.len() - w;
            let o = &mut out[w..];
            let done = if p == 0 && left >= 32 * l {
                block_kernel::<32>(f, &self.buf, self.cap, rel, 0..l, o);
                32 * l
            } else if p == 0 && left >= 16 * l {
                block_kernel::<16>(f, &self.buf, self.cap, rel, 0..l, o);
                16 * l
            } else if p == 0 && left >= 4 * l {
                block_kernel::<4>(f, &self.buf, self.cap, rel, 0..l, o);
                4 * l
            } else {
                let p1 = (p + left).min(l);
                block_kernel::<1>(f, &self.buf, self.cap, rel, p..p1, o);
                p1 - p
            };
            w += done;
            self.next_out += done as u64;
        }
    }

    fn produce_group(&mut self, f: &GroupFilter, out: &mut [f32]) {
        let mut w = 0;
        while w < out.len() {
            let c = (self.next_out / f.l as u64) as i64;
            let p = (self.next_out % f.l as u64) as usize;
            let g = &f.groups[f.group_of[p]];
            let from = (c * f.m as i64 + g.lo as i64 - self.start) as usize;
            let x = &self.buf[from..from + g.taps];
            let coefs = &f.coefs[g.at..g.at + g.taps * LANES];
            let done = if p == g.p0 && out.len() - w >= g.n {
                group_kernel(coefs, x, &mut out[w..w + g.n]);
                g.n
            } else {
                out[w] = group_lane(coefs, x, p - g.p0);
                1
            };
            w += done;
            self.next_out += done as u64;
        }
    }
}

/// Writes `cycles[k * M + s]` to `buf[s * cap + pos + k]`.
fn deinterleave<const M: usize>(cycles: &[f32], buf: &mut [f32], cap: usize, pos: usize) {
    let n = cycles.len() / M;
    for s in 0..M {
        let dst = &mut buf[s * cap + pos..][..n];
        for (d, cycle) in dst.iter_mut().zip(cycles.chunks_exact(M)) {
            *d = cycle[s];
        }
    }
}

/// A sample type the resampler reads and writes.
trait Sample: Copy {
    fn to_f32(self) -> f32;
    fn from_f32(v: f32) -> Self;
}

impl Sample for f32 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        v
    }
}

impl Sample for i16 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f32::from(self) * (1.0 / 32768.0)
    }
    /// Rounds to nearest, ties to even (as `f32::round_ties_even`), saturates, and maps NaN to
    /// 0. Written with the 1.5 * 2^23 trick rather than `round` (a libm call on baseline x86-64)
    /// or a saturating `as` (scalar fix-ups), so that the conversion loop vectorises.
    #[inline(always)]
    fn from_f32(v: f32) -> Self {
        const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds |x| < 2^22 to an integer
        let x = v * 32768.0;
        let x = if x.is_nan() { 0.0 } else { x };
        let x = x.clamp(-32768.0, 32767.0);
        ((x + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32) as i16
    }
}

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
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// All ordered pairs of distinct supported rates.
    fn pairs() -> Vec<(u32, u32)> {
        let mut v = Vec::new();
        for &a in &SUPPORTED_RATES {
            for &b in &SUPPORTED_RATES {
                if a != b {
                    v.push((a, b));
                }
            }
        }
        v
    }

    fn db(x: f64) -> f64 {
        20.0 * x.max(1e-300).log10()
    }

    /// Sum of `amp * sin(2 pi f t + phase_i)` over `freqs`, `n` samples at `fs`.
    fn tones(freqs: &[f64], amp: f64, fs: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let t = i as f64 / fs;
                freqs
                    .iter()
                    .enumerate()
                    .map(|(k, &f)| amp * (2.0 * PI * f * t + 0.7 * k as f64).sin())
                    .sum::<f64>() as f32
            })
            .collect()
    }

    /// Analysis window: Kaiser, beta 20 (sidelobes far below -150 dB, main lobe +-6.5 bins).
    fn window(n: usize) -> Vec<f64> {
        let beta = 20.0;
        let i0b = bessel_i0(beta);
        (0..n)
            .map(|i| {
                let x = 2.0 * i as f64 / (n - 1) as f64 - 1.0;
                bessel_i0(beta * (1.0 - x * x).max(0.0).sqrt()) / i0b
            })
            .collect()
    }

    /// Amplitude of the sinusoid at `f` Hz in `x` (windowed DTFT, exact for any `f`).
    fn amplitude_at(x: &[f64], w: &[f64], f: f64, fs: f64) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        let dw = 2.0 * PI * f / fs;
        for (n, (&v, &wv)) in x.iter().zip(w).enumerate() {
            let ph = dw * n as f64;
            re += v * wv * ph.cos();
            im -= v * wv * ph.sin();
        }
        2.0 * (re * re + im * im).sqrt() / w.iter().sum::<f64>()
    }

    /// Windowed amplitude spectrum (bins 0..=n/2), scaled so a sinusoid of amplitude `a` on a
    /// bin centre reads `a`. `x.len()` must be a power of two.
    fn spectrum(x: &[f64], w: &[f64]) -> Vec<f64> {
        let n = x.len();
        let mut re: Vec<f64> = x.iter().zip(w).map(|(a, b)| a * b).collect();
        let mut im = vec![0.0; n];
        let mut j = 0;
        for i in 1..n {
            let mut bit = n >> 1;
            while j & bit != 0 {
                j ^= bit;
                bit >>= 1;
            }
            j |= bit;
            if i < j {
                re.swap(i, j);
                im.swap(i, j);
            }
        }
        let mut len = 2;
        while len <= n {
            let ang = -2.0 * PI / len as f64;
            for start in (0..n).step_by(len) {
                for k in 0..len / 2 {
                    let (s, c) = (ang * k as f64).sin_cos();
                    let (a, b) = (start + k, start + k + len / 2);
                    let tr = re[b] * c - im[b] * s;
                    let ti = re[b] * s + im[b] * c;
                    re[b] = re[a] - tr;
                    im[b] = im[a] - ti;
                    re[a] += tr;
                    im[a] += ti;
                }
            }
            len <<= 1;
        }
        let norm = 2.0 / w.iter().sum::<f64>();
        (0..=n / 2)
            .map(|k| (re[k] * re[k] + im[k] * im[k]).sqrt() * norm)
            .collect()
    }

    const FFT_LEN: usize = 4096;

    /// Resamples `input` in one call and returns `FFT_LEN` steady-state output samples.
    fn steady_output(r: &mut Resampler, input: &[f32]) -> Vec<f64> {
        let mut out = vec![0.0f32; r.max_output_len(input.len())];
        let (_, n) = r.process(input, &mut out).unwrap();
        let skip = 2 * r.latency() + 16;
        assert!(n >= skip + FFT_LEN, "signal too short");
        out[skip..skip + FFT_LEN]
            .iter()
            .map(|&v| f64::from(v))
            .collect()
    }

    fn input_len_for(from: u32, to: u32) -> usize {
        let r = Resampler::new(from, to, 1).unwrap();
        let out_needed = FFT_LEN + 2 * r.latency() + 32;
        (out_needed as u64 * u64::from(from)).div_ceil(u64::from(to)) as usize
    }

    /// Largest spectrum value outside +-`guard` Hz of every frequency in `exclude`, and where.
    fn worst_spur(spec: &[f64], fs: f64, exclude: &[f64], guard: f64) -> (f64, f64) {
        let bin = fs / FFT_LEN as f64;
        let mut worst = (0.0, 0.0);
        for (k, &v) in spec.iter().enumerate() {
            let f = k as f64 * bin;
            if exclude.iter().any(|&e| (f - e).abs() <= guard) {
                continue;
            }
            if v > worst.0 {
                worst = (v, f);
            }
        }
        worst
    }

    /// Frequency `f` as seen after sampling at `fs`.
    fn fold(f: f64, fs: f64) -> f64 {
        let r = f.rem_euclid(fs);
        r.min(fs - r)
    }

    struct Quality {
        ripple_db: f64,
        /// Worst image / alias / spur relative to the tone amplitude, dB, and its frequency.
        spur_db: f64,
        spur_hz: f64,
    }

    /// Passband ripple and spurs (images when upsampling) for in-band tones, plus aliases of
    /// tones above the output Nyquist frequency when downsampling.
    fn measure(from: u32, to: u32) -> Quality {
        let (fi, fo) = (f64::from(from), f64::from(to));
        let lo = fi.min(fo);
        let n_in = input_len_for(from, to);
        let w = window(FFT_LEN);
        let guard = 8.0 * fo / FFT_LEN as f64;
        const K: usize = 24;
        let amp = 1.0 / K as f64;

        // In-band tones up to 90% of the lower Nyquist frequency.
        let freqs: Vec<f64> = (1..=K)
            .map(|k| (0.45 * lo * k as f64 / K as f64).round())
            .collect();
        let mut r = Resampler::new(from, to, 1).unwrap();
        let y = steady_output(&mut r, &tones(&freqs, amp, fi, n_in));
        let mut ripple: f64 = 0.0;
        for &f in &freqs {
            let g = db(amplitude_at(&y, &w, f, fo) / amp);
            ripple = ripple.max(g.abs());
        }
        let spec = spectrum(&y, &w);
        let (mut spur, mut spur_hz) = worst_spur(&spec, fo, &freqs, guard);
        // Exact level at each image frequency (the FFT scan may fall between bins).
        for &f in &freqs {
            for k in 1..=(to / from.min(to)) as usize + 1 {
                for img in [k as f64 * fi - f, k as f64 * fi + f] {
                    let seen = fold(img, fo);
                    if freqs.iter().all(|&t| (t - seen).abs() > guard) && img < fo / 2.0 {
                        let a = amplitude_at(&y, &w, seen, fo);
                        if a > spur {
                            (spur, spur_hz) = (a, seen);
                        }
                    }
                }
            }
        }

        // Transition-band tones (90%..100% of the lower Nyquist): nothing may land in the
        // guaranteed passband.
        let trans: Vec<f64> = [0.46, 0.475, 0.49, 0.499]
            .iter()
            .map(|&x| (x * lo).round())
            .collect();
        r.reset();
        let y = steady_output(&mut r, &tones(&trans, amp, fi, n_in));
        let spec = spectrum(&y, &w);
        let bin = fo / FFT_LEN as f64;
        for (k, &v) in spec.iter().enumerate() {
            let f = k as f64 * bin;
            if f <= 0.45 * lo - guard && v > spur {
                (spur, spur_hz) = (v, f);
            }
        }

        // Downsampling: tones from the output Nyquist frequency up to the input one.
        if to < from {
            let stop: Vec<f64> = (0..K)
                .map(|k| (0.5 * fo + (0.5 * fi - 0.5 * fo) * (k as f64 + 0.02) / K as f64).round())
                .collect();
            r.reset();
            let y = steady_output(&mut r, &tones(&stop, amp, fi, n_in));
            let spec = spectrum(&y, &w);
            let (s, f) = worst_spur(&spec, fo, &[], 0.0);
            if s > spur {
                (spur, spur_hz) = (s, f);
            }
            for &f in &stop {
                let a = amplitude_at(&y, &w, fold(f, fo), fo);
                if a > spur {
                    (spur, spur_hz) = (a, fold(f, fo));
                }
            }
        }
        Quality {
            ripple_db: ripple,
            spur_db: db(spur / amp),
            spur_hz,
        }
    }

    #[test]
    fn quality_all_pairs() {
        for (from, to) in pairs() {
            let q = measure(from, to);
            eprintln!(
                "{from:>5} -> {to:>5}: ripple {:.4} dB, worst spur {:.1} dB at {:.0} Hz",
                q.ripple_db, q.spur_db, q.spur_hz
            );
            assert!(q.ripple_db <= 0.1, "{from}->{to}: ripple {}", q.ripple_db);
            assert!(q.spur_db <= -90.0, "{from}->{to}: spur {} dB", q.spur_db);
        }
    }

    #[test]
    fn report_design() {
        for (from, to) in pairs() {
            let r = Resampler::new(from, to, 1).unwrap();
            let stages: Vec<String> = r
                .stages()
                .iter()
                .map(|s| {
                    format!(
                        "{}->{} L{}/M{} {} coefs {:.0} MAC/out {}",
                        s.from,
                        s.to,
                        s.phases,
                        s.decimation,
                        s.coefficients,
                        s.macs_per_output,
                        if s.block_kernel { "block" } else { "group" }
                    )
                })
                .collect();
            eprintln!(
                "{from:>5} -> {to:>5}: latency {} ({:.2} ms); {}",
                r.latency(),
                r.latency_seconds() * 1e3,
                stages.join(" | ")
            );
        }
    }

    /// Runs `input` through `r` in chunks of the given frame counts (cycled).
    fn run_chunked(r: &mut Resampler, input: &[f32], chunks: &[usize]) -> Vec<f32> {
        let ch = r.channels;
        let mut out = Vec::new();
        let mut buf = vec![0.0f32; r.max_output_len(input.len())];
        let mut at = 0;
        for &c in chunks.iter().cycle() {
            if at >= input.len() {
                break;
            }
            let end = (at + c * ch).min(input.len());
            let expect = r.output_len_for(end - at);
            assert!(expect <= r.max_output_len(end - at));
            let (used, n) = r.process(&input[at..end], &mut buf).unwrap();
            assert_eq!((used, n), (end - at, expect));
            out.extend_from_slice(&buf[..n]);
            at = end;
        }
        out
    }

    fn noise(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                f32::from((s >> 16) as i16) / 40000.0
            })
            .collect()
    }

    #[test]
    fn chunking_does_not_change_output() {
        for (from, to) in pairs() {
            for ch in [1u16, 2] {
                let input = noise(from as usize / 5 * ch as usize, from ^ to);
                let mut r = Resampler::new(from, to, ch).unwrap();
                let whole = run_chunked(&mut r, &input, &[usize::MAX / 4]);
                assert_eq!(
                    whole.len() as u64,
                    (input.len() as u64 / u64::from(ch) * u64::from(to)).div_ceil(u64::from(from))
                        * u64::from(ch)
                );
                let ms10 = from as usize / 100;
                for pattern in [
                    &[ms10][..],
                    &[2 * ms10],
                    &[1, 7, 13, 441, 3, 1000, 2049, 0, 5],
                ] {
                    r.reset();
                    let chunked = run_chunked(&mut r, &input, pattern);
                    assert!(
                        whole == chunked,
                        "{from}->{to} x{ch} chunks {pattern:?} differ"
                    );
                }
            }
        }
    }

    #[test]
    fn whole_frames_give_whole_frames() {
        for (from, to) in pairs() {
            let mut r = Resampler::new(from, to, 2).unwrap();
            for ms in [10, 20] {
                let (fin, fout) = r.frame_lengths(ms).unwrap();
                assert_eq!(
                    (fin, fout),
                    (
                        from as usize * ms as usize / 500,
                        to as usize * ms as usize / 500
                    )
                );
                let input = vec![0.25f32; fin];
                let mut out = vec![0.0f32; fout];
                for _ in 0..7 {
                    assert_eq!(r.output_len_for(fin), fout);
                    assert_eq!(r.process(&input, &mut out), Ok((fin, fout)));
                }
            }
        }
        let r = Resampler::new(44100, 48000, 1).unwrap();
        assert_eq!(r.frame_lengths(5), None);
        assert_eq!(r.frame_lengths(30), Some((1323, 1440)));
    }

    #[test]
    fn resample_all_is_time_aligned() {
        for (from, to) in pairs() {
            let f = 0.2 * f64::from(from.min(to)); // well inside the passband
            let n = from as usize / 10;
            let input: Vec<f32> = (0..n)
                .map(|i| (0.5 * (2.0 * PI * f * i as f64 / f64::from(from)).sin()) as f32)
                .collect();
            let out = resample_all_f32(&input, from, to, 1).unwrap();
            let expected_len = (n as f64 * f64::from(to) / f64::from(from)).round() as usize;
            assert_eq!(out.len(), expected_len);
            // Away from the clip edges the output is the same sine sampled at the new rate.
            let edge = to as usize / 100;
            let mut err: f64 = 0.0;
            for (k, &y) in out.iter().enumerate().take(out.len() - edge).skip(edge) {
                let ideal = 0.5 * (2.0 * PI * f * k as f64 / f64::from(to)).sin();
                err = err.max((f64::from(y) - ideal).abs());
            }
            eprintln!(
                "{from:>5} -> {to:>5}: alignment error {:.1} dB",
                db(err / 0.5)
            );
            assert!(
                db(err / 0.5) < -90.0,
                "{from}->{to}: misaligned, error {} dB",
                db(err / 0.5)
            );
        }
    }

    #[test]
    fn resample_all_i16_matches_f32_path() {
        let input: Vec<i16> = noise(3000, 7)
            .iter()
            .map(|&v| (v * 32768.0) as i16)
            .collect();
        for (from, to) in [(48000, 16000), (8000, 44100), (44100, 48000)] {
            let a = resample_all(&input, from, to, 2).unwrap();
            let f: Vec<f32> = input.iter().map(|&v| f32::from(v) / 32768.0).collect();
            let b = resample_all_f32(&f, from, to, 2).unwrap();
            assert_eq!(a.len(), b.len());
            assert_eq!(
                a.len(),
                (1500.0 * f64::from(to) / f64::from(from)).round() as usize * 2
            );
            for (&x, &y) in a.iter().zip(&b) {
                assert_eq!(x, (y * 32768.0).round_ties_even() as i16);
            }
        }
        assert_eq!(resample_all(&[], 8000, 16000, 1), Ok(vec![]));
        assert_eq!(resample_all(&[1, 2, 3], 16000, 16000, 1), Ok(vec![1, 2, 3]));
    }

    #[test]
    fn channels_are_independent() {
        let (from, to) = (16000, 44100);
        let left = noise(4000, 1);
        let right = noise(4000, 2);
        let stereo: Vec<f32> = left
            .iter()
            .zip(&right)
            .flat_map(|(&l, &r)| [l, r])
            .collect();
        let mut r2 = Resampler::new(from, to, 2).unwrap();
        let out2 = run_chunked(&mut r2, &stereo, &[160]);
        let mut r1 = Resampler::new(from, to, 1).unwrap();
        let out_l = run_chunked(&mut r1, &left, &[160]);
        r1.reset();
        let out_r = run_chunked(&mut r1, &right, &[160]);
        let joined: Vec<f32> = out_l
            .iter()
            .zip(&out_r)
            .flat_map(|(&l, &r)| [l, r])
            .collect();
        assert!(out2 == joined);
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert_eq!(
            Resampler::new(11025, 8000, 1).err(),
            Some(FormatError::UnsupportedRate(11025))
        );
        assert_eq!(
            Resampler::new(8000, 0, 1).err(),
            Some(FormatError::UnsupportedRate(0))
        );
        assert_eq!(
            Resampler::new(8000, 16000, 0).err(),
            Some(FormatError::UnsupportedChannels(0))
        );
        assert_eq!(
            Resampler::new(8000, 16000, MAX_CHANNELS + 1).err(),
            Some(FormatError::UnsupportedChannels(MAX_CHANNELS + 1))
        );
        let mut r = Resampler::new(8000, 48000, 2).unwrap();
        let mut out = [0.0f32; 1000];
        assert!(matches!(
            r.process(&[0.0; 3], &mut out),
            Err(FormatError::BadLength { .. })
        ));
        assert_eq!(
            r.process(&[0.0; 160], &mut out[..959]),
            Err(FormatError::BadLength {
                got: 959,
                expected: 960
            })
        );
        // Nothing was consumed by the failed calls.
        assert_eq!(r.process(&[0.0; 160], &mut out), Ok((160, 960)));
        assert_eq!(r.process_i16(&[], &mut []), Ok((0, 0)));
        assert!(resample_all(&[0; 3], 8000, 16000, 2).is_err());
    }

    #[test]
    fn i16_output_rounds_to_nearest_even_and_saturates() {
        let mut specials = vec![
            0.0f32,
            -0.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1.0,
            -1.0,
            2.0,
            -2.0,
            0.5 / 32768.0,
            -0.5 / 32768.0,
            1.5 / 32768.0,
            -1.5 / 32768.0,
            32767.5 / 32768.0,
            -32768.5 / 32768.0,
            0.499_999_97 / 32768.0,
        ];
        let mut s = 12345u32;
        for _ in 0..100_000 {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            specials.push(f32::from_bits(s) % 1.1);
            specials.push((s as f32 / u32::MAX as f32 - 0.5) * 2.2);
        }
        for v in specials {
            let expect = (v * 32768.0).round_ties_even() as i16;
            assert_eq!(<i16 as Sample>::from_f32(v), expect, "{v}");
        }
    }

    #[test]
    fn equal_rates_copy() {
        let mut r = Resampler::new(32000, 32000, 2).unwrap();
        assert_eq!(r.latency(), 0);
        let mut out = [0i16; 4];
        assert_eq!(r.process_i16(&[1, -2, 3, -4], &mut out), Ok((4, 4)));
        assert_eq!(out, [1, -2, 3, -4]);
    }

    #[test]
    fn i16_saturates_and_rounds() {
        // A full-scale square wave overshoots (Gibbs); i16 output must clip, not wrap.
        let input: Vec<i16> = (0..4800)
            .map(|i| if (i / 24) % 2 == 0 { 32767 } else { -32768 })
            .collect();
        let mut r = Resampler::new(48000, 16000, 1).unwrap();
        let mut out = vec![0i16; r.max_output_len(input.len())];
        let (_, n) = r.process_i16(&input, &mut out).unwrap();
        assert_eq!(n, 1600);
        assert!(out[..n].contains(&i16::MAX));
        assert!(out[..n].contains(&i16::MIN));
    }

    #[test]
    fn f32_noise_floor_is_far_below_the_spec() {
        // One near-full-scale tone: the median spectrum bin is the noise floor of the f32
        // arithmetic (images and aliases are isolated lines above it).
        let mut worst: f64 = -400.0;
        for (from, to) in [
            (48000, 16000),
            (8000, 48000),
            (44100, 48000),
            (48000, 44100),
        ] {
            let n_in = input_len_for(from, to);
            let f = 0.1 * f64::from(from.min(to)) + 3.0;
            let mut r = Resampler::new(from, to, 1).unwrap();
            let y = steady_output(&mut r, &tones(&[f], 0.99, f64::from(from), n_in));
            let mut spec = spectrum(&y, &window(FFT_LEN));
            spec.sort_by(f64::total_cmp);
            worst = worst.max(db(spec[spec.len() / 2]));
        }
        eprintln!("f32 noise floor (median bin): {worst:.1} dBFS");
        assert!(worst < -130.0, "noise floor {worst} dBFS per bin");
    }

    #[test]
    fn latency_is_documented_range() {
        for (from, to) in pairs() {
            let r = Resampler::new(from, to, 1).unwrap();
            let ms = r.latency_seconds() * 1e3;
            assert!((0.5..10.0).contains(&ms), "{from}->{to}: {ms} ms");
            assert_eq!(r.latency() as f64 / f64::from(to), r.latency_seconds());
        }
    }
}
