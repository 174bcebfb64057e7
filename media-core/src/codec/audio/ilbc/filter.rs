//! Filters (RFC 3951 A.10 anaFilter, A.18 filter.c, A.28/A.30 hpInput/hpOutput, A.48
//! syntFilter). The C code works on pointers whose negative offsets hold filter state; here a
//! slice and a start index play that role, and every sum is formed in the C code's order.

use super::constants::{DELAY_DS, FACTOR_DS, FILTERORDER_DS, ORDER};
use super::tables::{HPI_POLE, HPI_ZERO, HPO_POLE, HPO_ZERO};

/// All-pole filter of order 10 in place on `buf[start..start + len]` (the common case).
#[inline]
pub(crate) fn all_pole10(buf: &mut [f32], start: usize, len: usize, coef: &[f32]) {
    let c: &[f32; ORDER + 1] = match coef.get(..ORDER + 1).and_then(|c| c.try_into().ok()) {
        Some(c) => c,
        None => return,
    };
    for n in start..start + len {
        let h: &[f32; ORDER] = match buf[n - ORDER..n].try_into() {
            Ok(h) => h,
            Err(_) => return,
        };
        let mut acc = buf[n];
        acc -= c[1] * h[9];
        acc -= c[2] * h[8];
        acc -= c[3] * h[7];
        acc -= c[4] * h[6];
        acc -= c[5] * h[5];
        acc -= c[6] * h[4];
        acc -= c[7] * h[3];
        acc -= c[8] * h[2];
        acc -= c[9] * h[1];
        acc -= c[10] * h[0];
        buf[n] = acc;
    }
}

/// Pole-zero filter: `input[in_start..in_start + len]` (state in the `order` samples before)
/// through the zeros, then the poles, into `out[out_start..]` (pole state in the `order` samples
/// before `out_start`).
pub(crate) fn zero_pole(
    input: &[f32],
    in_start: usize,
    zero: &[f32],
    pole: &[f32],
    len: usize,
    out: &mut [f32],
    out_start: usize,
) {
    // AllZeroFilter
    for n in 0..len {
        let i = in_start + n;
        let mut acc = zero[0] * input[i];
        for k in 1..=ORDER {
            acc += zero[k] * input[i - k];
        }
        out[out_start + n] = acc;
    }
    all_pole10(out, out_start, len, pole);
}

/// Down-sampling by 2 with a low-pass filter (the enhancer's pitch estimation). `state` holds
/// the 6 samples before `input`. Writes `input.len() / 2` samples (for the even lengths the
/// enhancer uses) and returns how many.
pub(crate) fn down_sample(input: &[f32], coef: &[f32], state: &[f32; 6], out: &mut [f32]) -> usize {
    let len_in = input.len();
    let mut o_idx = 0;
    let mut i = DELAY_DS;
    while i < len_in {
        let mut o = 0.0f32;
        let stop = if i < FILTERORDER_DS {
            i + 1
        } else {
            FILTERORDER_DS
        };
        let mut c = 0;
        for j in 0..stop {
            o += coef[c] * input[i - j];
            c += 1;
        }
        // state_ptr starts at state[FILTERORDER_DS - 2] and walks down.
        let mut s = FILTERORDER_DS as isize - 2;
        for _ in i + 1..FILTERORDER_DS {
            o += coef[c] * state[s as usize];
            c += 1;
            s -= 1;
        }
        out[o_idx] = o;
        o_idx += 1;
        i += FACTOR_DS;
    }
    // The last part (zeros as future input).
    let mut i = len_in + FACTOR_DS;
    while i < len_in + DELAY_DS {
        let mut o = 0.0f32;
        // i >= len_in always here (the reference's other branch cannot run).
        for (&c, &x) in coef[i - len_in..FILTERORDER_DS]
            .iter()
            .zip(input.iter().rev())
        {
            o += c * x;
        }
        out[o_idx] = o;
        o_idx += 1;
        i += FACTOR_DS;
    }
    o_idx
}

fn hp(input: &[f32], out: &mut [f32], mem: &mut [f32; 4], zero: &[f32; 3], pole: &[f32; 3]) {
    // All-zero section.
    for (o, &x) in out.iter_mut().zip(input) {
        let mut y = zero[0] * x;
        y += zero[1] * mem[0];
        y += zero[2] * mem[1];
        *o = y;
        mem[1] = mem[0];
        mem[0] = x;
    }
    // All-pole section.
    for o in out.iter_mut().take(input.len()) {
        let mut y = *o;
        y -= pole[1] * mem[2];
        y -= pole[2] * mem[3];
        *o = y;
        mem[3] = mem[2];
        mem[2] = y;
    }
}

/// The encoder's input high-pass filter.
pub(crate) fn hp_input(input: &[f32], out: &mut [f32], mem: &mut [f32; 4]) {
    hp(input, out, mem, &HPI_ZERO, &HPI_POLE);
}

/// The decoder's output high-pass filter.
pub(crate) fn hp_output(input: &[f32], out: &mut [f32], mem: &mut [f32; 4]) {
    hp(input, out, mem, &HPO_ZERO, &HPO_POLE);
}

/// LP analysis filter of `input` into `out` with state `mem` (the last 10 inputs).
pub(crate) fn ana_filter(input: &[f32], a: &[f32], out: &mut [f32], mem: &mut [f32; ORDER]) {
    let len = input.len();
    for i in 0..ORDER.min(len) {
        let mut acc = 0.0f32;
        for j in 0..=i {
            acc += a[j] * input[i - j];
        }
        for j in i + 1..=ORDER {
            acc += a[j] * mem[ORDER + i - j];
        }
        out[i] = acc;
    }
    for i in ORDER..len {
        let mut acc = 0.0f32;
        for j in 0..=ORDER {
            acc += a[j] * input[i - j];
        }
        out[i] = acc;
    }
    if len >= ORDER {
        mem.copy_from_slice(&input[len - ORDER..]);
    }
}

/// LP synthesis filter in place on `data` with state `mem` (the last 10 outputs).
pub(crate) fn synt_filter(data: &mut [f32], a: &[f32], mem: &mut [f32; ORDER]) {
    let len = data.len();
    for i in 0..ORDER.min(len) {
        let mut acc = data[i];
        for j in 1..=i {
            acc -= a[j] * data[i - j];
        }
        for j in i + 1..=ORDER {
            acc -= a[j] * mem[ORDER + i - j];
        }
        data[i] = acc;
    }
    for i in ORDER..len {
        let h: &[f32; ORDER] = match data[i - ORDER..i].try_into() {
            Ok(h) => h,
            Err(_) => return,
        };
        let mut acc = data[i];
        for j in 1..=ORDER {
            acc -= a[j] * h[ORDER - j];
        }
        data[i] = acc;
    }
    if len >= ORDER {
        mem.copy_from_slice(&data[len - ORDER..]);
    }
}
