//! Noise suppression PESQ sweep: real speech + pink / brown / babble / music noise at 0, 5, 10
//! and 20 dB SNR, at 8 kHz (narrowband PESQ) and 16 kHz (wideband), scored against the clean
//! speech for: no processing, our `NoiseSuppressor`, nnnoiseless as shipped (ffmpeg resampling
//! around it), our stage with a 25 dB attenuation limit, and sonora's (WebRTC) NS at its
//! `High` and `VeryHigh` levels.
//!
//! ```text
//! cargo run --release -p media-bench --example ns_sweep [DIR]
//! ```
//! writes DIR/manifest.json and runs `scripts/ns_judge.py` on it.

use media_bench::eval;
use sonora::config::{NoiseSuppression, NoiseSuppressionLevel};
use sonora::{AudioProcessing, Config, StreamConfig};
use std::path::Path;

fn sonora_ns(x: &[f32], rate: u32, level: NoiseSuppressionLevel) -> Vec<f32> {
    let config = Config {
        noise_suppression: Some(NoiseSuppression {
            level,
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut apm = AudioProcessing::builder()
        .config(config)
        .capture_config(StreamConfig::new(rate, 1))
        .render_config(StreamConfig::new(rate, 1))
        .build();
    let fl = rate as usize / 100;
    let mut out = Vec::with_capacity(x.len());
    let mut dest = vec![0.0f32; fl];
    for c in x.chunks_exact(fl) {
        if apm.process_capture_f32(&[c], &mut [&mut dest]).is_err() {
            dest.fill(0.0);
        }
        out.extend_from_slice(&dest);
    }
    out.resize(x.len(), 0.0);
    out
}

fn main() -> Result<(), String> {
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("ns-sweep"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut entries = Vec::new();
    for rate in [8000u32, 16000] {
        for (ii, item) in eval::speech_items(rate)?.into_iter().enumerate() {
            for (ni, kind) in eval::NOISES.iter().enumerate() {
                let nz = eval::noise(
                    kind,
                    &item,
                    item.samples.len(),
                    2000 + (ii * 10 + ni) as u64,
                )?;
                for snr in [0.0, 5.0, 10.0, 20.0] {
                    let (clean, noisy) = eval::mix(&item.samples, rate, &nz, snr);
                    let stem = format!("{rate}-{}-{kind}-{snr}", item.name);
                    let mut files = vec![("clean", clean), ("noisy", noisy.clone())];
                    files.push(("ours", eval::ours_ns(&noisy, rate, None)?));
                    files.push(("ours_floor25", eval::ours_ns(&noisy, rate, Some(25.0))?));
                    files.push(("nnnoiseless", eval::reference_nnnoiseless(&noisy, rate)?));
                    files.push((
                        "sonora_high",
                        sonora_ns(&noisy, rate, NoiseSuppressionLevel::High),
                    ));
                    files.push((
                        "sonora_veryhigh",
                        sonora_ns(&noisy, rate, NoiseSuppressionLevel::VeryHigh),
                    ));
                    let mut json = format!(
                        "{{\"rate\": {rate}, \"item\": \"{}\", \"noise\": \"{kind}\", \"snr\": {snr}",
                        item.name
                    );
                    for (name, x) in &files {
                        let p = dir.join(format!("{stem}-{name}.wav"));
                        eval::write_wav(&p, x, rate)?;
                        json.push_str(&format!(", \"{name}\": \"{}\"", p.display()));
                    }
                    json.push('}');
                    entries.push(json);
                }
            }
            eprintln!("{rate} Hz {} done", item.name);
        }
    }
    let manifest = dir.join("manifest.json");
    std::fs::write(&manifest, format!("[\n{}\n]\n", entries.join(",\n")))
        .map_err(|e| e.to_string())?;
    let st = std::process::Command::new(eval::workspace_root().join(".venv/bin/python"))
        .arg(eval::workspace_root().join("scripts/ns_judge.py"))
        .arg(&manifest)
        .status()
        .map_err(|e| e.to_string())?;
    if !st.success() || !Path::new(&manifest).exists() {
        return Err("judge failed".into());
    }
    Ok(())
}
