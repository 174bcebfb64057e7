//! Processing stages per 10 ms frame at 16 and 48 kHz (the VAD also at 8 kHz): noise
//! suppression (ours, and at 48 kHz nnnoiseless and our RNNoise engine called directly on the
//! same frames), gain control (with its internal VAD, and with a speech hint from the chain),
//! voice activity detection (speech with pauses, speech in loud noise, noise alone). The VAD
//! beside libfvad, its C reference, is the `vad_ref` bench.
//!
//! ```text
//! cargo bench -p media-bench --bench stages
//! ```

use criterion::{criterion_group, criterion_main, Criterion};
use media_bench::eval::f32_format;
use media_bench::signal::speechlike;
use media_core::frame::{AudioFrame, SampleRate, Samples};
use media_core::processing::audio::{
    AgcConfig, AudioStage, GainController, NoiseSuppressor, NsConfig, VadConfig,
    VoiceActivityDetector,
};
use std::hint::black_box;

/// One second of the speech-like signal (peaks near -6 dBFS, syllables with pauses) scaled by
/// `speech` plus white noise of amplitude `hiss`, as 10 ms f32 frames.
fn frames(rate: u32, speech: f32, hiss: f32) -> Vec<AudioFrame> {
    let fl = rate as usize / 100;
    let pcm = speechlike(rate as usize, rate);
    let mut seed = 1u32;
    pcm.chunks_exact(fl)
        .map(|c| {
            let mut f = AudioFrame::silent(f32_format(rate), fl);
            if let Samples::F32(v) = &mut f.samples {
                for (o, &s) in v.iter_mut().zip(c) {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    let n = (seed >> 9) as f32 / (1u32 << 23) as f32 - 0.5;
                    *o = speech * f32::from(s) / 32768.0 + hiss * n;
                }
            }
            f
        })
        .collect()
}

fn run(b: &mut criterion::Bencher, stage: &mut dyn AudioStage, input: &[AudioFrame]) {
    let mut work = input[0].clone();
    let mut i = 0;
    b.iter(|| {
        let src = &input[i % input.len()];
        if let (Samples::F32(d), Samples::F32(s)) = (&mut work.samples, &src.samples) {
            d.copy_from_slice(s);
        }
        i += 1;
        black_box(stage.process(black_box(&mut work)).is_ok())
    });
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("stages_10ms");
    for rate in [16000u32, 48000] {
        let input = frames(rate, 1.0, 0.003);
        let sr = SampleRate(rate);
        let mut ns = NoiseSuppressor::new(NsConfig::at(sr)).expect("ns");
        g.bench_function(format!("ns/{rate}"), |b| run(b, &mut ns, &input));
        let mut agc = GainController::new(AgcConfig::at(sr)).expect("agc");
        g.bench_function(format!("agc/{rate}"), |b| run(b, &mut agc, &input));
        let mut agc = GainController::new(AgcConfig::at(sr)).expect("agc");
        g.bench_function(format!("agc_with_speech_hint/{rate}"), |b| {
            let mut work = input[0].clone();
            let mut i = 0;
            b.iter(|| {
                let src = &input[i % input.len()];
                if let (Samples::F32(d), Samples::F32(s)) = (&mut work.samples, &src.samples) {
                    d.copy_from_slice(s);
                }
                i += 1;
                agc.set_speech_hint(0.9);
                black_box(agc.process(black_box(&mut work)).is_ok())
            })
        });
    }
    for rate in [8000u32, 16000, 48000] {
        let input = frames(rate, 1.0, 0.003);
        let sr = SampleRate(rate);
        // The VAD's cost depends on the signal: the network rests in pauses. Speech with
        // pauses, then speech in loud noise (the network runs on every hop), then noise alone.
        let mut vad = VoiceActivityDetector::new(VadConfig::at(sr)).expect("vad");
        g.bench_function(format!("vad/{rate}"), |b| run(b, &mut vad, &input));
        let noisy = frames(rate, 1.0, 0.2);
        let mut vad = VoiceActivityDetector::new(VadConfig::at(sr)).expect("vad");
        g.bench_function(format!("vad_noisy_speech/{rate}"), |b| {
            run(b, &mut vad, &noisy)
        });
        let quiet = frames(rate, 0.0, 0.01);
        let mut vad = VoiceActivityDetector::new(VadConfig::at(sr)).expect("vad");
        g.bench_function(format!("vad_noise_only/{rate}"), |b| {
            run(b, &mut vad, &quiet)
        });
        // The network never resting: its cost on every frame.
        let mut awake = VadConfig::at(sr);
        awake.rest_in_pauses = false;
        let mut vad = VoiceActivityDetector::new(awake).expect("vad");
        g.bench_function(format!("vad_never_resting_noise_only/{rate}"), |b| {
            run(b, &mut vad, &quiet)
        });
    }
    // nnnoiseless alone at 48 kHz, the reference cost of the network.
    let input = frames(48000, 1.0, 0.003);
    let mut st = nnnoiseless::DenoiseState::new();
    let mut out = vec![0.0f32; 480];
    let scaled: Vec<Vec<f32>> = input
        .iter()
        .map(|f| {
            f.as_f32()
                .unwrap_or(&[])
                .iter()
                .map(|v| v * 32768.0)
                .collect()
        })
        .collect();
    let mut i = 0;
    g.bench_function("nnnoiseless_direct/48000", |b| {
        b.iter(|| {
            i += 1;
            black_box(st.process_frame(&mut out, &scaled[i % scaled.len()]))
        })
    });
    // Our RNNoise engine (what `ns/48000` runs) on the same frames, the pair to the above.
    let mut own = media_core::processing::audio::ns::Rnnoise::new().expect("model");
    let mut out = [0.0f32; 480];
    let arrays: Vec<[f32; 480]> = scaled
        .iter()
        .map(|f| {
            let mut a = [0.0f32; 480];
            a.copy_from_slice(&f[..480]);
            a
        })
        .collect();
    let mut i = 0;
    g.bench_function("rnnoise_own/48000", |b| {
        b.iter(|| {
            i += 1;
            black_box(own.process_frame(&mut out, &arrays[i % arrays.len()]))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
