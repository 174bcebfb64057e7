use super::*;

/// A fake but well-formed Opus packet: CELT FB 20 ms, code 0, `n` bytes in all.
fn fake_packet(n: usize, fill: u8) -> Vec<u8> {
    let mut p = vec![fill; n.max(1)];
    p[0] = 0xf8; // config 31, mono, code 0
    p
}

fn write_file(packets: &[Vec<u8>], pre_skip: u16, samples: Option<u64>) -> Vec<u8> {
    let head = OpusHead::new(1, 48000, pre_skip);
    let mut w = OggOpusWriter::new(Vec::new(), &head, &OpusTags::new("test"), 42).unwrap();
    for p in packets {
        w.write_packet(p).unwrap();
    }
    w.finish(samples).unwrap()
}

/// Data, skip, keep, last.
type Got = (Vec<u8>, u32, u32, bool);

fn read_all(bytes: &[u8]) -> (OpusHead, Vec<Got>) {
    let mut r = OggOpusReader::new(bytes).unwrap();
    let mut out = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        out.push((p.data.to_vec(), p.skip, p.keep, p.last));
    }
    (r.head().clone(), out)
}

#[test]
fn headers_round_trip() {
    let h = OpusHead::new(2, 16000, 312);
    assert_eq!(OpusHead::parse(&h.to_bytes()).unwrap(), h);
    assert_eq!(h.to_bytes().len(), 19);
    let mut tags = OpusTags::new("media-core");
    tags.comments.push("TITLE=test".into());
    assert_eq!(OpusTags::parse(&tags.to_bytes()).unwrap(), tags);
    // Family 1 with a mapping table.
    let mut h = OpusHead::new(2, 48000, 0);
    h.mapping_family = 1;
    h.channel_mapping = vec![0, 1];
    assert_eq!(OpusHead::parse(&h.to_bytes()).unwrap(), h);
}

#[test]
fn bad_headers() {
    assert!(OpusHead::parse(b"OpusHead").is_err());
    let mut h = OpusHead::new(1, 48000, 0).to_bytes();
    h[8] = 0x10;
    assert!(matches!(
        OpusHead::parse(&h),
        Err(ContainerError::Unsupported(_))
    ));
    h[8] = 1;
    h[9] = 3; // family 0 with 3 channels
    assert!(OpusHead::parse(&h).is_err());
    // A comment count far beyond the packet.
    let mut t = OpusTags::new("x").to_bytes();
    let n = t.len();
    t[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(OpusTags::parse(&t).is_err());
}

#[test]
fn packets_round_trip_with_trimming() {
    let packets: Vec<Vec<u8>> = (0..120).map(|i| fake_packet(10 + i * 7, i as u8)).collect();
    // 120 packets of 960 = 115200; pre-skip 312; 100000 real samples.
    let bytes = write_file(&packets, 312, Some(100_000));
    let (head, got) = read_all(&bytes);
    assert_eq!(head.pre_skip, 312);
    assert_eq!(got.len(), packets.len());
    for (g, p) in got.iter().zip(&packets) {
        assert_eq!(&g.0, p);
    }
    assert_eq!(got[0].1, 312);
    assert_eq!(got[1].1, 0);
    let kept: u64 = got.iter().map(|g| u64::from(g.2)).sum();
    assert_eq!(kept, 100_000);
    assert!(got.last().unwrap().3);
    assert!(!got[0].3);
    // The end is trimmed on the last packets only.
    assert!(got[..got.len() - 20].iter().skip(1).all(|g| g.2 == 960));
}

#[test]
fn large_packets_span_pages() {
    // 3000-byte packets: 12 lacing values each, so pages fill mid-packet.
    let packets: Vec<Vec<u8>> = (0..200).map(|i| fake_packet(3000, i as u8)).collect();
    let bytes = write_file(&packets, 0, None);
    let mut r = PageReader::new(&bytes[..]);
    let mut continued = 0;
    while let Some(h) = r.next_page().unwrap() {
        continued += usize::from(h.flags & FLAG_CONTINUED != 0);
    }
    assert!(continued > 5, "{continued}");
    let (_, got) = read_all(&bytes);
    assert_eq!(got.len(), 200);
    assert!(got.iter().zip(&packets).all(|(g, p)| &g.0 == p));
    assert_eq!(got.iter().map(|g| u64::from(g.2)).sum::<u64>(), 200 * 960);
}

#[test]
fn writer_checks_its_arguments() {
    let head = OpusHead::new(1, 48000, 312);
    let mut w = OggOpusWriter::new(Vec::new(), &head, &OpusTags::new("t"), 1).unwrap();
    assert!(matches!(
        w.write_packet(&[]),
        Err(ContainerError::InvalidArgument(_))
    ));
    w.write_packet(&fake_packet(20, 1)).unwrap();
    assert!(matches!(
        w.finish(Some(960)),
        Err(ContainerError::InvalidArgument(_))
    ));
}

#[test]
fn not_ogg_and_not_opus() {
    assert!(matches!(
        OggOpusReader::new(&b"RIFF....WAVEfmt "[..]),
        Err(ContainerError::NotOgg)
    ));
    assert!(matches!(
        OggOpusReader::new(&b""[..]),
        Err(ContainerError::NotOgg)
    ));
    // An Ogg stream that is not Opus.
    let mut pw = PageWriter::new(5);
    let mut bytes = Vec::new();
    pw.push_packet(&mut bytes, b"\x01vorbis....", 0).unwrap();
    pw.flush(&mut bytes, 0).unwrap();
    pw.push_packet(&mut bytes, b"\x03vorbis....", 0).unwrap();
    pw.flush(&mut bytes, FLAG_EOS).unwrap();
    assert!(matches!(
        OggOpusReader::new(&bytes[..]),
        Err(ContainerError::NotOpus)
    ));
}

#[test]
fn multiplexed_streams_are_skipped() {
    // A non-Opus BOS page first, then our stream, with the other's pages interleaved.
    let mut other = PageWriter::new(99);
    let mut bytes = Vec::new();
    other.push_packet(&mut bytes, b"\x80theora", 0).unwrap();
    other.flush(&mut bytes, 0).unwrap();
    let ours = write_file(&[fake_packet(50, 1), fake_packet(60, 2)], 0, None);
    // Split our file into pages and interleave one foreign page after the first.
    let mut r = PageReader::new(&ours[..]);
    let mut our_pages = Vec::new();
    let mut off = 0;
    while r.next_page().unwrap().is_some() {
        let len = 27 + r.lacing().len() + r.body().len();
        our_pages.push(ours[off..off + len].to_vec());
        off += len;
    }
    bytes.extend_from_slice(&our_pages[0]);
    other.push_packet(&mut bytes, b"frame", 10).unwrap();
    other.flush(&mut bytes, 0).unwrap();
    for p in &our_pages[1..] {
        bytes.extend_from_slice(p);
    }
    let (_, got) = read_all(&bytes);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].0, fake_packet(60, 2));
}

#[test]
fn damage_is_reported_and_skipped() {
    let packets: Vec<Vec<u8>> = (0..300).map(|i| fake_packet(100, i as u8)).collect();
    let head = OpusHead::new(1, 48000, 0);
    let mut w = OggOpusWriter::new(Vec::new(), &head, &OpusTags::new("t"), 3).unwrap();
    w.set_max_page_duration(960 * 10);
    for p in &packets {
        w.write_packet(p).unwrap();
    }
    let mut bytes = w.finish(None).unwrap();
    // Flip a byte in the middle of the file.
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    let mut r = OggOpusReader::new(&bytes[..]).unwrap();
    let (mut ok, mut errors) = (0, 0);
    loop {
        match r.next_packet() {
            Ok(Some(_)) => ok += 1,
            Ok(None) => break,
            Err(ContainerError::Corrupt(_)) => errors += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(errors, 1);
    // One page of about 10 packets lost.
    assert!((285..300).contains(&ok), "{ok}");

    // Truncated: the packets before the cut, then one error, then the end.
    bytes[mid] ^= 0x55;
    let cut = &bytes[..bytes.len() * 3 / 4];
    let mut r = OggOpusReader::new(cut).unwrap();
    let (mut ok, mut errors) = (0, 0);
    loop {
        match r.next_packet() {
            Ok(Some(_)) => ok += 1,
            Ok(None) => break,
            Err(_) => errors += 1,
        }
        assert!(ok + errors < 1000);
    }
    assert!(ok > 200 && ok < 230 && errors == 1, "{ok} {errors}");
}

#[test]
fn packet_limit_is_enforced() {
    let packets = vec![
        fake_packet(100, 1),
        fake_packet(5000, 2),
        fake_packet(100, 3),
    ];
    let bytes = write_file(&packets, 0, None);
    let limits = ReaderLimits {
        max_packet_bytes: 1000,
        ..Default::default()
    };
    let mut r = OggOpusReader::with_limits(&bytes[..], limits).unwrap();
    assert_eq!(r.next_packet().unwrap().unwrap().data.len(), 100);
    assert!(matches!(
        r.next_packet(),
        Err(ContainerError::TooLarge { limit: 1000 })
    ));
    assert_eq!(
        r.next_packet().unwrap().unwrap().data,
        &fake_packet(100, 3)[..]
    );
    assert!(r.next_packet().unwrap().is_none());
}

#[test]
fn encoder_to_file_to_decoder() {
    use crate::codec::audio::opus::{
        OpusDecoder, OpusDecoderConfig, OpusEncoder, OpusEncoderConfig,
    };
    use crate::codec::{AudioDecoder, AudioEncoder};
    for (rate, channels, frame_ms) in [(16000u32, 1u16, 20u16), (48000, 2, 60), (8000, 1, 10)] {
        let ch = usize::from(channels);
        let mut enc = OpusEncoder::new(OpusEncoderConfig {
            sample_rate: rate,
            channels,
            frame_ms,
            ..Default::default()
        })
        .unwrap();
        let fs = enc.frame_samples() / ch;
        // Not a whole number of frames.
        let n = rate as usize + 123;
        let mut input: Vec<i16> = (0..n * ch)
            .map(|i| ((i as f64 * 0.05).sin() * 8000.0) as i16)
            .collect();
        // Enough frames to flush the encoder's delay out.
        let lookahead = enc.lookahead() as usize;
        let frames = (n + lookahead).div_ceil(fs);
        input.resize(frames * fs * ch, 0);

        let head = OpusHead::for_encoder(&enc);
        assert_eq!(head, OpusHead::new(channels as u8, rate, enc.pre_skip()));
        let mut w = OggOpusWriter::new(Vec::new(), &head, &OpusTags::new("t"), 9).unwrap();
        let dcfg = OpusDecoderConfig {
            sample_rate: rate,
            channels,
            ..Default::default()
        };
        let mut direct_dec = OpusDecoder::new(dcfg).unwrap();
        let mut direct = vec![0i16; input.len()];
        let mut buf = vec![0u8; enc.max_payload_bytes()];
        for (f, o) in input
            .chunks_exact(fs * ch)
            .zip(direct.chunks_exact_mut(fs * ch))
        {
            let len = enc.encode(f, &mut buf).unwrap();
            w.write_packet(&buf[..len]).unwrap();
            direct_dec.decode(&buf[..len], o).unwrap();
        }
        let bytes = w.finish(Some(n as u64 * 48000 / u64::from(rate))).unwrap();

        let mut r = OggOpusReader::new(&bytes[..]).unwrap();
        assert_eq!(r.head().channels, channels as u8);
        assert_eq!(r.head().input_sample_rate, rate);
        let mut dec = OpusDecoder::new(dcfg).unwrap();
        let mut pcm = vec![0i16; dec.max_frame_samples()];
        let mut out = Vec::new();
        while let Some(p) = r.next_packet().unwrap() {
            let (skip, keep) = p.trim_at(rate);
            let m = dec.decode(p.data, &mut pcm).unwrap();
            assert_eq!(m, fs * ch);
            out.extend_from_slice(&pcm[skip * ch..(skip + keep) * ch]);
        }
        assert_eq!(out.len(), n * ch, "{rate} Hz");
        assert_eq!(
            out,
            direct[lookahead * ch..(lookahead + n) * ch],
            "{rate} Hz"
        );
    }
}

#[test]
fn trim_at_other_rates() {
    let p = OpusPacket {
        data: &[],
        duration: 960,
        skip: 312,
        keep: 648,
        granule: None,
        last: false,
    };
    assert_eq!(p.trim_at(48000), (312, 648));
    assert_eq!(p.trim_at(16000), (104, 216));
    assert_eq!(p.trim_at(8000), (52, 108));
}
