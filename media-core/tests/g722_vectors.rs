//! ITU-T G.722 test vectors (G.191 STL set).
//!
//! Appendix II sub-band tests drive the ADPCM coders without the QMF. Each input word holds a
//! reset flag in its least significant bit; the reference programs (`tstcg722`, `tstdg722`)
//! reset the coders on a set flag and then write the word `1` instead of a result:
//!
//! * encoder: `bt1c1.xmt` -> `bt2r1.cod`, `bt1c2.xmt` -> `bt2r2.cod`; the sub-band sample is
//!   `word >> 1`, the expected word `((ih << 6) | il) << 8`.
//! * decoder: `bt2r1.cod` -> `bt3l1.rc1..3` / `bt3h1.rc0`, `bt2r2.cod` -> `bt3l2.*` / `bt3h2.rc0`,
//!   and `bt1d3.cod` (every code, not an encoder output) -> `bt3l3.*` / `bt3h3.rc0`; the
//!   lower-band output of mode `m` is in `.rc<m>`, the higher band in `.rc0`, as `sample << 1`.
//!
//! The full codec: encoding `inpsp.bin` gives the codes of `codspw.cod` (one per word), and
//! decoding them in modes 1, 2, 3 gives `outsp1.bin`, `outsp2.bin`, `outsp3.bin`.

mod common;

use media_core::codec::audio::g722::{G722Decoder, G722Encoder, HigherBand, LowerBand, Mode};

const MODES: [Mode; 3] = [Mode::Kbps64, Mode::Kbps56, Mode::Kbps48];

fn subband_encode(input: &str) -> Vec<i16> {
    let mut low = LowerBand::new();
    let mut high = HigherBand::new();
    common::read_le16(input)
        .into_iter()
        .map(|w| {
            if w & 1 == 1 {
                low.reset();
                high.reset();
                return 1;
            }
            let x = w >> 1;
            let il = low.encode(x);
            let ih = high.encode(x);
            (((u16::from(ih) << 6) | u16::from(il)) << 8) as i16
        })
        .collect()
}

fn subband_decode(input: &str, mode: Mode) -> (Vec<i16>, Vec<i16>) {
    let mut low = LowerBand::new();
    let mut high = HigherBand::new();
    common::read_le16(input)
        .into_iter()
        .map(|w| {
            if w & 1 == 1 {
                low.reset();
                high.reset();
                return (1, 1);
            }
            let code = (w as u16 >> 8) as u8;
            let rl = low.decode(code & 0x3f, mode);
            let rh = high.decode(code >> 6);
            (rl << 1, rh << 1)
        })
        .unzip()
}

#[test]
fn appendix2_encoder_sequences() {
    for (input, expected) in [
        ("g722/bt1c1.xmt", "g722/bt2r1.cod"),
        ("g722/bt1c2.xmt", "g722/bt2r2.cod"),
    ] {
        common::assert_same(input, &subband_encode(input), &common::read_le16(expected));
    }
}

#[test]
fn appendix2_decoder_sequences() {
    for (input, set) in [
        ("g722/bt2r1.cod", 1),
        ("g722/bt2r2.cod", 2),
        ("g722/bt1d3.cod", 3),
    ] {
        for mode in MODES {
            let (low, high) = subband_decode(input, mode);
            let m = mode.number();
            common::assert_same(
                &format!("{input} mode {m} lower band"),
                &low,
                &common::read_le16(&format!("g722/bt3l{set}.rc{m}")),
            );
            // The higher band does not depend on the mode.
            common::assert_same(
                &format!("{input} mode {m} higher band"),
                &high,
                &common::read_le16(&format!("g722/bt3h{set}.rc0")),
            );
        }
    }
}

#[test]
fn speech_encodes_to_the_reference_codes() {
    let pcm = common::read_le16("g722/inpsp.bin");
    let want: Vec<i16> = common::read_le16("g722/codspw.cod");
    let mut enc = G722Encoder::default();
    let mut codes = vec![0u8; pcm.len() / 2];
    // Odd-sized chunks of whole pairs, to exercise the state carried between calls.
    let mut done = 0;
    for chunk in pcm.chunks(2 * 157) {
        done += enc.encode(chunk, &mut codes[done..]).unwrap();
    }
    assert_eq!(done, want.len());
    let got: Vec<i16> = codes.iter().map(|&c| i16::from(c)).collect();
    common::assert_same("inpsp.bin -> codspw.cod", &got, &want);
}

#[test]
fn speech_codes_decode_to_the_reference_output_in_each_mode() {
    let codes: Vec<u8> = common::read_le16("g722/codspw.cod")
        .into_iter()
        .map(|w| u8::try_from(w).expect("one code per word"))
        .collect();
    for mode in MODES {
        let mut dec = G722Decoder::new(mode);
        let mut out = vec![0i16; codes.len() * 2];
        let mut done = 0;
        for chunk in codes.chunks(160) {
            done += dec.decode(chunk, &mut out[done..]).unwrap();
        }
        let m = mode.number();
        common::assert_same(
            &format!("codspw.cod mode {m}"),
            &out,
            &common::read_le16(&format!("g722/outsp{m}.bin")),
        );
    }
}

#[test]
fn byte_swapped_file_holds_the_same_codes() {
    // codsp.cod is codspw.cod packed two codes per word with the pair swapped.
    let words = common::read_le16("g722/codspw.cod");
    let packed = std::fs::read(common::testdata("g722/codsp.cod")).unwrap();
    let unswapped: Vec<i16> = packed
        .chunks_exact(2)
        .flat_map(|p| [i16::from(p[1]), i16::from(p[0])])
        .collect();
    assert_eq!(unswapped, words);
}
