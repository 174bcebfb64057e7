//! RTP header extensions: the RFC 3550 §5.3.1 block and the RFC 8285 element forms inside it.
//!
//! A parsed [`HeaderExtension`] lends its elements through [`ExtensionElements`]; an
//! [`ExtensionWriter`] serialises elements (or a raw profile-specific block) into a caller buffer.

use crate::error::{out_prefix, PacketError};

/// The "defined by profile" value of the RFC 8285 one-byte form.
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;
/// The "defined by profile" value of the RFC 8285 two-byte form (low 4 bits: `appbits`).
pub const TWO_BYTE_PROFILE: u16 = 0x1000;

/// The element layout of an RFC 8285 header extension block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtensionForm {
    /// Profile 0xBEDE: ids 1..=14, element data 1..=16 bytes.
    OneByte,
    /// Profile 0x100X: ids 1..=255, element data 0..=255 bytes; `appbits` is the low nibble X.
    TwoByte {
        /// Application-dependent bits carried in the low 4 bits of the profile field.
        appbits: u8,
    },
}

impl ExtensionForm {
    /// The form a profile value announces, or `None` for a profile that is not RFC 8285.
    pub const fn from_profile(profile: u16) -> Option<Self> {
        if profile == ONE_BYTE_PROFILE {
            Some(Self::OneByte)
        } else if profile & 0xFFF0 == TWO_BYTE_PROFILE {
            Some(Self::TwoByte {
                appbits: (profile & 0x000F) as u8,
            })
        } else {
            None
        }
    }

    /// The profile value announcing this form.
    pub const fn profile(self) -> u16 {
        match self {
            Self::OneByte => ONE_BYTE_PROFILE,
            Self::TwoByte { appbits } => TWO_BYTE_PROFILE | (appbits & 0x0F) as u16,
        }
    }

    /// Whether an element with this id and data length can be written in this form.
    pub const fn fits(self, id: u8, len: usize) -> bool {
        match self {
            Self::OneByte => id >= 1 && id <= 14 && len >= 1 && len <= 16,
            Self::TwoByte { .. } => id >= 1 && len <= 255,
        }
    }

    /// The compact form for these elements: one-byte when every element fits it, else
    /// two-byte; `None` when some element fits neither (id 0, or data over 255 bytes).
    pub fn for_elements(elements: &[ExtensionElement<'_>]) -> Option<Self> {
        let fits_all = |form: Self| elements.iter().all(|e| form.fits(e.id, e.data.len()));
        if fits_all(Self::OneByte) {
            Some(Self::OneByte)
        } else if fits_all(Self::TwoByte { appbits: 0 }) {
            Some(Self::TwoByte { appbits: 0 })
        } else {
            None
        }
    }

    /// Bytes one element takes in this form (its id/length prefix plus data).
    const fn element_len(self, data_len: usize) -> usize {
        match self {
            Self::OneByte => 1 + data_len,
            Self::TwoByte { .. } => 2 + data_len,
        }
    }
}

/// One header extension element: a local identifier and its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtensionElement<'a> {
    /// The local identifier negotiated for this extension (SDP `a=extmap`).
    pub id: u8,
    /// The element data.
    pub data: &'a [u8],
}

/// The header extension block of a parsed RTP packet (borrowed from the packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderExtension<'a> {
    profile: u16,
    data: &'a [u8],
}

impl<'a> HeaderExtension<'a> {
    pub(crate) const fn new(profile: u16, data: &'a [u8]) -> Self {
        Self { profile, data }
    }

    /// The 16-bit "defined by profile" field.
    pub const fn profile(&self) -> u16 {
        self.profile
    }

    /// The extension data after the 4-byte block header (a multiple of 4 bytes).
    pub const fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The RFC 8285 form, or `None` when the profile is something else.
    pub const fn form(&self) -> Option<ExtensionForm> {
        ExtensionForm::from_profile(self.profile)
    }

    /// The elements, in order. Empty for a non-RFC 8285 profile.
    ///
    /// Padding bytes are skipped. Iteration stops at a one-byte element with id 15 (as RFC
    /// 8285 §4.2 requires) and at an element whose length runs past the block (as libwebrtc
    /// does), keeping the elements before it.
    pub fn elements(&self) -> ExtensionElements<'a> {
        ExtensionElements {
            form: self.form(),
            rest: self.data,
        }
    }

    /// The data of the first element with this id.
    pub fn get(&self, id: u8) -> Option<&'a [u8]> {
        self.elements().find(|e| e.id == id).map(|e| e.data)
    }
}

/// Iterator over the elements of a [`HeaderExtension`].
#[derive(Debug, Clone)]
pub struct ExtensionElements<'a> {
    form: Option<ExtensionForm>,
    rest: &'a [u8],
}

impl<'a> Iterator for ExtensionElements<'a> {
    type Item = ExtensionElement<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let form = self.form?;
        loop {
            let (&first, after) = self.rest.split_first()?;
            if first == 0 {
                // Padding byte (either form).
                self.rest = after;
                continue;
            }
            let (id, len, after) = match form {
                ExtensionForm::OneByte => {
                    let id = first >> 4;
                    if id == 15 {
                        self.rest = &[];
                        return None;
                    }
                    (id, usize::from(first & 0x0F) + 1, after)
                }
                ExtensionForm::TwoByte { .. } => match after.split_first() {
                    Some((&len, after)) => (first, usize::from(len), after),
                    None => {
                        self.rest = &[];
                        return None;
                    }
                },
            };
            if after.len() < len {
                self.rest = &[];
                return None;
            }
            let (data, after) = after.split_at(len);
            self.rest = after;
            return Some(ExtensionElement { id, data });
        }
    }
}

/// A header extension block to write after the CSRC list of an RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionWriter<'a> {
    /// RFC 8285 elements in the given form, zero-padded to a 32-bit boundary.
    Elements {
        /// One-byte or two-byte layout.
        form: ExtensionForm,
        /// The elements, written in this order.
        elements: &'a [ExtensionElement<'a>],
    },
    /// A profile-specific block written as is; `data` must be a multiple of 4 bytes.
    Raw {
        /// The "defined by profile" field.
        profile: u16,
        /// The block data after the 4-byte header.
        data: &'a [u8],
    },
}

impl<'a> ExtensionWriter<'a> {
    /// Elements in the most compact form that holds them all (see [`ExtensionForm::for_elements`]).
    pub fn elements(elements: &'a [ExtensionElement<'a>]) -> Result<Self, PacketError> {
        let form = ExtensionForm::for_elements(elements).ok_or(PacketError::BadExtension)?;
        Ok(Self::Elements { form, elements })
    }

    /// Bytes the block takes in the packet, its 4-byte header included.
    ///
    /// Fails with [`PacketError::BadExtension`] when an element does not fit its form, a raw
    /// block is not a multiple of 4 bytes, or the block exceeds 65535 words.
    pub fn encoded_len(&self) -> Result<usize, PacketError> {
        let body = match *self {
            Self::Elements { form, elements } => {
                let mut sum = 0usize;
                for e in elements {
                    if !form.fits(e.id, e.data.len()) {
                        return Err(PacketError::BadExtension);
                    }
                    sum += form.element_len(e.data.len());
                }
                sum.next_multiple_of(4)
            }
            Self::Raw { data, .. } => {
                if data.len() % 4 != 0 {
                    return Err(PacketError::BadExtension);
                }
                data.len()
            }
        };
        if body / 4 > usize::from(u16::MAX) {
            return Err(PacketError::BadExtension);
        }
        Ok(4 + body)
    }

    /// Writes the block (header, elements, zero padding) at the start of `out`; returns the
    /// bytes written, which equal [`encoded_len`](Self::encoded_len).
    pub fn write(&self, out: &mut [u8]) -> Result<usize, PacketError> {
        let len = self.encoded_len()?;
        let out = out_prefix(out, len)?;
        let (profile, words) = match *self {
            Self::Elements { form, .. } => (form.profile(), (len - 4) / 4),
            Self::Raw { profile, .. } => (profile, (len - 4) / 4),
        };
        let (head, body) = out.split_at_mut(4);
        head[..2].copy_from_slice(&profile.to_be_bytes());
        // encoded_len checked the word count fits 16 bits.
        head[2..].copy_from_slice(&(words as u16).to_be_bytes());
        match *self {
            Self::Raw { data, .. } => body.copy_from_slice(data),
            Self::Elements { form, elements } => {
                let mut pos = 0;
                for e in elements {
                    let n = e.data.len();
                    match form {
                        // fits() held: id <= 14, 1 <= n <= 16.
                        ExtensionForm::OneByte => {
                            body[pos] = (e.id << 4) | (n - 1) as u8;
                            pos += 1;
                        }
                        // fits() held: n <= 255.
                        ExtensionForm::TwoByte { .. } => {
                            body[pos] = e.id;
                            body[pos + 1] = n as u8;
                            pos += 2;
                        }
                    }
                    body[pos..pos + n].copy_from_slice(e.data);
                    pos += n;
                }
                body[pos..].fill(0);
            }
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements_of(profile: u16, data: &[u8]) -> Vec<(u8, Vec<u8>)> {
        HeaderExtension::new(profile, data)
            .elements()
            .map(|e| (e.id, e.data.to_vec()))
            .collect()
    }

    #[test]
    fn rfc8285_one_byte_example() {
        // RFC 8285 §4.2 figure: id 1 len 1, id 2 len 2, padding, id 3 len 4.
        let data = [
            0x10, 0xAA, 0x21, 0xBB, 0xBB, 0x00, 0x00, 0x33, 0xCC, 0xCC, 0xCC, 0xCC,
        ];
        assert_eq!(
            elements_of(ONE_BYTE_PROFILE, &data),
            vec![
                (1, vec![0xAA]),
                (2, vec![0xBB, 0xBB]),
                (3, vec![0xCC, 0xCC, 0xCC, 0xCC])
            ]
        );
    }

    #[test]
    fn rfc8285_two_byte_example() {
        // RFC 8285 §4.3 figure: id 1 len 0, id 2 len 1, id 3 len 4, padding.
        let data = [
            0x01, 0x00, 0x02, 0x01, 0xBB, 0x00, 0x03, 0x04, 0xCC, 0xCC, 0xCC, 0xCC,
        ];
        assert_eq!(
            elements_of(0x1000, &data),
            vec![(1, vec![]), (2, vec![0xBB]), (3, vec![0xCC; 4])]
        );
    }

    #[test]
    fn id_15_stops_one_byte_parsing() {
        let data = [0x10, 0xAA, 0xF3, 0x20, 0xBB, 0x00, 0x00, 0x00];
        assert_eq!(elements_of(ONE_BYTE_PROFILE, &data), vec![(1, vec![0xAA])]);
    }

    #[test]
    fn overrunning_element_stops_iteration() {
        let data = [0x10, 0xAA, 0x2F, 0xBB];
        assert_eq!(elements_of(ONE_BYTE_PROFILE, &data), vec![(1, vec![0xAA])]);
        let data = [0x05, 0x09, 0xBB, 0xBB];
        assert!(elements_of(0x1003, &data).is_empty());
        let data = [0x05];
        assert!(elements_of(0x1003, &data).is_empty());
    }

    #[test]
    fn other_profiles_have_no_elements() {
        let ext = HeaderExtension::new(0x1234, &[1, 2, 3, 4]);
        assert_eq!(ext.form(), None);
        assert_eq!(ext.elements().count(), 0);
        assert_eq!(ext.data(), &[1, 2, 3, 4]);
    }

    #[test]
    fn writes_one_byte_form_with_padding() -> Result<(), PacketError> {
        let els = [
            ExtensionElement {
                id: 1,
                data: &[0xAA],
            },
            ExtensionElement {
                id: 2,
                data: &[0xBB, 0xBB],
            },
        ];
        let w = ExtensionWriter::elements(&els)?;
        let mut out = [0xFFu8; 16];
        let n = w.write(&mut out)?;
        assert_eq!(n, 12);
        assert_eq!(
            &out[..n],
            &[0xBE, 0xDE, 0x00, 0x02, 0x10, 0xAA, 0x21, 0xBB, 0xBB, 0x00, 0x00, 0x00]
        );
        let parsed = HeaderExtension::new(0xBEDE, &out[4..n]);
        assert_eq!(parsed.get(2), Some(&[0xBB, 0xBB][..]));
        assert_eq!(parsed.get(3), None);
        Ok(())
    }

    #[test]
    fn picks_two_byte_form_when_needed() -> Result<(), PacketError> {
        let big = [7u8; 17];
        let els = [
            ExtensionElement { id: 1, data: &[] },
            ExtensionElement { id: 20, data: &big },
        ];
        let w = ExtensionWriter::elements(&els)?;
        assert_eq!(
            w,
            ExtensionWriter::Elements {
                form: ExtensionForm::TwoByte { appbits: 0 },
                elements: &els
            }
        );
        let mut out = [0u8; 64];
        let n = w.write(&mut out)?;
        assert_eq!(n, 4 + 24);
        assert_eq!(&out[..6], &[0x10, 0x00, 0x00, 0x06, 0x01, 0x00]);
        let parsed = HeaderExtension::new(0x1000, &out[4..n]);
        assert_eq!(parsed.get(20), Some(&big[..]));
        assert_eq!(parsed.get(1), Some(&[][..]));
        Ok(())
    }

    #[test]
    fn rejects_unencodable_elements() {
        let big = [0u8; 256];
        assert_eq!(
            ExtensionWriter::elements(&[ExtensionElement { id: 0, data: &[1] }]),
            Err(PacketError::BadExtension)
        );
        assert_eq!(
            ExtensionWriter::elements(&[ExtensionElement { id: 1, data: &big }]),
            Err(PacketError::BadExtension)
        );
        let forced = ExtensionWriter::Elements {
            form: ExtensionForm::OneByte,
            elements: &[ExtensionElement { id: 15, data: &[1] }],
        };
        assert_eq!(forced.encoded_len(), Err(PacketError::BadExtension));
        let raw = ExtensionWriter::Raw {
            profile: 1,
            data: &[1, 2, 3],
        };
        assert_eq!(raw.encoded_len(), Err(PacketError::BadExtension));
        let small = ExtensionWriter::Raw {
            profile: 1,
            data: &[1, 2, 3, 4],
        };
        assert_eq!(
            small.write(&mut [0u8; 7]),
            Err(PacketError::BufferTooSmall { needed: 8 })
        );
    }

    #[test]
    fn profile_round_trip() {
        for form in [
            ExtensionForm::OneByte,
            ExtensionForm::TwoByte { appbits: 0 },
            ExtensionForm::TwoByte { appbits: 0xF },
        ] {
            assert_eq!(ExtensionForm::from_profile(form.profile()), Some(form));
        }
        assert_eq!(ExtensionForm::from_profile(0xBEDF), None);
        assert_eq!(ExtensionForm::from_profile(0x1010), None);
    }
}
