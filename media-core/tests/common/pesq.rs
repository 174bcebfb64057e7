//! PESQ through the project's Python judge (`scripts/pesq_pairs.py` run by `.venv/bin/python`
//! at the workspace root, as scripts/setup.sh makes it). Shared by media-core's and
//! media-bench's echo-canceller tests (media-bench includes this file by path).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (the parent of the crate that includes this file).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The judge's interpreter, or `None` when it is missing and `MEDIA_CORE_SKIP_EXTERNAL` is set
/// (the test should then return early). Panics with a clear message when it is missing
/// otherwise: CI always has it.
pub fn python() -> Option<PathBuf> {
    let python = workspace_root().join(".venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    if std::env::var_os("MEDIA_CORE_SKIP_EXTERNAL").is_some() {
        return None;
    }
    panic!(
        "{} missing: run scripts/setup.sh (or set MEDIA_CORE_SKIP_EXTERNAL=1 to skip PESQ tests)",
        python.display()
    );
}

fn write_i16(path: &Path, rate: u32, samples: &[i16]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for &s in samples {
        w.write_sample(s).expect("write wav");
    }
    w.finalize().expect("finish wav");
}

/// PESQ (wideband at 16 kHz, narrowband at 8 kHz) of each (reference, degraded) pair of f32
/// signals, in one run of the judge. NaN where PESQ could not score a pair.
pub fn pesq_pairs(python: &Path, rate: u32, pairs: &[(&[f32], &[f32])]) -> Vec<f64> {
    let dir = std::env::temp_dir().join(format!(
        "media-core-pesq-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut args = vec![rate.to_string()];
    for (i, (r, d)) in pairs.iter().enumerate() {
        let rp = dir.join(format!("ref{i}.wav"));
        let dp = dir.join(format!("deg{i}.wav"));
        write_i16(&rp, rate, &to_i16(r));
        write_i16(&dp, rate, &to_i16(d));
        args.push(rp.display().to_string());
        args.push(dp.display().to_string());
    }
    let out = Command::new(python)
        .arg(workspace_root().join("scripts/pesq_pairs.py"))
        .args(&args)
        .output()
        .expect("run scripts/pesq_pairs.py");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "pesq_pairs.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let scores: Vec<f64> = text
        .lines()
        .map(|l| l.trim().parse().unwrap_or(f64::NAN))
        .collect();
    assert_eq!(scores.len(), pairs.len(), "pesq output: {text}");
    scores
}

fn to_i16(x: &[f32]) -> Vec<i16> {
    x.iter()
        .map(|&v| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}
