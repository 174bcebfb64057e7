//! `mediacore call --record-mode`: what the recorder writes (through its lock-free ring and
//! writer thread) is exactly what was sent and heard, with faded edges.

use std::process::Command;

use media_core::processing::format::resampler::resample_all;
use media_core::signal::speech_like;
use media_core::wav::read_wav;
#[path = "common/mediacore.rs"]
mod common;
use common::tmp;

fn call(mode: &str) -> Vec<i16> {
    let out = tmp(&format!("{mode}.wav"));
    let o = Command::new(env!("CARGO_BIN_EXE_mediacore"))
        .args([
            "call",
            "--fast",
            "--duration",
            "2",
            "--loss",
            "5",
            "--seed",
            "3",
            "--json",
            "--record-mode",
            mode,
            "--record",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    if mode != "heard" {
        assert_eq!(v["record_dropped_frames"], 0);
    }
    let w = read_wav(&out).unwrap();
    assert_eq!(w.sample_rate, 8000);
    assert_eq!(w.channels, if mode == "split" { 2 } else { 1 });
    w.samples
}

#[test]
fn split_and_mix_hold_both_directions_with_faded_edges() {
    let heard = call("heard");
    let split = call("split");
    let mix = call("mix");
    let sent = resample_all(&speech_like(10.0, 16000), 16000, 8000, 1).unwrap();
    // 230 frames of 10 ms; the last one is cut after its 5 ms fade-out.
    let n = 229 * 80 + 40;
    assert_eq!(split.len(), 2 * n);
    assert_eq!(mix.len(), n);
    assert_eq!(heard.len(), 230 * 80);
    let (left, right): (Vec<i16>, Vec<i16>) = split.chunks(2).map(|c| (c[0], c[1])).unzip();
    // Between the fades: left is exactly what was sent, right exactly what was heard.
    assert_eq!(&left[40..16000], &sent[40..16000]);
    assert_eq!(&right[40..n - 40], &heard[40..n - 40]);
    for i in 40..n - 40 {
        assert_eq!(mix[i], left[i].saturating_add(right[i]), "sample {i}");
    }
    // The fade-in starts near zero and rises: no click at the start.
    let peak = sent[..200].iter().map(|v| v.unsigned_abs()).max().unwrap();
    assert!(
        peak > 1000,
        "test premise: the input is not silent at the start"
    );
    assert!(left[0].unsigned_abs() <= sent[0].unsigned_abs() / 20 + 1);
    for i in 0..40 {
        assert!(left[i].unsigned_abs() <= sent[i].unsigned_abs());
    }
}
