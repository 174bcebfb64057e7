//! G.722 under arbitrary input: every byte string is a valid G.722 stream, every even number of
//! samples a valid frame; odd lengths and short buffers are errors. Nothing panics.

use media_core::codec::audio::g722::{G722Decoder, G722Encoder, HigherBand, LowerBand, Mode};
use media_core::{CodecError, CodecParams, CodecRegistry};
use proptest::prelude::*;

const MODES: [Mode; 3] = [Mode::Kbps64, Mode::Kbps56, Mode::Kbps48];

fn params(bitrate: u32) -> CodecParams {
    let reg = CodecRegistry::with_builtin();
    let mut p = CodecParams::defaults(reg.find("g722").unwrap().descriptor);
    p.bitrate = Some(bitrate);
    p
}

/// A step of a receive path: a packet, or a loss of some samples.
#[derive(Debug, Clone)]
enum Step {
    Packet(Vec<u8>),
    Loss(usize),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..400).prop_map(Step::Packet),
            (0usize..900).prop_map(Step::Loss),
        ],
        1..12,
    )
}

proptest! {
    #[test]
    fn any_bytes_decode_in_every_mode(steps in steps(), mode in 0usize..3) {
        let reg = CodecRegistry::with_builtin();
        let mut dec = reg.decoder("g722", &params(MODES[mode].bitrate())).unwrap();
        let mut out = vec![0i16; 1000];
        for step in &steps {
            match step {
                Step::Packet(p) => match dec.decode(p, &mut out) {
                    Ok(n) => prop_assert_eq!(n, 2 * p.len()),
                    Err(CodecError::InvalidPayload(_)) => prop_assert!(p.is_empty()),
                    Err(e) => prop_assert!(false, "unexpected {e}"),
                },
                Step::Loss(n) => prop_assert_eq!(dec.conceal(&mut out[..*n]).unwrap(), *n),
            }
        }
    }

    #[test]
    fn short_output_buffers_are_errors(codes in prop::collection::vec(any::<u8>(), 1..200), room in 0usize..400) {
        let mut dec = G722Decoder::new(Mode::Kbps64);
        let mut out = vec![0i16; room];
        match dec.decode(&codes, &mut out) {
            Ok(n) => prop_assert!(n == 2 * codes.len() && room >= n),
            Err(CodecError::BufferTooSmall { needed, available }) => {
                prop_assert!(needed == 2 * codes.len() && available == room && room < needed)
            }
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }

    #[test]
    fn encoder_takes_even_lengths_and_rejects_odd_ones(
        pcm in prop::collection::vec(any::<i16>(), 0..700),
        room in 0usize..400,
    ) {
        let reg = CodecRegistry::with_builtin();
        let mut enc = reg.encoder("g722", &params(64000)).unwrap();
        let mut out = vec![0u8; room];
        match enc.encode(&pcm, &mut out) {
            Ok(n) => prop_assert!(pcm.len() % 2 == 0 && n == pcm.len() / 2 && n <= room),
            Err(CodecError::InvalidFrameLength { got, .. }) => {
                prop_assert!(pcm.len() % 2 == 1 && got == pcm.len())
            }
            Err(CodecError::BufferTooSmall { needed, available }) => {
                prop_assert!(pcm.len() % 2 == 0 && needed == pcm.len() / 2 && available < needed)
            }
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }

    #[test]
    fn full_scale_noise_round_trips_through_every_mode(pcm in prop::collection::vec(any::<i16>(), 0..600)) {
        let pcm = &pcm[..pcm.len() & !1];
        let mut codes = vec![0u8; pcm.len() / 2];
        G722Encoder::default().encode(pcm, &mut codes).unwrap();
        for mode in MODES {
            let mut out = vec![0i16; pcm.len()];
            prop_assert_eq!(G722Decoder::new(mode).decode(&codes, &mut out).unwrap(), pcm.len());
        }
    }

    #[test]
    fn sub_band_coders_take_any_input(xs in prop::collection::vec(any::<i16>(), 0..300), codes in prop::collection::vec(any::<u8>(), 0..300)) {
        let (mut low, mut high) = (LowerBand::new(), HigherBand::new());
        for &x in &xs {
            prop_assert!(low.encode(x) < 64);
            prop_assert!(high.encode(x) < 4);
        }
        for mode in MODES {
            let (mut low, mut high) = (LowerBand::new(), HigherBand::new());
            for &c in &codes {
                prop_assert!((-16384..=16383).contains(&low.decode(c, mode)));
                prop_assert!((-16384..=16383).contains(&high.decode(c)));
            }
        }
    }
}

#[test]
fn invalid_bitrates_are_refused() {
    let reg = CodecRegistry::with_builtin();
    for b in [0, 32000, 63999, 128000] {
        assert!(matches!(
            reg.decoder("g722", &params(b)),
            Err(CodecError::UnsupportedParameter {
                name: "bitrate",
                ..
            })
        ));
        assert!(reg.encoder("g722", &params(b)).is_err());
    }
}
