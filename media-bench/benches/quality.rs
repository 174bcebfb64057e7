//! The quality path per 10 ms frame: `MediaMetrics::on_frame` (level, clipping, flat tops) at
//! 8 and 48 kHz, `on_packets`, the E-model rating of the window (`snapshot`, once a second in
//! a call), and the adaptation policy per receiver report.

use criterion::{criterion_group, criterion_main, Criterion};
use media_core::quality::adaptation::{AdaptationConfig, AudioAdaptation};
use media_core::quality::estimation::{rate, CodecImpairment, EModelParams};
use media_core::quality::metrics::{MediaMetrics, PacketDelta};
use media_core::signal::speech_like;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn bench(c: &mut Criterion) {
    for rate_hz in [8000u32, 48000] {
        let speech = speech_like(2.0, rate_hz);
        let n = rate_hz as usize / 100;
        let mut m = MediaMetrics::new("opus", rate_hz, 20, 6.5);
        let mut i = 0usize;
        c.bench_function(&format!("quality/on_frame {} kHz", rate_hz / 1000), |b| {
            b.iter(|| {
                let start = (i * n) % (speech.len() - n);
                i += 1;
                m.on_frame(black_box(&speech[start..start + n]));
                m.on_packets(PacketDelta {
                    played: 1,
                    ..PacketDelta::default()
                });
            })
        });
    }
    let mut m = MediaMetrics::new("pcmu", 8000, 20, 0.0);
    let frame = speech_like(0.01, 8000);
    for k in 0..500u64 {
        m.on_frame(&frame);
        m.on_packets(PacketDelta {
            played: u64::from(!k.is_multiple_of(10)),
            lost: u64::from(k.is_multiple_of(10)),
            concealed: u64::from(k.is_multiple_of(10)),
            fec_recovered: 0,
        });
    }
    c.bench_function("quality/snapshot (E-model rating)", |b| {
        b.iter(|| black_box(m.snapshot()))
    });
    let g711 = CodecImpairment::for_codec("pcmu").unwrap_or(CodecImpairment { ie: 0.0, bpl: 25.1 });
    c.bench_function("quality/e-model rate", |b| {
        b.iter(|| black_box(rate(black_box(&EModelParams::voip(g711, 80.0, 3.0, 1.5)))))
    });
    let mut a = AudioAdaptation::new(AdaptationConfig::new(32_000, 20));
    let t0 = Instant::now();
    let mut k = 0u64;
    c.bench_function("quality/adaptation per report", |b| {
        b.iter(|| {
            k += 1;
            let now = t0 + Duration::from_millis(k * 1000);
            a.on_receiver_report(
                now,
                if k.is_multiple_of(3) { 0.1 } else { 0.0 },
                Some(8.0),
                None,
            );
            a.on_bandwidth_estimate(now, 40_000 + (k % 7) * 5_000);
            black_box(a.poll_decision())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
