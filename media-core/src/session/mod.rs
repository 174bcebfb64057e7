//! Media sessions: the state machine a signalling layer drives, the validated configuration it
//! hands us, what media flows in each state, and the events a session emits.
//!
//! Everything here is sans-IO: a [`MediaSession`] is a plain struct whose methods take the
//! current time as `now` and return a `Result`; what happened is queued as [`SessionEvent`]s
//! that the owner drains with [`MediaSession::poll_event`]. No sockets, no clock reads, no
//! callbacks. A driver (the `MediaTransportAdapter` of a later milestone) owns the session, runs
//! transport and codecs, and reports back with [`MediaSession::on_started`],
//! [`MediaSession::on_stopped`], [`MediaSession::on_failure`] and the `handle_*` methods.
//!
//! # State diagram
//!
//! ```text
//!           Start              Started                Hold(m)
//!  Idle ───────────▶ Starting ─────────▶ Active ───────────────▶ OnHold(m) ⟲ Hold(m'), m' ≠ m
//!                                        │  ▲  ◀───────────────     ▲
//!                                  Pause │  │ Resume    Unhold      │
//!                                        ▼  │                       │
//!                                        Paused ────────────────────┘
//!                                                    Hold(m)
//!
//!  Starting, Active, Paused, OnHold(m) ── Stop ──▶ Stopping ── Stopped ──▶ Stopped (terminal)
//!  Idle ── Stop ──▶ Stopped                          Failed(r) ── Stop ──▶ Stopped
//!  Idle, Starting, Active, Paused, OnHold(m), Stopping ── Fail(r) ──▶ Failed(r)
//!  Active, Paused, OnHold(m) ── Update ──▶ the same state (the configuration is replaced)
//! ```
//!
//! Every other (state, command) pair is rejected by [`transition`] with
//! [`SessionError::InvalidTransition`], which names both. In particular: `Resume` only leaves
//! `Paused` (a hold ends with `Unhold`), `Hold` with the mode already in force is rejected,
//! `Stop` on `Stopping` is rejected (the stop is under way), and nothing leaves `Stopped`.
//! `Failed` releases everything at once, so its `Stop` goes straight to `Stopped`.
//!
//! Mute is not a state: send-side and receive-side mute are flags ([`MuteState`]) that combine
//! with the state in [`media_flow`].
//!
//! # Extension points for the driver
//!
//! - After every `StateChanged` event, call [`MediaSession::flow`] and reconcile: open or keep
//!   the transport, create or drop the encoder and decoder as [`Resources`] says, and gate
//!   sending and playout by the two [`FlowDirection`]s.
//! - [`MediaSession::update`] returns a [`ConfigChange`] saying what to re-apply (new encoder
//!   and decoder on a codec change, new destination on a remote-address change, new SRTP
//!   context on re-keying) while the stream keeps running.
//! - Session events convert into bus events (`Event::from(SessionEvent)`) for publication on
//!   the [`crate::events::EventBus`].

pub mod config;
pub mod events;
pub mod flow;
pub mod media_session;

use std::fmt;

pub use config::{
    CodecConfig, ConfigError, JitterDelay, MediaDirection, MediaSessionConfig,
    MediaSessionConfigBuilder, SessionIdentity, SrtpConfig, SrtpProfile,
};
pub use events::{
    CodecSummary, DtmfDigit, QualityAlert, QualityMetric, SessionEvent, SessionEventKind,
};
pub use flow::{media_flow, FlowDirection, MediaFlow, MuteSide, MuteState, Resources};
pub use media_session::{
    transition, ConfigChange, FailureReason, HoldMode, MediaSession, SessionCommand,
    SessionCounters, SessionError, SessionState,
};

/// Identifies one media session (one call leg) in events and logs. Sessions are numbered by
/// whoever creates them; [`SessionId::ENGINE`] (0) marks events that belong to no session
/// (device hot-plug, engine resource usage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub u64);

impl SessionId {
    /// The engine itself: events not tied to a call.
    pub const ENGINE: Self = Self(0);
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Self::ENGINE {
            f.write_str("engine")
        } else {
            write!(f, "sess-{}", self.0)
        }
    }
}
