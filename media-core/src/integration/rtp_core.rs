//! The MediaTransportAdapter: 10 ms PCM frames in and out on one side, RTP datagrams in and out
//! on the other, through rtp-core's sans-IO [`RtpSession`], SRTP and [`JitterBuffer`].
//!
//! Sans-IO like everything in the core: the adapter never reads a clock nor touches a socket.
//!
//! - Send: [`MediaTransportAdapter::push_capture_frame`] takes one 10 ms frame at the codec's
//!   sampling rate ([`MediaTransportAdapter::audio_format`]). Frames are accumulated to one
//!   packet time, encoded, and written as RTP with the negotiated payload type, a timestamp on
//!   the codec's RTP clock (G.722: 8000 Hz while sampling at 16 kHz, via
//!   [`CodecDescriptor::clock_rate_at`]), the marker bit on the first packet of a talkspurt
//!   (after silence, mute, hold or DTX), SRTP-protected when keyed. RFC 4733 DTMF
//!   ([`MediaTransportAdapter::send_dtmf`]) replaces audio while a digit is sent.
//! - Receive: [`MediaTransportAdapter::handle_datagram`] unprotects, hands the datagram to the
//!   RTP session (statistics, RTCP, source validation), and puts audio into the jitter buffer;
//!   telephone events become [`AdapterEvent::Dtmf`] once per event (end-bit retransmissions
//!   are deduplicated). [`MediaTransportAdapter::pull_playout_frame`] plays 10 ms: it polls
//!   the jitter buffer when its PCM is used up and decodes, recovers a lost packet with the
//!   codec's FEC from the next one (`decode_fec`, when `Missing::next_available`), or conceals.
//!   The delay follows the buffer's target by time-stretching decoded packets by pitch periods
//!   (accelerate / preemptive expand, in the `playout` module), not by inserting or dropping frames.
//! - Datagrams to send (RTP and RTCP) are drained with
//!   [`MediaTransportAdapter::poll_transmit`]; timers with
//!   [`MediaTransportAdapter::poll_timeout`] / [`MediaTransportAdapter::handle_timeout`];
//!   events with [`MediaTransportAdapter::poll_event`].
//! - Network feedback adapts the encoder: for codecs with an adjustable bitrate (Opus), receiver
//!   reports about our stream and bandwidth estimates feed an [`AudioAdaptation`] policy, and
//!   each decision it makes is applied by [`MediaTransportAdapter::apply_adaptation`]
//!   (bitrate, in-band FEC, expected loss, and the packet time: 20 / 40 / 60 ms, never above
//!   the remote's `maxptime`, switched at the next packet boundary so the RTP timestamps
//!   continue without a gap or overlap) and reported as [`AdapterEvent::Adapted`]. The
//!   receive side takes packets of any duration up to 120 ms: the jitter buffer measures
//!   durations from timestamps and from what the decoder returns.
//!
//! Nothing allocates per frame or per packet in steady state: PCM, payload and datagram buffers
//! are allocated once and reused, and jitter-buffer payloads are recycled.

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtp_core::jitter::{JitterBuffer, JitterConfig, JitterPacket, MissingKind, Playout};
use rtp_core::session::{
    Received, ReportSummary, RtpSession, SessionConfig, SessionEvent as RtpEvent, SessionStats,
    TransmitKind,
};
use rtp_core::srtp::{SrtpProfile as RtpSrtpProfile, SrtpSession};
use rtp_core::{EventSequence, JitterStats, RtpTimestamp, Ssrc, TelephoneEvent};

use super::playout::{PlayoutControl, Stretched};
use crate::codec::{AudioDecoder, AudioEncoder, Bitrates, CodecDescriptor, CodecParams};
use crate::error::CodecError;
use crate::frame::AudioFormat;
use crate::quality::adaptation::{AdaptationConfig, AdaptationDecision, AudioAdaptation};
use crate::session::SrtpProfile;

/// Largest datagram handled (a 1500-byte MTU plus room for an SRTP trailer).
pub const DATAGRAM_LEN: usize = 2048;
/// Datagrams queued for [`MediaTransportAdapter::poll_transmit`] before the oldest is dropped.
const TX_SLOTS: usize = 32;
/// Events queued before the oldest metric event is dropped.
const EVENT_CAPACITY: usize = 64;
/// Packet time of RFC 4733 event packets, ms.
const DTMF_INTERVAL_MS: u32 = 50;
/// Jitter-buffer payload buffers allocated at setup (16 packets: 320 ms of 20 ms packets).
const PREALLOCATED_PAYLOADS: usize = 16;
/// Longest lengthening of the packet time in one step, ms. A packet `d` ms longer than the
/// previous one arrives `d` ms later than the receiver's playout expects; a receiver whose
/// delay has at least `d` ms of headroom (the usual 20 ms minimum jitter delay) plays it in
/// time, one with less conceals and drops it as late. So 20 -> 60 goes through 40.
const PTIME_STEP_UP_MS: u16 = 20;
/// Least media time between two lengthening steps, ms: time for the receiver's jitter buffer
/// to learn the longer packetization delay and grow its delay by time-stretching.
const PTIME_STEP_HOLD_MS: u64 = 1000;

/// SRTP keys for one call: what we protect with and what the remote protects with.
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpKeys {
    /// The profile (both directions).
    pub profile: SrtpProfile,
    /// Our master key and salt (we send with them).
    pub local_key: Vec<u8>,
    /// Our master salt.
    pub local_salt: Vec<u8>,
    /// The remote's master key (we receive with it).
    pub remote_key: Vec<u8>,
    /// The remote's master salt.
    pub remote_salt: Vec<u8>,
}

impl fmt::Debug for SrtpKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpKeys")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

/// How to set an adapter up: usually made from a negotiated SDP by the
/// [`MediaSessionController`](super::session_core::MediaSessionController).
#[derive(Debug, Clone)]
pub struct AdapterConfig {
    /// Our RTCP CNAME.
    pub cname: String,
    /// Where to send RTP (None: learn it by latching).
    pub remote_rtp: Option<SocketAddr>,
    /// Where to send RTCP without rtcp-mux.
    pub remote_rtcp: Option<SocketAddr>,
    /// RTP and RTCP share a port.
    pub rtcp_mux: bool,
    /// The codec we send and receive.
    pub codec: &'static CodecDescriptor,
    /// Its parameters (sampling rate, channels, ptime, fmtp).
    pub params: CodecParams,
    /// The payload type we send the codec with.
    pub payload_type: u8,
    /// The payload type we expect the codec with (usually the same).
    pub receive_payload_type: u8,
    /// Telephone events: (payload type we send, payload type we receive).
    pub dtmf: Option<(u8, u8)>,
    /// Further payload types (with their RTP clock rates) the RTP session accepts, so a codec
    /// switch does not need a new session.
    pub other_payload_types: Vec<(u8, u32)>,
    /// SRTP keys; `None` for plain RTP.
    pub srtp: Option<SrtpKeys>,
    /// Jitter buffer delay limits, ms.
    pub jitter_min_ms: u16,
    /// Jitter buffer maximum delay, ms.
    pub jitter_max_ms: u16,
    /// Seed of the SSRC / sequence / timestamp draw (from a real random source in production).
    pub seed: u64,
    /// Adapt the encoder to network feedback ([`AudioAdaptation`]; codecs with an adjustable
    /// bitrate only).
    pub adaptation: bool,
    /// Minimum RTCP interval (RFC 3550: 5 s; AVPF's trr-int and RFC 3550's bandwidth scaling
    /// allow less).
    pub rtcp_min_interval: Duration,
    /// The remote's `a=maxptime`, ms: the adaptation never sends longer packets (an Opus
    /// `maxptime` in the remote's fmtp, in `params.fmtp`, is honoured too).
    pub max_ptime_ms: Option<u16>,
}

/// Something the transport reported, for the session controller.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum AdapterEvent {
    /// Packets arrive (first packet, or again after [`AdapterEvent::TransportDown`]).
    TransportUp,
    /// No packet for the transport timeout.
    TransportDown,
    /// A DTMF event ended (reported once).
    Dtmf {
        /// RFC 4733 event code.
        event: u8,
        /// How long it lasted.
        duration: Duration,
    },
    /// A receiver report about our stream.
    ReceiverReport(ReportSummary),
    /// The bandwidth estimate moved.
    BandwidthEstimate {
        /// Bits per second.
        bps: u64,
    },
    /// The adaptation policy made a new decision and it was applied to the encoder (the
    /// packet time from the next packet boundary, lengthened 20 ms a step a second apart;
    /// [`MediaTransportAdapter::send_ptime_ms`] tells the one in force).
    Adapted(AdaptationDecision),
    /// A new remote source (SSRC) was validated.
    NewSource {
        /// The SSRC.
        ssrc: Ssrc,
    },
    /// The remote's address moved (symmetric RTP).
    RemoteAddressChanged {
        /// The new address.
        address: SocketAddr,
    },
}

/// What went wrong setting an adapter up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdapterError {
    /// The codec could not be made with these parameters.
    Codec(CodecError),
    /// The RTP session configuration is invalid.
    Rtp(String),
    /// The SRTP keys do not fit the profile.
    Srtp(String),
    /// The jitter buffer configuration is invalid.
    Jitter(String),
}

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Codec(e) => write!(f, "codec: {e}"),
            Self::Rtp(e) => write!(f, "RTP session: {e}"),
            Self::Srtp(e) => write!(f, "SRTP: {e}"),
            Self::Jitter(e) => write!(f, "jitter buffer: {e}"),
        }
    }
}

impl std::error::Error for AdapterError {}

impl From<CodecError> for AdapterError {
    fn from(e: CodecError) -> Self {
        Self::Codec(e)
    }
}

/// Counters of the adapter (the RTP session and jitter buffer keep their own).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdapterCounters {
    /// Audio packets sent.
    pub audio_packets_sent: u64,
    /// Telephone-event packets sent.
    pub dtmf_packets_sent: u64,
    /// Datagrams received (before SRTP).
    pub datagrams_received: u64,
    /// Audio packets put into the jitter buffer.
    pub audio_packets_received: u64,
    /// Telephone-event packets received.
    pub dtmf_packets_received: u64,
    /// DTMF events reported.
    pub dtmf_events: u64,
    /// Datagrams that failed SRTP (authentication, replay, malformed).
    pub srtp_failures: u64,
    /// Datagrams the RTP session rejected as malformed.
    pub malformed: u64,
    /// Packets with a payload type we do not decode.
    pub other_payload_type: u64,
    /// Packets decoded.
    pub decoded: u64,
    /// Payloads that failed to decode (concealed instead).
    pub decode_errors: u64,
    /// Lost packets recovered from FEC.
    pub fec_recovered: u64,
    /// Lost packets concealed (the jitter buffer's `Lost` spans not recovered by FEC).
    pub concealed_lost: u64,
    /// Underflow spans concealed (the buffer ran dry).
    pub concealed_underflow: u64,
    /// Frames inserted to grow the delay (`Expand`: while waiting for a packet).
    pub expanded: u64,
    /// Packets played shorter by a pitch period to reduce the delay (time-stretching).
    pub accelerated: u64,
    /// Packets played longer by a pitch period to grow the delay (time-stretching).
    pub preemptive_expanded: u64,
    /// Frames of silence played (nothing to play).
    pub silence: u64,
    /// 10 ms frames played out.
    pub frames_played: u64,
    /// Datagrams dropped because the transmit queue was full.
    pub tx_dropped: u64,
    /// Encoder errors (frame dropped).
    pub encode_errors: u64,
    /// Events dropped because the queue was full.
    pub events_dropped: u64,
    /// Expected-loss hints given to the encoder.
    pub loss_hints: u64,
    /// Bitrate changes made from bandwidth estimates.
    pub bitrate_changes: u64,
    /// Packet-time changes applied (at a packet boundary).
    pub ptime_changes: u64,
}

/// One datagram slot of the transmit ring.
struct TxSlot {
    to: SocketAddr,
    len: usize,
    buf: Vec<u8>,
}

/// A fixed ring of reusable datagram buffers.
struct TxQueue {
    slots: Vec<TxSlot>,
    head: usize,
    len: usize,
}

impl TxQueue {
    fn new() -> Self {
        let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
        Self {
            slots: (0..TX_SLOTS)
                .map(|_| TxSlot {
                    to: unspecified,
                    len: 0,
                    buf: vec![0; DATAGRAM_LEN],
                })
                .collect(),
            head: 0,
            len: 0,
        }
    }

    /// The next free slot (dropping the oldest when full: returns `true` then).
    fn push_slot(&mut self) -> (&mut TxSlot, bool) {
        let mut dropped = false;
        if self.len == TX_SLOTS {
            self.head = (self.head + 1) % TX_SLOTS;
            self.len -= 1;
            dropped = true;
        }
        let i = (self.head + self.len) % TX_SLOTS;
        self.len += 1;
        (&mut self.slots[i], dropped)
    }

    /// Undo the last push (the packet could not be written).
    fn unpush(&mut self) {
        self.len = self.len.saturating_sub(1);
    }

    fn pop(&mut self) -> Option<&TxSlot> {
        if self.len == 0 {
            return None;
        }
        let i = self.head;
        self.head = (self.head + 1) % TX_SLOTS;
        self.len -= 1;
        self.slots.get(i)
    }
}

/// The DTMF event being sent.
struct DtmfOut {
    seq: EventSequence,
    /// Media clock (ticks) when it started.
    start_ticks: u64,
    /// The next packet planned, not yet due.
    next: Option<rtp_core::EventPacket>,
}

/// The DTMF event being received.
#[derive(Clone, Copy)]
struct DtmfIn {
    timestamp: u32,
    event: u8,
    duration: u16,
    reported: bool,
}

/// Frames <-> RTP for one audio stream; see the module docs.
pub struct MediaTransportAdapter {
    codec: &'static CodecDescriptor,
    params: CodecParams,
    payload_type: u8,
    receive_payload_type: u8,
    dtmf: Option<(u8, u8)>,
    clock_rate: u32,
    /// RTP ticks per 10 ms frame.
    frame_ticks: u32,
    /// Interleaved samples per 10 ms frame.
    frame_samples: usize,
    session: RtpSession,
    srtp_tx: Option<SrtpSession>,
    srtp_rx: Option<SrtpSession>,
    encoder: Option<Box<dyn AudioEncoder>>,
    decoder: Option<Box<dyn AudioDecoder>>,
    jitter: JitterBuffer,
    jitter_limits: (u16, u16),
    // Send state.
    pending: Vec<i16>,
    pending_start: u64,
    payload: Vec<u8>,
    /// The media clock: ticks of all frames pushed (sent or not).
    media_ticks: u64,
    talkspurt: bool,
    dtmf_out: Option<DtmfOut>,
    dtmf_queue: VecDeque<(u8, u32)>,
    bitrate_cap: Option<u32>,
    adaptation: Option<AudioAdaptation>,
    /// Whether adaptation was asked for (it runs only while the codec's bitrate adjusts).
    adapt: bool,
    /// The packet time the encoder produces now, ms.
    send_ptime: u16,
    /// The packet time the adaptation wants, applied at the next packet boundary.
    want_ptime: u16,
    /// The remote's `a=maxptime`.
    remote_max_ptime: Option<u16>,
    /// Media clock (ticks) of the last packet-time change.
    ptime_changed_at: u64,
    // Receive state.
    rx_buf: Vec<u8>,
    play: Vec<i16>,
    play_pos: usize,
    scratch: Vec<i16>,
    playout: PlayoutControl,
    dtmf_in: Option<DtmfIn>,
    // Output.
    tx: TxQueue,
    events: VecDeque<AdapterEvent>,
    counters: AdapterCounters,
}

impl fmt::Debug for MediaTransportAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaTransportAdapter")
            .field("codec", &self.codec.name)
            .field("payload_type", &self.payload_type)
            .field("ssrc", &self.session.ssrc())
            .finish_non_exhaustive()
    }
}

fn rtp_profile(p: SrtpProfile) -> RtpSrtpProfile {
    match p {
        SrtpProfile::AesCm128HmacSha1_80 => RtpSrtpProfile::AesCm128HmacSha1_80,
        SrtpProfile::AesCm128HmacSha1_32 => RtpSrtpProfile::AesCm128HmacSha1_32,
        SrtpProfile::AeadAes128Gcm => RtpSrtpProfile::AeadAes128Gcm,
    }
}

fn srtp_pair(keys: &SrtpKeys) -> Result<(SrtpSession, SrtpSession), AdapterError> {
    let p = rtp_profile(keys.profile);
    let tx = SrtpSession::new(p, &keys.local_key, &keys.local_salt)
        .map_err(|e| AdapterError::Srtp(e.to_string()))?;
    let rx = SrtpSession::new(p, &keys.remote_key, &keys.remote_salt)
        .map_err(|e| AdapterError::Srtp(e.to_string()))?;
    Ok((tx, rx))
}

/// A small deterministic generator for the session's SSRC draw.
fn splitmix(seed: u64) -> impl FnMut() -> u32 + Send {
    let mut state = seed;
    move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as u32
    }
}

/// Largest PCM a packet or a concealment span can need, interleaved samples (120 ms).
fn max_span_samples(params: &CodecParams) -> usize {
    params.sample_rate as usize * 120 / 1000 * usize::from(params.channels.max(1))
}

impl MediaTransportAdapter {
    /// An adapter starting at `now`, with an encoder and decoder from `registry`.
    pub fn new(
        config: AdapterConfig,
        registry: &crate::codec::CodecRegistry,
        now: Instant,
    ) -> Result<Self, AdapterError> {
        let codec = config.codec;
        let params = config.params.clone();
        let clock_rate = codec.clock_rate_at(params.sample_rate);
        let mut clocks = vec![(config.payload_type, clock_rate)];
        if config.receive_payload_type != config.payload_type {
            clocks.push((config.receive_payload_type, clock_rate));
        }
        if let Some((tx, rx)) = config.dtmf {
            clocks.push((tx, clock_rate));
            if rx != tx {
                clocks.push((rx, clock_rate));
            }
        }
        for &(pt, rate) in &config.other_payload_types {
            if !clocks.iter().any(|&(p, _)| p == pt) {
                clocks.push((pt, rate));
            }
        }
        let mut rtp = SessionConfig::new(config.cname.as_bytes(), &clocks);
        rtp.remote_rtp = config.remote_rtp;
        rtp.remote_rtcp = config.remote_rtcp;
        rtp.rtcp_mux = config.rtcp_mux;
        rtp.session_bandwidth_bps = 128_000;
        rtp.rtcp_min_interval = config.rtcp_min_interval;
        let session = RtpSession::new(rtp, now, Box::new(splitmix(config.seed)))
            .map_err(|e| AdapterError::Rtp(e.to_string()))?;
        let (srtp_tx, srtp_rx) = match &config.srtp {
            Some(keys) => {
                let (tx, rx) = srtp_pair(keys)?;
                (Some(tx), Some(rx))
            }
            None => (None, None),
        };
        let encoder = registry.encoder(codec.name, &params)?;
        let decoder = registry.decoder(codec.name, &params)?;
        let jitter = new_jitter(
            clock_rate,
            &params,
            config.jitter_min_ms,
            config.jitter_max_ms,
        )?;
        let frame_samples = params.sample_rate as usize / 100 * usize::from(params.channels.max(1));
        let span = max_span_samples(&params).max(decoder.max_frame_samples());
        let payload_len = encoder.max_payload_bytes().max(1500);
        let bitrate_cap = match codec.bitrates {
            Bitrates::Range(_, _) => Some(params.bitrate.unwrap_or(32_000)),
            _ => None,
        };
        let max_ptime = max_ptime(codec, &params, config.max_ptime_ms);
        let adaptation = adaptation_for(config.adaptation, bitrate_cap, &params, max_ptime);
        let pending_cap = pending_capacity(&params, max_ptime, encoder.frame_samples());
        let mut this = Self {
            codec,
            payload_type: config.payload_type,
            receive_payload_type: config.receive_payload_type,
            dtmf: config.dtmf,
            clock_rate,
            frame_ticks: clock_rate / 100,
            frame_samples,
            session,
            srtp_tx,
            srtp_rx,
            pending: Vec::with_capacity(pending_cap.max(frame_samples)),
            pending_start: 0,
            payload: vec![0; payload_len],
            encoder: Some(encoder),
            decoder: Some(decoder),
            jitter,
            jitter_limits: (config.jitter_min_ms, config.jitter_max_ms),
            media_ticks: 0,
            talkspurt: true,
            dtmf_out: None,
            dtmf_queue: VecDeque::with_capacity(16),
            bitrate_cap,
            adaptation,
            adapt: config.adaptation,
            send_ptime: params.ptime_ms,
            want_ptime: params.ptime_ms,
            remote_max_ptime: config.max_ptime_ms,
            ptime_changed_at: 0,
            rx_buf: vec![0; DATAGRAM_LEN],
            play: Vec::with_capacity(2 * span + frame_samples),
            play_pos: 0,
            scratch: vec![0; span],
            playout: PlayoutControl::new(params.sample_rate, params.channels, span),
            dtmf_in: None,
            tx: TxQueue::new(),
            events: VecDeque::with_capacity(EVENT_CAPACITY),
            counters: AdapterCounters::default(),
            params,
        };
        this.poll_adaptation();
        Ok(this)
    }

    /// The PCM format of capture and playout frames: the codec's sampling rate and channels.
    pub fn audio_format(&self) -> AudioFormat {
        AudioFormat {
            sample_rate: crate::frame::SampleRate(self.params.sample_rate),
            channels: self.params.channels,
            sample_format: crate::frame::SampleFormat::I16,
        }
    }

    /// Interleaved samples in one 10 ms frame.
    pub fn frame_samples(&self) -> usize {
        self.frame_samples
    }

    /// The codec in use.
    pub fn codec(&self) -> &'static CodecDescriptor {
        self.codec
    }

    /// The codec parameters in use.
    pub fn params(&self) -> &CodecParams {
        &self.params
    }

    /// The payload type we send.
    pub fn payload_type(&self) -> u8 {
        self.payload_type
    }

    /// Our SSRC.
    pub fn ssrc(&self) -> Ssrc {
        self.session.ssrc()
    }

    /// The adapter's counters.
    pub fn counters(&self) -> AdapterCounters {
        self.counters
    }

    /// The RTP session's statistics (allocates: call it for reports, not per frame).
    pub fn rtp_stats(&self) -> SessionStats {
        self.session.stats()
    }

    /// The jitter buffer's statistics.
    pub fn jitter_stats(&self) -> JitterStats {
        self.jitter.stats()
    }

    /// Whether an encoder is allocated.
    pub fn has_encoder(&self) -> bool {
        self.encoder.is_some()
    }

    /// Whether a decoder is allocated.
    pub fn has_decoder(&self) -> bool {
        self.decoder.is_some()
    }

    /// Releases or re-creates the encoder and decoder (hold, direction changes). Releasing the
    /// decoder also empties the jitter buffer and the playout queue.
    pub fn set_resources(
        &mut self,
        registry: &crate::codec::CodecRegistry,
        encoder: bool,
        decoder: bool,
    ) -> Result<(), AdapterError> {
        match (encoder, self.encoder.is_some()) {
            (true, false) => {
                self.encoder = Some(registry.encoder(self.codec.name, &self.params)?);
                self.talkspurt = true;
                self.pending.clear();
                self.send_ptime = self.params.ptime_ms;
                self.want_ptime = self.params.ptime_ms;
                if let Some(d) = self.adaptation.as_ref().map(AudioAdaptation::decision) {
                    self.apply_adaptation(&d);
                }
            }
            (false, true) => {
                self.encoder = None;
                self.pending.clear();
            }
            _ => {}
        }
        match (decoder, self.decoder.is_some()) {
            (true, false) => {
                self.decoder = Some(registry.decoder(self.codec.name, &self.params)?);
            }
            (false, true) => {
                self.decoder = None;
                self.jitter.reset();
                self.playout.reset();
                self.play.clear();
                self.play_pos = 0;
            }
            _ => {}
        }
        Ok(())
    }

    /// Switches codec mid-call (a new SDP): new encoder and decoder, payload types, and a new
    /// jitter buffer when the clock rate changes. The RTP session (SSRC, sequence numbers)
    /// continues; the timestamp continues on the new clock.
    pub fn switch_codec(
        &mut self,
        registry: &crate::codec::CodecRegistry,
        codec: &'static CodecDescriptor,
        params: CodecParams,
        payload_type: u8,
        receive_payload_type: u8,
        dtmf: Option<(u8, u8)>,
    ) -> Result<(), AdapterError> {
        let encoder = registry.encoder(codec.name, &params)?;
        let decoder = registry.decoder(codec.name, &params)?;
        let clock_rate = codec.clock_rate_at(params.sample_rate);
        let jitter = new_jitter(
            clock_rate,
            &params,
            self.jitter_limits.0,
            self.jitter_limits.1,
        )?;
        // Media time continues: convert the clock's position to the new rate.
        self.media_ticks = self.media_ticks * u64::from(clock_rate) / u64::from(self.clock_rate);
        self.frame_samples =
            params.sample_rate as usize / 100 * usize::from(params.channels.max(1));
        let span = max_span_samples(&params).max(decoder.max_frame_samples());
        self.scratch = vec![0; span];
        self.playout = PlayoutControl::new(params.sample_rate, params.channels, span);
        self.play = Vec::with_capacity(2 * span + self.frame_samples);
        self.play_pos = 0;
        let max_ptime = max_ptime(codec, &params, self.remote_max_ptime);
        let pending_cap = pending_capacity(&params, max_ptime, encoder.frame_samples());
        self.pending = Vec::with_capacity(pending_cap.max(self.frame_samples));
        self.send_ptime = params.ptime_ms;
        self.want_ptime = params.ptime_ms;
        self.payload = vec![0; encoder.max_payload_bytes().max(1500)];
        self.encoder = Some(encoder);
        self.decoder = Some(decoder);
        self.jitter = jitter;
        self.clock_rate = clock_rate;
        self.frame_ticks = clock_rate / 100;
        self.codec = codec;
        self.bitrate_cap = match codec.bitrates {
            Bitrates::Range(_, _) => Some(params.bitrate.unwrap_or(32_000)),
            _ => None,
        };
        self.adaptation = adaptation_for(self.adapt, self.bitrate_cap, &params, max_ptime);
        self.params = params;
        self.poll_adaptation();
        self.payload_type = payload_type;
        self.receive_payload_type = receive_payload_type;
        self.dtmf = dtmf;
        self.dtmf_out = None;
        self.dtmf_in = None;
        self.talkspurt = true;
        Ok(())
    }

    /// Whether the RTP session knows a payload type (a codec switch to it needs no new session).
    pub fn knows_payload_type(&self, pt: u8) -> bool {
        self.session
            .config()
            .clock_rates
            .iter()
            .any(|&(p, _)| p == pt)
    }

    /// Sends RTP (and RTCP) to a new address from now on (a new SDP); the stream continues.
    pub fn set_remote(&mut self, rtp: SocketAddr, rtcp: Option<SocketAddr>) {
        self.session.set_remote(rtp, rtcp);
    }

    /// Where RTP goes.
    pub fn remote(&self) -> Option<SocketAddr> {
        self.session.remote_rtp()
    }

    /// New SRTP keys (re-keying); `None` turns SRTP off.
    pub fn set_srtp(&mut self, keys: Option<&SrtpKeys>) -> Result<(), AdapterError> {
        match keys {
            Some(k) => {
                let (tx, rx) = srtp_pair(k)?;
                self.srtp_tx = Some(tx);
                self.srtp_rx = Some(rx);
            }
            None => {
                self.srtp_tx = None;
                self.srtp_rx = None;
            }
        }
        Ok(())
    }

    /// Queues a DTMF digit (RFC 4733 event code) lasting `duration`; it is sent from the next
    /// capture frame on, replacing audio, in event packets every 50 ms, the last three times.
    /// Returns `false` when telephone-event was not negotiated.
    pub fn send_dtmf(&mut self, event: u8, duration: Duration) -> bool {
        if self.dtmf.is_none() {
            return false;
        }
        let ticks = (duration.as_micros() * u128::from(self.clock_rate) / 1_000_000) as u32;
        self.dtmf_queue
            .push_back((event, ticks.max(self.frame_ticks)));
        true
    }

    // ----- send ------------------------------------------------------------------------------

    /// One 10 ms capture frame at [`Self::audio_format`]. With `send == false` (muted, held,
    /// paused, or a receive-only stream) the frame only advances the media clock, and the
    /// next packet sent starts a talkspurt (marker bit). A frame of the wrong length is
    /// padded or cut to 10 ms.
    pub fn push_capture_frame(&mut self, now: Instant, pcm: &[i16], send: bool) {
        let frame_start = self.media_ticks;
        self.media_ticks += u64::from(self.frame_ticks);
        if !send || self.encoder.is_none() {
            self.pending.clear();
            self.talkspurt = true;
            self.dtmf_out = None;
            return;
        }
        if self.dtmf_out.is_none() {
            if let Some((event, ticks)) = self.dtmf_queue.pop_front() {
                self.start_dtmf(event, ticks, frame_start);
            }
        }
        if self.dtmf_out.is_some() {
            self.pending.clear();
            self.send_dtmf_due(now);
            return;
        }
        if self.pending.is_empty() {
            self.pending_start = frame_start;
            if self.want_ptime != self.send_ptime {
                self.switch_ptime(frame_start);
            }
        }
        let n = pcm.len().min(self.frame_samples);
        self.pending.extend_from_slice(&pcm[..n]);
        for _ in n..self.frame_samples {
            self.pending.push(0);
        }
        let Some(encoder) = self.encoder.as_mut() else {
            return;
        };
        if self.pending.len() < encoder.frame_samples() {
            return;
        }
        let len = match encoder.encode(&self.pending, &mut self.payload) {
            Ok(len) => len,
            Err(_) => {
                self.counters.encode_errors += 1;
                self.pending.clear();
                return;
            }
        };
        self.pending.clear();
        // Opus DTX: a payload of two bytes or less need not be sent (RFC 7587 section 3.1.3).
        if len <= 2 && self.codec.name == "opus" {
            self.talkspurt = true;
            return;
        }
        let marker = std::mem::replace(&mut self.talkspurt, false);
        let ts = RtpTimestamp(self.pending_start as u32);
        let pt = self.payload_type;
        if self.write_rtp(now, pt, ts, marker, len) {
            self.counters.audio_packets_sent += 1;
        }
    }

    /// At a packet boundary (the next packet starts where the last one ended, so the
    /// timestamps go on without a gap or overlap whatever its duration): moves the packet
    /// time towards the one wanted, shorter at once, longer by [`PTIME_STEP_UP_MS`] at most
    /// every [`PTIME_STEP_HOLD_MS`].
    fn switch_ptime(&mut self, frame_start: u64) {
        let Some(enc) = self.encoder.as_mut() else {
            return;
        };
        let next = if self.want_ptime > self.send_ptime {
            let hold = PTIME_STEP_HOLD_MS * u64::from(self.clock_rate) / 1000;
            if self.counters.ptime_changes > 0
                && frame_start.saturating_sub(self.ptime_changed_at) < hold
            {
                return;
            }
            self.want_ptime
                .min(self.send_ptime.saturating_add(PTIME_STEP_UP_MS))
        } else {
            self.want_ptime
        };
        if self.codec.ptimes.contains(&next) && enc.set_frame_ms(next).is_ok() {
            self.send_ptime = next;
            self.ptime_changed_at = frame_start;
            self.counters.ptime_changes += 1;
        } else {
            self.want_ptime = self.send_ptime;
        }
    }

    fn start_dtmf(&mut self, event: u8, ticks: u32, start: u64) {
        let interval = (self.clock_rate * DTMF_INTERVAL_MS / 1000).clamp(1, u32::from(u16::MAX));
        if let Ok(seq) = EventSequence::new(
            event,
            10,
            RtpTimestamp(start as u32),
            ticks,
            interval as u16,
        ) {
            self.dtmf_out = Some(DtmfOut {
                seq,
                start_ticks: start,
                next: None,
            });
        }
    }

    /// Sends the event packets due by the media clock.
    fn send_dtmf_due(&mut self, now: Instant) {
        let Some((pt, _)) = self.dtmf else {
            self.dtmf_out = None;
            return;
        };
        let elapsed = self.media_ticks;
        loop {
            let Some(out) = self.dtmf_out.as_mut() else {
                return;
            };
            let next = match out.next.take() {
                Some(p) => p,
                None => match out.seq.next() {
                    Some(p) => p,
                    None => {
                        // Done: audio resumes with a new talkspurt.
                        self.dtmf_out = None;
                        self.talkspurt = true;
                        return;
                    }
                },
            };
            if out.start_ticks + u64::from(next.send_offset) > elapsed {
                out.next = Some(next);
                return;
            }
            let Ok(len) = next.event.write(&mut self.payload) else {
                continue;
            };
            if self.write_rtp(now, pt, next.timestamp, next.marker, len) {
                self.counters.dtmf_packets_sent += 1;
            }
        }
    }

    /// Writes `self.payload[..len]` as RTP into the transmit queue, SRTP-protected.
    fn write_rtp(
        &mut self,
        now: Instant,
        pt: u8,
        ts: RtpTimestamp,
        marker: bool,
        len: usize,
    ) -> bool {
        let (slot, dropped) = self.tx.push_slot();
        if dropped {
            self.counters.tx_dropped += 1;
        }
        let payload = self.payload.get(..len).unwrap_or_default();
        let (to, plain) = match self
            .session
            .send_rtp(now, pt, ts, marker, payload, &mut slot.buf)
        {
            Ok(t) => (t.destination, t.contents.len()),
            Err(_) => {
                self.tx.unpush();
                return false;
            }
        };
        let out = match self.srtp_tx.as_mut() {
            Some(s) => match s.protect_rtp(&mut slot.buf, plain) {
                Ok(n) => n,
                Err(_) => {
                    self.tx.unpush();
                    return false;
                }
            },
            None => plain,
        };
        slot.to = to;
        slot.len = out;
        true
    }

    /// Moves RTCP the session wants to send into the transmit queue.
    fn drain_rtcp(&mut self, now: Instant) {
        while let Some(t) = self.session.poll_transmit(now) {
            let (to, kind) = (t.destination, t.kind);
            let n = t.contents.len().min(DATAGRAM_LEN - 64);
            let (slot, dropped) = self.tx.push_slot();
            if dropped {
                self.counters.tx_dropped += 1;
            }
            slot.buf[..n].copy_from_slice(&t.contents[..n]);
            let len = match (self.srtp_tx.as_mut(), kind) {
                (Some(s), TransmitKind::Rtcp) => match s.protect_rtcp(&mut slot.buf, n) {
                    Ok(len) => len,
                    Err(_) => {
                        self.tx.unpush();
                        continue;
                    }
                },
                _ => n,
            };
            slot.to = to;
            slot.len = len;
        }
    }

    /// The next datagram to send: copies it into `out` and returns its destination and length
    /// (`None` when nothing is queued). `out` should hold [`DATAGRAM_LEN`] bytes.
    pub fn poll_transmit(&mut self, now: Instant, out: &mut [u8]) -> Option<(SocketAddr, usize)> {
        self.drain_rtcp(now);
        let slot = self.tx.pop()?;
        let n = slot.len.min(out.len());
        out[..n].copy_from_slice(&slot.buf[..n]);
        Some((slot.to, n))
    }

    /// When [`Self::handle_timeout`] is due (RTCP, timeouts).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.session.poll_timeout()
    }

    /// Runs the RTP session's timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.session.handle_timeout(now);
        self.drain_session_events(now);
    }

    /// Leaves the session: the next [`Self::poll_transmit`] carries RTCP BYE.
    pub fn close(&mut self) {
        self.session.close();
    }

    // ----- receive ---------------------------------------------------------------------------

    /// A datagram from `from` received at `now`. With `receive == false` (held, send-only)
    /// statistics and RTCP are kept but audio is not buffered.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8], receive: bool) {
        self.counters.datagrams_received += 1;
        let n = bytes.len().min(DATAGRAM_LEN);
        self.rx_buf[..n].copy_from_slice(&bytes[..n]);
        let len = match self.srtp_rx.as_mut() {
            Some(s) => {
                let result = if rtp_core::rtcp::is_rtcp(&self.rx_buf[..n]) {
                    s.unprotect_rtcp(&mut self.rx_buf[..n])
                } else {
                    s.unprotect_rtp(&mut self.rx_buf[..n])
                };
                match result {
                    Ok(len) => len,
                    Err(_) => {
                        self.counters.srtp_failures += 1;
                        return;
                    }
                }
            }
            None => n,
        };
        let received = match self.session.handle_packet(now, from, &self.rx_buf[..len]) {
            Ok(Some(Received::Rtp(r))) => Some((
                r.packet.payload_type(),
                r.packet.sequence_number(),
                r.packet.timestamp(),
                r.packet.marker(),
                r.packet.ssrc(),
                r.packet.payload(),
            )),
            Ok(_) => None,
            Err(_) => {
                self.counters.malformed += 1;
                None
            }
        };
        if let Some((pt, seq, ts, marker, ssrc, payload)) = received {
            if self.dtmf.is_some_and(|(_, rx)| rx == pt) {
                self.counters.dtmf_packets_received += 1;
                if let Ok(ev) = TelephoneEvent::parse(payload) {
                    if receive {
                        dtmf_receive(
                            &mut self.dtmf_in,
                            &mut self.events,
                            &mut self.counters,
                            ts.0,
                            ev,
                            self.clock_rate,
                        );
                    }
                }
            } else if pt == self.receive_payload_type || pt == self.payload_type {
                if receive && self.decoder.is_some() {
                    let mut buf = self.jitter.take_buffer();
                    buf.extend_from_slice(payload);
                    self.jitter.insert(
                        now,
                        JitterPacket {
                            ssrc,
                            seq,
                            timestamp: ts,
                            marker,
                            payload: buf,
                        },
                    );
                    self.counters.audio_packets_received += 1;
                }
            } else {
                self.counters.other_payload_type += 1;
            }
        }
        self.drain_session_events(now);
    }

    fn push_event(&mut self, e: AdapterEvent) {
        push_event(&mut self.events, &mut self.counters, e);
    }

    fn drain_session_events(&mut self, now: Instant) {
        while let Some(e) = self.session.poll_event() {
            match e {
                RtpEvent::TransportUp => self.push_event(AdapterEvent::TransportUp),
                RtpEvent::TransportDown => self.push_event(AdapterEvent::TransportDown),
                RtpEvent::NewSource { ssrc, .. } => {
                    self.push_event(AdapterEvent::NewSource { ssrc })
                }
                RtpEvent::RemoteAddressChanged { new, .. } => {
                    self.push_event(AdapterEvent::RemoteAddressChanged { address: new })
                }
                RtpEvent::ReceiverReport(r) => {
                    if let Some(a) = self.adaptation.as_mut() {
                        a.on_receiver_report(now, r.fraction_lost, r.jitter_ms, r.rtt);
                    }
                    self.push_event(AdapterEvent::ReceiverReport(r));
                    self.poll_adaptation();
                }
                RtpEvent::BandwidthEstimate { bps } => {
                    if let Some(a) = self.adaptation.as_mut() {
                        a.on_bandwidth_estimate(now, bps);
                    }
                    self.push_event(AdapterEvent::BandwidthEstimate { bps });
                    self.poll_adaptation();
                }
                _ => {}
            }
        }
    }

    /// Applies an adaptation decision to the encoder: bitrate (codecs with an adjustable one),
    /// in-band FEC, expected loss, and the packet time (codecs whose frames may change length
    /// mid-stream, Opus; up to the remote's `maxptime`), which takes effect at the next packet
    /// boundary: a packet being filled is finished at the old duration.
    pub fn apply_adaptation(&mut self, d: &AdaptationDecision) {
        let max = max_ptime(self.codec, &self.params, self.remote_max_ptime);
        let Some(enc) = self.encoder.as_mut() else {
            return;
        };
        if d.ptime_ms <= max.max(self.params.ptime_ms) && self.codec.ptimes.contains(&d.ptime_ms) {
            self.want_ptime = d.ptime_ms;
        }
        let _ = enc.set_fec(d.fec);
        if enc.set_expected_loss(d.expected_loss_pct).is_ok() {
            self.counters.loss_hints += 1;
        }
        if self.bitrate_cap.is_some() && enc.set_bitrate(d.bitrate).is_ok() {
            self.counters.bitrate_changes += 1;
        }
    }

    /// The remote's `a=maxptime` changed (a new SDP): the packet time adaptation stays at or
    /// below it from now on (a longer packet time in force is shortened at the next packet).
    pub fn set_remote_max_ptime(&mut self, ms: Option<u16>) {
        self.remote_max_ptime = ms;
        let max = max_ptime(self.codec, &self.params, ms);
        if let Some(a) = self.adaptation.as_mut() {
            a.set_max_ptime(max);
        }
        self.poll_adaptation();
    }

    /// The packet time the encoder produces now, ms (the negotiated one until the adaptation
    /// changes it).
    pub fn send_ptime_ms(&self) -> u16 {
        self.send_ptime
    }

    /// The adaptation policy, when the codec adapts.
    pub fn adaptation(&self) -> Option<&AudioAdaptation> {
        self.adaptation.as_ref()
    }

    /// Applies and reports the policy's new decision, if any.
    fn poll_adaptation(&mut self) {
        if let Some(d) = self
            .adaptation
            .as_mut()
            .and_then(AudioAdaptation::poll_decision)
        {
            self.apply_adaptation(&d);
            self.push_event(AdapterEvent::Adapted(d));
        }
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<AdapterEvent> {
        self.events.pop_front()
    }

    // ----- playout ---------------------------------------------------------------------------

    /// Plays 10 ms into `out` (at least [`Self::frame_samples`] long): decoded audio, FEC,
    /// concealment or silence. With `play == false` (receive muted) the audio is still
    /// decoded (statistics, decoder state) but `out` gets silence. Returns the samples
    /// written.
    pub fn pull_playout_frame(&mut self, now: Instant, out: &mut [i16], play: bool) -> usize {
        let n = self.frame_samples.min(out.len());
        if self.decoder.is_none() {
            out[..n].fill(0);
            return n;
        }
        let mut guard = 0;
        while self.play.len() - self.play_pos < n && guard < 8 {
            guard += 1;
            if self.play_pos > 0 {
                self.play.copy_within(self.play_pos.., 0);
                let keep = self.play.len() - self.play_pos;
                self.play.truncate(keep);
                self.play_pos = 0;
            }
            let added = self.poll_jitter(now);
            if added == 0 {
                let room = n.min(self.play.capacity() - self.play.len());
                self.play.resize(self.play.len() + room, 0);
            }
        }
        let avail = (self.play.len() - self.play_pos).min(n);
        if play {
            out[..avail].copy_from_slice(&self.play[self.play_pos..self.play_pos + avail]);
        } else {
            out[..avail].fill(0);
        }
        out[avail..n].fill(0);
        self.play_pos += avail;
        self.counters.frames_played += 1;
        n
    }

    /// Polls the jitter buffer once and appends what it gives to the playout queue.
    fn poll_jitter(&mut self, now: Instant) -> usize {
        let Some(decoder) = self.decoder.as_mut() else {
            return 0;
        };
        let ch = usize::from(self.params.channels.max(1));
        let ticks_to_samples = |ticks: u32, clock: u32, rate: u32| -> usize {
            (u64::from(ticks) * u64::from(rate) / u64::from(clock.max(1))) as usize * ch
        };
        let room = self.play.capacity() - self.play.len();
        let cap = self.scratch.len().min(room);
        let mut stretched = Stretched::No;
        let written = match self.jitter.poll(now) {
            Playout::Packet(p) => {
                let r = decoder.decode(&p.payload, &mut self.scratch[..cap]);
                let n = match r {
                    Ok(n) => {
                        self.counters.decoded += 1;
                        // Tell the buffer what the packet really covered.
                        let ticks = (n / ch) as u64 * u64::from(self.clock_rate)
                            / u64::from(self.params.sample_rate.max(1));
                        self.jitter.set_packet_duration(ticks as u32);
                        let queued = self.play.len() - self.play_pos;
                        stretched = self.playout.after_decode(
                            &self.jitter,
                            &self.scratch[..n],
                            queued,
                            room,
                        );
                        n
                    }
                    Err(_) => {
                        self.counters.decode_errors += 1;
                        let want =
                            ticks_to_samples(p.duration, self.clock_rate, self.params.sample_rate)
                                .min(cap);
                        decoder.conceal(&mut self.scratch[..want]).unwrap_or(0)
                    }
                };
                self.jitter.recycle(p.payload);
                n
            }
            Playout::Missing(m) => {
                let want =
                    ticks_to_samples(m.duration, self.clock_rate, self.params.sample_rate).min(cap);
                let mut n = None;
                if m.kind == MissingKind::Lost && m.next_available {
                    if let Some(next) = self.jitter.peek_next_payload() {
                        if let Ok(Some(k)) = decoder.decode_fec(next, &mut self.scratch[..want]) {
                            self.counters.fec_recovered += 1;
                            n = Some(k);
                        }
                    }
                }
                match n {
                    Some(k) => k,
                    None => {
                        match m.kind {
                            MissingKind::Lost => self.counters.concealed_lost += 1,
                            MissingKind::Underflow => self.counters.concealed_underflow += 1,
                            MissingKind::Expand => self.counters.expanded += 1,
                        }
                        decoder.conceal(&mut self.scratch[..want]).unwrap_or(0)
                    }
                }
            }
            Playout::NothingYet => {
                self.counters.silence += 1;
                let want = (self.params.sample_rate as usize * usize::from(self.params.ptime_ms)
                    / 1000
                    * ch)
                    .min(cap);
                self.scratch[..want].fill(0);
                want
            }
        };
        match stretched {
            Stretched::Accelerated(k) => {
                self.counters.accelerated += 1;
                self.play.extend_from_slice(self.playout.output(k));
                k
            }
            Stretched::Expanded(k) => {
                self.counters.preemptive_expanded += 1;
                self.play.extend_from_slice(self.playout.output(k));
                k
            }
            Stretched::No => {
                let written = written.min(cap);
                self.play.extend_from_slice(&self.scratch[..written]);
                written
            }
        }
    }
}

fn push_event(
    events: &mut VecDeque<AdapterEvent>,
    counters: &mut AdapterCounters,
    e: AdapterEvent,
) {
    if events.len() >= EVENT_CAPACITY {
        let metric = events.iter().position(|e| {
            matches!(
                e,
                AdapterEvent::ReceiverReport(_) | AdapterEvent::BandwidthEstimate { .. }
            )
        });
        match metric {
            Some(i) => {
                events.remove(i);
            }
            None => {
                events.pop_front();
            }
        }
        counters.events_dropped += 1;
    }
    events.push_back(e);
}

/// RFC 4733 receive: one report per event, at its end (or when a new event starts without
/// the end having been seen). End-bit retransmissions carry the same timestamp and are
/// ignored once reported.
fn dtmf_receive(
    state: &mut Option<DtmfIn>,
    events: &mut VecDeque<AdapterEvent>,
    counters: &mut AdapterCounters,
    timestamp: u32,
    ev: TelephoneEvent,
    clock_rate: u32,
) {
    let to_duration = |ticks: u16| {
        Duration::from_micros(u64::from(ticks) * 1_000_000 / u64::from(clock_rate.max(1)))
    };
    match state {
        Some(cur) if cur.timestamp == timestamp && cur.event == ev.event => {
            cur.duration = cur.duration.max(ev.duration);
            if ev.end && !cur.reported {
                cur.reported = true;
                counters.dtmf_events += 1;
                let (event, duration) = (cur.event, to_duration(cur.duration));
                push_event(events, counters, AdapterEvent::Dtmf { event, duration });
            }
        }
        _ => {
            // A new event: report the previous one if its end was never seen.
            if let Some(prev) = state.take() {
                if !prev.reported {
                    counters.dtmf_events += 1;
                    let duration = to_duration(prev.duration);
                    push_event(
                        events,
                        counters,
                        AdapterEvent::Dtmf {
                            event: prev.event,
                            duration,
                        },
                    );
                }
            }
            let mut cur = DtmfIn {
                timestamp,
                event: ev.event,
                duration: ev.duration,
                reported: false,
            };
            if ev.end {
                cur.reported = true;
                counters.dtmf_events += 1;
                let duration = to_duration(ev.duration);
                push_event(
                    events,
                    counters,
                    AdapterEvent::Dtmf {
                        event: ev.event,
                        duration,
                    },
                );
            }
            *state = Some(cur);
        }
    }
}

/// The adaptation policy for a codec whose bitrate may go up to `cap` (`None`: fixed-rate
/// codecs do not adapt).
fn adaptation_for(
    enabled: bool,
    cap: Option<u32>,
    params: &CodecParams,
    max_ptime: u16,
) -> Option<AudioAdaptation> {
    let cap = cap.filter(|_| enabled)?;
    let mut cfg = AdaptationConfig::new(cap, params.ptime_ms);
    cfg.max_ptime_ms = max_ptime;
    Some(AudioAdaptation::new(cfg))
}

/// The longest packet time the adaptation may switch to, ms: the negotiated one for codecs
/// whose frame duration is fixed for the call; for Opus 60 ms (our longest frame), capped by
/// the remote's `a=maxptime` and by a `maxptime` in its fmtp (RFC 7587).
fn max_ptime(codec: &CodecDescriptor, params: &CodecParams, remote: Option<u16>) -> u16 {
    if codec.name != "opus" {
        return params.ptime_ms;
    }
    let mut max = codec
        .ptimes
        .iter()
        .copied()
        .max()
        .unwrap_or(params.ptime_ms);
    if let Some(m) = remote {
        max = max.min(m);
    }
    #[cfg(feature = "opus")]
    if let Some(m) = params
        .fmtp
        .as_deref()
        .and_then(|f| crate::codec::audio::opus::OpusFmtp::parse(f).ok())
        .and_then(|f| f.max_ptime)
    {
        max = max.min(m);
    }
    max.max(params.ptime_ms)
}

/// Interleaved samples one packet can take at the longest packet time.
fn pending_capacity(params: &CodecParams, max_ptime: u16, encoder_frame: usize) -> usize {
    let longest = params.sample_rate as usize * usize::from(max_ptime) / 1000
        * usize::from(params.channels.max(1));
    longest.max(encoder_frame)
}

fn new_jitter(
    clock_rate: u32,
    params: &CodecParams,
    min_ms: u16,
    max_ms: u16,
) -> Result<JitterBuffer, AdapterError> {
    let mut cfg = JitterConfig::new(clock_rate);
    let ptime = Duration::from_millis(u64::from(params.ptime_ms.max(10)));
    cfg.frame_duration = ptime;
    cfg.max_payload = DATAGRAM_LEN - 64;
    cfg.min_delay = Duration::from_millis(u64::from(min_ms)).max(Duration::from_millis(10));
    cfg.max_delay = Duration::from_millis(u64::from(max_ms)).max(cfg.min_delay + ptime);
    cfg.initial_delay = cfg.initial_delay.clamp(cfg.min_delay, cfg.max_delay);
    // The adapter time-stretches decoded audio (see `playout`); the buffer does not insert or
    // drop frames in speech.
    cfg.media_stretch = true;
    let mut jb = JitterBuffer::new(cfg).map_err(|e| AdapterError::Jitter(e.to_string()))?;
    // Payload buffers for the packets a few hundred ms of delay hold, allocated now: the pool
    // otherwise grows the first time the buffer holds more packets than ever before (a delay
    // step, such as the sender lengthening its packets), in the per-packet path.
    let spare: Vec<Vec<u8>> = (0..PREALLOCATED_PAYLOADS)
        .map(|_| jb.take_buffer())
        .collect();
    for b in spare {
        jb.recycle(b);
    }
    Ok(jb)
}
