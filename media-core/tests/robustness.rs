//! Bad input never panics: arbitrary bytes and odd lengths into every decoder, encoder and the
//! WAV reader give an error or output, nothing else.

use media_core::codec::CodecRegistry;
use media_core::wav::read_wav_from;
use media_core::CodecParams;
use proptest::prelude::*;
use std::io::Cursor;

fn all_codecs() -> Vec<(&'static str, CodecParams)> {
    let reg = CodecRegistry::with_builtin();
    let mut v = Vec::new();
    for e in reg.entries() {
        let d = e.descriptor;
        for &rate in d.sample_rates {
            for ch in 1..=d.max_channels {
                let mut p = CodecParams::defaults(d);
                p.sample_rate = rate;
                p.channels = ch;
                v.push((d.name, p));
            }
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decoders_survive_arbitrary_payloads(payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..700), 1..8),
                                           conceal_len in 0usize..2000) {
        let reg = CodecRegistry::with_builtin();
        for (name, params) in all_codecs() {
            let mut dec = reg.decoder(name, &params).unwrap();
            let mut out = vec![0i16; 4000];
            for p in &payloads {
                match dec.decode(p, &mut out) {
                    Ok(n) => prop_assert!(n <= out.len()),
                    Err(_) => { let k = conceal_len.min(out.len()); let _ = dec.conceal(&mut out[..k]); }
                }
            }
            // A too-small output buffer is an error, not a panic.
            let mut tiny = [0i16; 1];
            let _ = dec.decode(&payloads[0], &mut tiny);
            let _ = dec.decode_fec(&payloads[0], &mut tiny);
            dec.reset();
        }
    }

    #[test]
    fn encoders_survive_odd_lengths(pcm in prop::collection::vec(any::<i16>(), 0..3000), out_len in 0usize..7000) {
        let reg = CodecRegistry::with_builtin();
        for (name, params) in all_codecs() {
            let mut enc = reg.encoder(name, &params).unwrap();
            let mut out = vec![0u8; out_len];
            if let Ok(n) = enc.encode(&pcm, &mut out) {
                prop_assert!(n <= out.len());
            }
        }
    }

    /// Whole iLBC frames of arbitrary bits (so the payloads get past the length check and into
    /// the decoder proper), in either mode, mixed with losses of any length and resets.
    #[test]
    fn ilbc_decoder_survives_arbitrary_frames(ops in prop::collection::vec((0u8..4, 1usize..4, prop::collection::vec(any::<u8>(), 150)), 1..24),
                                              conceal_len in 0usize..1000) {
        use media_core::codec::audio::ilbc::{IlbcDecoder, IlbcMode};
        use media_core::AudioDecoder;
        let mut dec = IlbcDecoder::new(IlbcMode::Ms30);
        let mut out = vec![0i16; 1000];
        for (op, frames, bytes) in &ops {
            match op {
                0 | 1 => {
                    let len = frames * if *op == 0 { 38 } else { 50 };
                    let n = dec.decode(&bytes[..len], &mut out).unwrap();
                    prop_assert_eq!(n, frames * if *op == 0 { 160 } else { 240 });
                }
                2 => { prop_assert_eq!(dec.conceal(&mut out[..conceal_len]), Ok(conceal_len)); }
                _ => {
                    let n = dec.flush(&mut out);
                    prop_assert!(n <= 80);
                    dec.reset();
                }
            }
        }
    }

    #[test]
    fn wav_reader_survives_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = read_wav_from(Cursor::new(bytes));
    }

    #[test]
    fn wav_reader_survives_corrupted_headers(pos in 0usize..44, val in any::<u8>(), cut in 0usize..200) {
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(36u32 + 160).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&8000u32.to_le_bytes());
        b.extend_from_slice(&16000u32.to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&160u32.to_le_bytes());
        b.extend(std::iter::repeat_n(7u8, 160));
        b[pos] = val;
        b.truncate(b.len() - cut.min(b.len()));
        let _ = read_wav_from(Cursor::new(b));
    }
}
