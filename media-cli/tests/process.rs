//! `mediacore process` as a user runs it: a capture with echo of a far-end recording in, the
//! same capture without the echo out (aligned sample for sample), and clear errors for what
//! this build cannot do.

use std::path::PathBuf;
use std::process::{Command, Output};

use media_core::processing::audio::aec::sim::{erle_db, to_i16, EchoPath, EchoScenario};
use media_core::signal::speech_like;
use media_core::wav::{read_wav, write_wav, WavAudio};

fn mediacore(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mediacore"))
        .args(args)
        .output()
        .expect("run mediacore")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mediacore-process-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

fn to_f32(x: &[i16]) -> Vec<f32> {
    x.iter().map(|&v| f32::from(v) / 32768.0).collect()
}

/// A 10 s call at 16 kHz: the far end talks throughout, its echo comes back 80 ms late through
/// a 200 ms room at 6 dB below; the near end (other speech) talks over it from 5 s.
fn call(tag: &str) -> (EchoScenario, PathBuf, PathBuf) {
    let rate = 16_000;
    let far = to_f32(&speech_like(10.0, rate));
    let mut near = to_f32(&speech_like(5.0, rate));
    near.reverse();
    for v in near.iter_mut() {
        *v *= 0.5;
    }
    let path = EchoPath {
        rt60_s: 0.2,
        delay_ms: 80.0,
        erl_db: 6.0,
        seed: 4,
    };
    let sc = EchoScenario::new(rate, far, &near, 5 * rate as usize, &path, -200.0);
    let far_path = tmp(&format!("{tag}-far.wav"));
    let mic_path = tmp(&format!("{tag}-mic.wav"));
    for (p, x) in [(&far_path, &sc.far), (&mic_path, &sc.mic)] {
        write_wav(
            p,
            &WavAudio {
                sample_rate: rate,
                channels: 1,
                samples: to_i16(x),
            },
        )
        .unwrap();
    }
    (sc, far_path, mic_path)
}

#[test]
fn process_cancels_echo_and_keeps_alignment() {
    let (sc, far, mic) = call("aligned");
    let out = tmp("out.wav");
    // Without the high-pass, what differs from the near end is what the canceller did.
    let o = mediacore(&[
        "process",
        "--no-highpass",
        "--aec",
        "--far",
        far.to_str().unwrap(),
        mic.to_str().unwrap(),
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["rate"], 16000);
    let delay = report["aec"]["delay_ms"].as_f64().unwrap();
    assert!((delay - 80.0).abs() <= 30.0, "delay {delay}");
    let got = read_wav(&out).unwrap();
    assert_eq!(got.sample_rate, 16000);
    assert_eq!(got.samples.len(), sc.mic.len());
    let y = to_f32(&got.samples);
    let erle = erle_db(&sc.echo[32_000..80_000], &y[32_000..80_000]);
    assert!(erle > 25.0, "ERLE {erle}");
    // Double talk: the near end is still there, in place (no shift), mostly intact.
    let res: Vec<f32> = (80_000..160_000).map(|i| y[i] - sc.near[i]).collect();
    let snr = erle_db(&sc.near[80_000..], &res);
    println!("ERLE {erle:.1} dB, near-end SNR in double talk {snr:.1} dB");
    assert!(snr > 8.0, "near-end SNR in double talk {snr} dB");
}

#[test]
fn process_at_48_khz_and_without_aec() {
    let (_, far, mic) = call("48k");
    let out = tmp("out48.wav");
    let o = mediacore(&[
        "process",
        "--rate",
        "48000",
        "--aec",
        "--far",
        far.to_str().unwrap(),
        mic.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = read_wav(&out).unwrap();
    assert_eq!(got.sample_rate, 48000);
    assert_eq!(got.samples.len(), 480_000);
    // High-pass only: DC goes, the rest passes.
    let out2 = tmp("out48-hp.wav");
    let o = mediacore(&["process", mic.to_str().unwrap(), out2.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn process_errors_are_clear() {
    let (_, far, mic) = call("errors");
    let out = tmp("err.wav");
    let (m, f, o) = (
        mic.to_str().unwrap(),
        far.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let r = mediacore(&["process", "--ns", m, o]);
    assert!(!r.status.success());
    assert!(
        stderr(&r).contains("not available in this build"),
        "{}",
        stderr(&r)
    );
    let r = mediacore(&["process", "--agc", m, o]);
    assert!(
        stderr(&r).contains("not available in this build"),
        "{}",
        stderr(&r)
    );
    let r = mediacore(&["process", "--aec", m, o]);
    assert!(stderr(&r).contains("--aec needs --far"), "{}", stderr(&r));
    let r = mediacore(&["process", "--far", f, m, o]);
    assert!(
        stderr(&r).contains("only used with --aec"),
        "{}",
        stderr(&r)
    );
    let r = mediacore(&["process", "--rate", "44100", m, o]);
    assert!(
        stderr(&r).contains("not a processing rate"),
        "{}",
        stderr(&r)
    );
    let r = mediacore(&["process", "/nonexistent.wav", o]);
    assert!(!r.status.success());
}
