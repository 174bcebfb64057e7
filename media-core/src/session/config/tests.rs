use super::*;
use crate::codec::{AudioDecoder, AudioEncoder, Bitrates, CodecEntry};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn base() -> MediaSessionConfigBuilder {
    MediaSessionConfig::narrowband_call(addr("10.0.0.1:4000"), addr("10.0.0.2:5000"))
        .call_id("abc@host")
        .local_uri("sip:alice@example.com")
        .remote_uri("sip:bob@example.com")
}

fn reg() -> CodecRegistry {
    CodecRegistry::with_builtin()
}

fn err(b: MediaSessionConfigBuilder) -> ConfigError {
    b.build(&reg()).unwrap_err()
}

static FAKE_G722: CodecDescriptor = CodecDescriptor {
    name: "g722",
    encoding_name: "G722",
    clock_rate: 8000,
    rtp_clock: crate::codec::RtpClock::Scaled,
    rtpmap_channels: None,
    sample_rate: 16000,
    sample_rates: &[16000],
    channels: 1,
    max_channels: 1,
    ptimes: &[10, 20, 30],
    default_ptime: 20,
    payload_type: Some(9),
    fmtp: None,
    bitrates: Bitrates::Modes(&[64000, 56000, 48000]),
    sample_based: true,
};

fn no_encoder(_: &CodecParams) -> Result<Box<dyn AudioEncoder>, CodecError> {
    Err(CodecError::Library("test descriptor".into()))
}
fn no_decoder(_: &CodecParams) -> Result<Box<dyn AudioDecoder>, CodecError> {
    Err(CodecError::Library("test descriptor".into()))
}

#[test]
fn narrowband_defaults() {
    let c = base().build(&reg()).unwrap();
    assert_eq!(c.codec().descriptor().name, "pcmu");
    assert_eq!(c.codec().payload_type(), PayloadType(0));
    assert_eq!(c.codec().params().ptime_ms, 20);
    assert_eq!(c.dtmf_payload_type(), Some(PayloadType(101)));
    assert_eq!(c.direction(), MediaDirection::SendRecv);
    assert_eq!(c.remote(), Some(addr("10.0.0.2:5000")));
    assert_eq!(c.jitter(), JitterDelay::CALL);
    assert_eq!(c.identity().call_id(), "abc@host");
    assert_eq!(c.srtp(), None);
}

#[test]
fn helpers_for_common_patterns() {
    let (l, r) = (addr("10.0.0.1:4000"), addr("10.0.0.2:5000"));
    let id =
        |b: MediaSessionConfigBuilder| b.call_id("x").local_uri("sip:a@h").remote_uri("sip:b@h");
    // No G.722 or Opus in this registry: say which codecs there are.
    let pcm_only = {
        let mut r = CodecRegistry::new();
        r.register(reg().find("pcmu").copied().unwrap());
        r
    };
    match id(MediaSessionConfig::wideband_call(l, r)).build(&pcm_only) {
        Err(ConfigError::UnknownCodec { name, known }) => {
            assert_eq!((name.as_str(), known), ("g722", vec!["pcmu"]));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        id(MediaSessionConfig::opus_call(l, r)).build(&pcm_only),
        Err(ConfigError::UnknownCodec { .. })
    ));
    // With a G.722 registered, the wideband helper takes its static payload type.
    let mut with_g722 = reg();
    with_g722.register(CodecEntry {
        descriptor: &FAKE_G722,
        priority: 50,
        new_encoder: no_encoder,
        new_decoder: no_decoder,
    });
    let c = id(MediaSessionConfig::wideband_call(l, r))
        .build(&with_g722)
        .unwrap();
    assert_eq!(
        (c.codec().descriptor().name, c.codec().payload_type().0),
        ("g722", 9)
    );
    assert_eq!(c.codec().params().sample_rate, 16000);

    let c = id(MediaSessionConfig::conference_leg(l, r))
        .build(&reg())
        .unwrap();
    assert_eq!(c.jitter(), JitterDelay::CONFERENCE);
    let c = id(MediaSessionConfig::recording_only(l))
        .build(&reg())
        .unwrap();
    assert_eq!(
        (c.direction(), c.remote(), c.jitter()),
        (MediaDirection::RecvOnly, None, JitterDelay::RECORDING)
    );
}

#[test]
fn to_builder_round_trips_and_codec_resets_its_parameters() {
    let c = base()
        .srtp(SrtpConfig {
            profile: SrtpProfile::AeadAes128Gcm,
            master_key: vec![1; 16],
            master_salt: vec![2; 12],
        })
        .local_name("Alice")
        .ptime(40)
        .build(&reg())
        .unwrap();
    assert_eq!(c.to_builder().build(&reg()).unwrap(), c);
    // Switching codec forgets the old codec's rate and payload type.
    let l16 = c
        .to_builder()
        .codec("l16")
        .sample_rate(16000)
        .build(&reg())
        .unwrap();
    assert_eq!(l16.codec().payload_type(), PayloadType(96));
    let back = l16.to_builder().codec("pcmu").build(&reg()).unwrap();
    assert_eq!(back.codec().payload_type(), PayloadType(0));
    assert_eq!(back.codec().params().ptime_ms, 20);
}

#[test]
fn codec_errors() {
    assert_eq!(
        MediaSessionConfig::builder()
            .local(addr("10.0.0.1:4000"))
            .call_id("x")
            .local_uri("a")
            .remote_uri("b")
            .build(&reg()),
        Err(ConfigError::MissingCodec)
    );
    assert!(matches!(
        err(base().codec("speex")),
        ConfigError::UnknownCodec { ref name, ref known } if name == "speex" && known.contains(&"pcmu")
    ));
    for (b, param) in [
        (base().ptime(25), "ptime"),
        (base().sample_rate(16000), "sample rate"),
        (base().channels(2), "channels"),
        (base().bitrate(64000), "bitrate"),
    ] {
        match err(b) {
            ConfigError::InvalidCodecParams {
                codec: "pcmu",
                error: CodecError::UnsupportedParameter { name, .. },
            } => assert_eq!(name, param),
            other => panic!("{param}: {other:?}"),
        }
    }
    let e = err(base().ptime(25));
    assert!(
        e.to_string().starts_with("pcmu: unsupported ptime 25 ms"),
        "{e}"
    );
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn payload_type_errors() {
    assert_eq!(
        err(base().payload_type(128)),
        ConfigError::PayloadTypeOutOfRange(128)
    );
    assert_eq!(
        err(base().payload_type(72)),
        ConfigError::PayloadTypeReserved(72)
    );
    assert_eq!(
        err(base().payload_type(8)),
        ConfigError::StaticPayloadTypeMismatch {
            payload_type: 8,
            codec: "pcmu",
            expected: Some(0)
        }
    );
    // L16's static 11 is for 44.1 kHz mono only; at 16 kHz it needs a dynamic type.
    assert_eq!(
        err(base().codec("l16").sample_rate(16000).payload_type(11)),
        ConfigError::StaticPayloadTypeMismatch {
            payload_type: 11,
            codec: "l16",
            expected: None
        }
    );
    assert!(base()
        .codec("l16")
        .sample_rate(16000)
        .payload_type(97)
        .build(&reg())
        .is_ok());
    // A dynamic type for a codec with a static one is allowed.
    assert!(base().payload_type(100).build(&reg()).is_ok());
    assert_eq!(
        err(base().dtmf_payload_type(13)),
        ConfigError::DtmfPayloadTypeNotDynamic(13)
    );
    assert_eq!(
        err(base().dtmf_payload_type(200)),
        ConfigError::DtmfPayloadTypeNotDynamic(200)
    );
    assert_eq!(
        err(base().payload_type(101)),
        ConfigError::DtmfPayloadTypeConflict(101)
    );
    assert!(base().no_dtmf().build(&reg()).is_ok());
}

#[test]
fn address_errors() {
    assert_eq!(
        err(MediaSessionConfig::builder()
            .codec("pcmu")
            .call_id("x")
            .local_uri("a")
            .remote_uri("b")),
        ConfigError::MissingLocalAddress
    );
    assert_eq!(
        err(base().remote(addr("10.0.0.2:0"))),
        ConfigError::RemotePortZero(addr("10.0.0.2:0"))
    );
    assert_eq!(
        err(base().remote(addr("0.0.0.0:5000"))),
        ConfigError::RemoteAddressUnspecified(addr("0.0.0.0:5000"))
    );
    assert_eq!(
        err(base().remote(addr("[2001:db8::2]:5000"))),
        ConfigError::AddressFamilyMismatch {
            local: addr("10.0.0.1:4000"),
            remote: addr("[2001:db8::2]:5000")
        }
    );
    let v6 = base()
        .local(addr("[2001:db8::1]:4000"))
        .remote(addr("[2001:db8::2]:5000"));
    assert!(v6.build(&reg()).is_ok());
    // Dual-stack [::] reaches IPv4; local port 0 lets the driver pick.
    let dual = base().local(addr("[::]:0")).remote(addr("10.0.0.2:5000"));
    assert!(dual.build(&reg()).is_ok());
    // The remote may be unknown until the answer arrives.
    assert_eq!(base().no_remote().build(&reg()).unwrap().remote(), None);
}

#[test]
fn srtp_lengths_per_profile() {
    let srtp = |profile, key: usize, salt: usize| SrtpConfig {
        profile,
        master_key: vec![7; key],
        master_salt: vec![9; salt],
    };
    for p in [
        SrtpProfile::AesCm128HmacSha1_80,
        SrtpProfile::AesCm128HmacSha1_32,
    ] {
        assert!(base().srtp(srtp(p, 16, 14)).build(&reg()).is_ok());
        assert_eq!(
            err(base().srtp(srtp(p, 16, 12))),
            ConfigError::SrtpSaltLength {
                profile: p,
                expected: 14,
                got: 12
            }
        );
    }
    let gcm = SrtpProfile::AeadAes128Gcm;
    assert!(base().srtp(srtp(gcm, 16, 12)).build(&reg()).is_ok());
    assert_eq!(
        err(base().srtp(srtp(gcm, 16, 14))),
        ConfigError::SrtpSaltLength {
            profile: gcm,
            expected: 12,
            got: 14
        }
    );
    let e = err(base().srtp(srtp(gcm, 32, 12)));
    assert_eq!(
        e,
        ConfigError::SrtpKeyLength {
            profile: gcm,
            expected: 16,
            got: 32
        }
    );
    assert_eq!(
        e.to_string(),
        "AEAD_AES_128_GCM needs a 16-byte master key, got 32 bytes"
    );
    // Keys never reach logs.
    let dbg = format!("{:?}", srtp(gcm, 16, 12));
    assert!(dbg.contains("<16 bytes>") && !dbg.contains('7'), "{dbg}");
}

#[test]
fn identity_errors() {
    assert_eq!(
        err(base().call_id("   ")),
        ConfigError::MissingField("call-id")
    );
    let mut b = base();
    b.local_uri = None;
    assert_eq!(err(b), ConfigError::MissingField("local URI"));
    assert_eq!(
        err(base().remote_uri("")),
        ConfigError::MissingField("remote URI")
    );
    assert_eq!(
        err(base().call_id("abc\r\nX-Forged: 1")),
        ConfigError::ControlCharacter("call-id")
    );
    assert_eq!(
        err(base().remote_name("Bob\0")),
        ConfigError::ControlCharacter("remote name")
    );
    let c = base()
        .local_name("")
        .remote_name(" Bob ")
        .build(&reg())
        .unwrap();
    assert_eq!(c.identity().local_name(), None);
    assert_eq!(c.identity().remote_name(), Some("Bob"));
}

#[test]
fn jitter_errors() {
    assert_eq!(
        err(base().jitter_delay(300, 200)),
        ConfigError::JitterMinAboveMax {
            min_ms: 300,
            max_ms: 200
        }
    );
    for max in [0, 10, 2001] {
        assert_eq!(
            err(base().jitter_delay(0, max)),
            ConfigError::JitterMaxOutOfRange {
                max_ms: max,
                ptime_ms: 20,
                limit_ms: 2000
            }
        );
    }
    assert!(base().jitter_delay(0, 20).build(&reg()).is_ok());
}
