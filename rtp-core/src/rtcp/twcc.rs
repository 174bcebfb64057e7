//! Transport-wide congestion control feedback (RTPFB, FMT 15), from
//! draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |V=2|P|  FMT=15 |    PT=205     |           length              |
//! |                     SSRC of packet sender                     |
//! |                      SSRC of media source                     |
//! |      base sequence number     |      packet status count      |
//! |                 reference time                | fb pkt. count |
//! |          packet chunk         |         packet chunk          |
//! .                               .                               .
//! |         packet chunk          |  recv delta   |  recv delta   |
//! .                               .                               .
//! |           recv delta          |  recv delta   | zero padding  |
//! ```
//!
//! A chunk is either a run-length chunk (`0 SS LLLLLLLLLLLLL`: one 2-bit symbol repeated up
//! to 8191 times) or a status vector chunk (`1 0` + fourteen 1-bit symbols, or `1 1` + seven
//! 2-bit symbols). Symbols: 0 not received, 1 received with a one-byte delta (0..=63.75 ms),
//! 2 received with a two-byte signed delta, 3 reserved. Deltas count 250 µs ticks; the
//! first is relative to the reference time (24 bits, 64 ms units), each later one to the
//! previous received packet.

use super::feedback::write_fb;
use super::{read_ssrc, RawRtcp, RtcpWrite, PT_RTPFB};
use crate::error::PacketError;
use crate::{SeqNo, Ssrc};

/// One receive delta tick: 250 µs.
pub const TWCC_DELTA_TICK_US: i64 = 250;
/// One reference time unit: 64 ms.
pub const TWCC_REFERENCE_UNIT_US: i64 = 64_000;

/// What the feedback says about one transport-wide sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TwccStatus {
    /// The transport-wide sequence number.
    pub seq: SeqNo,
    /// `None`: not received. `Some(ticks)`: received, `ticks` x 250 µs after the previous
    /// received packet of this feedback (after the reference time for the first one).
    pub delta: Option<i32>,
}

/// The 2-bit packet status symbol of a delta.
fn symbol_of(delta: Option<i32>) -> Result<u8, PacketError> {
    match delta {
        None => Ok(0),
        Some(0..=255) => Ok(1),
        Some(d) if i16::try_from(d).is_ok() => Ok(2),
        Some(_) => Err(PacketError::ValueOutOfRange("TWCC receive delta")),
    }
}

/// A parsed transport-wide feedback packet (RTPFB, FMT 15), borrowing the datagram.
///
/// [`parse`](Self::parse) checks the whole layout once: the chunks cover the status count,
/// no reserved symbol is used for a counted packet, every received packet has its delta.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportFeedback<'a> {
    sender_ssrc: Ssrc,
    media_ssrc: Ssrc,
    base_seq: SeqNo,
    status_count: u16,
    reference_time: u32,
    fb_pkt_count: u8,
    chunks: &'a [u8],
    deltas: &'a [u8],
}

impl<'a> TransportFeedback<'a> {
    /// The feedback message type.
    pub const FMT: u8 = 15;

    /// Interprets a PT 205 FMT 15 packet. A chunk list that ends before the status count is
    /// covered, or deltas cut short, fail with [`PacketError::BadLength`]; symbol 3 for a
    /// counted packet fails with [`PacketError::ReservedValue`]. Bytes after the last delta
    /// (zero padding without the padding bit) are ignored.
    pub fn parse(raw: RawRtcp<'a>) -> Result<Self, PacketError> {
        if raw.packet_type() != PT_RTPFB || raw.count() != Self::FMT {
            return Err(PacketError::BadPacketType(raw.packet_type()));
        }
        let body = raw.body();
        let (head, rest) = body
            .split_first_chunk::<16>()
            .ok_or(PacketError::TooShort)?;
        let sender_ssrc = read_ssrc(head, 0).ok_or(PacketError::TooShort)?;
        let media_ssrc = read_ssrc(head, 4).ok_or(PacketError::TooShort)?;
        let base_seq = SeqNo(u16::from_be_bytes([head[8], head[9]]));
        let status_count = u16::from_be_bytes([head[10], head[11]]);
        let reference_time = u32::from_be_bytes([0, head[12], head[13], head[14]]);
        let fb_pkt_count = head[15];
        // Walk the chunks to find where the deltas start and how many bytes they take.
        let mut left = usize::from(status_count);
        let mut pos = 0;
        let mut delta_bytes = 0usize;
        while left > 0 {
            let pair = rest
                .get(pos..pos + 2)
                .ok_or(PacketError::BadLength)?
                .first_chunk::<2>()
                .ok_or(PacketError::BadLength)?;
            let chunk = Chunk::decode(u16::from_be_bytes(*pair));
            let covered = chunk.len().min(left);
            for i in 0..covered {
                delta_bytes += match chunk.symbol(i) {
                    0 => 0,
                    1 => 1,
                    2 => 2,
                    _ => return Err(PacketError::ReservedValue("TWCC status symbol 3")),
                };
            }
            left -= covered;
            pos += 2;
        }
        let (chunks, after) = rest.split_at(pos);
        let deltas = after.get(..delta_bytes).ok_or(PacketError::BadLength)?;
        Ok(Self {
            sender_ssrc,
            media_ssrc,
            base_seq,
            status_count,
            reference_time,
            fb_pkt_count,
            chunks,
            deltas,
        })
    }

    /// The SSRC of the packet's sender.
    pub const fn sender_ssrc(&self) -> Ssrc {
        self.sender_ssrc
    }

    /// The media source SSRC field (libwebrtc puts the first media SSRC it saw here).
    pub const fn media_ssrc(&self) -> Ssrc {
        self.media_ssrc
    }

    /// The first transport-wide sequence number reported.
    pub const fn base_seq(&self) -> SeqNo {
        self.base_seq
    }

    /// How many sequence numbers, from [`base_seq`](Self::base_seq), are reported.
    pub const fn status_count(&self) -> u16 {
        self.status_count
    }

    /// The reference time: 24 bits, in units of 64 ms, in the feedback sender's clock.
    pub const fn reference_time(&self) -> u32 {
        self.reference_time
    }

    /// The feedback packet count (8 bits, wraps): tells lost feedback apart.
    pub const fn fb_pkt_count(&self) -> u8 {
        self.fb_pkt_count
    }

    /// The status of every sequence number from the base, in order.
    pub fn statuses(&self) -> TwccStatuses<'a> {
        TwccStatuses {
            chunks: self.chunks,
            deltas: self.deltas,
            chunk: None,
            in_chunk: 0,
            seq: self.base_seq,
            left: self.status_count,
        }
    }
}

/// One decoded packet status chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// `symbol` repeated `len` times.
    Run { symbol: u8, len: u16 },
    /// Fourteen 1-bit symbols (MSB first).
    OneBit(u16),
    /// Seven 2-bit symbols (MSB first).
    TwoBit(u16),
}

impl Chunk {
    fn decode(word: u16) -> Self {
        if word & 0x8000 == 0 {
            Self::Run {
                symbol: ((word >> 13) & 0x3) as u8,
                len: word & 0x1FFF,
            }
        } else if word & 0x4000 == 0 {
            Self::OneBit(word & 0x3FFF)
        } else {
            Self::TwoBit(word & 0x3FFF)
        }
    }

    fn len(self) -> usize {
        match self {
            Self::Run { len, .. } => usize::from(len),
            Self::OneBit(_) => 14,
            Self::TwoBit(_) => 7,
        }
    }

    /// Symbol `i` (< `len()`).
    fn symbol(self, i: usize) -> u8 {
        match self {
            Self::Run { symbol, .. } => symbol,
            Self::OneBit(bits) => ((bits >> (13 - i.min(13))) & 1) as u8,
            Self::TwoBit(bits) => ((bits >> (12 - 2 * i.min(6))) & 3) as u8,
        }
    }
}

/// Iterator over the statuses of a [`TransportFeedback`].
#[derive(Debug, Clone)]
pub struct TwccStatuses<'a> {
    chunks: &'a [u8],
    deltas: &'a [u8],
    chunk: Option<Chunk>,
    in_chunk: usize,
    seq: SeqNo,
    left: u16,
}

impl Iterator for TwccStatuses<'_> {
    type Item = TwccStatus;

    fn next(&mut self) -> Option<TwccStatus> {
        if self.left == 0 {
            return None;
        }
        let chunk = loop {
            match self.chunk {
                Some(c) if self.in_chunk < c.len() => break c,
                _ => {
                    // Next chunk (empty runs, which parse() accepts, are skipped).
                    let (pair, rest) = self.chunks.split_first_chunk::<2>()?;
                    self.chunks = rest;
                    self.in_chunk = 0;
                    self.chunk = Some(Chunk::decode(u16::from_be_bytes(*pair)));
                }
            }
        };
        let symbol = chunk.symbol(self.in_chunk);
        self.in_chunk += 1;
        let delta = match symbol {
            1 => {
                let (&b, rest) = self.deltas.split_first()?;
                self.deltas = rest;
                Some(i32::from(b))
            }
            2 => {
                let (pair, rest) = self.deltas.split_first_chunk::<2>()?;
                self.deltas = rest;
                Some(i32::from(i16::from_be_bytes(*pair)))
            }
            _ => None,
        };
        let status = TwccStatus {
            seq: self.seq,
            delta,
        };
        self.seq = self.seq.next();
        self.left -= 1;
        Some(status)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.left);
        (n, Some(n))
    }
}

impl ExactSizeIterator for TwccStatuses<'_> {}

/// A transport-wide feedback packet to write: the statuses of consecutive sequence numbers
/// from `base_seq`. Chunks are chosen greedily (a run-length chunk for runs of 14 or more,
/// or 7 or more where 1-bit symbols do not fit, else a status vector); padding to a
/// 32-bit boundary sets the padding bit, as libwebrtc does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportFeedbackWriter<'a> {
    /// The SSRC of the packet's sender.
    pub sender_ssrc: Ssrc,
    /// The media source SSRC field.
    pub media_ssrc: Ssrc,
    /// The first sequence number reported.
    pub base_seq: SeqNo,
    /// Reference time, 64 ms units (only the low 24 bits are sent).
    pub reference_time: u32,
    /// Feedback packet count.
    pub fb_pkt_count: u8,
    /// Per sequence number from `base_seq`: `None` not received, `Some(ticks)` received
    /// with this delta in 250 µs ticks (must fit an `i16`). At most 65535 entries.
    pub deltas: &'a [Option<i32>],
}

impl TransportFeedbackWriter<'_> {
    /// Calls `f` with each chunk word; returns the number of delta bytes.
    fn for_chunks(&self, mut f: impl FnMut(u16)) -> Result<usize, PacketError> {
        let d = self.deltas;
        let mut i = 0;
        let mut delta_bytes = 0;
        while i < d.len() {
            let sym = symbol_of(d[i])?;
            let mut run = 1;
            while i + run < d.len() && run < 0x1FFF && symbol_of(d[i + run])? == sym {
                run += 1;
            }
            let span14 = (d.len() - i).min(14);
            let small = d[i..i + span14]
                .iter()
                .all(|&x| matches!(symbol_of(x), Ok(0 | 1)));
            let (word, used) = if run >= 14 || run == d.len() - i {
                (((sym as u16) << 13) | run as u16, run)
            } else if small {
                let mut bits = 0u16;
                for (k, &x) in d[i..i + span14].iter().enumerate() {
                    bits |= u16::from(symbol_of(x)?) << (13 - k);
                }
                (0x8000 | bits, span14)
            } else if run >= 7 {
                (((sym as u16) << 13) | run as u16, run)
            } else {
                let span7 = (d.len() - i).min(7);
                let mut bits = 0u16;
                for (k, &x) in d[i..i + span7].iter().enumerate() {
                    bits |= u16::from(symbol_of(x)?) << (12 - 2 * k);
                }
                (0xC000 | bits, span7)
            };
            for &x in &d[i..i + used] {
                delta_bytes += usize::from(symbol_of(x)?);
            }
            f(word);
            i += used;
        }
        Ok(delta_bytes)
    }

    /// Unpadded length and the number of chunks.
    fn sizes(&self) -> Result<(usize, usize), PacketError> {
        if self.deltas.len() > usize::from(u16::MAX) {
            return Err(PacketError::ValueOutOfRange("TWCC status count"));
        }
        let mut chunks = 0;
        let delta_bytes = self.for_chunks(|_| chunks += 1)?;
        Ok((20 + 2 * chunks + delta_bytes, chunks))
    }
}

impl RtcpWrite for TransportFeedbackWriter<'_> {
    fn encoded_len(&self) -> Result<usize, PacketError> {
        let (len, _) = self.sizes()?;
        Ok(len.next_multiple_of(4))
    }

    fn write(&self, out: &mut [u8]) -> Result<usize, PacketError> {
        let (unpadded, _) = self.sizes()?;
        let len = unpadded.next_multiple_of(4);
        let mut put = write_fb(
            out,
            TransportFeedback::FMT,
            PT_RTPFB,
            len,
            self.sender_ssrc,
            self.media_ssrc,
        )?;
        put.u16(self.base_seq.0);
        put.u16(self.deltas.len() as u16);
        let rt = (self.reference_time & 0x00FF_FFFF).to_be_bytes();
        put.bytes(&[rt[1], rt[2], rt[3], self.fb_pkt_count]);
        self.for_chunks(|word| put.u16(word))?;
        for d in self.deltas.iter().flatten() {
            // symbol_of() accepted every delta: 0..=255 is one byte, the rest fits i16.
            match u8::try_from(*d) {
                Ok(b) => put.u8(b),
                Err(_) => put.u16(*d as i16 as u16),
            }
        }
        let padding = len - unpadded;
        if padding > 0 {
            put.bytes(&[0, 0, 0][..padding - 1]);
            put.u8(padding as u8);
            if let Some(first) = out.first_mut() {
                *first |= 0x20;
            }
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests;
