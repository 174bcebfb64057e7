//! The buffer's input, output and statistics types.

use crate::{RtpTimestamp, SeqNo, Ssrc};

/// One received RTP packet, as the jitter buffer needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JitterPacket {
    /// Synchronisation source.
    pub ssrc: Ssrc,
    /// Sequence number.
    pub seq: SeqNo,
    /// RTP timestamp of the first sample.
    pub timestamp: RtpTimestamp,
    /// Marker bit (audio: first packet of a talkspurt).
    pub marker: bool,
    /// Payload; ideally a buffer from [`JitterBuffer::take_buffer`](super::JitterBuffer::take_buffer).
    pub payload: Vec<u8>,
}

/// A packet handed out for decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayoutPacket {
    /// Synchronisation source.
    pub ssrc: Ssrc,
    /// Sequence number.
    pub seq: SeqNo,
    /// RTP timestamp.
    pub timestamp: RtpTimestamp,
    /// Marker bit.
    pub marker: bool,
    /// The payload; give it back with [`JitterBuffer::recycle`](super::JitterBuffer::recycle) once decoded.
    pub payload: Vec<u8>,
    /// RTP ticks this packet covers: the timestamp distance to the next packet when that one
    /// is buffered, else the last known packet duration (see `duration_known`).
    pub duration: u32,
    /// `true` when `duration` was measured from the next packet's timestamp.
    pub duration_known: bool,
}

/// Why a span is concealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MissingKind {
    /// A packet is missing before a buffered later one (lost or late): conceal it; the cursor
    /// moves past it. Reported once per missing sequence number.
    Lost,
    /// The buffer ran dry: conceal (it may be a loss or the start of a silence); the cursor
    /// moves on. After `max_conceal` of this the buffer reports [`Playout::NothingYet`].
    Underflow,
    /// Inserted to grow the delay: conceal one frame; the cursor does not move, so the same
    /// timestamp is due at the next poll.
    Expand,
}

/// A span to conceal (codec PLC, or FEC from the next packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Missing {
    /// Why.
    pub kind: MissingKind,
    /// RTP timestamp where the span starts.
    pub timestamp: RtpTimestamp,
    /// RTP ticks to conceal.
    pub duration: u32,
    /// The missing packet's sequence number (`Lost`, `Underflow`; `None` for `Expand`).
    pub seq: Option<SeqNo>,
    /// The packet right after the span is buffered: for `Lost`, the packet with sequence
    /// `seq + 1` (Opus in-band FEC: decode the FEC data of
    /// [`JitterBuffer::peek_next_payload`](super::JitterBuffer::peek_next_payload)); for `Expand`, the packet due next.
    pub next_available: bool,
}

/// What to play at this tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// Decode this packet.
    Packet(PlayoutPacket),
    /// Conceal this span.
    Missing(Missing),
    /// Nothing to play: still buffering, not started, or silence after a talkspurt (DTX).
    /// Play one frame of silence or comfort noise.
    NothingYet,
}

/// Counters and delay figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JitterStats {
    /// Packets passed to `insert`.
    pub received: u64,
    /// Packets handed out by `poll`.
    pub played: u64,
    /// Sequence numbers skipped over by playout (never received in time, or dropped).
    pub lost: u64,
    /// Concealment spans reported (`Lost` and `Underflow`).
    pub concealed: u64,
    /// Concealment frames inserted to grow the delay (`Expand`).
    pub expanded: u64,
    /// Packets that arrived after their playout time (dropped).
    pub late: u64,
    /// Duplicate packets (dropped).
    pub duplicate: u64,
    /// Packets dropped because the buffer was full (oldest first).
    pub overflow: u64,
    /// Packets dropped to reduce the delay.
    pub discarded: u64,
    /// Packets with a payload above `max_payload` (dropped).
    pub oversize: u64,
    /// Suspect packets (other SSRC, sequence or timestamp jump) never confirmed (dropped).
    pub stray: u64,
    /// Resynchronisations (timestamp/sequence jump or SSRC change): buffer flushed, restarted.
    pub resyncs: u64,
    /// Of those, SSRC changes.
    pub ssrc_changes: u64,
    /// Packets flushed by resynchronisations.
    pub flushed: u64,
    /// Talkspurt starts after a silence or underflow (delay re-anchored).
    pub talkspurts: u64,
    /// Current playout delay above the base transit, ms.
    pub current_delay_ms: f64,
    /// Target delay, ms.
    pub target_delay_ms: f64,
    /// Histogram quantile of the relative delay, ms.
    pub delay_quantile_ms: f64,
    /// RFC 3550 interarrival jitter, ms.
    pub jitter_ms: f64,
    /// Packets buffered now.
    pub buffered: usize,
}

/// A borrowed view of the packet due next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextPacket<'a> {
    /// Sequence number.
    pub seq: SeqNo,
    /// RTP timestamp.
    pub timestamp: RtpTimestamp,
    /// Marker bit.
    pub marker: bool,
    /// Payload.
    pub payload: &'a [u8],
}
