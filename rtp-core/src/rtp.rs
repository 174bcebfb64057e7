//! RTP data packets (RFC 3550 §5.1): a zero-copy parsed view and a writer into caller buffers.
//!
//! ```
//! use rtp_core::{RtpPacket, RtpWriter, RtpTimestamp, SeqNo, Ssrc};
//!
//! let payload = [0xFFu8; 160]; // 20 ms of PCMU silence
//! let writer = RtpWriter::new(0, SeqNo(7), RtpTimestamp(160), Ssrc(0xDEAD_BEEF), &payload);
//! let mut buf = [0u8; 1500];
//! let len = writer.write(&mut buf)?;
//! assert_eq!(len, 172);
//!
//! let packet = RtpPacket::parse(&buf[..len])?;
//! assert_eq!(packet.sequence_number(), SeqNo(7));
//! assert_eq!(packet.payload().len(), 160);
//! # Ok::<(), rtp_core::PacketError>(())
//! ```

use crate::error::{out_prefix, PacketError};
use crate::extension::{ExtensionWriter, HeaderExtension};
use crate::{RtpTimestamp, SeqNo, Ssrc};

/// The RTP (and RTCP) protocol version this crate speaks.
pub const RTP_VERSION: u8 = 2;
/// Length of the fixed RTP header, before CSRCs and extension.
pub const RTP_FIXED_HEADER_LEN: usize = 12;
/// The largest payload type (7 bits).
pub const MAX_PAYLOAD_TYPE: u8 = 127;
/// The most CSRCs a header can list (4-bit count).
pub const MAX_CSRCS: usize = 15;

/// A parsed RTP packet borrowing the datagram it was parsed from.
///
/// [`parse`](Self::parse) validates the whole layout once (version, CSRC count, extension
/// length, padding); every accessor afterwards is infallible and cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    raw: &'a [u8],
    fixed: &'a [u8; RTP_FIXED_HEADER_LEN],
    csrcs: &'a [u8],
    extension: Option<HeaderExtension<'a>>,
    payload: &'a [u8],
    padding: u8,
}

impl<'a> RtpPacket<'a> {
    /// Parses and validates an RTP packet.
    ///
    /// Errors: [`PacketError::TooShort`] (fixed header or CSRC list cut off),
    /// [`PacketError::BadVersion`], [`PacketError::BadExtension`] (extension header or data cut
    /// off), [`PacketError::BadPadding`] (padding count zero or longer than the packet body).
    pub fn parse(buf: &'a [u8]) -> Result<Self, PacketError> {
        Self::parse_inner(buf, true)
    }

    /// Parses and validates the header of a packet whose body is opaque: an SRTP packet,
    /// whose payload and padding are encrypted and followed by the authentication tag.
    ///
    /// The padding bit is reported by [`has_padding`](Self::has_padding) but not interpreted:
    /// [`payload`](Self::payload) is everything after the header and
    /// [`padding_len`](Self::padding_len) is 0. Errors as [`parse`](Self::parse), less
    /// [`PacketError::BadPadding`].
    pub fn parse_opaque_body(buf: &'a [u8]) -> Result<Self, PacketError> {
        Self::parse_inner(buf, false)
    }

    fn parse_inner(buf: &'a [u8], interpret_padding: bool) -> Result<Self, PacketError> {
        let (fixed, rest) = buf
            .split_first_chunk::<RTP_FIXED_HEADER_LEN>()
            .ok_or(PacketError::TooShort)?;
        let version = fixed[0] >> 6;
        if version != RTP_VERSION {
            return Err(PacketError::BadVersion(version));
        }
        let csrc_len = 4 * usize::from(fixed[0] & 0x0F);
        let (csrcs, mut rest) = rest
            .split_at_checked(csrc_len)
            .ok_or(PacketError::TooShort)?;
        let extension = if fixed[0] & 0x10 != 0 {
            let (head, after) = rest
                .split_first_chunk::<4>()
                .ok_or(PacketError::BadExtension)?;
            let profile = u16::from_be_bytes([head[0], head[1]]);
            let len = 4 * usize::from(u16::from_be_bytes([head[2], head[3]]));
            let (data, after) = after
                .split_at_checked(len)
                .ok_or(PacketError::BadExtension)?;
            rest = after;
            Some(HeaderExtension::new(profile, data))
        } else {
            None
        };
        let (payload, padding) = if interpret_padding && fixed[0] & 0x20 != 0 {
            strip_padding(rest)?
        } else {
            (rest, 0)
        };
        Ok(Self {
            raw: buf,
            fixed,
            csrcs,
            extension,
            payload,
            padding,
        })
    }

    /// The RTP version (always 2 for a parsed packet).
    pub const fn version(&self) -> u8 {
        self.fixed[0] >> 6
    }

    /// Whether the padding bit is set.
    pub const fn has_padding(&self) -> bool {
        self.fixed[0] & 0x20 != 0
    }

    /// Whether the extension bit is set.
    pub const fn has_extension(&self) -> bool {
        self.fixed[0] & 0x10 != 0
    }

    /// The marker bit (start of a talkspurt for audio, end of a frame for video).
    pub const fn marker(&self) -> bool {
        self.fixed[1] & 0x80 != 0
    }

    /// The 7-bit payload type.
    pub const fn payload_type(&self) -> u8 {
        self.fixed[1] & 0x7F
    }

    /// The 16-bit sequence number.
    pub const fn sequence_number(&self) -> SeqNo {
        SeqNo(u16::from_be_bytes([self.fixed[2], self.fixed[3]]))
    }

    /// The RTP timestamp.
    pub const fn timestamp(&self) -> RtpTimestamp {
        RtpTimestamp(u32::from_be_bytes([
            self.fixed[4],
            self.fixed[5],
            self.fixed[6],
            self.fixed[7],
        ]))
    }

    /// The synchronisation source.
    pub const fn ssrc(&self) -> Ssrc {
        Ssrc(u32::from_be_bytes([
            self.fixed[8],
            self.fixed[9],
            self.fixed[10],
            self.fixed[11],
        ]))
    }

    /// The contributing sources (0 to 15 of them).
    pub fn csrcs(&self) -> Csrcs<'a> {
        Csrcs(self.csrcs.chunks_exact(4))
    }

    /// The header extension block, when the extension bit is set.
    pub const fn extension(&self) -> Option<HeaderExtension<'a>> {
        self.extension
    }

    /// The payload, without header and padding.
    pub const fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Padding bytes at the end of the packet (0 when the padding bit is clear).
    pub const fn padding_len(&self) -> usize {
        self.padding as usize
    }

    /// Length of the header: fixed part, CSRCs and extension block.
    pub const fn header_len(&self) -> usize {
        self.raw.len() - self.payload.len() - self.padding as usize
    }

    /// The whole packet as received.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }
}

/// Splits RTP/RTCP padding off the end of `body`: the last byte counts the padding bytes,
/// itself included. Returns the body without padding and the count.
pub(crate) fn strip_padding(body: &[u8]) -> Result<(&[u8], u8), PacketError> {
    let &count = body.last().ok_or(PacketError::BadPadding)?;
    let keep = body
        .len()
        .checked_sub(usize::from(count))
        .filter(|_| count > 0)
        .ok_or(PacketError::BadPadding)?;
    Ok((body.split_at(keep).0, count))
}

/// Iterator over the CSRCs of an [`RtpPacket`].
#[derive(Debug, Clone)]
pub struct Csrcs<'a>(std::slice::ChunksExact<'a, u8>);

impl Iterator for Csrcs<'_> {
    type Item = Ssrc;

    fn next(&mut self) -> Option<Ssrc> {
        let word = self.0.next()?.first_chunk::<4>()?;
        Some(Ssrc(u32::from_be_bytes(*word)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for Csrcs<'_> {}

/// An RTP packet to serialise: header fields, optional CSRCs, extension and padding, and a
/// borrowed payload. Writing allocates nothing.
///
/// Build it with [`new`](Self::new) and set the optional fields directly.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpWriter<'a> {
    /// The marker bit.
    pub marker: bool,
    /// The payload type, 0..=127.
    pub payload_type: u8,
    /// The sequence number.
    pub sequence_number: SeqNo,
    /// The RTP timestamp.
    pub timestamp: RtpTimestamp,
    /// The synchronisation source.
    pub ssrc: Ssrc,
    /// Contributing sources, at most 15.
    pub csrcs: &'a [Ssrc],
    /// A header extension block.
    pub extension: Option<ExtensionWriter<'a>>,
    /// The payload.
    pub payload: &'a [u8],
    /// Padding bytes to append (0: none, and the padding bit stays clear); the last one
    /// carries the count, the others are zero.
    pub padding: u8,
}

impl<'a> RtpWriter<'a> {
    /// A packet with no marker, CSRCs, extension or padding.
    pub const fn new(
        payload_type: u8,
        sequence_number: SeqNo,
        timestamp: RtpTimestamp,
        ssrc: Ssrc,
        payload: &'a [u8],
    ) -> Self {
        Self {
            marker: false,
            payload_type,
            sequence_number,
            timestamp,
            ssrc,
            csrcs: &[],
            extension: None,
            payload,
            padding: 0,
        }
    }

    /// Length of the header this writer produces (fixed part, CSRCs, extension block).
    pub fn header_len(&self) -> Result<usize, PacketError> {
        if self.payload_type > MAX_PAYLOAD_TYPE {
            return Err(PacketError::ValueOutOfRange("payload type"));
        }
        if self.csrcs.len() > MAX_CSRCS {
            return Err(PacketError::ValueOutOfRange("CSRC count"));
        }
        let ext = match &self.extension {
            Some(ext) => ext.encoded_len()?,
            None => 0,
        };
        Ok(RTP_FIXED_HEADER_LEN + 4 * self.csrcs.len() + ext)
    }

    /// Length of the whole packet this writer produces.
    pub fn encoded_len(&self) -> Result<usize, PacketError> {
        Ok(self.header_len()? + self.payload.len() + usize::from(self.padding))
    }

    /// Serialises the packet at the start of `out`; returns its length.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, PacketError> {
        let header_len = self.header_len()?;
        let end = header_len + self.payload.len();
        let out = out_prefix(out, end + usize::from(self.padding))?;
        out[header_len..end].copy_from_slice(self.payload);
        self.write_around(out, header_len, self.payload.len())
    }

    /// Serialises header and padding around a payload the caller already placed at
    /// `out[header_len()..header_len() + payload_len]` (an encoder writing straight into the
    /// datagram buffer). `self.payload` is not used. Returns the packet length.
    pub fn write_around_payload(
        &self,
        out: &mut [u8],
        payload_len: usize,
    ) -> Result<usize, PacketError> {
        let header_len = self.header_len()?;
        let out = out_prefix(out, header_len + payload_len + usize::from(self.padding))?;
        self.write_around(out, header_len, payload_len)
    }

    /// Writes header and padding; `out` is exactly the packet length.
    fn write_around(
        &self,
        out: &mut [u8],
        header_len: usize,
        payload_len: usize,
    ) -> Result<usize, PacketError> {
        let (head, rest) = out.split_at_mut(header_len);
        let (fixed, mut tail) = head.split_at_mut(RTP_FIXED_HEADER_LEN);
        // header_len() checked the CSRC count (<= 15) and payload type (<= 127).
        fixed[0] = (RTP_VERSION << 6)
            | if self.padding > 0 { 0x20 } else { 0 }
            | if self.extension.is_some() { 0x10 } else { 0 }
            | self.csrcs.len() as u8;
        fixed[1] = if self.marker { 0x80 } else { 0 } | self.payload_type;
        fixed[2..4].copy_from_slice(&self.sequence_number.0.to_be_bytes());
        fixed[4..8].copy_from_slice(&self.timestamp.0.to_be_bytes());
        fixed[8..12].copy_from_slice(&self.ssrc.0.to_be_bytes());
        for csrc in self.csrcs {
            let (word, after) = tail.split_at_mut(4);
            word.copy_from_slice(&csrc.0.to_be_bytes());
            tail = after;
        }
        if let Some(ext) = &self.extension {
            ext.write(tail)?;
        }
        let padding = &mut rest[payload_len..];
        if let Some((last, zeros)) = padding.split_last_mut() {
            zeros.fill(0);
            *last = self.padding;
        }
        Ok(out.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extension::{ExtensionElement, ExtensionForm, ONE_BYTE_PROFILE};

    /// A 172-byte PCMU packet as Wireshark shows it: 80 00 | 00 01 | 00 00 00 a0 | de ad be ef.
    fn pcmu() -> Vec<u8> {
        let mut p = vec![
            0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xA0, 0xDE, 0xAD, 0xBE, 0xEF,
        ];
        p.extend_from_slice(&[0xFF; 160]);
        p
    }

    #[test]
    fn parses_pcmu() -> Result<(), PacketError> {
        let buf = pcmu();
        let p = RtpPacket::parse(&buf)?;
        assert_eq!(p.version(), 2);
        assert!(!p.marker() && !p.has_padding() && !p.has_extension());
        assert_eq!(p.payload_type(), 0);
        assert_eq!(p.sequence_number(), SeqNo(1));
        assert_eq!(p.timestamp(), RtpTimestamp(160));
        assert_eq!(p.ssrc(), Ssrc(0xDEAD_BEEF));
        assert_eq!(p.csrcs().len(), 0);
        assert_eq!(p.header_len(), 12);
        assert_eq!(p.payload(), &[0xFF; 160][..]);
        assert_eq!(p.as_bytes().len(), 172);
        Ok(())
    }

    /// V=2 P=1 X=1 CC=2, M=1 PT=96, seq 0x1234, ts 800, SSRC 0x11223344, CSRCs 1 and 2,
    /// one-byte extension (id 1 = 0xAB), payload 01 02 03, three bytes of padding.
    const FULL: [u8; 38] = [
        0xB2, 0xE0, 0x12, 0x34, 0x00, 0x00, 0x03, 0x20, 0x11, 0x22, 0x33, 0x44, //
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, //
        0xBE, 0xDE, 0x00, 0x01, 0x10, 0xAB, 0x00, 0x00, //
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x00, 0x00, 0x03,
    ];

    #[test]
    fn parses_every_header_part() -> Result<(), PacketError> {
        let p = RtpPacket::parse(&FULL)?;
        assert!(p.marker() && p.has_padding() && p.has_extension());
        assert_eq!(p.payload_type(), 96);
        assert_eq!(p.sequence_number(), SeqNo(0x1234));
        assert_eq!(p.timestamp(), RtpTimestamp(800));
        assert_eq!(p.ssrc(), Ssrc(0x1122_3344));
        assert_eq!(p.csrcs().collect::<Vec<_>>(), vec![Ssrc(1), Ssrc(2)]);
        let ext = p.extension().ok_or(PacketError::BadExtension)?;
        assert_eq!(ext.profile(), ONE_BYTE_PROFILE);
        assert_eq!(ext.get(1), Some(&[0xAB][..]));
        assert_eq!(p.header_len(), 28);
        assert_eq!(p.payload(), &[1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(p.padding_len(), 3);
        Ok(())
    }

    #[test]
    fn writes_the_same_bytes() -> Result<(), PacketError> {
        let csrcs = [Ssrc(1), Ssrc(2)];
        let els = [ExtensionElement {
            id: 1,
            data: &[0xAB],
        }];
        let mut w = RtpWriter::new(
            96,
            SeqNo(0x1234),
            RtpTimestamp(800),
            Ssrc(0x1122_3344),
            &[1, 2, 3, 4, 5, 6, 7],
        );
        w.marker = true;
        w.csrcs = &csrcs;
        w.extension = Some(ExtensionWriter::elements(&els)?);
        w.padding = 3;
        assert_eq!(w.encoded_len()?, FULL.len());
        let mut out = [0xEEu8; 64];
        let n = w.write(&mut out)?;
        assert_eq!(&out[..n], &FULL[..]);
        Ok(())
    }

    #[test]
    fn writes_pcmu() -> Result<(), PacketError> {
        let payload = [0xFFu8; 160];
        let w = RtpWriter::new(0, SeqNo(1), RtpTimestamp(160), Ssrc(0xDEAD_BEEF), &payload);
        let mut out = [0u8; 200];
        let n = w.write(&mut out)?;
        assert_eq!(&out[..n], &pcmu()[..]);
        Ok(())
    }

    #[test]
    fn writes_around_payload_in_place() -> Result<(), PacketError> {
        let mut out = [0u8; 64];
        let mut w = RtpWriter::new(8, SeqNo(9), RtpTimestamp(10), Ssrc(11), &[]);
        w.padding = 2;
        let hl = w.header_len()?;
        out[hl..hl + 4].copy_from_slice(&[9, 8, 7, 6]);
        let n = w.write_around_payload(&mut out, 4)?;
        assert_eq!(n, 12 + 4 + 2);
        let p = RtpPacket::parse(&out[..n])?;
        assert_eq!(p.payload(), &[9, 8, 7, 6]);
        assert_eq!(p.payload_type(), 8);
        assert_eq!(p.padding_len(), 2);
        Ok(())
    }

    #[test]
    fn rejects_malformed_headers() {
        assert_eq!(RtpPacket::parse(&FULL[..11]), Err(PacketError::TooShort));
        let mut v1 = FULL;
        v1[0] = (v1[0] & 0x3F) | 0x40;
        assert_eq!(RtpPacket::parse(&v1), Err(PacketError::BadVersion(1)));
        // CSRC list cut off.
        assert_eq!(RtpPacket::parse(&FULL[..16]), Err(PacketError::TooShort));
        // Extension header cut off, then extension data cut off.
        assert_eq!(
            RtpPacket::parse(&FULL[..22]),
            Err(PacketError::BadExtension)
        );
        assert_eq!(
            RtpPacket::parse(&FULL[..26]),
            Err(PacketError::BadExtension)
        );
        // Padding count zero; padding longer than the body.
        let mut zero = FULL;
        zero[37] = 0;
        assert_eq!(RtpPacket::parse(&zero), Err(PacketError::BadPadding));
        let mut long = FULL;
        long[37] = 11;
        assert_eq!(RtpPacket::parse(&long), Err(PacketError::BadPadding));
        // Padding bit with no body at all.
        assert_eq!(
            RtpPacket::parse(&[0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(PacketError::BadPadding)
        );
    }

    #[test]
    fn opaque_body_keeps_padding_uninterpreted() -> Result<(), PacketError> {
        // A zero padding count is an error in a clear packet, but opaque in an SRTP one.
        let mut buf = FULL;
        buf[37] = 0;
        let p = RtpPacket::parse_opaque_body(&buf)?;
        assert!(p.has_padding());
        assert_eq!((p.header_len(), p.padding_len()), (28, 0));
        assert_eq!(p.payload().len(), 10);
        assert_eq!(
            RtpPacket::parse_opaque_body(&FULL[..26]),
            Err(PacketError::BadExtension)
        );
        Ok(())
    }

    #[test]
    fn padding_may_eat_the_whole_body() -> Result<(), PacketError> {
        // Padding may cover the extension-free body entirely (an empty payload).
        let mut buf = FULL;
        buf[37] = 10;
        let p = RtpPacket::parse(&buf)?;
        assert!(p.payload().is_empty());
        assert_eq!(p.header_len(), 28);
        Ok(())
    }

    #[test]
    fn empty_payload_and_empty_extension() -> Result<(), PacketError> {
        let buf = [
            0x90, 0x7F, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0x12, 0x34, 0x00, 0x00,
        ];
        let p = RtpPacket::parse(&buf)?;
        assert_eq!(p.payload_type(), 127);
        let ext = p.extension().ok_or(PacketError::BadExtension)?;
        assert_eq!((ext.profile(), ext.data()), (0x1234, &[][..]));
        assert!(p.payload().is_empty());
        Ok(())
    }

    #[test]
    fn writer_validates_fields_and_buffer() {
        let csrcs = [Ssrc(0); 16];
        let mut w = RtpWriter::new(128, SeqNo(0), RtpTimestamp(0), Ssrc(0), &[1]);
        let mut out = [0u8; 128];
        assert_eq!(
            w.write(&mut out),
            Err(PacketError::ValueOutOfRange("payload type"))
        );
        w.payload_type = 0;
        w.csrcs = &csrcs;
        assert_eq!(
            w.write(&mut out),
            Err(PacketError::ValueOutOfRange("CSRC count"))
        );
        w.csrcs = &csrcs[..15];
        assert_eq!(w.encoded_len(), Ok(12 + 60 + 1));
        assert_eq!(
            w.write(&mut out[..72]),
            Err(PacketError::BufferTooSmall { needed: 73 })
        );
        w.extension = Some(ExtensionWriter::Elements {
            form: ExtensionForm::OneByte,
            elements: &[ExtensionElement { id: 0, data: &[] }],
        });
        assert_eq!(w.write(&mut out), Err(PacketError::BadExtension));
    }

    #[test]
    fn webrtc_style_audio_level_packet() -> Result<(), PacketError> {
        // Opus (PT 111) with the ssrc-audio-level extension (RFC 6464) as id 1: voice
        // activity set, level 42 -dBov, then a 3-byte abs-send-time as id 3.
        let buf = [
            0x90, 0xEF, 0x2E, 0x4A, 0x00, 0x01, 0xE2, 0x40, 0x0B, 0xAD, 0xCA, 0xFE, //
            0xBE, 0xDE, 0x00, 0x02, 0x10, 0xAA, 0x32, 0x01, 0x02, 0x03, 0x00, 0x00, //
            0xFC, 0xFF, 0xFE,
        ];
        let p = RtpPacket::parse(&buf)?;
        assert!(p.marker());
        assert_eq!(p.payload_type(), 111);
        assert_eq!(p.sequence_number(), SeqNo(11850));
        assert_eq!(p.timestamp(), RtpTimestamp(123_456));
        let ext = p.extension().ok_or(PacketError::BadExtension)?;
        let level = ext.get(1).and_then(|d| d.first().copied());
        assert_eq!(level.map(|b| (b & 0x80 != 0, b & 0x7F)), Some((true, 42)));
        assert_eq!(ext.get(3), Some(&[1, 2, 3][..]));
        assert_eq!(p.payload(), &[0xFC, 0xFF, 0xFE]);
        Ok(())
    }
}
