//! ITU-T G.191 G.711 sweep. `sweep-r.u` / `sweep-r.a` hold the reference encoder's code words
//! (one per 16-bit word, 0..=255; the testdata README calls them linear, but the data are codes):
//! encoding `sweep.src` must give them exactly. Decoding is checked against the expansion values
//! printed in ITU-T G.711 Tables 1a/2a and by re-encoding.

mod common;

use media_core::codec::audio::g711;
use media_core::{CodecParams, CodecRegistry};

fn encode_all(codec: &str, src: &[i16]) -> Vec<i16> {
    let reg = CodecRegistry::with_builtin();
    let d = reg.find(codec).unwrap().descriptor;
    let mut enc = reg.encoder(codec, &CodecParams::defaults(d)).unwrap();
    let mut out = Vec::with_capacity(src.len());
    let mut bytes = vec![0u8; 160];
    for chunk in src.chunks(160) {
        let n = enc.encode(chunk, &mut bytes).unwrap();
        out.extend(bytes[..n].iter().map(|&b| i16::from(b)));
    }
    out
}

fn count_diffs(a: &[i16], b: &[i16]) -> usize {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).filter(|(x, y)| x != y).count()
}

#[test]
fn ulaw_sweep_encodes_bit_exact() {
    let src = common::read_le16("g711/sweep.src");
    assert_eq!(src.len(), 65536);
    let want = common::read_le16("g711/sweep-r.u");
    assert_eq!(count_diffs(&encode_all("PCMU", &src), &want), 0);
}

#[test]
fn alaw_sweep_encodes_bit_exact() {
    let src = common::read_le16("g711/sweep.src");
    let want = common::read_le16("g711/sweep-r.a");
    assert_eq!(count_diffs(&encode_all("pcma", &src), &want), 0);
}

#[test]
fn decoding_the_reference_codes_round_trips() {
    for (file, decode, encode) in [
        (
            "g711/sweep-r.u",
            g711::ulaw_to_linear as fn(u8) -> i16,
            g711::linear_to_ulaw as fn(i16) -> u8,
        ),
        ("g711/sweep-r.a", g711::alaw_to_linear, g711::linear_to_alaw),
    ] {
        for w in common::read_le16(file) {
            let code = u8::try_from(w).unwrap();
            let back = encode(decode(code));
            assert!(
                back == code || (code == 0x7f && back == 0xff),
                "{file}: {code:#x}"
            );
        }
    }
}

#[test]
fn decoder_matches_g711_tables() {
    // µ-law: decision values scaled to 16 bits (Table 2a x 4).
    assert_eq!(g711::ulaw_to_linear(0x00), -32124);
    assert_eq!(g711::ulaw_to_linear(0x80), 32124);
    assert_eq!(g711::ulaw_to_linear(0xff), 0);
    assert_eq!(g711::ulaw_to_linear(0xfe), 8);
    assert_eq!(g711::ulaw_to_linear(0xf0), 120);
    // A-law (Table 1a x 8): the even bits are inverted on the line (0x55).
    assert_eq!(g711::alaw_to_linear(0xd5), 8);
    assert_eq!(g711::alaw_to_linear(0x55), -8);
    assert_eq!(g711::alaw_to_linear(0xaa), 32256);
    assert_eq!(g711::alaw_to_linear(0x2a), -32256);
}
