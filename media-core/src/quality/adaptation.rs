//! The sender's adaptation to network feedback: a sans-IO policy that turns receiver reports
//! (loss, jitter, RTT) and bandwidth estimates from rtp-core into an
//! [`AdaptationDecision`] for the encoder: target bitrate, in-band FEC on or off, the
//! expected-loss percentage the encoder spends FEC bits for, and the packet time.
//!
//! The policy (each input carries its `now`; nothing reads a clock):
//!
//! - **Loss** is smoothed with a fast attack and a slow release: a report above the current
//!   estimate replaces it at once; lower reports pull it down with a time constant of
//!   [`AdaptationConfig::loss_release`].
//! - **FEC** turns on as soon as the smoothed loss reaches [`AdaptationConfig::fec_on_loss`]
//!   (or the jitter reaches [`AdaptationConfig::fec_on_jitter_ms`]: late packets are lost to
//!   the listener although receiver reports do not count them), and off only after the loss
//!   stayed below [`AdaptationConfig::fec_off_loss`] for [`AdaptationConfig::fec_off_after`].
//! - **Expected loss** (what Opus is told) is the smoothed loss rounded up, at least 1 % while
//!   FEC is on, at most [`AdaptationConfig::max_expected_loss_pct`]; it changes only by
//!   2 points or more (or when FEC toggles), so the encoder is not re-tuned on every report.
//! - **Bitrate** follows the bandwidth estimate minus the packet overhead (RTP + UDP + IPv4,
//!   40 bytes a packet), within [min, max]: down at once when the budget falls below the
//!   current rate, up only when the budget exceeds it by [`AdaptationConfig::up_hysteresis`]
//!   and [`AdaptationConfig::up_interval`] has passed since the last change.
//! - **Packet time**: 20 ms, or 40 / 60 ms when the estimate cannot carry the minimum bitrate
//!   plus 20 ms overhead (longer packets halve or third the overhead), back to 20 ms only with
//!   15 % to spare; never above [`AdaptationConfig::max_ptime_ms`] (the remote's `maxptime`).
//!   No SDP update is needed: `a=ptime` is only a recommendation that a receiver must not need
//!   to decode (RFC 4566 section 6), and an Opus sender may use any frame duration up to the
//!   negotiated `maxptime` (RFC 7587 section 4.2 / 7; libwebrtc's audio network adaptor
//!   changes Opus frame length with bandwidth the same way). The
//!   [`MediaTransportAdapter`](crate::integration::rtp_core::MediaTransportAdapter) applies
//!   all four: bitrate, FEC, expected loss, and the frame duration at the next packet
//!   boundary, with the RTP timestamps continuing without a gap or overlap.
//!
//! [`AudioAdaptation::poll_decision`] returns a decision when it differs from the last one
//! returned, so the encoder is touched only on changes.

use std::time::{Duration, Instant};

/// RTP + UDP + IPv4 header bytes per packet.
const OVERHEAD_BYTES: u64 = 12 + 8 + 20;

/// Tuning of [`AudioAdaptation`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptationConfig {
    /// Lowest target bitrate, bit/s.
    pub min_bitrate: u32,
    /// Highest target bitrate (the negotiated or configured one), bit/s; also the start.
    pub max_bitrate: u32,
    /// The negotiated packet time, ms.
    pub ptime_ms: u16,
    /// The longest packet time the policy may pick, ms: 60, or less when the remote's
    /// `maxptime` says so. At or below `ptime_ms` the packet time never changes.
    pub max_ptime_ms: u16,
    /// Smoothed loss (0..=1) at which FEC turns on.
    pub fec_on_loss: f64,
    /// Smoothed loss below which FEC may turn off...
    pub fec_off_loss: f64,
    /// ...once it has stayed there this long.
    pub fec_off_after: Duration,
    /// Interarrival jitter at which FEC turns on regardless of reported loss, ms.
    pub fec_on_jitter_ms: f64,
    /// Time constant of the loss estimate's decay.
    pub loss_release: Duration,
    /// Cap on the expected loss given to the encoder, percent.
    pub max_expected_loss_pct: u8,
    /// Relative headroom the budget needs before the bitrate goes up.
    pub up_hysteresis: f64,
    /// Least time between bitrate increases.
    pub up_interval: Duration,
}

impl AdaptationConfig {
    /// Defaults for a codec whose bitrate may go up to `max_bitrate` at `ptime_ms`: FEC on at
    /// 1 % loss or 60 ms jitter, off after 10 s below 0.5 %, loss decay 5 s, expected loss at
    /// most 30 %, bitrate floor 12 kbit/s (Opus wideband speech stays intelligible there),
    /// up by 10 % margins at most every 2 s.
    pub fn new(max_bitrate: u32, ptime_ms: u16) -> Self {
        Self {
            min_bitrate: 12_000.min(max_bitrate),
            max_bitrate,
            ptime_ms: ptime_ms.max(10),
            max_ptime_ms: 60,
            fec_on_loss: 0.01,
            fec_off_loss: 0.005,
            fec_off_after: Duration::from_secs(10),
            fec_on_jitter_ms: 60.0,
            loss_release: Duration::from_secs(5),
            max_expected_loss_pct: 30,
            up_hysteresis: 0.10,
            up_interval: Duration::from_secs(2),
        }
    }
}

/// What the encoder should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdaptationDecision {
    /// Target bitrate, bit/s.
    pub bitrate: u32,
    /// In-band FEC on.
    pub fec: bool,
    /// Packet loss the encoder should expect, percent (0 when FEC is off).
    pub expected_loss_pct: u8,
    /// Packet time, ms (applied mid-call by the adapter for Opus).
    pub ptime_ms: u16,
}

/// The adaptation policy; see the module docs.
#[derive(Debug, Clone)]
pub struct AudioAdaptation {
    config: AdaptationConfig,
    loss: f64,
    loss_at: Option<Instant>,
    low_since: Option<Instant>,
    jitter_ms: f64,
    rtt: Option<Duration>,
    bandwidth_bps: Option<u64>,
    current: AdaptationDecision,
    last_polled: Option<AdaptationDecision>,
    last_bitrate_change: Option<Instant>,
}

impl AudioAdaptation {
    /// A policy starting at the maximum bitrate, FEC off, the negotiated packet time.
    pub fn new(config: AdaptationConfig) -> Self {
        Self {
            config,
            loss: 0.0,
            loss_at: None,
            low_since: None,
            jitter_ms: 0.0,
            rtt: None,
            bandwidth_bps: None,
            current: AdaptationDecision {
                bitrate: config.max_bitrate,
                fec: false,
                expected_loss_pct: 0,
                ptime_ms: config.ptime_ms,
            },
            last_polled: None,
            last_bitrate_change: None,
        }
    }

    /// The tuning.
    pub fn config(&self) -> &AdaptationConfig {
        &self.config
    }

    /// A new longest packet time (the remote's `maxptime` changed in a new SDP): a packet time
    /// in force above it falls back to the longest allowed one (at least the negotiated one).
    pub fn set_max_ptime(&mut self, ms: u16) {
        self.config.max_ptime_ms = ms;
        let cap = ms.max(self.config.ptime_ms);
        if self.current.ptime_ms > cap {
            self.current.ptime_ms = [60, 40, self.config.ptime_ms]
                .into_iter()
                .find(|&p| p <= cap)
                .unwrap_or(self.config.ptime_ms);
        }
    }

    /// The decision in force.
    pub fn decision(&self) -> AdaptationDecision {
        self.current
    }

    /// The smoothed loss estimate, 0..=1.
    pub fn loss(&self) -> f64 {
        self.loss
    }

    /// The last jitter and RTT reported.
    pub fn network(&self) -> (f64, Option<Duration>) {
        (self.jitter_ms, self.rtt)
    }

    /// A receiver report about our stream at `now`: the fraction lost since the previous
    /// report (0..=1), the interarrival jitter in ms and the RTT where known.
    pub fn on_receiver_report(
        &mut self,
        now: Instant,
        fraction_lost: f64,
        jitter_ms: Option<f64>,
        rtt: Option<Duration>,
    ) {
        let f = if fraction_lost.is_finite() {
            fraction_lost.clamp(0.0, 1.0)
        } else {
            0.0
        };
        if f >= self.loss {
            self.loss = f;
        } else {
            let dt = self
                .loss_at
                .map_or(0.0, |t| now.saturating_duration_since(t).as_secs_f64());
            let tau = self.config.loss_release.as_secs_f64().max(1e-3);
            self.loss += (f - self.loss) * (1.0 - (-dt / tau).exp());
        }
        self.loss_at = Some(now);
        if let Some(j) = jitter_ms.filter(|j| j.is_finite()) {
            self.jitter_ms = j.max(0.0);
        }
        if rtt.is_some() {
            self.rtt = rtt;
        }
        self.decide_fec(now);
    }

    /// A new bandwidth estimate at `now`, bit/s.
    pub fn on_bandwidth_estimate(&mut self, now: Instant, bps: u64) {
        self.bandwidth_bps = Some(bps);
        self.decide_rate(now);
    }

    /// The decision if it changed since the last call (the first call returns the start).
    pub fn poll_decision(&mut self) -> Option<AdaptationDecision> {
        if self.last_polled == Some(self.current) {
            return None;
        }
        self.last_polled = Some(self.current);
        Some(self.current)
    }

    fn decide_fec(&mut self, now: Instant) {
        let c = self.config;
        let mut fec = self.current.fec;
        if !fec {
            if self.loss >= c.fec_on_loss || self.jitter_ms >= c.fec_on_jitter_ms {
                fec = true;
                self.low_since = None;
            }
        } else if self.loss < c.fec_off_loss && self.jitter_ms < c.fec_on_jitter_ms {
            let since = *self.low_since.get_or_insert(now);
            if now.saturating_duration_since(since) >= c.fec_off_after {
                fec = false;
                self.low_since = None;
            }
        } else {
            self.low_since = None;
        }
        let want = if fec {
            ((self.loss * 100.0).ceil() as u8).clamp(1, c.max_expected_loss_pct.max(1))
        } else {
            0
        };
        let toggled = fec != self.current.fec;
        if toggled || want.abs_diff(self.current.expected_loss_pct) >= 2 {
            self.current.expected_loss_pct = want;
        }
        self.current.fec = fec;
    }

    fn overhead_bps(ptime_ms: u16) -> u64 {
        OVERHEAD_BYTES * 8 * 1000 / u64::from(ptime_ms.max(1))
    }

    fn decide_rate(&mut self, now: Instant) {
        let c = self.config;
        let Some(bw) = self.bandwidth_bps else {
            return;
        };
        // Packet time: the shortest of 20 / 40 / 60 ms (never below the negotiated one) whose
        // overhead leaves the minimum bitrate; back to shorter ones with 15 % to spare.
        let fits = |ptime: u16, margin: f64| {
            bw as f64 >= (u64::from(c.min_bitrate) + Self::overhead_bps(ptime)) as f64 * margin
        };
        let mut ptime = self.current.ptime_ms;
        for p in [c.ptime_ms, 40, 60] {
            if p < c.ptime_ms || (p > c.max_ptime_ms && p != c.ptime_ms) {
                continue;
            }
            let margin = if p < self.current.ptime_ms { 1.15 } else { 1.0 };
            ptime = p;
            if fits(p, margin) {
                break;
            }
        }
        self.current.ptime_ms = ptime;
        let budget = bw.saturating_sub(Self::overhead_bps(ptime));
        let budget = budget.clamp(u64::from(c.min_bitrate), u64::from(c.max_bitrate)) as u32;
        let cur = self.current.bitrate;
        let up_ok = self
            .last_bitrate_change
            .is_none_or(|t| now.saturating_duration_since(t) >= c.up_interval);
        let up = budget > cur
            && up_ok
            && (f64::from(budget) > f64::from(cur) * (1.0 + c.up_hysteresis)
                || budget == c.max_bitrate);
        let new = (budget < cur || up).then_some(budget);
        if let Some(b) = new {
            if b != cur {
                self.current.bitrate = b;
                self.last_bitrate_change = Some(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn fec_follows_loss_with_hysteresis() {
        let t0 = Instant::now();
        let mut a = AudioAdaptation::new(AdaptationConfig::new(32_000, 20));
        assert_eq!(
            a.poll_decision(),
            Some(AdaptationDecision {
                bitrate: 32_000,
                fec: false,
                expected_loss_pct: 0,
                ptime_ms: 20
            })
        );
        assert_eq!(a.poll_decision(), None);
        a.on_receiver_report(at(t0, 1000), 0.0, Some(5.0), None);
        assert_eq!(a.poll_decision(), None);
        // One report with 8 % loss: FEC on at once, expecting 8 %.
        a.on_receiver_report(at(t0, 2000), 0.08, Some(5.0), None);
        let d = a.poll_decision().unwrap();
        assert!(d.fec);
        assert_eq!(d.expected_loss_pct, 8);
        // 7 %: within 2 points, no re-tuning.
        a.on_receiver_report(at(t0, 3000), 0.07, Some(5.0), None);
        assert_eq!(a.poll_decision(), None);
        // Loss stops: the estimate decays, FEC stays on until 10 s below 0.5 %.
        let mut off_at = None;
        for s in 4..60 {
            a.on_receiver_report(at(t0, s * 1000), 0.0, Some(5.0), None);
            if let Some(d) = a.poll_decision() {
                if !d.fec {
                    off_at = Some(s);
                    assert_eq!(d.expected_loss_pct, 0);
                    break;
                }
            }
        }
        // 8 % decays below 0.5 % after 5 s * ln(16) = 13.9 s (at 17 s), then 10 s more.
        let off_at = off_at.expect("FEC turned off");
        assert!((26..=29).contains(&off_at), "{off_at}");
    }

    #[test]
    fn no_oscillation_under_alternating_reports() {
        let t0 = Instant::now();
        let mut a = AudioAdaptation::new(AdaptationConfig::new(32_000, 20));
        let _ = a.poll_decision();
        // Reports alternate 0 % and 3 % for 5 minutes: FEC goes on once and stays on; the
        // expected loss settles instead of following every report.
        let mut changes = 0;
        for i in 0..300u64 {
            let f = if i.is_multiple_of(2) { 0.0 } else { 0.03 };
            a.on_receiver_report(at(t0, i * 1000), f, None, None);
            if a.poll_decision().is_some() {
                changes += 1;
            }
        }
        assert!(a.decision().fec);
        assert!(changes <= 2, "{changes} changes");
    }

    #[test]
    fn jitter_alone_turns_fec_on() {
        let t0 = Instant::now();
        let mut a = AudioAdaptation::new(AdaptationConfig::new(32_000, 20));
        a.on_receiver_report(t0, 0.0, Some(80.0), Some(Duration::from_millis(120)));
        assert!(a.decision().fec);
        assert_eq!(a.decision().expected_loss_pct, 1);
        assert_eq!(a.network().1, Some(Duration::from_millis(120)));
    }

    #[test]
    fn bitrate_follows_bandwidth_with_hysteresis() {
        let t0 = Instant::now();
        let mut a = AudioAdaptation::new(AdaptationConfig::new(32_000, 20));
        let _ = a.poll_decision();
        // Plenty of bandwidth: stays at the maximum.
        a.on_bandwidth_estimate(t0, 300_000);
        assert_eq!(a.poll_decision(), None);
        // 40 kbit/s: 16 kbit/s of overhead at 50 packets/s leaves 24 kbit/s, at once.
        a.on_bandwidth_estimate(at(t0, 1000), 40_000);
        assert_eq!(a.poll_decision().unwrap().bitrate, 24_000);
        // 42 kbit/s (26 kbit/s budget, +8 %): not enough to go up.
        a.on_bandwidth_estimate(at(t0, 4000), 42_000);
        assert_eq!(a.poll_decision(), None);
        // 46 kbit/s (30 kbit/s, +25 %) but within 2 s of the last change (at 1 s): wait...
        a.on_bandwidth_estimate(at(t0, 2000), 46_000);
        assert_eq!(a.poll_decision(), None);
        // ...and go up once the interval has passed.
        a.on_bandwidth_estimate(at(t0, 3500), 46_000);
        assert_eq!(a.poll_decision().unwrap().bitrate, 30_000);
        // Down again at once, even right after a change.
        a.on_bandwidth_estimate(at(t0, 3600), 42_000);
        assert_eq!(a.poll_decision().unwrap().bitrate, 26_000);
        // Back to plenty: straight to the maximum after the interval.
        a.on_bandwidth_estimate(at(t0, 6000), 300_000);
        assert_eq!(a.poll_decision().unwrap().bitrate, 32_000);
    }

    #[test]
    fn ptime_suggestion_for_thin_links() {
        let t0 = Instant::now();
        let mut a = AudioAdaptation::new(AdaptationConfig::new(32_000, 20));
        // 20 kbit/s: 12 + 16 (20 ms) does not fit; 12 + 8 (40 ms) does.
        a.on_bandwidth_estimate(t0, 20_000);
        let d = a.decision();
        assert_eq!((d.ptime_ms, d.bitrate), (40, 12_000));
        // 17 kbit/s: 60 ms (5.3 kbit/s overhead).
        a.on_bandwidth_estimate(at(t0, 1000), 17_000);
        assert_eq!(a.decision().ptime_ms, 60);
        // 29 kbit/s: 20 ms would fit exactly (12 + 16 = 28) but not with 15 % to spare.
        a.on_bandwidth_estimate(at(t0, 2000), 29_000);
        assert_eq!(a.decision().ptime_ms, 40);
        a.on_bandwidth_estimate(at(t0, 3000), 40_000);
        assert_eq!(a.decision().ptime_ms, 20);
    }

    #[test]
    fn ptime_respects_max_ptime() {
        let t0 = Instant::now();
        let mut c = AdaptationConfig::new(32_000, 20);
        c.max_ptime_ms = 40;
        let mut a = AudioAdaptation::new(c);
        // 17 kbit/s would want 60 ms; the remote's maxptime is 40.
        a.on_bandwidth_estimate(t0, 17_000);
        assert_eq!(a.decision().ptime_ms, 40);
        c.max_ptime_ms = 20;
        let mut a = AudioAdaptation::new(c);
        a.on_bandwidth_estimate(t0, 17_000);
        assert_eq!(a.decision().ptime_ms, 20);
    }
}
