//! Our own inference of earshot's VAD network (`earshot::DefaultPredictor`, earshot 1.2.2),
//! for media-core's VAD: the same weights (`src/weights.bin`, earshot's `weights.bin`; see
//! `README.md` for its origin and licence) and the same arithmetic, laid out so that the
//! compiler vectorises it.
//!
//! The network: the 40 log-mel features of a hop normalised by their RMS and a per-band weight;
//! over the last three hops' features a 3x3 depthwise convolution, 16 pointwise channels and a
//! max-pool (3, stride 2) with ReLU; two depthwise (3, stride 2, padding 1) + pointwise 16x16
//! convolutions (f32); the second one's output quantised to i16 (Q15) and fed to two minGRU
//! layers of 64 units (i16 weights in Q9, i32 sums, i16 state); a dense output of the 128
//! state values and a sigmoid.
//!
//! # Same results
//!
//! Every f32 sum is taken in earshot's order (vectorised across independent outputs, never
//! across the terms of one sum), with separate multiplies and adds as earshot's code, so the
//! f32 values are earshot's bit for bit and so is everything after them: the i16 rounding and
//! saturation, the i32 sums (wrapping, as earshot's in a release build; integer sums do not
//! depend on their order), the gate and the state update in i64. Earshot's zero padding is
//! explicit zeros here: a zero term changes no non-zero sum, and a sum that is zero either way
//! rounds to the same i16. The test `model_matches_earshot` (media-core's `vad_net.rs`) checks
//! the normalised features and the scores against `earshot::DefaultPredictor` over real speech
//! in noise, and `model_matches_earshot_when_saturated` (below) on features far out of range.
//!
//! # Cost
//!
//! The weights are parsed into aligned arrays at compile time (const functions, no `unsafe`),
//! the two convolutions run sixteen channels in four SSE registers, and the minGRU and output
//! dot products are i16 x i16 -> i32 sums that LLVM turns into `pmaddwd`: about 29 000
//! instructions per 16 ms hop against earshot's 53 000 (callgrind, media-bench's
//! `vad_profile`). Nothing allocates.
//!
//! The crate is separate from media-core so that it can be built optimised in debug profiles
//! (unoptimised it is about 30 times slower, and every processing test runs the VAD).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

/// Earshot's weights file (little-endian f32 then i16 values).
const WEIGHTS: &[u8] = include_bytes!("weights.bin");

/// Mel bands per hop.
pub const FEATURES: usize = 40;
/// Hops of features the network sees.
pub const FRAMES: usize = 3;
/// Channels of the convolutions.
const CH: usize = 16;
/// Outputs of the first depthwise convolution (40 - 3 + 1).
const DW1: usize = FEATURES - 2;
/// Outputs of the first max-pool ((38 - 3) / 2 + 1).
const POOL1: usize = 18;
/// Outputs of the second convolution.
const OUT2: usize = 9;
/// Outputs of the third convolution.
const OUT3: usize = 5;
/// Inputs of the first minGRU (5 x 16, quantised).
const GRU1_IN: usize = OUT3 * CH;
/// Units per minGRU.
const UNITS: usize = 64;
/// Rows per minGRU: the candidate and the gate of each unit.
const ROWS: usize = 2 * UNITS;
/// The gate's 1.0 in Q24 (minus one, as earshot).
const ONE_Q24: i64 = 16_777_215;

/// The `i`-th little-endian f32 of the weights.
const fn f32_at(i: usize) -> f32 {
    let b = 4 * i;
    f32::from_le_bytes([WEIGHTS[b], WEIGHTS[b + 1], WEIGHTS[b + 2], WEIGHTS[b + 3]])
}

/// `N` f32 weights from f32 offset `off`.
const fn f32s<const N: usize>(off: usize) -> [f32; N] {
    let mut out = [0.0; N];
    let mut i = 0;
    while i < N {
        out[i] = f32_at(off + i);
        i += 1;
    }
    out
}

/// A 16x16 pointwise weight matrix at f32 offset `off` (row `oc`, column `c`), transposed to
/// `[c][oc]` so that the sixteen outputs of one input channel are contiguous.
const fn pointwise_transposed(off: usize) -> [[f32; CH]; CH] {
    let mut out = [[0.0; CH]; CH];
    let mut oc = 0;
    while oc < CH {
        let mut c = 0;
        while c < CH {
            out[c][oc] = f32_at(off + oc * CH + c);
            c += 1;
        }
        oc += 1;
    }
    out
}

/// `R` rows of `C` i16 weights from f32 offset `off` (earshot counts i16 offsets in f32s).
const fn i16_rows<const R: usize, const C: usize>(off: usize) -> [[i16; C]; R] {
    let mut out = [[0; C]; R];
    let mut r = 0;
    while r < R {
        let mut c = 0;
        while c < C {
            let b = 4 * off + 2 * (r * C + c);
            out[r][c] = i16::from_le_bytes([WEIGHTS[b], WEIGHTS[b + 1]]);
            c += 1;
        }
        r += 1;
    }
    out
}

const _: () = assert!(WEIGHTS.len() == 39940);

/// Per-band weights of the normalisation.
static NORM_WEIGHT: [f32; FEATURES] = f32s(0);
/// 3x3 depthwise kernel of the first layer, row-major (hop, band).
static L1_KERNEL: [f32; 9] = f32s(40);
/// Pointwise weights and biases of the first layer (one input channel).
static L1_WEIGHT: [f32; CH] = f32s(49);
static L1_BIAS: [f32; CH] = f32s(65);
/// Depthwise kernels (3 per channel), transposed pointwise weights and biases of layer 2.
static L2_KERNEL: [f32; 3 * CH] = f32s(81);
static L2_WEIGHT_T: [[f32; CH]; CH] = pointwise_transposed(129);
static L2_BIAS: [f32; CH] = f32s(385);
/// Depthwise kernels and transposed pointwise weights of layer 3 (no bias).
static L3_KERNEL: [f32; 3 * CH] = f32s(401);
static L3_WEIGHT_T: [[f32; CH]; CH] = pointwise_transposed(449);
/// The minGRUs' weights: row `d` gives candidate `d` (< 64) or gate `d - 64`, Q9.
static GRU1_WEIGHT: [[i16; GRU1_IN]; ROWS] = i16_rows(705);
static GRU2_WEIGHT: [[i16; UNITS]; ROWS] = i16_rows(5825);
/// Output weights over the 128 state values, Q9.
static OUT_WEIGHT: [[i16; ROWS]; 1] = i16_rows(9921);

/// Earshot's VAD network with its recurrent state: [`VadModel::normalize`] each hop's
/// log-mel features, then [`VadModel::predict`] over the last three.
#[derive(Clone, Debug)]
pub struct VadModel {
    /// The two minGRUs' states (Q15), first then second.
    state: [i16; ROWS],
}

impl Default for VadModel {
    fn default() -> Self {
        Self::new()
    }
}

impl VadModel {
    /// A network with zero state.
    pub const fn new() -> Self {
        Self { state: [0; ROWS] }
    }

    /// Zeroes the state (as `Predictor::reset`).
    pub fn reset(&mut self) {
        self.state = [0; ROWS];
    }

    /// The recurrent state (as earshot's `DefaultPredictor` holds it): the first minGRU's 64
    /// values then the second's, Q15.
    pub fn state(&self) -> &[i16; ROWS] {
        &self.state
    }

    /// Normalises one hop's 40 log-mel features in place (as `Predictor::normalize`).
    pub fn normalize(features: &mut [f32; FEATURES]) {
        // A serial sum, in earshot's order.
        let mut sum = 0.0f32;
        for &x in features.iter() {
            sum += x * x;
        }
        let i_rms = (sum / FEATURES as f32).sqrt().recip();
        for (v, &w) in features.iter_mut().zip(&NORM_WEIGHT) {
            *v = w * *v * i_rms;
        }
    }

    /// The score (0..1) of the last three hops' normalised features, oldest first, and the
    /// state's update (as `Predictor::predict`).
    pub fn predict(&mut self, features: &[[f32; FEATURES]; FRAMES]) -> f32 {
        let pooled = layer1(features);
        let l2 = layer2(&pooled);
        let x = layer3(&l2);
        let (s1, s2) = self.state.split_at_mut(UNITS);
        mingru(&x, s1, &GRU1_WEIGHT);
        let s1: &[i16] = s1;
        let mut x2 = [0i16; UNITS];
        x2.copy_from_slice(s1);
        mingru(&x2, s2, &GRU2_WEIGHT);
        let out = dot(&self.state, &OUT_WEIGHT[0]);
        1.0 / (1.0 + (-(out as f32 / 16_777_216.0)).exp())
    }
}

/// Layer 1 over all 16 channels: depthwise 3x3, pointwise, max-pool with ReLU. Returns per
/// channel the 18 pooled values after one zero (layer 2's left padding) and before one.
#[inline(never)]
fn layer1(features: &[[f32; FEATURES]; FRAMES]) -> [[f32; POOL1 + 2]; CH] {
    // row[ox] = sum over (kh, kw) in order of features[kh][ox + kw] * kernel[kh][kw].
    let mut row = [0.0f32; DW1];
    for (kh, hop) in features.iter().enumerate() {
        for kw in 0..3 {
            let k = L1_KERNEL[kh * 3 + kw];
            let f = &hop[kw..kw + DW1];
            for (r, &x) in row.iter_mut().zip(f) {
                *r += x * k;
            }
        }
    }
    let mut out = [[0.0f32; POOL1 + 2]; CH];
    for (o, (&w, &b)) in out.iter_mut().zip(L1_WEIGHT.iter().zip(&L1_BIAS)) {
        let mut nr = [0.0f32; DW1];
        for (n, &r) in nr.iter_mut().zip(&row) {
            *n = r * w + b;
        }
        for (q, p) in o[1..=POOL1].iter_mut().enumerate() {
            let m = 0.0f32.max(nr[2 * q]);
            let m = m.max(nr[2 * q + 1]);
            *p = m.max(nr[2 * q + 2]);
        }
    }
    out
}

/// Depthwise (3 taps at stride 2 over the zero-padded input) then pointwise for output column
/// `ox`: the sixteen output channels' sums before bias, in earshot's order.
#[inline(always)]
fn conv_column<const W: usize>(
    input: &[[f32; W]; CH],
    kernel: &[f32; 3 * CH],
    weight_t: &[[f32; CH]; CH],
    ox: usize,
) -> [f32; CH] {
    let mut acc = [0.0f32; CH];
    for c in 0..CH {
        let x = &input[c][2 * ox..2 * ox + 3];
        let k = &kernel[3 * c..3 * c + 3];
        let mut dw = 0.0f32;
        dw += x[0] * k[0];
        dw += x[1] * k[1];
        dw += x[2] * k[2];
        for (a, &w) in acc.iter_mut().zip(&weight_t[c]) {
            *a += dw * w;
        }
    }
    acc
}

/// Layer 2: per channel its nine outputs after one zero and before one (layer 3's padding).
#[inline(never)]
fn layer2(input: &[[f32; POOL1 + 2]; CH]) -> [[f32; OUT2 + 3]; CH] {
    let mut out = [[0.0f32; OUT2 + 3]; CH];
    for ox in 0..OUT2 {
        let acc = conv_column(input, &L2_KERNEL, &L2_WEIGHT_T, ox);
        for (oc, (&a, &b)) in acc.iter().zip(&L2_BIAS).enumerate() {
            out[oc][ox + 1] = (a + b).max(0.0);
        }
    }
    out
}

/// Layer 3, quantised to Q15: the minGRU's 80 inputs, column-major (`ox * 16 + oc`).
#[inline(never)]
fn layer3(input: &[[f32; OUT2 + 3]; CH]) -> [i16; GRU1_IN] {
    let mut out = [0i16; GRU1_IN];
    for (ox, o) in out.chunks_exact_mut(CH).enumerate() {
        let acc = conv_column(input, &L3_KERNEL, &L3_WEIGHT_T, ox);
        for (q, &a) in o.iter_mut().zip(&acc) {
            // `as` saturates, which is earshot's clamp to the i16 range.
            *q = (a * 32768.0).round() as i16;
        }
    }
    out
}

/// `sum a[i] b[i]` in i32 (wrapping): eight lanes that LLVM maps to `pmaddwd` (one per eight
/// terms) for `N` a multiple of eight. Not inlined, unrolled for `N`: inlined into the loop
/// over rows LLVM re-packed the input every row, as a loop it multiplied by `pmullw` and
/// `pmulhw`, and unrolled for 80 terms it went scalar (so 80 is summed as 64 + 16).
#[inline(never)]
fn dot_i16<const N: usize>(a: &[i16; N], b: &[i16; N]) -> i32 {
    let mut lanes = [0i32; 8];
    for (ca, cb) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for l in 0..8 {
            lanes[l] = lanes[l].wrapping_add(i32::from(ca[l]) * i32::from(cb[l]));
        }
    }
    lanes.iter().fold(0, |s, &v| s.wrapping_add(v))
}

/// `sum a[i] b[i]` in i32 (wrapping), by [`dot_i16`] on pieces of 64 and 16.
#[inline(always)]
fn dot<const N: usize>(a: &[i16; N], b: &[i16; N]) -> i32 {
    let mut sum = 0i32;
    for (ca, cb) in a.chunks(64).zip(b.chunks(64)) {
        sum = sum.wrapping_add(
            match (<&[i16; 64]>::try_from(ca), <&[i16; 64]>::try_from(cb)) {
                (Ok(ca), Ok(cb)) => dot_i16(ca, cb),
                _ => match (<&[i16; 16]>::try_from(ca), <&[i16; 16]>::try_from(cb)) {
                    (Ok(ca), Ok(cb)) => dot_i16(ca, cb),
                    _ => 0,
                },
            },
        );
    }
    sum
}

const _: () = assert!(GRU1_IN == 64 + 16 && UNITS == 64 && ROWS == 2 * 64);

/// One minGRU step: candidates and gates (Q24) from `x` (Q15) by `weight` (Q9), then
/// `h = (1 - g) h + g candidate` with the gate `4 x` clamped to 0..1, back to Q15.
#[inline(always)]
fn mingru<const N: usize>(x: &[i16; N], h: &mut [i16], weight: &[[i16; N]; ROWS]) {
    let mut t = [0i32; ROWS];
    for (t, w) in t.iter_mut().zip(weight) {
        *t = dot(x, w);
    }
    for (i, h) in h.iter_mut().enumerate().take(UNITS) {
        let g = i64::from((t[UNITS + i] << 2).clamp(0, ONE_Q24 as i32));
        let y = (ONE_Q24 - g) * (i64::from(*h) << 9) + g * i64::from(t[i]);
        *h = (y >> 33).clamp(-32768, 32767) as i16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our network against `earshot::DefaultPredictor` on seeded random features far outside
    /// the normalised range (up to 40 in magnitude), which drive the i16 quantisation and the
    /// gates into saturation.
    #[test]
    fn model_matches_earshot_when_saturated() {
        use earshot::Predictor;
        let mut buffer = vec![0.0f32; 1026];
        let mut theirs = earshot::DefaultPredictor::new();
        let mut ours = VadModel::new();
        let mut seed = 2024u32;
        let mut features = [[0.0f32; FEATURES]; FRAMES];
        let mut saturated = 0;
        for i in 0..600 {
            if i == 250 {
                theirs.reset();
                ours.reset();
            }
            let scale = [1.0, 5.0, 40.0][i % 3];
            for f in features.as_flattened_mut() {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                *f = ((seed >> 9) as f32 / (1u32 << 23) as f32 - 0.5) * 2.0 * scale;
            }
            let a = theirs.predict(features.as_flattened(), &mut buffer);
            let b = ours.predict(&features);
            assert_eq!(a.to_bits(), b.to_bits(), "hop {i}: {a} vs {b}");
            saturated += ours
                .state()
                .iter()
                .filter(|&&s| s == i16::MAX || s == i16::MIN)
                .count();
            let x = layer3(&layer2(&layer1(&features)));
            saturated += x
                .iter()
                .filter(|&&s| s == i16::MAX || s == i16::MIN)
                .count();
        }
        assert!(saturated > 100, "{saturated} saturated values");
    }
}
