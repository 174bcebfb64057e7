//! File formats of frame-based codecs: Ogg Opus (RFC 7845). Sample-based codecs are raw streams
//! and need none.

use media_core::codec::CodecDescriptor;
use media_core::loss::LossModel;
use media_core::transcode::ReceiveStats;
use media_core::wav::WavAudio;
use media_core::CodecParams;
use std::path::Path;

/// Encodes `pcm` (already at the codec's rate and channels) into the codec's file format.
/// Returns the packet count and the file's bytes.
pub fn encode_file(
    desc: &CodecDescriptor,
    params: &CodecParams,
    pcm: &WavAudio,
) -> Result<(usize, Vec<u8>), String> {
    match desc.name {
        "ilbc" => ilbc::encode(params, pcm),
        #[cfg(feature = "opus")]
        "opus" => opus::encode(params, pcm),
        _ => {
            let _ = (params, pcm);
            Err(format!("no file format for {} in this build", desc.name))
        }
    }
}

/// Decodes a file of the codec's format at the rate and channels of `params`.
pub fn decode_file(
    desc: &CodecDescriptor,
    params: &CodecParams,
    bytes: &[u8],
    path: &Path,
    loss: LossModel,
) -> Result<(WavAudio, ReceiveStats), String> {
    match desc.name {
        "ilbc" => ilbc::decode(params, bytes, loss).map_err(|e| format!("{}: {e}", path.display())),
        #[cfg(feature = "opus")]
        "opus" => opus::decode(params, bytes, loss).map_err(|e| format!("{}: {e}", path.display())),
        _ => {
            let _ = (params, bytes, path, loss);
            Err(format!("no file format for {} in this build", desc.name))
        }
    }
}

#[cfg(feature = "opus")]
mod opus {
    use media_core::codec::audio::opus::{
        OpusDecoder, OpusDecoderConfig, OpusEncoder, OpusEncoderConfig,
    };
    use media_core::container::ogg_opus::{OggOpusReader, OggOpusWriter, OpusHead, OpusTags};
    use media_core::loss::{LossGenerator, LossModel};
    use media_core::transcode::{encode_packets, ReceiveStats};
    use media_core::wav::WavAudio;
    use media_core::{AudioDecoder, CodecParams};

    pub fn encode(params: &CodecParams, pcm: &WavAudio) -> Result<(usize, Vec<u8>), String> {
        let cfg = OpusEncoderConfig::from_params(params).map_err(|e| e.to_string())?;
        let mut enc = OpusEncoder::new(cfg).map_err(|e| e.to_string())?;
        let head = OpusHead::for_encoder(&enc);
        let tags = OpusTags::new(concat!("media-core ", env!("CARGO_PKG_VERSION")));
        // A fixed serial keeps output reproducible; one stream per file needs no uniqueness.
        let mut w =
            OggOpusWriter::new(Vec::new(), &head, &tags, 0x6d63_6f72).map_err(|e| e.to_string())?;
        // The encoder's lookahead delays its output by pre-skip samples: feed that much
        // silence after the signal so that the last real samples come out too.
        let ch = usize::from(pcm.channels.max(1));
        let tail = (usize::from(head.pre_skip) * pcm.sample_rate as usize).div_ceil(48000) * ch;
        let mut padded = Vec::with_capacity(pcm.samples.len() + tail);
        padded.extend_from_slice(&pcm.samples);
        padded.resize(pcm.samples.len() + tail, 0);
        let packets = encode_packets(&mut enc, &padded).map_err(|e| e.to_string())?;
        for p in &packets {
            w.write_packet(&p.payload).map_err(|e| e.to_string())?;
        }
        let frames = (pcm.samples.len() / ch) as u64;
        let samples_48k = frames * 48000 / u64::from(pcm.sample_rate.max(1));
        let bytes = w.finish(Some(samples_48k)).map_err(|e| e.to_string())?;
        Ok((packets.len(), bytes))
    }

    /// Decodes every packet of the file; packets the loss model drops are recovered from the
    /// next packet's FEC when that one arrived, else concealed, as a receiver would.
    pub fn decode(
        params: &CodecParams,
        bytes: &[u8],
        loss: LossModel,
    ) -> Result<(WavAudio, ReceiveStats), String> {
        let mut reader = OggOpusReader::new(bytes).map_err(|e| e.to_string())?;
        let rate = params.sample_rate;
        let channels = u16::from(reader.head().channels.clamp(1, 2));
        let cfg = OpusDecoderConfig {
            sample_rate: rate,
            channels,
            ..OpusDecoderConfig::default()
        };
        let mut dec = OpusDecoder::new(cfg).map_err(|e| e.to_string())?;
        let ch = usize::from(channels);
        let mut buf = vec![0i16; rate as usize * 120 / 1000 * ch];
        let mut out = Vec::new();
        let mut stats = ReceiveStats::default();
        // Packets with their trims, so that a lost packet can be recovered from the next one.
        let mut packets: Vec<(Vec<u8>, usize, usize, usize)> = Vec::new();
        while let Some(p) = reader.next_packet().map_err(|e| e.to_string())? {
            let (skip, keep) = p.trim_at(rate);
            let want = (p.duration as usize * rate as usize / 48000 * ch).min(buf.len());
            packets.push((p.data.to_vec(), skip, keep, want));
        }
        let mut gen = LossGenerator::new(loss);
        let lost: Vec<bool> = packets.iter().map(|_| gen.next_lost()).collect();
        for (i, (data, skip, keep, want)) in packets.iter().enumerate() {
            stats.packets += 1;
            let n = if lost[i] {
                stats.lost += 1;
                let fec = match packets.get(i + 1) {
                    Some(next) if !lost[i + 1] => dec.decode_fec(&next.0, &mut buf[..*want]),
                    _ => Ok(None),
                };
                match fec {
                    Ok(Some(n)) => {
                        stats.fec_recovered += 1;
                        n
                    }
                    _ => {
                        stats.concealed += 1;
                        dec.conceal(&mut buf[..*want]).unwrap_or(0)
                    }
                }
            } else {
                match dec.decode(data, &mut buf) {
                    Ok(n) => n,
                    Err(_) => {
                        stats.malformed += 1;
                        dec.conceal(&mut buf[..*want]).unwrap_or(0)
                    }
                }
            };
            let frames = n / ch;
            let from = (*skip).min(frames);
            let to = (from + keep).min(frames);
            out.extend_from_slice(&buf[from * ch..to * ch]);
        }
        Ok((
            WavAudio {
                sample_rate: rate,
                channels,
                samples: out,
            },
            stats,
        ))
    }
}

/// iLBC's storage format (RFC 3952 section 5; ffmpeg's `-f ilbc`): a `#!iLBC20\n` or
/// `#!iLBC30\n` header, then frames.
mod ilbc {
    use media_core::codec::audio::ilbc;
    use media_core::container::ilbc_file::{self, IlbcFile};
    use media_core::loss::LossModel;
    use media_core::transcode::{decode_packets, encode_packets, Packet, ReceiveStats};
    use media_core::wav::WavAudio;
    use media_core::{CodecParams, CodecRegistry};

    pub fn encode(params: &CodecParams, pcm: &WavAudio) -> Result<(usize, Vec<u8>), String> {
        let reg = CodecRegistry::with_builtin();
        let mut enc = reg.encoder("ilbc", params).map_err(|e| e.to_string())?;
        let packets = encode_packets(enc.as_mut(), &pcm.samples).map_err(|e| e.to_string())?;
        let mode = ilbc::mode_for(params).map_err(|e| e.to_string())?;
        let bytes = ilbc_file::write(mode, packets.iter().map(|p| p.payload.as_slice()))
            .map_err(|e| e.to_string())?;
        Ok((packets.len(), bytes))
    }

    pub fn decode(
        params: &CodecParams,
        bytes: &[u8],
        loss: LossModel,
    ) -> Result<(WavAudio, ReceiveStats), String> {
        let mut params = params.clone();
        let packets = read_ilbc(bytes, &mut params)?;
        let reg = CodecRegistry::with_builtin();
        let mut dec = reg.decoder("ilbc", &params).map_err(|e| e.to_string())?;
        let (pcm, stats) = decode_packets(dec.as_mut(), &packets, loss, &mut |_, _| {});
        let audio = WavAudio {
            sample_rate: params.sample_rate,
            channels: params.channels,
            samples: pcm,
        };
        Ok((audio, stats))
    }

    /// An iLBC file as one packet per frame; sets `params` to the file's mode.
    fn read_ilbc(bytes: &[u8], params: &mut CodecParams) -> Result<Vec<Packet>, String> {
        let file = IlbcFile::parse(bytes).map_err(|e| e.to_string())?;
        if file.trailing_bytes > 0 {
            eprintln!(
                "warning: {} bytes after the last whole iLBC frame ignored",
                file.trailing_bytes
            );
        }
        params.ptime_ms = file.mode.frame_ms();
        params.fmtp = Some(format!("mode={}", file.mode.frame_ms()));
        Ok(file
            .frames()
            .map(|f| Packet {
                payload: f.to_vec(),
                samples: file.mode.frame_samples(),
            })
            .collect())
    }
}
