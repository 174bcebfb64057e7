use super::*;

/// A deterministic voiced test signal with a slow envelope.
fn speechlike(n: usize, rate: u32, channels: usize) -> Vec<i16> {
    let mut out = Vec::with_capacity(n * channels);
    for i in 0..n {
        let t = i as f64 / f64::from(rate);
        let env = 0.5 + 0.5 * (2.0 * std::f64::consts::PI * 3.0 * t).sin();
        let f0 = 140.0 + 30.0 * (2.0 * std::f64::consts::PI * 0.7 * t).sin();
        let mut x = 0.0;
        for h in 1..8 {
            x += (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64;
        }
        let s = (x * 0.3 * env * 20000.0) as i16;
        for c in 0..channels {
            out.push(if c == 0 { s } else { s / 2 });
        }
    }
    out
}

fn snr_db(reference: &[i16], test: &[i16]) -> f64 {
    let (mut sig, mut err) = (0.0f64, 0.0f64);
    for (&r, &t) in reference.iter().zip(test) {
        sig += f64::from(r).powi(2);
        err += (f64::from(r) - f64::from(t)).powi(2);
    }
    10.0 * (sig / err.max(1e-9)).log10()
}

/// Best SNR of `decoded` against `input` over delays of 0..=max_delay samples (per channel).
fn best_snr(input: &[i16], decoded: &[i16], channels: usize, max_delay: usize) -> f64 {
    (0..=max_delay)
        .map(|d| snr_db(input, &decoded[d * channels..]))
        .fold(f64::MIN, f64::max)
}

#[test]
fn descriptor_clock_is_fixed() {
    assert_eq!(OPUS.clock_rate_at(8000), 48000);
    assert_eq!(OPUS.clock_rate_at(16000), 48000);
    assert_eq!(OPUS.clock_rate_at(48000), 48000);
}

#[test]
fn config_validation() {
    assert!(OpusEncoderConfig::default().validate().is_ok());
    let bad = [
        OpusEncoderConfig {
            sample_rate: 44100,
            ..Default::default()
        },
        OpusEncoderConfig {
            channels: 3,
            ..Default::default()
        },
        OpusEncoderConfig {
            frame_ms: 30,
            ..Default::default()
        },
        OpusEncoderConfig {
            bitrate: 5999,
            ..Default::default()
        },
        OpusEncoderConfig {
            bitrate: 510_001,
            ..Default::default()
        },
        OpusEncoderConfig {
            complexity: 11,
            ..Default::default()
        },
        OpusEncoderConfig {
            packet_loss_percent: 101,
            ..Default::default()
        },
    ];
    for cfg in bad {
        assert!(
            matches!(
                OpusEncoder::new(cfg),
                Err(CodecError::UnsupportedParameter { .. })
            ),
            "{cfg:?}"
        );
    }
    let dec = OpusDecoderConfig {
        complexity: 11,
        ..Default::default()
    };
    assert!(matches!(
        OpusDecoder::new(dec),
        Err(CodecError::UnsupportedParameter { .. })
    ));
    for complexity in [0, 5, 10] {
        let cfg = OpusDecoderConfig {
            complexity,
            ..Default::default()
        };
        assert_eq!(
            OpusDecoder::new(cfg).unwrap().config().complexity,
            complexity
        );
    }
}

#[test]
fn round_trip_every_rate_channels_and_frame() {
    for &rate in SAMPLE_RATES {
        for channels in [1u16, 2] {
            for &frame_ms in FRAME_DURATIONS_MS {
                let cfg = OpusEncoderConfig {
                    sample_rate: rate,
                    channels,
                    frame_ms,
                    bitrate: 64000,
                    ..Default::default()
                };
                let mut enc = OpusEncoder::new(cfg).unwrap();
                let mut dec = OpusDecoder::new(OpusDecoderConfig {
                    sample_rate: rate,
                    channels,
                    ..Default::default()
                })
                .unwrap();
                let ch = usize::from(channels);
                let input = speechlike(rate as usize * 6 / 5, rate, ch); // 1.2 s
                let mut payload = vec![0u8; enc.max_payload_bytes()];
                let mut decoded = Vec::new();
                let mut pcm = vec![0i16; dec.max_frame_samples()];
                for frame in input.chunks_exact(enc.frame_samples()) {
                    let n = enc.encode(frame, &mut payload).unwrap();
                    assert!(n > 0 && n <= enc.max_payload_bytes());
                    let m = dec.decode(&payload[..n], &mut pcm).unwrap();
                    assert_eq!(m, enc.frame_samples());
                    decoded.extend_from_slice(&pcm[..m]);
                }
                assert_eq!(decoded.len(), input.len());
                // SILK and hybrid are not waveform coders: against the input, expect
                // about 8 dB at the best alignment (a few samples short of the lookahead).
                let delay = enc.lookahead() as usize;
                let snr = best_snr(&input[..input.len() / 2], &decoded, ch, 2 * delay);
                assert!(
                    snr > 6.0,
                    "rate {rate} ch {channels} {frame_ms} ms: SNR {snr:.1} dB"
                );
            }
        }
    }
}

#[test]
fn high_rate_celt_is_near_transparent() {
    let cfg = OpusEncoderConfig {
        application: Application::Audio,
        bitrate: 128_000,
        bitrate_mode: BitrateMode::Vbr,
        signal: Signal::Music,
        ..Default::default()
    };
    let mut enc = OpusEncoder::new(cfg).unwrap();
    let mut dec = OpusDecoder::new(OpusDecoderConfig::default()).unwrap();
    let input = speechlike(48000, 48000, 1);
    let mut payload = vec![0u8; enc.max_payload_bytes()];
    let mut decoded = vec![0i16; input.len()];
    for (f, o) in input.chunks_exact(960).zip(decoded.chunks_exact_mut(960)) {
        let n = enc.encode(f, &mut payload).unwrap();
        assert_eq!(packet::mode(payload[0]), packet::Mode::Celt);
        dec.decode(&payload[..n], o).unwrap();
    }
    let d = enc.lookahead() as usize;
    let snr = snr_db(&input[..input.len() - d], &decoded[d..]);
    assert!(snr > 15.0, "SNR {snr:.1} dB");
}

#[test]
fn runtime_setters() {
    let mut enc = OpusEncoder::new(OpusEncoderConfig::default()).unwrap();
    enc.set_bitrate(12000).unwrap();
    assert_eq!(enc.config().bitrate, 12000);
    assert!(enc.set_bitrate(1000).is_err());
    assert!(enc.set_bitrate(600_000).is_err());
    assert_eq!(enc.config().bitrate, 12000);
    enc.set_packet_loss_percent(20).unwrap();
    assert!(enc.set_packet_loss_percent(101).is_err());
    enc.set_inband_fec(false).unwrap();
    enc.set_dtx(true).unwrap();
    let c = enc.config();
    assert_eq!(
        (c.packet_loss_percent, c.inband_fec, c.dtx),
        (20, false, true)
    );

    // The bitrate change takes effect: 12 kbit/s is about 30 bytes per 20 ms.
    let input = speechlike(48000, 48000, 1);
    let mut out = vec![0u8; enc.max_payload_bytes()];
    let mut total = 0;
    for f in input.chunks_exact(960) {
        total += enc.encode(f, &mut out).unwrap();
    }
    let kbps = total as f64 * 8.0 / 1000.0;
    assert!((6.0..20.0).contains(&kbps), "{kbps} kbit/s");
}

#[test]
fn encode_rejects_bad_lengths() {
    let mut enc = OpusEncoder::new(OpusEncoderConfig::default()).unwrap();
    let mut out = vec![0u8; enc.max_payload_bytes()];
    assert!(matches!(
        enc.encode(&[0; 959], &mut out),
        Err(CodecError::InvalidFrameLength { .. })
    ));
    assert!(matches!(
        enc.encode(&[0; 960], &mut out[..100]),
        Err(CodecError::BufferTooSmall { .. })
    ));
}

#[test]
fn decoder_errors() {
    let mut dec = OpusDecoder::new(OpusDecoderConfig::default()).unwrap();
    let mut out = vec![0i16; dec.max_frame_samples()];
    assert!(matches!(
        dec.decode(&[], &mut out),
        Err(CodecError::InvalidPayload(_))
    ));
    // Code 3 with no frame count.
    assert!(matches!(
        dec.decode(&[0x7b], &mut out),
        Err(CodecError::InvalidPayload(_))
    ));
    // A 20 ms CELT packet into 10 ms of room.
    assert!(matches!(
        dec.decode(&[0xf8, 0xff, 0xfe], &mut out[..480]),
        Err(CodecError::BufferTooSmall { .. })
    ));
    assert!(matches!(
        dec.conceal(&mut out[..100]),
        Err(CodecError::InvalidFrameLength { .. })
    ));
    assert_eq!(dec.conceal(&mut out[..120]).unwrap(), 120);
    assert_eq!(dec.conceal(&mut []).unwrap(), 0);
}

#[test]
fn conceal_long_loss_fades() {
    let mut enc = OpusEncoder::new(OpusEncoderConfig::default()).unwrap();
    let mut dec = OpusDecoder::new(OpusDecoderConfig::default()).unwrap();
    let input = speechlike(48000, 48000, 1);
    let mut payload = vec![0u8; enc.max_payload_bytes()];
    let mut pcm = vec![0i16; 960];
    for f in input.chunks_exact(960).take(20) {
        let n = enc.encode(f, &mut payload).unwrap();
        dec.decode(&payload[..n], &mut pcm).unwrap();
    }
    // One second of loss in one call: longer than libopus's 120 ms per call.
    let mut lost = vec![0i16; 48000];
    assert_eq!(dec.conceal(&mut lost).unwrap(), 48000);
    let energy = |s: &[i16]| s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>();
    assert!(energy(&lost[..4800]) > 0.0);
    assert!(energy(&lost[43200..]) < energy(&lost[..4800]) / 100.0);
}

#[test]
fn fec_recovers_a_lost_packet() {
    for (rate, channels) in [(16000u32, 1u16), (48000, 1), (48000, 2)] {
        let ch = usize::from(channels);
        let cfg = OpusEncoderConfig {
            sample_rate: rate,
            channels,
            bitrate: 24000,
            inband_fec: true,
            packet_loss_percent: 20,
            signal: Signal::Voice,
            ..Default::default()
        };
        let mut enc = OpusEncoder::new(cfg).unwrap();
        let dcfg = OpusDecoderConfig {
            sample_rate: rate,
            channels,
            ..Default::default()
        };
        let input = speechlike(rate as usize, rate, ch);
        let fs = enc.frame_samples();
        let mut packets = Vec::new();
        let mut buf = vec![0u8; enc.max_payload_bytes()];
        for f in input.chunks_exact(fs) {
            let n = enc.encode(f, &mut buf).unwrap();
            packets.push(buf[..n].to_vec());
        }
        // LBRR is coded for active speech only: most packets, not the quiet ones.
        let with_fec = packets
            .iter()
            .filter(|p| packet::has_fec(p) == Some(true))
            .count();
        assert!(
            with_fec * 3 > packets.len() * 2,
            "{with_fec}/{}",
            packets.len()
        );

        // Reference: no loss.
        let mut dec = OpusDecoder::new(dcfg).unwrap();
        let mut clean = vec![0i16; input.len()];
        for (p, o) in packets.iter().zip(clean.chunks_exact_mut(fs)) {
            dec.decode(p, o).unwrap();
        }
        // Lose packet 25 and recover it by FEC, or by PLC for comparison.
        let lost = 25;
        assert_eq!(packet::has_fec(&packets[lost + 1]), Some(true));
        let run = |use_fec: bool| {
            let mut dec = OpusDecoder::new(dcfg).unwrap();
            let mut out = vec![0i16; input.len()];
            for (i, (p, o)) in packets.iter().zip(out.chunks_exact_mut(fs)).enumerate() {
                if i == lost {
                    if use_fec {
                        assert_eq!(dec.decode_fec(&packets[i + 1], o).unwrap(), Some(fs));
                    } else {
                        dec.conceal(o).unwrap();
                    }
                } else {
                    dec.decode(p, o).unwrap();
                }
            }
            out
        };
        let span = lost * fs..(lost + 1) * fs;
        let fec = run(true);
        let plc = run(false);
        let snr_fec = snr_db(&clean[span.clone()], &fec[span.clone()]);
        let snr_plc = snr_db(&clean[span.clone()], &plc[span]);
        assert!(
            snr_fec > snr_plc + 3.0 && snr_fec > 5.0,
            "{rate} Hz x{channels}: FEC {snr_fec:.1} dB vs PLC {snr_plc:.1} dB"
        );
    }
}

#[test]
fn decode_fec_declines_without_fec() {
    let cfg = OpusEncoderConfig {
        inband_fec: false,
        ..Default::default()
    };
    let mut enc = OpusEncoder::new(cfg).unwrap();
    let mut dec = OpusDecoder::new(OpusDecoderConfig::default()).unwrap();
    let input = speechlike(9600, 48000, 1);
    let mut buf = vec![0u8; enc.max_payload_bytes()];
    let mut out = vec![0i16; 960];
    let mut last = Vec::new();
    for f in input.chunks_exact(960) {
        let n = enc.encode(f, &mut buf).unwrap();
        last = buf[..n].to_vec();
        dec.decode(&last, &mut out).unwrap();
    }
    assert_eq!(dec.decode_fec(&last, &mut out).unwrap(), None);
    assert!(matches!(
        dec.decode_fec(&last, &mut out[..7]),
        Err(CodecError::InvalidFrameLength { .. })
    ));
    assert!(dec.decode_fec(&[], &mut out).is_err());
    assert!(dec.decode_fec(&[0x7b], &mut out).is_err());
}

#[test]
fn stereo_forced_mono_and_low_rates() {
    let cfg = OpusEncoderConfig {
        channels: 2,
        force_mono: true,
        ..Default::default()
    };
    let mut enc = OpusEncoder::new(cfg).unwrap();
    let input = speechlike(4800, 48000, 2);
    let mut buf = vec![0u8; enc.max_payload_bytes()];
    for f in input.chunks_exact(enc.frame_samples()) {
        let n = enc.encode(f, &mut buf).unwrap();
        assert!(!packet::is_stereo(buf[0]), "{n}");
    }

    // A 48 kHz stream decodes at 8 kHz, and a narrowband cap shows in the TOC.
    let cfg = OpusEncoderConfig {
        max_bandwidth: Bandwidth::Narrowband,
        ..Default::default()
    };
    let mut enc = OpusEncoder::new(cfg).unwrap();
    let mut dec = OpusDecoder::new(OpusDecoderConfig {
        sample_rate: 8000,
        ..Default::default()
    })
    .unwrap();
    let input = speechlike(48000, 48000, 1);
    let mut out = vec![0i16; 160];
    for f in input.chunks_exact(960) {
        let n = enc.encode(f, &mut buf).unwrap();
        // SILK narrowband configurations are 0-3.
        assert!(buf[0] >> 3 <= 3, "toc {:#x}", buf[0]);
        assert_eq!(dec.decode(&buf[..n], &mut out).unwrap(), 160);
    }
}

#[test]
fn dtx_sends_tiny_packets_in_silence() {
    let cfg = OpusEncoderConfig {
        dtx: true,
        ..Default::default()
    };
    let mut enc = OpusEncoder::new(cfg).unwrap();
    let mut buf = vec![0u8; enc.max_payload_bytes()];
    let silence = vec![0i16; 960];
    let sizes: Vec<usize> = (0..50)
        .map(|_| enc.encode(&silence, &mut buf).unwrap())
        .collect();
    let tiny = sizes.iter().filter(|&&n| n <= 2).count();
    assert!(tiny > 30, "{sizes:?}");
}

#[test]
fn reset_restarts_the_stream() {
    let mut enc = OpusEncoder::new(OpusEncoderConfig::default()).unwrap();
    let input = speechlike(9600, 48000, 1);
    let mut buf = vec![0u8; enc.max_payload_bytes()];
    let first: Vec<Vec<u8>> = input
        .chunks_exact(960)
        .map(|f| {
            let n = enc.encode(f, &mut buf).unwrap();
            buf[..n].to_vec()
        })
        .collect();
    enc.reset();
    let again: Vec<Vec<u8>> = input
        .chunks_exact(960)
        .map(|f| {
            let n = enc.encode(f, &mut buf).unwrap();
            buf[..n].to_vec()
        })
        .collect();
    assert_eq!(first, again);
    assert_eq!(enc.config().bitrate, 32000);
}

#[test]
fn registry_builds_opus_from_sdp() {
    use crate::codec::CodecRegistry;
    let reg = CodecRegistry::with_builtin();
    let (entry, mut params) = reg.find_rtpmap("opus/48000/2").unwrap();
    assert_eq!(entry.descriptor.name, "opus");
    assert_eq!((params.sample_rate, params.channels), (48000, 1));
    assert!(reg.find_rtpmap("opus/16000/2").is_none());
    assert!(reg.find_rtpmap("opus/48000/1").is_none());
    let cap = reg
        .capabilities()
        .into_iter()
        .find(|c| c.descriptor.name == "opus")
        .unwrap();
    assert_eq!(cap.rtpmap, "opus/48000/2");
    assert_eq!(cap.fmtp.as_deref(), Some("minptime=10;useinbandfec=1"));
    assert!(cap.payload_type.0 >= 96);

    params.fmtp = Some("maxaveragebitrate=20000; stereo=1; useinbandfec=1".into());
    params.sample_rate = 16000;
    let mut enc = reg.encoder("opus", &params).unwrap();
    assert_eq!(enc.frame_samples(), 320);
    assert_eq!(enc.format().sample_rate.0, 16000);
    enc.set_bitrate(16000).unwrap();
    let mut dec = reg.decoder("opus", &params).unwrap();
    let input = speechlike(3200, 16000, 1);
    let mut buf = vec![0u8; enc.max_payload_bytes()];
    let mut out = vec![0i16; dec.max_frame_samples()];
    let mut decoded = Vec::new();
    for f in input.chunks_exact(320) {
        let n = enc.encode(f, &mut buf).unwrap();
        let m = dec.decode(&buf[..n], &mut out).unwrap();
        decoded.extend_from_slice(&out[..m]);
    }
    assert!(best_snr(&input[..2800], &decoded, 1, 200) > 5.0);

    params.fmtp = Some("maxaveragebitrate=abc".into());
    assert!(matches!(
        reg.encoder("opus", &params).err(),
        Some(CodecError::UnsupportedParameter { .. })
    ));
    assert!(reg.decoder("opus", &params).is_err());
}
