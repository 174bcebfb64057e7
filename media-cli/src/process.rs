//! `process`: runs a capture recording through the processing chain (high-pass, echo
//! cancellation with the far end that was played meanwhile, noise suppression, gain control,
//! voice activity detection), writing what a call would send.

use std::path::Path;

use media_core::frame::SampleRate;
use media_core::processing::audio::aec::EchoConfig;
use media_core::processing::audio::chain::{ChainConfig, ProcessingChain, Slot};
use media_core::processing::audio::{AgcConfig, NsConfig, VadConfig};
use media_core::processing::format::resampler::resample_all;
use media_core::wav::{write_wav, WavAudio};
use serde_json::json;

use crate::input;

/// What `process` was asked to do.
#[derive(Debug, Clone)]
pub struct ProcessArgs<'a> {
    /// Capture recording (WAV or `builtin:speech`).
    pub input: &'a str,
    /// Far-end recording: what the loudspeaker played while `input` was captured, aligned at
    /// the files' starts.
    pub far: Option<&'a str>,
    /// Output WAV.
    pub output: &'a Path,
    /// Echo cancellation.
    pub aec: bool,
    /// Noise suppression.
    pub ns: bool,
    /// Automatic gain control.
    pub agc: bool,
    /// Write the voice activity decisions (JSON) here.
    pub vad_out: Option<&'a Path>,
    /// Keep the high-pass filter off.
    pub no_highpass: bool,
    /// Processing (and output) rate.
    pub rate: u32,
    /// Print a JSON report.
    pub json: bool,
}

/// Mono 16-bit at `rate`: stereo is averaged, other rates resampled.
fn mono_at(audio: WavAudio, rate: u32) -> Result<Vec<i16>, String> {
    let mono: Vec<i16> = if audio.channels == 2 {
        audio
            .samples
            .chunks_exact(2)
            .map(|c| ((i32::from(c[0]) + i32::from(c[1])) / 2) as i16)
            .collect()
    } else {
        audio.samples
    };
    if audio.sample_rate == rate {
        Ok(mono)
    } else {
        resample_all(&mono, audio.sample_rate, rate, 1).map_err(|e| e.to_string())
    }
}

/// Runs `process`.
pub fn process(a: &ProcessArgs<'_>) -> Result<(), String> {
    match (a.aec, a.far.is_some()) {
        (true, false) => {
            return Err("--aec needs --far FAR.wav: what the loudspeaker played during IN".into())
        }
        (false, true) => return Err("--far is only used with --aec".into()),
        _ => {}
    }
    if ![8000, 16000, 32000, 48000].contains(&a.rate) {
        return Err(format!(
            "--rate {} is not a processing rate (8000, 16000, 32000 or 48000)",
            a.rate
        ));
    }
    let rate = SampleRate(a.rate);
    let capture = mono_at(input::load(a.input)?, a.rate)?;
    let far = match a.far {
        Some(f) => Some(mono_at(input::load(f)?, a.rate)?),
        None => None,
    };
    let cfg = ChainConfig::new(rate)
        .with_high_pass(!a.no_highpass)
        .with_aec(a.aec.then(|| EchoConfig::new(rate)))
        .with_ns(a.ns.then(|| NsConfig::at(rate)))
        .with_agc(a.agc.then(|| AgcConfig::at(rate)))
        .with_vad(a.vad_out.is_some().then(|| VadConfig::at(rate)));
    let mut chain = ProcessingChain::new(cfg).map_err(|e| e.to_string())?;
    let n = chain.frame_len();
    let latency = chain.latency_samples();

    // Whole frames, plus enough to flush the stages' latency, so the output lines up with the
    // input sample for sample.
    let frames = (capture.len() + latency).div_ceil(n);
    let mut padded = capture.clone();
    padded.resize(frames * n, 0);
    let mut out = Vec::with_capacity(frames * n);
    let mut buf = vec![0i16; n];
    let mut decisions = Vec::with_capacity(frames);
    for (i, frame) in padded.chunks_exact(n).enumerate() {
        if let Some(far) = far.as_deref() {
            // What the loudspeaker played during this frame (silence past the far file's end).
            let lo = (i * n).min(far.len());
            let hi = ((i + 1) * n).min(far.len());
            buf[..hi - lo].copy_from_slice(&far[lo..hi]);
            buf[hi - lo..].fill(0);
            chain.render_i16(&buf).map_err(|e| e.to_string())?;
        }
        buf.copy_from_slice(frame);
        chain.process_frame(&mut buf).map_err(|e| e.to_string())?;
        out.extend_from_slice(&buf);
        if let Some(s) = chain.metrics().speech {
            decisions.push(s);
        }
    }
    let out: Vec<i16> = out.into_iter().skip(latency).take(capture.len()).collect();
    write_wav(
        a.output,
        &WavAudio {
            sample_rate: a.rate,
            channels: 1,
            samples: out,
        },
    )
    .map_err(|e| format!("{}: {e}", a.output.display()))?;

    if let Some(path) = a.vad_out {
        write_vad(path, a.rate, n, chain.vad_latency_samples(), &decisions)?;
    }
    let em = chain.echo_metrics();
    let cm = chain.metrics();
    let round1 = |v: Option<f32>| v.map(|v| (f64::from(v) * 10.0).round() / 10.0);
    if a.json {
        let stages: Vec<_> = cm
            .stages
            .iter()
            .filter(|r| r.present)
            .map(|r| {
                json!({
                    "stage": r.name,
                    "enabled": r.enabled,
                    "frames": r.metrics.frames,
                    "sanitized_samples": r.metrics.sanitized_samples,
                })
            })
            .collect();
        let aec = em.map(|m| {
            json!({
                "erle_db": m.erle_db.map(|v| (f64::from(v) * 10.0).round() / 10.0),
                "delay_ms": m.delay_ms,
                "talk_state": format!("{:?}", m.talk_state),
                "far_underruns": m.far_underruns,
                "far_dropped": m.far_dropped,
            })
        });
        println!(
            "{}",
            json!({
                "rate": a.rate,
                "samples": capture.len(),
                "latency_samples": latency,
                "high_pass": chain.is_enabled(Slot::HighPass),
                "aec": aec,
                "noise_floor_dbov": round1(cm.noise_floor_dbov),
                "gain_db": round1(cm.gain_db),
                "speech_frames": decisions.iter().filter(|&&s| s).count(),
                "stages": stages,
            })
        );
    } else {
        print!(
            "processed {:.2} s at {} Hz",
            capture.len() as f64 / f64::from(a.rate),
            a.rate
        );
        if let Some(m) = em {
            print!(
                "; echo canceller: ERLE {}, delay {}",
                m.erle_db.map_or("n/a".into(), |v| format!("{v:.1} dB")),
                m.delay_ms
                    .map_or("not found".into(), |v| format!("{v:.0} ms"))
            );
        }
        if let Some(v) = cm.noise_floor_dbov {
            print!("; noise floor {v:.1} dBov");
        }
        if let Some(v) = cm.gain_db {
            print!("; gain {v:+.1} dB");
        }
        if a.vad_out.is_some() {
            let speech = decisions.iter().filter(|&&s| s).count();
            print!("; speech in {speech} of {} frames", decisions.len());
        }
        println!(" -> {}", a.output.display());
    }
    Ok(())
}

/// Writes the VAD's decisions: one per 10 ms frame of the output (the chain's latency
/// removed), and the speech segments in seconds of the output.
fn write_vad(
    path: &Path,
    rate: u32,
    frame: usize,
    latency: usize,
    decisions: &[bool],
) -> Result<(), String> {
    // Decision k is for output samples [k * frame, (k + 1) * frame) of the chain, which are
    // input (and output-file) samples from k * frame - latency.
    let secs = |k: usize| (k as f64 * frame as f64 - latency as f64).max(0.0) / f64::from(rate);
    let mut segments = Vec::new();
    let mut start = None;
    for (k, &s) in decisions.iter().chain(std::iter::once(&false)).enumerate() {
        match (s, start) {
            (true, None) => start = Some(k),
            (false, Some(b)) => {
                segments.push(json!([
                    (secs(b) * 1000.0).round() / 1000.0,
                    (secs(k) * 1000.0).round() / 1000.0
                ]));
                start = None;
            }
            _ => {}
        }
    }
    let doc = json!({
        "rate": rate,
        "frame_ms": 10,
        "first_frame_start_s": -(latency as f64) / f64::from(rate),
        "frames": decisions.iter().map(|&s| u8::from(s)).collect::<Vec<_>>(),
        "segments": segments,
    });
    std::fs::write(path, doc.to_string()).map_err(|e| format!("{}: {e}", path.display()))
}
