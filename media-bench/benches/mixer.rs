//! The conference mixer per 20 ms tick at 16 kHz, N participants all at the internal rate:
//! every participant pushes a 16-bit frame, the mixer ticks, every participant pulls its N-1
//! mix (16-bit). Three cases:
//!
//! * `pure`: VAD off, every participant talking: the mixing itself (sum, N-1, limiter check,
//!   copies in and out).
//! * `vad_all_talking`: one VAD per participant, every participant talking at once (the worst
//!   case: every detector runs its network).
//! * `vad_4_talking`: one VAD per participant, 4 talking and the others sending low noise
//!   (-60 dBFS), as in a large conference where most people listen: their detectors rest.
//!
//! ```text
//! cargo bench -p media-bench --bench mixer -- --warm-up-time 1 --measurement-time 3
//! ```

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use media_core::engine::audio::{AudioMixer, MixerConfig, ParticipantConfig, ParticipantId};
use media_core::frame::SampleRate;
use media_core::signal::speech_like;
use std::hint::black_box;

const FRAME: usize = 320;

struct Conf {
    mixer: AudioMixer,
    ids: Vec<ParticipantId>,
    speech: Vec<i16>,
    noise: Vec<i16>,
    talkers: usize,
    tick: usize,
    out: Vec<i16>,
}

impl Conf {
    fn new(n: usize, vad: bool, talkers: usize) -> Self {
        let mut mixer = AudioMixer::new(MixerConfig {
            sample_rate: SampleRate::HZ_16000,
            tick_ms: 20,
            max_participants: n,
            vad,
        })
        .unwrap();
        let ids = (0..n)
            .map(|_| mixer.join(ParticipantConfig::pcm(16000)).unwrap())
            .collect();
        // Speech at a conversational level so that sums of many stay mostly below full scale
        // only for small N; the limiter path is part of what is measured for large N.
        let speech: Vec<i16> = speech_like(10.0, 16000).iter().map(|&s| s / 4).collect();
        let mut seed = 7u32;
        let noise = (0..speech.len())
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((seed >> 16) as i16 % 33) - 16
            })
            .collect();
        let mut c = Self {
            mixer,
            ids,
            speech,
            noise,
            talkers,
            tick: 0,
            out: vec![0; FRAME],
        };
        // Past the VAD's start-up and into steady state.
        for _ in 0..150 {
            c.step();
        }
        c
    }

    fn step(&mut self) {
        let len = self.speech.len() - FRAME;
        for (k, id) in self.ids.iter().enumerate() {
            let src = if k < self.talkers {
                &self.speech
            } else {
                &self.noise
            };
            let at = (self.tick * FRAME + k * 1601) % len;
            self.mixer.push_pcm(*id, &src[at..at + FRAME]).unwrap();
        }
        self.mixer.tick();
        for id in &self.ids {
            self.mixer.pull_pcm(*id, &mut self.out).unwrap();
        }
        black_box(&self.out);
        self.tick += 1;
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("mixer_20ms_16k");
    for n in [2usize, 4, 8, 32, 100, 1000] {
        g.bench_function(BenchmarkId::new("pure", n), |b| {
            let mut conf = Conf::new(n, false, n);
            b.iter(|| conf.step());
        });
        g.bench_function(BenchmarkId::new("vad_all_talking", n), |b| {
            let mut conf = Conf::new(n, true, n);
            b.iter(|| conf.step());
        });
        g.bench_function(BenchmarkId::new("vad_4_talking", n), |b| {
            let mut conf = Conf::new(n, true, 4.min(n));
            b.iter(|| conf.step());
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
