//! How many G.711 calls one core sustains in real time: the full per-call path (controller,
//! adapter, RTP session with RTCP, jitter buffer, G.711 encode and decode with PLC), both
//! directions, 20 ms packets, measured per 20 ms of media.
//!
//! A "call" is one leg as a media server runs it: it encodes and sends 50 packets/s and
//! receives, buffers and decodes 50 packets/s. The example wires pairs of controllers back to
//! back and divides by two. Two runs: in memory (datagrams handed over directly) and over
//! real UDP loopback sockets (one socket per leg; send_to + recv_from per packet).
//!
//! `cargo run --release -p media-cli --example calls_per_core [-- PAIRS SECONDS]`

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use media_core::codec::CodecRegistry;
use media_core::integration::sdp::SrtpPolicy;
use media_core::integration::session_core::{ControllerConfig, MediaSessionController};

fn controller(addr: SocketAddr, seed: u64) -> MediaSessionController {
    let mut cfg = ControllerConfig::new(addr);
    cfg.codecs = vec!["pcmu".into()];
    cfg.srtp = SrtpPolicy::Disabled;
    let mut s = seed;
    let random = Box::new(move |buf: &mut [u8]| {
        for b in buf {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *b = (s >> 33) as u8;
        }
    });
    MediaSessionController::new(CodecRegistry::with_builtin(), cfg, random).expect("controller")
}

struct Leg {
    ctl: MediaSessionController,
    socket: Option<UdpSocket>,
    addr: SocketAddr,
}

fn pair(i: u64, udp: bool, t0: Instant) -> (Leg, Leg) {
    let (sa, sb) = if udp {
        let a = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let b = UdpSocket::bind("127.0.0.1:0").expect("bind");
        a.set_nonblocking(true).expect("nonblocking");
        b.set_nonblocking(true).expect("nonblocking");
        (Some(a), Some(b))
    } else {
        (None, None)
    };
    let addr = |s: &Option<UdpSocket>, port: u16| {
        s.as_ref()
            .map(|s| s.local_addr().expect("addr"))
            .unwrap_or_else(|| SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], port)))
    };
    let (aa, ba) = (addr(&sa, 4000), addr(&sb, 5000));
    let mut a = controller(aa, 2 * i + 1);
    let mut b = controller(ba, 2 * i + 2);
    let offer = a.create_offer();
    let answer = b.accept_offer(t0, offer.as_bytes()).expect("answer");
    a.apply_answer(t0, answer.as_bytes()).expect("apply");
    a.start(t0).expect("start");
    b.start(t0).expect("start");
    (
        Leg {
            ctl: a,
            socket: sa,
            addr: aa,
        },
        Leg {
            ctl: b,
            socket: sb,
            addr: ba,
        },
    )
}

fn run(pairs: usize, seconds: u64, udp: bool) -> f64 {
    let t0 = Instant::now();
    let mut legs: Vec<(Leg, Leg)> = (0..pairs as u64).map(|i| pair(i, udp, t0)).collect();
    let pcm: Vec<i16> = (0..80)
        .map(|i| ((i as f64 * 0.3).sin() * 8000.0) as i16)
        .collect();
    let mut out = vec![0i16; 80];
    let mut buf = vec![0u8; 2048];
    let mut rbuf = vec![0u8; 2048];
    let ticks = seconds * 100;
    let start = cpu_time();
    for tick in 0..ticks {
        let now = t0 + Duration::from_millis(10 * tick);
        for (a, b) in legs.iter_mut() {
            for dir in 0..2 {
                let (src, dst) = if dir == 0 {
                    (&mut *a, &mut *b)
                } else {
                    (&mut *b, &mut *a)
                };
                src.ctl.push_capture_frame(now, &pcm);
                src.ctl.pull_playout_frame(now, &mut out);
                if src.ctl.poll_timeout().is_some_and(|t| t <= now) {
                    src.ctl.handle_timeout(now);
                }
                while let Some((to, len)) = src.ctl.poll_transmit(now, &mut buf) {
                    match (&src.socket, &dst.socket) {
                        (Some(s), Some(d)) => {
                            let _ = s.send_to(&buf[..len], to);
                            while let Ok((n, from)) = d.recv_from(&mut rbuf) {
                                dst.ctl.handle_datagram(now, from, &rbuf[..n]);
                            }
                        }
                        _ => dst.ctl.handle_datagram(now, src.addr, &buf[..len]),
                    }
                }
                while src.ctl.poll_event().is_some() {}
            }
        }
    }
    let cpu = cpu_time() - start;
    let rx: u64 = legs
        .iter()
        .map(|(a, b)| {
            a.ctl.stats().map_or(0, |s| s.packets_received)
                + b.ctl.stats().map_or(0, |s| s.packets_received)
        })
        .sum();
    let legs_n = (2 * pairs) as f64;
    let per_tick_us = cpu * 1e6 / legs_n / (ticks as f64 / 2.0);
    let calls = 20_000.0 / per_tick_us;
    println!(
        "{}: {} calls x {} s: CPU {:.2} s, {:.2} us per call per 20 ms, {} packets received => {:.0} calls per core",
        if udp { "UDP loopback" } else { "in memory   " },
        legs_n,
        seconds,
        cpu,
        per_tick_us,
        rx,
        calls
    );
    calls
}

/// This process's CPU time (user + system) in seconds, from /proc/self/stat.
fn cpu_time() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 (utime, stime) are at 11 and 12 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let mut args = std::env::args().skip(1);
    let pairs: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(50);
    let seconds: u64 = args.next().and_then(|v| v.parse().ok()).unwrap_or(20);
    run(pairs, seconds, false);
    run(pairs, seconds, true);
}
