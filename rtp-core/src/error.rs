//! The one error type of the packet layer.

use std::fmt;

/// What was wrong with a packet being parsed, or with a packet or buffer being written.
///
/// Every parser in this crate returns this instead of panicking; a receiver counts the error
/// and drops the datagram. The enum is `#[non_exhaustive]`: match with a wildcard arm.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketError {
    /// The input ends before a header or field it must contain.
    TooShort,
    /// The version field is not 2 (the value found is carried).
    BadVersion(u8),
    /// The padding bit is set but the padding count is zero or longer than the packet allows.
    BadPadding,
    /// An RTP header extension is malformed: its length runs past the packet, or (when
    /// writing) an element's id or length does not fit the chosen form.
    BadExtension,
    /// A length or count field disagrees with the data around it (RTCP length word, report
    /// count, SDES chunk layout, feedback FCI size).
    BadLength,
    /// The packet type is not one this parser handles (the value found is carried).
    BadPacketType(u8),
    /// A value cannot be encoded in its field; the text names the field (payload type above
    /// 127, more than 15 CSRCs, more than 31 report blocks, SDES text over 255 bytes, ...).
    ValueOutOfRange(&'static str),
    /// A field holds a value its format reserves (the text names it, e.g. TWCC status
    /// symbol 3).
    ReservedValue(&'static str),
    /// The output buffer is too small; `needed` bytes are required.
    BufferTooSmall {
        /// Bytes the complete output needs.
        needed: usize,
    },
}

impl fmt::Display for PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort => f.write_str("packet too short"),
            Self::BadVersion(v) => write!(f, "bad version {v} (expected 2)"),
            Self::BadPadding => f.write_str("bad padding length"),
            Self::BadExtension => f.write_str("malformed RTP header extension"),
            Self::BadLength => f.write_str("length or count field disagrees with the data"),
            Self::BadPacketType(pt) => write!(f, "unexpected packet type {pt}"),
            Self::ValueOutOfRange(field) => write!(f, "value out of range for {field}"),
            Self::ReservedValue(field) => write!(f, "reserved value in {field}"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small ({needed} bytes needed)")
            }
        }
    }
}

impl std::error::Error for PacketError {}

/// Checks that `out` holds at least `needed` bytes and returns the prefix to write into.
pub(crate) fn out_prefix(out: &mut [u8], needed: usize) -> Result<&mut [u8], PacketError> {
    out.get_mut(..needed)
        .ok_or(PacketError::BufferTooSmall { needed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_problem() {
        assert_eq!(
            PacketError::BadVersion(1).to_string(),
            "bad version 1 (expected 2)"
        );
        assert_eq!(
            PacketError::BufferTooSmall { needed: 172 }.to_string(),
            "output buffer too small (172 bytes needed)"
        );
        assert_eq!(
            PacketError::ValueOutOfRange("payload type").to_string(),
            "value out of range for payload type"
        );
        let boxed: Box<dyn std::error::Error> = Box::new(PacketError::TooShort);
        assert_eq!(boxed.to_string(), "packet too short");
    }
}
