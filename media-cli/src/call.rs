//! `mediacore call`: two media sessions in one process exchange real RTP over UDP loopback.
//!
//! Alice offers, Bob answers (SDP through media-core's negotiator), and each side is a
//! `MediaSessionController` driven by this module's run loop on a `std::net::UdpSocket` bound
//! to 127.0.0.1. The controller owns the RTP session, SRTP and the jitter buffer (the sans-IO
//! core), so the loop only moves datagrams and 10 ms frames; rtp-core's tokio driver, which runs
//! an RTP session of its own, is not needed in between. Each direction passes through
//! rtp-core's seeded netem before its socket (`--loss`, `--burst`, `--jitter`, `--seed`), so the
//! same seed drops the same packets.
//!
//! Pacing: real time by default (a frame every 10 ms, packets every ptime, as a demo should
//! sound); `--fast` runs on a virtual clock as fast as the CPU allows (still real UDP: loopback
//! delivers a datagram into the receiving socket before `send_to` returns, so every datagram
//! sent in a tick is read in that tick).
//!
//! What Bob plays out (decoded, FEC-recovered or concealed) is written with `--record`.

use std::io::{IsTerminal, Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use media_core::codec::CodecRegistry;
use media_core::events::{Category, CodecEvent, EventBus, EventKind, Subscriber};
use media_core::integration::sdp::SrtpPolicy;
use media_core::integration::session_core::{
    CallStats, ControllerConfig, MediaSessionController, RandomFill,
};
use media_core::processing::format::resampler::resample_all;
use media_core::quality::metrics::QualityChange;
use media_core::session::{SessionEventKind, SessionId};
use media_core::wav::{write_wav, WavAudio};
use rtp_core::netem::{GilbertElliott, JitterDist, LossModel, Netem, NetemConfig, WireSize};

/// Options of one call.
#[derive(Debug, Clone)]
pub struct CallOptions {
    /// Codec name.
    pub codec: String,
    /// Seconds to run (None: the input's length).
    pub duration: Option<f64>,
    /// Input WAV or `builtin:speech`.
    pub input: String,
    /// SRTP (SDES keys from the OS RNG).
    pub srtp: bool,
    /// Loss in percent.
    pub loss: f64,
    /// Mean loss burst length in packets (Gilbert-Elliott); None: random loss.
    pub burst: Option<f64>,
    /// Jitter in ms (uniform extra delay 0..=jitter).
    pub jitter_ms: u64,
    /// Netem seed.
    pub seed: u64,
    /// Run on a virtual clock as fast as possible.
    pub fast: bool,
    /// Where to write what Bob hears.
    pub record: Option<String>,
    /// Print one JSON object.
    pub json: bool,
}

#[derive(Clone)]
struct Datagram {
    to: SocketAddr,
    bytes: Vec<u8>,
}

impl WireSize for Datagram {
    fn wire_size(&self) -> usize {
        self.bytes.len()
    }
}

/// Random bytes from the OS (/dev/urandom), for SRTP keys and SSRCs.
pub(crate) fn os_random() -> Result<RandomFill, String> {
    let mut file = std::fs::File::open("/dev/urandom")
        .map_err(|e| format!("cannot open /dev/urandom for SRTP keys: {e}"))?;
    let mut probe = [0u8; 16];
    file.read_exact(&mut probe)
        .map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
    Ok(Box::new(move |buf: &mut [u8]| {
        if file.read_exact(buf).is_err() {
            // /dev/urandom does not fail once open; if it ever did, do not send zero keys.
            buf.iter_mut()
                .zip(probe.iter().cycle())
                .for_each(|(b, p)| *b ^= p.rotate_left(3) ^ 0x5a);
        }
    }))
}

struct Side {
    ctl: MediaSessionController,
    socket: UdpSocket,
    /// RTP goes through this emulator: its losses depend only on the seed.
    net: Netem<Datagram>,
    /// RTCP through its own (RTCP timing is randomised, so it must not shift RTP's draws).
    rtcp_net: Netem<Datagram>,
    /// Our session id on the bus.
    id: SessionId,
    /// The controller's events go onto this bus (as an application's would)...
    bus: EventBus,
    /// ...and this subscriber takes the quality and codec ones off it.
    sub: Subscriber,
    /// Quality events seen (degraded / recovered from the monitor, alerts, encoder
    /// adaptations), with their bus priority.
    quality_events: Vec<String>,
}

fn side(addr_sock: UdpSocket, opts: &CallOptions, name: &str, seed: u64) -> Result<Side, String> {
    let local = addr_sock.local_addr().map_err(|e| e.to_string())?;
    let mut cfg = ControllerConfig::new(local);
    cfg.codecs = vec![opts.codec.clone()];
    cfg.srtp = if opts.srtp {
        SrtpPolicy::Required
    } else {
        SrtpPolicy::Disabled
    };
    cfg.cname = format!("{name}@127.0.0.1");
    cfg.id = if name == "alice" { 1 } else { 2 };
    let id = SessionId(cfg.id);
    let ctl = MediaSessionController::new(CodecRegistry::with_builtin(), cfg, os_random()?)
        .map_err(|e| e.to_string())?;
    let loss = opts.loss / 100.0;
    let loss_model = match (loss > 0.0, opts.burst) {
        (false, _) => LossModel::None,
        (true, Some(b)) => LossModel::GilbertElliott(GilbertElliott::from_mean_loss(loss, b)),
        (true, None) => LossModel::Random { probability: loss },
    };
    let netem = |seed| {
        Netem::new(NetemConfig {
            seed,
            loss: loss_model,
            jitter: if opts.jitter_ms > 0 {
                JitterDist::Uniform {
                    max: Duration::from_millis(opts.jitter_ms),
                }
            } else {
                JitterDist::None
            },
            ..NetemConfig::default()
        })
        .map_err(|e| format!("network emulation: {e}"))
    };
    let net = netem(seed)?;
    let rtcp_net = netem(seed ^ 0x5254_4350)?;
    addr_sock.set_nonblocking(true).map_err(|e| e.to_string())?;
    let bus = EventBus::default();
    Ok(Side {
        ctl,
        socket: addr_sock,
        net,
        rtcp_net,
        id,
        sub: bus.subscribe([Category::Quality, Category::Codec]),
        bus,
        quality_events: Vec::new(),
    })
}

impl Side {
    /// Moves what the controller wants to send into the emulator, and what the emulator
    /// delivers by `now` onto the socket.
    fn send(&mut self, now: Instant, buf: &mut [u8]) -> Result<(), String> {
        while let Some((to, len)) = self.ctl.poll_transmit(now, buf) {
            let bytes = buf[..len].to_vec();
            if rtp_core::rtcp::is_rtcp(&bytes) {
                self.rtcp_net.send(now, Datagram { to, bytes });
            } else {
                self.net.send(now, Datagram { to, bytes });
            }
        }
        while let Some(d) = self
            .net
            .poll_deliver(now)
            .or_else(|| self.rtcp_net.poll_deliver(now))
        {
            if let Err(e) = self.socket.send_to(&d.bytes, d.to) {
                if e.kind() != std::io::ErrorKind::WouldBlock {
                    return Err(format!("send: {e}"));
                }
            }
        }
        Ok(())
    }

    fn receive(&mut self, now: Instant, buf: &mut [u8]) -> Result<(), String> {
        loop {
            match self.socket.recv_from(buf) {
                Ok((n, from)) => self.ctl.handle_datagram(now, from, &buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
                Err(e) => return Err(format!("receive: {e}")),
            }
        }
    }

    fn timers(&mut self, now: Instant, t0: Instant) {
        if self.ctl.poll_timeout().is_some_and(|t| t <= now) {
            self.ctl.handle_timeout(now);
        }
        while let Some(e) = self.ctl.poll_event() {
            if let Some(ev) = e.to_bus_event(self.id, now) {
                // High events are refused only when a subscriber stops polling; we poll below.
                let _ = self.bus.publish(ev);
            }
        }
        while let Some(ev) = self.sub.poll() {
            let t = ev.at().saturating_duration_since(t0).as_secs_f64();
            let what = match ev.kind() {
                EventKind::QualityChange(QualityChange::Degraded { mos, .. }) => {
                    format!("quality degraded (MOS {mos:.2})")
                }
                EventKind::QualityChange(QualityChange::Recovered { mos, .. }) => {
                    format!("quality recovered (MOS {mos:.2})")
                }
                EventKind::Codec(CodecEvent::FecChanged { enabled }) => {
                    format!("FEC {}", if *enabled { "on" } else { "off" })
                }
                EventKind::Codec(CodecEvent::BitrateChanged { to, .. }) => {
                    format!("bitrate {to}")
                }
                EventKind::Session(SessionEventKind::QualityAlert(a)) => {
                    format!("quality alert (MOS {:.2} < {:.2})", a.value, a.threshold)
                }
                _ => continue,
            };
            if self.quality_events.len() < 1000 {
                self.quality_events
                    .push(format!("{t:.1} s [{}] {what}", ev.priority()));
            }
        }
    }
}

fn status_line(s: &CallStats, t: f64) -> String {
    format!(
        "{t:6.1} s  {}  rx {:6}  lost {:4}  concealed {:4}  fec {:3}  jitter {:5.1} ms  buffer {:5.1} ms  level {:6.1} dBov  R {:4.1}  MOS {:.2}{}",
        s.codec,
        s.packets_received,
        s.packets_lost,
        s.packets_concealed,
        s.fec_recovered,
        s.jitter_ms,
        s.jitter_buffer_delay_ms,
        s.receive.active_level_dbov,
        s.receive.r,
        s.mos,
        if s.degraded { " (degraded)" } else { "" }
    )
}

/// Runs the call.
pub fn call(opts: &CallOptions) -> Result<(), String> {
    if !(0.0..=100.0).contains(&opts.loss) {
        return Err(format!("--loss {} is not 0..=100", opts.loss));
    }
    if opts.burst.is_some_and(|b| !(b >= 1.0 && b.is_finite())) {
        return Err("--burst must be at least 1 packet".into());
    }
    let input = crate::input::load(&opts.input)?;
    let mono: Vec<i16> = if input.channels > 1 {
        input
            .samples
            .chunks(usize::from(input.channels))
            .map(|c| (c.iter().map(|&s| i32::from(s)).sum::<i32>() / c.len() as i32) as i16)
            .collect()
    } else {
        input.samples.clone()
    };
    let duration = opts.duration.unwrap_or(input.duration_secs());
    if !(duration > 0.0 && duration <= 24.0 * 3600.0) {
        return Err(format!(
            "--duration {duration} is not a positive number of seconds"
        ));
    }
    let bind = |who: &str| {
        UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("{who}: bind 127.0.0.1: {e}"))
    };
    let mut alice = side(bind("alice")?, opts, "alice", opts.seed)?;
    let mut bob = side(bind("bob")?, opts, "bob", opts.seed.wrapping_add(1))?;

    let t0 = Instant::now();
    let offer = alice.ctl.create_offer();
    let answer = bob
        .ctl
        .accept_offer(t0, offer.as_bytes())
        .map_err(|e| format!("negotiation: {e}"))?;
    alice
        .ctl
        .apply_answer(t0, answer.as_bytes())
        .map_err(|e| format!("negotiation: {e}"))?;
    alice.ctl.start(t0).map_err(|e| e.to_string())?;
    bob.ctl.start(t0).map_err(|e| e.to_string())?;
    let format = alice
        .ctl
        .audio_format()
        .ok_or("no audio format negotiated")?;
    let rate = format.sample_rate.0;
    let ch = usize::from(format.channels.max(1));
    let source = resample_all(&mono, input.sample_rate, rate, 1)
        .map_err(|e| format!("{}: {e}", opts.input))?;
    if source.is_empty() {
        return Err(format!("{}: no audio", opts.input));
    }
    let frame = alice.ctl.frame_samples();
    let per_channel = frame / ch;
    // Play on for the jitter buffer's delay after the input ends.
    let ticks = (duration * 100.0).ceil() as u64 + 30;
    let mut recorded: Vec<i16> = Vec::with_capacity(ticks as usize * per_channel);
    let mut capture = vec![0i16; frame];
    let mut playout = vec![0i16; frame];
    let mut buf = vec![0u8; 4096];
    let live = std::io::stderr().is_terminal() && !opts.json;
    let mut next_status = Duration::from_millis(500);
    for tick in 0..ticks {
        let at = Duration::from_millis(10 * tick);
        let now = if opts.fast {
            t0 + at
        } else {
            let due = t0 + at;
            let wall = Instant::now();
            if due > wall {
                std::thread::sleep(due - wall);
            }
            Instant::now()
        };
        for side in [&mut alice, &mut bob] {
            side.receive(now, &mut buf)?;
            side.timers(now, t0);
        }
        // Capture: the input (looped if the duration is longer), silence after the end.
        let start = tick as usize * per_channel;
        for i in 0..per_channel {
            let s = if (tick as f64) < duration * 100.0 {
                source[(start + i) % source.len()]
            } else {
                0
            };
            for c in 0..ch {
                capture[i * ch + c] = s;
            }
        }
        alice.ctl.push_capture_frame(now, &capture);
        bob.ctl.push_capture_frame(now, &capture);
        alice.ctl.pull_playout_frame(now, &mut playout);
        let n = bob.ctl.pull_playout_frame(now, &mut playout);
        recorded.extend(playout[..n].chunks(ch).map(|c| c[0]));
        for side in [&mut alice, &mut bob] {
            side.send(now, &mut buf)?;
        }
        for side in [&mut alice, &mut bob] {
            side.receive(now, &mut buf)?;
        }
        if live && at >= next_status {
            next_status += Duration::from_millis(500);
            if let Some(s) = bob.ctl.stats() {
                eprint!("\r{}", status_line(&s, at.as_secs_f64()));
                let _ = std::io::stderr().flush();
            }
        }
    }
    if live {
        eprintln!();
    }
    let b = bob.ctl.stats().ok_or("no call statistics")?;
    let a = alice.ctl.stats().ok_or("no call statistics")?;
    let now = if opts.fast {
        t0 + Duration::from_millis(10 * ticks)
    } else {
        Instant::now()
    };
    let _ = alice.ctl.stop(now);
    let _ = bob.ctl.stop(now);
    let _ = alice.send(now, &mut buf);
    let _ = bob.send(now, &mut buf);
    if let Some(path) = &opts.record {
        write_wav(
            Path::new(path),
            &WavAudio {
                sample_rate: rate,
                channels: 1,
                samples: recorded,
            },
        )
        .map_err(|e| format!("{path}: {e}"))?;
    }
    let dropped = alice.net.stats().dropped();
    if opts.json {
        println!(
            "{}",
            serde_json::json!({
                "codec": b.codec,
                "srtp": opts.srtp,
                "duration_s": duration,
                "packets_sent": a.counters.audio_packets_sent,
                "packets_received": b.packets_received,
                "packets_lost": b.packets_lost,
                "network_dropped": dropped,
                "packets_concealed": b.packets_concealed,
                "fec_recovered": b.fec_recovered,
                "late": b.late,
                "jitter_ms": round2(b.jitter_ms),
                "jitter_buffer_delay_ms": round2(b.jitter_buffer_delay_ms),
                "jitter_buffer_target_ms": round2(b.jitter_buffer_target_ms),
                "rtt_ms": b.rtt_ms.map(round2),
                "mos": round2(b.mos),
                "r": round2(b.receive.r),
                "loss_pct": round2(b.receive.loss_pct),
                "concealed_pct": round2(100.0 * b.receive.concealed_fraction),
                "fec_pct": round2(100.0 * b.receive.fec_fraction),
                "receive_level_dbov": round2(f64::from(b.receive.active_level_dbov)),
                "quality_degraded": b.degraded,
                "adaptation": a.adaptation.map(|d| serde_json::json!({
                    "bitrate": d.bitrate,
                    "fec": d.fec,
                    "expected_loss_pct": d.expected_loss_pct,
                    "ptime_ms": d.ptime_ms,
                })),
                "events": {
                    "alice": alice.quality_events,
                    "bob": bob.quality_events,
                },
                "srtp_failures": b.counters.srtp_failures,
                "record": opts.record,
            })
        );
    } else {
        println!(
            "call {} {:.1} s{}: sent {} packets, received {}, lost {} (network dropped {}), \
             concealed {}, FEC recovered {}, jitter {:.1} ms, buffer {:.1} ms, MOS {:.2} (last 5 s)",
            b.codec,
            duration,
            if opts.srtp { " (SRTP)" } else { "" },
            a.counters.audio_packets_sent,
            b.packets_received,
            b.packets_lost,
            dropped,
            b.packets_concealed,
            b.fec_recovered,
            b.jitter_ms,
            b.jitter_buffer_delay_ms,
            b.mos
        );
        for e in &bob.quality_events {
            println!("  bob: {e}");
        }
        for e in &alice.quality_events {
            println!("  alice: {e}");
        }
    }
    Ok(())
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
