//! iLBC, the internet Low Bitrate Codec (RFC 3951), with its RTP payload format (RFC 3952).
//!
//! A port of the RFC's floating-point reference code (Appendix A), arithmetic in the same
//! order so that it reproduces the reference bit for bit: 20 ms frames (160 samples, 38 bytes,
//! 15.2 kbit/s) and 30 ms frames (240 samples, 50 bytes, 13.33 kbit/s), the decoder's
//! enhancer, and its packet loss concealment. The submodules follow the RFC's structure:
//! `lpc` and `lsf` (LPC analysis, LSF quantization and interpolation), `state` (the
//! start state), `cb` (the adaptive codebook search and construction), `enhancer`, `plc`,
//! `pack` (bit packing), `filter`, `constants` and `tables`.
//!
//! # Modes and packets
//!
//! The frame mode comes from, in order: the fmtp `mode=20|30` parameter
//! ([`CodecParams::fmtp`]); else the bitrate ([`Bitrates::Modes`]: 15200 picks 20 ms, 13330
//! picks 30 ms); else the packet time, as a convenience (a multiple of 30 ms, e.g. 30, 60, 90
//! or 120, gives 30 ms frames; 20, 40 or 80 give 20 ms frames). RFC 3952 warns that ptime alone
//! cannot say which mode a peer uses (60 ms is two 30 ms or three 20 ms frames): in SDP, use
//! `mode=` and [`negotiate_mode`]. A packet carries ptime / frame-length whole frames; the
//! encoder refuses a ptime that is not a multiple of its frame.
//!
//! The decoder takes any payload of whole frames (38 × k or 50 × k bytes). A payload that fits
//! only the other mode switches the decoder to it (starting that mode afresh); one that fits
//! neither is [`CodecError::InvalidPayload`] and changes nothing. A frame whose last bit is set
//! (RFC 3951's empty-frame indicator) or whose start-state position is impossible is
//! concealed, as the reference does.
//!
//! # Delay
//!
//! The enhancer looks ahead: decoded audio comes out 40 samples (20 ms mode) or 80 samples
//! (30 ms mode) late, which [`AudioDecoder::delay_samples`] reports and [`AudioDecoder::flush`]
//! releases at the end of a stream (by concealing one more frame).
//!
//! # Output samples
//!
//! Decoded floats are clamped and truncated toward zero, as the reference test program's
//! `(short)` cast does, so our output equals the reference's.

mod cb;
mod constants;
mod decoder;
mod encoder;
mod enhancer;
mod filter;
mod lpc;
mod lsf;
mod pack;
mod plc;
mod state;
mod tables;

use super::super::traits::{AudioDecoder, AudioEncoder, Bitrates, CodecDescriptor, CodecParams};
use crate::error::CodecError;
use crate::frame::AudioFormat;
use constants::{ModeParams, BLOCKL_MAX, MODE_20, MODE_30};
use decoder::DecoderState;
use encoder::EncoderState;

/// iLBC, dynamic payload type, `mode=30` by default (RFC 3952).
pub static ILBC: CodecDescriptor = CodecDescriptor {
    name: "ilbc",
    encoding_name: "iLBC",
    clock_rate: 8000,
    rtp_clock: super::super::traits::RtpClock::Scaled,
    rtpmap_channels: None,
    sample_rate: 8000,
    sample_rates: &[8000],
    channels: 1,
    max_channels: 1,
    ptimes: &[20, 30, 40, 60, 80, 90, 120],
    default_ptime: 30,
    payload_type: None,
    fmtp: Some("mode=30"),
    bitrates: Bitrates::Modes(&[15200, 13330]),
    sample_based: false,
};

/// The frame length of an iLBC stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IlbcMode {
    /// 20 ms frames: 160 samples, 38 bytes, 15.2 kbit/s.
    Ms20,
    /// 30 ms frames: 240 samples, 50 bytes, 13.33 kbit/s.
    Ms30,
}

impl IlbcMode {
    /// The mode of `ms` (20 or 30).
    pub fn from_ms(ms: u16) -> Option<Self> {
        match ms {
            20 => Some(Self::Ms20),
            30 => Some(Self::Ms30),
            _ => None,
        }
    }

    /// 20 or 30.
    pub const fn frame_ms(self) -> u16 {
        match self {
            Self::Ms20 => 20,
            Self::Ms30 => 30,
        }
    }

    /// Samples per frame at 8 kHz.
    pub const fn frame_samples(self) -> usize {
        self.params().blockl
    }

    /// Bytes per frame.
    pub const fn frame_bytes(self) -> usize {
        self.params().no_of_bytes
    }

    /// The nominal bitrate as [`ILBC`] lists it: 15200 or 13330 bit/s.
    pub const fn bitrate(self) -> u32 {
        match self {
            Self::Ms20 => 15200,
            Self::Ms30 => 13330,
        }
    }

    /// The enhancer's delay in samples (40 or 80).
    pub const fn delay_samples(self) -> usize {
        match self {
            Self::Ms20 => 40,
            Self::Ms30 => 80,
        }
    }

    fn other(self) -> Self {
        match self {
            Self::Ms20 => Self::Ms30,
            Self::Ms30 => Self::Ms20,
        }
    }

    const fn params(self) -> ModeParams {
        match self {
            Self::Ms20 => MODE_20,
            Self::Ms30 => MODE_30,
        }
    }
}

/// The `mode` value of an fmtp string (`mode=20; ...`), if it has one. `Err` when it is there
/// but neither 20 nor 30.
pub fn fmtp_mode(fmtp: &str) -> Result<Option<IlbcMode>, CodecError> {
    for part in fmtp.split(';') {
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        if key.trim().eq_ignore_ascii_case("mode") {
            let v = value.trim();
            return v
                .parse::<u16>()
                .ok()
                .and_then(IlbcMode::from_ms)
                .map(Some)
                .ok_or_else(|| CodecError::UnsupportedParameter {
                    name: "fmtp mode",
                    value: v.to_string(),
                    supported: "20, 30".into(),
                });
        }
    }
    Ok(None)
}

/// The frame mode of `params`: fmtp `mode=`, else the bitrate, else the ptime (see the module
/// documentation).
pub fn mode_for(params: &CodecParams) -> Result<IlbcMode, CodecError> {
    if let Some(m) = params.fmtp.as_deref().map(fmtp_mode).transpose()?.flatten() {
        return Ok(m);
    }
    match params.bitrate {
        Some(15200) => return Ok(IlbcMode::Ms20),
        Some(13330) => return Ok(IlbcMode::Ms30),
        Some(b) => {
            return Err(CodecError::UnsupportedParameter {
                name: "bitrate",
                value: b.to_string(),
                supported: "15200 (20 ms), 13330 (30 ms)".into(),
            })
        }
        None => {}
    }
    Ok(if params.ptime_ms.is_multiple_of(30) {
        IlbcMode::Ms30
    } else {
        IlbcMode::Ms20
    })
}

/// The answerer's choice of mode (RFC 3952 section 5): the lower-bandwidth mode of the offer
/// and the answer, that is 30 if either side says 30. An offer without `mode` means 30, the
/// default; values other than 20 count as 30.
pub fn negotiate_mode(offer: Option<u8>, answer_pref: u8) -> u8 {
    if offer == Some(20) && answer_pref == 20 {
        20
    } else {
        30
    }
}

/// Converts decoded floats to 16 bits as the reference test program does: clamp, then
/// truncate toward zero.
fn to_i16(x: f32) -> i16 {
    if x < -32768.0 {
        -32768
    } else if x > 32767.0 {
        32767
    } else {
        x as i16
    }
}

/// An iLBC encoder: one or more frames per packet.
#[derive(Debug, Clone)]
pub struct IlbcEncoder {
    mode: IlbcMode,
    frames: usize,
    st: EncoderState,
}

impl IlbcEncoder {
    /// An encoder of `mode` frames, `frames_per_packet` (at least 1) to a packet.
    pub fn new(mode: IlbcMode, frames_per_packet: usize) -> Self {
        Self {
            mode,
            frames: frames_per_packet.max(1),
            st: EncoderState::new(mode.params()),
        }
    }

    /// The frame mode.
    pub fn mode(&self) -> IlbcMode {
        self.mode
    }

    /// Encodes one frame of [`IlbcMode::frame_samples`] samples into the first
    /// [`IlbcMode::frame_bytes`] bytes of `out`.
    pub fn encode_frame(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        let (n, bytes) = (self.mode.frame_samples(), self.mode.frame_bytes());
        if pcm.len() != n {
            return Err(CodecError::InvalidFrameLength {
                got: pcm.len(),
                expected: "one iLBC frame (160 or 240 samples)",
            });
        }
        if out.len() < bytes {
            return Err(CodecError::BufferTooSmall {
                needed: bytes,
                available: out.len(),
            });
        }
        let mut block = [0.0f32; BLOCKL_MAX];
        for (b, &x) in block.iter_mut().zip(pcm) {
            *b = f32::from(x);
        }
        self.st.encode(&block[..n], out);
        Ok(bytes)
    }
}

impl AudioEncoder for IlbcEncoder {
    fn descriptor(&self) -> &'static CodecDescriptor {
        &ILBC
    }
    fn format(&self) -> AudioFormat {
        AudioFormat::mono_i16(8000)
    }
    fn frame_samples(&self) -> usize {
        self.frames * self.mode.frame_samples()
    }
    fn max_payload_bytes(&self) -> usize {
        self.frames * self.mode.frame_bytes()
    }
    /// Encodes any non-zero whole number of frames (normally one packet's worth).
    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        let (n, bytes) = (self.mode.frame_samples(), self.mode.frame_bytes());
        if pcm.is_empty() || !pcm.len().is_multiple_of(n) {
            return Err(CodecError::InvalidFrameLength {
                got: pcm.len(),
                expected: "a whole number of iLBC frames (160 or 240 samples each)",
            });
        }
        let frames = pcm.len() / n;
        if out.len() < frames * bytes {
            return Err(CodecError::BufferTooSmall {
                needed: frames * bytes,
                available: out.len(),
            });
        }
        for (frame, o) in pcm.chunks_exact(n).zip(out.chunks_exact_mut(bytes)) {
            self.encode_frame(frame, o)?;
        }
        Ok(frames * bytes)
    }
    fn reset(&mut self) {
        self.st = EncoderState::new(self.mode.params());
    }
}

/// An iLBC decoder with the enhancer and RFC 3951's packet loss concealment.
#[derive(Debug, Clone)]
pub struct IlbcDecoder {
    mode: IlbcMode,
    st: DecoderState,
}

impl IlbcDecoder {
    /// A decoder starting in `mode`.
    pub fn new(mode: IlbcMode) -> Self {
        Self {
            mode,
            st: DecoderState::new(mode.params()),
        }
    }

    /// The current frame mode.
    pub fn mode(&self) -> IlbcMode {
        self.mode
    }

    /// Decodes one frame (`Some`, exactly [`IlbcMode::frame_bytes`] long) or conceals one
    /// (`None`) into `out[..frame_samples]`. Returns whether the frame was decoded (false: it
    /// was lost, marked empty, or invalid, and was concealed).
    pub fn decode_frame(&mut self, frame: Option<&[u8]>, out: &mut [i16]) -> bool {
        let n = self.mode.frame_samples();
        let frame = frame.filter(|f| f.len() == self.mode.frame_bytes());
        let mut block = [0.0f32; BLOCKL_MAX];
        let good = self.st.decode(frame, &mut block[..n]);
        for (o, &x) in out.iter_mut().zip(&block[..n]) {
            *o = to_i16(x);
        }
        good
    }
}

impl AudioDecoder for IlbcDecoder {
    fn descriptor(&self) -> &'static CodecDescriptor {
        &ILBC
    }
    fn format(&self) -> AudioFormat {
        AudioFormat::mono_i16(8000)
    }
    fn max_frame_samples(&self) -> usize {
        // 120 ms, the longest ptime offered; longer payloads decode if `out` is large enough.
        960
    }
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        if payload.is_empty() {
            return Err(CodecError::InvalidPayload("empty iLBC payload"));
        }
        let mode = if payload.len().is_multiple_of(self.mode.frame_bytes()) {
            self.mode
        } else if payload
            .len()
            .is_multiple_of(self.mode.other().frame_bytes())
        {
            self.mode.other()
        } else {
            return Err(CodecError::InvalidPayload(
                "not a whole number of iLBC frames (38 or 50 bytes each)",
            ));
        };
        let frames = payload.len() / mode.frame_bytes();
        let needed = frames * mode.frame_samples();
        if out.len() < needed {
            return Err(CodecError::BufferTooSmall {
                needed,
                available: out.len(),
            });
        }
        if mode != self.mode {
            *self = Self::new(mode);
        }
        let (n, bytes) = (mode.frame_samples(), mode.frame_bytes());
        for (frame, o) in payload.chunks_exact(bytes).zip(out.chunks_exact_mut(n)) {
            self.decode_frame(Some(frame), o);
        }
        Ok(needed)
    }
    /// Conceals whole frames until `out` is full; the part of the last frame that does not fit
    /// is dropped.
    fn conceal(&mut self, out: &mut [i16]) -> Result<usize, CodecError> {
        let n = self.mode.frame_samples();
        let mut frame = [0i16; BLOCKL_MAX];
        for o in out.chunks_mut(n) {
            self.decode_frame(None, &mut frame[..n]);
            o.copy_from_slice(&frame[..o.len()]);
        }
        Ok(out.len())
    }
    fn delay_samples(&self) -> usize {
        self.mode.delay_samples()
    }
    fn flush(&mut self, out: &mut [i16]) -> usize {
        let n = self.mode.frame_samples();
        let d = self.mode.delay_samples().min(out.len());
        let mut frame = [0i16; BLOCKL_MAX];
        self.decode_frame(None, &mut frame[..n]);
        out[..d].copy_from_slice(&frame[..d]);
        d
    }
    fn reset(&mut self) {
        self.st = DecoderState::new(self.mode.params());
    }
}

fn frames_per_packet(p: &CodecParams, mode: IlbcMode) -> Result<usize, CodecError> {
    let ms = mode.frame_ms();
    if p.ptime_ms == 0 || !p.ptime_ms.is_multiple_of(ms) {
        return Err(CodecError::UnsupportedParameter {
            name: "ptime",
            value: format!("{} ms", p.ptime_ms),
            supported: format!("multiples of the {ms} ms iLBC frame"),
        });
    }
    Ok(usize::from(p.ptime_ms / ms))
}

pub(crate) fn new_encoder(p: &CodecParams) -> Result<Box<dyn AudioEncoder>, CodecError> {
    let mode = mode_for(p)?;
    let frames = frames_per_packet(p, mode)?;
    Ok(Box::new(IlbcEncoder::new(mode, frames)))
}

pub(crate) fn new_decoder(p: &CodecParams) -> Result<Box<dyn AudioDecoder>, CodecError> {
    Ok(Box::new(IlbcDecoder::new(mode_for(p)?)))
}

#[cfg(test)]
mod tests;
