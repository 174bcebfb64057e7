//! Shared harness for the media-core decoder targets.

use media_core::{CodecParams, CodecRegistry};

/// Drives one codec's decoder with fuzz data: the first byte picks rate, channels and bitrate
/// among those the codec supports; the rest is cut into packets by one-byte length prefixes.
/// Zero-length packets become losses (conceal, or FEC from the next packet).
pub fn decode_stream(codec: &str, data: &[u8]) {
    let reg = CodecRegistry::with_builtin();
    let Ok(entry) = reg.find(codec) else { return };
    let d = entry.descriptor;
    let Some((&sel, mut rest)) = data.split_first() else { return };
    let mut p = CodecParams::defaults(d);
    p.sample_rate = d.sample_rates[usize::from(sel) % d.sample_rates.len()];
    p.channels = 1 + u16::from(sel >> 4) % d.max_channels;
    if let media_core::codec::Bitrates::Modes(m) = d.bitrates {
        p.bitrate = Some(m[usize::from(sel >> 6) % m.len()]);
    }
    let Ok(mut dec) = reg.decoder(codec, &p) else { return };
    let mut out = vec![0i16; dec.max_frame_samples().max(8192)];
    let frame = p.frame_samples().min(out.len());
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (pkt, next) = tail.split_at(len);
        rest = next;
        if pkt.is_empty() {
            let recovered = matches!(dec.decode_fec(rest, &mut out[..frame]), Ok(Some(_)));
            if !recovered {
                let _ = dec.conceal(&mut out[..frame]);
            }
        } else if let Ok(n) = dec.decode(pkt, &mut out) {
            assert!(n <= out.len());
        }
    }
    let _ = dec.flush(&mut out);
}
