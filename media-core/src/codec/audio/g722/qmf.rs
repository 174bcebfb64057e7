//! The transmit (analysis) and receive (synthesis) quadrature mirror filters.

use super::*;

/// Pairs filtered per block. The QMFs work a block at a time so that their filter loops
/// vectorise; the scratch lives on the stack.
pub(super) const BLOCK: usize = 64;
/// Past values each half of the 24-tap filter needs beside the newest.
pub(super) const HIST: usize = 11;

/// The longest concealment done in one piece: 200 ms at 16 kHz, the longest ptime offered.
pub(super) const MAX_CONCEAL: usize = 3200;

/// The delay line of a QMF, split into the sequence of the even filter positions (the newer
/// sample of each pair) and that of the odd positions: the last 11 values of each, oldest first.
#[derive(Debug, Clone, Default)]
pub(super) struct QmfHistory {
    even: [i16; HIST],
    odd: [i16; HIST],
}

/// A block of a QMF's two sequences: the history followed by up to [`BLOCK`] new values.
pub(super) struct QmfBlock {
    pub(super) even: [i16; HIST + BLOCK],
    pub(super) odd: [i16; HIST + BLOCK],
}

impl QmfHistory {
    /// A block that starts with this history.
    #[inline(always)]
    pub(super) fn begin(&self) -> QmfBlock {
        let mut b = QmfBlock {
            even: [0; HIST + BLOCK],
            odd: [0; HIST + BLOCK],
        };
        b.even[..HIST].copy_from_slice(&self.even);
        b.odd[..HIST].copy_from_slice(&self.odd);
        b
    }

    /// Keeps the last values of a block that holds `n` new ones.
    #[inline(always)]
    pub(super) fn end(&mut self, b: &QmfBlock, n: usize) {
        let n = n.min(BLOCK);
        self.even.copy_from_slice(&b.even[n..n + HIST]);
        self.odd.copy_from_slice(&b.odd[n..n + HIST]);
    }
}

/// One half of the 24-tap filter at new value `j` of a block: `sum of h[i] * x(j - i)`.
/// |sum| <= 6482 * 32768: no overflow.
#[inline(always)]
fn half_fir(x: &[i16; HIST + BLOCK], j: usize, h: &[i16; 12]) -> i32 {
    let mut acc = 0;
    for (i, &h) in h.iter().enumerate() {
        acc += i32::from(h) * i32::from(x[j + HIST - i]);
    }
    acc
}

/// The transmit (analysis) QMF: two 16 kHz samples to one lower and one higher sub-band sample.
#[derive(Debug, Clone, Default)]
pub(super) struct AnalysisQmf(QmfHistory);

impl AnalysisQmf {
    /// Splits `pcm` (at most `2 * BLOCK` samples; an odd last sample is ignored) into the
    /// lower and higher sub-band samples `xl[..n]`, `xh[..n]`; returns `n`.
    #[inline(always)]
    pub(super) fn analyse(
        &mut self,
        pcm: &[i16],
        xl: &mut [i16; BLOCK],
        xh: &mut [i16; BLOCK],
    ) -> usize {
        let mut b = self.0.begin();
        let mut n = 0;
        for (pair, (e, o)) in pcm
            .chunks_exact(2)
            .zip(b.even[HIST..].iter_mut().zip(&mut b.odd[HIST..]))
        {
            *o = pair[0];
            *e = pair[1];
            n += 1;
        }
        for (j, (l, h)) in xl.iter_mut().zip(xh.iter_mut()).enumerate().take(n) {
            let a = half_fir(&b.even, j, &QMF_EVEN);
            let c = half_fir(&b.odd, j, &QMF_ODD);
            // The reference computes 4 * (a + c) in 32 bits and keeps the high half.
            *l = limit15((a + c) >> 14) as i16;
            *h = limit15((a - c) >> 14) as i16;
        }
        self.0.end(&b, n);
        n
    }

    /// Fills the delay line with the last samples of a signal, oldest first, without filtering.
    pub(super) fn prime(&mut self, history: &[i16; 2 * HIST]) {
        for (pair, (e, o)) in history
            .chunks_exact(2)
            .zip(self.0.even.iter_mut().zip(&mut self.0.odd))
        {
            *o = pair[0];
            *e = pair[1];
        }
    }
}

/// The receive (synthesis) QMF: lower and higher sub-band samples to pairs of 16 kHz samples.
#[derive(Debug, Clone, Default)]
pub(super) struct SynthesisQmf(pub(super) QmfHistory);

impl SynthesisQmf {
    /// Filters the `n` pairs of a block into `out[..2 * n]` and keeps the history.
    #[inline(always)]
    pub(super) fn synthesise(&mut self, b: &QmfBlock, n: usize, out: &mut [i16]) {
        for (j, pair) in out.chunks_exact_mut(2).enumerate().take(n.min(BLOCK)) {
            // The reference shifts 2 * a left by 4 with saturation and keeps the high half.
            pair[0] = sat16(half_fir(&b.even, j, &QMF_EVEN) >> 11) as i16;
            pair[1] = sat16(half_fir(&b.odd, j, &QMF_ODD) >> 11) as i16;
        }
        self.0.end(b, n);
    }
}
