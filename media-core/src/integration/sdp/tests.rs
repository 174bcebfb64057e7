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

mod errors;
mod offer;
mod robustness;
mod srtp;
