//! Transport-wide congestion control in the session
//! (draft-holmer-rmcat-transport-wide-cc-extensions-01).
//!
//! - **Sending**: every RTP packet carries the transport-wide sequence number header
//!   extension ([`TWCC_EXTENSION_URI`], two bytes, RFC 8285 one-byte form) and is remembered in a bounded send history (sequence number,
//!   send time, size).
//! - **Receiving**: the arrival time of every packet carrying the extension is recorded in a
//!   bounded window; every [`TwccConfig::feedback_interval`] the window is reported in a
//!   transport feedback packet (RTPFB FMT 15), sent alone as a reduced-size RTCP datagram
//!   (RFC 5506) through `poll_transmit`.
//! - **Feedback in**: each reported packet is matched with the send history and fed to the
//!   [`DelayBasedBwe`]; its rate joins the loss-based estimate and REMB (the minimum wins).
//!
//! Nothing here allocates after the session is built.

use std::time::{Duration, Instant};

use super::delay_bwe::DelayBasedBwe;
use super::RtpSession;
use crate::rtcp::{
    CompoundWriter, TransportFeedback, TransportFeedbackWriter, TWCC_DELTA_TICK_US,
    TWCC_REFERENCE_UNIT_US,
};
use crate::{PacketError, RtpPacket, SeqNo, SeqUnwrapper, Ssrc};

/// The extension's URI, for SDP `a=extmap`: the one the draft (§2) defines and libwebrtc
/// and GStreamer's rtpsession announce (there is no `urn:ietf:params:rtp-hdrext:` name).
pub const TWCC_EXTENSION_URI: &str =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

/// Sent packets remembered for matching feedback (a power of two).
const HISTORY: usize = 4096;
/// Arrivals remembered between two feedback packets (a power of two).
const ARRIVALS: usize = 4096;
/// Most statuses in one feedback packet (fits a 1500-byte datagram in the worst case).
pub(crate) const MAX_STATUSES: usize = 560;
/// Packets reported before a loss fraction is computed from transport feedback.
const LOSS_PACKETS: u32 = 20;

/// Transport-wide congestion control settings (negotiated in SDP with `a=extmap` and
/// `a=rtcp-fb:* transport-cc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwccConfig {
    /// The local identifier of the transport-wide sequence number extension, 1..=14.
    pub extension_id: u8,
    /// How often received packets are reported (libwebrtc: 50-250 ms; 100 ms by default).
    pub feedback_interval: Duration,
}

impl Default for TwccConfig {
    fn default() -> Self {
        Self {
            extension_id: 5,
            feedback_interval: Duration::from_millis(100),
        }
    }
}

/// Counters of transport-wide congestion control.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TwccStats {
    /// Feedback packets sent.
    pub feedback_sent: u64,
    /// Feedback packets received and used.
    pub feedback_received: u64,
    /// Packets the peer reported received.
    pub reported_received: u64,
    /// Packets the peer reported lost.
    pub reported_lost: u64,
    /// Reported packets no longer (or never) in the send history.
    pub unknown_reports: u64,
    /// Arrivals too late for the feedback window (their sequence number was reported).
    pub late_arrivals: u64,
    /// Arrivals pushed out of the window before being reported (more than 4096 ahead).
    pub window_overflow: u64,
}

#[derive(Debug, Clone, Copy)]
struct Sent {
    seq: u64,
    send_us: i64,
    size: u32,
}

/// The session's transport-wide congestion control state.
#[derive(Debug, Clone)]
pub(crate) struct Twcc {
    pub(crate) config: TwccConfig,
    epoch: Instant,
    // Sending.
    next_seq: u64,
    history: Vec<Option<Sent>>,
    last_fed: Option<u64>,
    reference: Option<(u32, i64)>,
    last_fb_count: Option<u8>,
    /// Packets reported lost and reported in all, since the last loss report.
    loss_window: (u32, u32),
    pub(crate) delay: DelayBasedBwe,
    // Receiving.
    unwrapper: SeqUnwrapper,
    arrivals: Vec<Option<i64>>,
    /// First sequence number not yet reported, and the highest one received.
    window: Option<(u64, u64)>,
    /// After a complete feedback: the next sequence number to report (packets lost between
    /// two feedbacks are reported as lost in the next one, not skipped).
    next_base: Option<u64>,
    media_ssrc: Ssrc,
    next_feedback: Option<Instant>,
    fb_count: u8,
    scratch: Vec<Option<i32>>,
    pub(crate) stats: TwccStats,
}

impl Twcc {
    pub(crate) fn new(config: TwccConfig, epoch: Instant, delay: DelayBasedBwe) -> Self {
        Self {
            config,
            epoch,
            next_seq: 0,
            history: vec![None; HISTORY],
            last_fed: None,
            reference: None,
            last_fb_count: None,
            loss_window: (0, 0),
            delay,
            unwrapper: SeqUnwrapper::new(),
            arrivals: vec![None; ARRIVALS],
            window: None,
            next_base: None,
            media_ssrc: Ssrc(0),
            next_feedback: None,
            fb_count: 0,
            scratch: Vec::with_capacity(MAX_STATUSES),
            stats: TwccStats::default(),
        }
    }

    fn micros(&self, t: Instant) -> i64 {
        i64::try_from(t.saturating_duration_since(self.epoch).as_micros()).unwrap_or(i64::MAX)
    }

    /// Numbers an outgoing packet of `size` bytes sent at `now`: the extension's value.
    pub(crate) fn stamp(&mut self, now: Instant, size: usize) -> [u8; 2] {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.history[seq as usize % HISTORY] = Some(Sent {
            seq,
            send_us: self.micros(now),
            size: u32::try_from(size).unwrap_or(u32::MAX),
        });
        (seq as u16).to_be_bytes()
    }

    /// Takes back the last [`stamp`](Self::stamp) (the packet could not be written).
    pub(crate) fn unstamp(&mut self) {
        self.next_seq = self.next_seq.saturating_sub(1);
        self.history[self.next_seq as usize % HISTORY] = None;
    }

    /// A packet from `ssrc` carrying transport-wide sequence number `data` arrived at `now`.
    pub(crate) fn on_arrival(&mut self, now: Instant, ssrc: Ssrc, data: &[u8]) {
        let Some(&[hi, lo]) = data.first_chunk::<2>() else {
            return;
        };
        let Some(seq) = self.unwrapper.unwrap(SeqNo(u16::from_be_bytes([hi, lo]))) else {
            self.stats.late_arrivals += 1;
            return;
        };
        self.media_ssrc = ssrc;
        let at = self.micros(now);
        let (mut base, mut highest) = self.window.unwrap_or((self.next_base.unwrap_or(seq), seq));
        if seq < base {
            self.stats.late_arrivals += 1;
            return;
        }
        if seq - base >= ARRIVALS as u64 {
            let new_base = seq + 1 - ARRIVALS as u64;
            for s in base..new_base.min(base + ARRIVALS as u64) {
                if self.arrivals[s as usize % ARRIVALS].take().is_some() {
                    self.stats.window_overflow += 1;
                }
            }
            base = new_base;
        }
        highest = highest.max(seq);
        self.arrivals[seq as usize % ARRIVALS] = Some(at);
        self.window = Some((base, highest.max(base)));
        if self.next_feedback.is_none() {
            self.next_feedback = now.checked_add(self.config.feedback_interval);
        }
    }

    /// When the next feedback is due (only while arrivals wait to be reported).
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.next_feedback
    }

    /// Writes the next feedback packet into `buf` if one is due at `now`; its length.
    pub(crate) fn write_feedback(
        &mut self,
        now: Instant,
        sender_ssrc: Ssrc,
        buf: &mut [u8],
    ) -> Option<usize> {
        if self.next_feedback.is_none_or(|t| now < t) {
            return None;
        }
        let Some((base, highest)) = self.window else {
            self.next_feedback = None;
            return None;
        };
        self.scratch.clear();
        let mut reference: Option<(i64, i64)> = None;
        let mut seq = base;
        while seq <= highest && self.scratch.len() < MAX_STATUSES {
            let slot = seq as usize % ARRIVALS;
            let status = match self.arrivals[slot] {
                None => None,
                Some(at) => {
                    let (_, last) = *reference.get_or_insert_with(|| {
                        let units = at.div_euclid(TWCC_REFERENCE_UNIT_US);
                        (units, units * TWCC_REFERENCE_UNIT_US)
                    });
                    let ticks = (at - last + TWCC_DELTA_TICK_US / 2).div_euclid(TWCC_DELTA_TICK_US);
                    let Ok(ticks) = i16::try_from(ticks) else {
                        // Over 8 s from the previous one: it starts the next feedback.
                        break;
                    };
                    if let Some(r) = reference.as_mut() {
                        r.1 = last + i64::from(ticks) * TWCC_DELTA_TICK_US;
                    }
                    Some(i32::from(ticks))
                }
            };
            self.arrivals[slot] = None;
            self.scratch.push(status);
            seq += 1;
        }
        let (units, _) = reference?;
        let writer = TransportFeedbackWriter {
            sender_ssrc,
            media_ssrc: self.media_ssrc,
            base_seq: SeqNo(base as u16),
            reference_time: (units as u32) & 0x00FF_FFFF,
            fb_pkt_count: self.fb_count,
            deltas: &self.scratch,
        };
        let len = write_alone(&writer, buf).ok()?;
        self.fb_count = self.fb_count.wrapping_add(1);
        self.stats.feedback_sent += 1;
        if seq > highest {
            self.window = None;
            self.next_base = Some(seq);
            self.next_feedback = None;
        } else {
            // More to report: the rest goes out at once.
            self.window = Some((seq, highest));
        }
        Some(len)
    }

    /// Feeds a feedback packet about our packets (to the delay-based estimator); returns the
    /// fraction lost over the packets reported since the last such figure, once there are
    /// enough of them.
    pub(crate) fn on_feedback(&mut self, now: Instant, fb: &TransportFeedback<'_>) -> Option<f64> {
        if self.last_fb_count == Some(fb.fb_pkt_count()) {
            // A duplicate of the last one.
            return None;
        }
        self.last_fb_count = Some(fb.fb_pkt_count());
        // Unwrap the base against what we sent, and the 24-bit reference time against the
        // previous one.
        let newest = SeqNo(self.next_seq.wrapping_sub(1) as u16);
        let behind = u64::from(newest.0.wrapping_sub(fb.base_seq().0));
        let Some(base) = self
            .next_seq
            .checked_sub(1)
            .and_then(|n| n.checked_sub(behind))
        else {
            self.stats.unknown_reports += u64::from(fb.status_count());
            return None;
        };
        let reference_us = match self.reference {
            None => 0,
            Some((raw, us)) => {
                let diff = ((fb.reference_time().wrapping_sub(raw) & 0x00FF_FFFF) << 8) as i32 >> 8;
                us + i64::from(diff) * TWCC_REFERENCE_UNIT_US
            }
        };
        self.reference = Some((fb.reference_time(), reference_us));
        self.stats.feedback_received += 1;
        let mut arrival_us = reference_us;
        let mut lost = 0u32;
        for (i, status) in fb.statuses().enumerate() {
            let seq = base + i as u64;
            let Some(ticks) = status.delta else {
                self.stats.reported_lost += 1;
                lost += 1;
                continue;
            };
            self.stats.reported_received += 1;
            arrival_us += i64::from(ticks) * TWCC_DELTA_TICK_US;
            let sent = self.history[seq as usize % HISTORY].filter(|s| s.seq == seq);
            let Some(sent) = sent else {
                self.stats.unknown_reports += 1;
                continue;
            };
            if self.last_fed.is_some_and(|l| seq <= l) {
                continue;
            }
            self.last_fed = Some(seq);
            self.delay
                .on_packet(sent.send_us, arrival_us, sent.size as usize);
        }
        self.delay.update(now);
        // Loss is reported over at least LOSS_PACKETS packets (libwebrtc: 20), so that one
        // lost packet in a feedback of three does not read as 33% loss.
        let (l, t) = self.loss_window;
        self.loss_window = (l + lost, t + u32::from(fb.status_count()));
        let (l, t) = self.loss_window;
        (t >= LOSS_PACKETS).then(|| {
            self.loss_window = (0, 0);
            f64::from(l) / f64::from(t)
        })
    }
}

impl RtpSession {
    /// Records the arrival of an RTP packet that carries the transport-wide sequence number.
    pub(super) fn twcc_on_rtp(&mut self, now: Instant, packet: &RtpPacket<'_>) {
        let Some(twcc) = self.twcc.as_mut() else {
            return;
        };
        let id = twcc.config.extension_id;
        if let Some(data) = packet.extension().and_then(|e| e.get(id)) {
            twcc.on_arrival(now, packet.ssrc(), data);
        }
    }

    /// Feeds a transport feedback packet to the delay-based estimator.
    pub(super) fn twcc_on_feedback(&mut self, now: Instant, fb: &TransportFeedback<'_>) {
        let Some(twcc) = self.twcc.as_mut() else {
            return;
        };
        let before = twcc.stats.feedback_received;
        let loss = twcc.on_feedback(now, fb);
        if twcc.stats.feedback_received == before {
            return;
        }
        let rate = twcc.delay.rate_bps();
        self.bwe.on_delay_based(now, rate);
        if let Some(fraction_lost) = loss {
            self.bwe.on_loss_report(now, fraction_lost);
        }
        self.bwe_changed(now);
    }

    /// Transport-wide congestion control counters, when it is on.
    pub fn twcc_stats(&self) -> Option<TwccStats> {
        self.twcc.as_ref().map(|t| t.stats)
    }

    /// The delay-based estimator, when TWCC is on.
    pub fn delay_based_estimator(&self) -> Option<&DelayBasedBwe> {
        self.twcc.as_ref().map(|t| &t.delay)
    }
}

/// Writes one feedback packet as a datagram of its own.
fn write_alone(w: &TransportFeedbackWriter<'_>, buf: &mut [u8]) -> Result<usize, PacketError> {
    let mut compound = CompoundWriter::new(buf);
    compound.push(w)?;
    Ok(compound.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtcp::Compound;
    use crate::RtcpPacket;

    fn twcc(t0: Instant) -> Twcc {
        let config = TwccConfig {
            extension_id: 1,
            feedback_interval: Duration::from_millis(100),
        };
        Twcc::new(config, t0, DelayBasedBwe::new(300_000, 10_000, 10_000_000))
    }

    /// Parses a feedback datagram and hands it to `sender`.
    fn deliver(sender: &mut Twcc, now: Instant, bytes: &[u8]) -> Option<f64> {
        let compound = Compound::parse(bytes).ok()?;
        match compound.packets().next()? {
            Ok(RtcpPacket::TransportFeedback(fb)) => sender.on_feedback(now, &fb),
            _ => None,
        }
    }

    #[test]
    fn feedback_round_trip_with_losses_and_wrap() {
        let t0 = Instant::now();
        let (mut tx, mut rx) = (twcc(t0), twcc(t0));
        tx.next_seq = 65_530; // the 16-bit value wraps during the test
        let mut buf = [0u8; 1500];
        let mut lost = 0;
        let mut fractions = Vec::new();
        for i in 0..200u32 {
            let now = t0 + Duration::from_millis(u64::from(i) * 10);
            let value = tx.stamp(now, 200);
            if i % 10 == 3 {
                lost += 1;
            } else {
                rx.on_arrival(now + Duration::from_millis(30), Ssrc(9), &value);
            }
            let later = now + Duration::from_millis(30);
            if let Some(len) = rx.write_feedback(later, Ssrc(7), &mut buf) {
                fractions.extend(deliver(&mut tx, later, &buf[..len]));
            }
        }
        let end = t0 + Duration::from_secs(10);
        while let Some(len) = rx.write_feedback(end, Ssrc(7), &mut buf) {
            fractions.extend(deliver(&mut tx, end, &buf[..len]));
        }
        assert_eq!(tx.stats.reported_lost, lost);
        assert_eq!(tx.stats.reported_received, 200 - lost);
        assert_eq!(tx.stats.unknown_reports, 0);
        assert_eq!(tx.stats.feedback_received, rx.stats.feedback_sent);
        // About one per 100 ms over 2 s of packets.
        assert!(rx.stats.feedback_sent >= 15, "{:?}", rx.stats);
        // 10% lost, reported over windows of at least 20 packets.
        assert!(!fractions.is_empty());
        assert!(
            fractions.iter().all(|f| (0.0..=0.2).contains(f)),
            "{fractions:?}"
        );
        // A steady 30 ms path: no queue, the rate only grows.
        assert!(tx.delay.rate_bps() >= 300_000);
    }

    #[test]
    fn long_gap_splits_feedback_and_late_arrivals_are_counted() {
        let t0 = Instant::now();
        let mut rx = twcc(t0);
        let mut buf = [0u8; 1500];
        rx.on_arrival(t0, Ssrc(1), &0u16.to_be_bytes());
        // 9 s later (beyond a two-byte delta of 8.19 s), the next packet.
        let t1 = t0 + Duration::from_secs(9);
        rx.on_arrival(t1, Ssrc(1), &1u16.to_be_bytes());
        let first = rx.write_feedback(t1, Ssrc(2), &mut buf);
        assert!(first.is_some());
        let statuses = |b: &[u8]| -> Vec<Option<i32>> {
            match Compound::parse(b).ok().and_then(|c| c.packets().next()) {
                Some(Ok(RtcpPacket::TransportFeedback(fb))) => {
                    fb.statuses().map(|s| s.delta).collect()
                }
                _ => Vec::new(),
            }
        };
        assert_eq!(statuses(&buf[..first.unwrap_or(0)]).len(), 1);
        let second = rx.write_feedback(t1, Ssrc(2), &mut buf);
        assert_eq!(statuses(&buf[..second.unwrap_or(0)]).len(), 1);
        assert_eq!(rx.write_feedback(t1, Ssrc(2), &mut buf), None);
        // Sequence number 0 again: already reported.
        rx.on_arrival(t1, Ssrc(1), &0u16.to_be_bytes());
        assert_eq!(rx.stats.late_arrivals, 1);
        // A jump of more than the window pushes unreported arrivals out, counted.
        rx.on_arrival(t1, Ssrc(1), &2u16.to_be_bytes());
        rx.on_arrival(t1, Ssrc(1), &5000u16.to_be_bytes());
        assert_eq!(rx.stats.window_overflow, 1);
    }

    #[test]
    fn feedback_about_unknown_packets_is_counted_not_fed() {
        let t0 = Instant::now();
        let (mut tx, mut rx) = (twcc(t0), twcc(t0));
        let mut buf = [0u8; 1500];
        // The peer reports sequence numbers we never sent.
        for s in 100..110u16 {
            rx.on_arrival(t0, Ssrc(1), &s.to_be_bytes());
        }
        let t1 = t0 + Duration::from_millis(100);
        let len = rx.write_feedback(t1, Ssrc(2), &mut buf).unwrap_or(0);
        assert_eq!(deliver(&mut tx, t1, &buf[..len]), None);
        assert_eq!(tx.stats.unknown_reports, 10);
        assert_eq!(tx.delay.acked_bps(), None);
    }
}
