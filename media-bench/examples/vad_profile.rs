//! The VAD alone over real speech (Allison's prompts, /usr/share/asterisk/sounds/en_US_f_Allison/*.wav,
//! 8 kHz; the .g722 twins at 16 kHz and up), converted by ffmpeg to the rate asked), for instruction counts and timing:
//!
//! ```text
//! cargo build --release -p media-bench --example vad_profile
//! valgrind --tool=callgrind target/release/examples/vad_profile 16000 speech 1
//! target/release/examples/vad_profile 16000 speech time   # best of rounds, µs per 10 ms frame
//! ```
//!
//! Arguments: rate (8000, 16000, 48000), signal (`speech`: the prompts back to back with
//! their pauses, plus white noise at -60 dBFS; `noisy`: the same with pink noise at 10 dB SNR;
//! `silent`: the -60 dBFS noise alone, a listening conference participant), then the number of
//! passes or `time`.
use media_bench::eval;
use media_core::frame::SampleRate;
use media_core::processing::audio::{VadConfig, VoiceActivityDetector};
use std::time::Instant;

const PROMPTS: [&str; 8] = [
    "vm-intro",
    "vm-options",
    "conf-onlyperson",
    "vm-instructions",
    "privacy-prompt",
    "vm-goodbye",
    "conf-getpin",
    "vm-password",
];

fn signal(rate: u32, kind: &str) -> Result<Vec<f32>, String> {
    let mut speech = Vec::new();
    for p in PROMPTS {
        // Wideband (G.722) at 16 kHz and up, as the accuracy sweep does.
        let ext = if rate == 8000 { "wav" } else { "g722" };
        let path = format!("{}/{p}.{ext}", eval::ALLISON);
        if let Ok(v) = eval::decode(&path, rate) {
            speech.extend(v);
        }
    }
    if speech.is_empty() {
        return Err("no speech decoded".into());
    }
    let mut rng = eval::Rng(7);
    let hiss: Vec<f32> = (0..speech.len())
        .map(|_| (rng.unit() as f32 - 0.5) * 2.0 * 0.001 * 3f32.sqrt())
        .collect();
    Ok(match kind {
        "silent" => hiss,
        "noisy" => {
            let nz = eval::pink(speech.len(), 11);
            eval::mix(&speech, rate, &nz, 10.0).1
        }
        _ => speech.iter().zip(&hiss).map(|(s, h)| s + h).collect(),
    })
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let rate: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(16000);
    let kind = args.get(2).map(String::as_str).unwrap_or("speech");
    let mode = args.get(3).map(String::as_str).unwrap_or("1");
    let x = signal(rate, kind)?;
    let fl = rate as usize / 100;
    let frames = x.len() / fl;
    let mut vad =
        VoiceActivityDetector::new(VadConfig::at(SampleRate(rate))).map_err(|e| e.to_string())?;
    let mut speech = 0usize;
    if mode == "time" {
        let mut best = f64::INFINITY;
        for _ in 0..20 {
            let t = Instant::now();
            for c in x.chunks_exact(fl) {
                speech += usize::from(vad.process_samples(c).map_err(|e| e.to_string())?);
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "{rate} Hz {kind}: {frames} frames, best {:.3} µs per 10 ms frame",
            best * 1e6 / frames as f64
        );
    } else {
        let passes: usize = mode.parse().unwrap_or(1);
        for _ in 0..passes {
            for c in x.chunks_exact(fl) {
                speech += usize::from(vad.process_samples(c).map_err(|e| e.to_string())?);
            }
        }
        println!("{rate} Hz {kind}: {frames} frames x {passes}");
    }
    println!("speech decisions: {speech}");
    Ok(())
}
