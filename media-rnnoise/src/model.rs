//! RNNoise's network: the weights file parsed once into f32 matrices laid out for the inner
//! loops, and the dense and GRU layers that run on them.
//!
//! The file (`rnnoise_weights.rnn`, RNNoise's default model in nnnoiseless's format) is six
//! layers of signed bytes, each `nb_inputs nb_neurons activation` then the weights (input-major:
//! weight `j * stride + i` joins input `j` to output `i`), for a GRU the recurrent weights, then
//! the biases. Weights are integers scaled by 1/256; the scale is folded in here once (a power
//! of two, so every product and sum rounds exactly as the integer-weight arithmetic did).
//!
//! [`Matrix`] stores the weights in column blocks of 32, 16 or 8 outputs, each block's rows
//! contiguous, so that one block's accumulators stay in registers while the inputs stream past:
//! each output still sums its inputs in input order, as RNNoise does, so the results are the
//! same to the bit.

use std::fmt;
use std::sync::OnceLock;

/// The weights, as committed beside this file.
static WEIGHTS: &[u8] = include_bytes!("rnnoise_weights.rnn");

/// The features the network takes.
pub(crate) const NB_FEATURES: usize = 42;
/// The Bark bands whose gains it predicts.
pub(crate) const NB_BANDS: usize = 22;
/// The widest layer any model may have (nnnoiseless's limit).
const MAX_NEURONS: usize = 128;

/// Why a weights file was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelError {
    /// The file ends inside layer `layer` (0-based).
    Truncated {
        /// The layer being read.
        layer: usize,
    },
    /// A layer's header has a negative size or an unknown activation.
    BadHeader {
        /// The layer being read.
        layer: usize,
    },
    /// The layers' sizes do not chain into RNNoise's topology (42 features in, 22 gains and
    /// one voice probability out, at most 128 neurons a layer).
    Topology,
    /// Bytes follow the last layer.
    TrailingBytes,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { layer } => write!(f, "weights end inside layer {layer}"),
            Self::BadHeader { layer } => write!(f, "layer {layer} has a bad header"),
            Self::Topology => write!(f, "layer sizes do not match RNNoise's topology"),
            Self::TrailingBytes => write!(f, "bytes after the last layer"),
        }
    }
}

impl std::error::Error for ModelError {}

/// A layer's activation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Activation {
    Tanh,
    Sigmoid,
    Relu,
}

impl Activation {
    fn apply(self, x: f32) -> f32 {
        match self {
            Self::Tanh => tansig(x),
            Self::Sigmoid => sigmoid(x),
            Self::Relu => x.max(0.0),
        }
    }
}

/// A weight matrix in column blocks (see the module docs). `rows` inputs, `cols` outputs
/// (padded to a multiple of 8 with zero weights).
#[derive(Debug)]
pub(crate) struct Matrix {
    data: Vec<f32>,
    rows: usize,
    cols: usize,
}

/// The width of the block starting `remaining` columns before the (padded) end.
fn block_width(remaining: usize) -> usize {
    if remaining >= 32 {
        32
    } else if remaining >= 16 {
        16
    } else {
        8
    }
}

impl Matrix {
    /// Builds the blocked matrix from `rows` rows of `stride` bytes, taking columns
    /// `offset..offset + cols` of each, scaled by 1/256.
    fn from_i8(w: &[i8], rows: usize, stride: usize, offset: usize, cols: usize) -> Self {
        let padded = cols.div_ceil(8) * 8;
        let mut data = Vec::with_capacity(rows * padded);
        let mut c0 = 0;
        while c0 < padded {
            let bw = block_width(padded - c0);
            for r in 0..rows {
                for c in c0..c0 + bw {
                    let v = if c < cols {
                        f32::from(w[r * stride + offset + c]) * (1.0 / 256.0)
                    } else {
                        0.0
                    };
                    data.push(v);
                }
            }
            c0 += bw;
        }
        Self {
            data,
            rows,
            cols: padded,
        }
    }

    /// Stacks `self`'s rows above `below`'s (same columns): the matrix of the concatenated
    /// input.
    fn stack(self, below: Matrix) -> Matrix {
        let mut data = Vec::with_capacity(self.data.len() + below.data.len());
        let (mut a, mut b) = (0, 0);
        let mut c0 = 0;
        while c0 < self.cols {
            let bw = block_width(self.cols - c0);
            data.extend_from_slice(&self.data[a..a + bw * self.rows]);
            data.extend_from_slice(&below.data[b..b + bw * below.rows]);
            a += bw * self.rows;
            b += bw * below.rows;
            c0 += bw;
        }
        Matrix {
            data,
            rows: self.rows + below.rows,
            cols: self.cols,
        }
    }

    /// `acc[i] += sum_j self[j][i] * x[j]`, each sum in `j` order. `acc` has the padded
    /// column count, `x` the row count.
    pub(crate) fn mul_add(&self, acc: &mut [f32], x: &[f32]) {
        let x = &x[..self.rows.min(x.len())];
        let mut c0 = 0;
        let mut w0 = 0;
        while c0 < self.cols {
            let bw = block_width(self.cols - c0);
            let w = &self.data[w0..w0 + bw * self.rows];
            let a = &mut acc[c0..c0 + bw];
            match bw {
                32 => block::<32>(a, w, x),
                16 => block::<16>(a, w, x),
                _ => block::<8>(a, w, x),
            }
            c0 += bw;
            w0 += bw * self.rows;
        }
    }
}

/// The most rows (inputs) a matrix may have: a GRU's inputs and its state.
const MAX_ROWS: usize = 2 * MAX_NEURONS + NB_FEATURES + MAX_NEURONS;

/// One column block: the accumulators live in registers while the rows stream past.
#[inline(always)]
fn block<const B: usize>(acc: &mut [f32], w: &[f32], x: &[f32]) {
    let mut a = [0f32; B];
    a.copy_from_slice(acc);
    for (row, &xj) in w.chunks_exact(B).zip(x) {
        for (ak, &wk) in a.iter_mut().zip(row) {
            *ak += wk * xj;
        }
    }
    acc.copy_from_slice(&a);
}

/// A fully connected layer.
#[derive(Debug)]
pub(crate) struct Dense {
    w: Matrix,
    bias: Vec<f32>,
    activation: Activation,
    inputs: usize,
    neurons: usize,
}

impl Dense {
    /// `out[..neurons] = act(bias + W x)`; `out` must hold the padded width (a multiple of 8
    /// at least `neurons`).
    pub(crate) fn compute(&self, out: &mut [f32], x: &[f32]) {
        let out = &mut out[..self.w.cols];
        out.copy_from_slice(&self.bias);
        self.w.mul_add(out, x);
        let out = &mut out[..self.neurons];
        match self.activation {
            Activation::Tanh => tansig_slice(out),
            Activation::Sigmoid => sigmoid_slice(out),
            Activation::Relu => {
                for o in out.iter_mut() {
                    *o = o.max(0.0);
                }
            }
        }
    }

    /// How many outputs.
    pub(crate) fn neurons(&self) -> usize {
        self.neurons
    }
}

/// A gated recurrent unit, as RNNoise runs it (the reset gate applies to the state before the
/// recurrent weights).
#[derive(Debug)]
pub(crate) struct Gru {
    /// Update and reset gates from `[input; state]` (2n columns).
    w_zr: Matrix,
    /// The candidate from `[input; reset * state]` (n columns).
    w_h: Matrix,
    bias_zr: Vec<f32>,
    bias_h: Vec<f32>,
    activation: Activation,
    inputs: usize,
    neurons: usize,
}

/// Scratch for one GRU step, sized for the widest layer.
pub(crate) struct GruScratch {
    cat: [f32; MAX_ROWS],
    zr: [f32; 2 * MAX_NEURONS],
    h: [f32; MAX_NEURONS],
}

impl GruScratch {
    pub(crate) fn new() -> Self {
        Self {
            cat: [0.0; MAX_ROWS],
            zr: [0.0; 2 * MAX_NEURONS],
            h: [0.0; MAX_NEURONS],
        }
    }
}

impl Gru {
    /// One step: `state` (length `neurons`) is updated from `input` (length `inputs`).
    pub(crate) fn compute(&self, state: &mut [f32], input: &[f32], s: &mut GruScratch) {
        let (ni, n) = (self.inputs, self.neurons);
        let cat = &mut s.cat[..ni + n];
        cat[..ni].copy_from_slice(&input[..ni]);
        cat[ni..].copy_from_slice(&state[..n]);
        let zr = &mut s.zr[..self.w_zr.cols];
        zr.copy_from_slice(&self.bias_zr);
        self.w_zr.mul_add(zr, cat);
        sigmoid_slice(&mut zr[..2 * n]);
        let (z, r) = zr.split_at_mut(n);
        // The candidate's recurrent input: the state through the reset gate.
        for ((c, &r), &st) in cat[ni..].iter_mut().zip(r.iter()).zip(state.iter()) {
            *c = st * r;
        }
        let h = &mut s.h[..self.w_h.cols];
        h.copy_from_slice(&self.bias_h);
        self.w_h.mul_add(h, cat);
        for ((st, &z), &h) in state.iter_mut().zip(z.iter()).zip(h.iter()) {
            let h = self.activation.apply(h);
            *st = z * *st + (1.0 - z) * h;
        }
    }

    /// How many units.
    pub(crate) fn neurons(&self) -> usize {
        self.neurons
    }
}

/// RNNoise's network.
#[derive(Debug)]
pub(crate) struct Model {
    pub(crate) input_dense: Dense,
    pub(crate) vad_gru: Gru,
    pub(crate) noise_gru: Gru,
    pub(crate) denoise_gru: Gru,
    pub(crate) denoise_output: Dense,
    pub(crate) vad_output: Dense,
}

/// Reads layers off the front of the file.
struct Reader<'a> {
    bytes: &'a [u8],
    layer: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<Vec<i8>, ModelError> {
        if self.bytes.len() < n {
            return Err(ModelError::Truncated { layer: self.layer });
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head.iter().map(|&b| b as i8).collect())
    }

    fn header(&mut self) -> Result<(usize, usize, Activation), ModelError> {
        let h = self.take(3)?;
        let bad = ModelError::BadHeader { layer: self.layer };
        let size = |b: i8| usize::try_from(b).map_err(|_| bad);
        let activation = match h[2] {
            0 => Activation::Tanh,
            1 => Activation::Sigmoid,
            2 => Activation::Relu,
            _ => return Err(bad),
        };
        let (inputs, neurons) = (size(h[0])?, size(h[1])?);
        if neurons > MAX_NEURONS || inputs + neurons > MAX_ROWS {
            return Err(ModelError::Topology);
        }
        Ok((inputs, neurons, activation))
    }

    fn dense(&mut self) -> Result<Dense, ModelError> {
        let (inputs, neurons, activation) = self.header()?;
        let w = self.take(inputs * neurons)?;
        let b = self.take(neurons)?;
        let w = Matrix::from_i8(&w, inputs, neurons, 0, neurons);
        let bias = padded_bias(&b, w.cols);
        self.layer += 1;
        Ok(Dense {
            w,
            bias,
            activation,
            inputs,
            neurons,
        })
    }

    fn gru(&mut self) -> Result<Gru, ModelError> {
        let (inputs, n, activation) = self.header()?;
        let wi = self.take(3 * n * inputs)?;
        let wr = self.take(3 * n * n)?;
        let b = self.take(3 * n)?;
        let w_zr = Matrix::from_i8(&wi, inputs, 3 * n, 0, 2 * n).stack(Matrix::from_i8(
            &wr,
            n,
            3 * n,
            0,
            2 * n,
        ));
        let w_h = Matrix::from_i8(&wi, inputs, 3 * n, 2 * n, n).stack(Matrix::from_i8(
            &wr,
            n,
            3 * n,
            2 * n,
            n,
        ));
        let bias_zr = padded_bias(&b[..2 * n], w_zr.cols);
        let bias_h = padded_bias(&b[2 * n..], w_h.cols);
        self.layer += 1;
        Ok(Gru {
            w_zr,
            w_h,
            bias_zr,
            bias_h,
            activation,
            inputs,
            neurons: n,
        })
    }
}

fn padded_bias(b: &[i8], len: usize) -> Vec<f32> {
    let mut v: Vec<f32> = b.iter().map(|&x| f32::from(x) * (1.0 / 256.0)).collect();
    v.resize(len, 0.0);
    v
}

impl Model {
    /// Parses a weights file in nnnoiseless's format, checking that the layers chain as
    /// RNNoise's processing expects.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let mut r = Reader { bytes, layer: 0 };
        let input_dense = r.dense()?;
        let vad_gru = r.gru()?;
        let noise_gru = r.gru()?;
        let denoise_gru = r.gru()?;
        let denoise_output = r.dense()?;
        let vad_output = r.dense()?;
        if !r.bytes.is_empty() {
            return Err(ModelError::TrailingBytes);
        }
        let ok = input_dense.inputs == NB_FEATURES
            && denoise_output.neurons == NB_BANDS
            && vad_output.neurons == 1
            && vad_gru.inputs == input_dense.neurons
            && vad_output.inputs == vad_gru.neurons
            && noise_gru.inputs == input_dense.neurons + vad_gru.neurons + NB_FEATURES
            && denoise_gru.inputs == vad_gru.neurons + noise_gru.neurons + NB_FEATURES
            && denoise_output.inputs == denoise_gru.neurons;
        if !ok {
            return Err(ModelError::Topology);
        }
        Ok(Self {
            input_dense,
            vad_gru,
            noise_gru,
            denoise_gru,
            denoise_output,
            vad_output,
        })
    }

    /// The committed model, parsed once per process.
    pub(crate) fn builtin() -> Result<&'static Self, ModelError> {
        static MODEL: OnceLock<Result<Model, ModelError>> = OnceLock::new();
        MODEL
            .get_or_init(|| Self::from_bytes(WEIGHTS))
            .as_ref()
            .map_err(|e| *e)
    }
}

/// RNNoise's tanh table, 0 to 8 in steps of 0.04.
#[rustfmt::skip]
const TANSIG_TABLE: [f32; 201] = [
    0.000000, 0.039979, 0.079830, 0.119427, 0.158649, 0.197375, 0.235496, 0.272905, 0.309507,
    0.345214, 0.379949, 0.413644, 0.446244, 0.477700, 0.507977, 0.537050, 0.564900, 0.591519,
    0.616909, 0.641077, 0.664037, 0.685809, 0.706419, 0.725897, 0.744277, 0.761594, 0.777888,
    0.793199, 0.807569, 0.821040, 0.833655, 0.845456, 0.856485, 0.866784, 0.876393, 0.885352,
    0.893698, 0.901468, 0.908698, 0.915420, 0.921669, 0.927473, 0.932862, 0.937863, 0.942503,
    0.946806, 0.950795, 0.954492, 0.957917, 0.961090, 0.964028, 0.966747, 0.969265, 0.971594,
    0.973749, 0.975743, 0.977587, 0.979293, 0.980869, 0.982327, 0.983675, 0.984921, 0.986072,
    0.987136, 0.988119, 0.989027, 0.989867, 0.990642, 0.991359, 0.992020, 0.992631, 0.993196,
    0.993718, 0.994199, 0.994644, 0.995055, 0.995434, 0.995784, 0.996108, 0.996407, 0.996682,
    0.996937, 0.997172, 0.997389, 0.997590, 0.997775, 0.997946, 0.998104, 0.998249, 0.998384,
    0.998508, 0.998623, 0.998728, 0.998826, 0.998916, 0.999000, 0.999076, 0.999147, 0.999213,
    0.999273, 0.999329, 0.999381, 0.999428, 0.999472, 0.999513, 0.999550, 0.999585, 0.999617,
    0.999646, 0.999673, 0.999699, 0.999722, 0.999743, 0.999763, 0.999781, 0.999798, 0.999813,
    0.999828, 0.999841, 0.999853, 0.999865, 0.999875, 0.999885, 0.999893, 0.999902, 0.999909,
    0.999916, 0.999923, 0.999929, 0.999934, 0.999939, 0.999944, 0.999948, 0.999952, 0.999956,
    0.999959, 0.999962, 0.999965, 0.999968, 0.999970, 0.999973, 0.999975, 0.999977, 0.999978,
    0.999980, 0.999982, 0.999983, 0.999984, 0.999986, 0.999987, 0.999988, 0.999989, 0.999990,
    0.999990, 0.999991, 0.999992, 0.999992, 0.999993, 0.999994, 0.999994, 0.999994, 0.999995,
    0.999995, 0.999996, 0.999996, 0.999996, 0.999997, 0.999997, 0.999997, 0.999997, 0.999997,
    0.999998, 0.999998, 0.999998, 0.999998, 0.999998, 0.999998, 0.999999, 0.999999, 0.999999,
    0.999999, 0.999999, 0.999999, 0.999999, 0.999999, 0.999999, 0.999999, 0.999999, 0.999999,
    0.999999, 1.000000, 1.000000, 1.000000, 1.000000, 1.000000, 1.000000, 1.000000, 1.000000,
    1.000000, 1.000000, 1.000000,
];

/// RNNoise's tanh approximation: the table, corrected to first order. Written without
/// data-dependent branches (the sign of a unit's input is a coin toss to the branch
/// predictor), as selects the compiler can vectorise ([`tansig_slice`]); the arithmetic is
/// RNNoise's.
#[inline(always)]
pub(crate) fn tansig(x: f32) -> f32 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let ax = x.abs();
    // `0.5 + 25 |x|` is positive, so truncation is RNNoise's floor (and needs no libm call on
    // x86-64 without SSE4.1); the clamp only matters for |x| >= 8, answered below.
    let k = ((0.5 + 25.0 * ax) as usize).min(TANSIG_TABLE.len() - 1);
    let r = ax - 0.04 * k as f32;
    let y = TANSIG_TABLE[k];
    let dy = 1.0 - y * y;
    let y = sign * (y + r * dy * (1.0 - y * r));
    // RNNoise's saturation (NaN gives 1).
    let inside = (x < 8.0) & (x > -8.0);
    let saturated = if x <= -8.0 { -1.0 } else { 1.0 };
    if inside {
        y
    } else {
        saturated
    }
}

/// RNNoise's sigmoid, from its tanh.
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    0.5 + 0.5 * tansig(0.5 * x)
}

/// [`tansig`] of every value, four at a time.
fn tansig_slice(v: &mut [f32]) {
    let mut chunks = v.chunks_exact_mut(4);
    for c in &mut chunks {
        for x in c.iter_mut() {
            *x = tansig(*x);
        }
    }
    for x in chunks.into_remainder() {
        *x = tansig(*x);
    }
}

/// [`sigmoid`] of every value, four at a time.
pub(crate) fn sigmoid_slice(v: &mut [f32]) {
    let mut chunks = v.chunks_exact_mut(4);
    for c in &mut chunks {
        for x in c.iter_mut() {
            *x = sigmoid(*x);
        }
    }
    for x in chunks.into_remainder() {
        *x = sigmoid(*x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_model_parses_with_rnnoise_sizes() {
        let m = Model::builtin().unwrap();
        assert_eq!(m.input_dense.neurons(), 24);
        assert_eq!(m.vad_gru.neurons(), 24);
        assert_eq!(m.noise_gru.neurons(), 48);
        assert_eq!(m.denoise_gru.neurons(), 96);
        assert_eq!(m.denoise_output.neurons(), 22);
    }

    #[test]
    fn damaged_files_are_refused_with_a_reason() {
        assert_eq!(
            Model::from_bytes(&WEIGHTS[..2000]).unwrap_err(),
            ModelError::Truncated { layer: 1 }
        );
        assert_eq!(
            Model::from_bytes(&[]).unwrap_err(),
            ModelError::Truncated { layer: 0 }
        );
        let mut extra = WEIGHTS.to_vec();
        extra.push(0);
        assert_eq!(
            Model::from_bytes(&extra).unwrap_err(),
            ModelError::TrailingBytes
        );
        let mut bad = WEIGHTS.to_vec();
        bad[2] = 7;
        assert_eq!(
            Model::from_bytes(&bad).unwrap_err(),
            ModelError::BadHeader { layer: 0 }
        );
        let mut neg = WEIGHTS.to_vec();
        neg[0] = 0xff;
        assert_eq!(
            Model::from_bytes(&neg).unwrap_err(),
            ModelError::BadHeader { layer: 0 }
        );
        // 41 inputs instead of 42: the sizes no longer chain (or the file no longer ends where
        // it should).
        let mut short = WEIGHTS.to_vec();
        short[0] = 41;
        assert!(Model::from_bytes(&short).is_err());
    }

    #[test]
    fn blocked_matrix_matches_the_plain_product() {
        // 5 inputs, 44 outputs (blocks 32, 8, 8 after padding to 48).
        let (rows, cols) = (5usize, 44usize);
        let w: Vec<i8> = (0..rows * cols).map(|k| (k * 37 % 251) as i8).collect();
        let m = Matrix::from_i8(&w, rows, cols, 0, cols);
        let x: Vec<f32> = (0..rows).map(|j| j as f32 * 0.25 - 0.5).collect();
        let mut acc = vec![1.0f32; 48];
        m.mul_add(&mut acc, &x);
        for i in 0..cols {
            let mut want = 1.0f32;
            for j in 0..rows {
                want += f32::from(w[j * cols + i]) / 256.0 * x[j];
            }
            assert_eq!(acc[i], want, "column {i}");
        }
    }

    #[test]
    fn tansig_saturates_and_is_odd() {
        assert_eq!(tansig(f32::NAN), 1.0);
        assert_eq!(tansig(100.0), 1.0);
        assert_eq!(tansig(-100.0), -1.0);
        assert_eq!(tansig(0.3), -tansig(-0.3));
        assert!((tansig(0.5) - 0.5f32.tanh()).abs() < 1e-4);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-7);
    }
}
