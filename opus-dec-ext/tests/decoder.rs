use opus_dec_ext::{Error, OpusDecoder};

/// 16 kHz voiced speech-like PCM: a gliding harmonic tone with a syllable envelope.
fn speechlike(n: usize) -> Vec<i16> {
    let mut ph = 0.0f64;
    (0..n)
        .map(|i| {
            let t = i as f64 / 16000.0;
            let f0 = 120.0 + 40.0 * (2.0 * std::f64::consts::PI * 0.7 * t).sin();
            ph += 2.0 * std::f64::consts::PI * f0 / 16000.0;
            let env = (2.0 * std::f64::consts::PI * 3.0 * t).sin().abs();
            let s: f64 = (1..12).map(|k| (k as f64 * ph).sin() / k as f64).sum();
            (6000.0 * env * s) as i16
        })
        .collect()
}

fn packets() -> Vec<Vec<u8>> {
    let mut enc = opus::Encoder::new(16000, opus::Channels::Mono, opus::Application::Voip).unwrap();
    enc.set_bitrate(opus::Bitrate::Bits(24000)).unwrap();
    speechlike(16000)
        .chunks_exact(320)
        .map(|f| enc.encode_vec(f, 400).unwrap())
        .collect()
}

/// Decodes every packet but each 5th and 6th, which are concealed; returns the output.
fn decode_with_losses(complexity: u8) -> Vec<i16> {
    let mut dec = OpusDecoder::new(16000, 1).unwrap();
    dec.set_complexity(complexity).unwrap();
    assert_eq!(dec.complexity().unwrap(), complexity);
    let mut out = vec![0i16; 320 * 50];
    for (i, (p, o)) in packets().iter().zip(out.chunks_exact_mut(320)).enumerate() {
        let n = if i % 10 == 5 || i % 10 == 6 {
            dec.conceal(o).unwrap()
        } else {
            dec.decode(p, o, false).unwrap()
        };
        assert_eq!(n, 320);
        assert_eq!(dec.last_packet_duration().unwrap(), 320);
    }
    out
}

#[test]
fn rejects_bad_arguments() {
    assert_eq!(OpusDecoder::new(44100, 1).unwrap_err(), Error::BadArg);
    assert_eq!(OpusDecoder::new(16000, 3).unwrap_err(), Error::BadArg);
    let mut dec = OpusDecoder::new(48000, 2).unwrap();
    assert_eq!(dec.set_complexity(11), Err(Error::BadArg));
    let mut out = [0i16; 960];
    assert_eq!(dec.decode(&[], &mut out, false), Err(Error::InvalidPacket));
    // A 20 ms packet does not fit in 10 ms of stereo.
    let p = packets();
    assert_eq!(
        dec.decode(&p[0], &mut out, false),
        Err(Error::BufferTooSmall)
    );
    assert_eq!(dec.conceal(&mut out[..7]), Err(Error::BadArg));
}

#[test]
fn decodes_and_recovers_from_fec() {
    let p = packets();
    let mut dec = OpusDecoder::new(16000, 1).unwrap();
    let mut out = [0i16; 320];
    assert_eq!(dec.decode(&p[0], &mut out, false).unwrap(), 320);
    assert_eq!(dec.decode(&p[2], &mut out, true).unwrap(), 320);
    assert_eq!(dec.decode(&p[2], &mut out, false).unwrap(), 320);
    dec.set_complexity(7).unwrap();
    dec.reset();
    assert_eq!(dec.complexity().unwrap(), 7, "reset keeps the complexity");
    assert_eq!(dec.decode(&p[3], &mut out, false).unwrap(), 320);
}

#[test]
fn deep_plc_is_built_in() {
    let classic = decode_with_losses(0);
    let deep = decode_with_losses(5);
    let energy = |s: &[i16]| s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>();
    // The first loss, frames 5 and 6: both conceal with sound, and differently (deep PLC runs).
    let (c, d) = (&classic[5 * 320..7 * 320], &deep[5 * 320..7 * 320]);
    assert!(energy(c) > 0.0 && energy(d) > 0.0);
    assert_ne!(c, d, "complexity 5 should switch to deep PLC");
    // Before any loss, at complexity 5 (no OSCE), decoding is identical.
    assert_eq!(&classic[..5 * 320], &deep[..5 * 320]);
}

#[test]
fn is_send() {
    fn send<T: Send>() {}
    send::<OpusDecoder>();
}
