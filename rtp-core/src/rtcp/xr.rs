//! RTCP extended reports (RFC 3611): the packet framing and the VoIP metrics block (§4.7).

use super::{read_ssrc, write_header, Put, RawRtcp, RtcpWrite, PT_XR};
use crate::error::PacketError;
use crate::Ssrc;

/// The RFC 3611 §4.7 VoIP metrics report block (block type 7). Field values are as on the
/// wire; 127 in the level, R-factor and MOS fields and 0 in the delay fields mean "unavailable".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct VoipMetrics {
    /// The source reported on.
    pub ssrc: Ssrc,
    /// Fraction of packets lost, in 1/256 units.
    pub loss_rate: u8,
    /// Fraction of packets discarded (late or early), in 1/256 units.
    pub discard_rate: u8,
    /// Fraction of packets lost or discarded within bursts, in 1/256 units.
    pub burst_density: u8,
    /// Fraction of packets lost or discarded within gaps, in 1/256 units.
    pub gap_density: u8,
    /// Mean burst duration in milliseconds.
    pub burst_duration: u16,
    /// Mean gap duration in milliseconds.
    pub gap_duration: u16,
    /// Most recent round-trip delay in milliseconds.
    pub round_trip_delay: u16,
    /// Most recent end-system delay in milliseconds.
    pub end_system_delay: u16,
    /// Signal level in dBm0 (127: unavailable).
    pub signal_level: i8,
    /// Noise level in dBm0 (127: unavailable).
    pub noise_level: i8,
    /// Residual echo return loss in dB (127: unavailable).
    pub rerl: u8,
    /// The gap threshold (recommended 16).
    pub gmin: u8,
    /// R factor, 0..=100 (127: unavailable).
    pub r_factor: u8,
    /// External R factor (127: unavailable).
    pub ext_r_factor: u8,
    /// MOS listening quality times 10 (127: unavailable).
    pub mos_lq: u8,
    /// MOS conversational quality times 10 (127: unavailable).
    pub mos_cq: u8,
    /// Receiver configuration byte (PLC and jitter buffer type bits).
    pub rx_config: u8,
    /// Nominal jitter buffer delay in milliseconds.
    pub jb_nominal: u16,
    /// Maximum jitter buffer delay in milliseconds.
    pub jb_maximum: u16,
    /// Absolute maximum jitter buffer delay in milliseconds.
    pub jb_abs_max: u16,
}

impl VoipMetrics {
    /// The block type.
    pub const BLOCK_TYPE: u8 = 7;
    /// Block length on the wire, header included (the length field says 8 words after it).
    pub const LEN: usize = 36;

    fn from_body(b: &[u8; Self::LEN - 4]) -> Self {
        let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        Self {
            ssrc: Ssrc(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            loss_rate: b[4],
            discard_rate: b[5],
            burst_density: b[6],
            gap_density: b[7],
            burst_duration: u16_at(8),
            gap_duration: u16_at(10),
            round_trip_delay: u16_at(12),
            end_system_delay: u16_at(14),
            signal_level: i8::from_be_bytes([b[16]]),
            noise_level: i8::from_be_bytes([b[17]]),
            rerl: b[18],
            gmin: b[19],
            r_factor: b[20],
            ext_r_factor: b[21],
            mos_lq: b[22],
            mos_cq: b[23],
            rx_config: b[24],
            // b[25] is reserved.
            jb_nominal: u16_at(26),
            jb_maximum: u16_at(28),
            jb_abs_max: u16_at(30),
        }
    }

    fn put(&self, put: &mut Put<'_>) {
        put.bytes(&[Self::BLOCK_TYPE, 0]);
        put.u16((Self::LEN / 4 - 1) as u16);
        put.u32(self.ssrc.0);
        put.bytes(&[
            self.loss_rate,
            self.discard_rate,
            self.burst_density,
            self.gap_density,
        ]);
        put.u16(self.burst_duration);
        put.u16(self.gap_duration);
        put.u16(self.round_trip_delay);
        put.u16(self.end_system_delay);
        put.bytes(&[
            self.signal_level.to_be_bytes()[0],
            self.noise_level.to_be_bytes()[0],
            self.rerl,
            self.gmin,
            self.r_factor,
            self.ext_r_factor,
            self.mos_lq,
            self.mos_cq,
            self.rx_config,
            0,
        ]);
        put.u16(self.jb_nominal);
        put.u16(self.jb_maximum);
        put.u16(self.jb_abs_max);
    }
}

/// One report block of an extended report.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrBlock<'a> {
    /// VoIP metrics (block type 7).
    VoipMetrics(VoipMetrics),
    /// Any other block type, uninterpreted.
    Other {
        /// Block type.
        block_type: u8,
        /// The type-specific byte of the block header.
        type_specific: u8,
        /// The block contents after its 4-byte header.
        data: &'a [u8],
    },
}

/// Splits one block off `buf`.
fn split_block(buf: &[u8]) -> Result<(XrBlock<'_>, &[u8]), PacketError> {
    let (head, rest) = buf.split_first_chunk::<4>().ok_or(PacketError::BadLength)?;
    let len = 4 * usize::from(u16::from_be_bytes([head[2], head[3]]));
    let (data, rest) = rest.split_at_checked(len).ok_or(PacketError::BadLength)?;
    let block = if head[0] == VoipMetrics::BLOCK_TYPE {
        let body = data
            .first_chunk::<{ VoipMetrics::LEN - 4 }>()
            .filter(|_| data.len() == VoipMetrics::LEN - 4)
            .ok_or(PacketError::BadLength)?;
        XrBlock::VoipMetrics(VoipMetrics::from_body(body))
    } else {
        XrBlock::Other {
            block_type: head[0],
            type_specific: head[1],
            data,
        }
    };
    Ok((block, rest))
}

/// A parsed extended report (PT 207).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtendedReport<'a> {
    ssrc: Ssrc,
    blocks: &'a [u8],
}

impl<'a> ExtendedReport<'a> {
    /// Interprets a PT 207 packet, checking that its blocks fill it exactly.
    pub fn parse(raw: RawRtcp<'a>) -> Result<Self, PacketError> {
        if raw.packet_type() != PT_XR {
            return Err(PacketError::BadPacketType(raw.packet_type()));
        }
        let ssrc = read_ssrc(raw.body(), 0).ok_or(PacketError::BadLength)?;
        let blocks = raw.body().get(4..).unwrap_or_default();
        let mut rest = blocks;
        while !rest.is_empty() {
            rest = split_block(rest)?.1;
        }
        Ok(Self { ssrc, blocks })
    }

    /// The reporter's SSRC.
    pub const fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    /// The report blocks.
    pub fn blocks(&self) -> XrBlocks<'a> {
        XrBlocks { rest: self.blocks }
    }
}

/// Iterator over the blocks of an [`ExtendedReport`].
#[derive(Debug, Clone)]
pub struct XrBlocks<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for XrBlocks<'a> {
    type Item = XrBlock<'a>;

    fn next(&mut self) -> Option<XrBlock<'a>> {
        let (block, rest) = split_block(self.rest).ok()?;
        self.rest = rest;
        Some(block)
    }
}

/// An extended report carrying VoIP metrics blocks, to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XrWriter<'a> {
    /// The reporter's SSRC.
    pub ssrc: Ssrc,
    /// One block per source reported on.
    pub voip_metrics: &'a [VoipMetrics],
}

impl RtcpWrite for XrWriter<'_> {
    fn encoded_len(&self) -> Result<usize, PacketError> {
        Ok(8 + VoipMetrics::LEN * self.voip_metrics.len())
    }

    fn write(&self, out: &mut [u8]) -> Result<usize, PacketError> {
        let len = self.encoded_len()?;
        let mut put = Put::new(write_header(out, 0, PT_XR, len)?);
        put.u32(self.ssrc.0);
        for block in self.voip_metrics {
            block.put(&mut put);
        }
        Ok(len)
    }
}
