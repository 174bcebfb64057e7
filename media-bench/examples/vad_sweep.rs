//! Writes the VAD evaluation set (mixes, labels, our decisions) and runs the webrtcvad judge:
//!
//! ```text
//! cargo run --release -p media-bench --example vad_sweep [DIR] [--no-rest] [--variant N]
//! (--no-rest: the detector with `rest_in_pauses` off; --variant N: held-out noise, see
//! `eval::write_vad_set_variant`)
//! .venv/bin/python scripts/vad_judge.py DIR/manifest.json --check --strict   # (run by this example)
//! ```
use media_bench::eval;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = !args.iter().any(|a| a == "--no-rest");
    let variant = match args.iter().position(|a| a == "--variant") {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or("--variant takes a number")?,
        None => 0,
    };
    let dir = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--variant"))
        .map(|(_, a)| std::path::PathBuf::from(a))
        .unwrap_or_else(|| std::env::temp_dir().join("vad-sweep"));
    eval::write_vad_set_variant(
        &dir,
        &[8000, 16000, 48000],
        &["pink", "brown", "babble", "music"],
        &[0.0, 5.0, 10.0, 20.0],
        3,
        variant,
        eval::our_vad_decisions(rest),
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
