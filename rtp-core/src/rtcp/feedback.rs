//! RTCP feedback (RFC 4585 §6): generic NACK, PLI, FIR (RFC 5104) and REMB.

use super::{write_header, Put, RawRtcp, RtcpWrite, SsrcList, PT_PSFB, PT_RTPFB};
use crate::error::PacketError;
use crate::{SeqNo, Ssrc};

/// Splits a feedback body into sender SSRC, media SSRC and feedback control information.
fn split_fb<'a>(raw: &RawRtcp<'a>, packet_type: u8) -> Result<(Ssrc, Ssrc, &'a [u8]), PacketError> {
    if raw.packet_type() != packet_type {
        return Err(PacketError::BadPacketType(raw.packet_type()));
    }
    let (ids, fci) = raw
        .body()
        .split_first_chunk::<8>()
        .ok_or(PacketError::BadLength)?;
    let sender = Ssrc(u32::from_be_bytes([ids[0], ids[1], ids[2], ids[3]]));
    let media = Ssrc(u32::from_be_bytes([ids[4], ids[5], ids[6], ids[7]]));
    Ok((sender, media, fci))
}

/// Writes a feedback header (common header, sender and media SSRC); returns the FCI area.
pub(super) fn write_fb<'o>(
    out: &'o mut [u8],
    fmt: u8,
    packet_type: u8,
    len: usize,
    sender: Ssrc,
    media: Ssrc,
) -> Result<Put<'o>, PacketError> {
    let mut put = Put::new(write_header(out, fmt.into(), packet_type, len)?);
    put.u32(sender.0);
    put.u32(media.0);
    Ok(put)
}

/// One generic NACK entry: a lost packet and a bitmask of the 16 following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NackEntry {
    /// The lost packet.
    pub pid: SeqNo,
    /// Bit i set: packet `pid + i + 1` is lost too.
    pub blp: u16,
}

impl NackEntry {
    /// The lost sequence numbers this entry names, in order.
    pub fn lost(self) -> impl Iterator<Item = SeqNo> {
        let NackEntry { pid, blp } = self;
        std::iter::once(pid).chain(
            (0..16u16)
                .filter(move |i| blp & (1 << i) != 0)
                .map(move |i| SeqNo(pid.0.wrapping_add(i + 1))),
        )
    }

    /// Packs lost sequence numbers, given in ascending (wrapping) order, into as few entries
    /// as that order allows. Duplicates are dropped; an out-of-order number starts a new
    /// entry, so every number given is still covered.
    pub fn pack<I: IntoIterator<Item = SeqNo>>(lost: I) -> impl Iterator<Item = NackEntry> {
        let mut lost = lost.into_iter().peekable();
        std::iter::from_fn(move || {
            let pid = lost.next()?;
            let mut blp = 0u16;
            while let Some(&seq) = lost.peek() {
                match pid.distance_to(seq) {
                    0 => {}
                    d @ 1..=16 => blp |= 1 << (d - 1),
                    _ => break,
                }
                lost.next();
            }
            Some(NackEntry { pid, blp })
        })
    }
}

/// A parsed generic NACK (RTPFB, FMT 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nack<'a> {
    sender_ssrc: Ssrc,
    media_ssrc: Ssrc,
    fci: &'a [u8],
}

impl<'a> Nack<'a> {
    /// The feedback message type.
    pub const FMT: u8 = 1;

    /// Interprets a PT 205 FMT 1 packet; the FCI must be whole 4-byte entries.
    pub fn parse(raw: RawRtcp<'a>) -> Result<Self, PacketError> {
        let (sender_ssrc, media_ssrc, fci) = split_fb(&raw, PT_RTPFB)?;
        if fci.len() % 4 != 0 {
            return Err(PacketError::BadLength);
        }
        Ok(Self {
            sender_ssrc,
            media_ssrc,
            fci,
        })
    }

    /// The SSRC of the packet's sender.
    pub const fn sender_ssrc(&self) -> Ssrc {
        self.sender_ssrc
    }

    /// The SSRC of the stream whose packets were lost.
    pub const fn media_ssrc(&self) -> Ssrc {
        self.media_ssrc
    }

    /// The entries.
    pub fn entries(&self) -> NackEntries<'a> {
        NackEntries(self.fci.chunks_exact(4))
    }

    /// Every lost sequence number, entry by entry.
    pub fn lost(&self) -> impl Iterator<Item = SeqNo> + 'a {
        self.entries().flat_map(NackEntry::lost)
    }
}

/// Iterator over the entries of a [`Nack`].
#[derive(Debug, Clone)]
pub struct NackEntries<'a>(std::slice::ChunksExact<'a, u8>);

impl Iterator for NackEntries<'_> {
    type Item = NackEntry;

    fn next(&mut self) -> Option<NackEntry> {
        let b = self.0.next()?.first_chunk::<4>()?;
        Some(NackEntry {
            pid: SeqNo(u16::from_be_bytes([b[0], b[1]])),
            blp: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for NackEntries<'_> {}

/// A generic NACK to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NackWriter<'a> {
    /// The SSRC of the packet's sender.
    pub sender_ssrc: Ssrc,
    /// The SSRC of the stream whose packets were lost.
    pub media_ssrc: Ssrc,
    /// The entries (see [`NackEntry::pack`]).
    pub entries: &'a [NackEntry],
}

impl RtcpWrite for NackWriter<'_> {
    fn encoded_len(&self) -> Result<usize, PacketError> {
        Ok(12 + 4 * self.entries.len())
    }

    fn write(&self, out: &mut [u8]) -> Result<usize, PacketError> {
        let len = self.encoded_len()?;
        let mut put = write_fb(
            out,
            Nack::FMT,
            PT_RTPFB,
            len,
            self.sender_ssrc,
            self.media_ssrc,
        )?;
        for e in self.entries {
            put.u16(e.pid.0);
            put.u16(e.blp);
        }
        Ok(len)
    }
}

/// Picture loss indication (PSFB, FMT 1); parsed and written alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pli {
    /// The SSRC of the packet's sender.
    pub sender_ssrc: Ssrc,
    /// The SSRC of the stream that lost a picture.
    pub media_ssrc: Ssrc,
}

impl Pli {
    /// The feedback message type.
    pub const FMT: u8 = 1;

    /// Interprets a PT 206 FMT 1 packet (an FCI, which PLI does not have, is ignored).
    pub fn parse(raw: RawRtcp<'_>) -> Result<Self, PacketError> {
        let (sender_ssrc, media_ssrc, _) = split_fb(&raw, PT_PSFB)?;
        Ok(Self {
            sender_ssrc,
            media_ssrc,
        })
    }
}

impl RtcpWrite for Pli {
    fn encoded_len(&self) -> Result<usize, PacketError> {
        Ok(12)
    }

    fn write(&self, out: &mut [u8]) -> Result<usize, PacketError> {
        write_fb(
            out,
            Self::FMT,
            PT_PSFB,
            12,
            self.sender_ssrc,
            self.media_ssrc,
        )?;
        Ok(12)
    }
}

/// One full intra request entry: the source asked for a key frame and a command sequence
/// number (incremented per new request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FirEntry {
    /// The media source asked to send a decoder refresh point.
    pub ssrc: Ssrc,
    /// Command sequence number.
    pub seq_nr: u8,
}

/// A parsed full intra request (PSFB, FMT 4, RFC 5104 §4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fir<'a> {
    sender_ssrc: Ssrc,
    fci: &'a [u8],
}

impl<'a> Fir<'a> {
    /// The feedback message type.
    pub const FMT: u8 = 4;

    /// Interprets a PT 206 FMT 4 packet; the FCI must be whole 8-byte entries.
    pub fn parse(raw: RawRtcp<'a>) -> Result<Self, PacketError> {
        let (sender_ssrc, _, fci) = split_fb(&raw, PT_PSFB)?;
        if fci.len() % 8 != 0 {
            return Err(PacketError::BadLength);
        }
        Ok(Self { sender_ssrc, fci })
    }

    /// The SSRC of the packet's sender.
    pub const fn sender_ssrc(&self) -> Ssrc {
        self.sender_ssrc
    }

    /// The requests.
    pub fn entries(&self) -> FirEntries<'a> {
        FirEntries(self.fci.chunks_exact(8))
    }
}

/// Iterator over the entries of a [`Fir`].
#[derive(Debug, Clone)]
pub struct FirEntries<'a>(std::slice::ChunksExact<'a, u8>);

impl Iterator for FirEntries<'_> {
    type Item = FirEntry;

    fn next(&mut self) -> Option<FirEntry> {
        let b = self.0.next()?.first_chunk::<5>()?;
        Some(FirEntry {
            ssrc: Ssrc(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            seq_nr: b[4],
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for FirEntries<'_> {}

/// A full intra request to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirWriter<'a> {
    /// The SSRC of the packet's sender.
    pub sender_ssrc: Ssrc,
    /// The requests.
    pub entries: &'a [FirEntry],
}

impl RtcpWrite for FirWriter<'_> {
    fn encoded_len(&self) -> Result<usize, PacketError> {
        Ok(12 + 8 * self.entries.len())
    }

    fn write(&self, out: &mut [u8]) -> Result<usize, PacketError> {
        let len = self.encoded_len()?;
        // RFC 5104: the media source SSRC field is 0 for FIR.
        let mut put = write_fb(out, Fir::FMT, PT_PSFB, len, self.sender_ssrc, Ssrc(0))?;
        for e in self.entries {
            put.u32(e.ssrc.0);
            put.bytes(&[e.seq_nr, 0, 0, 0]);
        }
        Ok(len)
    }
}

/// A parsed receiver estimated maximum bitrate (PSFB, FMT 15, identifier "REMB").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remb<'a> {
    sender_ssrc: Ssrc,
    bitrate: u64,
    ssrcs: &'a [u8],
}

impl<'a> Remb<'a> {
    /// The feedback message type (application layer feedback).
    pub const FMT: u8 = 15;
    const ID: [u8; 4] = *b"REMB";
    const MANTISSA_BITS: u32 = 18;

    /// Interprets a PT 206 FMT 15 packet. An application-layer feedback message that is not
    /// REMB fails with [`PacketError::BadPacketType`].
    pub fn parse(raw: RawRtcp<'a>) -> Result<Self, PacketError> {
        let (sender_ssrc, _, fci) = split_fb(&raw, PT_PSFB)?;
        let (head, rest) = fci
            .split_first_chunk::<8>()
            .filter(|(h, _)| h[..4] == Self::ID)
            .ok_or(PacketError::BadPacketType(PT_PSFB))?;
        let count = usize::from(head[4]);
        let exp = u32::from(head[5] >> 2);
        let mantissa = u64::from(u32::from_be_bytes([0, head[5] & 0x03, head[6], head[7]]));
        let bitrate = if mantissa != 0 && mantissa.leading_zeros() < exp {
            u64::MAX
        } else {
            mantissa << exp
        };
        let ssrcs = rest.get(..4 * count).ok_or(PacketError::BadLength)?;
        Ok(Self {
            sender_ssrc,
            bitrate,
            ssrcs,
        })
    }

    /// The SSRC of the packet's sender.
    pub const fn sender_ssrc(&self) -> Ssrc {
        self.sender_ssrc
    }

    /// The estimated maximum total bitrate, in bits per second (saturating).
    pub const fn bitrate_bps(&self) -> u64 {
        self.bitrate
    }

    /// The sources the estimate applies to.
    pub fn ssrcs(&self) -> SsrcList<'a> {
        SsrcList::new(self.ssrcs)
    }
}

/// A REMB message to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RembWriter<'a> {
    /// The SSRC of the packet's sender.
    pub sender_ssrc: Ssrc,
    /// The estimate in bits per second; encoded as an 18-bit mantissa and a 6-bit exponent,
    /// so values above 2^18 are rounded down.
    pub bitrate_bps: u64,
    /// Up to 255 sources the estimate applies to.
    pub ssrcs: &'a [Ssrc],
}

impl RtcpWrite for RembWriter<'_> {
    fn encoded_len(&self) -> Result<usize, PacketError> {
        if self.ssrcs.len() > 255 {
            return Err(PacketError::ValueOutOfRange("REMB source count"));
        }
        Ok(20 + 4 * self.ssrcs.len())
    }

    fn write(&self, out: &mut [u8]) -> Result<usize, PacketError> {
        let len = self.encoded_len()?;
        let mut put = write_fb(out, Remb::FMT, PT_PSFB, len, self.sender_ssrc, Ssrc(0))?;
        let bits = 64 - self.bitrate_bps.leading_zeros();
        let exp = bits.saturating_sub(Remb::MANTISSA_BITS);
        let mantissa = (self.bitrate_bps >> exp) as u32;
        put.bytes(&Remb::ID);
        put.u8(self.ssrcs.len() as u8);
        // exp <= 46 fits 6 bits; mantissa < 2^18.
        put.u8(((exp as u8) << 2) | (mantissa >> 16) as u8);
        put.u16(mantissa as u16);
        for ssrc in self.ssrcs {
            put.u32(ssrc.0);
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nack_entry_expansion() {
        let e = NackEntry {
            pid: SeqNo(65534),
            blp: 0b1000_0000_0000_0101,
        };
        let lost: Vec<_> = e.lost().map(|s| s.0).collect();
        assert_eq!(lost, [65534, 65535, 1, 14]);
    }

    #[test]
    fn nack_packing() {
        let lost = [100u16, 101, 101, 103, 116, 117, 200, 65535, 0, 3];
        let entries: Vec<_> = NackEntry::pack(lost.iter().map(|&s| SeqNo(s))).collect();
        assert_eq!(
            entries,
            [
                NackEntry {
                    pid: SeqNo(100),
                    blp: 0b1000_0000_0000_0101
                },
                NackEntry {
                    pid: SeqNo(117),
                    blp: 0
                },
                NackEntry {
                    pid: SeqNo(200),
                    blp: 0
                },
                NackEntry {
                    pid: SeqNo(65535),
                    blp: 0b1001
                },
            ]
        );
        let back: Vec<_> = entries.into_iter().flat_map(NackEntry::lost).collect();
        let mut want: Vec<_> = lost.iter().map(|&s| SeqNo(s)).collect();
        want.dedup();
        assert_eq!(back, want);
    }
}
