//! Property tests for SRTP: random packets round-trip under every profile, any altered bit is
//! refused, and no input — however malformed — makes unprotect or the SDES parser panic.

use proptest::collection::vec;
use proptest::prelude::*;
use rtp_core::srtp::{CryptoAttribute, SrtpError, SrtpProfile, SrtpSession};
use rtp_core::{ExtensionWriter, RtpPacket, RtpTimestamp, RtpWriter, SeqNo, Ssrc};

fn profile() -> impl Strategy<Value = SrtpProfile> {
    prop_oneof![
        Just(SrtpProfile::AesCm128HmacSha1_80),
        Just(SrtpProfile::AesCm128HmacSha1_32),
        Just(SrtpProfile::AeadAes128Gcm),
    ]
}

fn pair(profile: SrtpProfile, key: [u8; 16], salt: [u8; 14]) -> (SrtpSession, SrtpSession) {
    let salt = &salt[..profile.master_salt_len()];
    let make = || SrtpSession::new(profile, &key, salt).expect("lengths fit the profile");
    (make(), make())
}

#[derive(Debug, Clone)]
struct Packet {
    marker: bool,
    payload_type: u8,
    timestamp: u32,
    ssrc: u32,
    csrcs: Vec<u32>,
    extension: Option<(u16, Vec<u8>)>,
    payload: Vec<u8>,
    padding: u8,
}

fn packet() -> impl Strategy<Value = Packet> {
    (
        any::<bool>(),
        0u8..=127,
        any::<u32>(),
        any::<u32>(),
        vec(any::<u32>(), 0..4),
        proptest::option::of((any::<u16>(), vec(any::<[u8; 4]>(), 0..4))),
        vec(any::<u8>(), 0..300),
        prop_oneof![Just(0u8), 1u8..=16],
    )
        .prop_map(
            |(marker, payload_type, timestamp, ssrc, csrcs, ext, payload, padding)| Packet {
                marker,
                payload_type,
                timestamp,
                ssrc,
                csrcs,
                extension: ext.map(|(p, w)| (p, w.concat())),
                payload,
                padding,
            },
        )
}

/// Writes `p` with sequence number `seq` into `buf`; returns the length.
fn write(p: &Packet, seq: u16, buf: &mut [u8]) -> usize {
    let csrcs: Vec<Ssrc> = p.csrcs.iter().copied().map(Ssrc).collect();
    let mut w = RtpWriter::new(
        p.payload_type,
        SeqNo(seq),
        RtpTimestamp(p.timestamp),
        Ssrc(p.ssrc),
        &p.payload,
    );
    w.marker = p.marker;
    w.csrcs = &csrcs;
    w.extension = p
        .extension
        .as_ref()
        .map(|(profile, data)| ExtensionWriter::Raw {
            profile: *profile,
            data,
        });
    w.padding = p.padding;
    w.write(buf).expect("a generated packet fits")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_packets_round_trip(
        profile in profile(),
        key in any::<[u8; 16]>(),
        salt in any::<[u8; 14]>(),
        packets in vec(packet(), 1..8),
        first_seq in any::<u16>(),
    ) {
        let (mut tx, mut rx) = pair(profile, key, salt);
        for (i, p) in packets.iter().enumerate() {
            let seq = first_seq.wrapping_add(i as u16);
            let mut buf = [0u8; 1024];
            let len = write(p, seq, &mut buf);
            let plain = buf[..len].to_vec();
            let n = tx.protect_rtp(&mut buf, len).expect("protect");
            prop_assert_eq!(n, len + profile.rtp_tag_len());
            let m = rx.unprotect_rtp(&mut buf[..n]).expect("unprotect");
            prop_assert_eq!(&buf[..m], &plain[..]);
            let parsed = RtpPacket::parse(&buf[..m]).expect("parses");
            prop_assert_eq!(parsed.payload(), &p.payload[..]);
        }
    }

    #[test]
    fn any_flipped_bit_is_refused(
        profile in profile(),
        p in packet(),
        seq in any::<u16>(),
        bit in any::<prop::sample::Index>(),
    ) {
        let (mut tx, mut rx) = pair(profile, [3; 16], [4; 14]);
        let mut buf = [0u8; 1024];
        let len = write(&p, seq, &mut buf);
        let n = tx.protect_rtp(&mut buf, len).expect("protect");
        let bit = bit.index(n * 8);
        buf[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(rx.unprotect_rtp(&mut buf[..n]).is_err());
        prop_assert_eq!(rx.stream_count(), 0);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        profile in profile(),
        mut data in vec(any::<u8>(), 0..400),
        rtp_like in any::<bool>(),
    ) {
        if rtp_like && !data.is_empty() {
            data[0] = 0x80 | (data[0] & 0x3F);
        }
        let (_, mut rx) = pair(profile, [5; 16], [6; 14]);
        let r = rx.unprotect_rtp(&mut data.clone());
        prop_assert!(r.is_err());
        let r = rx.unprotect_rtcp(&mut data.clone());
        prop_assert!(r.is_err());
        let s = rx.stats();
        prop_assert_eq!(
            s.rtp_auth_failures + s.rtcp_auth_failures + s.malformed + s.too_old + s.rtp_replayed,
            2
        );
    }

    #[test]
    fn arbitrary_crypto_lines_never_panic(line in "\\PC{0,120}") {
        let _ = CryptoAttribute::parse(&line);
        let _ = CryptoAttribute::parse(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{line}"));
    }

    #[test]
    fn crypto_lines_round_trip(
        profile in profile(),
        tag in 0u32..=999_999_999,
        bytes in any::<[u8; 30]>(),
        lifetime in proptest::option::of(prop_oneof![
            (0u32..64).prop_map(|e| 1u64 << e),
            any::<u64>(),
        ]),
    ) {
        let mut fill = |b: &mut [u8]| b.copy_from_slice(&bytes[..b.len()]);
        let mut a = CryptoAttribute::generate(tag, profile, &mut fill);
        if let Some(l) = lifetime {
            a = a.with_lifetime(l);
        }
        let line = a.to_sdp_line();
        let back = CryptoAttribute::parse(&line).expect("our own line parses");
        prop_assert_eq!(&back, &a);
        prop_assert_eq!(back.master_key(), &bytes[..16]);
        prop_assert_eq!(back.master_salt(), &bytes[16..16 + profile.master_salt_len()]);
        let (mut tx, mut rx) = (a.session().expect("session"), back.session().expect("session"));
        let mut buf = [0u8; 64];
        let len = RtpWriter::new(0, SeqNo(1), RtpTimestamp(0), Ssrc(1), &[9; 20])
            .write(&mut buf)
            .expect("write");
        let n = tx.protect_rtp(&mut buf, len).expect("protect");
        prop_assert_eq!(rx.unprotect_rtp(&mut buf[..n]), Ok(len));
    }
}

#[test]
fn replay_of_every_packet_is_refused() {
    let (mut tx, mut rx) = pair(SrtpProfile::AesCm128HmacSha1_80, [1; 16], [2; 14]);
    let p = Packet {
        marker: false,
        payload_type: 0,
        timestamp: 0,
        ssrc: 42,
        csrcs: vec![],
        extension: None,
        payload: vec![0xFF; 160],
        padding: 0,
    };
    let mut wire = Vec::new();
    for seq in 65_000u16..=65_535 {
        let mut buf = [0u8; 256];
        let len = write(&p, seq, &mut buf);
        let n = tx.protect_rtp(&mut buf, len).expect("protect");
        wire.push(buf[..n].to_vec());
    }
    for w in &wire {
        assert!(rx.unprotect_rtp(&mut w.clone()).is_ok());
    }
    for w in wire.iter().rev().take(128) {
        assert_eq!(rx.unprotect_rtp(&mut w.clone()), Err(SrtpError::Replayed));
    }
    assert_eq!(
        rx.unprotect_rtp(&mut wire[0].clone()),
        Err(SrtpError::TooOld)
    );
}
