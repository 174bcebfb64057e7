//! Echo cancellation per 10 ms frame (far-end render + capture) at 16 and 48 kHz: ours, WebRTC
//! AEC3 as-is (sonora 0.2), and speexdsp's MDF echo canceller plus its preprocessor's residual
//! echo suppressor with `c-reference`. Each runs in steady state on a speech-like far end whose
//! echo (delayed 40 ms, -6 dB) is in the capture, after 3 s of warm-up.
//!
//!   cargo bench -p media-bench --features c-reference --bench aec -- --warm-up-time 1 --measurement-time 3

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use media_bench::signal::speechlike;
use media_core::frame::{AudioFormat, AudioFrame, SampleFormat, SampleRate};
use media_core::processing::audio::aec::{EchoCanceller, EchoConfig};
use media_core::processing::audio::AudioStage;
use sonora::config::EchoCanceller as Aec3Config;
use sonora::{AudioProcessing, Config, StreamConfig};
use std::hint::black_box;

/// Two seconds of far end and the matching capture (echo at -6 dB, 40 ms late), as f32.
fn signals(rate: u32) -> (Vec<f32>, Vec<f32>) {
    let n = rate as usize * 2;
    let far: Vec<f32> = speechlike(n, rate)
        .iter()
        .map(|&s| f32::from(s) / 32768.0 * 0.5)
        .collect();
    let d = rate as usize * 40 / 1000;
    let mic: Vec<f32> = (0..n)
        .map(|i| if i >= d { far[i - d] * 0.5 } else { 0.0 })
        .collect();
    (far, mic)
}

fn bench(c: &mut Criterion) {
    for rate in [16_000u32, 48_000] {
        let n = rate as usize / 100;
        let (far, mic) = signals(rate);
        let frames = far.len() / n;
        let mut g = c.benchmark_group(format!("aec_10ms_{}k", rate / 1000));
        g.throughput(Throughput::Elements(n as u64));

        // Ours: render (far end into the canceller's ring) + capture.
        let mut aec = EchoCanceller::new(EchoConfig::new(SampleRate(rate))).expect("config");
        let fmt = AudioFormat {
            sample_rate: SampleRate(rate),
            channels: 1,
            sample_format: SampleFormat::F32,
        };
        let mut frame = AudioFrame::silent(fmt, n);
        let mut i = 0usize;
        let step = |aec: &mut EchoCanceller, frame: &mut AudioFrame, i: &mut usize| {
            let r = (*i % frames) * n..(*i % frames + 1) * n;
            let _ = aec.render_f32(&far[r.clone()]);
            if let Some(s) = frame.as_f32_mut() {
                s.copy_from_slice(&mic[r]);
            }
            let _ = aec.process(frame);
            *i += 1;
        };
        for _ in 0..300 {
            step(&mut aec, &mut frame, &mut i);
        }
        g.bench_function("ours", |b| {
            b.iter(|| step(&mut aec, black_box(&mut frame), &mut i))
        });

        // WebRTC AEC3 as-is.
        let mut apm = AudioProcessing::builder()
            .config(Config {
                echo_canceller: Some(Aec3Config::default()),
                ..Default::default()
            })
            .capture_config(StreamConfig::new(rate, 1))
            .render_config(StreamConfig::new(rate, 1))
            .build();
        let mut rout = vec![0.0f32; n];
        let mut cout = vec![0.0f32; n];
        let mut j = 0usize;
        let mut step3 = |apm: &mut AudioProcessing, j: &mut usize| {
            let r = (*j % frames) * n..(*j % frames + 1) * n;
            let _ = apm.process_render_f32(&[&far[r.clone()]], &mut [&mut rout]);
            let _ = apm.process_capture_f32(&[&mic[r]], &mut [&mut cout]);
            *j += 1;
        };
        for _ in 0..300 {
            step3(&mut apm, &mut j);
        }
        g.bench_function("sonora_aec3", |b| b.iter(|| step3(&mut apm, &mut j)));

        #[cfg(feature = "c-reference")]
        {
            use media_bench::cref::speex_echo::SpeexEcho;
            let to16 = |x: &[f32]| -> Vec<i16> {
                x.iter()
                    .map(|&v| (v * 32768.0).clamp(-32768.0, 32767.0) as i16)
                    .collect()
            };
            let (far16, mic16) = (to16(&far), to16(&mic));
            let tail = rate as usize / 5;
            if let Some(mut sp) = SpeexEcho::new(n, tail, rate, true) {
                let mut out = vec![0i16; n];
                let mut k = 0usize;
                let mut steps = |sp: &mut SpeexEcho, k: &mut usize| {
                    let r = (*k % frames) * n..(*k % frames + 1) * n;
                    sp.process(&mic16[r.clone()], &far16[r], &mut out);
                    *k += 1;
                };
                for _ in 0..300 {
                    steps(&mut sp, &mut k);
                }
                g.bench_function("speexdsp", |b| b.iter(|| steps(&mut sp, &mut k)));
            }
        }
        g.finish();
    }
}

/// The processing chain, 16-bit in and out, per 10 ms (far-end render + capture): high-pass +
/// AEC, the full softphone chain (`ChainConfig::voip`: high-pass, AEC, NS, AGC, VAD on the
/// capture before NS, the AGC with its own detector), and the cheaper variant where the VAD
/// judges the processed signal and the AGC shares it (`VadInput::Processed`). The
/// budget for the full chain is 50 us at 48 kHz.
fn chain(c: &mut Criterion) {
    use media_core::processing::audio::chain::{ChainConfig, ProcessingChain, VadInput};
    for rate in [16_000u32, 48_000] {
        let n = rate as usize / 100;
        let (far, mut mic) = signals(rate);
        // The near end talks too (the same signal reversed, so its pauses fall elsewhere), over
        // a little noise: every stage has work in every frame, the VAD's network included.
        let mut near = speechlike(mic.len(), rate);
        near.reverse();
        let mut seed = 5u32;
        for (m, &s) in mic.iter_mut().zip(&near) {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let hiss = ((seed >> 9) as f32 / (1u32 << 23) as f32 - 0.5) * 0.01;
            *m += 0.3 * f32::from(s) / 32768.0 + hiss;
        }
        let to16 = |x: &[f32]| -> Vec<i16> {
            x.iter()
                .map(|&v| (v * 32768.0).clamp(-32768.0, 32767.0) as i16)
                .collect()
        };
        let (far, mic) = (to16(&far), to16(&mic));
        let frames = far.len() / n;
        let mut g = c.benchmark_group(format!("chain_10ms_{}k", rate / 1000));
        g.throughput(Throughput::Elements(n as u64));
        let sr = SampleRate(rate);
        for (name, cfg) in [
            ("highpass+aec", ChainConfig::new(sr)),
            ("full", ChainConfig::voip(sr)),
            (
                "full_vad_processed_shared",
                ChainConfig::voip(sr).with_vad_input(VadInput::Processed),
            ),
        ] {
            let mut chain = ProcessingChain::new(cfg).expect("chain");
            let mut frame = vec![0i16; n];
            let mut i = 0usize;
            let mut step = |chain: &mut ProcessingChain, i: &mut usize| {
                let r = (*i % frames) * n..(*i % frames + 1) * n;
                let _ = chain.render_i16(&far[r.clone()]);
                frame.copy_from_slice(&mic[r]);
                let _ = chain.process_frame(&mut frame);
                *i += 1;
            };
            for _ in 0..300 {
                step(&mut chain, &mut i);
            }
            g.bench_function(name, |b| b.iter(|| step(&mut chain, &mut i)));
        }
        // The C reference for a whole chain: speexdsp's echo canceller and its preprocessor
        // with residual echo suppression, denoising, AGC and VAD on (200 ms tail).
        #[cfg(feature = "c-reference")]
        {
            use media_bench::cref::speex_echo::SpeexEcho;
            if let Some(mut sp) = SpeexEcho::new(n, rate as usize / 5, rate, true) {
                sp.enable_agc_and_vad();
                let mut out = vec![0i16; n];
                let mut k = 0usize;
                let mut steps = |sp: &mut SpeexEcho, k: &mut usize| {
                    let r = (*k % frames) * n..(*k % frames + 1) * n;
                    sp.process(&mic[r.clone()], &far[r], &mut out);
                    *k += 1;
                };
                for _ in 0..300 {
                    steps(&mut sp, &mut k);
                }
                g.bench_function("speexdsp_aec+pre(ns,agc,vad)", |b| {
                    b.iter(|| steps(&mut sp, &mut k))
                });
            }
        }
        g.finish();
    }
}

criterion_group!(benches, bench, chain);
criterion_main!(benches);
