//! iLBC encode and decode per frame (20 ms: 160 samples; 30 ms: 240 samples) on real speech
//! (the female-speaker vector of media-core's iLBC tests), frames taken in turn so that the
//! codec state evolves as in a call.
//!
//! The RFC 3951 reference C code is not vendored (it cannot be committed here), so there is
//! no `c-reference` arm: its figures are measured separately (see the report of issue 8).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use media_core::codec::audio::ilbc::{IlbcDecoder, IlbcEncoder, IlbcMode};
use std::hint::black_box;

static SPEECH: &[u8] = include_bytes!("../../media-core/tests/data/ilbc/allison.pcm");

fn bench(c: &mut Criterion) {
    let pcm: Vec<i16> = SPEECH
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    for mode in [IlbcMode::Ms20, IlbcMode::Ms30] {
        let (n, bytes) = (mode.frame_samples(), mode.frame_bytes());
        let frames: Vec<&[i16]> = pcm.chunks_exact(n).collect();
        let mut enc = IlbcEncoder::new(mode, 1);
        let mut bits = vec![0u8; frames.len() * bytes];
        for (f, o) in frames.iter().zip(bits.chunks_exact_mut(bytes)) {
            let _ = enc.encode_frame(f, o);
        }
        let payloads: Vec<&[u8]> = bits.chunks_exact(bytes).collect();

        let mut g = c.benchmark_group(format!("ilbc_{}ms", mode.frame_ms()));
        g.throughput(Throughput::Elements(n as u64));
        let mut out = [0u8; 50];
        let mut i = 0;
        g.bench_function("ours/encode", |b| {
            b.iter(|| {
                i = (i + 1) % frames.len();
                enc.encode_frame(black_box(frames[i]), &mut out)
            })
        });
        let mut dec = IlbcDecoder::new(mode);
        let mut pcm_out = [0i16; 240];
        let mut i = 0;
        g.bench_function("ours/decode", |b| {
            b.iter(|| {
                i = (i + 1) % payloads.len();
                dec.decode_frame(Some(black_box(payloads[i])), &mut pcm_out[..n])
            })
        });
        g.bench_function("ours/conceal", |b| {
            b.iter(|| dec.decode_frame(None, &mut pcm_out[..n]))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
