//! The decoder's enhancer (RFC 3951 section 4.6, A.16 enhancer.c): pitch-synchronous smoothing
//! of the decoded residual, 40 (20 ms mode) or 80 (30 ms mode) samples behind, and the mixing of
//! a backward concealment from a new frame into a concealed one.

use super::constants::{
    ENH_ALPHA0, ENH_BLOCKL, ENH_BLOCKL_HALF, ENH_BUFL, ENH_CORRDIM, ENH_FL0, ENH_HL, ENH_NBLOCKS,
    ENH_NBLOCKS_EXTRA, ENH_NBLOCKS_TOT, ENH_OVERHANG, ENH_SLOP, ENH_UPS0, ENH_VECTL, PI,
};
use super::filter::down_sample;
use super::tables::{ENH_PLOCS, LP_FILT, POLYPHASER};

const SSEQ_BLOCKS: usize = 2 * ENH_HL + 1;

/// The enhancer's state in the decoder.
#[derive(Debug, Clone)]
pub(crate) struct EnhancerState {
    /// Residual history.
    pub buf: [f32; ENH_BUFL],
    /// Pitch period estimates per block of `buf`.
    pub period: [f32; ENH_NBLOCKS_TOT],
    /// The refiner's correlations, kept from call to call. Near the start of the buffer the
    /// reference computes only 4 of them and then reads the 5th from its uninitialized stack
    /// array, which in the reference as built holds the value of the previous call; keeping
    /// the array reproduces that.
    pub corr_vec: [f32; ENH_CORRDIM],
}

impl EnhancerState {
    pub(crate) fn new() -> Self {
        Self {
            buf: [0.0; ENH_BUFL],
            period: [40.0; ENH_NBLOCKS_TOT],
            corr_vec: [0.0; ENH_CORRDIM],
        }
    }
}

/// Index of the element of `array` closest to `value`.
fn nearest_neighbor(array: &[f32], value: f32) -> usize {
    let mut crit = array[0] - value;
    let mut bestcrit = crit * crit;
    let mut index = 0;
    for (i, &a) in array.iter().enumerate().skip(1) {
        crit = a - value;
        crit *= crit;
        if crit < bestcrit {
            bestcrit = crit;
            index = i;
        }
    }
    index
}

/// `corr[i] = sum_j seq1[i + j] * seq2[j]` for `i` in `0..=seq1.len() - seq2.len()`.
fn mycorr1(corr: &mut [f32], seq1: &[f32], seq2: &[f32]) {
    if seq1.len() < seq2.len() {
        return;
    }
    for (i, c) in corr
        .iter_mut()
        .enumerate()
        .take(seq1.len() - seq2.len() + 1)
    {
        let mut acc = 0.0f32;
        for (a, b) in seq1[i..].iter().zip(seq2) {
            acc += a * b;
        }
        *c = acc;
    }
}

/// Up-samples the first `dim1` values of `seq1` by 4, zeros outside its bounds (polyphase
/// filter of length 2 * hfl + 1), into `useq1`; returns how many values it wrote.
///
/// For an even `dim1` shorter than the filter the reference reads `seq1[dim1]`, one past the
/// correlations it computed, and writes 4 * (dim1 + 1) values; this does the same (see
/// [`EnhancerState::corr_vec`]).
fn enh_upsample(
    useq1: &mut [f32],
    seq1: &[f32; ENH_CORRDIM],
    dim1: usize,
    mut hfl: usize,
) -> usize {
    let mut filterlength = 2 * hfl + 1;
    let mut polyp = [0usize; ENH_UPS0];
    if filterlength > dim1 {
        let hfl2 = dim1 / 2;
        for (j, p) in polyp.iter_mut().enumerate() {
            *p = j * filterlength + hfl - hfl2;
        }
        hfl = hfl2;
        filterlength = 2 * hfl + 1;
    } else {
        for (j, p) in polyp.iter_mut().enumerate() {
            *p = j * filterlength;
        }
    }
    let mut pu = 0;
    // The filter overhangs the left side.
    for i in hfl..filterlength {
        for &p in &polyp {
            let mut acc = 0.0f32;
            for k in 0..=i {
                acc += seq1[i - k] * POLYPHASER[p + k];
            }
            useq1[pu] = acc;
            pu += 1;
        }
    }
    // Inner products.
    for i in filterlength..dim1 {
        for &p in &polyp {
            let mut acc = 0.0f32;
            for k in 0..filterlength {
                acc += seq1[i - k] * POLYPHASER[p + k];
            }
            useq1[pu] = acc;
            pu += 1;
        }
    }
    // The filter overhangs the right side.
    for q in 1..=hfl {
        for &p in &polyp {
            let mut acc = 0.0f32;
            for k in 0..filterlength - q {
                acc += seq1[dim1 - 1 - k] * POLYPHASER[p + q + k];
            }
            useq1[pu] = acc;
            pu += 1;
        }
    }
    pu
}

/// Finds the segment near `est_seg_pos` best correlated with the block at `center_start_pos`,
/// at 4 times the sampling rate; writes it to `seg` and returns its refined position.
fn refiner(
    seg: &mut [f32],
    corr_vec: &mut [f32; ENH_CORRDIM],
    idata: &[f32],
    center_start_pos: usize,
    est_seg_pos: f32,
) -> f32 {
    let idatal = idata.len() as i32;
    let est_rounded = (f64::from(est_seg_pos) - 0.5) as i32;
    let start = (est_rounded - ENH_SLOP).max(0);
    let mut end = est_rounded + ENH_SLOP;
    if end + ENH_BLOCKL as i32 >= idatal {
        end = idatal - ENH_BLOCKL as i32 - 1;
    }
    let corrdim = end - start + 1;
    let mut tloc = 0usize;
    if corrdim >= 1 && corrdim as usize <= ENH_CORRDIM {
        let corrdim = corrdim as usize;
        let s = start as usize;
        mycorr1(
            &mut corr_vec[..],
            &idata[s..s + corrdim + ENH_BLOCKL - 1],
            &idata[center_start_pos..center_start_pos + ENH_BLOCKL],
        );
        let mut corr_ups = [0.0f32; ENH_CORRDIM * ENH_UPS0];
        enh_upsample(&mut corr_ups, corr_vec, corrdim, ENH_FL0);
        let mut maxv = corr_ups[0];
        for (i, &c) in corr_ups.iter().enumerate().take(ENH_UPS0 * corrdim).skip(1) {
            if c > maxv {
                tloc = i;
                maxv = c;
            }
        }
    }
    let upd = start as f32 + tloc as f32 / ENH_UPS0 as f32 + 1.0f32;
    let mut tloc2 = tloc / ENH_UPS0;
    if tloc > tloc2 * ENH_UPS0 {
        tloc2 += 1;
    }
    let st = start + tloc2 as i32 - ENH_FL0 as i32;
    let mut vect = [0.0f32; ENH_VECTL];
    for (i, v) in vect.iter_mut().enumerate() {
        let p = st + i as i32;
        if p >= 0 && p < idatal {
            *v = idata[p as usize];
        }
    }
    let fraction = tloc2 * ENH_UPS0 - tloc;
    let flen = 2 * ENH_FL0 + 1;
    mycorr1(
        &mut seg[..ENH_BLOCKL],
        &vect,
        &POLYPHASER[flen * fraction..flen * fraction + flen],
    );
    upd
}

/// The smoothed block from the pitch-synchronous sequence (A.16 smath).
fn smath(odata: &mut [f32], sseq: &[f32; SSEQ_BLOCKS * ENH_BLOCKL], hl: usize, alpha0: f32) {
    let mut wt = [0.0f32; SSEQ_BLOCKS];
    for i in 1..=2 * hl + 1 {
        let x = 2.0f32 * PI * i as f32 / (2 * hl + 2) as f32;
        wt[i - 1] = 0.5f32 * (1.0f32 - f64::from(x).cos() as f32);
    }
    wt[hl] = 0.0;
    let mut surround = [0.0f32; ENH_BLOCKL];
    for (s, &x) in surround.iter_mut().zip(&sseq[..ENH_BLOCKL]) {
        *s = x * wt[0];
    }
    for k in (1..hl).chain(hl + 1..=2 * hl) {
        let ps = &sseq[k * ENH_BLOCKL..(k + 1) * ENH_BLOCKL];
        for (s, &x) in surround.iter_mut().zip(ps) {
            *s += x * wt[k];
        }
    }
    let cur = &sseq[hl * ENH_BLOCKL..(hl + 1) * ENH_BLOCKL];
    let (mut w00, mut w10, mut w11) = (0.0f32, 0.0f32, 0.0f32);
    for (&p, &s) in cur.iter().zip(&surround) {
        w00 += p * p;
        w11 += s * s;
        w10 += s * p;
    }
    if w11.abs() < 1.0 {
        w11 = 1.0;
    }
    let c = f64::from(w00 / w11).sqrt() as f32;
    let mut errs = 0.0f32;
    for i in 0..ENH_BLOCKL {
        odata[i] = c * surround[i];
        let err = cur[i] - odata[i];
        errs += err * err;
    }
    if errs > alpha0 * w00 {
        if w00 < 1.0 {
            w00 = 1.0;
        }
        let denom = (w11 * w00 - w10 * w10) / (w00 * w00);
        let (a, b) = if f64::from(denom) > 0.0001 {
            let a = f64::from((alpha0 - alpha0 * alpha0 / 4.0) / denom).sqrt() as f32;
            let b = -alpha0 / 2.0 - a * w10 / w00;
            (a, b + 1.0)
        } else {
            (0.0, 1.0)
        };
        for i in 0..ENH_BLOCKL {
            odata[i] = a * surround[i] + b * cur[i];
        }
    }
}

/// The pitch-synchronous sequence of 2 * hl + 1 segments around the block at
/// `center_start_pos` (A.16 getsseq).
fn getsseq(
    sseq: &mut [f32; SSEQ_BLOCKS * ENH_BLOCKL],
    corr_vec: &mut [f32; ENH_CORRDIM],
    idata: &[f32],
    center_start_pos: usize,
    period: &[f32; ENH_NBLOCKS_TOT],
    plocs: &[f32; ENH_NBLOCKS_TOT],
    hl: usize,
) {
    let idatal = idata.len();
    let center_end_pos = center_start_pos + ENH_BLOCKL - 1;
    let mut block_start = [0.0f32; SSEQ_BLOCKS];
    let mut lag_block = [0usize; SSEQ_BLOCKS];
    lag_block[hl] = nearest_neighbor(plocs, 0.5f32 * (center_start_pos + center_end_pos) as f32);
    block_start[hl] = center_start_pos as f32;
    sseq[ENH_BLOCKL * hl..ENH_BLOCKL * (hl + 1)]
        .copy_from_slice(&idata[center_start_pos..center_start_pos + ENH_BLOCKL]);
    // Past.
    for q in (0..hl).rev() {
        block_start[q] = block_start[q + 1] - period[lag_block[q + 1]];
        lag_block[q] = nearest_neighbor(
            plocs,
            block_start[q] + ENH_BLOCKL_HALF as f32 - period[lag_block[q + 1]],
        );
        let seg = &mut sseq[q * ENH_BLOCKL..(q + 1) * ENH_BLOCKL];
        if block_start[q] - ENH_OVERHANG as f32 >= 0.0 {
            block_start[q] = refiner(seg, corr_vec, idata, center_start_pos, block_start[q]);
        } else {
            seg.fill(0.0);
        }
    }
    // Future.
    let mut plocs2 = [0.0f32; ENH_NBLOCKS_TOT];
    for i in 0..ENH_NBLOCKS_TOT {
        plocs2[i] = plocs[i] - period[i];
    }
    for q in hl + 1..=2 * hl {
        lag_block[q] = nearest_neighbor(&plocs2, block_start[q - 1] + ENH_BLOCKL_HALF as f32);
        block_start[q] = block_start[q - 1] + period[lag_block[q]];
        let seg = &mut sseq[q * ENH_BLOCKL..(q + 1) * ENH_BLOCKL];
        if (block_start[q] + ENH_BLOCKL as f32 + ENH_OVERHANG as f32) < idatal as f32 {
            block_start[q] = refiner(seg, corr_vec, idata, center_start_pos, block_start[q]);
        } else {
            seg.fill(0.0);
        }
    }
}

/// `(t . r)^2 / (r . r)` when `t . r` is positive, else 0.
pub(crate) fn x_corr_coef(target: &[f32], regressor: &[f32]) -> f32 {
    let mut ftmp1 = 0.0f32;
    let mut ftmp2 = 0.0f32;
    for (&t, &r) in target.iter().zip(regressor) {
        ftmp1 += t * r;
        ftmp2 += r * r;
    }
    if ftmp1 > 0.0 {
        ftmp1 * ftmp1 / ftmp2
    } else {
        0.0
    }
}

/// Enhances one frame of residual `input` (`blockl` samples) into `out`; returns the pitch lag
/// the concealment uses next (A.16 enhancerInterface).
pub(crate) fn enhance(
    out: &mut [f32],
    input: &[f32],
    st: &mut EnhancerState,
    mode: u8,
    prev_enh_pl: bool,
) -> i32 {
    let blockl = input.len();
    let enh_buf = &mut st.buf;
    let enh_period = &mut st.period;
    let corr_vec = &mut st.corr_vec;
    enh_buf.copy_within(blockl.., 0);
    enh_buf[ENH_BUFL - blockl..].copy_from_slice(input);
    let plc_blockl = if mode == 30 { ENH_BLOCKL } else { 40 };
    let ioffset = usize::from(mode == 20);
    let i = 3 - ioffset;
    enh_period.copy_within(i.., 0);

    // Down-sample by 2 for the pitch estimation.
    let base = (ENH_NBLOCKS_EXTRA + ioffset) * ENH_BLOCKL;
    let mut lp_state = [0.0f32; 6];
    lp_state.copy_from_slice(&enh_buf[base - 126..base - 120]);
    let in_len = ENH_NBLOCKS * ENH_BLOCKL + 120 - ioffset * ENH_BLOCKL;
    let mut downsampled = [0.0f32; (ENH_NBLOCKS * ENH_BLOCKL + 120) / 2];
    down_sample(
        &enh_buf[base - 120..base - 120 + in_len],
        &LP_FILT,
        &lp_state,
        &mut downsampled,
    );
    let mut lag = 0i32;
    for iblock in 0..ENH_NBLOCKS - ioffset {
        let t = 60 + iblock * ENH_BLOCKL_HALF;
        let target = &downsampled[t..t + ENH_BLOCKL_HALF];
        lag = 10;
        let mut maxcc = x_corr_coef(target, &downsampled[t - 10..]);
        for ilag in 11..60 {
            let cc = x_corr_coef(target, &downsampled[t - ilag..]);
            if cc > maxcc {
                maxcc = cc;
                lag = ilag as i32;
            }
        }
        enh_period[iblock + ENH_NBLOCKS_EXTRA + ioffset] = lag as f32 * 2.0;
    }

    // The previous frame was concealed: mix a backward concealment from this frame into it.
    if prev_enh_pl {
        let inlag = enh_period[ENH_NBLOCKS_EXTRA + ioffset] as i32;
        let reg = |l: i32| -> &[f32] { &input[(l.max(0) as usize).min(blockl)..] };
        lag = inlag - 1;
        let mut maxcc = x_corr_coef(&input[..plc_blockl], reg(lag));
        for ilag in inlag..=inlag + 1 {
            let cc = x_corr_coef(&input[..plc_blockl], reg(ilag));
            if cc > maxcc {
                maxcc = cc;
                lag = ilag;
            }
        }
        enh_period[ENH_NBLOCKS_EXTRA + ioffset - 1] = lag as f32;
        let lagu = lag.max(1) as usize;

        let mut plc_pred = [0.0f32; ENH_BLOCKL];
        let start = lagu.min(plc_blockl);
        // plc_pred[plc_blockl - 1 - n] = input[lag - 1 - n] for n < start.
        for n in 0..start {
            plc_pred[plc_blockl - 1 - n] = input[lagu - 1 - n];
        }
        let e2 = ENH_BUFL - 1 - blockl;
        for n in 0..plc_blockl.saturating_sub(lagu) {
            plc_pred[plc_blockl - 1 - start - n] = enh_buf[e2 - n];
        }
        // Limit the energy change.
        let mut ftmp2 = 0.0f32;
        let mut ftmp1 = 0.0f32;
        for i in 0..plc_blockl {
            let e = enh_buf[ENH_BUFL - 1 - blockl - i];
            ftmp2 += e * e;
            ftmp1 += plc_pred[i] * plc_pred[i];
        }
        let ftmp1 = f64::from(ftmp1 / plc_blockl as f32).sqrt() as f32;
        let ftmp2 = f64::from(ftmp2 / plc_blockl as f32).sqrt() as f32;
        if ftmp1 > 2.0f32 * ftmp2 && ftmp1 > 0.0 {
            for p in &mut plc_pred[..plc_blockl - 10] {
                *p *= 2.0f32 * ftmp2 / ftmp1;
            }
            for (k, p) in plc_pred[plc_blockl - 10..plc_blockl].iter_mut().enumerate() {
                // (i - plc_blockl + 10) for the i-th sample of the block.
                *p *=
                    k as f32 * (1.0f32 - 2.0f32 * ftmp2 / ftmp1) / 10.0f32 + 2.0f32 * ftmp2 / ftmp1;
            }
        }
        for i in 0..plc_blockl {
            let f = (i + 1) as f32 / (plc_blockl + 1) as f32;
            let e = &mut enh_buf[ENH_BUFL - 1 - blockl - i];
            *e *= f;
            *e += (1.0f32 - f) * plc_pred[plc_blockl - 1 - i];
        }
    }

    let mut sseq = [0.0f32; SSEQ_BLOCKS * ENH_BLOCKL];
    let mut enh_block = |iblock: usize, center: usize| {
        getsseq(
            &mut sseq,
            corr_vec,
            &enh_buf[..],
            center,
            enh_period,
            &ENH_PLOCS,
            ENH_HL,
        );
        smath(
            &mut out[iblock * ENH_BLOCKL..(iblock + 1) * ENH_BLOCKL],
            &sseq,
            ENH_HL,
            ENH_ALPHA0,
        );
    };
    if mode == 20 {
        for iblock in 0..2 {
            enh_block(iblock, (5 + iblock) * ENH_BLOCKL + 40);
        }
    } else {
        for iblock in 0..3 {
            enh_block(iblock, (4 + iblock) * ENH_BLOCKL);
        }
    }
    lag * 2
}
