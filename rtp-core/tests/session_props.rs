//! Property tests of RtpSession: arbitrary datagrams, valid packets with mutations, and
//! timer calls in any order never panic, and the counters stay consistent.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use proptest::collection::vec;
use proptest::prelude::*;
use rtp_core::rtcp::{
    ByeWriter, CompoundWriter, ReceiverReportWriter, RembWriter, ReportBlock, SdesItem,
    SdesWriteChunk, SdesWriter, SenderReportWriter,
};
use rtp_core::session::{Received, RtpSession, SessionConfig, SessionStats};
use rtp_core::{RtpTimestamp, RtpWriter, SeqNo, Ssrc};

#[derive(Debug, Clone)]
enum Input {
    Garbage(Vec<u8>),
    Rtp {
        pt: u8,
        seq: u16,
        ssrc: u32,
        len: usize,
    },
    Rtcp {
        ssrc: u32,
        about: u32,
        kind: u8,
    },
    Mutated {
        base: Box<Input>,
        at: usize,
        xor: u8,
    },
    Timeout,
    Send,
    Close,
}

fn input() -> impl Strategy<Value = Input> {
    let ssrc = prop_oneof![Just(1u32), Just(2), Just(0x5EED), any::<u32>()];
    let leaf = prop_oneof![
        vec(any::<u8>(), 0..64).prop_map(Input::Garbage),
        (
            prop_oneof![Just(0u8), Just(8), Just(101), 0u8..128],
            any::<u16>(),
            ssrc.clone(),
            0usize..300
        )
            .prop_map(|(pt, seq, ssrc, len)| Input::Rtp { pt, seq, ssrc, len }),
        (
            ssrc.clone(),
            prop_oneof![Just(0x5EED), any::<u32>()],
            0u8..5
        )
            .prop_map(|(ssrc, about, kind)| Input::Rtcp { ssrc, about, kind }),
        Just(Input::Timeout),
        Just(Input::Send),
    ];
    prop_oneof![
        10 => leaf.clone(),
        3 => (leaf, any::<usize>(), 1u8..=255).prop_map(|(b, at, xor)| Input::Mutated {
            base: Box::new(b),
            at,
            xor
        }),
        1 => Just(Input::Close),
    ]
}

fn encode(input: &Input, seq_base: u16) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 1500];
    let n = match input {
        Input::Garbage(g) => return Some(g.clone()),
        Input::Rtp { pt, seq, ssrc, len } => {
            let payload = vec![0x55; *len];
            RtpWriter::new(
                *pt,
                SeqNo(seq.wrapping_add(seq_base)),
                RtpTimestamp(u32::from(*seq) * 160),
                Ssrc(*ssrc),
                &payload,
            )
            .write(&mut buf)
            .ok()?
        }
        Input::Rtcp { ssrc, about, kind } => {
            let block = ReportBlock {
                ssrc: Ssrc(*about),
                fraction_lost: (*about >> 24) as u8,
                last_sr: *about,
                delay_since_last_sr: about.rotate_left(7),
                jitter: *about >> 8,
                ..Default::default()
            };
            let blocks = [block];
            let mut w = CompoundWriter::new(&mut buf);
            match kind {
                0 => w
                    .push(&SenderReportWriter::new(
                        Ssrc(*ssrc),
                        Default::default(),
                        &blocks,
                    ))
                    .ok()?,
                _ => w
                    .push(&ReceiverReportWriter::new(Ssrc(*ssrc), &blocks))
                    .ok()?,
            };
            let items = [SdesItem::cname(b"x")];
            let chunks = [SdesWriteChunk {
                ssrc: Ssrc(*ssrc),
                items: &items,
            }];
            w.push(&SdesWriter { chunks: &chunks }).ok()?;
            let ssrcs = [Ssrc(*ssrc)];
            if *kind == 2 {
                w.push(&ByeWriter {
                    ssrcs: &ssrcs,
                    reason: None,
                })
                .ok()?;
            }
            if *kind == 3 {
                w.push(&RembWriter {
                    sender_ssrc: Ssrc(*ssrc),
                    bitrate_bps: u64::from(*about),
                    ssrcs: &[],
                })
                .ok()?;
            }
            w.len()
        }
        Input::Mutated { base, at, xor } => {
            let mut bytes = encode(base, seq_base)?;
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] ^= xor;
            }
            return Some(bytes);
        }
        _ => return None,
    };
    buf.truncate(n);
    Some(buf)
}

fn check(stats: &SessionStats) {
    let outcomes = stats.rtp_delivered
        + stats.rtcp_compounds
        + stats.malformed
        + stats.unknown_payload_type
        + stats.probation_discarded
        + stats.duplicates
        + stats.sequence_jumps
        + stats.wrong_address
        + stats.own_ssrc
        + stats.source_limit
        + stats.after_close;
    assert_eq!(outcomes, stats.datagrams, "{stats:#?}");
    let per_source: u64 = stats.sources.iter().map(|s| s.packets).sum();
    assert!(per_source <= stats.rtp_delivered);
    assert!(stats.sources.len() <= 64);
    assert!(stats.members >= 1 && stats.senders <= stats.members + 1);
    assert!(stats.collisions + stats.loops <= stats.own_ssrc + stats.rtcp_compounds);
    for s in &stats.sources {
        assert!((0.0..=1.0).contains(&s.fraction_lost));
        assert!(s.jitter_ms.is_finite() && s.jitter_ms >= 0.0);
        assert!(s.validated || s.packets == 0);
        assert!(s.cumulative_lost <= s.expected as i64);
    }
    assert!(stats.bandwidth_estimate_bps >= 8_000);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_inputs_never_panic(
        inputs in vec((input(), 0u64..3000, 0usize..3), 1..120),
        probation in 0u8..4,
        mux in any::<bool>(),
    ) {
        let t0 = Instant::now();
        let mut config = SessionConfig::new("prop@test", &[(0, 8000), (101, 8000), (96, 90000)]);
        config.remote_rtp = Some(SocketAddr::from(([127, 0, 0, 1], 9000)));
        config.rtcp_mux = mux;
        config.probation = probation;
        config.initial = Some((Ssrc(0x5EED), 0, 0));
        let mut n = 7u32;
        let random = Box::new(move || { n = n.wrapping_mul(747_796_405).wrapping_add(2_891_336_453); n });
        let mut session = RtpSession::new(config, t0, random).unwrap();
        let froms = [
            SocketAddr::from(([127, 0, 0, 1], 9000)),
            SocketAddr::from(([127, 0, 0, 1], 9001)),
            SocketAddr::from(([10, 1, 1, 1], 5000)),
        ];
        let mut now = t0;
        let mut out = [0u8; 1500];
        for (i, (input, advance_ms, from)) in inputs.iter().enumerate() {
            now += Duration::from_millis(*advance_ms);
            match input {
                Input::Timeout => session.handle_timeout(now),
                Input::Send => {
                    let _ = session.send_rtp(now, 0, RtpTimestamp(i as u32 * 160), false, &[0; 160], &mut out);
                }
                Input::Close => session.close(),
                other => {
                    if let Some(bytes) = encode(other, 0) {
                        if let Ok(Some(Received::Rtp(r))) = session.handle_packet(now, froms[*from], &bytes) {
                            prop_assert!(r.clock_rate > 0);
                        }
                    }
                }
            }
            if session.poll_timeout().is_some_and(|t| t <= now) {
                session.handle_timeout(now);
            }
            while let Some(t) = session.poll_transmit(now) {
                prop_assert!(rtp_core::Compound::parse(t.contents).is_ok());
            }
            while session.poll_event().is_some() {}
            check(&session.stats());
        }
    }
}
