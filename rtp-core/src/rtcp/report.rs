//! Sender and receiver reports (RFC 3550 §6.4).

use std::time::Duration;

use super::{read_ssrc, write_header, Put, RawRtcp, RtcpWrite, MAX_COUNT, PT_RR, PT_SR};
use crate::error::PacketError;
use crate::{RtpTimestamp, Ssrc};

/// A 64-bit NTP timestamp: seconds since 1900 in the high 32 bits, fraction in the low 32.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NtpTime(pub u64);

impl NtpTime {
    /// From whole seconds and a 2^-32 fraction.
    pub const fn from_parts(seconds: u32, fraction: u32) -> Self {
        Self(((seconds as u64) << 32) | fraction as u64)
    }

    /// From a time since the NTP epoch (1900-01-01); seconds wrap at 2^32 (era 0 ends 2036).
    pub fn from_duration(since_1900: Duration) -> Self {
        let fraction = (u64::from(since_1900.subsec_nanos()) << 32) / 1_000_000_000;
        Self::from_parts(since_1900.as_secs() as u32, fraction as u32)
    }

    /// Whole seconds.
    pub const fn seconds(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// Fraction of a second in units of 2^-32 s.
    pub const fn fraction(self) -> u32 {
        self.0 as u32
    }

    /// The middle 32 bits: the "last SR" (LSR) value a receiver echoes, in 2^-16 s units.
    pub const fn middle_32(self) -> u32 {
        (self.0 >> 16) as u32
    }
}

/// The sender information of a sender report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SenderInfo {
    /// Wallclock time when the report was sent.
    pub ntp_time: NtpTime,
    /// The same instant in the RTP timestamp clock of the sender's stream.
    pub rtp_timestamp: RtpTimestamp,
    /// Packets sent since the start of transmission.
    pub packet_count: u32,
    /// Payload octets sent since the start of transmission.
    pub octet_count: u32,
}

impl SenderInfo {
    const LEN: usize = 20;

    fn from_bytes(b: &[u8; Self::LEN]) -> Self {
        let word = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Self {
            ntp_time: NtpTime::from_parts(word(0), word(4)),
            rtp_timestamp: RtpTimestamp(word(8)),
            packet_count: word(12),
            octet_count: word(16),
        }
    }

    fn put(&self, put: &mut Put<'_>) {
        put.bytes(&self.ntp_time.0.to_be_bytes());
        put.u32(self.rtp_timestamp.0);
        put.u32(self.packet_count);
        put.u32(self.octet_count);
    }
}

/// One reception report block (24 bytes), as read from or written to SR and RR packets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: Ssrc,
    /// Fraction of packets lost since the previous report, in 1/256 units.
    pub fraction_lost: u8,
    /// Cumulative packets lost (24-bit signed on the wire; clamped when written).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles in the high 16 bits).
    pub extended_highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP time of the last SR received from the source (0: none).
    pub last_sr: u32,
    /// Delay since that SR was received, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    /// Length on the wire.
    pub const LEN: usize = 24;
    const MAX_LOST: i32 = 0x7F_FFFF;
    const MIN_LOST: i32 = -0x80_0000;

    fn from_bytes(b: &[u8; Self::LEN]) -> Self {
        let word = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        // Sign-extend the 24-bit cumulative loss.
        let lost = (u32::from_be_bytes([b[5], b[6], b[7], 0]) as i32) >> 8;
        Self {
            ssrc: Ssrc(word(0)),
            fraction_lost: b[4],
            cumulative_lost: lost,
            extended_highest_seq: word(8),
            jitter: word(12),
            last_sr: word(16),
            delay_since_last_sr: word(20),
        }
    }

    fn put(&self, put: &mut Put<'_>) {
        let lost = self.cumulative_lost.clamp(Self::MIN_LOST, Self::MAX_LOST) as u32;
        put.u32(self.ssrc.0);
        put.u32((u32::from(self.fraction_lost) << 24) | (lost & 0xFF_FFFF));
        put.u32(self.extended_highest_seq);
        put.u32(self.jitter);
        put.u32(self.last_sr);
        put.u32(self.delay_since_last_sr);
    }
}

/// Iterator over the report blocks of an SR or RR.
#[derive(Debug, Clone)]
pub struct ReportBlocks<'a>(std::slice::ChunksExact<'a, u8>);

impl Iterator for ReportBlocks<'_> {
    type Item = ReportBlock;

    fn next(&mut self) -> Option<ReportBlock> {
        self.0
            .next()?
            .first_chunk::<{ ReportBlock::LEN }>()
            .map(ReportBlock::from_bytes)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for ReportBlocks<'_> {}

/// Splits `count` report blocks off `body`; the rest is the profile-specific extension.
fn split_blocks(body: &[u8], count: u8) -> Result<(&[u8], &[u8]), PacketError> {
    body.split_at_checked(usize::from(count) * ReportBlock::LEN)
        .ok_or(PacketError::BadLength)
}

/// A parsed sender report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderReport<'a> {
    ssrc: Ssrc,
    info: SenderInfo,
    blocks: &'a [u8],
    extension: &'a [u8],
}

impl<'a> SenderReport<'a> {
    /// Interprets a PT 200 packet.
    pub fn parse(raw: RawRtcp<'a>) -> Result<Self, PacketError> {
        if raw.packet_type() != PT_SR {
            return Err(PacketError::BadPacketType(raw.packet_type()));
        }
        let body = raw.body();
        let ssrc = read_ssrc(body, 0).ok_or(PacketError::BadLength)?;
        let info = body
            .get(4..)
            .and_then(|b| b.first_chunk::<{ SenderInfo::LEN }>())
            .ok_or(PacketError::BadLength)?;
        let (blocks, extension) = split_blocks(body.get(24..).unwrap_or_default(), raw.count())?;
        Ok(Self {
            ssrc,
            info: SenderInfo::from_bytes(info),
            blocks,
            extension,
        })
    }

    /// The sender's SSRC.
    pub const fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    /// The sender information.
    pub const fn sender_info(&self) -> SenderInfo {
        self.info
    }

    /// The reception report blocks.
    pub fn report_blocks(&self) -> ReportBlocks<'a> {
        ReportBlocks(self.blocks.chunks_exact(ReportBlock::LEN))
    }

    /// Profile-specific extension bytes after the report blocks.
    pub const fn profile_extension(&self) -> &'a [u8] {
        self.extension
    }
}

/// A parsed receiver report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverReport<'a> {
    ssrc: Ssrc,
    blocks: &'a [u8],
    extension: &'a [u8],
}

impl<'a> ReceiverReport<'a> {
    /// Interprets a PT 201 packet.
    pub fn parse(raw: RawRtcp<'a>) -> Result<Self, PacketError> {
        if raw.packet_type() != PT_RR {
            return Err(PacketError::BadPacketType(raw.packet_type()));
        }
        let body = raw.body();
        let ssrc = read_ssrc(body, 0).ok_or(PacketError::BadLength)?;
        let (blocks, extension) = split_blocks(body.get(4..).unwrap_or_default(), raw.count())?;
        Ok(Self {
            ssrc,
            blocks,
            extension,
        })
    }

    /// The reporter's SSRC.
    pub const fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    /// The reception report blocks.
    pub fn report_blocks(&self) -> ReportBlocks<'a> {
        ReportBlocks(self.blocks.chunks_exact(ReportBlock::LEN))
    }

    /// Profile-specific extension bytes after the report blocks.
    pub const fn profile_extension(&self) -> &'a [u8] {
        self.extension
    }
}

fn report_len(fixed: usize, reports: &[ReportBlock], ext: &[u8]) -> Result<usize, PacketError> {
    if reports.len() > MAX_COUNT {
        return Err(PacketError::ValueOutOfRange("report count"));
    }
    if !ext.len().is_multiple_of(4) {
        return Err(PacketError::ValueOutOfRange("profile extension length"));
    }
    Ok(fixed + reports.len() * ReportBlock::LEN + ext.len())
}

/// A sender report to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderReportWriter<'a> {
    /// The sender's SSRC.
    pub ssrc: Ssrc,
    /// The sender information.
    pub info: SenderInfo,
    /// Up to 31 report blocks.
    pub reports: &'a [ReportBlock],
    /// Profile-specific extension, a multiple of 4 bytes (usually empty).
    pub profile_extension: &'a [u8],
}

impl<'a> SenderReportWriter<'a> {
    /// A report with no profile extension.
    pub const fn new(ssrc: Ssrc, info: SenderInfo, reports: &'a [ReportBlock]) -> Self {
        Self {
            ssrc,
            info,
            reports,
            profile_extension: &[],
        }
    }
}

impl RtcpWrite for SenderReportWriter<'_> {
    fn encoded_len(&self) -> Result<usize, PacketError> {
        report_len(28, self.reports, self.profile_extension)
    }

    fn write(&self, out: &mut [u8]) -> Result<usize, PacketError> {
        let len = self.encoded_len()?;
        let mut put = Put::new(write_header(out, self.reports.len(), PT_SR, len)?);
        put.u32(self.ssrc.0);
        self.info.put(&mut put);
        for block in self.reports {
            block.put(&mut put);
        }
        put.bytes(self.profile_extension);
        Ok(len)
    }
}

/// A receiver report to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverReportWriter<'a> {
    /// The reporter's SSRC.
    pub ssrc: Ssrc,
    /// Up to 31 report blocks (none is valid: an empty RR heads a compound of a silent member).
    pub reports: &'a [ReportBlock],
    /// Profile-specific extension, a multiple of 4 bytes (usually empty).
    pub profile_extension: &'a [u8],
}

impl<'a> ReceiverReportWriter<'a> {
    /// A report with no profile extension.
    pub const fn new(ssrc: Ssrc, reports: &'a [ReportBlock]) -> Self {
        Self {
            ssrc,
            reports,
            profile_extension: &[],
        }
    }
}

impl RtcpWrite for ReceiverReportWriter<'_> {
    fn encoded_len(&self) -> Result<usize, PacketError> {
        report_len(8, self.reports, self.profile_extension)
    }

    fn write(&self, out: &mut [u8]) -> Result<usize, PacketError> {
        let len = self.encoded_len()?;
        let mut put = Put::new(write_header(out, self.reports.len(), PT_RR, len)?);
        put.u32(self.ssrc.0);
        for block in self.reports {
            block.put(&mut put);
        }
        put.bytes(self.profile_extension);
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_parts() {
        let t = NtpTime::from_parts(0xE5B1_2345, 0x8000_0000);
        assert_eq!((t.seconds(), t.fraction()), (0xE5B1_2345, 0x8000_0000));
        assert_eq!(t.middle_32(), 0x2345_8000);
        let d = NtpTime::from_duration(Duration::new(3_900_000_000, 250_000_000));
        assert_eq!((d.seconds(), d.fraction()), (3_900_000_000, 0x4000_0000));
    }

    #[test]
    fn cumulative_loss_is_24_bit_signed() {
        for (lost, wire) in [
            (0, 0x00_0000),
            (5, 0x00_0005),
            (-1, 0xFF_FFFF),
            (0x7F_FFFF, 0x7F_FFFF),
            (0x100_0000, 0x7F_FFFF),
            (-0x80_0000, 0x80_0000),
            (i32::MIN, 0x80_0000),
        ] {
            let block = ReportBlock {
                cumulative_lost: lost,
                fraction_lost: 0x40,
                ..ReportBlock::default()
            };
            let mut out = [0u8; 24];
            let mut put = Put::new(&mut out);
            block.put(&mut put);
            assert_eq!(
                u32::from_be_bytes([out[4], out[5], out[6], out[7]]),
                0x4000_0000 | wire
            );
            let back = ReportBlock::from_bytes(&out);
            assert_eq!(
                back.cumulative_lost,
                lost.clamp(ReportBlock::MIN_LOST, ReportBlock::MAX_LOST)
            );
        }
    }
}
