//! Errors say what and where.

use super::*;

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
