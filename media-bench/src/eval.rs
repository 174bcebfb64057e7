//! Test material for the processing stages: real speech, noises, mixes at a given SNR, and
//! speech / non-speech labels, written as files for the Python judges (`scripts/ns_judge.py`,
//! `scripts/vad_judge.py`).
//!
//! # Speech
//!
//! Debian's `asterisk-core-sounds-en-wav` / `-g722` (one female speaker) and `codec2-examples`
//! (several speakers), decoded and resampled by ffmpeg: items of about 10 s, prompts joined
//! with 400 ms of silence. At 16 kHz the Allison item is the G.722 prompts (real wideband
//! speech); the codec2 items are 8 kHz recordings resampled (narrowband content).
//!
//! # Noises (all deterministic)
//!
//! * `pink`: white noise through Paul Kellet's 1/f filter.
//! * `brown`: white noise through a leaky integrator (1/f^2 above ~8 Hz).
//! * `babble`: six talkers from the same corpora, none of them in the item, each at the same
//!   active level and started at a different offset, summed.
//! * `music`: synthesised: a I-V-vi-IV chord progression (piano-like additive tones with a
//!   plucked envelope), a bass line and an arpeggiated melody, 120 bpm.
//!
//! Speech is scaled to -26 dBov active level (ITU-T P.56); noise to `-26 - SNR` dBov RMS.
//!
//! # Labels
//!
//! From the clean speech, per 10 ms frame of power E (dBov): with L the item's P.56 active level
//! and F the 10th percentile of E over frames that are not digital silence, a frame is raw
//! speech if `E >= max(F + 12, L - 35)`. Then gaps of up to 100 ms between speech frames are
//! filled (stop closures), runs shorter than 30 ms dropped (clicks), and each run extended by
//! one frame before and five frames (50 ms) after (the usual hangover).

use std::path::Path;
use std::process::Command;

use media_core::frame::{AudioFormat, AudioFrame, MediaTime, SampleFormat, SampleRate, Samples};
use media_core::processing::audio::level::active_speech_level;
use media_core::processing::audio::AudioStage;

/// Where Debian's speech packages put their files.
pub const ALLISON: &str = "/usr/share/asterisk/sounds/en_US_f_Allison";
/// codec2-examples' recordings.
pub const CODEC2: &str = "/usr/share/codec2/wav";

/// The noises the sweeps use.
pub const NOISES: [&str; 4] = ["pink", "brown", "babble", "music"];

/// Level of the speech in every mix, dBov (P.56 active level).
pub const SPEECH_DBOV: f64 = -26.0;

/// A clean speech item.
#[derive(Debug, Clone)]
pub struct Item {
    /// Short name.
    pub name: String,
    /// Samples, ±1.
    pub samples: Vec<f32>,
    /// Rate in Hz.
    pub rate: u32,
    /// Files (stems) it was made from, kept out of its babble.
    pub sources: Vec<String>,
}

/// Decodes `path` (anything ffmpeg reads; `.g722` raw G.722) to mono f32 at `rate`.
pub fn decode(path: &str, rate: u32) -> Result<Vec<f32>, String> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error"]);
    if path.ends_with(".g722") {
        cmd.args(["-f", "g722"]);
    }
    let out = cmd
        .args([
            "-i",
            path,
            "-ac",
            "1",
            "-ar",
            &rate.to_string(),
            "-f",
            "f32le",
            "-",
        ])
        .output()
        .map_err(|e| format!("ffmpeg: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ffmpeg failed on {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out
        .stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// Resamples with ffmpeg (soxr-quality swr), for the reference paths of the judges.
pub fn resample(x: &[f32], from: u32, to: u32) -> Result<Vec<f32>, String> {
    let dir = tempdir()?;
    let p = dir.join("in.wav");
    write_wav(&p, x, from)?;
    let r = decode(&p.to_string_lossy(), to);
    let _ = std::fs::remove_dir_all(&dir);
    r
}

fn tempdir() -> Result<std::path::PathBuf, String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "media-bench-eval-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).map_err(|e| e.to_string())?;
    Ok(d)
}

fn join(parts: &[Vec<f32>], rate: u32, secs: f32) -> Vec<f32> {
    let gap = vec![0.0; rate as usize * 4 / 10];
    let mut v = Vec::new();
    for p in parts {
        v.extend_from_slice(p);
        v.extend_from_slice(&gap);
    }
    v.truncate((secs * rate as f32) as usize);
    v
}

/// Allison prompts used for the speech item.
pub const ALLISON_PROMPTS: [&str; 5] = [
    "vm-intro",
    "vm-options",
    "conf-onlyperson",
    "vm-instructions",
    "privacy-prompt",
];

/// The speech items at `rate` (8, 16, 32 or 48 kHz): Allison (wideband from G.722 at 16 kHz
/// and up) and two codec2 items (six short sentences by several speakers; vk5qi's 12 s).
/// codec2's `mmt1`, `david4` and the radio recordings are left out: they carry loud noise of
/// their own (`david4` is noise throughout), which would spoil "clean" references and labels.
pub fn speech_items(rate: u32) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    let allison: Vec<Vec<f32>> = ALLISON_PROMPTS
        .iter()
        .map(|p| {
            if rate == 8000 {
                decode(&format!("{ALLISON}/{p}.wav"), rate)
            } else {
                decode(&format!("{ALLISON}/{p}.g722"), rate)
            }
        })
        .collect::<Result<_, _>>()?;
    items.push(Item {
        name: "allison".into(),
        samples: join(&allison, rate, 12.0),
        rate,
        sources: ALLISON_PROMPTS.iter().map(|s| s.to_string()).collect(),
    });
    let sets: [&[&str]; 2] = [
        &["hts1a", "hts2a", "cross", "morig", "forig", "big_dog"],
        &["vk5qi"],
    ];
    for (i, set) in sets.iter().enumerate() {
        let parts: Vec<Vec<f32>> = set
            .iter()
            .map(|n| decode(&format!("{CODEC2}/{n}.wav"), rate))
            .collect::<Result<_, _>>()?;
        items.push(Item {
            name: format!("codec2-{i}"),
            samples: join(&parts, rate, 12.0),
            rate,
            sources: set.iter().map(|s| s.to_string()).collect(),
        });
    }
    Ok(items)
}

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Roughly Gaussian (sum of four uniforms), unit variance.
    pub fn gauss(&mut self) -> f64 {
        let s: f64 = (0..4).map(|_| self.unit()).sum();
        (s - 2.0) * (3.0f64).sqrt()
    }
}

/// Pink noise (Paul Kellet's refined filter).
pub fn pink(n: usize, seed: u64) -> Vec<f32> {
    let mut r = Rng(seed);
    let mut b = [0.0f64; 7];
    (0..n)
        .map(|_| {
            let w = r.gauss();
            b[0] = 0.99886 * b[0] + w * 0.0555179;
            b[1] = 0.99332 * b[1] + w * 0.0750759;
            b[2] = 0.96900 * b[2] + w * 0.1538520;
            b[3] = 0.86650 * b[3] + w * 0.3104856;
            b[4] = 0.55000 * b[4] + w * 0.5329522;
            b[5] = -0.7616 * b[5] - w * 0.0168980;
            let out = b.iter().sum::<f64>() + w * 0.5362;
            b[6] = w * 0.115926;
            out as f32
        })
        .collect()
}

/// Brown noise: leaky integration of white noise.
pub fn brown(n: usize, rate: u32, seed: u64) -> Vec<f32> {
    let mut r = Rng(seed);
    let leak = 1.0 - 2.0 * std::f64::consts::PI * 8.0 / f64::from(rate);
    let mut y = 0.0;
    (0..n)
        .map(|_| {
            y = leak * y + r.gauss();
            y as f32
        })
        .collect()
}

/// Synthesised music (see the module docs).
pub fn music(n: usize, rate: u32) -> Vec<f32> {
    let fs = f64::from(rate);
    let midi = |m: f64| 440.0 * 2f64.powf((m - 69.0) / 12.0);
    // C, G, Am, F.
    let chords: [[f64; 3]; 4] = [
        [60., 64., 67.],
        [59., 62., 67.],
        [57., 60., 64.],
        [57., 60., 65.],
    ];
    let bass = [48., 43., 45., 41.];
    let beat = 0.5; // s
    let mut out = vec![0.0f64; n];
    let note = |out: &mut [f64], start: usize, len: usize, f: f64, amp: f64, decay: f64| {
        for k in 0..len.min(out.len().saturating_sub(start)) {
            let t = k as f64 / fs;
            let env = (1.0 - (-t * 200.0).exp()) * (-t * decay).exp();
            let mut v = 0.0;
            for h in 1..=6 {
                let fh = f * h as f64;
                if fh < fs / 2.0 {
                    v += (2.0 * std::f64::consts::PI * fh * t).sin() / (h * h) as f64;
                }
            }
            out[start + k] += amp * env * v;
        }
    };
    let beats = (n as f64 / fs / beat).ceil() as usize;
    for b in 0..beats {
        let start = (b as f64 * beat * fs) as usize;
        let bar = (b / 4) % 4;
        let len = (beat * 4.0 * fs) as usize;
        if b % 4 == 0 {
            for &m in &chords[bar] {
                note(&mut out, start, len, midi(m), 0.25, 1.5);
            }
            note(&mut out, start, len, midi(bass[bar]), 0.4, 1.0);
        }
        // Arpeggio in eighths.
        for e in 0..2 {
            let s = start + (e as f64 * beat / 2.0 * fs) as usize;
            let m = chords[bar][(b * 2 + e) % 3] + 12.0;
            note(&mut out, s, (beat * fs) as usize, midi(m), 0.15, 4.0);
        }
    }
    out.into_iter().map(|v| v as f32).collect()
}

/// Six-talker babble of `n` samples at `rate` from speech not in `exclude`.
pub fn babble(n: usize, rate: u32, exclude: &[String], seed: u64) -> Result<Vec<f32>, String> {
    let mut pool: Vec<String> = Vec::new();
    for p in [
        "vm-enter-num-to-call",
        "vm-leavemsg",
        "conf-getpin",
        "vm-toforwardmsg",
        "privacy-incorrect",
        "vm-passchanged",
        "conf-adminmenu",
        "vm-forwardoptions",
    ] {
        if !exclude.iter().any(|e| e == p) {
            pool.push(format!("{ALLISON}/{p}.wav"));
        }
    }
    for c in [
        "vk5qi", "hts1a", "cross", "morig", "forig", "big_dog", "hts2a",
    ] {
        if !exclude.iter().any(|e| e == c) {
            pool.push(format!("{CODEC2}/{c}.wav"));
        }
    }
    let sources: Vec<Vec<f32>> = pool
        .iter()
        .filter(|p| Path::new(p).exists())
        .map(|p| decode(p, rate))
        .collect::<Result<_, _>>()?;
    if sources.is_empty() {
        return Err("no babble sources".into());
    }
    let mut rng = Rng(seed);
    let mut out = vec![0.0f32; n];
    for t in 0..6 {
        // One talker: a random sequence of pool files, each at -26 dBov, starting at a random
        // offset.
        let mut stream = Vec::with_capacity(n + rate as usize * 4);
        let mut k = t;
        while stream.len() < n + rate as usize * 3 {
            let s = &sources[(k * 5 + (rng.next_u64() % 3) as usize) % sources.len()];
            let (lev, _) = active_speech_level(s, rate);
            let g = 10f64.powf((SPEECH_DBOV - lev) / 20.0) as f32;
            stream.extend(s.iter().map(|v| v * g));
            stream.resize(stream.len() + rate as usize / 10, 0.0);
            k += 1;
        }
        let off = (rng.unit() * f64::from(rate) * 3.0) as usize;
        for (o, s) in out.iter_mut().zip(&stream[off..]) {
            *o += s;
        }
    }
    Ok(out)
}

/// A noise of `kind` (one of [`NOISES`]) for `item`, `n` samples.
pub fn noise(kind: &str, item: &Item, n: usize, seed: u64) -> Result<Vec<f32>, String> {
    Ok(match kind {
        "pink" => pink(n, seed),
        "brown" => brown(n, item.rate, seed),
        "babble" => babble(n, item.rate, &item.sources, seed)?,
        "music" => music(n, item.rate),
        _ => return Err(format!("unknown noise {kind}")),
    })
}

fn rms_db(x: &[f32]) -> f64 {
    let s: f64 = x.iter().map(|&v| f64::from(v).powi(2)).sum();
    10.0 * (s / x.len().max(1) as f64 + 1e-30).log10()
}

/// The clean speech scaled to [`SPEECH_DBOV`], and the mix with `noise` at `snr_db`.
pub fn mix(clean: &[f32], rate: u32, noise: &[f32], snr_db: f64) -> (Vec<f32>, Vec<f32>) {
    let (lev, _) = active_speech_level(clean, rate);
    let gs = 10f64.powf((SPEECH_DBOV - lev) / 20.0) as f32;
    let speech: Vec<f32> = clean.iter().map(|v| v * gs).collect();
    let gn = 10f64.powf((SPEECH_DBOV - snr_db - rms_db(noise)) / 20.0) as f32;
    let mixed = speech
        .iter()
        .zip(noise)
        .map(|(s, n)| (s + n * gn).clamp(-1.0, 1.0))
        .collect();
    (speech, mixed)
}

/// Speech labels per 10 ms frame of `clean` (see the module docs for the rule).
pub fn labels(clean: &[f32], rate: u32) -> Vec<bool> {
    let fl = rate as usize / 100;
    let e: Vec<f64> = clean.chunks_exact(fl).map(rms_db).collect();
    let (lev, _) = active_speech_level(clean, rate);
    let mut live: Vec<f64> = e.iter().copied().filter(|&v| v > -120.0).collect();
    live.sort_by(|a, b| a.total_cmp(b));
    let floor = live.get(live.len() / 10).copied().unwrap_or(-120.0);
    let thr = (floor + 12.0).max(lev - 35.0);
    let mut lab: Vec<bool> = e.iter().map(|&v| v >= thr).collect();
    // Fill gaps up to 10 frames.
    let mut last: Option<usize> = None;
    for i in 0..lab.len() {
        if lab[i] {
            if let Some(l) = last {
                if i - l > 1 && i - l <= 11 {
                    lab[l + 1..i].fill(true);
                }
            }
            last = Some(i);
        }
    }
    // Drop runs shorter than 3 frames.
    let mut i = 0;
    while i < lab.len() {
        if lab[i] {
            let s = i;
            while i < lab.len() && lab[i] {
                i += 1;
            }
            if i - s < 3 {
                lab[s..i].fill(false);
            }
        } else {
            i += 1;
        }
    }
    // Extend: one frame before, five after.
    let orig = lab.clone();
    for i in 0..orig.len() {
        if orig[i] {
            if i > 0 {
                lab[i - 1] = true;
            }
            for l in lab.iter_mut().skip(i + 1).take(5) {
                *l = true;
            }
        }
    }
    lab
}

/// Runs `stage` over `x` in 10 ms frames (a trailing partial frame is dropped), calling
/// `each` after every frame with the stage; returns the processed signal.
pub fn run_stage(
    stage: &mut dyn AudioStage,
    x: &[f32],
    rate: u32,
    mut each: impl FnMut(&dyn AudioStage),
) -> Result<Vec<f32>, String> {
    let fl = rate as usize / 100;
    let fmt = AudioFormat {
        sample_rate: SampleRate(rate),
        channels: 1,
        sample_format: SampleFormat::F32,
    };
    let mut frame = AudioFrame::silent(fmt, fl);
    let mut out = Vec::with_capacity(x.len());
    for (k, chunk) in x.chunks_exact(fl).enumerate() {
        frame.timestamp = MediaTime((k * fl) as u64);
        if let Samples::F32(v) = &mut frame.samples {
            v.copy_from_slice(chunk);
        }
        stage.process(&mut frame).map_err(|e| e.to_string())?;
        each(stage);
        out.extend_from_slice(frame.as_f32().unwrap_or(&[]));
    }
    Ok(out)
}

/// Writes mono 16-bit WAV (what PESQ and webrtcvad take).
pub fn write_wav(path: &Path, x: &[f32], rate: u32) -> Result<(), String> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(|e| e.to_string())?;
    for &v in x {
        let s = (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
        w.write_sample(s).map_err(|e| e.to_string())?;
    }
    w.finalize().map_err(|e| e.to_string())
}

/// Labels as a string of '0' / '1', one per 10 ms frame.
pub fn label_string(l: &[bool]) -> String {
    l.iter().map(|&b| if b { '1' } else { '0' }).collect()
}

/// The workspace root (where `.venv` and `scripts/` are).
pub fn workspace_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The judge's Python, or `None` (after saying why) when it is missing and
/// `MEDIA_CORE_SKIP_EXTERNAL` is set; panics with instructions otherwise.
pub fn python_or_skip() -> Option<std::path::PathBuf> {
    let py = workspace_root().join(".venv/bin/python");
    let tools = py.exists()
        && Path::new(ALLISON).exists()
        && Path::new(CODEC2).exists()
        && Command::new("ffmpeg").arg("-version").output().is_ok();
    if tools {
        return Some(py);
    }
    if std::env::var_os("MEDIA_CORE_SKIP_EXTERNAL").is_some() {
        eprintln!("skipping: .venv, speech packages or ffmpeg missing (MEDIA_CORE_SKIP_EXTERNAL)");
        return None;
    }
    panic!(
        "{} or the speech packages / ffmpeg are missing: run scripts/setup.sh",
        py.display()
    );
}

/// The frame format of an f32 mono stream at `rate`.
pub fn f32_format(rate: u32) -> AudioFormat {
    AudioFormat {
        sample_rate: SampleRate(rate),
        channels: 1,
        sample_format: SampleFormat::F32,
    }
}

/// One mix of the VAD set.
#[derive(Debug, Clone)]
pub struct VadCase {
    /// Rate, Hz.
    pub rate: u32,
    /// Speech item name.
    pub item: String,
    /// Noise kind.
    pub noise: String,
    /// SNR, dB.
    pub snr: f64,
    /// The mix (16-bit WAV) path.
    pub wav: std::path::PathBuf,
    /// Labels, one '0'/'1' per frame.
    pub labels: String,
    /// Our decisions, one '0'/'1' per frame.
    pub ours: String,
}

/// Writes the VAD set into `dir`: for each rate, item, noise and SNR, the mix as WAV, the
/// labels and our detector's decisions (default configuration, with `rest_in_pauses` as
/// given), and `manifest.json` listing them for `scripts/vad_judge.py`. Returns the cases.
pub fn write_vad_set(
    dir: &Path,
    rates: &[u32],
    noises: &[&str],
    snrs: &[f64],
    max_items: usize,
    rest_in_pauses: bool,
) -> Result<Vec<VadCase>, String> {
    write_vad_set_with(
        dir,
        rates,
        noises,
        snrs,
        max_items,
        our_vad_decisions(rest_in_pauses),
    )
}

/// Our detector's decisions on a mix at `rate` (default configuration, with
/// `rest_in_pauses` as given, a fresh detector per mix): one '0'/'1' per 10 ms frame, as the
/// `decide` of [`write_vad_set_with`] and [`write_vad_set_variant`] takes them.
pub fn our_vad_decisions(
    rest_in_pauses: bool,
) -> impl FnMut(&[f32], u32) -> Result<String, String> {
    use media_core::processing::audio::{VadConfig, VoiceActivityDetector};
    move |mixed, rate| {
        let mut cfg = VadConfig::at(SampleRate(rate));
        cfg.rest_in_pauses = rest_in_pauses;
        let mut vad = VoiceActivityDetector::new(cfg).map_err(|e| e.to_string())?;
        let fl = rate as usize / 100;
        let mut ours = String::with_capacity(mixed.len() / fl);
        for chunk in mixed.chunks_exact(fl) {
            let s = vad.process_samples(chunk).map_err(|e| e.to_string())?;
            ours.push(if s { '1' } else { '0' });
        }
        Ok(ours)
    }
}

/// [`write_vad_set`] with the decisions made by `decide(mix, rate)` (one '0'/'1' per 10 ms
/// frame of the mix).
pub fn write_vad_set_with(
    dir: &Path,
    rates: &[u32],
    noises: &[&str],
    snrs: &[f64],
    max_items: usize,
    decide: impl FnMut(&[f32], u32) -> Result<String, String>,
) -> Result<Vec<VadCase>, String> {
    write_vad_set_variant(dir, rates, noises, snrs, max_items, 0, decide)
}

/// [`write_vad_set_with`] on held-out noise: `variant` 0 is the usual set; another variant
/// draws the pink, brown and babble noises from other seeds and starts the music
/// `1.7 * variant` seconds into the piece (other chords and notes under the speech), for
/// checking that a change tuned on the usual set carries over.
pub fn write_vad_set_variant(
    dir: &Path,
    rates: &[u32],
    noises: &[&str],
    snrs: &[f64],
    max_items: usize,
    variant: u64,
    mut decide: impl FnMut(&[f32], u32) -> Result<String, String>,
) -> Result<Vec<VadCase>, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut cases = Vec::new();
    for &rate in rates {
        for (ii, item) in speech_items(rate)?.into_iter().take(max_items).enumerate() {
            let lab = labels(&item.samples, rate);
            for (ni, &kind) in noises.iter().enumerate() {
                let n = item.samples.len();
                let skip = if kind == "music" {
                    (1.7 * variant as f64 * f64::from(rate)) as usize
                } else {
                    0
                };
                let seed = 1000 + 7919 * variant + (ii * 10 + ni) as u64;
                let nz = noise(kind, &item, n + skip, seed)?.split_off(skip);
                for &snr in snrs {
                    let (_, mixed) = mix(&item.samples, rate, &nz, snr);
                    let ours = decide(&mixed, rate)?;
                    let wav = dir.join(format!("{rate}-{}-{kind}-{snr}.wav", item.name));
                    write_wav(&wav, &mixed, rate)?;
                    cases.push(VadCase {
                        rate,
                        item: item.name.clone(),
                        noise: kind.to_string(),
                        snr,
                        wav,
                        labels: label_string(&lab),
                        ours,
                    });
                }
            }
        }
    }
    let mut json = String::from("[\n");
    for (i, c) in cases.iter().enumerate() {
        json.push_str(&format!(
            "{{\"rate\": {}, \"item\": \"{}\", \"noise\": \"{}\", \"snr\": {}, \"wav\": \"{}\", \"labels\": \"{}\", \"ours\": \"{}\"}}{}\n",
            c.rate,
            c.item,
            c.noise,
            c.snr,
            c.wav.display(),
            c.labels,
            c.ours,
            if i + 1 < cases.len() { "," } else { "" }
        ));
    }
    json.push_str("]\n");
    std::fs::write(dir.join("manifest.json"), json).map_err(|e| e.to_string())?;
    Ok(cases)
}

/// Runs our [`media_core::processing::audio::NoiseSuppressor`] over `x` at `rate` with
/// `config`'s attenuation limit, returning the output aligned with the input (its latency
/// removed).
pub fn ours_ns(x: &[f32], rate: u32, max_attenuation_db: Option<f32>) -> Result<Vec<f32>, String> {
    use media_core::processing::audio::{NoiseSuppressor, NsConfig};
    let mut cfg = NsConfig::at(SampleRate(rate));
    cfg.max_attenuation_db = max_attenuation_db;
    let mut ns = NoiseSuppressor::new(cfg).map_err(|e| e.to_string())?;
    let lat = ns.latency_samples();
    let fl = rate as usize / 100;
    let mut padded = x.to_vec();
    padded.resize((x.len() + lat).div_ceil(fl) * fl, 0.0);
    let y = run_stage(&mut ns, &padded, rate, |_| {})?;
    Ok(y[lat..lat + x.len()].to_vec())
}

/// nnnoiseless as its authors ship it, for reference: the input resampled to 48 kHz by ffmpeg,
/// `DenoiseState::process_frame` on 480-sample frames, its one-frame delay removed, and the
/// output resampled back by ffmpeg.
pub fn reference_nnnoiseless(x: &[f32], rate: u32) -> Result<Vec<f32>, String> {
    let x48 = if rate == 48000 {
        x.to_vec()
    } else {
        resample(x, rate, 48000)?
    };
    let mut st = nnnoiseless::DenoiseState::new();
    let mut y48 = Vec::with_capacity(x48.len() + 960);
    let mut inb = [0.0f32; 480];
    let mut outb = [0.0f32; 480];
    let mut padded = x48.clone();
    padded.resize((x48.len() + 480).div_ceil(480) * 480, 0.0);
    for c in padded.chunks_exact(480) {
        for (i, v) in inb.iter_mut().zip(c) {
            *i = v * 32768.0;
        }
        st.process_frame(&mut outb, &inb);
        y48.extend(outb.iter().map(|v| (v / 32768.0).clamp(-1.0, 1.0)));
    }
    let y48 = y48[480..480 + x48.len()].to_vec();
    let mut y = if rate == 48000 {
        y48
    } else {
        resample(&y48, 48000, rate)?
    };
    y.resize(x.len(), 0.0);
    Ok(y)
}

/// Writes an NS set into `dir` for `scripts/ns_judge.py`: for each (rate, noise, SNR) in
/// `cases` and each of the first `max_items` items, the clean speech, the noisy mix, our
/// suppressor's output and nnnoiseless's ([`reference_nnnoiseless`]), and `manifest.json`.
pub fn write_ns_set(
    dir: &Path,
    cases: &[(u32, &str, f64)],
    max_items: usize,
) -> Result<std::path::PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut entries = Vec::new();
    let mut rates: Vec<u32> = cases.iter().map(|c| c.0).collect();
    rates.dedup();
    for rate in rates {
        for (ii, item) in speech_items(rate)?.into_iter().take(max_items).enumerate() {
            for &(r, kind, snr) in cases {
                if r != rate {
                    continue;
                }
                let ni = NOISES.iter().position(|n| *n == kind).unwrap_or(0);
                let nz = noise(
                    kind,
                    &item,
                    item.samples.len(),
                    2000 + (ii * 10 + ni) as u64,
                )?;
                let (clean, noisy) = mix(&item.samples, rate, &nz, snr);
                let stem = format!("{rate}-{}-{kind}-{snr}", item.name);
                let files = [
                    ("clean", clean),
                    ("ours", ours_ns(&noisy, rate, None)?),
                    ("nnnoiseless", reference_nnnoiseless(&noisy, rate)?),
                    ("noisy", noisy),
                ];
                let mut json = format!(
                    "{{\"rate\": {rate}, \"item\": \"{}\", \"noise\": \"{kind}\", \"snr\": {snr}",
                    item.name
                );
                for (name, x) in &files {
                    let p = dir.join(format!("{stem}-{name}.wav"));
                    write_wav(&p, x, rate)?;
                    json.push_str(&format!(", \"{name}\": \"{}\"", p.display()));
                }
                json.push('}');
                entries.push(json);
            }
        }
    }
    let manifest = dir.join("manifest.json");
    std::fs::write(&manifest, format!("[\n{}\n]\n", entries.join(",\n")))
        .map_err(|e| e.to_string())?;
    Ok(manifest)
}
