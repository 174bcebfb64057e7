//! DTMF detection time per 20 ms frame at 8 kHz, ours and spandsp's `dtmf_rx` interleaved:
//! each pass runs the whole signal through a fresh detector of each kind, and the minimum
//! over the passes is reported, which a shared, loaded machine disturbs far less than
//! criterion's mean. `cargo run --release -p media-bench --features c-reference --example
//! dtmf_speed`.

use media_bench::cref::spandsp::DtmfRx;
use media_bench::dtmf::{load_speech, render, Burst, Ours, DIGITS};
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let (clips, minutes) = load_speech(1.0);
    let speech = if minutes >= 1.0 {
        clips.concat()
    } else {
        media_core::signal::speech_like(60.0, 8000)
    };
    let bursts: Vec<Burst> = DIGITS
        .chars()
        .cycle()
        .take(64)
        .map(|c| Burst::digit(c, -10.0, 100.0, 100.0))
        .collect();
    let digits = render(&bursts, 8000, None, 1);
    for (name, pcm) in [("speech", &speech), ("digits", &digits)] {
        let frames: Vec<&[i16]> = pcm.chunks_exact(160).collect();
        let (mut ours_ns, mut theirs_ns) = (f64::MAX, f64::MAX);
        for _ in 0..15 {
            let mut ours = Ours::new(8000);
            let t = Instant::now();
            for f in &frames {
                let d = ours.inner();
                d.process_i16(black_box(f));
                while let Some(x) = d.poll() {
                    black_box(x);
                }
            }
            ours_ns = ours_ns.min(t.elapsed().as_nanos() as f64 / frames.len() as f64);
            let Some(mut rx) = DtmfRx::new() else {
                eprintln!("spandsp dtmf_rx_init failed");
                return;
            };
            let t = Instant::now();
            for f in &frames {
                rx.process(black_box(f));
                black_box(rx.take_digits());
            }
            theirs_ns = theirs_ns.min(t.elapsed().as_nanos() as f64 / frames.len() as f64);
        }
        println!(
            "{name:>6}: ours {ours_ns:.0} ns per 20 ms frame, spandsp {theirs_ns:.0} ns ({} frames, min of 15)",
            frames.len()
        );
    }
}
