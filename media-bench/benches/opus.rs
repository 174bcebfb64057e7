//! Opus encode and decode per 20 ms frame at 48 kHz mono, 24 kbit/s: our wrapper
//! (`media_core::codec::audio::opus`, called through the `AudioEncoder`/`AudioDecoder` trait
//! objects the registry hands out) beside the `opus` crate called directly on the same
//! libopus with the same settings, in one run. The wrapper's overhead target is 3 %. Ours is
//! compared at decoder complexity 0 (libopus's default, what the `opus` crate runs); then ours
//! at 0 (classic PLC), 5 (deep PLC) and 7 (our default: deep PLC and NoLACE) decodes a packet,
//! and decodes a packet then conceals the next frame (the concealment's cost is the difference).
//!
//! `cargo bench -p media-bench --features opus --bench opus -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use media_bench::signal::speechlike;
use media_core::codec::audio::opus::{
    OpusDecoder, OpusDecoderConfig, OpusEncoder, OpusEncoderConfig,
};
use media_core::codec::{AudioDecoder, AudioEncoder};
use std::hint::black_box;
use std::time::Instant;

const RATE: u32 = 48000;
const FRAME: usize = 960;
const BITRATE: u32 = 24000;
/// One second of distinct frames, cycled, so the encoder sees a changing signal.
const FRAMES: usize = 50;

fn bench(c: &mut Criterion) {
    let pcm = speechlike(FRAME * FRAMES, RATE);
    let frames: Vec<&[i16]> = pcm.chunks_exact(FRAME).collect();

    // Ours: defaults are VoIP, constrained VBR, complexity 9, in-band FEC on (0 % loss), no
    // DTX, signal auto, fullband.
    let config = OpusEncoderConfig {
        bitrate: BITRATE,
        ..Default::default()
    };
    let mut ours_enc: Box<dyn AudioEncoder> = Box::new(OpusEncoder::new(config).unwrap());
    let dec_at = |complexity| -> Box<dyn AudioDecoder> {
        Box::new(
            OpusDecoder::new(OpusDecoderConfig {
                complexity,
                ..Default::default()
            })
            .unwrap(),
        )
    };
    let mut ours_dec = dec_at(0);

    // Direct: the same settings through the opus crate.
    let mut direct_enc =
        opus::Encoder::new(RATE, opus::Channels::Mono, opus::Application::Voip).unwrap();
    direct_enc
        .set_bitrate(opus::Bitrate::Bits(BITRATE as i32))
        .unwrap();
    direct_enc.set_vbr(true).unwrap();
    direct_enc.set_vbr_constraint(true).unwrap();
    direct_enc.set_complexity(9).unwrap();
    direct_enc.set_inband_fec(true).unwrap();
    direct_enc.set_packet_loss_perc(0).unwrap();
    direct_enc.set_dtx(false).unwrap();
    direct_enc.set_signal(opus::Signal::Auto).unwrap();
    direct_enc
        .set_max_bandwidth(opus::Bandwidth::Fullband)
        .unwrap();
    let mut direct_dec = opus::Decoder::new(RATE, opus::Channels::Mono).unwrap();

    // The packets both decoders decode, and a check the encoders agree byte for byte.
    let mut buf = vec![0u8; ours_enc.max_payload_bytes()];
    let mut buf2 = vec![0u8; ours_enc.max_payload_bytes()];
    let packets: Vec<Vec<u8>> = frames
        .iter()
        .map(|f| {
            let n = ours_enc.encode(f, &mut buf).unwrap();
            let m = direct_enc.encode(f, &mut buf2).unwrap();
            assert_eq!(buf[..n], buf2[..m], "wrapper and direct encoders differ");
            buf[..n].to_vec()
        })
        .collect();
    let bytes: usize = packets.iter().map(Vec::len).sum();
    eprintln!(
        "opus 48 kHz mono 20 ms: {:.1} kbit/s over {FRAMES} frames",
        bytes as f64 * 8.0 / (FRAMES as f64 * 0.02) / 1000.0
    );

    let mut out = vec![0i16; ours_dec.max_frame_samples()];
    let mut out2 = vec![0i16; ours_dec.max_frame_samples()];

    // Interleaved A/B: on a shared machine, load drifts between criterion's sequential
    // measurements by more than the 3 % we look for, so also time ours and direct in
    // alternating one-second blocks (alternating which goes first) and take the median ratio.
    {
        let mut enc_a = || {
            for f in &frames {
                black_box(ours_enc.encode(black_box(f), &mut buf).unwrap());
            }
        };
        let mut enc_b = || {
            for f in &frames {
                black_box(direct_enc.encode(black_box(f), &mut buf2).unwrap());
            }
        };
        interleaved("encode", 120, &mut enc_a, &mut enc_b);
        let mut dec_a = || {
            for p in &packets {
                black_box(ours_dec.decode(black_box(p), &mut out).unwrap());
            }
        };
        let mut dec_b = || {
            for p in &packets {
                black_box(direct_dec.decode(black_box(p), &mut out2, false).unwrap());
            }
        };
        interleaved("decode", 400, &mut dec_a, &mut dec_b);
    }

    let mut g = c.benchmark_group("opus_20ms_48k_24kbps");
    g.throughput(Throughput::Elements(FRAME as u64));

    let mut i = 0;
    g.bench_function("ours/encode", |b| {
        b.iter(|| {
            i = (i + 1) % FRAMES;
            ours_enc.encode(black_box(frames[i]), &mut buf).unwrap()
        })
    });
    let mut i = 0;
    g.bench_function("direct/encode", |b| {
        b.iter(|| {
            i = (i + 1) % FRAMES;
            direct_enc.encode(black_box(frames[i]), &mut buf).unwrap()
        })
    });
    let mut i = 0;
    g.bench_function("ours/decode", |b| {
        b.iter(|| {
            i = (i + 1) % FRAMES;
            ours_dec.decode(black_box(&packets[i]), &mut out).unwrap()
        })
    });
    let mut i = 0;
    g.bench_function("direct/decode", |b| {
        b.iter(|| {
            i = (i + 1) % FRAMES;
            direct_dec
                .decode(black_box(&packets[i]), &mut out, false)
                .unwrap()
        })
    });
    for complexity in [0, 5, 7] {
        let mut dec = dec_at(complexity);
        let mut i = 0;
        g.bench_function(format!("ours/decode_c{complexity}"), |b| {
            b.iter(|| {
                i = (i + 1) % FRAMES;
                dec.decode(black_box(&packets[i]), &mut out).unwrap()
            })
        });
        let mut dec = dec_at(complexity);
        let mut i = 0;
        g.bench_function(format!("ours/decode_conceal_c{complexity}"), |b| {
            b.iter(|| {
                i = (i + 1) % FRAMES;
                dec.decode(black_box(&packets[i]), &mut out).unwrap();
                dec.conceal(&mut out[..FRAME]).unwrap()
            })
        });
    }
    g.finish();
}

/// Times `ours` and `direct` (one block of frames each) in `rounds` alternating rounds and
/// prints per-frame medians and the median of the per-round ratios.
fn interleaved(what: &str, rounds: usize, ours: &mut dyn FnMut(), direct: &mut dyn FnMut()) {
    let time = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        f();
        t.elapsed().as_secs_f64()
    };
    // Warm up both.
    for _ in 0..3 {
        ours();
        direct();
    }
    let (mut a, mut b, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..rounds {
        let (ta, tb) = if r % 2 == 0 {
            let ta = time(ours);
            (ta, time(direct))
        } else {
            let tb = time(direct);
            (time(ours), tb)
        };
        a.push(ta);
        b.push(tb);
        ratio.push(ta / tb);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let q = |v: &Vec<f64>, x: f64| v[((v.len() - 1) as f64 * x) as usize];
    let (ma, mb) = (median(&mut a), median(&mut b));
    let mr = median(&mut ratio);
    let per_frame = 1e6 / FRAMES as f64;
    eprintln!(
        "interleaved {what}: ours {:.1} µs, direct {:.1} µs per 20 ms (medians of {rounds}); \
         ours/direct median {:+.2} % (quartiles {:+.2} % .. {:+.2} %)",
        ma * per_frame,
        mb * per_frame,
        (mr - 1.0) * 100.0,
        (q(&ratio, 0.25) - 1.0) * 100.0,
        (q(&ratio, 0.75) - 1.0) * 100.0,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
