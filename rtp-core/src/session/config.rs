//! Session configuration, the caller-supplied random source, and the session's error type.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use super::bwe::BweConfig;
use super::twcc::TwccConfig;
use crate::rtcp::NtpTime;
use crate::{PacketError, Ssrc};

/// Randomness supplied by the caller: the core has no RNG of its own (and so stays
/// deterministic under test). It draws the initial SSRC, sequence number and timestamp offset
/// (RFC 3550 §5.1), new SSRCs after a collision (§8.2) and the RTCP interval randomisation
/// (§6.3.1). Production callers should feed a cryptographically seeded generator; any
/// `FnMut() -> u32 + Send` closure implements it.
pub trait RandomSource: Send {
    /// A uniformly distributed 32-bit value.
    fn next_u32(&mut self) -> u32;
}

impl<F: FnMut() -> u32 + Send> RandomSource for F {
    fn next_u32(&mut self) -> u32 {
        self()
    }
}

/// Symmetric RTP (RFC 4961 / "comedia" latching): learning where to send from where the
/// peer's media comes from, for peers behind NAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latching {
    /// Send to the configured remote addresses only; accept packets from any address.
    Off,
    /// Learn the remote address from the first source (the expected one, if
    /// [`SessionConfig::expected_remote_ssrc`] is set) that passes probation, all of whose
    /// probation packets came from one address. After that, RTP from other addresses is
    /// discarded (counted as `wrong_address`) while the latched address is active; once it has
    /// been silent for `relatch_after`, a source at a new address that sends `probation`
    /// packets in sequence from there moves the latch (a NAT rebinding). An attacker spraying
    /// packets from elsewhere cannot take over a live stream.
    On {
        /// Silence of the latched address after which another address may take over.
        relatch_after: Duration,
    },
}

/// Configuration of an [`RtpSession`](super::RtpSession). Build with
/// [`SessionConfig::new`] and adjust the public fields; [`RtpSession::new`] validates it.
///
/// [`RtpSession::new`]: super::RtpSession::new
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    /// Our SDES CNAME (at most 255 bytes).
    pub cname: Vec<u8>,
    /// Payload type to RTP clock rate, for every payload type negotiated (RTP with another
    /// payload type is discarded and counted). Example: `[(0, 8000), (101, 8000)]`.
    pub clock_rates: Vec<(u8, u32)>,
    /// Where to send RTP, when known from signalling.
    pub remote_rtp: Option<SocketAddr>,
    /// Where to send RTCP when not multiplexed; defaults to the RTP port + 1 (RFC 3550 §11).
    pub remote_rtcp: Option<SocketAddr>,
    /// RTP and RTCP share one port (RFC 5761). Incoming datagrams are always classified by
    /// their second byte ([`is_rtcp`](crate::rtcp::is_rtcp)).
    pub rtcp_mux: bool,
    /// Symmetric RTP latching.
    pub latching: Latching,
    /// The remote SSRC from signalling (`a=ssrc`): only this source may latch.
    pub expected_remote_ssrc: Option<Ssrc>,
    /// Sequential packets a new source must send before it is valid (RFC 3550 A.1
    /// `MIN_SEQUENTIAL`, 2). 0 or 1: valid at once. Packets on probation are not delivered.
    pub probation: u8,
    /// Session bandwidth in bits per second (the `b=AS` value); RTCP gets
    /// [`rtcp_fraction`](Self::rtcp_fraction) of it.
    pub session_bandwidth_bps: u64,
    /// Share of the session bandwidth for RTCP (RFC 3550 §6.2: 0.05).
    pub rtcp_fraction: f64,
    /// Minimum RTCP interval (RFC 3550: 5 s).
    pub rtcp_min_interval: Duration,
    /// Use the reduced minimum interval 360 / session-kbps (RFC 3550 §6.2) when it is below
    /// [`rtcp_min_interval`](Self::rtcp_min_interval).
    pub rtcp_reduced_minimum: bool,
    /// A source silent (no RTP nor RTCP) for this many deterministic RTCP intervals times out
    /// (RFC 3550 §6.3.5: 5).
    pub source_timeout_intervals: u32,
    /// No packet at all for this long raises [`TransportDown`](super::SessionEvent::TransportDown).
    pub transport_timeout: Duration,
    /// Most remote sources tracked at once; packets of further new sources are discarded and
    /// counted (bounds memory under a flood of random SSRCs).
    pub max_sources: usize,
    /// Events kept for [`poll_event`](super::RtpSession::poll_event) before metric events
    /// (reports, estimates) are dropped, oldest first, and counted. State events are never
    /// dropped.
    pub event_capacity: usize,
    /// Bandwidth estimation.
    pub bwe: BweConfig,
    /// Transport-wide congestion control (when negotiated): stamp outgoing RTP with the
    /// transport-wide sequence number, report arrivals of the peer's packets, and run the
    /// delay-based estimator on the peer's feedback. Off by default.
    pub twcc: Option<TwccConfig>,
    /// Wallclock (NTP) time at the `now` passed to [`RtpSession::new`]; sender reports carry
    /// it advanced by virtual time. Only round trips through our own clock are measured, so
    /// tests can leave it 0.
    ///
    /// [`RtpSession::new`]: super::RtpSession::new
    pub ntp_at_start: NtpTime,
    /// Fixed initial values instead of random ones (tests, or a restart that must continue a
    /// stream): SSRC, first sequence number, timestamp offset.
    pub initial: Option<(Ssrc, u16, u32)>,
}

impl SessionConfig {
    /// Defaults for a point-to-point audio call: rtcp-mux, latching on (relatch after 2 s of
    /// silence), probation 2, 64 kbit/s, RTCP minimum 5 s, transport timeout 5 s.
    pub fn new(cname: impl Into<Vec<u8>>, clock_rates: &[(u8, u32)]) -> Self {
        Self {
            cname: cname.into(),
            clock_rates: clock_rates.to_vec(),
            remote_rtp: None,
            remote_rtcp: None,
            rtcp_mux: true,
            latching: Latching::On {
                relatch_after: Duration::from_secs(2),
            },
            expected_remote_ssrc: None,
            probation: crate::SeqTracker::MIN_SEQUENTIAL,
            session_bandwidth_bps: 64_000,
            rtcp_fraction: 0.05,
            rtcp_min_interval: Duration::from_secs(5),
            rtcp_reduced_minimum: false,
            source_timeout_intervals: 5,
            transport_timeout: Duration::from_secs(5),
            max_sources: 64,
            event_capacity: 256,
            bwe: BweConfig::default(),
            twcc: None,
            ntp_at_start: NtpTime(0),
            initial: None,
        }
    }

    /// Checks the values that would make the session misbehave.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.cname.is_empty() || self.cname.len() > 255 {
            return Err(SessionError::Config("cname must be 1..=255 bytes"));
        }
        if self
            .clock_rates
            .iter()
            .any(|&(pt, rate)| pt > crate::MAX_PAYLOAD_TYPE || rate == 0)
        {
            return Err(SessionError::Config(
                "payload types must be 0..=127 with a non-zero clock rate",
            ));
        }
        if !(self.rtcp_fraction > 0.0 && self.rtcp_fraction <= 1.0) {
            return Err(SessionError::Config("rtcp_fraction must be in (0, 1]"));
        }
        if self.rtcp_min_interval.is_zero() || self.transport_timeout.is_zero() {
            return Err(SessionError::Config(
                "intervals and timeouts must be non-zero",
            ));
        }
        if self.max_sources == 0 || self.source_timeout_intervals == 0 {
            return Err(SessionError::Config(
                "max_sources and source_timeout_intervals must be non-zero",
            ));
        }
        if let Some(t) = self.twcc {
            if !(1..=14).contains(&t.extension_id) || t.feedback_interval.is_zero() {
                return Err(SessionError::Config(
                    "twcc needs an extension id in 1..=14 and a non-zero feedback interval",
                ));
            }
        }
        Ok(())
    }

    /// The clock rate of a payload type.
    pub(crate) fn clock_rate(&self, pt: u8) -> Option<u32> {
        self.clock_rates
            .iter()
            .find(|&&(p, _)| p == pt)
            .map(|&(_, rate)| rate)
    }
}

/// What went wrong in a session call.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    /// A datagram could not be parsed (it is counted as malformed), or a packet could not be
    /// written (buffer too small, value out of range).
    Packet(PacketError),
    /// The payload type given to `send_rtp` is not in the configured clock map.
    UnknownPayloadType(u8),
    /// No remote address is known yet (none configured and none latched).
    NoRemoteAddress,
    /// The session was closed.
    Closed,
    /// The configuration is invalid; the text says why.
    Config(&'static str),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Packet(e) => write!(f, "packet error: {e}"),
            Self::UnknownPayloadType(pt) => write!(f, "payload type {pt} is not configured"),
            Self::NoRemoteAddress => f.write_str("no remote address known"),
            Self::Closed => f.write_str("session closed"),
            Self::Config(why) => write!(f, "invalid session configuration: {why}"),
        }
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Packet(e) => Some(e),
            _ => None,
        }
    }
}

impl From<PacketError> for SessionError {
    fn from(e: PacketError) -> Self {
        Self::Packet(e)
    }
}

/// Result of session calls.
pub type Result<T> = std::result::Result<T, SessionError>;
