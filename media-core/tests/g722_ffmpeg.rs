//! Interop with ffmpeg's G.722 (libavcodec `adpcm_g722`) on real recorded speech, resampled to
//! 16 kHz by ffmpeg, at its recorded level and 12 dB louder (clipped), which drives the QMF and
//! the ADPCM coders into their limits:
//!
//! * our encoder's bytes, decoded by ffmpeg, equal our decoder's output sample for sample;
//! * ffmpeg's encoder's bytes, decoded by us, equal ffmpeg's decoding of them;
//! * both encoders produce the same bytes, up to the first sample pair whose QMF output leaves
//!   the 15-bit range of the sub-band signals.
//!
//! That last exception is a known non-conformance of ffmpeg (5.1) and of spandsp, from which its
//! G.722 is derived: the ITU-T reference limits the transmit QMF's outputs to -16384..=16383
//! (`limit()` in `qmf_tx`), as we do; they do not, so once a loud signal drives the lower or
//! higher band past that range their codes, and with them the ADPCM states, differ from the
//! reference (e.g. codec2's `hts1a` at +12 dB: the lower band reaches 16551 at pair 2298). The
//! ITU-T test vectors never reach that range, which is why both pass them. Decoding is
//! unaffected: the decoders agree on every stream.
//!
//! ffmpeg is required: without it the tests fail, unless `MEDIA_CORE_SKIP_EXTERNAL=1`.

mod common;

use common::assert_same;
use media_core::codec::audio::g722::{G722Decoder, Mode};
use media_core::{CodecParams, CodecRegistry};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Several speakers: codec2's examples (8 kHz) and an Asterisk prompt (8 kHz).
const SPEECH: &[&str] = &[
    "/usr/share/codec2/wav/hts1a.wav",
    "/usr/share/codec2/wav/mmt1.wav",
    "/usr/share/codec2/wav/forig.wav",
    "/usr/share/codec2/wav/cross.wav",
    "/usr/share/asterisk/sounds/en_US_f_Allison/vm-intro.wav",
];

/// Whether the external tools and files are there. Missing ones fail the test with a message
/// saying what to install, unless MEDIA_CORE_SKIP_EXTERNAL=1, when the test is skipped.
fn external_ready() -> bool {
    let skip = std::env::var("MEDIA_CORE_SKIP_EXTERNAL").is_ok_and(|v| v == "1");
    let ffmpeg = Command::new("ffmpeg")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let missing: Vec<&str> = SPEECH
        .iter()
        .copied()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if ffmpeg && missing.is_empty() {
        return true;
    }
    let what = if ffmpeg {
        format!(
            "speech files missing: {missing:?} (Debian: apt-get install codec2-examples \
             asterisk-core-sounds-en-wav)"
        )
    } else {
        "ffmpeg not found on PATH (Debian: apt-get install ffmpeg)".to_string()
    };
    assert!(
        skip,
        "{what}; set MEDIA_CORE_SKIP_EXTERNAL=1 to skip this test"
    );
    eprintln!("skipped: {what}");
    false
}

/// Runs ffmpeg with `args`, feeding `input` on stdin; returns stdout.
fn ffmpeg(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ffmpeg");
    let mut stdin = child.stdin.take().expect("ffmpeg stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        // ffmpeg may stop reading early on error; its stderr says why.
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("run ffmpeg");
    writer.join().expect("stdin writer");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn to_i16(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// A speech file as 16 kHz mono s16, resampled by ffmpeg, with `gain_db` applied (clipped).
fn speech_16k(path: &str, gain_db: i32) -> Vec<i16> {
    let volume = format!("volume={gain_db}dB");
    let pcm = to_i16(&ffmpeg(
        &[
            "-i", path, "-af", &volume, "-ar", "16000", "-ac", "1", "-f", "s16le", "-",
        ],
        &[],
    ));
    assert!(pcm.len() > 16000, "{path}: too short");
    // Whole pairs only.
    pcm[..pcm.len() & !1].to_vec()
}

/// Every speech file at both levels, resampled once for all tests.
fn speech() -> &'static [(String, Vec<i16>)] {
    static SPEECH_16K: OnceLock<Vec<(String, Vec<i16>)>> = OnceLock::new();
    SPEECH_16K.get_or_init(|| {
        SPEECH
            .iter()
            .flat_map(|path| {
                [0, 12].map(|gain| (format!("{path} {gain:+} dB"), speech_16k(path, gain)))
            })
            .collect()
    })
}

fn ffmpeg_decode(codes: &[u8]) -> Vec<i16> {
    to_i16(&ffmpeg(
        &["-f", "g722", "-i", "-", "-f", "s16le", "-"],
        codes,
    ))
}

fn ffmpeg_encode(pcm: &[i16]) -> Vec<u8> {
    let bytes: Vec<u8> = pcm.iter().flat_map(|x| x.to_le_bytes()).collect();
    ffmpeg(
        &[
            "-f", "s16le", "-ar", "16000", "-ac", "1", "-i", "-", "-c:a", "g722", "-f", "g722", "-",
        ],
        &bytes,
    )
}

/// Encodes with the encoder the registry hands out, 20 ms per call.
fn our_encode(pcm: &[i16]) -> Vec<u8> {
    let reg = CodecRegistry::with_builtin();
    let params = CodecParams::defaults(reg.find("g722").unwrap().descriptor);
    let mut enc = reg.encoder("G722", &params).unwrap();
    assert_eq!(enc.frame_samples(), 320);
    let mut codes = Vec::with_capacity(pcm.len() / 2);
    let mut buf = vec![0u8; enc.max_payload_bytes()];
    for frame in pcm.chunks(enc.frame_samples()) {
        let n = enc.encode(frame, &mut buf).unwrap();
        codes.extend_from_slice(&buf[..n]);
    }
    codes
}

fn our_decode(codes: &[u8]) -> Vec<i16> {
    let mut dec = G722Decoder::new(Mode::Kbps64);
    let mut out = vec![0i16; codes.len() * 2];
    let mut done = 0;
    for packet in codes.chunks(160) {
        done += dec.decode(packet, &mut out[done..]).unwrap();
    }
    out
}

/// The first sample pair whose transmit QMF output (computed here independently, without the
/// limit) is outside -16384..=16383 in either band.
fn first_pair_beyond_15_bits(pcm: &[i16]) -> Option<usize> {
    const H: [i64; 24] = [
        3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876, 3876, 951, -805, -210, 362, 32,
        -156, 12, 53, -11, -11, 3,
    ];
    let x = |k: isize| if k < 0 { 0 } else { i64::from(pcm[k as usize]) };
    (0..pcm.len() / 2).find(|&j| {
        // H[k] applies to the sample k places before the newer sample of pair j.
        let newest = 2 * j as isize + 1;
        let (mut even, mut odd) = (0, 0);
        for i in 0..12 {
            even += H[2 * i] * x(newest - 2 * i as isize);
            odd += H[2 * i + 1] * x(newest - 2 * i as isize - 1);
        }
        let out = |v: i64| !(-16384..=16383).contains(&(v >> 14));
        out(even + odd) || out(even - odd)
    })
}

#[test]
fn ffmpeg_decodes_our_stream_exactly_as_we_do() {
    if !external_ready() {
        return;
    }
    for (name, pcm) in speech() {
        let codes = our_encode(pcm);
        assert_eq!(codes.len(), pcm.len() / 2);
        let what = format!("{name}, our stream");
        assert_same(&what, &our_decode(&codes), &ffmpeg_decode(&codes));
    }
}

#[test]
fn we_decode_ffmpegs_stream_exactly_as_ffmpeg_does() {
    if !external_ready() {
        return;
    }
    for (name, pcm) in speech() {
        let codes = ffmpeg_encode(pcm);
        assert_eq!(codes.len(), pcm.len() / 2);
        let what = format!("{name}, ffmpeg's stream");
        assert_same(&what, &our_decode(&codes), &ffmpeg_decode(&codes));
        // The encoders agree until the QMF output first needs the reference's limit.
        let ours = our_encode(pcm);
        let agree = first_pair_beyond_15_bits(pcm).unwrap_or(codes.len());
        assert_same(
            &format!("{what}: encoder bytes before pair {agree}"),
            &ours[..agree],
            &codes[..agree],
        );
        if name.ends_with("+0 dB") {
            // Recorded speech stays in range: the streams are identical.
            assert_eq!(agree, codes.len(), "{what}: QMF output beyond 15 bits");
        }
    }
}
