//! RFC test vectors (RFC 3711 Appendix B.2, RFC 7714 §16 and §17) and session behaviour:
//! round trips for every profile across the sequence number wrap, replay and tamper
//! rejection, SRTCP, stream eviction and the counters.

use super::kdf::{aes_ctr, SessionKeys};
use super::transform::{cm_iv, Transform};
use super::*;
use crate::rtcp::{CompoundWriter, ReceiverReportWriter, SdesItem, SdesWriteChunk, SdesWriter};
use crate::{ExtensionElement, ExtensionWriter, RtpPacket, RtpTimestamp, RtpWriter, SeqNo, Ssrc};
use aes::Aes128;
use ctr::cipher::{KeyInit, StreamCipher};

/// Bytes from hex digits, whitespace ignored (test data only).
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => unreachable!("bad hex digit in test data"),
        })
        .collect();
    assert!(digits.len().is_multiple_of(2), "odd number of hex digits");
    digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()
}

// ---------------------------------------------------------------------------------------------
// RFC 3711 Appendix B.2: AES-CM keystream

const B2_KEY: &str = "2B7E151628AED2A6ABF7158809CF4F3C";
const B2_SALT: &str = "F0F1F2F3F4F5F6F7F8F9FAFBFCFD";

/// Keystream blocks 0000, 0001, 0002, FEFF, FF00, FF01 of the appendix.
const B2_BLOCKS: [(usize, &str); 6] = [
    (0x0000, "E03EAD0935C95E80E166B16DD92B4EB4"),
    (0x0001, "D23513162B02D0F72A43A2FE4A5F97AB"),
    (0x0002, "41E95B3BB0A2E8DD477901E4FCA894C0"),
    (0xFEFF, "EC8CDF7398607CB0F2D21675EA9EA1E4"),
    (0xFF00, "362B7C3C6773516318A077D7FC5073AE"),
    (0xFF01, "6A2CC3787889374FBEB4C81B17BA6C44"),
];

fn b2_salt() -> [u8; 14] {
    let mut salt = [0u8; 14];
    salt.copy_from_slice(&hex(B2_SALT));
    salt
}

#[test]
fn rfc3711_b2_aes_cm_keystream() {
    let cipher = Aes128::new_from_slice(&hex(B2_KEY)).unwrap_or_else(|_| unreachable!());
    // SSRC 0 and index 0: the IV is the salt shifted by 16 bits.
    let iv = cm_iv(&b2_salt(), 0, 0);
    assert_eq!(iv.to_vec(), hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"));
    let mut stream = vec![0u8; 16 * 0xFF02];
    aes_ctr(&cipher, &iv).apply_keystream(&mut stream);
    for (block, want) in B2_BLOCKS {
        assert_eq!(
            stream[16 * block..16 * (block + 1)].to_vec(),
            hex(want),
            "block {block:04X}"
        );
    }
}

#[test]
fn rfc3711_b2_keystream_through_the_srtp_transform() -> Result<(), SrtpError> {
    // An RTP packet with SSRC 0, sequence number 0 and ROC 0 has packet index 0: its
    // encrypted zero payload is the appendix's keystream.
    let keys = SessionKeys {
        encryption: hex(B2_KEY).try_into().unwrap_or_default(),
        auth: [0x11; 20],
        salt: b2_salt(),
    };
    let transform = Transform::new(SrtpProfile::AesCm128HmacSha1_80, &keys, false);
    let mut session = SrtpSession::with_transforms(
        SrtpProfile::AesCm128HmacSha1_80,
        transform.clone(),
        transform,
    );
    let mut buf = [0u8; 12 + 48 + 10];
    let len = RtpWriter::new(0, SeqNo(0), RtpTimestamp(0), Ssrc(0), &[0; 48]).write(&mut buf)?;
    let n = session.protect_rtp(&mut buf, len)?;
    assert_eq!(n, 12 + 48 + 10);
    let want: Vec<u8> = B2_BLOCKS[..3].iter().flat_map(|(_, b)| hex(b)).collect();
    assert_eq!(buf[12..60].to_vec(), want);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// RFC 7714 §16 (SRTP) and §17 (SRTCP): AEAD_AES_128_GCM packet protection with the session
// key and salt given directly.

const GCM_KEY: &str = "000102030405060708090a0b0c0d0e0f";
/// "Quid pro quo"
const GCM_SALT: &str = "517569642070726f2071756f";

/// §16.1: header 8040f17b 8041f8d3 5501a0b2, payload "Gallia est omnis divisa in partes
/// tres".
const GCM_RTP: &str = "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973
                       20646976 69736120 696e2070 61727465 73207472 6573";
/// §16.1.1: the protected packet (ROC 0, SEQ 0xf17b).
const GCM_SRTP: &str = "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca
                        be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1
                        6a9152cf 765ee439 0cce";
/// §17: an SR from SSRC "Mars" with a trailing deadbeef block.
const GCM_RTCP: &str = "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930
                        4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef";
/// §17.1: encrypted, SRTCP index 0x5d4, E flag set.
const GCM_SRTCP: &str = "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7
                         6c06f32d c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458
                         96cf4d2f c5abf872 45d9eade 800005d4";
/// §17.3: authenticated only, E flag clear.
const GCM_SRTCP_AUTH_ONLY: &str = "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a
                                   0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef
                                   deadbeef 841dd968 3dd78ec9 2ae58790 125f62b3 000005d4";

const MARS: Ssrc = Ssrc(0x4d61_7273);

fn gcm_vector_session() -> SrtpSession {
    let mut salt = [0u8; 14];
    salt[..12].copy_from_slice(&hex(GCM_SALT));
    let keys = SessionKeys {
        encryption: hex(GCM_KEY).try_into().unwrap_or_default(),
        auth: [0; 20],
        salt,
    };
    let p = SrtpProfile::AeadAes128Gcm;
    SrtpSession::with_transforms(
        p,
        Transform::new(p, &keys, false),
        Transform::new(p, &keys, true),
    )
}

#[test]
fn rfc7714_16_1_srtp_encrypt_and_decrypt() -> Result<(), SrtpError> {
    let plain = hex(GCM_RTP);
    let want = hex(GCM_SRTP);
    let mut buf = [0u8; 128];
    buf[..plain.len()].copy_from_slice(&plain);
    let n = gcm_vector_session().protect_rtp(&mut buf, plain.len())?;
    assert_eq!(buf[..n].to_vec(), want);

    let mut rx = gcm_vector_session();
    let mut wire = want.clone();
    let n = rx.unprotect_rtp(&mut wire)?;
    assert_eq!(wire[..n].to_vec(), plain);
    // The same packet again is a replay.
    let mut again = want;
    assert_eq!(rx.unprotect_rtp(&mut again), Err(SrtpError::Replayed));
    assert_eq!(
        (rx.stats().rtp_unprotected, rx.stats().rtp_replayed),
        (1, 1)
    );
    Ok(())
}

#[test]
fn rfc7714_17_1_srtcp_encrypt_and_decrypt() -> Result<(), SrtpError> {
    let plain = hex(GCM_RTCP);
    let want = hex(GCM_SRTCP);
    let mut tx = gcm_vector_session();
    tx.set_next_rtcp_index(MARS, 0x5d4);
    let mut buf = [0u8; 128];
    buf[..plain.len()].copy_from_slice(&plain);
    let n = tx.protect_rtcp(&mut buf, plain.len())?;
    assert_eq!(buf[..n].to_vec(), want);

    let mut rx = gcm_vector_session();
    let mut wire = want;
    let n = rx.unprotect_rtcp(&mut wire)?;
    assert_eq!(wire[..n].to_vec(), plain);
    Ok(())
}

#[test]
fn rfc7714_17_3_srtcp_authentication_only() -> Result<(), SrtpError> {
    let plain = hex(GCM_RTCP);
    let want = hex(GCM_SRTCP_AUTH_ONLY);
    let mut tx = gcm_vector_session();
    tx.set_next_rtcp_index(MARS, 0x5d4);
    let mut buf = [0u8; 128];
    buf[..plain.len()].copy_from_slice(&plain);
    let n = tx.protect_rtcp_inner(&mut buf, plain.len(), false)?;
    assert_eq!(buf[..n].to_vec(), want);

    let mut rx = gcm_vector_session();
    let mut wire = want.clone();
    let n = rx.unprotect_rtcp(&mut wire)?;
    assert_eq!(wire[..n].to_vec(), plain);
    // Flipping the E flag is caught by the tag.
    let mut flipped = want;
    let last = flipped.len() - 4;
    flipped[last] ^= 0x80;
    assert_eq!(
        gcm_vector_session().unprotect_rtcp(&mut flipped),
        Err(SrtpError::AuthFailed)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Round trips

const MASTER_KEY: [u8; 16] = *b"media-core-srtp!";
const MASTER_SALT: [u8; 14] = *b"salt-for-tests";

fn pair(profile: SrtpProfile) -> (SrtpSession, SrtpSession) {
    let salt = &MASTER_SALT[..profile.master_salt_len()];
    let tx = SrtpSession::new(profile, &MASTER_KEY, salt);
    let rx = SrtpSession::new(profile, &MASTER_KEY, salt);
    match (tx, rx) {
        (Ok(tx), Ok(rx)) => (tx, rx),
        _ => unreachable!("test keys have the profile's lengths"),
    }
}

/// A PCMU packet (160 bytes of payload derived from `seq`) in `buf`; returns its length.
fn pcmu(buf: &mut [u8], ssrc: u32, seq: u16) -> usize {
    let payload: Vec<u8> = (0..160u16).map(|i| (i ^ seq) as u8).collect();
    let w = RtpWriter::new(
        0,
        SeqNo(seq),
        RtpTimestamp(u32::from(seq) * 160),
        Ssrc(ssrc),
        &payload,
    );
    w.write(buf).unwrap_or(0)
}

#[test]
fn round_trip_every_profile_across_the_wrap() -> Result<(), SrtpError> {
    for profile in SrtpProfile::ALL {
        let (mut tx, mut rx) = pair(profile);
        let mut seq = 65530u16;
        for _ in 0..12 {
            let mut buf = [0u8; 256];
            let len = pcmu(&mut buf, 0xCAFE, seq);
            let plain = buf[..len].to_vec();
            let n = tx.protect_rtp(&mut buf, len)?;
            assert_eq!(n, len + profile.rtp_tag_len());
            assert_ne!(buf[12..len], plain[12..], "{profile}: payload encrypted");
            assert_eq!(buf[..12], plain[..12], "{profile}: header in the clear");
            let m = rx.unprotect_rtp(&mut buf[..n])?;
            assert_eq!(buf[..m], plain[..], "{profile} seq {seq}");
            seq = seq.wrapping_add(1);
        }
        assert_eq!(tx.roc(Ssrc(0xCAFE)), Some(1), "{profile}");
        assert_eq!(rx.roc(Ssrc(0xCAFE)), Some(1), "{profile}");
        assert_eq!(rx.stats().rtp_unprotected, 12);
        assert_eq!(tx.stats().rtp_protected, 12);
    }
    Ok(())
}

#[test]
fn reordered_packets_across_the_wrap_get_the_right_roc() -> Result<(), SrtpError> {
    let (mut tx, mut rx) = pair(SrtpProfile::AesCm128HmacSha1_80);
    let mut wire = Vec::new();
    for seq in [65533u16, 65534, 65535, 0, 1, 2] {
        let mut buf = [0u8; 256];
        let len = pcmu(&mut buf, 9, seq);
        let n = tx.protect_rtp(&mut buf, len)?;
        wire.push(buf[..n].to_vec());
    }
    // Receive 65533, 0, 1, 65535, 2, 65534: late packets from ROC 0 after ROC 1 began.
    for i in [0usize, 3, 4, 2, 5, 1] {
        let mut p = wire[i].clone();
        rx.unprotect_rtp(&mut p)?;
    }
    assert_eq!(rx.roc(Ssrc(9)), Some(1));
    Ok(())
}

#[test]
fn replays_and_old_packets_are_rejected_and_counted() -> Result<(), SrtpError> {
    for profile in SrtpProfile::ALL {
        let (mut tx, mut rx) = pair(profile);
        let mut wire = Vec::new();
        for seq in 0..200u16 {
            let mut buf = [0u8; 256];
            let len = pcmu(&mut buf, 1, seq);
            let n = tx.protect_rtp(&mut buf, len)?;
            wire.push(buf[..n].to_vec());
        }
        for p in &wire[..150] {
            rx.unprotect_rtp(&mut p.clone())?;
        }
        assert_eq!(
            rx.unprotect_rtp(&mut wire[149].clone()),
            Err(SrtpError::Replayed)
        );
        assert_eq!(
            rx.unprotect_rtp(&mut wire[30].clone()),
            Err(SrtpError::Replayed)
        );
        // 149 - 128 = 21 is behind the window.
        assert_eq!(
            rx.unprotect_rtp(&mut wire[21].clone()),
            Err(SrtpError::TooOld)
        );
        // A gap, then a late packet from inside the window is still accepted once.
        rx.unprotect_rtp(&mut wire[199].clone())?;
        rx.unprotect_rtp(&mut wire[160].clone())?;
        assert_eq!(
            rx.unprotect_rtp(&mut wire[160].clone()),
            Err(SrtpError::Replayed)
        );
        let s = rx.stats();
        assert_eq!((s.rtp_replayed, s.too_old, s.rtp_unprotected), (3, 1, 152));
        // The sender refuses to reuse an index (keystream reuse).
        let mut buf = [0u8; 256];
        let len = pcmu(&mut buf, 1, 199);
        assert_eq!(tx.protect_rtp(&mut buf, len), Err(SrtpError::Replayed));
    }
    Ok(())
}

#[test]
fn tampering_fails_authentication() -> Result<(), SrtpError> {
    for profile in SrtpProfile::ALL {
        let (mut tx, mut rx) = pair(profile);
        let mut buf = [0u8; 256];
        let len = pcmu(&mut buf, 5, 100);
        let n = tx.protect_rtp(&mut buf, len)?;
        let wire = buf[..n].to_vec();
        // Tag, payload, header (marker bit, timestamp) and truncation.
        for at in [n - 1, n - profile.rtp_tag_len(), 20, 1, 5] {
            let mut p = wire.clone();
            p[at] ^= 0x01;
            assert_eq!(
                rx.unprotect_rtp(&mut p),
                Err(SrtpError::AuthFailed),
                "{profile} {at}"
            );
        }
        assert_eq!(
            rx.unprotect_rtp(&mut wire[..n - 1].to_vec()),
            Err(SrtpError::AuthFailed)
        );
        // Another key.
        let other = SrtpSession::new(profile, &[7; 16], &MASTER_SALT[..profile.master_salt_len()]);
        let mut p = wire.clone();
        assert_eq!(other?.unprotect_rtp(&mut p), Err(SrtpError::AuthFailed));
        assert_eq!(rx.stats().rtp_auth_failures, 6);
        // Failures created no stream state; the genuine packet still passes.
        assert_eq!(rx.stream_count(), 0);
        let mut p = wire;
        assert_eq!(rx.unprotect_rtp(&mut p), Ok(len));
    }
    Ok(())
}

#[test]
fn csrcs_extension_and_padding_round_trip() -> Result<(), SrtpError> {
    let csrcs = [Ssrc(10), Ssrc(11)];
    let els = [ExtensionElement {
        id: 1,
        data: &[0x80 | 42],
    }];
    let payload = [0x55u8; 33];
    let mut w = RtpWriter::new(111, SeqNo(7), RtpTimestamp(960), Ssrc(77), &payload);
    w.csrcs = &csrcs;
    w.extension = Some(ExtensionWriter::elements(&els)?);
    w.padding = 3;
    w.marker = true;
    for profile in SrtpProfile::ALL {
        let (mut tx, mut rx) = pair(profile);
        let mut buf = [0u8; 256];
        let len = w.write(&mut buf)?;
        let header_len = RtpPacket::parse(&buf[..len])?.header_len();
        let plain = buf[..len].to_vec();
        let n = tx.protect_rtp(&mut buf, len)?;
        // Header, CSRCs and extension stay in the clear; payload and padding do not.
        assert_eq!(buf[..header_len], plain[..header_len]);
        assert_ne!(buf[len - 1], 3);
        let m = rx.unprotect_rtp(&mut buf[..n])?;
        let p = RtpPacket::parse(&buf[..m])?;
        assert_eq!((p.payload(), p.padding_len()), (&payload[..], 3));
        assert_eq!(p.csrcs().collect::<Vec<_>>(), csrcs.to_vec());
    }
    Ok(())
}

fn rtcp_rr_sdes(buf: &mut [u8], ssrc: u32) -> usize {
    let items = [SdesItem::cname(b"srtp@media-core")];
    let chunks = [SdesWriteChunk {
        ssrc: Ssrc(ssrc),
        items: &items,
    }];
    let mut w = CompoundWriter::new(buf);
    let ok = w
        .push(&ReceiverReportWriter::new(Ssrc(ssrc), &[]))
        .and_then(|w| w.push(&SdesWriter { chunks: &chunks }))
        .is_ok();
    if ok {
        w.len()
    } else {
        0
    }
}

#[test]
fn srtcp_round_trip_every_profile() -> Result<(), SrtpError> {
    for profile in SrtpProfile::ALL {
        let (mut tx, mut rx) = pair(profile);
        let mut wire = Vec::new();
        for _ in 0..3 {
            let mut buf = [0u8; 256];
            let len = rtcp_rr_sdes(&mut buf, 0xB0B);
            let plain = buf[..len].to_vec();
            let n = tx.protect_rtcp(&mut buf, len)?;
            assert_eq!(n, len + profile.rtcp_overhead());
            assert_eq!(buf[..8], plain[..8]);
            assert_ne!(buf[8..len], plain[8..]);
            wire.push(buf[..n].to_vec());
            let m = rx.unprotect_rtcp(&mut buf[..n])?;
            assert_eq!(buf[..m], plain[..]);
            assert!(crate::Compound::parse(&buf[..m]).is_ok());
        }
        // Indexes 0, 1, 2 with the E flag; a replay and a tampered one are refused.
        let word = |p: &[u8]| {
            let at = if profile.is_aead() {
                p.len() - 4
            } else {
                p.len() - 4 - profile.rtcp_tag_len()
            };
            u32::from_be_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]])
        };
        assert_eq!(
            wire.iter().map(|p| word(p)).collect::<Vec<_>>(),
            [0x8000_0000, 0x8000_0001, 0x8000_0002]
        );
        assert_eq!(
            rx.unprotect_rtcp(&mut wire[1].clone()),
            Err(SrtpError::Replayed)
        );
        let mut bad = wire[2].clone();
        bad[9] ^= 0x40;
        let mut rx2 = pair(profile).1;
        assert_eq!(rx2.unprotect_rtcp(&mut bad), Err(SrtpError::AuthFailed));
        let s = rx.stats();
        assert_eq!((s.rtcp_unprotected, s.rtcp_replayed), (3, 1));
        assert_eq!(rx2.stats().rtcp_auth_failures, 1);
    }
    Ok(())
}

#[test]
fn srtcp_with_the_e_flag_clear_is_accepted_for_aes_cm_too() -> Result<(), SrtpError> {
    let (mut tx, mut rx) = pair(SrtpProfile::AesCm128HmacSha1_32);
    let mut buf = [0u8; 256];
    let len = rtcp_rr_sdes(&mut buf, 3);
    let plain = buf[..len].to_vec();
    let n = tx.protect_rtcp_inner(&mut buf, len, false)?;
    assert_eq!(buf[..len], plain[..]);
    assert_eq!(
        n,
        len + 4 + 10,
        "SRTCP keeps an 80-bit tag under the _32 profile"
    );
    assert_eq!(rx.unprotect_rtcp(&mut buf[..n]), Ok(len));
    Ok(())
}

#[test]
fn rtp_and_rtcp_are_refused_by_the_other_kind() -> Result<(), SrtpError> {
    let (mut tx, mut rx) = pair(SrtpProfile::AesCm128HmacSha1_80);
    let mut buf = [0u8; 256];
    let len = rtcp_rr_sdes(&mut buf, 3);
    let n = tx.protect_rtcp(&mut buf, len)?;
    assert_eq!(rx.unprotect_rtp(&mut buf[..n]), Err(SrtpError::AuthFailed));
    Ok(())
}

#[test]
fn malformed_input_is_an_error() {
    for profile in SrtpProfile::ALL {
        let (mut tx, mut rx) = pair(profile);
        for len in 0..40 {
            let mut buf = [0x80u8; 40];
            let _ = rx.unprotect_rtp(&mut buf[..len]);
            let _ = rx.unprotect_rtcp(&mut buf[..len]);
        }
        assert_eq!(rx.unprotect_rtp(&mut [0x80; 5]), Err(SrtpError::TooShort));
        assert_eq!(rx.unprotect_rtcp(&mut [0x80; 7]), Err(SrtpError::TooShort));
        assert_eq!(
            rx.unprotect_rtp(&mut [0x40; 40]),
            Err(SrtpError::Malformed(crate::PacketError::BadVersion(1)))
        );
        assert_eq!(
            rx.unprotect_rtcp(&mut [0x00; 40]),
            Err(SrtpError::Malformed(crate::PacketError::BadVersion(0)))
        );
        // Protecting: the packet must parse and the buffer must have room.
        let mut buf = [0u8; 256];
        let len = pcmu(&mut buf, 1, 1);
        assert_eq!(
            tx.protect_rtp(&mut buf[..len + 1], len),
            Err(SrtpError::BufferTooSmall {
                needed: len + profile.rtp_tag_len()
            })
        );
        assert_eq!(
            tx.protect_rtp(&mut buf, 300),
            Err(SrtpError::BufferTooSmall {
                needed: 300 + profile.rtp_tag_len()
            })
        );
        assert_eq!(
            tx.protect_rtp(&mut buf, 11),
            Err(SrtpError::Malformed(crate::PacketError::TooShort))
        );
        let mut rtcp = [0u8; 64];
        rtcp[0] = 0x40;
        assert_eq!(
            tx.protect_rtcp(&mut rtcp, 8),
            Err(SrtpError::Malformed(crate::PacketError::BadVersion(1)))
        );
        let mut out = vec![0u8; len + profile.rtp_tag_len() - 1];
        assert_eq!(
            tx.protect_rtp_into(&buf[..len], &mut out),
            Err(SrtpError::BufferTooSmall {
                needed: len + profile.rtp_tag_len()
            })
        );
        assert_eq!(tx.stats().malformed, 5);
        assert_eq!(tx.stream_count(), 0);
    }
}

#[test]
fn into_variants_leave_the_input_alone() -> Result<(), SrtpError> {
    let (mut tx, mut rx) = pair(SrtpProfile::AeadAes128Gcm);
    let mut buf = [0u8; 256];
    let len = pcmu(&mut buf, 1, 1);
    let mut out = [0u8; 256];
    let n = tx.protect_rtp_into(&buf[..len], &mut out)?;
    let m = rx.unprotect_rtp(&mut out[..n])?;
    assert_eq!(out[..m], buf[..len]);
    let len = rtcp_rr_sdes(&mut buf, 1);
    let n = tx.protect_rtcp_into(&buf[..len], &mut out)?;
    let m = rx.unprotect_rtcp(&mut out[..n])?;
    assert_eq!(out[..m], buf[..len]);
    Ok(())
}

#[test]
fn key_lengths_are_checked() {
    for profile in SrtpProfile::ALL {
        assert_eq!(
            SrtpSession::new(profile, &[0; 15], &[0; 14][..profile.master_salt_len()]).err(),
            Some(SrtpError::BadKeyLength {
                expected: 16,
                actual: 15
            })
        );
        assert_eq!(
            SrtpSession::new(profile, &[0; 16], &[0; 13]).err(),
            Some(SrtpError::BadSaltLength {
                expected: profile.master_salt_len(),
                actual: 13
            })
        );
    }
}

#[test]
fn streams_are_bounded_and_least_recently_used_is_evicted() -> Result<(), SrtpError> {
    let (tx, rx) = pair(SrtpProfile::AesCm128HmacSha1_80);
    let (mut tx, mut rx) = (tx.with_max_streams(2), rx.with_max_streams(2));
    let send = |tx: &mut SrtpSession, ssrc: u32, seq: u16| -> Result<Vec<u8>, SrtpError> {
        let mut buf = [0u8; 256];
        let len = pcmu(&mut buf, ssrc, seq);
        let n = tx.protect_rtp(&mut buf, len)?;
        Ok(buf[..n].to_vec())
    };
    let a1 = send(&mut tx, 1, 10)?;
    let b1 = send(&mut tx, 2, 10)?;
    let a2 = send(&mut tx, 1, 11)?;
    let c1 = send(&mut tx, 3, 10)?; // evicts SSRC 2 on the sender
    assert_eq!(tx.stream_count(), 2);
    assert_eq!(tx.stats().streams_evicted, 1);
    for p in [&a1, &b1, &a2, &c1] {
        rx.unprotect_rtp(&mut p.clone())?;
    }
    assert_eq!(rx.stats().streams_created, 3);
    assert_eq!(rx.stats().streams_evicted, 1);
    assert_eq!(rx.roc(Ssrc(2)), None, "SSRC 2 was least recently used");
    assert_eq!(rx.roc(Ssrc(1)), Some(0));
    // An evicted stream starts again: its replay state is gone (bounded memory wins).
    rx.unprotect_rtp(&mut b1.clone())?;
    assert!(rx.remove_stream(Ssrc(2)));
    assert!(!rx.remove_stream(Ssrc(2)));
    Ok(())
}

#[test]
fn signalled_roc_and_index_exhaustion() -> Result<(), SrtpError> {
    let (mut tx, mut rx) = pair(SrtpProfile::AesCm128HmacSha1_80);
    // A receiver joining a stream in its fifth cycle needs the ROC.
    tx.set_roc(Ssrc(4), 5);
    let mut buf = [0u8; 256];
    let len = pcmu(&mut buf, 4, 300);
    let n = tx.protect_rtp(&mut buf, len)?;
    let wire = buf[..n].to_vec();
    assert_eq!(
        rx.unprotect_rtp(&mut wire.clone()),
        Err(SrtpError::AuthFailed)
    );
    rx.set_roc(Ssrc(4), 5);
    assert_eq!(rx.unprotect_rtp(&mut wire.clone()), Ok(len));
    assert_eq!(rx.roc(Ssrc(4)), Some(5));

    // The last ROC: the wrap after it would reuse index 0.
    tx.set_roc(Ssrc(8), u32::MAX);
    let len = pcmu(&mut buf, 8, 65535);
    tx.protect_rtp(&mut buf, len)?;
    let len = pcmu(&mut buf, 8, 0);
    assert_eq!(
        tx.protect_rtp(&mut buf, len),
        Err(SrtpError::IndexExhausted)
    );

    // SRTCP: index 2^31 - 1 is the last.
    tx.set_next_rtcp_index(Ssrc(8), MAX_SRTCP_INDEX);
    let len = rtcp_rr_sdes(&mut buf, 8);
    tx.protect_rtcp(&mut buf, len)?;
    let len = rtcp_rr_sdes(&mut buf, 8);
    assert_eq!(
        tx.protect_rtcp(&mut buf, len),
        Err(SrtpError::IndexExhausted)
    );
    assert_eq!(tx.stats().index_exhausted, 2);
    Ok(())
}

#[test]
fn errors_display_and_debug_hides_keys() {
    assert_eq!(
        SrtpError::AuthFailed.to_string(),
        "SRTP authentication failed"
    );
    assert_eq!(
        SrtpError::BadKeyLength {
            expected: 16,
            actual: 3
        }
        .to_string(),
        "master key is 3 bytes, the profile needs 16"
    );
    let (tx, _) = pair(SrtpProfile::AesCm128HmacSha1_80);
    let debug = format!("{tx:?}");
    assert!(debug.starts_with("SrtpSession { profile: AesCm128HmacSha1_80"));
    assert!(!debug.contains("media-core-srtp"));
    assert_eq!(SrtpProfile::AeadAes128Gcm.to_string(), "AEAD_AES_128_GCM");
}
