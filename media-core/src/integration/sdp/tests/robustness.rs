//! Nothing panics: fixtures and mutated SDP through every entry point.

use super::*;

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
