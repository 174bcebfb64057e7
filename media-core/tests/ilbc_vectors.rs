//! iLBC against the RFC 3951 reference implementation: the vectors in `tests/data/ilbc` (see
//! its README) were made with the reference's own test program from real speech.

use media_core::codec::audio::ilbc::{IlbcDecoder, IlbcEncoder, IlbcMode};
use std::path::PathBuf;

/// (item, modes it has vectors for, whether it has loss runs).
const ITEMS: [(&str, &[IlbcMode], bool); 3] = [
    ("allison", &[IlbcMode::Ms20, IlbcMode::Ms30], true),
    ("hts1a", &[IlbcMode::Ms20, IlbcMode::Ms30], true),
    // Takes the enhancer's refiner through its 4-correlation path (see the README).
    ("ve9qrp", &[IlbcMode::Ms30], false),
];

fn data(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/ilbc")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn le16(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// (SNR in dB, largest difference, samples that differ).
fn compare(ours: &[i16], reference: &[i16]) -> (f64, i32, usize) {
    assert_eq!(ours.len(), reference.len());
    let mut sig = 0.0f64;
    let mut noise = 0.0f64;
    let mut max = 0;
    let mut differ = 0;
    for (&a, &b) in ours.iter().zip(reference) {
        let d = i32::from(a) - i32::from(b);
        sig += f64::from(b) * f64::from(b);
        noise += f64::from(d) * f64::from(d);
        max = max.max(d.abs());
        differ += usize::from(d != 0);
    }
    let snr = if noise == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (sig / noise).log10()
    };
    (snr, max, differ)
}

fn decode(mode: IlbcMode, bits: &[u8], lost: &[bool]) -> Vec<i16> {
    let mut dec = IlbcDecoder::new(mode);
    let n = mode.frame_samples();
    let mut out = vec![0i16; bits.len() / mode.frame_bytes() * n];
    for (i, (frame, o)) in bits
        .chunks_exact(mode.frame_bytes())
        .zip(out.chunks_exact_mut(n))
        .enumerate()
    {
        let lost = lost.get(i).copied().unwrap_or(false);
        dec.decode_frame(if lost { None } else { Some(frame) }, o);
    }
    out
}

fn channel() -> Vec<bool> {
    le16(&data("loss.chn")).iter().map(|&x| x == 0).collect()
}

#[test]
fn decoder_reproduces_the_reference_decoder() {
    let loss = channel();
    for (item, modes, has_loss) in ITEMS {
        for &mode in modes {
            let ms = mode.frame_ms();
            let bits = data(&format!("{item}_{ms}.bit"));
            let runs: &[(&[bool], &str)] = if has_loss {
                &[(&[], ""), (&loss, "_loss")]
            } else {
                &[(&[], "")]
            };
            for &(lost, suffix) in runs {
                let reference = le16(&data(&format!("{item}_{ms}{suffix}.ref.pcm")));
                let ours = decode(mode, &bits, lost);
                let (snr, max, differ) = compare(&ours, &reference);
                println!(
                    "{item} {ms} ms{suffix}: SNR {snr:.1} dB, max |diff| {max}, {differ} of {} samples differ",
                    ours.len()
                );
                assert!(snr >= 50.0, "{item} {ms} ms{suffix}: SNR {snr:.1} dB");
            }
        }
    }
}

#[test]
fn encoder_reproduces_the_reference_bitstream() {
    for (item, modes, _) in ITEMS {
        let pcm = le16(&data(&format!("{item}.pcm")));
        for &mode in modes {
            let ms = mode.frame_ms();
            let reference = data(&format!("{item}_{ms}.bit"));
            let mut enc = IlbcEncoder::new(mode, 1);
            let mut ours = vec![0u8; reference.len()];
            for (frame, o) in pcm
                .chunks_exact(mode.frame_samples())
                .zip(ours.chunks_exact_mut(mode.frame_bytes()))
            {
                enc.encode_frame(frame, o).unwrap();
            }
            let frames = reference.len() / mode.frame_bytes();
            let same = ours
                .chunks_exact(mode.frame_bytes())
                .zip(reference.chunks_exact(mode.frame_bytes()))
                .filter(|(a, b)| a == b)
                .count();
            println!("{item} {ms} ms: {same} of {frames} frames identical");
            assert_eq!(same, frames, "{item} {ms} ms");
        }
    }
}
