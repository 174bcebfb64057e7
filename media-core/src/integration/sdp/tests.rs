//! SDP parsing tests: real-world shapes (written from RFC 4566 / RFC 4568 examples), error
//! reporting with line numbers, and property tests that nothing panics.

use super::*;
use proptest::prelude::*;

/// Joins lines with CRLF, as SDP is written.
fn sdp(lines: &[&str]) -> String {
    let mut s = lines.join("\r\n");
    s.push_str("\r\n");
    s
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
