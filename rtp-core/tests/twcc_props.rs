//! Property tests of transport-wide congestion control feedback: whatever the writer
//! accepts parses back to the same statuses, and no input makes the parser panic.

use proptest::collection::vec;
use proptest::prelude::*;
use rtp_core::rtcp::{CompoundWriter, TransportFeedbackWriter, TwccStatus};
use rtp_core::{Compound, PacketError, RtcpPacket, RtcpWrite, SeqNo, Ssrc};

/// Statuses in runs, so that run-length chunks, both vector kinds and long runs all occur.
fn statuses() -> impl Strategy<Value = Vec<Option<i32>>> {
    let one = prop_oneof![
        3 => Just(None),
        4 => (0i32..=255).prop_map(Some),
        2 => (-32768i32..=32767).prop_map(Some),
    ];
    vec(
        (
            one,
            prop_oneof![4 => 1usize..4, 1 => 4usize..40, 1 => 7usize..9000],
        ),
        0..12,
    )
    .prop_map(|runs| {
        runs.into_iter()
            .flat_map(|(s, n)| std::iter::repeat_n(s, n))
            .take(20_000)
            .collect()
    })
}

fn collect(bytes: &[u8]) -> Result<Vec<(SeqNo, Option<i32>)>, PacketError> {
    let compound = Compound::parse(bytes)?;
    let mut out = Vec::new();
    for p in compound.packets() {
        if let RtcpPacket::TransportFeedback(fb) = p? {
            assert_eq!(fb.statuses().len(), usize::from(fb.status_count()));
            out.extend(fb.statuses().map(|s: TwccStatus| (s.seq, s.delta)));
        }
    }
    Ok(out)
}

proptest! {
    #[test]
    fn twcc_round_trip(
        deltas in statuses(),
        base in any::<u16>(),
        reference_time in 0u32..(1 << 24),
        fb_pkt_count in any::<u8>(),
        ssrcs in any::<(u32, u32)>(),
    ) {
        let w = TransportFeedbackWriter {
            sender_ssrc: Ssrc(ssrcs.0),
            media_ssrc: Ssrc(ssrcs.1),
            base_seq: SeqNo(base),
            reference_time,
            fb_pkt_count,
            deltas: &deltas,
        };
        let len = w.encoded_len()?;
        prop_assert_eq!(len % 4, 0);
        let mut buf = vec![0u8; len];
        let mut c = CompoundWriter::new(&mut buf);
        c.push(&w)?;
        prop_assert_eq!(c.len(), len);
        let compound = Compound::parse(&buf)?;
        let Some(Ok(RtcpPacket::TransportFeedback(fb))) = compound.packets().next() else {
            return Err(TestCaseError::fail("not parsed as transport feedback"));
        };
        prop_assert_eq!(fb.sender_ssrc(), Ssrc(ssrcs.0));
        prop_assert_eq!(fb.media_ssrc(), Ssrc(ssrcs.1));
        prop_assert_eq!(fb.reference_time(), reference_time);
        prop_assert_eq!(fb.fb_pkt_count(), fb_pkt_count);
        let got = collect(&buf)?;
        let want: Vec<(SeqNo, Option<i32>)> = deltas
            .iter()
            .enumerate()
            .map(|(i, &d)| (SeqNo(base.wrapping_add(i as u16)), d))
            .collect();
        prop_assert_eq!(got, want);
    }

    /// Random bodies behind a well-formed PT 205 FMT 15 header.
    #[test]
    fn twcc_parse_never_panics(
        head in any::<[u8; 16]>(),
        count in 0u16..200,
        padding in any::<bool>(),
        body in vec(any::<u8>(), 0..120),
    ) {
        let mut body_words = head.to_vec();
        body_words[10..12].copy_from_slice(&count.to_be_bytes());
        body_words.extend_from_slice(&body);
        while body_words.len() % 4 != 0 {
            body_words.push(if padding { 1 } else { 0 });
        }
        let mut buf = vec![0x80 | if padding { 0x20 } else { 0 } | 15, 205];
        buf.extend_from_slice(&((body_words.len() / 4) as u16).to_be_bytes());
        buf.extend_from_slice(&body_words);
        let _ = collect(&buf);
    }
}
