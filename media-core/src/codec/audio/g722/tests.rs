use super::adpcm::{leak8, quantize6};
use super::tables::QMF;
use super::*;

#[test]
fn registry_offers_g722_as_rfc_3551_says() {
    use crate::codec::CodecRegistry;
    let reg = CodecRegistry::with_builtin();
    let sdp = reg
        .capabilities()
        .into_iter()
        .find(|c| c.descriptor.name == "g722")
        .unwrap();
    assert_eq!(sdp.payload_type.0, 9);
    assert_eq!(sdp.rtpmap, "G722/8000");
    let (entry, params) = reg.find_rtpmap("G722/8000").unwrap();
    assert_eq!(entry.descriptor.name, "g722");
    assert_eq!(params.sample_rate, 16000);
    assert_eq!(params.frame_samples(), 320);
    let enc = reg.encoder("g722", &params).unwrap();
    assert_eq!((enc.frame_samples(), enc.max_payload_bytes()), (320, 160));
    let dec = reg.decoder("g722", &params).unwrap();
    assert_eq!(dec.format(), AudioFormat::mono_i16(16000));
    assert_eq!(Mode::from_bitrate(56000), Some(Mode::Kbps56));
}

#[test]
fn leakage_without_multiply_matches_the_reference_product() {
    for b in i16::MIN..=i16::MAX {
        assert_eq!(i32::from(leak8(b)), (i32::from(b) * 32640) >> 15, "{b}");
    }
}

#[test]
fn scale_factor_table_spans_the_reset_values_and_the_maximum() {
    // Reset values of DETL (32) and DETH (8), and the largest scale factor.
    assert_eq!(DET[64], 32);
    assert_eq!(DET[0], 8);
    assert_eq!(DET[352], 16384);
    assert!(DET.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn binary_search_quantiser_matches_linear_search() {
    for det in [32, 33, 100, 1000, 4096, 16384] {
        for wd in 0..=32767 {
            let mut mil = 1;
            while mil < 30 && (Q6[mil] * det) >> 12 <= wd {
                mil += 1;
            }
            assert_eq!(quantize6(wd, det), mil, "wd {wd} det {det}");
        }
    }
}

#[test]
fn inverse_quantisers_match_the_recommendation() {
    // Spot checks against Tables 6-8 (levels times 8), code order of Table 6.
    assert_eq!(INVQ_LOW[0][61], 136);
    assert_eq!(INVQ_LOW[0][63], -136);
    assert_eq!(INVQ_LOW[0][32], 24808);
    assert_eq!(INVQ_LOW[0][4], -24808);
    assert_eq!(INVQ_LOW[0][0], -136);
    assert_eq!(INVQ_LOW[1][63], -280);
    assert_eq!(INVQ_LOW[1][61], 280);
    assert_eq!(INVQ_LOW[1][32], 23352);
    assert_eq!(INVQ_LOW[2][32], 20456);
    assert_eq!(INVQ_LOW[2][63], 0);
    assert_eq!(QM4[7], -1200);
    assert_eq!(
        WL4,
        [-60, 3042, 1198, 538, 334, 172, 58, -30, 3042, 1198, 538, 334, 172, 58, -30, -60]
    );
}

#[test]
fn analysis_qmf_limits_its_outputs_to_15_bits_as_the_reference() {
    // A full-scale signal shaped to the filter: the unlimited lower band would reach
    // sum(|h|) * 32767 >> 14 = 25926. The ITU-T reference (qmf_tx) limits both outputs to
    // -16384..=16383 (spandsp and ffmpeg do not; the test vectors never get there).
    let pcm: Vec<i16> = QMF
        .iter()
        .rev()
        .map(|&h| if h >= 0 { i16::MAX } else { i16::MIN })
        .collect();
    let (mut xl, mut xh) = ([0; BLOCK], [0; BLOCK]);
    let n = AnalysisQmf::default().analyse(&pcm, &mut xl, &mut xh);
    assert_eq!(n, 12);
    assert_eq!(xl[11], 16383);
    assert!(xl[..n]
        .iter()
        .chain(&xh[..n])
        .all(|x| (-16384..=16383).contains(x)));
}

#[test]
fn encoder_codes_decode_in_every_mode_without_panicking() {
    let pcm: Vec<i16> = (0..640)
        .map(|i| ((i as f64 * 0.07).sin() * 12000.0) as i16)
        .collect();
    let mut enc = G722Encoder::default();
    let mut codes = [0u8; 320];
    assert_eq!(enc.encode(&pcm, &mut codes).unwrap(), 320);
    for mode in [Mode::Kbps64, Mode::Kbps56, Mode::Kbps48] {
        let mut dec = G722Decoder::new(mode);
        let mut out = [0i16; 640];
        assert_eq!(dec.decode(&codes, &mut out).unwrap(), 640);
        // Some signal comes back.
        assert!(out.iter().any(|&x| x.unsigned_abs() > 4000));
    }
}
