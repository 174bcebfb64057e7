//! speexdsp's echo canceller (libspeexdsp-dev): the MDF linear filter (`speex_echo_*`) followed,
//! as speexdsp intends, by its preprocessor's residual echo suppressor (`speex_preprocess_*`
//! with the echo state attached; its denoiser on, as echo suppression needs it; AGC, VAD and
//! dereverb off).

use std::os::raw::{c_int, c_void};

type SpeexEchoState = c_void;
type SpeexPreprocessState = c_void;

extern "C" {
    fn speex_echo_state_init(frame_size: c_int, filter_length: c_int) -> *mut SpeexEchoState;
    fn speex_echo_state_destroy(st: *mut SpeexEchoState);
    fn speex_echo_cancellation(
        st: *mut SpeexEchoState,
        rec: *const i16,
        play: *const i16,
        out: *mut i16,
    );
    fn speex_echo_ctl(st: *mut SpeexEchoState, request: c_int, ptr: *mut c_void) -> c_int;
    fn speex_preprocess_state_init(
        frame_size: c_int,
        sampling_rate: c_int,
    ) -> *mut SpeexPreprocessState;
    fn speex_preprocess_state_destroy(st: *mut SpeexPreprocessState);
    fn speex_preprocess_run(st: *mut SpeexPreprocessState, x: *mut i16) -> c_int;
    fn speex_preprocess_ctl(
        st: *mut SpeexPreprocessState,
        request: c_int,
        ptr: *mut c_void,
    ) -> c_int;
}

const SPEEX_ECHO_SET_SAMPLING_RATE: c_int = 24;
const SPEEX_PREPROCESS_SET_DENOISE: c_int = 0;
const SPEEX_PREPROCESS_SET_AGC: c_int = 2;
const SPEEX_PREPROCESS_SET_VAD: c_int = 4;
const SPEEX_PREPROCESS_SET_DEREVERB: c_int = 8;
const SPEEX_PREPROCESS_SET_ECHO_STATE: c_int = 24;

/// speexdsp's echo canceller over 16-bit frames.
pub struct SpeexEcho {
    echo: *mut SpeexEchoState,
    pre: *mut SpeexPreprocessState,
    frame: usize,
    out: Vec<i16>,
}

impl SpeexEcho {
    /// A canceller for `frame`-sample frames at `rate` Hz with a `filter_len`-sample echo tail;
    /// `suppress` attaches the preprocessor's residual echo suppressor. `None` if speexdsp fails
    /// to allocate.
    pub fn new(frame: usize, filter_len: usize, rate: u32, suppress: bool) -> Option<Self> {
        // SAFETY: plain constructor calls; they return null on failure, checked below.
        let echo = unsafe { speex_echo_state_init(frame as c_int, filter_len as c_int) };
        if echo.is_null() {
            return None;
        }
        let mut r = rate as c_int;
        // SAFETY: echo is live; the request takes a pointer to an int.
        unsafe {
            speex_echo_ctl(
                echo,
                SPEEX_ECHO_SET_SAMPLING_RATE,
                (&mut r as *mut c_int).cast(),
            );
        }
        let pre = if suppress {
            // SAFETY: constructor; null on failure.
            let pre = unsafe { speex_preprocess_state_init(frame as c_int, rate as c_int) };
            if pre.is_null() {
                // SAFETY: echo came from speex_echo_state_init and is freed once.
                unsafe { speex_echo_state_destroy(echo) };
                return None;
            }
            // The preprocessor applies its echo suppression only with its denoiser on (as in
            // speexdsp's own echo test); AGC and dereverb stay off, VAD is off by default.
            let mut on: c_int = 1;
            let mut off: c_int = 0;
            // SAFETY: pre is live; these requests take a pointer to an int.
            unsafe {
                speex_preprocess_ctl(
                    pre,
                    SPEEX_PREPROCESS_SET_DENOISE,
                    (&mut on as *mut c_int).cast(),
                );
                speex_preprocess_ctl(
                    pre,
                    SPEEX_PREPROCESS_SET_AGC,
                    (&mut off as *mut c_int).cast(),
                );
                speex_preprocess_ctl(
                    pre,
                    SPEEX_PREPROCESS_SET_DEREVERB,
                    (&mut off as *mut c_int).cast(),
                );
            }
            // SAFETY: pre and echo are live; the echo state outlives pre (dropped after it).
            unsafe { speex_preprocess_ctl(pre, SPEEX_PREPROCESS_SET_ECHO_STATE, echo) };
            pre
        } else {
            std::ptr::null_mut()
        };
        Some(Self {
            echo,
            pre,
            frame,
            out: vec![0; frame],
        })
    }

    /// Switches the preprocessor's AGC and VAD on (a whole capture chain: echo cancellation,
    /// residual echo suppression, denoising, gain control, voice activity detection). Does
    /// nothing without the preprocessor (`suppress` false).
    pub fn enable_agc_and_vad(&mut self) {
        if self.pre.is_null() {
            return;
        }
        let mut on: c_int = 1;
        for req in [SPEEX_PREPROCESS_SET_AGC, SPEEX_PREPROCESS_SET_VAD] {
            // SAFETY: pre is live; these requests take a pointer to an int.
            unsafe { speex_preprocess_ctl(self.pre, req, (&mut on as *mut c_int).cast()) };
        }
    }

    /// Cancels the echo of `play` (far end, time-aligned by the caller) from `rec` into `out`;
    /// all three hold one frame.
    pub fn process(&mut self, rec: &[i16], play: &[i16], out: &mut [i16]) {
        let n = self.frame;
        if rec.len() < n || play.len() < n || out.len() < n {
            return;
        }
        // SAFETY: the three buffers hold at least one frame; echo is live.
        unsafe {
            speex_echo_cancellation(
                self.echo,
                rec.as_ptr(),
                play.as_ptr(),
                self.out.as_mut_ptr(),
            )
        };
        if !self.pre.is_null() {
            // SAFETY: the buffer holds one frame; pre is live.
            unsafe { speex_preprocess_run(self.pre, self.out.as_mut_ptr()) };
        }
        out[..n].copy_from_slice(&self.out);
    }
}

impl Drop for SpeexEcho {
    fn drop(&mut self) {
        // SAFETY: both states came from their init functions and are freed once, the
        // preprocessor (which points at the echo state) first.
        unsafe {
            if !self.pre.is_null() {
                speex_preprocess_state_destroy(self.pre);
            }
            speex_echo_state_destroy(self.echo);
        }
    }
}

// SAFETY: the states are owned exclusively by this value and speexdsp keeps no thread-local
// state, so moving it to another thread is sound.
unsafe impl Send for SpeexEcho {}
