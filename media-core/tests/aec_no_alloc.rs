//! A counting global allocator proves that the echo canceller and the processing chain allocate
//! nothing per frame in steady state: far-end push, capture processing, band split at 48 kHz,
//! delay re-estimation, metrics.

use media_core::frame::{AudioFormat, AudioFrame, SampleFormat, SampleRate};
use media_core::processing::audio::aec::{EchoCanceller, EchoConfig};
use media_core::processing::audio::chain::{ChainConfig, ProcessingChain, Slot};
use media_core::processing::audio::AudioStage;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
/// Tests in this file run one at a time so that counts are not mixed.
static SERIAL: Mutex<()> = Mutex::new(());

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

fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCS.load(Ordering::SeqCst);
    f();
    ALLOCS.load(Ordering::SeqCst) - before
}

/// A far end (noise bursts with pauses) and its echo (delayed, scaled) plus a near-end tone
/// from frame 300 on, so single talk, double talk and silence all occur.
fn signals(rate: u32, frames: usize) -> (Vec<f32>, Vec<f32>) {
    let n = rate as usize / 100;
    let mut rng = media_core::signal::SplitMix64(11);
    let far: Vec<f32> = (0..frames * n)
        .map(|i| {
            let on = (i / (rate as usize / 4)) % 3 != 2;
            if on {
                (rng.unit() as f32 - 0.5) * 0.3
            } else {
                0.0
            }
        })
        .collect();
    let d = rate as usize * 70 / 1000;
    let mic: Vec<f32> = (0..far.len())
        .map(|i| {
            let echo = if i >= d { far[i - d] * 0.4 } else { 0.0 };
            let near = if i >= 300 * n {
                0.1 * (i as f32 * 0.05).sin()
            } else {
                0.0
            };
            echo + near
        })
        .collect();
    (far, mic)
}

#[test]
fn echo_canceller_steady_state_allocates_nothing() {
    let _g = SERIAL.lock();
    for rate in [8_000u32, 16_000, 32_000, 48_000] {
        let n = rate as usize / 100;
        let (far, mic) = signals(rate, 600);
        let mut aec = EchoCanceller::new(EchoConfig::new(SampleRate(rate))).unwrap();
        let mut tx = aec.far_end_sender().unwrap();
        let fmt = AudioFormat {
            sample_rate: SampleRate(rate),
            channels: 1,
            sample_format: SampleFormat::F32,
        };
        let mut frame = AudioFrame::silent(fmt, n);
        let mut step = |i: usize, aec: &mut EchoCanceller, frame: &mut AudioFrame| {
            tx.push(&far[i * n..(i + 1) * n]);
            frame
                .as_f32_mut()
                .unwrap()
                .copy_from_slice(&mic[i * n..(i + 1) * n]);
            aec.process(frame).unwrap();
            let _ = aec.echo_metrics();
            let _ = aec.metrics();
        };
        for i in 0..200 {
            step(i, &mut aec, &mut frame);
        }
        let count = allocations(|| {
            for i in 200..600 {
                step(i, &mut aec, &mut frame);
            }
        });
        assert_eq!(count, 0, "{rate} Hz: {count} allocations in 400 frames");
    }
}

#[test]
fn chain_steady_state_allocates_nothing() {
    let _g = SERIAL.lock();
    let rate = 48_000;
    let (far, mic) = signals(rate, 600);
    let to16 = |x: &[f32]| -> Vec<i16> { x.iter().map(|&v| (v * 32767.0) as i16).collect() };
    let (far, mic) = (to16(&far), to16(&mic));
    let mut chain = ProcessingChain::new(ChainConfig::new(SampleRate(rate))).unwrap();
    let mut out = vec![0i16; 2000];
    let mut pos = 0usize;
    // Odd input sizes: the chain holds partial frames between calls.
    let mut step = |chain: &mut ProcessingChain, k: usize| {
        let len = [300usize, 777, 480, 123][k % 4];
        let end = (pos + len).min(mic.len());
        chain.render_i16(&far[pos..end]).unwrap();
        let _ = chain.process_i16(&mic[pos..end], &mut out).unwrap();
        let _ = chain.metrics();
        let _ = chain.echo_metrics();
        pos = end;
    };
    for k in 0..300 {
        step(&mut chain, k);
    }
    // A switch at a frame boundary is allocation-free too.
    let count = allocations(|| {
        for k in 300..500 {
            if k == 400 {
                chain.set_enabled(Slot::HighPass, false);
            }
            step(&mut chain, k);
        }
    });
    assert_eq!(count, 0, "{count} allocations in 200 calls");
}
