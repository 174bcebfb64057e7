//! Our offers, and the answers to them.

use super::*;

#[test]
fn our_offer_round_trips_through_our_parser() {
    let reg = registry();
    let mut cfg = config();
    cfg.srtp = SrtpPolicy::Required;
    cfg.maxptime = Some(60);
    cfg.session_version = 7;
    let neg = Negotiator::new(&reg, cfg).unwrap();
    let offer = neg.offer(&mut counter());
    let remote = parse_remote(offer.as_bytes()).unwrap();
    assert_eq!(remote.session_version, 7);
    assert_eq!(remote.media.len(), 1);
    let (section, audio) = remote.audio().next().unwrap();
    assert_eq!(section.port, 40000);
    assert_eq!(audio.rtp_addr(), "192.0.2.10:40000".parse().unwrap());
    assert_eq!(audio.transport, Transport::RtpSavp);
    assert_eq!((audio.ptime, audio.maxptime), (Some(20), Some(60)));
    assert_eq!(audio.direction, Direction::SendRecv);
    assert!(audio.rtcp_mux);

    // Every capability, in priority order, with its payload type and rtpmap.
    let caps = reg.capabilities();
    for (cap, f) in caps.iter().zip(&audio.formats) {
        assert_eq!(f.payload_type, cap.payload_type);
        assert!(f.explicit_rtpmap);
        assert_eq!(
            f.rtpmap.as_ref().map(ToString::to_string),
            Some(cap.rtpmap.clone())
        );
        assert_eq!(f.fmtp, cap.fmtp);
    }
    // telephone-event/8000, and /48000 as well when a 48 kHz codec (Opus) is registered.
    let has_48k = caps.iter().any(|c| c.descriptor.clock_rate == 48000);
    assert_eq!(audio.telephone_events.len(), 1 + usize::from(has_48k));
    assert_eq!(
        audio.formats.len(),
        caps.len() + audio.telephone_events.len()
    );
    assert_eq!(
        audio.telephone_events[0],
        TelephoneEvent {
            payload_type: PayloadType(101),
            clock_rate: 8000,
            events: EventSet::DTMF
        }
    );
    // One a=crypto per suite, tags from 1, keys from the random source.
    let tags: Vec<(u32, SrtpSuite)> = audio
        .crypto
        .iter()
        .map(|c| c.parsed.as_ref().map(|p| (p.tag, p.suite)).unwrap())
        .collect();
    assert_eq!(
        tags,
        [
            (1, SrtpSuite::AesCm128HmacSha1_80),
            (2, SrtpSuite::AesCm128HmacSha1_32)
        ]
    );
    let first = audio.crypto[0].parsed.as_ref().unwrap();
    assert_eq!(first.keys[0].key_salt(), (1..=30).collect::<Vec<u8>>());
    let second = audio.crypto[1].parsed.as_ref().unwrap();
    assert_eq!(second.keys[0].key_salt(), (31..=60).collect::<Vec<u8>>());
}

#[test]
fn offer_answer_between_two_negotiators() {
    let reg = registry();
    let mut a_cfg = config();
    a_cfg.srtp = SrtpPolicy::Required;
    let a = Negotiator::new(&reg, a_cfg).unwrap();
    let mut b_cfg = LocalConfig::new("198.51.100.99".parse().unwrap(), 30000);
    b_cfg.codecs = vec!["pcma".into(), "pcmu".into()];
    b_cfg.direction = Direction::SendOnly;
    let b = Negotiator::new(&reg, b_cfg).unwrap();

    let offer = a.offer(&mut counter());
    let (at_b, answer) = b
        .answer(offer.as_bytes(), &mut |buf: &mut [u8]| buf.fill(0xAB))
        .unwrap();
    let at_a = a
        .process_answer(offer.as_bytes(), answer.as_bytes())
        .unwrap();

    // B takes the first codec in A's order that it allows.
    assert_eq!(at_b.codec_name(), "pcmu");
    assert_eq!(at_a.codec_name(), "pcmu");
    assert_eq!(at_a.payload_type, at_b.payload_type);
    assert_eq!(at_a.remote, "198.51.100.99:30000".parse().unwrap());
    assert_eq!(at_b.remote, "192.0.2.10:40000".parse().unwrap());
    assert_eq!(at_b.direction, Direction::SendOnly);
    assert_eq!(at_a.direction, Direction::RecvOnly);
    assert!(at_a.rtcp_mux && at_b.rtcp_mux);
    let (ca, cb) = (at_a.crypto.unwrap(), at_b.crypto.unwrap());
    assert_eq!(ca.local, cb.remote);
    assert_eq!(ca.remote, cb.local);
    assert_eq!(cb.local.keys[0].key_salt(), vec![0xAB; 30]);
    let (ta, tb) = (at_a.telephone_event.unwrap(), at_b.telephone_event.unwrap());
    assert_eq!(ta.send_payload_type, tb.receive_payload_type);
    assert_eq!(ta.events, EventSet::DTMF);
    assert_eq!(
        at_a.receive.keys().collect::<Vec<_>>(),
        [&PayloadType(0), &PayloadType(101)]
    );
}

#[test]
fn process_answer_maps_payload_types_and_lists_receivable_codecs() {
    let reg = registry();
    let neg = Negotiator::new(&reg, config()).unwrap();
    let offer = neg.offer(&mut no_random);
    // An answer listing two of our codecs, telephone-event renumbered to 100, ptime 30.
    let ans = sdp(&[
        "v=0",
        "o=- 9 9 IN IP4 198.51.100.7",
        "s=-",
        "c=IN IP4 198.51.100.7",
        "t=0 0",
        "m=audio 6000 RTP/AVP 8 0 100",
        "a=rtpmap:100 telephone-event/8000",
        "a=fmtp:100 0-11",
        "a=ptime:30",
    ]);
    let n = neg
        .process_answer(offer.as_bytes(), ans.as_bytes())
        .unwrap();
    assert_eq!(n.codec_name(), "pcma");
    assert_eq!(n.payload_type, PayloadType(8));
    assert_eq!(n.params.ptime_ms, 30);
    assert_eq!(n.remote_rtcp, Some("198.51.100.7:6001".parse().unwrap()));
    assert!(!n.rtcp_mux);
    let te = n.telephone_event.unwrap();
    assert_eq!(
        (te.send_payload_type, te.receive_payload_type),
        (PayloadType(100), PayloadType(101))
    );
    assert_eq!(te.events.to_string(), "0-11");
    assert_eq!(
        n.receive.keys().map(|p| p.0).collect::<Vec<_>>(),
        [0, 8, 101]
    );
}

#[test]
fn answers_that_do_not_fit_the_offer_are_refused() {
    let reg = registry();
    let mut cfg = config();
    cfg.direction = Direction::SendOnly;
    cfg.rtcp_mux = false;
    let neg = Negotiator::new(&reg, cfg).unwrap();
    let offer = neg.offer(&mut no_random);
    let base = [
        "v=0",
        "o=- 9 9 IN IP4 198.51.100.7",
        "s=-",
        "c=IN IP4 198.51.100.7",
        "t=0 0",
    ];
    let check = |media: &[&str], want: &str| {
        let mut lines = base.to_vec();
        lines.extend_from_slice(media);
        let ans = sdp(&lines);
        match neg.process_answer(offer.as_bytes(), ans.as_bytes()) {
            Err(e) => assert!(e.to_string().contains(want), "{e} (wanted {want:?})"),
            Ok(n) => panic!("accepted {media:?}: {n:?}"),
        }
    };
    check(
        &["m=audio 6000 RTP/AVP 18", "a=recvonly"],
        "18 G729/8000 was not in the offer",
    );
    check(
        &["m=audio 6000 RTP/AVP 96", "a=recvonly"],
        "96 has no rtpmap",
    );
    check(
        &["m=audio 6000 RTP/AVP 0", "a=sendrecv"],
        "answer is sendrecv to an offer that is sendonly",
    );
    check(
        &["m=audio 6000 RTP/AVP 0", "a=recvonly", "a=rtcp-mux"],
        "rtcp-mux in the answer",
    );
    check(
        &["m=audio 6000 RTP/SAVP 0", "a=recvonly"],
        "transport RTP/SAVP",
    );
    check(
        &["m=audio 6000 RTP/AVP 0", "m=video 0 RTP/AVP 97"],
        "2 m-lines in the answer, 1",
    );
    check(&["m=video 6000 RTP/AVP 0"], "is 'video', offered 'audio'");

    // Port 0: the answerer refused the stream.
    let mut lines = base.to_vec();
    lines.push("m=audio 0 RTP/AVP 0");
    match neg.process_answer(offer.as_bytes(), sdp(&lines).as_bytes()) {
        Err(SdpError::NoAcceptableMedia { rejected, .. }) => {
            assert_eq!(rejected[0].reason, SdpError::MediaDisabled { line: 6 })
        }
        other => panic!("{other:?}"),
    }
    // A fitting answer: recvonly to our sendonly.
    let mut lines = base.to_vec();
    lines.extend(["m=audio 6000 RTP/AVP 0", "a=recvonly"]);
    let n = neg
        .process_answer(offer.as_bytes(), sdp(&lines).as_bytes())
        .unwrap();
    assert_eq!(n.direction, Direction::SendOnly);
}

#[test]
fn srtp_answers_must_carry_one_matching_crypto_line() {
    let reg = registry();
    let mut cfg = config();
    cfg.srtp = SrtpPolicy::Required;
    let neg = Negotiator::new(&reg, cfg).unwrap();
    let offer = neg.offer(&mut counter());
    let key = B64.encode([9u8; 30]);
    let with = |cryptos: &[String]| {
        let mut lines: Vec<String> = ["v=0", "c=IN IP4 198.51.100.7", "m=audio 6000 RTP/SAVP 0"]
            .map(String::from)
            .to_vec();
        lines.extend_from_slice(cryptos);
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        neg.process_answer(offer.as_bytes(), sdp(&refs).as_bytes())
    };
    let ok = with(&[format!("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:{key}")]).unwrap();
    let c = ok.crypto.unwrap();
    assert_eq!(
        (c.local.tag, c.local.suite),
        (2, SrtpSuite::AesCm128HmacSha1_32)
    );
    assert_eq!(c.remote.keys[0].key_salt(), vec![9u8; 30]);

    let err = with(&[format!("a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:{key}")]).unwrap_err();
    assert!(err.to_string().contains("tag 3"), "{err}");
    let err = with(&[format!("a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:{key}")]).unwrap_err();
    assert!(err.to_string().contains("was not offered"), "{err}");
    let err = with(&[]).unwrap_err();
    assert!(err.to_string().contains("0 usable a=crypto"), "{err}");
    let two = [
        format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key}"),
        format!("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:{key}"),
    ];
    assert!(with(&two).unwrap_err().to_string().contains("exactly one"));
    let bad = with(&["a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA".to_string()]).unwrap_err();
    assert!(
        matches!(bad, SdpError::BadCrypto { line: 4, .. }),
        "{bad:?}"
    );
}

/// A stand-in 48 kHz codec named like Opus, to test what depends on one being registered.
fn registry_with_48k_codec() -> CodecRegistry {
    let l16 = crate::codec::audio::l16::L16;
    let desc: &'static CodecDescriptor = Box::leak(Box::new(CodecDescriptor {
        name: "opus",
        encoding_name: "opus",
        clock_rate: 48000,
        sample_rate: 48000,
        sample_rates: &[48000],
        channels: 1,
        max_channels: 2,
        payload_type: None,
        fmtp: Some("useinbandfec=1"),
        ..l16
    }));
    let mut reg = CodecRegistry::new();
    let base = registry();
    let pcmu = *base.find("pcmu").unwrap();
    reg.register(pcmu);
    reg.register(CodecEntry {
        descriptor: desc,
        priority: 200,
        ..pcmu
    });
    reg
}

#[test]
fn a_48k_codec_brings_telephone_event_48000_and_fmtp_passes_through() {
    let reg = registry_with_48k_codec();
    let neg = Negotiator::new(&reg, config()).unwrap();
    let offer = neg.offer(&mut no_random);
    assert!(has_line(&offer, "a=fmtp:96 useinbandfec=1"), "{offer}");
    assert!(
        has_line(&offer, "a=rtpmap:101 telephone-event/8000"),
        "{offer}"
    );
    assert!(
        has_line(&offer, "a=rtpmap:97 telephone-event/48000"),
        "{offer}"
    );
    assert!(
        offer.contains("m=audio 40000 RTP/AVP 96 0 101 97"),
        "{offer}"
    );

    // A browser-like offer (plain RTP here): the fmtp string reaches CodecParams untouched, and
    // telephone-event at 48000 goes with the 48 kHz codec.
    let remote_offer = sdp(&[
        "v=0",
        "c=IN IP4 198.51.100.7",
        "m=audio 6000 RTP/AVPF 111 0 126 110",
        "a=rtpmap:111 opus/48000/2",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=rtpmap:126 telephone-event/8000",
        "a=rtpmap:110 telephone-event/48000",
    ]);
    let (n, ans) = neg.answer(remote_offer.as_bytes(), &mut no_random).unwrap();
    assert_eq!(n.codec_name(), "opus");
    assert_eq!(n.params.fmtp.as_deref(), Some("minptime=10;useinbandfec=1"));
    assert_eq!(
        n.telephone_event.map(|t| t.receive_payload_type),
        Some(PayloadType(110))
    );
    assert!(has_line(&ans, "a=rtpmap:111 opus/48000/2"), "{ans}");
    assert!(has_line(&ans, "a=fmtp:111 useinbandfec=1"), "{ans}");
    assert!(
        has_line(&ans, "a=rtpmap:110 telephone-event/48000"),
        "{ans}"
    );
}
