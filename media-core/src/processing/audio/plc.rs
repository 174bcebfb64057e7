//! Packet loss concealment for waveform codecs (G.711, L16).
//!
//! INTERIM: repeats the last 10 ms with a linear fade. Being replaced by the ITU-T G.711
//! Appendix I port in this same milestone.

/// Concealment state for one mono stream.
#[derive(Debug, Clone)]
pub struct G711Plc {
    history: Vec<i16>,
    erased: usize,
}

impl G711Plc {
    /// Concealment for a mono stream at `sample_rate` Hz.
    pub fn new(sample_rate: u32) -> Self {
        Self {
            history: vec![0; (sample_rate / 100) as usize],
            erased: 0,
        }
    }

    /// Records a correctly received frame (may modify it to smooth the end of a loss).
    pub fn good_frame(&mut self, frame: &mut [i16]) {
        self.erased = 0;
        let h = self.history.len();
        if frame.len() >= h {
            self.history.copy_from_slice(&frame[frame.len() - h..]);
        } else {
            self.history.copy_within(frame.len().., 0);
            self.history[h - frame.len()..].copy_from_slice(frame);
        }
    }

    /// Fills `out` for a lost frame.
    pub fn conceal(&mut self, out: &mut [i16]) {
        let h = self.history.len().max(1);
        for (i, o) in out.iter_mut().enumerate() {
            let n = self.erased + i;
            let gain = 1.0 - (n as f32 / (6 * h) as f32).min(1.0);
            *o = (f32::from(self.history[n % h]) * gain) as i16;
        }
        self.erased += out.len();
    }

    /// Forgets all history.
    pub fn reset(&mut self) {
        self.history.fill(0);
        self.erased = 0;
    }
}
