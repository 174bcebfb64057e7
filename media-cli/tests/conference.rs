//! `mediacore conference` against a reference mix made without media-core's mixer: the inputs
//! are resampled by sox to the mix rate and summed here in plain Rust.
//!
//! Inputs: real speech at 8 kHz (Debian's asterisk-core-sounds), other real speech made
//! 16 kHz by sox, and a 5 kHz tone at 48 kHz. Each `mix-for-K.wav` must match the sum of the
//! other inputs (correlation and SNR), have exactly the expected length, and lack input K (the
//! tone's frequency is absent from `mix-for-3.wav`; `mix-for-1.wav` is far from a mix that
//! includes input 1). With every input at the mix rate, the outputs are bit-identical to the
//! plain integer sum; loud inputs that sum beyond full scale never clip, and the limiter lets
//! go again once the sum fits.

use std::path::{Path, PathBuf};

use media_core::wav::{read_wav, write_wav, WavAudio};
#[path = "common/mediacore.rs"]
mod common;
use common::{has_sox, mediacore, skip_missing, sox, tmp};

const SPEECH_A: &str = "/usr/share/asterisk/sounds/en_US_f_Allison/vm-intro.wav";
const SPEECH_B: &str = "/usr/share/asterisk/sounds/en_US_f_Allison/conf-now-recording.wav";

/// sox and the speech files, or a skip when MEDIA_CORE_SKIP_EXTERNAL=1 (as the other tests).
fn externals() -> bool {
    let ok = has_sox() && Path::new(SPEECH_A).exists() && Path::new(SPEECH_B).exists();
    ok || !skip_missing("sox or asterisk-core-sounds-en-wav")
}

fn write(path: &Path, rate: u32, samples: Vec<i16>) {
    write_wav(
        path,
        &WavAudio {
            sample_rate: rate,
            channels: 1,
            samples,
        },
    )
    .unwrap();
}

fn tone(rate: u32, hz: f64, amp: f64, secs: f64) -> Vec<i16> {
    let n = (rate as f64 * secs) as usize;
    (0..n)
        .map(|i| (amp * (2.0 * std::f64::consts::PI * hz * i as f64 / rate as f64).sin()) as i16)
        .collect()
}

/// Runs the conference; returns the outputs (mix-for-1.., then mix-all) and the JSON report.
fn run(tag: &str, inputs: &[&Path], rate: Option<u32>) -> (Vec<WavAudio>, serde_json::Value) {
    let dir = tmp(tag);
    let mut args: Vec<String> = vec![
        "conference".into(),
        "--json".into(),
        "--out-dir".into(),
        dir.to_str().unwrap().into(),
    ];
    if let Some(r) = rate {
        args.extend(["--rate".into(), r.to_string()]);
    }
    args.extend(inputs.iter().map(|p| p.to_str().unwrap().to_string()));
    let o = mediacore(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut outs: Vec<WavAudio> = (1..=inputs.len())
        .map(|k| read_wav(dir.join(format!("mix-for-{k}.wav"))).unwrap())
        .collect();
    outs.push(read_wav(dir.join("mix-all.wav")).unwrap());
    (outs, report)
}

/// The input resampled by sox (its default, high-quality linear-phase `rate`) to `rate`.
fn sox_at(input: &Path, rate: u32, tag: &str) -> Vec<i16> {
    let out = tmp(&format!("ref-{tag}-{rate}.wav"));
    sox(&[
        input.to_str().unwrap(),
        "-r",
        &rate.to_string(),
        out.to_str().unwrap(),
    ]);
    read_wav(&out).unwrap().samples
}

fn sum(refs: &[&Vec<i16>], len: usize) -> Vec<f64> {
    (0..len)
        .map(|i| {
            refs.iter()
                .map(|r| f64::from(r.get(i).copied().unwrap_or(0)))
                .sum()
        })
        .collect()
}

/// Correlation and SNR (dB) of `x` against the reference `r`.
fn compare(x: &[i16], r: &[f64]) -> (f64, f64) {
    let n = x.len().min(r.len());
    let (mut xy, mut xx, mut rr, mut ee) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..n {
        let a = f64::from(x[i]);
        xy += a * r[i];
        xx += a * a;
        rr += r[i] * r[i];
        ee += (a - r[i]).powi(2);
    }
    (xy / (xx * rr).sqrt(), 10.0 * (rr / ee).log10())
}

/// Power of `x` at `hz` (Goertzel over the whole signal), relative to full scale.
fn power_at(x: &[i16], rate: u32, hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / f64::from(rate);
    let c = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &v in x {
        let s0 = f64::from(v) / 32768.0 + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let p = s1 * s1 + s2 * s2 - c * s1 * s2;
    10.0 * (p / (x.len() as f64).powi(2) + 1e-30).log10()
}

#[test]
fn mixes_match_an_independent_reference_at_mixed_rates() {
    if !externals() {
        return;
    }
    let a = Path::new(SPEECH_A).to_path_buf(); // 8 kHz, 5.65 s
    let b = tmp("speech-16k.wav");
    sox(&[SPEECH_B, "-r", "16000", b.to_str().unwrap()]); // 16 kHz, 2.3 s
    let c = tmp("tone-48k.wav");
    write(&c, 48000, tone(48000, 5000.0, 2000.0, 3.0));
    let inputs = [a.as_path(), b.as_path(), c.as_path()];
    let (outs, report) = run("mixed", &inputs, None);
    // Default rate: the highest input's.
    assert_eq!(report["rate"], 48000);
    let rate = 48000;
    let a_len = read_wav(&a).unwrap().samples.len();
    let expected_len = (a_len * 6).max(3 * 48000); // round(len * 48000 / 8000)
    for o in &outs {
        assert_eq!(o.sample_rate, rate);
        assert_eq!(o.channels, 1);
        assert_eq!(o.samples.len(), expected_len, "exact length");
    }
    let refs: Vec<Vec<i16>> = inputs
        .iter()
        .enumerate()
        .map(|(k, p)| sox_at(p, rate, &k.to_string()))
        .collect();
    let all: Vec<&Vec<i16>> = refs.iter().collect();
    let ref_all = sum(&all, expected_len);
    // The premise of the comparison: no mix reaches full scale (the limiter stays off).
    assert!(
        ref_all.iter().all(|v| v.abs() < 32000.0),
        "test premise: no overload"
    );
    for k in 0..inputs.len() {
        let others: Vec<&Vec<i16>> = refs
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != k)
            .map(|(_, r)| r)
            .collect();
        let ref_k = sum(&others, expected_len);
        let (corr, snr) = compare(&outs[k].samples, &ref_k);
        eprintln!("mix-for-{}: correlation {corr:.6}, SNR {snr:.1} dB", k + 1);
        // Two independent high-quality resamplers (ours: 100 dB Kaiser, passband flat to 0.45
        // of the lower rate; sox -h) differ mainly near the band edge, where speech has little
        // energy: 40 dB leaves margin under what was measured (see README).
        assert!(corr > 0.99, "mix-for-{}: correlation {corr}", k + 1);
        assert!(snr > 40.0, "mix-for-{}: SNR {snr} dB", k + 1);
        // What participant K hears differs from the mix of everyone by exactly input K: the
        // energy of (mix-for-K - everyone) is the energy of input K (within 0.5 dB).
        let missing: f64 = outs[k]
            .samples
            .iter()
            .zip(&ref_all)
            .map(|(&o, &r)| (f64::from(o) - r).powi(2))
            .sum();
        let own: f64 = refs[k].iter().map(|&v| f64::from(v).powi(2)).sum();
        let db = 10.0 * (missing / own).log10();
        assert!(
            db.abs() < 0.5,
            "mix-for-{}: missing {db:.2} dB vs input {}",
            k + 1,
            k + 1
        );
    }
    let (corr, snr) = compare(&outs[3].samples, &ref_all);
    eprintln!("mix-all: correlation {corr:.6}, SNR {snr:.1} dB");
    assert!(corr > 0.99 && snr > 40.0);
    // The 5 kHz tone (input 3) is in every mix but its own.
    let with_tone = power_at(&outs[0].samples, rate, 5000.0);
    let without = power_at(&outs[2].samples, rate, 5000.0);
    eprintln!("5 kHz: {with_tone:.1} dB in mix-for-1, {without:.1} dB in mix-for-3");
    assert!(with_tone - without > 60.0, "{with_tone} vs {without}");
    assert_eq!(report["limited_frames"], 0);
}

#[test]
fn same_rate_inputs_are_the_exact_sum_and_overload_never_clips() {
    if !externals() {
        return;
    }
    // Three 16 kHz inputs: no resampling, so the mix must be the plain integer sum.
    let a = sox_at(Path::new(SPEECH_A), 16000, "a16");
    let b = sox_at(Path::new(SPEECH_B), 16000, "b16");
    let c = tone(16000, 700.0, 3000.0, 4.0);
    let paths: Vec<PathBuf> = [("a", &a), ("b", &b), ("c", &c)]
        .iter()
        .map(|(n, x)| {
            let p = tmp(&format!("exact-{n}.wav"));
            write(&p, 16000, (*x).clone());
            p
        })
        .collect();
    let inputs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let (outs, report) = run("exact", &inputs, Some(16000));
    let xs = [&a, &b, &c];
    let len = xs.iter().map(|x| x.len()).max().unwrap();
    for (k, o) in outs.iter().enumerate() {
        assert_eq!(o.samples.len(), len);
        for i in 0..len {
            let want: i32 = xs
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .map(|(_, x)| i32::from(x.get(i).copied().unwrap_or(0)))
                .sum();
            assert!(want.abs() < 32767, "test premise: no overload");
            assert_eq!(i32::from(o.samples[i]), want, "output {k} sample {i}");
        }
    }
    assert_eq!(report["limited_frames"], 0);

    // Overload: three loud inputs (peaks near full scale) for 2 s, then 2 s at a tenth.
    let loud = |x: &[i16], g: f64| -> Vec<i16> {
        let peak = x.iter().map(|v| i32::from(*v).abs()).max().unwrap() as f64;
        (0..64000)
            .map(|i| {
                let s = f64::from(x[i % x.len()]) * 32000.0 / peak;
                (if i < 32000 { s } else { s * g }) as i16
            })
            .collect()
    };
    let t = tone(16000, 300.0, 30000.0, 4.0);
    let ys = [loud(&a, 0.1), loud(&b, 0.1), loud(&t, 0.1)];
    let paths: Vec<PathBuf> = ys
        .iter()
        .enumerate()
        .map(|(k, x)| {
            let p = tmp(&format!("loud-{k}.wav"));
            write(&p, 16000, x.clone());
            p
        })
        .collect();
    let inputs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let (outs, report) = run("loud", &inputs, Some(16000));
    assert!(report["limited_frames"].as_u64().unwrap() > 0);
    for (k, o) in outs.iter().enumerate() {
        let plain: Vec<i32> = (0..64000)
            .map(|i| {
                ys.iter()
                    .enumerate()
                    .filter(|(j, _)| *j != k || k == 3)
                    .map(|(_, x)| i32::from(x[i]))
                    .sum()
            })
            .collect();
        assert!(
            plain.iter().any(|v| v.abs() > 40000),
            "test premise: overload"
        );
        let peak = o.samples.iter().map(|v| i32::from(*v).abs()).max().unwrap();
        assert!(peak < 32767, "output {k} clips: peak {peak}");
        // Limited, the mix keeps its shape (a gain, not distortion).
        let r: Vec<f64> = plain.iter().map(|&v| f64::from(v)).collect();
        let (corr, _) = compare(&o.samples[..32000], &r[..32000]);
        assert!(corr > 0.97, "output {k}: correlation while limiting {corr}");
        // Once the sum fits again and the gain has recovered, the output is exact again.
        let tail: Vec<i32> = o.samples[48000..].iter().map(|&v| i32::from(v)).collect();
        assert_eq!(
            tail,
            plain[48000..],
            "output {k}: not exact after the release"
        );
    }
}
