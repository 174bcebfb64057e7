//! The session state machine ([`transition`]) and the sans-IO [`MediaSession`] that runs it.
//! The diagram is in the [module docs of `session`](super).

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use super::config::MediaSessionConfig;
use super::events::{CodecSummary, DtmfDigit, QualityAlert, SessionEvent, SessionEventKind};
use super::flow::{media_flow, MediaFlow, MuteSide, MuteState};
use super::SessionId;
use crate::events::CorrelationId;

/// The local media direction while on hold (what our side of the hold SDP says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HoldMode {
    /// We hold the remote party and send to it (music on hold): `a=sendonly`.
    SendOnly,
    /// The remote party holds us and we still take its media: `a=recvonly`.
    RecvOnly,
    /// Nothing flows either way: `a=inactive`.
    Inactive,
}

impl fmt::Display for HoldMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        })
    }
}

/// Why a session failed. Details belong in the driver's log line; this is what a controller
/// needs to decide what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureReason {
    /// The transport could not be set up or broke (socket error, ICE failure).
    Transport,
    /// SRTP keying or authentication failed.
    Security,
    /// A codec could not be created or failed persistently.
    Codec,
    /// An audio device failed or disappeared.
    Device,
    /// No media arrived for longer than the media timeout.
    MediaTimeout,
    /// A bug or an unexpected internal condition.
    Internal,
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Transport => "transport failure",
            Self::Security => "security failure",
            Self::Codec => "codec failure",
            Self::Device => "device failure",
            Self::MediaTimeout => "media timeout",
            Self::Internal => "internal error",
        })
    }
}

/// The state of a media session. See the diagram in the [module docs](super).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// Created and configured; nothing allocated yet.
    Idle,
    /// Start was asked for; the driver is bringing the transport and codecs up.
    Starting,
    /// Media flows as configured.
    Active,
    /// Media is suspended locally; resources are kept so that resume is instant.
    Paused,
    /// On hold, flowing only as the hold mode says.
    OnHold(HoldMode),
    /// Stop was asked for; the driver is tearing down.
    Stopping,
    /// Done. Terminal: no command leaves it.
    Stopped,
    /// Failed; everything is released. `Stop` acknowledges it and ends the session.
    Failed(FailureReason),
}

impl SessionState {
    /// Whether no command can leave this state (only [`Self::Stopped`]).
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Stopped)
    }

    /// Whether the session is over or broken ([`Self::Stopped`] or [`Self::Failed`]): media
    /// inputs such as mute, DTMF and quality reports are refused.
    pub const fn is_ended(self) -> bool {
        matches!(self, Self::Stopped | Self::Failed(_))
    }

    /// Whether the session is established: active, paused or on hold. Only these accept a
    /// configuration update.
    pub const fn is_established(self) -> bool {
        matches!(self, Self::Active | Self::Paused | Self::OnHold(_))
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Idle => f.write_str("idle"),
            Self::Starting => f.write_str("starting"),
            Self::Active => f.write_str("active"),
            Self::Paused => f.write_str("paused"),
            Self::OnHold(m) => write!(f, "on hold ({m})"),
            Self::Stopping => f.write_str("stopping"),
            Self::Stopped => f.write_str("stopped"),
            Self::Failed(r) => write!(f, "failed ({r})"),
        }
    }
}

/// What can be asked of a session: by the controller (start, stop, pause, resume, hold,
/// unhold, update) or by the driver (started, stopped, fail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionCommand {
    /// Begin bringing media up.
    Start,
    /// The driver reports the transport is up.
    Started,
    /// Begin tearing media down (or end a failed or never-started session).
    Stop,
    /// The driver reports teardown is complete.
    Stopped,
    /// Suspend media locally, keeping resources.
    Pause,
    /// Leave [`SessionState::Paused`].
    Resume,
    /// Go on hold (or change the hold mode).
    Hold(HoldMode),
    /// Leave hold.
    Unhold,
    /// The driver reports a failure.
    Fail(FailureReason),
    /// Mid-call renegotiation (new codec or remote address); the state is unchanged.
    Update,
}

impl SessionCommand {
    /// One of each command, for listing what a state allows.
    const EACH: [Self; 12] = [
        Self::Start,
        Self::Started,
        Self::Stop,
        Self::Stopped,
        Self::Pause,
        Self::Resume,
        Self::Hold(HoldMode::SendOnly),
        Self::Hold(HoldMode::RecvOnly),
        Self::Hold(HoldMode::Inactive),
        Self::Unhold,
        Self::Fail(FailureReason::Internal),
        Self::Update,
    ];
}

impl fmt::Display for SessionCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Start => f.write_str("start"),
            Self::Started => f.write_str("started"),
            Self::Stop => f.write_str("stop"),
            Self::Stopped => f.write_str("stopped"),
            Self::Pause => f.write_str("pause"),
            Self::Resume => f.write_str("resume"),
            Self::Hold(m) => write!(f, "hold ({m})"),
            Self::Unhold => f.write_str("unhold"),
            Self::Fail(r) => write!(f, "fail ({r})"),
            Self::Update => f.write_str("update"),
        }
    }
}

/// The next state after `command` in `state`, or [`SessionError::InvalidTransition`] when the
/// diagram has no such edge. Pure: the table of the [module docs](super), and nothing else.
pub fn transition(
    state: SessionState,
    command: SessionCommand,
) -> Result<SessionState, SessionError> {
    use SessionCommand as C;
    use SessionState as S;
    let next = match (state, command) {
        (S::Idle, C::Start) => S::Starting,
        (S::Idle, C::Stop) => S::Stopped,
        (S::Starting, C::Started) => S::Active,
        (S::Active, C::Pause) => S::Paused,
        (S::Paused, C::Resume) => S::Active,
        (S::Active | S::Paused, C::Hold(mode)) => S::OnHold(mode),
        (S::OnHold(current), C::Hold(mode)) if current != mode => S::OnHold(mode),
        (S::OnHold(_), C::Unhold) => S::Active,
        (s @ (S::Active | S::Paused | S::OnHold(_)), C::Update) => s,
        (S::Starting | S::Active | S::Paused | S::OnHold(_), C::Stop) => S::Stopping,
        (S::Stopping, C::Stopped) => S::Stopped,
        (S::Failed(_), C::Stop) => S::Stopped,
        (
            S::Idle | S::Starting | S::Active | S::Paused | S::OnHold(_) | S::Stopping,
            C::Fail(reason),
        ) => S::Failed(reason),
        (from, command) => return Err(SessionError::InvalidTransition { from, command }),
    };
    Ok(next)
}

/// An error from a session. The session is unchanged by any call that returns one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// The state diagram has no edge for this command in this state.
    InvalidTransition {
        /// The state the session was (and still is) in.
        from: SessionState,
        /// What was asked.
        command: SessionCommand,
    },
    /// The session has stopped or failed; mute, DTMF and quality inputs are refused.
    Ended {
        /// The state the session is in.
        state: SessionState,
    },
    /// A DTMF event arrived while the session takes in no media (paused, on sendonly or
    /// inactive hold, configured sendonly): the driver should not have passed it on.
    NotReceiving {
        /// The state the session is in.
        state: SessionState,
    },
    /// An update tried to change something that needs a new session (the call-id or the
    /// local address).
    ImmutableChange {
        /// What it tried to change.
        field: &'static str,
    },
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidTransition { from, command } => {
                write!(f, "cannot {command} a session that is {from}")?;
                let allowed: Vec<String> = SessionCommand::EACH
                    .iter()
                    .filter(|c| transition(*from, **c).is_ok())
                    .map(ToString::to_string)
                    .collect();
                if allowed.is_empty() {
                    f.write_str(" (it is terminal)")
                } else {
                    write!(f, " (allowed: {})", allowed.join(", "))
                }
            }
            Self::Ended { state } => write!(f, "session is {state}"),
            Self::NotReceiving { state } => {
                write!(f, "session takes in no media while {state}")
            }
            Self::ImmutableChange { field } => {
                write!(
                    f,
                    "an update cannot change the {field}; create a new session"
                )
            }
        }
    }
}

impl std::error::Error for SessionError {}

/// Counts kept by a session, for statistics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionCounters {
    /// Commands accepted (including mute changes and updates).
    pub commands_accepted: u64,
    /// Commands and inputs rejected with an error.
    pub commands_rejected: u64,
    /// State changes.
    pub state_changes: u64,
    /// Configuration updates applied.
    pub updates: u64,
    /// Updates that changed the codec.
    pub codec_changes: u64,
    /// Updates that changed the remote address.
    pub remote_address_changes: u64,
    /// Mute flag changes.
    pub mute_changes: u64,
    /// DTMF digits received.
    pub dtmf_digits: u64,
    /// Quality alerts raised.
    pub quality_alerts: u64,
    /// Events queued for [`MediaSession::poll_event`].
    pub events: u64,
}

/// What an update changed, so the driver re-applies just that. Returned by
/// [`MediaSession::update`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigChange {
    /// The correlation id of the update and of the events it emitted.
    pub correlation: CorrelationId,
    /// Codec, codec parameters or payload type: make a new encoder and decoder.
    pub codec: bool,
    /// Remote address: send to the new destination (and expect packets from it).
    pub remote_address: bool,
    /// The configured media direction.
    pub direction: bool,
    /// SRTP keying material or profile: new SRTP contexts.
    pub srtp: bool,
    /// The DTMF payload type.
    pub dtmf: bool,
    /// Jitter buffer delays.
    pub jitter: bool,
    /// Participant URIs or display names (for logs and recordings only).
    pub identity: bool,
}

impl ConfigChange {
    /// Whether the update changed anything at all.
    pub const fn any(&self) -> bool {
        self.codec
            || self.remote_address
            || self.direction
            || self.srtp
            || self.dtmf
            || self.jitter
            || self.identity
    }
}

/// One media session (one call leg), sans-IO.
///
/// Every method takes `now` and returns a `Result`; an `Err` leaves the session unchanged.
/// Accepted commands return the [`CorrelationId`] that the events they caused carry, so the
/// caller can log it beside its own transaction. Events are drained with
/// [`Self::poll_event`]; they are never dropped (each call queues at most three).
#[derive(Debug)]
pub struct MediaSession {
    id: SessionId,
    state: SessionState,
    config: MediaSessionConfig,
    mute: MuteState,
    counters: SessionCounters,
    events: VecDeque<SessionEvent>,
    next_correlation: u64,
    state_since: Instant,
    active_time: Duration,
}

impl MediaSession {
    /// A new session in [`SessionState::Idle`] with a validated configuration.
    pub fn new(id: SessionId, config: MediaSessionConfig, now: Instant) -> Self {
        Self {
            id,
            state: SessionState::Idle,
            config,
            mute: MuteState::default(),
            counters: SessionCounters::default(),
            events: VecDeque::new(),
            next_correlation: 1,
            state_since: now,
            active_time: Duration::ZERO,
        }
    }

    /// The session's id.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// The current state.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// When the current state was entered (the `now` of the command that entered it).
    pub fn state_since(&self) -> Instant {
        self.state_since
    }

    /// The configuration in force.
    pub fn config(&self) -> &MediaSessionConfig {
        &self.config
    }

    /// The mute flags.
    pub fn mute_state(&self) -> MuteState {
        self.mute
    }

    /// The counters.
    pub fn counters(&self) -> &SessionCounters {
        &self.counters
    }

    /// What flows and what the driver should keep allocated now.
    pub fn flow(&self) -> MediaFlow {
        media_flow(self.state, self.config.direction(), self.mute)
    }

    /// Total time spent in [`SessionState::Active`] up to `now`.
    pub fn active_time(&self, now: Instant) -> Duration {
        if self.state == SessionState::Active {
            self.active_time + now.saturating_duration_since(self.state_since)
        } else {
            self.active_time
        }
    }

    /// The next queued event, oldest first.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// How many events are queued.
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    /// Idle -> Starting. The driver then brings the transport up and calls
    /// [`Self::on_started`].
    pub fn start(&mut self, now: Instant) -> Result<CorrelationId, SessionError> {
        self.apply(SessionCommand::Start, now)
    }

    /// The driver reports the transport is up: Starting -> Active, emitting `Started`.
    pub fn on_started(&mut self, now: Instant) -> Result<CorrelationId, SessionError> {
        self.apply(SessionCommand::Started, now)
    }

    /// Starting, Active, Paused or OnHold -> Stopping (the driver tears down and calls
    /// [`Self::on_stopped`]); Idle or Failed -> Stopped at once.
    pub fn stop(&mut self, now: Instant) -> Result<CorrelationId, SessionError> {
        self.apply(SessionCommand::Stop, now)
    }

    /// The driver reports teardown is complete: Stopping -> Stopped, emitting `Stopped`.
    pub fn on_stopped(&mut self, now: Instant) -> Result<CorrelationId, SessionError> {
        self.apply(SessionCommand::Stopped, now)
    }

    /// The driver reports a failure: -> Failed, emitting `Failed`.
    pub fn on_failure(
        &mut self,
        reason: FailureReason,
        now: Instant,
    ) -> Result<CorrelationId, SessionError> {
        self.apply(SessionCommand::Fail(reason), now)
    }

    /// Active -> Paused.
    pub fn pause(&mut self, now: Instant) -> Result<CorrelationId, SessionError> {
        self.apply(SessionCommand::Pause, now)
    }

    /// Paused -> Active.
    pub fn resume(&mut self, now: Instant) -> Result<CorrelationId, SessionError> {
        self.apply(SessionCommand::Resume, now)
    }

    /// Active or Paused -> OnHold(mode); OnHold(other mode) -> OnHold(mode).
    pub fn hold(&mut self, mode: HoldMode, now: Instant) -> Result<CorrelationId, SessionError> {
        self.apply(SessionCommand::Hold(mode), now)
    }

    /// OnHold -> Active.
    pub fn unhold(&mut self, now: Instant) -> Result<CorrelationId, SessionError> {
        self.apply(SessionCommand::Unhold, now)
    }

    /// Mutes `side`. Allowed in every state but Stopped and Failed (a session may start
    /// muted). Emits `MuteChanged` when a flag actually changes; muting what is muted is a
    /// no-op that still succeeds.
    pub fn mute(&mut self, side: MuteSide, now: Instant) -> Result<CorrelationId, SessionError> {
        self.set_mute(side, true, now)
    }

    /// Unmutes `side`. As [`Self::mute`].
    pub fn unmute(&mut self, side: MuteSide, now: Instant) -> Result<CorrelationId, SessionError> {
        self.set_mute(side, false, now)
    }

    /// Applies a renegotiated configuration (a new SDP answer) while the stream keeps running:
    /// allowed in Active, Paused and OnHold, and the state does not change. Emits
    /// `CodecChanged` and `RemoteAddressChanged` where those changed, and returns what
    /// changed so the driver re-applies only that. The call-id and local address cannot
    /// change ([`SessionError::ImmutableChange`]).
    pub fn update(
        &mut self,
        config: MediaSessionConfig,
        now: Instant,
    ) -> Result<ConfigChange, SessionError> {
        let checked = transition(self.state, SessionCommand::Update).and_then(|_| {
            if config.identity().call_id() != self.config.identity().call_id() {
                Err(SessionError::ImmutableChange { field: "call-id" })
            } else if config.local() != self.config.local() {
                Err(SessionError::ImmutableChange {
                    field: "local address",
                })
            } else {
                Ok(())
            }
        });
        if let Err(e) = checked {
            self.counters.commands_rejected += 1;
            return Err(e);
        }
        let correlation = self.next_correlation();
        let old = &self.config;
        let change = ConfigChange {
            correlation,
            codec: old.codec() != config.codec(),
            remote_address: old.remote() != config.remote(),
            direction: old.direction() != config.direction(),
            srtp: old.srtp() != config.srtp(),
            dtmf: old.dtmf_payload_type() != config.dtmf_payload_type(),
            jitter: old.jitter() != config.jitter(),
            identity: old.identity() != config.identity(),
        };
        let codec_from = CodecSummary::from(old.codec());
        if change.codec {
            let kind = SessionEventKind::CodecChanged {
                from: codec_from,
                to: CodecSummary::from(config.codec()),
            };
            self.counters.codec_changes += 1;
            self.emit(correlation, now, kind);
        }
        if change.remote_address {
            let kind = SessionEventKind::RemoteAddressChanged {
                from: self.config.remote(),
                to: config.remote(),
            };
            self.counters.remote_address_changes += 1;
            self.emit(correlation, now, kind);
        }
        self.config = config;
        self.counters.updates += 1;
        self.counters.commands_accepted += 1;
        Ok(change)
    }

    /// The driver detected a DTMF digit (RFC 4733 event or in-band) lasting `duration`.
    /// Accepted while RTP is received (mute does not matter); emits `DtmfReceived`.
    pub fn handle_dtmf(
        &mut self,
        digit: DtmfDigit,
        duration: Duration,
        now: Instant,
    ) -> Result<CorrelationId, SessionError> {
        if self.state.is_ended() {
            return self.reject(SessionError::Ended { state: self.state });
        }
        if !self.flow().rtp.receive {
            return self.reject(SessionError::NotReceiving { state: self.state });
        }
        let c = self.next_correlation();
        self.counters.dtmf_digits += 1;
        self.emit(c, now, SessionEventKind::DtmfReceived { digit, duration });
        Ok(c)
    }

    /// The quality monitor crossed a threshold; emits `QualityAlert`. Refused once the
    /// session has stopped or failed.
    pub fn handle_quality_alert(
        &mut self,
        alert: QualityAlert,
        now: Instant,
    ) -> Result<CorrelationId, SessionError> {
        if self.state.is_ended() {
            return self.reject(SessionError::Ended { state: self.state });
        }
        let c = self.next_correlation();
        self.counters.quality_alerts += 1;
        self.emit(c, now, SessionEventKind::QualityAlert(alert));
        Ok(c)
    }

    fn set_mute(
        &mut self,
        side: MuteSide,
        muted: bool,
        now: Instant,
    ) -> Result<CorrelationId, SessionError> {
        if self.state.is_ended() {
            return self.reject(SessionError::Ended { state: self.state });
        }
        let c = self.next_correlation();
        self.counters.commands_accepted += 1;
        let new = self.mute.with(side, muted);
        if new != self.mute {
            self.mute = new;
            self.counters.mute_changes += 1;
            self.emit(c, now, SessionEventKind::MuteChanged { mute: new });
        }
        Ok(c)
    }

    fn apply(
        &mut self,
        command: SessionCommand,
        now: Instant,
    ) -> Result<CorrelationId, SessionError> {
        let from = self.state;
        let to = match transition(from, command) {
            Ok(to) => to,
            Err(e) => return self.reject(e),
        };
        let c = self.next_correlation();
        self.counters.commands_accepted += 1;
        if to != from {
            if from == SessionState::Active {
                self.active_time += now.saturating_duration_since(self.state_since);
            }
            self.state = to;
            self.state_since = now;
            self.counters.state_changes += 1;
            self.emit(c, now, SessionEventKind::StateChanged { from, to });
            match to {
                SessionState::Active if from == SessionState::Starting => {
                    self.emit(c, now, SessionEventKind::Started);
                }
                SessionState::Stopped => self.emit(c, now, SessionEventKind::Stopped),
                SessionState::Failed(reason) => {
                    self.emit(c, now, SessionEventKind::Failed { reason });
                }
                _ => {}
            }
        }
        Ok(c)
    }

    fn reject<T>(&mut self, e: SessionError) -> Result<T, SessionError> {
        self.counters.commands_rejected += 1;
        Err(e)
    }

    fn next_correlation(&mut self) -> CorrelationId {
        let c = CorrelationId(self.next_correlation);
        self.next_correlation = self.next_correlation.wrapping_add(1);
        c
    }

    fn emit(&mut self, correlation: CorrelationId, at: Instant, kind: SessionEventKind) {
        self.counters.events += 1;
        self.events.push_back(SessionEvent {
            session: self.id,
            correlation,
            at,
            kind,
        });
    }
}

#[cfg(test)]
mod tests;
