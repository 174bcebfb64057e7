//! Send side of the adapter: capture frames to RTP packets, packet-time switches, RFC 4733 DTMF out, RTCP.

use super::*;

impl MediaTransportAdapter {
    /// Queues a DTMF digit (RFC 4733 event code) lasting `duration`; it is sent from the next
    /// capture frame on, replacing audio, in event packets every 50 ms, the last three times.
    /// Returns `false` when telephone-event was not negotiated.
    pub fn send_dtmf(&mut self, event: u8, duration: Duration) -> bool {
        if self.dtmf.is_none() {
            return false;
        }
        let ticks = (duration.as_micros() * u128::from(self.clock_rate) / 1_000_000) as u32;
        self.dtmf_queue
            .push_back((event, ticks.max(self.frame_ticks)));
        true
    }

    // ----- send ------------------------------------------------------------------------------

    /// One 10 ms capture frame at [`Self::audio_format`]. With `send == false` (muted, held,
    /// paused, or a receive-only stream) the frame only advances the media clock, and the
    /// next packet sent starts a talkspurt (marker bit). A frame of the wrong length is
    /// padded or cut to 10 ms.
    pub fn push_capture_frame(&mut self, now: Instant, pcm: &[i16], send: bool) {
        let frame_start = self.media_ticks;
        self.media_ticks += u64::from(self.frame_ticks);
        if !send || self.encoder.is_none() {
            self.pending.clear();
            self.talkspurt = true;
            self.dtmf_out = None;
            return;
        }
        if self.dtmf_out.is_none() {
            if let Some((event, ticks)) = self.dtmf_queue.pop_front() {
                self.start_dtmf(event, ticks, frame_start);
            }
        }
        if self.dtmf_out.is_some() {
            self.pending.clear();
            self.send_dtmf_due(now);
            return;
        }
        if self.pending.is_empty() {
            self.pending_start = frame_start;
            if self.want_ptime != self.send_ptime {
                self.switch_ptime(frame_start);
            }
        }
        let n = pcm.len().min(self.frame_samples);
        self.pending.extend_from_slice(&pcm[..n]);
        for _ in n..self.frame_samples {
            self.pending.push(0);
        }
        let Some(encoder) = self.encoder.as_mut() else {
            return;
        };
        if self.pending.len() < encoder.frame_samples() {
            return;
        }
        let len = match encoder.encode(&self.pending, &mut self.payload) {
            Ok(len) => len,
            Err(_) => {
                self.counters.encode_errors += 1;
                self.pending.clear();
                return;
            }
        };
        self.pending.clear();
        // Opus DTX: a payload of two bytes or less need not be sent (RFC 7587 section 3.1.3).
        if len <= 2 && self.codec.name == "opus" {
            self.talkspurt = true;
            return;
        }
        let marker = std::mem::replace(&mut self.talkspurt, false);
        let ts = RtpTimestamp(self.pending_start as u32);
        let pt = self.payload_type;
        if self.write_rtp(now, pt, ts, marker, len) {
            self.counters.audio_packets_sent += 1;
        }
    }

    /// At a packet boundary (the next packet starts where the last one ended, so the
    /// timestamps go on without a gap or overlap whatever its duration): moves the packet
    /// time towards the one wanted, shorter at once, longer by [`PTIME_STEP_UP_MS`] at most
    /// every [`PTIME_STEP_HOLD_MS`].
    pub(super) fn switch_ptime(&mut self, frame_start: u64) {
        let Some(enc) = self.encoder.as_mut() else {
            return;
        };
        let next = if self.want_ptime > self.send_ptime {
            let hold = PTIME_STEP_HOLD_MS * u64::from(self.clock_rate) / 1000;
            if self.counters.ptime_changes > 0
                && frame_start.saturating_sub(self.ptime_changed_at) < hold
            {
                return;
            }
            self.want_ptime
                .min(self.send_ptime.saturating_add(PTIME_STEP_UP_MS))
        } else {
            self.want_ptime
        };
        if self.codec.ptimes.contains(&next) && enc.set_frame_ms(next).is_ok() {
            self.send_ptime = next;
            self.ptime_changed_at = frame_start;
            self.counters.ptime_changes += 1;
        } else {
            self.want_ptime = self.send_ptime;
        }
    }

    pub(super) fn start_dtmf(&mut self, event: u8, ticks: u32, start: u64) {
        let interval = (self.clock_rate * DTMF_INTERVAL_MS / 1000).clamp(1, u32::from(u16::MAX));
        if let Ok(seq) = EventSequence::new(
            event,
            10,
            RtpTimestamp(start as u32),
            ticks,
            interval as u16,
        ) {
            self.dtmf_out = Some(DtmfOut {
                seq,
                start_ticks: start,
                next: None,
            });
        }
    }

    /// Sends the event packets due by the media clock.
    pub(super) fn send_dtmf_due(&mut self, now: Instant) {
        let Some((pt, _)) = self.dtmf else {
            self.dtmf_out = None;
            return;
        };
        let elapsed = self.media_ticks;
        loop {
            let Some(out) = self.dtmf_out.as_mut() else {
                return;
            };
            let next = match out.next.take() {
                Some(p) => p,
                None => match out.seq.next() {
                    Some(p) => p,
                    None => {
                        // Done: audio resumes with a new talkspurt.
                        self.dtmf_out = None;
                        self.talkspurt = true;
                        return;
                    }
                },
            };
            if out.start_ticks + u64::from(next.send_offset) > elapsed {
                out.next = Some(next);
                return;
            }
            let Ok(len) = next.event.write(&mut self.payload) else {
                continue;
            };
            if self.write_rtp(now, pt, next.timestamp, next.marker, len) {
                self.counters.dtmf_packets_sent += 1;
            }
        }
    }

    /// Writes `self.payload[..len]` as RTP into the transmit queue, SRTP-protected.
    pub(super) fn write_rtp(
        &mut self,
        now: Instant,
        pt: u8,
        ts: RtpTimestamp,
        marker: bool,
        len: usize,
    ) -> bool {
        let (slot, dropped) = self.tx.push_slot();
        if dropped {
            self.counters.tx_dropped += 1;
        }
        let payload = self.payload.get(..len).unwrap_or_default();
        let (to, plain) = match self
            .session
            .send_rtp(now, pt, ts, marker, payload, &mut slot.buf)
        {
            Ok(t) => (t.destination, t.contents.len()),
            Err(_) => {
                self.tx.unpush();
                return false;
            }
        };
        let out = match self.srtp_tx.as_mut() {
            Some(s) => match s.protect_rtp(&mut slot.buf, plain) {
                Ok(n) => n,
                Err(_) => {
                    self.tx.unpush();
                    return false;
                }
            },
            None => plain,
        };
        slot.to = to;
        slot.len = out;
        true
    }

    /// Moves RTCP the session wants to send into the transmit queue.
    pub(super) fn drain_rtcp(&mut self, now: Instant) {
        while let Some(t) = self.session.poll_transmit(now) {
            let (to, kind) = (t.destination, t.kind);
            let n = t.contents.len().min(DATAGRAM_LEN - 64);
            let (slot, dropped) = self.tx.push_slot();
            if dropped {
                self.counters.tx_dropped += 1;
            }
            slot.buf[..n].copy_from_slice(&t.contents[..n]);
            let len = match (self.srtp_tx.as_mut(), kind) {
                (Some(s), TransmitKind::Rtcp) => match s.protect_rtcp(&mut slot.buf, n) {
                    Ok(len) => len,
                    Err(_) => {
                        self.tx.unpush();
                        continue;
                    }
                },
                _ => n,
            };
            slot.to = to;
            slot.len = len;
        }
    }
}
