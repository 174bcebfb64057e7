//! One participant of the [`AudioMixer`](super::AudioMixer): its input path (decoder, resampler
//! to the mixer's rate, alignment delay, VAD, volume) and its output path (limiter, resampler
//! to its own rate, encoder). Everything is allocated when it joins.

use super::limiter::Limiter;
use super::mixer::{MixerError, ParticipantConfig, ParticipantId};
use crate::codec::{AudioDecoder, AudioEncoder, CodecRegistry};
use crate::frame::SampleRate;
use crate::processing::audio::{VadConfig, VoiceActivityDetector};
use crate::processing::format::Resampler;

/// Smoothing of the speech level used to rank speakers (per tick).
const LEVEL_SMOOTHING: f32 = 0.3;

pub(crate) struct Participant {
    pub id: ParticipantId,
    pub volume: f32,
    pub muted: bool,
    /// One tick of input at `in_rate` (PCM pushed, or decoded) when it must be resampled or
    /// decoded; otherwise PCM goes straight into `contrib`.
    input: Vec<i16>,
    pub has_input: bool,
    in_resampler: Option<Resampler>,
    /// Alignment delay line at the mixer rate (empty: none) and its write position.
    delay: Vec<i16>,
    delay_pos: usize,
    /// What this participant adds to the sum at the mixer rate (after mute and volume; a
    /// volume above 1 saturates at the participant's own full scale).
    pub contrib: Vec<i16>,
    /// Whether `contrib` is all zero (muted or no contribution), so the sum can skip it.
    pub silent: bool,
    /// The N-1 mix at the mixer rate, after the limiter.
    pub mix: Vec<i16>,
    pub limiter: Limiter,
    out_resampler: Option<Resampler>,
    /// One tick of output at `out_rate` (when it differs from the mixer's).
    output: Vec<i16>,
    vad: Option<VoiceActivityDetector>,
    vad_buf: Vec<f32>,
    pub speech: bool,
    /// Smoothed mean square of the input (full scale 1), for ranking speakers.
    pub level: f32,
    decoder: Option<Box<dyn AudioDecoder>>,
    encoder: Option<Box<dyn AudioEncoder>>,
    packet_in: Vec<u8>,
    packet_in_len: Option<usize>,
    packet_out: Vec<u8>,
    packet_out_len: usize,
    pub decode_errors: u64,
    pub concealed: u64,
}

impl Participant {
    pub fn new(
        id: ParticipantId,
        config: &ParticipantConfig,
        rate: u32,
        tick_ms: u32,
        vad: bool,
        registry: &CodecRegistry,
    ) -> Result<Self, MixerError> {
        let frame = SampleRate(rate).samples_in_ms(tick_ms);
        let (mut in_rate, mut out_rate) = (config.input_rate, config.output_rate);
        let (mut decoder, mut encoder) = (None, None);
        let (mut packet_in, mut packet_out) = (Vec::new(), Vec::new());
        if let Some(c) = &config.codec {
            if u32::from(c.params.ptime_ms) != tick_ms || c.params.channels != 1 {
                return Err(MixerError::InvalidConfig(format!(
                    "a codec participant sends mono packets of the mixer's tick ({tick_ms} ms), not {} ms x {} channels",
                    c.params.ptime_ms, c.params.channels
                )));
            }
            let d = registry
                .decoder(&c.name, &c.params)
                .map_err(MixerError::Codec)?;
            let e = registry
                .encoder(&c.name, &c.params)
                .map_err(MixerError::Codec)?;
            in_rate = c.params.sample_rate;
            out_rate = c.params.sample_rate;
            packet_in = vec![0u8; e.max_payload_bytes().max(1500)];
            packet_out = vec![0u8; e.max_payload_bytes().max(1)];
            decoder = Some(d);
            encoder = Some(e);
        }
        let frame_at = |r: u32| -> Result<usize, MixerError> {
            let n = u64::from(r) * u64::from(tick_ms);
            if n.is_multiple_of(1000) {
                Ok((n / 1000) as usize)
            } else {
                Err(MixerError::InvalidConfig(format!(
                    "{r} Hz has no whole number of samples in {tick_ms} ms"
                )))
            }
        };
        let in_frame = frame_at(in_rate)?;
        let out_frame = frame_at(out_rate)?;
        let resampler = |from: u32, to: u32| -> Result<Option<Resampler>, MixerError> {
            if from == to {
                Ok(None)
            } else {
                Resampler::new(from, to, 1)
                    .map(Some)
                    .map_err(MixerError::Format)
            }
        };
        let in_resampler = resampler(in_rate, rate)?;
        let out_resampler = resampler(rate, out_rate)?;
        let vad = if vad {
            Some(
                VoiceActivityDetector::new(VadConfig::at(SampleRate(rate)))
                    .map_err(|e| MixerError::InvalidConfig(e.to_string()))?,
            )
        } else {
            None
        };
        Ok(Self {
            id,
            volume: config.volume,
            muted: config.muted,
            input: vec![
                0;
                if decoder.is_some() || in_resampler.is_some() {
                    in_frame
                } else {
                    0
                }
            ],
            has_input: false,
            in_resampler,
            delay: vec![0; config.input_delay],
            delay_pos: 0,
            contrib: vec![0; frame],
            silent: true,
            mix: vec![0; frame],
            limiter: Limiter::new(rate, frame),
            out_resampler,
            output: vec![0; if out_rate == rate { 0 } else { out_frame }],
            vad,
            vad_buf: vec![0.0; SampleRate(rate).samples_in_ms(10)],
            speech: false,
            level: 0.0,
            decoder,
            encoder,
            packet_in,
            packet_in_len: None,
            packet_out,
            packet_out_len: 0,
            decode_errors: 0,
            concealed: 0,
        })
    }

    pub fn is_codec(&self) -> bool {
        self.decoder.is_some()
    }

    /// Takes one tick of PCM at the participant's input rate.
    pub fn push_pcm(&mut self, pcm: &[i16]) -> Result<(), MixerError> {
        if self.decoder.is_some() {
            return Err(MixerError::CodecParticipant);
        }
        let dst = if self.in_resampler.is_some() || self.decoder.is_some() {
            &mut self.input
        } else {
            &mut self.contrib
        };
        if pcm.len() != dst.len() {
            return Err(MixerError::BadLength {
                got: pcm.len(),
                expected: dst.len(),
            });
        }
        dst.copy_from_slice(pcm);
        self.has_input = true;
        Ok(())
    }

    /// Takes one tick's packet (codec participants).
    pub fn push_packet(&mut self, payload: &[u8]) -> Result<(), MixerError> {
        if self.decoder.is_none() {
            return Err(MixerError::NotCodec);
        }
        if payload.len() > self.packet_in.len() {
            return Err(MixerError::BadLength {
                got: payload.len(),
                expected: self.packet_in.len(),
            });
        }
        self.packet_in[..payload.len()].copy_from_slice(payload);
        self.packet_in_len = Some(payload.len());
        Ok(())
    }

    /// The output of the last tick at the participant's output rate.
    pub fn output(&self) -> &[i16] {
        if self.out_resampler.is_some() {
            &self.output
        } else {
            &self.mix
        }
    }

    /// The encoded output of the last tick (codec participants).
    pub fn packet(&self) -> &[u8] {
        &self.packet_out[..self.packet_out_len]
    }

    /// Input side of a tick: decode or take the PCM, resample, delay, mute and volume, VAD;
    /// leaves `contrib` ready to add.
    pub fn front(&mut self) {
        let mut fresh = self.has_input;
        self.has_input = false;
        if let Some(dec) = &mut self.decoder {
            let n = match self.packet_in_len.take() {
                Some(len) => match dec.decode(&self.packet_in[..len], &mut self.input) {
                    Ok(n) => n,
                    Err(_) => {
                        self.decode_errors += 1;
                        self.concealed += 1;
                        dec.conceal(&mut self.input).unwrap_or(0)
                    }
                },
                None => {
                    self.concealed += 1;
                    dec.conceal(&mut self.input).unwrap_or(0)
                }
            };
            if n < self.input.len() {
                self.input[n..].fill(0);
            }
            fresh = true;
        }
        if let Some(r) = &mut self.in_resampler {
            if !fresh {
                self.input.fill(0);
            }
            if r.process_i16(&self.input, &mut self.contrib).is_err() {
                self.contrib.fill(0);
            }
        } else if self.decoder.is_some() {
            self.contrib.copy_from_slice(&self.input);
        } else if !fresh {
            self.contrib.fill(0);
        }
        if !self.delay.is_empty() {
            // Ring delay: swap each sample with the one written `delay.len()` samples ago.
            let d = self.delay.len();
            for s in self.contrib.iter_mut() {
                std::mem::swap(s, &mut self.delay[self.delay_pos]);
                self.delay_pos += 1;
                if self.delay_pos == d {
                    self.delay_pos = 0;
                }
            }
        }
        if self.muted || self.volume == 0.0 {
            self.silent = true;
            self.speech = false;
            self.level = 0.0;
            if let Some(v) = &mut self.vad {
                // Judge silence so the detector's hangover and noise floor move on.
                self.vad_buf.fill(0.0);
                for _ in 0..self.contrib.len() / self.vad_buf.len() {
                    let _ = v.process_samples(&self.vad_buf);
                }
            }
            return;
        }
        self.silent = false;
        if self.volume != 1.0 {
            let v = self.volume;
            for c in self.contrib.iter_mut() {
                // `as` saturates.
                *c = (f32::from(*c) * v).round() as i16;
            }
        }
        if let Some(vad) = &mut self.vad {
            let mut speech = false;
            let mut energy = 0.0f32;
            for chunk in self.contrib.chunks_exact(self.vad_buf.len()) {
                for (f, &x) in self.vad_buf.iter_mut().zip(chunk) {
                    *f = f32::from(x) * (1.0 / 32768.0);
                    energy += *f * *f;
                }
                speech |= vad.process_samples(&self.vad_buf).unwrap_or(false);
            }
            let ms = energy / self.contrib.len().max(1) as f32;
            self.speech = speech;
            self.level += LEVEL_SMOOTHING * (ms - self.level);
        }
    }

    /// Output side of a tick: N-1 mix, limiter, resample, encode. Returns whether the limiter
    /// acted.
    pub fn back(&mut self, total: &[i32]) -> bool {
        let own = if self.silent {
            None
        } else {
            Some(&self.contrib[..])
        };
        let limited = self.limiter.process_diff(total, own, &mut self.mix);
        if let Some(r) = &mut self.out_resampler {
            if r.process_i16(&self.mix, &mut self.output).is_err() {
                self.output.fill(0);
            }
        }
        if let Some(enc) = &mut self.encoder {
            let pcm = match &self.out_resampler {
                Some(_) => &self.output,
                None => &self.mix,
            };
            self.packet_out_len = enc.encode(pcm, &mut self.packet_out).unwrap_or(0);
        }
        limited
    }
}
