//! RFC 4733 telephone-event payload (DTMF digits and other named events over RTP).
//!
//! [`TelephoneEvent`] is the 4-byte payload; [`EventSequence`] plans the packets a sender
//! emits for one event: the first with the marker bit, a duration update every packet
//! interval, and the final (end bit) packet sent three times with the same timestamp.
//!
//! ```
//! use rtp_core::{EventSequence, RtpTimestamp, dtmf_event_code};
//!
//! // Digit 5 for 100 ms at 8 kHz, a packet every 20 ms.
//! let code = dtmf_event_code('5').unwrap_or(0);
//! let packets: Vec<_> = EventSequence::new(code, 10, RtpTimestamp(4000), 800, 160)?.collect();
//! let durations: Vec<u16> = packets.iter().map(|p| p.event.duration).collect();
//! assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
//! assert!(packets[0].marker && packets[4..].iter().all(|p| p.event.end));
//! assert!(packets.iter().all(|p| p.timestamp == RtpTimestamp(4000)));
//! # Ok::<(), rtp_core::PacketError>(())
//! ```

use crate::error::{out_prefix, PacketError};
use crate::RtpTimestamp;

/// The largest volume value (6 bits, in -dBm0).
pub const MAX_VOLUME: u8 = 63;

/// One RFC 4733 telephone-event payload (§2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TelephoneEvent {
    /// The event code (0-9, 10 = `*`, 11 = `#`, 12-15 = A-D, 16 = flash; others per RFC 4734).
    pub event: u8,
    /// The end bit: this packet reports the end of the event.
    pub end: bool,
    /// Power level in -dBm0, 0..=63 (0 is loudest). Zero for events without a volume.
    pub volume: u8,
    /// Duration so far, in RTP timestamp ticks from the event's timestamp.
    pub duration: u16,
}

impl TelephoneEvent {
    /// The payload length.
    pub const LEN: usize = 4;

    /// Parses the first 4 bytes of an RTP payload. The reserved bit is ignored; bytes after
    /// the fourth are ignored too (some gateways pad the payload).
    pub fn parse(payload: &[u8]) -> Result<Self, PacketError> {
        let b = payload.first_chunk::<4>().ok_or(PacketError::TooShort)?;
        Ok(Self {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3F,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    /// The 4 payload bytes; fails when `volume` exceeds 63.
    pub fn to_bytes(&self) -> Result<[u8; 4], PacketError> {
        if self.volume > MAX_VOLUME {
            return Err(PacketError::ValueOutOfRange("telephone-event volume"));
        }
        let [d0, d1] = self.duration.to_be_bytes();
        let e = if self.end { 0x80 } else { 0 };
        Ok([self.event, e | self.volume, d0, d1])
    }

    /// Writes the payload at the start of `out`; returns 4.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, PacketError> {
        let bytes = self.to_bytes()?;
        out_prefix(out, Self::LEN)?.copy_from_slice(&bytes);
        Ok(Self::LEN)
    }
}

/// The RFC 4733 §3.2 event code of a DTMF character (`0`-`9`, `*`, `#`, `A`-`D`, case-blind).
pub fn dtmf_event_code(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        d @ '0'..='9' => Some(d as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(d as u8 - b'A' + 12),
        _ => None,
    }
}

/// The DTMF character of an event code 0..=15.
pub fn dtmf_char(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// One packet of an event as planned by [`EventSequence`]. The caller gives every packet,
/// retransmissions included, the next sequence number of its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventPacket {
    /// When to send it: ticks after the event started.
    pub send_offset: u32,
    /// The RTP marker bit (set on the first packet of the event).
    pub marker: bool,
    /// The RTP timestamp (the event start, or the segment start for long events).
    pub timestamp: RtpTimestamp,
    /// The payload.
    pub event: TelephoneEvent,
}

/// The packets a sender emits for one event (RFC 4733 §2.5.1), as an iterator.
///
/// A packet every `interval` ticks reports the duration so far; the last reports the full
/// duration with the end bit and is sent [`END_PACKETS`](Self::END_PACKETS) times. An event
/// longer than 0xFFFF ticks is split into segments (§2.5.1.3): a segment closes with a
/// packet reporting 0xFFFF without the end bit, and the next one carries a timestamp advanced
/// by 0xFFFF and no marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSequence {
    event: u8,
    volume: u8,
    start: RtpTimestamp,
    total: u32,
    interval: u32,
    reported: u32,
    segment_start: u32,
    first: bool,
    ends_left: u8,
}

impl EventSequence {
    /// How many times the final packet is sent.
    pub const END_PACKETS: u8 = 3;

    /// Plans event `event` at `volume` starting at `start`, lasting `duration` ticks, with a
    /// packet every `interval` ticks. Fails when `volume` exceeds 63 or `duration` or
    /// `interval` is zero.
    pub fn new(
        event: u8,
        volume: u8,
        start: RtpTimestamp,
        duration: u32,
        interval: u16,
    ) -> Result<Self, PacketError> {
        if volume > MAX_VOLUME {
            return Err(PacketError::ValueOutOfRange("telephone-event volume"));
        }
        if duration == 0 {
            return Err(PacketError::ValueOutOfRange("telephone-event duration"));
        }
        if interval == 0 {
            return Err(PacketError::ValueOutOfRange("telephone-event interval"));
        }
        Ok(Self {
            event,
            volume,
            start,
            total: duration,
            interval: u32::from(interval),
            reported: 0,
            segment_start: 0,
            first: true,
            ends_left: Self::END_PACKETS,
        })
    }

    fn packet(&mut self, send_offset: u32, duration: u16, end: bool) -> EventPacket {
        let marker = std::mem::replace(&mut self.first, false);
        EventPacket {
            send_offset,
            marker,
            timestamp: self.start.advanced(self.segment_start),
            event: TelephoneEvent {
                event: self.event,
                end,
                volume: self.volume,
                duration,
            },
        }
    }
}

impl Iterator for EventSequence {
    type Item = EventPacket;

    fn next(&mut self) -> Option<EventPacket> {
        const MAX: u32 = u16::MAX as u32;
        if self.reported == self.total {
            // The final packet and its retransmissions, all alike.
            self.ends_left = self.ends_left.checked_sub(1)?;
            let duration = self.total - self.segment_start;
            return Some(self.packet(self.total, duration as u16, true));
        }
        let target = self.reported.saturating_add(self.interval).min(self.total);
        self.reported = target;
        let in_segment = target - self.segment_start;
        if in_segment > MAX {
            // Close the segment at its maximum; the rest goes to a new segment.
            let packet = self.packet(target, u16::MAX, false);
            self.segment_start += MAX;
            return Some(packet);
        }
        // in_segment <= 0xFFFF here.
        let duration = in_segment as u16;
        if target == self.total {
            self.ends_left -= 1;
            return Some(self.packet(target, duration, true));
        }
        Some(self.packet(target, duration, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc4733_figure() -> Result<(), PacketError> {
        // Digit 9, end bit, volume 10, duration 1600 (200 ms at 8 kHz).
        let e = TelephoneEvent::parse(&[0x09, 0x8A, 0x06, 0x40])?;
        assert_eq!(
            e,
            TelephoneEvent {
                event: 9,
                end: true,
                volume: 10,
                duration: 1600
            }
        );
        assert_eq!(e.to_bytes()?, [0x09, 0x8A, 0x06, 0x40]);
        // The reserved bit is ignored on parse and written as zero.
        let r = TelephoneEvent::parse(&[0x0B, 0x40 | 0x3F, 0xFF, 0xFF, 0xAA])?;
        assert_eq!(
            (r.event, r.end, r.volume, r.duration),
            (11, false, 63, 0xFFFF)
        );
        assert_eq!(r.to_bytes()?, [0x0B, 0x3F, 0xFF, 0xFF]);
        Ok(())
    }

    #[test]
    fn rejects_short_payloads_and_bad_volume() {
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3]),
            Err(PacketError::TooShort)
        );
        let e = TelephoneEvent {
            event: 1,
            end: false,
            volume: 64,
            duration: 0,
        };
        assert!(e.to_bytes().is_err());
        let ok = TelephoneEvent { volume: 0, ..e };
        assert_eq!(
            ok.write(&mut [0u8; 3]),
            Err(PacketError::BufferTooSmall { needed: 4 })
        );
        assert!(EventSequence::new(1, 64, RtpTimestamp(0), 10, 1).is_err());
        assert!(EventSequence::new(1, 0, RtpTimestamp(0), 0, 1).is_err());
        assert!(EventSequence::new(1, 0, RtpTimestamp(0), 10, 0).is_err());
    }

    #[test]
    fn digit_codes() {
        let all = "0123456789*#ABCD";
        for (code, c) in all.chars().enumerate() {
            assert_eq!(dtmf_event_code(c), Some(code as u8));
            assert_eq!(dtmf_char(code as u8), Some(c));
        }
        assert_eq!(dtmf_event_code('d'), Some(15));
        assert_eq!(dtmf_event_code('E'), None);
        assert_eq!(dtmf_char(16), None);
    }

    #[test]
    fn uneven_duration_ends_with_the_remainder() {
        let p: Vec<_> = EventSequence::new(1, 0, RtpTimestamp(0), 500, 160)
            .into_iter()
            .flatten()
            .collect();
        let d: Vec<_> = p
            .iter()
            .map(|p| (p.send_offset, p.event.duration, p.event.end))
            .collect();
        assert_eq!(
            d,
            [
                (160, 160, false),
                (320, 320, false),
                (480, 480, false),
                (500, 500, true),
                (500, 500, true),
                (500, 500, true)
            ]
        );
        assert_eq!(p.iter().filter(|p| p.marker).count(), 1);
    }

    #[test]
    fn long_events_are_segmented() {
        // 70000 ticks in 20000-tick steps: 20000, 40000, 60000, then 70000 > 65535 closes
        // the first segment at 65535; the rest (4465) ends the second segment.
        let p: Vec<_> = EventSequence::new(16, 0, RtpTimestamp(u32::MAX - 10), 70_000, 20_000)
            .into_iter()
            .flatten()
            .collect();
        let got: Vec<_> = p
            .iter()
            .map(|p| (p.marker, p.timestamp.0, p.event.duration, p.event.end))
            .collect();
        let t0 = u32::MAX - 10;
        let t1 = t0.wrapping_add(65_535);
        assert_eq!(
            got,
            [
                (true, t0, 20_000, false),
                (false, t0, 40_000, false),
                (false, t0, 60_000, false),
                (false, t0, 65_535, false),
                (false, t1, 4_465, true),
                (false, t1, 4_465, true),
                (false, t1, 4_465, true),
            ]
        );
    }

    #[test]
    fn single_packet_event() {
        let p: Vec<_> = EventSequence::new(3, 7, RtpTimestamp(9), 40, 160)
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(p.len(), 3);
        assert!(p[0].marker && !p[1].marker && !p[2].marker);
        assert!(p.iter().all(|p| p.event.end && p.event.duration == 40));
    }
}
