//! A counting global allocator proves that the noise suppressor, the gain controller and the
//! voice activity detector allocate nothing per frame once built, at every rate, through the
//! `AudioStage` trait object the chain holds; and that the full chain (high-pass, AEC, NS,
//! AGC, VAD) allocates nothing per frame either, through switches on and off, fades, the AGC's
//! speech hint, the f32 entry and metrics snapshots.

use media_core::frame::{AudioFormat, AudioFrame, SampleFormat, SampleRate, Samples};
use media_core::processing::audio::chain::{
    ChainConfig, ProcessingChain, Slot, SpeechHint, VadInput,
};
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

/// The counter is global: the tests of this file take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

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
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
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

#[test]
fn full_chain_allocates_nothing_per_frame() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for rate in [8000u32, 48000] {
        let n = rate as usize / 100;
        let mut chains: Vec<ProcessingChain> = [
            (SpeechHint::Vad, VadInput::Capture),
            (SpeechHint::Vad, VadInput::Processed),
            (SpeechHint::Ns, VadInput::Capture),
        ]
        .into_iter()
        .map(|(h, v)| {
            let cfg = ChainConfig::voip(SampleRate(rate))
                .with_speech_hint(h)
                .with_vad_input(v);
            ProcessingChain::new(cfg).unwrap()
        })
        .collect();
        // Capture: the burst pattern; far end: the same pattern a little later, quieter.
        let cap: Vec<i16> = (0..400)
            .flat_map(|k| {
                let f = frame_at(rate, k);
                f.as_f32()
                    .unwrap()
                    .iter()
                    .map(|v| (v * 16000.0) as i16)
                    .collect::<Vec<_>>()
            })
            .collect();
        let far: Vec<i16> = cap.iter().map(|v| v / 3).collect();
        let mut out = vec![0i16; cap.len() + n];
        let mut f32buf = vec![0.0f32; n];
        let mut step = |chain: &mut ProcessingChain, k: usize| {
            let r = k * n..(k + 1) * n;
            chain.render_i16(&far[r.clone()]).unwrap();
            if k.is_multiple_of(3) {
                for (o, &v) in f32buf.iter_mut().zip(&cap[r]) {
                    *o = f32::from(v) / 32768.0;
                }
                chain.process_frame_f32(&mut f32buf).unwrap();
            } else {
                // Odd pieces: the chain holds partial frames between calls.
                let mid = r.start + n / 3;
                chain.process_i16(&cap[r.start..mid], &mut out).unwrap();
                chain.process_i16(&cap[mid..r.end], &mut out).unwrap();
            }
            let m = chain.metrics();
            assert!(m.frames > 0);
        };
        for c in chains.iter_mut() {
            for k in 0..50 {
                step(c, k);
            }
            let before = ALLOCS.load(Ordering::SeqCst);
            for k in 50..399 {
                // Switch stages off and on again during the call: fades, warm-ups, resets.
                match k {
                    100 => c.set_enabled(Slot::Ns, false),
                    130 => c.set_enabled(Slot::Ns, true),
                    160 => c.set_enabled(Slot::Agc, false),
                    161 => c.set_enabled(Slot::Agc, true),
                    200 => c.set_enabled(Slot::Aec, false),
                    230 => c.set_enabled(Slot::Aec, true),
                    260 => c.set_enabled(Slot::Vad, false),
                    290 => c.set_enabled(Slot::Vad, true),
                    _ => {}
                }
                step(c, k);
            }
            let count = ALLOCS.load(Ordering::SeqCst) - before;
            assert_eq!(count, 0, "full chain at {rate} Hz allocated {count} times");
        }
    }
}
