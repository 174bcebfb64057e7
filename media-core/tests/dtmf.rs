//! The DTMF detector against ITU-T Q.24, and the generator against the detector: every digit
//! at 8, 16 and 48 kHz with its timing; the acceptance table (frequency deviation, twist,
//! duration, pause, level, noise); and talk-off on at least ten minutes of recorded speech.
//!
//! Test tones here are plain sines switched hard on and off with a random phase (the harsher
//! case), not the generator's ramped ones, except where the generator itself is under test.

use media_core::processing::audio::dtmf::{
    dbm0_to_peak, digit_frequencies, DetectorConfig, DtmfDetection, DtmfDetector, DtmfGenerator,
    GeneratorConfig,
};
use media_core::signal::SplitMix64;
use media_core::SampleRate;
use std::path::{Path, PathBuf};

const DIGITS: &str = "123A456B789C*0#D";

/// Two tones: (low Hz, high Hz, low dBm0, high dBm0, on ms, off ms).
type Burst = (f64, f64, f64, f64, f64, f64);

fn burst(digit: char, dbm0: f64, on: f64, off: f64) -> Burst {
    let (l, h) = digit_frequencies(digit).unwrap_or((0.0, 0.0));
    (l, h, dbm0, dbm0, on, off)
}

/// Bursts after 100 ms of silence, each with random phases and a random 0-7 ms extra pause
/// when the pause is 60 ms or more; white Gaussian noise of total power `noise_dbm0`.
fn render(bursts: &[Burst], rate: u32, noise_dbm0: Option<f64>, seed: u64) -> Vec<i16> {
    let fs = f64::from(rate);
    let mut rng = SplitMix64(seed);
    let ms: f64 = bursts.iter().map(|b| b.4 + b.5 + 7.0).sum::<f64>() + 200.0;
    let mut x = vec![0f64; (ms / 1000.0 * fs) as usize];
    let mut at = 0.1 * fs;
    for &(fl, fh, ll, lh, on, off) in bursts {
        let (pl, ph) = (
            rng.unit() * std::f64::consts::TAU,
            rng.unit() * std::f64::consts::TAU,
        );
        let start = at as usize;
        let end = (start + (on / 1000.0 * fs) as usize).min(x.len());
        for (i, v) in x[start..end].iter_mut().enumerate() {
            let t = i as f64 / fs;
            *v = dbm0_to_peak(ll) * (std::f64::consts::TAU * fl * t + pl).sin()
                + dbm0_to_peak(lh) * (std::f64::consts::TAU * fh * t + ph).sin();
        }
        at += (on + off) / 1000.0 * fs;
        if off >= 60.0 {
            at += rng.unit() * 0.007 * fs;
        }
    }
    if let Some(db) = noise_dbm0 {
        let sigma = 10f64.powf((db - 6.18) / 20.0);
        for v in x.iter_mut() {
            let (u1, u2) = (rng.unit().max(1e-300), rng.unit());
            *v += sigma * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        }
    }
    x.iter()
        .map(|v| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

/// Runs `pcm` through a fresh detector in 10 ms frames, polling as a caller would.
fn detect(pcm: &[i16], rate: u32) -> Vec<DtmfDetection> {
    let mut det = DtmfDetector::new(DetectorConfig::at_rate(SampleRate(rate))).unwrap();
    let mut out = Vec::new();
    for f in pcm.chunks(rate as usize / 100) {
        det.process_i16(f);
        while let Some(d) = det.poll() {
            out.push(d);
        }
    }
    det.process_i16(&vec![0; rate as usize / 10]);
    det.flush();
    while let Some(d) = det.poll() {
        out.push(d);
    }
    out
}

fn digits(d: &[DtmfDetection]) -> String {
    d.iter().map(|d| d.digit).collect()
}

#[test]
fn every_digit_at_8_16_and_48_khz_with_its_timing() {
    for rate in [8000, 16000, 48000] {
        let mut gen = DtmfGenerator::new(GeneratorConfig::at_rate(SampleRate(rate))).unwrap();
        gen.push_str(DIGITS).unwrap();
        let mut pcm = vec![0i16; rate as usize * 33 / 10];
        gen.fill_i16(&mut pcm);
        let found = detect(&pcm, rate);
        assert_eq!(digits(&found), DIGITS, "{rate} Hz");
        for (i, d) in found.iter().enumerate() {
            // Digit i sounds from 200 i ms for 100 ms.
            let start_err = d.start_ms() - 200.0 * i as f64;
            let dur_err = d.duration_ms() - 100.0;
            assert!(
                start_err.abs() <= 3.0,
                "{rate} Hz {}: start off by {start_err} ms",
                d.digit
            );
            assert!(
                dur_err.abs() <= 5.0,
                "{rate} Hz {}: duration off by {dur_err} ms",
                d.digit
            );
            assert!(
                (d.low_dbm0 + 10.0).abs() < 0.5 && (d.high_dbm0 + 8.0).abs() < 0.5,
                "{d:?}"
            );
        }
    }
}

#[test]
fn f32_frames_at_48_khz() {
    let rate = SampleRate::HZ_48000;
    let mut gen = DtmfGenerator::new(GeneratorConfig::at_rate(rate)).unwrap();
    gen.push_str("*#0").unwrap();
    let mut det = DtmfDetector::new(DetectorConfig::at_rate(rate)).unwrap();
    let mut frame = vec![0f32; 480];
    let mut got = String::new();
    for _ in 0..80 {
        gen.fill_f32(&mut frame);
        det.process_f32(&frame);
        while let Some(d) = det.poll() {
            got.push(d.digit);
        }
    }
    assert_eq!(got, "*#0");
}

/// How many bursts gave their digit: per digit, in order.
fn accepted(bursts: &[Burst], expected: &str, rate: u32, noise: Option<f64>, seed: u64) -> usize {
    let found = digits(&detect(&render(bursts, rate, noise, seed), rate));
    // Longest common subsequence: a missed or an extra digit costs only itself.
    let (e, f): (Vec<char>, Vec<char>) = (expected.chars().collect(), found.chars().collect());
    let mut prev = vec![0usize; f.len() + 1];
    for &c in &e {
        let mut cur = vec![0usize; f.len() + 1];
        for (j, &d) in f.iter().enumerate() {
            cur[j + 1] = if c == d {
                prev[j] + 1
            } else {
                cur[j].max(prev[j + 1])
            };
        }
        prev = cur;
    }
    prev[f.len()]
}

fn count(bursts: &[Burst], rate: u32, noise: Option<f64>, seed: u64) -> usize {
    detect(&render(bursts, rate, noise, seed), rate).len()
}

#[test]
fn q24_frequency_deviation_all_frequencies_both_signs() {
    let freqs = [697.0, 770.0, 852.0, 941.0, 1209.0, 1336.0, 1477.0, 1633.0];
    for (rate, reps) in [(8000, 2), (16000, 1), (48000, 1)] {
        for f in freqs {
            for dev in [-3.5, -1.5, 1.5, 3.5] {
                let mut bursts = Vec::new();
                let mut expected = String::new();
                for _ in 0..reps {
                    for c in DIGITS.chars() {
                        let mut b = burst(c, -10.0, 60.0, 60.0);
                        if b.0 == f {
                            b.0 *= 1.0 + dev / 100.0;
                        } else if b.1 == f {
                            b.1 *= 1.0 + dev / 100.0;
                        } else {
                            continue;
                        }
                        bursts.push(b);
                        expected.push(c);
                    }
                }
                let seed = f as u64 + (dev * 10.0) as u64;
                if dev.abs() < 2.0 {
                    let got = accepted(&bursts, &expected, rate, None, seed);
                    assert_eq!(
                        got,
                        bursts.len(),
                        "{rate} Hz: {f} Hz {dev:+}% must be accepted"
                    );
                } else {
                    let got = count(&bursts, rate, None, seed);
                    assert_eq!(got, 0, "{rate} Hz: {f} Hz {dev:+}% must be rejected");
                }
            }
        }
    }
}

fn all_digits(reps: usize, f: impl Fn(char) -> Burst) -> (Vec<Burst>, String) {
    let mut b = Vec::new();
    let mut d = String::new();
    for _ in 0..reps {
        for c in DIGITS.chars() {
            b.push(f(c));
            d.push(c);
        }
    }
    (b, d)
}

#[test]
fn q24_twist_accepts_4_reverse_and_8_normal_rejects_beyond() {
    // Twist = high-tone level minus low-tone level, around -10 dBm0.
    for (twist, accept) in [(4.0, true), (-8.0, true), (5.0, false), (-9.0, false)] {
        let (b, d) = all_digits(2, |c| {
            let mut b = burst(c, -10.0, 60.0, 60.0);
            b.2 = -10.0 - twist / 2.0;
            b.3 = -10.0 + twist / 2.0;
            b
        });
        if accept {
            assert_eq!(accepted(&b, &d, 8000, None, 7), b.len(), "twist {twist:+}");
        } else {
            assert_eq!(count(&b, 8000, None, 7), 0, "twist {twist:+}");
        }
    }
}

#[test]
fn q24_duration_40_ms_accepted_20_ms_rejected() {
    let (b, d) = all_digits(3, |c| burst(c, -10.0, 40.0, 100.0));
    assert_eq!(accepted(&b, &d, 8000, None, 1), b.len());
    let (b, _) = all_digits(3, |c| burst(c, -10.0, 20.0, 100.0));
    assert_eq!(count(&b, 8000, None, 2), 0);
    // The same at 48 kHz.
    let (b, d) = all_digits(1, |c| burst(c, -10.0, 40.0, 100.0));
    assert_eq!(accepted(&b, &d, 48000, None, 3), b.len());
    let (b, _) = all_digits(1, |c| burst(c, -10.0, 20.0, 100.0));
    assert_eq!(count(&b, 48000, None, 4), 0);
}

#[test]
fn q24_pause_of_40_ms_separates_identical_digits_10_ms_break_does_not() {
    let mut b = Vec::new();
    let mut d = String::new();
    for _ in 0..2 {
        for c in DIGITS.chars() {
            b.push(burst(c, -10.0, 50.0, 40.0));
            b.push(burst(c, -10.0, 50.0, 100.0));
            d.push(c);
            d.push(c);
        }
    }
    assert_eq!(accepted(&b, &d, 8000, None, 5), b.len());
    // A 10 ms interruption inside a digit is bridged: one digit, not two.
    let mut b = Vec::new();
    for c in DIGITS.chars() {
        b.push(burst(c, -10.0, 60.0, 10.0));
        b.push(burst(c, -10.0, 60.0, 100.0));
    }
    let found = digits(&detect(&render(&b, 8000, None, 6), 8000));
    assert_eq!(found, DIGITS);
}

#[test]
fn q24_levels_from_minus_3_to_minus_30_dbm0_and_below() {
    for db in [-3.0, -6.0, -10.0, -15.0, -20.0, -25.0, -30.0, -36.0, -40.0] {
        let (b, d) = all_digits(1, |c| burst(c, db, 60.0, 60.0));
        assert_eq!(accepted(&b, &d, 8000, None, 9), b.len(), "{db} dBm0");
    }
    // Below the default threshold (-42 dBm0 per tone) nothing.
    let (b, _) = all_digits(1, |c| burst(c, -45.0, 60.0, 60.0));
    assert_eq!(count(&b, 8000, None, 10), 0);
}

#[test]
fn noise_immunity() {
    // Tones at -10 dBm0 each (the pair at -7 dBm0) in white Gaussian noise over the whole
    // band, 10 dB below the pair (SNR 10 dB; every digit is still found at 6 dB, see the
    // comparison with spandsp in media-bench): every digit, nothing else.
    let (b, d) = all_digits(2, |c| burst(c, -10.0, 60.0, 60.0));
    let found = detect(&render(&b, 8000, Some(-17.0), 11), 8000);
    assert_eq!(digits(&found), d);
    // Noise alone, loud and soft: no digit in 2 minutes each.
    for db in [-10.0, -30.0, -50.0] {
        let quiet = [(0.0, 0.0, -90.0, -90.0, 1.0, 60_000.0)];
        assert_eq!(count(&quiet, 8000, Some(db), 12), 0, "noise at {db} dBm0");
    }
}

/// Debian's recorded speech: the Allison prompts (8 kHz) and codec2's examples.
fn speech_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "wav") {
                out.push(p);
            }
        }
    }
    let mut v = Vec::new();
    for dir in [
        "/usr/share/asterisk/sounds/en_US_f_Allison",
        "/usr/share/codec2/wav",
    ] {
        walk(Path::new(dir), &mut v);
    }
    v.sort();
    v
}

#[test]
fn talk_off_no_digit_in_ten_minutes_of_speech() {
    let files = speech_files();
    if files.is_empty() {
        if std::env::var("MEDIA_CORE_SKIP_EXTERNAL").is_ok_and(|v| v == "1") {
            eprintln!("talk-off skipped: no recorded speech and MEDIA_CORE_SKIP_EXTERNAL is set");
            return;
        }
        panic!(
            "talk-off needs recorded speech: install asterisk-core-sounds-en-wav and \
             codec2-examples (scripts/setup.sh), or set MEDIA_CORE_SKIP_EXTERNAL=1"
        );
    }
    // One continuous stream through one detector, file after file, at each file's rate.
    let mut det = DtmfDetector::new(DetectorConfig::default()).unwrap();
    let mut seconds = 0.0;
    let mut false_digits = Vec::new();
    for p in &files {
        let Ok(w) = media_core::wav::read_wav(p) else {
            continue;
        };
        if w.sample_rate != 8000 || w.channels != 1 {
            continue;
        }
        for f in w.samples.chunks(80) {
            det.process_i16(f);
            while let Some(d) = det.poll() {
                false_digits.push((d.digit, p.display().to_string()));
            }
        }
        seconds += w.samples.len() as f64 / 8000.0;
        if seconds >= 12.0 * 60.0 {
            break;
        }
    }
    det.flush();
    while let Some(d) = det.poll() {
        false_digits.push((d.digit, "end".into()));
    }
    assert!(seconds >= 600.0, "only {seconds:.0} s of speech found");
    assert!(false_digits.is_empty(), "talk-off: {false_digits:?}");
    eprintln!(
        "talk-off: {:.1} min of speech, {} windows, {} fully tested, {} single-window hits, no digit",
        seconds / 60.0,
        det.stats().windows,
        det.stats().full_tests,
        det.stats().hits
    );
}
