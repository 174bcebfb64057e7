//! The frame encoder (RFC 3951 section 3, A.3 iLBC_encode.c).

use super::cb::{
    backward_memory, cb_construct, cb_search, forward_memory, index_conv_enc, push_memory,
    start_state_memory,
};
use super::constants::{
    ModeParams, BLOCKL_MAX, CB_MEML, CB_NSTAGES, MEM_LF, NSUB_MAX, ORDER, ORDER1, STATE_LEN,
    ST_MEM_L, SUBL,
};
use super::filter::{ana_filter, hp_input};
use super::lpc::LpcEncoderState;
use super::pack::{pack, FrameParams};
use super::state::{frame_classify, state_construct_w, state_search_w};

/// The state of one encoder (the reference's `iLBC_Enc_Inst_t`).
#[derive(Debug, Clone)]
pub(crate) struct EncoderState {
    pub m: ModeParams,
    ana_mem: [f32; ORDER],
    lpc: LpcEncoderState,
    hpimem: [f32; 4],
}

impl EncoderState {
    pub(crate) fn new(m: ModeParams) -> Self {
        Self {
            m,
            ana_mem: [0.0; ORDER],
            lpc: LpcEncoderState::new(),
            hpimem: [0.0; 4],
        }
    }

    /// Encodes one frame of `m.blockl` samples into `out[..m.no_of_bytes]`.
    pub(crate) fn encode(&mut self, block: &[f32], out: &mut [u8]) {
        let m = self.m;
        let blockl = m.blockl;
        let ssl = m.state_short_len;
        let mut data = [0.0f32; BLOCKL_MAX];
        let mut residual = [0.0f32; BLOCKL_MAX];
        let mut reverse_residual = [0.0f32; BLOCKL_MAX];
        let mut reverse_decresidual = [0.0f32; BLOCKL_MAX];
        let mut decresidual = [0.0f32; BLOCKL_MAX];
        let mut mem = [0.0f32; CB_MEML];
        let mut syntdenum = [0.0f32; NSUB_MAX * ORDER1];
        let mut weightdenum = [0.0f32; NSUB_MAX * ORDER1];
        let mut p = FrameParams::zero();

        hp_input(&block[..blockl], &mut data[..blockl], &mut self.hpimem);
        self.lpc
            .encode(&mut syntdenum, &mut weightdenum, &mut p.lsf, &data, &m);
        for n in 0..m.nsub {
            ana_filter(
                &data[n * SUBL..(n + 1) * SUBL],
                &syntdenum[n * ORDER1..],
                &mut residual[n * SUBL..(n + 1) * SUBL],
                &mut self.ana_mem,
            );
        }

        // Where the start state goes.
        let start = frame_classify(&residual, &m);
        let diff = STATE_LEN - ssl;
        let mut en1 = 0.0f32;
        let index = (start - 1) * SUBL;
        for &x in &residual[index..index + ssl] {
            en1 += x * x;
        }
        let mut en2 = 0.0f32;
        let index = (start - 1) * SUBL + diff;
        for &x in &residual[index..index + ssl] {
            en2 += x * x;
        }
        let state_first = en1 > en2;
        let start_pos = if state_first {
            (start - 1) * SUBL
        } else {
            (start - 1) * SUBL + diff
        };

        // Scalar quantization of the start state.
        let sd = (start - 1) * ORDER1;
        p.idx_for_max = state_search_w(
            &residual[start_pos..],
            &syntdenum[sd..],
            &weightdenum[sd..],
            &mut p.idx_vec,
            ssl,
            state_first,
            &m,
        );
        state_construct_w(
            p.idx_for_max,
            &p.idx_vec,
            &syntdenum[sd..],
            &mut decresidual[start_pos..],
            ssl,
        );

        // Predictive quantization of the rest of the start state.
        let st_mem = &mut mem[CB_MEML - ST_MEM_L..];
        if state_first {
            // Adaptive part at the end.
            start_state_memory(st_mem, &decresidual[start_pos..start_pos + ssl], false);
            cb_search(
                &mut p.extra_cb_index,
                &mut p.extra_gain_index,
                &residual[start_pos + ssl..],
                st_mem,
                diff,
                &weightdenum[start * ORDER1..],
                0,
                diff,
            );
            cb_construct(
                &mut decresidual[start_pos + ssl..],
                &p.extra_cb_index,
                &p.extra_gain_index,
                st_mem,
                diff,
            );
        } else {
            // Adaptive part at the beginning, coded backwards in time.
            for k in 0..diff {
                reverse_residual[k] = residual[(start + 1) * SUBL - 1 - (k + ssl)];
            }
            start_state_memory(st_mem, &decresidual[start_pos..start_pos + ssl], true);
            cb_search(
                &mut p.extra_cb_index,
                &mut p.extra_gain_index,
                &reverse_residual,
                st_mem,
                diff,
                &weightdenum[sd..],
                0,
                diff,
            );
            cb_construct(
                &mut reverse_decresidual,
                &p.extra_cb_index,
                &p.extra_gain_index,
                st_mem,
                diff,
            );
            for k in 0..diff {
                decresidual[start_pos - 1 - k] = reverse_decresidual[k];
            }
        }

        let mut subcount = 0;
        // Forward prediction of the sub-frames after the start state.
        let nfor = m.nsub - start - 1;
        if nfor > 0 {
            forward_memory(&mut mem, &decresidual, start);
            for subframe in 0..nfor {
                let pos = (start + 1 + subframe) * SUBL;
                let lmem = MEM_LF[subcount];
                cb_search(
                    &mut p.cb_index[subcount * CB_NSTAGES..],
                    &mut p.gain_index[subcount * CB_NSTAGES..],
                    &residual[pos..pos + SUBL],
                    &mem[CB_MEML - lmem..],
                    SUBL,
                    &weightdenum[(start + 1 + subframe) * ORDER1..],
                    subcount + 1,
                    diff,
                );
                cb_construct(
                    &mut decresidual[pos..pos + SUBL],
                    &p.cb_index[subcount * CB_NSTAGES..],
                    &p.gain_index[subcount * CB_NSTAGES..],
                    &mem[CB_MEML - lmem..],
                    SUBL,
                );
                push_memory(&mut mem, &decresidual[pos..pos + SUBL]);
                subcount += 1;
            }
        }

        // Backward prediction of the sub-frames before the start state.
        let nback = start - 1;
        if nback > 0 {
            for n in 0..nback {
                for k in 0..SUBL {
                    reverse_residual[n * SUBL + k] =
                        residual[(start - 1) * SUBL - 1 - n * SUBL - k];
                    reverse_decresidual[n * SUBL + k] =
                        decresidual[(start - 1) * SUBL - 1 - n * SUBL - k];
                }
            }
            backward_memory(&mut mem, &decresidual, start, m.nsub);
            for subframe in 0..nback {
                let pos = subframe * SUBL;
                let lmem = MEM_LF[subcount];
                cb_search(
                    &mut p.cb_index[subcount * CB_NSTAGES..],
                    &mut p.gain_index[subcount * CB_NSTAGES..],
                    &reverse_residual[pos..pos + SUBL],
                    &mem[CB_MEML - lmem..],
                    SUBL,
                    &weightdenum[(start - 2 - subframe) * ORDER1..],
                    subcount + 1,
                    diff,
                );
                cb_construct(
                    &mut reverse_decresidual[pos..pos + SUBL],
                    &p.cb_index[subcount * CB_NSTAGES..],
                    &p.gain_index[subcount * CB_NSTAGES..],
                    &mem[CB_MEML - lmem..],
                    SUBL,
                );
                push_memory(&mut mem, &reverse_decresidual[pos..pos + SUBL]);
                subcount += 1;
            }
        }

        index_conv_enc(&mut p.cb_index);
        p.start = start as i32;
        p.state_first = i32::from(state_first);
        pack(&p, &m, out);
    }
}
