//! `mediacore analyze`: what is in a recording. Level (ITU-T P.56 active speech level, as the
//! STL's speech voltmeter measures it), long-term RMS and peak, clipping, noise floor, an
//! energy-based speech ratio, and with `--dtmf` the DTMF digits in it.

use media_core::processing::audio::dtmf::{DetectorConfig, DtmfDetector};
use media_core::processing::audio::level::ActiveLevelMeter;
use media_core::transcode::convert;
use media_core::SampleRate;
use serde_json::json;

use crate::input;

/// dBov values are floored here: digital silence (as RFC 6464 reports it).
const FLOOR_DBOV: f64 = -127.0;
/// A 10 ms frame counts toward the speech ratio when this far above the noise floor.
const SPEECH_MARGIN_DB: f64 = 10.0;
/// ... and at least this loud.
const SPEECH_MIN_DBOV: f64 = -60.0;

/// One DTMF digit found.
#[derive(Debug, Clone, PartialEq)]
pub struct Digit {
    /// The digit.
    pub digit: char,
    /// Start, ms from the start of the file.
    pub start_ms: f64,
    /// Duration, ms.
    pub duration_ms: f64,
}

/// What `analyze` measures.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Input rate, Hz.
    pub sample_rate: u32,
    /// Input channels (measured on their mix).
    pub channels: u16,
    /// Length, s.
    pub duration_s: f64,
    /// P.56 active speech level, dBov (floored at -127: no active speech).
    pub level_dbov: f64,
    /// P.56 activity factor, 0..=1.
    pub activity: f64,
    /// Long-term level (mean power), dBov.
    pub rms_dbov: f64,
    /// Largest sample, dBov (0 dBov = full scale).
    pub peak_dbov: f64,
    /// Share of samples at full scale (±32767 / -32768).
    pub clipping_ratio: f64,
    /// 10th percentile of the 10 ms frame levels, dBov.
    pub noise_floor_dbov: f64,
    /// Share of 10 ms frames 10 dB above the noise floor (and above -60 dBov): an energy
    /// measure, not a voice activity detector.
    pub speech_ratio: f64,
    /// DTMF digits, when asked for.
    pub dtmf: Option<Vec<Digit>>,
}

fn db(power: f64) -> f64 {
    if power > 0.0 {
        (10.0 * power.log10()).max(FLOOR_DBOV)
    } else {
        FLOOR_DBOV
    }
}

/// Measures mono 16-bit `pcm` at `rate`.
pub fn measure(pcm: &[i16], rate: u32, channels: u16, dtmf: bool) -> Result<Report, String> {
    let mut meter = ActiveLevelMeter::new(rate);
    meter.process_i16(pcm);
    let p56 = meter.result();
    let peak = pcm.iter().map(|&s| s.unsigned_abs()).max().unwrap_or(0);
    let clipped = pcm
        .iter()
        .filter(|&&s| s == i16::MAX || s == i16::MIN)
        .count();
    let frame = (rate as usize / 100).max(1);
    let mut levels: Vec<f64> = pcm
        .chunks(frame)
        .map(|f| {
            let p = f
                .iter()
                .map(|&s| (f64::from(s) / 32768.0).powi(2))
                .sum::<f64>()
                / f.len() as f64;
            db(p)
        })
        .collect();
    levels.sort_by(f64::total_cmp);
    let noise_floor = levels
        .get(levels.len().saturating_sub(1) / 10)
        .copied()
        .unwrap_or(FLOOR_DBOV);
    let speech_frames = levels
        .iter()
        .filter(|&&l| l >= noise_floor + SPEECH_MARGIN_DB && l >= SPEECH_MIN_DBOV)
        .count();
    let digits = if dtmf {
        Some(detect_dtmf(pcm, rate)?)
    } else {
        None
    };
    Ok(Report {
        sample_rate: rate,
        channels,
        duration_s: pcm.len() as f64 / f64::from(rate.max(1)),
        level_dbov: p56.active_dbov.unwrap_or(FLOOR_DBOV).max(FLOOR_DBOV),
        activity: p56.activity,
        rms_dbov: p56.long_term_dbov.max(FLOOR_DBOV),
        peak_dbov: if peak == 0 {
            FLOOR_DBOV
        } else {
            20.0 * (f64::from(peak) / 32768.0).log10()
        },
        clipping_ratio: clipped as f64 / pcm.len().max(1) as f64,
        noise_floor_dbov: noise_floor,
        speech_ratio: speech_frames as f64 / levels.len().max(1) as f64,
        dtmf: digits,
    })
}

fn detect_dtmf(pcm: &[i16], rate: u32) -> Result<Vec<Digit>, String> {
    let mut det = DtmfDetector::new(DetectorConfig::at_rate(SampleRate(rate)))
        .map_err(|e| format!("--dtmf: {e}"))?;
    let mut out = Vec::new();
    let mut take = |det: &mut DtmfDetector| {
        while let Some(d) = det.poll() {
            out.push(Digit {
                digit: d.digit,
                start_ms: d.start_ms(),
                duration_ms: d.duration_ms(),
            });
        }
    };
    for f in pcm.chunks((rate as usize / 100).max(1)) {
        det.process_i16(f);
        take(&mut det);
    }
    // The file may end inside a digit, or right after one.
    det.process_i16(&vec![0; (rate as usize / 10).max(1)]);
    det.flush();
    take(&mut det);
    Ok(out)
}

fn round(x: f64, places: i32) -> f64 {
    let m = 10f64.powi(places);
    (x * m).round() / m
}

/// The report as JSON.
pub fn to_json(r: &Report) -> serde_json::Value {
    let mut v = json!({
        "level_dbov": round(r.level_dbov, 2),
        "peak_dbov": round(r.peak_dbov, 2),
        "clipping_ratio": round(r.clipping_ratio, 6),
        "noise_floor_dbov": round(r.noise_floor_dbov, 2),
        "speech_ratio": round(r.speech_ratio, 4),
        "duration_s": round(r.duration_s, 4),
        "rms_dbov": round(r.rms_dbov, 2),
        "activity": round(r.activity, 4),
        "sample_rate": r.sample_rate,
        "channels": r.channels,
    });
    if let (Some(digits), Some(obj)) = (&r.dtmf, v.as_object_mut()) {
        let list: Vec<_> = digits
            .iter()
            .map(|d| {
                json!({"digit": d.digit.to_string(), "start_ms": round(d.start_ms, 1),
                       "duration_ms": round(d.duration_ms, 1)})
            })
            .collect();
        obj.insert("dtmf".into(), serde_json::Value::Array(list));
    }
    v
}

/// `mediacore analyze`.
pub fn analyze(name: &str, dtmf: bool, as_json: bool) -> Result<(), String> {
    let audio = input::load(name)?;
    let mono = convert(&audio, audio.sample_rate, 1).map_err(|e| format!("{name}: {e}"))?;
    let r = measure(&mono.samples, audio.sample_rate, audio.channels, dtmf)?;
    if as_json {
        println!("{}", to_json(&r));
        return Ok(());
    }
    println!(
        "{name}: {:.2} s, {} Hz, {} channel(s)",
        r.duration_s, r.sample_rate, r.channels
    );
    println!(
        "level {:.1} dBov (P.56 active, activity {:.0} %), rms {:.1} dBov, peak {:.1} dBov",
        r.level_dbov,
        100.0 * r.activity,
        r.rms_dbov,
        r.peak_dbov
    );
    println!(
        "clipping {:.3} %, noise floor {:.1} dBov, speech {:.1} % of 10 ms frames (energy, not a VAD)",
        100.0 * r.clipping_ratio,
        r.noise_floor_dbov,
        100.0 * r.speech_ratio
    );
    if let Some(digits) = &r.dtmf {
        if digits.is_empty() {
            println!("dtmf: none");
        }
        for d in digits {
            println!(
                "dtmf {} at {:.1} ms for {:.1} ms",
                d.digit, d.start_ms, d.duration_ms
            );
        }
    }
    Ok(())
}
