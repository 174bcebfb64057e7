//! Property tests: arbitrary bytes into the Opus decoder and the Ogg Opus reader give errors,
//! never panics, and the reader always comes to an end.
#![cfg(feature = "opus")]

use media_core::codec::audio::opus::{
    self, BitrateMode, OpusDecoder, OpusDecoderConfig, OpusEncoder, OpusEncoderConfig,
};
use media_core::codec::{AudioDecoder, AudioEncoder};
use media_core::container::ogg::page_crc;
use media_core::container::{OggOpusReader, OggOpusWriter, OpusHead, OpusTags, ReaderLimits};
use proptest::collection::vec;
use proptest::prelude::*;
use std::sync::OnceLock;

/// A valid file to mutate: small pages of VBR speech-like packets, then CBR 1275-byte stereo
/// packets that span pages.
fn valid_file() -> &'static [u8] {
    static FILE: OnceLock<Vec<u8>> = OnceLock::new();
    FILE.get_or_init(|| {
        let head = OpusHead::new(2, 48000, 312);
        let mut tags = OpusTags::new("proptest");
        tags.comments.push("A=b".into());
        let mut w = OggOpusWriter::new(Vec::new(), &head, &tags, 77).unwrap();
        // Short pages for the VBR part; long ones for the CBR part, whose 6-segment packets
        // then fill pages' 255 segments and span pages.
        for (bitrate, mode, page) in [
            (24000, BitrateMode::Vbr, 4),
            (510_000, BitrateMode::Cbr, 60),
        ] {
            w.set_max_page_duration(960 * page);
            let mut enc = OpusEncoder::new(OpusEncoderConfig {
                channels: 2,
                bitrate,
                bitrate_mode: mode,
                ..Default::default()
            })
            .unwrap();
            let mut buf = vec![0u8; enc.max_payload_bytes()];
            for i in 0..60 {
                let f: Vec<i16> = (0..1920)
                    .map(|k| (((i * 1920 + k) as f64 * 0.03).sin() * 9000.0) as i16)
                    .collect();
                let n = enc.encode(&f, &mut buf).unwrap();
                w.write_packet(&buf[..n]).unwrap();
            }
        }
        // 120 packets of 960, less pre-skip, less 500 samples of padding.
        w.finish(Some(120 * 960 - 312 - 500)).unwrap()
    })
}

/// Rewrites the CRC of every page whose header and lengths fit, so that mutations reach the
/// layers above the CRC check.
fn fix_crcs(b: &mut [u8]) {
    let mut i = 0;
    while i + 27 <= b.len() {
        if &b[i..i + 4] == b"OggS" {
            let n = usize::from(b[i + 26]);
            if i + 27 + n <= b.len() {
                let body: usize = b[i + 27..i + 27 + n].iter().map(|&l| usize::from(l)).sum();
                let total = 27 + n + body;
                if i + total <= b.len() {
                    let crc = page_crc(&b[i..i + total]);
                    b[i + 22..i + 26].copy_from_slice(&crc.to_le_bytes());
                    i += total;
                    continue;
                }
            }
        }
        i += 1;
    }
}

/// Reads everything, decoding each packet; checks the reader ends within a bound of calls.
fn read_everything(bytes: &[u8], limits: ReaderLimits) -> Result<usize, TestCaseError> {
    let Ok(mut r) = OggOpusReader::with_limits(bytes, limits) else {
        return Ok(0);
    };
    let channels = if r.head().channels == 2 { 2 } else { 1 };
    let mut dec = OpusDecoder::new(OpusDecoderConfig {
        channels,
        ..Default::default()
    })
    .unwrap();
    let mut pcm = vec![0i16; dec.max_frame_samples()];
    let mut calls = 0usize;
    let mut packets = 0usize;
    loop {
        calls += 1;
        // Every call consumes at least one byte of input (a lacing value or damage).
        prop_assert!(calls <= bytes.len() + 10, "reader does not end");
        match r.next_packet() {
            Ok(Some(p)) => {
                packets += 1;
                prop_assert!(p.skip + p.keep <= p.duration || p.duration == 0);
                prop_assert!(p.data.len() <= limits.max_packet_bytes);
                let _ = dec.decode(p.data, &mut pcm);
            }
            Ok(None) => break,
            Err(_) => {}
        }
    }
    // Finished stays finished.
    prop_assert!(matches!(r.next_packet(), Ok(None)));
    Ok(packets)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn decoder_takes_any_payload(
        payload in vec(any::<u8>(), 0..1600),
        out_len in 0usize..6000,
        rate in prop::sample::select(opus::SAMPLE_RATES),
        stereo in any::<bool>(),
    ) {
        let channels = if stereo { 2 } else { 1 };
        let mut dec = OpusDecoder::new(OpusDecoderConfig {
            sample_rate: rate,
            channels,
            ..Default::default()
        })
        .unwrap();
        let mut out = vec![0i16; out_len];
        if let Ok(n) = dec.decode(&payload, &mut out) {
            let per_channel = opus::packet::duration(&payload, rate).unwrap() as usize;
            prop_assert_eq!(n, per_channel * usize::from(channels));
            prop_assert!(n <= out_len);
        }
        let _ = dec.decode_fec(&payload, &mut out);
        let _ = dec.conceal(&mut out);
        // Still usable.
        let unit = rate as usize / 400 * usize::from(channels);
        let mut ok = vec![0i16; unit * 8];
        prop_assert!(dec.conceal(&mut ok).is_ok());
        let _ = (
            opus::packet::has_fec(&payload),
            opus::packet::first_frame(&payload),
        );
    }

    #[test]
    fn decoder_takes_garbage_after_a_real_stream(payloads in vec(vec(any::<u8>(), 1..400), 1..20)) {
        let mut enc = OpusEncoder::new(OpusEncoderConfig::default()).unwrap();
        let mut dec = OpusDecoder::new(OpusDecoderConfig::default()).unwrap();
        let mut buf = vec![0u8; enc.max_payload_bytes()];
        let mut pcm = vec![0i16; dec.max_frame_samples()];
        let f: Vec<i16> = (0..960).map(|k| ((k as f64 * 0.05).sin() * 8000.0) as i16).collect();
        for p in &payloads {
            let n = enc.encode(&f, &mut buf).unwrap();
            dec.decode(&buf[..n], &mut pcm).unwrap();
            let _ = dec.decode(p, &mut pcm);
            let _ = dec.decode_fec(p, &mut pcm[..960]);
        }
    }

    #[test]
    fn ogg_reader_takes_any_bytes(bytes in vec(any::<u8>(), 0..3000), ogg_prefix in any::<bool>()) {
        let mut b = if ogg_prefix { b"OggS".to_vec() } else { Vec::new() };
        b.extend_from_slice(&bytes);
        read_everything(&b, ReaderLimits::default())?;
        fix_crcs(&mut b);
        read_everything(&b, ReaderLimits::default())?;
        let _ = (OpusHead::parse(&bytes), OpusTags::parse(&bytes));
        let mut head = b"OpusHead".to_vec();
        head.extend_from_slice(&bytes);
        let mut tags = b"OpusTags".to_vec();
        tags.extend_from_slice(&bytes);
        let _ = (OpusHead::parse(&head), OpusTags::parse(&tags));
    }

    #[test]
    fn ogg_reader_takes_damaged_files(
        flips in vec((any::<usize>(), 1u8..=255), 0..12),
        cut in any::<usize>(),
        truncate in any::<bool>(),
        fix in any::<bool>(),
        small_limit in any::<bool>(),
    ) {
        let mut b = valid_file().to_vec();
        let len = b.len();
        for (pos, x) in flips {
            b[pos % len] ^= x;
        }
        if truncate {
            b.truncate(cut % (len + 1));
        }
        if fix {
            fix_crcs(&mut b);
        }
        let limits = if small_limit {
            ReaderLimits { max_packet_bytes: 500, max_tags_bytes: 100 }
        } else {
            ReaderLimits::default()
        };
        read_everything(&b, limits)?;
    }
}

#[test]
fn the_valid_file_reads_whole() {
    let n = read_everything(valid_file(), ReaderLimits::default()).unwrap();
    assert_eq!(n, 120);
    let mut pages = media_core::container::ogg::PageReader::new(valid_file());
    let (mut count, mut continued) = (0, 0);
    while let Some(h) = pages.next_page().unwrap() {
        count += 1;
        continued += usize::from(h.flags & media_core::container::ogg::FLAG_CONTINUED != 0);
    }
    assert!(
        count > 15 && continued > 0,
        "{count} pages, {continued} continued"
    );
}
