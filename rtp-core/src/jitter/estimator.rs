//! Delay estimation for the jitter buffer.
//!
//! Every arriving packet gives a *transit* `T = arrival - timestamp / clock_rate` (in µs, on an
//! arbitrary origin). Three estimators run on it:
//!
//! - [`MinWindow`]: the base transit, the minimum of `T` over a sliding window (2 s by default)
//!   kept as eight sub-window minima in a fixed array. `d = T - base` is the packet's *relative
//!   delay*: how much later than the fastest recent packet it arrived.
//! - [`InterarrivalJitter`]: RFC 3550 §6.4.1 `J += (|D| - J) / 16` on consecutive arrivals.
//! - [`DelayHistogram`]: a histogram of `d` with a forgetting factor (WebRTC NetEq's delay
//!   manager); its quantile (95 % by default) is the delay that would have let that share of
//!   recent packets arrive in time. This is the main estimate.
//!
//! The RFC 3550 jitter is a mean absolute transit difference: it under-estimates the tail
//! (uniform 0-40 ms jitter gives J = 13 ms where 38 ms is needed) and over-estimates pure
//! reordering, so it serves only as a floor (`jitter_factor`, 1.0 by default) and a statistic.
//!
//! [`DelayEstimator`] combines them into the target delay: `raw = clamp(max(quantile,
//! jitter_factor * J), min, max)`; the target jumps up to `raw` at once, is pushed up to a late
//! packet's relative delay at once (and then held for a while), and decays towards `raw` at a
//! bounded rate.

/// Sub-windows in the base-transit window.
const MIN_BUCKETS: usize = 8;

/// Sliding-window minimum in fixed memory: [`MIN_BUCKETS`] sub-window minima.
#[derive(Debug, Clone)]
pub(super) struct MinWindow {
    /// `(start_us, min)` per sub-window, oldest at `head`.
    slots: [(i64, i64); MIN_BUCKETS],
    head: usize,
    len: usize,
    span_us: i64,
}

impl MinWindow {
    pub(super) fn new(window_us: i64) -> Self {
        Self {
            slots: [(0, 0); MIN_BUCKETS],
            head: 0,
            len: 0,
            span_us: (window_us / MIN_BUCKETS as i64).max(1),
        }
    }

    pub(super) fn reset(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    fn newest(&self) -> usize {
        (self.head + self.len - 1) % MIN_BUCKETS
    }

    /// Adds a sample taken at `now_us`. The newest sub-window is never expired, so the base
    /// survives a long silence (DTX) and a timestamp jump after it is still seen.
    pub(super) fn push(&mut self, now_us: i64, value: i64) {
        if self.len == 0 {
            self.slots[0] = (now_us, value);
            self.head = 0;
            self.len = 1;
            return;
        }
        let n = self.newest();
        if now_us < self.slots[n].0.saturating_add(self.span_us) {
            self.slots[n].1 = self.slots[n].1.min(value);
        } else {
            if self.len == MIN_BUCKETS {
                self.head = (self.head + 1) % MIN_BUCKETS;
                self.len -= 1;
            }
            let at = (self.head + self.len) % MIN_BUCKETS;
            self.slots[at] = (now_us, value);
            self.len += 1;
        }
        let window = self.span_us.saturating_mul(MIN_BUCKETS as i64);
        while self.len > 1
            && self.slots[self.head]
                .0
                .saturating_add(self.span_us)
                .saturating_add(window)
                <= now_us
        {
            self.head = (self.head + 1) % MIN_BUCKETS;
            self.len -= 1;
        }
    }

    /// The minimum over the window, if any sample was seen.
    pub(super) fn min(&self) -> Option<i64> {
        (0..self.len)
            .map(|i| self.slots[(self.head + i) % MIN_BUCKETS].1)
            .min()
    }
}

/// RFC 3550 interarrival jitter, in µs.
#[derive(Debug, Clone, Default)]
pub(super) struct InterarrivalJitter {
    prev_transit: Option<i64>,
    jitter_us: f64,
}

impl InterarrivalJitter {
    pub(super) fn update(&mut self, transit_us: i64) {
        if let Some(p) = self.prev_transit {
            let d = transit_us.saturating_sub(p).unsigned_abs() as f64;
            self.jitter_us += (d - self.jitter_us) / 16.0;
        }
        self.prev_transit = Some(transit_us);
    }

    /// Forgets the previous transit (new timeline), keeps the estimate.
    pub(super) fn restart(&mut self) {
        self.prev_transit = None;
    }

    pub(super) fn jitter_us(&self) -> f64 {
        self.jitter_us
    }
}

/// Histogram of relative delay with exponential forgetting.
///
/// Stored unnormalised: instead of multiplying every bucket by the forgetting factor `f` per
/// sample (O(buckets)), the increment grows by `1/f` and the buckets are rescaled when the total
/// gets large. The first samples use `f_n = n / (n + 1)` (a plain mean) so the estimate is usable
/// from the start, as NetEq's start-up forgetting weight does.
#[derive(Debug, Clone)]
pub(super) struct DelayHistogram {
    buckets: Vec<f64>,
    bucket_us: i64,
    total: f64,
    count: u64,
    forget: f64,
}

impl DelayHistogram {
    pub(super) fn new(bucket_us: i64, max_us: i64, forget: f64) -> Self {
        let bucket_us = bucket_us.max(1);
        let n = (max_us / bucket_us + 2).clamp(2, 4096) as usize;
        Self {
            buckets: vec![0.0; n],
            bucket_us,
            total: 0.0,
            count: 0,
            forget,
        }
    }

    pub(super) fn add(&mut self, d_us: i64) {
        let last = self.buckets.len() - 1;
        let idx = usize::try_from(d_us.max(0) / self.bucket_us)
            .unwrap_or(last)
            .min(last);
        let w = if self.count == 0 || self.total <= 0.0 {
            1.0
        } else {
            let ramp = self.count as f64 / (self.count as f64 + 1.0);
            let f = self.forget.min(ramp);
            self.total * (1.0 - f) / f
        };
        self.buckets[idx] += w;
        self.total += w;
        self.count = self.count.saturating_add(1);
        if self.total > 1e200 || !self.total.is_finite() {
            let k = 1.0 / self.total;
            if k.is_finite() && k > 0.0 {
                self.buckets.iter_mut().for_each(|b| *b *= k);
                self.total = self.buckets.iter().sum();
            } else {
                self.buckets.iter_mut().for_each(|b| *b = 0.0);
                self.total = 0.0;
                self.count = 0;
            }
        }
    }

    /// The smallest bucket edge below which at least `q` of the mass lies, in µs. Scans from
    /// the bottom, where the mass of a delay distribution sits, so the cost is about
    /// `quantile / bucket` steps.
    pub(super) fn quantile(&self, q: f64) -> Option<i64> {
        if self.count == 0 || self.total <= 0.0 {
            return None;
        }
        let want = q * self.total;
        let mut acc = 0.0;
        for (i, b) in self.buckets.iter().enumerate() {
            acc += *b;
            if acc >= want {
                return Some((i as i64 + 1).saturating_mul(self.bucket_us));
            }
        }
        Some((self.buckets.len() as i64).saturating_mul(self.bucket_us))
    }

    pub(super) fn samples(&self) -> u64 {
        self.count
    }
}

/// Parameters of [`DelayEstimator`], in µs.
#[derive(Debug, Clone, Copy)]
pub(super) struct EstimatorParams {
    pub window_us: i64,
    pub bucket_us: i64,
    pub min_us: i64,
    pub max_us: i64,
    pub initial_us: i64,
    pub quantile: f64,
    pub forget: f64,
    pub jitter_factor: f64,
    /// Target decay, µs per second.
    pub decay_per_s: f64,
    /// No decay for this long after a late packet, µs.
    pub late_hold_us: i64,
}

/// Base transit, jitter and histogram combined into a smoothed target delay.
#[derive(Debug, Clone)]
pub(super) struct DelayEstimator {
    p: EstimatorParams,
    base: MinWindow,
    hist: DelayHistogram,
    jitter: InterarrivalJitter,
    target_us: i64,
    /// The histogram quantile, recomputed when a sample is added.
    quantile_us: Option<i64>,
    last_update_us: Option<i64>,
    hold_until_us: i64,
}

impl DelayEstimator {
    pub(super) fn new(p: EstimatorParams) -> Self {
        Self {
            base: MinWindow::new(p.window_us),
            hist: DelayHistogram::new(p.bucket_us, p.max_us, p.forget),
            jitter: InterarrivalJitter::default(),
            target_us: p.initial_us.clamp(p.min_us, p.max_us),
            quantile_us: None,
            last_update_us: None,
            hold_until_us: i64::MIN,
            p,
        }
    }

    /// New timeline (resynchronisation): the base transit and the previous transit are
    /// forgotten; the delay histogram and the target (what the network does) are kept.
    pub(super) fn restart(&mut self) {
        self.base.reset();
        self.jitter.restart();
    }

    /// The base transit, if known.
    pub(super) fn base(&self) -> Option<i64> {
        self.base.min()
    }

    /// Records an arrival; returns the packet's relative delay `d >= 0`.
    pub(super) fn on_arrival(&mut self, now_us: i64, transit_us: i64) -> i64 {
        self.base.push(now_us, transit_us);
        let d = transit_us
            .saturating_sub(self.base.min().unwrap_or(transit_us))
            .max(0);
        self.hist.add(d);
        self.quantile_us = self.hist.quantile(self.p.quantile);
        self.jitter.update(transit_us);
        self.update(now_us);
        d
    }

    /// A packet with relative delay `d_us` arrived after its playout time: raise the target to
    /// cover it at once and hold it there (no decay) for the hold time, like a peak detector.
    pub(super) fn on_late(&mut self, now_us: i64, d_us: i64) {
        let want = d_us.clamp(self.p.min_us, self.p.max_us);
        self.target_us = self.target_us.max(want);
        self.hold_until_us = now_us.saturating_add(self.p.late_hold_us);
    }

    /// The raw estimate: the quantile, floored by the scaled RFC 3550 jitter, bounded.
    pub(super) fn raw_us(&self) -> i64 {
        let q = self.quantile_us.unwrap_or(self.p.initial_us);
        let j = (self.p.jitter_factor * self.jitter.jitter_us()).clamp(0.0, 1e15) as i64;
        q.max(j).clamp(self.p.min_us, self.p.max_us)
    }

    /// Moves the target: up to the raw estimate at once, down by at most the decay rate.
    pub(super) fn update(&mut self, now_us: i64) {
        let raw = self.raw_us();
        let dt = self
            .last_update_us
            .map_or(0, |l| now_us.saturating_sub(l).max(0));
        self.last_update_us = Some(now_us);
        if raw >= self.target_us {
            self.target_us = raw;
        } else if now_us >= self.hold_until_us {
            let step = (self.p.decay_per_s * dt as f64 / 1e6).clamp(0.0, 1e15) as i64;
            self.target_us = self.target_us.saturating_sub(step).max(raw);
        }
    }

    pub(super) fn target_us(&self) -> i64 {
        self.target_us
    }

    pub(super) fn jitter_us(&self) -> f64 {
        self.jitter.jitter_us()
    }

    /// The histogram quantile alone, µs.
    pub(super) fn quantile_us(&self) -> Option<i64> {
        self.quantile_us
    }

    pub(super) fn samples(&self) -> u64 {
        self.hist.samples()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_window_slides_and_keeps_newest() {
        let mut w = MinWindow::new(800);
        w.push(0, 5);
        w.push(50, 3);
        assert_eq!(w.min(), Some(3));
        for t in (100..=1000).step_by(100) {
            w.push(t, 10);
        }
        assert_eq!(w.min(), Some(10));
        // A long gap expires everything but the newest sub-window.
        w.push(1_000_000, 20);
        assert_eq!(w.min(), Some(20));
    }

    #[test]
    fn histogram_quantile_of_uniform() {
        let mut h = DelayHistogram::new(1000, 100_000, 0.999);
        for i in 0..10_000i64 {
            h.add((i % 100) * 1000);
        }
        let q = h.quantile(0.95).unwrap_or(0);
        assert!((94_000..=97_000).contains(&q), "q95 = {q}");
    }

    #[test]
    fn histogram_forgets() {
        let mut h = DelayHistogram::new(1000, 500_000, 0.99);
        for _ in 0..1000 {
            h.add(300_000);
        }
        for _ in 0..1000 {
            h.add(10_000);
        }
        assert!(h.quantile(0.95).unwrap_or(0) <= 11_000);
    }

    #[test]
    fn rfc3550_jitter_converges() {
        let mut j = InterarrivalJitter::default();
        for i in 0..1000 {
            j.update(if i % 2 == 0 { 0 } else { 16_000 });
        }
        assert!((j.jitter_us() - 16_000.0).abs() < 100.0);
    }
}
