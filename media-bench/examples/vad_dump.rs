// Temporary: dumps earshot raw scores and frame energies for rule design.
use media_bench::eval::*;
fn main() -> Result<(), String> {
    let mut out = String::new();
    for rate in [8000u32, 16000, 48000] {
        for (ii, item) in speech_items(rate)?.into_iter().enumerate() {
            let lab = labels(&item.samples, rate);
            for (ni, kind) in ["pink", "brown", "babble", "music"].iter().enumerate() {
                let nz = noise(
                    kind,
                    &item,
                    item.samples.len(),
                    1000 + (ii * 10 + ni) as u64,
                )?;
                for snr in [0.0, 5.0, 10.0, 20.0] {
                    let (_, mixed) = mix(&item.samples, rate, &nz, snr);
                    // earshot at 16k via ffmpeg resample
                    let x16 = if rate == 16000 {
                        mixed.clone()
                    } else {
                        resample(&mixed, rate, 16000)?
                    };
                    let mut det = earshot::Detector::default();
                    let fl = rate as usize / 100;
                    let nfr = mixed.len() / fl;
                    let mut raw = vec![0f32; nfr];
                    let mut last = 0.0;
                    let mut pos = 0;
                    for k in 0..nfr {
                        let end16 = (k + 1) * 160;
                        while pos + 256 <= end16.min(x16.len()) {
                            let fr: Vec<f32> = x16[pos..pos + 256]
                                .iter()
                                .map(|v| v.clamp(-1.0, 1.0))
                                .collect();
                            last = det.predict_f32(&fr);
                            pos += 256;
                        }
                        raw[k] = last;
                    }
                    let e: Vec<f32> = mixed
                        .chunks_exact(fl)
                        .map(|c| {
                            10.0 * (c.iter().map(|v| v * v).sum::<f32>() / fl as f32 + 1e-12)
                                .log10()
                        })
                        .collect();
                    out.push_str(&format!(
                        "{rate} {} {kind} {snr} {} {} {}\n",
                        item.name,
                        label_string(&lab),
                        raw.iter()
                            .map(|v| format!("{v:.3}"))
                            .collect::<Vec<_>>()
                            .join(","),
                        e.iter()
                            .map(|v| format!("{v:.1}"))
                            .collect::<Vec<_>>()
                            .join(",")
                    ));
                }
            }
        }
    }
    std::fs::write("/tmp/vad_dump.txt", out).map_err(|e| e.to_string())
}
