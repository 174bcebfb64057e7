//! G.722 encode and decode per 20 ms frame (320 samples at 16 kHz), beside spandsp with
//! `c-reference`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use media_bench::signal::speechlike;
use media_core::codec::audio::g722::{G722Decoder, G722Encoder, Mode};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let pcm = speechlike(320, 16000);
    let mut codes = vec![0u8; 160];
    let mut out = vec![0i16; 320];
    let mut enc = G722Encoder::default();
    let mut dec = G722Decoder::new(Mode::Kbps64);
    enc.encode(&pcm, &mut codes).unwrap();

    let mut g = c.benchmark_group("g722_20ms");
    g.throughput(Throughput::Elements(320));
    g.bench_function("ours/encode", |b| {
        b.iter(|| enc.encode(black_box(&pcm), &mut codes).unwrap())
    });
    g.bench_function("ours/decode", |b| {
        b.iter(|| dec.decode(black_box(&codes), &mut out).unwrap())
    });

    #[cfg(feature = "c-reference")]
    {
        use media_bench::cref::spandsp;
        if let (Some(mut enc), Some(mut dec)) = (
            spandsp::G722Encoder::new(64000),
            spandsp::G722Decoder::new(64000),
        ) {
            g.bench_function("spandsp/encode", |b| {
                b.iter(|| enc.encode(black_box(&pcm), &mut codes))
            });
            g.bench_function("spandsp/decode", |b| {
                b.iter(|| dec.decode(black_box(&codes), &mut out))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
