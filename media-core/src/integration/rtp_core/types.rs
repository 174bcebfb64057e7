//! The adapter's configuration, events, errors and counters.

use super::*;

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
/// [`MediaSessionController`](crate::integration::session_core::MediaSessionController).
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
