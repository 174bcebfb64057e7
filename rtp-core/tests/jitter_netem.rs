//! The jitter buffer behind the network emulator: a 20 ms PCMU-like sender, netem, the buffer
//! and a player polling at the buffer's `poll_timeout`, all on virtual time.
//!
//! Run with `--nocapture` to see the measured figures.

use rtp_core::jitter::{JitterBuffer, JitterConfig, JitterPacket, MissingKind, Playout};
use rtp_core::netem::{GilbertElliott, JitterDist, LossModel, Netem, NetemConfig};
use rtp_core::{RtpTimestamp, SeqNo, Ssrc};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

const PTIME: Duration = Duration::from_millis(20);

/// What the sender does to its packets.
#[derive(Clone)]
struct Sender {
    ssrc: u32,
    first_seq: u16,
    first_ts: u32,
    ticks: u32,
    /// Send interval on the receiver's clock (20 ms; differs to emulate clock drift).
    interval: Duration,
    /// (packet index, new ssrc, seq jump, ts jump) applied from that packet on.
    change: Option<(u64, u32, u16, u32)>,
}

impl Default for Sender {
    fn default() -> Self {
        Self {
            ssrc: 0x1234,
            first_seq: 1000,
            first_ts: 50_000,
            ticks: 160,
            interval: PTIME,
            change: None,
        }
    }
}

impl Sender {
    fn packet(&self, i: u64, payload: Vec<u8>) -> JitterPacket {
        let (mut ssrc, mut seq, mut ts) = (
            self.ssrc,
            self.first_seq.wrapping_add(i as u16),
            self.first_ts
                .wrapping_add((i as u32).wrapping_mul(self.ticks)),
        );
        if let Some((at, s, dseq, dts)) = self.change {
            if i >= at {
                ssrc = s;
                seq = seq.wrapping_add(dseq);
                ts = ts.wrapping_add(dts);
            }
        }
        JitterPacket {
            ssrc: Ssrc(ssrc),
            seq: SeqNo(seq),
            timestamp: RtpTimestamp(ts),
            marker: i == 0,
            payload,
        }
    }
}

/// One output of the buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Out {
    Packet {
        seq: u16,
        ts: u32,
        duration: u32,
    },
    Missing {
        kind: MissingKind,
        seq: Option<u16>,
        ts: u32,
    },
    Nothing,
}

struct Run {
    outs: Vec<(Duration, Out)>,
    /// Timestamps of the packets the network dropped.
    net_dropped_ts: HashSet<u32>,
    jb: JitterBuffer,
    net: Netem<JitterPacket>,
    /// (time, target ms, current ms) once per second.
    delays: Vec<(Duration, f64, f64)>,
    wall: Duration,
}

fn simulate(net_cfg: NetemConfig, jb_cfg: JitterConfig, sender: &Sender, secs: u64) -> Run {
    let wall = Instant::now();
    let mut jb = JitterBuffer::new(jb_cfg).expect("config");
    let mut net = Netem::<JitterPacket>::new(net_cfg).expect("netem");
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs(secs) + Duration::from_millis(500);
    let n = secs * 1000 / PTIME.as_millis() as u64;
    let mut k = 0u64;
    let mut next_poll = t0;
    let mut next_report = t0;
    let mut outs = Vec::new();
    let mut delays = Vec::new();
    let mut sent_ts = Vec::new();
    let mut delivered_ts = HashSet::new();
    loop {
        let next_send = (k < n).then(|| t0 + sender.interval * k as u32);
        let mut t = next_poll;
        if let Some(s) = next_send {
            t = t.min(s);
        }
        if let Some(d) = net.poll_timeout() {
            t = t.min(d);
        }
        if t > end {
            break;
        }
        if next_send == Some(t) {
            let mut payload = jb.take_buffer();
            payload.resize(160, 0xff);
            let p = sender.packet(k, payload);
            sent_ts.push(p.timestamp.0);
            net.send(t, p);
            k += 1;
        }
        while let Some(p) = net.poll_deliver(t) {
            delivered_ts.insert(p.timestamp.0);
            jb.insert(t, p);
        }
        if t == next_poll {
            let o = match jb.poll(t) {
                Playout::Packet(p) => {
                    let o = Out::Packet {
                        seq: p.seq.0,
                        ts: p.timestamp.0,
                        duration: p.duration,
                    };
                    jb.recycle(p.payload);
                    o
                }
                Playout::Missing(m) => Out::Missing {
                    kind: m.kind,
                    seq: m.seq.map(|s| s.0),
                    ts: m.timestamp.0,
                },
                Playout::NothingYet => Out::Nothing,
            };
            outs.push((t - t0, o));
            next_poll = jb.poll_timeout().unwrap_or(t + PTIME);
            if t >= next_report {
                let s = jb.stats();
                delays.push((t - t0, s.target_delay_ms, s.current_delay_ms));
                next_report += Duration::from_secs(1);
            }
        }
    }
    let net_dropped_ts = sent_ts
        .into_iter()
        .filter(|ts| !delivered_ts.contains(ts))
        .collect();
    Run {
        outs,
        net_dropped_ts,
        jb,
        net,
        delays,
        wall: wall.elapsed(),
    }
}

fn pcmu() -> JitterConfig {
    JitterConfig::new(8000)
}

fn net(seed: u64) -> NetemConfig {
    NetemConfig {
        seed,
        delay: Duration::from_millis(30),
        ..NetemConfig::default()
    }
}

impl Run {
    fn played(&self) -> Vec<u16> {
        self.outs
            .iter()
            .filter_map(|(_, o)| match o {
                Out::Packet { seq, .. } => Some(*seq),
                _ => None,
            })
            .collect()
    }

    /// Outputs after the first packet played and up to the last one.
    fn steady(&self) -> &[(Duration, Out)] {
        let first = self
            .outs
            .iter()
            .position(|o| matches!(o.1, Out::Packet { .. }))
            .unwrap_or(0);
        let last = self
            .outs
            .iter()
            .rposition(|o| matches!(o.1, Out::Packet { .. }))
            .unwrap_or(0);
        &self.outs[first..=last]
    }

    fn count(&self, kind: MissingKind) -> usize {
        self.steady()
            .iter()
            .filter(|o| matches!(o.1, Out::Missing { kind: k, .. } if k == kind))
            .count()
    }

    fn summary(&self, name: &str) {
        let s = self.jb.stats();
        let n = self.net.stats();
        println!(
            "{name}: sent {} net-dropped {} dup {} reordered {} | played {} lost {} concealed {} \
             expanded {} late {} ({:.2}%) dup {} discarded {} resyncs {} | target {:.1} ms \
             current {:.1} ms q95 {:.1} ms jitter {:.2} ms | wall {:?}",
            n.sent,
            n.dropped(),
            n.duplicated,
            n.reordered,
            s.played,
            s.lost,
            s.concealed,
            s.expanded,
            s.late,
            100.0 * s.late as f64 / n.sent as f64,
            s.duplicate,
            s.discarded,
            s.resyncs,
            s.target_delay_ms,
            s.current_delay_ms,
            s.delay_quantile_ms,
            s.jitter_ms,
            self.wall,
        );
    }
}

#[test]
fn clean_network_60s_no_concealment_delay_at_min() {
    let r = simulate(net(1), pcmu(), &Sender::default(), 60);
    r.summary("clean");
    let s = r.jb.stats();
    assert_eq!(s.played + s.discarded, 3000);
    assert_eq!(s.lost, 0);
    assert_eq!(s.late, 0);
    assert_eq!(r.count(MissingKind::Lost), 0);
    assert_eq!(r.count(MissingKind::Underflow), 0);
    assert_eq!(r.count(MissingKind::Expand), 0);
    assert_eq!(s.target_delay_ms, 20.0);
    assert!(s.current_delay_ms < 40.0, "{s:?}");
    // Delay near the minimum within a few seconds of the start.
    assert!(r.delays[5..].iter().all(|d| d.2 < 40.0), "{:?}", r.delays);
    assert!(r.wall < Duration::from_secs(3), "{:?}", r.wall);
}

#[test]
fn uniform_jitter_40ms_target_covers_95_percent() {
    let cfg = NetemConfig {
        jitter: JitterDist::Uniform {
            max: Duration::from_millis(40),
        },
        ..net(2)
    };
    let r = simulate(cfg, pcmu(), &Sender::default(), 60);
    r.summary("uniform 40 ms");
    let s = r.jb.stats();
    let sent = r.net.stats().sent as f64;
    let late = s.late as f64 / sent;
    assert!(late < 0.03, "late {:.2}%", late * 100.0);
    // The 95th percentile of U(0, 40 ms) is 38 ms; the target sits there.
    assert!((34.0..=48.0).contains(&s.target_delay_ms), "{s:?}");
    for (t, target, _) in &r.delays[10..] {
        assert!((30.0..=60.0).contains(target), "at {t:?}: {target}");
    }
    // Played in order, every packet played or accounted for.
    let p = r.played();
    assert!(p.windows(2).all(|w| w[1].wrapping_sub(w[0]) as i16 > 0));
    assert_eq!(s.played + s.late + s.discarded, 3000, "{s:?}");
}

#[test]
fn random_loss_10pct_each_lost_packet_missing_exactly_once() {
    let cfg = NetemConfig {
        loss: LossModel::Random { probability: 0.1 },
        ..net(3)
    };
    let r = simulate(cfg, pcmu(), &Sender::default(), 60);
    r.summary("10% loss");
    let mut missing: BTreeMap<u32, usize> = BTreeMap::new();
    for (_, o) in r.steady() {
        if let Out::Missing { kind, ts, .. } = o {
            if *kind != MissingKind::Expand {
                *missing.entry(*ts).or_default() += 1;
            }
        }
    }
    // The first packets may be lost before playout starts, the last after it ends.
    let played: Vec<u32> = r
        .outs
        .iter()
        .filter_map(|o| match o.1 {
            Out::Packet { ts, .. } => Some(ts),
            _ => None,
        })
        .collect();
    let (lo, hi) = (played[0], played[played.len() - 1]);
    let inner: HashSet<u32> = r
        .net_dropped_ts
        .iter()
        .copied()
        .filter(|ts| (lo..=hi).contains(ts))
        .collect();
    assert!(inner.len() > 250, "{}", inner.len());
    assert!(missing.values().all(|c| *c == 1), "a span reported twice");
    let reported: HashSet<u32> = missing.keys().copied().collect();
    assert_eq!(reported, inner, "Missing exactly for the lost packets");
    let s = r.jb.stats();
    assert_eq!(s.lost as usize, inner.len());
    assert_eq!(r.count(MissingKind::Expand), 0);
    assert_eq!(s.late, 0);
}

#[test]
fn gilbert_elliott_bursts_concealed_once() {
    let cfg = NetemConfig {
        loss: LossModel::GilbertElliott(GilbertElliott::from_mean_loss(0.05, 3.0)),
        ..net(4)
    };
    let r = simulate(cfg, pcmu(), &Sender::default(), 60);
    r.summary("GE 5% burst 3");
    // Each lost packet is concealed at most once, nothing else is concealed; in bursts longer
    // than `max_conceal` (60 ms = 3 packets) the rest is silence (NothingYet) and playout
    // re-anchors on the next packet (which may also shorten that silence to move the delay
    // towards the target).
    let mut seen = HashSet::new();
    let mut silent = 0;
    for (_, o) in r.steady() {
        match o {
            Out::Missing { kind, ts, .. } if *kind != MissingKind::Expand => {
                assert!(seen.insert(*ts), "{ts} twice");
                assert!(r.net_dropped_ts.contains(ts), "{ts} was not lost");
            }
            Out::Nothing => silent += 1,
            _ => {}
        }
    }
    let s = r.jb.stats();
    let lost = s.lost as usize;
    assert!(lost > 100 && lost <= r.net_dropped_ts.len());
    assert!(
        seen.len() * 10 >= lost * 6,
        "most losses concealed: {} of {lost}",
        seen.len()
    );
    println!(
        "GE: {} of {lost} lost packets concealed, {silent} silent ticks",
        seen.len()
    );
}

#[test]
fn reordering_is_undone() {
    let cfg = NetemConfig {
        reorder: 0.05,
        reorder_delay: Duration::from_millis(30),
        jitter: JitterDist::Uniform {
            max: Duration::from_millis(10),
        },
        ..net(5)
    };
    let r = simulate(cfg, pcmu(), &Sender::default(), 60);
    r.summary("reorder 5%");
    assert!(r.net.stats().reordered > 100);
    let p = r.played();
    assert!(p.windows(2).all(|w| w[1].wrapping_sub(w[0]) as i16 > 0));
    let s = r.jb.stats();
    assert!((s.late as f64) < 0.01 * 3000.0, "{s:?}");
    assert_eq!(s.played + s.late + s.discarded, 3000, "{s:?}");
}

#[test]
fn duplicates_removed() {
    let cfg = NetemConfig {
        duplicate: 0.1,
        jitter: JitterDist::Uniform {
            max: Duration::from_millis(20),
        },
        ..net(6)
    };
    let r = simulate(cfg, pcmu(), &Sender::default(), 60);
    r.summary("dup 10%");
    let s = r.jb.stats();
    assert_eq!(s.duplicate, r.net.stats().duplicated);
    let p = r.played();
    let uniq: HashSet<u16> = p.iter().copied().collect();
    assert_eq!(uniq.len(), p.len());
}

#[test]
fn ssrc_change_resyncs() {
    let sender = Sender {
        change: Some((1500, 0xbeef, 12_345, 987_654_321)),
        ..Sender::default()
    };
    let cfg = NetemConfig {
        jitter: JitterDist::Uniform {
            max: Duration::from_millis(20),
        },
        ..net(7)
    };
    let r = simulate(cfg, pcmu(), &sender, 60);
    r.summary("ssrc change");
    let s = r.jb.stats();
    assert_eq!((s.resyncs, s.ssrc_changes), (1, 1), "{s:?}");
    assert!(s.played > 2900, "{s:?}");
}

#[test]
fn timestamp_jump_resyncs() {
    let sender = Sender {
        change: Some((1500, 0x1234, 0, 8000 * 600)),
        ..Sender::default()
    };
    let r = simulate(net(8), pcmu(), &sender, 60);
    r.summary("ts jump");
    let s = r.jb.stats();
    assert_eq!((s.resyncs, s.ssrc_changes), (1, 0), "{s:?}");
    assert!(s.played > 2900, "{s:?}");
}

#[test]
fn sequence_and_timestamp_wrap_mid_call() {
    // 3000 packets from seq 64 000 (wraps after 1535) and timestamp 2^32 - 100 000 (wraps
    // after 625 packets), through 30 ms of jitter.
    let sender = Sender {
        first_seq: 64_000,
        first_ts: u32::MAX - 100_000,
        ..Sender::default()
    };
    let cfg = NetemConfig {
        jitter: JitterDist::Uniform {
            max: Duration::from_millis(30),
        },
        ..net(9)
    };
    let r = simulate(cfg, pcmu(), &sender, 60);
    r.summary("wrap");
    let s = r.jb.stats();
    assert_eq!(s.resyncs, 0);
    let p = r.played();
    assert!(p.contains(&65_535) && p.contains(&0));
    assert!(p.windows(2).all(|w| w[1].wrapping_sub(w[0]) as i16 > 0));
    assert_eq!(s.played + s.late + s.discarded, 3000, "{s:?}");
}

#[test]
fn clock_drift_is_absorbed() {
    // The sender's clock runs 0.1% fast, then 0.1% slow (60 ms over the call, 3 frames): the
    // buffer discards / expands a few frames and keeps the delay in its band.
    for (name, us, adjust) in [
        ("fast", 19_980u64, "discarded"),
        ("slow", 20_020, "expanded"),
    ] {
        let sender = Sender {
            interval: Duration::from_micros(us),
            ..Sender::default()
        };
        let cfg = NetemConfig {
            jitter: JitterDist::Uniform {
                max: Duration::from_millis(10),
            },
            ..net(12)
        };
        let r = simulate(cfg, pcmu(), &sender, 60);
        r.summary(&format!("drift {name}"));
        let s = r.jb.stats();
        assert!(s.late <= 10, "{s:?}");
        assert!(s.discarded + s.expanded <= 10, "{s:?}");
        let n = if adjust == "discarded" {
            s.discarded
        } else {
            s.expanded
        };
        assert!(n >= 2, "{adjust}: {s:?}");
        // In [target, target + 1.25 frame), give or take the base-transit estimate's noise.
        for (t, target, cur) in &r.delays[10..] {
            assert!(
                *cur >= target - 2.0 && *cur < target + 25.0 + 2.0,
                "{t:?}: {cur} vs {target}"
            );
        }
    }
}

#[test]
fn delay_rises_fast_and_falls_slowly() {
    // 20 s clean, then 20 s of 100 ms jitter, then 20 s clean: run the three phases as one
    // call by switching netem mid-way (same buffer).
    let mut jb = JitterBuffer::new(pcmu()).expect("config");
    let t0 = Instant::now();
    let sender = Sender::default();
    let mut target_at = Vec::new();
    let mut nets: Vec<Netem<JitterPacket>> = [0u64, 100, 0]
        .iter()
        .enumerate()
        .map(|(i, j)| {
            Netem::new(NetemConfig {
                jitter: JitterDist::Uniform {
                    max: Duration::from_millis(*j),
                },
                ..net(10 + i as u64)
            })
            .expect("netem")
        })
        .collect();
    let mut t = t0;
    for k in 0..3000u64 {
        t = t0 + PTIME * k as u32;
        let phase = (k / 1000) as usize;
        let p = sender.packet(k, vec![0; 160]);
        nets[phase].send(t, p);
        for n in nets.iter_mut() {
            while let Some(p) = n.poll_deliver(t) {
                jb.insert(t, p);
            }
        }
        if let Playout::Packet(p) = jb.poll(t) {
            jb.recycle(p.payload);
        }
        if k % 50 == 0 {
            target_at.push((k / 50, jb.target_delay().as_millis()));
        }
    }
    let _ = t;
    let at = |sec: u64| target_at[sec as usize].1;
    println!("target by second: {target_at:?}");
    assert!(at(19) <= 25, "clean: {}", at(19));
    assert!(at(21) >= 80, "one second into the jitter: {}", at(21));
    assert!(at(39) >= 80);
    // Falls no faster than 40 ms/s, and is back near the minimum by the end.
    assert!(
        at(41) >= at(39).saturating_sub(90),
        "{} -> {}",
        at(39),
        at(41)
    );
    assert!(at(59) <= 25, "{}", at(59));
}

#[test]
fn opus_like_varying_packet_durations() {
    // 48 kHz, packet durations cycle 20/40/60 ms: durations come from the timestamps.
    let mut cfg = JitterConfig::new(48_000);
    cfg.initial_delay = Duration::from_millis(100);
    let mut jb = JitterBuffer::new(cfg).expect("config");
    let t0 = Instant::now();
    let durs = [960u32, 1920, 2880];
    let mut sends = Vec::new();
    let (mut ts, mut at_ms) = (0u32, 0u64);
    for i in 0..600u16 {
        let d = durs[usize::from(i % 3)];
        sends.push((t0 + Duration::from_millis(at_ms), i, ts, d));
        ts = ts.wrapping_add(d);
        at_ms += u64::from(d) / 48;
    }
    let mut k = 0;
    let mut now = t0;
    let mut got = Vec::new();
    while k < sends.len() || !jb.is_empty() {
        while k < sends.len() && sends[k].0 <= now {
            let (_, seq, ts, _) = sends[k];
            jb.insert(
                sends[k].0,
                JitterPacket {
                    ssrc: Ssrc(1),
                    seq: SeqNo(seq),
                    timestamp: RtpTimestamp(ts),
                    marker: false,
                    payload: vec![0; 100],
                },
            );
            k += 1;
        }
        match jb.poll(now) {
            Playout::Packet(p) => {
                got.push((p.seq.0, p.duration, p.duration_known));
                // The decoder knows the real duration even when the buffer does not.
                jb.set_packet_duration(durs[usize::from(p.seq.0 % 3)]);
                jb.recycle(p.payload);
            }
            Playout::Missing(m) => assert_eq!(m.kind, MissingKind::Expand, "{m:?}"),
            Playout::NothingYet => {}
        }
        now = jb.poll_timeout().unwrap_or(now + PTIME);
        if now > t0 + Duration::from_secs(60) {
            break;
        }
    }
    // Known when the next packet was already buffered at playout.
    let known: Vec<_> = got.iter().filter(|g| g.2).collect();
    assert!(got.len() >= 595 && known.len() > 300, "{}", known.len());
    assert!(known
        .iter()
        .all(|(seq, d, _)| *d == durs[usize::from(seq % 3)]));
    let s = jb.stats();
    assert_eq!((s.concealed, s.late), (0, 0), "{s:?}");
}

#[test]
fn sixty_second_call_is_fast() {
    let cfg = NetemConfig {
        loss: LossModel::Random { probability: 0.1 },
        jitter: JitterDist::Normal {
            mean: Duration::from_millis(20),
            std_dev: Duration::from_millis(15),
        },
        duplicate: 0.01,
        reorder: 0.01,
        ..net(11)
    };
    let r = simulate(cfg, pcmu(), &Sender::default(), 60);
    r.summary("10% loss + normal jitter");
    // Well under a second in debug on an idle machine; the bound leaves room for a loaded one.
    assert!(r.wall < Duration::from_secs(2), "{:?}", r.wall);
}
