//! Format conversion: sample formats, channel layouts and (in `resampler`) sample rates.

pub mod channels;
pub mod resampler;

pub use resampler::{resample_all, Resampler};

/// Converts 16-bit samples to floats in [-1, 1).
pub fn i16_to_f32(input: &[i16], out: &mut [f32]) {
    for (o, &x) in out.iter_mut().zip(input) {
        *o = f32::from(x) * (1.0 / 32768.0);
    }
}

/// Converts floats to 16-bit with rounding and saturation; NaN becomes 0.
pub fn f32_to_i16(input: &[f32], out: &mut [i16]) {
    for (o, &x) in out.iter_mut().zip(input) {
        // `as` saturates and maps NaN to 0, which is what a sample converter wants.
        *o = (x * 32768.0).round() as i16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i16_f32_round_trip_is_exact() {
        let all: Vec<i16> = (i16::MIN..=i16::MAX).collect();
        let mut f = vec![0.0; all.len()];
        let mut back = vec![0; all.len()];
        i16_to_f32(&all, &mut f);
        f32_to_i16(&f, &mut back);
        assert_eq!(all, back);
    }

    #[test]
    fn f32_saturates() {
        let mut out = [0i16; 4];
        f32_to_i16(&[2.0, -2.0, f32::NAN, 0.99999], &mut out);
        assert_eq!(out, [32767, -32768, 0, 32767]);
    }
}
