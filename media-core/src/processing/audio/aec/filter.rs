//! Partitioned-block frequency-domain adaptive filter (PBFDAF / MDF, Soo & Pang 1990; the
//! variant with one constrained partition per block is Valin's AUMDF as in speexdsp).
//!
//! The echo path of `M·N` taps is cut into `M` partitions of `N`; each is a spectrum of `2N`
//! (`K = N + 1` bins) applied by overlap-save to the far-end block spectra of the matching age.
//! The far-end spectra live in [`FarSpectra`], a ring shared with the delay estimator, so a
//! change of the delay estimate only changes which ages the partitions read.
// Spectral loops walk several arrays in lockstep by bin index; indexing reads clearer here.
#![allow(clippy::needless_range_loop)]

use realfft::num_complex::Complex32;

use super::fft::Fft;

/// Ring of far-end block spectra (`X_j = FFT([x_{j-1}, x_j])`), newest first by age.
#[derive(Debug, Clone)]
pub(crate) struct FarSpectra {
    k: usize,
    cap: usize,
    spectra: Vec<Complex32>,
    /// Per-block bin power sum (for activity and normalisation).
    energy: Vec<f32>,
    head: usize,
}

impl FarSpectra {
    pub(crate) fn new(k: usize, cap: usize) -> Self {
        Self {
            k,
            cap,
            spectra: vec![Complex32::new(0.0, 0.0); k * cap],
            energy: vec![0.0; cap],
            head: 0,
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// Back to the state of [`Self::new`], without allocating.
    pub(crate) fn reset(&mut self) {
        self.spectra.fill(Complex32::new(0.0, 0.0));
        self.energy.fill(0.0);
        self.head = 0;
    }

    /// Makes room for the next block and returns its spectrum to fill.
    pub(crate) fn push(&mut self) -> &mut [Complex32] {
        self.head = (self.head + 1) % self.cap;
        let k = self.k;
        &mut self.spectra[self.head * k..(self.head + 1) * k]
    }

    /// Records the newest block's energy.
    pub(crate) fn set_newest_energy(&mut self, e: f32) {
        self.energy[self.head] = e;
    }

    fn index(&self, age: usize) -> usize {
        (self.head + self.cap - (age % self.cap)) % self.cap
    }

    /// The spectrum `age` blocks back (0 = newest).
    pub(crate) fn get(&self, age: usize) -> &[Complex32] {
        let i = self.index(age);
        &self.spectra[i * self.k..(i + 1) * self.k]
    }

    /// The energy of the block `age` back.
    pub(crate) fn energy(&self, age: usize) -> f32 {
        self.energy[self.index(age)]
    }
}

/// One set of partitioned filter weights.
#[derive(Debug, Clone)]
pub(crate) struct Partitions {
    m: usize,
    k: usize,
    w: Vec<Complex32>,
}

impl Partitions {
    pub(crate) fn new(m: usize, k: usize) -> Self {
        Self {
            m,
            k,
            w: vec![Complex32::new(0.0, 0.0); m * k],
        }
    }

    pub(crate) fn clear(&mut self) {
        self.w.fill(Complex32::new(0.0, 0.0));
    }

    pub(crate) fn copy_from(&mut self, other: &Self) {
        self.w.copy_from_slice(&other.w);
    }

    /// `out = Σ_m W_m · X(start + m)`, and `power = Σ_m |X(start + m)|²` (the exact
    /// normalisation of a partitioned filter).
    pub(crate) fn filter(
        &self,
        far: &FarSpectra,
        start: usize,
        out: &mut [Complex32],
        power: Option<&mut [f32]>,
    ) {
        out.fill(Complex32::new(0.0, 0.0));
        match power {
            Some(power) => {
                power.fill(0.0);
                for (m, w) in self.w.chunks_exact(self.k).enumerate() {
                    let x = far.get(start + m);
                    for (((o, p), &wk), &xk) in out.iter_mut().zip(power.iter_mut()).zip(w).zip(x) {
                        *o += wk * xk;
                        *p += xk.norm_sqr();
                    }
                }
            }
            None => {
                for (m, w) in self.w.chunks_exact(self.k).enumerate() {
                    let x = far.get(start + m);
                    for ((o, &wk), &xk) in out.iter_mut().zip(w).zip(x) {
                        *o += wk * xk;
                    }
                }
            }
        }
    }

    /// `W_m += prop_m · step · conj(X(start + m)) · E` for every partition, then constrains
    /// partition `constrain` to `N` taps (gradient constraint, one partition per block).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn adapt(
        &mut self,
        far: &FarSpectra,
        start: usize,
        step: &[f32],
        prop: &[f32],
        err: &[Complex32],
        constrain: usize,
        fft: &mut Fft,
        time: &mut [f32],
    ) {
        let k = self.k;
        for ((m, w), &pm) in self.w.chunks_exact_mut(k).enumerate().zip(prop) {
            let x = far.get(start + m);
            for (((wk, &xk), &ek), &mu) in w.iter_mut().zip(x).zip(err).zip(step) {
                *wk += xk.conj() * ek * (mu * pm);
            }
        }
        // Constrain the rotating partition and the strongest one (where the direct path is:
        // its wrap-around error would otherwise build up fastest).
        let strongest = prop
            .iter()
            .enumerate()
            .fold((0, f32::MIN), |b, (i, &p)| if p > b.1 { (i, p) } else { b })
            .0;
        let c = constrain % self.m;
        self.constrain_one(c, fft, time);
        if strongest != c {
            self.constrain_one(strongest, fft, time);
        }
    }

    /// Limits partition `c` to `N` taps.
    fn constrain_one(&mut self, c: usize, fft: &mut Fft, time: &mut [f32]) {
        let k = self.k;
        let w = &mut self.w[c * k..(c + 1) * k];
        let n2 = fft.len();
        fft.inverse(w, &mut time[..n2]);
        let scale = 1.0 / n2 as f32;
        for v in time[..n2 / 2].iter_mut() {
            *v *= scale;
        }
        time[n2 / 2..n2].fill(0.0);
        fft.forward(&time[..n2], w);
    }

    /// Re-bases the partitions on a start `delta` blocks later (earlier if negative) so that
    /// the modelled echo path keeps its absolute position; partitions moved in are zero.
    pub(crate) fn shift(&mut self, delta: isize) {
        let k = self.k;
        let m = self.m as isize;
        if delta == 0 {
            return;
        }
        if delta.abs() >= m {
            self.clear();
            return;
        }
        let d = delta.unsigned_abs() * k;
        if delta > 0 {
            self.w.copy_within(d.., 0);
            let len = self.w.len();
            self.w[len - d..].fill(Complex32::new(0.0, 0.0));
        } else {
            let len = self.w.len();
            self.w.copy_within(..len - d, d);
            self.w[..d].fill(Complex32::new(0.0, 0.0));
        }
    }

    /// Per-block power decay of the modelled echo tail (least-squares slope of log partition
    /// energy after the strongest partition), or `None` if the tail is too short to tell.
    pub(crate) fn tail_decay(&self) -> Option<f32> {
        let energies = self
            .w
            .chunks_exact(self.k)
            .map(|w| w.iter().map(|c| c.norm_sqr()).sum::<f32>());
        let mut peak = (0usize, 0.0f32);
        let mut logs = [0.0f32; 64];
        for (m, e) in energies.enumerate().take(64) {
            logs[m] = (e + 1e-30).ln();
            if e > peak.1 {
                peak = (m, e);
            }
        }
        let first = peak.0 + 1;
        // Fit only the tail above the adaptation noise floor (the quietest quarter of the
        // partitions, plus 6 dB).
        let mut sorted = logs;
        let used = &mut sorted[..self.m.min(64)];
        used.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        let floor = used[used.len() / 8] + 0.6 * std::f32::consts::LN_10;
        let last = (first..self.m.min(64))
            .find(|&m| logs[m] < floor)
            .unwrap_or(self.m.min(64));
        if last < first + 3 {
            return None;
        }
        let n = (last - first) as f32;
        let mx = (first..last).map(|m| m as f32).sum::<f32>() / n;
        let my = logs[first..last].iter().sum::<f32>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (m, &l) in logs.iter().enumerate().take(last).skip(first) {
            let dx = m as f32 - mx;
            sxy += dx * (l - my);
            sxx += dx * dx;
        }
        Some((sxy / sxx).exp())
    }

    /// The partition with the most energy (where the direct path is), if any has energy.
    pub(crate) fn strongest(&self) -> Option<usize> {
        let mut best = (None, 0.0f32);
        for (m, w) in self.w.chunks_exact(self.k).enumerate() {
            let e: f32 = w.iter().map(|c| c.norm_sqr()).sum();
            if e > best.1 {
                best = (Some(m), e);
            }
        }
        best.0
    }

    /// Proportionate step factors (Valin's variant of IPNLMS, as in speexdsp): each partition's
    /// share follows its response's norm plus a tenth of the largest, normalised to sum to `M`,
    /// so the partitions holding the direct path and early reflections adapt fastest.
    pub(crate) fn proportions(&self, prop: &mut [f32]) {
        let mut max = 0.0f32;
        for (p, w) in prop.iter_mut().zip(self.w.chunks_exact(self.k)) {
            *p = w.iter().map(|c| c.norm_sqr()).sum::<f32>().sqrt();
            max = max.max(*p);
        }
        let mut sum = 0.0;
        for p in prop.iter_mut() {
            *p += 0.1 * max + 1e-9;
            sum += *p;
        }
        let scale = 0.99 * self.m as f32 / sum;
        for p in prop.iter_mut() {
            *p *= scale;
        }
    }
}
