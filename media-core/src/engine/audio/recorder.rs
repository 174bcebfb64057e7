//! Recording a call or a conference to WAV without ever blocking the media path.
//!
//! [`recorder`] makes a pair: a [`RecorderTap`] that lives on the media path and a
//! [`RecorderWriter`] that runs on another thread. The tap copies each frame into a bounded
//! lock-free single-producer single-consumer ring (`rtrb`); when the ring is full the frame is
//! dropped and counted, never waited for. The writer drains the ring into a 16-bit WAV file
//! and finishes it when the tap is dropped.
//!
//! Two layouts ([`RecordMode`]): a mono mix of both directions (saturating sum), or one
//! channel per direction (stereo: left = local, what this side sends; right = remote, what it
//! hears).
//!
//! Recording starts and stops mid-call without clicks: [`RecorderTap::start`] fades in over
//! [`RecorderConfig::fade_ms`] (5 ms by default) and [`RecorderTap::stop`] fades out over the
//! same before the file stops taking samples, so every edge of every recorded segment is a
//! ramp from or to zero. Start and stop can be repeated: the segments follow one another in
//! the file.

use std::fmt;
use std::io::{Seek, Write};
use std::path::Path;
use std::time::Duration;

use rtrb::{Consumer, Producer, RingBuffer};

use crate::error::WavError;

/// Why a recorder could not be made or written.
#[derive(Debug)]
#[non_exhaustive]
pub enum RecorderError {
    /// The configuration is invalid.
    InvalidConfig(String),
    /// Writing the WAV file failed.
    Wav(WavError),
}

impl fmt::Display for RecorderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidConfig(why) => write!(f, "invalid recorder configuration: {why}"),
            Self::Wav(e) => write!(f, "recording: {e}"),
        }
    }
}

impl std::error::Error for RecorderError {}

impl From<hound::Error> for RecorderError {
    fn from(e: hound::Error) -> Self {
        Self::Wav(WavError::from(e))
    }
}

/// What goes into the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordMode {
    /// One channel: local + remote (saturating).
    Mix,
    /// Two channels: left local, right remote.
    Split,
}

/// Configuration of a [`recorder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecorderConfig {
    /// Rate of the frames pushed and of the file.
    pub sample_rate: u32,
    /// Mono mix or one channel per direction.
    pub mode: RecordMode,
    /// Ring capacity in ms of audio: how long the writer may stall before frames drop.
    pub ring_ms: u32,
    /// Fade at every start and stop, ms.
    pub fade_ms: u32,
    /// Longest frame pushed, ms (sizes the tap's scratch buffer).
    pub max_frame_ms: u32,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        Self {
            sample_rate: 16000,
            mode: RecordMode::Mix,
            ring_ms: 2000,
            fade_ms: 5,
            max_frame_ms: 60,
        }
    }
}

impl RecorderConfig {
    fn channels(&self) -> usize {
        match self.mode {
            RecordMode::Mix => 1,
            RecordMode::Split => 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TapState {
    Off,
    /// Fading in: samples done.
    FadingIn(usize),
    On,
    /// Fading out: samples done.
    FadingOut(usize),
}

/// The media-path side of a recorder. Never blocks, never allocates after it is made.
pub struct RecorderTap {
    producer: Producer<i16>,
    channels: usize,
    fade: usize,
    state: TapState,
    scratch: Vec<i16>,
    dropped_frames: u64,
    recorded_samples: u64,
}

impl fmt::Debug for RecorderTap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecorderTap")
            .field("state", &self.state)
            .field("dropped_frames", &self.dropped_frames)
            .finish_non_exhaustive()
    }
}

/// The writer side of a recorder: drains the ring into a WAV file on its own thread.
pub struct RecorderWriter {
    consumer: Consumer<i16>,
    config: RecorderConfig,
}

impl fmt::Debug for RecorderWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecorderWriter")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A recorder: the tap for the media path and the writer for another thread. The tap starts
/// stopped; call [`RecorderTap::start`].
pub fn recorder(config: RecorderConfig) -> Result<(RecorderTap, RecorderWriter), RecorderError> {
    if !(1000..=384_000).contains(&config.sample_rate) {
        return Err(RecorderError::InvalidConfig(format!(
            "rate {} Hz",
            config.sample_rate
        )));
    }
    if !(10..=60_000).contains(&config.ring_ms)
        || config.fade_ms > 1000
        || !(1..=1000).contains(&config.max_frame_ms)
    {
        return Err(RecorderError::InvalidConfig(
            "ring 10..=60000 ms, fade up to 1000 ms, frames 1..=1000 ms".into(),
        ));
    }
    let ch = config.channels();
    let per_ms = config.sample_rate as usize / 1000;
    let (producer, consumer) = RingBuffer::new(per_ms.max(1) * config.ring_ms as usize * ch);
    let fade = (config.sample_rate as u64 * u64::from(config.fade_ms) / 1000) as usize;
    let scratch_len =
        (config.sample_rate as u64 * u64::from(config.max_frame_ms)).div_ceil(1000) as usize * ch;
    Ok((
        RecorderTap {
            producer,
            channels: ch,
            fade,
            state: TapState::Off,
            scratch: Vec::with_capacity(scratch_len),
            dropped_frames: 0,
            recorded_samples: 0,
        },
        RecorderWriter { consumer, config },
    ))
}

impl RecorderTap {
    /// Starts (or resumes) recording with the next frame, fading in. No effect while
    /// recording.
    pub fn start(&mut self) {
        self.state = match self.state {
            TapState::Off => {
                if self.fade == 0 {
                    TapState::On
                } else {
                    TapState::FadingIn(0)
                }
            }
            // Stopping: fade back in from the gain reached.
            TapState::FadingOut(done) => TapState::FadingIn(self.fade.saturating_sub(done)),
            s => s,
        };
    }

    /// Stops recording after a fade-out over the next frames. No effect when stopped.
    pub fn stop(&mut self) {
        self.state = match self.state {
            TapState::On => {
                if self.fade == 0 {
                    TapState::Off
                } else {
                    TapState::FadingOut(0)
                }
            }
            TapState::FadingIn(done) => TapState::FadingOut(self.fade.saturating_sub(done)),
            s => s,
        };
    }

    /// Whether frames are being recorded (including a fade in progress).
    pub fn is_recording(&self) -> bool {
        self.state != TapState::Off
    }

    /// Frames dropped because the ring was full (the writer fell behind).
    pub fn dropped_frames(&self) -> u64 {
        self.dropped_frames
    }

    /// Samples per channel handed to the writer so far.
    pub fn recorded_samples(&self) -> u64 {
        self.recorded_samples
    }

    /// One frame of both directions (same length; `remote` may be empty for silence). Returns
    /// `false` when the frame was dropped (ring full, or longer than `max_frame_ms`); never
    /// blocks.
    pub fn push(&mut self, local: &[i16], remote: &[i16]) -> bool {
        if self.state == TapState::Off {
            return true;
        }
        let n = local.len();
        if n * self.channels > self.scratch.capacity() || (!remote.is_empty() && remote.len() != n)
        {
            self.dropped_frames += 1;
            return false;
        }
        self.scratch.clear();
        let mut written = 0;
        for (i, &l) in local.iter().enumerate() {
            let gain = match self.state {
                TapState::Off => break,
                TapState::On => 1.0,
                TapState::FadingIn(d) => {
                    let g = (d + 1) as f32 / (self.fade + 1) as f32;
                    self.state = if d + 1 >= self.fade {
                        TapState::On
                    } else {
                        TapState::FadingIn(d + 1)
                    };
                    g
                }
                TapState::FadingOut(d) => {
                    let g = (self.fade - d) as f32 / (self.fade + 1) as f32;
                    self.state = if d + 1 >= self.fade {
                        TapState::Off
                    } else {
                        TapState::FadingOut(d + 1)
                    };
                    g
                }
            };
            let r = remote.get(i).copied().unwrap_or(0);
            let scale = |x: i16| -> i16 {
                if gain >= 1.0 {
                    x
                } else {
                    (f32::from(x) * gain).round() as i16
                }
            };
            if self.channels == 1 {
                self.scratch.push(scale(l.saturating_add(r)));
            } else {
                self.scratch.push(scale(l));
                self.scratch.push(scale(r));
            }
            written += 1;
        }
        if self.producer.push_entire_slice(&self.scratch).is_err() {
            self.dropped_frames += 1;
            return false;
        }
        self.recorded_samples += written;
        true
    }
}

/// What the writer wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordingReport {
    /// Samples per channel in the file.
    pub samples: u64,
}

impl RecorderWriter {
    /// Drains the ring into `sink` as WAV until the tap is dropped and the ring is empty,
    /// sleeping `poll` between empty reads. Blocks: run it on its own thread.
    pub fn run<W: Write + Seek>(
        mut self,
        sink: W,
        poll: Duration,
    ) -> Result<RecordingReport, RecorderError> {
        let ch = self.config.channels();
        let spec = hound::WavSpec {
            channels: ch as u16,
            sample_rate: self.config.sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::new(sink, spec)?;
        let mut total = 0u64;
        loop {
            let abandoned = self.consumer.is_abandoned();
            let n = self.consumer.slots();
            if n == 0 {
                if abandoned {
                    break;
                }
                std::thread::sleep(poll);
                continue;
            }
            if let Ok(chunk) = self.consumer.read_chunk(n) {
                let (a, b) = chunk.as_slices();
                for &s in a.iter().chain(b) {
                    w.write_sample(s)?;
                }
                chunk.commit_all();
                total += n as u64;
            }
        }
        w.finalize()?;
        Ok(RecordingReport {
            samples: total / ch as u64,
        })
    }

    /// Runs the writer on a new thread into the file at `path` (created now, so a bad path is
    /// reported at once).
    pub fn spawn(
        self,
        path: &Path,
    ) -> Result<std::thread::JoinHandle<Result<RecordingReport, RecorderError>>, RecorderError>
    {
        let file = std::fs::File::create(path).map_err(|e| RecorderError::Wav(WavError::Io(e)))?;
        Ok(std::thread::spawn(move || {
            self.run(std::io::BufWriter::new(file), Duration::from_millis(5))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn sine(n: usize, start: usize, rate: f32, hz: f32, amp: f32) -> Vec<i16> {
        (start..start + n)
            .map(|i| (amp * (2.0 * std::f32::consts::PI * hz * i as f32 / rate).sin()) as i16)
            .collect()
    }

    #[test]
    fn start_stop_mid_call_without_clicks() {
        let config = RecorderConfig {
            sample_rate: 16000,
            ..RecorderConfig::default()
        };
        let (mut tap, writer) = recorder(config).unwrap();
        let h = std::thread::spawn(move || {
            let mut cur = Cursor::new(Vec::new());
            writer.run(&mut cur, Duration::from_millis(1)).unwrap();
            cur.into_inner()
        });
        // A loud 1 kHz tone: the largest step between its samples is ~0.39 of its amplitude.
        let amp = 30000.0;
        let frame = 320;
        for f in 0..100 {
            match f {
                7 | 60 => tap.start(),
                30 | 80 => tap.stop(),
                _ => {}
            }
            let x = sine(frame, f * frame, 16000.0, 1000.0, amp);
            assert!(tap.push(&x, &[]));
        }
        drop(tap);
        let bytes = h.join().unwrap();
        let wav = crate::wav::read_wav_from(Cursor::new(bytes)).unwrap();
        // 23 + 20 frames recorded, each segment extended by its 5 ms fade-out (80 samples).
        assert_eq!(wav.samples.len(), (23 + 20) * frame + 2 * 80);
        let s = &wav.samples;
        // The fades add at most amp / 80 per sample (a 5 ms ramp).
        let max_step =
            (2.0 * std::f32::consts::PI * 1000.0 / 16000.0).sin() * amp + amp / 80.0 + 2.0;
        assert!(f32::from(s[0]).abs() < 0.02 * amp, "first sample {}", s[0]);
        assert!(f32::from(*s.last().unwrap()).abs() < 0.02 * amp);
        for w in s.windows(2) {
            let step = (f32::from(w[1]) - f32::from(w[0])).abs();
            assert!(step <= max_step, "step {step} > {max_step}");
        }
        // The join between the segments: the first ends at zero, the second starts at zero.
        let join = 23 * frame + 80;
        assert!(f32::from(s[join - 1]).abs() < 0.02 * amp);
        assert!(f32::from(s[join]).abs() < 0.02 * amp);
        // Without the fade the same edges would step by up to the amplitude.
        let hard = sine(frame, 7 * frame, 16000.0, 1000.0, amp);
        assert!(f32::from(hard[4]).abs() > 0.9 * amp);
    }

    #[test]
    fn full_ring_drops_and_counts_without_blocking() {
        let config = RecorderConfig {
            sample_rate: 8000,
            mode: RecordMode::Split,
            ring_ms: 100,
            ..RecorderConfig::default()
        };
        let (mut tap, writer) = recorder(config).unwrap();
        tap.start();
        let x = vec![1000i16; 160];
        let mut ok = 0;
        for _ in 0..20 {
            if tap.push(&x, &x) {
                ok += 1;
            }
        }
        // 100 ms of stereo holds five 20 ms frames; nobody drains it.
        assert_eq!(ok, 5);
        assert_eq!(tap.dropped_frames(), 15);
        drop(tap);
        let mut cur = Cursor::new(Vec::new());
        let report = writer.run(&mut cur, Duration::from_millis(1)).unwrap();
        assert_eq!(report.samples, 5 * 160);
        let wav = crate::wav::read_wav_from(Cursor::new(cur.into_inner())).unwrap();
        assert_eq!(wav.channels, 2);
    }

    #[test]
    fn split_keeps_directions_apart() {
        let config = RecorderConfig {
            sample_rate: 8000,
            mode: RecordMode::Split,
            fade_ms: 0,
            ..RecorderConfig::default()
        };
        let (mut tap, writer) = recorder(config).unwrap();
        tap.start();
        tap.push(&[1, 2, 3], &[-1, -2, -3]);
        drop(tap);
        let mut cur = Cursor::new(Vec::new());
        writer.run(&mut cur, Duration::from_millis(1)).unwrap();
        let wav = crate::wav::read_wav_from(Cursor::new(cur.into_inner())).unwrap();
        assert_eq!(wav.samples, vec![1, -1, 2, -2, 3, -3]);
    }
}
