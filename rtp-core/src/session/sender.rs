//! Our own stream: SSRC, sequence numbers, the random timestamp offset, sender counts and
//! the sender information of our reports.

#[cfg(test)]
use std::time::Duration;
use std::time::Instant;

use crate::rtcp::{NtpTime, SenderInfo};
use crate::{RtpTimestamp, SeqNo, Ssrc};

/// Statistics of our own stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderStats {
    /// Our current SSRC.
    pub ssrc: Ssrc,
    /// RTP packets sent under this SSRC (the SR packet count).
    pub packets: u64,
    /// Payload octets sent under this SSRC (the SR octet count).
    pub octets: u64,
    /// RTP packets sent over the whole session, across SSRC changes.
    pub total_packets: u64,
    /// The next sequence number.
    pub next_seq: SeqNo,
    /// The RTP timestamp of the last packet sent (on the wire, offset included).
    pub last_timestamp: Option<RtpTimestamp>,
    /// Sender reports sent.
    pub sender_reports: u64,
    /// Receiver reports sent.
    pub receiver_reports: u64,
    /// BYE packets sent.
    pub byes: u64,
    /// SSRC changes after collisions.
    pub ssrc_changes: u64,
}

/// The sending side of the session.
#[derive(Debug, Clone)]
pub(crate) struct LocalSender {
    pub ssrc: Ssrc,
    seq: SeqNo,
    ts_offset: u32,
    packets: u64,
    octets: u64,
    total_packets: u64,
    /// Time, wire timestamp and clock rate of the last packet sent.
    last_sent: Option<(Instant, u32, u32)>,
    /// When our last two reports went out (the latest first).
    reports: [Option<Instant>; 2],
    pub sender_reports: u64,
    pub receiver_reports: u64,
    pub byes: u64,
    pub ssrc_changes: u64,
}

impl LocalSender {
    pub(crate) fn new(ssrc: Ssrc, initial_seq: SeqNo, ts_offset: u32) -> Self {
        Self {
            ssrc,
            seq: initial_seq,
            ts_offset,
            packets: 0,
            octets: 0,
            total_packets: 0,
            last_sent: None,
            reports: [None; 2],
            sender_reports: 0,
            receiver_reports: 0,
            byes: 0,
            ssrc_changes: 0,
        }
    }

    /// Numbers the next packet: its sequence number and wire timestamp for `media_ts` (the
    /// caller's timestamp, counted from the start of the stream) in a clock of `clock_rate`.
    pub(crate) fn next_packet(
        &mut self,
        now: Instant,
        media_ts: RtpTimestamp,
        clock_rate: u32,
        payload_len: usize,
    ) -> (SeqNo, RtpTimestamp) {
        let seq = self.seq;
        self.seq = seq.next();
        let ts = media_ts.0.wrapping_add(self.ts_offset);
        self.packets += 1;
        self.total_packets += 1;
        self.octets += payload_len as u64;
        self.last_sent = Some((now, ts, clock_rate));
        (seq, RtpTimestamp(ts))
    }

    /// Undoes the counts of the last [`next_packet`](Self::next_packet) (the packet could not
    /// be written).
    pub(crate) fn unsend(&mut self, payload_len: usize) {
        self.seq = SeqNo(self.seq.0.wrapping_sub(1));
        self.packets = self.packets.saturating_sub(1);
        self.total_packets = self.total_packets.saturating_sub(1);
        self.octets = self.octets.saturating_sub(payload_len as u64);
    }

    /// A new SSRC after a collision: the SR counts restart (they are per SSRC); numbering
    /// continues.
    pub(crate) fn change_ssrc(&mut self, ssrc: Ssrc) {
        self.ssrc = ssrc;
        self.packets = 0;
        self.octets = 0;
        self.ssrc_changes += 1;
    }

    /// Whether we sent RTP since the report before the last one (RFC 3550 §6.4: an SR is sent
    /// if we sent data "since issuing the last report or the previous one"); before any
    /// report, whether we sent at all.
    pub(crate) fn we_sent(&self) -> bool {
        match (self.last_sent, self.reports[1]) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some((at, _, _)), Some(prev)) => at >= prev,
        }
    }

    /// When our report before the last one went out.
    pub(crate) fn report_before_last(&self) -> Option<Instant> {
        self.reports[1]
    }

    /// Records that a report went out at `now`.
    pub(crate) fn reported(&mut self, now: Instant, sender_report: bool) {
        self.reports = [Some(now), self.reports[0]];
        if sender_report {
            self.sender_reports += 1;
        } else {
            self.receiver_reports += 1;
        }
    }

    /// The clock rate of the last packet sent (to express peer-reported jitter in ms).
    pub(crate) fn clock_rate(&self) -> Option<u32> {
        self.last_sent.map(|(_, _, rate)| rate)
    }

    /// The sender information of an SR sent at `now` with wallclock `ntp`: the RTP timestamp
    /// extrapolated from the last packet sent.
    pub(crate) fn sender_info(&self, now: Instant, ntp: NtpTime) -> SenderInfo {
        let rtp_timestamp = match self.last_sent {
            Some((at, ts, rate)) => {
                let elapsed = now.saturating_duration_since(at).as_secs_f64();
                let ticks = (elapsed * f64::from(rate)) as u64;
                RtpTimestamp(ts.wrapping_add(ticks as u32))
            }
            None => RtpTimestamp(self.ts_offset),
        };
        SenderInfo {
            ntp_time: ntp,
            rtp_timestamp,
            packet_count: self.packets as u32,
            octet_count: self.octets as u32,
        }
    }

    pub(crate) fn stats(&self) -> SenderStats {
        SenderStats {
            ssrc: self.ssrc,
            packets: self.packets,
            octets: self.octets,
            total_packets: self.total_packets,
            next_seq: self.seq,
            last_timestamp: self.last_sent.map(|(_, ts, _)| RtpTimestamp(ts)),
            sender_reports: self.sender_reports,
            receiver_reports: self.receiver_reports,
            byes: self.byes,
            ssrc_changes: self.ssrc_changes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_offsets_and_sr() {
        let t0 = Instant::now();
        let mut s = LocalSender::new(Ssrc(5), SeqNo(65535), u32::MAX - 100);
        assert!(!s.we_sent());
        let (seq, ts) = s.next_packet(t0, RtpTimestamp(0), 8000, 160);
        assert_eq!((seq, ts), (SeqNo(65535), RtpTimestamp(u32::MAX - 100)));
        let (seq, ts) = s.next_packet(t0, RtpTimestamp(160), 8000, 160);
        assert_eq!((seq, ts), (SeqNo(0), RtpTimestamp(59)));
        let info = s.sender_info(t0 + Duration::from_millis(20), NtpTime(0));
        assert_eq!(info.rtp_timestamp, RtpTimestamp(59 + 160));
        assert_eq!((info.packet_count, info.octet_count), (2, 320));
        assert!(s.we_sent());
        s.reported(t0 + Duration::from_secs(1), true);
        s.reported(t0 + Duration::from_secs(2), true);
        assert!(!s.we_sent());
        s.change_ssrc(Ssrc(6));
        assert_eq!(s.stats().packets, 0);
        assert_eq!(s.stats().total_packets, 2);
    }
}
