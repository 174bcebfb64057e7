//! Transport-wide congestion control end to end on virtual time: two sessions with TWCC on,
//! the forward path through netem's rate limit (a bottleneck link with a queue, so delay
//! grows when the sender exceeds it), the sender pacing its media at the session's combined
//! bandwidth estimate. The delay-based estimate must find the bottleneck and follow a drop.
//! Deterministic: virtual time and a seeded netem.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtp_core::netem::{JitterDist, Netem, NetemConfig, RateLimit};
use rtp_core::session::{
    BweConfig, RandomSource, RtpSession, SessionConfig, SessionEvent, TwccConfig,
};
use rtp_core::RtpTimestamp;

fn random(seed: u32) -> Box<dyn RandomSource> {
    let mut x = seed | 1;
    Box::new(move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    })
}

const A: ([u8; 4], u16) = ([10, 0, 0, 1], 5000);
const B: ([u8; 4], u16) = ([10, 0, 0, 2], 6000);
/// Payload per packet; with RTP header, TWCC extension and IPv4/UDP: 1048 bytes on the wire.
const PAYLOAD: usize = 1000;
const WIRE_BITS: f64 = ((PAYLOAD + 12 + 8 + 28) * 8) as f64;

fn session(local: u16, remote: SocketAddr, initial_bps: u64) -> RtpSession {
    let mut c = SessionConfig::new(format!("peer{local}@example.org"), &[(96, 90_000)]);
    c.remote_rtp = Some(remote);
    c.twcc = Some(TwccConfig {
        extension_id: 3,
        feedback_interval: Duration::from_millis(50),
    });
    c.bwe = BweConfig {
        initial_bps,
        ..BweConfig::default()
    };
    RtpSession::new(c, Instant::now(), random(u32::from(local))).expect("valid config")
}

fn link(bps: u64) -> Option<RateLimit> {
    Some(RateLimit {
        bits_per_sec: bps,
        // About 240 ms at 1 Mbit/s, 800 ms at 300 kbit/s, before drop-tail.
        queue_bytes: 30_000,
        overhead_bytes: 28,
    })
}

struct Call {
    t0: Instant,
    now: Instant,
    a: RtpSession,
    b: RtpSession,
    forward: Netem<Vec<u8>>,
    backward: Netem<Vec<u8>>,
    budget_bits: f64,
    media_ts: u32,
    /// (seconds since start, combined estimate at A) every 100 ms.
    trace: Vec<(f64, u64)>,
    /// The `BandwidthEstimate` events A raised.
    estimate_events: Vec<u64>,
}

impl Call {
    fn new(initial_bps: u64, limit_bps: u64) -> Self {
        Self::with_jitter(initial_bps, limit_bps, JitterDist::None)
    }

    fn with_jitter(initial_bps: u64, limit_bps: u64, jitter: JitterDist) -> Self {
        let t0 = Instant::now();
        let (aa, bb) = (SocketAddr::from(A), SocketAddr::from(B));
        let net = |seed, rate| {
            Netem::new(NetemConfig {
                seed,
                delay: Duration::from_millis(25),
                jitter,
                rate,
                ..NetemConfig::default()
            })
            .expect("valid netem")
        };
        Self {
            t0,
            now: t0,
            a: session(A.1, bb, initial_bps),
            b: session(B.1, aa, initial_bps),
            forward: net(11, link(limit_bps)),
            backward: net(12, None),
            budget_bits: 0.0,
            media_ts: 0,
            trace: Vec::new(),
            estimate_events: Vec::new(),
        }
    }

    fn estimate(&self) -> u64 {
        self.a.bandwidth_estimator().estimate(self.now)
    }

    /// Runs the call in 1 ms steps for `secs` seconds.
    fn run(&mut self, secs: u32) {
        let (aa, bb) = (SocketAddr::from(A), SocketAddr::from(B));
        let mut buf = vec![0u8; 1500];
        let payload = [0x5Au8; PAYLOAD];
        for _ in 0..secs * 1000 {
            self.now += Duration::from_millis(1);
            let now = self.now;
            while let Some(p) = self.forward.poll_deliver(now) {
                let _ = self.b.handle_packet(now, aa, &p);
            }
            while let Some(p) = self.backward.poll_deliver(now) {
                let _ = self.a.handle_packet(now, bb, &p);
            }
            for s in [&mut self.a, &mut self.b] {
                if s.poll_timeout().is_some_and(|t| t <= now) {
                    s.handle_timeout(now);
                }
            }
            // A paces 1000-byte packets at its estimate (a token bucket, at most 2 packets
            // of burst).
            let rate = self.estimate() as f64;
            self.budget_bits = (self.budget_bits + rate / 1000.0).min(2.0 * WIRE_BITS);
            while self.budget_bits >= WIRE_BITS {
                self.budget_bits -= WIRE_BITS;
                let t = self
                    .a
                    .send_rtp(
                        now,
                        96,
                        RtpTimestamp(self.media_ts),
                        false,
                        &payload,
                        &mut buf,
                    )
                    .expect("send");
                self.forward.send(now, t.contents.to_vec());
                self.media_ts = self.media_ts.wrapping_add(900);
            }
            while let Some(t) = self.a.poll_transmit(now) {
                self.forward.send(now, t.contents.to_vec());
            }
            while let Some(t) = self.b.poll_transmit(now) {
                self.backward.send(now, t.contents.to_vec());
            }
            while let Some(e) = self.a.poll_event() {
                if let SessionEvent::BandwidthEstimate { bps } = e {
                    self.estimate_events.push(bps);
                }
            }
            while self.b.poll_event().is_some() {}
            let ms = now.duration_since(self.t0).as_millis();
            if ms.is_multiple_of(100) {
                self.trace.push((ms as f64 / 1000.0, self.estimate()));
            }
        }
    }

    /// Mean and range of the estimate over `[from, to)` seconds.
    fn window(&self, from: f64, to: f64) -> (f64, u64, u64) {
        let v: Vec<u64> = self
            .trace
            .iter()
            .filter(|(t, _)| *t >= from && *t < to)
            .map(|&(_, e)| e)
            .collect();
        let mean = v.iter().sum::<u64>() as f64 / v.len().max(1) as f64;
        let (lo, hi) = (v.iter().min().copied(), v.iter().max().copied());
        (mean, lo.unwrap_or(0), hi.unwrap_or(0))
    }

    fn print(&self) {
        for chunk in self.trace.chunks(10) {
            let (t, e) = chunk[0];
            eprint!("{t:5.1}s {:5.0}k  ", e as f64 / 1000.0);
        }
        eprintln!();
    }
}

fn assert_near(what: &str, mean: f64, target: f64) {
    let err = (mean - target) / target;
    assert!(
        err.abs() <= 0.2,
        "{what}: mean {mean:.0} bit/s, {:+.1}% off {target}",
        100.0 * err
    );
}

#[test]
fn converges_up_to_1_mbit() {
    let mut call = Call::new(300_000, 1_000_000);
    call.run(40);
    call.print();
    let (mean, lo, hi) = call.window(30.0, 40.0);
    eprintln!("1 Mbit/s: last 10 s mean {mean:.0}, range {lo}..{hi}");
    assert_near("1 Mbit/s", mean, 1_000_000.0);
    let stats = call.a.twcc_stats().expect("twcc on");
    assert!(stats.feedback_received > 500, "{stats:?}");
    assert_eq!(stats.unknown_reports, 0, "{stats:?}");
    assert!(call.a.bandwidth_estimator().delay_based_bps().is_some());
    // The media layer hears of the changes: the estimate climbed through events.
    let events = &call.estimate_events;
    assert!(events.len() > 10, "{events:?}");
    assert!(events.iter().any(|&e| e > 800_000), "{events:?}");
}

#[test]
fn converges_down_to_300_kbit() {
    let mut call = Call::new(1_000_000, 300_000);
    call.run(30);
    call.print();
    let (mean, lo, hi) = call.window(20.0, 30.0);
    eprintln!("300 kbit/s: last 10 s mean {mean:.0}, range {lo}..{hi}");
    assert_near("300 kbit/s", mean, 300_000.0);
}

#[test]
fn follows_a_rate_drop_within_seconds() {
    let mut call = Call::new(1_000_000, 1_000_000);
    call.run(20);
    let (before, _, _) = call.window(10.0, 20.0);
    assert_near("before the drop", before, 1_000_000.0);
    call.forward.set_rate(link(300_000)).expect("valid rate");
    call.run(20);
    call.print();
    let reacted = call
        .trace
        .iter()
        .find(|(t, e)| *t > 20.0 && (*e as f64) < 1.2 * 300_000.0)
        .map(|(t, _)| t - 20.0);
    eprintln!("estimate below 360 kbit/s {reacted:?} s after the drop");
    let reacted = reacted.expect("the estimate came down");
    assert!(reacted < 4.0, "took {reacted} s");
    let (after, _, _) = call.window(30.0, 40.0);
    eprintln!("mean {before:.0} bit/s over 10-20 s, {after:.0} bit/s over 30-40 s");
    assert_near("after the drop", after, 300_000.0);
}

/// Delay jitter (normal, 3 ms standard deviation, which also reorders packets) on top of the
/// bottleneck must not read as congestion: the estimate still reaches the link rate.
#[test]
fn converges_under_jitter() {
    let jitter = JitterDist::Normal {
        mean: Duration::from_millis(5),
        std_dev: Duration::from_millis(3),
    };
    let mut call = Call::with_jitter(300_000, 1_000_000, jitter);
    call.run(40);
    call.print();
    let (mean, lo, hi) = call.window(30.0, 40.0);
    eprintln!("1 Mbit/s with jitter: last 10 s mean {mean:.0}, range {lo}..{hi}");
    assert_near("1 Mbit/s with jitter", mean, 1_000_000.0);
}
