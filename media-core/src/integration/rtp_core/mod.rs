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

mod receive;
mod send;
mod types;

pub use types::{AdapterConfig, AdapterCounters, AdapterError, AdapterEvent, SrtpKeys};

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
