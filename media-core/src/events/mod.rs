//! The event bus: typed media events in three priorities, fanned out to subscribers that pull.
//!
//! # Model
//!
//! Publishers ([`MediaEventPublisher`], [`CodecEventPublisher`], [`DeviceEventPublisher`], or
//! [`EventBus::publish`] directly) stamp every [`Event`] with its session id, a correlation id,
//! its [`Category`] and its [`Priority`], so one call's events can be followed through logs.
//! The bus copies each event into the queues of every [`Subscriber`] whose
//! [`SubscriptionFilter`] matches (category, and optionally one session). Subscribers pull:
//! [`Subscriber::poll`], or [`Subscriber::poll_batch`] for frame-rate traffic. Nothing is ever
//! called back: the bus's lock is held only to move events in and out of queues, never while
//! user code runs (pjsip's deadlocks came from callbacks under locks). A thread can block on
//! [`Subscriber::wait`]; an async task can await [`Subscriber::ready`] (std only), or, with the
//! `async` cargo feature, consume an `EventStream` (a `futures_core::Stream`). Wakers are
//! woken after the lock is released. A tokio driver at the edge needs nothing more.
//!
//! # Priorities and what happens under pressure
//!
//! Each subscriber has one bounded queue per priority ([`EventBusConfig`]):
//!
//! | priority | carries | when the subscriber's queue is full |
//! |----------|---------|-------------------------------------|
//! | [`Priority::High`] | state changes, codec changes, DTMF, alerts, device changes | **never dropped**: the publish is refused with [`PublishError::Backpressure`], which hands the event back; no subscriber gets it (all or nothing, so a retry cannot duplicate); counted as `rejected` |
//! | [`Priority::Normal`] | audio levels, voice activity, processing state | the oldest Normal event is dropped; counted as `dropped` |
//! | [`Priority::Low`] | metrics (quality, codec, device, resource) and quality state changes (degraded / recovered) | **coalesced**: every queued event with the same (session, [`MetricKind`]) is removed and the new one appended, so only the newest value of each metric survives, in publication order; counted (per removed event) as `coalesced`. If no queued event shares the key, the oldest Low event is dropped and counted as `dropped` |
//!
//! Why High is bounded with backpressure rather than unbounded: state events come a few per
//! call, so a full High queue (1024 by default) means a consumer has stopped polling; an
//! unbounded queue would hide that and grow without limit, while an error reaches the
//! publisher, who can retry (the event is returned intact) or report the stuck consumer.
//! Either way nothing is lost silently.
//!
//! # Ordering
//!
//! A subscriber receives High before Normal before Low; within a priority, in publication
//! order (coalescing keeps the order of what survives). Every event carries a bus-wide
//! sequence number ([`Event::seq`]) for total order across priorities.
//!
//! # Costs
//!
//! Payloads are `Copy` or hold `Arc`s, so fan-out clones are a copy plus at most a reference
//! count. Queues grow to their high-water mark and are then reused: steady-state publish and
//! poll do not allocate. [`EventBus::metrics`] reports published, enqueued, delivered,
//! coalesced, dropped and rejected counts per priority, with queue high-water marks.

mod bus;
mod event;
mod publisher;
mod queue;

use std::fmt;

#[cfg(feature = "async")]
pub use bus::EventStream;
pub use bus::{
    BusMetrics, EventBus, EventBusConfig, PriorityMetrics, PublishError, Ready, Subscriber,
    SubscriberId,
};
pub use event::{
    CodecEvent, CodecStats, DeviceEvent, DeviceId, DeviceInfo, DeviceKind, DeviceStats, Event,
    EventKind, MediaEvent, MetricKind, ProcessingStage, QualityMetrics, ResourceUsage,
    StreamDirection,
};
pub use publisher::{CodecEventPublisher, DeviceEventPublisher, MediaEventPublisher};

use crate::session::SessionId;

/// Ties together the events one command, input or activity caused, for following them
/// through logs. Unique within a session; pair it with the session id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CorrelationId(pub u64);

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "corr-{}", self.0)
    }
}

/// How an event is treated under pressure. See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// Never dropped.
    High,
    /// Oldest dropped on overflow.
    Normal,
    /// Coalesced on overflow.
    Low,
}

impl Priority {
    /// All three, highest first.
    pub const ALL: [Self; 3] = [Self::High, Self::Normal, Self::Low];

    const fn index(self) -> usize {
        match self {
            Self::High => 0,
            Self::Normal => 1,
            Self::Low => 2,
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::High => "high",
            Self::Normal => "normal",
            Self::Low => "low",
        })
    }
}

/// What an event is about; subscribers filter on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// Media flow: levels, voice activity, processing stages, DTMF, mute, resource usage.
    Media,
    /// Codec changes, errors and statistics.
    Codec,
    /// Audio devices: hot-plug, failures, statistics.
    Device,
    /// Call quality: metrics and alerts.
    Quality,
    /// Session lifecycle: state changes, start, stop, failure, address changes.
    Session,
}

impl Category {
    const fn bit(self) -> u8 {
        match self {
            Self::Media => 1,
            Self::Codec => 2,
            Self::Device => 4,
            Self::Quality => 8,
            Self::Session => 16,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Media => "media",
            Self::Codec => "codec",
            Self::Device => "device",
            Self::Quality => "quality",
            Self::Session => "session",
        })
    }
}

/// A set of categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CategoryFilter(u8);

impl CategoryFilter {
    /// No category.
    pub const NONE: Self = Self(0);
    /// Every category.
    pub const ALL: Self = Self(31);

    /// Just `category`.
    pub const fn only(category: Category) -> Self {
        Self(category.bit())
    }

    /// This set plus `category`.
    pub const fn with(self, category: Category) -> Self {
        Self(self.0 | category.bit())
    }

    /// Whether `category` is in the set.
    pub const fn contains(self, category: Category) -> bool {
        self.0 & category.bit() != 0
    }
}

impl From<Category> for CategoryFilter {
    fn from(c: Category) -> Self {
        Self::only(c)
    }
}

impl<const N: usize> From<[Category; N]> for CategoryFilter {
    fn from(cs: [Category; N]) -> Self {
        cs.into_iter().fold(Self::NONE, Self::with)
    }
}

/// Which events a subscriber receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriptionFilter {
    /// The categories wanted.
    pub categories: CategoryFilter,
    /// Only this session's events, or every session's.
    pub session: Option<SessionId>,
}

impl SubscriptionFilter {
    /// Every event.
    pub const ALL: Self = Self {
        categories: CategoryFilter::ALL,
        session: None,
    };

    /// These categories, for one session only.
    pub fn for_session(categories: impl Into<CategoryFilter>, session: SessionId) -> Self {
        Self {
            categories: categories.into(),
            session: Some(session),
        }
    }

    /// Whether `event` passes.
    pub fn matches(&self, event: &Event) -> bool {
        self.categories.contains(event.category())
            && !matches!(self.session, Some(s) if s != event.session())
    }
}

impl From<CategoryFilter> for SubscriptionFilter {
    fn from(categories: CategoryFilter) -> Self {
        Self {
            categories,
            session: None,
        }
    }
}

impl From<Category> for SubscriptionFilter {
    fn from(category: Category) -> Self {
        CategoryFilter::only(category).into()
    }
}

impl<const N: usize> From<[Category; N]> for SubscriptionFilter {
    fn from(categories: [Category; N]) -> Self {
        CategoryFilter::from(categories).into()
    }
}

#[cfg(test)]
mod tests;
