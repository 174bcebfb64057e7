//! Call quality: the E-model of ITU-T G.107 ([`estimation`]), live media metrics and the
//! quality monitor ([`metrics`]), and the sender's adaptation to network feedback
//! ([`adaptation`]).

pub mod adaptation;
pub mod estimation;
pub mod metrics;

pub use adaptation::{AdaptationConfig, AdaptationDecision, AudioAdaptation};
pub use estimation::{rate, CodecImpairment, EModelParams, Rating};
pub use metrics::{
    MediaMetrics, MetricsSnapshot, MonitorOutput, PacketDelta, QualityChange, QualityMonitor,
    QualityMonitorConfig,
};
