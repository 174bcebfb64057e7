//! A real FFT of one fixed size with its scratch space, so per-block transforms allocate nothing.

use std::fmt;
use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Forward and inverse real FFTs of length `n` (unnormalised: inverse(forward(x)) = n·x).
pub(crate) struct Fft {
    n: usize,
    fwd: Arc<dyn RealToComplex<f32>>,
    inv: Arc<dyn ComplexToReal<f32>>,
    scratch: Vec<Complex32>,
    time: Vec<f32>,
    freq: Vec<Complex32>,
}

impl fmt::Debug for Fft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fft").field("n", &self.n).finish()
    }
}

impl Fft {
    /// Plans both transforms of length `n` (even).
    pub(crate) fn new(n: usize) -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let fwd = planner.plan_fft_forward(n);
        let inv = planner.plan_fft_inverse(n);
        let scratch_len = fwd.get_scratch_len().max(inv.get_scratch_len());
        Self {
            n,
            fwd,
            inv,
            scratch: vec![Complex32::new(0.0, 0.0); scratch_len],
            time: vec![0.0; n],
            freq: vec![Complex32::new(0.0, 0.0); n / 2 + 1],
        }
    }

    /// Transform length.
    pub(crate) fn len(&self) -> usize {
        self.n
    }

    /// Spectrum (`n/2 + 1` bins) of `input` (`n` samples; not modified).
    pub(crate) fn forward(&mut self, input: &[f32], out: &mut [Complex32]) {
        self.time.copy_from_slice(&input[..self.n]);
        // Lengths are the plan's own, so the transform cannot fail.
        let _ = self
            .fwd
            .process_with_scratch(&mut self.time, out, &mut self.scratch);
    }

    /// Time signal (`n` samples, scaled by `n`) of the spectrum `input` (not modified). The
    /// imaginary parts of the DC and Nyquist bins are ignored.
    pub(crate) fn inverse(&mut self, input: &[Complex32], out: &mut [f32]) {
        self.freq.copy_from_slice(&input[..self.n / 2 + 1]);
        self.freq[0].im = 0.0;
        if let Some(last) = self.freq.last_mut() {
            last.im = 0.0;
        }
        // Lengths are the plan's own and the DC/Nyquist imaginary parts are zero.
        let _ = self
            .inv
            .process_with_scratch(&mut self.freq, out, &mut self.scratch);
    }
}
