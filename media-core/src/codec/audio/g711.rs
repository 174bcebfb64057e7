//! G.711 µ-law (PCMU) and A-law (PCMA), bit-exact to ITU-T G.711 as implemented in the ITU-T
//! G.191 software tools. Table-driven: A-law depends only on `x >> 4` (4096 entries), µ-law only
//! on `x >> 2` (16384 entries), so encode and decode are one lookup per sample.

use super::super::traits::{
    AudioDecoder, AudioEncoder, Bitrates, CodecDescriptor, CodecParams, RtpClock,
};
use crate::error::CodecError;
use crate::frame::AudioFormat;
use crate::processing::audio::plc::G711Plc;

const PTIMES: &[u16] = &[10, 20, 30, 40, 50, 60, 80, 100, 120, 140, 160, 180, 200];

/// PCMU, static payload type 0.
pub static PCMU: CodecDescriptor = CodecDescriptor {
    name: "pcmu",
    encoding_name: "PCMU",
    clock_rate: 8000,
    rtp_clock: RtpClock::Scaled,
    rtpmap_channels: None,
    sample_rate: 8000,
    sample_rates: &[8000],
    channels: 1,
    max_channels: 1,
    ptimes: PTIMES,
    default_ptime: 20,
    payload_type: Some(0),
    fmtp: None,
    bitrates: Bitrates::Fixed,
    sample_based: true,
};

/// PCMA, static payload type 8.
pub static PCMA: CodecDescriptor = CodecDescriptor {
    name: "pcma",
    encoding_name: "PCMA",
    clock_rate: 8000,
    rtp_clock: RtpClock::Scaled,
    rtpmap_channels: None,
    sample_rate: 8000,
    sample_rates: &[8000],
    channels: 1,
    max_channels: 1,
    ptimes: PTIMES,
    default_ptime: 20,
    payload_type: Some(8),
    fmtp: None,
    bitrates: Bitrates::Fixed,
    sample_based: true,
};

// ---- reference arithmetic (ITU-T G.191 g711.c), used to build the tables at compile time ----

const fn alaw_compress_ref(x: i16) -> u8 {
    let mut ix: i16 = if x < 0 { (!x) >> 4 } else { x >> 4 };
    if ix > 15 {
        let mut iexp = 1;
        while ix > 16 + 15 {
            ix >>= 1;
            iexp += 1;
        }
        ix -= 16;
        ix += iexp << 4;
    }
    if x >= 0 {
        ix |= 0x80;
    }
    (ix ^ 0x55) as u8
}

const fn alaw_expand_ref(code: u8) -> i16 {
    let ix = (code ^ 0x55) as i16 & 0x7f;
    let iexp = ix >> 4;
    let mut mant = ix & 0x0f;
    if iexp > 0 {
        mant += 16;
    }
    mant = (mant << 4) + 8;
    if iexp > 1 {
        mant <<= iexp - 1;
    }
    if code > 127 {
        mant
    } else {
        -mant
    }
}

const fn ulaw_compress_ref(x: i16) -> u8 {
    let mut absno: i32 = if x < 0 {
        ((!x) >> 2) as i32 + 33
    } else {
        (x >> 2) as i32 + 33
    };
    if absno > 0x1fff {
        absno = 0x1fff;
    }
    let mut i = absno >> 6;
    let mut segno = 1;
    while i != 0 {
        segno += 1;
        i >>= 1;
    }
    let high = 8 - segno;
    let low = 0x0f - ((absno >> segno) & 0x0f);
    let mut code = (high << 4) | low;
    if x >= 0 {
        code |= 0x80;
    }
    code as u8
}

const fn ulaw_expand_ref(code: u8) -> i16 {
    let sign: i32 = if code < 0x80 { -1 } else { 1 };
    let mantissa = !(code as i32);
    let exponent = (mantissa >> 4) & 0x07;
    let segment = exponent + 1;
    let mantissa = mantissa & 0x0f;
    let step = 4 << segment;
    (sign * ((0x80 << exponent) + step * mantissa + step / 2 - 4 * 33)) as i16
}

static ALAW_ENC: [u8; 4096] = {
    let mut t = [0u8; 4096];
    let mut i = 0;
    while i < 4096 {
        // Index i covers inputs whose `x >> 4` is i - 2048.
        t[i] = alaw_compress_ref(((i as i32 - 2048) << 4) as i16);
        i += 1;
    }
    t
};

static ULAW_ENC: [u8; 16384] = {
    let mut t = [0u8; 16384];
    let mut i = 0;
    while i < 16384 {
        t[i] = ulaw_compress_ref(((i as i32 - 8192) << 2) as i16);
        i += 1;
    }
    t
};

static ALAW_DEC: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = alaw_expand_ref(i as u8);
        i += 1;
    }
    t
};

static ULAW_DEC: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = ulaw_expand_ref(i as u8);
        i += 1;
    }
    t
};

/// Encodes one sample to A-law.
#[inline]
pub fn linear_to_alaw(x: i16) -> u8 {
    ALAW_ENC[((x >> 4) as i32 + 2048) as usize & 4095]
}

/// Decodes one A-law code.
#[inline]
pub fn alaw_to_linear(code: u8) -> i16 {
    ALAW_DEC[code as usize]
}

/// Encodes one sample to µ-law.
#[inline]
pub fn linear_to_ulaw(x: i16) -> u8 {
    ULAW_ENC[((x >> 2) as i32 + 8192) as usize & 16383]
}

/// Decodes one µ-law code.
#[inline]
pub fn ulaw_to_linear(code: u8) -> i16 {
    ULAW_DEC[code as usize]
}

/// Encodes a buffer to A-law; `out` must be at least as long as `pcm`.
pub fn encode_alaw(pcm: &[i16], out: &mut [u8]) {
    for (o, &x) in out.iter_mut().zip(pcm) {
        *o = linear_to_alaw(x);
    }
}

/// Encodes a buffer to µ-law; `out` must be at least as long as `pcm`.
pub fn encode_ulaw(pcm: &[i16], out: &mut [u8]) {
    for (o, &x) in out.iter_mut().zip(pcm) {
        *o = linear_to_ulaw(x);
    }
}

/// Decodes A-law codes; `out` must be at least as long as `codes`.
pub fn decode_alaw(codes: &[u8], out: &mut [i16]) {
    for (o, &c) in out.iter_mut().zip(codes) {
        *o = alaw_to_linear(c);
    }
}

/// Decodes µ-law codes; `out` must be at least as long as `codes`.
pub fn decode_ulaw(codes: &[u8], out: &mut [i16]) {
    for (o, &c) in out.iter_mut().zip(codes) {
        *o = ulaw_to_linear(c);
    }
}

/// Which companding law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Law {
    /// µ-law, PCMU.
    Mu,
    /// A-law, PCMA.
    A,
}

impl Law {
    fn descriptor(self) -> &'static CodecDescriptor {
        match self {
            Law::Mu => &PCMU,
            Law::A => &PCMA,
        }
    }
}

/// A G.711 encoder.
#[derive(Debug)]
pub struct G711Encoder {
    law: Law,
    frame_samples: usize,
}

impl G711Encoder {
    /// An encoder for `law` producing packets of `ptime_ms`.
    pub fn new(law: Law, ptime_ms: u16) -> Self {
        Self {
            law,
            frame_samples: 8 * usize::from(ptime_ms),
        }
    }
}

impl AudioEncoder for G711Encoder {
    fn descriptor(&self) -> &'static CodecDescriptor {
        self.law.descriptor()
    }
    fn format(&self) -> AudioFormat {
        AudioFormat::mono_i16(8000)
    }
    fn frame_samples(&self) -> usize {
        self.frame_samples
    }
    fn max_payload_bytes(&self) -> usize {
        self.frame_samples
    }
    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        if out.len() < pcm.len() {
            return Err(CodecError::BufferTooSmall {
                needed: pcm.len(),
                available: out.len(),
            });
        }
        match self.law {
            Law::Mu => encode_ulaw(pcm, out),
            Law::A => encode_alaw(pcm, out),
        }
        Ok(pcm.len())
    }
    fn reset(&mut self) {}
}

/// A G.711 decoder with ITU-T G.711 Appendix I concealment.
///
/// # Delay
///
/// The concealment needs to rework the last 3.75 ms before a loss, so all output is delayed by
/// [`AudioDecoder::delay_samples`] = 30 samples (3.75 ms): each `decode` writes as many samples
/// as the payload holds, but they are the stream from 30 samples earlier (a stream starts with
/// 30 zeros), and `conceal` likewise first writes the 30 held-back good samples. Lip sync and
/// jitter-buffer accounting should add this delay. See [`G711Plc`].
#[derive(Debug)]
pub struct G711Decoder {
    law: Law,
    plc: G711Plc,
}

impl G711Decoder {
    /// A decoder for `law`.
    pub fn new(law: Law) -> Self {
        Self {
            law,
            plc: G711Plc::new(8000),
        }
    }
}

impl AudioDecoder for G711Decoder {
    fn descriptor(&self) -> &'static CodecDescriptor {
        self.law.descriptor()
    }
    fn format(&self) -> AudioFormat {
        AudioFormat::mono_i16(8000)
    }
    fn max_frame_samples(&self) -> usize {
        // A payload of 200 ms, the longest ptime we offer; longer ones still decode if the
        // caller's buffer is large enough.
        1600
    }
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        if payload.is_empty() {
            return Err(CodecError::InvalidPayload("empty G.711 payload"));
        }
        if out.len() < payload.len() {
            return Err(CodecError::BufferTooSmall {
                needed: payload.len(),
                available: out.len(),
            });
        }
        let out = &mut out[..payload.len()];
        match self.law {
            Law::Mu => decode_ulaw(payload, out),
            Law::A => decode_alaw(payload, out),
        }
        self.plc.good_frame(out);
        Ok(payload.len())
    }
    fn conceal(&mut self, out: &mut [i16]) -> Result<usize, CodecError> {
        self.plc.conceal(out);
        Ok(out.len())
    }
    fn delay_samples(&self) -> usize {
        self.plc.delay_samples()
    }
    fn flush(&mut self, out: &mut [i16]) -> usize {
        self.plc.flush(out)
    }
    fn reset(&mut self) {
        self.plc.reset();
    }
}

fn new_encoder(law: Law, p: &CodecParams) -> Result<Box<dyn AudioEncoder>, CodecError> {
    Ok(Box::new(G711Encoder::new(law, p.ptime_ms)))
}

pub(crate) fn new_pcmu_encoder(p: &CodecParams) -> Result<Box<dyn AudioEncoder>, CodecError> {
    new_encoder(Law::Mu, p)
}
pub(crate) fn new_pcma_encoder(p: &CodecParams) -> Result<Box<dyn AudioEncoder>, CodecError> {
    new_encoder(Law::A, p)
}
pub(crate) fn new_pcmu_decoder(_: &CodecParams) -> Result<Box<dyn AudioDecoder>, CodecError> {
    Ok(Box::new(G711Decoder::new(Law::Mu)))
}
pub(crate) fn new_pcma_decoder(_: &CodecParams) -> Result<Box<dyn AudioDecoder>, CodecError> {
    Ok(Box::new(G711Decoder::new(Law::A)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_match_reference_for_every_input() {
        for x in i16::MIN..=i16::MAX {
            assert_eq!(linear_to_alaw(x), alaw_compress_ref(x), "A-law {x}");
            assert_eq!(linear_to_ulaw(x), ulaw_compress_ref(x), "µ-law {x}");
        }
    }

    #[test]
    fn decode_encode_is_identity_on_codes() {
        for c in 0..=255u8 {
            assert_eq!(linear_to_alaw(alaw_to_linear(c)), c);
            let back = linear_to_ulaw(ulaw_to_linear(c));
            // µ-law has two codes for zero (0x7f and 0xff).
            assert!(
                back == c || (c == 0x7f && back == 0xff),
                "{c:#x} -> {back:#x}"
            );
        }
    }
}
