//! Channel conversion between mono and stereo.
//!
//! Downmix rule: mono = (left + right) / 2, rounded toward negative infinity. Halving keeps a
//! full-scale stereo signal from clipping; a sound panned to one side loses 6 dB, the usual
//! trade-off (ITU-R BS.775 uses -3 dB per channel for centre content, which can clip). Upmix
//! copies the mono sample to both channels.

use crate::error::FormatError;

/// Interleaved stereo to mono: `out[i] = (in[2i] + in[2i+1]) / 2`. Returns samples written.
pub fn stereo_to_mono(input: &[i16], out: &mut [i16]) -> Result<usize, FormatError> {
    if !input.len().is_multiple_of(2) {
        return Err(FormatError::BadLength {
            got: input.len(),
            expected: input.len() + 1,
        });
    }
    let n = input.len() / 2;
    if out.len() < n {
        return Err(FormatError::BadLength {
            got: out.len(),
            expected: n,
        });
    }
    for (o, lr) in out.iter_mut().zip(input.chunks_exact(2)) {
        *o = ((i32::from(lr[0]) + i32::from(lr[1])) >> 1) as i16;
    }
    Ok(n)
}

/// Mono to interleaved stereo (both channels equal). Returns samples written.
pub fn mono_to_stereo(input: &[i16], out: &mut [i16]) -> Result<usize, FormatError> {
    let n = input.len() * 2;
    if out.len() < n {
        return Err(FormatError::BadLength {
            got: out.len(),
            expected: n,
        });
    }
    for (o, &x) in out.chunks_exact_mut(2).zip(input) {
        o[0] = x;
        o[1] = x;
    }
    Ok(n)
}

/// Float version of [`stereo_to_mono`]: `out[i] = 0.5 * (l + r)`.
pub fn stereo_to_mono_f32(input: &[f32], out: &mut [f32]) -> Result<usize, FormatError> {
    if !input.len().is_multiple_of(2) || out.len() < input.len() / 2 {
        return Err(FormatError::BadLength {
            got: input.len(),
            expected: out.len() * 2,
        });
    }
    for (o, lr) in out.iter_mut().zip(input.chunks_exact(2)) {
        *o = 0.5 * (lr[0] + lr[1]);
    }
    Ok(input.len() / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downmix_and_upmix() {
        let mut m = [0i16; 3];
        assert_eq!(
            stereo_to_mono(&[100, 300, -32768, -32768, 32767, 32767], &mut m),
            Ok(3)
        );
        assert_eq!(m, [200, -32768, 32767]);
        let mut s = [0i16; 6];
        assert_eq!(mono_to_stereo(&m, &mut s), Ok(6));
        assert_eq!(s, [200, 200, -32768, -32768, 32767, 32767]);
        assert!(stereo_to_mono(&[1, 2, 3], &mut m).is_err());
    }
}
