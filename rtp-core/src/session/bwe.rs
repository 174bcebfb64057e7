//! Send-side bandwidth estimation from RTCP feedback.
//!
//! Three inputs, combined by taking the minimum:
//!
//! - **Loss-based**, in the spirit of the loss controller of Google Congestion Control
//!   (draft-ietf-rmcat-gcc-02 §6): every receiver report block about our stream carries the
//!   fraction lost since the previous report. Below 2% the rate grows by 8% per second of
//!   elapsed time (compounded, at most [`BweConfig::max_increase_step`] per report); between
//!   2% and 10% it holds; above 10% it is cut to `rate * (1 - 0.5 * loss)`, at most once per
//!   [`BweConfig::decrease_interval`].
//!   With transport-wide feedback, each feedback packet's share of lost packets is a loss
//!   report too (every 50-100 ms instead of every RTCP interval), and the loss-based rate is
//!   kept at or below the delay-based one, as libwebrtc does.
//! - **REMB** (draft-alvestrand-rmcat-remb): the peer's own estimate of what it can receive,
//!   honoured as a ceiling while it is fresh ([`BweConfig::remb_timeout`]).
//!
//! - **Delay-based**, when transport-wide congestion control is on
//!   ([`SessionConfig::twcc`](super::SessionConfig::twcc)): the peer's transport feedback
//!   (draft-holmer-rmcat-transport-wide-cc-extensions-01) gives per-packet arrival times, and
//!   GCC's trendline filter, overuse detector and AIMD controller
//!   ([`DelayBasedBwe`](super::DelayBasedBwe)) turn them into a rate.
//!
//! The estimator is sans-IO like the session: every input carries `now`.

use std::time::{Duration, Instant};

/// Tuning of [`BandwidthEstimator`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BweConfig {
    /// The estimate before any feedback, bits per second.
    pub initial_bps: u64,
    /// The estimate never goes below this.
    pub min_bps: u64,
    /// The estimate never goes above this.
    pub max_bps: u64,
    /// Fraction lost below which the rate grows (GCC: 0.02).
    pub increase_below: f64,
    /// Fraction lost above which the rate is cut (GCC: 0.10).
    pub decrease_above: f64,
    /// Growth per second while loss is low (GCC: 0.08, i.e. 8%/s).
    pub increase_per_second: f64,
    /// Longest elapsed time one report may grow the rate for (a report after a long silence
    /// does not multiply the rate at once).
    pub max_increase_step: Duration,
    /// Shortest time between two loss-based cuts (libwebrtc: 300 ms plus the RTT), so that
    /// a burst of loss reported in several reports in a row counts once.
    pub decrease_interval: Duration,
    /// A REMB older than this no longer caps the estimate.
    pub remb_timeout: Duration,
    /// Relative change of the combined estimate that raises a new
    /// [`SessionEvent::BandwidthEstimate`](super::SessionEvent::BandwidthEstimate).
    pub report_threshold: f64,
}

impl Default for BweConfig {
    fn default() -> Self {
        Self {
            initial_bps: 300_000,
            min_bps: 8_000,
            max_bps: 10_000_000,
            increase_below: 0.02,
            decrease_above: 0.10,
            increase_per_second: 0.08,
            max_increase_step: Duration::from_secs(2),
            decrease_interval: Duration::from_millis(300),
            remb_timeout: Duration::from_secs(10),
            report_threshold: 0.05,
        }
    }
}

/// Loss-based send rate controller with a REMB ceiling.
#[derive(Debug, Clone)]
pub struct BandwidthEstimator {
    config: BweConfig,
    loss_bps: f64,
    last_loss_update: Option<Instant>,
    last_decrease: Option<Instant>,
    remb: Option<(u64, Instant)>,
    delay_bps: Option<u64>,
    last_reported: u64,
}

impl BandwidthEstimator {
    /// An estimator at `config.initial_bps`.
    pub fn new(config: BweConfig) -> Self {
        let min = config.min_bps.min(config.max_bps);
        let initial = config.initial_bps.clamp(min, config.max_bps);
        Self {
            config,
            loss_bps: initial as f64,
            last_loss_update: None,
            last_decrease: None,
            remb: None,
            delay_bps: None,
            last_reported: initial,
        }
    }

    /// The configuration.
    pub const fn config(&self) -> &BweConfig {
        &self.config
    }

    /// Feeds the fraction lost (0.0..=1.0) from a report block about our stream received at
    /// `now`. Returns the new combined estimate.
    pub fn on_loss_report(&mut self, now: Instant, fraction_lost: f64) -> u64 {
        let loss = if fraction_lost.is_finite() {
            fraction_lost.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let elapsed = self
            .last_loss_update
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t))
            .min(self.config.max_increase_step);
        self.last_loss_update = Some(now);
        if loss < self.config.increase_below {
            let growth = (1.0 + self.config.increase_per_second).powf(elapsed.as_secs_f64());
            self.loss_bps *= growth;
        } else if loss > self.config.decrease_above {
            let may_cut = self
                .last_decrease
                .is_none_or(|t| now.saturating_duration_since(t) >= self.config.decrease_interval);
            if may_cut {
                self.loss_bps *= 1.0 - 0.5 * loss;
                self.last_decrease = Some(now);
            }
        }
        let min = self.config.min_bps.min(self.config.max_bps) as f64;
        // As in libwebrtc, the loss-based rate does not run ahead of the delay-based one
        // (else a long loss-free spell would leave it far above anything the path carries).
        let ceiling = self.delay_bps.map_or(f64::MAX, |d| d as f64);
        self.loss_bps = self
            .loss_bps
            .min(ceiling)
            .clamp(min, self.config.max_bps as f64);
        self.estimate(now)
    }

    /// Feeds a REMB bitrate from the peer received at `now`. Returns the new combined estimate.
    pub fn on_remb(&mut self, now: Instant, bitrate_bps: u64) -> u64 {
        self.remb = Some((bitrate_bps, now));
        self.estimate(now)
    }

    /// Feeds the delay-based estimate from transport-wide feedback (see
    /// [`DelayBasedBwe`](super::DelayBasedBwe)). Returns the new combined estimate.
    pub fn on_delay_based(&mut self, now: Instant, bps: u64) -> u64 {
        self.delay_bps = Some(bps);
        self.estimate(now)
    }

    /// The delay-based estimate alone, once transport-wide feedback arrived.
    pub const fn delay_based_bps(&self) -> Option<u64> {
        self.delay_bps
    }

    /// The loss-based estimate alone.
    pub fn loss_based_bps(&self) -> u64 {
        self.loss_bps as u64
    }

    /// The last REMB value and when it arrived.
    pub const fn remb(&self) -> Option<(u64, Instant)> {
        self.remb
    }

    /// The combined estimate at `now`: the loss-based one, capped by a fresh REMB and by the
    /// delay-based estimate, never below the configured minimum.
    pub fn estimate(&self, now: Instant) -> u64 {
        let loss = (self.loss_bps as u64).min(self.delay_bps.unwrap_or(u64::MAX));
        let est = match self.remb {
            Some((remb, at)) if now.saturating_duration_since(at) < self.config.remb_timeout => {
                loss.min(remb)
            }
            _ => loss,
        };
        est.max(self.config.min_bps.min(self.config.max_bps))
    }

    /// The estimate at `now` if it moved more than the report threshold since the last value
    /// returned here (which then becomes the reference).
    pub fn take_change(&mut self, now: Instant) -> Option<u64> {
        let est = self.estimate(now);
        let last = self.last_reported.max(1) as f64;
        if (est as f64 - last).abs() / last > self.config.report_threshold {
            self.last_reported = est;
            Some(est)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_holds_and_cuts() {
        let t0 = Instant::now();
        let mut b = BandwidthEstimator::new(BweConfig::default());
        b.on_loss_report(t0, 0.0);
        let r = b.on_loss_report(t0 + Duration::from_secs(1), 0.0);
        assert!((r as f64 - 324_000.0).abs() < 2.0, "{r}");
        let held = b.on_loss_report(t0 + Duration::from_secs(2), 0.05);
        assert_eq!(held, r);
        let cut = b.on_loss_report(t0 + Duration::from_secs(3), 0.20);
        assert!((cut as f64 - r as f64 * 0.9).abs() < 2.0, "{cut}");
    }

    #[test]
    fn remb_caps_while_fresh() {
        let t0 = Instant::now();
        let mut b = BandwidthEstimator::new(BweConfig::default());
        assert_eq!(b.on_remb(t0, 100_000), 100_000);
        assert_eq!(b.estimate(t0 + Duration::from_secs(11)), 300_000);
        assert_eq!(b.on_remb(t0, 1_000_000_000), 300_000);
    }

    #[test]
    fn bounded_and_nan_safe() {
        let t0 = Instant::now();
        let mut b = BandwidthEstimator::new(BweConfig::default());
        for i in 0..100 {
            b.on_loss_report(t0 + Duration::from_secs(i), 1.0);
        }
        assert_eq!(b.loss_based_bps(), 8_000);
        assert_eq!(b.on_loss_report(t0, f64::NAN), 8_000);
    }

    #[test]
    fn change_threshold() {
        let t0 = Instant::now();
        let mut b = BandwidthEstimator::new(BweConfig::default());
        assert_eq!(b.take_change(t0), None);
        b.on_remb(t0, 290_000);
        assert_eq!(b.take_change(t0), None);
        b.on_remb(t0, 200_000);
        assert_eq!(b.take_change(t0), Some(200_000));
        assert_eq!(b.take_change(t0), None);
    }
}
