//! Bit packing (RFC 3951 section 3.8, A.42 packing.c): the parameters of a frame are written
//! in three classes of decreasing importance; within a class each parameter contributes its
//! next most significant bits. The last bit of a frame is 0; a 1 there marks an empty frame.

use super::constants::STATE_SHORT_LEN_30MS;
use super::constants::{Bits, ModeParams, CB_NSTAGES, LPC_N_MAX, LSF_NSPLIT, NASUB_MAX};

/// The quantization indices of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameParams {
    pub lsf: [i32; LSF_NSPLIT * LPC_N_MAX],
    /// 1-based sub-frame where the start state begins.
    pub start: i32,
    /// 1 if the scalar-coded part of the start state comes first.
    pub state_first: i32,
    pub idx_for_max: i32,
    pub idx_vec: [i32; STATE_SHORT_LEN_30MS],
    pub extra_cb_index: [i32; CB_NSTAGES],
    pub extra_gain_index: [i32; CB_NSTAGES],
    pub cb_index: [i32; CB_NSTAGES * NASUB_MAX],
    pub gain_index: [i32; CB_NSTAGES * NASUB_MAX],
}

impl FrameParams {
    pub(crate) const fn zero() -> Self {
        Self {
            lsf: [0; LSF_NSPLIT * LPC_N_MAX],
            start: 0,
            state_first: 0,
            idx_for_max: 0,
            idx_vec: [0; STATE_SHORT_LEN_30MS],
            extra_cb_index: [0; CB_NSTAGES],
            extra_gain_index: [0; CB_NSTAGES],
            cb_index: [0; CB_NSTAGES * NASUB_MAX],
            gain_index: [0; CB_NSTAGES * NASUB_MAX],
        }
    }

    /// Visits every parameter with its bit allocation, in bitstream order within a class.
    fn for_each(&mut self, m: &ModeParams, mut f: impl FnMut(&mut i32, &Bits)) {
        let u = m.ulp;
        for k in 0..LSF_NSPLIT * m.lpc_n {
            f(&mut self.lsf[k], &u.lsf[k]);
        }
        f(&mut self.start, &u.start);
        f(&mut self.state_first, &u.start_first);
        f(&mut self.idx_for_max, &u.scale);
        for x in &mut self.idx_vec[..m.state_short_len] {
            f(x, &u.state);
        }
        for k in 0..CB_NSTAGES {
            f(&mut self.extra_cb_index[k], &u.extra_cb_index[k]);
        }
        for k in 0..CB_NSTAGES {
            f(&mut self.extra_gain_index[k], &u.extra_cb_gain[k]);
        }
        for i in 0..m.nasub {
            for k in 0..CB_NSTAGES {
                f(&mut self.cb_index[i * CB_NSTAGES + k], &u.cb_index[i][k]);
            }
        }
        for i in 0..m.nasub {
            for k in 0..CB_NSTAGES {
                f(&mut self.gain_index[i * CB_NSTAGES + k], &u.cb_gain[i][k]);
            }
        }
    }
}

struct BitWriter<'a> {
    out: &'a mut [u8],
    pos: usize,
}

impl BitWriter<'_> {
    fn put(&mut self, value: u32, bits: u32) {
        for b in (0..bits).rev() {
            let bit = (value >> b) & 1;
            let byte = self.pos / 8;
            if let Some(o) = self.out.get_mut(byte) {
                *o |= (bit as u8) << (7 - self.pos % 8);
            }
            self.pos += 1;
        }
    }
}

struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn get(&mut self, bits: u32) -> i32 {
        let mut v = 0i32;
        for _ in 0..bits {
            let byte = self.data.get(self.pos / 8).copied().unwrap_or(0);
            v = (v << 1) | i32::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        v
    }
}

/// Writes the frame into `out[..m.no_of_bytes]` (A.3, the end of iLBC_encode).
pub(crate) fn pack(p: &FrameParams, m: &ModeParams, out: &mut [u8]) {
    let out = &mut out[..m.no_of_bytes];
    out.fill(0);
    let mut w = BitWriter { out, pos: 0 };
    let mut p = *p;
    for ulp in 0..3 {
        p.for_each(m, |value, bits| {
            let first = u32::from(bits[ulp]);
            let rest = u32::from(bits[ulp + 1]) + u32::from(bits[ulp + 2]);
            // packsplit: the most significant `first` bits of what is left.
            let part = *value >> rest;
            *value -= part << rest;
            w.put(part as u32, first);
        });
    }
    // The empty-frame indicator: 0 for a real frame.
    w.put(0, 1);
}

/// Reads a frame (A.5 iLBC_decode) and returns its parameters and the empty-frame bit.
pub(crate) fn unpack(data: &[u8], m: &ModeParams) -> (FrameParams, bool) {
    let mut p = FrameParams::zero();
    let mut r = BitReader { data, pos: 0 };
    for ulp in 0..3 {
        p.for_each(m, |value, bits| {
            let n = u32::from(bits[ulp]);
            // packcombine
            *value = (*value << n) + r.get(n);
        });
    }
    let empty = r.get(1) == 1;
    (p, empty)
}
