//! Delay-based send rate control from transport-wide feedback, after Google Congestion
//! Control (draft-ietf-rmcat-gcc-02 §5) as libwebrtc implements it:
//!
//! 1. **Arrival-time groups**: packets sent within 5 ms of a group's first packet form one
//!    group; for each new group, the one-way delay variation is
//!    `d = (arrival delta) - (send delta)` against the previous group.
//! 2. **Trendline filter**: the accumulated variation is smoothed (factor 0.9) and a
//!    least-squares slope is fitted over the last 20 groups: a growing queue shows as a
//!    positive slope.
//! 3. **Overuse detector**: the slope, scaled by `min(groups, 60) * 4`, is compared with an
//!    adaptive threshold (starts at 12.5, adapts with k_up 0.0087 / k_down 0.039, clamped to
//!    6..600): above it for more than 10 ms and rising is *overuse*, below its negative is
//!    *underuse*, else *normal*.
//! 4. **AIMD rate controller**: overuse cuts the rate to 0.85 x the acknowledged bitrate (at
//!    most once per 200 ms); normal grows it 8 %/s (multiplicative) or, near the link
//!    capacity learned at the last cut, by about one packet per response time (additive);
//!    underuse holds. The rate never exceeds 1.5 x the acknowledged bitrate + 10 kbit/s.
//!
//! Sans-IO: send times are in our clock, arrival times in the peer's (only differences are
//! used), both in microseconds; `now` drives the controller's timing.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Packets sent within this of a group's first packet belong to the group.
const BURST_US: i64 = 5_000;
/// Groups in the trendline regression window.
const WINDOW: usize = 20;
const SMOOTHING: f64 = 0.9;
const THRESHOLD_GAIN: f64 = 4.0;
const K_UP: f64 = 0.0087;
const K_DOWN: f64 = 0.039;
const OVERUSE_TIME_MS: f64 = 10.0;
/// Multiplicative decrease factor.
const BETA: f64 = 0.85;
/// Window of the acknowledged bitrate measurement.
const ACKED_WINDOW_US: i64 = 500_000;
/// Most packets the acknowledged bitrate window holds.
const ACKED_CAPACITY: usize = 1024;
/// Response time for the additive increase (an RTT of 100 ms plus 100 ms).
const RESPONSE_TIME_S: f64 = 0.2;
/// Shortest time between two decreases.
const DECREASE_INTERVAL: Duration = Duration::from_millis(200);

/// What the overuse detector concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandwidthUsage {
    /// Queues are stable.
    Normal,
    /// Queues grow: the send rate exceeds the path.
    Overusing,
    /// Queues drain.
    Underusing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RateState {
    Hold,
    Increase,
    Decrease,
}

/// A group of packets sent in one burst.
#[derive(Debug, Clone, Copy)]
struct Group {
    first_send: i64,
    last_send: i64,
    last_arrival: i64,
}

/// The delay-based controller (GCC: trendline filter, overuse detector, AIMD rate control).
#[derive(Debug, Clone)]
pub struct DelayBasedBwe {
    current: Option<Group>,
    previous: Option<Group>,
    // Trendline.
    first_arrival_ms: Option<f64>,
    accumulated_ms: f64,
    smoothed_ms: f64,
    window: [(f64, f64); WINDOW],
    window_len: usize,
    window_next: usize,
    num_deltas: u32,
    trend: f64,
    prev_trend: f64,
    // Detector.
    threshold: f64,
    last_threshold_ms: Option<f64>,
    overuse_ms: f64,
    overuse_count: u32,
    usage: BandwidthUsage,
    // Acknowledged bitrate.
    acked: VecDeque<(i64, u32)>,
    acked_bytes: u64,
    avg_packet_bits: f64,
    // AIMD.
    rate: f64,
    min_bps: f64,
    max_bps: f64,
    state: RateState,
    last_update: Option<Instant>,
    last_decrease: Option<Instant>,
    link_capacity: Option<f64>,
}

impl DelayBasedBwe {
    /// A controller starting at `initial_bps`, kept within `min_bps..=max_bps`.
    pub fn new(initial_bps: u64, min_bps: u64, max_bps: u64) -> Self {
        let max = max_bps.max(1) as f64;
        let min = (min_bps as f64).min(max);
        Self {
            current: None,
            previous: None,
            first_arrival_ms: None,
            accumulated_ms: 0.0,
            smoothed_ms: 0.0,
            window: [(0.0, 0.0); WINDOW],
            window_len: 0,
            window_next: 0,
            num_deltas: 0,
            trend: 0.0,
            prev_trend: 0.0,
            threshold: 12.5,
            last_threshold_ms: None,
            overuse_ms: -1.0,
            overuse_count: 0,
            usage: BandwidthUsage::Normal,
            acked: VecDeque::with_capacity(ACKED_CAPACITY),
            acked_bytes: 0,
            avg_packet_bits: 8.0 * 1200.0,
            rate: (initial_bps as f64).clamp(min, max),
            min_bps: min,
            max_bps: max,
            state: RateState::Hold,
            last_update: None,
            last_decrease: None,
            link_capacity: None,
        }
    }

    /// The current delay-based rate, bits per second.
    pub fn rate_bps(&self) -> u64 {
        self.rate as u64
    }

    /// The detector's current conclusion.
    pub const fn usage(&self) -> BandwidthUsage {
        self.usage
    }

    /// The acknowledged (received) bitrate over the last 500 ms of arrivals, once known.
    pub fn acked_bps(&self) -> Option<f64> {
        let (&(first, first_size), &(last, _)) = (self.acked.front()?, self.acked.back()?);
        let span = last - first;
        // Need a quarter of the window before the figure means anything. The first packet's
        // bytes arrived before the span starts.
        (span >= ACKED_WINDOW_US / 4)
            .then(|| (self.acked_bytes - u64::from(first_size)) as f64 * 8e6 / span as f64)
    }

    /// One packet the feedback reports as received: sent at `send_us` (our clock), arrived
    /// at `arrival_us` (the peer's clock), `size` bytes. Feed packets in sequence order.
    pub fn on_packet(&mut self, send_us: i64, arrival_us: i64, size: usize) {
        let size = u32::try_from(size).unwrap_or(u32::MAX);
        self.record_acked(arrival_us, size);
        self.avg_packet_bits = 0.95 * self.avg_packet_bits + 0.05 * 8.0 * f64::from(size);
        let Some(mut group) = self.current else {
            self.current = Some(Group {
                first_send: send_us,
                last_send: send_us,
                last_arrival: arrival_us,
            });
            return;
        };
        if send_us < group.first_send {
            // Reordered across groups: ignored, as libwebrtc does.
            return;
        }
        if send_us - group.first_send <= BURST_US {
            group.last_send = group.last_send.max(send_us);
            group.last_arrival = group.last_arrival.max(arrival_us);
            self.current = Some(group);
            return;
        }
        if let Some(prev) = self.previous {
            let send_delta_ms = (group.last_send - prev.last_send) as f64 / 1000.0;
            let arrival_delta_ms = (group.last_arrival - prev.last_arrival) as f64 / 1000.0;
            self.update_trendline(
                arrival_delta_ms - send_delta_ms,
                send_delta_ms,
                group.last_arrival as f64 / 1000.0,
            );
        }
        self.previous = Some(group);
        self.current = Some(Group {
            first_send: send_us,
            last_send: send_us,
            last_arrival: arrival_us,
        });
    }

    fn record_acked(&mut self, arrival_us: i64, size: u32) {
        if self.acked.len() == ACKED_CAPACITY {
            if let Some((_, s)) = self.acked.pop_front() {
                self.acked_bytes -= u64::from(s);
            }
        }
        // Arrival times are kept non-decreasing (reordering would make spans negative).
        let newest = self
            .acked
            .back()
            .map_or(arrival_us, |&(t, _)| t.max(arrival_us));
        self.acked.push_back((newest, size));
        self.acked_bytes += u64::from(size);
        while let Some(&(t, s)) = self.acked.front() {
            if newest - t <= ACKED_WINDOW_US {
                break;
            }
            self.acked.pop_front();
            self.acked_bytes -= u64::from(s);
        }
    }

    fn update_trendline(&mut self, delta_ms: f64, send_delta_ms: f64, arrival_ms: f64) {
        self.num_deltas = (self.num_deltas + 1).min(1000);
        let first = *self.first_arrival_ms.get_or_insert(arrival_ms);
        self.accumulated_ms += delta_ms;
        self.smoothed_ms = SMOOTHING * self.smoothed_ms + (1.0 - SMOOTHING) * self.accumulated_ms;
        self.window[self.window_next] = (arrival_ms - first, self.smoothed_ms);
        self.window_next = (self.window_next + 1) % WINDOW;
        self.window_len = (self.window_len + 1).min(WINDOW);
        if self.window_len == WINDOW {
            if let Some(slope) = slope(&self.window) {
                self.trend = slope;
            }
        }
        self.detect(send_delta_ms, arrival_ms);
    }

    fn detect(&mut self, send_delta_ms: f64, now_ms: f64) {
        if self.num_deltas < 2 {
            self.usage = BandwidthUsage::Normal;
            return;
        }
        let modified = f64::from(self.num_deltas.min(60)) * self.trend * THRESHOLD_GAIN;
        if modified > self.threshold {
            if self.overuse_ms < 0.0 {
                self.overuse_ms = send_delta_ms / 2.0;
            } else {
                self.overuse_ms += send_delta_ms;
            }
            self.overuse_count += 1;
            if self.overuse_ms > OVERUSE_TIME_MS
                && self.overuse_count > 1
                && self.trend >= self.prev_trend
            {
                self.overuse_ms = 0.0;
                self.overuse_count = 0;
                self.usage = BandwidthUsage::Overusing;
            }
        } else if modified < -self.threshold {
            self.overuse_ms = -1.0;
            self.overuse_count = 0;
            self.usage = BandwidthUsage::Underusing;
        } else {
            self.overuse_ms = -1.0;
            self.overuse_count = 0;
            self.usage = BandwidthUsage::Normal;
        }
        self.prev_trend = self.trend;
        self.update_threshold(modified, now_ms);
    }

    fn update_threshold(&mut self, modified: f64, now_ms: f64) {
        let last = *self.last_threshold_ms.get_or_insert(now_ms);
        if modified.abs() > self.threshold + 15.0 {
            // A spike: do not let it drag the threshold up.
            self.last_threshold_ms = Some(now_ms);
            return;
        }
        let k = if modified.abs() < self.threshold {
            K_DOWN
        } else {
            K_UP
        };
        let dt = (now_ms - last).clamp(0.0, 100.0);
        self.threshold =
            (self.threshold + k * (modified.abs() - self.threshold) * dt).clamp(6.0, 600.0);
        self.last_threshold_ms = Some(now_ms);
    }

    /// Runs the rate controller after a feedback packet was fed in; returns the new rate.
    pub fn update(&mut self, now: Instant) -> u64 {
        let acked = self.acked_bps();
        let dt = self
            .last_update
            .map_or(0.0, |t| now.saturating_duration_since(t).as_secs_f64())
            .min(1.0);
        self.last_update = Some(now);
        match self.usage {
            BandwidthUsage::Overusing => {
                let may_cut = self
                    .last_decrease
                    .is_none_or(|t| now.saturating_duration_since(t) >= DECREASE_INTERVAL);
                if may_cut {
                    self.state = RateState::Decrease;
                }
            }
            BandwidthUsage::Normal => {
                if self.state == RateState::Hold || self.state == RateState::Decrease {
                    self.state = RateState::Increase;
                }
            }
            BandwidthUsage::Underusing => self.state = RateState::Hold,
        }
        match self.state {
            RateState::Hold => {}
            RateState::Increase => {
                if let (Some(cap), Some(a)) = (self.link_capacity, acked) {
                    if a > 1.5 * cap {
                        // The path got better than what we learned: probe multiplicatively.
                        self.link_capacity = None;
                    }
                }
                let step = if self.link_capacity.is_some() {
                    (self.avg_packet_bits / RESPONSE_TIME_S).max(4000.0) * dt
                } else {
                    (self.rate * (1.08f64.powf(dt) - 1.0)).max(1000.0 * dt)
                };
                let mut next = self.rate + step;
                if let Some(a) = acked {
                    let limit = 1.5 * a + 10_000.0;
                    next = next.min(limit.max(self.rate));
                }
                self.rate = next;
            }
            RateState::Decrease => {
                let base = acked.unwrap_or(self.rate);
                let cut = (BETA * base).min(self.rate);
                self.link_capacity = Some(match self.link_capacity {
                    Some(c) => 0.9 * c + 0.1 * base,
                    None => base,
                });
                self.rate = cut;
                self.last_decrease = Some(now);
                self.state = RateState::Hold;
            }
        }
        self.rate = self.rate.clamp(self.min_bps, self.max_bps);
        self.rate as u64
    }
}

/// Least-squares slope of `(x, y)` points; `None` when all x are equal.
fn slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (mut num, mut den) = (0.0, 0.0);
    for &(x, y) in points {
        num += (x - mx) * (y - my);
        den += (x - mx) * (x - mx);
    }
    (den != 0.0).then(|| num / den)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packets of `size` bytes every `gap_us`, through a link of `link_bps` with a FIFO
    /// queue (unbounded), `seconds` long; returns the controller.
    fn feed(bwe: &mut DelayBasedBwe, t0: Instant, link_bps: f64, seconds: u32) {
        let size = 1000usize;
        let mut link_free = 0.0f64;
        let mut next_feedback = 0i64;
        let mut send_us = 0i64;
        while send_us < i64::from(seconds) * 1_000_000 {
            let gap_us = (size as f64 * 8e6 / bwe.rate) as i64;
            let tx = size as f64 * 8e6 / link_bps;
            link_free = link_free.max(send_us as f64) + tx;
            bwe.on_packet(send_us, link_free as i64 + 20_000, size);
            if send_us >= next_feedback {
                bwe.update(t0 + Duration::from_micros(send_us as u64));
                next_feedback += 50_000;
            }
            send_us += gap_us.max(1);
        }
    }

    #[test]
    fn finds_the_bottleneck_rate() {
        let t0 = Instant::now();
        let mut bwe = DelayBasedBwe::new(300_000, 10_000, 10_000_000);
        feed(&mut bwe, t0, 500_000.0, 30);
        let r = bwe.rate_bps() as f64;
        assert!((r - 500_000.0).abs() < 0.2 * 500_000.0, "{r}");
    }

    #[test]
    fn a_fast_link_lets_the_rate_grow() {
        let t0 = Instant::now();
        let mut bwe = DelayBasedBwe::new(300_000, 10_000, 10_000_000);
        // A fast link: no queue, the rate grows.
        feed(&mut bwe, t0, 100_000_000.0, 5);
        assert!(bwe.rate_bps() > 400_000, "{}", bwe.rate_bps());
        assert_eq!(bwe.usage(), BandwidthUsage::Normal);
    }

    #[test]
    fn slope_of_a_line() {
        let pts: Vec<(f64, f64)> = (0..20).map(|i| (i as f64, 2.0 * i as f64 + 1.0)).collect();
        assert!((slope(&pts).unwrap_or(0.0) - 2.0).abs() < 1e-9);
        assert_eq!(slope(&[(1.0, 1.0), (1.0, 2.0)]), None);
    }
}
