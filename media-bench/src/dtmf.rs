//! DTMF receiver test material: ITU-T Q.24 acceptance cases, noise and recorded speech, run
//! through any receiver behind [`DigitDetector`], so that ours and spandsp's are judged on the
//! same signals.
//!
//! The test signals are made here with plain sines (not with media-core's generator), switched
//! on and off hard with a random phase per burst: the harsher case for a receiver.

use media_core::processing::audio::dtmf::{
    dbm0_to_peak, digit_frequencies, DetectorConfig, DtmfDetector,
};
use media_core::signal::SplitMix64;
use media_core::SampleRate;
use std::path::{Path, PathBuf};

/// The 16 DTMF digits.
pub const DIGITS: &str = "123A456B789C*0#D";

/// A DTMF receiver under test (16-bit samples at 8 kHz unless it says otherwise).
pub trait DigitDetector {
    /// A short name for tables.
    fn name(&self) -> &'static str;
    /// Feeds samples.
    fn feed(&mut self, pcm: &[i16]);
    /// Ends the stream and returns the digits found since the last call, with their start in
    /// ms when the receiver reports one.
    fn finish(&mut self) -> Vec<(char, Option<f64>)>;
}

/// media-core's detector, with the detections polled so far.
pub struct Ours(DtmfDetector, Vec<(char, Option<f64>)>);

impl Ours {
    /// Our detector with its defaults at `rate`.
    pub fn new(rate: u32) -> Self {
        match DtmfDetector::new(DetectorConfig::at_rate(SampleRate(rate))) {
            Ok(d) => Self(d, Vec::new()),
            Err(e) => panic!("detector at {rate} Hz: {e}"),
        }
    }

    /// The detector itself.
    pub fn inner(&mut self) -> &mut DtmfDetector {
        &mut self.0
    }
}

impl DigitDetector for Ours {
    fn name(&self) -> &'static str {
        "media-core"
    }
    fn feed(&mut self, pcm: &[i16]) {
        self.0.process_i16(pcm);
        while let Some(d) = self.0.poll() {
            self.1.push((d.digit, Some(d.start_ms())));
        }
    }
    fn finish(&mut self) -> Vec<(char, Option<f64>)> {
        // Push the last digit out through a pause, as a real stream would.
        self.feed(&vec![0; self.0.config().sample_rate.samples_in_ms(100)]);
        self.0.flush();
        self.feed(&[]);
        std::mem::take(&mut self.1)
    }
}

#[cfg(feature = "c-reference")]
/// spandsp's receiver (8 kHz only).
pub struct Spandsp(crate::cref::spandsp::DtmfRx);

#[cfg(feature = "c-reference")]
impl Spandsp {
    /// spandsp's receiver with its defaults.
    pub fn new() -> Self {
        match crate::cref::spandsp::DtmfRx::new() {
            Some(r) => Self(r),
            None => panic!("spandsp dtmf_rx_init failed"),
        }
    }
}

#[cfg(feature = "c-reference")]
impl Default for Spandsp {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "c-reference")]
impl DigitDetector for Spandsp {
    fn name(&self) -> &'static str {
        "spandsp"
    }
    fn feed(&mut self, pcm: &[i16]) {
        for c in pcm.chunks(160) {
            self.0.process(c);
        }
    }
    fn finish(&mut self) -> Vec<(char, Option<f64>)> {
        self.0.process(&[0; 800]);
        self.0.take_digits().chars().map(|c| (c, None)).collect()
    }
}

/// One burst of a test signal: two tones of given frequencies and levels for `on_ms`, then
/// `off_ms` of silence (or of the signal's noise).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Burst {
    /// Low tone, Hz.
    pub low_hz: f64,
    /// High tone, Hz.
    pub high_hz: f64,
    /// Low tone level, dBm0.
    pub low_dbm0: f64,
    /// High tone level, dBm0.
    pub high_dbm0: f64,
    /// Tone duration, ms.
    pub on_ms: f64,
    /// Silence after it, ms.
    pub off_ms: f64,
}

impl Burst {
    /// `digit` on its nominal frequencies at `dbm0` per tone.
    pub fn digit(digit: char, dbm0: f64, on_ms: f64, off_ms: f64) -> Self {
        let (low_hz, high_hz) = digit_frequencies(digit).unwrap_or((0.0, 0.0));
        Self {
            low_hz,
            high_hz,
            low_dbm0: dbm0,
            high_dbm0: dbm0,
            on_ms,
            off_ms,
        }
    }
}

/// Renders bursts at `rate`, each tone with a random phase, after 100 ms of lead-in (pauses of
/// 60 ms or more are lengthened by a random 0-7 ms, so that bursts fall anywhere on a
/// receiver's block grid); adds white
/// Gaussian noise at `noise_dbm0` (total power over the whole band) when given.
pub fn render(bursts: &[Burst], rate: u32, noise_dbm0: Option<f64>, seed: u64) -> Vec<i16> {
    let fs = f64::from(rate);
    let mut rng = SplitMix64(seed);
    let lead = (0.1 * fs) as usize;
    let total: f64 = bursts.iter().map(|b| b.on_ms + b.off_ms + 7.0).sum();
    let mut x = vec![0f64; lead + (total / 1000.0 * fs).ceil() as usize + 1];
    let mut at = lead as f64;
    for b in bursts {
        let n = (b.on_ms / 1000.0 * fs).round() as usize;
        let start = (at.round() as usize).min(x.len());
        let (pl, ph) = (
            rng.unit() * std::f64::consts::TAU,
            rng.unit() * std::f64::consts::TAU,
        );
        let (al, ah) = (dbm0_to_peak(b.low_dbm0), dbm0_to_peak(b.high_dbm0));
        let (wl, wh) = (
            std::f64::consts::TAU * b.low_hz / fs,
            std::f64::consts::TAU * b.high_hz / fs,
        );
        let end = (start + n).min(x.len());
        for (i, v) in x[start..end].iter_mut().enumerate() {
            let t = i as f64;
            *v += al * (wl * t + pl).sin() + ah * (wh * t + ph).sin();
        }
        at += (b.on_ms + b.off_ms) / 1000.0 * fs;
        if b.off_ms >= 60.0 {
            // Vary where bursts fall on a receiver's block grid.
            at += rng.unit() * 0.007 * fs;
        }
    }
    if let Some(db) = noise_dbm0 {
        // RMS of a 0 dBm0 signal is 10^(-6.18/20) of full scale.
        let sigma = 10f64.powf((db - 6.18) / 20.0);
        for v in x.iter_mut() {
            *v += sigma * gaussian(&mut rng);
        }
    }
    x.iter()
        .map(|v| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

fn gaussian(rng: &mut SplitMix64) -> f64 {
    let u1 = rng.unit().max(1e-300);
    let u2 = rng.unit();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Runs `bursts` through a fresh detector from `make` and returns the digits it found.
pub fn detect<D: DigitDetector>(
    make: &dyn Fn() -> D,
    bursts: &[Burst],
    rate: u32,
    noise_dbm0: Option<f64>,
    seed: u64,
) -> Vec<(char, Option<f64>)> {
    let pcm = render(bursts, rate, noise_dbm0, seed);
    let mut d = make();
    for c in pcm.chunks(rate as usize / 100) {
        d.feed(c);
    }
    d.finish()
}

/// One line of the Q.24 table: a condition, what Q.24 wants, and the share of bursts each
/// receiver accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    /// What was sent.
    pub case: String,
    /// Whether Q.24 wants the bursts accepted (`true`) or rejected.
    pub should_accept: bool,
    /// Bursts sent.
    pub sent: usize,
    /// Digits correctly reported (for accept cases) or any digit reported (reject cases).
    pub reported: usize,
}

impl CaseResult {
    /// The share of bursts that came out as Q.24 wants, 0..=1.
    pub fn score(&self) -> f64 {
        let ok = if self.should_accept {
            self.reported.min(self.sent)
        } else {
            self.sent.saturating_sub(self.reported)
        };
        ok as f64 / self.sent.max(1) as f64
    }
}

/// The burst sets of the Q.24 acceptance table, each with its name and whether it should be
/// accepted. `reps` repetitions of each digit (random phases).
pub fn q24_cases(reps: usize) -> Vec<(String, bool, Vec<Burst>, Vec<char>)> {
    let mut cases = Vec::new();
    let all = |f: &dyn Fn(char) -> Burst| -> (Vec<Burst>, Vec<char>) {
        let mut b = Vec::new();
        let mut d = Vec::new();
        for _ in 0..reps {
            for c in DIGITS.chars() {
                b.push(f(c));
                d.push(c);
            }
        }
        (b, d)
    };
    // Frequency deviation: every frequency, both signs, in every digit that uses it.
    let lows = [697.0, 770.0, 852.0, 941.0];
    let highs = [1209.0, 1336.0, 1477.0, 1633.0];
    for dev in [-3.5, -1.5, 1.5, 3.5] {
        for (group, freqs) in [("low", lows), ("high", highs)] {
            for f in freqs {
                let mut b = Vec::new();
                let mut d = Vec::new();
                for _ in 0..reps {
                    for c in DIGITS.chars() {
                        let mut burst = Burst::digit(c, -10.0, 60.0, 60.0);
                        let tone = if group == "low" {
                            &mut burst.low_hz
                        } else {
                            &mut burst.high_hz
                        };
                        if *tone == f {
                            *tone *= 1.0 + dev / 100.0;
                            b.push(burst);
                            d.push(c);
                        }
                    }
                }
                cases.push((format!("{f:.0} Hz {dev:+.1}%"), dev.abs() < 2.0, b, d));
            }
        }
    }
    // Twist (high minus low level): +4 and -8 accepted, +5 and -9 rejected.
    for (twist, ok) in [(4.0, true), (-8.0, true), (5.0, false), (-9.0, false)] {
        let (b, d) = all(&|c| {
            let mut b = Burst::digit(c, -10.0, 60.0, 60.0);
            b.low_dbm0 = -10.0 - twist / 2.0;
            b.high_dbm0 = -10.0 + twist / 2.0;
            b
        });
        cases.push((format!("twist {twist:+.0} dB"), ok, b, d));
    }
    // Duration: 40 ms accepted, 20 ms rejected.
    for (ms, ok) in [(40.0, true), (20.0, false)] {
        let (b, d) = all(&|c| Burst::digit(c, -10.0, ms, 100.0));
        cases.push((format!("tone {ms:.0} ms"), ok, b, d));
    }
    // Pause: 40 ms between identical digits gives two.
    let mut b = Vec::new();
    let mut d = Vec::new();
    for _ in 0..reps {
        for c in DIGITS.chars() {
            b.push(Burst::digit(c, -10.0, 50.0, 40.0));
            b.push(Burst::digit(c, -10.0, 50.0, 100.0));
            d.extend([c, c]);
        }
    }
    cases.push(("pause 40 ms".into(), true, b, d));
    // Levels per tone.
    for db in [-3.0, -10.0, -20.0, -25.0, -30.0] {
        let (b, d) = all(&|c| Burst::digit(c, db, 60.0, 60.0));
        cases.push((format!("level {db:.0} dBm0"), true, b, d));
    }
    cases
}

/// Counts how many of `expected` appear, in order, in `found` (a longest common subsequence,
/// so a missed or an extra digit costs only itself).
pub fn matched(expected: &[char], found: &[char]) -> usize {
    let mut prev = vec![0usize; found.len() + 1];
    for &e in expected {
        let mut cur = vec![0usize; found.len() + 1];
        for (j, &f) in found.iter().enumerate() {
            cur[j + 1] = if e == f {
                prev[j] + 1
            } else {
                cur[j].max(prev[j + 1])
            };
        }
        prev = cur;
    }
    prev[found.len()]
}

/// Runs one case through a fresh detector.
pub fn run_case<D: DigitDetector>(
    make: &dyn Fn() -> D,
    name: &str,
    accept: bool,
    bursts: &[Burst],
    expected: &[char],
    noise_dbm0: Option<f64>,
    seed: u64,
) -> CaseResult {
    let found: Vec<char> = detect(make, bursts, 8000, noise_dbm0, seed)
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    let reported = if accept {
        matched(expected, &found)
    } else {
        found.len()
    };
    CaseResult {
        case: name.to_string(),
        should_accept: accept,
        sent: bursts.len(),
        reported,
    }
}

/// Where Debian's recorded speech lives: `(directory, recurse)`.
pub const SPEECH_DIRS: [&str; 2] = [
    "/usr/share/asterisk/sounds/en_US_f_Allison",
    "/usr/share/codec2/wav",
];

/// The 8 kHz mono WAV files under the speech directories, sorted; empty if none is installed.
pub fn speech_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in SPEECH_DIRS {
        collect_wavs(Path::new(dir), &mut files);
    }
    files.sort();
    files
}

fn collect_wavs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_wavs(&p, out);
        } else if p.extension().is_some_and(|x| x == "wav") {
            out.push(p);
        }
    }
}

/// Reads the 8 kHz mono speech files until at least `min_minutes`; returns the samples of
/// each file and the minutes read.
pub fn load_speech(min_minutes: f64) -> (Vec<Vec<i16>>, f64) {
    let mut clips = Vec::new();
    let mut samples = 0usize;
    for p in speech_files() {
        let Ok(w) = media_core::wav::read_wav(&p) else {
            continue;
        };
        if w.sample_rate != 8000 || w.channels != 1 {
            continue;
        }
        samples += w.samples.len();
        clips.push(w.samples);
        if samples as f64 / 8000.0 / 60.0 >= min_minutes {
            break;
        }
    }
    let minutes = samples as f64 / 8000.0 / 60.0;
    (clips, minutes)
}

/// Feeds every clip through one detector in turn (a continuous stream) and returns the
/// digits reported.
pub fn talk_off<D: DigitDetector>(det: &mut D, clips: &[Vec<i16>]) -> Vec<(char, Option<f64>)> {
    for c in clips {
        for f in c.chunks(80) {
            det.feed(f);
        }
    }
    det.finish()
}
