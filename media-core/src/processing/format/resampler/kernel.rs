//! The `f32` multiply-accumulate kernels: block kernels for few phases, grouped kernels for many.

use super::*;

/// A run of coefficients of one phase that reads one input stream at consecutive positions.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
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
pub(super) struct BlockFilter {
    pub(super) l: usize,
    pub(super) m: usize,
    coefs: Vec<f32>,
    segments: Vec<Segment>,
    /// `segments[phase_seg[p]..phase_seg[p + 1]]` belong to phase `p`.
    phase_seg: Vec<usize>,
    /// History in cycles each stream must keep: `-min(q0)`.
    pub(super) history: usize,
}

impl BlockFilter {
    pub(super) fn new(t: &PhaseTable) -> Self {
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

    pub(super) fn taps(&self) -> usize {
        self.coefs.len()
    }
}

/// Consecutive outputs computed together by the group kernel.
pub(super) const LANES: usize = 16;

/// Up to [`LANES`] consecutive phases of a [`GroupFilter`] and the input window they share.
#[derive(Debug, Clone, Copy)]
pub(super) struct Group {
    /// First phase.
    pub(super) p0: usize,
    /// Number of phases (outputs).
    pub(super) n: usize,
    /// Window start relative to the cycle's first input `c M` (may be negative).
    pub(super) lo: isize,
    /// Window length.
    pub(super) taps: usize,
    /// Offset of the `taps x LANES` coefficients (lane-minor) in the table.
    pub(super) at: usize,
}

/// A stage with many phases (the 44.1 kHz ratios): one contiguous history. Each group of up to
/// 16 consecutive outputs reads one window of the history; their coefficients are stored
/// interleaved, so the group is one multiply-accumulate of a broadcast input sample with a row
/// of 16 coefficients per window position (`acc[k] += c[t][k] * x[t]`), and each output is a
/// sequential sum over the window, whether computed in its group or alone.
pub(super) struct GroupFilter {
    pub(super) l: usize,
    pub(super) m: usize,
    pub(super) groups: Vec<Group>,
    /// Group of each phase.
    pub(super) group_of: Vec<usize>,
    pub(super) coefs: Vec<f32>,
    /// Samples kept before the cycle start: `-min(lo)`.
    pub(super) history: usize,
}

impl GroupFilter {
    pub(super) fn new(t: &PhaseTable) -> Self {
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
    pub(super) fn macs_per_output(&self) -> f64 {
        let total: usize = self.groups.iter().map(|g| g.taps * LANES).sum();
        total as f64 / self.l as f64
    }
}

pub(super) enum Filter {
    Block(BlockFilter),
    Group(GroupFilter),
}

impl Filter {
    pub(super) fn lm(&self) -> (usize, usize) {
        match self {
            Self::Block(f) => (f.l, f.m),
            Self::Group(f) => (f.l, f.m),
        }
    }
}

/// All outputs of a group: `acc[k] += c[t][k] * x[t]`, even and odd `t` in two accumulators
/// (eight independent chains of SSE adds), summed at the end.
#[inline(always)]
pub(super) fn group_kernel(c: &[f32], x: &[f32], out: &mut [f32]) {
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
pub(super) fn group_lane(c: &[f32], x: &[f32], k: usize) -> f32 {
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
pub(super) fn block_kernel<const B: usize>(
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
