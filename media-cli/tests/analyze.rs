//! `mediacore analyze` as a user runs it: DTMF digits and their timing in files made by
//! media-core's generator and by sox, levels of known signals, errors.

use media_core::processing::audio::dtmf::{DtmfGenerator, GeneratorConfig};
use media_core::wav::{write_wav, WavAudio};
use media_core::SampleRate;
use std::path::Path;
#[path = "common/mediacore.rs"]
mod common;
use common::{has_sox, mediacore, skip_missing, sox, tmp};

fn analyze_json(path: &Path, dtmf: bool) -> serde_json::Value {
    let p = path.to_str().unwrap();
    let args: Vec<&str> = if dtmf {
        vec!["analyze", "--dtmf", "--json", p]
    } else {
        vec!["analyze", "--json", p]
    };
    let o = mediacore(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// (digit, start ms, duration ms) from the JSON report.
fn digits(v: &serde_json::Value) -> Vec<(String, f64, f64)> {
    v["dtmf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["digit"].as_str().unwrap().to_string(),
                d["start_ms"].as_f64().unwrap(),
                d["duration_ms"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn check_digits(found: &[(String, f64, f64)], expected: &[(char, f64, f64)]) {
    let got: String = found.iter().map(|d| d.0.as_str()).collect();
    let want: String = expected.iter().map(|d| d.0).collect();
    assert_eq!(got, want, "{found:?}");
    for (f, e) in found.iter().zip(expected) {
        assert!(
            (f.1 - e.1).abs() <= 10.0,
            "{} starts at {} ms, not {} ms",
            e.0,
            f.1,
            e.1
        );
        assert!(
            (f.2 - e.2).abs() <= 10.0,
            "{} lasts {} ms, not {} ms",
            e.0,
            f.2,
            e.2
        );
    }
}

#[test]
fn dtmf_digits_and_start_times_from_the_generator() {
    for rate in [8000u32, 16000, 48000] {
        // 300 ms of silence, then "159#*0D" as 80 ms tones with 120 ms pauses.
        let cfg = GeneratorConfig {
            tone_ms: 80,
            pause_ms: 120,
            ..GeneratorConfig::at_rate(SampleRate(rate))
        };
        let mut gen = DtmfGenerator::new(cfg).unwrap();
        gen.push_str("159#*0D").unwrap();
        let lead = rate as usize * 3 / 10;
        let mut samples = vec![0i16; lead + rate as usize * 16 / 10];
        gen.fill_i16(&mut samples[lead..]);
        let path = tmp(&format!("gen{rate}.wav"));
        write_wav(
            &path,
            &WavAudio {
                sample_rate: rate,
                channels: 1,
                samples,
            },
        )
        .unwrap();
        let v = analyze_json(&path, true);
        let expected: Vec<(char, f64, f64)> = "159#*0D"
            .chars()
            .enumerate()
            .map(|(i, c)| (c, 300.0 + 200.0 * i as f64, 80.0))
            .collect();
        check_digits(&digits(&v), &expected);
        assert_eq!(v["sample_rate"], rate);
        assert!((v["duration_s"].as_f64().unwrap() - 1.9).abs() < 1e-3);
        // Tones at -10 and -8 dBm0: -16.18 and -14.18 dBov, together -12.06 dBov while on.
        // P.56's 200 ms hangover bridges the 120 ms pauses, so the active level is that of
        // the whole digit sequence: 80 ms in 200, about 4 dB lower.
        let level = v["level_dbov"].as_f64().unwrap();
        assert!((-17.5..=-15.5).contains(&level), "P.56 level {level}");
        assert_eq!(v["clipping_ratio"], 0.0);
        assert_eq!(v["noise_floor_dbov"], -127.0);
    }
}

fn sox_available() -> bool {
    has_sox() || !skip_missing("sox")
}

#[test]
fn dtmf_digits_from_sox_in_noise_stereo_at_44_1_khz() {
    if !sox_available() {
        return;
    }
    // Digits 7, 3, A made by sox as hard-switched sine pairs (each tone -21 dBov, -15 dBm0),
    // with gaps, over pink noise at -53 dBov, written as 16-bit stereo at 44.1 kHz.
    let parts: Vec<(char, f64, f64, f64, f64)> = vec![
        // digit, low, high, start s, duration s
        ('7', 852.0, 1209.0, 0.40, 0.12),
        ('3', 697.0, 1477.0, 0.70, 0.06),
        ('A', 697.0, 1633.0, 1.05, 0.25),
    ];
    let mut files = Vec::new();
    for (i, &(_, lo, hi, start, dur)) in parts.iter().enumerate() {
        let f = tmp(&format!("sox{i}.wav"));
        let (lo, hi, start, dur) = (
            lo.to_string(),
            hi.to_string(),
            start.to_string(),
            dur.to_string(),
        );
        sox(&[
            "-n",
            "-r",
            "44100",
            "-b",
            "16",
            "-c",
            "1",
            f.to_str().unwrap(),
            "synth",
            &dur,
            "sine",
            &lo,
            "sine",
            &hi,
            "remix",
            "1,2",
            "vol",
            "0.25",
            "pad",
            &start,
            &format!("{}", 1.6 - 0.0),
        ]);
        files.push(f);
    }
    let noise = tmp("noise.wav");
    sox(&[
        "-n",
        "-r",
        "44100",
        "-b",
        "16",
        "-c",
        "1",
        noise.to_str().unwrap(),
        "synth",
        "3.0",
        "pinknoise",
        "vol",
        "0.01",
    ]);
    let mixed = tmp("mixed.wav");
    let mut args: Vec<&str> = vec!["-m"];
    for f in files.iter().chain([&noise]) {
        // Unit gain per input (sox -m would divide by the number of inputs).
        args.extend(["-v", "1", f.to_str().unwrap()]);
    }
    args.extend([mixed.to_str().unwrap(), "trim", "0", "2.0", "channels", "2"]);
    sox(&args);
    let v = analyze_json(&mixed, true);
    let expected: Vec<(char, f64, f64)> = parts
        .iter()
        .map(|&(c, _, _, s, d)| (c, s * 1000.0, d * 1000.0))
        .collect();
    check_digits(&digits(&v), &expected);
    assert_eq!(v["channels"], 2);
    assert_eq!(v["sample_rate"], 44100);
    let floor = v["noise_floor_dbov"].as_f64().unwrap();
    assert!((-58.0..=-50.0).contains(&floor), "noise floor {floor}");
}

#[test]
fn levels_clipping_and_speech_ratio_of_known_signals() {
    // 1 s of silence, 1 s of a -20 dBov 1 kHz sine, 0.5 s of a clipped one.
    let rate = 8000;
    let amp = 10f64.powf(-20.0 / 20.0) * 2f64.sqrt() * 32768.0;
    let mut s = vec![0i16; rate];
    s.extend((0..rate).map(|i| (amp * (i as f64 * std::f64::consts::TAU / 8.0).sin()) as i16));
    s.extend(
        (0..rate / 2)
            .map(|i| (3.0 * 32768.0 * (i as f64 * 0.7).sin()).clamp(-32768.0, 32767.0) as i16),
    );
    let path = tmp("levels.wav");
    write_wav(
        &path,
        &WavAudio {
            sample_rate: rate as u32,
            channels: 1,
            samples: s,
        },
    )
    .unwrap();
    let v = analyze_json(&path, false);
    assert!(v.get("dtmf").is_none());
    let clip = v["clipping_ratio"].as_f64().unwrap();
    // About 2/3 of the clipped half-second sits at full scale: 0.5 s of 2.5 s is 20 %.
    assert!((0.08..=0.2).contains(&clip), "clipping {clip}");
    assert!((v["peak_dbov"].as_f64().unwrap()).abs() < 0.01);
    assert_eq!(v["noise_floor_dbov"], -127.0);
    let speech = v["speech_ratio"].as_f64().unwrap();
    assert!((speech - 0.6).abs() < 0.01, "speech ratio {speech}");
    assert!((v["duration_s"].as_f64().unwrap() - 2.5).abs() < 1e-9);
    // Text output names the P.56 level and the energy-based speech ratio.
    let o = mediacore(&["analyze", path.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("P.56") && text.contains("not a VAD"),
        "{text}"
    );
}

#[test]
fn p56_level_of_recorded_speech_matches_the_stl_speech_voltmeter() {
    // Reference values from the ITU-T STL's sv-p56 algorithm (its Python port) on Debian's
    // recorded speech.
    let cases = [
        (
            "/usr/share/asterisk/sounds/en_US_f_Allison/agent-loggedoff.wav",
            -17.771,
            -18.103,
        ),
        ("/usr/share/codec2/wav/hts1a.wav", -23.301, -24.185),
        (
            "/usr/share/asterisk/sounds/en_US_f_Allison/conf-now-recording.wav",
            -17.907,
            -18.105,
        ),
    ];
    for (file, active, rms) in cases {
        // skip_missing panics unless MEDIA_CORE_SKIP_EXTERNAL=1.
        if !Path::new(file).exists() && skip_missing(file) {
            return;
        }
        let v = analyze_json(Path::new(file), true);
        assert!(
            (v["level_dbov"].as_f64().unwrap() - active).abs() < 0.01,
            "{file}: {v}"
        );
        assert!(
            (v["rms_dbov"].as_f64().unwrap() - rms).abs() < 0.01,
            "{file}: {v}"
        );
        assert_eq!(v["dtmf"].as_array().map(Vec::len), Some(0), "{file}");
    }
}

#[test]
fn bad_input_gives_one_line_and_nonzero_exit() {
    let o = mediacore(&["analyze", "--dtmf", "/no/such.wav"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("No such file"), "{err}");
}
