//! The RTCP half of [`RtpSession`]: interpreting received compounds and writing our reports,
//! BYEs after collisions and the final BYE.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{
    Latching, Received, ReportSummary, Result, RtpSession, SessionEvent, Source, Transmit,
    TransmitKind, MAX_REPORT_BLOCKS,
};
use crate::rtcp::{
    ByeWriter, Compound, CompoundWriter, ReceiverReportWriter, ReportBlock, SdesItem,
    SdesWriteChunk, SdesWriter, SenderReportWriter,
};
use crate::{PacketError, RtcpPacket, Ssrc};

/// Reason text of the BYE sent for an SSRC given up after a collision.
const COLLISION_REASON: &[u8] = b"SSRC collision";

impl RtpSession {
    /// Handles a datagram classified as RTCP.
    pub(super) fn handle_rtcp<'a>(
        &mut self,
        now: Instant,
        from: SocketAddr,
        bytes: &'a [u8],
    ) -> Result<Option<Received<'a>>> {
        let compound = match Compound::parse(bytes) {
            Ok(c) => c,
            Err(e) => {
                self.counters.malformed += 1;
                return Err(e.into());
            }
        };
        if !self.rtcp_from_allowed(now, from) {
            self.counters.wrong_address += 1;
            return Ok(None);
        }
        self.counters.rtcp_compounds += 1;
        self.timer.observe_size(bytes.len());
        self.mark_alive(now);
        for packet in compound.packets() {
            match packet {
                Err(_) => self.counters.rtcp_bad_packets += 1,
                Ok(RtcpPacket::SenderReport(sr)) => {
                    if let Some(source) = self.rtcp_source(now, from, sr.ssrc()) {
                        source.on_sender_report(now, sr.sender_info());
                    }
                    for block in sr.report_blocks() {
                        self.on_report_block(now, sr.ssrc(), block);
                    }
                }
                Ok(RtcpPacket::ReceiverReport(rr)) => {
                    self.rtcp_source(now, from, rr.ssrc());
                    for block in rr.report_blocks() {
                        self.on_report_block(now, rr.ssrc(), block);
                    }
                }
                Ok(RtcpPacket::Sdes(sdes)) => {
                    for chunk in sdes.chunks() {
                        if let Some(source) = self.sources.get_mut(&chunk.ssrc()) {
                            source.last_activity = now;
                        }
                    }
                }
                Ok(RtcpPacket::Bye(bye)) => {
                    for ssrc in bye.ssrcs() {
                        self.on_bye(now, ssrc);
                    }
                }
                Ok(RtcpPacket::Remb(remb)) => {
                    let ours = self.sender.ssrc;
                    if remb.ssrcs().len() == 0 || remb.ssrcs().any(|s| s == ours) {
                        self.bwe.on_remb(now, remb.bitrate_bps());
                        self.bwe_changed(now);
                    }
                }
                Ok(RtcpPacket::TransportFeedback(fb)) => self.twcc_on_feedback(now, &fb),
                // NACK, PLI, FIR, XR and APP are not used by the session.
                Ok(_) => {}
            }
        }
        Ok(Some(Received::Rtcp))
    }

    /// With a latched remote, RTCP is accepted from the latched RTP address, the RTCP address,
    /// any port of the latched host without rtcp-mux, or anywhere once the latched address
    /// went silent (it may be moving).
    fn rtcp_from_allowed(&self, now: Instant, from: SocketAddr) -> bool {
        let Latching::On { relatch_after } = self.config.latching else {
            return true;
        };
        let Some(rtp) = self.remote_rtp.filter(|_| self.latch.latched) else {
            return true;
        };
        from == rtp
            || Some(from) == self.remote_rtcp
            || (!self.config.rtcp_mux && from.ip() == rtp.ip())
            || self
                .latch
                .last_seen
                .is_none_or(|t| now.saturating_duration_since(t) >= relatch_after)
    }

    /// The source that sent an SR or RR: a collision check, then found or created (up to the
    /// source limit).
    fn rtcp_source(&mut self, now: Instant, from: SocketAddr, ssrc: Ssrc) -> Option<&mut Source> {
        if ssrc == self.sender.ssrc {
            self.on_own_ssrc(from);
            return None;
        }
        if !self.sources.contains_key(&ssrc) {
            if self.sources.len() >= self.config.max_sources {
                return None;
            }
            self.sources
                .insert(ssrc, Source::new(ssrc, now, self.config.probation));
        }
        // Without rtcp-mux and without a configured RTCP address, learn where the latched
        // source's RTCP comes from.
        let learn_rtcp = !self.config.rtcp_mux
            && self.latch.latched
            && self.config.remote_rtcp.is_none()
            && self.remote_rtcp != Some(from);
        let remote_rtp = self.remote_rtp;
        let source = self.sources.get_mut(&ssrc)?;
        source.rtcp_packets += 1;
        source.rtcp_addr = Some(from);
        source.last_activity = now;
        if learn_rtcp && source.validated && source.rtp_addr == remote_rtp {
            self.remote_rtcp = Some(from);
        }
        self.sources.get_mut(&ssrc)
    }

    /// A report block from `reporter`: when it is about our stream, compute the RTT, raise a
    /// [`SessionEvent::ReceiverReport`] and feed the bandwidth estimator.
    fn on_report_block(&mut self, now: Instant, reporter: Ssrc, block: ReportBlock) {
        if block.ssrc != self.sender.ssrc {
            return;
        }
        let rtt = (block.last_sr != 0)
            .then(|| {
                // RFC 3550 §6.4.1: A - LSR - DLSR, all in 1/65536 s.
                let arrival = self.ntp(now).middle_32();
                let units = arrival
                    .wrapping_sub(block.last_sr)
                    .wrapping_sub(block.delay_since_last_sr);
                (units < 0x8000_0000).then(|| Duration::from_secs_f64(f64::from(units) / 65536.0))
            })
            .flatten();
        if rtt.is_some() {
            self.rtt = rtt;
            if let Some(source) = self.sources.get_mut(&reporter) {
                source.rtt = rtt;
            }
        }
        let fraction_lost = f64::from(block.fraction_lost) / 256.0;
        let jitter_ms = self
            .sender
            .clock_rate()
            .map(|rate| f64::from(block.jitter) * 1000.0 / f64::from(rate));
        self.push_event(SessionEvent::ReceiverReport(ReportSummary {
            reporter,
            fraction_lost,
            cumulative_lost: block.cumulative_lost,
            extended_highest_seq: block.extended_highest_seq,
            jitter: block.jitter,
            jitter_ms,
            rtt,
        }));
        self.bwe.on_loss_report(now, fraction_lost);
        self.bwe_changed(now);
    }

    /// Raises [`SessionEvent::BandwidthEstimate`] when the estimate moved enough.
    pub(super) fn bwe_changed(&mut self, now: Instant) {
        if let Some(bps) = self.bwe.take_change(now) {
            self.push_event(SessionEvent::BandwidthEstimate { bps });
        }
    }

    fn on_bye(&mut self, now: Instant, ssrc: Ssrc) {
        if ssrc == self.sender.ssrc {
            return;
        }
        let before = self.members();
        if let Some(source) = self.sources.remove(&ssrc) {
            if source.validated || source.rtcp_packets > 0 {
                self.push_event(SessionEvent::SourceBye { ssrc });
            }
            let after = self.members();
            self.timer.members_left(now, after.min(before));
        }
    }

    /// The next RTCP datagram to send: a BYE for an SSRC given up after a collision, the final
    /// BYE after [`close`](Self::close), or a scheduled report. The datagram is written into a
    /// buffer the session reuses; send it before calling again.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit<'_>> {
        if self.closed {
            return None;
        }
        while let Some(old) = self.pending_byes.pop_front() {
            let Some(destination) = self.remote_rtcp else {
                self.counters.rtcp_no_destination += 1;
                continue;
            };
            let len = write_collision_bye(&mut self.rtcp_buf, old).ok()?;
            self.sender.byes += 1;
            return Some(self.rtcp_transmit(destination, len));
        }
        if !self.closing {
            if let Some(twcc) = self.twcc.as_mut() {
                if let Some(len) = twcc.write_feedback(now, self.sender.ssrc, &mut self.rtcp_buf) {
                    let Some(destination) = self.remote_rtcp else {
                        self.counters.rtcp_no_destination += 1;
                        return None;
                    };
                    // Counted as RTCP sent, but left out of the RFC 3550 average size that
                    // schedules reports (feedback has its own cadence).
                    self.counters.rtcp_sent += 1;
                    return Some(Transmit {
                        destination,
                        kind: TransmitKind::Rtcp,
                        contents: self.rtcp_buf.get(..len).unwrap_or_default(),
                    });
                }
            }
        }
        if self.closing {
            self.closed = true;
            let Some(destination) = self.remote_rtcp else {
                self.counters.rtcp_no_destination += 1;
                return None;
            };
            let len = self.write_report(now, true).ok()?;
            self.sender.byes += 1;
            return Some(self.rtcp_transmit(destination, len));
        }
        if self.report_due {
            self.report_due = false;
            let Some(destination) = self.remote_rtcp else {
                self.counters.rtcp_no_destination += 1;
                return None;
            };
            let len = self.write_report(now, false).ok()?;
            return Some(self.rtcp_transmit(destination, len));
        }
        None
    }

    fn rtcp_transmit(&mut self, destination: SocketAddr, len: usize) -> Transmit<'_> {
        self.counters.rtcp_sent += 1;
        self.timer.observe_size(len);
        Transmit {
            destination,
            kind: TransmitKind::Rtcp,
            contents: self.rtcp_buf.get(..len).unwrap_or_default(),
        }
    }

    /// Writes SR (if we sent in the last two intervals) or RR with a block per source heard
    /// since the last report, SDES CNAME, and BYE when `bye`, into the reused buffer.
    fn write_report(&mut self, now: Instant, bye: bool) -> std::result::Result<usize, PacketError> {
        let ntp = self.ntp(now);
        let we_sent = self.sender.we_sent();
        let ssrc = self.sender.ssrc;
        self.blocks.clear();
        for source in self.sources.values_mut() {
            if self.blocks.len() >= MAX_REPORT_BLOCKS {
                break;
            }
            if let Some(block) = source.report_block(now) {
                self.blocks.push(block);
            }
        }
        let items = [SdesItem::cname(&self.config.cname)];
        let chunks = [SdesWriteChunk {
            ssrc,
            items: &items,
        }];
        let ssrcs = [ssrc];
        let mut compound = CompoundWriter::new(&mut self.rtcp_buf);
        if we_sent {
            let info = self.sender.sender_info(now, ntp);
            compound.push(&SenderReportWriter::new(ssrc, info, &self.blocks))?;
        } else {
            compound.push(&ReceiverReportWriter::new(ssrc, &self.blocks))?;
        }
        compound.push(&SdesWriter { chunks: &chunks })?;
        if bye {
            compound.push(&ByeWriter {
                ssrcs: &ssrcs,
                reason: None,
            })?;
        }
        let len = compound.len();
        self.sender.reported(now, we_sent);
        Ok(len)
    }
}

/// RR (no blocks) + BYE for an SSRC given up after a collision (§8.2).
fn write_collision_bye(buf: &mut [u8], old: Ssrc) -> std::result::Result<usize, PacketError> {
    let ssrcs = [old];
    let mut compound = CompoundWriter::new(buf);
    compound.push(&ReceiverReportWriter::new(old, &[]))?;
    compound.push(&ByeWriter {
        ssrcs: &ssrcs,
        reason: Some(COLLISION_REASON),
    })?;
    Ok(compound.len())
}
