//! The iLBC storage format (RFC 3952 section 4.1, "Storage Mode"), as ffmpeg's `ilbc` muxer and
//! demuxer read and write it: the magic `#!iLBC20\n` or `#!iLBC30\n`, then the frames, 38 or 50
//! bytes each, back to back.

use crate::codec::audio::ilbc::IlbcMode;
use std::fmt;

/// The header of a file of 20 ms frames.
pub const MAGIC_20: &[u8] = b"#!iLBC20\n";
/// The header of a file of 30 ms frames.
pub const MAGIC_30: &[u8] = b"#!iLBC30\n";

/// Why bytes are not an iLBC file, or cannot be written as one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IlbcFileError {
    /// The bytes do not start with `#!iLBC20\n` or `#!iLBC30\n`.
    NotIlbc,
    /// A payload to write is not a whole number of frames of the file's mode.
    NotWholeFrames {
        /// The payload's length in bytes.
        len: usize,
        /// Bytes per frame of the file's mode.
        frame_bytes: usize,
    },
}

impl fmt::Display for IlbcFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotIlbc => write!(f, "not an iLBC file (no #!iLBC20 or #!iLBC30 header)"),
            Self::NotWholeFrames { len, frame_bytes } => write!(
                f,
                "a payload of {len} bytes is not whole iLBC frames of {frame_bytes} bytes"
            ),
        }
    }
}

impl std::error::Error for IlbcFileError {}

/// The header for `mode`.
pub fn magic(mode: IlbcMode) -> &'static [u8] {
    match mode {
        IlbcMode::Ms20 => MAGIC_20,
        IlbcMode::Ms30 => MAGIC_30,
    }
}

/// A parsed iLBC file, borrowing the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IlbcFile<'a> {
    /// The frame mode the header names.
    pub mode: IlbcMode,
    /// The whole frames after the header.
    pub data: &'a [u8],
    /// Bytes after the last whole frame (a truncated file), which [`Self::frames`] skips.
    pub trailing_bytes: usize,
}

impl<'a> IlbcFile<'a> {
    /// Parses the header; the rest is frames.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, IlbcFileError> {
        let (mode, rest) = if let Some(rest) = bytes.strip_prefix(MAGIC_20) {
            (IlbcMode::Ms20, rest)
        } else if let Some(rest) = bytes.strip_prefix(MAGIC_30) {
            (IlbcMode::Ms30, rest)
        } else {
            return Err(IlbcFileError::NotIlbc);
        };
        let whole = rest.len() - rest.len() % mode.frame_bytes();
        Ok(Self {
            mode,
            data: &rest[..whole],
            trailing_bytes: rest.len() - whole,
        })
    }

    /// The frames, one payload each.
    pub fn frames(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.data.chunks_exact(self.mode.frame_bytes())
    }

    /// How many frames the file holds.
    pub fn frame_count(&self) -> usize {
        self.data.len() / self.mode.frame_bytes()
    }
}

/// Writes a file of `mode` frames from packet payloads (each any whole number of frames).
pub fn write<'p>(
    mode: IlbcMode,
    payloads: impl IntoIterator<Item = &'p [u8]>,
) -> Result<Vec<u8>, IlbcFileError> {
    let mut out = magic(mode).to_vec();
    for p in payloads {
        if p.len() % mode.frame_bytes() != 0 {
            return Err(IlbcFileError::NotWholeFrames {
                len: p.len(),
                frame_bytes: mode.frame_bytes(),
            });
        }
        out.extend_from_slice(p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let frames = [[1u8; 38], [2u8; 38], [3u8; 38]];
        let two = [frames[1], frames[2]].concat();
        let file = write(IlbcMode::Ms20, [&frames[0][..], &two[..]]).unwrap();
        assert!(file.starts_with(b"#!iLBC20\n"));
        let f = IlbcFile::parse(&file).unwrap();
        assert_eq!(
            (f.mode, f.frame_count(), f.trailing_bytes),
            (IlbcMode::Ms20, 3, 0)
        );
        assert_eq!(f.frames().nth(2), Some(&frames[2][..]));
        let cut = IlbcFile::parse(&file[..file.len() - 5]).unwrap();
        assert_eq!((cut.frame_count(), cut.trailing_bytes), (2, 33));
        assert_eq!(
            write(IlbcMode::Ms30, [&frames[0][..]]),
            Err(IlbcFileError::NotWholeFrames {
                len: 38,
                frame_bytes: 50
            })
        );
        let empty = write(IlbcMode::Ms30, []).unwrap();
        assert_eq!(IlbcFile::parse(&empty).unwrap().frame_count(), 0);
        for bad in [&b""[..], b"#!iLBC25\n", b"#!AMR\n", b"#!iLBC30"] {
            assert_eq!(IlbcFile::parse(bad), Err(IlbcFileError::NotIlbc));
        }
    }
}
