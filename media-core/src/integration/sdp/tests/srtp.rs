//! SRTP (SDES): `a=crypto` lines parsed, answered and chosen by policy.

use super::*;

#[test]
fn sdes_crypto_lines_are_parsed() {
    let remote = parse_remote(savp_offer().as_bytes()).unwrap();
    let (_, audio) = remote.audio().next().unwrap();
    assert_eq!(audio.transport, Transport::RtpSavp);
    assert_eq!(audio.crypto.len(), 2);
    let c = &audio.crypto[0];
    assert_eq!(c.line, 10);
    assert_eq!(c.tag, Some(1));
    assert_eq!(c.suite.as_deref(), Some("AES_CM_128_HMAC_SHA1_80"));
    assert!(c.raw.starts_with("1 AES_CM_128_HMAC_SHA1_80 inline:WVNf"));
    let sdes = c.parsed.as_ref().unwrap();
    assert_eq!(sdes.suite, SrtpSuite::AesCm128HmacSha1_80);
    let key = &sdes.keys[0];
    let expected = B64
        .decode("WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz")
        .unwrap();
    assert_eq!(key.key_salt(), expected);
    assert_eq!((key.master_key.len(), key.master_salt.len()), (16, 14));
    assert_eq!(key.lifetime, Some(1 << 20));
    assert_eq!(
        key.mki,
        Some(Mki {
            value: 1,
            length: 4
        })
    );
    // The key is not shown by Debug.
    let dbg = format!("{key:?}");
    assert!(dbg.contains("<16 bytes>") && !dbg.contains("89"), "{dbg}");
    let sdes2 = audio.crypto[1].parsed.as_ref().unwrap();
    assert_eq!(sdes2.suite, SrtpSuite::AesCm128HmacSha1_32);
    assert_eq!(
        sdes2.keys[0].mki,
        Some(Mki {
            value: 1,
            length: 32
        })
    );
}

#[test]
fn savp_offer_is_answered_with_our_key() {
    let reg = registry();
    let (n, ans) = answer_with(&reg, config(), &savp_offer()).unwrap();
    assert_eq!(n.transport, Transport::RtpSavp);
    let c = n.crypto.expect("crypto");
    assert_eq!(
        (c.local.tag, c.local.suite),
        (1, SrtpSuite::AesCm128HmacSha1_80)
    );
    assert_eq!(c.remote.tag, 1);
    // Our key comes from the random source: 1, 2, ..., 30.
    let ours: Vec<u8> = (1..=30).collect();
    assert_eq!(c.local.keys[0].key_salt(), ours);
    assert!(has_line(&ans, "m=audio 40000 RTP/SAVP 0"), "{ans}");
    let line = format!(
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{}",
        B64.encode(&ours)
    );
    assert!(has_line(&ans, &line), "{ans}");
    assert_eq!(ans.matches("a=crypto").count(), 1);

    // Preferring the 32-bit tag picks the second line.
    let mut cfg = config();
    cfg.srtp_suites = vec![SrtpSuite::AesCm128HmacSha1_32];
    let (n, ans) = answer_with(&reg, cfg, &savp_offer()).unwrap();
    assert_eq!(n.crypto.map(|c| c.local.tag), Some(2));
    assert!(
        ans.contains("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"),
        "{ans}"
    );
}

#[test]
fn gcm_and_bad_crypto_lines() {
    let gcm_key: Vec<u8> = (100..128).collect();
    let gcm = format!(
        "a=crypto:7 AEAD_AES_128_GCM inline:{}",
        B64.encode(&gcm_key)
    );
    let short = format!(
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{}",
        B64.encode([0u8; 20])
    );
    let offer = sdp(&[
        "v=0",
        "c=IN IP4 192.0.2.12",
        "m=audio 49170 RTP/SAVPF 0",
        &short,
        "a=crypto:2 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm",
        "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:not*base64",
        &gcm,
    ]);
    let remote = parse_remote(offer.as_bytes()).unwrap();
    let (_, audio) = remote.audio().next().unwrap();
    let reasons: Vec<String> = audio
        .crypto
        .iter()
        .map(|c| match &c.parsed {
            Err(SdpError::BadCrypto { reason, .. }) => reason.clone(),
            Err(e) => panic!("{e:?}"),
            Ok(_) => "ok".into(),
        })
        .collect();
    assert!(reasons[0].contains("needs 30 bytes"), "{reasons:?}");
    assert!(
        reasons[1].contains("unsupported crypto suite"),
        "{reasons:?}"
    );
    assert!(reasons[2].contains("base64"), "{reasons:?}");
    assert_eq!(reasons[3], "ok");
    assert_eq!(audio.crypto[0].line, 4);

    // Only GCM is usable; by default we do not accept it.
    let reg = registry();
    match answer_with(&reg, config(), &offer) {
        Err(SdpError::NoAcceptableMedia { rejected, .. }) => {
            assert_eq!(rejected[0].reason, SdpError::NoAcceptableCrypto { line: 3 })
        }
        other => panic!("{other:?}"),
    }
    let mut cfg = config();
    cfg.srtp_suites.push(SrtpSuite::AeadAes128Gcm);
    let (n, ans) = answer_with(&reg, cfg, &offer).unwrap();
    let c = n.crypto.unwrap();
    assert_eq!((c.local.tag, c.local.suite), (7, SrtpSuite::AeadAes128Gcm));
    assert_eq!(c.remote.keys[0].key_salt(), gcm_key);
    assert_eq!(c.local.keys[0].key_salt().len(), 28);
    assert!(ans.contains("a=crypto:7 AEAD_AES_128_GCM inline:"), "{ans}");
}

#[test]
fn srtp_policy_decides_between_profiles() {
    let reg = registry();
    let mut cfg = config();
    cfg.srtp = SrtpPolicy::Disabled;
    match answer_with(&reg, cfg, &savp_offer()) {
        Err(SdpError::NoAcceptableMedia { rejected, .. }) => {
            assert_eq!(rejected[0].reason, SdpError::SrtpDisabled { line: 9 })
        }
        other => panic!("{other:?}"),
    }
    let mut cfg = config();
    cfg.srtp = SrtpPolicy::Required;
    match answer_with(&reg, cfg, &asterisk_offer()) {
        Err(SdpError::NoAcceptableMedia { rejected, .. }) => {
            assert_eq!(rejected[0].reason, SdpError::SrtpRequired { line: 6 })
        }
        other => panic!("{other:?}"),
    }
}
