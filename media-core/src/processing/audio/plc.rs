//! Packet loss concealment for waveform codecs: ITU-T G.711 Appendix I.
//!
//! [`G711Plc`] is a port of the algorithm of ITU-T G.711 Appendix I ("A high quality
//! low-complexity algorithm for packet loss concealment with G.711"), written to reproduce the
//! ITU-T STL reference implementation (`g711iplc`) bit for bit at 8 kHz with 10 ms frames.
//!
//! # The algorithm
//!
//! * Every decoded sample passes through a history buffer of three maximum pitch periods plus a
//!   quarter period (48.75 ms).
//! * When a loss starts, the pitch is estimated by normalised cross-correlation of the last
//!   20 ms against the history, first on a 2:1 decimated grid, then refined around the best lag
//!   (pitch range 40..=120 samples at 8 kHz: 200 Hz down to 66 Hz).
//! * The last pitch period is repeated. A quarter period at the junction is overlap-added with
//!   the samples one period earlier so that the repetition has no seam; because that quarter
//!   period lies *before* the loss, the output is delayed (see [Delay](#delay)).
//! * After 10 ms and again after 20 ms of loss, one more period of history joins the repeated
//!   buffer (two, then three periods), each change overlap-added over a quarter period, which
//!   avoids the buzz of a single repeated period.
//! * From 10 ms on, the synthetic signal is attenuated linearly by 20 % per 10 ms; from 60 ms on
//!   the output is silence.
//! * The first good samples after a loss are overlap-added with the continuation of the synthetic
//!   signal, over a quarter period plus 4 ms per additional lost 10 ms (at most 10 ms).
//!
//! # Delay
//!
//! To overlap-add at the start of a loss the algorithm needs to change samples that precede the
//! loss, so everything it outputs — good and concealed alike — is delayed by
//! [`G711Plc::delay_samples`]: a quarter of the maximum pitch period, 30 samples or 3.75 ms at
//! 8 kHz. `good_frame` returns, in place, the samples it received `delay_samples()` earlier; the
//! first `delay_samples()` samples of a stream are zeros. [`G711Plc::flush`] returns the samples
//! still held at the end of a stream.
//!
//! # Frame lengths and rates
//!
//! The standard works on 10 ms frames; here any call length (including 0) is accepted and the
//! 10 ms structure of a loss (when periods are added, the attenuation ramp, the silence after
//! 60 ms) is kept internally, counted from the first lost sample. The work is done sample by
//! sample, so how a stream is cut into calls never changes the output. A loss that lasts a
//! whole number of 10 ms is concealed exactly as the reference does; one that ends inside a
//! 10 ms step ends its overlap-add from the gain reached at that sample (the reference cannot
//! express such a loss).
//!
//! # Precision
//!
//! The arithmetic is in `f64`, as in the STL built with `USEDOUBLES` (its header: "likely to be
//! bit-exact between machines"). In `f64` this port reproduces the STL's reference output
//! (`f2_10.raw`) exactly; the same code in `f32` (the STL's default `Float`) differs from it by
//! one LSB in 124 of its 22,960 samples, so the reference was evidently made with wider
//! intermediates than `float` (a `USEDOUBLES` or x87 build).
//!
//! At other sample rates every time constant (pitch range, correlation window, decimation,
//! overlaps, frame, history) is the 8 kHz value scaled by `rate / 8000` and rounded; the 8 kHz
//! values are exactly those of the standard. Rates below 8 kHz use the 8 kHz constants.
//!
//! Nothing allocates after [`G711Plc::new`].

/// The standard's constants, at 8 kHz.
mod std8k {
    /// Minimum pitch period (200 Hz).
    pub const PITCH_MIN: usize = 40;
    /// Maximum pitch period (66.7 Hz).
    pub const PITCH_MAX: usize = 120;
    /// Decimation of the coarse pitch search.
    pub const NDEC: usize = 2;
    /// Correlation window, 20 ms.
    pub const CORRLEN: usize = 160;
    /// Floor of the energy that normalises the correlation.
    pub const CORRMINPOWER: f64 = 250.0;
    /// Growth of the end-of-loss overlap per lost frame, 4 ms.
    pub const EOVERLAPINCR: usize = 32;
    /// Frame, 10 ms.
    pub const FRAMESZ: usize = 80;
    /// Attenuation per frame after the first.
    pub const ATTENFAC: f64 = 0.2;
}

/// Number of lost frames after which the output is silence (60 ms).
const SILENT_AFTER_FRAMES: usize = 6;
/// Lost-frame counts beyond this change nothing (gain 0, longest end overlap); the counter stops
/// there.
const MAX_FRAME_COUNT: usize = 16;
/// Highest rate whose constants are scaled; higher rates use these (bounds the memory).
const MAX_RATE: u32 = 384_000;

/// Time constants for one sample rate.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Params {
    pitch_min: usize,
    pitch_max: usize,
    /// Maximum quarter-period overlap, and the output delay.
    poverlap_max: usize,
    history_len: usize,
    ndec: usize,
    corr_len: usize,
    /// Energy floor of the coarse (decimated) search.
    coarse_min_power: f64,
    /// Energy floor of the fine search.
    fine_min_power: f64,
    eoverlap_incr: usize,
    frame: usize,
    atten_incr: f64,
    /// Whether one more pitch period joins the repeated buffer after 10 and 20 ms of loss.
    add_periods: bool,
}

impl Params {
    fn for_rate(sample_rate: u32) -> Self {
        let rate = u64::from(sample_rate.clamp(8000, MAX_RATE));
        // Rounded scaling; exact (identity) at 8 kHz.
        let scale = |x: usize| ((x as u64 * rate + 4000) / 8000) as usize;
        let pitch_min = scale(std8k::PITCH_MIN);
        let pitch_max = scale(std8k::PITCH_MAX);
        let poverlap_max = pitch_max >> 2;
        let ndec = scale(std8k::NDEC).max(1);
        let corr_len = scale(std8k::CORRLEN);
        let frame = scale(std8k::FRAMESZ);
        let (coarse_min_power, fine_min_power) = min_powers(corr_len, ndec);
        Self {
            pitch_min,
            pitch_max,
            poverlap_max,
            history_len: 3 * pitch_max + poverlap_max,
            ndec,
            corr_len,
            coarse_min_power,
            fine_min_power,
            eoverlap_incr: scale(std8k::EOVERLAPINCR),
            frame,
            atten_incr: std8k::ATTENFAC / frame as f64,
            add_periods: true,
        }
    }

    /// The [wideband tuning](G711Plc::wideband): a 5 ms correlation window searched at every
    /// lag, pitch periods from 4 ms, one period repeated throughout the loss.
    fn wideband(sample_rate: u32) -> Self {
        let mut p = Self::for_rate(sample_rate);
        let rate = u64::from(sample_rate.clamp(8000, MAX_RATE));
        let ms = |x: u64| ((x * rate + 500) / 1000) as usize;
        p.pitch_min = ms(4).min(p.pitch_max);
        p.ndec = 1;
        p.corr_len = ms(5);
        (p.coarse_min_power, p.fine_min_power) = min_powers(p.corr_len, p.ndec);
        p.add_periods = false;
        p
    }
}

/// The coarse and fine searches' energy floors for a correlation window of `corr_len` samples
/// decimated by `ndec`. They bound an energy summed over a number of samples that grows with
/// the rate (fine search) or stays about constant (coarse search): keep them per sample.
fn min_powers(corr_len: usize, ndec: usize) -> (f64, f64) {
    let coarse_count = corr_len.div_ceil(ndec);
    let coarse = std8k::CORRMINPOWER * coarse_count as f64 / (std8k::CORRLEN / std8k::NDEC) as f64;
    let fine = std8k::CORRMINPOWER * corr_len as f64 / std8k::CORRLEN as f64;
    (coarse, fine)
}

/// ITU-T G.711 Appendix I packet loss concealment for one mono stream of 16-bit PCM.
///
/// Feed every decoded frame to [`good_frame`](Self::good_frame) and ask
/// [`conceal`](Self::conceal) for every lost one; both write the output, delayed by
/// [`delay_samples`](Self::delay_samples), into the caller's buffer. Any frame length works.
#[derive(Debug, Clone)]
pub struct G711Plc {
    sample_rate: u32,
    p: Params,
    /// The last `history_len` samples put out by the concealment (good or synthetic), a ring:
    /// `history[pos]` is the oldest.
    history: Vec<i16>,
    pos: usize,
    /// The history as floats at the start of a loss; its tail holds the repeated periods.
    pitchbuf: Vec<f64>,
    /// The last quarter period of the history before it was overlap-added.
    lastq: Vec<f64>,
    /// The continuation of the previous pitch buffer, overlap-added when it grows.
    tail: Vec<i16>,
    pitch: usize,
    poverlap: usize,
    /// Read position in the repeated buffer (which is `pitchbuf[history_len - pitchblen..]`).
    poffset: usize,
    pitchblen: usize,
    /// True from the first lost sample to the first good one.
    erasing: bool,
    /// Whole lost frames so far in this loss (saturates at [`MAX_FRAME_COUNT`]).
    lost_frames: usize,
    /// Samples produced in the current lost frame.
    lost_pos: usize,
    /// Attenuation of the next synthetic sample.
    gain: f64,
    /// Weights of the overlap-add of `tail` at the start of the 2nd and 3rd lost frames.
    mix_lw: f64,
    mix_rw: f64,
    mix_incr: f64,
    /// Overlap-add of the synthetic signal into the first good samples after a loss.
    end_left: usize,
    end_lw: f64,
    end_rw: f64,
    end_incr: f64,
    end_incrg: f64,
}

impl G711Plc {
    /// Makes `self` an exact copy of `other` without allocating when both run at the same
    /// rate (a codec uses it to look ahead of the concealment's output delay).
    pub fn copy_state_from(&mut self, other: &Self) {
        let Self {
            sample_rate,
            p,
            history,
            pos,
            pitchbuf,
            lastq,
            tail,
            pitch,
            poverlap,
            poffset,
            pitchblen,
            erasing,
            lost_frames,
            lost_pos,
            gain,
            mix_lw,
            mix_rw,
            mix_incr,
            end_left,
            end_lw,
            end_rw,
            end_incr,
            end_incrg,
        } = other;
        self.sample_rate = *sample_rate;
        self.p = *p;
        self.history.clone_from(history);
        self.pos = *pos;
        self.pitchbuf.clone_from(pitchbuf);
        self.lastq.clone_from(lastq);
        self.tail.clone_from(tail);
        self.pitch = *pitch;
        self.poverlap = *poverlap;
        self.poffset = *poffset;
        self.pitchblen = *pitchblen;
        self.erasing = *erasing;
        self.lost_frames = *lost_frames;
        self.lost_pos = *lost_pos;
        self.gain = *gain;
        self.mix_lw = *mix_lw;
        self.mix_rw = *mix_rw;
        self.mix_incr = *mix_incr;
        self.end_left = *end_left;
        self.end_lw = *end_lw;
        self.end_rw = *end_rw;
        self.end_incr = *end_incr;
        self.end_incrg = *end_incrg;
    }

    /// Concealment for a mono stream at `sample_rate` Hz (8 kHz is the standard; other rates
    /// scale its time constants, rates below 8 kHz use the 8 kHz ones).
    pub fn new(sample_rate: u32) -> Self {
        Self::with_params(sample_rate, Params::for_rate(sample_rate))
    }

    /// Concealment for a mono wideband stream at `sample_rate` Hz, tuned for a wideband
    /// perceptual measure (P.862.2) rather than for bit-exactness with the standard: the pitch
    /// is searched with a 5 ms correlation window (the standard's 20 ms window averages over
    /// a span in which fast speech changes its pitch), at every lag rather than on a decimated
    /// grid then refined, over periods of 4 to 15 ms (the standard starts at 5 ms, below many
    /// female voices' period), and the single last period is
    /// repeated for the whole loss (the standard mixes in a second and third period after 10
    /// and 20 ms, which smears the waveform). Everything else (overlaps, attenuation, silence
    /// after 60 ms, delay) is as in [`new`](Self::new). [`G722PlcDecoder`] uses it; measured
    /// there on the README's wideband speech, WB-PESQ at 5 / 10 / 20 % loss went from
    /// 2.35 / 1.71 / 1.30 to 2.59 / 1.89 / 1.39 (2.54 / 1.89 / 1.38 with the decimated
    /// search).
    ///
    /// [`G722PlcDecoder`]: crate::codec::audio::g722::G722PlcDecoder
    pub fn wideband(sample_rate: u32) -> Self {
        Self::with_params(sample_rate, Params::wideband(sample_rate))
    }

    fn with_params(sample_rate: u32, p: Params) -> Self {
        Self {
            sample_rate,
            p,
            history: vec![0; p.history_len],
            pos: 0,
            pitchbuf: vec![0.0; p.history_len],
            lastq: vec![0.0; p.poverlap_max],
            tail: vec![0; p.poverlap_max],
            pitch: p.pitch_min,
            poverlap: p.pitch_min >> 2,
            poffset: 0,
            pitchblen: p.pitch_min,
            erasing: false,
            lost_frames: 0,
            lost_pos: 0,
            gain: 1.0,
            mix_lw: 0.0,
            mix_rw: 0.0,
            mix_incr: 0.0,
            end_left: 0,
            end_lw: 0.0,
            end_rw: 0.0,
            end_incr: 0.0,
            end_incrg: 0.0,
        }
    }

    /// The sample rate given to [`new`](Self::new).
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The algorithmic delay in samples: every output sample is the input (or concealment)
    /// of this many samples earlier. 30 samples (3.75 ms) at 8 kHz; about 3.75 ms at every rate.
    pub fn delay_samples(&self) -> usize {
        self.p.poverlap_max
    }

    /// The 10 ms unit in which a loss evolves, in samples (80 at 8 kHz).
    pub fn frame_samples(&self) -> usize {
        self.p.frame
    }

    /// Takes a correctly received frame and replaces it, in place, with the output: the stream
    /// delayed by [`delay_samples`](Self::delay_samples), where the first samples after a loss
    /// are overlap-added with the concealment.
    pub fn good_frame(&mut self, frame: &mut [i16]) {
        for s in frame {
            if self.erasing {
                self.end_erasure();
            }
            let mut x = *s;
            if self.end_left > 0 {
                let f = self.next_synth();
                let t = self.end_lw * f64::from(f) + self.end_rw * f64::from(x);
                x = clamp_to_i16(t);
                self.end_lw -= self.end_incrg;
                self.end_rw += self.end_incr;
                self.end_left -= 1;
            }
            *s = self.push(x);
        }
    }

    /// Fills `out` for lost samples: the stream delayed by
    /// [`delay_samples`](Self::delay_samples), continued by the concealment.
    pub fn conceal(&mut self, out: &mut [i16]) {
        for o in out {
            let x = self.synth_sample();
            *o = self.push(x);
        }
    }

    /// Writes the samples still held by the delay at the end of a stream into `out` (at most
    /// [`delay_samples`](Self::delay_samples) of them) and returns how many. This is
    /// [`good_frame`](Self::good_frame) on zeros, as the reference tool does at the end of a
    /// file.
    pub fn flush(&mut self, out: &mut [i16]) -> usize {
        let n = out.len().min(self.delay_samples());
        let out = &mut out[..n];
        out.fill(0);
        self.good_frame(out);
        n
    }

    /// Forgets all history, as if newly constructed.
    pub fn reset(&mut self) {
        self.history.fill(0);
        self.pos = 0;
        self.pitchbuf.fill(0.0);
        self.lastq.fill(0.0);
        self.tail.fill(0);
        self.pitch = self.p.pitch_min;
        self.poverlap = self.p.pitch_min >> 2;
        self.poffset = 0;
        self.pitchblen = self.p.pitch_min;
        self.erasing = false;
        self.lost_frames = 0;
        self.lost_pos = 0;
        self.gain = 1.0;
        self.end_left = 0;
    }

    /// Writes `x` into the history and returns the sample `delay_samples()` older.
    fn push(&mut self, x: i16) -> i16 {
        let hl = self.p.history_len;
        self.history[self.pos] = x;
        let out = self.history[(self.pos + hl - self.p.poverlap_max) % hl];
        self.pos += 1;
        if self.pos == hl {
            self.pos = 0;
        }
        out
    }

    /// Index in the history ring of the sample `back` samples before the newest (1 = newest).
    fn history_index(&self, back: usize) -> usize {
        let hl = self.p.history_len;
        (self.pos + hl - back) % hl
    }

    /// The next sample of the repeated pitch buffer.
    fn next_synth(&mut self) -> i16 {
        let start = self.p.history_len - self.pitchblen;
        let v = self.pitchbuf[start + self.poffset] as i16;
        self.poffset += 1;
        if self.poffset == self.pitchblen {
            self.poffset = 0;
        }
        v
    }

    /// One concealed sample (before the delay).
    fn synth_sample(&mut self) -> i16 {
        if !self.erasing {
            self.erasing = true;
            self.lost_frames = 0;
            self.lost_pos = 0;
            self.end_left = 0;
        }
        if self.lost_pos == 0 {
            self.start_lost_frame();
        }
        let n = self.lost_frames;
        let v = if n >= SILENT_AFTER_FRAMES {
            0
        } else {
            let mut v = self.next_synth();
            if (n == 1 || n == 2) && self.p.add_periods && self.lost_pos < self.poverlap {
                let t =
                    self.mix_lw * f64::from(self.tail[self.lost_pos]) + self.mix_rw * f64::from(v);
                v = clamp_to_i16(t);
                self.mix_lw -= self.mix_incr;
                self.mix_rw += self.mix_incr;
            }
            if n >= 1 {
                v = (f64::from(v) * self.gain) as i16;
                self.gain -= self.p.atten_incr;
            }
            v
        };
        self.lost_pos += 1;
        if self.lost_pos == self.p.frame {
            self.lost_pos = 0;
            self.lost_frames = (self.lost_frames + 1).min(MAX_FRAME_COUNT);
        }
        v
    }

    /// The work done at the start of each lost 10 ms frame.
    fn start_lost_frame(&mut self) {
        let n = self.lost_frames;
        let hl = self.p.history_len;
        if n == 0 {
            // Snapshot the history, estimate the pitch, and build a one-period buffer whose last
            // quarter period is overlap-added with the quarter period before the period.
            for (i, f) in self.pitchbuf.iter_mut().enumerate() {
                *f = f64::from(self.history[(self.pos + i) % hl]);
            }
            self.pitch = self.find_pitch();
            self.poverlap = self.pitch >> 2;
            let po = self.poverlap;
            self.lastq[..po].copy_from_slice(&self.pitchbuf[hl - po..]);
            self.poffset = 0;
            self.pitchblen = self.pitch;
            self.overlap_add_buffer_end();
            // The overlap-added quarter period replaces the newest history samples: they are
            // still inside the output delay, so the change is heard.
            for i in 0..po {
                let idx = self.history_index(po - i);
                self.history[idx] = self.pitchbuf[hl - po + i] as i16;
            }
        } else if (n == 1 || n == 2) && self.p.add_periods {
            // Continue the old buffer for a quarter period (to overlap-add), then add a period.
            let po = self.poverlap;
            let save = self.poffset;
            for i in 0..po {
                self.tail[i] = self.next_synth();
            }
            self.poffset = save;
            while self.poffset > self.pitch {
                self.poffset -= self.pitch;
            }
            self.pitchblen += self.pitch;
            self.overlap_add_buffer_end();
            self.mix_incr = 1.0 / po as f64;
            self.mix_lw = 1.0 - self.mix_incr;
            self.mix_rw = self.mix_incr;
        }
        if (1..SILENT_AFTER_FRAMES).contains(&n) {
            self.gain = 1.0 - (n - 1) as f64 * std8k::ATTENFAC;
        }
    }

    /// Overlap-adds the saved last quarter period with the quarter period before the start of
    /// the pitch buffer, into the end of the buffer, so the buffer loops without a seam.
    fn overlap_add_buffer_end(&mut self) {
        let po = self.poverlap;
        if po == 0 {
            return;
        }
        let hl = self.p.history_len;
        let r = hl - self.pitchblen - po;
        let o = hl - po;
        let incr = 1.0 / po as f64;
        let mut lw = 1.0 - incr;
        let mut rw = incr;
        for i in 0..po {
            let t = lw * self.lastq[i] + rw * self.pitchbuf[r + i];
            self.pitchbuf[o + i] = t.clamp(-32768.0, 32767.0);
            lw -= incr;
            rw += incr;
        }
    }

    /// Sets up the overlap-add of the synthetic signal into the good samples that follow.
    fn end_erasure(&mut self) {
        self.erasing = false;
        // Lost frames begun (the reference's erasure count) and the gain the synthetic signal
        // has reached.
        let (begun, gain) = if self.lost_pos == 0 {
            let n = self.lost_frames;
            (n, 1.0 - n.saturating_sub(1) as f64 * std8k::ATTENFAC)
        } else {
            let n = self.lost_frames;
            let g = match n {
                0 => 1.0,
                _ if n >= SILENT_AFTER_FRAMES => 0.0,
                _ => self.gain,
            };
            (n + 1, g)
        };
        let gain = gain.max(0.0);
        let olen =
            (self.poverlap + begun.saturating_sub(1) * self.p.eoverlap_incr).min(self.p.frame);
        if olen == 0 {
            return;
        }
        self.end_left = olen;
        self.end_incr = 1.0 / olen as f64;
        self.end_incrg = self.end_incr * gain;
        self.end_lw = (1.0 - self.end_incr) * gain;
        self.end_rw = self.end_incr;
    }

    /// Pitch period of the history snapshot in `pitchbuf`: the lag in `pitch_min..=pitch_max`
    /// that maximises the normalised cross-correlation of the last `corr_len` samples, searched
    /// on a decimated grid, then refined.
    fn find_pitch(&self) -> usize {
        let p = &self.p;
        let buf = &self.pitchbuf;
        let l = p.history_len - p.corr_len;
        let r = l - p.pitch_max;
        let diff = p.pitch_max - p.pitch_min;
        let corr_at = |rp: usize, step: usize| {
            let mut c = 0.0f64;
            for i in (0..p.corr_len).step_by(step) {
                c += buf[rp + i] * buf[l + i];
            }
            c
        };

        // Coarse search.
        let mut rp = r;
        let mut energy = 0.0f64;
        let mut corr = 0.0f64;
        for i in (0..p.corr_len).step_by(p.ndec) {
            energy += buf[rp + i] * buf[rp + i];
            corr += buf[rp + i] * buf[l + i];
        }
        let mut best_corr = corr / floor(energy, p.coarse_min_power).sqrt();
        let mut best = 0;
        for j in (p.ndec..=diff).step_by(p.ndec) {
            energy -= buf[rp] * buf[rp];
            energy += buf[rp + p.corr_len] * buf[rp + p.corr_len];
            rp += p.ndec;
            let corr = corr_at(rp, p.ndec) / floor(energy, p.coarse_min_power).sqrt();
            if corr >= best_corr {
                best_corr = corr;
                best = j;
            }
        }

        // Fine search around the coarse lag.
        let lo = best.saturating_sub(p.ndec - 1);
        let hi = (best + (p.ndec - 1)).min(diff);
        let mut rp = r + lo;
        let mut energy = 0.0f64;
        let mut corr = 0.0f64;
        for i in 0..p.corr_len {
            energy += buf[rp + i] * buf[rp + i];
            corr += buf[rp + i] * buf[l + i];
        }
        let mut best_corr = corr / floor(energy, p.fine_min_power).sqrt();
        let mut best = lo;
        for j in lo + 1..=hi {
            energy -= buf[rp] * buf[rp];
            energy += buf[rp + p.corr_len] * buf[rp + p.corr_len];
            rp += 1;
            let corr = corr_at(rp, 1) / floor(energy, p.fine_min_power).sqrt();
            if corr > best_corr {
                best_corr = corr;
                best = j;
            }
        }
        p.pitch_max - best
    }
}

/// `x`, or `min` if `x` is below it (the reference's `if (scale < MIN) scale = MIN`).
fn floor(x: f64, min: f64) -> f64 {
    if x < min {
        min
    } else {
        x
    }
}

/// The reference's clamp to the 16-bit range followed by a truncating conversion.
fn clamp_to_i16(t: f64) -> i16 {
    t.clamp(-32768.0, 32767.0) as i16
}

#[cfg(test)]
mod tests;
