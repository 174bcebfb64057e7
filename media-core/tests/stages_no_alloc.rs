//! A counting global allocator proves that the noise suppressor, the gain controller and the
//! voice activity detector allocate nothing per frame once built, at every rate, through the
//! `AudioStage` trait object the chain holds.

use media_core::frame::{AudioFormat, AudioFrame, SampleFormat, SampleRate, Samples};
use media_core::processing::audio::{
    AgcConfig, AudioStage, GainController, NoiseSuppressor, NsConfig, VadConfig,
    VoiceActivityDetector,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn frame_at(rate: u32, k: usize) -> AudioFrame {
    let fmt = AudioFormat {
        sample_rate: SampleRate(rate),
        channels: 1,
        sample_format: SampleFormat::F32,
    };
    let n = rate as usize / 100;
    let mut f = AudioFrame::silent(fmt, n);
    if let Samples::F32(v) = &mut f.samples {
        for (i, s) in v.iter_mut().enumerate() {
            let t = (k * n + i) as f32 / rate as f32;
            // A voiced-like burst pattern with a little hiss, so every code path runs
            // (speech and non-speech frames, limiter, gain moves).
            // Bursts of 0.3 s and pauses of 0.9 s (long enough for a resting VAD to rest).
            let on = k % 120 < 30;
            let hiss = (((k * n + i) * 7919 % 1000) as f32 / 1000.0 - 0.5) * 0.002;
            *s = if on {
                0.5 * (2.0 * std::f32::consts::PI * 180.0 * t).sin()
                    + 0.2 * (2.0 * std::f32::consts::PI * 900.0 * t).sin()
            } else {
                0.0
            } + hiss;
        }
    }
    f
}

#[test]
fn steady_state_stages_allocate_nothing() {
    for rate in [8000u32, 16000, 32000, 48000] {
        let sr = SampleRate(rate);
        let mut stages: Vec<Box<dyn AudioStage>> = vec![
            Box::new(NoiseSuppressor::new(NsConfig::at(sr)).unwrap()),
            Box::new(GainController::new(AgcConfig::at(sr)).unwrap()),
            Box::new(VoiceActivityDetector::new(VadConfig::at(sr)).unwrap()),
        ];
        let mut ns_floor = NsConfig::at(sr);
        ns_floor.max_attenuation_db = Some(25.0);
        stages.push(Box::new(NoiseSuppressor::new(ns_floor).unwrap()));
        let mut awake = VadConfig::at(sr);
        awake.rest_in_pauses = false;
        stages.push(Box::new(VoiceActivityDetector::new(awake).unwrap()));
        let frames: Vec<AudioFrame> = (0..400).map(|k| frame_at(rate, k)).collect();
        let mut work = frames[0].clone();
        for stage in stages.iter_mut() {
            for f in frames.iter().take(20) {
                work.samples.clone_from(&f.samples);
                stage.process(&mut work).unwrap();
            }
            let before = ALLOCS.load(Ordering::SeqCst);
            for f in frames.iter().skip(20) {
                if let (Samples::F32(d), Samples::F32(s)) = (&mut work.samples, &f.samples) {
                    d.copy_from_slice(s);
                }
                stage.process(&mut work).unwrap();
                let _ = stage.metrics();
            }
            let n = ALLOCS.load(Ordering::SeqCst) - before;
            assert_eq!(n, 0, "{} at {rate} Hz allocated {n} times", stage.name());
        }
    }
}
