//! Sample-rate conversion (temporary linear interpolation until the polyphase resampler lands).

/// Resamples a whole interleaved signal from `from` Hz to `to` Hz.
pub fn resample_all(input: &[i16], from: u32, to: u32, channels: u16) -> Vec<i16> {
    let ch = usize::from(channels.max(1));
    let frames = input.len() / ch;
    let out_frames = (frames as u64 * u64::from(to) / u64::from(from.max(1))) as usize;
    let mut out = Vec::with_capacity(out_frames * ch);
    for j in 0..out_frames {
        let pos = j as f64 * f64::from(from) / f64::from(to);
        let i = pos.floor() as usize;
        let frac = pos - i as f64;
        for c in 0..ch {
            let a = f64::from(input[(i.min(frames - 1)) * ch + c]);
            let b = f64::from(input[((i + 1).min(frames - 1)) * ch + c]);
            out.push((a + (b - a) * frac).round() as i16);
        }
    }
    out
}
