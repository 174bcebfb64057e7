//! `mediacore conference`: mixes WAV files through the real conference mixer, as if each file
//! were one participant, and writes what each participant hears (everyone but itself) and the
//! mix of everyone.
//!
//! Each input joins at its own rate (8, 16, 32, 44.1 or 48 kHz; stereo is downmixed as
//! `(L+R)/2`) and receives its mix at the mixer's rate, which is `--rate` or, by default, the
//! highest input rate rounded up to a rate the mixer runs at (8, 16, 32 or 48 kHz; 44.1 kHz
//! inputs make it 48 kHz). The mixer's resamplers delay each input by their latency; every
//! input is given the extra delay that brings it to the largest, and the outputs are trimmed by
//! it, so the files are time-aligned with the inputs. Each output is as long as the longest
//! input at the mix rate (`round(len * rate / input rate)` samples).

use std::path::Path;

use media_core::engine::audio::{input_latency, AudioMixer, MixerConfig, ParticipantConfig};
use media_core::frame::SampleRate;
use media_core::processing::format::resampler::SUPPORTED_RATES;
use media_core::wav::{write_wav, WavAudio};

/// Mixes `inputs` into `out_dir` (`mix-for-K.wav`, K from 1, and `mix-all.wav`).
pub fn conference(
    out_dir: &Path,
    inputs: &[String],
    rate: Option<u32>,
    json: bool,
) -> Result<(), String> {
    if inputs.len() < 2 {
        return Err("a conference needs at least two inputs".into());
    }
    let mut clips = Vec::new();
    for name in inputs {
        let a = crate::input::load(name)?;
        if !SUPPORTED_RATES.contains(&a.sample_rate) {
            return Err(format!(
                "{name}: {} Hz is not a rate the mixer takes (8000, 16000, 32000, 44100, 48000)",
                a.sample_rate
            ));
        }
        let ch = usize::from(a.channels.max(1));
        let mono: Vec<i16> = a
            .samples
            .chunks(ch)
            .map(|c| (c.iter().map(|&s| i32::from(s)).sum::<i32>() / c.len() as i32) as i16)
            .collect();
        clips.push((a.sample_rate, mono));
    }
    let highest = clips.iter().map(|c| c.0).max().unwrap_or(16000);
    let rate = match rate {
        Some(r) => r,
        None => [8000, 16000, 32000, 48000]
            .into_iter()
            .find(|&r| r >= highest)
            .unwrap_or(48000),
    };
    let tick_ms = 10;
    let mut mixer = AudioMixer::new(MixerConfig {
        sample_rate: SampleRate(rate),
        tick_ms,
        max_participants: clips.len(),
        vad: false,
    })
    .map_err(|e| format!("--rate {rate}: {e}"))?;
    let latencies = clips
        .iter()
        .map(|c| input_latency(c.0, rate))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let align = latencies.iter().copied().max().unwrap_or(0);
    let mut ids = Vec::new();
    for (c, lat) in clips.iter().zip(&latencies) {
        let mut p = ParticipantConfig::pcm(c.0);
        p.output_rate = rate;
        p.input_delay = align - lat;
        ids.push(mixer.join(p).map_err(|e| e.to_string())?);
    }
    let out_len = clips
        .iter()
        .map(|(r, x)| {
            let (n, r, to) = (x.len() as u64, u64::from(*r), u64::from(rate));
            ((2 * n * to + r) / (2 * r)) as usize
        })
        .max()
        .unwrap_or(0);
    let frame = mixer.frame_samples();
    let ticks = (out_len + align).div_ceil(frame);
    let mut outs = vec![Vec::with_capacity(ticks * frame); clips.len()];
    let mut all = Vec::with_capacity(ticks * frame);
    let mut buf = Vec::new();
    for t in 0..ticks {
        for ((r, x), id) in clips.iter().zip(&ids) {
            let n = SampleRate(*r).samples_in_ms(tick_ms);
            buf.clear();
            buf.extend((t * n..(t + 1) * n).map(|i| x.get(i).copied().unwrap_or(0)));
            mixer.push_pcm(*id, &buf).map_err(|e| e.to_string())?;
        }
        mixer.tick();
        for (o, id) in outs.iter_mut().zip(&ids) {
            o.extend_from_slice(mixer.output(*id).map_err(|e| e.to_string())?);
        }
        all.extend_from_slice(mixer.mix_all());
    }
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let write = |name: String, x: &[i16]| -> Result<(), String> {
        let path = out_dir.join(name);
        write_wav(
            &path,
            &WavAudio {
                sample_rate: rate,
                channels: 1,
                samples: x[align..align + out_len].to_vec(),
            },
        )
        .map_err(|e| format!("{}: {e}", path.display()))
    };
    for (k, o) in outs.iter().enumerate() {
        write(format!("mix-for-{}.wav", k + 1), o)?;
    }
    write("mix-all.wav".into(), &all)?;
    let stats = mixer.stats();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "rate": rate,
                "inputs": inputs.len(),
                "samples": out_len,
                "alignment_delay_samples": align,
                "limited_frames": stats.limited_frames,
            })
        );
    } else {
        println!(
            "conference of {} at {rate} Hz: {} samples per output ({:.2} s), limiter acted on {} of {} output frames; wrote {}",
            inputs.len(),
            out_len,
            out_len as f64 / f64::from(rate),
            stats.limited_frames,
            ticks * (inputs.len() + 1),
            out_dir.display()
        );
    }
    Ok(())
}
