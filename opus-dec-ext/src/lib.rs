//! A safe libopus decoder over `opusic-sys`, with what the `opus` crate does not expose: the
//! decoder complexity, which turns on libopus 1.5+'s neural packet loss concealment (deep PLC,
//! complexity >= 5) and its speech enhancement of SILK frames (OSCE: LACE at 6, NoLACE at 7).
//! The bundled libopus is built with the `osce` feature of `opusic-sys`, which brings both.
//!
//! The decoder is created once (libopus allocates its state then); decoding, concealment and the
//! controls do not allocate. All the `unsafe` of the media engine's Opus decoding lives here.
#![deny(missing_docs)]

use opusic_sys as sys;
use std::ffi::c_int;
use std::ptr::NonNull;

/// A libopus error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// An argument was invalid (rate, channels, complexity, frame size).
    BadArg,
    /// The output buffer is too small for the packet.
    BufferTooSmall,
    /// The packet is corrupt.
    InvalidPacket,
    /// libopus could not allocate its state.
    AllocFail,
    /// Any other libopus error code.
    Other(i32),
}

impl Error {
    fn from_code(code: c_int) -> Self {
        match code {
            sys::OPUS_BAD_ARG => Self::BadArg,
            sys::OPUS_BUFFER_TOO_SMALL => Self::BufferTooSmall,
            sys::OPUS_INVALID_PACKET => Self::InvalidPacket,
            sys::OPUS_ALLOC_FAIL => Self::AllocFail,
            c => Self::Other(c),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadArg => f.write_str("invalid argument"),
            Self::BufferTooSmall => f.write_str("buffer too small"),
            Self::InvalidPacket => f.write_str("corrupt Opus packet"),
            Self::AllocFail => f.write_str("allocation failed"),
            Self::Other(c) => write!(f, "libopus error {c}"),
        }
    }
}

impl std::error::Error for Error {}

fn check(code: c_int) -> Result<usize, Error> {
    usize::try_from(code).map_err(|_| Error::from_code(code))
}

/// A libopus decoder (`OpusDecoder*`), freed on drop.
#[derive(Debug)]
pub struct OpusDecoder {
    st: NonNull<sys::OpusDecoder>,
    channels: usize,
}

// SAFETY: the decoder state is owned by this value alone and libopus keeps no thread-local or
// global mutable state for it; moving it to another thread is sound (it is not `Sync`: every
// call takes `&mut self`).
unsafe impl Send for OpusDecoder {}

impl OpusDecoder {
    /// A decoder writing `rate` Hz (8000, 12000, 16000, 24000 or 48000) PCM with `channels`
    /// (1 or 2) interleaved channels, at libopus's default complexity (0: classic PLC).
    pub fn new(rate: u32, channels: u16) -> Result<Self, Error> {
        if !matches!(rate, 8000 | 12000 | 16000 | 24000 | 48000) || !matches!(channels, 1 | 2) {
            return Err(Error::BadArg);
        }
        let mut err: c_int = 0;
        // SAFETY: the arguments were checked above and `err` is a valid out-pointer.
        let st = unsafe { sys::opus_decoder_create(rate as i32, c_int::from(channels), &mut err) };
        check(err)?;
        let st = NonNull::new(st).ok_or(Error::AllocFail)?;
        Ok(Self {
            st,
            channels: usize::from(channels),
        })
    }

    /// One libopus decode call: `data` empty means a loss; `out` is whole frames.
    fn raw_decode(&mut self, data: &[u8], out: &mut [i16], fec: bool) -> Result<usize, Error> {
        let frames = c_int::try_from(out.len() / self.channels).map_err(|_| Error::BadArg)?;
        let len = i32::try_from(data.len()).map_err(|_| Error::BadArg)?;
        let ptr = if data.is_empty() {
            std::ptr::null()
        } else {
            data.as_ptr()
        };
        // SAFETY: `st` is a live decoder; `ptr` is null or points to `len` readable bytes; `out`
        // holds `frames * channels` writable samples, the most libopus writes.
        check(unsafe {
            sys::opus_decode(
                self.st.as_ptr(),
                ptr,
                len,
                out.as_mut_ptr(),
                frames,
                c_int::from(fec),
            )
        })
    }

    /// Decodes `packet` (non-empty) into `out` (interleaved); returns samples per channel. With
    /// `fec`, decodes instead the in-band FEC of `packet` for the packet lost before it, as long
    /// as `out` (which must be a multiple of 2.5 ms) — libopus conceals what FEC cannot cover.
    pub fn decode(&mut self, packet: &[u8], out: &mut [i16], fec: bool) -> Result<usize, Error> {
        if packet.is_empty() {
            return Err(Error::InvalidPacket);
        }
        self.raw_decode(packet, out, fec)
    }

    /// Conceals a loss as long as `out` (interleaved; a multiple of 2.5 ms per channel): deep
    /// PLC at complexity >= 5, classic PLC below. Returns samples per channel.
    pub fn conceal(&mut self, out: &mut [i16]) -> Result<usize, Error> {
        self.raw_decode(&[], out, false)
    }

    /// Sets the decoder complexity, 0..=10: >= 5 turns on deep PLC, 6 LACE and >= 7 NoLACE.
    pub fn set_complexity(&mut self, complexity: u8) -> Result<(), Error> {
        if complexity > 10 {
            return Err(Error::BadArg);
        }
        // SAFETY: a live decoder; OPUS_SET_COMPLEXITY takes one `opus_int32` argument.
        let r = unsafe {
            sys::opus_decoder_ctl(
                self.st.as_ptr(),
                sys::OPUS_SET_COMPLEXITY_REQUEST,
                c_int::from(complexity),
            )
        };
        check(r).map(drop)
    }

    /// The decoder complexity.
    pub fn complexity(&mut self) -> Result<u8, Error> {
        self.get(sys::OPUS_GET_COMPLEXITY_REQUEST)
            .and_then(|v| u8::try_from(v).map_err(|_| Error::Other(v)))
    }

    /// Samples per channel of the last packet decoded or concealed.
    pub fn last_packet_duration(&mut self) -> Result<u32, Error> {
        self.get(sys::OPUS_GET_LAST_PACKET_DURATION_REQUEST)
            .and_then(|v| u32::try_from(v).map_err(|_| Error::Other(v)))
    }

    fn get(&mut self, request: c_int) -> Result<i32, Error> {
        let mut v: i32 = 0;
        // SAFETY: a live decoder; `request` is a GET ctl taking one `opus_int32*` out-pointer.
        let r = unsafe { sys::opus_decoder_ctl(self.st.as_ptr(), request, &mut v as *mut i32) };
        check(r).map(|_| v)
    }

    /// Resets the decoder state (a new stream); the complexity is kept.
    pub fn reset(&mut self) {
        // SAFETY: a live decoder; OPUS_RESET_STATE takes no argument and cannot fail on one.
        unsafe { sys::opus_decoder_ctl(self.st.as_ptr(), sys::OPUS_RESET_STATE) };
    }
}

impl Drop for OpusDecoder {
    fn drop(&mut self) {
        // SAFETY: `st` came from `opus_decoder_create` and is freed once, here.
        unsafe { sys::opus_decoder_destroy(self.st.as_ptr()) }
    }
}
