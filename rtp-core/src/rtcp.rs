//! RTCP (RFC 3550 §6) and its common extensions: compound datagrams, sender and receiver
//! reports, SDES, BYE, APP, RTP/PS feedback (RFC 4585 NACK, PLI; RFC 5104 FIR; REMB;
//! transport-wide congestion control feedback) and the RFC 3611 XR VoIP metrics block.
//!
//! Parsing is two-level. [`Compound::parse`] checks the framing of a whole datagram (every
//! packet's version, length word and padding) and says whether it is a reduced-size datagram
//! (RFC 5506). [`Compound::packets`] then interprets each packet's body; a malformed body is an
//! `Err` for that packet alone, so one bad feedback message does not hide the sender report
//! beside it. Every view borrows the datagram.
//!
//! Writing goes through [`RtcpWrite`], implemented by one `*Writer` per packet kind (and by
//! [`Pli`]); [`CompoundWriter`] stacks packets into a caller buffer.
//!
//! ```
//! use rtp_core::rtcp::{Compound, CompoundWriter, ReceiverReportWriter, RtcpPacket, SdesItem,
//!     SdesWriteChunk, SdesWriter};
//! use rtp_core::Ssrc;
//!
//! let mut buf = [0u8; 256];
//! let items = [SdesItem::cname(b"alice@example.org")];
//! let chunks = [SdesWriteChunk { ssrc: Ssrc(7), items: &items }];
//! let mut compound = CompoundWriter::new(&mut buf);
//! compound.push(&ReceiverReportWriter::new(Ssrc(7), &[]))?;
//! compound.push(&SdesWriter { chunks: &chunks })?;
//! let len = compound.len();
//!
//! let parsed = Compound::parse(&buf[..len])?;
//! assert!(!parsed.is_reduced_size());
//! for packet in parsed.packets() {
//!     if let Ok(RtcpPacket::Sdes(sdes)) = packet {
//!         let cname = sdes.chunks().next().and_then(|c| c.cname());
//!         assert_eq!(cname, Some(&b"alice@example.org"[..]));
//!     }
//! }
//! # Ok::<(), rtp_core::PacketError>(())
//! ```

mod feedback;
mod report;
mod sdes;
mod twcc;
mod xr;

pub use feedback::{
    Fir, FirEntries, FirEntry, FirWriter, Nack, NackEntries, NackEntry, NackWriter, Pli, Remb,
    RembWriter,
};
pub use report::{
    NtpTime, ReceiverReport, ReceiverReportWriter, ReportBlock, ReportBlocks, SenderInfo,
    SenderReport, SenderReportWriter,
};
pub use sdes::{
    App, AppWriter, Bye, ByeWriter, Sdes, SdesChunk, SdesChunks, SdesItem, SdesItems,
    SdesWriteChunk, SdesWriter,
};
pub use twcc::{
    TransportFeedback, TransportFeedbackWriter, TwccStatus, TwccStatuses, TWCC_DELTA_TICK_US,
    TWCC_REFERENCE_UNIT_US,
};
pub use xr::{ExtendedReport, VoipMetrics, XrBlock, XrBlocks, XrWriter};

use crate::error::{out_prefix, PacketError};
use crate::rtp::{strip_padding, RTP_VERSION};
use crate::Ssrc;

/// Packet type of a sender report.
pub const PT_SR: u8 = 200;
/// Packet type of a receiver report.
pub const PT_RR: u8 = 201;
/// Packet type of source description.
pub const PT_SDES: u8 = 202;
/// Packet type of goodbye.
pub const PT_BYE: u8 = 203;
/// Packet type of application-defined packets.
pub const PT_APP: u8 = 204;
/// Packet type of transport-layer feedback (RFC 4585).
pub const PT_RTPFB: u8 = 205;
/// Packet type of payload-specific feedback (RFC 4585).
pub const PT_PSFB: u8 = 206;
/// Packet type of extended reports (RFC 3611).
pub const PT_XR: u8 = 207;

/// Length of the common RTCP header.
pub const RTCP_HEADER_LEN: usize = 4;
/// The largest report count, source count, feedback format or APP subtype (5 bits).
pub const MAX_COUNT: usize = 31;

/// Whether a datagram on an RTP/RTCP-multiplexed port is RTCP (RFC 5761 §4: its second byte
/// is in 192..=223; RTP payload types 64..=95 are avoided for this reason).
pub fn is_rtcp(datagram: &[u8]) -> bool {
    matches!(datagram.get(1), Some(192..=223))
}

/// The sender SSRC of the first packet of an RTCP datagram whose bodies may be opaque (SRTCP
/// encrypts everything after the first eight bytes): checks only the version and that the
/// common header and the SSRC word are there.
pub fn first_sender_ssrc(datagram: &[u8]) -> Result<Ssrc, PacketError> {
    let first = *datagram.first().ok_or(PacketError::TooShort)?;
    let version = first >> 6;
    if version != RTP_VERSION {
        return Err(PacketError::BadVersion(version));
    }
    read_ssrc(datagram, RTCP_HEADER_LEN).ok_or(PacketError::TooShort)
}

/// One packet of a compound datagram: the header checked, the body not yet interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRtcp<'a> {
    first: u8,
    packet_type: u8,
    body: &'a [u8],
    raw: &'a [u8],
}

impl<'a> RawRtcp<'a> {
    /// Splits the first packet off `buf`; checks version, length word and padding.
    fn split(buf: &'a [u8]) -> Result<(Self, &'a [u8]), PacketError> {
        let (head, _) = buf
            .split_first_chunk::<RTCP_HEADER_LEN>()
            .ok_or(PacketError::TooShort)?;
        let version = head[0] >> 6;
        if version != RTP_VERSION {
            return Err(PacketError::BadVersion(version));
        }
        let len = 4 * (usize::from(u16::from_be_bytes([head[2], head[3]])) + 1);
        let (raw, rest) = buf.split_at_checked(len).ok_or(PacketError::BadLength)?;
        let (_, mut body) = raw.split_at(RTCP_HEADER_LEN);
        if head[0] & 0x20 != 0 {
            body = strip_padding(body)?.0;
        }
        let packet = Self {
            first: head[0],
            packet_type: head[1],
            body,
            raw,
        };
        Ok((packet, rest))
    }

    /// The 5-bit count field: report count, source count, feedback format or APP subtype.
    pub const fn count(&self) -> u8 {
        self.first & 0x1F
    }

    /// The packet type (200 = SR, 201 = RR, ...).
    pub const fn packet_type(&self) -> u8 {
        self.packet_type
    }

    /// Whether the padding bit is set.
    pub const fn has_padding(&self) -> bool {
        self.first & 0x20 != 0
    }

    /// The body after the 4-byte header, padding removed.
    pub const fn body(&self) -> &'a [u8] {
        self.body
    }

    /// The whole packet, header and padding included.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }
}

/// A compound RTCP datagram whose framing has been checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compound<'a> {
    buf: &'a [u8],
}

impl<'a> Compound<'a> {
    /// Checks the framing of every packet in the datagram: version 2, a length word that
    /// fits, valid padding. Bodies are checked later, one by one, by [`packets`](Self::packets).
    ///
    /// RFC 3550 wants a compound datagram to start with SR or RR; RFC 5506 allows a single
    /// other packet (reduced-size RTCP). Both are accepted; [`is_reduced_size`] tells them
    /// apart.
    ///
    /// [`is_reduced_size`]: Self::is_reduced_size
    pub fn parse(buf: &'a [u8]) -> Result<Self, PacketError> {
        if buf.is_empty() {
            return Err(PacketError::TooShort);
        }
        let mut rest = buf;
        while !rest.is_empty() {
            rest = RawRtcp::split(rest)?.1;
        }
        Ok(Self { buf })
    }

    /// Whether the datagram does not start with SR or RR (RFC 5506 reduced-size RTCP).
    pub fn is_reduced_size(&self) -> bool {
        !matches!(self.buf.get(1), Some(&PT_SR) | Some(&PT_RR))
    }

    /// The packets, header-checked but uninterpreted.
    pub fn raw_packets(&self) -> RawPackets<'a> {
        RawPackets { rest: self.buf }
    }

    /// The packets, each interpreted by [`RtcpPacket::parse`].
    pub fn packets(&self) -> CompoundPackets<'a> {
        CompoundPackets {
            raw: self.raw_packets(),
        }
    }

    /// The whole datagram.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
}

/// Iterator over the [`RawRtcp`] packets of a [`Compound`].
#[derive(Debug, Clone)]
pub struct RawPackets<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for RawPackets<'a> {
    type Item = RawRtcp<'a>;

    fn next(&mut self) -> Option<RawRtcp<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        // Compound::parse checked the framing; a failure here cannot happen, but ends the
        // iteration rather than panicking.
        match RawRtcp::split(self.rest) {
            Ok((packet, rest)) => {
                self.rest = rest;
                Some(packet)
            }
            Err(_) => {
                self.rest = &[];
                None
            }
        }
    }
}

/// Iterator over the interpreted packets of a [`Compound`].
#[derive(Debug, Clone)]
pub struct CompoundPackets<'a> {
    raw: RawPackets<'a>,
}

impl<'a> Iterator for CompoundPackets<'a> {
    type Item = Result<RtcpPacket<'a>, PacketError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.raw.next().map(RtcpPacket::parse)
    }
}

/// One interpreted RTCP packet.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpPacket<'a> {
    /// Sender report (PT 200).
    SenderReport(SenderReport<'a>),
    /// Receiver report (PT 201).
    ReceiverReport(ReceiverReport<'a>),
    /// Source description (PT 202).
    Sdes(Sdes<'a>),
    /// Goodbye (PT 203).
    Bye(Bye<'a>),
    /// Application-defined (PT 204).
    App(App<'a>),
    /// Generic NACK (PT 205, FMT 1).
    Nack(Nack<'a>),
    /// Picture loss indication (PT 206, FMT 1).
    Pli(Pli),
    /// Full intra request (PT 206, FMT 4).
    Fir(Fir<'a>),
    /// Receiver estimated maximum bitrate (PT 206, FMT 15, "REMB").
    Remb(Remb<'a>),
    /// Transport-wide congestion control feedback (PT 205, FMT 15).
    TransportFeedback(TransportFeedback<'a>),
    /// Extended report (PT 207).
    ExtendedReport(ExtendedReport<'a>),
    /// Any other packet type or feedback format, left uninterpreted.
    Other(RawRtcp<'a>),
}

impl<'a> RtcpPacket<'a> {
    /// Interprets the body of a header-checked packet. Unknown packet types and feedback
    /// formats become [`RtcpPacket::Other`]; a known type whose body does not fit its counts
    /// fails with [`PacketError::BadLength`].
    pub fn parse(raw: RawRtcp<'a>) -> Result<Self, PacketError> {
        Ok(match (raw.packet_type(), raw.count()) {
            (PT_SR, _) => Self::SenderReport(SenderReport::parse(raw)?),
            (PT_RR, _) => Self::ReceiverReport(ReceiverReport::parse(raw)?),
            (PT_SDES, _) => Self::Sdes(Sdes::parse(raw)?),
            (PT_BYE, _) => Self::Bye(Bye::parse(raw)?),
            (PT_APP, _) => Self::App(App::parse(raw)?),
            (PT_RTPFB, Nack::FMT) => Self::Nack(Nack::parse(raw)?),
            (PT_RTPFB, TransportFeedback::FMT) => {
                Self::TransportFeedback(TransportFeedback::parse(raw)?)
            }
            (PT_PSFB, Pli::FMT) => Self::Pli(Pli::parse(raw)?),
            (PT_PSFB, Fir::FMT) => Self::Fir(Fir::parse(raw)?),
            (PT_PSFB, Remb::FMT) => match Remb::parse(raw) {
                Ok(remb) => Self::Remb(remb),
                // Another application-layer feedback message.
                Err(PacketError::BadPacketType(_)) => Self::Other(raw),
                Err(e) => return Err(e),
            },
            (PT_XR, _) => Self::ExtendedReport(ExtendedReport::parse(raw)?),
            _ => Self::Other(raw),
        })
    }
}

/// An RTCP packet that can be serialised into a caller buffer.
pub trait RtcpWrite {
    /// Bytes the packet takes (a multiple of 4), or why it cannot be written.
    fn encoded_len(&self) -> Result<usize, PacketError>;

    /// Writes the packet at the start of `out`; returns [`encoded_len`](Self::encoded_len).
    fn write(&self, out: &mut [u8]) -> Result<usize, PacketError>;
}

/// Writes RTCP packets one after another into a caller buffer, forming a compound datagram.
#[derive(Debug)]
pub struct CompoundWriter<'b> {
    out: &'b mut [u8],
    len: usize,
}

impl<'b> CompoundWriter<'b> {
    /// An empty compound datagram over `out`.
    pub fn new(out: &'b mut [u8]) -> Self {
        Self { out, len: 0 }
    }

    /// Appends a packet. On error nothing is appended.
    pub fn push(&mut self, packet: &dyn RtcpWrite) -> Result<&mut Self, PacketError> {
        let free = self.out.get_mut(self.len..).unwrap_or_default();
        match packet.write(free) {
            Ok(n) => {
                self.len += n;
                Ok(self)
            }
            Err(PacketError::BufferTooSmall { needed }) => Err(PacketError::BufferTooSmall {
                needed: self.len + needed,
            }),
            Err(e) => Err(e),
        }
    }

    /// Bytes written so far.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written yet.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The datagram written so far.
    pub fn as_bytes(&self) -> &[u8] {
        self.out.get(..self.len).unwrap_or_default()
    }
}

/// Iterator over a list of 32-bit source identifiers (BYE sources, REMB feedback sources).
#[derive(Debug, Clone)]
pub struct SsrcList<'a>(std::slice::ChunksExact<'a, u8>);

impl<'a> SsrcList<'a> {
    pub(crate) fn new(words: &'a [u8]) -> Self {
        Self(words.chunks_exact(4))
    }
}

impl Iterator for SsrcList<'_> {
    type Item = Ssrc;

    fn next(&mut self) -> Option<Ssrc> {
        read_ssrc(self.0.next()?, 0)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for SsrcList<'_> {}

/// Writes the common header for a packet of `total_len` bytes into `out` (at least 4 bytes)
/// and returns the rest of `out`.
pub(crate) fn write_header(
    out: &mut [u8],
    count: usize,
    packet_type: u8,
    total_len: usize,
) -> Result<&mut [u8], PacketError> {
    if count > MAX_COUNT {
        return Err(PacketError::ValueOutOfRange("RTCP count"));
    }
    let words = u16::try_from(total_len / 4 - 1)
        .map_err(|_| PacketError::ValueOutOfRange("RTCP length"))?;
    let out = out_prefix(out, total_len)?;
    let (head, rest) = out.split_at_mut(RTCP_HEADER_LEN);
    head[0] = (RTP_VERSION << 6) | count as u8;
    head[1] = packet_type;
    head[2..4].copy_from_slice(&words.to_be_bytes());
    Ok(rest)
}

/// Reads a big-endian u32 at `at`.
pub(crate) fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    let bytes = buf.get(at..)?.first_chunk::<4>()?;
    Some(u32::from_be_bytes(*bytes))
}

/// Reads an SSRC at `at`.
pub(crate) fn read_ssrc(buf: &[u8], at: usize) -> Option<Ssrc> {
    read_u32(buf, at).map(Ssrc)
}

/// A sequential writer over an output slice sized exactly by the caller's `encoded_len`.
pub(crate) struct Put<'b> {
    out: &'b mut [u8],
}

impl<'b> Put<'b> {
    pub(crate) fn new(out: &'b mut [u8]) -> Self {
        Self { out }
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        // Writers size `out` with their own encoded_len; a mismatch is a bug in this crate.
        debug_assert!(
            bytes.len() <= self.out.len(),
            "RTCP writer overran its length"
        );
        let out = std::mem::take(&mut self.out);
        let n = bytes.len().min(out.len());
        let (head, rest) = out.split_at_mut(n);
        head.copy_from_slice(&bytes[..n]);
        self.out = rest;
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.bytes(&v.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }

    /// Zero-fills what is left.
    pub(crate) fn zeros(self) {
        self.out.fill(0);
    }
}

#[cfg(test)]
mod tests;
