//! Opus packet framing (RFC 6716 section 3), read in safe Rust without libopus: the TOC byte,
//! the packet's duration and its first frame. The Ogg layer uses these to time packets and the
//! decoder to tell whether a packet carries in-band FEC. Every function takes arbitrary bytes
//! and returns `None` for a malformed packet; none of them panics.

/// The coding mode a packet's TOC byte names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// SILK only (speech, up to wideband), configurations 0-11.
    Silk,
    /// SILK and CELT together (super-wideband or fullband speech), configurations 12-15.
    Hybrid,
    /// CELT only (music, or low delay), configurations 16-31.
    Celt,
}

/// The mode of a packet whose first byte (the TOC) is `toc`.
pub fn mode(toc: u8) -> Mode {
    match toc >> 3 {
        0..=11 => Mode::Silk,
        12..=15 => Mode::Hybrid,
        _ => Mode::Celt,
    }
}

/// Whether the TOC byte says the packet is coded in stereo.
pub fn is_stereo(toc: u8) -> bool {
    toc & 0x04 != 0
}

/// Samples per channel in each frame of a packet whose TOC is `toc`, at `rate` Hz (as libopus's
/// `opus_packet_get_samples_per_frame`). Rates are the Opus ones (8000..=48000); at those the
/// result is exact.
pub fn samples_per_frame(toc: u8, rate: u32) -> u32 {
    let size = u32::from((toc >> 3) & 3);
    if toc & 0x80 != 0 {
        // CELT: 2.5, 5, 10, 20 ms.
        (rate << size) / 400
    } else if toc & 0x60 == 0x60 {
        // Hybrid: 10 or 20 ms.
        if toc & 0x08 != 0 {
            rate / 50
        } else {
            rate / 100
        }
    } else if size == 3 {
        // SILK 60 ms.
        rate * 60 / 1000
    } else {
        // SILK 10, 20, 40 ms.
        (rate << size) / 100
    }
}

/// The number of frames in `packet`, or `None` if it has no TOC or a code 3 packet lacks its
/// frame count (as libopus's `opus_packet_get_nb_frames`).
pub fn frame_count(packet: &[u8]) -> Option<u32> {
    let toc = *packet.first()?;
    match toc & 3 {
        0 => Some(1),
        1 | 2 => Some(2),
        _ => {
            let count = u32::from(*packet.get(1)? & 0x3f);
            (count > 0).then_some(count)
        }
    }
}

/// The duration of `packet` in samples per channel at `rate` Hz, or `None` when it is malformed
/// or longer than the 120 ms Opus allows. Only the TOC and frame count are read.
pub fn duration(packet: &[u8], rate: u32) -> Option<u32> {
    let toc = *packet.first()?;
    let samples = frame_count(packet)?.checked_mul(samples_per_frame(toc, rate))?;
    // 120 ms at most (RFC 6716 section 3.2.5).
    (u64::from(samples) * 25 <= u64::from(rate) * 3).then_some(samples)
}

/// Reads a frame length coded in one or two bytes (RFC 6716 section 3.2.1): the length and the
/// bytes it took.
fn frame_length(data: &[u8]) -> Option<(usize, usize)> {
    let b0 = *data.first()?;
    if b0 < 252 {
        Some((usize::from(b0), 1))
    } else {
        let b1 = *data.get(1)?;
        Some((usize::from(b1) * 4 + usize::from(b0), 2))
    }
}

/// The first frame of `packet` (its compressed bytes, possibly empty), validating the framing of
/// RFC 6716 section 3.2 as far as needed to find it. `None` for a malformed packet.
pub fn first_frame(packet: &[u8]) -> Option<&[u8]> {
    let toc = *packet.first()?;
    let rest = &packet[1..];
    match toc & 3 {
        // One frame.
        0 => Some(rest),
        // Two frames of equal size.
        1 => rest
            .len()
            .is_multiple_of(2)
            .then(|| &rest[..rest.len() / 2]),
        // Two frames, the first one's length coded.
        2 => {
            let (len, used) = frame_length(rest)?;
            rest.get(used..used.checked_add(len)?)
        }
        // A signalled number of frames, with optional padding, CBR or VBR.
        _ => {
            let header = *rest.first()?;
            let count = usize::from(header & 0x3f);
            if count == 0 {
                return None;
            }
            let vbr = header & 0x80 != 0;
            let mut i = 1;
            let mut padding = 0usize;
            if header & 0x40 != 0 {
                loop {
                    let p = *rest.get(i)?;
                    i += 1;
                    padding += usize::from(p.min(254));
                    if p != 255 {
                        break;
                    }
                }
            }
            let end = rest.len().checked_sub(padding)?;
            if i > end {
                return None;
            }
            if vbr {
                // count - 1 coded lengths, then the frames; the last frame takes what is left.
                let mut lengths_total = 0usize;
                let mut first_len = None;
                for _ in 0..count - 1 {
                    let (len, used) = frame_length(rest.get(i..end)?)?;
                    i += used;
                    lengths_total = lengths_total.checked_add(len)?;
                    first_len.get_or_insert(len);
                }
                if i.checked_add(lengths_total)? > end {
                    return None;
                }
                let first_len = first_len.unwrap_or(end - i);
                rest.get(i..i + first_len)
            } else {
                let data = end - i;
                if data % count != 0 {
                    return None;
                }
                rest.get(i..i + data / count)
            }
        }
    }
}

/// Whether `packet` carries in-band FEC (SILK LBRR data) for the packet before it, read the way
/// libopus's `opus_packet_has_lbrr` reads it: the LBRR flag follows the per-frame VAD flags at
/// the start of the first frame. CELT-only packets never do. `None` for a malformed packet.
pub fn has_fec(packet: &[u8]) -> Option<bool> {
    let toc = *packet.first()?;
    // Validates the framing.
    duration(packet, 48000)?;
    let frame = first_frame(packet)?;
    if mode(toc) == Mode::Celt {
        return Some(false);
    }
    let Some(&first) = frame.first() else {
        return Some(false);
    };
    // SILK frames per Opus frame: 1 for 10/20 ms, 2 for 40 ms, 3 for 60 ms.
    let silk_frames = (samples_per_frame(toc, 48000) / 960).max(1);
    let mut lbrr = (first >> (7 - silk_frames)) & 1 != 0;
    if is_stereo(toc) {
        lbrr |= (first >> (6 - 2 * silk_frames)) & 1 != 0;
    }
    Some(lbrr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_of_every_config() {
        // config -> ms*10
        let expect_tenths = [
            100, 200, 400, 600, 100, 200, 400, 600, 100, 200, 400, 600, // SILK NB/MB/WB
            100, 200, 100, 200, // hybrid SWB/FB
            25, 50, 100, 200, 25, 50, 100, 200, 25, 50, 100, 200, 25, 50, 100, 200, // CELT
        ];
        for (config, &tenths) in expect_tenths.iter().enumerate() {
            let toc = (config as u8) << 3;
            for rate in [8000u32, 12000, 16000, 24000, 48000] {
                assert_eq!(
                    samples_per_frame(toc, rate),
                    rate * tenths / 10000,
                    "config {config} at {rate}"
                );
            }
        }
    }

    #[test]
    fn frame_counts_and_limits() {
        assert_eq!(duration(&[], 48000), None);
        assert_eq!(duration(&[0x78], 48000), Some(960)); // CELT FB 20 ms, code 0
        assert_eq!(duration(&[0x79, 0, 0], 48000), Some(1920)); // code 1
        assert_eq!(duration(&[0x7b], 48000), None); // code 3 without count
        assert_eq!(duration(&[0x7b, 0], 48000), None); // zero frames
        assert_eq!(duration(&[0x7b, 6], 48000), Some(5760)); // 6 x 20 ms = 120 ms
        assert_eq!(duration(&[0x7b, 7], 48000), None); // 140 ms
        assert_eq!(duration(&[0x1b, 2], 16000), Some(1920)); // SILK 60 ms x 2
    }

    #[test]
    fn first_frame_of_each_code() {
        assert_eq!(first_frame(&[0x00, 1, 2, 3]), Some(&[1u8, 2, 3][..]));
        assert_eq!(first_frame(&[0x01, 1, 2, 3, 4]), Some(&[1u8, 2][..]));
        assert_eq!(first_frame(&[0x01, 1, 2, 3]), None);
        assert_eq!(first_frame(&[0x02, 2, 9, 8, 7]), Some(&[9u8, 8][..]));
        assert_eq!(first_frame(&[0x02, 5, 9]), None);
        // Code 3, CBR, 2 frames of 2 bytes.
        assert_eq!(first_frame(&[0x03, 0x02, 1, 2, 3, 4]), Some(&[1u8, 2][..]));
        // Code 3, VBR, 2 frames, first of 1 byte, with 2 bytes of padding.
        assert_eq!(
            first_frame(&[0x03, 0xc2, 2, 1, 7, 8, 9, 0, 0]),
            Some(&[7u8][..])
        );
        // Padding longer than the packet.
        assert_eq!(first_frame(&[0x03, 0x41, 200, 1]), None);
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 1u32;
        for len in 0..64 {
            for _ in 0..200 {
                let p: Vec<u8> = (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                        (seed >> 24) as u8
                    })
                    .collect();
                let _ = (duration(&p, 48000), first_frame(&p), has_fec(&p));
            }
        }
    }
}
