//! SDP tests: real-world offer shapes (written from RFC 3264 / RFC 4566 / RFC 4568 examples and
//! the shapes Asterisk, FreeSWITCH, Linphone and browsers send), the offer/answer round trip,
//! answer validation, error reporting, and property tests that nothing panics.

use super::*;
use crate::codec::{CodecEntry, CodecRegistry};
use proptest::prelude::*;

/// Joins lines with CRLF, as SDP is written.
fn sdp(lines: &[&str]) -> String {
    let mut s = lines.join("\r\n");
    s.push_str("\r\n");
    s
}

fn registry() -> CodecRegistry {
    CodecRegistry::with_builtin()
}

fn config() -> LocalConfig {
    LocalConfig::new("192.0.2.10".parse().unwrap(), 40000)
}

/// A deterministic "random" source: 1, 2, 3, ... continuing across calls.
fn counter() -> impl FnMut(&mut [u8]) {
    let mut n = 0u8;
    move |buf: &mut [u8]| {
        for b in buf {
            n = n.wrapping_add(1);
            *b = n;
        }
    }
}

fn no_random(_: &mut [u8]) {
    panic!("plain RTP must not ask for keys");
}

fn answer_with(
    reg: &CodecRegistry,
    cfg: LocalConfig,
    offer: &str,
) -> Result<(NegotiatedMedia, String), SdpError> {
    Negotiator::new(reg, cfg)
        .unwrap()
        .answer(offer.as_bytes(), &mut counter())
}

fn answer(offer: &str) -> (NegotiatedMedia, String) {
    let reg = registry();
    let r = Negotiator::new(&reg, config())
        .unwrap()
        .answer(offer.as_bytes(), &mut no_random);
    match r {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

fn has_line(sdp: &str, line: &str) -> bool {
    sdp.lines().any(|l| l == line)
}

/// Asterisk's usual shape: session-level c=, PCMU/PCMA/GSM/telephone-event, events 0-16.
fn asterisk_offer() -> String {
    sdp(&[
        "v=0",
        "o=- 1234567 1234567 IN IP4 203.0.113.5",
        "s=Asterisk",
        "c=IN IP4 203.0.113.5",
        "t=0 0",
        "m=audio 10000 RTP/AVP 0 8 3 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:3 GSM/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-16",
        "a=ptime:20",
        "a=maxptime:150",
        "a=sendrecv",
    ])
}

// ---------------------------------------------------------------------------------------------
// Answering real-world offers
// ---------------------------------------------------------------------------------------------

#[test]
fn pcmu_pcma_telephone_event_answered_with_pcmu() {
    let (n, ans) = answer(&asterisk_offer());
    assert_eq!(n.codec_name(), "pcmu");
    assert_eq!(n.payload_type, PayloadType(0));
    assert_eq!(
        (n.params.sample_rate, n.params.channels, n.params.ptime_ms),
        (8000, 1, 20)
    );
    assert_eq!(n.remote, "203.0.113.5:10000".parse().unwrap());
    assert_eq!(n.remote_rtcp, Some("203.0.113.5:10001".parse().unwrap()));
    assert_eq!(n.transport, Transport::RtpAvp);
    assert_eq!(n.direction, Direction::SendRecv);
    assert!(!n.rtcp_mux);
    assert!(n.crypto.is_none());
    assert!(n.rejected.is_empty());
    let te = n.telephone_event.expect("telephone-event");
    assert_eq!(te.send_payload_type, PayloadType(101));
    assert_eq!(te.receive_payload_type, PayloadType(101));
    assert_eq!(te.clock_rate, 8000);
    // We offered to take 0-16; we answer with the DTMF events we handle.
    assert_eq!(te.events, EventSet::DTMF);
    assert_eq!(n.receive.len(), 2);
    assert!(matches!(
        n.receive.get(&PayloadType(0)),
        Some(ReceiveFormat::Codec { codec, .. }) if codec.name == "pcmu"
    ));
    assert_eq!(
        n.receive.get(&PayloadType(101)),
        Some(&ReceiveFormat::TelephoneEvent { clock_rate: 8000 })
    );

    for line in [
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.10",
        "c=IN IP4 192.0.2.10",
        "t=0 0",
        "m=audio 40000 RTP/AVP 0 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=ptime:20",
        "a=sendrecv",
    ] {
        assert!(has_line(&ans, line), "missing {line:?} in\n{ans}");
    }
    assert!(!ans.contains("rtcp-mux"), "{ans}");
    assert!(ans.lines().all(|l| !l.is_empty()));
    assert!(ans.ends_with("\r\n"));
}

#[test]
fn offerer_order_wins_over_ours() {
    // FreeSWITCH-like: PCMA first, G.722, comfort noise, media-level c=.
    let offer = sdp(&[
        "v=0",
        "o=FreeSWITCH 1700000000 1700000001 IN IP4 198.51.100.20",
        "s=FreeSWITCH",
        "t=0 0",
        "m=audio 24000 RTP/AVP 8 0 101 13",
        "c=IN IP4 198.51.100.20",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-16",
        "a=rtpmap:13 CN/8000",
        "a=ptime:20",
    ]);
    let (n, ans) = answer(&offer);
    assert_eq!(n.codec_name(), "pcma");
    assert_eq!(n.payload_type, PayloadType(8));
    assert!(has_line(&ans, "m=audio 40000 RTP/AVP 8 101"), "{ans}");
    assert_eq!(n.remote, "198.51.100.20:24000".parse().unwrap());
}

#[test]
fn local_codec_list_restricts_the_answer() {
    let reg = registry();
    let mut cfg = config();
    cfg.codecs = vec!["PCMA".into()];
    let (n, _) = answer_with(&reg, cfg, &asterisk_offer()).unwrap();
    assert_eq!(n.codec_name(), "pcma");
}

#[test]
fn g722_static_payload_type_nine() {
    // Static PT 9 without rtpmap: G.722, RTP clock 8000 though it samples at 16 kHz.
    let offer = sdp(&[
        "v=0",
        "o=- 20518 0 IN IP4 198.51.100.30",
        "s=-",
        "c=IN IP4 198.51.100.30",
        "t=0 0",
        "m=audio 7078 RTP/AVP 9 0 101",
        "a=rtpmap:101 telephone-event/8000",
    ]);
    let remote = parse_remote(offer.as_bytes()).unwrap();
    let (_, audio) = remote.audio().next().unwrap();
    let g722 = audio.format(PayloadType(9)).unwrap();
    assert!(!g722.explicit_rtpmap);
    assert_eq!(
        g722.rtpmap,
        Some(RtpMap {
            encoding_name: "G722".into(),
            clock_rate: 8000,
            channels: 1
        })
    );

    let reg = registry();
    let (n, ans) = answer_with(&reg, config(), &offer).unwrap();
    if reg.find("g722").is_ok() {
        assert_eq!(n.codec_name(), "g722");
        assert_eq!(n.payload_type, PayloadType(9));
        assert_eq!(n.params.sample_rate, 16000);
        assert!(has_line(&ans, "a=rtpmap:9 G722/8000"), "{ans}");
        // telephone-event follows the RTP clock (8000), not the sampling rate.
        assert_eq!(n.telephone_event.map(|t| t.clock_rate), Some(8000));
    } else {
        // No G.722 on this build: the next offered codec.
        assert_eq!(n.codec_name(), "pcmu");
        assert!(has_line(&ans, "m=audio 40000 RTP/AVP 0 101"), "{ans}");
    }
}

#[test]
fn l16_dynamic_stereo_and_static_mono() {
    let offer = sdp(&[
        "v=0",
        "o=- 1 1 IN IP4 198.51.100.40",
        "s=-",
        "c=IN IP4 198.51.100.40",
        "t=0 0",
        "m=audio 5004 RTP/AVP 96 11",
        "a=rtpmap:96 L16/16000/2",
        "a=ptime:10",
    ]);
    let (n, ans) = answer(&offer);
    assert_eq!(n.codec_name(), "l16");
    assert_eq!(n.payload_type, PayloadType(96));
    assert_eq!(
        (n.params.sample_rate, n.params.channels, n.params.ptime_ms),
        (16000, 2, 10)
    );
    assert!(has_line(&ans, "a=rtpmap:96 L16/16000/2"), "{ans}");
    assert!(has_line(&ans, "a=ptime:10"), "{ans}");
    // No telephone-event at 16 kHz was offered, so none is answered.
    assert!(n.telephone_event.is_none());

    let offer = sdp(&["v=0", "c=IN IP4 198.51.100.40", "m=audio 5004 RTP/AVP 11"]);
    let (n, ans) = answer(&offer);
    assert_eq!(
        (n.codec_name(), n.params.sample_rate, n.params.channels),
        ("l16", 44100, 1)
    );
    assert!(has_line(&ans, "a=rtpmap:11 L16/44100"), "{ans}");
}

#[test]
fn unsupported_only_offer_is_rejected_with_port_zero() {
    let offer = sdp(&[
        "v=0",
        "o=- 5 5 IN IP4 198.51.100.50",
        "s=-",
        "c=IN IP4 198.51.100.50",
        "t=0 0",
        "m=audio 6000 RTP/AVP 18 4 96",
        "a=rtpmap:18 G729/8000",
        "a=fmtp:18 annexb=no",
        "a=rtpmap:96 AMR/8000",
        "m=video 6002 RTP/AVP 97",
        "a=rtpmap:97 H264/90000",
    ]);
    let reg = registry();
    match answer_with(&reg, config(), &offer) {
        Err(SdpError::NoAcceptableMedia { rejected, answer }) => {
            assert_eq!(rejected.len(), 2);
            assert_eq!(
                rejected[0].reason,
                SdpError::NoCommonCodec {
                    line: 6,
                    offered: vec![
                        "18 G729/8000".into(),
                        "4 G723/8000".into(),
                        "96 AMR/8000".into()
                    ],
                }
            );
            assert_eq!(
                rejected[1].reason,
                SdpError::NotAudio {
                    line: 10,
                    media: "video".into()
                }
            );
            assert!(has_line(&answer, "m=audio 0 RTP/AVP 18 4 96"), "{answer}");
            assert!(has_line(&answer, "m=video 0 RTP/AVP 97"), "{answer}");
            assert!(!answer.contains("a=rtpmap"), "{answer}");
            let e = SdpError::NoAcceptableMedia {
                rejected,
                answer: answer.clone(),
            };
            assert!(e
                .to_string()
                .contains("line 6: no supported codec among: 18 G729/8000"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn other_media_is_rejected_beside_accepted_audio() {
    // A Linphone-like offer with video and a second audio stream.
    let offer = sdp(&[
        "v=0",
        "o=linphone 3297 2468 IN IP4 198.51.100.60",
        "s=Talk",
        "c=IN IP4 198.51.100.60",
        "t=0 0",
        "m=audio 7078 RTP/AVP 96 0 8 101",
        "a=rtpmap:96 opus/48000/2",
        "a=fmtp:96 useinbandfec=1",
        "a=rtpmap:101 telephone-event/8000",
        "m=video 9078 RTP/AVP 97",
        "a=rtpmap:97 VP8/90000",
        "m=audio 7080 RTP/AVP 0",
    ]);
    let reg = registry();
    let (n, ans) = answer_with(&reg, config(), &offer).unwrap();
    if reg.find_rtpmap("opus/48000/2").is_none() {
        assert_eq!(n.codec_name(), "pcmu");
    }
    assert_eq!(n.media_index, 0);
    assert_eq!(n.rejected.len(), 2);
    assert_eq!(n.rejected[0].index, 1);
    assert!(matches!(
        n.rejected[0].reason,
        SdpError::NotAudio { line: 10, .. }
    ));
    assert_eq!(
        n.rejected[1].reason,
        SdpError::ExtraAudioStream { line: 12 }
    );
    let m_lines: Vec<&str> = ans.lines().filter(|l| l.starts_with("m=")).collect();
    assert_eq!(m_lines.len(), 3, "{ans}");
    assert_eq!(m_lines[1], "m=video 0 RTP/AVP 97");
    assert_eq!(m_lines[2], "m=audio 0 RTP/AVP 0");
}

#[test]
fn directions_are_answered_per_rfc3264() {
    let with_dir = |session: Option<&str>, media: Option<&str>| {
        let mut lines = vec!["v=0", "c=IN IP4 198.51.100.70", "t=0 0"];
        if let Some(d) = session {
            lines.push(d);
        }
        lines.push("m=audio 4000 RTP/AVP 0");
        if let Some(d) = media {
            lines.push(d);
        }
        sdp(&lines)
    };
    for (offered, answered) in [
        (None, Direction::SendRecv),
        (Some("a=sendrecv"), Direction::SendRecv),
        (Some("a=sendonly"), Direction::RecvOnly),
        (Some("a=recvonly"), Direction::SendOnly),
        (Some("a=inactive"), Direction::Inactive),
    ] {
        let (n, ans) = answer(&with_dir(None, offered));
        assert_eq!(n.direction, answered, "{offered:?}");
        assert!(has_line(&ans, &format!("a={answered}")), "{ans}");
    }
    // Session level applies when the media level says nothing, and the media level wins.
    let (n, _) = answer(&with_dir(Some("a=sendonly"), None));
    assert_eq!(n.direction, Direction::RecvOnly);
    let (n, _) = answer(&with_dir(Some("a=sendonly"), Some("a=sendrecv")));
    assert_eq!(n.direction, Direction::SendRecv);

    // Our own hold: we want sendonly; a sendonly offer then leaves nothing.
    let reg = registry();
    let mut cfg = config();
    cfg.direction = Direction::SendOnly;
    let (n, _) = answer_with(&reg, cfg.clone(), &with_dir(None, Some("a=sendonly"))).unwrap();
    assert_eq!(n.direction, Direction::Inactive);
    let (n, _) = answer_with(&reg, cfg, &with_dir(None, None)).unwrap();
    assert_eq!(n.direction, Direction::SendOnly);
}

#[test]
fn rfc2543_hold_address_means_do_not_send() {
    let offer = sdp(&["v=0", "c=IN IP4 0.0.0.0", "m=audio 4000 RTP/AVP 0"]);
    let (n, ans) = answer(&offer);
    assert_eq!(n.direction, Direction::RecvOnly);
    assert!(has_line(&ans, "a=recvonly"), "{ans}");
}

#[test]
fn rtcp_mux_and_rtcp_port_are_honoured() {
    let offer = sdp(&[
        "v=0",
        "c=IN IP4 198.51.100.80",
        "m=audio 50000 RTP/AVPF 0",
        "a=rtcp-mux",
        "a=rtcp:50001",
    ]);
    let (n, ans) = answer(&offer);
    assert!(n.rtcp_mux);
    assert_eq!(n.transport, Transport::RtpAvpf);
    assert_eq!(n.remote_rtcp, Some(n.remote));
    assert!(has_line(&ans, "a=rtcp-mux"), "{ans}");
    assert!(has_line(&ans, "m=audio 40000 RTP/AVPF 0"), "{ans}");

    // Without rtcp-mux on our side: RTCP goes where a=rtcp says.
    let reg = registry();
    let mut cfg = config();
    cfg.rtcp_mux = false;
    cfg.rtcp_port = Some(40003);
    let (n, ans) = answer_with(&reg, cfg, &offer).unwrap();
    assert!(!n.rtcp_mux);
    assert_eq!(n.remote_rtcp, Some("198.51.100.80:50001".parse().unwrap()));
    assert!(!ans.contains("rtcp-mux"), "{ans}");
    assert!(has_line(&ans, "a=rtcp:40003"), "{ans}");

    let offer = sdp(&[
        "v=0",
        "c=IN IP4 198.51.100.80",
        "m=audio 50000 RTP/AVP 0",
        "a=rtcp:53020 IN IP4 198.51.100.81",
    ]);
    let (n, _) = answer(&offer);
    assert_eq!(n.remote_rtcp, Some("198.51.100.81:53020".parse().unwrap()));
}

#[test]
fn ptime_follows_the_remote_within_codec_and_maxptime() {
    let with = |attrs: &[&str]| {
        let mut lines = vec!["v=0", "c=IN IP4 198.51.100.90", "m=audio 4000 RTP/AVP 0"];
        lines.extend_from_slice(attrs);
        sdp(&lines)
    };
    assert_eq!(answer(&with(&["a=ptime:30"])).0.params.ptime_ms, 30);
    assert_eq!(answer(&with(&["a=ptime:20.0"])).0.params.ptime_ms, 20);
    // 25 ms is not a G.711 packet time we make: ours (20).
    assert_eq!(answer(&with(&["a=ptime:25"])).0.params.ptime_ms, 20);
    // maxptime below our ptime caps it.
    assert_eq!(answer(&with(&["a=maxptime:10"])).0.params.ptime_ms, 10);
    // The remote's maxptime is kept for the packet time adaptation.
    assert_eq!(answer(&with(&["a=maxptime:40"])).0.max_ptime_ms, Some(40));
    let (n, ans) = answer(&with(&[]));
    assert_eq!(n.max_ptime_ms, None);
    assert_eq!(n.params.ptime_ms, 20);
    assert!(has_line(&ans, "a=ptime:20"));
}

#[test]
fn ipv6_connection_addresses() {
    let offer = sdp(&[
        "v=0",
        "o=- 1 1 IN IP6 2001:db8::5",
        "s=-",
        "c=IN IP6 2001:db8::5",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
    ]);
    let reg = registry();
    let cfg = LocalConfig::new("2001:db8::10".parse().unwrap(), 40000);
    let (n, ans) = answer_with(&reg, cfg, &offer).unwrap();
    assert_eq!(n.remote, "[2001:db8::5]:4000".parse().unwrap());
    assert!(has_line(&ans, "c=IN IP6 2001:db8::10"), "{ans}");
    assert!(has_line(&ans, "o=- 1 1 IN IP6 2001:db8::10"), "{ans}");
}

#[test]
fn media_level_connection_overrides_session_level() {
    let offer = sdp(&[
        "v=0",
        "c=IN IP4 198.51.100.1",
        "m=audio 4000 RTP/AVP 0",
        "c=IN IP4 198.51.100.2",
        "m=audio 4002 RTP/AVP 0",
    ]);
    let remote = parse_remote(offer.as_bytes()).unwrap();
    let addrs: Vec<IpAddr> = remote.audio().map(|(_, a)| a.address).collect();
    assert_eq!(
        addrs,
        [
            "198.51.100.2".parse::<IpAddr>().unwrap(),
            "198.51.100.1".parse().unwrap()
        ]
    );
}

#[test]
fn missing_connection_rejects_the_m_line() {
    let offer = sdp(&[
        "v=0",
        "o=- 1 1 IN IP4 198.51.100.1",
        "s=-",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
    ]);
    let remote = parse_remote(offer.as_bytes()).unwrap();
    assert_eq!(
        remote.media[0].audio,
        Err(SdpError::MissingConnection { line: 5 })
    );
    // Port 0 needs no address.
    let offer = sdp(&["v=0", "m=audio 0 RTP/AVP 0"]);
    let remote = parse_remote(offer.as_bytes()).unwrap();
    assert_eq!(
        remote.media[0].audio,
        Err(SdpError::MediaDisabled { line: 2 })
    );
}

#[test]
fn webrtc_dtls_profile_is_a_typed_rejection() {
    let offer = sdp(&[
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 0",
        "c=IN IP4 0.0.0.0",
        "a=rtcp-mux",
        "a=setup:actpass",
        "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
        "a=rtpmap:111 opus/48000/2",
        "a=fmtp:111 minptime=10;useinbandfec=1",
    ]);
    let remote = parse_remote(offer.as_bytes()).unwrap();
    match &remote.media[0].audio {
        Err(SdpError::UnsupportedTransport {
            line,
            proto,
            reason,
        }) => {
            assert_eq!(*line, 6);
            assert_eq!(proto, "UDP/TLS/RTP/SAVPF");
            assert!(reason.contains("DTLS"));
        }
        other => panic!("{other:?}"),
    }
    let reg = registry();
    match answer_with(&reg, config(), &offer) {
        Err(SdpError::NoAcceptableMedia { answer, .. }) => {
            assert!(
                has_line(&answer, "m=audio 0 UDP/TLS/RTP/SAVPF 111 0"),
                "{answer}"
            )
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// SRTP (SDES)
// ---------------------------------------------------------------------------------------------

/// RFC 4568 section 4's example media section.
fn savp_offer() -> String {
    sdp(&[
        "v=0",
        "o=sam 2890844526 2890842807 IN IP4 192.0.2.5",
        "s=SRTP Discussion",
        "i=A discussion about Secure RTP",
        "u=http://www.example.com/seminars/srtp.pdf",
        "e=marge@example.com (Marge Simpson)",
        "c=IN IP4 192.0.2.12",
        "t=2873397496 2873404696",
        "m=audio 49170 RTP/SAVP 0",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4",
        "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32",
    ])
}

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

// ---------------------------------------------------------------------------------------------
// Offers, and answers to our offers
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Errors say what and where
// ---------------------------------------------------------------------------------------------

fn first_audio_error(text: &[u8]) -> SdpError {
    match parse_remote(text) {
        Ok(r) => match &r.media[0].audio {
            Err(e) => e.clone(),
            Ok(a) => panic!("parsed: {a:?}"),
        },
        Err(e) => e,
    }
}

#[test]
fn malformed_input_gives_typed_errors_with_line_numbers() {
    let head = "v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\n";
    let with = |media: &str| format!("{head}{media}");
    let cases: Vec<(String, SdpError)> = vec![
        (String::new(), SdpError::Syntax { line: 1, reason: "No version line".into() }),
        (
            with("m=audio 99999 RTP/AVP 0\r\n"),
            SdpError::BadPort { line: 6, value: "m=audio 99999 RTP/AVP 0".into() },
        ),
        (
            with("m=audio 4000 RTP/AVP 0 abc\r\n"),
            SdpError::BadFormat { line: 6, token: "abc".into(), reason: "not an RTP payload type 0-127" },
        ),
        (
            with("m=audio 4000 RTP/AVP 0 200\r\n"),
            SdpError::BadFormat { line: 6, token: "200".into(), reason: "not an RTP payload type 0-127" },
        ),
        (
            with("m=audio 4000 RTP/AVP 0 0\r\n"),
            SdpError::BadFormat { line: 6, token: "0".into(), reason: "payload type listed twice" },
        ),
        (
            with("m=audio 4000 RTP/AVP 0\r\na=sendrecv\r\na=ptime:99999999999999999999999\r\n"),
            SdpError::BadAttribute {
                line: 8,
                name: "ptime",
                value: "99999999999999999999999".into(),
                reason: "not 1-1000 ms",
            },
        ),
        (
            with("m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n"),
            SdpError::BadAttribute {
                line: 7,
                name: "rtpmap",
                value: "0 PCMU".into(),
                reason: "not ENCODING/CLOCK[/CHANNELS]",
            },
        ),
        (
            with("m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:0 PCMA/8000\r\n"),
            SdpError::BadAttribute {
                line: 8,
                name: "rtpmap",
                value: "0 PCMA/8000".into(),
                reason: "second rtpmap for this payload type",
            },
        ),
        (
            with("m=audio 4000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-300\r\n"),
            SdpError::BadAttribute {
                line: 8,
                name: "fmtp",
                value: "0-300".into(),
                reason: "not a telephone-event list such as 0-15",
            },
        ),
        (
            with("m=audio 4000 RTP/AVP 0\r\na=sendonly\r\na=recvonly\r\n"),
            SdpError::BadAttribute {
                line: 8,
                name: "recvonly",
                value: String::new(),
                reason: "contradicts an earlier direction attribute",
            },
        ),
        (
            with("m=audio 4000 RTP/AVP 0\r\na=rtcp:0\r\n"),
            SdpError::BadAttribute {
                line: 7,
                name: "rtcp",
                value: "0".into(),
                reason: "not 'PORT' or 'PORT IN IP4|IP6 ADDRESS' with a port 1-65535",
            },
        ),
        (
            with("m=audio 4000 RTP/AVP 0\r\nc=IN IP4 media.example.com\r\n"),
            SdpError::BadAddress {
                line: 7,
                value: "media.example.com".into(),
                reason: "not a literal IP address",
            },
        ),
        (
            with("m=audio 4000 RTP/AVP 0\r\nc=IN IP4 2001:db8::1\r\n"),
            SdpError::BadAddress {
                line: 7,
                value: "2001:db8::1".into(),
                reason: "address family does not match IP4/IP6",
            },
        ),
    ];
    for (text, want) in cases {
        let got = first_audio_error(text.as_bytes());
        assert_eq!(got, want, "{text}");
        assert!(got.to_string().contains("line "), "{got}");
    }

    // Non-UTF-8 anywhere we read is a typed error with its line.
    let mut bytes = with("m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n").into_bytes();
    bytes.extend_from_slice(b"a=fmtp:0 \xff\xfe\r\n");
    assert_eq!(
        parse_remote(&bytes),
        Err(SdpError::NotUtf8 {
            line: 8,
            field: "Attribute value"
        })
    );
    // Bare-LF line endings, blank lines and a doubled space on the m-line are fine.
    let lf = "v=0\n\nc=IN IP4 198.51.100.1\nm=audio 4000  RTP/AVP 0\n\na=ptime:abc\n";
    assert_eq!(
        first_audio_error(lf.as_bytes()),
        SdpError::BadAttribute {
            line: 6,
            name: "ptime",
            value: "abc".into(),
            reason: "not 1-1000 ms"
        }
    );
}

#[test]
fn size_limits_are_enforced() {
    let big = vec![b'a'; MAX_SDP_BYTES + 1];
    assert_eq!(
        parse_remote(&big),
        Err(SdpError::TooLarge {
            len: MAX_SDP_BYTES + 1,
            max: MAX_SDP_BYTES
        })
    );
    let mut many = String::from("v=0\r\nc=IN IP4 198.51.100.1\r\n");
    for _ in 0..=MAX_MEDIA {
        many.push_str("m=audio 4000 RTP/AVP 0\r\n");
    }
    assert_eq!(
        parse_remote(many.as_bytes()),
        Err(SdpError::TooManyMedia {
            count: MAX_MEDIA + 1,
            max: MAX_MEDIA
        })
    );
    let fmts: Vec<String> = (0..=MAX_FORMATS).map(|i| (i % 128).to_string()).collect();
    let text = format!(
        "v=0\r\nc=IN IP4 198.51.100.1\r\nm=audio 4000 RTP/AVP {}\r\n",
        fmts.join(" ")
    );
    assert_eq!(
        parse_remote(text.as_bytes()),
        Err(SdpError::TooManyFormats {
            line: 3,
            count: MAX_FORMATS + 1,
            max: MAX_FORMATS
        })
    );
}

#[test]
fn config_is_validated() {
    let reg = registry();
    let bad = |f: fn(&mut LocalConfig)| {
        let mut c = config();
        f(&mut c);
        Negotiator::new(&reg, c).unwrap_err()
    };
    assert!(matches!(
        bad(|c| c.port = 0),
        SdpError::InvalidConfig { .. }
    ));
    assert!(matches!(
        bad(|c| c.ptime = 0),
        SdpError::InvalidConfig { .. }
    ));
    assert!(bad(|c| c.codecs = vec!["speex".into()])
        .to_string()
        .contains("speex"));
    assert!(matches!(
        bad(|c| c.srtp_suites.clear()),
        SdpError::InvalidConfig { .. }
    ));
    let mut c = config();
    c.srtp = SrtpPolicy::Disabled;
    c.srtp_suites.clear();
    assert!(Negotiator::new(&reg, c).is_ok());
}

#[test]
fn event_sets_parse_and_print() {
    let s = EventSet::parse("0-15, 66,70-71").unwrap();
    assert!(s.contains(0) && s.contains(15) && s.contains(66) && s.contains(71));
    assert!(!s.contains(16) && !s.contains(72));
    assert_eq!(s.to_string(), "0-15,66,70-71");
    assert_eq!(EventSet::parse("255").unwrap().to_string(), "255");
    assert_eq!(EventSet::parse("0-255").unwrap().to_string(), "0-255");
    for bad in ["", "16-15", "256", "a", "1-", "-1", "1,,2"] {
        assert!(EventSet::parse(bad).is_none(), "{bad}");
    }
    assert_eq!(s.intersection(&EventSet::DTMF), EventSet::DTMF);
}

#[test]
fn directions_compose() {
    use Direction::*;
    for d in [SendRecv, SendOnly, RecvOnly, Inactive] {
        assert_eq!(d.reversed().reversed(), d);
        assert_eq!(Direction::parse(&d.as_str().to_uppercase()), Some(d));
        assert!(d.within(SendRecv) && Inactive.within(d));
    }
    assert_eq!(SendOnly.reversed(), RecvOnly);
    assert_eq!(SendRecv.intersect(RecvOnly), RecvOnly);
    assert_eq!(SendOnly.intersect(RecvOnly), Inactive);
    assert!(!SendRecv.within(SendOnly));
}

// ---------------------------------------------------------------------------------------------
// Nothing panics
// ---------------------------------------------------------------------------------------------

fn fixtures() -> Vec<String> {
    vec![
        asterisk_offer(),
        savp_offer(),
        sdp(&[
            "v=0",
            "o=- 1 1 IN IP6 2001:db8::5",
            "s=-",
            "c=IN IP6 2001:db8::5",
            "t=0 0",
            "a=sendonly",
            "m=audio 4000 RTP/AVPF 9 96 11 101",
            "a=rtpmap:96 L16/16000/2",
            "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-15,66",
            "a=rtcp-mux",
            "a=rtcp:4001 IN IP6 2001:db8::6",
            "a=ptime:30",
            "a=maxptime:60",
            "m=video 4002 RTP/AVP 97",
        ]),
    ]
}

/// Feeds `data` through everything that reads remote SDP.
fn exercise(data: &[u8]) {
    let _ = parse_remote(data);
    let reg = registry();
    let mut cfg = config();
    cfg.srtp_suites.push(SrtpSuite::AeadAes128Gcm);
    let neg = Negotiator::new(&reg, cfg).unwrap();
    if let Ok((n, ans)) = neg.answer(data, &mut counter()) {
        // Whatever we answer, we can read back.
        let back = parse_remote(ans.as_bytes()).unwrap();
        assert!(back.audio().any(|(s, _)| s.index == n.media_index));
    }
    let offer = neg.offer(&mut counter());
    let _ = neg.process_answer(offer.as_bytes(), data);
}

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    SetByte(usize, u8),
    Insert(usize, String),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::SetByte(i, b)),
        (
            any::<usize>(),
            prop_oneof![
                "[ -~]{0,12}",
                Just(" ".to_string()),
                Just("\r\n".to_string()),
                Just("/".to_string()),
                Just("99999999999999999999".to_string()),
                Just("-1".to_string()),
                Just("\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:".to_string()),
                Just("\r\nc=IN IP6 ::".to_string()),
                Just("\r\nm=audio 1 RTP/AVP 0".to_string()),
            ]
        )
            .prop_map(|(i, s)| Mutation::Insert(i, s)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(text: &str, mutations: &[Mutation]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = text.split("\r\n").map(|l| l.as_bytes().to_vec()).collect();
    let join = |lines: &Vec<Vec<u8>>| lines.join(&b"\r\n"[..]);
    let mut bytes = join(&lines);
    for m in mutations {
        match m {
            Mutation::DeleteLine(i) if !lines.is_empty() => {
                let i = i % lines.len();
                lines.remove(i);
                bytes = join(&lines);
            }
            Mutation::DuplicateLine(i) if !lines.is_empty() => {
                let i = i % lines.len();
                let l = lines[i].clone();
                lines.insert(i, l);
                bytes = join(&lines);
            }
            Mutation::SwapLines(a, b) if !lines.is_empty() => {
                let n = lines.len();
                lines.swap(a % n, b % n);
                bytes = join(&lines);
            }
            Mutation::SetByte(i, b) if !bytes.is_empty() => {
                let n = bytes.len();
                bytes[i % n] = *b;
                lines = bytes.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
            }
            Mutation::Insert(i, s) => {
                let at = i % (bytes.len() + 1);
                bytes.splice(at..at, s.bytes());
                lines = bytes
                    .split(|&c| c == b'\n')
                    .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
                    .collect();
            }
            Mutation::Truncate(i) => {
                bytes.truncate(i % (bytes.len() + 1));
                lines = bytes
                    .split(|&c| c == b'\n')
                    .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
                    .collect();
            }
            _ => {}
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        exercise(&data);
    }

    #[test]
    fn sdp_shaped_text_never_panics(
        lines in proptest::collection::vec(
            ("[vosctmabk]", "[ -~]{0,40}", prop_oneof![Just("\r\n"), Just("\n"), Just("\r")]),
            0..20,
        )
    ) {
        let mut text = String::from("v=0\r\n");
        for (key, value, end) in lines {
            text.push_str(&key);
            text.push('=');
            text.push_str(&value);
            text.push_str(end);
        }
        exercise(text.as_bytes());
    }

    #[test]
    fn mutated_valid_sdp_never_panics(
        which in 0usize..3,
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let fixtures = fixtures();
        let data = mutate(&fixtures[which % fixtures.len()], &mutations);
        exercise(&data);
    }
}

#[test]
fn fixtures_parse_cleanly() {
    for f in fixtures() {
        let r = parse_remote(f.as_bytes()).unwrap();
        assert!(r.audio().count() >= 1, "{f}");
    }
}
