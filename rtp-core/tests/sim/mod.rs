//! A deterministic virtual-time network for session tests: two peers wired back to back
//! through links with one-way delay, uniform jitter, Bernoulli loss on RTP and an optional
//! rate-limited drop-tail bottleneck (a tiny stand-in for netem, so these tests depend on
//! nothing else).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtp_core::rtcp::is_rtcp;
use rtp_core::session::{Received, RtpSession, SessionConfig, SessionEvent, TransmitKind};
use rtp_core::RtpTimestamp;

/// xorshift64*: deterministic randomness for tests.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A boxed random source for a session.
    pub fn source(seed: u64) -> Box<dyn rtp_core::session::RandomSource> {
        let mut rng = Rng(seed | 1);
        Box::new(move || rng.next_u32())
    }
}

pub fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1], port))
}

/// One direction of the wire.
#[derive(Debug, Clone)]
pub struct Link {
    pub delay: Duration,
    /// Each RTP packet gets an extra delay uniform in [0, jitter) (RTCP does not, so the RTT
    /// is exact).
    pub jitter: Duration,
    /// Probability an RTP packet is lost (RTCP is never lost, so reports are deterministic).
    pub rtp_loss: f64,
    /// Bottleneck rate in bits per second (None: unlimited).
    pub rate_bps: Option<u64>,
    /// Drop-tail queue limit of the bottleneck, in bytes.
    pub queue_bytes: usize,
    busy_until: Option<Instant>,
    pub rng: Rng,
    pub rtp_sent: u64,
    pub rtp_dropped: u64,
    /// Sequence numbers dropped, in order.
    pub dropped_seqs: Vec<u16>,
}

impl Link {
    pub fn new(delay: Duration, seed: u64) -> Self {
        Self {
            delay,
            jitter: Duration::ZERO,
            rtp_loss: 0.0,
            rate_bps: None,
            queue_bytes: 0,
            busy_until: None,
            rng: Rng(seed | 1),
            rtp_sent: 0,
            rtp_dropped: 0,
            dropped_seqs: Vec::new(),
        }
    }

    /// When a datagram sent at `now` arrives, or `None` if it is lost.
    fn carry(&mut self, now: Instant, bytes: &[u8]) -> Option<Instant> {
        let rtp = !is_rtcp(bytes);
        if rtp {
            self.rtp_sent += 1;
            if self.rng.unit() < self.rtp_loss {
                self.drop(bytes);
                return None;
            }
        }
        let mut leave = now;
        if let Some(rate) = self.rate_bps {
            let start = self.busy_until.map_or(now, |b| b.max(now));
            let backlog_bytes = (start - now).as_secs_f64() * rate as f64 / 8.0;
            if backlog_bytes + bytes.len() as f64 > self.queue_bytes as f64 {
                if rtp {
                    self.drop(bytes);
                }
                return None;
            }
            let tx = Duration::from_secs_f64((bytes.len() + 28) as f64 * 8.0 / rate as f64);
            leave = start + tx;
            self.busy_until = Some(leave);
        }
        let jitter = if rtp {
            self.jitter.mul_f64(self.rng.unit())
        } else {
            Duration::ZERO
        };
        Some(leave + self.delay + jitter)
    }

    fn drop(&mut self, bytes: &[u8]) {
        self.rtp_dropped += 1;
        if let Some(seq) = bytes.get(2..4) {
            self.dropped_seqs.push(u16::from_be_bytes([seq[0], seq[1]]));
        }
    }
}

/// Media a peer sends: a payload of `payload_len` bytes every `period`.
#[derive(Debug, Clone)]
pub struct Media {
    pub pt: u8,
    pub clock_rate: u32,
    pub period: Duration,
    pub payload_len: usize,
    pub next: Instant,
    pub media_ts: u32,
    pub until: Option<Instant>,
}

pub struct Peer {
    pub session: RtpSession,
    pub addr: SocketAddr,
    pub media: Option<Media>,
    /// (sequence number, arrival) of every RTP packet delivered.
    pub delivered: Vec<(u16, Instant)>,
    pub events: Vec<(Instant, SessionEvent)>,
    /// (time, bytes) of every RTCP datagram sent.
    pub rtcp_sent: Vec<(Instant, Vec<u8>)>,
    pub errors: u64,
    /// Called when the peer's media sender wants a new packet period (BWE-driven senders).
    pub rate_follows_estimate: bool,
}

impl Peer {
    pub fn new(session: RtpSession, addr: SocketAddr) -> Self {
        Self {
            session,
            addr,
            media: None,
            delivered: Vec::new(),
            events: Vec::new(),
            rtcp_sent: Vec::new(),
            errors: 0,
            rate_follows_estimate: false,
        }
    }
}

struct InFlight {
    at: Instant,
    to: usize,
    from: SocketAddr,
    bytes: Vec<u8>,
}

/// Two peers and the links between them (`links[0]`: peer 0 to peer 1).
pub struct Sim {
    pub start: Instant,
    pub now: Instant,
    pub peers: [Peer; 2],
    pub links: [Link; 2],
    inflight: Vec<InFlight>,
    buf: Vec<u8>,
}

/// A config for a peer: PCMU and telephone-event, remote address known, latching on.
pub fn config(cname: &str, remote: SocketAddr) -> SessionConfig {
    let mut c = SessionConfig::new(cname, &[(0, 8000), (101, 8000), (96, 48000)]);
    c.remote_rtp = Some(remote);
    c
}

impl Sim {
    pub fn new(start: Instant, a: RtpSession, b: RtpSession, links: [Link; 2]) -> Self {
        Self {
            start,
            now: start,
            peers: [Peer::new(a, addr(5000)), Peer::new(b, addr(6000))],
            links,
            inflight: Vec::new(),
            buf: vec![0; 2048],
        }
    }

    /// Both peers send 20 ms PCMU from `start`.
    pub fn pcmu_both(&mut self) {
        for p in &mut self.peers {
            p.media = Some(Media {
                pt: 0,
                clock_rate: 8000,
                period: Duration::from_millis(20),
                payload_len: 160,
                next: self.start,
                media_ts: 0,
                until: None,
            });
        }
    }

    fn next_time(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n: Instant| n.min(t)));
        for f in &self.inflight {
            consider(f.at);
        }
        for p in &self.peers {
            if let Some(t) = p.session.poll_timeout() {
                consider(t);
            }
            if let Some(m) = &p.media {
                if m.until.is_none_or(|u| m.next < u) {
                    consider(m.next);
                }
            }
        }
        next
    }

    pub fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(t) = self.next_time() {
            if t > end {
                break;
            }
            self.now = t.max(self.now);
            self.step();
        }
        self.now = end;
    }

    fn step(&mut self) {
        let now = self.now;
        // Deliver what arrived.
        let mut i = 0;
        while i < self.inflight.len() {
            if self.inflight[i].at <= now {
                let f = self.inflight.swap_remove(i);
                let peer = &mut self.peers[f.to];
                match peer.session.handle_packet(now, f.from, &f.bytes) {
                    Ok(Some(Received::Rtp(rtp))) => {
                        peer.delivered.push((rtp.packet.sequence_number().0, now))
                    }
                    Ok(_) => {}
                    Err(_) => peer.errors += 1,
                }
            } else {
                i += 1;
            }
        }
        for idx in 0..2 {
            let peer = &mut self.peers[idx];
            if peer.session.poll_timeout().is_some_and(|t| t <= now) {
                peer.session.handle_timeout(now);
            }
            // Media.
            let mut out: Vec<(SocketAddr, Vec<u8>)> = Vec::new();
            if let Some(m) = &mut peer.media {
                if m.next <= now && m.until.is_none_or(|u| m.next < u) {
                    let payload = vec![0xD5u8; m.payload_len];
                    if let Ok(t) = peer.session.send_rtp(
                        now,
                        m.pt,
                        RtpTimestamp(m.media_ts),
                        false,
                        &payload,
                        &mut self.buf,
                    ) {
                        assert_eq!(t.kind, TransmitKind::Rtp);
                        out.push((t.destination, t.contents.to_vec()));
                    }
                    m.media_ts = m
                        .media_ts
                        .wrapping_add((m.period.as_secs_f64() * f64::from(m.clock_rate)) as u32);
                    if peer.rate_follows_estimate {
                        let bps = peer.session.stats().bandwidth_estimate_bps.max(1);
                        m.period = Duration::from_secs_f64(
                            (m.payload_len + 12 + 28) as f64 * 8.0 / bps as f64,
                        );
                    }
                    m.next += m.period;
                }
            }
            while let Some(t) = peer.session.poll_transmit(now) {
                assert_eq!(t.kind, TransmitKind::Rtcp);
                peer.rtcp_sent.push((now, t.contents.to_vec()));
                out.push((t.destination, t.contents.to_vec()));
            }
            while let Some(e) = peer.session.poll_event() {
                peer.events.push((now, e));
            }
            let from = peer.addr;
            for (dest, bytes) in out {
                let to = self.peers.iter().position(|p| p.addr == dest);
                if let Some(to) = to {
                    if let Some(at) = self.links[idx].carry(now, &bytes) {
                        self.inflight.push(InFlight {
                            at,
                            to,
                            from,
                            bytes,
                        });
                    }
                }
            }
        }
    }

    /// Injects a datagram into peer `to` now, as if sent from `from`.
    pub fn inject(&mut self, to: usize, from: SocketAddr, bytes: &[u8]) {
        let peer = &mut self.peers[to];
        match peer.session.handle_packet(self.now, from, bytes) {
            Ok(Some(Received::Rtp(rtp))) => peer
                .delivered
                .push((rtp.packet.sequence_number().0, self.now)),
            Ok(_) => {}
            Err(_) => peer.errors += 1,
        }
        while let Some(e) = peer.session.poll_event() {
            peer.events.push((self.now, e));
        }
    }
}
