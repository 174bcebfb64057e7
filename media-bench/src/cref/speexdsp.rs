//! speexdsp (libspeexdsp-dev): the Speex resampler, mono.

use std::os::raw::{c_int, c_void};

#[allow(non_camel_case_types)]
type SpeexResamplerState = c_void;

extern "C" {
    fn speex_resampler_init(
        nb_channels: u32,
        in_rate: u32,
        out_rate: u32,
        quality: c_int,
        err: *mut c_int,
    ) -> *mut SpeexResamplerState;
    fn speex_resampler_destroy(st: *mut SpeexResamplerState);
    fn speex_resampler_process_int(
        st: *mut SpeexResamplerState,
        channel_index: u32,
        input: *const i16,
        in_len: *mut u32,
        out: *mut i16,
        out_len: *mut u32,
    ) -> c_int;
    fn speex_resampler_process_float(
        st: *mut SpeexResamplerState,
        channel_index: u32,
        input: *const f32,
        in_len: *mut u32,
        out: *mut f32,
        out_len: *mut u32,
    ) -> c_int;
    fn speex_resampler_get_output_latency(st: *mut SpeexResamplerState) -> c_int;
}

/// A mono Speex resampler.
pub struct SpeexResampler {
    st: *mut SpeexResamplerState,
}

impl SpeexResampler {
    /// A resampler from `from` to `to` Hz at `quality` 0..=10; `None` on error.
    pub fn new(from: u32, to: u32, quality: i32) -> Option<Self> {
        let mut err: c_int = 0;
        // SAFETY: `err` is valid for writes; speexdsp allocates and returns null on failure.
        let st = unsafe { speex_resampler_init(1, from, to, quality, &mut err) };
        (!st.is_null() && err == 0).then_some(Self { st })
    }

    /// Resamples 16-bit `input` into `output`; returns `(used, written)` or `None` on error.
    pub fn process_int(&mut self, input: &[i16], output: &mut [i16]) -> Option<(usize, usize)> {
        let mut in_len = u32::try_from(input.len()).ok()?;
        let mut out_len = u32::try_from(output.len()).ok()?;
        // SAFETY: the lengths are those of the buffers; the counters are valid for reads and
        // writes; channel 0 exists; the state is live.
        let r = unsafe {
            speex_resampler_process_int(
                self.st,
                0,
                input.as_ptr(),
                &mut in_len,
                output.as_mut_ptr(),
                &mut out_len,
            )
        };
        (r == 0).then_some((in_len as usize, out_len as usize))
    }

    /// Resamples `f32` input (any scale: the filter is linear) into
    /// `output`; returns `(used, written)` or `None` on error.
    pub fn process_float(&mut self, input: &[f32], output: &mut [f32]) -> Option<(usize, usize)> {
        let mut in_len = u32::try_from(input.len()).ok()?;
        let mut out_len = u32::try_from(output.len()).ok()?;
        // SAFETY: as for process_int.
        let r = unsafe {
            speex_resampler_process_float(
                self.st,
                0,
                input.as_ptr(),
                &mut in_len,
                output.as_mut_ptr(),
                &mut out_len,
            )
        };
        (r == 0).then_some((in_len as usize, out_len as usize))
    }

    /// Output latency in output samples.
    pub fn output_latency(&self) -> usize {
        // SAFETY: the state is live.
        unsafe { speex_resampler_get_output_latency(self.st) }.max(0) as usize
    }
}

impl Drop for SpeexResampler {
    fn drop(&mut self) {
        // SAFETY: `st` came from speex_resampler_init and is destroyed once.
        unsafe { speex_resampler_destroy(self.st) }
    }
}
