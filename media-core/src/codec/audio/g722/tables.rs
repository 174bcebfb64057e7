//! The tables of the Recommendation and the 16-bit arithmetic helpers. Quantiser levels are
//! given as in G.722 (units of 2^-12 of the scale factor) and multiplied by 8 where they are
//! used, which is what the reference does.

/// Decision levels of the 6-bit lower-band quantiser (Table 6), index 1..=29; index 0 is the
/// zero level, and 30, 31 repeat the last level so that a 32-entry search stays monotonic (see
/// `quantize6`).
pub(super) const Q6: [i32; 32] = [
    0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940,
    1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 2919, 2919,
];

/// Lower-band code for a negative difference in interval `mil` (1..=30) of Table 6.
pub(super) const ILN: [u8; 31] = [
    0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11,
    10, 9, 8, 7, 6, 5, 4,
];
/// Lower-band code for a non-negative difference in interval `mil` (1..=30) of Table 6.
pub(super) const ILP: [u8; 31] = [
    0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39,
    38, 37, 36, 35, 34, 33, 32,
];

/// Output levels of the 6-bit inverse quantiser (Table 6), by interval.
const OQ6: [i32; 31] = [
    0, 17, 54, 91, 130, 170, 211, 254, 300, 347, 396, 447, 501, 558, 618, 682, 750, 822, 899, 982,
    1072, 1170, 1279, 1399, 1535, 1689, 1873, 2088, 2376, 2738, 3101,
];
/// Output levels of the 5-bit inverse quantiser (Table 7), by interval.
const OQ5: [i32; 16] = [
    0, 35, 110, 190, 276, 370, 473, 587, 714, 858, 1023, 1219, 1458, 1765, 2195, 2919,
];
/// Output levels of the 4-bit inverse quantiser (Table 8), by interval.
const OQ4: [i32; 8] = [0, 150, 323, 530, 786, 1121, 1612, 2557];

/// Signed level of a 6-bit code: interval of Table 6, negative for the codes of negative
/// differences. Codes 0..=3 are never sent and decode as the smallest negative level.
const fn level6(code: usize) -> i32 {
    match code {
        0..=3 => -1,
        4..=31 => -(34 - code as i32),
        32..=61 => 62 - code as i32,
        _ => -(64 - code as i32),
    }
}

/// Signed level of a 5-bit code (the 6-bit code without its lowest bit), Table 7.
const fn level5(code: usize) -> i32 {
    match code {
        0 | 1 => -1,
        2..=15 => -(17 - code as i32),
        16..=29 => 31 - code as i32,
        30 => 1,
        _ => -1,
    }
}

/// Signed level of a 4-bit code (the 6-bit code without its two lowest bits), Table 8.
const fn level4(code: usize) -> i32 {
    match code {
        0 | 15 => 0,
        1..=7 => -(8 - code as i32),
        _ => 15 - code as i32,
    }
}

const fn signed_level(level: i32, table: &[i32]) -> i32 {
    if level < 0 {
        -table[(-level) as usize] * 8
    } else {
        table[level as usize] * 8
    }
}

/// The lower-band inverse quantiser of each mode, indexed by the full 6-bit code.
pub(super) static INVQ_LOW: [[i32; 64]; 3] = {
    let mut t = [[0; 64]; 3];
    let mut c = 0;
    while c < 64 {
        t[0][c] = signed_level(level6(c), &OQ6);
        t[1][c] = signed_level(level5(c >> 1), &OQ5);
        t[2][c] = signed_level(level4(c >> 2), &OQ4);
        c += 1;
    }
    t
};

/// The 4-bit inverse quantiser that feeds the lower-band predictor, by `il >> 2` (INVQAL).
pub(super) const QM4: [i32; 16] = {
    let mut t = [0; 16];
    let mut c = 0;
    while c < 16 {
        t[c] = signed_level(level4(c), &OQ4);
        c += 1;
    }
    t
};

/// Log scale factor multipliers of the lower band (Table 9, W_L), by `il >> 2` (LOGSCL).
pub(super) const WL4: [i32; 16] = {
    const WL: [i32; 8] = [-60, -30, 58, 172, 334, 538, 1198, 3042];
    let mut t = [0; 16];
    let mut c = 0;
    while c < 16 {
        let l = level4(c);
        t[c] = WL[if l < 0 { -l } else { l } as usize];
        c += 1;
    }
    t
};

/// Decision level of the 2-bit higher-band quantiser (Table 10).
pub(super) const Q2: i32 = 564;
/// Higher-band code for a negative (index 0) or non-negative (1) difference, by interval 1, 2.
pub(super) const IH_CODE: [[u8; 3]; 2] = [[0, 1, 0], [0, 3, 2]];
/// The 2-bit inverse quantiser (Table 10, output levels 202 and 926, times 8), by code.
pub(super) const QM2: [i32; 4] = [-926 * 8, -202 * 8, 926 * 8, 202 * 8];
/// Log scale factor multipliers of the higher band (Table 11, W_H), by code.
pub(super) const WH2: [i32; 4] = [798, -214, 798, -214];

/// Upper limits of the log scale factors (LOGSCL, LOGSCH).
pub(super) const NB_MAX_LOW: i32 = 18432;
pub(super) const NB_MAX_HIGH: i32 = 22528;

/// Linear scale factor for `nb >> 6` of the higher band, and for `(nb >> 6) + 64` of the lower
/// band (SCALEL, SCALEH): `ILB[i & 31]` shifted by the octave `i >> 5`, times 4.
pub(super) static DET: [i32; 353] = {
    // The 32-entry antilog table of G.722 (ILB).
    const ILB: [i32; 32] = [
        2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774,
        2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838,
        3922, 4008,
    ];
    let mut t = [0; 353];
    let mut i = 0;
    while i < 353 {
        let shift = 10 - (i as i32 >> 5);
        let v = if shift < 0 {
            ILB[i & 31] << -shift
        } else {
            ILB[i & 31] >> shift
        };
        t[i] = v << 2;
        i += 1;
    }
    t
};

/// Transmit and receive QMF coefficients (Table 11/G.722 section 2.2, times 2^13).
pub(super) const QMF: [i32; 24] = [
    3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876, 3876, 951, -805, -210, 362, 32,
    -156, 12, 53, -11, -11, 3,
];

const fn qmf_half(odd: usize) -> [i16; 12] {
    let mut t = [0; 12];
    let mut i = 0;
    while i < 12 {
        t[i] = QMF[2 * i + odd] as i16;
        i += 1;
    }
    t
}
/// The coefficients of the even positions of the 24-tap filter, `h[2i]`, applied to the newer
/// sample of each pair.
pub(super) const QMF_EVEN: [i16; 12] = qmf_half(0);
/// The coefficients of the odd positions, `h[2i + 1]`.
pub(super) const QMF_ODD: [i16; 12] = qmf_half(1);

// ---------------------------------------------------------------------------------------------
// Arithmetic helpers.

#[inline(always)]
pub(super) fn sat16(x: i32) -> i32 {
    x.clamp(-32768, 32767)
}

/// The LIMIT block: 15-bit range of the sub-band signals.
#[inline(always)]
pub(super) fn limit15(x: i32) -> i32 {
    x.clamp(-16384, 16383)
}
