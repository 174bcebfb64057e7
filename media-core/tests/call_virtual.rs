//! Two MediaSessionControllers back to back through rtp-core's netem, on virtual time.
//!
//! A 60 s call with 10 % loss and 40 ms jitter runs in a fraction of a second and gives the
//! same figures on every run.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use media_core::integration::session_core::{CallStats, ControllerEvent, MediaSessionController};
use media_core::session::{DtmfDigit, HoldMode, SessionEventKind, SessionState};
use media_core::signal::speech_like;
use rtp_core::netem::{JitterDist, LossModel, Netem, NetemConfig};
#[path = "common/virtual_call.rs"]
mod virtual_call;
use virtual_call::{controller, Dgram};

/// 10 s of the speech-like signal at 48 kHz, made once (its synthesis costs more than a call).
fn source() -> &'static [i16] {
    static SOURCE: std::sync::OnceLock<Vec<i16>> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| speech_like(10.0, 48000))
}

#[derive(Clone)]
struct Opts {
    codec: &'static str,
    seconds: u64,
    loss: f64,
    jitter_ms: u64,
    srtp: bool,
    seed: u64,
}

impl Opts {
    fn new(codec: &'static str) -> Self {
        Self {
            codec,
            seconds: 60,
            loss: 0.10,
            jitter_ms: 40,
            srtp: false,
            seed: 42,
        }
    }
}

struct Peer {
    ctl: MediaSessionController,
    addr: SocketAddr,
    /// Input at 48 kHz, taken at the codec's rate by decimation on the fly.
    t_frames: u64,
    recorded: Vec<i16>,
    events: Vec<ControllerEvent>,
}

/// The whole call harness: A offers, B answers, both start; netem both ways.
struct Call {
    a: Peer,
    b: Peer,
    ab: Netem<Dgram>,
    ba: Netem<Dgram>,
    t0: Instant,
    now: Instant,
    source: &'static [i16],
    buf: Vec<u8>,
    frame: Vec<i16>,
}

impl Call {
    fn new(o: &Opts) -> Self {
        let a_addr: SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let b_addr: SocketAddr = "10.0.0.2:50000".parse().unwrap();
        let mut a = controller(a_addr, o.codec, o.srtp, o.seed);
        let mut b = controller(b_addr, o.codec, o.srtp, o.seed ^ 0xdead_beef);
        let t0 = Instant::now();
        let offer = a.create_offer();
        let answer = b.accept_offer(t0, offer.as_bytes()).unwrap();
        a.apply_answer(t0, answer.as_bytes()).unwrap();
        a.start(t0).unwrap();
        b.start(t0).unwrap();
        let net = |seed| {
            Netem::new(NetemConfig {
                seed,
                loss: if o.loss > 0.0 {
                    LossModel::Random {
                        probability: o.loss,
                    }
                } else {
                    LossModel::None
                },
                delay: Duration::from_millis(20),
                jitter: if o.jitter_ms > 0 {
                    JitterDist::Uniform {
                        max: Duration::from_millis(o.jitter_ms),
                    }
                } else {
                    JitterDist::None
                },
                ..NetemConfig::default()
            })
            .unwrap()
        };
        let peer = |ctl, addr| Peer {
            ctl,
            addr,
            t_frames: 0,
            recorded: Vec::new(),
            events: Vec::new(),
        };
        Self {
            a: peer(a, a_addr),
            b: peer(b, b_addr),
            ab: net(o.seed.wrapping_add(1)),
            ba: net(o.seed.wrapping_add(2)),
            t0,
            now: t0,
            source: source(),
            buf: vec![0; 2048],
            frame: vec![0; 960],
        }
    }

    fn frame_for(source: &[i16], frame: &mut [i16], t_frames: u64, rate: u32, ch: usize) {
        let n = rate as usize / 100;
        let step = 48000 / rate as usize;
        let base = (t_frames as usize * 480) % (source.len() - 480);
        for i in 0..n {
            let s = source[base + i * step];
            for c in 0..ch {
                frame[i * ch + c] = s;
            }
        }
    }

    fn tick(&mut self) {
        let now = self.now;
        for peer in [&mut self.a, &mut self.b] {
            let Some(fmt) = peer.ctl.audio_format() else {
                continue;
            };
            let ch = usize::from(fmt.channels);
            let n = peer.ctl.frame_samples();
            Self::frame_for(
                self.source,
                &mut self.frame,
                peer.t_frames,
                fmt.sample_rate.0,
                ch,
            );
            peer.ctl.push_capture_frame(now, &self.frame[..n]);
            let got = peer.ctl.pull_playout_frame(now, &mut self.frame[..n]);
            peer.recorded.extend_from_slice(&self.frame[..got]);
            peer.t_frames += 1;
        }
    }

    fn flush(&mut self) {
        let now = self.now;
        for (peer, net) in [(&mut self.a, &mut self.ab), (&mut self.b, &mut self.ba)] {
            while let Some((_, len)) = peer.ctl.poll_transmit(now, &mut self.buf) {
                net.send(
                    now,
                    Dgram {
                        from: peer.addr,
                        bytes: self.buf[..len].to_vec(),
                    },
                );
            }
            while let Some(e) = peer.ctl.poll_event() {
                peer.events.push(e);
            }
        }
    }

    /// Runs until `until` (relative to the start).
    fn run(&mut self, until: Duration) {
        let end = self.t0 + until;
        let mut next_tick = self.now;
        loop {
            let mut next = next_tick;
            for t in [
                self.ab.poll_timeout(),
                self.ba.poll_timeout(),
                self.a.ctl.poll_timeout(),
                self.b.ctl.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            {
                next = next.min(t);
            }
            if next >= end {
                self.now = end;
                break;
            }
            self.now = next.max(self.now);
            let now = self.now;
            while let Some(d) = self.ab.poll_deliver(now) {
                self.b.ctl.handle_datagram(now, d.from, &d.bytes);
            }
            while let Some(d) = self.ba.poll_deliver(now) {
                self.a.ctl.handle_datagram(now, d.from, &d.bytes);
            }
            for peer in [&mut self.a, &mut self.b] {
                if peer.ctl.poll_timeout().is_some_and(|t| t <= now) {
                    peer.ctl.handle_timeout(now);
                }
            }
            if now >= next_tick {
                self.tick();
                next_tick += Duration::from_millis(10);
            }
            self.flush();
        }
    }
}

/// Everything a run measures, for comparing runs.
#[derive(Debug, Clone, PartialEq)]
struct Figures {
    a: CallStats,
    b: CallStats,
    net_ab_dropped: u64,
    net_ba_dropped: u64,
    recorded_b_hash: u64,
}

fn hash(v: &[i16]) -> u64 {
    v.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &s| {
        (h ^ u64::from(s as u16)).wrapping_mul(0x100_0000_01b3)
    })
}

fn run_call(o: &Opts) -> (Figures, Call) {
    let mut call = Call::new(o);
    call.run(Duration::from_secs(o.seconds));
    let f = Figures {
        a: call.a.ctl.stats().unwrap(),
        b: call.b.ctl.stats().unwrap(),
        net_ab_dropped: call.ab.stats().dropped(),
        net_ba_dropped: call.ba.stats().dropped(),
        recorded_b_hash: hash(&call.b.recorded),
    };
    (f, call)
}

fn check_call(o: &Opts) -> Figures {
    source();
    let started = Instant::now();
    let (f1, call) = run_call(o);
    let took = started.elapsed();
    let (f2, _) = run_call(o);
    assert_eq!(
        f1, f2,
        "a virtual-time call must give the same figures every run"
    );
    let b = &f1.b;
    let js = call.b.ctl.adapter().unwrap().jitter_stats();
    eprintln!(
        "{} {}s loss {} jitter {} ms srtp {}: took {:?}; B {:?}; jitter {:?}; net A->B dropped {}",
        o.codec, o.seconds, o.loss, o.jitter_ms, o.srtp, took, b, js, f1.net_ab_dropped
    );
    // Each packet is sent once: what was sent either arrived or was dropped by the network.
    let sent = f1.a.counters.audio_packets_sent;
    assert!(sent >= o.seconds * 1000 / 20 - 2, "{sent}");
    // Every playout gap is concealed or recovered by FEC, exactly once.
    assert_eq!(
        b.packets_concealed + b.fec_recovered,
        js.concealed,
        "concealed + FEC = the jitter buffer's missing packets"
    );
    // The packets missing at playout are the network's drops (give or take the last packets
    // in flight and late ones).
    assert!(
        js.lost.abs_diff(f1.net_ab_dropped) <= 3 + js.late,
        "lost {} vs dropped {}",
        js.lost,
        f1.net_ab_dropped
    );
    assert!(b.packets_concealed + b.fec_recovered >= f1.net_ab_dropped.saturating_sub(3));
    // Audio arrives: B heard A.
    let energy: f64 = call
        .b
        .recorded
        .iter()
        .map(|&s| f64::from(s).powi(2))
        .sum::<f64>()
        / call.b.recorded.len().max(1) as f64;
    assert!(energy.sqrt() > 300.0, "rms {}", energy.sqrt());
    assert!(b.mos > 1.0 && b.mos < 4.5);
    assert!(b.jitter_ms > 1.0, "jitter measured");
    if o.loss > 0.0 {
        let ratio = f1.net_ab_dropped as f64 / sent as f64;
        assert!((ratio - o.loss).abs() < 0.03, "loss ratio {ratio}");
        assert!(b.packets_lost > 0);
    }
    f1
}

#[test]
fn pcmu_60s_10pct_loss_40ms_jitter_is_fast_and_deterministic() {
    let f = check_call(&Opts::new("pcmu"));
    // G.711 has no FEC: every lost packet is concealed.
    assert_eq!(f.b.fec_recovered, 0);
    assert!(f.b.packets_concealed > 250, "{}", f.b.packets_concealed);
}

#[test]
fn g722_call() {
    let mut o = Opts::new("g722");
    o.seconds = 30;
    let f = check_call(&o);
    assert_eq!(f.b.codec, "g722");
}

#[test]
fn l16_call() {
    let mut o = Opts::new("l16");
    o.seconds = 20;
    check_call(&o);
}

#[test]
fn srtp_call() {
    let mut o = Opts::new("pcmu");
    o.srtp = true;
    let f = check_call(&o);
    assert_eq!(f.b.counters.srtp_failures, 0);
    assert!(f.b.packets_received > 2000);
}

#[cfg(feature = "opus")]
#[test]
fn opus_call_recovers_with_fec() {
    let mut o = Opts::new("opus");
    o.seconds = 30;
    let f = check_call(&o);
    // The receiver reports drive the encoder's expected loss, which turns FEC on.
    assert!(f.a.counters.loss_hints > 0);
    assert!(f.b.fec_recovered > 0, "FEC recovered nothing: {:?}", f.b);
}

#[test]
fn dtmf_end_to_end_once_per_digit() {
    for (loss, jitter) in [(0.0, 40), (0.10, 40)] {
        let mut o = Opts::new("pcmu");
        o.seconds = 10;
        o.loss = loss;
        o.jitter_ms = jitter;
        let mut call = Call::new(&o);
        call.run(Duration::from_secs(1));
        for (i, d) in "159#*".chars().enumerate() {
            assert!(call
                .a
                .ctl
                .send_dtmf(DtmfDigit::from_char(d).unwrap(), Duration::from_millis(160)));
            call.run(Duration::from_millis(1000 + 500 * (i as u64 + 1)));
        }
        call.run(Duration::from_secs(10));
        let digits: String = call
            .b
            .events
            .iter()
            .filter_map(|e| match e {
                ControllerEvent::Session(s) => match &s.kind {
                    SessionEventKind::DtmfReceived { digit, duration } => {
                        assert!(
                            *duration >= Duration::from_millis(100)
                                && *duration <= Duration::from_millis(200),
                            "{duration:?}"
                        );
                        Some(digit.as_char())
                    }
                    _ => None,
                },
                _ => None,
            })
            .collect();
        let c = call.b.ctl.stats().unwrap().counters;
        eprintln!("loss {loss}: digits {digits:?}, {c:?}");
        if loss == 0.0 {
            assert_eq!(digits, "159#*");
        } else {
            // Every digit whose packets were not all lost arrives once, in order.
            assert!(
                "159#*".starts_with(&digits) || digits.len() >= 4,
                "{digits}"
            );
            assert!(digits.len() <= 5);
        }
    }
}

#[test]
fn hold_unhold_and_codec_switch_mid_call() {
    let mut o = Opts::new("pcmu,g722");
    o.seconds = 30;
    o.loss = 0.02;
    let mut call = Call::new(&o);
    assert_eq!(call.b.ctl.adapter().unwrap().codec().name, "pcmu");
    call.run(Duration::from_secs(5));
    let before = call.b.ctl.stats().unwrap().packets_received;
    assert!(before > 200);

    // Hold (inactive): A neither sends nor receives and releases its codecs and buffers.
    call.a.ctl.hold(HoldMode::Inactive, call.now).unwrap();
    assert!(!call.a.ctl.adapter().unwrap().has_decoder());
    assert!(!call.a.ctl.adapter().unwrap().has_encoder());
    call.run(Duration::from_secs(10));
    let during = call.b.ctl.stats().unwrap().packets_received;
    assert!(
        during - before < 10,
        "A sent while held: {}",
        during - before
    );
    call.a.ctl.unhold(call.now).unwrap();
    assert!(call.a.ctl.adapter().unwrap().has_decoder());
    call.run(Duration::from_secs(15));
    let after = call.b.ctl.stats().unwrap().packets_received;
    assert!(after - during > 200, "no media after unhold");
    assert_eq!(call.a.ctl.state(), SessionState::Active);

    // Codec switch: A re-offers with G.722 first; B answers; the stream continues (same SSRC).
    let ssrc_a = call.a.ctl.adapter().unwrap().ssrc();
    call.a.ctl.set_codecs(vec!["g722".into(), "pcmu".into()]);
    let offer = call.a.ctl.create_offer();
    let answer = call.b.ctl.accept_offer(call.now, offer.as_bytes()).unwrap();
    call.a
        .ctl
        .apply_answer(call.now, answer.as_bytes())
        .unwrap();
    assert_eq!(call.a.ctl.adapter().unwrap().codec().name, "g722");
    assert_eq!(call.b.ctl.adapter().unwrap().codec().name, "g722");
    assert_eq!(call.a.ctl.adapter().unwrap().ssrc(), ssrc_a);
    let recorded_before = call.b.recorded.len();
    call.run(Duration::from_secs(30));
    let b = call.b.ctl.stats().unwrap();
    assert!(b.packets_received > 600, "{b:?}");
    let tail = &call.b.recorded[recorded_before..];
    let rms = (tail.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / tail.len() as f64).sqrt();
    assert!(rms > 300.0, "G.722 audio after the switch: rms {rms}");
    let codec_changed = call.b.events.iter().any(|e| {
        matches!(e, ControllerEvent::Session(s) if matches!(s.kind, SessionEventKind::CodecChanged { .. }))
    });
    assert!(codec_changed);

    // Stop: BYE goes out, resources are released, Stopped is reported.
    call.a.ctl.stop(call.now).unwrap();
    assert!(call.a.ctl.adapter().is_none());
    call.flush();
    assert!(call.a.events.iter().any(|e| {
        matches!(e, ControllerEvent::Session(s) if s.kind == SessionEventKind::Stopped)
    }));
}

#[cfg(feature = "opus")]
#[test]
fn switching_to_opus_mid_call_starts_adapting() {
    let mut o = Opts::new("pcmu,opus");
    o.seconds = 20;
    let mut call = Call::new(&o);
    call.run(Duration::from_secs(3));
    // G.711 has a fixed rate: no adaptation.
    assert!(call.a.ctl.adapter().unwrap().adaptation().is_none());
    call.a.ctl.set_codecs(vec!["opus".into(), "pcmu".into()]);
    let offer = call.a.ctl.create_offer();
    let answer = call.b.ctl.accept_offer(call.now, offer.as_bytes()).unwrap();
    call.a
        .ctl
        .apply_answer(call.now, answer.as_bytes())
        .unwrap();
    assert_eq!(call.a.ctl.adapter().unwrap().codec().name, "opus");
    call.run(Duration::from_secs(20));
    // 10 % loss: the receiver reports reach the new policy, which turns FEC on.
    let d = call.a.ctl.stats().unwrap().adaptation.expect("Opus adapts");
    assert!(d.fec, "{d:?}");
    assert!(call.b.ctl.stats().unwrap().fec_recovered > 0);
}
