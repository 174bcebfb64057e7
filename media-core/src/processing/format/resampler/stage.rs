//! The streaming state of one stage for one channel, and the sample types read and written.

use super::*;

/// Outputs available after `n` inputs: `#{ j : floor(j M / L) < n } = ceil(n L / M)`.
pub(super) fn available(n: u64, l: usize, m: usize) -> u64 {
    let num = u128::from(n) * l as u128 + (m as u128 - 1);
    (num / m as u128) as u64
}

/// History and counters of one stage for one channel.
pub(super) struct StageState {
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
    pub(super) fn new(filter: &Filter, max_push: usize) -> Self {
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

    pub(super) fn reset(&mut self) {
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
    pub(super) fn push(&mut self, filter: &Filter, src: &[f32]) {
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
    pub(super) fn produce(&mut self, filter: &Filter, out: &mut [f32]) -> usize {
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
pub(super) trait Sample: Copy {
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
