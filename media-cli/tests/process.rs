//! `mediacore process` as a user runs it: a capture with echo of a far-end recording in, the
//! same capture without the echo out (aligned sample for sample); real speech in noise made
//! cleaner by `--ns` (PESQ against the clean speech, through the project's Python judge); a
//! quiet talker brought to the AGC's target level by `--agc`; VAD decisions written by
//! `--vad-out`; clear errors.
//!
//! The speech tests need Debian's asterisk-core-sounds-en-wav and the `.venv` with `pesq` that
//! scripts/setup.sh makes; without them they fail, or skip with MEDIA_CORE_SKIP_EXTERNAL=1.

use std::path::PathBuf;
use std::process::Command;

use media_core::processing::audio::aec::sim::{erle_db, to_i16, EchoPath, EchoScenario};
use media_core::processing::audio::level::active_speech_level;
use media_core::signal::speech_like;
use media_core::wav::{read_wav, write_wav, WavAudio};
#[path = "common/mediacore.rs"]
mod common;
use common::{mediacore, stderr, tmp};

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

const ALLISON: &str = "/usr/share/asterisk/sounds/en_US_f_Allison";

fn skip_external(what: &str) -> bool {
    if std::env::var_os("MEDIA_CORE_SKIP_EXTERNAL").is_some() {
        eprintln!("skipping: {what} missing (MEDIA_CORE_SKIP_EXTERNAL)");
        return true;
    }
    panic!("{what} missing: run scripts/setup.sh (or set MEDIA_CORE_SKIP_EXTERNAL=1)");
}

/// About 12 s of real speech at 8 kHz (four prompts, 400 ms apart), f32.
fn speech_8k() -> Option<Vec<f32>> {
    let mut v = Vec::new();
    for f in [
        "vm-intro",
        "conf-onlyperson",
        "privacy-prompt",
        "vm-instructions",
    ] {
        let w = read_wav(format!("{ALLISON}/{f}.wav")).ok()?;
        if w.sample_rate != 8000 || w.channels != 1 {
            return None;
        }
        v.extend(to_f32(&w.samples));
        v.extend(std::iter::repeat_n(0.0, 3200));
    }
    v.truncate(8000 * 12);
    Some(v)
}

/// Seeded coloured noise (a one-pole low-pass at about 280 Hz over white, plus some white):
/// louder at low frequencies, like fan or road noise.
fn noise(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed;
    let mut lp = 0.0f32;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let w = (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            lp = 0.8 * lp + 0.2 * w;
            lp + 0.2 * w
        })
        .collect()
}

fn rms_db(x: &[f32]) -> f64 {
    let p = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len().max(1) as f64;
    10.0 * (p + 1e-20).log10()
}

fn scale(x: &[f32], db: f64) -> Vec<f32> {
    let g = 10f64.powf(db / 20.0) as f32;
    x.iter().map(|v| v * g).collect()
}

fn write_f32(path: &std::path::Path, rate: u32, x: &[f32]) {
    write_wav(
        path,
        &WavAudio {
            sample_rate: rate,
            channels: 1,
            samples: to_i16(x),
        },
    )
    .unwrap();
}

/// PESQ (narrowband at 8 kHz) of each (reference, degraded) WAV pair, by scripts/pesq_pairs.py.
fn pesq(pairs: &[(&PathBuf, &PathBuf)]) -> Option<Vec<f64>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv/bin/python");
    if !python.exists() {
        skip_external(".venv (pesq)");
        return None;
    }
    let mut cmd = Command::new(python);
    cmd.arg(root.join("scripts/pesq_pairs.py")).arg("8000");
    for (r, d) in pairs {
        cmd.arg(r).arg(d);
    }
    let o = cmd.output().expect("run pesq_pairs.py");
    assert!(o.status.success(), "{}", stderr(&o));
    Some(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| l.trim().parse().unwrap())
            .collect(),
    )
}

#[test]
fn ns_improves_pesq_of_real_speech_in_noise() {
    let Some(clean) = speech_8k() else {
        skip_external("asterisk-core-sounds-en-wav");
        return;
    };
    let clean = scale(&clean, -26.0 - active_speech_level(&clean, 8000).0);
    // 5 dB SNR: the noise's power 5 dB under the speech's active level.
    let nz = noise(clean.len(), 11);
    let nz = scale(&nz, -31.0 - rms_db(&nz));
    let noisy: Vec<f32> = clean.iter().zip(&nz).map(|(a, b)| a + b).collect();
    let (cp, np) = (tmp("ns-clean.wav"), tmp("ns-noisy.wav"));
    write_f32(&cp, 8000, &clean);
    write_f32(&np, 8000, &noisy);
    let out = tmp("ns-out.wav");
    let o = mediacore(&[
        "process",
        "--rate",
        "8000",
        "--ns",
        "--json",
        np.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // The noise floor the NS reports is the noise's level (within a few dB).
    let floor = report["noise_floor_dbov"].as_f64().unwrap();
    assert!((floor - -31.0).abs() < 4.0, "noise floor {floor}");
    // Output aligned with the input: same length.
    assert_eq!(read_wav(&out).unwrap().samples.len(), clean.len());
    let Some(s) = pesq(&[(&cp, &np), (&cp, &out)]) else {
        return;
    };
    println!("PESQ NB: noisy {:.2}, after --ns {:.2}", s[0], s[1]);
    assert!(
        s[1] > s[0] + 0.3,
        "PESQ noisy {:.2}, after --ns {:.2}",
        s[0],
        s[1]
    );
}

#[test]
fn agc_brings_a_quiet_talker_to_the_target_level() {
    let Some(clean) = speech_8k() else {
        skip_external("asterisk-core-sounds-en-wav");
        return;
    };
    // -40 dBov active speech level (P.56), with a faint hiss under it (-75 dBov).
    let quiet = scale(&clean, -40.0 - active_speech_level(&clean, 8000).0);
    let hiss = noise(quiet.len(), 3);
    let hiss = scale(&hiss, -75.0 - rms_db(&hiss));
    let x: Vec<f32> = quiet.iter().zip(&hiss).map(|(a, b)| a + b).collect();
    let inp = tmp("agc-in.wav");
    write_f32(&inp, 8000, &x);
    for rate in ["8000", "16000"] {
        let out = tmp(&format!("agc-out-{rate}.wav"));
        let vad = tmp(&format!("agc-vad-{rate}.json"));
        let o = mediacore(&[
            "process",
            "--rate",
            rate,
            "--ns",
            "--agc",
            "--vad-out",
            vad.to_str().unwrap(),
            "--json",
            inp.to_str().unwrap(),
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let got = read_wav(&out).unwrap();
        let y = to_f32(&got.samples);
        let r = got.sample_rate as usize;
        // After the AGC's 2 s fast start (3 s of input), the P.56 level of what is sent.
        let (level, _) = active_speech_level(&y[3 * r..], got.sample_rate);
        println!("{rate} Hz: -40 dBov in, {level:.2} dBov out (target -18)");
        assert!(
            (level - -18.0).abs() <= 2.0,
            "{rate} Hz: output level {level:.2} dBov"
        );
        assert!(y.iter().all(|v| v.abs() < 0.95), "limiter");
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let gain = report["gain_db"].as_f64().unwrap();
        assert!((gain - 22.0).abs() < 4.0, "gain {gain}");
        // VAD decisions: one per 10 ms, speech and pauses both present, segments inside the
        // file.
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&vad).unwrap()).unwrap();
        let frames = v["frames"].as_array().unwrap();
        assert!(
            frames.len() >= 1200 && frames.len() <= 1203,
            "{}",
            frames.len()
        );
        let speech = frames.iter().filter(|f| f.as_u64() == Some(1)).count();
        let share = speech as f64 / frames.len() as f64;
        assert!(
            (0.4..0.95).contains(&share),
            "speech in {share:.2} of frames"
        );
        let segs = v["segments"].as_array().unwrap();
        assert!(segs.len() >= 4, "{} segments", segs.len());
        assert!(segs.iter().all(|s| s[0].as_f64() < s[1].as_f64()));
        assert!(segs.last().unwrap()[1].as_f64().unwrap() <= 12.1);
    }
}
