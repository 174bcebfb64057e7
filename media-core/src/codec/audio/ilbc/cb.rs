//! The adaptive codebook (RFC 3951 sections 3.6 and 4.3; A.32 iCBConstruct.c, A.24
//! getCBvec.c, A.22 gainquant.c, A.12 createCB.c, A.34 iCBSearch.c): codebook vectors built from
//! the decoded residual history, three-stage gain-shape search and reconstruction.

use super::constants::{
    CB_FILTERLEN, CB_HALFFILTERLEN, CB_MAXGAIN, CB_MEML, CB_NSTAGES, CB_RESRANGE, EPS, ORDER,
    SEARCH_RANGE, STATE_LEN, SUBL,
};
use super::filter::all_pole10;
use super::tables::{CB_FILTERS, GAIN_SQ3, GAIN_SQ4, GAIN_SQ5};

/// Size of the energy arrays of the search (two codebook sections of up to 128 vectors).
const CB_EXPAND_SIZE: usize = 2 * 128;

// The codebook memory as the encoder (A.10 iLBC_encode) and the decoder (A.5 Decode) both
// prepare it, so that the encoder's analysis-by-synthesis tracks the decoder exactly.

/// The memory for the adaptive part of the start state (`st_mem`, the last `ST_MEM_L` samples
/// of the codebook memory): zeros, then the scalar-coded start state `state`, in time order when
/// the adaptive part follows it, time-reversed when it precedes it (coded backwards in time).
pub(crate) fn start_state_memory(st_mem: &mut [f32], state: &[f32], reversed: bool) {
    let (n, ssl) = (st_mem.len(), state.len());
    st_mem[..n - ssl].fill(0.0);
    if reversed {
        for (k, &x) in state.iter().enumerate() {
            st_mem[n - 1 - k] = x;
        }
    } else {
        st_mem[n - ssl..].copy_from_slice(state);
    }
}

/// The memory for the sub-frames after the start state: zeros, then the `STATE_LEN` samples of
/// the decoded start state, which begins at sub-frame `start - 1`.
pub(crate) fn forward_memory(mem: &mut [f32; CB_MEML], decresidual: &[f32], start: usize) {
    let at = (start - 1) * SUBL;
    mem[..CB_MEML - STATE_LEN].fill(0.0);
    mem[CB_MEML - STATE_LEN..].copy_from_slice(&decresidual[at..at + STATE_LEN]);
}

/// The memory for the sub-frames before the start state, coded backwards in time: the decoded
/// residual from the start state on (`nsub + 1 - start` sub-frames at most), time-reversed, then
/// zeros.
pub(crate) fn backward_memory(
    mem: &mut [f32; CB_MEML],
    decresidual: &[f32],
    start: usize,
    nsub: usize,
) {
    let gotten = (SUBL * (nsub + 1 - start)).min(CB_MEML);
    for k in 0..gotten {
        mem[CB_MEML - 1 - k] = decresidual[(start - 1) * SUBL + k];
    }
    mem[..CB_MEML - gotten].fill(0.0);
}

/// Appends a decoded sub-frame to the codebook memory, dropping its oldest `SUBL` samples.
pub(crate) fn push_memory(mem: &mut [f32; CB_MEML], sub: &[f32]) {
    mem.copy_within(SUBL.., 0);
    mem[CB_MEML - SUBL..].copy_from_slice(sub);
}

/// Stage-1 and stage-2 indices of the first sub-block travel in 7 bits (A.32 index_conv_enc).
pub(crate) fn index_conv_enc(index: &mut [i32]) {
    for x in &mut index[1..CB_NSTAGES] {
        if (108..172).contains(x) {
            *x -= 64;
        } else if *x >= 236 {
            *x -= 128;
        }
    }
}

/// The inverse of [`index_conv_enc`] (A.32 index_conv_dec).
pub(crate) fn index_conv_dec(index: &mut [i32]) {
    for x in &mut index[1..CB_NSTAGES] {
        if (44..108).contains(x) {
            *x += 64;
        } else if (108..128).contains(x) {
            *x += 128;
        }
    }
}

fn gain_table(cblen: usize) -> &'static [f32] {
    match cblen {
        8 => &GAIN_SQ3,
        16 => &GAIN_SQ4,
        _ => &GAIN_SQ5,
    }
}

/// Quantizes a gain against the table of `cblen` levels scaled by `max_in`: (value, index).
pub(crate) fn gainquant(input: f32, max_in: f32, cblen: usize) -> (f32, usize) {
    let mut scale = max_in;
    if f64::from(scale) < 0.1 {
        scale = 0.1_f64 as f32;
    }
    let cb = gain_table(cblen);
    let mut minmeasure = 10_000_000.0f32;
    let mut tindex = 0;
    for (i, &c) in cb.iter().enumerate() {
        let measure = (input - scale * c) * (input - scale * c);
        if measure < minmeasure {
            tindex = i;
            minmeasure = measure;
        }
    }
    (scale * cb[tindex], tindex)
}

/// The gain of `index` in the table of `cblen` levels scaled by `|max_in|`.
pub(crate) fn gaindequant(index: i32, max_in: f32, cblen: usize) -> f32 {
    let mut scale = f64::from(max_in).abs() as f32;
    if f64::from(scale) < 0.1 {
        scale = 0.1_f64 as f32;
    }
    let cb = gain_table(cblen);
    scale * cb[index as usize % cb.len()]
}

/// One filtering of the codebook memory by the expansion filter: `out[i]` for
/// `tb[first + i ..]`, where `tb` is the memory with zeros around it.
#[inline]
fn expansion_filter(tb: &[f32], first: usize, out: &mut [f32]) {
    for (i, o) in out.iter_mut().enumerate() {
        let win = &tb[first + i..first + i + CB_FILTERLEN];
        let mut acc = 0.0f32;
        for j in 0..CB_FILTERLEN {
            acc += win[j] * CB_FILTERS[CB_FILTERLEN - 1 - j];
        }
        *o = acc;
    }
}

/// The codebook vector `index` of length `cbveclen` from memory `mem` (A.24 getCBvec).
pub(crate) fn get_cb_vec(cbvec: &mut [f32], mem: &[f32], index: usize, cbveclen: usize) {
    let lmem = mem.len();
    let first = lmem - cbveclen + 1;
    let base_size = if cbveclen == SUBL {
        first + cbveclen / 2
    } else {
        first
    };
    if index < first {
        // First, non-interpolated vectors.
        let k = index + cbveclen;
        cbvec[..cbveclen].copy_from_slice(&mem[lmem - k..lmem - k + cbveclen]);
    } else if index < base_size {
        let k = 2 * (index - first) + cbveclen;
        interpolated(cbvec, mem, lmem, k, cbveclen);
    } else {
        // Memory with CB_HALFFILTERLEN zeros before and CB_HALFFILTERLEN + 1 after.
        let mut tb = [0.0f32; CB_MEML + CB_FILTERLEN + 1];
        tb[CB_HALFFILTERLEN..CB_HALFFILTERLEN + lmem].copy_from_slice(mem);
        let idx = index - base_size;
        if idx < first {
            let k = idx + cbveclen;
            let sfilt = lmem - k;
            // memInd + n + CB_HALFFILTERLEN with memInd = sFilt + 1 - CB_HALFFILTERLEN.
            expansion_filter(&tb, sfilt + 1, &mut cbvec[..cbveclen]);
        } else {
            let k = 2 * (idx - first) + cbveclen;
            if k > lmem {
                // Out of every codebook (no bit pattern reaches this).
                cbvec[..cbveclen].fill(0.0);
                return;
            }
            let sfilt = lmem - k;
            let mut tmpbuf = [0.0f32; CB_MEML];
            expansion_filter(&tb, sfilt + 1, &mut tmpbuf[sfilt..sfilt + k]);
            interpolated(cbvec, &tmpbuf[..lmem], lmem, k, cbveclen);
        }
    }
}

/// The interpolated vectors of the codebook: lag `k / 2` with its first five samples mixed
/// towards lag `k`.
fn interpolated(cbvec: &mut [f32], mem: &[f32], lmem: usize, k: usize, cbveclen: usize) {
    let ihigh = k / 2;
    let ilow = ihigh - 5;
    cbvec[..ilow].copy_from_slice(&mem[lmem - k / 2..lmem - k / 2 + ilow]);
    let alfa1 = 0.2_f64 as f32;
    let mut alfa = 0.0f32;
    for j in ilow..ihigh {
        cbvec[j] = (1.0f32 - alfa) * mem[lmem - k / 2 + j] + alfa * mem[lmem - k + j];
        alfa += alfa1;
    }
    cbvec[ihigh..cbveclen].copy_from_slice(&mem[lmem - k + ihigh..lmem - k + cbveclen]);
}

/// A decoded vector from the three codebook stages and their gains (A.32 iCBConstruct).
pub(crate) fn cb_construct(
    decvector: &mut [f32],
    index: &[i32],
    gain_index: &[i32],
    mem: &[f32],
    veclen: usize,
) {
    let mut gain = [0.0f32; CB_NSTAGES];
    gain[0] = gaindequant(gain_index[0], 1.0, 32);
    gain[1] = gaindequant(gain_index[1], f64::from(gain[0]).abs() as f32, 16);
    gain[2] = gaindequant(gain_index[2], f64::from(gain[1]).abs() as f32, 8);
    let mut cbvec = [0.0f32; SUBL];
    let max_index = 2 * (mem.len() + 1);
    get_cb_vec(&mut cbvec, mem, (index[0] as usize) % max_index, veclen);
    for j in 0..veclen {
        decvector[j] = gain[0] * cbvec[j];
    }
    for k in 1..CB_NSTAGES {
        get_cb_vec(&mut cbvec, mem, (index[k] as usize) % max_index, veclen);
        for j in 0..veclen {
            decvector[j] += gain[k] * cbvec[j];
        }
    }
}

/// The codebook section made by filtering the memory (A.12 filteredCBvecs).
fn filtered_cb_vecs(cbvectors: &mut [f32; CB_MEML], mem: &[f32]) {
    let lmem = mem.len();
    let mut tb = [0.0f32; CB_MEML + CB_FILTERLEN];
    tb[CB_HALFFILTERLEN - 1..CB_HALFFILTERLEN - 1 + lmem].copy_from_slice(mem);
    expansion_filter(&tb, 0, &mut cbvectors[..lmem]);
}

/// Running best of a codebook search.
struct Best {
    measure: f32,
    index: usize,
    gain: f32,
}

impl Best {
    #[inline]
    fn offer(&mut self, stage: usize, cross_dot: f32, invenergy: f32, index: usize) {
        let measure = if stage == 0 {
            if cross_dot > 0.0 {
                cross_dot * cross_dot * invenergy
            } else {
                -10_000_000.0
            }
        } else {
            cross_dot * cross_dot * invenergy
        };
        let ftmp = cross_dot * invenergy;
        if measure > self.measure && ftmp.abs() < CB_MAXGAIN {
            self.index = index;
            self.measure = measure;
            self.gain = ftmp;
        }
    }
}

#[inline]
fn inv(e: f32) -> f32 {
    if e > 0.0 {
        1.0f32 / (e + EPS)
    } else {
        0.0
    }
}

#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut s = 0.0f32;
    for (x, y) in a.iter().zip(b) {
        s += x * y;
    }
    s
}

/// Dot products of `target` with the windows of `buf` starting at `last_start + count - 1`,
/// `last_start + count - 2`, ..., `last_start` (candidate `k` of `out` starts at
/// `last_start + count - 1 - k`). Eight candidates are summed side by side, each in the
/// reference's order, so the results equal [`dot`]'s bit for bit.
fn dots_descending(target: &[f32], buf: &[f32], last_start: usize, out: &mut [f32]) {
    const W: usize = 8;
    let n = target.len();
    let count = out.len();
    let mut k = 0;
    while k + W <= count {
        // Candidates k..k + W start at s0 - 0 .. s0 - (W - 1): one window of n + W - 1 samples.
        let lo = last_start + count - k - W;
        let win = &buf[lo..lo + n + W - 1];
        let mut acc = [0.0f32; W];
        for (&t, w) in target.iter().zip(win.windows(W)) {
            for c in 0..W {
                acc[c] += t * w[W - 1 - c];
            }
        }
        out[k..k + W].copy_from_slice(&acc);
        k += W;
    }
    while k < count {
        let s = last_start + count - 1 - k;
        out[k] = dot(target, &buf[s..s + n]);
        k += 1;
    }
}

/// Searches the augmented (interpolated) vectors `low..=high` of a section whose memory ends at
/// `buf[end]` (A.12 searchAugmentedCB).
#[allow(clippy::too_many_arguments)]
fn search_augmented_cb(
    low: usize,
    high: usize,
    stage: usize,
    start_index: usize,
    target: &[f32; SUBL],
    buf: &[f32],
    end: usize,
    best: &mut Best,
    energy: &mut [f32; CB_EXPAND_SIZE],
    invenergy: &mut [f32; CB_EXPAND_SIZE],
) {
    let mut nrj = 0.0f32;
    for &x in &buf[end - low + 1..end - low + 1 + (low - 5)] {
        nrj += x * x;
    }
    let mut ppe = end - low;
    for icount in low..=high {
        let tmp_index = start_index + icount - 20;
        let ilow = icount - 4;
        nrj += buf[ppe] * buf[ppe];
        ppe -= 1;
        energy[tmp_index] = nrj;
        let mut cross_dot = 0.0f32;
        for (t, x) in target[..ilow].iter().zip(&buf[end - icount..]) {
            cross_dot += t * x;
        }
        let mut alfa = 0.2_f64 as f32;
        let older = &buf[end - icount - 4..end - 4];
        for ((&t, &o), &i) in target[ilow..icount].iter().zip(&buf[end - 4..]).zip(older) {
            let weighted = (1.0f32 - alfa) * o + alfa * i;
            energy[tmp_index] += weighted * weighted;
            cross_dot += t * weighted;
            alfa += 0.2_f64 as f32;
        }
        for (t, &x) in target[icount..].iter().zip(&buf[end - icount..]) {
            energy[tmp_index] += x * x;
            cross_dot += t * x;
        }
        invenergy[tmp_index] = inv(energy[tmp_index]);
        best.offer(stage, cross_dot, invenergy[tmp_index], tmp_index);
    }
}

/// An augmented codebook vector of a section whose memory ends at `buf[end]` (A.12
/// createAugmentedVec).
fn create_augmented_vec(index: usize, buf: &[f32], end: usize, cb_vec: &mut [f32; SUBL]) {
    let ilow = index - 5;
    cb_vec[..index].copy_from_slice(&buf[end - index..end]);
    let alfa1 = 0.2_f64 as f32;
    let mut alfa = 0.0f32;
    let recent = &buf[end - 5..end];
    let older = &buf[end - index - 5..end - index];
    for ((v, &o), &i) in cb_vec[ilow..index].iter_mut().zip(recent).zip(older) {
        *v = (1.0f32 - alfa) * o + alfa * i;
        alfa += alfa1;
    }
    cb_vec[index..].copy_from_slice(&buf[end - index..end - index + (SUBL - index)]);
}

/// Three-stage codebook search with gain quantization for one (sub-)block (A.34 iCBSearch).
/// `mem` is the codebook memory (its length is lMem), `intarget` the target of `ltarget`
/// samples, `block` the sub-block number (0 for the start state's adaptive part). The
/// weighting filter state starts at zero, as in every call of the reference encoder.
#[allow(clippy::too_many_arguments)]
pub(crate) fn cb_search(
    index: &mut [i32],
    gain_index: &mut [i32],
    intarget: &[f32],
    mem: &[f32],
    ltarget: usize,
    weight_denum: &[f32],
    block: usize,
    extra_len: usize,
) {
    let lmem = mem.len();
    let mut cvec = [0.0f32; SUBL];
    let base_size = if ltarget == SUBL {
        lmem - ltarget + 1 + ltarget / 2
    } else {
        lmem - ltarget + 1
    };
    // Weighting: state (zeros), memory, target.
    let mut buf = [0.0f32; CB_MEML + SUBL + 2 * ORDER];
    buf[ORDER..ORDER + lmem].copy_from_slice(mem);
    buf[ORDER + lmem..ORDER + lmem + ltarget].copy_from_slice(&intarget[..ltarget]);
    all_pole10(&mut buf, ORDER, lmem + ltarget, weight_denum);
    let bufm = ORDER + lmem;
    let mut target = [0.0f32; SUBL];
    target[..ltarget].copy_from_slice(&buf[bufm..bufm + ltarget]);
    let mut tene = 0.0f32;
    for &t in &target[..ltarget] {
        tene += t * t;
    }
    let mut cbvectors = [0.0f32; CB_MEML];
    filtered_cb_vecs(&mut cbvectors, &buf[ORDER..bufm]);

    let mut energy = [0.0f32; CB_EXPAND_SIZE];
    let mut invenergy = [0.0f32; CB_EXPAND_SIZE];
    let mut gains = [0.0f32; CB_NSTAGES];
    let mut aug_vec = [0.0f32; SUBL];
    let tgt = ltarget;

    for stage in 0..CB_NSTAGES {
        let range = SEARCH_RANGE[block][stage];
        let mut best = Best {
            measure: -10_000_000.0,
            index: 0,
            gain: 0.0,
        };
        // Cross products with the main section (vector i starts at bufm - tgt - i).
        let mut cross = [0.0f32; CB_MEML];
        dots_descending(
            &target[..tgt],
            &buf,
            bufm - tgt - (range - 1),
            &mut cross[..range],
        );
        // The first vector of the main section.
        let cross_dot = cross[0];
        if stage == 0 {
            let mut e = 0.0f32;
            for &x in &buf[bufm - tgt..bufm] {
                e += x * x;
            }
            energy[0] = e;
            invenergy[0] = inv(e);
        }
        best.offer(stage, cross_dot, invenergy[0], 0);
        // The rest of the main section, full search.
        let mut ppi = bufm - tgt - 1;
        let mut ppo = bufm - 1;
        for icount in 1..range {
            let cross_dot = cross[icount];
            if stage == 0 {
                energy[icount] = energy[icount - 1] + buf[ppi] * buf[ppi] - buf[ppo] * buf[ppo];
                ppo -= 1;
                ppi -= 1;
                invenergy[icount] = inv(energy[icount]);
            }
            best.offer(stage, cross_dot, invenergy[icount], icount);
        }
        // The augmented part of the main section, full search.
        if ltarget == SUBL {
            search_augmented_cb(
                20,
                39,
                stage,
                base_size - ltarget / 2,
                &target,
                &buf,
                bufm,
                &mut best,
                &mut energy,
                &mut invenergy,
            );
        }
        // Restricted search of the filtered section around the best index so far.
        let base_index = best.index as i32;
        let range_i = range as i32;
        let bs = base_size as i32;
        let mut s_ind_aug = 0i32;
        let mut e_ind_aug = 0i32;
        let mut s_ind = base_index - CB_RESRANGE / 2;
        let mut e_ind = s_ind + CB_RESRANGE;
        if ltarget == SUBL {
            if s_ind < 0 {
                s_ind_aug = 40 + s_ind;
                e_ind_aug = 39;
                s_ind = 0;
            } else if base_index < bs - 20 {
                if e_ind > range_i {
                    s_ind -= e_ind - range_i;
                    e_ind = range_i;
                }
            } else if s_ind < bs - 20 {
                s_ind_aug = 20;
                s_ind = 0;
                e_ind = 0;
                e_ind_aug = 19 + CB_RESRANGE;
                if e_ind_aug > 39 {
                    e_ind = e_ind_aug - 39;
                    e_ind_aug = 39;
                }
            } else {
                s_ind_aug = 20 + s_ind - (bs - 20);
                e_ind_aug = 39;
                s_ind = 0;
                e_ind = CB_RESRANGE - (e_ind_aug - s_ind_aug + 1);
            }
        } else {
            if s_ind < 0 {
                e_ind -= s_ind;
                s_ind = 0;
            }
            if e_ind > range_i {
                s_ind -= e_ind - range_i;
                e_ind = range_i;
            }
        }
        let counter = s_ind.max(0) as usize;
        let s_ind = (s_ind + bs).max(0) as usize;
        let e_ind = (e_ind + bs).max(0) as usize;
        if stage == 0 {
            let mut e = 0.0f32;
            for &x in &cbvectors[lmem - tgt..lmem] {
                e += x * x;
            }
            energy[base_size] = e;
            let mut ppi = lmem - 1 - tgt;
            let mut ppo = lmem - 1;
            for j in 0..range - 1 {
                energy[base_size + j + 1] = energy[base_size + j] + cbvectors[ppi] * cbvectors[ppi]
                    - cbvectors[ppo] * cbvectors[ppo];
                ppo -= 1;
                ppi = ppi.saturating_sub(1);
            }
        }
        // Filtered vector `counter` starts at lmem - tgt - counter.
        let e_ind = e_ind.min(CB_EXPAND_SIZE);
        let n_filt = e_ind.saturating_sub(s_ind);
        if n_filt > 0 {
            let last = lmem - tgt - (counter + n_filt - 1);
            dots_descending(&target[..tgt], &cbvectors, last, &mut cross[..n_filt]);
        }
        for icount in s_ind..e_ind {
            let cross_dot = cross[icount - s_ind];
            invenergy[icount] = inv(energy[icount]);
            best.offer(stage, cross_dot, invenergy[icount], icount);
        }
        // The augmented part of the filtered section, inside the restricted range.
        if ltarget == SUBL && s_ind_aug != 0 {
            search_augmented_cb(
                s_ind_aug as usize,
                e_ind_aug as usize,
                stage,
                2 * base_size - 20,
                &target,
                &cbvectors,
                lmem,
                &mut best,
                &mut energy,
                &mut invenergy,
            );
        }
        index[stage] = best.index as i32;
        // Gain quantization.
        let (gain, gi) = if stage == 0 {
            gainquant(best.gain.clamp(0.0, CB_MAXGAIN), 1.0, 32)
        } else if stage == 1 {
            gainquant(best.gain, f64::from(gains[0]).abs() as f32, 16)
        } else {
            gainquant(best.gain, f64::from(gains[1]).abs() as f32, 8)
        };
        gain_index[stage] = gi as i32;
        // The chosen vector.
        let bi = best.index;
        let pp: &[f32] = if ltarget == extra_len {
            if bi < base_size {
                let s = bufm - tgt - bi;
                &buf[s..s + tgt]
            } else {
                let s = lmem + base_size - tgt - bi;
                &cbvectors[s..s + tgt]
            }
        } else if bi < base_size {
            if bi < base_size - 20 {
                let s = bufm - tgt - bi;
                &buf[s..s + tgt]
            } else {
                create_augmented_vec(bi + 40 - base_size, &buf, bufm, &mut aug_vec);
                &aug_vec[..tgt]
            }
        } else {
            let filterno = bi / base_size;
            let position = bi - filterno * base_size;
            if position < base_size - 20 {
                let s = filterno * lmem + filterno * base_size - tgt - bi;
                &cbvectors[s..s + tgt]
            } else {
                create_augmented_vec(
                    bi + 40 - (filterno + 1) * base_size,
                    &cbvectors,
                    filterno * lmem,
                    &mut aug_vec,
                );
                &aug_vec[..tgt]
            }
        };
        for j in 0..tgt {
            cvec[j] += gain * pp[j];
            target[j] -= gain * pp[j];
        }
        gains[stage] = gain;
    }

    // Gain adjustment for energy matching.
    let mut cene = 0.0f32;
    for &c in &cvec[..tgt] {
        cene += c * c;
    }
    let mut j = gain_index[0] as usize;
    for (i, &g) in GAIN_SQ5.iter().enumerate().skip(gain_index[0] as usize) {
        let ftmp = cene * g * g;
        if ftmp < tene * gains[0] * gains[0] && f64::from(GAIN_SQ5[j]) < 2.0 * f64::from(gains[0]) {
            j = i;
        }
    }
    gain_index[0] = j as i32;
}
