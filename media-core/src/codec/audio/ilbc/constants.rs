//! Constants of RFC 3951 (Appendix A.6 `iLBC_define.h`, A.8 `constants.c`): sizes, the two frame
//! modes and the bit allocation of each (the unequal-level-protection tables).
//!
//! Float constants are written `X_f64 as f32` where the C code writes `(float)X`, so they round
//! through double exactly as the C cast does.

/// Samples in the longest frame (30 ms).
pub(crate) const BLOCKL_MAX: usize = 240;
/// Most sub-frames in a frame.
pub(crate) const NSUB_MAX: usize = 6;
/// Most sub-blocks coded with the adaptive codebook.
pub(crate) const NASUB_MAX: usize = 4;
/// Sub-frame length.
pub(crate) const SUBL: usize = 40;
/// Start-state length (two sub-frames).
pub(crate) const STATE_LEN: usize = 80;
/// Scalar-coded part of the start state, 30 ms mode.
pub(crate) const STATE_SHORT_LEN_30MS: usize = 58;

/// LPC order.
pub(crate) const ORDER: usize = 10;
/// Coefficients per LPC filter (order + 1).
pub(crate) const ORDER1: usize = ORDER + 1;
/// Bandwidth expansion of the synthesis filter.
pub(crate) const LPC_CHIRP_SYNTDENUM: f32 = 0.9025_f64 as f32;
/// Bandwidth expansion of the weighting filter.
pub(crate) const LPC_CHIRP_WEIGHTDENUM: f32 = 0.4222_f64 as f32;
/// Samples of history in the LPC analysis buffer.
pub(crate) const LPC_LOOKBACK: usize = 60;
/// Most LPC analyses per frame.
pub(crate) const LPC_N_MAX: usize = 2;
/// Splits of the LSF vector quantizer.
pub(crate) const LSF_NSPLIT: usize = 3;

/// Codebook stages.
pub(crate) const CB_NSTAGES: usize = 3;
/// Codebook memory length.
pub(crate) const CB_MEML: usize = 147;
/// Codebook expansion filter length.
pub(crate) const CB_FILTERLEN: usize = 8;
/// Half of it.
pub(crate) const CB_HALFFILTERLEN: usize = 4;
/// Search range of the restricted codebook search.
pub(crate) const CB_RESRANGE: i32 = 34;
/// Largest codebook gain.
pub(crate) const CB_MAXGAIN: f32 = 1.3_f64 as f32;

/// Enhancer block length.
pub(crate) const ENH_BLOCKL: usize = 80;
/// Half of it.
pub(crate) const ENH_BLOCKL_HALF: usize = ENH_BLOCKL / 2;
/// 2 * ENH_HL + 1 blocks in the pitch-synchronous sequence.
pub(crate) const ENH_HL: usize = 3;
/// Largest difference between estimated and true pitch period.
pub(crate) const ENH_SLOP: i32 = 2;
/// Overhang of the refined segments.
pub(crate) const ENH_OVERHANG: i32 = 2;
/// Up-sampling rate.
pub(crate) const ENH_UPS0: usize = 4;
/// 2 * ENH_FL0 + 1 is the length of each polyphase filter.
pub(crate) const ENH_FL0: usize = 3;
/// Length of a segment to up-sample.
pub(crate) const ENH_VECTL: usize = ENH_BLOCKL + 2 * ENH_FL0;
/// Correlation search width.
pub(crate) const ENH_CORRDIM: usize = 2 * ENH_SLOP as usize + 1;
/// Enhancer blocks per longest frame.
pub(crate) const ENH_NBLOCKS: usize = BLOCKL_MAX / ENH_BLOCKL;
/// Extra blocks of history.
pub(crate) const ENH_NBLOCKS_EXTRA: usize = 5;
/// All blocks of the enhancer buffer.
pub(crate) const ENH_NBLOCKS_TOT: usize = 8;
/// Enhancer buffer length.
pub(crate) const ENH_BUFL: usize = ENH_NBLOCKS_TOT * ENH_BLOCKL;
/// Largest smoothing energy fraction.
pub(crate) const ENH_ALPHA0: f32 = 0.05_f64 as f32;

/// Order of the down-sampling filter.
pub(crate) const FILTERORDER_DS: usize = 7;
/// Delay of the down-sampler.
pub(crate) const DELAY_DS: usize = 3;
/// Down-sampling factor.
pub(crate) const FACTOR_DS: usize = 2;

/// Bytes of a 20 ms frame.
pub(crate) const NO_OF_BYTES_20MS: usize = 38;
/// Bytes of a 30 ms frame.
pub(crate) const NO_OF_BYTES_30MS: usize = 50;

/// "Infinity" of the reference code.
pub(crate) const FLOAT_MAX: f32 = 1.0e37_f64 as f32;
/// Machine epsilon of double, as a float.
pub(crate) const EPS: f32 = 2.220446049250313e-016_f64 as f32;
/// pi.
pub(crate) const PI: f32 = std::f64::consts::PI as f32;
/// 2 pi as the reference writes it.
#[allow(clippy::approx_constant)]
pub(crate) const TWO_PI: f32 = 6.283185307_f64 as f32;
/// 1 / (2 pi) as the reference writes it.
pub(crate) const PI2: f32 = 0.159154943_f64 as f32;

/// Codebook search ranges per sub-block and stage.
pub(crate) const SEARCH_RANGE: [[usize; CB_NSTAGES]; 5] = [
    [58, 58, 58],
    [108, 44, 44],
    [108, 108, 108],
    [108, 108, 108],
    [108, 108, 108],
];
/// Codebook memory for the start state's adaptive part.
pub(crate) const ST_MEM_L: usize = 85;
/// Codebook memory per sub-block.
pub(crate) const MEM_LF: [usize; NASUB_MAX] = [147, 147, 147, 147];
/// Dimensions of the LSF splits.
pub(crate) const DIM_LSF_CB: [usize; LSF_NSPLIT] = [3, 3, 4];
/// Sizes of the LSF split codebooks.
pub(crate) const SIZE_LSF_CB: [usize; LSF_NSPLIT] = [64, 128, 128];

/// Bits per unequal-level-protection class (the C tables carry two trailing zeros so that
/// `[ulp..ulp + 3]` is always in range).
pub(crate) type Bits = [u8; 5];

/// The bit allocation of one mode: for each parameter, how many of its bits go to each of the
/// three protection classes, most significant first (RFC 3951 section 3.6).
#[derive(Debug)]
pub(crate) struct Ulp {
    pub lsf: [Bits; 6],
    pub start: Bits,
    pub start_first: Bits,
    pub scale: Bits,
    pub state: Bits,
    pub extra_cb_index: [Bits; CB_NSTAGES],
    pub extra_cb_gain: [Bits; CB_NSTAGES],
    pub cb_index: [[Bits; CB_NSTAGES]; NASUB_MAX],
    pub cb_gain: [[Bits; CB_NSTAGES]; NASUB_MAX],
}

const Z: Bits = [0; 5];

/// 20 ms frame.
pub(crate) static ULP_20MS: Ulp = Ulp {
    lsf: [[6, 0, 0, 0, 0], [7, 0, 0, 0, 0], [7, 0, 0, 0, 0], Z, Z, Z],
    start: [2, 0, 0, 0, 0],
    start_first: [1, 0, 0, 0, 0],
    scale: [6, 0, 0, 0, 0],
    state: [0, 1, 2, 0, 0],
    extra_cb_index: [[6, 0, 1, 0, 0], [0, 0, 7, 0, 0], [0, 0, 7, 0, 0]],
    extra_cb_gain: [[2, 0, 3, 0, 0], [1, 1, 2, 0, 0], [0, 0, 3, 0, 0]],
    cb_index: [
        [[7, 0, 1, 0, 0], [0, 0, 7, 0, 0], [0, 0, 7, 0, 0]],
        [[0, 0, 8, 0, 0], [0, 0, 8, 0, 0], [0, 0, 8, 0, 0]],
        [Z, Z, Z],
        [Z, Z, Z],
    ],
    cb_gain: [
        [[1, 2, 2, 0, 0], [1, 1, 2, 0, 0], [0, 0, 3, 0, 0]],
        [[1, 1, 3, 0, 0], [0, 2, 2, 0, 0], [0, 0, 3, 0, 0]],
        [Z, Z, Z],
        [Z, Z, Z],
    ],
};

/// 30 ms frame.
pub(crate) static ULP_30MS: Ulp = Ulp {
    lsf: [
        [6, 0, 0, 0, 0],
        [7, 0, 0, 0, 0],
        [7, 0, 0, 0, 0],
        [6, 0, 0, 0, 0],
        [7, 0, 0, 0, 0],
        [7, 0, 0, 0, 0],
    ],
    start: [3, 0, 0, 0, 0],
    start_first: [1, 0, 0, 0, 0],
    scale: [6, 0, 0, 0, 0],
    state: [0, 1, 2, 0, 0],
    extra_cb_index: [[4, 2, 1, 0, 0], [0, 0, 7, 0, 0], [0, 0, 7, 0, 0]],
    extra_cb_gain: [[1, 1, 3, 0, 0], [1, 1, 2, 0, 0], [0, 0, 3, 0, 0]],
    cb_index: [
        [[6, 1, 1, 0, 0], [0, 0, 7, 0, 0], [0, 0, 7, 0, 0]],
        [[0, 7, 1, 0, 0], [0, 0, 8, 0, 0], [0, 0, 8, 0, 0]],
        [[0, 7, 1, 0, 0], [0, 0, 8, 0, 0], [0, 0, 8, 0, 0]],
        [[0, 7, 1, 0, 0], [0, 0, 8, 0, 0], [0, 0, 8, 0, 0]],
    ],
    cb_gain: [
        [[1, 2, 2, 0, 0], [1, 2, 1, 0, 0], [0, 0, 3, 0, 0]],
        [[0, 2, 3, 0, 0], [0, 2, 2, 0, 0], [0, 0, 3, 0, 0]],
        [[0, 1, 4, 0, 0], [0, 1, 3, 0, 0], [0, 0, 3, 0, 0]],
        [[0, 1, 4, 0, 0], [0, 1, 3, 0, 0], [0, 0, 3, 0, 0]],
    ],
};

/// The per-mode parameters of the reference's encoder and decoder instances.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ModeParams {
    /// 20 or 30.
    pub mode: u8,
    /// Samples per frame.
    pub blockl: usize,
    /// Sub-frames per frame.
    pub nsub: usize,
    /// Sub-blocks coded with the adaptive codebook.
    pub nasub: usize,
    /// LPC analyses per frame.
    pub lpc_n: usize,
    /// Bytes per frame.
    pub no_of_bytes: usize,
    /// Scalar-coded part of the start state.
    pub state_short_len: usize,
    /// Bit allocation.
    pub ulp: &'static Ulp,
}

/// 20 ms: 160 samples, 38 bytes.
pub(crate) const MODE_20: ModeParams = ModeParams {
    mode: 20,
    blockl: 160,
    nsub: 4,
    nasub: 2,
    lpc_n: 1,
    no_of_bytes: NO_OF_BYTES_20MS,
    state_short_len: 57,
    ulp: &ULP_20MS,
};

/// 30 ms: 240 samples, 50 bytes.
pub(crate) const MODE_30: ModeParams = ModeParams {
    mode: 30,
    blockl: 240,
    nsub: 6,
    nasub: 4,
    lpc_n: 2,
    no_of_bytes: NO_OF_BYTES_30MS,
    state_short_len: STATE_SHORT_LEN_30MS,
    ulp: &ULP_30MS,
};
