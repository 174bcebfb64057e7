//! RNNoise's frame processing at 48 kHz: high-pass, windowed FFT analysis, band features,
//! pitch filter, the network's band gains, overlap-add synthesis. Written after nnnoiseless
//! 0.5 (itself a port of Xiph's RNNoise) and kept to the same arithmetic, so the output is
//! the same; the FFTs are planned once here and every buffer is owned by the state.

use std::sync::{Arc, OnceLock};

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use super::model::{GruScratch, Model, ModelError, NB_BANDS, NB_FEATURES};
use super::pitch::{PitchFinder, BUF_SIZE};

/// Samples per frame (10 ms at 48 kHz).
pub const FRAME_SIZE: usize = 480;
const WINDOW_SIZE: usize = 2 * FRAME_SIZE;
const FREQ_SIZE: usize = FRAME_SIZE + 1;
const CEPS_MEM: usize = 8;
const NB_DELTA_CEPS: usize = 6;
/// Band edges in units of 4 FFT bins (200 Hz).
const EBAND: [usize; NB_BANDS] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 34, 40, 48, 60, 78, 100,
];
/// The bins the bands cover; above it (20 kHz) the gains are 1 and the pitch filter zeroes.
const BAND_BINS: usize = EBAND[NB_BANDS - 1] * 4;
/// The widest layer's output, padded.
const WIDE: usize = 128;

/// Tables shared by every instance.
struct Tables {
    window: [f32; WINDOW_SIZE],
    dct: [f32; NB_BANDS * NB_BANDS],
    wnorm: f32,
    /// Per bin below [`BAND_BINS`]: its position in its band, and one minus it.
    frac: [f32; BAND_BINS],
    one_minus: [f32; BAND_BINS],
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let pi = std::f64::consts::PI;
        let mut window = [0f32; WINDOW_SIZE];
        for i in 0..FRAME_SIZE {
            let s = (0.5 * pi * (i as f64 + 0.5) / FRAME_SIZE as f64).sin();
            let w = (0.5 * pi * s * s).sin() as f32;
            window[i] = w;
            window[WINDOW_SIZE - i - 1] = w;
        }
        let wnorm = 1.0 / window.iter().map(|x| x * x).sum::<f32>();
        let mut dct = [0f32; NB_BANDS * NB_BANDS];
        for i in 0..NB_BANDS {
            for j in 0..NB_BANDS {
                let mut v = ((i as f64 + 0.5) * j as f64 * pi / NB_BANDS as f64).cos() as f32;
                if j == 0 {
                    v *= 0.5f32.sqrt();
                }
                dct[i * NB_BANDS + j] = v;
            }
        }
        let mut frac = [0f32; BAND_BINS];
        let mut one_minus = [0f32; BAND_BINS];
        for b in 0..NB_BANDS - 1 {
            let size = (EBAND[b + 1] - EBAND[b]) * 4;
            for j in 0..size {
                let f = j as f32 / size as f32;
                frac[EBAND[b] * 4 + j] = f;
                one_minus[EBAND[b] * 4 + j] = 1.0 - f;
            }
        }
        Tables {
            window,
            dct,
            wnorm,
            frac,
            one_minus,
        }
    })
}

/// The recurrent state of the network.
struct RnnState {
    vad: [f32; WIDE],
    noise: [f32; WIDE],
    denoise: [f32; WIDE],
    dense_out: [f32; WIDE],
    cat: [f32; 2 * WIDE + NB_FEATURES],
    scratch: GruScratch,
}

/// RNNoise denoising of 48 kHz audio in 480-sample frames, scaled to the 16-bit range
/// (±32768), the same as `nnnoiseless::DenoiseState`.
pub struct Rnnoise {
    model: &'static Model,
    rnn: Box<RnnState>,
    /// The input history (high-passed), oldest first.
    input: Box<[f32; BUF_SIZE]>,
    hp_mem: [f32; 2],
    cepstral: [[f32; NB_BANDS]; CEPS_MEM],
    mem_id: usize,
    synthesis: Box<[f32; FRAME_SIZE]>,
    window_buf: Box<[f32; WINDOW_SIZE]>,
    /// The current frame's spectrum, and the pitch-delayed one's.
    x: Vec<Complex32>,
    p: Vec<Complex32>,
    ex: [f32; NB_BANDS],
    ep: [f32; NB_BANDS],
    exp: [f32; NB_BANDS],
    features: [f32; NB_FEATURES],
    lastg: [f32; NB_BANDS],
    gains: Box<[f32; FREQ_SIZE]>,
    pitch: PitchFinder,
    fft: Arc<dyn RealToComplex<f32>>,
    ifft: Arc<dyn ComplexToReal<f32>>,
    scratch: Vec<Complex32>,
}

impl std::fmt::Debug for Rnnoise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rnnoise").finish_non_exhaustive()
    }
}

impl Rnnoise {
    /// A denoiser with the built-in model (parsed once per process); the error says why the
    /// committed weights could not be read.
    pub fn new() -> Result<Self, ModelError> {
        let model = Model::builtin()?;
        let mut planner = RealFftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(WINDOW_SIZE);
        let ifft = planner.plan_fft_inverse(WINDOW_SIZE);
        let scratch_len = fft.get_scratch_len().max(ifft.get_scratch_len());
        let _ = tables();
        Ok(Self {
            model,
            rnn: Box::new(RnnState {
                vad: [0.0; WIDE],
                noise: [0.0; WIDE],
                denoise: [0.0; WIDE],
                dense_out: [0.0; WIDE],
                cat: [0.0; 2 * WIDE + NB_FEATURES],
                scratch: GruScratch::new(),
            }),
            input: Box::new([0.0; BUF_SIZE]),
            hp_mem: [0.0; 2],
            cepstral: [[0.0; NB_BANDS]; CEPS_MEM],
            mem_id: 0,
            synthesis: Box::new([0.0; FRAME_SIZE]),
            window_buf: Box::new([0.0; WINDOW_SIZE]),
            x: vec![Complex32::default(); FREQ_SIZE],
            p: vec![Complex32::default(); FREQ_SIZE],
            ex: [0.0; NB_BANDS],
            ep: [0.0; NB_BANDS],
            exp: [0.0; NB_BANDS],
            features: [0.0; NB_FEATURES],
            lastg: [0.0; NB_BANDS],
            gains: Box::new([1.0; FREQ_SIZE]),
            pitch: PitchFinder::new(),
            fft,
            ifft,
            scratch: vec![Complex32::default(); scratch_len],
        })
    }

    /// Back to the state of a new denoiser (keeping the FFT plans and buffers).
    pub fn reset(&mut self) {
        let r = &mut *self.rnn;
        r.vad.fill(0.0);
        r.noise.fill(0.0);
        r.denoise.fill(0.0);
        self.input.fill(0.0);
        self.hp_mem = [0.0; 2];
        self.cepstral = [[0.0; NB_BANDS]; CEPS_MEM];
        self.mem_id = 0;
        self.synthesis.fill(0.0);
        self.lastg = [0.0; NB_BANDS];
        self.pitch.reset();
    }

    /// Denoises one frame: `input` and `output` hold [`FRAME_SIZE`] samples in the 16-bit
    /// range (the output lags the input by one frame). Returns the network's voice
    /// probability, 0 for frames too quiet to process (passed through).
    pub fn process_frame(
        &mut self,
        output: &mut [f32; FRAME_SIZE],
        input: &[f32; FRAME_SIZE],
    ) -> f32 {
        self.shift_and_filter(input);
        let mut vad = 0.0;
        if !self.compute_features() {
            let mut g = [0f32; NB_BANDS];
            vad = self.run_network(&mut g);
            self.pitch_filter(&g);
            for (g, last) in g.iter_mut().zip(self.lastg.iter_mut()) {
                *g = g.max(0.6 * *last);
                *last = *g;
            }
            interp_band_gain(&mut self.gains[..], &g);
            for (x, &g) in self.x.iter_mut().zip(self.gains.iter()) {
                *x *= g;
            }
        }
        self.synthesise(output);
        vad
    }

    /// Shifts the history by a frame and appends `input` through RNNoise's high-pass biquad
    /// (in f64, as RNNoise runs it).
    fn shift_and_filter(&mut self, input: &[f32; FRAME_SIZE]) {
        self.input.copy_within(FRAME_SIZE.., 0);
        let (a0, a1) = (-1.99599f32 as f64, 0.99600f32 as f64);
        let (b0, b1) = (-2.0f64, 1.0f64);
        let mem = &mut self.hp_mem;
        for (y, &x) in self.input[BUF_SIZE - FRAME_SIZE..].iter_mut().zip(input) {
            let x64 = f64::from(x);
            let y64 = x64 + f64::from(mem[0]);
            mem[0] = (f64::from(mem[1]) + (b0 * x64 - a0 * y64)) as f32;
            mem[1] = (b1 * x64 - a1 * y64) as f32;
            *y = y64 as f32;
        }
    }

    /// Windowed FFT of the `WINDOW_SIZE` samples ending `lag` before the end of the history.
    fn transform(&mut self, lag: usize, to_p: bool) {
        let t = tables();
        let start = BUF_SIZE - WINDOW_SIZE - lag;
        for ((w, &s), &win) in self
            .window_buf
            .iter_mut()
            .zip(&self.input[start..start + WINDOW_SIZE])
            .zip(t.window.iter())
        {
            *w = s * win;
        }
        let out = if to_p { &mut self.p } else { &mut self.x };
        // The sizes are fixed at construction; the only error realfft returns is for them.
        let _ = self
            .fft
            .process_with_scratch(&mut self.window_buf[..], out, &mut self.scratch);
        for v in out.iter_mut() {
            *v *= t.wnorm;
        }
    }

    /// The features of the current frame; `true` if it is too quiet to process.
    fn compute_features(&mut self) -> bool {
        self.transform(0, false);
        let pitch = self.pitch.process(&self.input[..]);
        self.transform(pitch, true);
        band_energies3(&self.x, &self.p, &mut self.ex, &mut self.ep, &mut self.exp);
        for ((c, &ex), &ep) in self.exp.iter_mut().zip(&self.ex).zip(&self.ep) {
            *c /= (0.001 + ex * ep).sqrt();
        }
        let mut tmp = [0f32; NB_BANDS];
        dct(&mut tmp, &self.exp);
        let f = &mut self.features;
        f[NB_BANDS + 2 * NB_DELTA_CEPS..NB_BANDS + 3 * NB_DELTA_CEPS]
            .copy_from_slice(&tmp[..NB_DELTA_CEPS]);
        f[NB_BANDS + 2 * NB_DELTA_CEPS] -= 1.3;
        f[NB_BANDS + 2 * NB_DELTA_CEPS + 1] -= 0.9;
        f[NB_BANDS + 3 * NB_DELTA_CEPS] = 0.01 * (pitch as f32 - 300.0);

        let mut ly = [0f32; NB_BANDS];
        let mut log_max = -2.0f32;
        let mut follow = -2.0f32;
        let mut e = 0.0f32;
        for (l, &ex) in ly.iter_mut().zip(&self.ex) {
            *l = (1e-2 + ex).log10().max(log_max - 7.0).max(follow - 1.5);
            log_max = log_max.max(*l);
            follow = (follow - 1.5).max(*l);
            e += ex;
        }
        if e < 0.04 {
            // No audio: leave the state alone.
            self.features.fill(0.0);
            return true;
        }
        let mut ceps = [0f32; NB_BANDS];
        dct(&mut ceps, &ly);
        ceps[0] -= 12.0;
        ceps[1] -= 4.0;
        let f = &mut self.features;
        f[..NB_BANDS].copy_from_slice(&ceps);
        let i0 = self.mem_id;
        let i1 = (self.mem_id + CEPS_MEM - 1) % CEPS_MEM;
        let i2 = (self.mem_id + CEPS_MEM - 2) % CEPS_MEM;
        self.cepstral[i0] = ceps;
        self.mem_id = (self.mem_id + 1) % CEPS_MEM;
        let (c0, c1, c2) = (&self.cepstral[i0], &self.cepstral[i1], &self.cepstral[i2]);
        for i in 0..NB_DELTA_CEPS {
            f[i] = c0[i] + c1[i] + c2[i];
            f[NB_BANDS + i] = c0[i] - c2[i];
            f[NB_BANDS + NB_DELTA_CEPS + i] = c0[i] - 2.0 * c1[i] + c2[i];
        }
        // Spectral variability.
        let mut var = 0.0f32;
        for i in 0..CEPS_MEM {
            let mut min_dist = 1e15f32;
            for j in 0..CEPS_MEM {
                let mut dist = 0.0f32;
                for (a, b) in self.cepstral[i].iter().zip(&self.cepstral[j]) {
                    let t = a - b;
                    dist += t * t;
                }
                if j != i {
                    min_dist = min_dist.min(dist);
                }
            }
            var += min_dist;
        }
        f[NB_BANDS + 3 * NB_DELTA_CEPS + 1] = var / CEPS_MEM as f32 - 2.1;
        false
    }

    /// Runs the network on the features: band gains into `g`, returns the voice probability.
    fn run_network(&mut self, g: &mut [f32; NB_BANDS]) -> f32 {
        let m = self.model;
        let r = &mut *self.rnn;
        let feat = &self.features;
        let nd = m.input_dense.neurons();
        let nv = m.vad_gru.neurons();
        let nn = m.noise_gru.neurons();
        let nde = m.denoise_gru.neurons();
        m.input_dense.compute(&mut r.dense_out, feat);
        m.vad_gru
            .compute(&mut r.vad[..nv], &r.dense_out[..nd], &mut r.scratch);
        let mut vad = [0f32; 8];
        m.vad_output.compute(&mut vad, &r.vad[..nv]);

        r.cat[..nd].copy_from_slice(&r.dense_out[..nd]);
        r.cat[nd..nd + nv].copy_from_slice(&r.vad[..nv]);
        r.cat[nd + nv..nd + nv + NB_FEATURES].copy_from_slice(feat);
        m.noise_gru.compute(
            &mut r.noise[..nn],
            &r.cat[..nd + nv + NB_FEATURES],
            &mut r.scratch,
        );

        r.cat[..nv].copy_from_slice(&r.vad[..nv]);
        r.cat[nv..nv + nn].copy_from_slice(&r.noise[..nn]);
        r.cat[nv + nn..nv + nn + NB_FEATURES].copy_from_slice(feat);
        m.denoise_gru.compute(
            &mut r.denoise[..nde],
            &r.cat[..nv + nn + NB_FEATURES],
            &mut r.scratch,
        );
        let mut out = [0f32; 32];
        m.denoise_output.compute(&mut out, &r.denoise[..nde]);
        g.copy_from_slice(&out[..NB_BANDS]);
        vad[0]
    }

    /// The pitch filter: adds the pitch-delayed spectrum where the network's gain says the
    /// band is more periodic than its noise allows, then restores each band's energy.
    fn pitch_filter(&mut self, g: &[f32; NB_BANDS]) {
        let mut r = [0f32; NB_BANDS];
        for i in 0..NB_BANDS {
            let v = if self.exp[i] > g[i] {
                1.0
            } else {
                let e2 = self.exp[i] * self.exp[i];
                let g2 = g[i] * g[i];
                e2 * (1.0 - g2) / (0.001 + g2 * (1.0 - e2))
            };
            r[i] = v.clamp(0.0, 1.0).sqrt() * (self.ex[i] / (1e-8 + self.ep[i])).sqrt();
        }
        let rf = &mut self.gains[..];
        rf[BAND_BINS..].fill(0.0);
        interp_band_gain(rf, &r);
        self.x[0].re += self.p[0].re * rf[0];
        for ((x, p), &f) in self.x[1..BAND_BINS]
            .iter_mut()
            .zip(&self.p[1..BAND_BINS])
            .zip(&rf[1..BAND_BINS])
        {
            *x += p * f;
        }
        let mut new_e = [0f32; NB_BANDS];
        band_energy(&self.x, &mut new_e);
        for i in 0..NB_BANDS {
            r[i] = (self.ex[i] / (1e-8 + new_e[i])).sqrt();
        }
        interp_band_gain(rf, &r);
        for (x, &f) in self.x.iter_mut().zip(rf.iter()) {
            *x *= f;
        }
        // Back to unit gains for the caller (above the bands they stay 1).
        rf.fill(1.0);
    }

    /// Inverse FFT, window, overlap-add.
    fn synthesise(&mut self, out: &mut [f32; FRAME_SIZE]) {
        // Real input: the DC and Nyquist bins have no imaginary part.
        self.x[0].im = 0.0;
        self.x[FRAME_SIZE].im = 0.0;
        let _ = self.ifft.process_with_scratch(
            &mut self.x,
            &mut self.window_buf[..],
            &mut self.scratch,
        );
        let t = tables();
        for (w, &win) in self.window_buf.iter_mut().zip(t.window.iter()) {
            *w = *w / 2.0 * win;
        }
        let (first, second) = self.window_buf.split_at(FRAME_SIZE);
        for ((o, &a), (m, &b)) in out
            .iter_mut()
            .zip(first)
            .zip(self.synthesis.iter_mut().zip(second))
        {
            *o = a + *m;
            *m = b;
        }
    }
}

/// Band energies of `x` and `p` and their correlation, in one pass (RNNoise's
/// `compute_band_corr` three times, each band sum in the same order).
fn band_energies3(
    x: &[Complex32],
    p: &[Complex32],
    ex: &mut [f32; NB_BANDS],
    ep: &mut [f32; NB_BANDS],
    exp: &mut [f32; NB_BANDS],
) {
    let t = tables();
    let (mut cx, mut cp, mut cxp) = (0f32, 0f32, 0f32);
    for b in 0..NB_BANDS - 1 {
        let (mut lx, mut lp, mut lxp) = (cx, cp, cxp);
        let (mut hx, mut hp, mut hxp) = (0f32, 0f32, 0f32);
        let r = EBAND[b] * 4..EBAND[b + 1] * 4;
        for (((x, p), &f), &om) in x[r.clone()]
            .iter()
            .zip(&p[r.clone()])
            .zip(&t.frac[r.clone()])
            .zip(&t.one_minus[r])
        {
            let exx = x.re * x.re + x.im * x.im;
            let epp = p.re * p.re + p.im * p.im;
            let exp_ = x.re * p.re + x.im * p.im;
            lx += om * exx;
            hx += f * exx;
            lp += om * epp;
            hp += f * epp;
            lxp += om * exp_;
            hxp += f * exp_;
        }
        ex[b] = lx;
        ep[b] = lp;
        exp[b] = lxp;
        (cx, cp, cxp) = (hx, hp, hxp);
    }
    ex[NB_BANDS - 1] = cx;
    ep[NB_BANDS - 1] = cp;
    exp[NB_BANDS - 1] = cxp;
    for e in [ex, ep, exp] {
        e[0] *= 2.0;
        e[NB_BANDS - 1] *= 2.0;
    }
}

/// Band energies of `x` (RNNoise's `compute_band_corr(x, x)`).
fn band_energy(x: &[Complex32], out: &mut [f32; NB_BANDS]) {
    let t = tables();
    let mut carry = 0f32;
    for b in 0..NB_BANDS - 1 {
        let mut lo = carry;
        let mut hi = 0f32;
        let r = EBAND[b] * 4..EBAND[b + 1] * 4;
        for ((x, &f), &om) in x[r.clone()]
            .iter()
            .zip(&t.frac[r.clone()])
            .zip(&t.one_minus[r])
        {
            let e = x.re * x.re + x.im * x.im;
            lo += om * e;
            hi += f * e;
        }
        out[b] = lo;
        carry = hi;
    }
    out[NB_BANDS - 1] = carry;
    out[0] *= 2.0;
    out[NB_BANDS - 1] *= 2.0;
}

/// Per-bin gains from per-band ones, linearly between band centres (bins below
/// [`BAND_BINS`]; the rest of `out` is left alone).
fn interp_band_gain(out: &mut [f32], g: &[f32; NB_BANDS]) {
    let t = tables();
    for b in 0..NB_BANDS - 1 {
        let r = EBAND[b] * 4..EBAND[b + 1] * 4;
        let (g0, g1) = (g[b], g[b + 1]);
        for ((o, &f), &om) in out[r.clone()]
            .iter_mut()
            .zip(&t.frac[r.clone()])
            .zip(&t.one_minus[r])
        {
            *o = om * g0 + f * g1;
        }
    }
}

/// RNNoise's brute-force DCT of the band values.
fn dct(out: &mut [f32; NB_BANDS], x: &[f32; NB_BANDS]) {
    let t = tables();
    let scale = (2.0 / NB_BANDS as f64).sqrt();
    for (i, o) in out.iter_mut().enumerate() {
        let mut sum = 0f32;
        for (j, &xj) in x.iter().enumerate() {
            sum += xj * t.dct[j * NB_BANDS + i];
        }
        *o = (f64::from(sum) * scale) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_input_does_not_panic_and_reset_recovers() {
        let mut d = Rnnoise::new().unwrap();
        let mut out = [0f32; FRAME_SIZE];
        for v in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e30, -1e30, 0.0] {
            let mut x = [v; FRAME_SIZE];
            x[7] = 1.0;
            for _ in 0..3 {
                let p = d.process_frame(&mut out, &x);
                assert!(p.is_nan() || (0.0..=1.0).contains(&p), "probability {p}");
            }
        }
        d.reset();
        let x: [f32; FRAME_SIZE] = std::array::from_fn(|i| (i as f32 * 0.05).sin() * 3000.0);
        for _ in 0..3 {
            d.process_frame(&mut out, &x);
        }
        assert!(out.iter().all(|v| v.is_finite()));
        assert!(out.iter().any(|&v| v != 0.0));
    }
}
