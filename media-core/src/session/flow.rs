//! What media flows in each session state, and which resources the driver keeps allocated.
//!
//! [`media_flow`] is a pure function of the state, the configured direction and the mute
//! flags; the session calls it for [`super::MediaSession::flow`] and the driver reconciles its
//! transport and codecs against the answer after every state change.
//!
//! Two directions are reported because mute and hold act at different layers:
//!
//! - [`MediaFlow::rtp`] is what moves on the network. Hold and the negotiated direction act
//!   here. Mute does not: a send-muted session keeps sending RTP (silence or comfort noise), so
//!   NAT bindings and the far end's jitter buffer and statistics stay alive; a receive-muted
//!   session keeps accepting packets (statistics, DTMF) but plays nothing.
//! - [`MediaFlow::audio`] is what the user hears and what is taken from the microphone: the RTP
//!   direction less the mute flags.
//!
//! Resources follow the state, not the mute flags (muting is instant and changes nothing
//! that costs time to rebuild):
//!
//! | state                  | transport | encoder                   | decoder                      |
//! |------------------------|-----------|---------------------------|------------------------------|
//! | Idle, Stopped, Failed  | no        | no                        | no                           |
//! | Starting, Active       | yes       | if the direction sends    | if the direction receives    |
//! | Paused                 | yes       | as Active (resume is instant) | as Active                |
//! | OnHold(SendOnly)       | yes       | if the direction sends    | no: dropped while on hold    |
//! | OnHold(RecvOnly)       | yes       | no: dropped while on hold | if the direction receives    |
//! | OnHold(Inactive)       | yes       | no                        | no                           |
//! | Stopping               | yes (RTCP BYE, flush) | no            | no                           |
//!
//! The transport stays up on hold so the port and RTCP survive; codecs are cheap to rebuild
//! on unhold, and a held call may last minutes.

use super::config::MediaDirection;
use super::media_session::{HoldMode, SessionState};

/// Which ways media moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FlowDirection {
    /// Media goes out to the remote party.
    pub send: bool,
    /// Media from the remote party is taken in.
    pub receive: bool,
}

impl FlowDirection {
    /// Nothing moves.
    pub const NONE: Self = Self {
        send: false,
        receive: false,
    };
    /// Both ways.
    pub const BOTH: Self = Self {
        send: true,
        receive: true,
    };
    /// Sending only.
    pub const SEND: Self = Self {
        send: true,
        receive: false,
    };
    /// Receiving only.
    pub const RECEIVE: Self = Self {
        send: false,
        receive: true,
    };

    /// Both directions of `self` that are also in `other`.
    pub const fn and(self, other: Self) -> Self {
        Self {
            send: self.send && other.send,
            receive: self.receive && other.receive,
        }
    }

    /// Whether anything moves.
    pub const fn any(self) -> bool {
        self.send || self.receive
    }
}

impl From<MediaDirection> for FlowDirection {
    fn from(d: MediaDirection) -> Self {
        match d {
            MediaDirection::SendRecv => Self::BOTH,
            MediaDirection::SendOnly => Self::SEND,
            MediaDirection::RecvOnly => Self::RECEIVE,
            MediaDirection::Inactive => Self::NONE,
        }
    }
}

impl From<HoldMode> for FlowDirection {
    fn from(m: HoldMode) -> Self {
        match m {
            HoldMode::SendOnly => Self::SEND,
            HoldMode::RecvOnly => Self::RECEIVE,
            HoldMode::Inactive => Self::NONE,
        }
    }
}

/// The two mute flags. Orthogonal to the session state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MuteState {
    /// The microphone is muted: silence goes out instead of captured audio.
    pub send: bool,
    /// Playout is muted: received audio is decoded for statistics but not played.
    pub receive: bool,
}

/// Which mute flag a mute or unmute call acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MuteSide {
    /// The send side (microphone).
    Send,
    /// The receive side (playout).
    Receive,
    /// Both.
    Both,
}

impl MuteState {
    /// These flags with `side` set to `muted`.
    pub const fn with(self, side: MuteSide, muted: bool) -> Self {
        match side {
            MuteSide::Send => Self {
                send: muted,
                receive: self.receive,
            },
            MuteSide::Receive => Self {
                send: self.send,
                receive: muted,
            },
            MuteSide::Both => Self {
                send: muted,
                receive: muted,
            },
        }
    }
}

/// What the driver should have allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Resources {
    /// The RTP/RTCP transport (socket, SRTP context, RTP session).
    pub transport: bool,
    /// The encoder (and the capture/processing chain that feeds it).
    pub encoder: bool,
    /// The decoder (and the jitter buffer and playout that follow it).
    pub decoder: bool,
}

impl Resources {
    /// Nothing allocated.
    pub const NONE: Self = Self {
        transport: false,
        encoder: false,
        decoder: false,
    };
}

/// What flows, and what is kept, in one situation. See the module docs for the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MediaFlow {
    /// RTP on the network: hold and the configured direction applied, mute not.
    pub rtp: FlowDirection,
    /// Audio to and from the user: [`Self::rtp`] less the mute flags.
    pub audio: FlowDirection,
    /// What the driver keeps allocated.
    pub resources: Resources,
}

/// What flows and what is kept in `state`, for a session configured with `direction`, with
/// the `mute` flags set.
pub fn media_flow(state: SessionState, direction: MediaDirection, mute: MuteState) -> MediaFlow {
    let configured = FlowDirection::from(direction);
    let by_state = match state {
        SessionState::Active => FlowDirection::BOTH,
        SessionState::OnHold(mode) => FlowDirection::from(mode),
        SessionState::Idle
        | SessionState::Starting
        | SessionState::Paused
        | SessionState::Stopping
        | SessionState::Stopped
        | SessionState::Failed(_) => FlowDirection::NONE,
    };
    let rtp = by_state.and(configured);
    let audio = FlowDirection {
        send: rtp.send && !mute.send,
        receive: rtp.receive && !mute.receive,
    };
    let codecs = |kept: FlowDirection| Resources {
        transport: true,
        encoder: kept.send,
        decoder: kept.receive,
    };
    let resources = match state {
        SessionState::Idle | SessionState::Stopped | SessionState::Failed(_) => Resources::NONE,
        SessionState::Starting | SessionState::Active | SessionState::Paused => codecs(configured),
        SessionState::OnHold(mode) => codecs(configured.and(FlowDirection::from(mode))),
        SessionState::Stopping => codecs(FlowDirection::NONE),
    };
    MediaFlow {
        rtp,
        audio,
        resources,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::FailureReason;

    const UNMUTED: MuteState = MuteState {
        send: false,
        receive: false,
    };

    #[test]
    fn active_sendrecv_flows_both_ways_and_keeps_everything() {
        let f = media_flow(SessionState::Active, MediaDirection::SendRecv, UNMUTED);
        assert_eq!(f.rtp, FlowDirection::BOTH);
        assert_eq!(f.audio, FlowDirection::BOTH);
        assert_eq!(
            f.resources,
            Resources {
                transport: true,
                encoder: true,
                decoder: true
            }
        );
    }

    #[test]
    fn mute_acts_on_audio_not_on_rtp_nor_resources() {
        let muted = UNMUTED.with(MuteSide::Send, true);
        let f = media_flow(SessionState::Active, MediaDirection::SendRecv, muted);
        assert_eq!(f.rtp, FlowDirection::BOTH);
        assert_eq!(f.audio, FlowDirection::RECEIVE);
        assert!(f.resources.encoder);
        let both = UNMUTED.with(MuteSide::Both, true);
        let f = media_flow(SessionState::Active, MediaDirection::SendRecv, both);
        assert_eq!(f.audio, FlowDirection::NONE);
        assert_eq!(f.rtp, FlowDirection::BOTH);
        assert_eq!(both.with(MuteSide::Receive, false), muted);
    }

    #[test]
    fn hold_modes_release_the_idle_codec() {
        let send = media_flow(
            SessionState::OnHold(HoldMode::SendOnly),
            MediaDirection::SendRecv,
            UNMUTED,
        );
        assert_eq!(send.rtp, FlowDirection::SEND);
        assert!(send.resources.transport && send.resources.encoder && !send.resources.decoder);
        let recv = media_flow(
            SessionState::OnHold(HoldMode::RecvOnly),
            MediaDirection::SendRecv,
            UNMUTED,
        );
        assert_eq!(recv.rtp, FlowDirection::RECEIVE);
        assert!(recv.resources.transport && !recv.resources.encoder && recv.resources.decoder);
        let inactive = media_flow(
            SessionState::OnHold(HoldMode::Inactive),
            MediaDirection::SendRecv,
            UNMUTED,
        );
        assert_eq!(inactive.rtp, FlowDirection::NONE);
        assert_eq!(
            inactive.resources,
            Resources {
                transport: true,
                encoder: false,
                decoder: false
            }
        );
    }

    #[test]
    fn configured_direction_limits_flow_and_codecs() {
        let f = media_flow(SessionState::Active, MediaDirection::RecvOnly, UNMUTED);
        assert_eq!(f.rtp, FlowDirection::RECEIVE);
        assert!(!f.resources.encoder && f.resources.decoder);
        // A recvonly recording leg put on sendonly hold has nothing to do but keep the port.
        let f = media_flow(
            SessionState::OnHold(HoldMode::SendOnly),
            MediaDirection::RecvOnly,
            UNMUTED,
        );
        assert_eq!(f.rtp, FlowDirection::NONE);
        assert!(f.resources.transport && !f.resources.encoder && !f.resources.decoder);
    }

    #[test]
    fn paused_keeps_resources_but_moves_nothing() {
        let f = media_flow(SessionState::Paused, MediaDirection::SendRecv, UNMUTED);
        assert_eq!(f.rtp, FlowDirection::NONE);
        assert!(f.resources.encoder && f.resources.decoder);
    }

    #[test]
    fn ending_states_release() {
        let stopping = media_flow(SessionState::Stopping, MediaDirection::SendRecv, UNMUTED);
        assert_eq!(
            stopping.resources,
            Resources {
                transport: true,
                encoder: false,
                decoder: false
            }
        );
        for s in [
            SessionState::Idle,
            SessionState::Stopped,
            SessionState::Failed(FailureReason::Transport),
        ] {
            let f = media_flow(s, MediaDirection::SendRecv, UNMUTED);
            assert_eq!(f.resources, Resources::NONE, "{s}");
            assert!(!f.rtp.any() && !f.audio.any(), "{s}");
        }
    }
}
