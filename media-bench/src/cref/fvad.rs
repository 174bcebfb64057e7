//! libfvad (the WebRTC VAD as a C library), the reference for the VAD's cost. Debian does not
//! package it, so it is linked only when `LIBFVAD_DIR` names a directory holding a built
//! `libfvad.a` (see `benches/vad_ref.rs`); without it this module is absent.

use std::os::raw::c_int;

#[repr(C)]
struct FvadInst {
    _private: [u8; 0],
}

extern "C" {
    fn fvad_new() -> *mut FvadInst;
    fn fvad_free(inst: *mut FvadInst);
    fn fvad_set_mode(inst: *mut FvadInst, mode: c_int) -> c_int;
    fn fvad_set_sample_rate(inst: *mut FvadInst, sample_rate: c_int) -> c_int;
    fn fvad_process(inst: *mut FvadInst, frame: *const i16, length: usize) -> c_int;
}

/// One libfvad instance.
pub struct Fvad {
    inst: *mut FvadInst,
}

impl Fvad {
    /// A detector at `rate` (8, 16, 32 or 48 kHz) in `mode` (0..=3, 3 the most aggressive);
    /// `None` if libfvad refuses either or cannot allocate.
    pub fn new(rate: u32, mode: i32) -> Option<Self> {
        // SAFETY: fvad_new takes no arguments and returns null on failure.
        let inst = unsafe { fvad_new() };
        if inst.is_null() {
            return None;
        }
        let me = Self { inst };
        // SAFETY: `inst` is a live instance owned by `me`.
        let ok = unsafe {
            fvad_set_sample_rate(me.inst, rate as c_int) == 0 && fvad_set_mode(me.inst, mode) == 0
        };
        ok.then_some(me)
    }

    /// Judges one 10, 20 or 30 ms frame: `Some(true)` for speech, `None` on a bad length.
    pub fn process(&mut self, frame: &[i16]) -> Option<bool> {
        // SAFETY: the pointer and length describe `frame`, which outlives the call; libfvad
        // only reads it.
        let r = unsafe { fvad_process(self.inst, frame.as_ptr(), frame.len()) };
        (r >= 0).then_some(r == 1)
    }
}

impl Drop for Fvad {
    fn drop(&mut self) {
        // SAFETY: `inst` came from fvad_new and is freed once, here.
        unsafe { fvad_free(self.inst) }
    }
}
