//! What `sonora` 0.2 (WebRTC AEC3 ported to Rust) lacks, measured: allocations per 10 ms frame
//! (counting allocator), cost per frame, one NaN poisoning all later output, and a short capture
//! slice panicking. Our echo canceller is checked the same way in tests/aec_no_alloc.rs and
//! tests/aec_proptest.rs.
//!
//!   cargo run --release -p media-core --example sonora_gaps

use sonora::config::EchoCanceller;
use sonora::{AudioProcessing, Config, StreamConfig};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn aec3(rate: u32) -> AudioProcessing {
    AudioProcessing::builder()
        .config(Config {
            echo_canceller: Some(EchoCanceller::default()),
            ..Default::default()
        })
        .capture_config(StreamConfig::new(rate, 1))
        .render_config(StreamConfig::new(rate, 1))
        .build()
}

fn main() {
    for rate in [16_000u32, 48_000] {
        let n = rate as usize / 100;
        let mut apm = aec3(rate);
        let mut rng = media_core::signal::SplitMix64(1);
        let mut far = vec![0f32; n];
        let mut near = vec![0f32; n];
        let mut out = vec![0f32; n];
        let mut rout = vec![0f32; n];
        let mut run = |apm: &mut AudioProcessing, frames: usize| {
            for _ in 0..frames {
                for x in far.iter_mut() {
                    *x = (rng.unit() as f32 - 0.5) * 0.2;
                }
                for (y, x) in near.iter_mut().zip(&far) {
                    *y = x * 0.3;
                }
                let _ = apm.process_render_f32(&[&far], &mut [&mut rout]);
                let _ = apm.process_capture_f32(&[&near], &mut [&mut out]);
            }
        };
        run(&mut apm, 300);
        let before = ALLOCS.load(Ordering::SeqCst);
        run(&mut apm, 100);
        let allocs = ALLOCS.load(Ordering::SeqCst) - before;
        let t = std::time::Instant::now();
        run(&mut apm, 1000);
        println!(
            "AEC3 at {} kHz: {:.1} allocations per 10 ms frame, {:.1} us per frame (render + capture)",
            rate / 1000,
            allocs as f64 / 100.0,
            t.elapsed().as_secs_f64() * 1e6 / 1000.0
        );
    }

    let mut apm = aec3(16_000);
    let mut rng = media_core::signal::SplitMix64(2);
    let mut rout = vec![0f32; 160];
    let mut out = vec![0f32; 160];
    let mut poisoned = 0;
    for i in 0..300 {
        let far: Vec<f32> = (0..160).map(|_| (rng.unit() as f32 - 0.5) * 0.2).collect();
        let mut near: Vec<f32> = far.iter().map(|x| x * 0.3).collect();
        if i == 100 {
            near[5] = f32::NAN;
        }
        let _ = apm.process_render_f32(&[&far], &mut [&mut rout]);
        let _ = apm.process_capture_f32(&[&near], &mut [&mut out]);
        if i > 100 && out.iter().any(|x| x.is_nan()) {
            poisoned += 1;
        }
    }
    println!("one NaN in capture frame 100: {poisoned} of the next 199 output frames hold NaN");

    std::panic::set_hook(Box::new(|_| {}));
    let mut apm = aec3(16_000);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let near = vec![0.1f32; 100];
        let mut o = vec![0f32; 100];
        let _ = apm.process_capture_f32(&[&near], &mut [&mut o]);
    }));
    println!(
        "a 100-sample capture slice at 16 kHz (10 ms = 160): {}",
        if r.is_err() { "panics" } else { "returns" }
    );
}
