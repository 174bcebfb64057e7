//! The event envelope and the typed payloads.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use super::{Category, CorrelationId, Priority};
use crate::error::CodecError;
use crate::quality::metrics::QualityChange;
use crate::session::{SessionEvent, SessionEventKind, SessionId};

/// One event on the bus: a typed payload stamped with where it came from. Category and
/// priority follow from the payload, so they cannot disagree with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    seq: u64,
    session: SessionId,
    correlation: CorrelationId,
    at: Instant,
    category: Category,
    priority: Priority,
    kind: EventKind,
}

impl Event {
    /// An event about `session`, caused by `correlation`, at `at`.
    pub fn new(
        session: SessionId,
        correlation: CorrelationId,
        at: Instant,
        kind: EventKind,
    ) -> Self {
        Self {
            seq: 0,
            session,
            correlation,
            at,
            category: kind.category(),
            priority: kind.priority(),
            kind,
        }
    }

    /// The bus-wide sequence number assigned when published (0 before).
    pub fn seq(&self) -> u64 {
        self.seq
    }
    /// The session it concerns ([`SessionId::ENGINE`] for none).
    pub fn session(&self) -> SessionId {
        self.session
    }
    /// What caused it.
    pub fn correlation(&self) -> CorrelationId {
        self.correlation
    }
    /// When it happened (the publisher's `now`).
    pub fn at(&self) -> Instant {
        self.at
    }
    /// What it is about.
    pub fn category(&self) -> Category {
        self.category
    }
    /// How it is treated under pressure.
    pub fn priority(&self) -> Priority {
        self.priority
    }
    /// The payload.
    pub fn kind(&self) -> &EventKind {
        &self.kind
    }
    /// The payload, by value.
    pub fn into_kind(self) -> EventKind {
        self.kind
    }
    /// The coalescing key of a low-priority event.
    pub fn metric_key(&self) -> Option<(SessionId, MetricKind)> {
        self.kind.metric_kind().map(|k| (self.session, k))
    }

    pub(super) fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }
}

impl From<SessionEvent> for Event {
    fn from(e: SessionEvent) -> Self {
        Self::new(e.session, e.correlation, e.at, EventKind::Session(e.kind))
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {} {} {}/{}: {:?}",
            self.seq, self.session, self.correlation, self.priority, self.category, self.kind
        )
    }
}

/// What an event says.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// From a [`crate::session::MediaSession`]: always high priority.
    Session(SessionEventKind),
    /// Media flow (normal priority).
    Media(MediaEvent),
    /// Codec changes (high) and statistics (low).
    Codec(CodecEvent),
    /// Devices: changes (high) and statistics (low).
    Device(DeviceEvent),
    /// Call quality metrics (low, coalesced per session).
    Quality(QualityMetrics),
    /// Quality degraded or recovered, with hysteresis (low, coalesced per session: only the
    /// newest state survives pressure). Alerts below the floor travel as the high-priority
    /// [`SessionEventKind::QualityAlert`].
    QualityChange(QualityChange),
    /// CPU and memory use (low, coalesced per session).
    Resource(ResourceUsage),
}

impl EventKind {
    /// The category this payload belongs to.
    pub fn category(&self) -> Category {
        match self {
            Self::Session(k) => match k {
                SessionEventKind::CodecChanged { .. } => Category::Codec,
                SessionEventKind::QualityAlert(_) => Category::Quality,
                SessionEventKind::DtmfReceived { .. } | SessionEventKind::MuteChanged { .. } => {
                    Category::Media
                }
                _ => Category::Session,
            },
            Self::Media(_) | Self::Resource(_) => Category::Media,
            Self::Codec(_) => Category::Codec,
            Self::Device(_) => Category::Device,
            Self::Quality(_) | Self::QualityChange(_) => Category::Quality,
        }
    }

    /// The priority this payload travels at.
    pub fn priority(&self) -> Priority {
        match self {
            Self::Session(_) => Priority::High,
            Self::Media(_) => Priority::Normal,
            Self::Codec(CodecEvent::Stats(_)) | Self::Device(DeviceEvent::Stats(_)) => {
                Priority::Low
            }
            Self::Codec(_) | Self::Device(_) => Priority::High,
            Self::Quality(_) | Self::QualityChange(_) | Self::Resource(_) => Priority::Low,
        }
    }

    /// What a low-priority payload measures (its coalescing key within a session); `None` for
    /// the other priorities.
    pub fn metric_kind(&self) -> Option<MetricKind> {
        match self {
            Self::Quality(_) => Some(MetricKind::Quality),
            Self::QualityChange(_) => Some(MetricKind::QualityState),
            Self::Resource(_) => Some(MetricKind::Resource),
            Self::Codec(CodecEvent::Stats(_)) => Some(MetricKind::Codec),
            Self::Device(DeviceEvent::Stats(s)) => Some(MetricKind::Device(s.device)),
            _ => None,
        }
    }
}

/// What a low-priority metric measures. Two metrics with the same kind for the same session
/// supersede each other, so under pressure only the newest is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// [`QualityMetrics`].
    Quality,
    /// [`QualityChange`] (degraded / recovered).
    QualityState,
    /// [`CodecStats`].
    Codec,
    /// [`DeviceStats`] of one device.
    Device(DeviceId),
    /// [`ResourceUsage`].
    Resource,
}

/// Which way a media stream goes, from our side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamDirection {
    /// Captured and sent.
    Send,
    /// Received and played.
    Receive,
}

/// A stage of the audio processing chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProcessingStage {
    /// Acoustic echo cancellation.
    Aec,
    /// Automatic gain control.
    Agc,
    /// Noise suppression.
    Ns,
    /// Voice activity detection.
    Vad,
    /// Packet loss concealment.
    Plc,
    /// Comfort noise generation.
    Cng,
}

/// Normal-priority media flow events (frame-rate at most).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum MediaEvent {
    /// The level of a stream over the last frame(s).
    AudioLevel {
        /// Which stream.
        direction: StreamDirection,
        /// Level in dBov (0 is full scale, -127 silence; RFC 6464).
        dbov: f32,
    },
    /// Voice activity started or stopped on a stream.
    VoiceActivity {
        /// Which stream.
        direction: StreamDirection,
        /// Whether speech is present.
        active: bool,
    },
    /// A processing stage was switched on or off (by configuration or adaptation).
    ProcessingState {
        /// The stage.
        stage: ProcessingStage,
        /// Whether it runs now.
        enabled: bool,
    },
}

/// Codec counters since the session started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CodecStats {
    /// Payloads encoded.
    pub encoded: u64,
    /// Payloads decoded.
    pub decoded: u64,
    /// Losses concealed.
    pub concealed: u64,
    /// Losses recovered by FEC.
    pub fec_recovered: u64,
    /// Payloads that failed to decode.
    pub decode_errors: u64,
}

/// Codec events.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CodecEvent {
    /// The encoder's target bitrate changed (adaptation). High priority.
    BitrateChanged {
        /// Before (`None`: the codec default).
        from: Option<u32>,
        /// Now, in bit/s.
        to: u32,
    },
    /// In-band FEC was switched on or off. High priority.
    FecChanged {
        /// Whether it is on now.
        enabled: bool,
    },
    /// A codec call failed. High priority.
    Error {
        /// The codec.
        codec: &'static str,
        /// What it said.
        error: Arc<CodecError>,
    },
    /// Periodic statistics. Low priority, coalesced.
    Stats(CodecStats),
}

/// Identifies an audio device within this engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceId(pub u32);

/// Capture or playback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// A microphone or other input.
    Capture,
    /// A speaker or other output.
    Playback,
}

/// A device as announced when it appears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Its id.
    pub id: DeviceId,
    /// Capture or playback.
    pub kind: DeviceKind,
    /// Its name as the platform gives it.
    pub name: Arc<str>,
}

/// Device counters over the last reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceStats {
    /// The device.
    pub device: DeviceId,
    /// Capture overruns (samples lost because we were late).
    pub overruns: u64,
    /// Playback underruns (silence played because we were late).
    pub underruns: u64,
    /// Device latency in milliseconds.
    pub latency_ms: u32,
}

/// Device events.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DeviceEvent {
    /// A device appeared. High priority.
    Added(DeviceInfo),
    /// A device disappeared. High priority.
    Removed {
        /// Which.
        device: DeviceId,
    },
    /// A device failed. High priority.
    Failed {
        /// Which.
        device: DeviceId,
        /// What the platform said.
        reason: Arc<str>,
    },
    /// The default device of a kind changed. High priority.
    DefaultChanged {
        /// Capture or playback.
        kind: DeviceKind,
        /// The new default.
        device: DeviceId,
    },
    /// Periodic statistics. Low priority, coalesced per device.
    Stats(DeviceStats),
}

/// Call quality over the last reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QualityMetrics {
    /// Estimated MOS, 1.0-4.5.
    pub mos: f32,
    /// Packet loss, percent.
    pub packet_loss_pct: f32,
    /// Interarrival jitter, milliseconds.
    pub jitter_ms: f32,
    /// Round-trip time in milliseconds, once RTCP has measured one.
    pub rtt_ms: Option<f32>,
}

/// Resource use over the last reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResourceUsage {
    /// CPU time used by media processing, in per mille of one core.
    pub cpu_permille: u32,
    /// Memory held by media buffers, in bytes.
    pub memory_bytes: u64,
}
