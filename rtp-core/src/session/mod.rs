//! A sans-IO RTP session (RFC 3550): source validation and statistics, RTCP scheduling and
//! reports, SSRC collision handling, symmetric-RTP latching and bandwidth estimation, with
//! transport-wide congestion control when [`SessionConfig::twcc`] is set (sequence numbers
//! stamped on what we send, arrival feedback on what we receive, GCC's delay-based
//! estimator on the peer's feedback; see [`TwccConfig`] and [`bwe`]).
//!
//! The session never touches a socket or a clock. The caller (the tokio
//! [`driver`](crate::driver), or a test on virtual time) feeds it:
//!
//! - [`handle_packet`](RtpSession::handle_packet) with every datagram received, the arrival
//!   time and the sender's address; a validated RTP packet comes back as
//!   [`Received::Rtp`] for the jitter buffer;
//! - [`send_rtp`](RtpSession::send_rtp) with each payload to send: the packet is written into
//!   the caller's buffer and returned as a [`Transmit`] naming its destination;
//! - [`handle_timeout`](RtpSession::handle_timeout) when [`poll_timeout`](RtpSession::poll_timeout)
//!   says so;
//!
//! and drains [`poll_transmit`](RtpSession::poll_transmit) (RTCP, written into a buffer the
//! session owns and reuses) and [`poll_event`](RtpSession::poll_event) after each call.
//! Nothing allocates per packet in steady state: a new source, a new event kind or the stats
//! snapshot may.
//!
//! Bytes in and out are plain RTP/RTCP: SRTP is applied by the driver around the session
//! (protect what [`Transmit::contents`] holds, unprotect before `handle_packet`).
//!
//! ```
//! use std::time::Instant;
//! use rtp_core::session::{RtpSession, SessionConfig, TransmitKind};
//! use rtp_core::RtpTimestamp;
//!
//! let now = Instant::now();
//! let mut config = SessionConfig::new("alice@example.org", &[(0, 8000)]);
//! config.remote_rtp = Some("127.0.0.1:40000".parse().unwrap());
//! let mut seed = 1u32;
//! let random = move || { seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223); seed };
//! let mut session = RtpSession::new(config, now, Box::new(random))?;
//!
//! let mut buf = [0u8; 1500];
//! let t = session.send_rtp(now, 0, RtpTimestamp(0), true, &[0xFF; 160], &mut buf)?;
//! assert_eq!((t.kind, t.contents.len()), (TransmitKind::Rtp, 172));
//! # Ok::<(), rtp_core::session::SessionError>(())
//! ```

pub mod bwe;
mod config;
mod delay_bwe;
mod rtcp_io;
mod rtcp_timer;
mod sender;
mod source;
mod twcc;
mod types;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub use bwe::{BandwidthEstimator, BweConfig};
pub use config::{Latching, RandomSource, Result, SessionConfig, SessionError};
pub use delay_bwe::{BandwidthUsage, DelayBasedBwe};
pub use sender::SenderStats;
pub use source::{LastSenderReport, SourceStats};
pub use twcc::{TwccConfig, TwccStats, TWCC_EXTENSION_URI};
pub use types::{
    Received, ReportSummary, RtpReceived, SessionEvent, SessionStats, Transmit, TransmitKind,
};

use crate::rtcp::{is_rtcp, NtpTime, ReportBlock};
use crate::{ExtensionElement, ExtensionWriter, RtpPacket, RtpTimestamp, RtpWriter, SeqNo, Ssrc};
use rtcp_timer::{IntervalParams, RtcpTimer};
use sender::LocalSender;
use source::{RtpArrival, RtpVerdict, Source};
use twcc::Twcc;

/// Counters of what became of received datagrams.
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    datagrams: u64,
    rtp_delivered: u64,
    rtcp_compounds: u64,
    malformed: u64,
    unknown_payload_type: u64,
    probation_discarded: u64,
    duplicates: u64,
    sequence_jumps: u64,
    wrong_address: u64,
    own_ssrc: u64,
    source_limit: u64,
    after_close: u64,
    rtcp_bad_packets: u64,
    collisions: u64,
    loops: u64,
    rtcp_sent: u64,
    rtcp_no_destination: u64,
    events_dropped: u64,
}

/// Symmetric-RTP state.
#[derive(Debug, Clone, Copy, Default)]
struct LatchState {
    latched: bool,
    /// Last RTP from the latched address.
    last_seen: Option<Instant>,
    /// A validated source seen at a new address while the latched one is silent: its SSRC,
    /// address, next expected sequence number and packets still needed.
    candidate: Option<(Ssrc, SocketAddr, SeqNo, u8)>,
}

/// Colliding addresses remembered to tell loops from collisions (§8.2).
const CONFLICT_SLOTS: usize = 8;
/// Largest compound RTCP datagram we write.
const RTCP_BUF_LEN: usize = 1500;
/// Most report blocks in one report (the 5-bit count).
const MAX_REPORT_BLOCKS: usize = crate::rtcp::MAX_COUNT;

/// A sans-IO RTP session: one local stream, any number of remote sources.
pub struct RtpSession {
    config: SessionConfig,
    random: Box<dyn RandomSource>,
    epoch: Instant,
    sender: LocalSender,
    sources: HashMap<Ssrc, Source>,
    timer: RtcpTimer,
    bwe: BandwidthEstimator,
    twcc: Option<Twcc>,
    events: VecDeque<SessionEvent>,
    counters: Counters,
    remote_rtp: Option<SocketAddr>,
    remote_rtcp: Option<SocketAddr>,
    latch: LatchState,
    conflicts: [Option<SocketAddr>; CONFLICT_SLOTS],
    next_conflict: usize,
    /// SSRCs given up after collisions, each owed a BYE.
    pending_byes: VecDeque<Ssrc>,
    report_due: bool,
    closing: bool,
    closed: bool,
    transport_up: bool,
    last_rx: Option<Instant>,
    rtt: Option<Duration>,
    rtcp_buf: Vec<u8>,
    blocks: Vec<ReportBlock>,
}

impl std::fmt::Debug for RtpSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtpSession")
            .field("ssrc", &self.sender.ssrc)
            .field("sources", &self.sources.len())
            .field("remote_rtp", &self.remote_rtp)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl RtpSession {
    /// A session starting at `now`. Draws the SSRC, initial sequence number and timestamp
    /// offset from `random` (unless [`SessionConfig::initial`] fixes them) and schedules the
    /// first report.
    pub fn new(
        config: SessionConfig,
        now: Instant,
        mut random: Box<dyn RandomSource>,
    ) -> Result<Self> {
        config.validate()?;
        let (ssrc, seq, ts) = match config.initial {
            Some((ssrc, seq, ts)) => (ssrc, seq, ts),
            None => (
                Ssrc(random.next_u32()),
                random.next_u32() as u16,
                random.next_u32(),
            ),
        };
        let params = IntervalParams::new(
            config.session_bandwidth_bps,
            config.rtcp_fraction,
            config.rtcp_min_interval,
            config.rtcp_reduced_minimum,
        );
        // A.7 initialisation: the first compound is assumed to be about an RR + SDES.
        let avg = (8 + 8 + config.cname.len() + rtcp_timer::UDP_IP_OVERHEAD) as f64;
        let timer = RtcpTimer::new(params, now, avg, 1, 0, false, random.next_u32());
        let remote_rtcp = derive_rtcp(&config, config.remote_rtp);
        let event_capacity = config.event_capacity.max(1);
        let bwe = BandwidthEstimator::new(config.bwe);
        let twcc = config.twcc.map(|t| {
            let b = &config.bwe;
            let delay = DelayBasedBwe::new(b.initial_bps, b.min_bps, b.max_bps);
            Twcc::new(t, now, delay)
        });
        Ok(Self {
            remote_rtp: config.remote_rtp,
            remote_rtcp,
            sender: LocalSender::new(ssrc, SeqNo(seq), ts),
            sources: HashMap::with_capacity(config.max_sources.min(16)),
            timer,
            bwe,
            twcc,
            events: VecDeque::with_capacity(event_capacity),
            counters: Counters::default(),
            latch: LatchState::default(),
            conflicts: [None; CONFLICT_SLOTS],
            next_conflict: 0,
            pending_byes: VecDeque::with_capacity(2),
            report_due: false,
            closing: false,
            closed: false,
            transport_up: false,
            last_rx: None,
            rtt: None,
            rtcp_buf: vec![0; RTCP_BUF_LEN],
            blocks: Vec::with_capacity(MAX_REPORT_BLOCKS),
            epoch: now,
            random,
            config,
        })
    }

    /// Our current SSRC.
    pub fn ssrc(&self) -> Ssrc {
        self.sender.ssrc
    }

    /// The configuration.
    pub const fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Where RTP is sent (configured or latched).
    pub const fn remote_rtp(&self) -> Option<SocketAddr> {
        self.remote_rtp
    }

    /// Where RTCP is sent.
    pub const fn remote_rtcp(&self) -> Option<SocketAddr> {
        self.remote_rtcp
    }

    /// Sets the remote addresses (a new SDP answer); un-latches.
    pub fn set_remote(&mut self, rtp: SocketAddr, rtcp: Option<SocketAddr>) {
        self.config.remote_rtp = Some(rtp);
        self.config.remote_rtcp = rtcp;
        self.remote_rtp = Some(rtp);
        self.remote_rtcp = derive_rtcp(&self.config, Some(rtp));
        self.latch = LatchState::default();
    }

    /// Whether [`close`](Self::close) was called and the BYE sent.
    pub const fn is_closed(&self) -> bool {
        self.closed
    }

    /// The wallclock time at `now`.
    fn ntp(&self, now: Instant) -> NtpTime {
        let since = now.saturating_duration_since(self.epoch);
        let add = NtpTime::from_duration(since).0;
        NtpTime(self.config.ntp_at_start.0.wrapping_add(add))
    }

    /// Writes an RTP packet carrying `payload` into `out` and says where to send it.
    ///
    /// `media_timestamp` counts from the start of the stream in the payload type's clock; the
    /// session adds its random offset. Sequence numbers are the session's.
    pub fn send_rtp<'o>(
        &mut self,
        now: Instant,
        payload_type: u8,
        media_timestamp: RtpTimestamp,
        marker: bool,
        payload: &[u8],
        out: &'o mut [u8],
    ) -> Result<Transmit<'o>> {
        if self.closing || self.closed {
            return Err(SessionError::Closed);
        }
        let clock_rate = self
            .config
            .clock_rate(payload_type)
            .ok_or(SessionError::UnknownPayloadType(payload_type))?;
        let destination = self.remote_rtp.ok_or(SessionError::NoRemoteAddress)?;
        let (seq, ts) = self
            .sender
            .next_packet(now, media_timestamp, clock_rate, payload.len());
        // The transport-wide sequence number, when TWCC is on (the size counted is the RTP
        // packet's: header, extension and payload).
        let twcc_value = self.twcc.as_mut().map(|t| {
            let size = crate::RTP_FIXED_HEADER_LEN + 8 + payload.len();
            (t.config.extension_id, t.stamp(now, size))
        });
        let element;
        let mut writer = RtpWriter::new(payload_type, seq, ts, self.sender.ssrc, payload);
        writer.marker = marker;
        if let Some((id, value)) = &twcc_value {
            element = [ExtensionElement {
                id: *id,
                data: value,
            }];
            writer.extension = Some(ExtensionWriter::elements(&element)?);
        }
        match writer.write(out) {
            Ok(len) => Ok(Transmit {
                destination,
                kind: TransmitKind::Rtp,
                contents: out.get(..len).unwrap_or_default(),
            }),
            Err(e) => {
                self.sender.unsend(payload.len());
                if let Some(t) = self.twcc.as_mut() {
                    t.unstamp();
                }
                Err(e.into())
            }
        }
    }

    /// Feeds a datagram received at `now` from `from`.
    ///
    /// Returns the RTP packet to deliver, `Received::Rtcp` for a compound consumed, `None`
    /// for a packet discarded (on probation, duplicate, unknown payload type, wrong address,
    /// ...: each counted in [`stats`](Self::stats)), or `Err` for a datagram that does not
    /// parse (counted as malformed). Never panics.
    pub fn handle_packet<'a>(
        &mut self,
        now: Instant,
        from: SocketAddr,
        bytes: &'a [u8],
    ) -> Result<Option<Received<'a>>> {
        self.counters.datagrams += 1;
        if self.closed || self.closing {
            self.counters.after_close += 1;
            return Ok(None);
        }
        if is_rtcp(bytes) {
            return self.handle_rtcp(now, from, bytes);
        }
        let packet = match RtpPacket::parse(bytes) {
            Ok(p) => p,
            Err(e) => {
                self.counters.malformed += 1;
                return Err(e.into());
            }
        };
        Ok(self.handle_rtp(now, from, packet).map(Received::Rtp))
    }

    fn handle_rtp<'a>(
        &mut self,
        now: Instant,
        from: SocketAddr,
        packet: RtpPacket<'a>,
    ) -> Option<RtpReceived<'a>> {
        let ssrc = packet.ssrc();
        let pt = packet.payload_type();
        let Some(clock_rate) = self.config.clock_rate(pt) else {
            self.counters.unknown_payload_type += 1;
            if let Some(source) = self.sources.get_mut(&ssrc) {
                source.unknown_pt += 1;
            }
            return None;
        };
        if ssrc == self.sender.ssrc {
            self.counters.own_ssrc += 1;
            self.on_own_ssrc(from);
            return None;
        }
        if !self.check_latch_rtp(now, from, ssrc, packet.sequence_number()) {
            return None;
        }
        self.twcc_on_rtp(now, &packet);
        if !self.sources.contains_key(&ssrc) {
            if self.sources.len() >= self.config.max_sources && !self.evict_stranger() {
                self.counters.source_limit += 1;
                return None;
            }
            self.sources
                .insert(ssrc, Source::new(ssrc, now, self.config.probation));
        }
        let arrival_ts =
            now.saturating_duration_since(self.epoch).as_secs_f64() * f64::from(clock_rate);
        let source = self.sources.get_mut(&ssrc)?;
        let verdict = source.on_rtp(RtpArrival {
            now,
            from,
            seq: packet.sequence_number(),
            timestamp: packet.timestamp(),
            payload_len: packet.payload().len(),
            clock_rate,
            arrival_ts,
        });
        self.mark_alive(now);
        match verdict {
            RtpVerdict::Probation => {
                self.counters.probation_discarded += 1;
                None
            }
            RtpVerdict::Duplicate => {
                self.counters.duplicates += 1;
                None
            }
            RtpVerdict::Jump => {
                self.counters.sequence_jumps += 1;
                None
            }
            RtpVerdict::Deliver {
                extended_seq,
                first_valid,
            } => {
                self.counters.rtp_delivered += 1;
                if self.remote_rtp == Some(from) {
                    self.latch.last_seen = Some(now);
                }
                if first_valid {
                    self.push_event(SessionEvent::NewSource {
                        ssrc,
                        address: from,
                    });
                    self.maybe_latch(now, from, ssrc);
                }
                Some(RtpReceived {
                    packet,
                    extended_seq,
                    clock_rate,
                    first_of_source: first_valid,
                })
            }
        }
    }

    /// Symmetric-RTP filtering of an RTP packet from `from`; `false` discards it (counted).
    fn check_latch_rtp(&mut self, now: Instant, from: SocketAddr, ssrc: Ssrc, seq: SeqNo) -> bool {
        let Latching::On { relatch_after } = self.config.latching else {
            return true;
        };
        if !self.latch.latched {
            return true;
        }
        let Some(latched) = self.remote_rtp else {
            return true;
        };
        if from == latched {
            self.latch.candidate = None;
            return true;
        }
        let silent = self
            .latch
            .last_seen
            .is_none_or(|t| now.saturating_duration_since(t) >= relatch_after);
        if !silent {
            self.counters.wrong_address += 1;
            return false;
        }
        // The latched address went quiet. A new source at `from` re-latches when it passes
        // probation (maybe_latch); a known source must show `probation` packets in sequence
        // from the new address first.
        let validated = self.sources.get(&ssrc).is_some_and(|s| s.validated);
        if !validated {
            return true;
        }
        let needed = self.config.probation.max(1);
        let remaining = match self.latch.candidate {
            Some((c_ssrc, c_addr, next, remaining))
                if c_ssrc == ssrc && c_addr == from && next == seq =>
            {
                remaining.saturating_sub(1)
            }
            _ => needed.saturating_sub(1),
        };
        if remaining == 0 {
            self.latch.candidate = None;
            self.relatch(now, from);
            true
        } else {
            self.latch.candidate = Some((ssrc, from, seq.next(), remaining));
            self.counters.probation_discarded += 1;
            false
        }
    }

    /// A source passed probation at `from`: latch to it when latching allows.
    fn maybe_latch(&mut self, now: Instant, from: SocketAddr, ssrc: Ssrc) {
        if !matches!(self.config.latching, Latching::On { .. }) {
            return;
        }
        if self.config.expected_remote_ssrc.is_some_and(|e| e != ssrc) {
            return;
        }
        if self.latch.latched {
            if self.remote_rtp != Some(from) {
                // check_latch_rtp let it through: the old address is silent.
                self.relatch(now, from);
            }
            return;
        }
        self.latch.latched = true;
        self.latch.last_seen = Some(now);
        self.remote_rtp = Some(from);
        self.remote_rtcp = if self.config.rtcp_mux {
            Some(from)
        } else {
            self.config
                .remote_rtcp
                .or_else(|| derive_rtcp(&self.config, Some(from)))
        };
        self.push_event(SessionEvent::RemoteAddressLatched { address: from });
    }

    fn relatch(&mut self, now: Instant, to: SocketAddr) {
        let old = self.remote_rtp;
        self.remote_rtp = Some(to);
        self.remote_rtcp = if self.config.rtcp_mux {
            Some(to)
        } else {
            derive_rtcp(&self.config, Some(to))
        };
        self.latch.latched = true;
        self.latch.last_seen = Some(now);
        match old {
            Some(old) => self.push_event(SessionEvent::RemoteAddressChanged { old, new: to }),
            None => self.push_event(SessionEvent::RemoteAddressLatched { address: to }),
        }
    }

    /// A packet with our SSRC arrived from `from` (§8.2).
    fn on_own_ssrc(&mut self, from: SocketAddr) {
        if self.conflicts.contains(&Some(from)) {
            // Seen colliding from there before: our own packets looping back.
            self.counters.loops += 1;
            return;
        }
        self.conflicts[self.next_conflict] = Some(from);
        self.next_conflict = (self.next_conflict + 1) % CONFLICT_SLOTS;
        self.counters.collisions += 1;
        let old = self.sender.ssrc;
        let new = self.fresh_ssrc();
        if self.pending_byes.len() < CONFLICT_SLOTS {
            self.pending_byes.push_back(old);
        }
        self.sender.change_ssrc(new);
        self.push_event(SessionEvent::SsrcCollision {
            old,
            new,
            address: from,
        });
    }

    /// At the source limit, makes room by forgetting the least recently heard source that is
    /// still on probation and never sent RTCP (a flood of random SSRCs must not lock out a
    /// real new source). `false` when every tracked source is a member.
    fn evict_stranger(&mut self) -> bool {
        let victim = self
            .sources
            .values()
            .filter(|s| !s.validated && s.rtcp_packets == 0)
            .min_by_key(|s| s.last_activity)
            .map(|s| s.ssrc);
        match victim {
            Some(ssrc) => {
                self.sources.remove(&ssrc);
                true
            }
            None => false,
        }
    }

    /// A random SSRC used by nobody we know.
    fn fresh_ssrc(&mut self) -> Ssrc {
        for _ in 0..16 {
            let candidate = Ssrc(self.random.next_u32());
            if candidate != self.sender.ssrc && !self.sources.contains_key(&candidate) {
                return candidate;
            }
        }
        // A broken random source: step deterministically away from every known SSRC.
        let mut candidate = Ssrc(self.sender.ssrc.0.wrapping_add(1));
        while self.sources.contains_key(&candidate) || candidate == self.sender.ssrc {
            candidate = Ssrc(candidate.0.wrapping_add(1));
        }
        candidate
    }

    /// A packet arrived: the transport is up.
    fn mark_alive(&mut self, now: Instant) {
        self.last_rx = Some(now);
        if !self.transport_up {
            self.transport_up = true;
            self.push_event(SessionEvent::TransportUp);
        }
    }

    fn push_event(&mut self, event: SessionEvent) {
        if self.events.len() >= self.config.event_capacity.max(1) {
            if let Some(i) = self.events.iter().position(SessionEvent::is_metric) {
                self.events.remove(i);
                self.counters.events_dropped += 1;
            } else if event.is_metric() {
                self.counters.events_dropped += 1;
                return;
            }
            // Only state events queued: keep them all (they are rare and never dropped).
        }
        self.events.push_back(event);
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next: the next report,
    /// the transport timeout or the earliest source timeout. `None` once closed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        let mut next = self.timer.tn;
        if let Some(at) = self.twcc.as_ref().and_then(Twcc::poll_timeout) {
            next = next.min(at);
        }
        if self.transport_up {
            if let Some(last) = self.last_rx {
                if let Some(at) = last.checked_add(self.config.transport_timeout) {
                    next = next.min(at);
                }
            }
        }
        let timeout = self.source_timeout();
        for source in self.sources.values() {
            if let Some(at) = source.last_activity.checked_add(timeout) {
                next = next.min(at);
            }
        }
        Some(next)
    }

    /// The silence after which a source times out: M deterministic intervals (§6.3.5).
    fn source_timeout(&self) -> Duration {
        let td = self.timer.params.deterministic(
            self.members(),
            self.senders(),
            self.sender.we_sent(),
            self.timer.avg_rtcp_size,
            false,
        );
        td.saturating_mul(self.config.source_timeout_intervals)
    }

    /// Members as the interval counts them: us, plus validated sources and sources heard
    /// in RTCP (sources on probation do not count, §6.2.1).
    fn members(&self) -> usize {
        1 + self
            .sources
            .values()
            .filter(|s| s.validated || s.rtcp_packets > 0)
            .count()
    }

    /// Senders since our report before the last one (about two intervals), us included.
    fn senders(&self) -> usize {
        let since = self.sender.report_before_last();
        let remote = self
            .sources
            .values()
            .filter(|s| s.sent_since(since))
            .count();
        remote + usize::from(self.sender.we_sent())
    }

    /// Runs timers due at `now`: transport and source timeouts, the RTCP report schedule.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if self.transport_up {
            if let Some(last) = self.last_rx {
                if now.saturating_duration_since(last) >= self.config.transport_timeout {
                    self.transport_up = false;
                    self.push_event(SessionEvent::TransportDown);
                }
            }
        }
        let timeout = self.source_timeout();
        let before = self.members();
        let mut expired: [Option<(Ssrc, bool)>; 8] = [None; 8];
        let mut n = 0;
        for source in self.sources.values() {
            if n < expired.len() && now.saturating_duration_since(source.last_activity) >= timeout {
                expired[n] = Some((source.ssrc, source.validated || source.rtcp_packets > 0));
                n += 1;
            }
        }
        for (ssrc, member) in expired.iter().flatten().copied() {
            self.sources.remove(&ssrc);
            if member {
                self.push_event(SessionEvent::SourceTimeout { ssrc });
            }
        }
        let after = self.members();
        if after < before {
            self.timer.members_left(now, after);
        }
        if now >= self.timer.tn && !self.closing {
            let members = self.members();
            let senders = self.senders();
            let we_sent = self.sender.we_sent();
            let random = &mut self.random;
            let expiry = self
                .timer
                .on_expire(now, members, senders, we_sent, || random.next_u32());
            if expiry == rtcp_timer::Expiry::Send {
                self.report_due = true;
            }
        }
    }

    /// Leaves the session: the next [`poll_transmit`](Self::poll_transmit) returns a final
    /// report with BYE, after which the session is closed (RFC 3550 §6.3.7: BYE goes at once,
    /// as BYE reconsideration is only needed in sessions of more than 50 members).
    pub fn close(&mut self) {
        self.closing = true;
    }

    /// Statistics of the session, our stream and every remote source.
    pub fn stats(&self) -> SessionStats {
        let c = self.counters;
        let now = self.last_rx.unwrap_or(self.epoch);
        SessionStats {
            sender: self.sender.stats(),
            sources: self.sources.values().map(Source::stats).collect(),
            datagrams: c.datagrams,
            rtp_delivered: c.rtp_delivered,
            rtcp_compounds: c.rtcp_compounds,
            malformed: c.malformed,
            unknown_payload_type: c.unknown_payload_type,
            probation_discarded: c.probation_discarded,
            duplicates: c.duplicates,
            sequence_jumps: c.sequence_jumps,
            wrong_address: c.wrong_address,
            own_ssrc: c.own_ssrc,
            source_limit: c.source_limit,
            after_close: c.after_close,
            rtcp_bad_packets: c.rtcp_bad_packets,
            collisions: c.collisions,
            loops: c.loops,
            rtcp_sent: c.rtcp_sent,
            rtcp_no_destination: c.rtcp_no_destination,
            events_dropped: c.events_dropped,
            remote_rtp: self.remote_rtp,
            remote_rtcp: self.remote_rtcp,
            latched: self.latch.latched,
            transport_up: self.transport_up,
            bandwidth_estimate_bps: self.bwe.estimate(now),
            twcc: self.twcc.as_ref().map(|t| t.stats),
            rtt: self.rtt,
            members: self.members(),
            senders: self.senders(),
            avg_rtcp_size: self.timer.avg_rtcp_size,
            next_report: (!self.closed).then_some(self.timer.tn),
        }
    }

    /// Statistics of one remote source.
    pub fn source_stats(&self, ssrc: Ssrc) -> Option<SourceStats> {
        self.sources.get(&ssrc).map(Source::stats)
    }

    /// The bandwidth estimator (loss-based with a REMB ceiling).
    pub const fn bandwidth_estimator(&self) -> &BandwidthEstimator {
        &self.bwe
    }
}

/// The RTCP destination for an RTP destination: the same with rtcp-mux, else the configured
/// RTCP address or the RTP port + 1.
fn derive_rtcp(config: &SessionConfig, rtp: Option<SocketAddr>) -> Option<SocketAddr> {
    if config.rtcp_mux {
        return rtp;
    }
    config.remote_rtcp.or_else(|| {
        rtp.map(|mut a| {
            a.set_port(a.port().wrapping_add(1));
            a
        })
    })
}
