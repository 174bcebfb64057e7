//! The frame decoder (RFC 3951 section 4, A.5 iLBC_decode.c).

use super::cb::{
    backward_memory, cb_construct, forward_memory, index_conv_dec, push_memory, start_state_memory,
};
use super::constants::{
    ModeParams, BLOCKL_MAX, CB_MEML, CB_NSTAGES, LPC_N_MAX, MEM_LF, NSUB_MAX, ORDER, ORDER1,
    STATE_LEN, ST_MEM_L, SUBL,
};
use super::enhancer::{enhance, EnhancerState};
use super::filter::{hp_output, synt_filter};
use super::lpc::decoder_interpolate;
use super::lsf::{lsf_check, lsf_dequant};
use super::pack::{unpack, FrameParams};
use super::plc::{do_the_plc, PlcState};
use super::state::state_construct_w;

/// The state of one decoder (the reference's `iLBC_Dec_Inst_t`, enhancer on).
#[derive(Debug, Clone)]
pub(crate) struct DecoderState {
    pub m: ModeParams,
    synt_mem: [f32; ORDER],
    lsfdeqold: [f32; ORDER],
    last_lag: i32,
    plc: PlcState,
    old_syntdenum: [f32; NSUB_MAX * ORDER1],
    hpomem: [f32; 4],
    enh: EnhancerState,
    prev_enh_pl: bool,
}

impl DecoderState {
    pub(crate) fn new(m: ModeParams) -> Self {
        let mut old_syntdenum = [0.0; NSUB_MAX * ORDER1];
        for i in 0..NSUB_MAX {
            old_syntdenum[i * ORDER1] = 1.0;
        }
        Self {
            m,
            synt_mem: [0.0; ORDER],
            lsfdeqold: super::tables::LSF_MEAN,
            last_lag: 20,
            plc: PlcState::new(),
            old_syntdenum,
            hpomem: [0.0; 4],
            enh: EnhancerState::new(),
            prev_enh_pl: false,
        }
    }

    /// Decodes one frame (`Some(bytes)`, `m.no_of_bytes` long) or conceals one (`None`) into
    /// `out[..m.blockl]`. A frame whose empty-frame bit is set, or whose start-state position
    /// is impossible, is concealed. Returns false when the frame was concealed.
    pub(crate) fn decode(&mut self, bytes: Option<&[u8]>, out: &mut [f32]) -> bool {
        let m = self.m;
        let blockl = m.blockl;
        let mut decresidual = [0.0f32; BLOCKL_MAX];
        let mut syntdenum = [0.0f32; NSUB_MAX * ORDER1];
        let mut plc_residual = [0.0f32; BLOCKL_MAX];
        let mut plc_lpc = [0.0f32; ORDER1];

        let mut good = false;
        if let Some(bytes) = bytes {
            let (mut p, empty) = unpack(bytes, &m);
            let max_start = if m.mode == 20 { 3 } else { 5 };
            good = !empty && p.start >= 1 && p.start <= max_start;
            if good {
                index_conv_dec(&mut p.cb_index);
                let mut lsfdeq = [0.0f32; ORDER * LPC_N_MAX];
                lsf_dequant(&mut lsfdeq, &p.lsf, m.lpc_n);
                lsf_check(&mut lsfdeq, m.lpc_n);
                decoder_interpolate(&mut syntdenum, &lsfdeq, &mut self.lsfdeqold, &m);
                decode_residual(&m, &mut decresidual, &p, &syntdenum);
                // Prepare the concealment for a future loss.
                do_the_plc(
                    &mut self.plc,
                    &mut plc_residual,
                    &mut plc_lpc,
                    false,
                    &decresidual,
                    &syntdenum[ORDER1 * (m.nsub - 1)..],
                    self.last_lag,
                    blockl,
                );
                decresidual[..blockl].copy_from_slice(&plc_residual[..blockl]);
            }
        }
        if !good {
            let zeros = [0.0f32; BLOCKL_MAX];
            let mut one = [0.0f32; ORDER1];
            one[0] = 1.0;
            do_the_plc(
                &mut self.plc,
                &mut plc_residual,
                &mut plc_lpc,
                true,
                &zeros,
                &one,
                self.last_lag,
                blockl,
            );
            decresidual[..blockl].copy_from_slice(&plc_residual[..blockl]);
            for i in 0..m.nsub {
                syntdenum[i * ORDER1..(i + 1) * ORDER1].copy_from_slice(&plc_lpc);
            }
        }

        // Enhancement, then synthesis 40 (20 ms) or 80 (30 ms) samples behind.
        let mut data = [0.0f32; BLOCKL_MAX];
        self.last_lag = enhance(
            &mut data,
            &decresidual[..blockl],
            &mut self.enh,
            m.mode,
            self.prev_enh_pl,
        );
        let delay_subs = if m.mode == 20 { 1 } else { 2 };
        for i in 0..m.nsub {
            let a = if i < delay_subs {
                &self.old_syntdenum[(i + m.nsub - delay_subs) * ORDER1..]
            } else {
                &syntdenum[(i - delay_subs) * ORDER1..]
            };
            synt_filter(&mut data[i * SUBL..(i + 1) * SUBL], a, &mut self.synt_mem);
        }
        hp_output(&data[..blockl], &mut out[..blockl], &mut self.hpomem);
        self.old_syntdenum[..m.nsub * ORDER1].copy_from_slice(&syntdenum[..m.nsub * ORDER1]);
        self.prev_enh_pl = !good;
        good
    }
}

/// The residual of a frame from its parameters (A.5 Decode).
fn decode_residual(
    m: &ModeParams,
    decresidual: &mut [f32; BLOCKL_MAX],
    p: &FrameParams,
    syntdenum: &[f32; NSUB_MAX * ORDER1],
) {
    let ssl = m.state_short_len;
    let start = p.start as usize;
    let diff = STATE_LEN - ssl;
    let mut reverse = [0.0f32; BLOCKL_MAX];
    let mut mem = [0.0f32; CB_MEML];
    let start_pos = if p.state_first == 1 {
        (start - 1) * SUBL
    } else {
        (start - 1) * SUBL + diff
    };
    state_construct_w(
        p.idx_for_max,
        &p.idx_vec,
        &syntdenum[(start - 1) * ORDER1..],
        &mut decresidual[start_pos..],
        ssl,
    );
    let st_mem = &mut mem[CB_MEML - ST_MEM_L..];
    if p.state_first == 1 {
        // Adaptive part at the end.
        start_state_memory(st_mem, &decresidual[start_pos..start_pos + ssl], false);
        cb_construct(
            &mut decresidual[start_pos + ssl..],
            &p.extra_cb_index,
            &p.extra_gain_index,
            st_mem,
            diff,
        );
    } else {
        // Adaptive part at the beginning, decoded backwards in time.
        start_state_memory(st_mem, &decresidual[start_pos..start_pos + ssl], true);
        cb_construct(
            &mut reverse,
            &p.extra_cb_index,
            &p.extra_gain_index,
            st_mem,
            diff,
        );
        for k in 0..diff {
            decresidual[start_pos - 1 - k] = reverse[k];
        }
    }

    let mut subcount = 0;
    // Forward prediction of the sub-frames after the start state.
    let nfor = m.nsub - start - 1;
    if nfor > 0 {
        forward_memory(&mut mem, decresidual, start);
        for subframe in 0..nfor {
            let pos = (start + 1 + subframe) * SUBL;
            let lmem = MEM_LF[subcount];
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
        backward_memory(&mut mem, decresidual, start, m.nsub);
        for subframe in 0..nback {
            let pos = subframe * SUBL;
            let lmem = MEM_LF[subcount];
            cb_construct(
                &mut reverse[pos..pos + SUBL],
                &p.cb_index[subcount * CB_NSTAGES..],
                &p.gain_index[subcount * CB_NSTAGES..],
                &mem[CB_MEML - lmem..],
                SUBL,
            );
            push_memory(&mut mem, &reverse[pos..pos + SUBL]);
            subcount += 1;
        }
        for i in 0..SUBL * nback {
            decresidual[SUBL * nback - i - 1] = reverse[i];
        }
    }
}
