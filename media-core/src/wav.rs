//! WAV reading and writing (through `hound`). Reads 8/16/24/32-bit integer PCM and 32-bit float,
//! mono or stereo, at any rate, into 16-bit samples; writes 16-bit PCM.

use std::io::{Read, Seek, Write};
use std::path::Path;

use crate::error::WavError;
use crate::frame::{AudioFormat, SampleFormat, SampleRate};
use crate::processing::format::f32_to_i16;

/// A whole WAV file in memory as interleaved 16-bit samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WavAudio {
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// 1 or 2.
    pub channels: u16,
    /// Interleaved samples.
    pub samples: Vec<i16>,
}

impl WavAudio {
    /// The audio's format.
    pub fn format(&self) -> AudioFormat {
        AudioFormat {
            sample_rate: SampleRate(self.sample_rate),
            channels: self.channels,
            sample_format: SampleFormat::I16,
        }
    }

    /// Duration in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64
            / f64::from(self.channels.max(1))
            / f64::from(self.sample_rate.max(1))
    }
}

/// Most samples we read from one file (about 3 hours of 48 kHz stereo), so a corrupt length
/// field cannot make us allocate without bound.
const MAX_SAMPLES: usize = 1 << 30;

/// Reads a WAV file.
pub fn read_wav(path: impl AsRef<Path>) -> Result<WavAudio, WavError> {
    let file = std::fs::File::open(path.as_ref()).map_err(WavError::Io)?;
    read_wav_from(std::io::BufReader::new(file))
}

/// Reads WAV data from any reader.
pub fn read_wav_from<R: Read>(reader: R) -> Result<WavAudio, WavError> {
    let mut r = hound::WavReader::new(reader)?;
    let spec = r.spec();
    if spec.channels == 0 || spec.channels > 2 {
        return Err(WavError::Unsupported(format!(
            "{} channels (mono or stereo only)",
            spec.channels
        )));
    }
    if spec.sample_rate == 0 || spec.sample_rate > 384_000 {
        return Err(WavError::Unsupported(format!(
            "sample rate {} Hz",
            spec.sample_rate
        )));
    }
    let declared = r.len() as usize;
    if declared > MAX_SAMPLES {
        return Err(WavError::Malformed(format!(
            "declares {declared} samples, more than the {MAX_SAMPLES} we read"
        )));
    }
    let mut samples = Vec::with_capacity(declared.min(1 << 22));
    match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, 8) => {
            for s in r.samples::<i8>() {
                samples.push(i16::from(s?) << 8);
            }
        }
        (hound::SampleFormat::Int, 16) => {
            for s in r.samples::<i16>() {
                samples.push(s?);
            }
        }
        (hound::SampleFormat::Int, 24) => {
            for s in r.samples::<i32>() {
                samples.push(round_shift(s?, 8));
            }
        }
        (hound::SampleFormat::Int, 32) => {
            for s in r.samples::<i32>() {
                samples.push(round_shift(s?, 16));
            }
        }
        (hound::SampleFormat::Float, 32) => {
            let mut one = [0i16];
            for s in r.samples::<f32>() {
                f32_to_i16(&[s?], &mut one);
                samples.push(one[0]);
            }
        }
        (fmt, bits) => {
            return Err(WavError::Unsupported(format!(
                "{bits}-bit {}",
                if fmt == hound::SampleFormat::Int {
                    "integer"
                } else {
                    "float"
                }
            )))
        }
    }
    if samples.len() % usize::from(spec.channels) != 0 {
        return Err(WavError::Malformed("truncated sample frame".into()));
    }
    Ok(WavAudio {
        sample_rate: spec.sample_rate,
        channels: spec.channels,
        samples,
    })
}

fn round_shift(x: i32, shift: u32) -> i16 {
    let r = (i64::from(x) + (1 << (shift - 1))) >> shift;
    r.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16
}

/// Writes 16-bit PCM WAV.
pub fn write_wav(path: impl AsRef<Path>, audio: &WavAudio) -> Result<(), WavError> {
    let file = std::fs::File::create(path.as_ref()).map_err(WavError::Io)?;
    write_wav_to(std::io::BufWriter::new(file), audio)
}

/// Writes 16-bit PCM WAV to any seekable writer.
pub fn write_wav_to<W: Write + Seek>(writer: W, audio: &WavAudio) -> Result<(), WavError> {
    let spec = hound::WavSpec {
        channels: audio.channels,
        sample_rate: audio.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::new(writer, spec)?;
    {
        let mut w16 = w.get_i16_writer(audio.samples.len() as u32);
        for &s in &audio.samples {
            w16.write_sample(s);
        }
        w16.flush()?;
    }
    w.finalize()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn wav_bytes(
        spec: hound::WavSpec,
        write: impl FnOnce(&mut hound::WavWriter<&mut Cursor<Vec<u8>>>),
    ) -> Vec<u8> {
        let mut cur = Cursor::new(Vec::new());
        {
            let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
            write(&mut w);
            w.finalize().unwrap();
        }
        cur.into_inner()
    }

    #[test]
    fn reads_every_supported_depth() {
        let spec = |bits, fmt| hound::WavSpec {
            channels: 2,
            sample_rate: 44100,
            bits_per_sample: bits,
            sample_format: fmt,
        };
        let b8 = wav_bytes(spec(8, hound::SampleFormat::Int), |w| {
            w.write_sample(64i8).unwrap();
            w.write_sample(-128i8).unwrap();
        });
        assert_eq!(
            read_wav_from(Cursor::new(b8)).unwrap().samples,
            vec![16384, -32768]
        );
        let b24 = wav_bytes(spec(24, hound::SampleFormat::Int), |w| {
            w.write_sample(0x40_0000i32).unwrap();
            w.write_sample(-0x80_0000i32).unwrap();
        });
        assert_eq!(
            read_wav_from(Cursor::new(b24)).unwrap().samples,
            vec![16384, -32768]
        );
        let b32 = wav_bytes(spec(32, hound::SampleFormat::Int), |w| {
            w.write_sample(i32::MAX).unwrap();
            w.write_sample(i32::MIN).unwrap();
        });
        assert_eq!(
            read_wav_from(Cursor::new(b32)).unwrap().samples,
            vec![32767, -32768]
        );
        let bf = wav_bytes(spec(32, hound::SampleFormat::Float), |w| {
            w.write_sample(0.5f32).unwrap();
            w.write_sample(-1.0f32).unwrap();
        });
        let a = read_wav_from(Cursor::new(bf)).unwrap();
        assert_eq!(
            (a.samples.as_slice(), a.channels, a.sample_rate),
            (&[16384i16, -32768][..], 2, 44100)
        );
    }

    #[test]
    fn rejects_three_channels() {
        let spec = hound::WavSpec {
            channels: 3,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let b = wav_bytes(spec, |w| {
            for _ in 0..3 {
                w.write_sample(0i16).unwrap();
            }
        });
        assert!(matches!(
            read_wav_from(Cursor::new(b)),
            Err(WavError::Unsupported(_))
        ));
        assert!(matches!(
            read_wav_from(Cursor::new(b"RIFFxxxxWAVE".to_vec())),
            Err(WavError::Malformed(_) | WavError::Io(_))
        ));
    }

    #[test]
    fn write_then_read() {
        let a = WavAudio {
            sample_rate: 16000,
            channels: 1,
            samples: (0..1000).map(|i| (i * 30) as i16).collect(),
        };
        let mut cur = Cursor::new(Vec::new());
        write_wav_to(&mut cur, &a).unwrap();
        assert_eq!(read_wav_from(Cursor::new(cur.into_inner())).unwrap(), a);
    }
}
