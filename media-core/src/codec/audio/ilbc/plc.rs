//! Packet loss concealment (RFC 3951 section 4.5, A.14 doCPLC.c): a lost frame's residual is a
//! mix of pitch repetition and noise drawn from the last good residual, and its LPC filter the
//! last good one.

use super::constants::{BLOCKL_MAX, ORDER1};

/// The concealment's memory of the last frame.
#[derive(Debug, Clone)]
pub(crate) struct PlcState {
    prev_lag: i32,
    cons_pli_count: i32,
    prev_pli: bool,
    prev_lpc: [f32; ORDER1],
    prev_residual: [f32; BLOCKL_MAX],
    per: f32,
    seed: u64,
}

impl PlcState {
    pub(crate) fn new() -> Self {
        let mut prev_lpc = [0.0; ORDER1];
        prev_lpc[0] = 1.0;
        Self {
            prev_lag: 120,
            cons_pli_count: 0,
            prev_pli: false,
            prev_lpc,
            prev_residual: [0.0; BLOCKL_MAX],
            per: 0.0,
            seed: 777,
        }
    }
}

/// Cross-correlation and pitch gain of the last `s_range` samples of `buffer[..b_len]` at
/// `lag`: (squared correlation over energy, gain, normalized correlation).
fn comp_corr(buffer: &[f32], lag: i32, b_len: usize, s_range: i32) -> (f32, f32, f32) {
    let b = b_len as i32;
    let mut s = s_range;
    if b - s - lag < 0 {
        s = b - lag;
    }
    let mut ftmp1 = 0.0f32;
    let mut ftmp2 = 0.0f32;
    let mut ftmp3 = 0.0f32;
    if lag >= 0 {
        for i in 0..s.max(0) {
            let a = (b - s + i) as usize;
            let l = (b - s + i - lag) as usize;
            ftmp1 += buffer[a] * buffer[l];
            ftmp2 += buffer[l] * buffer[l];
            ftmp3 += buffer[a] * buffer[a];
        }
    }
    if ftmp2 > 0.0 {
        let cc = ftmp1 * ftmp1 / ftmp2;
        let gc = f64::from(ftmp1 / ftmp2).abs() as f32;
        let pm = f64::from(ftmp1).abs() as f32
            / (f64::from(ftmp2).sqrt() as f32 * f64::from(ftmp3).sqrt() as f32);
        (cc, gc, pm)
    } else {
        (0.0, 0.0, 0.0)
    }
}

/// Conceals (`lost`) or records (not `lost`) one frame: writes the residual to use into
/// `plc_residual[..blockl]` and its LPC filter into `plc_lpc`. `decresidual` and `lpc` are the
/// decoded frame's (ignored when lost); `inlag` is the enhancer's last pitch lag.
#[allow(clippy::too_many_arguments)]
pub(crate) fn do_the_plc(
    st: &mut PlcState,
    plc_residual: &mut [f32],
    plc_lpc: &mut [f32; ORDER1],
    lost: bool,
    decresidual: &[f32],
    lpc: &[f32],
    inlag: i32,
    blockl: usize,
) {
    let mut lag = 20;
    let mut max_per = 0.0f32;
    if lost {
        st.cons_pli_count += 1;
        if !st.prev_pli {
            // Search around the previous lag for the best pitch period.
            lag = inlag - 3;
            let (mut maxcc, _gain, per) = comp_corr(&st.prev_residual, lag, blockl, 60);
            max_per = per;
            for i in inlag - 2..=inlag + 3 {
                let (cc, _gc, per) = comp_corr(&st.prev_residual, i, blockl, 60);
                if cc > maxcc {
                    maxcc = cc;
                    lag = i;
                    max_per = per;
                }
            }
        } else {
            lag = st.prev_lag;
            max_per = st.per;
        }
        // Down-scaling. (The reference tests the smallest threshold first, so only 0.9 is
        // ever used after 320 samples; kept as it is.)
        let n = st.cons_pli_count * blockl as i32;
        let use_gain: f32 = if n > 320 {
            0.9_f64 as f32
        } else if n > 2 * 320 {
            0.7_f64 as f32
        } else if n > 3 * 320 {
            0.5_f64 as f32
        } else if n > 4 * 320 {
            0.0
        } else {
            1.0
        };
        // Mix of noise and pitch repetition.
        let ftmp = f64::from(max_per).sqrt() as f32;
        let pitchfact = if ftmp > 0.7_f64 as f32 {
            1.0f32
        } else if ftmp > 0.4_f64 as f32 {
            (ftmp - 0.4_f64 as f32) / (0.7_f64 as f32 - 0.4_f64 as f32)
        } else {
            0.0
        };
        // Avoid repeating the same pitch cycle.
        let use_lag = if lag < 80 { 2 * lag } else { lag };
        let mut randvec = [0.0f32; BLOCKL_MAX];
        let mut energy = 0.0f32;
        let b = blockl as i32;
        for i in 0..blockl {
            let ii = i as i32;
            st.seed = (st.seed.wrapping_mul(69069).wrapping_add(1)) & (0x8000_0000 - 1);
            let randlag = 50 + (st.seed % 70) as i32;
            let pick = ii - randlag;
            randvec[i] = if pick < 0 {
                st.prev_residual[(b + pick) as usize]
            } else {
                randvec[pick as usize]
            };
            let pick = ii - use_lag;
            let pitch = if pick < 0 {
                // The reference reads before its buffer when the lag exceeds the frame (see
                // the vectors' README); take those samples as zero.
                let k = b + pick;
                if k >= 0 {
                    st.prev_residual[k as usize]
                } else {
                    0.0
                }
            } else {
                plc_residual[pick as usize]
            };
            let mix = pitchfact * pitch + (1.0f32 - pitchfact) * randvec[i];
            plc_residual[i] = if i < 80 {
                use_gain * mix
            } else if i < 160 {
                0.95_f64 as f32 * use_gain * mix
            } else {
                0.9_f64 as f32 * use_gain * mix
            };
            energy += plc_residual[i] * plc_residual[i];
        }
        // Less than 30 dB: noise only.
        if f64::from(energy / blockl as f32).sqrt() < 30.0 {
            plc_residual[..blockl].copy_from_slice(&randvec[..blockl]);
        }
        plc_lpc.copy_from_slice(&st.prev_lpc);
    } else {
        plc_residual[..blockl].copy_from_slice(&decresidual[..blockl]);
        plc_lpc.copy_from_slice(&lpc[..ORDER1]);
        st.cons_pli_count = 0;
    }
    if lost {
        st.prev_lag = lag;
        st.per = max_per;
    }
    st.prev_pli = lost;
    st.prev_lpc.copy_from_slice(plc_lpc);
    st.prev_residual[..blockl].copy_from_slice(&plc_residual[..blockl]);
}
