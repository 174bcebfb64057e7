//! G.711 encode and decode per 20 ms frame (160 samples), beside spandsp with `c-reference`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use media_bench::signal::speechlike;
use media_core::codec::audio::g711;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let pcm = speechlike(160, 8000);
    let mut codes = vec![0u8; 160];
    let mut out = vec![0i16; 160];
    g711::encode_ulaw(&pcm, &mut codes);

    let mut g = c.benchmark_group("g711_20ms");
    g.throughput(Throughput::Elements(160));
    g.bench_function("ours/ulaw_encode", |b| {
        b.iter(|| g711::encode_ulaw(black_box(&pcm), &mut codes))
    });
    g.bench_function("ours/ulaw_decode", |b| {
        b.iter(|| g711::decode_ulaw(black_box(&codes), &mut out))
    });
    g.bench_function("ours/alaw_encode", |b| {
        b.iter(|| g711::encode_alaw(black_box(&pcm), &mut codes))
    });
    g.bench_function("ours/alaw_decode", |b| {
        b.iter(|| g711::decode_alaw(black_box(&codes), &mut out))
    });

    #[cfg(feature = "c-reference")]
    {
        use media_bench::cref::spandsp::{G711Mode, G711};
        for (name, mode) in [("ulaw", G711Mode::Ulaw), ("alaw", G711Mode::Alaw)] {
            let Some(mut s) = G711::new(mode) else {
                continue;
            };
            g.bench_function(format!("spandsp/{name}_encode"), |b| {
                b.iter(|| s.encode(black_box(&pcm), &mut codes))
            });
            g.bench_function(format!("spandsp/{name}_decode"), |b| {
                b.iter(|| s.decode(black_box(&codes), &mut out))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
