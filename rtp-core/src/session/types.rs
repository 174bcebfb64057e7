//! The public data types of the session: datagrams out, packets in, events, statistics.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{SenderStats, SourceStats, TwccStats};
use crate::{RtpPacket, Ssrc};

/// Which socket a datagram belongs on (they differ without rtcp-mux).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransmitKind {
    /// An RTP packet.
    Rtp,
    /// A compound RTCP packet.
    Rtcp,
}

/// A datagram to send: where, on which socket, and the bytes (plain RTP/RTCP; apply SRTP
/// before sending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit<'a> {
    /// The destination address.
    pub destination: SocketAddr,
    /// RTP or RTCP.
    pub kind: TransmitKind,
    /// The datagram.
    pub contents: &'a [u8],
}

/// A validated RTP packet handed back by [`RtpSession::handle_packet`](super::RtpSession::handle_packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpReceived<'a> {
    /// The packet, borrowing the datagram.
    pub packet: RtpPacket<'a>,
    /// Its extended (64-bit) sequence number.
    pub extended_seq: u64,
    /// The clock rate of its payload type.
    pub clock_rate: u32,
    /// It is the first packet delivered from its source (the one that ended probation).
    pub first_of_source: bool,
}

/// What [`RtpSession::handle_packet`](super::RtpSession::handle_packet) made of a datagram it accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received<'a> {
    /// An RTP packet to deliver to the jitter buffer.
    Rtp(RtpReceived<'a>),
    /// An RTCP compound, consumed (its effects show in stats and events).
    Rtcp,
}

/// What a receiver report block about our stream said: the figures media adaptation uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportSummary {
    /// The reporting source.
    pub reporter: Ssrc,
    /// Fraction lost since its previous report, 0.0..=1.0.
    pub fraction_lost: f64,
    /// Cumulative packets lost.
    pub cumulative_lost: i32,
    /// Extended highest sequence number it received.
    pub extended_highest_seq: u32,
    /// Interarrival jitter in our timestamp units.
    pub jitter: u32,
    /// The same in milliseconds, when we know our clock rate (we sent something).
    pub jitter_ms: Option<f64>,
    /// Round-trip time from LSR/DLSR, when the report echoes one of our SRs.
    pub rtt: Option<Duration>,
}

/// Something that happened in the session, for the media layer.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SessionEvent {
    /// A remote source passed probation.
    NewSource {
        /// The source.
        ssrc: Ssrc,
        /// Where its packets come from.
        address: SocketAddr,
    },
    /// A source was silent for the timeout (RFC 3550 §6.3.5) and was removed.
    SourceTimeout {
        /// The source.
        ssrc: Ssrc,
    },
    /// A source sent BYE and was removed.
    SourceBye {
        /// The source.
        ssrc: Ssrc,
    },
    /// Another participant uses our SSRC: we sent BYE for it and took a new one (§8.2).
    SsrcCollision {
        /// The SSRC we gave up.
        old: Ssrc,
        /// Our new SSRC.
        new: Ssrc,
        /// Where the colliding packet came from.
        address: SocketAddr,
    },
    /// Symmetric RTP learnt the remote address.
    RemoteAddressLatched {
        /// The address we now send to.
        address: SocketAddr,
    },
    /// Symmetric RTP moved to a new remote address.
    RemoteAddressChanged {
        /// The previous address.
        old: SocketAddr,
        /// The new one.
        new: SocketAddr,
    },
    /// A receiver report block about our stream arrived.
    ReceiverReport(ReportSummary),
    /// The bandwidth estimate moved by more than the configured threshold.
    BandwidthEstimate {
        /// The estimate in bits per second.
        bps: u64,
    },
    /// Packets arrive (first packet, or the first after [`TransportDown`](Self::TransportDown)).
    TransportUp,
    /// No packet arrived for [`SessionConfig::transport_timeout`](super::SessionConfig::transport_timeout).
    TransportDown,
}

impl SessionEvent {
    /// Metric events (reports, estimates) may be dropped under pressure; state events never.
    pub const fn is_metric(&self) -> bool {
        matches!(
            self,
            Self::ReceiverReport(_) | Self::BandwidthEstimate { .. }
        )
    }
}

/// Session-wide statistics. Every datagram given to
/// [`handle_packet`](super::RtpSession::handle_packet) lands in exactly one of the counters from
/// `rtp_delivered` to `after_close`, so they add up to `datagrams`.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionStats {
    /// Our stream.
    pub sender: SenderStats,
    /// The remote sources.
    pub sources: Vec<SourceStats>,
    /// Datagrams given to `handle_packet`.
    pub datagrams: u64,
    /// RTP packets delivered.
    pub rtp_delivered: u64,
    /// RTCP compounds accepted.
    pub rtcp_compounds: u64,
    /// Datagrams that did not parse as RTP or as a compound RTCP datagram.
    pub malformed: u64,
    /// RTP with a payload type not in the clock map.
    pub unknown_payload_type: u64,
    /// RTP discarded while its source was on probation.
    pub probation_discarded: u64,
    /// Duplicate RTP packets.
    pub duplicates: u64,
    /// RTP dropped by the A.1 validator as an unconfirmed sequence jump.
    pub sequence_jumps: u64,
    /// Datagrams from an address other than the latched one.
    pub wrong_address: u64,
    /// RTP carrying our own SSRC (a collision or a loop).
    pub own_ssrc: u64,
    /// RTP of new sources beyond [`SessionConfig::max_sources`](super::SessionConfig::max_sources) when every tracked source
    /// is a member (sources still on probation are forgotten, oldest first, to make room).
    pub source_limit: u64,
    /// Datagrams received after [`close`](super::RtpSession::close).
    pub after_close: u64,
    /// Packets inside accepted compounds whose body did not parse.
    pub rtcp_bad_packets: u64,
    /// Collisions with our SSRC (new SSRC taken).
    pub collisions: u64,
    /// Our own packets looped back (our SSRC again from an address already seen colliding).
    pub loops: u64,
    /// RTCP compounds sent.
    pub rtcp_sent: u64,
    /// Reports due while no remote address was known (not sent).
    pub rtcp_no_destination: u64,
    /// Metric events dropped because the event queue was full.
    pub events_dropped: u64,
    /// Where RTP goes.
    pub remote_rtp: Option<SocketAddr>,
    /// Where RTCP goes.
    pub remote_rtcp: Option<SocketAddr>,
    /// Whether the remote address was latched.
    pub latched: bool,
    /// Whether packets are arriving.
    pub transport_up: bool,
    /// The combined bandwidth estimate.
    pub bandwidth_estimate_bps: u64,
    /// Transport-wide congestion control counters, when it is on.
    pub twcc: Option<TwccStats>,
    /// The latest round-trip time measured.
    pub rtt: Option<Duration>,
    /// Members (us included) and senders as the RTCP interval counts them.
    pub members: usize,
    /// Active senders (us included when we sent).
    pub senders: usize,
    /// Average compound RTCP size in octets, UDP/IP included.
    pub avg_rtcp_size: f64,
    /// When the next report is scheduled.
    pub next_report: Option<Instant>,
}
