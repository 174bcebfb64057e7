//! Where should the AGC's speech decision come from? Real speech (Allison, codec2) at -40 dBov
//! active level, a quiet talker the AGC must lift by about 22 dB, in pink, brown and babble
//! noise at 10 and 20 dB SNR, through the chain with the AGC sharing the chain's VAD
//! (`SpeechHint::Vad`), running its own detector (`SpeechHint::None`), and, with NS, taking
//! RNNoise's speech probability (`SpeechHint::Ns`). For each case: the output noise level in pauses (frames at least 300 ms from
//! any labelled speech, after the first 3 s), the output's active speech level (P.56, after
//! 3 s; target -18 dBov), and the pause-to-speech distance. Lower noise in pauses at the same
//! speech level means the AGC did not pump noise up.
//!
//! ```text
//! cargo run --release -p media-bench --example chain_hint
//! ```

use media_bench::eval;
use media_core::frame::SampleRate;
use media_core::processing::audio::chain::{ChainConfig, ProcessingChain, SpeechHint};
use media_core::processing::audio::{active_speech_level, AgcConfig, VadConfig};

fn power_db(x: &[f32]) -> f64 {
    let p = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len().max(1) as f64;
    10.0 * (p + 1e-20).log10()
}

struct Outcome {
    pause_db: f64,
    speech_db: f64,
}

fn run(cfg: ChainConfig, x: &[f32], labels: &[bool], rate: u32) -> Result<Outcome, String> {
    let mut chain = ProcessingChain::new(cfg).map_err(|e| e.to_string())?;
    let n = chain.frame_len();
    let lat = chain.latency_samples();
    let mut y = Vec::with_capacity(x.len() + lat + n);
    let mut buf = vec![0.0f32; n];
    let total = (x.len() + lat).div_ceil(n) * n;
    for k in 0..total / n {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = x.get(k * n + i).copied().unwrap_or(0.0);
        }
        chain
            .process_frame_f32(&mut buf)
            .map_err(|e| e.to_string())?;
        y.extend_from_slice(&buf);
    }
    let y = &y[lat..lat + x.len()];
    let skip = 300; // frames (3 s)
    let guard = 30; // frames (300 ms) from any speech
    let mut pause = Vec::new();
    for (k, _) in labels.iter().enumerate().skip(skip) {
        let lo = k.saturating_sub(guard);
        let hi = (k + guard + 1).min(labels.len());
        if labels[lo..hi].iter().all(|&l| !l) && (k + 1) * n <= y.len() {
            pause.extend_from_slice(&y[k * n..(k + 1) * n]);
        }
    }
    let (speech_db, _) = active_speech_level(&y[skip * n..], rate);
    Ok(Outcome {
        pause_db: power_db(&pause),
        speech_db,
    })
}

/// (chain, decision source, pause level minus the own detector's, speech level minus the own
/// detector's), dB.
type Diff = (&'static str, SpeechHint, f64, f64);

fn main() -> Result<(), String> {
    println!("| rate | noise (item) | SNR dB | chain | pauses dBov: VAD shared / own / NS prob. | speech dBov: VAD shared / own / NS prob. |");
    println!("|---|---|---|---|---|---|");
    let mut diffs: Vec<Diff> = Vec::new();
    for rate in [8000u32, 16000, 48000] {
        let items = eval::speech_items(rate)?;
        let sr = SampleRate(rate);
        for kind in ["pink", "brown", "babble"] {
            for snr in [10.0, 20.0] {
                for (ci, item) in items.iter().enumerate().take(2) {
                    let nz = eval::noise(kind, item, item.samples.len(), 7 + ci as u64)?;
                    let (clean, mixed) = eval::mix(&item.samples, rate, &nz, snr);
                    let labels = eval::labels(&clean, rate);
                    // A quiet talker: speech at -40 dBov.
                    let g = 10f32.powf((-40.0 - eval::SPEECH_DBOV as f32) / 20.0);
                    let x: Vec<f32> = mixed.iter().map(|v| v * g).collect();
                    for (name, base) in [
                        ("NS+AGC+VAD", ChainConfig::voip(sr)),
                        (
                            "AGC+VAD",
                            ChainConfig::new(sr)
                                .with_agc(Some(AgcConfig::at(sr)))
                                .with_vad(Some(VadConfig::at(sr))),
                        ),
                    ] {
                        let base = base.with_aec(None);
                        let own = run(base.with_speech_hint(SpeechHint::None), &x, &labels, rate)?;
                        let vad = run(base.with_speech_hint(SpeechHint::Vad), &x, &labels, rate)?;
                        let ns = if name == "NS+AGC+VAD" {
                            Some(run(
                                base.with_speech_hint(SpeechHint::Ns),
                                &x,
                                &labels,
                                rate,
                            )?)
                        } else {
                            None
                        };
                        let f = |o: &Option<Outcome>, g: fn(&Outcome) -> f64| {
                            o.as_ref()
                                .map_or("-".to_string(), |o| format!("{:.1}", g(o)))
                        };
                        println!(
                            "| {rate} | {kind} ({}) | {snr} | {name} | {:.1} / {:.1} / {} | {:.1} / {:.1} / {} |",
                            item.name,
                            vad.pause_db,
                            own.pause_db,
                            f(&ns, |o| o.pause_db),
                            vad.speech_db,
                            own.speech_db,
                            f(&ns, |o| o.speech_db),
                        );
                        diffs.push((
                            name,
                            SpeechHint::Vad,
                            vad.pause_db - own.pause_db,
                            vad.speech_db - own.speech_db,
                        ));
                        if let Some(ns) = ns {
                            diffs.push((
                                name,
                                SpeechHint::Ns,
                                ns.pause_db - own.pause_db,
                                ns.speech_db - own.speech_db,
                            ));
                        }
                    }
                }
            }
        }
    }
    for (name, hint) in [
        ("NS+AGC+VAD", SpeechHint::Vad),
        ("NS+AGC+VAD", SpeechHint::Ns),
        ("AGC+VAD", SpeechHint::Vad),
    ] {
        let d: Vec<_> = diffs
            .iter()
            .filter(|d| d.0 == name && d.1 == hint)
            .collect();
        let mean = |f: &dyn Fn(&&Diff) -> f64| d.iter().map(f).sum::<f64>() / d.len() as f64;
        let lowest = d.iter().map(|x| x.3).fold(f64::INFINITY, f64::min);
        println!(
            "{name}, {hint:?} vs the AGC's own detector: noise in pauses {:+.2} dB on average, speech level {:+.2} dB on average (lowest {lowest:+.2} dB), over {} cases",
            mean(&|x| x.2),
            mean(&|x| x.3),
            d.len(),
        );
    }
    Ok(())
}
