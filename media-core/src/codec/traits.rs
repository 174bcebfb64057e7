//! Codec interfaces. Per-frame calls write into buffers the caller owns and never allocate.

use crate::error::CodecError;
use crate::frame::AudioFormat;

/// An RTP payload type (0-127).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PayloadType(pub u8);

/// The bitrates a codec can run at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bitrates {
    /// Set by the sample rate and channels (G.711, L16); no choice.
    Fixed,
    /// A few modes (G.722: 64000, 56000, 48000), in bit/s.
    Modes(&'static [u32]),
    /// Anything in an inclusive range, in bit/s (Opus).
    Range(u32, u32),
}

/// How a codec's RTP clock relates to the sampling rate it runs at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtpClock {
    /// The clock follows the sampling rate, keeping the ratio of
    /// [`CodecDescriptor::clock_rate`] to [`CodecDescriptor::sample_rate`] (L16 at 16 kHz
    /// ticks at 16000; G.722 samples at 16000 and ticks at 8000).
    Scaled,
    /// The clock is always [`CodecDescriptor::clock_rate`], whatever the sampling rate: Opus
    /// ticks at 48000 even when it runs at 8 kHz (RFC 7587 section 4.1).
    Fixed,
}

/// Static facts about a codec. `Copy`, so registries and SDP code pass them around freely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecDescriptor {
    /// Our name for it, lowercase, as used on the command line (`pcmu`, `g722`, `opus`).
    pub name: &'static str,
    /// The RTP encoding name of the rtpmap line (`PCMU`, `G722`, `opus`).
    pub encoding_name: &'static str,
    /// The RTP clock rate at the default sample rate. G.722 advertises 8000 while sampling at
    /// 16000 (RFC 3551); for codecs whose clock follows the sample rate (L16) this is the
    /// clock at [`Self::sample_rate`].
    pub clock_rate: u32,
    /// Whether the RTP clock follows the sampling rate or is fixed at [`Self::clock_rate`].
    pub rtp_clock: RtpClock,
    /// The channel count an `a=rtpmap` line always names, whatever is sent (Opus: 2, RFC 7587
    /// section 7; the real count is negotiated in fmtp). `None`: the rtpmap names the actual
    /// channel count, omitted when it is 1 (RFC 4566).
    pub rtpmap_channels: Option<u16>,
    /// The default sampling rate of the PCM the codec takes and gives.
    pub sample_rate: u32,
    /// Every sampling rate the codec can run at; the first is not special.
    pub sample_rates: &'static [u32],
    /// Default channel count.
    pub channels: u16,
    /// Most channels the codec can carry.
    pub max_channels: u16,
    /// Packet durations in milliseconds that the codec can produce.
    pub ptimes: &'static [u16],
    /// The packet duration used when none is asked for.
    pub default_ptime: u16,
    /// The static RTP payload type (RFC 3551) at the default rate and channels, or `None` when
    /// the codec uses a dynamic one.
    pub payload_type: Option<u8>,
    /// Default fmtp parameters for SDP, if any.
    pub fmtp: Option<&'static str>,
    /// Bitrates in bit/s the codec can run at.
    pub bitrates: Bitrates,
    /// Whether each code covers a fixed number of samples with no frame structure (G.711,
    /// G.722, L16): any whole number of samples can be packed, and a raw stream of code bytes
    /// is the natural file format.
    pub sample_based: bool,
}

impl CodecDescriptor {
    /// The RTP clock rate when sampling at `sample_rate`. A [`RtpClock::Fixed`] clock (Opus)
    /// does not change; a [`RtpClock::Scaled`] one whose RTP clock differs from the sampling
    /// rate (G.722) keeps the same ratio.
    pub fn clock_rate_at(&self, sample_rate: u32) -> u32 {
        if self.rtp_clock == RtpClock::Fixed || self.sample_rate == 0 {
            return self.clock_rate;
        }
        (u64::from(self.clock_rate) * u64::from(sample_rate) / u64::from(self.sample_rate)) as u32
    }

    /// Whether `params` are within what this codec supports.
    pub fn validate(&self, params: &CodecParams) -> Result<(), CodecError> {
        if !self.sample_rates.contains(&params.sample_rate) {
            return Err(CodecError::UnsupportedParameter {
                name: "sample rate",
                value: params.sample_rate.to_string(),
                supported: join(self.sample_rates),
            });
        }
        if params.channels == 0 || params.channels > self.max_channels {
            return Err(CodecError::UnsupportedParameter {
                name: "channels",
                value: params.channels.to_string(),
                supported: format!("1..={}", self.max_channels),
            });
        }
        if !self.ptimes.contains(&params.ptime_ms) {
            return Err(CodecError::UnsupportedParameter {
                name: "ptime",
                value: format!("{} ms", params.ptime_ms),
                supported: join(self.ptimes),
            });
        }
        if let Some(b) = params.bitrate {
            let (ok, supported) = match self.bitrates {
                Bitrates::Fixed => (false, "fixed by the codec".to_string()),
                Bitrates::Modes(list) => (list.contains(&b), join(list)),
                Bitrates::Range(lo, hi) => ((lo..=hi).contains(&b), format!("{lo}..={hi}")),
            };
            if !ok {
                return Err(CodecError::UnsupportedParameter {
                    name: "bitrate",
                    value: b.to_string(),
                    supported,
                });
            }
        }
        Ok(())
    }
}

fn join<T: ToString>(v: &[T]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// How to set up one encoder or decoder instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecParams {
    /// Sampling rate of the PCM side.
    pub sample_rate: u32,
    /// Channel count.
    pub channels: u16,
    /// Packet duration in milliseconds (the encoder's frame size).
    pub ptime_ms: u16,
    /// Target bitrate in bit/s, for codecs that have one; `None` for the default. For G.722 it
    /// picks the decoder's mode (64000, 56000 or 48000).
    pub bitrate: Option<u32>,
    /// fmtp parameters as negotiated in SDP (e.g. `useinbandfec=1; stereo=0`), if any.
    pub fmtp: Option<String>,
}

impl CodecParams {
    /// The defaults of a codec: its default rate, channels and ptime.
    pub fn defaults(desc: &CodecDescriptor) -> Self {
        Self {
            sample_rate: desc.sample_rate,
            channels: desc.channels,
            ptime_ms: desc.default_ptime,
            bitrate: None,
            fmtp: None,
        }
    }

    /// Interleaved samples in one packet.
    pub fn frame_samples(&self) -> usize {
        self.sample_rate as usize * self.ptime_ms as usize / 1000 * self.channels as usize
    }
}

/// Turns PCM into a codec's payloads, one packet at a time.
pub trait AudioEncoder: Send {
    /// The codec this encodes.
    fn descriptor(&self) -> &'static CodecDescriptor;
    /// The PCM format `encode` takes.
    fn format(&self) -> AudioFormat;
    /// Interleaved samples `encode` takes per call (one ptime).
    fn frame_samples(&self) -> usize;
    /// The most bytes one call can write.
    fn max_payload_bytes(&self) -> usize;
    /// Encodes exactly [`Self::frame_samples`] samples (sample-based codecs accept any whole
    /// number of samples) into `out`, returning the payload length.
    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError>;
    /// Forgets all history, as at a new stream.
    fn reset(&mut self);
    /// Changes the target bitrate during a call, where the codec supports it.
    fn set_bitrate(&mut self, bitrate: u32) -> Result<(), CodecError> {
        Err(CodecError::UnsupportedParameter {
            name: "bitrate",
            value: bitrate.to_string(),
            supported: "fixed by the codec".into(),
        })
    }
    /// Changes the frame (packet) duration during a call, for codecs whose frames may change
    /// length mid-stream (Opus, RFC 7587: any duration up to the receiver's `maxptime`). Takes
    /// effect from the next [`Self::encode`], which then takes the new
    /// [`Self::frame_samples`]; [`Self::max_payload_bytes`] does not change (it is sized for
    /// the longest duration at setup), so the caller's buffers stay valid.
    fn set_frame_ms(&mut self, ms: u16) -> Result<(), CodecError> {
        Err(CodecError::UnsupportedParameter {
            name: "frame duration",
            value: format!("{ms} ms"),
            supported: "fixed for the call".into(),
        })
    }
    /// The encoder's algorithmic delay (look-ahead) in samples per channel: its output
    /// describes the input this much later. Zero by default.
    fn delay_samples(&self) -> usize {
        0
    }
    /// Tells the encoder the packet loss it should expect, in percent, so that codecs with
    /// forward error correction (Opus in-band FEC) spend bits on it. Codecs without FEC ignore
    /// it.
    fn set_expected_loss(&mut self, percent: u8) -> Result<(), CodecError> {
        let _ = percent;
        Ok(())
    }
    /// Turns in-band forward error correction on or off (Opus LBRR). Codecs without FEC
    /// ignore it.
    fn set_fec(&mut self, on: bool) -> Result<(), CodecError> {
        let _ = on;
        Ok(())
    }
}

/// Turns payloads back into PCM, and covers for lost payloads.
pub trait AudioDecoder: Send {
    /// The codec this decodes.
    fn descriptor(&self) -> &'static CodecDescriptor;
    /// The PCM format the decoder writes.
    fn format(&self) -> AudioFormat;
    /// The most interleaved samples one payload can decode to.
    fn max_frame_samples(&self) -> usize;
    /// Decodes one payload into `out`, returning the interleaved samples written. A malformed
    /// payload is an error and leaves the decoder as it was.
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError>;
    /// Synthesises audio for a lost payload: fills all of `out` (the duration of the loss) and
    /// returns `out.len()`. Consecutive calls continue a longer loss (and fade it out).
    fn conceal(&mut self, out: &mut [i16]) -> Result<usize, CodecError>;
    /// Recovers a lost payload from forward error correction carried in the payload that
    /// followed it. `Ok(None)` when the codec or payload has none; the caller then conceals.
    fn decode_fec(&mut self, next: &[u8], out: &mut [i16]) -> Result<Option<usize>, CodecError> {
        let _ = (next, out);
        Ok(None)
    }
    /// The decoder's algorithmic delay in samples per channel: decoded and concealed audio
    /// comes out this much later than it would without the decoder's concealment (for example
    /// the 3.75 ms of ITU-T G.711 Appendix I). Zero by default.
    fn delay_samples(&self) -> usize {
        0
    }
    /// At the end of a stream, writes the samples still held back by [`Self::delay_samples`]
    /// into `out` and returns how many (interleaved). Zero by default.
    fn flush(&mut self, out: &mut [i16]) -> usize {
        let _ = out;
        0
    }
    /// Forgets all history, as at a new stream.
    fn reset(&mut self);
}
