//! soxr (libsoxr-dev): the SoX Resampler library, as a streaming resampler.

use std::os::raw::{c_char, c_uint, c_ulong, c_void};
use std::ptr;

#[allow(non_camel_case_types)]
type soxr_t = *mut c_void;
#[allow(non_camel_case_types)]
type soxr_error_t = *const c_char;

/// `struct soxr_quality_spec` from soxr.h.
#[repr(C)]
struct QualitySpec {
    precision: f64,
    phase_response: f64,
    passband_end: f64,
    stopband_begin: f64,
    e: *mut c_void,
    flags: c_ulong,
}

/// `SOXR_HQ` (= `SOXR_20_BITQ`).
const SOXR_HQ: c_ulong = 4;
/// `SOXR_VHQ` (= `SOXR_28_BITQ`).
const SOXR_VHQ: c_ulong = 6;
/// `SOXR_LINEAR_PHASE`.
const SOXR_LINEAR_PHASE: c_ulong = 0;

extern "C" {
    fn soxr_quality_spec(recipe: c_ulong, flags: c_ulong) -> QualitySpec;
    fn soxr_create(
        input_rate: f64,
        output_rate: f64,
        num_channels: c_uint,
        error: *mut soxr_error_t,
        io_spec: *const c_void,
        quality_spec: *const QualitySpec,
        runtime_spec: *const c_void,
    ) -> soxr_t;
    fn soxr_process(
        resampler: soxr_t,
        input: *const c_void,
        ilen: usize,
        idone: *mut usize,
        output: *mut c_void,
        olen: usize,
        odone: *mut usize,
    ) -> soxr_error_t;
    fn soxr_delay(resampler: soxr_t) -> f64;
    fn soxr_delete(resampler: soxr_t);
}

/// soxr quality recipes exposed here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoxrQuality {
    /// `SOXR_HQ`: 20-bit precision (about 120 dB), passband to 91.3% of Nyquist.
    High,
    /// `SOXR_VHQ`: 28-bit precision.
    VeryHigh,
}

/// A streaming soxr resampler with interleaved `f32` I/O (soxr's default I/O format), linear
/// phase, one thread.
pub struct Soxr {
    s: soxr_t,
    channels: usize,
}

impl Soxr {
    /// A resampler from `from` to `to` Hz; `None` if soxr refuses the parameters.
    pub fn new(from: u32, to: u32, channels: u16, quality: SoxrQuality) -> Option<Self> {
        let recipe = match quality {
            SoxrQuality::High => SOXR_HQ,
            SoxrQuality::VeryHigh => SOXR_VHQ,
        };
        // SAFETY: soxr_quality_spec only computes a struct from its two integer arguments.
        let q = unsafe { soxr_quality_spec(recipe, SOXR_LINEAR_PHASE) };
        let mut err: soxr_error_t = ptr::null();
        // SAFETY: `err` and `q` are valid for the call; null io and runtime specs select the
        // documented defaults (interleaved f32, one thread). soxr copies what it keeps.
        let s = unsafe {
            soxr_create(
                f64::from(from),
                f64::from(to),
                c_uint::from(channels),
                &mut err,
                ptr::null(),
                &q,
                ptr::null(),
            )
        };
        (err.is_null() && !s.is_null()).then_some(Self {
            s,
            channels: usize::from(channels.max(1)),
        })
    }

    /// Feeds interleaved `input` and writes what is ready to `output`; returns
    /// `(input samples used, output samples written)`, interleaved counts, or `None` on a soxr
    /// error. soxr buffers internally, so the output count varies from call to call.
    pub fn process(&mut self, input: &[f32], output: &mut [f32]) -> Option<(usize, usize)> {
        let (mut idone, mut odone) = (0usize, 0usize);
        // SAFETY: the lengths passed are in frames and cover no more than each buffer holds;
        // both counters are valid for writes; the state is live.
        let err = unsafe {
            soxr_process(
                self.s,
                input.as_ptr().cast(),
                input.len() / self.channels,
                &mut idone,
                output.as_mut_ptr().cast(),
                output.len() / self.channels,
                &mut odone,
            )
        };
        err.is_null()
            .then_some((idone * self.channels, odone * self.channels))
    }

    /// Signals the end of the input and writes what remains (call until it returns 0).
    pub fn flush(&mut self, output: &mut [f32]) -> Option<usize> {
        let mut odone = 0usize;
        // SAFETY: a null input tells soxr the input has ended; the output length covers no more
        // than `output` holds; `idone` may be null when input is null.
        let err = unsafe {
            soxr_process(
                self.s,
                ptr::null(),
                0,
                ptr::null_mut(),
                output.as_mut_ptr().cast(),
                output.len() / self.channels,
                &mut odone,
            )
        };
        err.is_null().then_some(odone * self.channels)
    }

    /// soxr's current delay, in output samples.
    pub fn delay(&self) -> f64 {
        // SAFETY: the state is live.
        unsafe { soxr_delay(self.s) }
    }
}

impl Drop for Soxr {
    fn drop(&mut self) {
        // SAFETY: `s` came from soxr_create and is deleted once.
        unsafe { soxr_delete(self.s) }
    }
}
