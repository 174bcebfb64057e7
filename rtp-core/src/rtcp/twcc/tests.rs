//! Transport-wide feedback against packets from an independent implementation.
//!
//! The byte strings are the transport-cc packets of webrtc-rs's RTCP tests (a port of
//! pion/rtcp, whose vectors come from Chrome), file
//! `rtcp/src/transport_feedbacks/transport_layer_cc/transport_layer_cc_test.rs` of
//! github.com/webrtc-rs/webrtc at commit 56ff53293bd2c51ff2cd374c44a71d6e971f8c1b, with the
//! values that file expects. The two run-length chunks are the examples of
//! draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.3. Vectors of that file whose
//! padding count disagrees with the data (its "example2" and "example5" of the parse test)
//! are not used: libwebrtc rejects them too.

use super::*;
use crate::rtcp::Compound;
use crate::RtcpPacket;

fn parse(bytes: &[u8]) -> Result<TransportFeedback<'_>, PacketError> {
    let compound = Compound::parse(bytes)?;
    match compound.packets().next() {
        Some(Ok(RtcpPacket::TransportFeedback(fb))) => Ok(fb),
        Some(Ok(_)) => Err(PacketError::BadPacketType(0)),
        Some(Err(e)) => Err(e),
        None => Err(PacketError::TooShort),
    }
}

fn deltas(fb: &TransportFeedback<'_>) -> Vec<Option<i32>> {
    fb.statuses().map(|s| s.delta).collect()
}

/// In microseconds, as the reference file states them: ticks x 250.
fn micros(d: &[Option<i32>]) -> Vec<i64> {
    d.iter().flatten().map(|&t| i64::from(t) * 250).collect()
}

/// webrtc-rs "example1": one packet, a run-length chunk, one small delta, 1 byte padding.
const EXAMPLE1: [u8; 24] = [
    0xaf, 0xcd, 0x0, 0x5, 0xfa, 0x17, 0xfa, 0x17, 0x43, 0x3, 0x2f, 0xa0, 0x0, 0x99, 0x0, 0x1, 0x3d,
    0xe8, 0x2, 0x17, 0x20, 0x1, 0x94, 0x1,
];
/// "example3" (parse test): two large deltas, then four small ones, no padding.
const EXAMPLE3: [u8; 32] = [
    0x8f, 0xcd, 0x0, 0x7, 0xfa, 0x17, 0xfa, 0x17, 0x19, 0x3d, 0xd8, 0xbb, 0x1, 0x74, 0x0, 0x6,
    0x45, 0xb1, 0x5a, 0x40, 0x40, 0x2, 0x20, 0x04, 0x1f, 0xfe, 0x1f, 0x9a, 0xd0, 0x0, 0xd0, 0x0,
];
/// "example4": seven small deltas in one run, 3 bytes padding.
const EXAMPLE4: [u8; 32] = [
    0xaf, 0xcd, 0x0, 0x7, 0xfa, 0x17, 0xfa, 0x17, 0x19, 0x3d, 0xd8, 0xbb, 0x0, 0x4, 0x0, 0x7, 0x10,
    0x63, 0x6e, 0x1, 0x20, 0x7, 0x4c, 0x24, 0x24, 0x10, 0xc, 0xc, 0x10, 0x0, 0x0, 0x3,
];
/// "example6" (write test): a 1-bit status vector covering 12 packets, two lost.
const EXAMPLE6: [u8; 32] = [
    0xaf, 0xcd, 0x0, 0x7, 0xfa, 0x17, 0xfa, 0x17, 0x43, 0x3, 0x2f, 0xa0, 0x9c, 0x14, 0x0, 0xc,
    0x75, 0x84, 0x20, 0x0, 0xbe, 0xc0, 0xc1, 0x3f, 0x3b, 0x3f, 0x53, 0x90, 0x3b, 0x0, 0x0, 0x3,
];

#[test]
fn reference_example1() -> Result<(), PacketError> {
    let fb = parse(&EXAMPLE1)?;
    assert_eq!(fb.sender_ssrc(), Ssrc(4195875351));
    assert_eq!(fb.media_ssrc(), Ssrc(1124282272));
    assert_eq!(fb.base_seq(), SeqNo(153));
    assert_eq!(fb.status_count(), 1);
    assert_eq!(fb.reference_time(), 4057090);
    assert_eq!(fb.fb_pkt_count(), 23);
    assert_eq!(micros(&deltas(&fb)), [37000]);
    Ok(())
}

#[test]
fn reference_example3_large_deltas() -> Result<(), PacketError> {
    let fb = parse(&EXAMPLE3)?;
    assert_eq!(fb.media_ssrc(), Ssrc(423483579));
    assert_eq!((fb.base_seq(), fb.status_count()), (SeqNo(372), 6));
    assert_eq!((fb.reference_time(), fb.fb_pkt_count()), (4567386, 64));
    assert_eq!(micros(&deltas(&fb)), [2047500, 2022500, 52000, 0, 52000, 0]);
    let seqs: Vec<u16> = fb.statuses().map(|s| s.seq.0).collect();
    assert_eq!(seqs, [372, 373, 374, 375, 376, 377]);
    Ok(())
}

#[test]
fn reference_example4_and_6_parse_and_write_byte_exact() -> Result<(), PacketError> {
    let fb = parse(&EXAMPLE4)?;
    assert_eq!((fb.base_seq(), fb.status_count()), (SeqNo(4), 7));
    assert_eq!((fb.reference_time(), fb.fb_pkt_count()), (1074030, 1));
    assert_eq!(
        micros(&deltas(&fb)),
        [19000, 9000, 9000, 4000, 3000, 3000, 4000]
    );

    let fb6 = parse(&EXAMPLE6)?;
    assert_eq!((fb6.base_seq(), fb6.status_count()), (SeqNo(39956), 12));
    assert_eq!(fb6.reference_time(), 7701536);
    let d6 = deltas(&fb6);
    let lost: Vec<usize> = (0..d6.len()).filter(|&i| d6[i].is_none()).collect();
    assert_eq!(lost, [5, 8, 9, 10, 11]);
    assert_eq!(
        micros(&d6),
        [48250, 15750, 14750, 15750, 20750, 36000, 14750]
    );

    // Our writer chooses the same chunks and padding as the reference for these three.
    for (bytes, fb) in [
        (&EXAMPLE1[..], parse(&EXAMPLE1)?),
        (&EXAMPLE4[..], fb),
        (&EXAMPLE6[..], fb6),
    ] {
        let d = deltas(&fb);
        let w = TransportFeedbackWriter {
            sender_ssrc: fb.sender_ssrc(),
            media_ssrc: fb.media_ssrc(),
            base_seq: fb.base_seq(),
            reference_time: fb.reference_time(),
            fb_pkt_count: fb.fb_pkt_count(),
            deltas: &d,
        };
        let mut out = [0u8; 64];
        let n = w.write(&mut out)?;
        assert_eq!(n, w.encoded_len()?);
        assert_eq!(&out[..n], bytes);
    }
    Ok(())
}

#[test]
fn draft_run_length_examples() {
    // §3.1.3 example 1: 221 packets not received; example 2: 24 with symbol 3 (reserved in
    // -01, "received without delta" in older text).
    assert_eq!(
        Chunk::decode(0x00DD),
        Chunk::Run {
            symbol: 0,
            len: 221
        }
    );
    assert_eq!(Chunk::decode(0x6018), Chunk::Run { symbol: 3, len: 24 });
    let v = Chunk::decode(0b1001_1111_0001_1100);
    let bits: Vec<u8> = (0..14).map(|i| v.symbol(i)).collect();
    assert_eq!(bits, [0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0]);
}

#[test]
fn rejects_malformed() {
    // Status count 7 but the run covers 6, then no more chunks.
    let mut short = EXAMPLE4;
    short[21] = 6;
    assert_eq!(parse(&short), Err(PacketError::BadLength));
    // Run of symbol 3.
    let mut reserved = EXAMPLE4;
    reserved[20] = 0x60;
    assert_eq!(
        parse(&reserved),
        Err(PacketError::ReservedValue("TWCC status symbol 3"))
    );
    // Deltas cut by a larger status count.
    let mut cut = EXAMPLE3;
    cut[15] = 7;
    cut[22] = 0x20;
    cut[23] = 0x05;
    assert_eq!(parse(&cut), Err(PacketError::BadLength));
    // Header cut.
    let tiny = [0x8f, 0xcd, 0x0, 0x2, 0, 0, 0, 1, 0, 0, 0, 2];
    assert_eq!(parse(&tiny), Err(PacketError::TooShort));
}

#[test]
fn writer_rejects_unencodable() {
    let d = [Some(40_000)];
    let w = TransportFeedbackWriter {
        sender_ssrc: Ssrc(1),
        media_ssrc: Ssrc(2),
        base_seq: SeqNo(0),
        reference_time: 0,
        fb_pkt_count: 0,
        deltas: &d,
    };
    assert_eq!(
        w.encoded_len(),
        Err(PacketError::ValueOutOfRange("TWCC receive delta"))
    );
    let mut out = [0u8; 8];
    let ok = [Some(1)];
    let w = TransportFeedbackWriter { deltas: &ok, ..w };
    assert_eq!(
        w.write(&mut out),
        Err(PacketError::BufferTooSmall { needed: 24 })
    );
}

#[test]
fn long_runs_and_wrap() -> Result<(), PacketError> {
    // 9000 lost (two runs: 8191 + 809), a mixed vector, negative large delta, wrap of seq.
    let mut d = vec![None; 9000];
    d.extend([
        Some(4),
        Some(-3),
        None,
        Some(300),
        Some(0),
        Some(255),
        Some(256),
    ]);
    let w = TransportFeedbackWriter {
        sender_ssrc: Ssrc(9),
        media_ssrc: Ssrc(0),
        base_seq: SeqNo(65000),
        reference_time: 0x01FF_FFFF,
        fb_pkt_count: 255,
        deltas: &d,
    };
    let mut out = vec![0u8; w.encoded_len()?];
    w.write(&mut out)?;
    let fb = parse(&out)?;
    assert_eq!(fb.reference_time(), 0x00FF_FFFF);
    assert_eq!(deltas(&fb), d);
    let last = fb.statuses().last().map(|s| s.seq);
    assert_eq!(last, Some(SeqNo(65000u16.wrapping_add(9006))));
    Ok(())
}
