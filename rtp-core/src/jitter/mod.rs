//! Packet-level adaptive jitter buffer for audio (sans-IO, time passed in).
//!
//! The buffer holds RTP packets between the network and the decoder. It never reads a clock:
//! every call takes a [`std::time::Instant`] from the caller, so tests run on virtual time.
//!
//! # The loop
//!
//! ```
//! use rtp_core::jitter::{JitterBuffer, JitterConfig, JitterPacket, Playout};
//! use rtp_core::{RtpTimestamp, SeqNo, Ssrc};
//! use std::time::{Duration, Instant};
//!
//! let mut jb = JitterBuffer::new(JitterConfig::new(8000)).unwrap();
//! let t0 = Instant::now(); // virtual time base
//! for i in 0..50u16 {
//!     let now = t0 + Duration::from_millis(20 * u64::from(i));
//!     // Receive: fill a recycled buffer, hand it over.
//!     let mut payload = jb.take_buffer();
//!     payload.extend_from_slice(&[0xff; 160]);
//!     jb.insert(now, JitterPacket {
//!         ssrc: Ssrc(1), seq: SeqNo(i), timestamp: RtpTimestamp(160 * u32::from(i)),
//!         marker: i == 0, payload,
//!     });
//!     // Play out: one call per playout tick (or when `poll_timeout()` says).
//!     match jb.poll(now) {
//!         Playout::Packet(p) => {
//!             // decode(&p.payload) ... then give the buffer back:
//!             jb.recycle(p.payload);
//!         }
//!         Playout::Missing(m) => { /* conceal m.duration ticks (or FEC from peek_next_payload) */ }
//!         Playout::NothingYet => { /* silence / comfort noise for one frame */ }
//!     }
//! }
//! assert!(jb.stats().played > 40);
//! ```
//!
//! # Playout model
//!
//! `poll` is pull-driven: each call is one playout tick and consumes what it returns — a packet
//! (its duration), a concealment span (`Missing::duration`) or one configured frame
//! (`NothingYet`). The caller polls again when that has been played out
//! ([`JitterBuffer::poll_timeout`] gives the instant). The buffer keeps a playout cursor (the
//! next RTP timestamp and sequence number to play); the instants of the polls map the RTP
//! timeline onto the caller's clock.
//!
//! # Delay
//!
//! Every packet's transit `T = arrival - timestamp / rate` is compared with the *base transit*
//! (minimum over a 2 s window): `d = T - base` is its relative delay. The **current delay** is
//! the same quantity for the playout point, `now - cursor / rate - base` at a poll: a packet is in
//! time exactly when `d <= current delay`. The **target delay** is the 95th percentile of `d`
//! from a forgetting histogram (NetEq's delay manager), floored by `jitter_factor` times the
//! RFC 3550 interarrival jitter, and bounded by `[min_delay, max_delay]`. It rises at once (to
//! the quantile, and to the relative delay of any late packet, which then holds it for
//! `late_hold`) and decays slowly (`target_decay` per second).
//!
//! # Adaptation
//!
//! - **Grow** (current < target): insert a concealment frame without advancing the cursor:
//!   [`Playout::Missing`] with [`MissingKind::Expand`]. When the next packet is missing this is
//!   "wait for it" (it may be late rather than lost). During silence the silence is simply
//!   lengthened.
//! - **Shrink at silence**: after a talkspurt ends (the next packet is sequence-contiguous but
//!   its timestamp jumps, or it has the marker bit) or after the buffer ran dry for longer than
//!   `max_conceal`, the buffer re-anchors: the next talkspurt starts at the first poll where its
//!   delay reaches the target, so silences are shortened or lengthened.
//! - **Shrink in speech** (current >= target + 1.25 frame): drop one packet, progressively (at
//!   most one per `frame / excess` seconds, PJSIP's "progressive discard"), counted in
//!   [`JitterStats::discarded`].
//!
//! So the current delay stays in `[target, target + 1.25 frame)`: never below the target (the
//! target is what covers the chosen share of packets), and the band is wider than the one-frame
//! step, so an adjustment never triggers the opposite one.
//!
//! A media layer that time-stretches (accelerate/expand by pitch periods, as `media-core`'s
//! adapter does) sets [`JitterConfig::media_stretch`]: the two in-speech adjustments above are
//! then left to it (only an excess beyond [`JitterConfig::stretch_excess`] is still dropped).
//! Polling sooner or later than the returned duration moves the current delay, which
//! [`JitterBuffer::current_delay`] reports against [`JitterBuffer::target_delay`].
//!
//! # Memory
//!
//! At most `max_packets` packets and `max_bytes` payload bytes (counted by capacity) are held;
//! overflow drops the oldest. Payload buffers are recycled: [`JitterBuffer::take_buffer`] lends
//! an empty buffer, `insert` takes it, [`Playout::Packet`] returns it and
//! [`JitterBuffer::recycle`] takes it back, so the steady state allocates nothing.

mod config;
mod estimator;
mod playout;
mod types;
mod wrap;

pub use config::{JitterConfig, JitterConfigError};
pub use types::{
    JitterPacket, JitterStats, Missing, MissingKind, NextPacket, Playout, PlayoutPacket,
};

use crate::{RtpTimestamp, SeqNo, Ssrc};
use estimator::{DelayEstimator, EstimatorParams};
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use wrap::{ReceivedWindow, Seen, Unwrapper};

/// Sequence numbers further behind the highest than this start a resynchronisation check
/// (RFC 3550 A.1 `MAX_MISORDER`).
const MAX_MISORDER: i64 = 100;
/// Sequence numbers further ahead than this start a resynchronisation check (`MAX_DROPOUT`).
const MAX_DROPOUT: i64 = 3000;
/// A suspect packet is confirmed by another within this many sequence numbers.
const CONFIRM_SPAN: i64 = 16;

/// A buffered packet; `seq` and `ts` are extended.
#[derive(Debug)]
struct Slot {
    seq: i64,
    ts: i64,
    marker: bool,
    payload: Vec<u8>,
}

/// Per-SSRC stream state.
#[derive(Debug, Clone, Copy)]
struct Stream {
    ssrc: Ssrc,
    seq: Unwrapper<16>,
    ts: Unwrapper<32>,
    received: ReceivedWindow,
}

/// Why a packet is suspect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Suspect {
    Ssrc,
    Jump,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// No stream.
    Idle,
    /// Waiting for the head packet to reach the target delay (start, or after silence).
    Waiting,
    /// Playing out.
    Playing,
}

/// A packet waiting for confirmation of a resynchronisation.
#[derive(Debug)]
struct Candidate {
    pkt: JitterPacket,
    now_us: i64,
    cause: Suspect,
}

/// The adaptive jitter buffer; see the [module docs](self).
#[derive(Debug)]
pub struct JitterBuffer {
    cfg: JitterConfig,
    rate: i64,
    frame_us: i64,
    frame_ticks: u32,
    max_pkt_ticks: i64,
    max_conceal_us: i64,
    resync_us: i64,
    stretch_excess_us: i64,
    pool_cap: usize,

    epoch: Option<Instant>,
    last_now_us: i64,

    stream: Option<Stream>,
    candidate: Option<Candidate>,
    buf: VecDeque<Slot>,
    bytes: usize,
    pool: Vec<Vec<u8>>,
    est: DelayEstimator,

    mode: Mode,
    /// Extended timestamp of the next sample to play.
    cursor_ts: i64,
    /// Extended sequence number expected at the cursor.
    next_seq: i64,
    last_played: Option<i64>,
    /// Extended timestamp of the last packet handed out (for `set_packet_duration`).
    last_played_ts: Option<i64>,
    /// The last poll returned a packet.
    last_out_packet: bool,
    last_duration: u32,
    last_duration_known: bool,
    underflow_us: i64,
    next_poll_us: Option<i64>,
    last_discard_us: Option<i64>,
    cur_delay_us: i64,

    stats: JitterStats,
}

fn dur_us(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

impl JitterBuffer {
    /// A buffer for `cfg`, or why `cfg` is invalid.
    pub fn new(cfg: JitterConfig) -> Result<Self, JitterConfigError> {
        cfg.validate()?;
        let rate = i64::from(cfg.clock_rate);
        let to_ticks = |d: Duration| -> i64 {
            i64::try_from(d.as_micros() * u128::from(cfg.clock_rate) / 1_000_000)
                .unwrap_or(i64::MAX)
        };
        let frame_ticks = u32::try_from(to_ticks(cfg.frame_duration).max(1)).unwrap_or(u32::MAX);
        let params = EstimatorParams {
            window_us: dur_us(cfg.base_window),
            bucket_us: dur_us(cfg.histogram_resolution),
            min_us: dur_us(cfg.min_delay),
            max_us: dur_us(cfg.max_delay),
            initial_us: dur_us(cfg.initial_delay),
            quantile: cfg.quantile,
            forget: cfg.forget_factor,
            jitter_factor: cfg.jitter_factor,
            decay_per_s: dur_us(cfg.target_decay) as f64,
            late_hold_us: dur_us(cfg.late_hold),
        };
        let pool_cap = cfg.max_packets + 8;
        Ok(Self {
            rate,
            frame_us: dur_us(cfg.frame_duration),
            frame_ticks,
            max_pkt_ticks: to_ticks(cfg.max_packet_duration).max(1),
            max_conceal_us: dur_us(cfg.max_conceal),
            resync_us: dur_us(cfg.resync_threshold),
            stretch_excess_us: dur_us(cfg.stretch_excess),
            pool_cap,
            epoch: None,
            last_now_us: 0,
            stream: None,
            candidate: None,
            buf: VecDeque::with_capacity(cfg.max_packets + 1),
            bytes: 0,
            pool: Vec::with_capacity(pool_cap),
            est: DelayEstimator::new(params),
            mode: Mode::Idle,
            cursor_ts: 0,
            next_seq: 0,
            last_played: None,
            last_played_ts: None,
            last_out_packet: false,
            last_duration: frame_ticks,
            last_duration_known: false,
            underflow_us: 0,
            next_poll_us: None,
            last_discard_us: None,
            cur_delay_us: 0,
            stats: JitterStats::default(),
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &JitterConfig {
        &self.cfg
    }

    /// µs since the first instant seen; never goes backwards.
    fn time(&mut self, now: Instant) -> i64 {
        let epoch = *self.epoch.get_or_insert(now);
        let us = now
            .checked_duration_since(epoch)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        self.last_now_us = self.last_now_us.max(us);
        self.last_now_us
    }

    fn ticks_to_us(&self, ticks: i64) -> i64 {
        let us = (i128::from(ticks) * 1_000_000).div_euclid(i128::from(self.rate));
        i64::try_from(us).unwrap_or(if us < 0 { i64::MIN } else { i64::MAX })
    }

    fn transit_us(&self, now_us: i64, ext_ts: i64) -> i64 {
        now_us.saturating_sub(self.ticks_to_us(ext_ts))
    }

    // ----- buffers -------------------------------------------------------------------------

    /// An empty payload buffer (recycled when one is available) to fill with the next packet.
    pub fn take_buffer(&mut self) -> Vec<u8> {
        self.pool
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.cfg.max_payload))
    }

    /// Gives a payload buffer back (from [`Playout::Packet`] or anywhere). Kept if the pool has
    /// room and its capacity is reasonable, else freed.
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        let cap = buf.capacity();
        if self.pool.len() < self.pool_cap
            && cap >= self.cfg.max_payload.min(64)
            && cap <= self.cfg.max_payload.saturating_mul(2)
        {
            buf.clear();
            self.pool.push(buf);
        }
    }

    fn drop_slot(&mut self, s: Slot) {
        self.bytes = self.bytes.saturating_sub(s.payload.capacity());
        self.recycle(s.payload);
    }

    fn flush(&mut self) {
        while let Some(s) = self.buf.pop_front() {
            self.stats.flushed += 1;
            self.drop_slot(s);
        }
        self.bytes = 0;
    }

    // ----- input ---------------------------------------------------------------------------

    /// Takes a received packet at `now`.
    pub fn insert(&mut self, now: Instant, pkt: JitterPacket) {
        let now_us = self.time(now);
        self.stats.received += 1;
        let mut pkt = pkt;
        if pkt.payload.len() > self.cfg.max_payload {
            self.stats.oversize += 1;
            self.recycle(pkt.payload);
            return;
        }
        // Bound what one packet can pin (a no-op for pool buffers).
        pkt.payload.shrink_to(self.cfg.max_payload);
        match self.classify(now_us, &pkt) {
            None => {
                if let Some(c) = self.candidate.take() {
                    self.stats.stray += 1;
                    self.recycle(c.pkt.payload);
                }
                self.accept(now_us, pkt);
            }
            Some(cause) => self.suspect(now_us, pkt, cause),
        }
    }

    /// `None` if `pkt` belongs to the current stream (starting one if there is none).
    fn classify(&mut self, now_us: i64, pkt: &JitterPacket) -> Option<Suspect> {
        let Some(st) = self.stream else {
            self.start_stream(pkt);
            return None;
        };
        if st.ssrc != pkt.ssrc {
            return Some(Suspect::Ssrc);
        }
        let dist = st
            .seq
            .peek(u32::from(pkt.seq.0))
            .saturating_sub(st.seq.highest());
        if !(-MAX_MISORDER..=MAX_DROPOUT).contains(&dist) {
            return Some(Suspect::Jump);
        }
        if let Some(base) = self.est.base() {
            let d = self
                .transit_us(now_us, st.ts.peek(pkt.timestamp.0))
                .saturating_sub(base);
            if d.unsigned_abs() > self.resync_us.unsigned_abs() {
                return Some(Suspect::Jump);
            }
        }
        None
    }

    fn start_stream(&mut self, pkt: &JitterPacket) {
        let seq = Unwrapper::<16>::new(u32::from(pkt.seq.0));
        self.stream = Some(Stream {
            ssrc: pkt.ssrc,
            seq,
            ts: Unwrapper::<32>::new(pkt.timestamp.0),
            received: ReceivedWindow::new(seq.highest() - 1),
        });
        self.est.restart();
        self.mode = Mode::Waiting;
        self.last_played = None;
        self.last_played_ts = None;
        self.underflow_us = 0;
        self.last_duration = self.frame_ticks;
        self.last_duration_known = false;
    }

    /// A suspect packet: a resynchronisation if it confirms the previous suspect one.
    fn suspect(&mut self, now_us: i64, pkt: JitterPacket, cause: Suspect) {
        let confirmed = self.candidate.as_ref().is_some_and(|c| {
            let dseq = i64::from(c.pkt.seq.distance_to(pkt.seq));
            let dts_us = self.ticks_to_us(i64::from(
                pkt.timestamp.0.wrapping_sub(c.pkt.timestamp.0) as i32,
            ));
            let dt_us = now_us.saturating_sub(c.now_us);
            c.pkt.ssrc == pkt.ssrc
                && dseq != 0
                && dseq.abs() <= CONFIRM_SPAN
                && dt_us.saturating_sub(dts_us).unsigned_abs() <= self.resync_us.unsigned_abs()
        });
        if !confirmed {
            if let Some(old) = self.candidate.replace(Candidate { pkt, now_us, cause }) {
                self.stats.stray += 1;
                self.recycle(old.pkt.payload);
            }
            return;
        }
        let Some(c) = self.candidate.take() else {
            return;
        };
        self.stats.resyncs += 1;
        if c.cause == Suspect::Ssrc || cause == Suspect::Ssrc {
            self.stats.ssrc_changes += 1;
        }
        self.flush();
        self.start_stream(&c.pkt);
        self.accept(c.now_us, c.pkt);
        self.accept(now_us, pkt);
    }

    /// Stores a packet of the current stream (or counts it as duplicate or late).
    fn accept(&mut self, now_us: i64, pkt: JitterPacket) {
        let Some(st) = self.stream.as_mut() else {
            self.recycle(pkt.payload);
            return;
        };
        let seq = st.seq.unwrap(u32::from(pkt.seq.0));
        let ts = st.ts.unwrap(pkt.timestamp.0);
        let seen = st.received.record(seq);
        if seen == Seen::Duplicate {
            self.stats.duplicate += 1;
            self.recycle(pkt.payload);
            return;
        }
        let pos = match self.buf.binary_search_by_key(&seq, |s| s.seq) {
            Ok(_) => {
                self.stats.duplicate += 1;
                self.recycle(pkt.payload);
                return;
            }
            Err(pos) => pos,
        };
        let transit = self.transit_us(now_us, ts);
        let d = self.est.on_arrival(now_us, transit);
        let late = self.last_played.is_some_and(|l| seq <= l)
            || (self.last_played.is_some() && ts < self.cursor_ts);
        if late {
            self.stats.late += 1;
            self.est.on_late(now_us, d);
            self.recycle(pkt.payload);
            return;
        }
        self.bytes += pkt.payload.capacity();
        self.buf.insert(
            pos,
            Slot {
                seq,
                ts,
                marker: pkt.marker,
                payload: pkt.payload,
            },
        );
        while self.buf.len() > self.cfg.max_packets || self.bytes > self.cfg.max_bytes {
            let Some(s) = self.buf.pop_front() else {
                self.bytes = 0;
                break;
            };
            self.stats.overflow += 1;
            self.drop_slot(s);
        }
    }

    // ----- queries -------------------------------------------------------------------------

    /// When to poll next: the end of what the last poll returned (or the first arrival before
    /// any poll); `None` with no stream.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.mode == Mode::Idle {
            return None;
        }
        let epoch = self.epoch?;
        let us = self.next_poll_us.unwrap_or(self.last_now_us);
        epoch.checked_add(Duration::from_micros(us.max(0).unsigned_abs()))
    }

    /// The packet due next (the head of the buffer): for Opus in-band FEC after a
    /// [`Missing`] with `next_available`.
    pub fn peek_next(&self) -> Option<NextPacket<'_>> {
        self.buf.front().map(|s| NextPacket {
            seq: SeqNo(s.seq as u16),
            timestamp: RtpTimestamp(s.ts as u32),
            marker: s.marker,
            payload: &s.payload,
        })
    }

    /// The payload of [`JitterBuffer::peek_next`].
    pub fn peek_next_payload(&self) -> Option<&[u8]> {
        self.buf.front().map(|s| s.payload.as_slice())
    }

    /// The target delay (above the base transit).
    pub fn target_delay(&self) -> Duration {
        Duration::from_micros(self.est.target_us().max(0).unsigned_abs())
    }

    /// The current playout delay above the base transit, as of the last poll while playing.
    pub fn current_delay(&self) -> Duration {
        Duration::from_micros(self.cur_delay_us.max(0).unsigned_abs())
    }

    /// Talkspurts started so far (the playout re-anchored on a new delay after a silence, an
    /// underflow or a resynchronisation).
    pub fn talkspurts(&self) -> u64 {
        self.stats.talkspurts
    }

    /// RFC 3550 interarrival jitter.
    pub fn jitter(&self) -> Duration {
        Duration::from_micros(self.est.jitter_us().clamp(0.0, 1e15) as u64)
    }

    /// Packets buffered.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// No packet buffered.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Payload bytes buffered (by capacity).
    pub fn buffered_bytes(&self) -> usize {
        self.bytes
    }

    /// Payload buffers held for reuse.
    pub fn pooled_buffers(&self) -> usize {
        self.pool.len()
    }

    /// Counters and delay figures.
    pub fn stats(&self) -> JitterStats {
        let ms = |us: i64| us as f64 / 1000.0;
        JitterStats {
            current_delay_ms: ms(self.cur_delay_us.max(0)),
            target_delay_ms: ms(self.est.target_us()),
            delay_quantile_ms: ms(self.est.quantile_us().unwrap_or(0)),
            jitter_ms: self.est.jitter_us() / 1000.0,
            buffered: self.buf.len(),
            ..self.stats.clone()
        }
    }

    /// Delay samples taken so far.
    pub fn delay_samples(&self) -> u64 {
        self.est.samples()
    }

    /// Drops every packet and the stream (counters and the delay estimate are kept).
    pub fn reset(&mut self) {
        self.flush();
        if let Some(c) = self.candidate.take() {
            self.recycle(c.pkt.payload);
        }
        self.stream = None;
        self.mode = Mode::Idle;
        self.last_played = None;
        self.next_poll_us = None;
        self.est.restart();
    }
}

#[cfg(test)]
mod tests;
