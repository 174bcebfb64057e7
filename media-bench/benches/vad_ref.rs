//! The VAD's cost per 10 ms frame on real speech (Allison prompts, P.56 level -26 dBov), clean
//! and in pink noise at 10 dB SNR, at 8, 16 and 48 kHz; beside libfvad (the WebRTC VAD in C,
//! mode 3) on the same frames when it is linked. Debian does not package libfvad; build it
//! (`git clone https://github.com/dpirch/libfvad && cmake -S libfvad -B fvad-build
//! -DCMAKE_BUILD_TYPE=Release && cmake --build fvad-build`) and name the directory holding
//! `libfvad.a`:
//!
//! ```text
//! LIBFVAD_DIR=$PWD/fvad-build/src cargo bench -p media-bench --features c-reference --bench vad_ref
//! ```
//!
//! Without `LIBFVAD_DIR` only our detector is timed.

use criterion::{criterion_group, criterion_main, Criterion};
use media_bench::eval::{mix, pink, speech_items};
use media_core::frame::SampleRate;
use media_core::processing::audio::{VadConfig, VoiceActivityDetector};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("vad_10ms");
    for rate in [8000u32, 16000, 48000] {
        let Some(item) = speech_items(rate).ok().and_then(|v| v.into_iter().next()) else {
            eprintln!("speech material missing (scripts/setup.sh); skipping {rate} Hz");
            continue;
        };
        let n = item.samples.len();
        let (clean, noisy) = mix(&item.samples, rate, &pink(n, 7), 10.0);
        let fl = rate as usize / 100;
        for (name, x) in [("clean", clean), ("pink10", noisy)] {
            let frames: Vec<&[f32]> = x.chunks_exact(fl).collect();
            let mut vad = VoiceActivityDetector::new(VadConfig::at(SampleRate(rate))).expect("vad");
            let mut i = 0;
            g.bench_function(format!("ours/{name}/{rate}"), |b| {
                b.iter(|| {
                    let f = frames[i % frames.len()];
                    i += 1;
                    black_box(vad.process_samples(black_box(f)).is_ok())
                })
            });
            #[cfg(all(feature = "c-reference", libfvad))]
            {
                let pcm: Vec<i16> = x
                    .iter()
                    .map(|v| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
                    .collect();
                let frames: Vec<&[i16]> = pcm.chunks_exact(fl).collect();
                let mut fvad = media_bench::cref::fvad::Fvad::new(rate, 3).expect("libfvad");
                let mut i = 0;
                g.bench_function(format!("libfvad/{name}/{rate}"), |b| {
                    b.iter(|| {
                        let f = frames[i % frames.len()];
                        i += 1;
                        black_box(fvad.process(black_box(f)))
                    })
                });
            }
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
