//! The start state (RFC 3951 sections 3.5 and 4.2; A.20 FrameClassify.c, A.46
//! StateSearchW.c, A.44 StateConstructW.c): where in the frame it sits, and its scalar
//! quantization with noise shaping in an all-pass-filtered domain.

use super::constants::{
    ModeParams, NSUB_MAX, ORDER, ORDER1, STATE_LEN, STATE_SHORT_LEN_30MS, SUBL,
};
use super::filter::{all_pole10, zero_pole};
use super::tables::{STATE_FRGQ, STATE_SQ3};

/// Where the start state goes: the returned `start` (1-based, as the bitstream carries it)
/// means the pair of sub-frames `start - 1` and `start` (0-based) with the most weighted
/// energy.
pub(crate) fn frame_classify(residual: &[f32], m: &ModeParams) -> usize {
    let ssq_en_win: [f32; NSUB_MAX - 1] = [
        0.8_f64 as f32,
        0.9_f64 as f32,
        1.0,
        0.9_f64 as f32,
        0.8_f64 as f32,
    ];
    let samp_en_win: [f32; 5] = [
        1.0f32 / 6.0f32,
        2.0f32 / 6.0f32,
        3.0f32 / 6.0f32,
        4.0f32 / 6.0f32,
        5.0f32 / 6.0f32,
    ];
    let mut fssq = [0.0f32; NSUB_MAX];
    let mut bssq = [0.0f32; NSUB_MAX];
    let nsub = m.nsub;
    // Front of the first sequence.
    let pp = &residual[..SUBL];
    for l in 0..5 {
        fssq[0] += samp_en_win[l] * pp[l] * pp[l];
    }
    for &x in &pp[5..SUBL] {
        fssq[0] += x * x;
    }
    // Front and back of the middle sequences.
    for n in 1..nsub - 1 {
        let pp = &residual[n * SUBL..(n + 1) * SUBL];
        for l in 0..5 {
            fssq[n] += samp_en_win[l] * pp[l] * pp[l];
            bssq[n] += pp[l] * pp[l];
        }
        for &x in &pp[5..SUBL - 5] {
            fssq[n] += x * x;
            bssq[n] += x * x;
        }
        for l in SUBL - 5..SUBL {
            fssq[n] += pp[l] * pp[l];
            bssq[n] += samp_en_win[SUBL - l - 1] * pp[l] * pp[l];
        }
    }
    // Back of the last sequence.
    let n = nsub - 1;
    let pp = &residual[n * SUBL..(n + 1) * SUBL];
    for &x in &pp[..SUBL - 5] {
        bssq[n] += x * x;
    }
    for l in SUBL - 5..SUBL {
        bssq[n] += samp_en_win[SUBL - l - 1] * pp[l] * pp[l];
    }
    let mut l = if m.mode == 20 { 1 } else { 0 };
    let mut max_ssq = (fssq[0] + bssq[1]) * ssq_en_win[l];
    let mut max_n = 1;
    for n in 2..nsub {
        l += 1;
        if (fssq[n - 1] + bssq[n]) * ssq_en_win[l] > max_ssq {
            max_ssq = (fssq[n - 1] + bssq[n]) * ssq_en_win[l];
            max_n = n;
        }
    }
    max_n
}

/// Scalar quantization against a sorted codebook: (index, value).
pub(crate) fn sort_sq(x: f32, cb: &[f32]) -> (usize, f32) {
    if x <= cb[0] {
        return (0, cb[0]);
    }
    let mut i = 0;
    while x > cb[i] && i < cb.len() - 1 {
        i += 1;
    }
    if i == 0 {
        // Only a NaN gets here; the reference would read before the table.
        return (0, cb[0]);
    }
    if x > (cb[i] + cb[i - 1]) / 2.0 {
        (i, cb[i])
    } else {
        (i - 1, cb[i - 1])
    }
}

/// Predictive noise-shaping quantization of the scaled start state (A.46 AbsQuantW).
/// `input` holds 10 zeros of filter state, then the `len` samples.
fn abs_quant_w(
    input: &mut [f32],
    synt_denum: &[f32],
    weight_denum: &[f32],
    out: &mut [i32],
    len: usize,
    state_first: bool,
    m: &ModeParams,
) {
    let mut synt_out = [0.0f32; ORDER + STATE_SHORT_LEN_30MS];
    let mut w = 0; // offset of the current weighting filter
    let _ = synt_denum; // advanced alongside in the reference, never read
    if state_first {
        all_pole10(input, ORDER, SUBL, &weight_denum[w..]);
    } else {
        all_pole10(input, ORDER, m.state_short_len - SUBL, &weight_denum[w..]);
    }
    for n in 0..len {
        if (state_first && n == SUBL) || (!state_first && n == m.state_short_len - SUBL) {
            w += ORDER1;
            all_pole10(input, ORDER + n, len - n, &weight_denum[w..]);
        }
        // Prediction of the synthesized and weighted input.
        synt_out[ORDER + n] = 0.0;
        all_pole10(&mut synt_out, ORDER + n, 1, &weight_denum[w..]);
        // Quantization.
        let to_q = input[ORDER + n] - synt_out[ORDER + n];
        let (index, _) = sort_sq(to_q, &STATE_SQ3);
        out[n] = index as i32;
        synt_out[ORDER + n] = STATE_SQ3[index];
        // Update of the prediction filter.
        all_pole10(&mut synt_out, ORDER + n, 1, &weight_denum[w..]);
    }
}

/// Encodes the start state (A.46 StateSearchW): the scale index and the sample indices.
/// `synt_denum` and `weight_denum` start at the start state's first sub-frame.
pub(crate) fn state_search_w(
    residual: &[f32],
    synt_denum: &[f32],
    weight_denum: &[f32],
    idx_vec: &mut [i32],
    len: usize,
    state_first: bool,
    m: &ModeParams,
) -> i32 {
    const BUF: usize = ORDER + 2 * STATE_SHORT_LEN_30MS;
    let mut tmpbuf = [0.0f32; BUF];
    let mut foutbuf = [0.0f32; BUF];
    let mut numerator = [0.0f32; ORDER1];
    for k in 0..ORDER {
        numerator[k] = synt_denum[ORDER - k];
    }
    numerator[ORDER] = synt_denum[0];
    // Circular convolution with the all-pass filter.
    tmpbuf[ORDER..ORDER + len].copy_from_slice(&residual[..len]);
    zero_pole(
        &tmpbuf,
        ORDER,
        &numerator,
        synt_denum,
        2 * len,
        &mut foutbuf,
        ORDER,
    );
    for k in 0..len {
        foutbuf[ORDER + k] += foutbuf[ORDER + k + len];
    }
    // The maximum amplitude.
    let fout = &foutbuf[ORDER..ORDER + len];
    let mut max_val = fout[0];
    for &x in &fout[1..] {
        if x * x > max_val * max_val {
            max_val = x;
        }
    }
    max_val = f64::from(max_val).abs() as f32;
    if max_val < 10.0 {
        max_val = 10.0;
    }
    max_val = f64::from(max_val).log10() as f32;
    let (idx_for_max, _) = sort_sq(max_val, &STATE_FRGQ);
    // Scale by the quantized maximum.
    let qmax = 10f64.powf(f64::from(STATE_FRGQ[idx_for_max])) as f32;
    let scal = 4.5_f64 as f32 / qmax;
    for x in &mut foutbuf[ORDER..ORDER + len] {
        *x *= scal;
    }
    // foutbuf[..ORDER] are zeros: the filter state abs_quant_w expects.
    abs_quant_w(
        &mut foutbuf,
        synt_denum,
        weight_denum,
        idx_vec,
        len,
        state_first,
        m,
    );
    idx_for_max as i32
}

/// Decodes the start state (A.44 StateConstructW) into `out[..len]`.
pub(crate) fn state_construct_w(
    idx_for_max: i32,
    idx_vec: &[i32],
    synt_denum: &[f32],
    out: &mut [f32],
    len: usize,
) {
    const BUF: usize = ORDER + 2 * STATE_LEN;
    let max_val = STATE_FRGQ[(idx_for_max as usize) % STATE_FRGQ.len()];
    let max_val = 10f64.powf(f64::from(max_val)) as f32 / (4.5_f64 as f32);
    let mut tmpbuf = [0.0f32; BUF];
    let mut foutbuf = [0.0f32; BUF];
    let mut numerator = [0.0f32; ORDER1];
    for k in 0..ORDER {
        numerator[k] = synt_denum[ORDER - k];
    }
    numerator[ORDER] = synt_denum[0];
    for k in 0..len {
        let tmpi = len - 1 - k;
        tmpbuf[ORDER + k] = max_val * STATE_SQ3[(idx_vec[tmpi] as usize) % STATE_SQ3.len()];
    }
    zero_pole(
        &tmpbuf,
        ORDER,
        &numerator,
        synt_denum,
        2 * len,
        &mut foutbuf,
        ORDER,
    );
    let fout = &foutbuf[ORDER..];
    for k in 0..len {
        out[k] = fout[len - 1 - k] + fout[2 * len - 1 - k];
    }
}
