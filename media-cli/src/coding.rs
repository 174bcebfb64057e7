//! `codecs`, `encode`, `decode` and `transcode`.

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use media_core::codec::audio::ilbc;
use media_core::codec::{Bitrates, CodecDescriptor, CodecParams, CodecRegistry};
use media_core::container::ilbc_file::{self, IlbcFile};
use media_core::loss::{parse_g192, LossModel};
use media_core::transcode::{
    self, choose_params, convert, decode_packets, encode_packets, Packet, TranscodeOptions,
};
use media_core::wav::{write_wav, WavAudio};
use serde_json::json;
use std::time::{Duration, Instant};

use crate::input;
use crate::CodecArgs;

fn descriptor_json(d: &CodecDescriptor) -> serde_json::Value {
    json!({
        "name": d.name,
        "encoding_name": d.encoding_name,
        "clock_rate": d.clock_rate,
        "sample_rate": d.sample_rate,
        "sample_rates": d.sample_rates,
        "channels": d.channels,
        "max_channels": d.max_channels,
        "payload_type": d.payload_type,
        "ptimes": d.ptimes,
        "default_ptime": d.default_ptime,
        "fmtp": d.fmtp,
        "bitrates": match d.bitrates {
            Bitrates::Fixed => json!(null),
            Bitrates::Modes(m) => json!(m),
            Bitrates::Range(lo, hi) => json!({"min": lo, "max": hi}),
        },
    })
}

/// `mediacore codecs`.
pub fn codecs(as_json: bool) -> Result<(), String> {
    let reg = CodecRegistry::with_builtin();
    if as_json {
        let list: Vec<_> = reg
            .entries()
            .iter()
            .map(|e| descriptor_json(e.descriptor))
            .collect();
        println!("{}", serde_json::Value::Array(list));
        return Ok(());
    }
    println!(
        "{:<6} {:<8} {:>6} {:>7} {:>3} {:>4}  ptimes (ms)",
        "name", "rtpmap", "clock", "rate", "ch", "pt"
    );
    for e in reg.entries() {
        let d = e.descriptor;
        let pt = d.payload_type.map_or("dyn".to_string(), |p| p.to_string());
        let ptimes: Vec<String> = d.ptimes.iter().map(ToString::to_string).collect();
        println!(
            "{:<6} {:<8} {:>6} {:>7} {:>3} {:>4}  {}",
            d.name,
            d.encoding_name,
            d.clock_rate,
            d.sample_rate,
            d.channels,
            pt,
            ptimes.join(",")
        );
    }
    Ok(())
}

/// A progress bar that stays hidden until the work has taken two seconds, and for good when
/// stderr is not a terminal.
struct Progress {
    bar: ProgressBar,
    started: Instant,
    shown: bool,
    terminal: bool,
}

impl Progress {
    fn new() -> Self {
        let bar = ProgressBar::hidden();
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} packets {eta}") {
            bar.set_style(style);
        }
        Self {
            bar,
            started: Instant::now(),
            shown: false,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn update(&mut self, done: usize, total: usize) {
        if !self.shown && self.terminal && self.started.elapsed() > Duration::from_secs(2) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
    }
}

/// `mediacore encode`.
pub fn encode(
    args: &CodecArgs,
    ptime: Option<u16>,
    as_json: bool,
    input: &str,
    output: &Path,
) -> Result<(), String> {
    let reg = CodecRegistry::with_builtin();
    let entry = reg.find(&args.codec).map_err(|e| e.to_string())?;
    let desc = entry.descriptor;
    let audio = input::load(input)?;
    let params = choose_params(
        desc,
        audio.sample_rate,
        audio.channels,
        None,
        ptime,
        args.bitrate,
    );
    let mut enc = reg.encoder(desc.name, &params).map_err(|e| e.to_string())?;
    let pcm = convert(&audio, params.sample_rate, params.channels);
    let packets = encode_packets(enc.as_mut(), &pcm.samples).map_err(|e| e.to_string())?;
    let bytes = write_stream(desc, &params, &packets)?;
    std::fs::write(output, &bytes).map_err(|e| format!("{}: {e}", output.display()))?;
    if as_json {
        println!(
            "{}",
            json!({"codec": desc.name, "sample_rate": params.sample_rate, "channels": params.channels,
                   "ptime_ms": params.ptime_ms, "packets": packets.len(), "bytes": bytes.len(),
                   "duration_s": pcm.duration_secs()})
        );
    }
    Ok(())
}

/// The file form of a packet stream: the raw code bytes for sample-based codecs (as ffmpeg's
/// `-f mulaw`, `-f alaw`, `-f g722`, `-f s16be` read them); iLBC's storage format (RFC 3952,
/// ffmpeg's `-f ilbc`).
fn write_stream(
    desc: &CodecDescriptor,
    params: &CodecParams,
    packets: &[Packet],
) -> Result<Vec<u8>, String> {
    if desc.sample_based {
        return Ok(packets
            .iter()
            .flat_map(|p| p.payload.iter().copied())
            .collect());
    }
    if desc.name == ilbc::ILBC.name {
        let mode = ilbc::mode_for(params).map_err(|e| e.to_string())?;
        return ilbc_file::write(mode, packets.iter().map(|p| p.payload.as_slice()))
            .map_err(|e| e.to_string());
    }
    Err(format!("no file format for {} in this build", desc.name))
}

/// Splits a file back into packets. Raw sample-based streams are cut into ptime-sized packets
/// (the size found by encoding one frame of silence).
fn read_stream(
    desc: &CodecDescriptor,
    bytes: &[u8],
    enc: &mut dyn media_core::AudioEncoder,
) -> Result<Vec<Packet>, String> {
    if !desc.sample_based {
        return Err(format!("no file format for {} in this build", desc.name));
    }
    let frame = enc.frame_samples();
    let mut probe = vec![0u8; enc.max_payload_bytes()];
    let per_packet = enc
        .encode(&vec![0i16; frame], &mut probe)
        .map_err(|e| e.to_string())?;
    if per_packet == 0 {
        return Err(format!("{} produced an empty packet", desc.name));
    }
    Ok(bytes
        .chunks(per_packet)
        .map(|c| Packet {
            payload: c.to_vec(),
            samples: frame * c.len() / per_packet,
        })
        .collect())
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

/// `mediacore decode`.
pub fn decode(
    args: &CodecArgs,
    rate: Option<u32>,
    as_json: bool,
    input: &Path,
    output: &Path,
) -> Result<(), String> {
    let reg = CodecRegistry::with_builtin();
    let entry = reg.find(&args.codec).map_err(|e| e.to_string())?;
    let desc = entry.descriptor;
    let bytes = std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let mut params = choose_params(
        desc,
        desc.sample_rate,
        desc.channels,
        rate,
        None,
        args.bitrate,
    );
    let packets = if desc.name == ilbc::ILBC.name {
        read_ilbc(&bytes, &mut params)?
    } else {
        let mut enc = reg.encoder(desc.name, &params).map_err(|e| e.to_string())?;
        read_stream(desc, &bytes, enc.as_mut())?
    };
    let mut dec = reg.decoder(desc.name, &params).map_err(|e| e.to_string())?;
    let (pcm, stats) = decode_packets(dec.as_mut(), &packets, LossModel::None, &mut |_, _| {});
    let decoded = WavAudio {
        sample_rate: params.sample_rate,
        channels: params.channels,
        samples: pcm,
    };
    let out = convert(
        &decoded,
        rate.unwrap_or(params.sample_rate),
        params.channels,
    );
    write_wav(output, &out).map_err(|e| format!("{}: {e}", output.display()))?;
    if as_json {
        println!(
            "{}",
            json!({"codec": desc.name, "sample_rate": out.sample_rate, "channels": out.channels,
                   "packets": stats.packets, "malformed": stats.malformed, "duration_s": out.duration_secs()})
        );
    }
    Ok(())
}

/// `mediacore transcode`.
#[allow(clippy::too_many_arguments)]
pub fn transcode(
    args: &CodecArgs,
    rate: Option<u32>,
    ptime: Option<u16>,
    loss: Option<f64>,
    seed: u64,
    loss_pattern: Option<&Path>,
    as_json: bool,
    input: &str,
    output: &Path,
) -> Result<(), String> {
    let reg = CodecRegistry::with_builtin();
    let audio = input::load(input)?;
    let loss = match (loss, loss_pattern) {
        (_, Some(p)) => {
            let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
            LossModel::Pattern(parse_g192(&bytes).map_err(|e| format!("{}: {e}", p.display()))?)
        }
        (Some(percent), None) => LossModel::Random { percent, seed },
        (None, None) => LossModel::None,
    };
    let opts = TranscodeOptions {
        codec: args.codec.clone(),
        bitrate: args.bitrate,
        ptime_ms: ptime,
        rate,
        loss,
    };
    let mut progress = Progress::new();
    let (out, rep) = transcode::transcode(&reg, &audio, &opts, &mut |done, total| {
        progress.update(done, total)
    })
    .map_err(|e| e.to_string())?;
    progress.bar.finish_and_clear();
    write_wav(output, &out).map_err(|e| format!("{}: {e}", output.display()))?;
    let s = rep.stats;
    if as_json {
        println!(
            "{}",
            json!({"codec": rep.codec, "codec_rate": rep.params.sample_rate, "channels": rep.params.channels,
                   "ptime_ms": rep.params.ptime_ms, "bitrate": rep.params.bitrate, "output_rate": rep.output_rate,
                   "duration_s": out.duration_secs(), "payload_bytes": rep.payload_bytes,
                   "packets": s.packets, "packets_lost": s.lost, "packets_concealed": s.concealed,
                   "packets_fec_recovered": s.fec_recovered, "packets_malformed": s.malformed})
        );
    } else {
        eprintln!(
            "{}: {} packets of {} ms, {} lost ({} recovered by FEC, {} concealed), {:.1} s at {} Hz -> {}",
            rep.codec, s.packets, rep.params.ptime_ms, s.lost, s.fec_recovered, s.concealed,
            out.duration_secs(), out.sample_rate, output.display()
        );
    }
    Ok(())
}
