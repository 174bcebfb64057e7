use super::*;
use crate::codec::CodecRegistry;
use crate::session::{MediaDirection, Resources};
use proptest::prelude::*;

const STATES: [SessionState; 10] = [
    SessionState::Idle,
    SessionState::Starting,
    SessionState::Active,
    SessionState::Paused,
    SessionState::OnHold(HoldMode::SendOnly),
    SessionState::OnHold(HoldMode::RecvOnly),
    SessionState::OnHold(HoldMode::Inactive),
    SessionState::Stopping,
    SessionState::Stopped,
    SessionState::Failed(FailureReason::Transport),
];

const COMMANDS: [SessionCommand; 12] = [
    SessionCommand::Start,
    SessionCommand::Started,
    SessionCommand::Stop,
    SessionCommand::Stopped,
    SessionCommand::Pause,
    SessionCommand::Resume,
    SessionCommand::Hold(HoldMode::SendOnly),
    SessionCommand::Hold(HoldMode::RecvOnly),
    SessionCommand::Hold(HoldMode::Inactive),
    SessionCommand::Unhold,
    SessionCommand::Fail(FailureReason::MediaTimeout),
    SessionCommand::Update,
];

/// The diagram of the module docs, written out: one row per state of `STATES`, one
/// column per command of `COMMANDS`; `-` is an invalid move.
const TABLE: [&str; 10] = [
    // Start Started Stop Stopped Pause Resume HoldS HoldR HoldI Unhold Fail Update
    "Idle:     Strt - Stpd - - - - - - - Fail -",
    "Starting: - Actv Stpg - - - - - - - Fail -",
    "Active:   - - Stpg - Paus - HldS HldR HldI - Fail Actv",
    "Paused:   - - Stpg - - Actv HldS HldR HldI - Fail Paus",
    "HoldS:    - - Stpg - - - - HldR HldI Actv Fail HldS",
    "HoldR:    - - Stpg - - - HldS - HldI Actv Fail HldR",
    "HoldI:    - - Stpg - - - HldS HldR - Actv Fail HldI",
    "Stopping: - - - Stpd - - - - - - Fail -",
    "Stopped:  - - - - - - - - - - - -",
    "Failed:   - - Stpd - - - - - - - - -",
];

fn code(s: &str) -> Option<SessionState> {
    Some(match s {
        "-" => return None,
        "Strt" => SessionState::Starting,
        "Actv" => SessionState::Active,
        "Paus" => SessionState::Paused,
        "HldS" => SessionState::OnHold(HoldMode::SendOnly),
        "HldR" => SessionState::OnHold(HoldMode::RecvOnly),
        "HldI" => SessionState::OnHold(HoldMode::Inactive),
        "Stpg" => SessionState::Stopping,
        "Stpd" => SessionState::Stopped,
        "Fail" => SessionState::Failed(FailureReason::MediaTimeout),
        other => panic!("bad table code {other}"),
    })
}

/// The documented next state, from the table (the oracle for the other tests).
fn documented(state: SessionState, command: SessionCommand) -> Option<SessionState> {
    let row = STATES.iter().position(|s| *s == state).map(|i| TABLE[i]);
    let col = COMMANDS.iter().position(|c| *c == command);
    match (row, col, command) {
        (Some(row), Some(col), _) => {
            let cell = row.split_whitespace().nth(col + 1).expect("table width");
            code(cell).map(|s| match (s, command) {
                (SessionState::Failed(_), SessionCommand::Fail(r)) => SessionState::Failed(r),
                _ => s,
            })
        }
        // Other failure reasons behave as the one in the table.
        (_, None, SessionCommand::Fail(r)) => {
            documented(state, SessionCommand::Fail(FailureReason::MediaTimeout))
                .map(|_| SessionState::Failed(r))
        }
        (None, _, _) => match state {
            SessionState::Failed(_) => {
                documented(SessionState::Failed(FailureReason::Transport), command)
            }
            _ => panic!("state {state:?} not in the table"),
        },
        _ => panic!("command {command:?} not in the table"),
    }
}

#[test]
fn every_state_command_pair_follows_the_diagram() {
    let mut valid = 0;
    for state in STATES {
        for command in COMMANDS {
            match (transition(state, command), documented(state, command)) {
                (Ok(next), Some(expected)) => {
                    assert_eq!(next, expected, "{state:?} + {command:?}");
                    valid += 1;
                }
                (Err(SessionError::InvalidTransition { from, command: c }), None) => {
                    assert_eq!((from, c), (state, command));
                }
                (got, expected) => {
                    panic!("{state:?} + {command:?}: got {got:?}, documented {expected:?}")
                }
            }
        }
    }
    assert_eq!(valid, 41, "edges in the table");
}

#[test]
fn errors_name_state_command_and_the_way_out() {
    let e = transition(SessionState::Active, SessionCommand::Resume).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("cannot resume a session that is active"),
        "{msg}"
    );
    assert!(
        msg.contains("pause") && msg.contains("hold (sendonly)"),
        "{msg}"
    );
    let e = transition(
        SessionState::Stopped,
        SessionCommand::Hold(HoldMode::Inactive),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot hold (inactive) a session that is stopped (it is terminal)"
    );
    let e = transition(
        SessionState::OnHold(HoldMode::SendOnly),
        SessionCommand::Resume,
    );
    assert!(e.unwrap_err().to_string().contains("unhold"));
}

fn config() -> MediaSessionConfig {
    MediaSessionConfig::narrowband_call(
        "127.0.0.1:4000".parse().unwrap(),
        "127.0.0.1:5000".parse().unwrap(),
    )
    .call_id("call-1")
    .local_uri("sip:a@example.com")
    .remote_uri("sip:b@example.com")
    .build(&CodecRegistry::with_builtin())
    .unwrap()
}

fn drain(s: &mut MediaSession) -> Vec<SessionEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn kinds(events: &[SessionEvent]) -> Vec<SessionEventKind> {
    events.iter().map(|e| e.kind.clone()).collect()
}

#[test]
fn lifecycle_emits_state_changes_and_milestones() {
    let t0 = Instant::now();
    let mut s = MediaSession::new(SessionId(7), config(), t0);
    let c1 = s.start(t0).unwrap();
    let c2 = s.on_started(t0 + Duration::from_millis(30)).unwrap();
    assert_ne!(c1, c2);
    let ev = drain(&mut s);
    assert_eq!(
        kinds(&ev),
        vec![
            SessionEventKind::StateChanged {
                from: SessionState::Idle,
                to: SessionState::Starting
            },
            SessionEventKind::StateChanged {
                from: SessionState::Starting,
                to: SessionState::Active
            },
            SessionEventKind::Started,
        ]
    );
    assert!(ev.iter().all(|e| e.session == SessionId(7)));
    assert_eq!(
        ev.iter().map(|e| e.correlation).collect::<Vec<_>>(),
        [c1, c2, c2]
    );
    assert_eq!(ev[2].at, t0 + Duration::from_millis(30));

    s.stop(t0 + Duration::from_secs(60)).unwrap();
    s.on_stopped(t0 + Duration::from_secs(61)).unwrap();
    let ev = drain(&mut s);
    assert_eq!(ev.last().map(|e| &e.kind), Some(&SessionEventKind::Stopped));
    assert_eq!(s.state(), SessionState::Stopped);
    assert_eq!(
        s.active_time(t0 + Duration::from_secs(99)),
        Duration::from_millis(59_970)
    );
    assert_eq!(s.flow().resources, Resources::NONE);
    assert_eq!(s.counters().state_changes, 4);
}

#[test]
fn rejected_commands_change_nothing_and_are_counted() {
    let t0 = Instant::now();
    let mut s = MediaSession::new(SessionId(1), config(), t0);
    assert!(matches!(
        s.resume(t0),
        Err(SessionError::InvalidTransition {
            from: SessionState::Idle,
            command: SessionCommand::Resume
        })
    ));
    assert!(s.update(config(), t0).is_err());
    assert_eq!(s.state(), SessionState::Idle);
    assert_eq!(s.pending_events(), 0);
    assert_eq!(s.counters().commands_rejected, 2);
    assert_eq!(s.counters().commands_accepted, 0);
}

fn active() -> (MediaSession, Instant) {
    let t0 = Instant::now();
    let mut s = MediaSession::new(SessionId(3), config(), t0);
    s.start(t0).unwrap();
    s.on_started(t0).unwrap();
    drain(&mut s);
    (s, t0)
}

#[test]
fn update_switches_codec_and_remote_without_dropping_the_stream() {
    let (mut s, t0) = active();
    let new = s
        .config()
        .to_builder()
        .codec("pcma")
        .ptime(30)
        .remote("127.0.0.1:6000".parse().unwrap())
        .build(&CodecRegistry::with_builtin())
        .unwrap();
    let change = s.update(new, t0).unwrap();
    assert!(change.codec && change.remote_address && !change.srtp && !change.direction);
    assert_eq!(s.state(), SessionState::Active);
    let ev = drain(&mut s);
    assert_eq!(ev.len(), 2, "{ev:?}");
    match &ev[0].kind {
        SessionEventKind::CodecChanged { from, to } => {
            assert_eq!(
                (from.name, from.payload_type.0, from.ptime_ms),
                ("pcmu", 0, 20)
            );
            assert_eq!((to.name, to.payload_type.0, to.ptime_ms), ("pcma", 8, 30));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        ev[1].kind,
        SessionEventKind::RemoteAddressChanged {
            from: Some("127.0.0.1:5000".parse().unwrap()),
            to: Some("127.0.0.1:6000".parse().unwrap()),
        }
    );
    assert!(ev.iter().all(|e| e.correlation == change.correlation));
    assert_eq!(s.config().codec().descriptor().name, "pcma");
    // The same configuration again changes nothing and says so.
    let same = s.config().clone();
    let change = s.update(same, t0).unwrap();
    assert!(!change.any());
    assert_eq!(s.pending_events(), 0);
}

#[test]
fn update_keeps_hold_and_refuses_identity_changes() {
    let (mut s, t0) = active();
    s.hold(HoldMode::SendOnly, t0).unwrap();
    let reg = CodecRegistry::with_builtin();
    let recv_only = s
        .config()
        .to_builder()
        .direction(MediaDirection::RecvOnly)
        .build(&reg)
        .unwrap();
    assert!(s.update(recv_only, t0).unwrap().direction);
    assert_eq!(s.state(), SessionState::OnHold(HoldMode::SendOnly));
    let other_call = s
        .config()
        .to_builder()
        .call_id("call-2")
        .build(&reg)
        .unwrap();
    assert_eq!(
        s.update(other_call, t0),
        Err(SessionError::ImmutableChange { field: "call-id" })
    );
    let other_port = s
        .config()
        .to_builder()
        .local("127.0.0.1:4002".parse().unwrap())
        .build(&reg)
        .unwrap();
    assert_eq!(
        s.update(other_port, t0).unwrap_err().to_string(),
        "an update cannot change the local address; create a new session"
    );
}

#[test]
fn mute_is_a_flag_with_one_event_per_change() {
    let (mut s, t0) = active();
    s.mute(MuteSide::Send, t0).unwrap();
    s.mute(MuteSide::Send, t0).unwrap();
    assert_eq!(s.pending_events(), 1);
    assert_eq!(s.state(), SessionState::Active);
    assert!(s.flow().rtp.send && !s.flow().audio.send);
    s.hold(HoldMode::Inactive, t0).unwrap();
    assert!(s.mute_state().send, "mute survives hold");
    s.unhold(t0).unwrap();
    s.unmute(MuteSide::Both, t0).unwrap();
    assert!(s.flow().audio.send);
    let ev = drain(&mut s);
    assert_eq!(
        ev.last().map(|e| &e.kind),
        Some(&SessionEventKind::MuteChanged {
            mute: MuteState::default()
        })
    );
    s.stop(t0).unwrap();
    s.on_stopped(t0).unwrap();
    assert!(matches!(
        s.mute(MuteSide::Send, t0),
        Err(SessionError::Ended { .. })
    ));
}

#[test]
fn a_session_may_start_muted() {
    let t0 = Instant::now();
    let mut s = MediaSession::new(SessionId(1), config(), t0);
    s.mute(MuteSide::Receive, t0).unwrap();
    s.start(t0).unwrap();
    s.on_started(t0).unwrap();
    assert!(s.flow().rtp.receive && !s.flow().audio.receive);
}

#[test]
fn dtmf_needs_received_media() {
    let (mut s, t0) = active();
    let digit = DtmfDigit::from_char('5').unwrap();
    let c = s
        .handle_dtmf(digit, Duration::from_millis(120), t0)
        .unwrap();
    let ev = drain(&mut s);
    assert_eq!(ev[0].correlation, c);
    assert_eq!(
        ev[0].kind,
        SessionEventKind::DtmfReceived {
            digit,
            duration: Duration::from_millis(120)
        }
    );
    s.pause(t0).unwrap();
    assert_eq!(
        s.handle_dtmf(digit, Duration::ZERO, t0),
        Err(SessionError::NotReceiving {
            state: SessionState::Paused
        })
    );
    s.hold(HoldMode::RecvOnly, t0).unwrap();
    assert!(s.handle_dtmf(digit, Duration::ZERO, t0).is_ok());
    assert_eq!(s.counters().dtmf_digits, 2);
}

#[test]
fn quality_alerts_until_the_end() {
    let (mut s, t0) = active();
    let alert = QualityAlert {
        metric: crate::session::QualityMetric::PacketLoss,
        value: 12.0,
        threshold: 5.0,
    };
    s.handle_quality_alert(alert, t0).unwrap();
    s.on_failure(FailureReason::Transport, t0).unwrap();
    assert_eq!(
        s.handle_quality_alert(alert, t0),
        Err(SessionError::Ended {
            state: SessionState::Failed(FailureReason::Transport)
        })
    );
    let ev = drain(&mut s);
    assert_eq!(ev[0].kind, SessionEventKind::QualityAlert(alert));
    assert_eq!(
        ev.last().map(|e| &e.kind),
        Some(&SessionEventKind::Failed {
            reason: FailureReason::Transport
        })
    );
    // Stop acknowledges the failure and ends the session.
    s.stop(t0).unwrap();
    assert_eq!(s.state(), SessionState::Stopped);
}

/// Operations a controller or driver may throw at a session, valid or not.
#[derive(Debug, Clone)]
enum Op {
    Command(SessionCommand),
    Mute(MuteSide, bool),
    UpdateCodec(bool),
    Dtmf,
    Advance(u16),
}

fn command() -> impl Strategy<Value = SessionCommand> {
    let hold = prop_oneof![
        Just(HoldMode::SendOnly),
        Just(HoldMode::RecvOnly),
        Just(HoldMode::Inactive)
    ];
    let reason = prop_oneof![
        Just(FailureReason::Transport),
        Just(FailureReason::Codec),
        Just(FailureReason::MediaTimeout)
    ];
    prop_oneof![
        3 => Just(SessionCommand::Start),
        3 => Just(SessionCommand::Started),
        2 => Just(SessionCommand::Stop),
        2 => Just(SessionCommand::Stopped),
        3 => Just(SessionCommand::Pause),
        3 => Just(SessionCommand::Resume),
        3 => hold.prop_map(SessionCommand::Hold),
        3 => Just(SessionCommand::Unhold),
        1 => reason.prop_map(SessionCommand::Fail),
        3 => Just(SessionCommand::Update),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let side = prop_oneof![
        Just(MuteSide::Send),
        Just(MuteSide::Receive),
        Just(MuteSide::Both)
    ];
    prop_oneof![
        8 => command().prop_map(Op::Command),
        2 => (side, any::<bool>()).prop_map(|(s, m)| Op::Mute(s, m)),
        1 => any::<bool>().prop_map(Op::UpdateCodec),
        1 => Just(Op::Dtmf),
        1 => (0u16..5000).prop_map(Op::Advance),
    ]
}

fn run(s: &mut MediaSession, op: &Op, now: Instant, reg: &CodecRegistry) -> bool {
    match op {
        Op::Command(c) => match c {
            SessionCommand::Start => s.start(now).is_ok(),
            SessionCommand::Started => s.on_started(now).is_ok(),
            SessionCommand::Stop => s.stop(now).is_ok(),
            SessionCommand::Stopped => s.on_stopped(now).is_ok(),
            SessionCommand::Pause => s.pause(now).is_ok(),
            SessionCommand::Resume => s.resume(now).is_ok(),
            SessionCommand::Hold(m) => s.hold(*m, now).is_ok(),
            SessionCommand::Unhold => s.unhold(now).is_ok(),
            SessionCommand::Fail(r) => s.on_failure(*r, now).is_ok(),
            SessionCommand::Update => s.update(s.config().clone(), now).is_ok(),
        },
        Op::Mute(side, true) => s.mute(*side, now).is_ok(),
        Op::Mute(side, false) => s.unmute(*side, now).is_ok(),
        Op::UpdateCodec(alaw) => {
            let codec = if *alaw { "pcma" } else { "pcmu" };
            let Ok(cfg) = s.config().to_builder().codec(codec).build(reg) else {
                return false;
            };
            s.update(cfg, now).is_ok()
        }
        Op::Dtmf => s
            .handle_dtmf(DtmfDigit::FLASH, Duration::from_millis(40), now)
            .is_ok(),
        Op::Advance(_) => true,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random sequences never panic, only follow documented edges, keep the event
    /// stream consistent with the state, and never leave Stopped.
    #[test]
    fn random_command_sequences_follow_the_diagram(ops in prop::collection::vec(op(), 0..60)) {
        let reg = CodecRegistry::with_builtin();
        let mut now = Instant::now();
        let mut s = MediaSession::new(SessionId(9), config(), now);
        let mut model = SessionState::Idle;
        let mut last_correlation = CorrelationId(0);
        for op in &ops {
            if let Op::Advance(ms) = op {
                now += Duration::from_millis(u64::from(*ms));
            }
            let before = s.state();
            let ok = run(&mut s, op, now, &reg);
            if let Op::Command(c) = op {
                let expected = documented(model, *c);
                prop_assert_eq!(ok, expected.is_some(), "{:?} + {:?}", model, c);
                if let Some(next) = expected {
                    model = next;
                }
            } else if let Op::UpdateCodec(_) = op {
                prop_assert_eq!(ok, model.is_established());
            }
            prop_assert_eq!(s.state(), model);
            // Only states of the table's rows are ever reached.
            let documented_state = STATES.iter().any(|st| match (st, s.state()) {
                (SessionState::Failed(_), SessionState::Failed(_)) => true,
                (a, b) => *a == b,
            });
            prop_assert!(documented_state);
            if before == SessionState::Stopped {
                prop_assert_eq!(s.state(), SessionState::Stopped);
            }
            // Events: state changes chain from the previous state; correlation ids grow.
            let mut state = before;
            while let Some(e) = s.poll_event() {
                prop_assert!(e.correlation >= last_correlation);
                last_correlation = e.correlation;
                prop_assert_eq!(e.at, now);
                if let SessionEventKind::StateChanged { from, to } = e.kind {
                    prop_assert_eq!(from, state);
                    prop_assert_ne!(from, to);
                    state = to;
                }
            }
            prop_assert_eq!(state, s.state());
            let flow = s.flow();
            if s.state().is_ended() || s.state() == SessionState::Idle {
                prop_assert_eq!(flow.resources, Resources::NONE);
                prop_assert!(!flow.rtp.any());
            }
            prop_assert!(!flow.audio.send || flow.rtp.send);
            prop_assert!(!flow.audio.receive || flow.rtp.receive);
        }
        // Stopped is terminal: nothing leaves it.
        if s.state() == SessionState::Stopped {
            for c in COMMANDS {
                prop_assert!(!run(&mut s, &Op::Command(c), now, &reg));
                prop_assert_eq!(s.state(), SessionState::Stopped);
            }
        }
    }
}
