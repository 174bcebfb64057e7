//! Offline pipelines over whole signals: format conversion, packetization into codec payloads,
//! and a receive side that decodes, recovers with FEC, or conceals each packet. `mediacore
//! encode / decode / transcode` are thin wrappers over these.

use crate::codec::{AudioDecoder, AudioEncoder, CodecDescriptor, CodecParams, CodecRegistry};
use crate::error::{CodecError, FormatError};
use crate::loss::{LossGenerator, LossModel};
use crate::processing::format::channels::{mono_to_stereo, stereo_to_mono};
use crate::processing::format::resampler::resample_all;
use crate::wav::WavAudio;

/// An error in an offline pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PipelineError {
    /// The codec refused its parameters or a frame.
    Codec(CodecError),
    /// The audio could not be converted (e.g. a sample rate the resampler does not take).
    Format(FormatError),
}

impl std::fmt::Display for PipelineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Codec(e) => e.fmt(f),
            Self::Format(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for PipelineError {}

impl From<CodecError> for PipelineError {
    fn from(e: CodecError) -> Self {
        Self::Codec(e)
    }
}

impl From<FormatError> for PipelineError {
    fn from(e: FormatError) -> Self {
        Self::Format(e)
    }
}

/// Converts audio to `rate` Hz and `channels` (1 or 2). Stereo is downmixed as
/// [`stereo_to_mono`] documents. Rates are those the resampler takes (8, 16, 32, 44.1 and
/// 48 kHz) unless no rate change is needed.
pub fn convert(audio: &WavAudio, rate: u32, channels: u16) -> Result<WavAudio, FormatError> {
    let mut samples = match (audio.channels, channels) {
        (2, 1) => {
            let mut m = vec![0; audio.samples.len() / 2];
            // Lengths are whole stereo frames by construction of WavAudio.
            let _ = stereo_to_mono(&audio.samples, &mut m);
            m
        }
        (1, 2) => {
            let mut s = vec![0; audio.samples.len() * 2];
            let _ = mono_to_stereo(&audio.samples, &mut s);
            s
        }
        _ => audio.samples.clone(),
    };
    let ch = if audio.channels == channels {
        audio.channels
    } else {
        channels
    };
    if audio.sample_rate != rate {
        samples = resample_all(&samples, audio.sample_rate, rate, ch)?;
    }
    Ok(WavAudio {
        sample_rate: rate,
        channels: ch,
        samples,
    })
}

/// One encoded packet and the number of interleaved samples it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The codec payload.
    pub payload: Vec<u8>,
    /// Interleaved PCM samples it decodes to.
    pub samples: usize,
}

/// Chooses codec parameters: the rate asked for if the codec runs at it; else the input's rate
/// if the codec runs at that; else the codec's default. Channels follow the input up to what the
/// codec carries.
pub fn choose_params(
    desc: &CodecDescriptor,
    input_rate: u32,
    input_channels: u16,
    rate: Option<u32>,
    ptime_ms: Option<u16>,
    bitrate: Option<u32>,
) -> CodecParams {
    let mut p = CodecParams::defaults(desc);
    p.sample_rate = match rate {
        Some(r) if desc.sample_rates.contains(&r) => r,
        _ if desc.sample_rates.contains(&input_rate) => input_rate,
        _ => desc.sample_rate,
    };
    p.channels = input_channels.clamp(1, desc.max_channels);
    if let Some(pt) = ptime_ms {
        p.ptime_ms = pt;
    }
    p.bitrate = bitrate;
    p
}

/// Encodes PCM in the encoder's format into packets of one ptime each. The last partial frame is
/// sent as it is by sample-based codecs and padded with silence by frame-based ones.
pub fn encode_packets(enc: &mut dyn AudioEncoder, pcm: &[i16]) -> Result<Vec<Packet>, CodecError> {
    let frame = enc.frame_samples().max(1);
    let sample_based = enc.descriptor().sample_based;
    let mut out = vec![0u8; enc.max_payload_bytes()];
    let mut padded = vec![0i16; frame];
    let mut packets = Vec::with_capacity(pcm.len() / frame + 1);
    for chunk in pcm.chunks(frame) {
        let input = if chunk.len() == frame || sample_based {
            chunk
        } else {
            padded[..chunk.len()].copy_from_slice(chunk);
            padded[chunk.len()..].fill(0);
            &padded[..]
        };
        let n = enc.encode(input, &mut out)?;
        packets.push(Packet {
            payload: out[..n].to_vec(),
            samples: input.len(),
        });
    }
    Ok(packets)
}

/// What happened to the packets on the receive side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiveStats {
    /// Packets offered.
    pub packets: usize,
    /// Packets dropped by the loss model.
    pub lost: usize,
    /// Lost packets recovered from the next packet's forward error correction.
    pub fec_recovered: usize,
    /// Lost packets filled by the codec's concealment.
    pub concealed: usize,
    /// Received packets the decoder rejected as malformed (then concealed).
    pub malformed: usize,
}

/// Decodes packets, dropping those `loss` marks lost; a lost packet is recovered from the next
/// packet's FEC where the codec has it, else concealed. Returns interleaved PCM, time-aligned
/// with the encoder's input: the decoder's algorithmic delay is trimmed from the start and
/// flushed out at the end (as the ITU-T reference tools do), so a lossless run of a waveform
/// codec equals plain decoding. `progress` is
/// told (packets done, packets in all) every 64 packets.
pub fn decode_packets(
    dec: &mut dyn AudioDecoder,
    packets: &[Packet],
    loss: LossModel,
    progress: &mut dyn FnMut(usize, usize),
) -> (Vec<i16>, ReceiveStats) {
    let mut gen = LossGenerator::new(loss);
    let lost: Vec<bool> = packets.iter().map(|_| gen.next_lost()).collect();
    let max = packets.iter().map(|p| p.samples).max().unwrap_or(0);
    let mut buf = vec![0i16; max.max(dec.max_frame_samples())];
    let mut pcm = Vec::with_capacity(packets.iter().map(|p| p.samples).sum());
    let mut stats = ReceiveStats {
        packets: packets.len(),
        ..Default::default()
    };
    for (i, p) in packets.iter().enumerate() {
        if i % 64 == 0 {
            progress(i, packets.len());
        }
        let want = p.samples;
        let n = if lost[i] {
            stats.lost += 1;
            let fec = match packets.get(i + 1) {
                Some(next) if !lost[i + 1] => dec.decode_fec(&next.payload, &mut buf[..want]),
                _ => Ok(None),
            };
            match fec {
                Ok(Some(n)) => {
                    stats.fec_recovered += 1;
                    n
                }
                _ => {
                    stats.concealed += 1;
                    dec.conceal(&mut buf[..want]).unwrap_or_else(|_| {
                        buf[..want].fill(0);
                        want
                    })
                }
            }
        } else {
            match dec.decode(&p.payload, &mut buf) {
                Ok(n) => n,
                Err(_) => {
                    stats.malformed += 1;
                    dec.conceal(&mut buf[..want]).unwrap_or(0)
                }
            }
        };
        pcm.extend_from_slice(&buf[..n.min(buf.len())]);
    }
    let delay = dec.delay_samples() * usize::from(dec.format().channels);
    if delay > 0 && pcm.len() >= delay {
        pcm.drain(..delay);
        let mut tail = vec![0i16; delay];
        let n = dec.flush(&mut tail);
        pcm.extend_from_slice(&tail[..n]);
    }
    progress(packets.len(), packets.len());
    (pcm, stats)
}

/// What to do in [`transcode`].
#[derive(Debug, Clone)]
pub struct TranscodeOptions {
    /// Codec name (case-insensitive).
    pub codec: String,
    /// Bitrate in bit/s (G.722: decoder mode), if any.
    pub bitrate: Option<u32>,
    /// Packet duration; the codec's default when `None`.
    pub ptime_ms: Option<u16>,
    /// Codec rate for multi-rate codecs and output rate; the codec's rate when `None`.
    pub rate: Option<u32>,
    /// Which packets to drop between encoder and decoder.
    pub loss: LossModel,
}

/// What [`transcode`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscodeReport {
    /// The codec used.
    pub codec: &'static str,
    /// Parameters the codec ran with.
    pub params: CodecParams,
    /// Payload bytes produced.
    pub payload_bytes: usize,
    /// Receive-side counts.
    pub stats: ReceiveStats,
    /// Rate of the output.
    pub output_rate: u32,
}

/// Encodes `audio` with a codec, drops packets per the loss model, decodes (with FEC and
/// concealment), and returns the result at the codec's rate (or `opts.rate`). `progress` is told
/// (packets done, packets in all) as decoding goes.
pub fn transcode(
    registry: &CodecRegistry,
    audio: &WavAudio,
    opts: &TranscodeOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(WavAudio, TranscodeReport), PipelineError> {
    let entry = registry.find(&opts.codec)?;
    let desc = entry.descriptor;
    let params = choose_params(
        desc,
        audio.sample_rate,
        audio.channels,
        opts.rate,
        opts.ptime_ms,
        opts.bitrate,
    );
    desc.validate(&params)?;
    let mut enc = (entry.new_encoder)(&params)?;
    let mut dec = (entry.new_decoder)(&params)?;
    // A sender that knows the loss rate protects against it (Opus FEC), as adaptation would.
    let expected = opts.loss.mean_percent();
    if expected > 0.0 {
        enc.set_expected_loss(expected.ceil().min(100.0) as u8)?;
    }
    let input = convert(audio, params.sample_rate, params.channels)?;
    // The encoder's look-ahead delays what it codes: feed that much silence after the signal
    // and drop as much from the start of the decoding, so the output lines up with the input.
    let lookahead = enc.delay_samples() * usize::from(params.channels);
    let mut padded = input.samples.clone();
    padded.resize(input.samples.len() + lookahead, 0);
    let packets = encode_packets(enc.as_mut(), &padded)?;
    let (mut pcm, stats) = decode_packets(dec.as_mut(), &packets, opts.loss.clone(), progress);
    pcm.drain(..lookahead.min(pcm.len()));
    // Frame-based codecs padded the last frame: trim back to the input's length.
    pcm.truncate(input.samples.len());
    let decoded = WavAudio {
        sample_rate: params.sample_rate,
        channels: params.channels,
        samples: pcm,
    };
    let output_rate = opts.rate.unwrap_or(params.sample_rate);
    let out = convert(&decoded, output_rate, params.channels)?;
    let report = TranscodeReport {
        codec: desc.name,
        payload_bytes: packets.iter().map(|p| p.payload.len()).sum(),
        params,
        stats,
        output_rate,
    };
    Ok((out, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speech(rate: u32) -> WavAudio {
        WavAudio {
            sample_rate: rate,
            channels: 1,
            samples: crate::signal::speech_like(2.0, rate),
        }
    }

    #[test]
    fn pcmu_transcode_without_loss_is_plain_g711() {
        let reg = CodecRegistry::with_builtin();
        let a = speech(8000);
        let opts = TranscodeOptions {
            codec: "PCMU".into(),
            bitrate: None,
            ptime_ms: None,
            rate: None,
            loss: LossModel::None,
        };
        let (out, rep) = transcode(&reg, &a, &opts, &mut |_, _| {}).unwrap();
        assert_eq!(rep.stats.packets, 100);
        assert_eq!(rep.payload_bytes, 16000);
        assert_eq!(out.samples.len(), a.samples.len());
    }

    #[test]
    fn loss_is_counted_and_concealed() {
        let reg = CodecRegistry::with_builtin();
        let opts = TranscodeOptions {
            codec: "pcma".into(),
            bitrate: None,
            ptime_ms: Some(10),
            rate: None,
            loss: LossModel::Random {
                percent: 20.0,
                seed: 3,
            },
        };
        let (out, rep) = transcode(&reg, &speech(8000), &opts, &mut |_, _| {}).unwrap();
        assert_eq!(rep.stats.packets, 200);
        assert!(
            rep.stats.lost > 20 && rep.stats.lost < 60,
            "{:?}",
            rep.stats
        );
        assert_eq!(rep.stats.lost, rep.stats.concealed);
        assert_eq!(out.samples.len(), 16000);
    }

    #[test]
    fn l16_rate_choice() {
        let d = &crate::codec::audio::l16::L16;
        assert_eq!(
            choose_params(d, 8000, 1, None, None, None).sample_rate,
            8000
        );
        assert_eq!(
            choose_params(d, 8000, 1, Some(48000), None, None).sample_rate,
            48000
        );
        assert_eq!(
            choose_params(d, 11025, 2, None, None, None).sample_rate,
            44100
        );
        assert_eq!(choose_params(d, 11025, 2, None, None, None).channels, 2);
    }
}
