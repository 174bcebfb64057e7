//! The MediaSessionController: the single entry point a signalling layer drives.
//!
//! One controller is one call leg. It negotiates SDP (answering a remote offer, or making an
//! offer and applying the answer), owns the [`MediaSession`] state machine and the
//! [`MediaTransportAdapter`] that moves the media, and reports what happened as pulled
//! [`ControllerEvent`]s.
//!
//! # The run loop (a contract)
//!
//! The controller is sans-IO: it never reads a clock, never touches a socket, never spawns.
//! The owner (a test on virtual time, `mediacore call` on UDP sockets) runs this loop:
//!
//! ```text
//! every 10 ms of media time (now):
//!     push_capture_frame(now, 10 ms of PCM at audio_format())   // always, even muted/held
//!     pull_playout_frame(now, &mut 10 ms)                        // always; silence when not playing
//! whenever a datagram arrives:      handle_datagram(now, from, bytes)
//! when poll_timeout() is reached:   handle_timeout(now)
//! after each of the above:          while let Some((to, len)) = poll_transmit(now, &mut buf) { send }
//!                                   while let Some(event) = poll_event() { react }
//! ```
//!
//! Capture and playout frames are at the negotiated codec's sampling rate and channel count
//! ([`MediaSessionController::audio_format`]; it changes when an update switches codec): the
//! owner resamples at its edge. Frames are pushed also while muted, paused or on hold: they
//! keep the media clock (the RTP timestamps) running; the controller decides what is sent.
//!
//! Signalling calls: [`MediaSessionController::accept_offer`] (remote offer -> our answer),
//! or [`MediaSessionController::create_offer`] then [`MediaSessionController::apply_answer`];
//! then [`MediaSessionController::start`]. A later offer or answer on the same controller is an
//! update: a codec switch, a new remote address or new SRTP keys are applied without dropping
//! the stream (same SSRC, sequence numbers continue). `pause`/`resume`, `hold`/`unhold`,
//! `mute`/`unmute` act at once; resources follow [`crate::session::flow`]: the encoder is
//! released while nothing is sent, the decoder and jitter buffer while nothing is received,
//! everything on `stop`.

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::codec::{CodecRegistry, SdpCodec};
use crate::events::{CodecEvent, CorrelationId, Event, EventKind};
use crate::frame::AudioFormat;
use crate::integration::call_quality::CallQuality;
use crate::integration::rtp_core::{
    AdapterConfig, AdapterCounters, AdapterError, AdapterEvent, MediaTransportAdapter, SrtpKeys,
};
use crate::integration::sdp::{
    Direction, LocalConfig, NegotiatedMedia, Negotiator, ReceiveFormat, SdpError, SrtpPolicy,
    SrtpSuite,
};
use crate::quality::adaptation::AdaptationDecision;
use crate::quality::estimation::{rate, CodecImpairment, EModelParams};
use crate::quality::metrics::{MetricsSnapshot, QualityChange, QualityMonitorConfig};
use crate::session::{
    ConfigError, DtmfDigit, FailureReason, HoldMode, JitterDelay, MediaDirection, MediaSession,
    MediaSessionConfig, MuteSide, SessionError, SessionEvent, SessionId, SessionState, SrtpConfig,
    SrtpProfile,
};

/// Fills a buffer with cryptographically secure random bytes (SRTP keys, SSRC seed).
pub type RandomFill = Box<dyn FnMut(&mut [u8]) + Send>;

mod types;
pub use types::{
    estimate_mos, CallStats, Capabilities, ControllerConfig, ControllerError, ControllerEvent,
};

/// One call leg; see the module docs for the run loop.
pub struct MediaSessionController {
    registry: CodecRegistry,
    config: ControllerConfig,
    random: RandomFill,
    session_version: u64,
    pending_offer: Option<String>,
    negotiated: Option<NegotiatedMedia>,
    session: Option<MediaSession>,
    adapter: Option<MediaTransportAdapter>,
    events: VecDeque<ControllerEvent>,
    /// Datagrams (the final BYE) left after the adapter was released.
    final_tx: VecDeque<(SocketAddr, Vec<u8>)>,
    quality: Option<CallQuality>,
    /// The adaptation decision last reported (for BitrateChanged / FecChanged).
    adapted: Option<AdaptationDecision>,
}

impl fmt::Debug for MediaSessionController {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaSessionController")
            .field("local", &self.config.local)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

fn to_media_direction(d: Direction) -> MediaDirection {
    match d {
        Direction::SendRecv => MediaDirection::SendRecv,
        Direction::SendOnly => MediaDirection::SendOnly,
        Direction::RecvOnly => MediaDirection::RecvOnly,
        Direction::Inactive => MediaDirection::Inactive,
    }
}

fn to_profile(s: SrtpSuite) -> SrtpProfile {
    match s {
        SrtpSuite::AesCm128HmacSha1_80 => SrtpProfile::AesCm128HmacSha1_80,
        SrtpSuite::AesCm128HmacSha1_32 => SrtpProfile::AesCm128HmacSha1_32,
        SrtpSuite::AeadAes128Gcm => SrtpProfile::AeadAes128Gcm,
    }
}

fn srtp_keys(m: &NegotiatedMedia) -> Option<SrtpKeys> {
    let c = m.crypto.as_ref()?;
    let local = c.local.keys.first()?;
    let remote = c.remote.keys.first()?;
    Some(SrtpKeys {
        profile: to_profile(c.local.suite),
        local_key: local.master_key.clone(),
        local_salt: local.master_salt.clone(),
        remote_key: remote.master_key.clone(),
        remote_salt: remote.master_salt.clone(),
    })
}

/// The payload type we receive the negotiated codec with.
fn receive_pt(m: &NegotiatedMedia) -> u8 {
    m.receive
        .iter()
        .find_map(|(pt, f)| match f {
            ReceiveFormat::Codec { codec, .. } if codec.name == m.codec.name => Some(pt.0),
            _ => None,
        })
        .unwrap_or(m.payload_type.0)
}

impl MediaSessionController {
    /// A controller with `registry`'s codecs; `random` fills buffers with secure random bytes.
    pub fn new(
        registry: CodecRegistry,
        config: ControllerConfig,
        random: RandomFill,
    ) -> Result<Self, ControllerError> {
        let this = Self {
            registry,
            config,
            random,
            session_version: 1,
            pending_offer: None,
            negotiated: None,
            session: None,
            adapter: None,
            events: VecDeque::new(),
            final_tx: VecDeque::new(),
            quality: None,
            adapted: None,
        };
        // Check the configuration once (codec names, ptime).
        Negotiator::new(&this.registry, this.local_config())?;
        Ok(this)
    }

    fn local_config(&self) -> LocalConfig {
        let mut c = LocalConfig::new(self.config.local.ip(), self.config.local.port());
        c.session_version = self.session_version;
        c.codecs = self.config.codecs.clone();
        c.ptime = self.config.ptime;
        c.srtp = self.config.srtp;
        c.telephone_event = self.config.telephone_event;
        c
    }

    /// Codecs (with SDP parameters) and SRTP profiles we offer and accept.
    pub fn capabilities(&self) -> Capabilities {
        let lc = self.local_config();
        let caps = self.registry.capabilities();
        let codecs = if lc.codecs.is_empty() {
            caps
        } else {
            lc.codecs
                .iter()
                .filter_map(|n| {
                    caps.iter()
                        .find(|c| {
                            c.descriptor.name.eq_ignore_ascii_case(n)
                                || c.descriptor.encoding_name.eq_ignore_ascii_case(n)
                        })
                        .cloned()
                })
                .collect()
        };
        Capabilities {
            codecs,
            srtp_suites: if lc.srtp == SrtpPolicy::Disabled {
                Vec::new()
            } else {
                lc.srtp_suites
            },
            srtp: lc.srtp,
        }
    }

    /// Our RTP address.
    pub fn local_address(&self) -> SocketAddr {
        self.config.local
    }

    /// Moves our RTP address (a new socket) for the next offer or answer. The running stream
    /// is not affected until the remote learns it (symmetric RTP latches it at once).
    pub fn set_local_address(&mut self, local: SocketAddr) {
        self.config.local = local;
    }

    /// Changes the codecs we offer and accept, in order of preference (for the next offer or
    /// answer: a re-offer with a new first codec switches codec mid-call).
    pub fn set_codecs(&mut self, codecs: Vec<String>) {
        self.config.codecs = codecs;
    }

    /// Where we send RTP.
    pub fn remote_address(&self) -> Option<SocketAddr> {
        self.adapter
            .as_ref()
            .and_then(MediaTransportAdapter::remote)
    }

    /// The negotiated media, once an exchange completed.
    pub fn negotiated(&self) -> Option<&NegotiatedMedia> {
        self.negotiated.as_ref()
    }

    /// The session state (`Idle` before negotiation).
    pub fn state(&self) -> SessionState {
        self.session
            .as_ref()
            .map_or(SessionState::Idle, MediaSession::state)
    }

    /// The PCM format of capture and playout frames (the codec's rate and channels).
    pub fn audio_format(&self) -> Option<AudioFormat> {
        self.adapter
            .as_ref()
            .map(MediaTransportAdapter::audio_format)
    }

    /// Interleaved samples in one 10 ms frame (0 before negotiation).
    pub fn frame_samples(&self) -> usize {
        self.adapter
            .as_ref()
            .map_or(0, MediaTransportAdapter::frame_samples)
    }

    /// The adapter (statistics, codec details).
    pub fn adapter(&self) -> Option<&MediaTransportAdapter> {
        self.adapter.as_ref()
    }

    // ----- SDP -----------------------------------------------------------------------------

    /// Makes an offer (a first one, or a re-offer for an update). Apply the answer with
    /// [`Self::apply_answer`].
    pub fn create_offer(&mut self) -> String {
        if self.negotiated.is_some() {
            self.session_version += 1;
        }
        let lc = self.local_config();
        let offer = match Negotiator::new(&self.registry, lc) {
            Ok(n) => n.offer(&mut *self.random),
            Err(_) => String::new(),
        };
        self.pending_offer = Some(offer.clone());
        offer
    }

    /// Applies the remote's answer to our outstanding offer: creates the session (Idle; call
    /// [`Self::start`]) or updates the running one.
    pub fn apply_answer(&mut self, now: Instant, answer: &[u8]) -> Result<(), ControllerError> {
        let offer = self.pending_offer.take().ok_or(ControllerError::NoOffer)?;
        let media = Negotiator::new(&self.registry, self.local_config())?
            .process_answer(offer.as_bytes(), answer)?;
        self.apply_negotiated(now, media)
    }

    /// Answers a remote offer: creates the session (Idle; call [`Self::start`]) or, on a
    /// re-offer, updates the running one. Returns our answer SDP.
    pub fn accept_offer(&mut self, now: Instant, offer: &[u8]) -> Result<String, ControllerError> {
        if self.negotiated.is_some() {
            self.session_version += 1;
        }
        let negotiator = Negotiator::new(&self.registry, self.local_config())?;
        let (media, answer) = negotiator.answer(offer, &mut *self.random)?;
        self.apply_negotiated(now, media)?;
        Ok(answer)
    }

    fn session_config(&self, m: &NegotiatedMedia) -> Result<MediaSessionConfig, ControllerError> {
        let mut b = MediaSessionConfig::builder()
            .codec(m.codec.name)
            .sample_rate(m.params.sample_rate)
            .channels(m.params.channels)
            .ptime(m.params.ptime_ms)
            .payload_type(m.payload_type.0)
            .local(self.config.local)
            .remote(m.remote)
            .direction(to_media_direction(m.direction))
            .call_id(self.config.call_id.as_str())
            .local_uri(self.config.local_uri.as_str())
            .remote_uri(self.config.remote_uri.as_str())
            .jitter_delay(self.config.jitter.min_ms, self.config.jitter.max_ms)
            .no_dtmf();
        if let Some(f) = &m.params.fmtp {
            b = b.fmtp(f.as_str());
        }
        if let Some(ev) = m.telephone_event {
            if (96..=127).contains(&ev.send_payload_type.0) {
                b = b.dtmf_payload_type(ev.send_payload_type.0);
            }
        }
        if let Some(k) = srtp_keys(m) {
            b = b.srtp(SrtpConfig {
                profile: k.profile,
                master_key: k.local_key,
                master_salt: k.local_salt,
            });
        }
        Ok(b.build(&self.registry)?)
    }

    fn adapter_config(&mut self, m: &NegotiatedMedia) -> AdapterConfig {
        let mut seed = [0u8; 8];
        (self.random)(&mut seed);
        let mut others: Vec<(u8, u32)> = self
            .registry
            .capabilities()
            .iter()
            .map(|c| (c.payload_type.0, c.descriptor.clock_rate))
            .collect();
        for (pt, f) in &m.receive {
            let clock = match f {
                ReceiveFormat::Codec { codec, params } => codec.clock_rate_at(params.sample_rate),
                ReceiveFormat::TelephoneEvent { clock_rate } => *clock_rate,
            };
            others.retain(|&(p, _)| p != pt.0);
            others.push((pt.0, clock));
        }
        AdapterConfig {
            cname: self.config.cname.clone(),
            remote_rtp: Some(m.remote),
            remote_rtcp: m.remote_rtcp,
            rtcp_mux: m.rtcp_mux,
            codec: m.codec,
            params: m.params.clone(),
            payload_type: m.payload_type.0,
            receive_payload_type: receive_pt(m),
            dtmf: m
                .telephone_event
                .map(|e| (e.send_payload_type.0, e.receive_payload_type.0)),
            other_payload_types: others,
            srtp: srtp_keys(m),
            jitter_min_ms: self.config.jitter.min_ms,
            jitter_max_ms: self.config.jitter.max_ms,
            seed: u64::from_le_bytes(seed),
            adaptation: self.config.adaptation,
            rtcp_min_interval: self.config.rtcp_min_interval,
            max_ptime_ms: m.max_ptime_ms,
        }
    }

    fn apply_negotiated(
        &mut self,
        now: Instant,
        media: NegotiatedMedia,
    ) -> Result<(), ControllerError> {
        let config = self.session_config(&media)?;
        match (self.session.as_mut(), self.adapter.as_mut()) {
            (Some(session), Some(adapter)) if !session.state().is_ended() => {
                let change = session.update(config, now)?;
                adapter.set_remote_max_ptime(media.max_ptime_ms);
                let old = self.negotiated.as_ref();
                if change.codec
                    || old.is_some_and(|o| {
                        o.telephone_event != media.telephone_event
                            || receive_pt(o) != receive_pt(&media)
                    })
                {
                    if adapter.knows_payload_type(media.payload_type.0)
                        && adapter.knows_payload_type(receive_pt(&media))
                    {
                        adapter.switch_codec(
                            &self.registry,
                            media.codec,
                            media.params.clone(),
                            media.payload_type.0,
                            receive_pt(&media),
                            media
                                .telephone_event
                                .map(|e| (e.send_payload_type.0, e.receive_payload_type.0)),
                        )?;
                    } else {
                        // A payload type the RTP session does not know: a new session.
                        let cfg = self.adapter_config(&media);
                        self.adapter = Some(MediaTransportAdapter::new(cfg, &self.registry, now)?);
                    }
                    if let (Some(q), Some(a)) = (self.quality.as_mut(), self.adapter.as_ref()) {
                        q.set_codec(a);
                    }
                }
                if let Some(adapter) = self.adapter.as_mut() {
                    if change.remote_address || adapter.remote() != Some(media.remote) {
                        adapter.set_remote(media.remote, media.remote_rtcp);
                    }
                    if change.srtp || srtp_keys(&media).is_some() {
                        adapter.set_srtp(srtp_keys(&media).as_ref())?;
                    }
                }
                self.negotiated = Some(media);
                self.reconcile()?;
            }
            _ => {
                let cfg = self.adapter_config(&media);
                let adapter = MediaTransportAdapter::new(cfg, &self.registry, now)?;
                self.quality = Some(CallQuality::new(&adapter, self.config.quality));
                self.session = Some(MediaSession::new(SessionId(self.config.id), config, now));
                self.adapter = Some(adapter);
                self.negotiated = Some(media);
                self.reconcile()?;
            }
        }
        Ok(())
    }

    // ----- commands ------------------------------------------------------------------------

    fn session_mut(&mut self) -> Result<&mut MediaSession, ControllerError> {
        self.session.as_mut().ok_or(ControllerError::NoSession)
    }

    /// Makes the codecs and buffers match what the state needs (releases them on hold/stop).
    fn reconcile(&mut self) -> Result<(), ControllerError> {
        let Some(session) = self.session.as_ref() else {
            return Ok(());
        };
        let res = session.flow().resources;
        if let Some(a) = self.adapter.as_mut() {
            a.set_resources(&self.registry, res.encoder, res.decoder)?;
        }
        Ok(())
    }

    /// Starts media: Idle -> Starting -> Active (the sans-IO transport is ready at once;
    /// `Started` is emitted).
    pub fn start(&mut self, now: Instant) -> Result<(), ControllerError> {
        let s = self.session_mut()?;
        s.start(now)?;
        s.on_started(now)?;
        self.reconcile()
    }

    /// Stops: sends RTCP BYE (drain [`Self::poll_transmit`]), releases the codecs, the jitter
    /// buffer and the RTP session, emits `Stopped`.
    pub fn stop(&mut self, now: Instant) -> Result<(), ControllerError> {
        let s = self.session_mut()?;
        s.stop(now)?;
        if let Some(mut a) = self.adapter.take() {
            a.close();
            let mut buf = [0u8; crate::integration::rtp_core::DATAGRAM_LEN];
            while let Some((to, len)) = a.poll_transmit(now, &mut buf) {
                self.final_tx.push_back((to, buf[..len].to_vec()));
            }
        }
        if let Some(s) = self.session.as_mut() {
            if s.state() == SessionState::Stopping {
                s.on_stopped(now)?;
            }
        }
        Ok(())
    }

    /// Active -> Paused: nothing sent or played, codecs kept.
    pub fn pause(&mut self, now: Instant) -> Result<(), ControllerError> {
        self.session_mut()?.pause(now)?;
        self.reconcile()
    }

    /// Paused -> Active.
    pub fn resume(&mut self, now: Instant) -> Result<(), ControllerError> {
        self.session_mut()?.resume(now)?;
        self.reconcile()
    }

    /// Puts the call on hold in `mode`; what no longer flows is released.
    pub fn hold(&mut self, mode: HoldMode, now: Instant) -> Result<(), ControllerError> {
        self.session_mut()?.hold(mode, now)?;
        self.reconcile()
    }

    /// Ends the hold.
    pub fn unhold(&mut self, now: Instant) -> Result<(), ControllerError> {
        self.session_mut()?.unhold(now)?;
        self.reconcile()
    }

    /// Mutes a side (send: silence goes out as no packets; receive: playout is silent).
    pub fn mute(&mut self, side: MuteSide, now: Instant) -> Result<(), ControllerError> {
        self.session_mut()?.mute(side, now)?;
        Ok(())
    }

    /// Unmutes a side.
    pub fn unmute(&mut self, side: MuteSide, now: Instant) -> Result<(), ControllerError> {
        self.session_mut()?.unmute(side, now)?;
        Ok(())
    }

    /// Sends a DTMF digit as RFC 4733 events. Returns `false` when telephone-event was not
    /// negotiated or there is no stream.
    pub fn send_dtmf(&mut self, digit: DtmfDigit, duration: Duration) -> bool {
        self.adapter
            .as_mut()
            .is_some_and(|a| a.send_dtmf(digit.event_code(), duration))
    }

    /// Reports a failure detected by the owner (socket error): -> Failed, resources released.
    pub fn fail(&mut self, reason: FailureReason, now: Instant) -> Result<(), ControllerError> {
        self.session_mut()?.on_failure(reason, now)?;
        self.adapter = None;
        Ok(())
    }

    // ----- run loop ------------------------------------------------------------------------

    fn flows(&self) -> (bool, bool, bool, bool) {
        match self.session.as_ref() {
            Some(s) => {
                let f = s.flow();
                (f.rtp.send, f.audio.send, f.rtp.receive, f.audio.receive)
            }
            None => (false, false, false, false),
        }
    }

    /// One 10 ms capture frame at [`Self::audio_format`]; see the module docs.
    pub fn push_capture_frame(&mut self, now: Instant, pcm: &[i16]) {
        let (_, send_audio, _, _) = self.flows();
        if let Some(a) = self.adapter.as_mut() {
            a.push_capture_frame(now, pcm, send_audio);
        }
        if let Some(q) = self.quality.as_mut() {
            q.on_capture(pcm);
        }
    }

    /// Plays 10 ms into `out`; returns the samples written (silence when nothing plays).
    pub fn pull_playout_frame(&mut self, now: Instant, out: &mut [i16]) -> usize {
        let (_, _, _, play) = self.flows();
        let Some(a) = self.adapter.as_mut() else {
            let n = out.len().min(self.frame_samples());
            out[..n].fill(0);
            return n;
        };
        let n = a.pull_playout_frame(now, out, play);
        if let Some(q) = self.quality.as_mut() {
            let found = q.on_playout(now, &out[..n], a);
            if let Some(change) = found.change {
                self.events.push_back(ControllerEvent::Quality(change));
            }
            if let (Some(alert), Some(s)) = (found.alert, self.session.as_mut()) {
                let _ = s.handle_quality_alert(alert, now);
            }
        }
        n
    }

    /// A datagram received on our socket.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        let (_, _, receive, _) = self.flows();
        if let Some(a) = self.adapter.as_mut() {
            a.handle_datagram(now, from, bytes, receive);
        }
        self.drain_adapter(now);
    }

    /// The next datagram to send, copied into `out` (2048 bytes is enough).
    pub fn poll_transmit(&mut self, now: Instant, out: &mut [u8]) -> Option<(SocketAddr, usize)> {
        if let Some((to, bytes)) = self.final_tx.pop_front() {
            let n = bytes.len().min(out.len());
            out[..n].copy_from_slice(&bytes[..n]);
            return Some((to, n));
        }
        self.adapter.as_mut()?.poll_transmit(now, out)
    }

    /// When [`Self::handle_timeout`] is due next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.adapter
            .as_ref()
            .and_then(MediaTransportAdapter::poll_timeout)
    }

    /// Runs timers due at `now` (RTCP, transport timeout).
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(a) = self.adapter.as_mut() {
            a.handle_timeout(now);
        }
        self.drain_adapter(now);
    }

    fn drain_adapter(&mut self, now: Instant) {
        let Some(a) = self.adapter.as_mut() else {
            return;
        };
        while let Some(e) = a.poll_event() {
            match e {
                AdapterEvent::TransportUp => self.events.push_back(ControllerEvent::TransportUp),
                AdapterEvent::TransportDown => {
                    self.events.push_back(ControllerEvent::TransportDown)
                }
                AdapterEvent::ReceiverReport(r) => {
                    if let Some(q) = self.quality.as_mut() {
                        q.on_report(&r);
                    }
                }
                AdapterEvent::Adapted(d) => {
                    let old = self.adapted.replace(d);
                    if old.map(|o| o.bitrate) != Some(d.bitrate) {
                        self.events
                            .push_back(ControllerEvent::Codec(CodecEvent::BitrateChanged {
                                from: old.map(|o| o.bitrate),
                                to: d.bitrate,
                            }));
                    }
                    if old.map(|o| o.fec) != Some(d.fec) {
                        self.events
                            .push_back(ControllerEvent::Codec(CodecEvent::FecChanged {
                                enabled: d.fec,
                            }));
                    }
                }
                AdapterEvent::Dtmf { event, duration } => {
                    if let (Some(d), Some(s)) =
                        (DtmfDigit::from_event_code(event), self.session.as_mut())
                    {
                        let _ = s.handle_dtmf(d, duration, now);
                    }
                }
                _ => {}
            }
        }
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<ControllerEvent> {
        if let Some(e) = self.session.as_mut().and_then(MediaSession::poll_event) {
            return Some(ControllerEvent::Session(e));
        }
        self.events.pop_front()
    }

    /// Figures of the call so far (allocates; for reports, not per frame).
    pub fn stats(&self) -> Option<CallStats> {
        let a = self.adapter.as_ref()?;
        let rtp = a.rtp_stats();
        let js = a.jitter_stats();
        let c = a.counters();
        let lost: i64 = rtp.sources.iter().map(|s| s.cumulative_lost).sum();
        let rtt_ms = rtp.rtt.map(|d| d.as_secs_f64() * 1000.0);
        let total = js.played + js.lost + js.discarded;
        let loss_pct = if total > 0 {
            100.0 * (js.lost + js.discarded) as f64 / total as f64
        } else {
            0.0
        };
        let delay =
            js.current_delay_ms + f64::from(a.params().ptime_ms) + rtt_ms.unwrap_or(0.0) / 2.0;
        let quality = self.quality.as_ref().map(CallQuality::receive);
        let fallback = crate::quality::metrics::MediaMetrics::new(
            a.codec().name,
            a.params().sample_rate,
            a.params().ptime_ms,
            0.0,
        )
        .snapshot();
        Some(CallStats {
            codec: a.codec().name,
            packets_sent: rtp.sender.total_packets,
            packets_received: c.audio_packets_received,
            packets_lost: lost,
            playout_lost: js.lost,
            packets_concealed: c.concealed_lost + c.concealed_underflow,
            fec_recovered: c.fec_recovered,
            late: js.late,
            discarded: js.discarded,
            jitter_ms: js.jitter_ms,
            jitter_buffer_delay_ms: js.current_delay_ms,
            jitter_buffer_target_ms: js.target_delay_ms,
            rtt_ms,
            mos: quality.map_or_else(|| estimate_mos(a.codec().name, loss_pct, delay), |q| q.mos),
            receive: quality.unwrap_or(fallback),
            send: self.quality.as_ref().map_or(fallback, CallQuality::send),
            degraded: self.quality.as_ref().is_some_and(CallQuality::degraded),
            adaptation: a.adaptation().map(|p| p.decision()),
            dtmf_received: c.dtmf_events,
            counters: c,
        })
    }
}
