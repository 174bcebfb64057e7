//! The VAD as the chain runs it (`ChainConfig::voip` without AEC: high-pass, NS, AGC sharing
//! the VAD's decision). Writes the VAD evaluation set (the same mixes and labels as
//! `vad_sweep`) with the chain's decisions, shifted back by the latency of what the VAD
//! judges, in whole frames, and runs the webrtcvad judge on the noisy mixes:
//!
//! ```text
//! cargo run --release -p media-bench --example chain_vad_sweep [DIR] [--processed]
//! ```
//!
//! `--processed`: the VAD judges what the chain sends (after NS and AGC) instead of the
//! capture before NS (`VadInput::Processed`); it then falls below webrtcvad at 10 and 20 dB.
use media_bench::eval;
use media_core::frame::SampleRate;
use media_core::processing::audio::chain::{ChainConfig, ProcessingChain, VadInput};

fn main() -> Result<(), String> {
    let processed = std::env::args().any(|a| a == "--processed");
    let input = if processed {
        VadInput::Processed
    } else {
        VadInput::Capture
    };
    let dir = std::env::args()
        .skip(1)
        .find(|a| a != "--processed")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("chain-vad-sweep"));
    eval::write_vad_set_with(
        &dir,
        &[8000, 16000, 48000],
        &["pink", "brown", "babble", "music"],
        &[0.0, 5.0, 10.0, 20.0],
        3,
        |mixed, rate| {
            let cfg = ChainConfig::voip(SampleRate(rate))
                .with_aec(None)
                .with_vad_input(input);
            let mut chain = ProcessingChain::new(cfg).map_err(|e| e.to_string())?;
            let n = chain.frame_len();
            let shift = (chain.vad_latency_samples() as f64 / n as f64).round() as usize;
            let frames = mixed.len() / n;
            let mut ours = String::with_capacity(frames);
            let mut buf = vec![0.0f32; n];
            for k in 0..frames + shift {
                for (i, b) in buf.iter_mut().enumerate() {
                    *b = mixed.get(k * n + i).copied().unwrap_or(0.0);
                }
                chain
                    .process_frame_f32(&mut buf)
                    .map_err(|e| e.to_string())?;
                if k >= shift {
                    ours.push(if chain.metrics().speech == Some(true) {
                        '1'
                    } else {
                        '0'
                    });
                }
            }
            Ok(ours)
        },
    )?;
    let py = eval::workspace_root().join(".venv/bin/python");
    let st = std::process::Command::new(py)
        .arg(eval::workspace_root().join("scripts/vad_judge.py"))
        .arg(dir.join("manifest.json"))
        .arg("--check")
        .status()
        .map_err(|e| e.to_string())?;
    if !st.success() {
        return Err("the chain's VAD fell short of webrtcvad somewhere (see above)".into());
    }
    Ok(())
}
