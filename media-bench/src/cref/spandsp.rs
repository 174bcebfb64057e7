//! spandsp (libspandsp-dev): G.711, G.722 (and later DTMF).

use std::os::raw::{c_int, c_void};

#[allow(non_camel_case_types)]
type g711_state_t = c_void;

extern "C" {
    fn g711_init(s: *mut g711_state_t, mode: c_int) -> *mut g711_state_t;
    fn g711_free(s: *mut g711_state_t) -> c_int;
    fn g711_encode(s: *mut g711_state_t, g711_data: *mut u8, amp: *const i16, len: c_int) -> c_int;
    fn g711_decode(
        s: *mut g711_state_t,
        amp: *mut i16,
        g711_data: *const u8,
        g711_bytes: c_int,
    ) -> c_int;
}

/// spandsp's G.711 codec state.
pub struct G711 {
    state: *mut g711_state_t,
}

/// spandsp's G.711 modes.
#[derive(Clone, Copy)]
pub enum G711Mode {
    /// A-law (G711_ALAW = 0).
    Alaw = 0,
    /// µ-law (G711_ULAW = 1).
    Ulaw = 1,
}

impl G711 {
    /// A new codec state; `None` if spandsp fails to allocate.
    pub fn new(mode: G711Mode) -> Option<Self> {
        // SAFETY: a null state asks spandsp to allocate one; it returns null on failure.
        let state = unsafe { g711_init(std::ptr::null_mut(), mode as c_int) };
        (!state.is_null()).then_some(Self { state })
    }

    /// Encodes `pcm` into `out` (at least `pcm.len()` bytes).
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> usize {
        let n = pcm.len().min(out.len());
        // SAFETY: both buffers hold at least n elements; state is live.
        unsafe { g711_encode(self.state, out.as_mut_ptr(), pcm.as_ptr(), n as c_int) as usize }
    }

    /// Decodes `codes` into `out` (at least `codes.len()` samples).
    pub fn decode(&mut self, codes: &[u8], out: &mut [i16]) -> usize {
        let n = codes.len().min(out.len());
        // SAFETY: both buffers hold at least n elements; state is live.
        unsafe { g711_decode(self.state, out.as_mut_ptr(), codes.as_ptr(), n as c_int) as usize }
    }
}

impl Drop for G711 {
    fn drop(&mut self) {
        // SAFETY: state came from g711_init and is freed once.
        unsafe {
            g711_free(self.state);
        }
    }
}

#[allow(non_camel_case_types)]
type g722_encode_state_t = c_void;
#[allow(non_camel_case_types)]
type g722_decode_state_t = c_void;

extern "C" {
    fn g722_encode_init(
        s: *mut g722_encode_state_t,
        rate: c_int,
        options: c_int,
    ) -> *mut g722_encode_state_t;
    fn g722_encode_free(s: *mut g722_encode_state_t) -> c_int;
    fn g722_encode(
        s: *mut g722_encode_state_t,
        g722_data: *mut u8,
        amp: *const i16,
        len: c_int,
    ) -> c_int;
    fn g722_decode_init(
        s: *mut g722_decode_state_t,
        rate: c_int,
        options: c_int,
    ) -> *mut g722_decode_state_t;
    fn g722_decode_free(s: *mut g722_decode_state_t) -> c_int;
    fn g722_decode(
        s: *mut g722_decode_state_t,
        amp: *mut i16,
        g722_data: *const u8,
        len: c_int,
    ) -> c_int;
}

/// spandsp's G.722 encoder (16 kHz input, one code byte per two samples).
pub struct G722Encoder {
    state: *mut g722_encode_state_t,
}

impl G722Encoder {
    /// A new encoder at `rate` bit/s (64000, 56000 or 48000); `None` if spandsp refuses.
    pub fn new(rate: i32) -> Option<Self> {
        // SAFETY: a null state asks spandsp to allocate one; it returns null on failure.
        let state = unsafe { g722_encode_init(std::ptr::null_mut(), rate, 0) };
        (!state.is_null()).then_some(Self { state })
    }

    /// Encodes the whole pairs of `pcm` that fit in `out`; returns the bytes written.
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> usize {
        let n = (pcm.len() / 2).min(out.len()) * 2;
        // SAFETY: pcm holds n samples and out n / 2 bytes; state is live.
        unsafe { g722_encode(self.state, out.as_mut_ptr(), pcm.as_ptr(), n as c_int) as usize }
    }
}

impl Drop for G722Encoder {
    fn drop(&mut self) {
        // SAFETY: state came from g722_encode_init and is freed once.
        unsafe {
            g722_encode_free(self.state);
        }
    }
}

/// spandsp's G.722 decoder (two 16 kHz samples per code byte).
pub struct G722Decoder {
    state: *mut g722_decode_state_t,
}

impl G722Decoder {
    /// A new decoder at `rate` bit/s (64000, 56000 or 48000); `None` if spandsp refuses.
    pub fn new(rate: i32) -> Option<Self> {
        // SAFETY: a null state asks spandsp to allocate one; it returns null on failure.
        let state = unsafe { g722_decode_init(std::ptr::null_mut(), rate, 0) };
        (!state.is_null()).then_some(Self { state })
    }

    /// Decodes the codes whose samples fit in `out`; returns the samples written.
    pub fn decode(&mut self, codes: &[u8], out: &mut [i16]) -> usize {
        let n = codes.len().min(out.len() / 2);
        // SAFETY: codes holds n bytes and out 2 * n samples; state is live.
        unsafe { g722_decode(self.state, out.as_mut_ptr(), codes.as_ptr(), n as c_int) as usize }
    }
}

impl Drop for G722Decoder {
    fn drop(&mut self) {
        // SAFETY: state came from g722_decode_init and is freed once.
        unsafe {
            g722_decode_free(self.state);
        }
    }
}
