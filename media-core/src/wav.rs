//! WAV reading and writing (through `hound`). Reads 8/16/24/32-bit integer PCM and 32-bit float,
//! and G.711 µ-law / A-law WAVs (format tags 7 and 6, as call recorders write them; `hound`
//! does not read those, so a small RIFF walker here does), mono or stereo, at any rate, into
//! 16-bit samples; writes 16-bit PCM.

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

/// Most bytes we read from one file before deciding it is too large.
const MAX_BYTES: u64 = 2 * MAX_SAMPLES as u64 * 2 + 1024;

/// Reads WAV data from any reader.
pub fn read_wav_from<R: Read>(mut reader: R) -> Result<WavAudio, WavError> {
    let mut bytes = Vec::new();
    reader
        .by_ref()
        .take(MAX_BYTES)
        .read_to_end(&mut bytes)
        .map_err(WavError::Io)?;
    if let Some(g711) = g711_wav(&bytes)? {
        return Ok(g711);
    }
    read_pcm_wav(std::io::Cursor::new(bytes))
}

/// WAVE_FORMAT_ALAW, WAVE_FORMAT_MULAW and WAVE_FORMAT_EXTENSIBLE.
const TAG_ALAW: u16 = 6;
const TAG_MULAW: u16 = 7;
const TAG_EXTENSIBLE: u16 = 0xFFFE;

/// Decodes a G.711 WAV file, or returns `None` when `bytes` is some other kind of WAV (left to
/// `hound`, which also reports files that are not RIFF/WAVE at all).
fn g711_wav(bytes: &[u8]) -> Result<Option<WavAudio>, WavError> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Ok(None);
    }
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let mut fmt: Option<&[u8]> = None;
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let len = u32_at(bytes, pos + 4) as usize;
        let body_start = pos + 8;
        // A data chunk may claim more than the file holds (streamed recordings); take what is there.
        let body_end = body_start.saturating_add(len).min(bytes.len());
        let body = &bytes[body_start..body_end];
        if id == b"fmt " {
            if body.len() < 16 {
                return Err(WavError::Malformed(
                    "fmt chunk shorter than 16 bytes".into(),
                ));
            }
            let mut tag = u16_at(body, 0);
            if tag == TAG_EXTENSIBLE {
                // The sub-format GUID starts with the format tag.
                if body.len() < 26 {
                    return Err(WavError::Malformed(
                        "short WAVE_FORMAT_EXTENSIBLE fmt chunk".into(),
                    ));
                }
                tag = u16_at(body, 24);
            }
            if tag != TAG_ALAW && tag != TAG_MULAW {
                return Ok(None);
            }
            fmt = Some(body);
        } else if id == b"data" {
            let Some(f) = fmt else {
                return Err(WavError::Malformed("data chunk before fmt chunk".into()));
            };
            let channels = u16_at(f, 2);
            let sample_rate = u32_at(f, 4);
            let bits = u16_at(f, 14);
            let mu = if u16_at(f, 0) == TAG_EXTENSIBLE {
                u16_at(f, 24) == TAG_MULAW
            } else {
                u16_at(f, 0) == TAG_MULAW
            };
            check_layout(channels, sample_rate)?;
            if bits != 8 {
                return Err(WavError::Unsupported(format!(
                    "{bits}-bit G.711 (8-bit only)"
                )));
            }
            if body.len() > MAX_SAMPLES {
                return Err(WavError::Malformed(format!(
                    "holds {} samples, more than the {MAX_SAMPLES} we read",
                    body.len()
                )));
            }
            let usable = body.len() - body.len() % usize::from(channels);
            let mut samples = vec![0i16; usable];
            if mu {
                crate::codec::audio::g711::decode_ulaw(&body[..usable], &mut samples);
            } else {
                crate::codec::audio::g711::decode_alaw(&body[..usable], &mut samples);
            }
            return Ok(Some(WavAudio {
                sample_rate,
                channels,
                samples,
            }));
        }
        // Chunks are padded to an even length.
        pos = body_start.saturating_add(len).saturating_add(len & 1);
    }
    if fmt.is_some() {
        return Err(WavError::Malformed("G.711 WAV without a data chunk".into()));
    }
    Ok(None)
}

fn check_layout(channels: u16, sample_rate: u32) -> Result<(), WavError> {
    if channels == 0 || channels > 2 {
        return Err(WavError::Unsupported(format!(
            "{channels} channels (mono or stereo only)"
        )));
    }
    if sample_rate == 0 || sample_rate > 384_000 {
        return Err(WavError::Unsupported(format!(
            "sample rate {sample_rate} Hz"
        )));
    }
    Ok(())
}

/// Reads an integer or float PCM WAV through `hound`.
fn read_pcm_wav<R: Read>(reader: R) -> Result<WavAudio, WavError> {
    let mut r = hound::WavReader::new(reader)?;
    let spec = r.spec();
    check_layout(spec.channels, spec.sample_rate)?;
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

    /// A G.711 WAV as sox and call recorders write it: fmt (18 bytes), fact, data.
    fn g711_wav_bytes(tag: u16, channels: u16, codes: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(4 + 26 + 12 + 8 + codes.len() as u32).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&18u32.to_le_bytes());
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&8000u32.to_le_bytes());
        b.extend_from_slice(&(8000 * u32::from(channels)).to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&8u16.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(b"fact");
        b.extend_from_slice(&4u32.to_le_bytes());
        b.extend_from_slice(&(codes.len() as u32).to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&(codes.len() as u32).to_le_bytes());
        b.extend_from_slice(codes);
        b
    }

    #[test]
    fn reads_g711_wavs() {
        // µ-law 0x00 is -32124, 0xFF is 0; A-law 0xD5 is 8, 0x2A is -32256 (G.711 tables).
        let mu = read_wav_from(Cursor::new(g711_wav_bytes(7, 1, &[0x00, 0xFF, 0x80]))).unwrap();
        assert_eq!((mu.sample_rate, mu.channels), (8000, 1));
        assert_eq!(mu.samples, vec![-32124, 0, 32124]);
        let a = read_wav_from(Cursor::new(g711_wav_bytes(6, 2, &[0xD5, 0x2A]))).unwrap();
        assert_eq!((a.channels, a.samples), (2, vec![8, -32256]));
        // A data chunk longer than the file (a recording cut short) yields what is there.
        let mut cut = g711_wav_bytes(7, 1, &[0xFF; 10]);
        cut.truncate(cut.len() - 3);
        assert_eq!(read_wav_from(Cursor::new(cut)).unwrap().samples.len(), 7);
        // 16-bit G.711 does not exist.
        let mut wide = g711_wav_bytes(7, 1, &[0xFF; 4]);
        wide[34] = 16;
        assert!(matches!(
            read_wav_from(Cursor::new(wide)),
            Err(WavError::Unsupported(_))
        ));
    }

    #[test]
    fn reads_codec2_examples_mulaw_wav_when_installed() {
        // codec2-examples ships a µ-law WAV written by another tool; sox must agree with us.
        let path = "/usr/share/codec2/wav/cross.wav";
        if !std::path::Path::new(path).exists() {
            return;
        }
        let a = read_wav(path).unwrap();
        assert_eq!((a.sample_rate, a.channels), (8000, 1));
        let Ok(out) = std::process::Command::new("sox")
            .args([path, "-t", "raw", "-e", "signed", "-b", "16", "-"])
            .output()
        else {
            return;
        };
        let theirs: Vec<i16> = out
            .stdout
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(a.samples, theirs);
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
