//! L16: uncompressed 16-bit linear PCM in network byte order (RFC 3551 section 4.5.11), mono or
//! stereo at any of our rates. It lets processing be tested without codec noise.

use super::super::traits::{
    AudioDecoder, AudioEncoder, Bitrates, CodecDescriptor, CodecParams, RtpClock,
};
use crate::error::CodecError;
use crate::frame::AudioFormat;
use crate::processing::audio::plc::G711Plc;

/// L16. Static payload type 11 is L16 mono at 44.1 kHz (RFC 3551); every other rate or channel
/// count is dynamic.
pub static L16: CodecDescriptor = CodecDescriptor {
    name: "l16",
    encoding_name: "L16",
    clock_rate: 44100,
    rtp_clock: RtpClock::Scaled,
    rtpmap_channels: None,
    sample_rate: 44100,
    sample_rates: &[8000, 16000, 32000, 44100, 48000],
    channels: 1,
    max_channels: 2,
    ptimes: &[10, 20, 30, 40, 60],
    default_ptime: 20,
    payload_type: Some(11),
    fmtp: None,
    bitrates: Bitrates::Fixed,
    sample_based: true,
};

/// An L16 encoder.
#[derive(Debug)]
pub struct L16Encoder {
    format: AudioFormat,
    frame_samples: usize,
}

impl L16Encoder {
    /// An encoder for `params` (rate, channels, ptime).
    pub fn new(params: &CodecParams) -> Self {
        Self {
            format: AudioFormat {
                sample_rate: crate::frame::SampleRate(params.sample_rate),
                channels: params.channels,
                sample_format: crate::frame::SampleFormat::I16,
            },
            frame_samples: params.frame_samples(),
        }
    }
}

impl AudioEncoder for L16Encoder {
    fn descriptor(&self) -> &'static CodecDescriptor {
        &L16
    }
    fn format(&self) -> AudioFormat {
        self.format
    }
    fn frame_samples(&self) -> usize {
        self.frame_samples
    }
    fn max_payload_bytes(&self) -> usize {
        self.frame_samples * 2
    }
    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        if !pcm.len().is_multiple_of(usize::from(self.format.channels)) {
            return Err(CodecError::InvalidFrameLength {
                got: pcm.len(),
                expected: "a whole number of samples per channel",
            });
        }
        let needed = pcm.len() * 2;
        if out.len() < needed {
            return Err(CodecError::BufferTooSmall {
                needed,
                available: out.len(),
            });
        }
        for (o, x) in out.chunks_exact_mut(2).zip(pcm) {
            o.copy_from_slice(&x.to_be_bytes());
        }
        Ok(needed)
    }
    fn reset(&mut self) {}
}

/// An L16 decoder. Mono streams conceal losses with ITU-T G.711 Appendix I at the stream's rate;
/// stereo losses are filled with silence (concealing each channel alone would smear the image).
///
/// # Delay
///
/// For mono the concealment delays all output by [`AudioDecoder::delay_samples`], about 3.75 ms
/// (30 samples at 8 kHz, 60 at 16 kHz, 165 at 44.1 kHz, 180 at 48 kHz): `decode` writes as many
/// samples as the payload holds, but they are the stream from that many samples earlier (a stream
/// starts with that many zeros). Stereo has no concealment and no delay. See [`G711Plc`].
#[derive(Debug)]
pub struct L16Decoder {
    format: AudioFormat,
    plc: Option<G711Plc>,
    max_samples: usize,
}

impl L16Decoder {
    /// A decoder for `params` (rate, channels).
    pub fn new(params: &CodecParams) -> Self {
        Self {
            format: AudioFormat {
                sample_rate: crate::frame::SampleRate(params.sample_rate),
                channels: params.channels,
                sample_format: crate::frame::SampleFormat::I16,
            },
            plc: (params.channels == 1).then(|| G711Plc::new(params.sample_rate)),
            max_samples: params.sample_rate as usize / 1000 * 60 * usize::from(params.channels),
        }
    }
}

impl AudioDecoder for L16Decoder {
    fn descriptor(&self) -> &'static CodecDescriptor {
        &L16
    }
    fn format(&self) -> AudioFormat {
        self.format
    }
    fn max_frame_samples(&self) -> usize {
        self.max_samples
    }
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        let frame_bytes = 2 * usize::from(self.format.channels);
        if payload.is_empty() || !payload.len().is_multiple_of(frame_bytes) {
            return Err(CodecError::InvalidPayload(
                "L16 payload is not a whole number of sample frames",
            ));
        }
        let n = payload.len() / 2;
        if out.len() < n {
            return Err(CodecError::BufferTooSmall {
                needed: n,
                available: out.len(),
            });
        }
        for (o, b) in out.iter_mut().zip(payload.chunks_exact(2)) {
            *o = i16::from_be_bytes([b[0], b[1]]);
        }
        if let Some(plc) = &mut self.plc {
            plc.good_frame(&mut out[..n]);
        }
        Ok(n)
    }
    fn conceal(&mut self, out: &mut [i16]) -> Result<usize, CodecError> {
        match &mut self.plc {
            Some(plc) => plc.conceal(out),
            None => out.fill(0),
        }
        Ok(out.len())
    }
    fn delay_samples(&self) -> usize {
        self.plc.as_ref().map_or(0, G711Plc::delay_samples)
    }
    fn flush(&mut self, out: &mut [i16]) -> usize {
        self.plc.as_mut().map_or(0, |plc| plc.flush(out))
    }
    fn reset(&mut self) {
        if let Some(plc) = &mut self.plc {
            plc.reset();
        }
    }
}

pub(crate) fn new_encoder(p: &CodecParams) -> Result<Box<dyn AudioEncoder>, CodecError> {
    Ok(Box::new(L16Encoder::new(p)))
}
pub(crate) fn new_decoder(p: &CodecParams) -> Result<Box<dyn AudioDecoder>, CodecError> {
    Ok(Box::new(L16Decoder::new(p)))
}
