//! The `mediacore` command as a user runs it.

use std::path::{Path, PathBuf};
use std::process::Command;
#[path = "common/mediacore.rs"]
mod common;
use common::{mediacore, stderr, tmp};

#[test]
fn codecs_json_lists_required_fields() {
    let o = mediacore(&["codecs", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let list = v.as_array().unwrap();
    for name in ["pcmu", "pcma", "l16"] {
        let c = list
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        for key in [
            "encoding_name",
            "clock_rate",
            "sample_rate",
            "channels",
            "payload_type",
            "ptimes",
        ] {
            assert!(c.get(key).is_some(), "{name}.{key}");
        }
    }
    let pcmu = list.iter().find(|c| c["name"] == "pcmu").unwrap();
    assert_eq!(pcmu["payload_type"], 0);
    assert_eq!(pcmu["clock_rate"], 8000);
}

#[test]
fn bad_input_gives_one_line_and_nonzero_exit() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "transcode",
                "--codec",
                "nope",
                "builtin:speech",
                "/dev/null",
            ],
            "pcmu, pcma",
        ),
        (
            &["transcode", "--codec", "pcmu", "/no/such.wav", "/dev/null"],
            "No such file",
        ),
        (
            &[
                "transcode",
                "--codec",
                "pcmu",
                "--loss",
                "150",
                "builtin:speech",
                "/dev/null",
            ],
            "between 0 and 100",
        ),
        (
            &["transcode", "--codec", "pcmu", "--frobnicate", "x", "y"],
            "--frobnicate",
        ),
        (
            &[
                "transcode",
                "--codec",
                "pcmu",
                "--ptime",
                "7",
                "builtin:speech",
                "/dev/null",
            ],
            "ptime",
        ),
        (
            &["encode", "--codec", "pcmu", "builtin:whale", "/dev/null"],
            "unknown built-in",
        ),
    ];
    for (args, needle) in cases {
        let o = mediacore(args);
        assert!(!o.status.success(), "{args:?} succeeded");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // A file that is not WAV.
    let junk = tmp("junk.wav");
    std::fs::write(&junk, b"this is not a wav file").unwrap();
    let o = mediacore(&[
        "encode",
        "--codec",
        "pcma",
        junk.to_str().unwrap(),
        "/dev/null",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not a valid WAV"), "{}", stderr(&o));
}

#[test]
fn transcode_reports_loss_and_concealment() {
    let out = tmp("t.wav");
    let args = [
        "transcode",
        "--codec",
        "PCMA",
        "--ptime",
        "10",
        "--loss",
        "10",
        "--seed",
        "4",
        "--json",
        "builtin:speech",
        out.to_str().unwrap(),
    ];
    let o = mediacore(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["packets"], 1000);
    let lost = v["packets_lost"].as_u64().unwrap();
    assert!((60..140).contains(&lost), "{lost}");
    assert_eq!(v["packets_concealed"], lost);
    assert_eq!(v["output_rate"], 8000);
    let a = media_core::wav::read_wav(&out).unwrap();
    assert_eq!((a.sample_rate, a.samples.len()), (8000, 80000));
    // Same seed, same result.
    let o2 = mediacore(&args);
    assert_eq!(o.stdout, o2.stdout);
}

#[test]
fn transcode_output_rate_follows_rate_option() {
    let out = tmp("r.wav");
    let o = mediacore(&[
        "transcode",
        "--codec",
        "pcmu",
        "--rate",
        "48000",
        "builtin:speech",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let a = media_core::wav::read_wav(&out).unwrap();
    assert_eq!((a.sample_rate, a.samples.len()), (48000, 480000));
    // For L16, --rate is the codec's rate.
    let o = mediacore(&[
        "transcode",
        "--codec",
        "l16",
        "--rate",
        "16000",
        "--json",
        "builtin:speech",
        out.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["codec_rate"], 16000);
}

fn ffmpeg_available() -> bool {
    let ok = Command::new("ffmpeg")
        .arg("-version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok && std::env::var_os("MEDIA_CORE_SKIP_EXTERNAL").is_none() {
        panic!("ffmpeg is not installed (run scripts/setup.sh, or set MEDIA_CORE_SKIP_EXTERNAL=1)");
    }
    ok
}

/// Real speech from Debian's asterisk-core-sounds-en-wav, as installed by scripts/setup.sh.
fn speech_file() -> Option<PathBuf> {
    let p = Path::new("/usr/share/asterisk/sounds/en_US_f_Allison/vm-intro.wav");
    if p.exists() {
        Some(p.to_path_buf())
    } else if std::env::var_os("MEDIA_CORE_SKIP_EXTERNAL").is_some() {
        None
    } else {
        panic!("{} missing (run scripts/setup.sh)", p.display())
    }
}

#[test]
fn g711_streams_interoperate_with_ffmpeg() {
    if !ffmpeg_available() {
        return;
    }
    let Some(speech) = speech_file() else { return };
    for (codec, fmt) in [("pcmu", "mulaw"), ("pcma", "alaw")] {
        let ours = tmp(&format!("ours.{fmt}"));
        let o = mediacore(&[
            "encode",
            "--codec",
            codec,
            speech.to_str().unwrap(),
            ours.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        // ffmpeg decodes our stream exactly as we do.
        let ff = Command::new("ffmpeg")
            .args(["-v", "error", "-f", fmt, "-ar", "8000", "-ac", "1", "-i"])
            .arg(&ours)
            .args(["-f", "s16le", "-"])
            .output()
            .unwrap();
        assert!(ff.status.success());
        let dec = tmp(&format!("dec-{fmt}.wav"));
        let o = mediacore(&[
            "decode",
            "--codec",
            codec,
            ours.to_str().unwrap(),
            dec.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let a = media_core::wav::read_wav(&dec).unwrap();
        let theirs: Vec<i16> = ff
            .stdout
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(a.samples.len(), theirs.len());
        let diffs = a
            .samples
            .iter()
            .zip(&theirs)
            .filter(|(x, y)| x != y)
            .count();
        assert_eq!(
            diffs, 0,
            "{codec}: ffmpeg decodes {diffs} samples differently"
        );
        // ffmpeg's encoder is not G.711-exact near zero (it rounds to the nearest level, the ITU
        // reference truncates); its codes differ from ours by at most one step.
        let ffenc = Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&speech)
            .args(["-ar", "8000", "-ac", "1", "-f", fmt, "-"])
            .output()
            .unwrap();
        let ours_bytes = std::fs::read(&ours).unwrap();
        assert_eq!(ffenc.stdout.len(), ours_bytes.len());
        let decode = |c: u8| -> i32 {
            if codec == "pcmu" {
                media_core::codec::audio::g711::ulaw_to_linear(c).into()
            } else {
                media_core::codec::audio::g711::alaw_to_linear(c).into()
            }
        };
        let mut levels: Vec<i32> = (0..=255u8).map(decode).collect();
        levels.sort_unstable();
        levels.dedup();
        let rank = |v: i32| levels.binary_search(&v).unwrap_or(0) as i32;
        let mut differing = 0;
        for (&x, &y) in ours_bytes.iter().zip(&ffenc.stdout) {
            let d = (rank(decode(x)) - rank(decode(y))).abs();
            assert!(d <= 1, "{codec}: {x:#x} vs {y:#x} differ by {d} levels");
            differing += usize::from(d != 0);
        }
        assert!(
            differing * 5 < ours_bytes.len(),
            "{codec}: {differing} codes differ"
        );
    }
}

fn testdata(rel: &str) -> PathBuf {
    let base = std::env::var_os("MEDIA_CORE_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            here.ancestors()
                .map(|a| a.join("shared/testdata"))
                .find(|p| p.is_dir())
                .unwrap_or_else(|| here.join("../../shared/testdata"))
        });
    base.join(rel)
}

fn le16(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// ITU-T G.711 Appendix I through the command line: L16 at 8 kHz, 10 ms packets, the G.192
/// pattern of the STL vector reproduces the STL g711iplc output bit-exactly.
#[test]
fn transcode_with_g192_pattern_reproduces_appendix_i_reference() {
    let src = le16(&std::fs::read(testdata("g711-plc/f2.le")).expect("f2.le"));
    let want = le16(&std::fs::read(testdata("g711-plc/f2_10.raw")).expect("f2_10.raw"));
    let input = tmp("f2.wav");
    media_core::wav::write_wav(
        &input,
        &media_core::wav::WavAudio {
            sample_rate: 8000,
            channels: 1,
            samples: src,
        },
    )
    .unwrap();
    let out = tmp("f2_10.wav");
    let pattern = testdata("g711-plc/fe10.g192");
    let o = mediacore(&[
        "transcode",
        "--codec",
        "l16",
        "--rate",
        "8000",
        "--ptime",
        "10",
        "--loss-pattern",
        pattern.to_str().unwrap(),
        "--json",
        input.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["packets_lost"], v["packets"].as_u64().unwrap() / 10);
    let got = media_core::wav::read_wav(&out).unwrap().samples;
    assert_eq!(got.len(), want.len());
    let diffs = got.iter().zip(&want).filter(|(a, b)| a != b).count();
    assert_eq!(diffs, 0, "{diffs} samples differ from f2_10.raw");
}

/// `encode --codec opus` writes Ogg Opus that ffmpeg plays at the right length, and `decode`
/// reads what ffmpeg's libopus writes.
#[cfg(feature = "opus")]
#[test]
fn opus_files_round_trip_through_ffmpeg() {
    if !ffmpeg_available() {
        return;
    }
    let ours = tmp("ours.opus");
    let o = mediacore(&[
        "encode",
        "--codec",
        "opus",
        "--bitrate",
        "24000",
        "builtin:speech",
        ours.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ff = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&ours)
        .args(["-f", "s16le", "-ac", "1", "-ar", "16000", "-"])
        .output()
        .unwrap();
    assert!(
        ff.status.success(),
        "{}",
        String::from_utf8_lossy(&ff.stderr)
    );
    // 10 s at 16 kHz, give or take ffmpeg's resampler edge.
    let n = ff.stdout.len() / 2;
    assert!(
        (159_900..=160_100).contains(&n),
        "ffmpeg decoded {n} samples"
    );

    let theirs = tmp("theirs.opus");
    let speech = speech_file();
    let src = speech.as_deref().map(|p| p.to_str().unwrap().to_string());
    let Some(src) = src else { return };
    // -nostdin: an ffmpeg reading a terminal it does not own is stopped (SIGTTIN) for good.
    let st = Command::new("ffmpeg")
        .args([
            "-nostdin", "-v", "error", "-y", "-i", &src, "-c:a", "libopus", "-b:a", "24k",
        ])
        .arg(&theirs)
        .status()
        .unwrap();
    assert!(st.success());
    let dec = tmp("theirs.wav");
    let o = mediacore(&[
        "decode",
        "--codec",
        "opus",
        "--rate",
        "8000",
        "--json",
        theirs.to_str().unwrap(),
        dec.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let a = media_core::wav::read_wav(&dec).unwrap();
    let orig = media_core::wav::read_wav(&src).unwrap();
    assert_eq!(
        a.samples.len(),
        orig.samples.len(),
        "decoded length differs from the source"
    );
}

/// The best SNR in dB of `a` against `b` over relative shifts of up to `max_shift` samples.
fn best_snr(a: &[i16], b: &[i16], max_shift: usize) -> (f64, isize) {
    let mut best = (f64::NEG_INFINITY, 0);
    for s in -(max_shift as isize)..=max_shift as isize {
        let (x, y) = if s >= 0 {
            (a, &b[s as usize..])
        } else {
            (&a[(-s) as usize..], b)
        };
        let n = x.len().min(y.len());
        let (mut sig, mut err) = (0.0f64, 0.0f64);
        for (&p, &q) in x[..n].iter().zip(&y[..n]) {
            sig += f64::from(q).powi(2);
            err += (f64::from(p) - f64::from(q)).powi(2);
        }
        let snr = 10.0 * (sig / err.max(1e-9)).log10();
        if snr > best.0 {
            best = (snr, s);
        }
    }
    best
}

/// `mediacore encode --codec ilbc` writes RFC 3952's storage format, which ffmpeg's own iLBC
/// demuxer and decoder (a fixed-point port, so not bit-exact) play; and we read it back.
#[test]
fn ilbc_files_play_in_ffmpeg() {
    if !ffmpeg_available() {
        return;
    }
    let Some(speech) = speech_file() else { return };
    for (ptime, magic) in [
        ("20", "#!iLBC20\n"),
        ("30", "#!iLBC30\n"),
        ("60", "#!iLBC30\n"),
    ] {
        let lbc = tmp(&format!("ours{ptime}.lbc"));
        let o = mediacore(&[
            "encode",
            "--codec",
            "ilbc",
            "--ptime",
            ptime,
            speech.to_str().unwrap(),
            lbc.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let bytes = std::fs::read(&lbc).unwrap();
        assert!(bytes.starts_with(magic.as_bytes()), "{ptime}");
        let ff = Command::new("ffmpeg")
            .args(["-v", "error", "-f", "ilbc", "-i"])
            .arg(&lbc)
            .args(["-f", "s16le", "-"])
            .output()
            .unwrap();
        assert!(
            ff.status.success(),
            "{}",
            String::from_utf8_lossy(&ff.stderr)
        );
        let theirs = le16(&ff.stdout);
        let dec = tmp(&format!("ours{ptime}.wav"));
        let o = mediacore(&[
            "decode",
            "--codec",
            "ilbc",
            lbc.to_str().unwrap(),
            dec.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let ours = media_core::wav::read_wav(&dec).unwrap().samples;
        assert_eq!(ours.len(), theirs.len(), "{ptime}");
        // Measured: 16.7 dB at shift 0 in both modes on this prompt.
        let (snr, shift) = best_snr(&ours, &theirs, 100);
        assert!(
            snr > 12.0,
            "{ptime} ms: ffmpeg vs ours {snr:.1} dB at shift {shift}"
        );
    }
}

#[test]
fn ilbc_transcode_with_loss_conceals() {
    let out = tmp("ilbc-loss.wav");
    let o = mediacore(&[
        "transcode",
        "--codec",
        "ilbc",
        "--ptime",
        "20",
        "--loss",
        "10",
        "--json",
        "builtin:speech",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["codec"], "ilbc");
    assert_eq!(v["ptime_ms"], 20);
    assert!(v["packets_lost"].as_u64().unwrap() > 0);
    assert_eq!(v["packets_lost"], v["packets_concealed"]);
    // A ptime that is not whole frames of the mode asked for is refused in one line.
    let o = mediacore(&[
        "transcode",
        "--codec",
        "ilbc",
        "--ptime",
        "30",
        "--bitrate",
        "15200",
        "builtin:speech",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("ptime"), "{}", stderr(&o));
}

/// opusdec (opus-tools, the reference player) plays what `encode --codec opus` writes, at the
/// right length.
#[cfg(feature = "opus")]
#[test]
fn opusdec_plays_our_ogg_opus() {
    let ok = Command::new("opusdec")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var_os("MEDIA_CORE_SKIP_EXTERNAL").is_some(),
            "opusdec is not installed (run scripts/setup.sh, or set MEDIA_CORE_SKIP_EXTERNAL=1)"
        );
        return;
    }
    let ours = tmp("for-opusdec.opus");
    let o = mediacore(&[
        "encode",
        "--codec",
        "opus",
        "builtin:speech",
        ours.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let wav = tmp("opusdec.wav");
    let st = Command::new("opusdec")
        .args(["--quiet", "--rate", "16000"])
        .arg(&ours)
        .arg(&wav)
        .status()
        .unwrap();
    assert!(st.success(), "opusdec failed");
    let a = media_core::wav::read_wav(&wav).unwrap();
    // 10 s of the built-in signal at 16 kHz, exactly: opusdec honours pre-skip and end trim.
    assert_eq!(a.samples.len() / usize::from(a.channels), 160_000);
}
