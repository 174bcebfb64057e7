//! The output side of the jitter buffer: the playout decision per tick (waiting, playing,
//! expanding, concealing, discarding) and the packet duration it plays by.

use super::*;

impl JitterBuffer {
    /// The playout decision for the tick at `now`; see [`Playout`].
    pub fn poll(&mut self, now: Instant) -> Playout {
        let now_us = self.time(now);
        self.est.update(now_us);
        let out = match self.mode {
            Mode::Idle => Playout::NothingYet,
            Mode::Waiting => self.poll_waiting(now_us),
            Mode::Playing => self.poll_playing(now_us),
        };
        self.last_out_packet = matches!(out, Playout::Packet(_));
        let consumed = match &out {
            Playout::Packet(p) => self.ticks_to_us(i64::from(p.duration)),
            Playout::Missing(m) => self.ticks_to_us(i64::from(m.duration)),
            Playout::NothingYet => self.frame_us,
        };
        self.next_poll_us = match self.mode {
            Mode::Idle => None,
            _ => Some(now_us.saturating_add(consumed.max(1))),
        };
        out
    }

    fn base_us(&self) -> i64 {
        self.est.base().unwrap_or(0)
    }

    fn poll_waiting(&mut self, now_us: i64) -> Playout {
        let Some(head) = self.buf.front() else {
            return Playout::NothingYet;
        };
        let base = self.base_us();
        let target = self.est.target_us();
        let mut cur = now_us
            .saturating_sub(self.ticks_to_us(head.ts))
            .saturating_sub(base);
        if cur < target {
            return Playout::NothingYet;
        }
        // Too much delay already (the talkspurt is old): skip packets while the next one is
        // contiguous and would still be at or above the target.
        while self.buf.len() >= 2 {
            let (a, b) = (&self.buf[0], &self.buf[1]);
            let step = self.ticks_to_us(b.ts.saturating_sub(a.ts));
            if b.seq != a.seq.saturating_add(1) || step <= 0 || cur.saturating_sub(step) < target {
                break;
            }
            cur = cur.saturating_sub(step);
            if let Some(s) = self.buf.pop_front() {
                self.stats.discarded += 1;
                self.account(s.seq);
                self.drop_slot(s);
            }
        }
        let Some(head) = self.buf.front() else {
            return Playout::NothingYet;
        };
        self.cursor_ts = head.ts;
        self.next_seq = head.seq;
        self.mode = Mode::Playing;
        self.stats.talkspurts += 1;
        self.cur_delay_us = cur;
        self.play_head()
    }

    fn expand(&mut self, next_available: bool) -> Playout {
        self.stats.expanded += 1;
        Playout::Missing(Missing {
            kind: MissingKind::Expand,
            timestamp: RtpTimestamp(self.cursor_ts as u32),
            duration: self.frame_ticks,
            seq: None,
            next_available,
        })
    }

    fn poll_playing(&mut self, now_us: i64) -> Playout {
        let cur = now_us
            .saturating_sub(self.ticks_to_us(self.cursor_ts))
            .saturating_sub(self.base_us());
        self.cur_delay_us = cur;
        let target = self.est.target_us();
        let low = target;
        let high = target.saturating_add(self.frame_us + self.frame_us / 4);
        let Some(head) = self.buf.front() else {
            // Underflow.
            if cur < low {
                return self.expand(false);
            }
            if self.underflow_us >= self.max_conceal_us {
                self.mode = Mode::Waiting;
                return Playout::NothingYet;
            }
            return self.conceal(MissingKind::Underflow, self.last_duration, false);
        };
        let (head_seq, head_ts, head_marker) = (head.seq, head.ts, head.marker);
        if head_ts <= self.cursor_ts {
            if self.cfg.media_stretch {
                // The media layer stretches; only an excess it cannot shed is dropped here.
                let limit = target.saturating_add(self.stretch_excess_us);
                if cur >= limit && self.may_discard(now_us, cur.saturating_sub(target)) {
                    self.discard_head(now_us);
                }
                return self.play_head();
            }
            if cur < low {
                return self.expand(true);
            }
            if cur >= high && self.may_discard(now_us, cur.saturating_sub(target)) {
                self.discard_head(now_us);
            }
            return self.play_head();
        }
        // A gap before the head.
        let gap = head_ts.saturating_sub(self.cursor_ts);
        let missing = head_seq.saturating_sub(self.next_seq);
        if missing <= 0 {
            if !head_marker && !self.last_duration_known && gap <= self.max_pkt_ticks {
                // The previous packet was longer than assumed.
                self.cursor_ts = head_ts;
                return self.play_head();
            }
            // Silence (DTX / end of talkspurt): re-anchor on the next talkspurt.
            self.mode = Mode::Waiting;
            return self.poll_waiting(now_us);
        }
        if cur < low && !self.cfg.media_stretch {
            return self.expand(false);
        }
        let mut per = gap / missing;
        if head_marker || per > self.max_pkt_ticks || per <= 0 {
            per = i64::from(self.last_duration).min(gap);
        }
        let next_available = missing == 1;
        self.conceal(
            MissingKind::Lost,
            u32::try_from(per).unwrap_or(self.last_duration),
            next_available,
        )
    }

    fn discard_head(&mut self, now_us: i64) {
        if let Some(s) = self.buf.pop_front() {
            self.stats.discarded += 1;
            self.last_discard_us = Some(now_us);
            self.account(s.seq);
            self.drop_slot(s);
        }
        if let Some(h) = self.buf.front() {
            self.cursor_ts = h.ts;
        }
    }

    fn may_discard(&self, now_us: i64, excess_us: i64) -> bool {
        if self.buf.len() < 2 || self.buf[1].seq != self.buf[0].seq.saturating_add(1) {
            return false;
        }
        let interval = (self.frame_us.saturating_mul(1_000_000) / excess_us.max(1))
            .clamp(self.frame_us, 2_000_000);
        match self.last_discard_us {
            Some(l) => now_us.saturating_sub(l) >= interval,
            None => true,
        }
    }

    fn conceal(&mut self, kind: MissingKind, duration: u32, next_available: bool) -> Playout {
        let m = Missing {
            kind,
            timestamp: RtpTimestamp(self.cursor_ts as u32),
            duration,
            seq: Some(SeqNo(self.next_seq as u16)),
            next_available,
        };
        self.stats.concealed += 1;
        self.next_seq = self.next_seq.saturating_add(1);
        self.cursor_ts = self.cursor_ts.saturating_add(i64::from(duration));
        if kind == MissingKind::Underflow {
            self.underflow_us = self
                .underflow_us
                .saturating_add(self.ticks_to_us(i64::from(duration)));
        }
        Playout::Missing(m)
    }

    /// Marks `seq` as played (or discarded), counting the sequence numbers skipped before it.
    fn account(&mut self, seq: i64) {
        if let Some(l) = self.last_played {
            let gap = seq.saturating_sub(l).saturating_sub(1).max(0);
            self.stats.lost = self.stats.lost.saturating_add(gap.unsigned_abs());
        }
        self.last_played = Some(seq);
    }

    /// Plays the head packet (the caller checked there is one).
    fn play_head(&mut self) -> Playout {
        let Some(s) = self.buf.pop_front() else {
            return Playout::NothingYet;
        };
        self.bytes = self.bytes.saturating_sub(s.payload.capacity());
        let (duration, known) = match self.buf.front() {
            Some(n) if n.seq > s.seq => {
                let per = n.ts.saturating_sub(s.ts) / n.seq.saturating_sub(s.seq).max(1);
                if per > 0 && per <= self.max_pkt_ticks && !n.marker {
                    (
                        u32::try_from(per).unwrap_or(self.last_duration),
                        n.seq == s.seq.saturating_add(1),
                    )
                } else {
                    (self.last_duration, false)
                }
            }
            _ => (self.last_duration, false),
        };
        self.account(s.seq);
        self.last_played_ts = Some(s.ts);
        self.next_seq = s.seq.saturating_add(1);
        self.cursor_ts = s.ts.saturating_add(i64::from(duration));
        if known {
            self.last_duration = duration;
        }
        self.last_duration_known = known;
        self.underflow_us = 0;
        self.stats.played += 1;
        let ssrc = self.stream.map_or(Ssrc(0), |st| st.ssrc);
        Playout::Packet(PlayoutPacket {
            ssrc,
            seq: SeqNo(s.seq as u16),
            timestamp: RtpTimestamp(s.ts as u32),
            marker: s.marker,
            payload: s.payload,
            duration,
            duration_known: known,
        })
    }

    /// Tells the buffer how many RTP ticks the packet last handed out really covered (the
    /// decoder knows; the buffer only knows when the next packet was already there). Moves the
    /// playout cursor and [`JitterBuffer::poll_timeout`] accordingly. Ignored if the last output
    /// was not a packet or `ticks` is 0 or above `max_packet_duration`.
    pub fn set_packet_duration(&mut self, ticks: u32) {
        let (Some(last), Some(ts)) = (self.last_played, self.last_played_ts) else {
            return;
        };
        if ticks == 0
            || i64::from(ticks) > self.max_pkt_ticks
            || !self.last_out_packet
            || self.next_seq != last.saturating_add(1)
        {
            return;
        }
        let old = self.cursor_ts;
        self.cursor_ts = ts.saturating_add(i64::from(ticks));
        self.last_duration = ticks;
        self.last_duration_known = true;
        let shift = self.ticks_to_us(self.cursor_ts.saturating_sub(old));
        if let Some(p) = self.next_poll_us.as_mut() {
            *p = p.saturating_add(shift);
        }
    }
}
