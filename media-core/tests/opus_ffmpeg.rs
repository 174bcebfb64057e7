//! Ogg Opus interop with ffmpeg on real speech, both ways:
//!
//! * our encoder and writer make a file that ffmpeg (with its libopus decoder) decodes to the
//!   same length and, decoding the same packets with libopus, nearly the same samples as we do;
//! * ffmpeg's libopus encoder makes files (one with packets spanning pages) that our reader
//!   and decoder decode to the right duration and to what ffmpeg itself decodes.
//!
//! Needs `ffmpeg` with libopus (Debian's has it) and the `codec2-examples` speech. Missing
//! either fails the test, unless `MEDIA_CORE_SKIP_EXTERNAL=1`.
#![cfg(feature = "opus")]

use media_core::codec::audio::opus::{
    OpusDecoder, OpusDecoderConfig, OpusEncoder, OpusEncoderConfig, Signal,
};
use media_core::codec::{AudioDecoder, AudioEncoder};
use media_core::container::ogg::{PageReader, FLAG_CONTINUED};
use media_core::container::{OggOpusReader, OggOpusWriter, OpusHead, OpusTags};
use std::path::{Path, PathBuf};
use std::process::Command;

const SPEECH: &str = "/usr/share/codec2/wav/vk5qi.wav";

fn skip_external() -> bool {
    std::env::var("MEDIA_CORE_SKIP_EXTERNAL").is_ok_and(|v| v == "1")
}

/// Whether the external tools and files are here; fails the test if not, unless skipping.
fn have_externals() -> bool {
    let ffmpeg = Command::new("ffmpeg")
        .args(["-hide_banner", "-decoders"])
        .output();
    let problem = match &ffmpeg {
        Err(e) => Some(format!(
            "ffmpeg not runnable ({e}); Debian: apt-get install ffmpeg"
        )),
        Ok(o) if !String::from_utf8_lossy(&o.stdout).contains("libopus") => {
            Some("this ffmpeg has no libopus decoder; Debian's ffmpeg has one".to_string())
        }
        Ok(_) if !Path::new(SPEECH).exists() => Some(format!(
            "{SPEECH} missing; Debian: apt-get install codec2-examples"
        )),
        Ok(_) => None,
    };
    match problem {
        None => true,
        Some(p) if skip_external() => {
            eprintln!("skipped (MEDIA_CORE_SKIP_EXTERNAL=1): {p}");
            false
        }
        Some(p) => panic!("{p} (set MEDIA_CORE_SKIP_EXTERNAL=1 to skip)"),
    }
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("media-core-{}-{name}", std::process::id()))
}

/// Runs ffmpeg, failing the test with its stderr if it fails, or if it warns and `strict`;
/// returns stdout.
fn ffmpeg(args: &[&str], strict: bool) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "warning", "-nostdin", "-y"])
        .args(args)
        .output()
        .expect("run ffmpeg");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && (!strict || stderr.trim().is_empty()),
        "ffmpeg {args:?}: {}: {stderr}",
        out.status
    );
    out.stdout
}

/// ffmpeg's decode of `file` with libopus, at 48 kHz, as interleaved samples. With `strict`,
/// a warning from ffmpeg (about the file) fails the test.
fn ffmpeg_decode(file: &Path, channels: u16, strict: bool) -> Vec<i16> {
    let ch = channels.to_string();
    let bytes = ffmpeg(
        &[
            "-c:a",
            "libopus",
            "-i",
            file.to_str().expect("utf-8 temp path"),
            "-f",
            "s16le",
            "-ar",
            "48000",
            "-ac",
            &ch,
            "-",
        ],
        strict,
    );
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// Our decode of an Ogg Opus file at 48 kHz, pre-skip and end trimming applied.
fn our_decode(bytes: &[u8]) -> (OpusHead, Vec<i16>) {
    let mut r = OggOpusReader::new(bytes).expect("open Ogg Opus");
    let head = r.head().clone();
    assert_eq!(head.mapping_family, 0);
    let channels = u16::from(head.channels);
    let ch = usize::from(channels);
    let mut dec = OpusDecoder::new(OpusDecoderConfig {
        sample_rate: 48000,
        channels,
        ..Default::default()
    })
    .expect("decoder");
    let mut pcm = vec![0i16; dec.max_frame_samples()];
    let mut out = Vec::new();
    while let Some(p) = r.next_packet().expect("packet") {
        let n = dec.decode(p.data, &mut pcm).expect("decode");
        assert_eq!(n, p.duration as usize * ch);
        let (skip, keep) = (p.skip as usize, p.keep as usize);
        out.extend_from_slice(&pcm[skip * ch..(skip + keep) * ch]);
    }
    assert_eq!(r.corrupt_count(), 0);
    (head, out)
}

fn snr_db(reference: &[i16], test: &[i16]) -> f64 {
    let (mut sig, mut err) = (0.0f64, 0.0f64);
    for (&r, &t) in reference.iter().zip(test) {
        sig += f64::from(r).powi(2);
        err += (f64::from(r) - f64::from(t)).powi(2);
    }
    10.0 * (sig / err.max(1e-9)).log10()
}

fn correlation(a: &[i16], b: &[i16]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    ab / (aa * bb).sqrt().max(1e-9)
}

fn speech() -> Vec<i16> {
    let wav = media_core::wav::read_wav(SPEECH).expect("read speech");
    assert_eq!((wav.sample_rate, wav.channels), (8000, 1));
    wav.samples
}

/// Encodes `input` (8 kHz, `channels`) with our encoder into an Ogg Opus file.
fn our_file(input: &[i16], channels: u16, cfg: OpusEncoderConfig) -> Vec<u8> {
    let ch = usize::from(channels);
    let mut enc = OpusEncoder::new(cfg).expect("encoder");
    let fs = enc.frame_samples();
    let n = input.len() / ch;
    let mut pcm = input.to_vec();
    // Pad so the encoder's delay is flushed out.
    let total = (n + enc.lookahead() as usize).div_ceil(fs / ch) * fs;
    pcm.resize(total, 0);
    let head = OpusHead::new(channels as u8, cfg.sample_rate, enc.pre_skip());
    let mut tags = OpusTags::new("media-core");
    tags.comments.push("TITLE=opus_ffmpeg test".into());
    let mut w = OggOpusWriter::new(Vec::new(), &head, &tags, 0x1234).expect("writer");
    let mut buf = vec![0u8; enc.max_payload_bytes()];
    for f in pcm.chunks_exact(fs) {
        let len = enc.encode(f, &mut buf).expect("encode");
        w.write_packet(&buf[..len]).expect("write");
    }
    let per_48k = 48000 / u64::from(cfg.sample_rate);
    w.finish(Some(n as u64 * per_48k)).expect("finish")
}

#[test]
fn ffmpeg_decodes_our_files() {
    if !have_externals() {
        return;
    }
    let mono = speech();
    // Stereo: the speech left, a quieter copy 2 ms later right.
    let stereo: Vec<i16> = (0..mono.len())
        .flat_map(|i| [mono[i], mono[i.saturating_sub(16)] / 2])
        .collect();
    let cases = [
        (
            "mono-8k-20ms",
            &mono,
            1u16,
            OpusEncoderConfig {
                sample_rate: 8000,
                frame_ms: 20,
                bitrate: 24000,
                signal: Signal::Voice,
                ..Default::default()
            },
        ),
        (
            "stereo-8k-60ms",
            &stereo,
            2,
            OpusEncoderConfig {
                sample_rate: 8000,
                channels: 2,
                frame_ms: 60,
                bitrate: 32000,
                ..Default::default()
            },
        ),
    ];
    for (name, input, channels, cfg) in cases {
        let bytes = our_file(input, channels, cfg);
        let path = temp_path(&format!("{name}.opus"));
        std::fs::write(&path, &bytes).expect("write temp file");
        if let Ok(dir) = std::env::var("MEDIA_CORE_KEEP_OPUS") {
            let _ = std::fs::write(Path::new(&dir).join(format!("{name}.opus")), &bytes);
        }
        let theirs = ffmpeg_decode(&path, channels, true);
        let _ = std::fs::remove_file(&path);
        let (_, ours) = our_decode(&bytes);

        let expected = input.len() * 6;
        assert_eq!(ours.len(), expected, "{name}: our length");
        assert_eq!(theirs.len(), expected, "{name}: ffmpeg's length");
        let snr = snr_db(&ours, &theirs);
        let corr = correlation(&ours, &theirs);
        eprintln!(
            "{name}: {} samples, ffmpeg vs ours SNR {snr:.1} dB, correlation {corr:.6}",
            theirs.len()
        );
        assert!(
            snr > 40.0 && corr > 0.9999,
            "{name}: SNR {snr:.1} dB corr {corr}"
        );
    }
}

#[test]
fn we_decode_ffmpeg_files() {
    if !have_externals() {
        return;
    }
    let input = speech();
    let wav = temp_path("speech.wav");
    std::fs::copy(SPEECH, &wav).expect("copy speech");
    let cases: [(&str, &[&str], u16); 2] = [
        (
            "voip-24k",
            &[
                "-c:a",
                "libopus",
                "-b:a",
                "24k",
                "-application",
                "voip",
                "-frame_duration",
                "20",
            ],
            1,
        ),
        // CBR 1275-byte stereo packets: 6 lacing values each, 50 a second, so ffmpeg's
        // one-second pages fill their 255 segments and packets span pages.
        (
            "cbr-510k-stereo",
            &[
                "-ac",
                "2",
                "-c:a",
                "libopus",
                "-b:a",
                "510k",
                "-vbr",
                "off",
                "-frame_duration",
                "20",
            ],
            2,
        ),
    ];
    for (name, args, channels) in cases {
        let path = temp_path(&format!("ffmpeg-{name}.opus"));
        let path_s = path.to_str().expect("utf-8 temp path");
        let mut full = vec!["-i", wav.to_str().expect("utf-8 temp path")];
        full.extend_from_slice(args);
        full.push(path_s);
        ffmpeg(&full, false);
        let bytes = std::fs::read(&path).expect("read ffmpeg's file");
        let theirs = ffmpeg_decode(&path, channels, false);
        let _ = std::fs::remove_file(&path);

        let mut pages = PageReader::new(&bytes[..]);
        let (mut count, mut continued) = (0, 0);
        while let Some(h) = pages.next_page().expect("page") {
            count += 1;
            continued += usize::from(h.flags & FLAG_CONTINUED != 0);
        }
        let (head, ours) = our_decode(&bytes);
        eprintln!(
            "{name}: {count} pages, {continued} continued; pre-skip {}, input rate {}, \
             {} samples at 48 kHz",
            head.pre_skip,
            head.input_sample_rate,
            ours.len()
        );
        assert_eq!(head.channels, channels as u8);
        assert_eq!(head.input_sample_rate, 8000);
        if name.starts_with("cbr") {
            assert!(continued > 0, "{name}: expected packets spanning pages");
        }
        let ch = usize::from(channels);
        assert_eq!(ours.len(), input.len() * 6 * ch, "{name}: our duration");
        assert_eq!(theirs.len(), ours.len(), "{name}: ffmpeg's duration");
        let snr = snr_db(&theirs, &ours);
        eprintln!("{name}: ffmpeg vs ours SNR {snr:.1} dB");
        assert!(snr > 40.0, "{name}: SNR {snr:.1} dB");
    }
    let _ = std::fs::remove_file(&wav);
}
