//! Plain audio frames and the newtypes they carry. A frame always carries its format, so no stage
//! has to guess it; a [`FramePool`] lets a steady-state pipeline reuse frame buffers.

use std::fmt;
use std::time::Duration;

/// A sample rate in Hz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SampleRate(pub u32);

impl SampleRate {
    /// 8 kHz, narrowband telephony.
    pub const HZ_8000: Self = Self(8000);
    /// 16 kHz, wideband.
    pub const HZ_16000: Self = Self(16000);
    /// 32 kHz, super-wideband.
    pub const HZ_32000: Self = Self(32000);
    /// 44.1 kHz, CD audio.
    pub const HZ_44100: Self = Self(44100);
    /// 48 kHz, fullband.
    pub const HZ_48000: Self = Self(48000);

    /// The rate in Hz.
    pub const fn hz(self) -> u32 {
        self.0
    }

    /// Samples per channel in `ms` milliseconds (rounded down).
    pub const fn samples_in_ms(self, ms: u32) -> usize {
        (self.0 as u64 * ms as u64 / 1000) as usize
    }
}

impl fmt::Display for SampleRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Hz", self.0)
    }
}

/// A media timestamp: a count of samples per channel since the start of the stream, at the
/// stream's sample rate. Wraps only after 2^64 samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MediaTime(pub u64);

impl MediaTime {
    /// The timestamp as a duration at `rate`.
    pub fn to_duration(self, rate: SampleRate) -> Duration {
        let secs = self.0 / u64::from(rate.0.max(1));
        let rem = self.0 % u64::from(rate.0.max(1));
        Duration::from_secs(secs)
            + Duration::from_nanos(rem * 1_000_000_000 / u64::from(rate.0.max(1)))
    }

    /// This timestamp advanced by `samples`.
    pub const fn advanced(self, samples: u64) -> Self {
        Self(self.0.wrapping_add(samples))
    }
}

/// How samples are stored in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleFormat {
    /// Signed 16-bit integers, full scale ±32768.
    I16,
    /// 32-bit floats, full scale ±1.0.
    F32,
}

/// Everything needed to interpret a buffer of samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AudioFormat {
    /// Samples per second per channel.
    pub sample_rate: SampleRate,
    /// Interleaved channels (1 = mono, 2 = stereo).
    pub channels: u16,
    /// Sample storage.
    pub sample_format: SampleFormat,
}

impl AudioFormat {
    /// Mono 16-bit at `rate` Hz, the usual telephony format.
    pub const fn mono_i16(rate: u32) -> Self {
        Self {
            sample_rate: SampleRate(rate),
            channels: 1,
            sample_format: SampleFormat::I16,
        }
    }

    /// Interleaved samples in `ms` milliseconds.
    pub const fn samples_in_ms(&self, ms: u32) -> usize {
        self.sample_rate.samples_in_ms(ms) * self.channels as usize
    }
}

/// Per-frame flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FrameFlags(u8);

impl FrameFlags {
    /// No flag set.
    pub const NONE: Self = Self(0);
    /// The frame was synthesised by packet loss concealment, not decoded from received data.
    pub const CONCEALED: Self = Self(1);
    /// The frame is silence (DTX gap, comfort noise, or muted input).
    pub const SILENCE: Self = Self(2);

    /// Whether every flag in `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets the flags in `other`.
    pub fn insert(&mut self, other: Self) {
        self.0 |= other.0;
    }

    /// Clears the flags in `other`.
    pub fn remove(&mut self, other: Self) {
        self.0 &= !other.0;
    }
}

/// Interleaved sample storage.
#[derive(Debug, Clone, PartialEq)]
pub enum Samples {
    /// 16-bit integer samples.
    I16(Vec<i16>),
    /// 32-bit float samples.
    F32(Vec<f32>),
}

impl Samples {
    /// Interleaved sample count.
    pub fn len(&self) -> usize {
        match self {
            Self::I16(v) => v.len(),
            Self::F32(v) => v.len(),
        }
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The storage format.
    pub fn format(&self) -> SampleFormat {
        match self {
            Self::I16(_) => SampleFormat::I16,
            Self::F32(_) => SampleFormat::F32,
        }
    }
}

/// A block of interleaved audio with its format and position in the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioFrame {
    /// Samples per second per channel.
    pub sample_rate: SampleRate,
    /// Interleaved channel count.
    pub channels: u16,
    /// Position of the first sample, in samples per channel since the stream start.
    pub timestamp: MediaTime,
    /// Concealed / silence markers.
    pub flags: FrameFlags,
    /// The samples, interleaved.
    pub samples: Samples,
}

impl AudioFrame {
    /// A frame of `samples_per_channel` zero samples.
    pub fn silent(format: AudioFormat, samples_per_channel: usize) -> Self {
        let n = samples_per_channel * usize::from(format.channels);
        let samples = match format.sample_format {
            SampleFormat::I16 => Samples::I16(vec![0; n]),
            SampleFormat::F32 => Samples::F32(vec![0.0; n]),
        };
        Self {
            sample_rate: format.sample_rate,
            channels: format.channels,
            timestamp: MediaTime(0),
            flags: FrameFlags::SILENCE,
            samples,
        }
    }

    /// A frame holding the given 16-bit interleaved samples.
    pub fn from_i16(format: AudioFormat, timestamp: MediaTime, samples: Vec<i16>) -> Self {
        Self {
            sample_rate: format.sample_rate,
            channels: format.channels,
            timestamp,
            flags: FrameFlags::NONE,
            samples: Samples::I16(samples),
        }
    }

    /// The frame's format.
    pub fn format(&self) -> AudioFormat {
        AudioFormat {
            sample_rate: self.sample_rate,
            channels: self.channels,
            sample_format: self.samples.format(),
        }
    }

    /// Samples per channel.
    pub fn samples_per_channel(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }

    /// The frame's duration.
    pub fn duration(&self) -> Duration {
        MediaTime(self.samples_per_channel() as u64).to_duration(self.sample_rate)
    }

    /// The samples as 16-bit, if stored that way.
    pub fn as_i16(&self) -> Option<&[i16]> {
        match &self.samples {
            Samples::I16(v) => Some(v),
            Samples::F32(_) => None,
        }
    }

    /// The samples as 16-bit, mutably, if stored that way.
    pub fn as_i16_mut(&mut self) -> Option<&mut [i16]> {
        match &mut self.samples {
            Samples::I16(v) => Some(v),
            Samples::F32(_) => None,
        }
    }

    /// The samples as f32, if stored that way.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.samples {
            Samples::F32(v) => Some(v),
            Samples::I16(_) => None,
        }
    }

    /// The samples as f32, mutably, if stored that way.
    pub fn as_f32_mut(&mut self) -> Option<&mut [f32]> {
        match &mut self.samples {
            Samples::F32(v) => Some(v),
            Samples::I16(_) => None,
        }
    }
}

/// A pool of same-format frames so that a steady-state pipeline allocates nothing: take a frame,
/// fill it, hand it back with [`FramePool::put`]. Single-threaded by design (sans-IO core); the
/// pool counts how often it had to allocate, which should stop growing after warm-up.
#[derive(Debug)]
pub struct FramePool {
    format: AudioFormat,
    samples_per_channel: usize,
    free: Vec<AudioFrame>,
    allocated: usize,
}

impl FramePool {
    /// A pool of frames of `samples_per_channel` in `format`, with `capacity` frames made now.
    pub fn new(format: AudioFormat, samples_per_channel: usize, capacity: usize) -> Self {
        let free = (0..capacity)
            .map(|_| AudioFrame::silent(format, samples_per_channel))
            .collect();
        Self {
            format,
            samples_per_channel,
            free,
            allocated: capacity,
        }
    }

    /// The format of the pool's frames.
    pub fn format(&self) -> AudioFormat {
        self.format
    }

    /// A frame from the pool (contents are whatever it last held; timestamp and flags reset),
    /// or a new one if the pool is empty.
    pub fn take(&mut self) -> AudioFrame {
        match self.free.pop() {
            Some(mut f) => {
                f.timestamp = MediaTime(0);
                f.flags = FrameFlags::NONE;
                f
            }
            None => {
                self.allocated += 1;
                AudioFrame::silent(self.format, self.samples_per_channel)
            }
        }
    }

    /// Returns a frame to the pool. Frames of another format or size are dropped, not kept.
    pub fn put(&mut self, frame: AudioFrame) {
        let fits = frame.format() == self.format
            && frame.samples.len() == self.samples_per_channel * usize::from(self.format.channels);
        if fits {
            // Pushing past the free list's capacity allocates; that only happens while warming up.
            self.free.push(frame);
        }
    }

    /// Frames the pool has created in total.
    pub fn allocated(&self) -> usize {
        self.allocated
    }

    /// Frames ready to be taken.
    pub fn available(&self) -> usize {
        self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_reuses_frames() {
        let mut pool = FramePool::new(AudioFormat::mono_i16(8000), 160, 2);
        let a = pool.take();
        let b = pool.take();
        pool.put(a);
        pool.put(b);
        for _ in 0..100 {
            let f = pool.take();
            pool.put(f);
        }
        assert_eq!(pool.allocated(), 2);
        let c = pool.take();
        let d = pool.take();
        let e = pool.take();
        assert_eq!(pool.allocated(), 3);
        assert_eq!(e.samples.len(), 160);
        pool.put(c);
        pool.put(d);
        // A frame of another size is not kept.
        pool.put(AudioFrame::silent(AudioFormat::mono_i16(8000), 80));
        assert_eq!(pool.available(), 2);
    }

    #[test]
    fn media_time_duration() {
        assert_eq!(
            MediaTime(12_000).to_duration(SampleRate::HZ_8000),
            Duration::from_millis(1500)
        );
        assert_eq!(AudioFormat::mono_i16(16000).samples_in_ms(20), 320);
    }
}
