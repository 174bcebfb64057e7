//! Per-source receive state: RFC 3550 A.1 validation (through [`SeqTracker`]), A.3 loss, A.8
//! interarrival jitter, duplicate detection, the last sender report, and the figures a
//! receiver report block carries.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::rtcp::{NtpTime, ReportBlock, SenderInfo};
use crate::{RtpTimestamp, SeqTracker, SeqUpdate, Ssrc};

/// The last sender report received from a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastSenderReport {
    /// The wallclock time the sender put in it.
    pub ntp_time: NtpTime,
    /// The RTP timestamp matching that wallclock time.
    pub rtp_timestamp: RtpTimestamp,
    /// The sender's packet count.
    pub packet_count: u32,
    /// The sender's payload octet count.
    pub octet_count: u32,
    /// When we received it.
    pub received_at: Instant,
}

/// Receive statistics of one remote source, as [`RtpSession::stats`](super::RtpSession::stats)
/// reports them.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceStats {
    /// The source.
    pub ssrc: Ssrc,
    /// The address its last RTP packet came from.
    pub address: Option<SocketAddr>,
    /// Whether it passed probation (RFC 3550 A.1).
    pub validated: bool,
    /// RTP packets accepted and delivered (duplicates and discards excluded).
    pub packets: u64,
    /// Payload octets of those packets.
    pub bytes: u64,
    /// Packets expected since validation (A.3: extended highest - base + 1).
    pub expected: u64,
    /// Packets received as RFC 3550 counts them (duplicates included).
    pub received: u64,
    /// Cumulative packets lost (A.3; negative when duplicates outnumber losses).
    pub cumulative_lost: i64,
    /// Fraction lost over the last receiver report interval, 0.0..=1.0 (A.3).
    pub fraction_lost: f64,
    /// Extended highest sequence number received (cycles in the high bits).
    pub extended_highest_seq: u64,
    /// Interarrival jitter (A.8) in RTP timestamp units.
    pub jitter: u32,
    /// Interarrival jitter in milliseconds (through the payload type's clock rate).
    pub jitter_ms: f64,
    /// Clock rate of the source's last payload type.
    pub clock_rate: Option<u32>,
    /// Duplicate packets discarded.
    pub duplicates: u64,
    /// Packets discarded because their payload type is not configured.
    pub unknown_payload_type: u64,
    /// Packets discarded while the source was on probation.
    pub probation_discarded: u64,
    /// Packets dropped by the A.1 validator as a sequence jump awaiting confirmation.
    pub sequence_jumps: u64,
    /// RTCP packets (compounds) received from the source.
    pub rtcp_packets: u64,
    /// The last sender report received from it.
    pub last_sender_report: Option<LastSenderReport>,
    /// Round-trip time computed from the last report block it sent about our stream
    /// (RFC 3550 §6.4.1: arrival - LSR - DLSR).
    pub rtt: Option<Duration>,
}

/// 128 packets of history for duplicate detection: more than SeqTracker::MAX_MISORDER.
#[derive(Debug, Clone, Copy, Default)]
struct SeenWindow {
    highest: Option<u64>,
    bits: u128,
}

impl SeenWindow {
    /// Marks `ext` as seen; returns whether it had been seen already.
    fn mark(&mut self, ext: u64) -> bool {
        let Some(highest) = self.highest else {
            self.highest = Some(ext);
            self.bits = 1;
            return false;
        };
        if ext > highest {
            let shift = ext - highest;
            self.bits = if shift >= 128 { 0 } else { self.bits << shift };
            self.bits |= 1;
            self.highest = Some(ext);
            return false;
        }
        let back = highest - ext;
        if back >= 128 {
            return false;
        }
        let bit = 1u128 << back;
        let seen = self.bits & bit != 0;
        self.bits |= bit;
        seen
    }
}

/// One RTP packet as [`Source::on_rtp`] needs it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RtpArrival {
    /// Arrival time.
    pub now: Instant,
    /// Sender address.
    pub from: SocketAddr,
    /// Sequence number.
    pub seq: crate::SeqNo,
    /// RTP timestamp.
    pub timestamp: RtpTimestamp,
    /// Payload length.
    pub payload_len: usize,
    /// Clock rate of its payload type.
    pub clock_rate: u32,
    /// Arrival time in timestamp units since the session epoch.
    pub arrival_ts: f64,
}

/// What [`Source::on_rtp`] decided about a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RtpVerdict {
    /// Deliver; carries the extended sequence number; `first_valid` on the packet that ended
    /// probation.
    Deliver {
        extended_seq: u64,
        first_valid: bool,
    },
    /// On probation: discarded.
    Probation,
    /// Already received: discarded.
    Duplicate,
    /// A sequence jump awaiting confirmation: discarded.
    Jump,
}

/// The receive state of one remote source.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub ssrc: Ssrc,
    seq: Option<SeqTracker>,
    probation: u8,
    /// Address of the last RTP packet.
    pub rtp_addr: Option<SocketAddr>,
    /// Address of the last RTCP packet.
    pub rtcp_addr: Option<SocketAddr>,
    packets: u64,
    bytes: u64,
    duplicates: u64,
    pub unknown_pt: u64,
    probation_discarded: u64,
    jumps: u64,
    pub rtcp_packets: u64,
    seen: SeenWindow,
    /// A.8 jitter in timestamp units (floating point; the wire value is its integer part).
    jitter: f64,
    /// Arrival (in timestamp units since the session epoch) and RTP timestamp of the previous
    /// packet, with the clock rate they were measured in.
    last_transit: Option<(f64, u32, u32)>,
    clock_rate: Option<u32>,
    expected_prior: u64,
    received_prior: u64,
    fraction: u8,
    pub last_sr: Option<LastSenderReport>,
    pub rtt: Option<Duration>,
    /// Last RTP packet (for the sender count and reports).
    pub last_rtp: Option<Instant>,
    /// Last RTP or RTCP packet (for the timeout).
    pub last_activity: Instant,
    /// RTP arrived since our last report (the source gets a report block).
    rtp_since_report: bool,
    /// Passed probation (cached so the session can count members cheaply).
    pub validated: bool,
}

impl Source {
    /// A source first heard of at `now` (by RTP or RTCP); `probation` sequential packets
    /// validate it.
    pub(crate) fn new(ssrc: Ssrc, now: Instant, probation: u8) -> Self {
        Self {
            ssrc,
            seq: None,
            probation,
            rtp_addr: None,
            rtcp_addr: None,
            packets: 0,
            bytes: 0,
            duplicates: 0,
            unknown_pt: 0,
            probation_discarded: 0,
            jumps: 0,
            rtcp_packets: 0,
            seen: SeenWindow::default(),
            jitter: 0.0,
            last_transit: None,
            clock_rate: None,
            expected_prior: 0,
            received_prior: 0,
            fraction: 0,
            last_sr: None,
            rtt: None,
            last_rtp: None,
            last_activity: now,
            rtp_since_report: false,
            validated: false,
        }
    }

    /// Feeds one RTP packet.
    pub(crate) fn on_rtp(&mut self, rtp: RtpArrival) -> RtpVerdict {
        let RtpArrival {
            now,
            from,
            seq,
            timestamp,
            payload_len,
            clock_rate,
            arrival_ts,
        } = rtp;
        self.last_activity = now;
        // Probation packets from two addresses restart probation from the latest one:
        // latching relies on all probation packets coming from one address.
        let address_changed = self.rtp_addr.is_some_and(|a| a != from);
        self.rtp_addr = Some(from);
        let update = match &mut self.seq {
            None => {
                let tracker = SeqTracker::with_probation(seq, self.probation);
                self.seq = Some(tracker);
                if tracker.is_valid() {
                    SeqUpdate::InOrder(tracker.extended_max())
                } else {
                    SeqUpdate::Probation
                }
            }
            Some(tracker) => {
                if !self.validated && address_changed {
                    // Probation packets from two addresses: start again from this one.
                    *tracker = SeqTracker::with_probation(seq, self.probation);
                    if tracker.is_valid() {
                        SeqUpdate::InOrder(tracker.extended_max())
                    } else {
                        SeqUpdate::Probation
                    }
                } else {
                    tracker.update(seq)
                }
            }
        };
        let (extended_seq, first_valid) = match update {
            SeqUpdate::Probation => {
                self.probation_discarded += 1;
                return RtpVerdict::Probation;
            }
            SeqUpdate::Jump => {
                self.jumps += 1;
                return RtpVerdict::Jump;
            }
            SeqUpdate::InOrder(ext) => (ext, !self.validated),
            SeqUpdate::Restarted(ext) => {
                // The sender restarted its numbering: A.3 counts start again.
                self.seen = SeenWindow::default();
                self.expected_prior = 0;
                self.received_prior = 0;
                (ext, false)
            }
            SeqUpdate::Late(Some(ext)) => (ext, false),
            SeqUpdate::Late(None) => {
                // Older than the first packet across a wrap: cannot be checked; deliver as
                // late (the jitter buffer will find it too old).
                (0, false)
            }
        };
        if self.seen.mark(extended_seq) && !first_valid {
            self.duplicates += 1;
            return RtpVerdict::Duplicate;
        }
        self.validated = true;
        self.packets += 1;
        self.bytes += payload_len as u64;
        self.last_rtp = Some(now);
        self.rtp_since_report = true;
        self.update_jitter(timestamp, clock_rate, arrival_ts);
        RtpVerdict::Deliver {
            extended_seq,
            first_valid,
        }
    }

    /// RFC 3550 A.8: `J += (|D| - J) / 16` with `D` the difference of relative transit times.
    fn update_jitter(&mut self, timestamp: RtpTimestamp, clock_rate: u32, arrival_ts: f64) {
        if self.clock_rate != Some(clock_rate) {
            // A payload type with another clock: transit times are not comparable.
            self.clock_rate = Some(clock_rate);
            self.last_transit = None;
            self.jitter = 0.0;
        }
        if let Some((last_arrival, last_ts, rate)) = self.last_transit {
            if rate == clock_rate {
                let ts_delta = f64::from(timestamp.0.wrapping_sub(last_ts) as i32);
                let d = (arrival_ts - last_arrival) - ts_delta;
                if d.is_finite() {
                    self.jitter += (d.abs() - self.jitter) / 16.0;
                }
            }
        }
        self.last_transit = Some((arrival_ts, timestamp.0, clock_rate));
    }

    /// Records a sender report from this source.
    pub(crate) fn on_sender_report(&mut self, now: Instant, info: SenderInfo) {
        self.last_activity = now;
        self.last_sr = Some(LastSenderReport {
            ntp_time: info.ntp_time,
            rtp_timestamp: info.rtp_timestamp,
            packet_count: info.packet_count,
            octet_count: info.octet_count,
            received_at: now,
        });
    }

    /// Whether the source sent RTP at or after `since` (any RTP when `None`): an active
    /// sender for the interval computation (§6.3.8).
    pub(crate) fn sent_since(&self, since: Option<Instant>) -> bool {
        match (self.last_rtp, since) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(t), Some(s)) => t >= s,
        }
    }

    /// The report block about this source for a report sent at `now`, and the A.3 interval
    /// bookkeeping; `None` when no RTP arrived since the previous report.
    pub(crate) fn report_block(&mut self, now: Instant) -> Option<ReportBlock> {
        if !self.rtp_since_report || !self.validated {
            return None;
        }
        self.rtp_since_report = false;
        let tracker = self.seq?;
        let expected = tracker.expected();
        let received = tracker.received();
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        self.fraction = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / expected_interval as i64).min(255) as u8
        };
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            Some(sr) => {
                let delay = now.saturating_duration_since(sr.received_at).as_secs_f64();
                (sr.ntp_time.middle_32(), (delay * 65536.0) as u32)
            }
            None => (0, 0),
        };
        Some(ReportBlock {
            ssrc: self.ssrc,
            fraction_lost: self.fraction,
            cumulative_lost: tracker
                .cumulative_lost()
                .clamp(i64::from(i32::MIN), i64::from(i32::MAX))
                as i32,
            extended_highest_seq: tracker.extended_max() as u32,
            jitter: self.jitter as u32,
            last_sr,
            delay_since_last_sr,
        })
    }

    /// The statistics snapshot.
    pub(crate) fn stats(&self) -> SourceStats {
        let (expected, received, lost, ext) = match &self.seq {
            Some(t) if self.validated => (
                t.expected(),
                t.received(),
                t.cumulative_lost(),
                t.extended_max(),
            ),
            _ => (0, 0, 0, 0),
        };
        let jitter_ms = match self.clock_rate {
            Some(rate) if rate > 0 => self.jitter * 1000.0 / f64::from(rate),
            _ => 0.0,
        };
        SourceStats {
            ssrc: self.ssrc,
            address: self.rtp_addr,
            validated: self.validated,
            packets: self.packets,
            bytes: self.bytes,
            expected,
            received,
            cumulative_lost: lost,
            fraction_lost: f64::from(self.fraction) / 256.0,
            extended_highest_seq: ext,
            jitter: self.jitter as u32,
            jitter_ms,
            clock_rate: self.clock_rate,
            duplicates: self.duplicates,
            unknown_payload_type: self.unknown_pt,
            probation_discarded: self.probation_discarded,
            sequence_jumps: self.jumps,
            rtcp_packets: self.rtcp_packets,
            last_sender_report: self.last_sr,
            rtt: self.rtt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeqNo;

    fn addr() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 4000))
    }

    #[test]
    fn window_detects_duplicates() {
        let mut w = SeenWindow::default();
        assert!(!w.mark(10));
        assert!(w.mark(10));
        assert!(!w.mark(12));
        assert!(!w.mark(11));
        assert!(w.mark(11));
        assert!(!w.mark(500));
        assert!(!w.mark(10));
    }

    #[test]
    fn probation_then_fraction_lost() {
        let t0 = Instant::now();
        let mut s = Source::new(Ssrc(1), t0, 2);
        let rtp = |s: &mut Source, seq: u16| {
            s.on_rtp(RtpArrival {
                now: t0,
                from: addr(),
                seq: SeqNo(seq),
                timestamp: RtpTimestamp(u32::from(seq) * 160),
                payload_len: 160,
                clock_rate: 8000,
                arrival_ts: f64::from(seq) * 160.0,
            })
        };
        assert_eq!(rtp(&mut s, 100), RtpVerdict::Probation);
        assert_eq!(
            rtp(&mut s, 101),
            RtpVerdict::Deliver {
                extended_seq: 101,
                first_valid: true
            }
        );
        for seq in 102..=201u16 {
            if seq % 4 != 0 {
                rtp(&mut s, seq);
            }
        }
        assert_eq!(rtp(&mut s, 150), RtpVerdict::Duplicate);
        let block = s.report_block(t0).expect("a block");
        // 101 expected (101..=201), 25 lost, 1 duplicate counted as received by A.1.
        assert_eq!(block.extended_highest_seq, 201);
        assert_eq!(block.cumulative_lost, 24);
        assert_eq!(u32::from(block.fraction_lost), (24u32 << 8) / 101);
        assert_eq!(s.stats().jitter, 0);
        assert!(s.report_block(t0).is_none());
    }
}
