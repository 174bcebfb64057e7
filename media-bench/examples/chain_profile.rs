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
//!
//! `chain_profile time [RATE]` instead times, per 10 ms frame, the chain with several stage
//! sets (and speexdsp's echo canceller + preprocessor with `--features c-reference`),
//! interleaved, as the best of 100 rounds of 100 frames: on a shared machine the best round is
//! the one least disturbed by other processes, so it is repeatable where a mean is not.

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

fn chain_for(rate: u32, stages: &str) -> ProcessingChain {
    let has = |s: &str| stages.split(',').any(|x| x == s);
    let sr = SampleRate(rate);
    let mut cfg = ChainConfig::new(sr)
        .with_high_pass(has("hp"))
        .with_aec(has("aec").then(|| EchoConfig::new(sr)))
        .with_ns(has("ns").then(|| NsConfig::at(sr)))
        .with_agc(has("agc").then(|| AgcConfig::at(sr)))
        .with_vad(has("vad").then(|| VadConfig::at(sr)));
    if has("processed") {
        cfg = cfg.with_vad_input(media_core::processing::audio::VadInput::Processed);
    }
    ProcessingChain::new(cfg).expect("chain")
}

fn time(rate: u32) {
    let (far, mic) = signals(rate);
    let n = rate as usize / 100;
    let sets = [
        "hp,aec",
        "hp,aec,ns,agc,vad",
        "hp,aec,ns,agc,vad,processed",
        "ns",
        "agc",
        "vad",
        "hp",
    ];
    let mut chains: Vec<ProcessingChain> = sets.iter().map(|s| chain_for(rate, s)).collect();
    for c in chains.iter_mut() {
        run(c, &far, &mic, 300, 0);
    }
    let mut best = vec![f64::MAX; sets.len() + 1];
    #[cfg(feature = "c-reference")]
    let mut sp = {
        let mut sp =
            media_bench::cref::speex_echo::SpeexEcho::new(n, rate as usize / 5, rate, true);
        if let Some(sp) = sp.as_mut() {
            sp.enable_agc_and_vad();
        }
        sp
    };
    let total = far.len() / n;
    let mut out = vec![0i16; n];
    for round in 0..100 {
        for (c, b) in chains.iter_mut().zip(best.iter_mut()) {
            let t = std::time::Instant::now();
            run(c, &far, &mic, 100, 300 + round * 100);
            *b = b.min(t.elapsed().as_secs_f64() / 100.0);
        }
        #[cfg(feature = "c-reference")]
        if let Some(sp) = sp.as_mut() {
            let t = std::time::Instant::now();
            for j in 0..100 {
                // The same frames the chains get this round.
                let k = 300 + round * 100 + j;
                let r = (k % total) * n..(k % total + 1) * n;
                sp.process(&mic[r.clone()], &far[r], &mut out);
            }
            let b = &mut best[sets.len()];
            *b = b.min(t.elapsed().as_secs_f64() / 100.0);
        }
    }
    let _ = (&mut out, total);
    for (s, b) in sets.iter().zip(&best) {
        println!(
            "{rate} Hz {s}: {:.1} us per 10 ms (best of 100 x 100 frames)",
            b * 1e6
        );
    }
    if best[sets.len()] < f64::MAX {
        println!(
            "{rate} Hz speexdsp echo + preprocess (denoise, AGC, VAD): {:.1} us",
            best[sets.len()] * 1e6
        );
    }
}

/// The chain bench's signals: far-end speech, and the capture: its echo (-6 dB, 40 ms) and
/// near-end speech (the same signal reversed) over a little noise.
fn signals(rate: u32) -> (Vec<i16>, Vec<i16>) {
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
    (far, mic)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("time") {
        for rate in args
            .get(2)
            .and_then(|a| a.parse().ok())
            .map_or(vec![16000, 48000], |r| vec![r])
        {
            time(rate);
        }
        return;
    }
    let rate: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(48000);
    let frames: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(500);
    let stages = args.get(3).map_or("hp,aec,ns,agc,vad", |s| s.as_str());
    let mut chain = chain_for(rate, stages);
    let (far, mic) = signals(rate);
    run(&mut chain, &far, &mic, 300, 0);
    measure(&mut chain, &far, &mic, frames);
    println!("{} frames at {rate} Hz through {stages}", frames);
}
