//! A seeded, deterministic network emulator (sans-IO): loss (random or Gilbert-Elliott
//! bursts), delay with jitter, reordering, duplication and a rate limit with a bounded queue.
//!
//! ```
//! use rtp_core::netem::{Netem, NetemConfig, LossModel, JitterDist};
//! use std::time::{Duration, Instant};
//!
//! let mut net = Netem::<Vec<u8>>::new(NetemConfig {
//!     seed: 7,
//!     loss: LossModel::Random { probability: 0.1 },
//!     delay: Duration::from_millis(30),
//!     jitter: JitterDist::Uniform { max: Duration::from_millis(40) },
//!     ..NetemConfig::default()
//! }).unwrap();
//! let t0 = Instant::now();
//! net.send(t0, vec![0u8; 172]);
//! while let Some(at) = net.poll_timeout() {
//!     if let Some(pkt) = net.poll_deliver(at) {
//!         assert_eq!(pkt.len(), 172);
//!     }
//! }
//! ```
//!
//! The stages follow Linux netem's order: loss, duplication, rate limit (a link that
//! serialises packets at `bits_per_sec` behind a queue of bounded size: a packet that does not
//! fit is dropped), then delay plus a random jitter drawn per packet (which reorders packets
//! when it exceeds their spacing), plus an explicit reordering: with probability `reorder` a
//! packet is held back by `reorder_delay` so that later ones overtake it. The PRNG is
//! SplitMix64; the same seed and the same calls give the same output on every machine.

use crate::jitter::JitterPacket;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt;
use std::time::{Duration, Instant};

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, statistically good enough here.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.next_f64() < p
    }

    /// Standard normal (Box-Muller).
    pub fn next_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // (0, 1]
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// The size of a packet on the wire, for the rate limit.
pub trait WireSize {
    /// Bytes on the wire (before the link's per-packet overhead).
    fn wire_size(&self) -> usize;
}

impl WireSize for Vec<u8> {
    fn wire_size(&self) -> usize {
        self.len()
    }
}

impl WireSize for Box<[u8]> {
    fn wire_size(&self) -> usize {
        self.len()
    }
}

impl WireSize for JitterPacket {
    /// Payload plus a 12-byte RTP header.
    fn wire_size(&self) -> usize {
        self.payload.len() + 12
    }
}

/// Gilbert-Elliott two-state loss: a good and a bad state, each with its own loss
/// probability; per packet the loss is drawn in the current state, then the state moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GilbertElliott {
    /// P(good -> bad) per packet.
    pub p: f64,
    /// P(bad -> good) per packet.
    pub r: f64,
    /// Loss probability in the good state (often 0).
    pub loss_good: f64,
    /// Loss probability in the bad state (often 1).
    pub loss_bad: f64,
}

impl GilbertElliott {
    /// The Gilbert model with a mean loss rate (0..1) and a mean burst length in packets
    /// (>= 1): every packet is lost in the bad state and none in the good one, so
    /// `r = 1 / burst` and `p = loss * r / (1 - loss)`.
    pub fn from_mean_loss(loss: f64, mean_burst: f64) -> Self {
        let loss = if loss.is_finite() {
            loss.clamp(0.0, 0.999)
        } else {
            0.0
        };
        let burst = if mean_burst.is_finite() {
            mean_burst.max(1.0)
        } else {
            1.0
        };
        let r = 1.0 / burst;
        Self {
            p: (loss * r / (1.0 - loss)).min(1.0),
            r,
            loss_good: 0.0,
            loss_bad: 1.0,
        }
    }

    /// The long-run loss rate.
    pub fn mean_loss(&self) -> f64 {
        let pb = if self.p + self.r > 0.0 {
            self.p / (self.p + self.r)
        } else {
            0.0
        };
        pb * self.loss_bad + (1.0 - pb) * self.loss_good
    }
}

/// Which packets are lost.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum LossModel {
    /// None.
    #[default]
    None,
    /// Each packet independently.
    Random {
        /// Loss probability, 0..1.
        probability: f64,
    },
    /// Bursts.
    GilbertElliott(GilbertElliott),
}

/// The distribution of the random extra delay.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum JitterDist {
    /// No jitter.
    #[default]
    None,
    /// Uniform in `[0, max]`.
    Uniform {
        /// Largest extra delay.
        max: Duration,
    },
    /// Normal, clamped at 0.
    Normal {
        /// Mean extra delay.
        mean: Duration,
        /// Standard deviation.
        std_dev: Duration,
    },
    /// Heavy tail: Lomax (Pareto shifted to 0), `scale * (U^(-1/shape) - 1)`, clamped at
    /// `cap`. Mean `scale / (shape - 1)` for `shape > 1`.
    Pareto {
        /// Scale.
        scale: Duration,
        /// Shape (tail index; smaller is heavier).
        shape: f64,
        /// Largest extra delay.
        cap: Duration,
    },
}

/// A link of limited rate with a bounded queue in front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Link rate, bits per second.
    pub bits_per_sec: u64,
    /// Queue size in bytes (packets that would overflow it are dropped).
    pub queue_bytes: usize,
    /// Bytes added to each packet on the link (e.g. 28 for IPv4 + UDP).
    pub overhead_bytes: usize,
}

/// Emulator configuration; the default passes everything through at once.
#[derive(Debug, Clone, PartialEq)]
pub struct NetemConfig {
    /// PRNG seed.
    pub seed: u64,
    /// Loss.
    pub loss: LossModel,
    /// Fixed one-way delay.
    pub delay: Duration,
    /// Random extra delay per packet.
    pub jitter: JitterDist,
    /// Probability that a packet is held back by `reorder_delay` (explicit reordering).
    pub reorder: f64,
    /// How long a reordered packet is held back.
    pub reorder_delay: Duration,
    /// Probability that a packet is duplicated.
    pub duplicate: f64,
    /// Rate limit, if any.
    pub rate: Option<RateLimit>,
    /// Most packets in flight (Linux netem's `limit`); more are dropped.
    pub limit: usize,
}

impl Default for NetemConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            loss: LossModel::None,
            delay: Duration::ZERO,
            jitter: JitterDist::None,
            reorder: 0.0,
            reorder_delay: Duration::from_millis(50),
            duplicate: 0.0,
            rate: None,
            limit: 1000,
        }
    }
}

impl NetemConfig {
    /// Checks probabilities and sizes.
    pub fn validate(&self) -> Result<(), NetemConfigError> {
        let prob = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        let ok_loss = match self.loss {
            LossModel::None => true,
            LossModel::Random { probability } => prob(probability),
            LossModel::GilbertElliott(g) => {
                prob(g.p) && prob(g.r) && prob(g.loss_good) && prob(g.loss_bad)
            }
        };
        if !ok_loss || !prob(self.reorder) || !prob(self.duplicate) {
            return Err(NetemConfigError::Probability);
        }
        if let JitterDist::Pareto { shape, .. } = self.jitter {
            if !(shape.is_finite() && shape > 0.0) {
                return Err(NetemConfigError::Jitter);
            }
        }
        if let Some(r) = self.rate {
            if r.bits_per_sec == 0 || r.queue_bytes == 0 {
                return Err(NetemConfigError::Rate);
            }
        }
        if self.limit == 0 || self.limit > 10_000_000 {
            return Err(NetemConfigError::Limit);
        }
        Ok(())
    }
}

/// An invalid [`NetemConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetemConfigError {
    /// A probability is not in [0, 1].
    Probability,
    /// The Pareto shape is not positive.
    Jitter,
    /// Zero rate or queue size.
    Rate,
    /// `limit` is 0 or absurd.
    Limit,
}

impl fmt::Display for NetemConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Probability => "netem: probabilities must be in [0, 1]",
            Self::Jitter => "netem: Pareto shape must be positive",
            Self::Rate => "netem: rate and queue size must be positive",
            Self::Limit => "netem: limit must be in 1..=10000000",
        })
    }
}

impl std::error::Error for NetemConfigError {}

/// Emulator counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetemStats {
    /// Packets passed to `send`.
    pub sent: u64,
    /// Packets handed out by `poll_deliver` (duplicates included).
    pub delivered: u64,
    /// Duplicates made.
    pub duplicated: u64,
    /// Deliveries of a packet sent before one already delivered.
    pub reordered: u64,
    /// Dropped by the loss model.
    pub dropped_loss: u64,
    /// Dropped because the rate-limit queue was full.
    pub dropped_queue: u64,
    /// Dropped because `limit` packets were in flight.
    pub dropped_limit: u64,
    /// Bytes handed out (wire size, without overhead).
    pub delivered_bytes: u64,
}

impl NetemStats {
    /// All drops.
    pub fn dropped(&self) -> u64 {
        self.dropped_loss + self.dropped_queue + self.dropped_limit
    }
}

#[derive(Debug)]
struct InFlight<T> {
    at: Instant,
    order: u64,
    id: u64,
    size: usize,
    pkt: T,
}

impl<T> PartialEq for InFlight<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}

impl<T> Eq for InFlight<T> {}

impl<T> PartialOrd for InFlight<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for InFlight<T> {
    /// Reversed: the earliest delivery is the heap's maximum.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.order).cmp(&(self.at, self.order))
    }
}

/// The emulator; see the [module docs](self).
#[derive(Debug)]
pub struct Netem<T> {
    cfg: NetemConfig,
    rng: SplitMix64,
    ge_bad: bool,
    link_free: Option<Instant>,
    heap: BinaryHeap<InFlight<T>>,
    next_id: u64,
    next_order: u64,
    max_delivered: Option<u64>,
    stats: NetemStats,
}

impl<T: Clone> Netem<T> {
    /// An emulator for `cfg`, or why `cfg` is invalid.
    pub fn new(cfg: NetemConfig) -> Result<Self, NetemConfigError> {
        cfg.validate()?;
        Ok(Self {
            rng: SplitMix64::new(cfg.seed),
            ge_bad: false,
            link_free: None,
            heap: BinaryHeap::new(),
            next_id: 0,
            next_order: 0,
            max_delivered: None,
            stats: NetemStats::default(),
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &NetemConfig {
        &self.cfg
    }

    /// Changes the rate limit from now on (a link that gets slower or faster mid-call).
    /// Packets already queued keep their departure times.
    pub fn set_rate(&mut self, rate: Option<RateLimit>) -> Result<(), NetemConfigError> {
        let cfg = NetemConfig {
            rate,
            ..self.cfg.clone()
        };
        cfg.validate()?;
        self.cfg = cfg;
        Ok(())
    }

    /// Sends a packet at `now`.
    pub fn send(&mut self, now: Instant, pkt: T)
    where
        T: WireSize,
    {
        let size = pkt.wire_size();
        self.send_sized(now, pkt, size);
    }

    /// Sends a packet of `size` bytes at `now` (for packet types without [`WireSize`]).
    pub fn send_sized(&mut self, now: Instant, pkt: T, size: usize) {
        self.stats.sent += 1;
        let id = self.next_id;
        self.next_id += 1;
        if self.lost() {
            self.stats.dropped_loss += 1;
            return;
        }
        if self.rng.chance(self.cfg.duplicate) {
            self.stats.duplicated += 1;
            self.enqueue(now, id, pkt.clone(), size);
        }
        self.enqueue(now, id, pkt, size);
    }

    fn lost(&mut self) -> bool {
        match self.cfg.loss {
            LossModel::None => false,
            LossModel::Random { probability } => self.rng.chance(probability),
            LossModel::GilbertElliott(g) => {
                let lost = self
                    .rng
                    .chance(if self.ge_bad { g.loss_bad } else { g.loss_good });
                let flip = self.rng.chance(if self.ge_bad { g.r } else { g.p });
                self.ge_bad ^= flip;
                lost
            }
        }
    }

    fn jitter(&mut self) -> Duration {
        let secs = match self.cfg.jitter {
            JitterDist::None => return Duration::ZERO,
            JitterDist::Uniform { max } => max.as_secs_f64() * self.rng.next_f64(),
            JitterDist::Normal { mean, std_dev } => {
                mean.as_secs_f64() + std_dev.as_secs_f64() * self.rng.next_normal()
            }
            JitterDist::Pareto { scale, shape, cap } => {
                let u = 1.0 - self.rng.next_f64(); // (0, 1]
                (scale.as_secs_f64() * (u.powf(-1.0 / shape) - 1.0)).min(cap.as_secs_f64())
            }
        };
        if secs.is_finite() && secs > 0.0 {
            Duration::from_secs_f64(secs.min(3600.0))
        } else {
            Duration::ZERO
        }
    }

    fn enqueue(&mut self, now: Instant, id: u64, pkt: T, size: usize) {
        let mut depart = now;
        if let Some(r) = self.cfg.rate {
            let free = self.link_free.map_or(now, |f| f.max(now));
            let backlog = free.saturating_duration_since(now);
            let backlog_bytes = backlog.as_secs_f64() * r.bits_per_sec as f64 / 8.0;
            let wire = size.saturating_add(r.overhead_bytes);
            if backlog_bytes + wire as f64 > r.queue_bytes as f64 {
                self.stats.dropped_queue += 1;
                return;
            }
            let tx = Duration::try_from_secs_f64(wire as f64 * 8.0 / r.bits_per_sec as f64);
            let Some(d) = tx.ok().and_then(|tx| free.checked_add(tx)) else {
                self.stats.dropped_queue += 1;
                return;
            };
            depart = d;
            self.link_free = Some(depart);
        }
        if self.heap.len() >= self.cfg.limit {
            self.stats.dropped_limit += 1;
            return;
        }
        let mut extra = self.cfg.delay.saturating_add(self.jitter());
        if self.rng.chance(self.cfg.reorder) {
            extra = extra.saturating_add(self.cfg.reorder_delay);
        }
        // Instants this far out do not occur; saturate rather than panic.
        let at = depart
            .checked_add(extra)
            .or_else(|| depart.checked_add(Duration::from_secs(3600)))
            .unwrap_or(depart);
        let order = self.next_order;
        self.next_order += 1;
        self.heap.push(InFlight {
            at,
            order,
            id,
            size,
            pkt,
        });
    }

    /// The next packet due at or before `now`, in delivery order.
    pub fn poll_deliver(&mut self, now: Instant) -> Option<T> {
        if self.heap.peek()?.at > now {
            return None;
        }
        let f = self.heap.pop()?;
        self.stats.delivered += 1;
        self.stats.delivered_bytes += f.size as u64;
        match self.max_delivered {
            Some(m) if f.id < m => self.stats.reordered += 1,
            _ => self.max_delivered = Some(f.id),
        }
        Some(f.pkt)
    }

    /// When the next packet is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.heap.peek().map(|f| f.at)
    }

    /// Packets in flight.
    pub fn in_flight(&self) -> usize {
        self.heap.len()
    }

    /// Counters.
    pub fn stats(&self) -> &NetemStats {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `n` packets `spacing` apart; returns (packet, delivery time since the start).
    fn run(cfg: NetemConfig, n: u64, spacing: Duration) -> (Vec<(u64, Duration)>, NetemStats) {
        let mut net = Netem::<u64>::new(cfg).unwrap();
        let t0 = Instant::now();
        let mut out = Vec::new();
        for i in 0..n {
            let now = t0 + spacing * i as u32;
            while let Some(p) = net.poll_deliver(now) {
                out.push((p, now - t0));
            }
            net.send_sized(now, i, 172);
        }
        while let Some(at) = net.poll_timeout() {
            while let Some(p) = net.poll_deliver(at) {
                out.push((p, at - t0));
            }
        }
        (out, net.stats().clone())
    }

    const MS20: Duration = Duration::from_millis(20);

    #[test]
    fn passthrough() {
        let (out, st) = run(NetemConfig::default(), 100, MS20);
        assert_eq!(
            out.iter().map(|o| o.0).collect::<Vec<_>>(),
            (0..100).collect::<Vec<_>>()
        );
        assert_eq!((st.sent, st.delivered, st.dropped()), (100, 100, 0));
    }

    #[test]
    fn random_loss_converges() {
        let cfg = NetemConfig {
            seed: 1,
            loss: LossModel::Random { probability: 0.1 },
            ..NetemConfig::default()
        };
        let (_, st) = run(cfg, 100_000, MS20);
        let rate = st.dropped_loss as f64 / st.sent as f64;
        assert!((rate - 0.1).abs() < 0.005, "loss {rate}");
    }

    #[test]
    fn gilbert_elliott_mean_loss_and_burst() {
        let ge = GilbertElliott::from_mean_loss(0.05, 3.0);
        assert!((ge.mean_loss() - 0.05).abs() < 1e-12);
        let cfg = NetemConfig {
            seed: 2,
            loss: LossModel::GilbertElliott(ge),
            ..NetemConfig::default()
        };
        let n = 200_000u64;
        let (out, st) = run(cfg, n, MS20);
        let rate = st.dropped_loss as f64 / n as f64;
        assert!((rate - 0.05).abs() < 0.005, "loss {rate}");
        let mut got = vec![false; n as usize];
        for (i, _) in &out {
            got[*i as usize] = true;
        }
        let (mut bursts, mut lost, mut run_len) = (0u64, 0u64, 0u64);
        for g in got.iter().chain(std::iter::once(&true)) {
            if *g {
                if run_len > 0 {
                    bursts += 1;
                    lost += run_len;
                }
                run_len = 0;
            } else {
                run_len += 1;
            }
        }
        let mean = lost as f64 / bursts as f64;
        assert!((mean - 3.0).abs() < 0.15, "mean burst {mean}");
    }

    #[test]
    fn same_seed_same_output() {
        let cfg = NetemConfig {
            seed: 42,
            loss: LossModel::Random { probability: 0.05 },
            jitter: JitterDist::Normal {
                mean: Duration::from_millis(10),
                std_dev: Duration::from_millis(15),
            },
            duplicate: 0.02,
            reorder: 0.02,
            ..NetemConfig::default()
        };
        let order = |o: &[(u64, Duration)]| -> Vec<u64> { o.iter().map(|x| x.0).collect() };
        let (a, sa) = run(cfg.clone(), 5000, MS20);
        let (b, sb) = run(cfg.clone(), 5000, MS20);
        assert!(a == b, "same seed, same packets at the same instants");
        assert_eq!(sa, sb);
        let (c, _) = run(NetemConfig { seed: 43, ..cfg }, 5000, MS20);
        assert!(order(&a) != order(&c), "another seed differs");
    }

    #[test]
    fn jitter_reorders_and_duplicates_counted() {
        let cfg = NetemConfig {
            seed: 3,
            delay: Duration::from_millis(50),
            jitter: JitterDist::Uniform {
                max: Duration::from_millis(60),
            },
            duplicate: 0.05,
            ..NetemConfig::default()
        };
        let (out, st) = run(cfg, 10_000, MS20);
        assert_eq!(out.len() as u64, st.delivered);
        assert_eq!(st.delivered, 10_000 + st.duplicated);
        assert!((st.duplicated as f64 / 10_000.0 - 0.05).abs() < 0.01);
        assert!(st.reordered > 1000, "{st:?}");
    }

    #[test]
    fn explicit_reorder_without_jitter() {
        let cfg = NetemConfig {
            seed: 4,
            reorder: 0.1,
            reorder_delay: Duration::from_millis(50),
            ..NetemConfig::default()
        };
        let (_, st) = run(cfg, 10_000, MS20);
        let r = st.reordered as f64 / 10_000.0;
        assert!((r - 0.1).abs() < 0.015, "{st:?}");
    }

    #[test]
    fn rate_limit_converges_and_drops_when_queue_full() {
        // Offer 400 kbit/s into a 200 kbit/s link.
        let rate = RateLimit {
            bits_per_sec: 200_000,
            queue_bytes: 10_000,
            overhead_bytes: 28,
        };
        let cfg = NetemConfig {
            seed: 5,
            rate: Some(rate),
            ..NetemConfig::default()
        };
        let mut net = Netem::<Vec<u8>>::new(cfg).unwrap();
        let t0 = Instant::now();
        let mut bits = 0u64;
        let mut last = t0;
        let step = Duration::from_millis(5);
        for i in 0..12_000u32 {
            let now = t0 + step * i;
            while let Some(p) = net.poll_deliver(now) {
                bits += (p.len() as u64 + 28) * 8;
                last = now;
            }
            net.send(now, vec![0u8; 222]); // 250 B on the wire every 5 ms = 400 kbit/s
        }
        let secs = last.duration_since(t0).as_secs_f64();
        let got = bits as f64 / secs;
        assert!((got - 200_000.0).abs() / 200_000.0 < 0.01, "{got} bit/s");
        let st = net.stats();
        let drop = st.dropped_queue as f64 / st.sent as f64;
        assert!((drop - 0.5).abs() < 0.02, "{st:?}");
    }

    #[test]
    fn limit_bounds_in_flight() {
        let cfg = NetemConfig {
            delay: Duration::from_secs(1),
            limit: 100,
            ..NetemConfig::default()
        };
        let mut net = Netem::<u8>::new(cfg).unwrap();
        let now = Instant::now();
        for _ in 0..100_000 {
            net.send_sized(now, 0, 1);
        }
        assert_eq!(net.in_flight(), 100);
        assert_eq!(net.stats().dropped_limit, 100_000 - 100);
    }

    #[test]
    fn pareto_and_bad_configs() {
        let cfg = NetemConfig {
            jitter: JitterDist::Pareto {
                scale: Duration::from_millis(5),
                shape: 1.5,
                cap: Duration::from_millis(500),
            },
            ..NetemConfig::default()
        };
        let (out, _) = run(cfg, 1000, MS20);
        assert_eq!(out.len(), 1000);
        let bad = NetemConfig {
            duplicate: 1.5,
            ..NetemConfig::default()
        };
        assert_eq!(
            Netem::<u8>::new(bad).err(),
            Some(NetemConfigError::Probability)
        );
    }
}
