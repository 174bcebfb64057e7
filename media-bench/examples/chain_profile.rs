//! Runs the full chain (`ChainConfig::voip`) on the chain bench's signals for profiling with
//! callgrind, which counts instructions repeatably even on a loaded machine:
//!
//! ```text
//! cargo build --release -p media-bench --example chain_profile
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect=chain_profile::measure \
//!     target/release/examples/chain_profile 48000 500
//! callgrind_annotate callgrind.out.<pid>
//! ```
//!
//! Arguments: rate (default 48000), frames (default 500, after 300 frames of warm-up), and
//! optionally a stage list (`hp,aec,ns,agc,vad`; default all).

use media_bench::signal::speechlike;
use media_core::frame::SampleRate;
use media_core::processing::audio::aec::EchoConfig;
use media_core::processing::audio::chain::{ChainConfig, ProcessingChain};
use media_core::processing::audio::{AgcConfig, NsConfig, VadConfig};
use std::hint::black_box;

#[inline(never)]
fn run(chain: &mut ProcessingChain, far: &[i16], mic: &[i16], frames: usize, start: usize) {
    let n = chain.frame_len();
    let total = far.len() / n;
    let mut frame = vec![0i16; n];
    for k in start..start + frames {
        let r = (k % total) * n..(k % total + 1) * n;
        let _ = chain.render_i16(&far[r.clone()]);
        frame.copy_from_slice(&mic[r]);
        let _ = chain.process_frame(black_box(&mut frame));
    }
}

/// The measured frames (what `--toggle-collect` names).
#[inline(never)]
fn measure(chain: &mut ProcessingChain, far: &[i16], mic: &[i16], frames: usize) {
    run(chain, far, mic, frames, 300);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rate: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(48000);
    let frames: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(500);
    let stages = args.get(3).map_or("hp,aec,ns,agc,vad", |s| s.as_str());
    let has = |s: &str| stages.split(',').any(|x| x == s);
    let sr = SampleRate(rate);
    let cfg = ChainConfig::new(sr)
        .with_high_pass(has("hp"))
        .with_aec(has("aec").then(|| EchoConfig::new(sr)))
        .with_ns(has("ns").then(|| NsConfig::at(sr)))
        .with_agc(has("agc").then(|| AgcConfig::at(sr)))
        .with_vad(has("vad").then(|| VadConfig::at(sr)));
    let mut chain = ProcessingChain::new(cfg).expect("chain");
    // The chain bench's signals: far-end speech, its echo (-6 dB, 40 ms) and near-end speech
    // (the same signal reversed) over a little noise.
    let len = rate as usize * 2;
    let farf: Vec<f32> = speechlike(len, rate)
        .iter()
        .map(|&s| f32::from(s) / 32768.0 * 0.5)
        .collect();
    let d = rate as usize * 40 / 1000;
    let mut near = speechlike(len, rate);
    near.reverse();
    let mut seed = 5u32;
    let mic: Vec<i16> = (0..len)
        .map(|i| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let hiss = ((seed >> 9) as f32 / (1u32 << 23) as f32 - 0.5) * 0.01;
            let echo = if i >= d { farf[i - d] * 0.5 } else { 0.0 };
            let v = echo + 0.3 * f32::from(near[i]) / 32768.0 + hiss;
            (v * 32768.0).clamp(-32768.0, 32767.0) as i16
        })
        .collect();
    let far: Vec<i16> = farf.iter().map(|&v| (v * 32768.0) as i16).collect();
    run(&mut chain, &far, &mic, 300, 0);
    measure(&mut chain, &far, &mic, frames);
    println!("{} frames at {rate} Hz through {stages}", frames);
}
