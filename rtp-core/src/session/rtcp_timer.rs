//! The RTCP transmission interval of RFC 3550 §6.3 and Appendix A.7, on virtual time.
//!
//! - The RTCP bandwidth is a fraction (5% by default) of the session bandwidth; a quarter of it
//!   goes to senders when they are at most a quarter of the members.
//! - The deterministic interval is `avg_rtcp_size * n / rtcp_bw`, at least the minimum (5 s, or
//!   the "reduced minimum" 360 / session kbps of §6.2), halved before the first report.
//! - The interval actually used is randomised uniformly in [0.5, 1.5] with a caller-supplied
//!   random source and divided by `e - 3/2` to compensate for timer reconsideration (§6.3.1).
//! - When the timer fires the interval is recomputed with the current membership; the report
//!   goes out only if `tp + T <= now`, else the timer is rescheduled (§6.3.6).
//! - When members leave, the next and previous report times are pulled in proportionally
//!   ("reverse reconsideration", §6.3.4).

use std::time::{Duration, Instant};

/// Bytes of IPv4 + UDP header counted in the average RTCP packet size (§6.2).
pub(crate) const UDP_IP_OVERHEAD: usize = 28;

/// `e - 3/2`: the compensation for timer reconsideration converging below the mean (§6.3.1).
const COMPENSATION: f64 = std::f64::consts::E - 1.5;

/// Fraction of the RTCP bandwidth that goes to senders when they are few (§6.2).
const SENDER_FRACTION: f64 = 0.25;

/// The parameters the interval depends on that do not change during a call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct IntervalParams {
    /// RTCP bandwidth in octets per second.
    pub rtcp_bw_octets: f64,
    /// The minimum interval (before halving for the first report).
    pub min_interval: Duration,
}

impl IntervalParams {
    /// Parameters from the session bandwidth (bits per second), the RTCP fraction of it and the
    /// minimum interval policy.
    pub(crate) fn new(
        session_bps: u64,
        rtcp_fraction: f64,
        min_interval: Duration,
        reduced_minimum: bool,
    ) -> Self {
        let rtcp_bw_octets = (session_bps as f64 * rtcp_fraction / 8.0).max(1.0);
        let min_interval = if reduced_minimum && session_bps > 0 {
            // §6.2: 360 divided by the session bandwidth in kilobits per second.
            let reduced = Duration::from_secs_f64(360.0 / (session_bps as f64 / 1000.0));
            reduced.min(min_interval)
        } else {
            min_interval
        };
        Self {
            rtcp_bw_octets,
            min_interval,
        }
    }

    /// The deterministic interval `Td` (§6.3.1 steps 1-4, without randomisation): what
    /// source timeouts are measured in (§6.3.5).
    pub(crate) fn deterministic(
        &self,
        members: usize,
        senders: usize,
        we_sent: bool,
        avg_rtcp_size: f64,
        initial: bool,
    ) -> Duration {
        let mut min = self.min_interval.as_secs_f64();
        if initial {
            min /= 2.0;
        }
        let members = members.max(1);
        let mut n = members as f64;
        let mut bw = self.rtcp_bw_octets;
        if senders as f64 <= members as f64 * SENDER_FRACTION {
            if we_sent {
                bw *= SENDER_FRACTION;
                n = senders.max(1) as f64;
            } else {
                bw *= 1.0 - SENDER_FRACTION;
                n = (members - senders.min(members)).max(1) as f64;
            }
        }
        let t = (avg_rtcp_size * n / bw).max(min);
        Duration::from_secs_f64(t.min(86_400.0))
    }

    /// The randomised, compensated interval (§6.3.1 step 5): `Td * r / (e - 3/2)` with `r`
    /// drawn uniformly from [0.5, 1.5) by `random`.
    pub(crate) fn randomised(&self, deterministic: Duration, random: u32) -> Duration {
        let r = 0.5 + f64::from(random) / (f64::from(u32::MAX) + 1.0);
        deterministic.mul_f64(r / COMPENSATION)
    }
}

/// The scheduling state of A.7: previous and next transmission times, the membership count
/// when the last report went out, the average compound size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RtcpTimer {
    pub params: IntervalParams,
    /// When the last report was sent (`tp`); the session start before the first.
    pub tp: Instant,
    /// When the next report is scheduled (`tn`).
    pub tn: Instant,
    /// Members when the next report time was last computed (`pmembers`).
    pub pmembers: usize,
    /// Average compound RTCP size in octets, UDP/IP overhead included (`avg_rtcp_size`).
    pub avg_rtcp_size: f64,
    /// No report has been sent yet.
    pub initial: bool,
}

/// What the timer decided when it fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// Send a report now; the next one is already scheduled.
    Send,
    /// The recomputed interval puts the report later: rescheduled to `tn`.
    Rescheduled,
}

impl RtcpTimer {
    /// A timer started at `now`: the first report after half the minimum interval, randomised
    /// (§6.2 / A.7 `initial`).
    pub(crate) fn new(
        params: IntervalParams,
        now: Instant,
        avg_rtcp_size: f64,
        members: usize,
        senders: usize,
        we_sent: bool,
        random: u32,
    ) -> Self {
        let td = params.deterministic(members, senders, we_sent, avg_rtcp_size, true);
        Self {
            params,
            tp: now,
            tn: now + params.randomised(td, random),
            pmembers: members,
            avg_rtcp_size,
            initial: true,
        }
    }

    /// A.7 `OnExpire` for a report: recompute the interval with the current membership; send
    /// if `tp + T <= now` (then schedule the next from `now`), else reschedule to `tp + T`.
    /// `random` draws two values.
    pub(crate) fn on_expire(
        &mut self,
        now: Instant,
        members: usize,
        senders: usize,
        we_sent: bool,
        mut random: impl FnMut() -> u32,
    ) -> Expiry {
        let td =
            self.params
                .deterministic(members, senders, we_sent, self.avg_rtcp_size, self.initial);
        let t = self.params.randomised(td, random());
        let due = self.tp + t;
        if due <= now {
            self.tp = now;
            self.initial = false;
            let td =
                self.params
                    .deterministic(members, senders, we_sent, self.avg_rtcp_size, false);
            self.tn = now + self.params.randomised(td, random());
            self.pmembers = members;
            Expiry::Send
        } else {
            self.tn = due;
            Expiry::Rescheduled
        }
    }

    /// Updates the average compound size with one sent or received compound of `len` bytes
    /// (payload length; the UDP/IP overhead is added here).
    pub(crate) fn observe_size(&mut self, len: usize) {
        let size = (len + UDP_IP_OVERHEAD) as f64;
        self.avg_rtcp_size = size / 16.0 + self.avg_rtcp_size * 15.0 / 16.0;
    }

    /// §6.3.4 reverse reconsideration after members left (BYE or timeout): pull `tn` and `tp`
    /// in by `members / pmembers`.
    pub(crate) fn members_left(&mut self, now: Instant, members: usize) {
        if members >= self.pmembers || self.pmembers == 0 {
            return;
        }
        let ratio = members as f64 / self.pmembers as f64;
        if self.tn > now {
            self.tn = now + (self.tn - now).mul_f64(ratio);
        }
        if now > self.tp {
            self.tp = now - (now - self.tp).mul_f64(ratio);
        }
        self.pmembers = members;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> IntervalParams {
        // 64 kbit/s session: RTCP 400 B/s.
        IntervalParams::new(64_000, 0.05, Duration::from_secs(5), false)
    }

    #[test]
    fn minimum_dominates_small_sessions() {
        let p = params();
        assert_eq!(
            p.deterministic(2, 1, true, 100.0, false),
            Duration::from_secs(5)
        );
        assert_eq!(
            p.deterministic(2, 1, true, 100.0, true),
            Duration::from_millis(2500)
        );
    }

    #[test]
    fn large_sessions_scale_with_members() {
        let p = params();
        // 1000 receivers, 1 sender, we did not send: 75% of 400 B/s for 999 members of 120 B.
        let td = p.deterministic(1000, 1, false, 120.0, false);
        let want = 120.0 * 999.0 / 300.0;
        assert!((td.as_secs_f64() - want).abs() < 1e-6, "{td:?}");
        // The sender gets 25% for itself alone: the minimum.
        let td = p.deterministic(1000, 1, true, 120.0, false);
        assert_eq!(td, Duration::from_secs(5));
    }

    #[test]
    fn reduced_minimum() {
        let p = IntervalParams::new(1_000_000, 0.05, Duration::from_secs(5), true);
        assert_eq!(p.min_interval, Duration::from_millis(360));
        let p = IntervalParams::new(10_000, 0.05, Duration::from_secs(5), true);
        assert_eq!(p.min_interval, Duration::from_secs(5));
    }

    #[test]
    fn randomisation_spans_half_to_one_and_a_half_compensated() {
        let p = params();
        let td = Duration::from_secs(5);
        let lo = p.randomised(td, 0).as_secs_f64();
        let hi = p.randomised(td, u32::MAX).as_secs_f64();
        assert!((lo - 2.5 / COMPENSATION).abs() < 1e-6);
        assert!((hi - 7.5 / COMPENSATION).abs() < 1e-6);
    }

    #[test]
    fn reverse_reconsideration_pulls_in() {
        let t0 = Instant::now();
        let mut t = RtcpTimer::new(params(), t0, 100.0, 4, 1, false, 1 << 31);
        t.tp = t0;
        t.tn = t0 + Duration::from_secs(8);
        t.pmembers = 4;
        let now = t0 + Duration::from_secs(4);
        t.members_left(now, 2);
        assert_eq!(t.tn, now + Duration::from_secs(2));
        assert_eq!(t.tp, now - Duration::from_secs(2));
    }
}
