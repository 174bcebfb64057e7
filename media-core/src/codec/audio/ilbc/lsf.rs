//! Line spectral frequencies (RFC 3951 section 3.2, A.40 lsf.c, parts of A.26 helpfun.c and
//! A.36 LPCdecode.c): conversion between LPC and LSF, the split vector quantizer, the
//! stability check.

use super::constants::{
    DIM_LSF_CB, FLOAT_MAX, LSF_NSPLIT, ORDER, ORDER1, PI2, SIZE_LSF_CB, TWO_PI,
};
use super::tables::LSF_CB;

const HALFORDER: usize = ORDER / 2;

/// `(float)cos(x)` of the C code: the cosine taken in double.
#[inline]
fn cosf(x: f32) -> f32 {
    f64::from(x).cos() as f32
}

/// LPC coefficients (`a[0]` = 1) to LSFs in radians.
pub(crate) fn a2lsf(freq: &mut [f32], a: &[f32; ORDER1]) {
    const STEPS: [f32; 4] = [
        0.00635_f64 as f32,
        0.003175_f64 as f32,
        0.0015875_f64 as f32,
        0.00079375_f64 as f32,
    ];
    let mut p = [0.0f32; HALFORDER];
    let mut q = [0.0f32; HALFORDER];
    for i in 0..HALFORDER {
        p[i] = -(a[i + 1] + a[ORDER - i]);
        q[i] = a[ORDER - i] - a[i + 1];
    }
    let mut p_pre = [0.0f32; HALFORDER];
    let mut q_pre = [0.0f32; HALFORDER];
    p_pre[0] = -1.0f32 - p[0];
    p_pre[1] = -p_pre[0] - p[1];
    p_pre[2] = -p_pre[1] - p[2];
    p_pre[3] = -p_pre[2] - p[3];
    p_pre[4] = -p_pre[3] - p[4];
    p_pre[4] /= 2.0;
    q_pre[0] = 1.0f32 - q[0];
    q_pre[1] = q_pre[0] - q[1];
    q_pre[2] = q_pre[1] - q[2];
    q_pre[3] = q_pre[2] - q[3];
    q_pre[4] = q_pre[3] - q[4];
    q_pre[4] /= 2.0;

    let mut omega = 0.0f32;
    let mut old_omega = 0.0f32;
    let mut old_p = FLOAT_MAX;
    let mut old_q = FLOAT_MAX;
    for (lsp_index, f) in freq.iter_mut().enumerate().take(ORDER) {
        let (pq, old) = if lsp_index & 1 == 0 {
            (&p_pre, &mut old_p)
        } else {
            (&q_pre, &mut old_q)
        };
        let mut step_idx = 0;
        let mut step = STEPS[0];
        while step_idx < STEPS.len() {
            let hlp = cosf(omega * TWO_PI);
            let hlp1 = 2.0f32 * hlp + pq[0];
            let hlp2 = 2.0f32 * hlp * hlp1 - 1.0f32 + pq[1];
            let hlp3 = 2.0f32 * hlp * hlp2 - hlp1 + pq[2];
            let hlp4 = 2.0f32 * hlp * hlp3 - hlp2 + pq[3];
            let hlp5 = hlp * hlp4 - hlp3 + pq[4];
            if hlp5 * *old <= 0.0 || omega >= 0.5 {
                if step_idx == STEPS.len() - 1 {
                    *f = if hlp5.abs() >= old.abs() {
                        omega - step
                    } else {
                        omega
                    };
                    *old = if *old >= 0.0 { -FLOAT_MAX } else { FLOAT_MAX };
                    omega = old_omega;
                    step_idx = STEPS.len();
                } else {
                    if step_idx == 0 {
                        old_omega = omega;
                    }
                    step_idx += 1;
                    omega -= STEPS[step_idx];
                    step = STEPS[step_idx];
                }
            } else {
                *old = hlp5;
                omega += step;
            }
        }
    }
    for f in freq.iter_mut().take(ORDER) {
        *f *= TWO_PI;
    }
}

/// LSFs in radians to LPC coefficients. `freq` is scratch (the reference scales it in place).
pub(crate) fn lsf2a(a_coef: &mut [f32], freq: &mut [f32; ORDER]) {
    for f in freq.iter_mut() {
        *f *= PI2;
    }
    // Ill-conditioned input (not in the TIA standard, per the reference's comment).
    if freq[0] <= 0.0 || freq[ORDER - 1] >= 0.5 {
        if freq[0] <= 0.0 {
            freq[0] = 0.022_f64 as f32;
        }
        if freq[ORDER - 1] >= 0.5 {
            freq[ORDER - 1] = 0.499_f64 as f32;
        }
        let hlp = (freq[ORDER - 1] - freq[0]) / (ORDER - 1) as f32;
        for i in 1..ORDER {
            freq[i] = freq[i - 1] + hlp;
        }
    }
    let mut a1 = [0.0f32; HALFORDER];
    let mut a2 = [0.0f32; HALFORDER];
    let mut b1 = [0.0f32; HALFORDER];
    let mut b2 = [0.0f32; HALFORDER];
    let mut a = [0.0f32; HALFORDER + 1];
    let mut b = [0.0f32; HALFORDER + 1];
    let mut p = [0.0f32; HALFORDER];
    let mut q = [0.0f32; HALFORDER];
    for i in 0..HALFORDER {
        p[i] = cosf(TWO_PI * freq[2 * i]);
        q[i] = cosf(TWO_PI * freq[2 * i + 1]);
    }
    a[0] = 0.25;
    b[0] = 0.25;
    for i in 0..HALFORDER {
        a[i + 1] = a[i] - 2.0 * p[i] * a1[i] + a2[i];
        b[i + 1] = b[i] - 2.0 * q[i] * b1[i] + b2[i];
        a2[i] = a1[i];
        a1[i] = a[i];
        b2[i] = b1[i];
        b1[i] = b[i];
    }
    for j in 0..ORDER {
        if j == 0 {
            a[0] = 0.25;
            b[0] = -0.25;
        } else {
            a[0] = 0.0;
            b[0] = 0.0;
        }
        for i in 0..HALFORDER {
            a[i + 1] = a[i] - 2.0 * p[i] * a1[i] + a2[i];
            b[i + 1] = b[i] - 2.0 * q[i] * b1[i] + b2[i];
            a2[i] = a1[i];
            a1[i] = a[i];
            b2[i] = b1[i];
            b1[i] = b[i];
        }
        a_coef[j + 1] = 2.0 * (a[HALFORDER] + b[HALFORDER]);
    }
    a_coef[0] = 1.0;
}

/// Keeps the LSFs of `lsf` (`n` vectors of 10) apart and in range; true if any changed.
pub(crate) fn lsf_check(lsf: &mut [f32], n: usize) -> bool {
    let eps = 0.039_f64 as f32;
    let eps2 = 0.0195_f64 as f32;
    #[allow(clippy::approx_constant)] // 4000 Hz, as the reference has it
    let maxlsf = 3.14_f64 as f32;
    let minlsf = 0.01_f64 as f32;
    let mut change = false;
    for _ in 0..2 {
        for m in 0..n {
            for k in 0..ORDER - 1 {
                let pos = m * ORDER + k;
                if lsf[pos + 1] - lsf[pos] < eps {
                    if lsf[pos + 1] < lsf[pos] {
                        lsf[pos + 1] = lsf[pos] + eps2;
                        lsf[pos] = lsf[pos + 1] - eps2;
                    } else {
                        lsf[pos] -= eps2;
                        lsf[pos + 1] += eps2;
                    }
                    change = true;
                }
                if lsf[pos] < minlsf {
                    lsf[pos] = minlsf;
                    change = true;
                }
                if lsf[pos] > maxlsf {
                    lsf[pos] = maxlsf;
                    change = true;
                }
            }
        }
    }
    change
}

/// Nearest codebook vector by squared error: writes it to `xq` and returns its index.
fn vq(xq: &mut [f32], cb: &[f32], x: &[f32], n_cb: usize, dim: usize) -> usize {
    let mut mindist = FLOAT_MAX;
    let mut minindex = 0;
    for j in 0..n_cb {
        let c = &cb[j * dim..j * dim + dim];
        let mut dist = x[0] - c[0];
        dist *= dist;
        for i in 1..dim {
            let tmp = x[i] - c[i];
            dist += tmp * tmp;
        }
        if dist < mindist {
            mindist = dist;
            minindex = j;
        }
    }
    xq[..dim].copy_from_slice(&cb[minindex * dim..minindex * dim + dim]);
    minindex
}

/// Split VQ of one LSF vector: indices into `index[..3]`, the quantized vector into `qx`.
pub(crate) fn split_vq(qx: &mut [f32], index: &mut [i32], x: &[f32]) {
    let mut cb_pos = 0;
    let mut x_pos = 0;
    for i in 0..LSF_NSPLIT {
        let (dim, size) = (DIM_LSF_CB[i], SIZE_LSF_CB[i]);
        index[i] = vq(&mut qx[x_pos..], &LSF_CB[cb_pos..], &x[x_pos..], size, dim) as i32;
        x_pos += dim;
        cb_pos += dim * size;
    }
}

/// Dequantized LSFs of `lpc_n` vectors from their split-VQ indices (A.36 SimplelsfDEQ).
/// Indices are masked to their codebook sizes (they come from fields of that many bits).
pub(crate) fn lsf_dequant(lsfdeq: &mut [f32], index: &[i32], lpc_n: usize) {
    for n in 0..lpc_n {
        let mut pos = 0;
        let mut cb_pos = 0;
        for i in 0..LSF_NSPLIT {
            let (dim, size) = (DIM_LSF_CB[i], SIZE_LSF_CB[i]);
            let idx = index[n * LSF_NSPLIT + i] as usize % size;
            let src = &LSF_CB[cb_pos + idx * dim..cb_pos + idx * dim + dim];
            lsfdeq[n * ORDER + pos..n * ORDER + pos + dim].copy_from_slice(src);
            pos += dim;
            cb_pos += size * dim;
        }
    }
}
