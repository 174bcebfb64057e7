//! DTMF detection per 20 ms frame (160 samples at 8 kHz), ours beside spandsp's `dtmf_rx` with
//! `c-reference`. Two signals, each cut into 20 ms frames that the iterations walk through in
//! turn: recorded speech (Debian's Allison prompts when installed, else the built-in
//! speech-like signal), the talk-off case where a detector mostly rejects; and DTMF digits
//! (100 ms on, 100 ms off at -10 dBm0 per tone), where it mostly detects.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use media_bench::dtmf::{load_speech, render, Burst, Ours, DIGITS};
use std::hint::black_box;

fn signals() -> Vec<(&'static str, Vec<i16>)> {
    let (clips, minutes) = load_speech(0.5);
    let speech = if minutes >= 0.5 {
        clips.concat()
    } else {
        media_core::signal::speech_like(30.0, 8000)
    };
    let bursts: Vec<Burst> = DIGITS
        .chars()
        .map(|c| Burst::digit(c, -10.0, 100.0, 100.0))
        .collect();
    let digits = render(&bursts, 8000, None, 1);
    vec![("speech", speech), ("digits", digits)]
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("dtmf_20ms");
    g.throughput(Throughput::Elements(160));
    for (name, pcm) in signals() {
        let frames: Vec<&[i16]> = pcm.chunks_exact(160).collect();
        let mut ours = Ours::new(8000);
        let mut i = 0;
        g.bench_function(format!("ours/{name}"), |b| {
            b.iter(|| {
                let d = ours.inner();
                d.process_i16(black_box(frames[i]));
                while let Some(x) = d.poll() {
                    black_box(x);
                }
                i = (i + 1) % frames.len();
            })
        });
        #[cfg(feature = "c-reference")]
        {
            use media_bench::cref::spandsp::DtmfRx;
            if let Some(mut rx) = DtmfRx::new() {
                let mut i = 0;
                g.bench_function(format!("spandsp/{name}"), |b| {
                    b.iter(|| {
                        rx.process(black_box(frames[i]));
                        black_box(rx.take_digits());
                        i = (i + 1) % frames.len();
                    })
                });
            }
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
