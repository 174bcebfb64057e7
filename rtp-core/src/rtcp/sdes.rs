//! Source description, goodbye and application-defined packets (RFC 3550 §6.5-§6.7).

use super::{
    read_ssrc, write_header, Put, RawRtcp, RtcpWrite, SsrcList, MAX_COUNT, PT_APP, PT_BYE, PT_SDES,
};
use crate::error::PacketError;
use crate::Ssrc;

/// One SDES item: its type and value (UTF-8 by the RFC, handed out as bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SdesItem<'a> {
    /// The item type (1 = CNAME ... 8 = PRIV; see the associated constants).
    pub kind: u8,
    /// The value, at most 255 bytes.
    pub value: &'a [u8],
}

impl<'a> SdesItem<'a> {
    /// Canonical end-point identifier.
    pub const CNAME: u8 = 1;
    /// User name.
    pub const NAME: u8 = 2;
    /// E-mail address.
    pub const EMAIL: u8 = 3;
    /// Phone number.
    pub const PHONE: u8 = 4;
    /// Geographic location.
    pub const LOC: u8 = 5;
    /// Application or tool name.
    pub const TOOL: u8 = 6;
    /// Notice/status.
    pub const NOTE: u8 = 7;
    /// Private extension (prefix length and prefix inside the value).
    pub const PRIV: u8 = 8;

    /// A CNAME item.
    pub const fn cname(value: &'a [u8]) -> Self {
        Self {
            kind: Self::CNAME,
            value,
        }
    }
}

/// Splits one chunk off `buf`: its SSRC, its item list (up to the END octet) and the rest
/// after the chunk's padding to a 32-bit boundary.
fn split_chunk(buf: &[u8]) -> Result<(Ssrc, &[u8], &[u8]), PacketError> {
    let ssrc = read_ssrc(buf, 0).ok_or(PacketError::BadLength)?;
    let mut pos = 4;
    loop {
        match buf.get(pos) {
            None => return Err(PacketError::BadLength),
            Some(0) => break,
            Some(_) => {
                let len = buf.get(pos + 1).ok_or(PacketError::BadLength)?;
                pos += 2 + usize::from(*len);
            }
        }
    }
    let items = buf.get(4..pos).ok_or(PacketError::BadLength)?;
    // Skip the END octet and the null padding up to the next 32-bit boundary. A last chunk
    // cut short of its padding is accepted.
    let next = (pos + 1).next_multiple_of(4);
    let rest = buf.get(next..).unwrap_or_default();
    Ok((ssrc, items, rest))
}

/// A parsed SDES packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sdes<'a> {
    count: u8,
    body: &'a [u8],
}

impl<'a> Sdes<'a> {
    /// Interprets a PT 202 packet, checking that its source count of chunks fits.
    pub fn parse(raw: RawRtcp<'a>) -> Result<Self, PacketError> {
        if raw.packet_type() != PT_SDES {
            return Err(PacketError::BadPacketType(raw.packet_type()));
        }
        let mut rest = raw.body();
        for _ in 0..raw.count() {
            rest = split_chunk(rest)?.2;
        }
        Ok(Self {
            count: raw.count(),
            body: raw.body(),
        })
    }

    /// The chunks, one per source.
    pub fn chunks(&self) -> SdesChunks<'a> {
        SdesChunks {
            left: self.count,
            rest: self.body,
        }
    }
}

/// Iterator over the chunks of an [`Sdes`].
#[derive(Debug, Clone)]
pub struct SdesChunks<'a> {
    left: u8,
    rest: &'a [u8],
}

impl<'a> Iterator for SdesChunks<'a> {
    type Item = SdesChunk<'a>;

    fn next(&mut self) -> Option<SdesChunk<'a>> {
        self.left = self.left.checked_sub(1)?;
        let (ssrc, items, rest) = split_chunk(self.rest).ok()?;
        self.rest = rest;
        Some(SdesChunk { ssrc, items })
    }
}

/// One parsed SDES chunk: a source and its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesChunk<'a> {
    ssrc: Ssrc,
    items: &'a [u8],
}

impl<'a> SdesChunk<'a> {
    /// The source (SSRC or CSRC) described.
    pub const fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    /// The items, in order.
    pub fn items(&self) -> SdesItems<'a> {
        SdesItems { rest: self.items }
    }

    /// The value of the first CNAME item.
    pub fn cname(&self) -> Option<&'a [u8]> {
        self.items()
            .find(|i| i.kind == SdesItem::CNAME)
            .map(|i| i.value)
    }
}

/// Iterator over the items of an [`SdesChunk`].
#[derive(Debug, Clone)]
pub struct SdesItems<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for SdesItems<'a> {
    type Item = SdesItem<'a>;

    fn next(&mut self) -> Option<SdesItem<'a>> {
        let (&kind, after) = self.rest.split_first()?;
        let (&len, after) = after.split_first()?;
        let (value, after) = after.split_at_checked(usize::from(len))?;
        self.rest = after;
        Some(SdesItem { kind, value })
    }
}

/// One chunk of an SDES packet to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesWriteChunk<'a> {
    /// The source described.
    pub ssrc: Ssrc,
    /// Its items (kind 1..=255, value at most 255 bytes).
    pub items: &'a [SdesItem<'a>],
}

impl SdesWriteChunk<'_> {
    fn len(&self) -> Result<usize, PacketError> {
        let mut len = 4;
        for item in self.items {
            if item.kind == 0 {
                return Err(PacketError::ValueOutOfRange("SDES item type"));
            }
            if item.value.len() > 255 {
                return Err(PacketError::ValueOutOfRange("SDES item length"));
            }
            len += 2 + item.value.len();
        }
        // The END octet, then null padding to a 32-bit boundary.
        Ok((len + 1).next_multiple_of(4))
    }
}

/// An SDES packet to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesWriter<'a> {
    /// Up to 31 chunks.
    pub chunks: &'a [SdesWriteChunk<'a>],
}

impl RtcpWrite for SdesWriter<'_> {
    fn encoded_len(&self) -> Result<usize, PacketError> {
        if self.chunks.len() > MAX_COUNT {
            return Err(PacketError::ValueOutOfRange("SDES chunk count"));
        }
        let mut len = 4;
        for chunk in self.chunks {
            len += chunk.len()?;
        }
        Ok(len)
    }

    fn write(&self, out: &mut [u8]) -> Result<usize, PacketError> {
        let len = self.encoded_len()?;
        let mut body = write_header(out, self.chunks.len(), PT_SDES, len)?;
        for chunk in self.chunks {
            // chunk.len() succeeded inside encoded_len.
            let (this, rest) = body.split_at_mut(chunk.len()?);
            let mut put = Put::new(this);
            put.u32(chunk.ssrc.0);
            for item in chunk.items {
                put.u8(item.kind);
                put.u8(item.value.len() as u8);
                put.bytes(item.value);
            }
            put.zeros();
            body = rest;
        }
        Ok(len)
    }
}

/// A parsed BYE packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bye<'a> {
    ssrcs: &'a [u8],
    reason: Option<&'a [u8]>,
}

impl<'a> Bye<'a> {
    /// Interprets a PT 203 packet.
    pub fn parse(raw: RawRtcp<'a>) -> Result<Self, PacketError> {
        if raw.packet_type() != PT_BYE {
            return Err(PacketError::BadPacketType(raw.packet_type()));
        }
        let (ssrcs, rest) = raw
            .body()
            .split_at_checked(4 * usize::from(raw.count()))
            .ok_or(PacketError::BadLength)?;
        let reason = match rest.split_first() {
            None => None,
            Some((&len, text)) => Some(text.get(..usize::from(len)).ok_or(PacketError::BadLength)?),
        };
        Ok(Self { ssrcs, reason })
    }

    /// The sources leaving.
    pub fn ssrcs(&self) -> SsrcList<'a> {
        SsrcList::new(self.ssrcs)
    }

    /// The reason for leaving, when given.
    pub const fn reason(&self) -> Option<&'a [u8]> {
        self.reason
    }
}

/// A BYE packet to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByeWriter<'a> {
    /// Up to 31 sources leaving.
    pub ssrcs: &'a [Ssrc],
    /// Optional reason, at most 255 bytes.
    pub reason: Option<&'a [u8]>,
}

impl RtcpWrite for ByeWriter<'_> {
    fn encoded_len(&self) -> Result<usize, PacketError> {
        if self.ssrcs.len() > MAX_COUNT {
            return Err(PacketError::ValueOutOfRange("BYE source count"));
        }
        let reason = match self.reason {
            Some(r) if r.len() > 255 => {
                return Err(PacketError::ValueOutOfRange("BYE reason length"))
            }
            Some(r) => (1 + r.len()).next_multiple_of(4),
            None => 0,
        };
        Ok(4 + 4 * self.ssrcs.len() + reason)
    }

    fn write(&self, out: &mut [u8]) -> Result<usize, PacketError> {
        let len = self.encoded_len()?;
        let mut put = Put::new(write_header(out, self.ssrcs.len(), PT_BYE, len)?);
        for ssrc in self.ssrcs {
            put.u32(ssrc.0);
        }
        if let Some(reason) = self.reason {
            put.u8(reason.len() as u8);
            put.bytes(reason);
        }
        put.zeros();
        Ok(len)
    }
}

/// A parsed APP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct App<'a> {
    subtype: u8,
    ssrc: Ssrc,
    name: [u8; 4],
    data: &'a [u8],
}

impl<'a> App<'a> {
    /// Interprets a PT 204 packet.
    pub fn parse(raw: RawRtcp<'a>) -> Result<Self, PacketError> {
        if raw.packet_type() != PT_APP {
            return Err(PacketError::BadPacketType(raw.packet_type()));
        }
        let body = raw.body();
        let ssrc = read_ssrc(body, 0).ok_or(PacketError::BadLength)?;
        let (name, data) = body
            .get(4..)
            .and_then(|b| b.split_first_chunk::<4>())
            .ok_or(PacketError::BadLength)?;
        Ok(Self {
            subtype: raw.count(),
            ssrc,
            name: *name,
            data,
        })
    }

    /// The 5-bit subtype.
    pub const fn subtype(&self) -> u8 {
        self.subtype
    }

    /// The sender's SSRC.
    pub const fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    /// The four-character name.
    pub const fn name(&self) -> [u8; 4] {
        self.name
    }

    /// Application-dependent data.
    pub const fn data(&self) -> &'a [u8] {
        self.data
    }
}

/// An APP packet to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppWriter<'a> {
    /// Subtype, 0..=31.
    pub subtype: u8,
    /// The sender's SSRC.
    pub ssrc: Ssrc,
    /// The four-character name.
    pub name: [u8; 4],
    /// Data, a multiple of 4 bytes.
    pub data: &'a [u8],
}

impl RtcpWrite for AppWriter<'_> {
    fn encoded_len(&self) -> Result<usize, PacketError> {
        if usize::from(self.subtype) > MAX_COUNT {
            return Err(PacketError::ValueOutOfRange("APP subtype"));
        }
        if !self.data.len().is_multiple_of(4) {
            return Err(PacketError::ValueOutOfRange("APP data length"));
        }
        Ok(12 + self.data.len())
    }

    fn write(&self, out: &mut [u8]) -> Result<usize, PacketError> {
        let len = self.encoded_len()?;
        let mut put = Put::new(write_header(out, self.subtype.into(), PT_APP, len)?);
        put.u32(self.ssrc.0);
        put.bytes(&self.name);
        put.bytes(self.data);
        Ok(len)
    }
}
