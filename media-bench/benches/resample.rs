//! Sample-rate conversion: time per 20 ms frame (mono, streaming), ours beside rubato 5.0
//! (FFT and sinc resamplers) and, with `c-reference`, soxr HQ and the speexdsp resampler at
//! qualities 10 and 5. Before timing, prints each implementation's measured quality (passband
//! ripple up to 90% of the lower Nyquist frequency, worst alias / image) so that speeds can be
//! compared at equal quality.
//!
//! ```text
//! cargo bench -p media-bench --features c-reference --bench resample -- --warm-up-time 1 --measurement-time 2
//! ```

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use media_bench::quality::{measure, Quality};
use media_bench::signal::speechlike;
use media_core::processing::format::Resampler;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, Fft, FixedAsync, FixedSync, SincInterpolationParameters, SincInterpolationType,
    WindowFunction,
};
use std::hint::black_box;

/// The pairs benched: every pair among 8/16/48 kHz, and 44.1 <-> 48 kHz.
const PAIRS: [(u32, u32); 8] = [
    (8000, 16000),
    (16000, 8000),
    (8000, 48000),
    (48000, 8000),
    (16000, 48000),
    (48000, 16000),
    (44100, 48000),
    (48000, 44100),
];

fn frame_in(from: u32) -> usize {
    from as usize / 50
}

fn ours(from: u32, to: u32) -> Resampler {
    Resampler::new(from, to, 1).expect("supported pair")
}

/// rubato's synchronous FFT resampler, one 20 ms input chunk per call, one FFT sub-chunk
/// (its best quality for this chunk size).
fn rubato_fft(from: u32, to: u32) -> Fft<f32> {
    Fft::new_custom(
        from as usize,
        to as usize,
        frame_in(from),
        1,
        1,
        WindowFunction::BlackmanHarris2,
        FixedSync::Input,
    )
    .expect("rubato fft")
}

/// rubato's asynchronous sinc resampler, set up to meet the same spec as ours (passband flat
/// to 0.1 dB up to 90% of the lower Nyquist frequency, aliases of everything above the output
/// Nyquist frequency at -90 dB or lower): Blackman-Harris^2, oversampling 256 with cubic
/// interpolation, 256 taps when upsampling (automatic cutoff) and `256 * from / to` taps with
/// the cutoff at 0.945 when downsampling. (With rubato's default 256 taps and automatic
/// cutoff, tones just above the output Nyquist frequency alias at -14 to -40 dB.)
fn rubato_sinc(from: u32, to: u32) -> Async<f32> {
    let ratio = f64::from(to) / f64::from(from);
    let mut params = SincInterpolationParameters::new(256, WindowFunction::BlackmanHarris2)
        .oversampling_factor(256)
        .interpolation(SincInterpolationType::Cubic);
    if to < from {
        params.sinc_len = ((256.0 / ratio / 8.0).ceil() as usize) * 8;
        params.f_cutoff = Some(0.945);
    }
    Async::new_sinc(ratio, 1.0, &params, frame_in(from), 1, FixedAsync::Input).expect("rubato sinc")
}

/// Runs a rubato resampler over `x` in 20 ms chunks.
fn rubato_run(r: &mut dyn rubato::Resampler<f32>, x: &[f32], frame: usize) -> Vec<f32> {
    let mut out = Vec::new();
    let mut buf = vec![0.0f32; r.output_frames_max()];
    for chunk in x.chunks_exact(frame) {
        let input = InterleavedSlice::new(chunk, 1, frame).expect("input adapter");
        let frames = buf.len();
        let mut output = InterleavedSlice::new_mut(&mut buf, 1, frames).expect("output adapter");
        let (_, n) = r
            .process_into_buffer(&input, &mut output, None)
            .expect("rubato process");
        out.extend_from_slice(&buf[..n]);
    }
    out
}

fn show(name: &str, q: Quality) -> String {
    format!("{name} {:.3}/{:.1}", q.ripple_db, q.spur_db)
}

/// Prints ripple (dB) / worst alias-image (dB) per implementation and pair.
fn print_quality() {
    eprintln!(
        "quality per 20 ms-chunked stream: max passband gain error dB / worst alias or image dB"
    );
    for (from, to) in PAIRS {
        let frame = frame_in(from);
        let mut line = vec![format!("{from:>5}->{to:<5}")];
        line.push(show(
            "ours",
            measure(from, to, |x| {
                let mut r = ours(from, to);
                let mut out = vec![0.0; r.max_output_len(x.len())];
                let n = r.process(x, &mut out).map_or(0, |(_, n)| n);
                out.truncate(n);
                out
            }),
        ));
        line.push(show(
            "rubato_fft",
            measure(from, to, |x| {
                rubato_run(&mut rubato_fft(from, to), x, frame)
            }),
        ));
        line.push(show(
            "rubato_sinc",
            measure(from, to, |x| {
                rubato_run(&mut rubato_sinc(from, to), x, frame)
            }),
        ));
        #[cfg(feature = "c-reference")]
        {
            use media_bench::cref::soxr::{Soxr, SoxrQuality};
            use media_bench::cref::speexdsp::SpeexResampler;
            line.push(show(
                "soxr_hq",
                measure(from, to, |x| {
                    let Some(mut s) = Soxr::new(from, to, 1, SoxrQuality::High) else {
                        return Vec::new();
                    };
                    let mut out = Vec::new();
                    let mut buf = vec![0.0f32; 2 * frame * to as usize / from as usize + 4096];
                    for chunk in x.chunks(frame) {
                        let (_, n) = s.process(chunk, &mut buf).unwrap_or((0, 0));
                        out.extend_from_slice(&buf[..n]);
                    }
                    out
                }),
            ));
            for q in [10, 5] {
                line.push(show(
                    &format!("speex_q{q}"),
                    measure(from, to, |x| {
                        let Some(mut s) = SpeexResampler::new(from, to, q) else {
                            return Vec::new();
                        };
                        let mut out = Vec::new();
                        let mut buf = vec![0.0f32; 2 * frame * to as usize / from as usize + 64];
                        for chunk in x.chunks(frame) {
                            let (_, n) = s.process_float(chunk, &mut buf).unwrap_or((0, 0));
                            out.extend_from_slice(&buf[..n]);
                        }
                        out
                    }),
                ));
            }
        }
        eprintln!("{}", line.join("  "));
    }
}

fn bench(c: &mut Criterion) {
    print_quality();
    for (from, to) in PAIRS {
        let n = frame_in(from);
        let pcm = speechlike(n, from);
        let pcm_f: Vec<f32> = pcm.iter().map(|&v| f32::from(v) / 32768.0).collect();
        let mut g = c.benchmark_group(format!("resample_20ms_{from}_{to}"));
        g.throughput(Throughput::Elements(n as u64));

        let mut r = ours(from, to);
        let mut out_f = vec![0.0f32; r.max_output_len(n)];
        g.bench_function("ours_f32", |b| {
            b.iter(|| r.process(black_box(&pcm_f), &mut out_f))
        });
        let mut r = ours(from, to);
        let mut out_i = vec![0i16; r.max_output_len(n)];
        g.bench_function("ours_i16", |b| {
            b.iter(|| r.process_i16(black_box(&pcm), &mut out_i))
        });

        let mut fft = rubato_fft(from, to);
        let mut sinc = rubato_sinc(from, to);
        for (name, rs) in [
            ("rubato_fft", &mut fft as &mut dyn rubato::Resampler<f32>),
            ("rubato_sinc", &mut sinc),
        ] {
            let mut buf = vec![0.0f32; rs.output_frames_max()];
            let frames = buf.len();
            g.bench_function(name, |b| {
                b.iter(|| {
                    let input = InterleavedSlice::new(black_box(&pcm_f[..]), 1, n).ok();
                    let output = InterleavedSlice::new_mut(&mut buf[..], 1, frames).ok();
                    if let (Some(i), Some(mut o)) = (input, output) {
                        let _ = rs.process_into_buffer(&i, &mut o, None);
                    }
                })
            });
        }

        #[cfg(feature = "c-reference")]
        {
            use media_bench::cref::soxr::{Soxr, SoxrQuality};
            use media_bench::cref::speexdsp::SpeexResampler;
            if let Some(mut s) = Soxr::new(from, to, 1, SoxrQuality::High) {
                let mut buf = vec![0.0f32; 2 * n * to as usize / from as usize + 4096];
                g.bench_function("soxr_hq", |b| {
                    b.iter(|| s.process(black_box(&pcm_f), &mut buf))
                });
            }
            for q in [10, 5] {
                if let Some(mut s) = SpeexResampler::new(from, to, q) {
                    let mut buf = vec![0i16; 2 * n * to as usize / from as usize + 64];
                    g.bench_function(format!("speex_q{q}"), |b| {
                        b.iter(|| s.process_int(black_box(&pcm), &mut buf))
                    });
                }
            }
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
