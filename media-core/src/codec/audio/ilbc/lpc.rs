//! LPC analysis, quantization and interpolation (RFC 3951 sections 3.2 and 4.1; A.38
//! LPCencode.c, A.36 LPCdecode.c, parts of A.26 helpfun.c).

use super::constants::{
    ModeParams, BLOCKL_MAX, EPS, LPC_CHIRP_SYNTDENUM, LPC_CHIRP_WEIGHTDENUM, LPC_LOOKBACK,
    LPC_N_MAX, LSF_NSPLIT, NSUB_MAX, ORDER, ORDER1,
};
use super::lsf::{a2lsf, lsf2a, lsf_check, split_vq};
use super::tables::{LPC_ASYMWIN, LPC_LAGWIN, LPC_WIN, LSF_WEIGHT_20MS, LSF_WEIGHT_30MS};

/// Autocorrelation of `x` at lags 0..=order.
fn autocorr(r: &mut [f32; ORDER1], x: &[f32]) {
    let n = x.len();
    for (lag, r) in r.iter_mut().enumerate() {
        let mut sum = 0.0f32;
        for (a, b) in x[..n - lag].iter().zip(&x[lag..]) {
            sum += a * b;
        }
        *r = sum;
    }
}

/// Levinson-Durbin recursion: LPC coefficients `a` (a[0] = 1) from autocorrelation `r`.
fn levdurb(a: &mut [f32; ORDER1], r: &[f32; ORDER1]) {
    let mut k = [0.0f32; ORDER];
    a[0] = 1.0;
    if r[0] < EPS {
        for i in 0..ORDER {
            k[i] = 0.0;
            a[i + 1] = 0.0;
        }
        return;
    }
    k[0] = -r[1] / r[0];
    a[1] = k[0];
    let mut alpha = r[0] + r[1] * k[0];
    for m in 1..ORDER {
        let mut sum = r[m + 1];
        for i in 0..m {
            sum += a[i + 1] * r[m - i];
        }
        k[m] = -sum / alpha;
        alpha += k[m] * sum;
        let m_h = (m + 1) >> 1;
        for i in 0..m_h {
            let s = a[i + 1] + k[m] * a[m - i];
            a[m - i] += k[m] * a[i + 1];
            a[i + 1] = s;
        }
        a[m + 1] = k[m];
    }
}

/// `coef * in1 + (1 - coef) * in2`, element-wise.
pub(crate) fn interpolate(out: &mut [f32], in1: &[f32], in2: &[f32], coef: f32) {
    let invcoef = 1.0f32 - coef;
    for ((o, &x), &y) in out.iter_mut().zip(in1).zip(in2) {
        *o = coef * x + invcoef * y;
    }
}

/// Bandwidth expansion: `out[i] = coef^i * input[i]`.
pub(crate) fn bwexpand(out: &mut [f32], input: &[f32], coef: f32) {
    let mut chirp = coef;
    out[0] = input[0];
    for i in 1..input.len() {
        out[i] = chirp * input[i];
        chirp *= coef;
    }
}

/// LSFs interpolated between two vectors, converted to LPC coefficients.
fn lsf_interpolate_to_a(a: &mut [f32; ORDER1], lsf1: &[f32], lsf2: &[f32], coef: f32) {
    let mut tmp = [0.0f32; ORDER];
    interpolate(&mut tmp, &lsf1[..ORDER], &lsf2[..ORDER], coef);
    lsf2a(a, &mut tmp);
}

/// The encoder's LPC state.
#[derive(Debug, Clone)]
pub(crate) struct LpcEncoderState {
    /// Unquantized LSFs of the previous frame.
    pub lsfold: [f32; ORDER],
    /// Quantized LSFs of the previous frame.
    pub lsfdeqold: [f32; ORDER],
    /// Signal history for the analysis windows.
    pub lpc_buffer: [f32; LPC_LOOKBACK + BLOCKL_MAX],
}

impl LpcEncoderState {
    pub(crate) fn new() -> Self {
        Self {
            lsfold: super::tables::LSF_MEAN,
            lsfdeqold: super::tables::LSF_MEAN,
            lpc_buffer: [0.0; LPC_LOOKBACK + BLOCKL_MAX],
        }
    }

    /// LPC analysis of one frame (A.38 SimpleAnalysis): `lpc_n` LSF vectors.
    fn analyse(&mut self, lsf: &mut [f32; ORDER * LPC_N_MAX], data: &[f32], m: &ModeParams) {
        let is = LPC_LOOKBACK + BLOCKL_MAX - m.blockl;
        self.lpc_buffer[is..is + m.blockl].copy_from_slice(&data[..m.blockl]);
        let mut temp = [0.0f32; BLOCKL_MAX];
        for k in 0..m.lpc_n {
            if k < m.lpc_n - 1 {
                for i in 0..BLOCKL_MAX {
                    temp[i] = LPC_WIN[i] * self.lpc_buffer[i];
                }
            } else {
                for i in 0..BLOCKL_MAX {
                    temp[i] = LPC_ASYMWIN[i] * self.lpc_buffer[LPC_LOOKBACK + i];
                }
            }
            let mut r = [0.0f32; ORDER1];
            autocorr(&mut r, &temp);
            for (r, w) in r.iter_mut().zip(&LPC_LAGWIN) {
                *r *= w;
            }
            let mut lp = [0.0f32; ORDER1];
            levdurb(&mut lp, &r);
            let mut lp2 = [0.0f32; ORDER1];
            bwexpand(&mut lp2, &lp, LPC_CHIRP_SYNTDENUM);
            a2lsf(&mut lsf[k * ORDER..(k + 1) * ORDER], &lp2);
        }
        self.lpc_buffer
            .copy_within(LPC_LOOKBACK + BLOCKL_MAX - is.., 0);
    }

    /// LPC analysis, quantization and interpolation of one frame (A.38 LPCencode): the
    /// synthesis filters (from quantized LSFs) and weighting filters (from unquantized ones) of
    /// every sub-frame, and the LSF indices.
    pub(crate) fn encode(
        &mut self,
        syntdenum: &mut [f32; NSUB_MAX * ORDER1],
        weightdenum: &mut [f32; NSUB_MAX * ORDER1],
        lsf_index: &mut [i32; LSF_NSPLIT * LPC_N_MAX],
        data: &[f32],
        m: &ModeParams,
    ) {
        let mut lsf = [0.0f32; ORDER * LPC_N_MAX];
        let mut lsfdeq = [0.0f32; ORDER * LPC_N_MAX];
        self.analyse(&mut lsf, data, m);
        for k in 0..m.lpc_n {
            split_vq(
                &mut lsfdeq[k * ORDER..],
                &mut lsf_index[k * LSF_NSPLIT..],
                &lsf[k * ORDER..],
            );
        }
        lsf_check(&mut lsfdeq, m.lpc_n);
        self.interpolate(syntdenum, weightdenum, &lsf, &lsfdeq, m);
    }

    /// A.38 SimpleInterpolateLSF.
    fn interpolate(
        &mut self,
        syntdenum: &mut [f32; NSUB_MAX * ORDER1],
        weightdenum: &mut [f32; NSUB_MAX * ORDER1],
        lsf: &[f32; ORDER * LPC_N_MAX],
        lsfdeq: &[f32; ORDER * LPC_N_MAX],
        m: &ModeParams,
    ) {
        let mut lp = [0.0f32; ORDER1];
        let (lsf1, lsf2) = lsf.split_at(ORDER);
        let (lsfdeq1, lsfdeq2) = lsfdeq.split_at(ORDER);
        for i in 0..m.nsub {
            let pos = i * ORDER1;
            let (w, a_old, a_new, q_old, q_new) = if m.mode == 30 {
                if i == 0 {
                    (
                        LSF_WEIGHT_30MS[0],
                        &self.lsfdeqold[..],
                        lsfdeq1,
                        &self.lsfold[..],
                        lsf1,
                    )
                } else {
                    (LSF_WEIGHT_30MS[i], lsfdeq1, lsfdeq2, lsf1, lsf2)
                }
            } else {
                (
                    LSF_WEIGHT_20MS[i],
                    &self.lsfdeqold[..],
                    lsfdeq1,
                    &self.lsfold[..],
                    lsf1,
                )
            };
            lsf_interpolate_to_a(&mut lp, a_old, a_new, w);
            syntdenum[pos..pos + ORDER1].copy_from_slice(&lp);
            lsf_interpolate_to_a(&mut lp, q_old, q_new, w);
            bwexpand(
                &mut weightdenum[pos..pos + ORDER1],
                &lp,
                LPC_CHIRP_WEIGHTDENUM,
            );
        }
        if m.mode == 30 {
            self.lsfold.copy_from_slice(&lsf2[..ORDER]);
            self.lsfdeqold.copy_from_slice(&lsfdeq2[..ORDER]);
        } else {
            self.lsfold.copy_from_slice(lsf1);
            self.lsfdeqold.copy_from_slice(lsfdeq1);
        }
    }
}

/// The decoder's interpolation (A.36 DecoderInterpolateLSF): synthesis filters of every
/// sub-frame from the dequantized LSFs; updates `lsfdeqold`. (The reference also computes
/// weighting filters, which the decoder never uses.)
pub(crate) fn decoder_interpolate(
    syntdenum: &mut [f32; NSUB_MAX * ORDER1],
    lsfdeq: &[f32; ORDER * LPC_N_MAX],
    lsfdeqold: &mut [f32; ORDER],
    m: &ModeParams,
) {
    let mut lp = [0.0f32; ORDER1];
    let (lsfdeq1, lsfdeq2) = lsfdeq.split_at(ORDER);
    for i in 0..m.nsub {
        let pos = i * ORDER1;
        if m.mode == 30 {
            if i == 0 {
                lsf_interpolate_to_a(&mut lp, lsfdeqold, lsfdeq1, LSF_WEIGHT_30MS[0]);
            } else {
                lsf_interpolate_to_a(&mut lp, lsfdeq1, lsfdeq2, LSF_WEIGHT_30MS[i]);
            }
        } else {
            lsf_interpolate_to_a(&mut lp, lsfdeqold, lsfdeq1, LSF_WEIGHT_20MS[i]);
        }
        syntdenum[pos..pos + ORDER1].copy_from_slice(&lp);
    }
    if m.mode == 30 {
        lsfdeqold.copy_from_slice(&lsfdeq2[..ORDER]);
    } else {
        lsfdeqold.copy_from_slice(lsfdeq1);
    }
}
