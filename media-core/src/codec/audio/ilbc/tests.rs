//! Unit tests of the iLBC codec: modes and SDP, bit packing, the bad-frame paths, packets of
//! several frames. Bit-exactness against the reference is in `tests/ilbc_vectors.rs`.

use super::constants::{MODE_20, MODE_30};
use super::pack::{pack, unpack, FrameParams};
use super::*;

fn speech(n: usize) -> Vec<i16> {
    crate::signal::speech_like(n as f64 / 8000.0, 8000)
        .into_iter()
        .chain(std::iter::repeat(0))
        .take(n)
        .collect()
}

fn params(ptime: u16, bitrate: Option<u32>, fmtp: Option<&str>) -> CodecParams {
    let mut p = CodecParams::defaults(&ILBC);
    p.ptime_ms = ptime;
    p.bitrate = bitrate;
    p.fmtp = fmtp.map(str::to_string);
    p
}

#[test]
fn negotiation_follows_rfc3952() {
    assert_eq!(negotiate_mode(Some(20), 20), 20);
    assert_eq!(negotiate_mode(Some(20), 30), 30);
    assert_eq!(negotiate_mode(Some(30), 20), 30);
    assert_eq!(negotiate_mode(Some(30), 30), 30);
    // No mode in the offer: the default, 30.
    assert_eq!(negotiate_mode(None, 20), 30);
    assert_eq!(negotiate_mode(Some(25), 20), 30);
}

#[test]
fn fmtp_mode_parsing() {
    assert_eq!(fmtp_mode("mode=20"), Ok(Some(IlbcMode::Ms20)));
    assert_eq!(fmtp_mode("foo=1; MODE = 30"), Ok(Some(IlbcMode::Ms30)));
    assert_eq!(fmtp_mode("foo=1"), Ok(None));
    assert_eq!(fmtp_mode(""), Ok(None));
    assert!(fmtp_mode("mode=25").is_err());
    assert!(fmtp_mode("mode=").is_err());
}

#[test]
fn mode_from_fmtp_then_bitrate_then_ptime() {
    assert_eq!(mode_for(&params(20, None, None)), Ok(IlbcMode::Ms20));
    assert_eq!(mode_for(&params(40, None, None)), Ok(IlbcMode::Ms20));
    assert_eq!(mode_for(&params(30, None, None)), Ok(IlbcMode::Ms30));
    assert_eq!(mode_for(&params(60, None, None)), Ok(IlbcMode::Ms30));
    assert_eq!(mode_for(&params(60, Some(15200), None)), Ok(IlbcMode::Ms20));
    assert_eq!(mode_for(&params(60, Some(13330), None)), Ok(IlbcMode::Ms30));
    assert_eq!(
        mode_for(&params(60, Some(13330), Some("mode=20"))),
        Ok(IlbcMode::Ms20)
    );
    assert!(mode_for(&params(60, Some(64000), None)).is_err());
    // The encoder needs whole frames per packet; the decoder takes what comes.
    assert!(new_encoder(&params(30, None, Some("mode=20"))).is_err());
    assert!(new_encoder(&params(40, None, Some("mode=30"))).is_err());
    assert!(new_decoder(&params(40, None, Some("mode=30"))).is_ok());
    let enc = new_encoder(&params(60, None, Some("mode=20"))).unwrap();
    assert_eq!((enc.frame_samples(), enc.max_payload_bytes()), (480, 114));
    let enc = new_encoder(&params(60, None, None)).unwrap();
    assert_eq!((enc.frame_samples(), enc.max_payload_bytes()), (480, 100));
}

#[test]
fn descriptor_and_registry() {
    let reg = crate::codec::CodecRegistry::with_builtin();
    let e = reg.find("iLBC").unwrap();
    assert_eq!(e.descriptor.name, "ilbc");
    let (e, p) = reg.find_rtpmap("iLBC/8000").unwrap();
    assert_eq!((e.descriptor.name, p.sample_rate), ("ilbc", 8000));
    let cap = reg
        .capabilities()
        .into_iter()
        .find(|c| c.descriptor.name == "ilbc")
        .unwrap();
    assert_eq!(cap.rtpmap, "iLBC/8000");
    assert_eq!(cap.fmtp.as_deref(), Some("mode=30"));
    assert!(cap.payload_type.0 >= 96);
}

#[test]
fn pack_unpack_round_trip() {
    for m in [MODE_20, MODE_30] {
        // A pattern that uses every bit of every field.
        let mut p = FrameParams::zero();
        let mut k = 7i32;
        let mut next = |bits: u32| {
            k = k.wrapping_mul(1103515245).wrapping_add(12345);
            (k >> 8) & ((1 << bits) - 1)
        };
        let total = |b: &constants::Bits| u32::from(b[0] + b[1] + b[2]);
        let u = m.ulp;
        for i in 0..3 * m.lpc_n {
            p.lsf[i] = next(total(&u.lsf[i]));
        }
        p.start = next(total(&u.start));
        p.state_first = next(1);
        p.idx_for_max = next(6);
        for x in &mut p.idx_vec[..m.state_short_len] {
            *x = next(3);
        }
        for i in 0..3 {
            p.extra_cb_index[i] = next(total(&u.extra_cb_index[i]));
            p.extra_gain_index[i] = next(total(&u.extra_cb_gain[i]));
        }
        for i in 0..m.nasub * 3 {
            p.cb_index[i] = next(total(&u.cb_index[i / 3][i % 3]));
            p.gain_index[i] = next(total(&u.cb_gain[i / 3][i % 3]));
        }
        let mut bytes = [0u8; 50];
        pack(&p, &m, &mut bytes);
        let (q, empty) = unpack(&bytes[..m.no_of_bytes], &m);
        assert!(!empty);
        assert_eq!(p, q, "mode {}", m.mode);
        // Every bit is used: 303 or 399 bits of parameters, then the empty-frame bit.
        assert_eq!(bytes[m.no_of_bytes - 1] & 1, 0);
    }
}

/// Runs the same history through two decoders, then gives one `bad` and the other a loss.
fn bad_frame_is_concealed(mode: IlbcMode, corrupt: impl Fn(&mut [u8])) {
    let n = mode.frame_samples();
    let pcm = speech(n * 6);
    let mut enc = IlbcEncoder::new(mode, 1);
    let mut frames = vec![vec![0u8; mode.frame_bytes()]; 6];
    for (f, x) in frames.iter_mut().zip(pcm.chunks(n)) {
        enc.encode_frame(x, f).unwrap();
    }
    let mut a = IlbcDecoder::new(mode);
    let mut b = IlbcDecoder::new(mode);
    let (mut oa, mut ob) = (vec![0i16; n], vec![0i16; n]);
    for f in &frames[..4] {
        assert!(a.decode_frame(Some(f), &mut oa));
        assert!(b.decode_frame(Some(f), &mut ob));
        assert_eq!(oa, ob);
    }
    let mut bad = frames[4].clone();
    corrupt(&mut bad);
    assert!(!a.decode_frame(Some(&bad), &mut oa));
    assert!(!b.decode_frame(None, &mut ob));
    assert_eq!(oa, ob);
    // And through the payload interface: a bad frame is concealed, not an error.
    assert_eq!(a.decode(&bad, &mut oa), Ok(n));
    b.conceal(&mut ob).unwrap();
    assert_eq!(oa, ob);
    a.decode(&frames[5], &mut oa).unwrap();
    b.decode(&frames[5], &mut ob).unwrap();
    assert_eq!(oa, ob);
}

#[test]
fn empty_frame_indicator_conceals() {
    for mode in [IlbcMode::Ms20, IlbcMode::Ms30] {
        bad_frame_is_concealed(mode, |f| {
            let last = f.len() - 1;
            f[last] |= 1;
        });
    }
}

#[test]
fn impossible_start_state_conceals() {
    // The start-state position follows the LSF indices (20 bits in 20 ms mode, 40 in 30 ms):
    // 0 is never valid, nor 6 or 7 in 30 ms mode.
    bad_frame_is_concealed(IlbcMode::Ms20, |f| f[2] &= !0x0c);
    bad_frame_is_concealed(IlbcMode::Ms30, |f| f[5] &= 0x1f);
    bad_frame_is_concealed(IlbcMode::Ms30, |f| f[5] |= 0xe0);
}

#[test]
fn packets_of_several_frames_and_mode_switching() {
    let pcm = speech(480);
    let mut enc = IlbcEncoder::new(IlbcMode::Ms20, 3);
    let mut payload = vec![0u8; enc.max_payload_bytes()];
    assert_eq!(enc.encode(&pcm, &mut payload), Ok(114));
    // Frame by frame gives the same bytes.
    let mut one = IlbcEncoder::new(IlbcMode::Ms20, 1);
    let mut f = [0u8; 38];
    for (i, x) in pcm.chunks(160).enumerate() {
        one.encode_frame(x, &mut f).unwrap();
        assert_eq!(&payload[i * 38..(i + 1) * 38], &f[..]);
    }
    // A decoder set up for 30 ms switches to 20 ms on 3 x 38 bytes.
    let mut dec = IlbcDecoder::new(IlbcMode::Ms30);
    let mut out = vec![0i16; 960];
    assert_eq!(dec.decode(&payload, &mut out), Ok(480));
    assert_eq!(dec.mode(), IlbcMode::Ms20);
    assert_eq!(dec.delay_samples(), 40);
    // Not whole frames of either mode: an error, and nothing changes.
    assert!(matches!(
        dec.decode(&payload[..99], &mut out),
        Err(CodecError::InvalidPayload(_))
    ));
    assert_eq!(dec.mode(), IlbcMode::Ms20);
    assert!(matches!(
        dec.decode(&[], &mut out),
        Err(CodecError::InvalidPayload(_))
    ));
    assert!(matches!(
        dec.decode(&payload, &mut out[..300]),
        Err(CodecError::BufferTooSmall { needed: 480, .. })
    ));
    // The encoder takes whole frames only.
    assert!(enc.encode(&pcm[..100], &mut payload).is_err());
    assert!(enc.encode(&[], &mut payload).is_err());
    assert!(enc.encode(&pcm, &mut payload[..50]).is_err());
    // Concealment fills any length; flush gives the delayed tail.
    assert_eq!(dec.conceal(&mut out[..100]), Ok(100));
    assert_eq!(dec.flush(&mut out), 40);
}

#[test]
fn encode_decode_is_speech_shaped() {
    // Not a quality test (PESQ is scripts/quality.py): the decoded signal follows the input,
    // 80 samples late in 30 ms mode.
    let pcm = speech(8000);
    let mut enc = IlbcEncoder::new(IlbcMode::Ms30, 1);
    let mut dec = IlbcDecoder::new(IlbcMode::Ms30);
    let mut out = Vec::new();
    let (mut f, mut o) = ([0u8; 50], [0i16; 240]);
    for x in pcm.chunks_exact(240) {
        enc.encode_frame(x, &mut f).unwrap();
        dec.decode(&f, &mut o).unwrap();
        out.extend_from_slice(&o);
    }
    let d = dec.delay_samples();
    let (mut sig, mut err) = (0.0f64, 0.0f64);
    for (x, y) in pcm[..out.len() - d].iter().zip(&out[d..]) {
        sig += f64::from(*x).powi(2);
        err += (f64::from(*x) - f64::from(*y)).powi(2);
    }
    let snr = 10.0 * (sig / err).log10();
    assert!(snr > 3.0, "SNR {snr:.1} dB");
}

#[test]
fn extreme_inputs_encode_and_decode() {
    let n = 240;
    let mut signals: Vec<Vec<i16>> = vec![
        vec![0; n * 4],
        vec![i16::MAX; n * 4],
        vec![i16::MIN; n * 4],
        (0..n * 4)
            .map(|i| if i % 2 == 0 { i16::MAX } else { i16::MIN })
            .collect(),
        (0..n * 4)
            .map(|i| if i % 97 == 0 { i16::MAX } else { 0 })
            .collect(),
        (0..n * 4)
            .map(|i| if i % 7 < 3 { -20000 } else { 31000 })
            .collect(),
    ];
    let mut x = 12345u32;
    signals.push(
        (0..n * 4)
            .map(|_| {
                x = x.wrapping_mul(1664525).wrapping_add(1013904223);
                (x >> 16) as i16
            })
            .collect(),
    );
    for mode in [IlbcMode::Ms20, IlbcMode::Ms30] {
        let fs = mode.frame_samples();
        let mut enc = IlbcEncoder::new(mode, 1);
        let mut dec = IlbcDecoder::new(mode);
        let mut f = [0u8; 50];
        let mut o = [0i16; 240];
        for s in &signals {
            for x in s.chunks_exact(fs) {
                let len = enc.encode_frame(x, &mut f).unwrap();
                // The encoder never sets the empty-frame bit nor an impossible start.
                assert!(dec.decode_frame(Some(&f[..len]), &mut o[..fs]));
            }
        }
    }
}
