//! Receive side of the adapter: datagrams in (SRTP, RTP session, jitter buffer, RFC 4733 in) and
//! playout (decode, FEC, concealment, time-stretching).

use super::*;

impl MediaTransportAdapter {
    /// A datagram from `from` received at `now`. With `receive == false` (held, send-only)
    /// statistics and RTCP are kept but audio is not buffered.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8], receive: bool) {
        self.counters.datagrams_received += 1;
        let n = bytes.len().min(DATAGRAM_LEN);
        self.rx_buf[..n].copy_from_slice(&bytes[..n]);
        let len = match self.srtp_rx.as_mut() {
            Some(s) => {
                let result = if rtp_core::rtcp::is_rtcp(&self.rx_buf[..n]) {
                    s.unprotect_rtcp(&mut self.rx_buf[..n])
                } else {
                    s.unprotect_rtp(&mut self.rx_buf[..n])
                };
                match result {
                    Ok(len) => len,
                    Err(_) => {
                        self.counters.srtp_failures += 1;
                        return;
                    }
                }
            }
            None => n,
        };
        let received = match self.session.handle_packet(now, from, &self.rx_buf[..len]) {
            Ok(Some(Received::Rtp(r))) => Some((
                r.packet.payload_type(),
                r.packet.sequence_number(),
                r.packet.timestamp(),
                r.packet.marker(),
                r.packet.ssrc(),
                r.packet.payload(),
            )),
            Ok(_) => None,
            Err(_) => {
                self.counters.malformed += 1;
                None
            }
        };
        if let Some((pt, seq, ts, marker, ssrc, payload)) = received {
            if self.dtmf.is_some_and(|(_, rx)| rx == pt) {
                self.counters.dtmf_packets_received += 1;
                if let Ok(ev) = TelephoneEvent::parse(payload) {
                    if receive {
                        dtmf_receive(
                            &mut self.dtmf_in,
                            &mut self.events,
                            &mut self.counters,
                            ts.0,
                            ev,
                            self.clock_rate,
                        );
                    }
                }
            } else if pt == self.receive_payload_type || pt == self.payload_type {
                if receive && self.decoder.is_some() {
                    let mut buf = self.jitter.take_buffer();
                    buf.extend_from_slice(payload);
                    self.jitter.insert(
                        now,
                        JitterPacket {
                            ssrc,
                            seq,
                            timestamp: ts,
                            marker,
                            payload: buf,
                        },
                    );
                    self.counters.audio_packets_received += 1;
                }
            } else {
                self.counters.other_payload_type += 1;
            }
        }
        self.drain_session_events(now);
    }

    /// Plays 10 ms into `out` (at least [`Self::frame_samples`] long): decoded audio, FEC,
    /// concealment or silence. With `play == false` (receive muted) the audio is still
    /// decoded (statistics, decoder state) but `out` gets silence. Returns the samples
    /// written.
    pub fn pull_playout_frame(&mut self, now: Instant, out: &mut [i16], play: bool) -> usize {
        let n = self.frame_samples.min(out.len());
        if self.decoder.is_none() {
            out[..n].fill(0);
            return n;
        }
        let mut guard = 0;
        while self.play.len() - self.play_pos < n && guard < 8 {
            guard += 1;
            if self.play_pos > 0 {
                self.play.copy_within(self.play_pos.., 0);
                let keep = self.play.len() - self.play_pos;
                self.play.truncate(keep);
                self.play_pos = 0;
            }
            let added = self.poll_jitter(now);
            if added == 0 {
                let room = n.min(self.play.capacity() - self.play.len());
                self.play.resize(self.play.len() + room, 0);
            }
        }
        let avail = (self.play.len() - self.play_pos).min(n);
        if play {
            out[..avail].copy_from_slice(&self.play[self.play_pos..self.play_pos + avail]);
        } else {
            out[..avail].fill(0);
        }
        out[avail..n].fill(0);
        self.play_pos += avail;
        self.counters.frames_played += 1;
        n
    }

    /// Polls the jitter buffer once and appends what it gives to the playout queue.
    pub(super) fn poll_jitter(&mut self, now: Instant) -> usize {
        let Some(decoder) = self.decoder.as_mut() else {
            return 0;
        };
        let ch = usize::from(self.params.channels.max(1));
        let ticks_to_samples = |ticks: u32, clock: u32, rate: u32| -> usize {
            (u64::from(ticks) * u64::from(rate) / u64::from(clock.max(1))) as usize * ch
        };
        let room = self.play.capacity() - self.play.len();
        let cap = self.scratch.len().min(room);
        let mut stretched = Stretched::No;
        let written = match self.jitter.poll(now) {
            Playout::Packet(p) => {
                let r = decoder.decode(&p.payload, &mut self.scratch[..cap]);
                let n = match r {
                    Ok(n) => {
                        self.counters.decoded += 1;
                        // Tell the buffer what the packet really covered.
                        let ticks = (n / ch) as u64 * u64::from(self.clock_rate)
                            / u64::from(self.params.sample_rate.max(1));
                        self.jitter.set_packet_duration(ticks as u32);
                        let queued = self.play.len() - self.play_pos;
                        stretched = self.playout.after_decode(
                            &self.jitter,
                            &self.scratch[..n],
                            queued,
                            room,
                        );
                        n
                    }
                    Err(_) => {
                        self.counters.decode_errors += 1;
                        let want =
                            ticks_to_samples(p.duration, self.clock_rate, self.params.sample_rate)
                                .min(cap);
                        decoder.conceal(&mut self.scratch[..want]).unwrap_or(0)
                    }
                };
                self.jitter.recycle(p.payload);
                n
            }
            Playout::Missing(m) => {
                let want =
                    ticks_to_samples(m.duration, self.clock_rate, self.params.sample_rate).min(cap);
                let mut n = None;
                if m.kind == MissingKind::Lost && m.next_available {
                    if let Some(next) = self.jitter.peek_next_payload() {
                        if let Ok(Some(k)) = decoder.decode_fec(next, &mut self.scratch[..want]) {
                            self.counters.fec_recovered += 1;
                            n = Some(k);
                        }
                    }
                }
                match n {
                    Some(k) => k,
                    None => {
                        match m.kind {
                            MissingKind::Lost => self.counters.concealed_lost += 1,
                            MissingKind::Underflow => self.counters.concealed_underflow += 1,
                            MissingKind::Expand => self.counters.expanded += 1,
                        }
                        decoder.conceal(&mut self.scratch[..want]).unwrap_or(0)
                    }
                }
            }
            Playout::NothingYet => {
                self.counters.silence += 1;
                let want = (self.params.sample_rate as usize * usize::from(self.params.ptime_ms)
                    / 1000
                    * ch)
                    .min(cap);
                self.scratch[..want].fill(0);
                want
            }
        };
        match stretched {
            Stretched::Accelerated(k) => {
                self.counters.accelerated += 1;
                self.play.extend_from_slice(self.playout.output(k));
                k
            }
            Stretched::Expanded(k) => {
                self.counters.preemptive_expanded += 1;
                self.play.extend_from_slice(self.playout.output(k));
                k
            }
            Stretched::No => {
                let written = written.min(cap);
                self.play.extend_from_slice(&self.scratch[..written]);
                written
            }
        }
    }
}

/// RFC 4733 receive: one report per event, at its end (or when a new event starts without
/// the end having been seen). End-bit retransmissions carry the same timestamp and are
/// ignored once reported.
pub(super) fn dtmf_receive(
    state: &mut Option<DtmfIn>,
    events: &mut VecDeque<AdapterEvent>,
    counters: &mut AdapterCounters,
    timestamp: u32,
    ev: TelephoneEvent,
    clock_rate: u32,
) {
    let to_duration = |ticks: u16| {
        Duration::from_micros(u64::from(ticks) * 1_000_000 / u64::from(clock_rate.max(1)))
    };
    match state {
        Some(cur) if cur.timestamp == timestamp && cur.event == ev.event => {
            cur.duration = cur.duration.max(ev.duration);
            if ev.end && !cur.reported {
                cur.reported = true;
                counters.dtmf_events += 1;
                let (event, duration) = (cur.event, to_duration(cur.duration));
                push_event(events, counters, AdapterEvent::Dtmf { event, duration });
            }
        }
        _ => {
            // A new event: report the previous one if its end was never seen.
            if let Some(prev) = state.take() {
                if !prev.reported {
                    counters.dtmf_events += 1;
                    let duration = to_duration(prev.duration);
                    push_event(
                        events,
                        counters,
                        AdapterEvent::Dtmf {
                            event: prev.event,
                            duration,
                        },
                    );
                }
            }
            let mut cur = DtmfIn {
                timestamp,
                event: ev.event,
                duration: ev.duration,
                reported: false,
            };
            if ev.end {
                cur.reported = true;
                counters.dtmf_events += 1;
                let duration = to_duration(ev.duration);
                push_event(
                    events,
                    counters,
                    AdapterEvent::Dtmf {
                        event: ev.event,
                        duration,
                    },
                );
            }
            *state = Some(cur);
        }
    }
}
