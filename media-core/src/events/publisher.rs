//! Typed publishers: each holds a bus handle, a session id and a correlation id, and stamps
//! them on every event it publishes, with the category and priority its payload implies.

use std::sync::Arc;
use std::time::Instant;

use super::event::{
    CodecEvent, CodecStats, DeviceEvent, DeviceId, DeviceInfo, DeviceKind, DeviceStats, EventKind,
    MediaEvent, ProcessingStage, QualityMetrics, ResourceUsage, StreamDirection,
};
use super::{CorrelationId, Event, EventBus, PublishError};
use crate::error::CodecError;
use crate::session::{SessionEvent, SessionId};

/// What every publisher shares: the bus and the stamp.
#[derive(Debug, Clone)]
struct Stamp {
    bus: EventBus,
    session: SessionId,
    correlation: CorrelationId,
}

impl Stamp {
    fn publish(&self, now: Instant, kind: EventKind) -> Result<u64, PublishError> {
        self.bus
            .publish(Event::new(self.session, self.correlation, now, kind))
    }
}

macro_rules! stamp_accessors {
    () => {
        /// The session stamped on every event.
        pub fn session(&self) -> SessionId {
            self.stamp.session
        }

        /// The correlation id stamped on every event.
        pub fn correlation(&self) -> CorrelationId {
            self.stamp.correlation
        }

        /// Stamps `correlation` on the events published from now on (e.g. the correlation id
        /// of the command that reconfigured what this publisher reports on).
        pub fn set_correlation(&mut self, correlation: CorrelationId) {
            self.stamp.correlation = correlation;
        }

        /// Publishes any payload with this publisher's stamp.
        pub fn publish(&self, now: Instant, kind: EventKind) -> Result<u64, PublishError> {
            self.stamp.publish(now, kind)
        }
    };
}

/// Publishes a session's media events: its [`SessionEvent`]s, levels, voice activity,
/// processing state, quality metrics and resource use.
#[derive(Debug, Clone)]
pub struct MediaEventPublisher {
    stamp: Stamp,
}

impl MediaEventPublisher {
    /// A publisher for `session` on `bus`, stamping `correlation`.
    pub fn new(bus: &EventBus, session: SessionId, correlation: CorrelationId) -> Self {
        Self {
            stamp: Stamp {
                bus: bus.clone(),
                session,
                correlation,
            },
        }
    }

    stamp_accessors!();

    /// Forwards an event drained from [`crate::session::MediaSession::poll_event`]. It keeps
    /// its own session id, correlation id and time. High priority: on
    /// [`PublishError::Backpressure`] keep it and retry.
    pub fn session_event(&self, event: SessionEvent) -> Result<u64, PublishError> {
        self.stamp.bus.publish(Event::from(event))
    }

    /// A stream's level in dBov (normal priority).
    pub fn audio_level(
        &self,
        now: Instant,
        direction: StreamDirection,
        dbov: f32,
    ) -> Result<u64, PublishError> {
        self.publish(
            now,
            EventKind::Media(MediaEvent::AudioLevel { direction, dbov }),
        )
    }

    /// Voice activity started or stopped (normal priority).
    pub fn voice_activity(
        &self,
        now: Instant,
        direction: StreamDirection,
        active: bool,
    ) -> Result<u64, PublishError> {
        self.publish(
            now,
            EventKind::Media(MediaEvent::VoiceActivity { direction, active }),
        )
    }

    /// A processing stage switched on or off (normal priority).
    pub fn processing_state(
        &self,
        now: Instant,
        stage: ProcessingStage,
        enabled: bool,
    ) -> Result<u64, PublishError> {
        self.publish(
            now,
            EventKind::Media(MediaEvent::ProcessingState { stage, enabled }),
        )
    }

    /// Quality metrics (low priority, coalesced per session).
    pub fn quality(&self, now: Instant, metrics: QualityMetrics) -> Result<u64, PublishError> {
        self.publish(now, EventKind::Quality(metrics))
    }

    /// Resource use (low priority, coalesced per session).
    pub fn resource_usage(&self, now: Instant, usage: ResourceUsage) -> Result<u64, PublishError> {
        self.publish(now, EventKind::Resource(usage))
    }
}

/// Publishes a session's codec events.
#[derive(Debug, Clone)]
pub struct CodecEventPublisher {
    stamp: Stamp,
}

impl CodecEventPublisher {
    /// A publisher for `session` on `bus`, stamping `correlation`.
    pub fn new(bus: &EventBus, session: SessionId, correlation: CorrelationId) -> Self {
        Self {
            stamp: Stamp {
                bus: bus.clone(),
                session,
                correlation,
            },
        }
    }

    stamp_accessors!();

    /// The encoder's target bitrate changed (high priority).
    pub fn bitrate_changed(
        &self,
        now: Instant,
        from: Option<u32>,
        to: u32,
    ) -> Result<u64, PublishError> {
        self.publish(
            now,
            EventKind::Codec(CodecEvent::BitrateChanged { from, to }),
        )
    }

    /// In-band FEC switched on or off (high priority).
    pub fn fec_changed(&self, now: Instant, enabled: bool) -> Result<u64, PublishError> {
        self.publish(now, EventKind::Codec(CodecEvent::FecChanged { enabled }))
    }

    /// A codec call failed (high priority).
    pub fn error(
        &self,
        now: Instant,
        codec: &'static str,
        error: CodecError,
    ) -> Result<u64, PublishError> {
        self.publish(
            now,
            EventKind::Codec(CodecEvent::Error {
                codec,
                error: Arc::new(error),
            }),
        )
    }

    /// Codec statistics (low priority, coalesced per session).
    pub fn stats(&self, now: Instant, stats: CodecStats) -> Result<u64, PublishError> {
        self.publish(now, EventKind::Codec(CodecEvent::Stats(stats)))
    }
}

/// Publishes device events. Devices usually belong to the engine rather than to one call:
/// use [`SessionId::ENGINE`] then.
#[derive(Debug, Clone)]
pub struct DeviceEventPublisher {
    stamp: Stamp,
}

impl DeviceEventPublisher {
    /// A publisher for `session` (or [`SessionId::ENGINE`]) on `bus`, stamping `correlation`.
    pub fn new(bus: &EventBus, session: SessionId, correlation: CorrelationId) -> Self {
        Self {
            stamp: Stamp {
                bus: bus.clone(),
                session,
                correlation,
            },
        }
    }

    stamp_accessors!();

    /// A device appeared (high priority).
    pub fn added(&self, now: Instant, device: DeviceInfo) -> Result<u64, PublishError> {
        self.publish(now, EventKind::Device(DeviceEvent::Added(device)))
    }

    /// A device disappeared (high priority).
    pub fn removed(&self, now: Instant, device: DeviceId) -> Result<u64, PublishError> {
        self.publish(now, EventKind::Device(DeviceEvent::Removed { device }))
    }

    /// A device failed (high priority).
    pub fn failed(
        &self,
        now: Instant,
        device: DeviceId,
        reason: impl Into<Arc<str>>,
    ) -> Result<u64, PublishError> {
        self.publish(
            now,
            EventKind::Device(DeviceEvent::Failed {
                device,
                reason: reason.into(),
            }),
        )
    }

    /// The default device of a kind changed (high priority).
    pub fn default_changed(
        &self,
        now: Instant,
        kind: DeviceKind,
        device: DeviceId,
    ) -> Result<u64, PublishError> {
        self.publish(
            now,
            EventKind::Device(DeviceEvent::DefaultChanged { kind, device }),
        )
    }

    /// Device statistics (low priority, coalesced per device).
    pub fn stats(&self, now: Instant, stats: DeviceStats) -> Result<u64, PublishError> {
        self.publish(now, EventKind::Device(DeviceEvent::Stats(stats)))
    }
}
