//! G.722 (ITU-T G.722, 7 kHz audio coding within 64 kbit/s): sub-band ADPCM, bit-exact to the
//! ITU-T reference implementation (G.191 STL) and its test vectors.
//!
//! # Structure
//!
//! The 16 kHz input is split by a 24-tap quadrature mirror filter (QMF) into two 8 kHz sub-bands.
//! The lower sub-band is coded with 6 bits per sample by an adaptive differential PCM coder
//! ([`LowerBand`]), the higher sub-band with 2 bits ([`HigherBand`]); each code byte is
//! `(ih << 6) | il` and covers two input samples. The decoder runs the same ADPCM blocks and a
//! synthesis QMF.
//!
//! The three modes of G.722 differ only in the decoder: in mode 2 (56 kbit/s) and mode 3
//! (48 kbit/s) the lowest one or two bits of the lower-band code are reserved for data and are
//! ignored, and the lower band is reconstructed with a 5- or 4-bit inverse quantiser. The encoder
//! is the same in every mode and always writes 8-bit codes ([`Mode`]).
//!
//! # Types
//!
//! * [`G722Encoder`]: PCM at 16 kHz to codes; implements [`AudioEncoder`].
//! * [`G722Decoder`]: codes to PCM, bit-exact, without concealment.
//! * [`G722PlcDecoder`]: [`G722Decoder`] plus packet loss concealment; implements
//!   [`AudioDecoder`] and is what the codec registry hands out.
//! * [`LowerBand`], [`HigherBand`]: the sub-band ADPCM coders alone, with the reset of the
//!   standard, as the ITU-T G.722 Appendix II test sequences drive them (without the QMF).
//!
//! # Arithmetic and speed
//!
//! Every operation of the reference (16-bit saturating adds, `(a * b) >> 15` products, the
//! step-by-step saturation of the zero-section sum) is reproduced in `i32` arithmetic; where a
//! saturation of the reference can never trigger (the bounds are noted at each place) it is left
//! out. The scale-factor tables are built at compile time from the 32-entry table of the standard,
//! the encoder's 30-level quantiser is a branch-free binary search, and the six-zero predictor
//! works in 16-bit lanes that fit one vector register. The QMFs filter a block of up to 64 sample
//! pairs at a time, over a stack buffer that starts with the 11 values of history each half of
//! the filter needs: nothing is shifted per sample, and the filter loop vectorises.

use super::super::traits::{
    AudioDecoder, AudioEncoder, Bitrates, CodecDescriptor, CodecParams, RtpClock,
};
use crate::error::CodecError;
use crate::frame::AudioFormat;
use crate::processing::audio::plc::G711Plc;

const PTIMES: &[u16] = &[10, 20, 30, 40, 50, 60, 80, 100, 120, 140, 160, 180, 200];

/// G.722, static payload type 9. Samples at 16 kHz but advertises an RTP clock of 8000
/// (RFC 3551, section 4.5.2).
pub static G722: CodecDescriptor = CodecDescriptor {
    name: "g722",
    encoding_name: "G722",
    clock_rate: 8000,
    rtp_clock: RtpClock::Scaled,
    rtpmap_channels: None,
    sample_rate: 16000,
    sample_rates: &[16000],
    channels: 1,
    max_channels: 1,
    ptimes: PTIMES,
    default_ptime: 20,
    payload_type: Some(9),
    fmtp: None,
    bitrates: Bitrates::Modes(&[64000, 56000, 48000]),
    sample_based: true,
};

/// The decoder's operating mode (G.722 Table 1). The encoder is the same in all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Mode 1, 64 kbit/s: all 6 bits of the lower-band code are audio.
    #[default]
    Kbps64,
    /// Mode 2, 56 kbit/s: the lowest bit of each code is data and is ignored.
    Kbps56,
    /// Mode 3, 48 kbit/s: the lowest two bits of each code are data and are ignored.
    Kbps48,
}

impl Mode {
    /// The mode for a bitrate in bit/s (64000, 56000 or 48000).
    pub fn from_bitrate(bitrate: u32) -> Option<Self> {
        match bitrate {
            64000 => Some(Self::Kbps64),
            56000 => Some(Self::Kbps56),
            48000 => Some(Self::Kbps48),
            _ => None,
        }
    }

    /// The mode's audio bitrate in bit/s.
    pub fn bitrate(self) -> u32 {
        match self {
            Self::Kbps64 => 64000,
            Self::Kbps56 => 56000,
            Self::Kbps48 => 48000,
        }
    }

    /// The mode's number in G.722 (1, 2 or 3).
    pub fn number(self) -> u8 {
        match self {
            Self::Kbps64 => 1,
            Self::Kbps56 => 2,
            Self::Kbps48 => 3,
        }
    }

    /// The lower-band inverse quantiser of this mode, indexed by the 6-bit code.
    fn table(self) -> &'static [i32; 64] {
        &INVQ_LOW[self as usize]
    }
}

mod tables;
use tables::{
    limit15, sat16, DET, IH_CODE, ILN, ILP, INVQ_LOW, NB_MAX_HIGH, NB_MAX_LOW, Q2, Q6, QM2, QM4,
    QMF_EVEN, QMF_ODD, WH2, WL4,
};
mod adpcm;
pub use adpcm::{HigherBand, LowerBand};
mod qmf;
use qmf::{AnalysisQmf, SynthesisQmf, BLOCK, HIST, MAX_CONCEAL};

// ---------------------------------------------------------------------------------------------
// Encoder.

/// A G.722 encoder: 16 kHz PCM in, one code byte per two samples out (always the 64 kbit/s
/// codes; a decoder in mode 2 or 3 ignores the bits it does not use).
#[derive(Debug, Clone)]
pub struct G722Encoder {
    qmf: AnalysisQmf,
    low: LowerBand,
    high: HigherBand,
    frame_samples: usize,
}

impl Default for G722Encoder {
    fn default() -> Self {
        Self::new(20)
    }
}

impl G722Encoder {
    /// An encoder in the reset state whose [`AudioEncoder::frame_samples`] is `ptime_ms` of
    /// audio; [`Self::encode`] takes any even number of samples regardless.
    pub fn new(ptime_ms: u16) -> Self {
        Self {
            qmf: AnalysisQmf::default(),
            low: LowerBand::new(),
            high: HigherBand::new(),
            frame_samples: 16 * usize::from(ptime_ms),
        }
    }

    /// Encodes `pcm` (16 kHz, an even number of samples) into `out`, one byte per two samples;
    /// returns the number of bytes written.
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        if !pcm.len().is_multiple_of(2) {
            return Err(CodecError::InvalidFrameLength {
                got: pcm.len(),
                expected: "an even number of samples (one G.722 code per two)",
            });
        }
        let n = pcm.len() / 2;
        if out.len() < n {
            return Err(CodecError::BufferTooSmall {
                needed: n,
                available: out.len(),
            });
        }
        let mut xl = [0; BLOCK];
        let mut xh = [0; BLOCK];
        for (pcm, codes) in pcm.chunks(2 * BLOCK).zip(out[..n].chunks_mut(BLOCK)) {
            let m = self.qmf.analyse(pcm, &mut xl, &mut xh);
            for ((code, &xl), &xh) in codes.iter_mut().zip(&xl[..m]).zip(&xh[..m]) {
                let il = self.low.quantize(i32::from(xl));
                self.low.adapt(il);
                let ih = self.high.quantize(i32::from(xh));
                self.high.adapt(ih);
                *code = (ih << 6) | il;
            }
        }
        Ok(n)
    }

    /// Returns to the reset state.
    pub fn reset(&mut self) {
        let frame_samples = self.frame_samples;
        *self = Self::new(0);
        self.frame_samples = frame_samples;
    }
}

impl AudioEncoder for G722Encoder {
    fn descriptor(&self) -> &'static CodecDescriptor {
        &G722
    }
    fn format(&self) -> AudioFormat {
        AudioFormat::mono_i16(16000)
    }
    fn frame_samples(&self) -> usize {
        self.frame_samples
    }
    fn max_payload_bytes(&self) -> usize {
        self.frame_samples / 2
    }
    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        G722Encoder::encode(self, pcm, out)
    }
    fn reset(&mut self) {
        G722Encoder::reset(self);
    }
}

// ---------------------------------------------------------------------------------------------
// Decoder.

/// A G.722 decoder, bit-exact to the ITU-T reference in each mode, without loss concealment:
/// one code byte in, two 16 kHz samples out.
#[derive(Debug, Clone)]
pub struct G722Decoder {
    qmf: SynthesisQmf,
    low: LowerBand,
    high: HigherBand,
    mode: Mode,
}

impl Default for G722Decoder {
    fn default() -> Self {
        Self::new(Mode::Kbps64)
    }
}

impl G722Decoder {
    /// A decoder in the reset state, decoding in `mode`.
    pub fn new(mode: Mode) -> Self {
        Self {
            qmf: SynthesisQmf::default(),
            low: LowerBand::new(),
            high: HigherBand::new(),
            mode,
        }
    }

    /// The mode it decodes in.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Changes the mode from the next code on (G.722 allows switching at any sample).
    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
    }

    /// Decodes `codes` into `out`, two samples per code; returns the number of samples written.
    pub fn decode(&mut self, codes: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        let n = codes.len() * 2;
        if out.len() < n {
            return Err(CodecError::BufferTooSmall {
                needed: n,
                available: out.len(),
            });
        }
        let table = self.mode.table();
        for (codes, pcm) in codes.chunks(BLOCK).zip(out[..n].chunks_mut(2 * BLOCK)) {
            let mut b = self.qmf.0.begin();
            for ((&code, e), o) in codes
                .iter()
                .zip(&mut b.even[HIST..])
                .zip(&mut b.odd[HIST..])
            {
                let rl = self.low.decode_with(usize::from(code & 63), table);
                let rh = self.high.decode_code(code >> 6);
                // rl, rh are 15-bit, so their sum and difference fit 16 bits.
                *e = (rl - rh) as i16;
                *o = (rl + rh) as i16;
            }
            self.qmf.synthesise(&b, codes.len(), pcm);
        }
        Ok(n)
    }

    /// Returns to the reset state (the mode is kept).
    pub fn reset(&mut self) {
        *self = Self::new(self.mode);
    }
}

/// A G.722 decoder with packet loss concealment, as the codec registry hands out.
///
/// # Concealment
///
/// The lost audio is synthesised at 16 kHz by [`G711Plc`] (pitch-based waveform substitution)
/// in its [wideband tuning](G711Plc::wideband): every decoded frame goes through
/// [`G711Plc::good_frame`], which records it (and may smooth the join after a loss), and a lost
/// frame is filled by [`G711Plc::conceal`].
///
/// WB-PESQ (`scripts/quality.py --codecs g722`, 20 ms packets, 3 seeds) at 0 / 5 / 10 / 20 %
/// loss: 4.59 / 2.35 / 1.71 / 1.30 with the standard's constants scaled to 16 kHz (20 ms
/// correlation window, periods of 5 to 15 ms, a second and third period mixed in after 10 and
/// 20 ms), 4.59 / 2.59 / 1.89 / 1.39 with the wideband tuning (5 ms window searched at every
/// lag, periods from 4 ms, one period repeated). Where the rest goes, measured on the same
/// item at 5 / 10 / 20 % with the standard's constants: restoring the true ADPCM and QMF
/// states after each loss (an oracle that decodes the lost codes into a throwaway) gives
/// 2.60 / 1.95 / 1.42, of which the
/// lower-band predictor alone 2.49 / 1.84 / 1.36 (its scale factor, the higher band and the
/// QMF almost nothing); the true audio in the lost packets with the resynchronised states that
/// follow gives 2.63 / 1.92 / 1.50; silence in the lost packets with true states 1.84 / 1.35 /
/// 1.12. After a loss the decoded output is 4-5 dB (segmental SNR) from the loss-free decoding
/// in the first packet, 11 dB in the second, 15 in the third, converging at about 5 dB per
/// packet: the lower band's zero and pole coefficients differ from the far end's and their
/// difference decays only through the predictor's leakage (2^-8 per sample), as both receive
/// the same sign-sign updates. Shrinking the resynchronised coefficients towards zero or
/// towards their value before the loss made it worse (2.11 to 2.34 at 5 %), as did aligning
/// the re-encoding with the far end's input by the QMF delay (2.33), attenuating the concealed
/// 4-8 kHz band (2.58-2.59 against 2.60 with the oracle); with the oracle, a longer end overlap
/// or a fade of 10 or 30 % per 10 ms instead of 20 % moved the figures by less than 0.03. A
/// better concealment improves both the lost packets and, through the re-encoding, the
/// recovery.
///
/// The ADPCM decoder has to be moved through the loss too. Left as it was, its scale factors
/// and predictors stay those of the last good frame while the far-end encoder's moved on with
/// the signal; reset, its scale factors restart from their minimum and the next frames decode
/// far too quietly and distorted. Instead the concealed waveform is encoded, as a G.722 encoder
/// at the far end would encode it, by an analysis QMF primed with the last 22 output samples and
/// a quantiser working on the decoder's own sub-band states, and each resulting code is decoded,
/// so that the ADPCM states and the synthesis QMF move on as if the concealed audio had been
/// received. (Encoder and decoder adapt identically from the same codes, so this is exact
/// bookkeeping of "the concealed audio was sent".) After the loss the decoder starts from the
/// level and spectral envelope of the concealment and converges to the far-end encoder's state
/// through the leakage of the G.722 adaptation: after a 40 ms loss in speech the output is the
/// loss-free decoding again, bit for bit, within half a second. A loss long enough for the PLC to
/// fade to silence leaves the decoder near its reset state, which decodes the next talkspurt
/// quietly at first: a natural fade-in.
///
/// Measured on the ITU-T speech file and three recordings (20 ms packets), the two frames after
/// each loss come out 4 to 8 dB closer to the loss-free decoding than with a reset. Against
/// leaving the state as it was, resynchronising ranges from 0.5 dB worse to 6 dB better
/// depending on the recording, the gains growing with the loss rate (10 % to 33 %).
///
/// Two approximations remain. The concealment continues the decoder's *output*, which lags the
/// far-end encoder's input by the 23-sample delay of the two QMFs; the samples the far end had
/// already taken in are unknown, so the re-encoding runs that much behind, a small phase error
/// that the adaptation absorbs. And the concealed samples are taken to be on the decoder's
/// timeline, as they are for a PLC without output delay; a PLC latency shifts the bookkeeping by
/// as many samples, which affects only the quality of the resynchronisation, never its
/// stability.
#[derive(Debug, Clone)]
pub struct G722PlcDecoder {
    dec: G722Decoder,
    plc: G711Plc,
    /// Analysis QMF that re-encodes concealed audio; primed at the start of each loss.
    ana: AnalysisQmf,
    /// The last 22 output samples, oldest first: the analysis QMF's delay line when a loss
    /// starts (the 24-tap line minus the pair that the first concealed samples fill).
    tail: [i16; 2 * HIST],
    /// Whether the previous call concealed.
    concealing: bool,
    /// A concealed sample left over from an odd-length concealment, waiting for its pair.
    pending: Option<i16>,
    /// A copy of `plc` run ahead by its output delay, so that the ADPCM state is resynchronised
    /// on concealed audio aligned with the lost packets rather than with the delayed output.
    peek: G711Plc,
    /// The concealed output followed by the look-ahead: the undelayed concealment is
    /// `ahead[delay..delay + n]`. Sized for the longest payload plus the delay.
    ahead: Vec<i16>,
}

impl Default for G722PlcDecoder {
    fn default() -> Self {
        Self::new(Mode::Kbps64)
    }
}

impl G722PlcDecoder {
    /// A decoder in the reset state, decoding in `mode`.
    pub fn new(mode: Mode) -> Self {
        let plc = G711Plc::wideband(16000);
        Self {
            dec: G722Decoder::new(mode),
            ahead: vec![0; MAX_CONCEAL + plc.delay_samples()],
            peek: plc.clone(),
            plc,
            ana: AnalysisQmf::default(),
            tail: [0; 2 * HIST],
            concealing: false,
            pending: None,
        }
    }

    /// The mode it decodes in.
    pub fn mode(&self) -> Mode {
        self.dec.mode
    }

    /// Changes the mode from the next code on.
    pub fn set_mode(&mut self, mode: Mode) {
        self.dec.set_mode(mode);
    }

    fn remember(&mut self, out: &[i16]) {
        let h = 2 * HIST;
        if out.len() >= h {
            self.tail.copy_from_slice(&out[out.len() - h..]);
        } else {
            self.tail.copy_within(out.len().., 0);
            self.tail[h - out.len()..].copy_from_slice(out);
        }
    }

    /// Moves the ADPCM decoder through the concealed samples `x` (see the type's docs).
    fn resync(&mut self, x: &[i16]) {
        let mut x = x;
        if let Some(first) = self.pending.take() {
            match x.split_first() {
                Some((&second, rest)) => {
                    self.resync_block(&[first, second]);
                    x = rest;
                }
                None => {
                    self.pending = Some(first);
                    return;
                }
            }
        }
        for block in x.chunks(2 * BLOCK) {
            self.resync_block(block);
        }
        if x.len() % 2 == 1 {
            self.pending = x.last().copied();
        }
    }

    /// Encodes up to `BLOCK` pairs of concealed audio and decodes the codes; the decoder's
    /// synthesis QMF takes the reconstructed sub-bands without filtering them (the output is
    /// the concealment itself).
    fn resync_block(&mut self, pcm: &[i16]) {
        let mut xl = [0; BLOCK];
        let mut xh = [0; BLOCK];
        let n = self.ana.analyse(pcm, &mut xl, &mut xh);
        let d = &mut self.dec;
        let table = d.mode.table();
        let mut b = d.qmf.0.begin();
        for (((&xl, &xh), e), o) in xl[..n]
            .iter()
            .zip(&xh[..n])
            .zip(&mut b.even[HIST..])
            .zip(&mut b.odd[HIST..])
        {
            let il = d.low.quantize(i32::from(xl));
            let ih = d.high.quantize(i32::from(xh));
            let rl = d.low.decode_with(usize::from(il), table);
            let rh = d.high.decode_code(ih);
            *e = (rl - rh) as i16;
            *o = (rl + rh) as i16;
        }
        d.qmf.0.end(&b, n);
    }
}

impl AudioDecoder for G722PlcDecoder {
    fn descriptor(&self) -> &'static CodecDescriptor {
        &G722
    }
    fn format(&self) -> AudioFormat {
        AudioFormat::mono_i16(16000)
    }
    fn max_frame_samples(&self) -> usize {
        // A payload of 200 ms, the longest ptime we offer.
        3200
    }
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        if payload.is_empty() {
            return Err(CodecError::InvalidPayload("empty G.722 payload"));
        }
        let n = self.dec.decode(payload, out)?;
        let out = &mut out[..n];
        // The QMF history for a later loss is the decoding itself, before the concealment
        // delays it.
        self.remember(out);
        self.plc.good_frame(out);
        self.concealing = false;
        self.pending = None;
        Ok(n)
    }
    fn conceal(&mut self, out: &mut [i16]) -> Result<usize, CodecError> {
        if out.len() > MAX_CONCEAL {
            // Longer than any payload: conceal in pieces.
            let mut done = 0;
            for chunk in out.chunks_mut(MAX_CONCEAL) {
                done += self.conceal(chunk)?;
            }
            return Ok(done);
        }
        let n = out.len();
        let delay = self.plc.delay_samples();
        self.plc.conceal(out);
        // What the concealment will put out `delay` samples later: the end of the lost span.
        self.peek.copy_state_from(&self.plc);
        self.ahead[..n].copy_from_slice(out);
        self.peek.conceal(&mut self.ahead[n..n + delay]);
        if !self.concealing {
            self.ana = AnalysisQmf::default();
            self.ana.prime(&self.tail);
            self.concealing = true;
        }
        let aligned = std::mem::take(&mut self.ahead);
        self.resync(&aligned[delay..delay + n]);
        self.remember(&aligned[delay..delay + n]);
        self.ahead = aligned;
        Ok(n)
    }
    fn delay_samples(&self) -> usize {
        self.plc.delay_samples()
    }
    fn flush(&mut self, out: &mut [i16]) -> usize {
        self.plc.flush(out)
    }
    fn reset(&mut self) {
        *self = Self::new(self.dec.mode);
    }
}

/// The decoder mode that `params.bitrate` asks for (64000 when unset).
fn mode_of(params: &CodecParams) -> Result<Mode, CodecError> {
    match params.bitrate {
        None => Ok(Mode::Kbps64),
        Some(b) => Mode::from_bitrate(b).ok_or_else(|| CodecError::UnsupportedParameter {
            name: "bitrate",
            value: b.to_string(),
            supported: "64000, 56000, 48000".into(),
        }),
    }
}

pub(crate) fn new_encoder(p: &CodecParams) -> Result<Box<dyn AudioEncoder>, CodecError> {
    // Every mode's stream is the 64 kbit/s one; the bitrate only has to be a valid mode.
    mode_of(p)?;
    Ok(Box::new(G722Encoder::new(p.ptime_ms)))
}

pub(crate) fn new_decoder(p: &CodecParams) -> Result<Box<dyn AudioDecoder>, CodecError> {
    Ok(Box::new(G722PlcDecoder::new(mode_of(p)?)))
}

#[cfg(test)]
mod tests;
