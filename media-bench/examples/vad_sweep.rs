//! Writes the VAD evaluation set (mixes, labels, our decisions) and runs the webrtcvad judge:
//!
//! ```text
//! cargo run --release -p media-bench --example vad_sweep [DIR] [--no-rest]
//! (--no-rest: the detector with `rest_in_pauses` off)
//! .venv/bin/python scripts/vad_judge.py DIR/manifest.json --check --strict   # (run by this example)
//! ```
use media_bench::eval;

fn main() -> Result<(), String> {
    let rest = !std::env::args().any(|a| a == "--no-rest");
    let dir = std::env::args()
        .skip(1)
        .find(|a| a != "--no-rest")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("vad-sweep"));
    eval::write_vad_set(
        &dir,
        &[8000, 16000, 48000],
        &["pink", "brown", "babble", "music"],
        &[0.0, 5.0, 10.0, 20.0],
        3,
        rest,
    )?;
    let py = eval::workspace_root().join(".venv/bin/python");
    let st = std::process::Command::new(py)
        .arg(eval::workspace_root().join("scripts/vad_judge.py"))
        .arg(dir.join("manifest.json"))
        .args(["--check", "--strict"])
        .status()
        .map_err(|e| e.to_string())?;
    if !st.success() {
        return Err("judge failed".into());
    }
    Ok(())
}
