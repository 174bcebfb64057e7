//! Opus (RFC 6716) through libopus, the reference implementation, as built and wrapped by the
//! `opus` crate (encoding) and `opus-dec-ext` (decoding, with the decoder complexity). The RTP
//! payload format is RFC 7587: the RTP clock is always 48 kHz whatever
//! rate the codec runs at, the rtpmap always says `opus/48000/2`, and the real channel count,
//! bandwidth, bitrate, FEC and DTX are negotiated with fmtp parameters ([`fmtp`]).
//!
//! [`OpusEncoder`] is set up from an [`OpusEncoderConfig`]; bitrate, FEC and the expected loss
//! can change during a call without a rebuild (for rate adaptation). [`OpusDecoder`] decodes,
//! recovers a lost packet from the in-band FEC of the next one ([`AudioDecoder::decode_fec`]),
//! and conceals with libopus's PLC ([`AudioDecoder::conceal`]): at the default decoder
//! complexity ([`DEFAULT_DECODER_COMPLEXITY`]) that is libopus 1.5+'s neural deep PLC, and
//! SILK speech is enhanced by OSCE (NoLACE). Neither allocates per frame.

pub mod fmtp;
pub mod packet;

use super::super::traits::{
    AudioDecoder, AudioEncoder, Bitrates, CodecDescriptor, CodecParams, RtpClock,
};
use crate::error::CodecError;
use crate::frame::{AudioFormat, SampleFormat, SampleRate};
pub use fmtp::OpusFmtp;

/// The rates libopus runs at.
pub const SAMPLE_RATES: &[u32] = &[8000, 12000, 16000, 24000, 48000];
/// The frame durations (ms) our encoder produces; one frame is one packet.
pub const FRAME_DURATIONS_MS: &[u16] = &[10, 20, 40, 60];
/// The lowest bitrate we ask libopus for, in bit/s (RFC 7587's floor for maxaveragebitrate).
pub const MIN_BITRATE: u32 = 6000;
/// The highest bitrate Opus has, in bit/s.
pub const MAX_BITRATE: u32 = 510_000;
/// The longest Opus packet, in milliseconds (RFC 6716 section 3.2.5).
pub const MAX_PACKET_MS: u32 = 120;
/// The decoder complexity by default: 7, deep PLC (>= 5) and NoLACE speech enhancement (>= 7),
/// the best PESQ under loss we measured (0 is libopus's classic PLC, as in libopus < 1.5).
pub const DEFAULT_DECODER_COMPLEXITY: u8 = 7;
/// The most bytes one Opus frame can take (RFC 6716 section 3.4, R2).
const MAX_FRAME_BYTES: usize = 1275;
/// Longer payloads are rejected before they reach libopus. A valid packet is at most 120 ms of
/// 1275-byte frames plus framing and padding; padding can in principle go further, but nothing
/// real sends megabyte packets.
const MAX_PAYLOAD_BYTES: usize = 1 << 20;

/// Opus. Dynamic payload type; RTP clock 48 kHz at every sampling rate.
pub static OPUS: CodecDescriptor = CodecDescriptor {
    name: "opus",
    encoding_name: "opus",
    clock_rate: 48000,
    rtp_clock: RtpClock::Fixed,
    rtpmap_channels: Some(2),
    sample_rate: 48000,
    sample_rates: SAMPLE_RATES,
    channels: 1,
    max_channels: 2,
    ptimes: FRAME_DURATIONS_MS,
    default_ptime: 20,
    payload_type: None,
    fmtp: Some("minptime=10;useinbandfec=1"),
    bitrates: Bitrates::Range(MIN_BITRATE, MAX_BITRATE),
    sample_based: false,
};

/// What the encoder is tuned for (libopus's `OPUS_APPLICATION_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Application {
    /// Speech intelligibility first: VoIP and conferencing.
    #[default]
    Voip,
    /// Faithfulness to the input: music, mixed content.
    Audio,
    /// The lowest delay (2.5 ms lookahead instead of 6.5 ms); CELT only, so no FEC.
    LowDelay,
}

/// How the bitrate may vary from packet to packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BitrateMode {
    /// Variable bitrate, free to follow the signal.
    Vbr,
    /// Variable, but held close to the target over short spans (libopus's default).
    #[default]
    ConstrainedVbr,
    /// Every packet the same size (for links that leak content through packet sizes).
    Cbr,
}

/// A hint about the content, which biases the encoder's mode choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Signal {
    /// Let the encoder decide.
    #[default]
    Auto,
    /// Speech: favours SILK and hybrid modes.
    Voice,
    /// Music: favours CELT.
    Music,
}

/// An audio bandwidth (the highest frequency coded). Ordered narrowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Bandwidth {
    /// 4 kHz.
    Narrowband,
    /// 6 kHz.
    Mediumband,
    /// 8 kHz.
    Wideband,
    /// 12 kHz.
    Superwideband,
    /// 20 kHz.
    #[default]
    Fullband,
}

impl Bandwidth {
    /// The widest bandwidth worth sending to a receiver that plays at `rate` Hz, or that a
    /// source capturing at `rate` Hz can fill (RFC 7587 maxplaybackrate, sprop-maxcapturerate).
    pub fn for_rate(rate: u32) -> Self {
        match rate {
            0..=8000 => Self::Narrowband,
            8001..=12000 => Self::Mediumband,
            12001..=16000 => Self::Wideband,
            16001..=24000 => Self::Superwideband,
            _ => Self::Fullband,
        }
    }

    fn to_opus(self) -> opus::Bandwidth {
        match self {
            Self::Narrowband => opus::Bandwidth::Narrowband,
            Self::Mediumband => opus::Bandwidth::Mediumband,
            Self::Wideband => opus::Bandwidth::Wideband,
            Self::Superwideband => opus::Bandwidth::Superwideband,
            Self::Fullband => opus::Bandwidth::Fullband,
        }
    }
}

/// Encoder settings. Small, `Default`, checked by [`Self::validate`] when an encoder is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusEncoderConfig {
    /// Sampling rate of the PCM given to `encode`: 8000, 12000, 16000, 24000 or 48000. The RTP
    /// clock stays 48000 (RFC 7587).
    pub sample_rate: u32,
    /// Interleaved channels of the PCM given to `encode`: 1 or 2.
    pub channels: u16,
    /// Code stereo input as mono (the receiver said `stereo=0`). Ignored for mono input.
    pub force_mono: bool,
    /// Frame (and packet) duration in ms: 10, 20, 40 or 60.
    pub frame_ms: u16,
    /// What to tune for.
    pub application: Application,
    /// Target bitrate in bit/s, 6000..=510000.
    pub bitrate: u32,
    /// VBR, constrained VBR or CBR.
    pub bitrate_mode: BitrateMode,
    /// 0 (fastest) ..= 10 (best).
    pub complexity: u8,
    /// Add in-band FEC (SILK LBRR) so the receiver can rebuild a lost packet from the next one.
    /// libopus only spends bits on it when [`Self::packet_loss_percent`] is above zero.
    pub inband_fec: bool,
    /// The packet loss the encoder should expect, 0..=100 %: more means more robust coding and
    /// more FEC bits.
    pub packet_loss_percent: u8,
    /// Discontinuous transmission: in silence, send a 1-2 byte packet about every 400 ms
    /// instead of every frame (payloads of 2 bytes or less need not be sent).
    pub dtx: bool,
    /// Content hint.
    pub signal: Signal,
    /// The widest bandwidth to code.
    pub max_bandwidth: Bandwidth,
}

impl Default for OpusEncoderConfig {
    /// Mono 48 kHz, 20 ms, VoIP, 32 kbit/s constrained VBR, complexity 9 (libopus's default),
    /// in-band FEC on (it costs nothing until a loss rate is set), no DTX.
    fn default() -> Self {
        Self {
            sample_rate: 48000,
            channels: 1,
            force_mono: false,
            frame_ms: 20,
            application: Application::Voip,
            bitrate: 32000,
            bitrate_mode: BitrateMode::ConstrainedVbr,
            complexity: 9,
            inband_fec: true,
            packet_loss_percent: 0,
            dtx: false,
            signal: Signal::Auto,
            max_bandwidth: Bandwidth::Fullband,
        }
    }
}

fn unsupported(name: &'static str, value: impl ToString, supported: &str) -> CodecError {
    CodecError::UnsupportedParameter {
        name,
        value: value.to_string(),
        supported: supported.to_string(),
    }
}

fn check_rate(rate: u32) -> Result<(), CodecError> {
    if SAMPLE_RATES.contains(&rate) {
        Ok(())
    } else {
        Err(unsupported(
            "sample rate",
            rate,
            "8000, 12000, 16000, 24000, 48000",
        ))
    }
}

fn check_channels(channels: u16) -> Result<(), CodecError> {
    if (1..=2).contains(&channels) {
        Ok(())
    } else {
        Err(unsupported("channels", channels, "1, 2"))
    }
}

fn check_bitrate(bitrate: u32) -> Result<(), CodecError> {
    if (MIN_BITRATE..=MAX_BITRATE).contains(&bitrate) {
        Ok(())
    } else {
        Err(unsupported("bitrate", bitrate, "6000..=510000"))
    }
}

fn check_loss(percent: u8) -> Result<(), CodecError> {
    if percent <= 100 {
        Ok(())
    } else {
        Err(unsupported("packet loss percent", percent, "0..=100"))
    }
}

impl OpusEncoderConfig {
    /// Checks every setting is one libopus takes.
    pub fn validate(&self) -> Result<(), CodecError> {
        check_rate(self.sample_rate)?;
        check_channels(self.channels)?;
        if !FRAME_DURATIONS_MS.contains(&self.frame_ms) {
            return Err(unsupported(
                "frame duration",
                self.frame_ms,
                "10, 20, 40, 60 ms",
            ));
        }
        check_bitrate(self.bitrate)?;
        if self.complexity > 10 {
            return Err(unsupported("complexity", self.complexity, "0..=10"));
        }
        check_loss(self.packet_loss_percent)
    }

    /// The settings `params` ask for: rate, channels, ptime, bitrate, then the negotiated fmtp
    /// (the remote side's RFC 7587 parameters, see [`Self::apply_fmtp`]). Everything else is
    /// [`Default`].
    pub fn from_params(params: &CodecParams) -> Result<Self, CodecError> {
        let mut cfg = Self {
            sample_rate: params.sample_rate,
            channels: params.channels,
            frame_ms: params.ptime_ms,
            ..Self::default()
        };
        if let Some(b) = params.bitrate {
            cfg.bitrate = b;
        }
        if let Some(f) = &params.fmtp {
            cfg.apply_fmtp(&OpusFmtp::parse(f)?)?;
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Interleaved samples in one frame.
    pub fn frame_samples(&self) -> usize {
        self.sample_rate as usize * usize::from(self.frame_ms) / 1000 * usize::from(self.channels)
    }
}

/// Decoder settings, and what this side would like to receive (written into the fmtp we
/// advertise by [`OpusFmtp::from_config`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusDecoderConfig {
    /// Sampling rate of the PCM the decoder writes: 8000, 12000, 16000, 24000 or 48000. Any
    /// Opus stream decodes at any of them.
    pub sample_rate: u32,
    /// Channels the decoder writes: 1 or 2 (mono streams are duplicated, stereo mixed down).
    pub channels: u16,
    /// We use in-band FEC when the sender adds it (`useinbandfec`).
    pub inband_fec: bool,
    /// We would like the sender to use DTX (`usedtx`).
    pub prefer_dtx: bool,
    /// We would like a constant bitrate (`cbr`).
    pub prefer_cbr: bool,
    /// The most we want to receive, in bit/s (`maxaveragebitrate`).
    pub max_average_bitrate: Option<u32>,
    /// The packet duration we would like, in ms (`ptime`).
    pub ptime_ms: Option<u16>,
    /// The shortest packet duration we would like, in ms (`minptime`).
    pub min_ptime_ms: Option<u16>,
    /// libopus decoder complexity, 0..=10: 5 and up conceal with deep PLC, 6 and up enhance
    /// SILK speech (LACE, then NoLACE at 7), at some CPU cost per frame.
    pub complexity: u8,
}

impl Default for OpusDecoderConfig {
    /// Mono 48 kHz, FEC welcome, minptime 10: the descriptor's fmtp.
    fn default() -> Self {
        Self {
            sample_rate: 48000,
            channels: 1,
            inband_fec: true,
            prefer_dtx: false,
            prefer_cbr: false,
            max_average_bitrate: None,
            ptime_ms: None,
            min_ptime_ms: Some(10),
            complexity: DEFAULT_DECODER_COMPLEXITY,
        }
    }
}

impl OpusDecoderConfig {
    /// Checks the rate, channels, bitrate and complexity.
    pub fn validate(&self) -> Result<(), CodecError> {
        check_rate(self.sample_rate)?;
        check_channels(self.channels)?;
        if self.complexity > 10 {
            return Err(unsupported("decoder complexity", self.complexity, "0..=10"));
        }
        if let Some(b) = self.max_average_bitrate {
            check_bitrate(b)?;
        }
        Ok(())
    }

    /// The settings `params` ask for (rate and channels). A negotiated fmtp is parsed, so a
    /// malformed one is an error, but it does not change the output format: that is the
    /// caller's choice, and libopus decodes any stream at any rate and channel count.
    pub fn from_params(params: &CodecParams) -> Result<Self, CodecError> {
        if let Some(f) = &params.fmtp {
            OpusFmtp::parse(f)?;
        }
        let cfg = Self {
            sample_rate: params.sample_rate,
            channels: params.channels,
            ..Self::default()
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

fn library(e: opus::Error) -> CodecError {
    CodecError::Library(e.to_string())
}

fn dec_library(e: opus_dec_ext::Error) -> CodecError {
    CodecError::Library(e.to_string())
}

fn opus_channels(channels: u16) -> opus::Channels {
    if channels == 2 {
        opus::Channels::Stereo
    } else {
        opus::Channels::Mono
    }
}

fn format(rate: u32, channels: u16) -> AudioFormat {
    AudioFormat {
        sample_rate: SampleRate(rate),
        channels,
        sample_format: SampleFormat::I16,
    }
}

/// An Opus encoder.
#[derive(Debug)]
pub struct OpusEncoder {
    enc: opus::Encoder,
    config: OpusEncoderConfig,
    frame_samples: usize,
    max_payload: usize,
    lookahead: u32,
}

impl OpusEncoder {
    /// An encoder with `config`, validated.
    pub fn new(config: OpusEncoderConfig) -> Result<Self, CodecError> {
        config.validate()?;
        let app = match config.application {
            Application::Voip => opus::Application::Voip,
            Application::Audio => opus::Application::Audio,
            Application::LowDelay => opus::Application::LowDelay,
        };
        let mut enc = opus::Encoder::new(config.sample_rate, opus_channels(config.channels), app)
            .map_err(library)?;
        enc.set_bitrate(opus::Bitrate::Bits(config.bitrate as i32))
            .map_err(library)?;
        enc.set_vbr(config.bitrate_mode != BitrateMode::Cbr)
            .map_err(library)?;
        enc.set_vbr_constraint(config.bitrate_mode == BitrateMode::ConstrainedVbr)
            .map_err(library)?;
        enc.set_complexity(i32::from(config.complexity))
            .map_err(library)?;
        enc.set_inband_fec(config.inband_fec).map_err(library)?;
        enc.set_packet_loss_perc(i32::from(config.packet_loss_percent))
            .map_err(library)?;
        enc.set_dtx(config.dtx).map_err(library)?;
        enc.set_signal(match config.signal {
            Signal::Auto => opus::Signal::Auto,
            Signal::Voice => opus::Signal::Voice,
            Signal::Music => opus::Signal::Music,
        })
        .map_err(library)?;
        enc.set_max_bandwidth(config.max_bandwidth.to_opus())
            .map_err(library)?;
        let force = (config.force_mono && config.channels == 2).then_some(opus::Channels::Mono);
        enc.set_force_channels(force).map_err(library)?;
        let lookahead = u32::try_from(enc.get_lookahead().map_err(library)?)
            .map_err(|_| CodecError::Library("negative lookahead".into()))?;
        // One 1275-byte frame per 20 ms (libopus codes 40 and 60 ms as 20 ms frames outside
        // SILK-only mode), plus the code 3 framing: TOC, count, and a length per frame.
        // Sized for the longest frame we produce, so that `set_frame_ms` never needs a larger
        // output buffer.
        let longest = FRAME_DURATIONS_MS.iter().copied().max().unwrap_or(60);
        let frames = usize::from(config.frame_ms.max(longest)).div_ceil(20);
        let max_payload = frames * MAX_FRAME_BYTES + 2 + 2 * frames;
        Ok(Self {
            enc,
            frame_samples: config.frame_samples(),
            config,
            max_payload,
            lookahead,
        })
    }

    /// The settings now in force (runtime changes included).
    pub fn config(&self) -> &OpusEncoderConfig {
        &self.config
    }

    /// The encoder's delay in samples per channel at its own rate (6.5 ms for VoIP and Audio,
    /// 2.5 ms for LowDelay).
    pub fn lookahead(&self) -> u32 {
        self.lookahead
    }

    /// The delay as the Ogg Opus pre-skip: samples at 48 kHz the decoder should drop.
    pub fn pre_skip(&self) -> u16 {
        let v = u64::from(self.lookahead) * 48000 / u64::from(self.config.sample_rate);
        u16::try_from(v).unwrap_or(u16::MAX)
    }

    /// Turns in-band FEC on or off during a call.
    pub fn set_inband_fec(&mut self, on: bool) -> Result<(), CodecError> {
        self.enc.set_inband_fec(on).map_err(library)?;
        self.config.inband_fec = on;
        Ok(())
    }

    /// Sets the packet loss the encoder should expect, 0..=100 %, during a call.
    pub fn set_packet_loss_percent(&mut self, percent: u8) -> Result<(), CodecError> {
        check_loss(percent)?;
        self.enc
            .set_packet_loss_perc(i32::from(percent))
            .map_err(library)?;
        self.config.packet_loss_percent = percent;
        Ok(())
    }

    /// Turns DTX on or off during a call.
    pub fn set_dtx(&mut self, on: bool) -> Result<(), CodecError> {
        self.enc.set_dtx(on).map_err(library)?;
        self.config.dtx = on;
        Ok(())
    }

    /// Whether the last frame was coded as DTX silence (its payload need not be sent).
    pub fn in_dtx(&mut self) -> bool {
        self.enc.get_in_dtx().unwrap_or(false)
    }
}

impl AudioEncoder for OpusEncoder {
    fn descriptor(&self) -> &'static CodecDescriptor {
        &OPUS
    }
    fn format(&self) -> AudioFormat {
        format(self.config.sample_rate, self.config.channels)
    }
    fn frame_samples(&self) -> usize {
        self.frame_samples
    }
    /// The most one frame can take at any bitrate; `encode` needs an `out` this long.
    fn max_payload_bytes(&self) -> usize {
        self.max_payload
    }
    /// Encodes exactly one frame. `out` must hold [`AudioEncoder::max_payload_bytes`] bytes,
    /// so that the buffer never silently caps the bitrate.
    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        if pcm.len() != self.frame_samples {
            return Err(CodecError::InvalidFrameLength {
                got: pcm.len(),
                expected: "one frame: rate x frame duration x channels samples",
            });
        }
        if out.len() < self.max_payload {
            return Err(CodecError::BufferTooSmall {
                needed: self.max_payload,
                available: out.len(),
            });
        }
        self.enc
            .encode(pcm, &mut out[..self.max_payload])
            .map_err(library)
    }
    fn reset(&mut self) {
        // OPUS_RESET_STATE keeps the settings; it cannot fail on a live encoder.
        let _ = self.enc.reset_state();
    }
    fn set_bitrate(&mut self, bitrate: u32) -> Result<(), CodecError> {
        check_bitrate(bitrate)?;
        self.enc
            .set_bitrate(opus::Bitrate::Bits(bitrate as i32))
            .map_err(library)?;
        self.config.bitrate = bitrate;
        Ok(())
    }
    fn set_expected_loss(&mut self, percent: u8) -> Result<(), CodecError> {
        self.set_packet_loss_percent(percent)
    }
    fn set_fec(&mut self, on: bool) -> Result<(), CodecError> {
        self.set_inband_fec(on)
    }
    fn delay_samples(&self) -> usize {
        self.lookahead as usize
    }
    /// 10, 20, 40 or 60 ms; libopus takes the duration from the length of each `encode`
    /// call, so nothing is rebuilt and the stream continues.
    fn set_frame_ms(&mut self, ms: u16) -> Result<(), CodecError> {
        if !FRAME_DURATIONS_MS.contains(&ms) {
            return Err(unsupported("frame duration", ms, "10, 20, 40, 60 ms"));
        }
        self.config.frame_ms = ms;
        self.frame_samples = self.config.frame_samples();
        Ok(())
    }
}

/// An Opus decoder with libopus's FEC recovery and packet loss concealment.
#[derive(Debug)]
pub struct OpusDecoder {
    dec: opus_dec_ext::OpusDecoder,
    config: OpusDecoderConfig,
    /// Samples per channel in 2.5 ms, the unit of Opus durations.
    unit: usize,
    /// The mode of the last packet decoded: libopus will not use FEC after CELT.
    last_mode: Option<packet::Mode>,
}

impl OpusDecoder {
    /// A decoder with `config`, validated.
    pub fn new(config: OpusDecoderConfig) -> Result<Self, CodecError> {
        config.validate()?;
        let mut dec = opus_dec_ext::OpusDecoder::new(config.sample_rate, config.channels)
            .map_err(dec_library)?;
        dec.set_complexity(config.complexity).map_err(dec_library)?;
        Ok(Self {
            dec,
            config,
            unit: config.sample_rate as usize / 400,
            last_mode: None,
        })
    }

    /// The settings.
    pub fn config(&self) -> &OpusDecoderConfig {
        &self.config
    }

    fn channels(&self) -> usize {
        usize::from(self.config.channels)
    }

    /// The longest stretch one libopus call is given, per channel: libopus puts a buffer of
    /// the call's size on the stack, so long losses go in 120 ms pieces.
    fn max_chunk(&self) -> usize {
        self.unit * 48
    }

    fn check_loss_length(&self, len: usize) -> Result<(), CodecError> {
        if !len.is_multiple_of(self.unit * self.channels()) {
            return Err(CodecError::InvalidFrameLength {
                got: len,
                expected: "a multiple of 2.5 ms of interleaved samples",
            });
        }
        Ok(())
    }

    fn decode_error(e: opus_dec_ext::Error) -> CodecError {
        match e {
            opus_dec_ext::Error::InvalidPacket => CodecError::InvalidPayload("corrupt Opus packet"),
            _ => dec_library(e),
        }
    }
}

impl AudioDecoder for OpusDecoder {
    fn descriptor(&self) -> &'static CodecDescriptor {
        &OPUS
    }
    fn format(&self) -> AudioFormat {
        format(self.config.sample_rate, self.config.channels)
    }
    fn max_frame_samples(&self) -> usize {
        self.max_chunk() * self.channels()
    }
    fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        if payload.is_empty() {
            return Err(CodecError::InvalidPayload(
                "empty Opus payload (conceal a lost packet instead)",
            ));
        }
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(CodecError::InvalidPayload("Opus payload too long"));
        }
        let per_channel = packet::duration(payload, self.config.sample_rate)
            .ok_or(CodecError::InvalidPayload("malformed Opus packet"))?
            as usize;
        let needed = per_channel * self.channels();
        if out.len() < needed {
            return Err(CodecError::BufferTooSmall {
                needed,
                available: out.len(),
            });
        }
        let n = self
            .dec
            .decode(payload, &mut out[..needed], false)
            .map_err(Self::decode_error)?;
        self.last_mode = Some(packet::mode(payload[0]));
        Ok(n * self.channels())
    }
    /// Fills `out` with libopus's concealment. Its length must be a whole number of 2.5 ms
    /// steps (`InvalidFrameLength` otherwise); long losses are concealed in 120 ms pieces.
    fn conceal(&mut self, out: &mut [i16]) -> Result<usize, CodecError> {
        self.check_loss_length(out.len())?;
        let chunk = self.max_chunk() * self.channels();
        for piece in out.chunks_mut(chunk) {
            self.dec.conceal(piece).map_err(dec_library)?;
        }
        Ok(out.len())
    }
    /// Rebuilds the lost packet that came just before `next` from the FEC in `next`; `out` is
    /// the lost packet's duration (a multiple of 2.5 ms). `Ok(None)`, with nothing written,
    /// when `next` has no FEC, when `out` is shorter than one frame of `next`, or after a CELT
    /// packet (libopus would only conceal). Losses longer than 120 ms are concealed up to the
    /// last 120 ms, which FEC then covers. `next` is decoded again normally afterwards.
    fn decode_fec(&mut self, next: &[u8], out: &mut [i16]) -> Result<Option<usize>, CodecError> {
        self.check_loss_length(out.len())?;
        if next.is_empty() || next.len() > MAX_PAYLOAD_BYTES {
            return Err(CodecError::InvalidPayload("Opus payload empty or too long"));
        }
        let has_fec =
            packet::has_fec(next).ok_or(CodecError::InvalidPayload("malformed Opus packet"))?;
        let lost = out.len() / self.channels();
        let frame = packet::samples_per_frame(next[0], self.config.sample_rate) as usize;
        if !has_fec || lost < frame || self.last_mode == Some(packet::Mode::Celt) {
            return Ok(None);
        }
        let split = lost.saturating_sub(self.max_chunk()) * self.channels();
        let (head, tail) = out.split_at_mut(split);
        if !head.is_empty() {
            self.conceal(head)?;
        }
        self.dec
            .decode(next, tail, true)
            .map_err(Self::decode_error)?;
        Ok(Some(out.len()))
    }
    fn reset(&mut self) {
        // OPUS_RESET_STATE cannot fail on a live decoder; the complexity is kept.
        self.dec.reset();
        self.last_mode = None;
    }
}

pub(crate) fn new_encoder(p: &CodecParams) -> Result<Box<dyn AudioEncoder>, CodecError> {
    Ok(Box::new(OpusEncoder::new(OpusEncoderConfig::from_params(
        p,
    )?)?))
}

pub(crate) fn new_decoder(p: &CodecParams) -> Result<Box<dyn AudioDecoder>, CodecError> {
    Ok(Box::new(OpusDecoder::new(OpusDecoderConfig::from_params(
        p,
    )?)?))
}

#[cfg(test)]
mod tests;
