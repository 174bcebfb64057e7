//! The adaptive predictor (Block 4L / 4H), shared by both bands, encoder and decoder, and the
//! sub-band ADPCM coders.

use super::*;

/// Pole-zero predictor state: two poles, six zeros.
///
/// The zero section is kept in 16-bit lanes, eight wide so that it fills one vector register:
/// lanes 6 and 7 of `d` stay zero, so whatever lanes 6 and 7 of `b` hold never reaches the
/// prediction.
#[derive(Debug, Clone, Default)]
struct Predictor {
    /// Predicted signal (SL / SH).
    s: i32,
    /// Zero-section output (SZL / SZH).
    sz: i32,
    /// Pole coefficients a1, a2.
    a1: i32,
    a2: i32,
    /// Zero coefficients b1..b6 (and two unused lanes).
    b: [i16; 8],
    /// Quantised differences d(n-1)..d(n-6), most recent first (and two zero lanes).
    d: [i16; 8],
    /// Partially reconstructed signals p(n-1), p(n-2).
    p1: i32,
    p2: i32,
    /// Reconstructed signals r(n-1), r(n-2).
    r1: i32,
    r2: i32,
}

/// `(b * 32640) >> 15` (the zero coefficients' leakage, 1 - 2^-8) without a multiply:
/// `b - ceil(b / 256)`, which stays within 16 bits for every `b`.
#[inline(always)]
pub(super) fn leak8(b: i16) -> i16 {
    b - (b >> 8) - i16::from(b & 255 != 0)
}

impl Predictor {
    /// Takes the quantised difference `dq` of this sample (|dq| <= 10228), adapts and predicts
    /// the next sample. Returns the reconstructed signal `r = s + dq` (RECONS, saturated).
    #[inline(always)]
    fn update(&mut self, dq: i32) -> i32 {
        // PARREC and RECONS.
        let p0 = sat16(dq + self.sz);
        let r0 = sat16(self.s + dq);

        // UPZERO: sign-sign update of the zero coefficients, with leakage. The reference's
        // saturating add of the step is exactly a 16-bit saturating add.
        let step: i16 = if dq == 0 { 0 } else { 128 };
        let negative = dq < 0;
        for (b, &d) in self.b.iter_mut().zip(&self.d) {
            let g = if (d < 0) == negative { step } else { -step };
            *b = leak8(*b).saturating_add(g);
        }
        let d = self.d;
        self.d = [dq as i16, d[0], d[1], d[2], d[3], d[4], 0, 0];

        // UPPOL2: second pole, with the old a1 and a2.
        let sg0 = p0 >> 31;
        let same1 = sg0 == self.p1 >> 31;
        let wd1 = sat16(self.a1 << 2);
        let wd2 = if same1 { sat16(-wd1) } else { wd1 };
        let wd3 = if sg0 == self.p2 >> 31 { 128 } else { -128 };
        let a2 = ((wd2 >> 7) + wd3 + ((self.a2 * 32512) >> 15)).clamp(-12288, 12288);

        // UPPOL1: first pole, bounded by the new a2 (15360 - a2 >= 3072).
        let a1 = if same1 { 192 } else { -192 } + ((self.a1 * 32640) >> 15);
        let bound = 15360 - a2;
        let a1 = a1.clamp(-bound, bound);
        self.p2 = self.p1;
        self.p1 = p0;
        self.a1 = a1;
        self.a2 = a2;

        // FILTEZ: each term is mult(2 * d, b) = (d * b) >> 14 (2 * d needs no saturation since
        // |d| <= 10228). The reference saturates after each term, from b6 down to b1; when the
        // magnitudes add up to no more than 16 bits no partial sum can saturate, which is
        // nearly always, and the plain sum is exact.
        let mut sum = 0;
        let mut magnitude = 0;
        for (&b, &d) in self.b.iter().zip(&self.d) {
            let t = (i32::from(d) * i32::from(b)) >> 14;
            sum += t;
            magnitude += t.abs();
        }
        let sz = if magnitude <= 32767 {
            sum
        } else {
            self.b[..6]
                .iter()
                .zip(&self.d[..6])
                .rev()
                .fold(0, |acc, (&b, &d)| {
                    sat16(acc + ((i32::from(d) * i32::from(b)) >> 14))
                })
        };

        // FILTEP and PREDIC. |a1| <= 15360 and |a2| <= 12288, so the two products add up
        // within 16 bits.
        self.r2 = self.r1;
        self.r1 = r0;
        let sp = ((a1 * sat16(2 * r0)) >> 15) + ((a2 * sat16(2 * self.r2)) >> 15);
        self.sz = sz;
        self.s = sat16(sp + sz);
        r0
    }
}

// ---------------------------------------------------------------------------------------------
// Sub-band ADPCM coders.

/// The lower sub-band ADPCM coder (blocks 1L to 6L of G.722): a 6-bit adaptive quantiser whose
/// 4 most significant bits drive the scale factor and the predictor, so that a decoder in any mode
/// tracks the encoder.
///
/// One instance is either an encoder or a decoder of one stream. Sub-band samples are 15-bit
/// (-16384..=16383), as the QMF produces them and the Appendix II sequences give them; other
/// values are coded as the reference codes them.
#[derive(Debug, Clone)]
pub struct LowerBand {
    nb: i32,
    det: i32,
    pred: Predictor,
}

impl Default for LowerBand {
    fn default() -> Self {
        Self::new()
    }
}

impl LowerBand {
    /// A coder in the reset state of G.722.
    pub fn new() -> Self {
        Self {
            nb: 0,
            det: 32,
            pred: Predictor::default(),
        }
    }

    /// Returns to the reset state of G.722 (the reset input of the Appendix II test sequences).
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Encodes one lower sub-band sample to a 6-bit code.
    pub fn encode(&mut self, xl: i16) -> u8 {
        let il = self.quantize(i32::from(xl));
        self.adapt(il);
        il
    }

    /// Decodes one 6-bit code (higher bits are ignored) in `mode`, returning the reconstructed
    /// sub-band sample (-16384..=16383).
    pub fn decode(&mut self, il: u8, mode: Mode) -> i16 {
        self.decode_with(usize::from(il & 63), mode.table()) as i16
    }

    /// SUBTRA and QUANTL: the code of `xl`, without adapting.
    #[inline(always)]
    pub(super) fn quantize(&self, xl: i32) -> u8 {
        let el = sat16(xl - self.pred.s);
        // |el| in one's complement, as the reference: -el - 1 for negative el.
        let wd = el ^ (el >> 31);
        let mil = quantize6(wd, self.det);
        if el < 0 {
            ILN[mil]
        } else {
            ILP[mil]
        }
    }

    /// INVQBL, RECONS and LIMIT for the output, then adaptation.
    #[inline(always)]
    pub(super) fn decode_with(&mut self, il: usize, table: &[i32; 64]) -> i32 {
        let dl = (self.det * table[il & 63]) >> 15;
        let rl = limit15(self.pred.s + dl);
        self.adapt(il as u8);
        rl
    }

    /// INVQAL, LOGSCL, SCALEL and the predictor: everything that follows a code, identical in
    /// encoder and decoder.
    #[inline(always)]
    pub(super) fn adapt(&mut self, il: u8) {
        let ril = usize::from(il >> 2) & 15;
        let dq = (self.det * QM4[ril]) >> 15;
        self.nb = (((self.nb * 32512) >> 15) + WL4[ril]).clamp(0, NB_MAX_LOW);
        self.det = DET[(self.nb >> 6) as usize + 64];
        self.pred.update(dq);
    }
}

/// QUANTL's search: the interval `mil` (1..=30) of Table 6 that `wd = |el|` falls in, i.e. one
/// more than the last `i` with `(Q6[i] * det) >> 12 <= wd`, at most 30. Q6 is non-decreasing, so
/// a binary search over its 32 entries does it in five steps; `(x * det) >> 12 <= wd` is tested
/// as `x * det <= wd * 4096 + 4095`. Landing on 29, 30 or 31 all mean "beyond the last decision
/// level", interval 30.
#[inline(always)]
pub(super) fn quantize6(wd: i32, det: i32) -> usize {
    let lim = (wd << 12) | 4095;
    let mut pos = 0usize;
    for step in [16, 8, 4, 2, 1] {
        if Q6[(pos + step) & 31] * det <= lim {
            pos += step;
        }
    }
    (pos + 1).min(30)
}

/// The higher sub-band ADPCM coder (blocks 1H to 6H of G.722): a 2-bit adaptive quantiser.
///
/// One instance is either an encoder or a decoder of one stream; samples are 15-bit as for
/// [`LowerBand`].
#[derive(Debug, Clone)]
pub struct HigherBand {
    nb: i32,
    det: i32,
    pred: Predictor,
}

impl Default for HigherBand {
    fn default() -> Self {
        Self::new()
    }
}

impl HigherBand {
    /// A coder in the reset state of G.722.
    pub fn new() -> Self {
        Self {
            nb: 0,
            det: 8,
            pred: Predictor::default(),
        }
    }

    /// Returns to the reset state of G.722.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Encodes one higher sub-band sample to a 2-bit code.
    pub fn encode(&mut self, xh: i16) -> u8 {
        let ih = self.quantize(i32::from(xh));
        self.adapt(ih);
        ih
    }

    /// Decodes one 2-bit code (higher bits are ignored), returning the reconstructed sub-band
    /// sample (-16384..=16383).
    pub fn decode(&mut self, ih: u8) -> i16 {
        self.decode_code(ih & 3) as i16
    }

    /// SUBTRA and QUANTH.
    #[inline(always)]
    pub(super) fn quantize(&self, xh: i32) -> u8 {
        let eh = sat16(xh - self.pred.s);
        let wd = eh ^ (eh >> 31);
        let mih = 1 + usize::from(wd >= (Q2 * self.det) >> 12);
        IH_CODE[usize::from(eh >= 0)][mih]
    }

    #[inline(always)]
    pub(super) fn decode_code(&mut self, ih: u8) -> i32 {
        limit15(self.adapt(ih))
    }

    /// INVQAH, LOGSCH, SCALEH and the predictor; returns the reconstructed signal.
    #[inline(always)]
    pub(super) fn adapt(&mut self, ih: u8) -> i32 {
        let ih = usize::from(ih & 3);
        let dq = (self.det * QM2[ih]) >> 15;
        self.nb = (((self.nb * 32512) >> 15) + WH2[ih]).clamp(0, NB_MAX_HIGH);
        self.det = DET[(self.nb >> 6) as usize];
        self.pred.update(dq)
    }
}
