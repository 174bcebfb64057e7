//! What a controller is configured with and what it reports: its configuration, capabilities,
//! errors, events and call statistics.

use super::*;

/// Our side of calls made by one controller.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    /// Our RTP address (written into SDP; where the owner's socket is bound).
    pub local: SocketAddr,
    /// Codecs we accept, by name, in our order of preference; empty: every registered codec.
    pub codecs: Vec<String>,
    /// Packet time we ask for, ms.
    pub ptime: u16,
    /// SRTP use.
    pub srtp: SrtpPolicy,
    /// Offer and accept telephone-event.
    pub telephone_event: bool,
    /// Jitter buffer limits.
    pub jitter: JitterDelay,
    /// Call-id (logs, correlation).
    pub call_id: String,
    /// Our URI.
    pub local_uri: String,
    /// The remote's URI.
    pub remote_uri: String,
    /// RTCP CNAME.
    pub cname: String,
    /// Session number in events.
    pub id: u64,
    /// Adapt the encoder (bitrate, FEC, expected loss) to network feedback.
    pub adaptation: bool,
    /// Minimum RTCP interval (RFC 3550's 5 s by default; feedback reaches the adaptation no
    /// faster than this).
    pub rtcp_min_interval: Duration,
    /// Thresholds of the quality monitor (degraded / recovered events and MOS alerts).
    pub quality: QualityMonitorConfig,
}

impl ControllerConfig {
    /// Defaults for a call from `local`: every codec, 20 ms, SRTP optional, DTMF, call jitter
    /// limits.
    pub fn new(local: SocketAddr) -> Self {
        Self {
            local,
            codecs: Vec::new(),
            ptime: 20,
            srtp: SrtpPolicy::Optional,
            telephone_event: true,
            jitter: JitterDelay::CALL,
            call_id: "call".into(),
            local_uri: "sip:local@invalid".into(),
            remote_uri: "sip:remote@invalid".into(),
            cname: format!("media-core@{}", local.ip()),
            id: 1,
            adaptation: true,
            rtcp_min_interval: Duration::from_secs(5),
            quality: QualityMonitorConfig::default(),
        }
    }
}

/// What the controller can do: codecs (with their SDP parameters) and SRTP profiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Codecs as they appear in an offer, in our order of preference.
    pub codecs: Vec<SdpCodec>,
    /// SRTP suites we offer and accept.
    pub srtp_suites: Vec<SrtpSuite>,
    /// The SRTP policy.
    pub srtp: SrtpPolicy,
}

/// What went wrong in a controller call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControllerError {
    /// The SDP was unusable or did not fit our offer.
    Sdp(SdpError),
    /// The negotiated media did not make a valid session configuration.
    Config(ConfigError),
    /// The state machine refused the command.
    Session(SessionError),
    /// The transport or codecs could not be set up.
    Adapter(AdapterError),
    /// An answer came with no offer outstanding.
    NoOffer,
    /// No session yet (no offer/answer completed).
    NoSession,
}

impl fmt::Display for ControllerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sdp(e) => write!(f, "SDP: {e}"),
            Self::Config(e) => write!(f, "session configuration: {e}"),
            Self::Session(e) => write!(f, "session: {e}"),
            Self::Adapter(e) => write!(f, "media: {e}"),
            Self::NoOffer => f.write_str("an answer came with no offer outstanding"),
            Self::NoSession => f.write_str("no media session negotiated yet"),
        }
    }
}

impl std::error::Error for ControllerError {}

impl From<SdpError> for ControllerError {
    fn from(e: SdpError) -> Self {
        Self::Sdp(e)
    }
}
impl From<ConfigError> for ControllerError {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}
impl From<SessionError> for ControllerError {
    fn from(e: SessionError) -> Self {
        Self::Session(e)
    }
}
impl From<AdapterError> for ControllerError {
    fn from(e: AdapterError) -> Self {
        Self::Adapter(e)
    }
}

/// What the controller reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ControllerEvent {
    /// A session event: started, stopped, failed, state and codec changes, DTMF received,
    /// quality alerts.
    Session(SessionEvent),
    /// Media packets arrive.
    TransportUp,
    /// No media packet for the transport timeout (5 s).
    TransportDown,
    /// What we hear degraded or recovered (the quality monitor, with hysteresis).
    Quality(QualityChange),
    /// The adaptation changed the encoder: `BitrateChanged` or `FecChanged`.
    Codec(CodecEvent),
}

impl ControllerEvent {
    /// The event for the [event bus](crate::events), stamped with `session` and `now`
    /// (session events keep their own stamps). `TransportUp`/`TransportDown` have no bus
    /// payload (the session's state events cover them): `None`.
    pub fn to_bus_event(&self, session: SessionId, now: Instant) -> Option<Event> {
        let kind = match self {
            Self::Session(e) => return Some(Event::from(e.clone())),
            Self::Quality(q) => EventKind::QualityChange(*q),
            Self::Codec(c) => EventKind::Codec(c.clone()),
            _ => return None,
        };
        Some(Event::new(session, CorrelationId(0), now, kind))
    }
}

/// Receive and send figures of a call, for reports.
#[derive(Debug, Clone, PartialEq)]
pub struct CallStats {
    /// The codec in use.
    pub codec: &'static str,
    /// RTP packets sent (audio and events).
    pub packets_sent: u64,
    /// Audio packets received into the jitter buffer.
    pub packets_received: u64,
    /// Packets the remote sent that never arrived (RTP sequence gaps; RFC 3550 cumulative loss).
    pub packets_lost: i64,
    /// Packets the jitter buffer skipped at playout (lost, or arrived too late).
    pub playout_lost: u64,
    /// Missing packets concealed (lost, late, or the buffer ran dry; not recovered by FEC).
    pub packets_concealed: u64,
    /// Lost packets recovered by FEC.
    pub fec_recovered: u64,
    /// Packets that arrived too late for playout.
    pub late: u64,
    /// Packets the jitter buffer dropped to shrink the delay.
    pub discarded: u64,
    /// RFC 3550 interarrival jitter, ms.
    pub jitter_ms: f64,
    /// Jitter buffer delay now, ms (above the base transit).
    pub jitter_buffer_delay_ms: f64,
    /// Jitter buffer target delay, ms.
    pub jitter_buffer_target_ms: f64,
    /// Round-trip time from RTCP, ms, when measured.
    pub rtt_ms: Option<f64>,
    /// Estimated MOS of what we hear now: the receive direction's [`MetricsSnapshot`]
    /// (E-model over the last 5 s: loss not recovered by FEC, burstiness, jitter-buffer
    /// delay + packet time + look-ahead + half the RTT, distortion).
    pub mos: f64,
    /// The receive direction's figures (level, clipping, concealment, R, MOS...).
    pub receive: MetricsSnapshot,
    /// The send direction's figures (our capture; loss and jitter as the remote reports).
    pub send: MetricsSnapshot,
    /// Whether the quality monitor considers the call degraded.
    pub degraded: bool,
    /// The adaptation's decision in force (codecs that adapt).
    pub adaptation: Option<AdaptationDecision>,
    /// DTMF events received.
    pub dtmf_received: u64,
    /// The adapter's counters.
    pub counters: AdapterCounters,
}

/// The E-model MOS of a stream: `loss_pct` (all causes), one-way `delay_ms`.
pub fn estimate_mos(codec: &str, loss_pct: f64, delay_ms: f64) -> f64 {
    // G.113 has no entry for G.722 or Opus (wideband); rate them with G.711's robust PLC
    // values, which is conservative for codecs with better concealment or FEC.
    let imp = CodecImpairment::for_codec(codec).unwrap_or(CodecImpairment { ie: 0.0, bpl: 25.1 });
    rate(&EModelParams::voip(imp, delay_ms, loss_pct, 1.0)).mos
}
