//! Hand-built RTCP datagrams, byte by byte as a capture would show them.

use super::*;
use crate::{RtpTimestamp, SeqNo};

/// SR (no report blocks) + SDES with CNAME "rtp-core@test", 52 bytes.
const SR_SDES: [u8; 52] = [
    // SR: V=2 RC=0 PT=200 length=6 (28 bytes)
    0x80, 0xC8, 0x00, 0x06, //
    0xDE, 0xAD, 0xBE, 0xEF, // SSRC
    0xE5, 0xB1, 0x23, 0x45, 0x80, 0x00, 0x00, 0x00, // NTP 0xE5B12345.5
    0x00, 0x00, 0xA0, 0x00, // RTP timestamp 40960
    0x00, 0x00, 0x00, 0x64, // 100 packets
    0x00, 0x00, 0x3E, 0x80, // 16000 octets
    // SDES: V=2 SC=1 PT=202 length=5 (24 bytes)
    0x81, 0xCA, 0x00, 0x05, //
    0xDE, 0xAD, 0xBE, 0xEF, //
    0x01, 0x0D, b'r', b't', b'p', b'-', b'c', b'o', b'r', b'e', b'@', b't', b'e', b's', b't',
    0x00, // END, already on a 32-bit boundary
];

/// RR with one report block, then BYE with reason "done".
const RR_BYE: [u8; 48] = [
    0x81, 0xC9, 0x00, 0x07, // RR, RC=1, length 7
    0x00, 0x00, 0x00, 0x01, // reporter
    0x00, 0x00, 0x00, 0x02, // source
    0x40, 0xFF, 0xFF, 0xFE, // fraction 64/256, cumulative lost -2
    0x00, 0x01, 0x00, 0x05, // extended highest seq: cycle 1, seq 5
    0x00, 0x00, 0x00, 0x20, // jitter 32
    0x12, 0x34, 0x56, 0x78, // LSR
    0x00, 0x01, 0x80, 0x00, // DLSR 1.5 s
    0x81, 0xCB, 0x00, 0x03, // BYE, SC=1, length 3
    0x00, 0x00, 0x00, 0x01, //
    0x04, b'd', b'o', b'n', b'e', 0x00, 0x00, 0x00,
];

fn packets(buf: &[u8]) -> Result<Vec<RtcpPacket<'_>>, PacketError> {
    Compound::parse(buf)?.packets().collect()
}

#[test]
fn parses_sr_sdes() -> Result<(), PacketError> {
    let compound = Compound::parse(&SR_SDES)?;
    assert!(!compound.is_reduced_size());
    let types: Vec<_> = compound.raw_packets().map(|p| p.packet_type()).collect();
    assert_eq!(types, [PT_SR, PT_SDES]);
    let got = packets(&SR_SDES)?;
    let RtcpPacket::SenderReport(sr) = got[0] else {
        return Err(PacketError::BadPacketType(0));
    };
    assert_eq!(sr.ssrc(), Ssrc(0xDEAD_BEEF));
    let info = sr.sender_info();
    assert_eq!(info.ntp_time, NtpTime::from_parts(0xE5B1_2345, 0x8000_0000));
    assert_eq!(info.rtp_timestamp, RtpTimestamp(40960));
    assert_eq!((info.packet_count, info.octet_count), (100, 16000));
    assert_eq!(sr.report_blocks().len(), 0);
    let RtcpPacket::Sdes(sdes) = got[1] else {
        return Err(PacketError::BadPacketType(1));
    };
    let chunks: Vec<_> = sdes.chunks().collect();
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].ssrc(), Ssrc(0xDEAD_BEEF));
    assert_eq!(chunks[0].cname(), Some(&b"rtp-core@test"[..]));
    Ok(())
}

#[test]
fn writes_sr_sdes_byte_for_byte() -> Result<(), PacketError> {
    let info = SenderInfo {
        ntp_time: NtpTime::from_parts(0xE5B1_2345, 0x8000_0000),
        rtp_timestamp: RtpTimestamp(40960),
        packet_count: 100,
        octet_count: 16000,
    };
    let items = [SdesItem::cname(b"rtp-core@test")];
    let chunks = [SdesWriteChunk {
        ssrc: Ssrc(0xDEAD_BEEF),
        items: &items,
    }];
    let mut buf = [0xEEu8; 64];
    let mut w = CompoundWriter::new(&mut buf);
    w.push(&SenderReportWriter::new(Ssrc(0xDEAD_BEEF), info, &[]))?
        .push(&SdesWriter { chunks: &chunks })?;
    assert_eq!(w.as_bytes(), &SR_SDES[..]);
    Ok(())
}

#[test]
fn parses_rr_and_bye() -> Result<(), PacketError> {
    let got = packets(&RR_BYE)?;
    let RtcpPacket::ReceiverReport(rr) = got[0] else {
        return Err(PacketError::BadPacketType(0));
    };
    assert_eq!(rr.ssrc(), Ssrc(1));
    let blocks: Vec<_> = rr.report_blocks().collect();
    let want = ReportBlock {
        ssrc: Ssrc(2),
        fraction_lost: 64,
        cumulative_lost: -2,
        extended_highest_seq: 0x0001_0005,
        jitter: 32,
        last_sr: 0x1234_5678,
        delay_since_last_sr: 0x0001_8000,
    };
    assert_eq!(blocks, [want]);
    assert!(rr.profile_extension().is_empty());
    let RtcpPacket::Bye(bye) = got[1] else {
        return Err(PacketError::BadPacketType(1));
    };
    assert_eq!(bye.ssrcs().collect::<Vec<_>>(), [Ssrc(1)]);
    assert_eq!(bye.reason(), Some(&b"done"[..]));

    let mut buf = [0u8; 64];
    let mut w = CompoundWriter::new(&mut buf);
    w.push(&ReceiverReportWriter::new(Ssrc(1), &[want]))?
        .push(&ByeWriter {
            ssrcs: &[Ssrc(1)],
            reason: Some(b"done"),
        })?;
    assert_eq!(w.as_bytes(), &RR_BYE[..]);
    Ok(())
}

#[test]
fn reduced_size_feedback() -> Result<(), PacketError> {
    // A lone PLI (RFC 5506): no leading SR/RR.
    let pli = [
        0x81, 0xCE, 0x00, 0x02, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x0B,
    ];
    let compound = Compound::parse(&pli)?;
    assert!(compound.is_reduced_size());
    let want = Pli {
        sender_ssrc: Ssrc(10),
        media_ssrc: Ssrc(11),
    };
    assert_eq!(packets(&pli)?, [RtcpPacket::Pli(want)]);
    let mut out = [0u8; 12];
    assert_eq!(want.write(&mut out)?, 12);
    assert_eq!(out, pli);

    // A lone generic NACK: packets 100, 101, 103, 116.
    let nack = [
        0x81, 0xCD, 0x00, 0x03, 0, 0, 0, 0x0A, 0, 0, 0, 0x0B, 0x00, 0x64, 0x80, 0x05,
    ];
    let got = packets(&nack)?;
    let RtcpPacket::Nack(n) = got[0] else {
        return Err(PacketError::BadPacketType(0));
    };
    assert_eq!((n.sender_ssrc(), n.media_ssrc()), (Ssrc(10), Ssrc(11)));
    let lost: Vec<_> = n.lost().collect();
    assert_eq!(lost, [100, 101, 103, 116].map(SeqNo));
    let entries: Vec<_> = NackEntry::pack(lost).collect();
    let mut out = [0u8; 16];
    let w = NackWriter {
        sender_ssrc: Ssrc(10),
        media_ssrc: Ssrc(11),
        entries: &entries,
    };
    assert_eq!(w.write(&mut out)?, 16);
    assert_eq!(out, nack);
    Ok(())
}

#[test]
fn remb_and_fir() -> Result<(), PacketError> {
    // REMB 1 Mbit/s = 250000 << 2 for SSRC 0x1234.
    let remb = [
        0x8F, 0xCE, 0x00, 0x05, 0, 0, 0, 0x0A, 0, 0, 0, 0, b'R', b'E', b'M', b'B', 0x01, 0x0B,
        0xD0, 0x90, 0x00, 0x00, 0x12, 0x34,
    ];
    let got = packets(&remb)?;
    let RtcpPacket::Remb(r) = got[0] else {
        return Err(PacketError::BadPacketType(0));
    };
    assert_eq!(r.bitrate_bps(), 1_000_000);
    assert_eq!(r.ssrcs().collect::<Vec<_>>(), [Ssrc(0x1234)]);
    let mut out = [0u8; 24];
    let w = RembWriter {
        sender_ssrc: Ssrc(10),
        bitrate_bps: 1_000_000,
        ssrcs: &[Ssrc(0x1234)],
    };
    assert_eq!(w.write(&mut out)?, 24);
    assert_eq!(out, remb);

    // Another AFB message is left uninterpreted.
    let mut other = remb;
    other[12..16].copy_from_slice(b"GOOG");
    assert!(matches!(packets(&other)?[0], RtcpPacket::Other(_)));

    let entries = [FirEntry {
        ssrc: Ssrc(5),
        seq_nr: 9,
    }];
    let mut out = [0u8; 20];
    let n = FirWriter {
        sender_ssrc: Ssrc(10),
        entries: &entries,
    }
    .write(&mut out)?;
    assert_eq!(n, 20);
    assert_eq!(&out[..4], &[0x84, 0xCE, 0x00, 0x04]);
    let RtcpPacket::Fir(fir) = packets(&out)?[0] else {
        return Err(PacketError::BadPacketType(0));
    };
    assert_eq!(fir.sender_ssrc(), Ssrc(10));
    assert_eq!(fir.entries().collect::<Vec<_>>(), entries);
    Ok(())
}

#[test]
fn remb_extremes() -> Result<(), PacketError> {
    for bps in [0u64, 1, 262_143, 262_144, 10_000_000_000, u64::MAX] {
        let mut out = [0u8; 20];
        RembWriter {
            sender_ssrc: Ssrc(1),
            bitrate_bps: bps,
            ssrcs: &[],
        }
        .write(&mut out)?;
        let RtcpPacket::Remb(r) = packets(&out)?[0] else {
            return Err(PacketError::BadPacketType(0));
        };
        // Rounded down to an 18-bit mantissa: within 2^-17 below the value.
        assert!(r.bitrate_bps() <= bps && bps - r.bitrate_bps() <= bps >> 17);
    }
    // Exponent 63 with a large mantissa saturates.
    let mut huge = [0u8; 20];
    huge[..4].copy_from_slice(&[0x8F, 0xCE, 0x00, 0x04]);
    huge[12..20].copy_from_slice(&[b'R', b'E', b'M', b'B', 0x00, 0xFF, 0xFF, 0xFF]);
    let RtcpPacket::Remb(r) = packets(&huge)?[0] else {
        return Err(PacketError::BadPacketType(0));
    };
    assert_eq!(r.bitrate_bps(), u64::MAX);
    Ok(())
}

#[test]
fn app_and_xr() -> Result<(), PacketError> {
    let metrics = VoipMetrics {
        ssrc: Ssrc(3),
        loss_rate: 12,
        discard_rate: 3,
        burst_density: 200,
        gap_density: 2,
        burst_duration: 120,
        gap_duration: 5000,
        round_trip_delay: 80,
        end_system_delay: 60,
        signal_level: -20,
        noise_level: -60,
        rerl: 127,
        gmin: 16,
        r_factor: 85,
        ext_r_factor: 127,
        mos_lq: 41,
        mos_cq: 40,
        rx_config: 0b1010_0000,
        jb_nominal: 40,
        jb_maximum: 80,
        jb_abs_max: 200,
    };
    let mut buf = [0u8; 128];
    let mut w = CompoundWriter::new(&mut buf);
    w.push(&ReceiverReportWriter::new(Ssrc(1), &[]))?
        .push(&AppWriter {
            subtype: 5,
            ssrc: Ssrc(1),
            name: *b"TEST",
            data: &[1, 2, 3, 4],
        })?
        .push(&XrWriter {
            ssrc: Ssrc(1),
            voip_metrics: &[metrics],
        })?;
    let len = w.len();
    assert_eq!(len, 8 + 16 + 8 + 36);
    assert_eq!(&buf[24..32], &[0x80, 0xCF, 0x00, 0x0A, 0, 0, 0, 1]);
    assert_eq!(&buf[32..36], &[7, 0, 0, 8]);
    let got = packets(&buf[..len])?;
    let RtcpPacket::App(app) = got[1] else {
        return Err(PacketError::BadPacketType(1));
    };
    assert_eq!(
        (app.subtype(), app.ssrc(), app.name(), app.data()),
        (5, Ssrc(1), *b"TEST", &[1u8, 2, 3, 4][..])
    );
    let RtcpPacket::ExtendedReport(xr) = got[2] else {
        return Err(PacketError::BadPacketType(2));
    };
    assert_eq!(xr.ssrc(), Ssrc(1));
    assert_eq!(
        xr.blocks().collect::<Vec<_>>(),
        [XrBlock::VoipMetrics(metrics)]
    );
    Ok(())
}

#[test]
fn xr_other_blocks_and_bad_lengths() -> Result<(), PacketError> {
    // RRTR block (type 4, 2 words of NTP time), then a VoIP metrics block cut to 4 words.
    let xr = [
        0x80, 0xCF, 0x00, 0x04, 0, 0, 0, 1, 0x04, 0x00, 0x00, 0x02, 1, 2, 3, 4, 5, 6, 7, 8,
    ];
    let got = packets(&xr)?;
    let RtcpPacket::ExtendedReport(r) = got[0] else {
        return Err(PacketError::BadPacketType(0));
    };
    let blocks: Vec<_> = r.blocks().collect();
    assert_eq!(
        blocks,
        [XrBlock::Other {
            block_type: 4,
            type_specific: 0,
            data: &[1, 2, 3, 4, 5, 6, 7, 8]
        }]
    );
    let mut short = xr;
    short[8] = 7;
    assert_eq!(packets(&short), Err(PacketError::BadLength));
    let mut overrun = xr;
    overrun[11] = 3;
    assert_eq!(packets(&overrun), Err(PacketError::BadLength));
    Ok(())
}

#[test]
fn padding_on_the_last_packet() -> Result<(), PacketError> {
    // RR with no blocks and 4 bytes of padding (count 4).
    let rr = [0xA0, 0xC9, 0x00, 0x02, 0, 0, 0, 9, 0, 0, 0, 4];
    let raw: Vec<_> = Compound::parse(&rr)?.raw_packets().collect();
    assert!(raw[0].has_padding());
    assert_eq!(raw[0].body(), &[0, 0, 0, 9]);
    assert_eq!(raw[0].as_bytes().len(), 12);
    let RtcpPacket::ReceiverReport(r) = RtcpPacket::parse(raw[0])? else {
        return Err(PacketError::BadPacketType(0));
    };
    assert_eq!((r.ssrc(), r.report_blocks().len()), (Ssrc(9), 0));
    let mut bad = rr;
    bad[11] = 9;
    assert_eq!(Compound::parse(&bad), Err(PacketError::BadPadding));
    bad[11] = 0;
    assert_eq!(Compound::parse(&bad), Err(PacketError::BadPadding));
    Ok(())
}

#[test]
fn framing_errors() {
    assert_eq!(Compound::parse(&[]), Err(PacketError::TooShort));
    assert_eq!(Compound::parse(&SR_SDES[..3]), Err(PacketError::TooShort));
    let mut v1 = SR_SDES;
    v1[28] = 0x41;
    assert_eq!(Compound::parse(&v1), Err(PacketError::BadVersion(1)));
    // The SDES length word runs past the datagram.
    assert_eq!(Compound::parse(&SR_SDES[..51]), Err(PacketError::BadLength));
    // Trailing bytes that are not a whole header.
    let mut long = SR_SDES.to_vec();
    long.extend_from_slice(&[0x80, 0xC9]);
    assert_eq!(Compound::parse(&long), Err(PacketError::TooShort));
}

#[test]
fn a_bad_body_spoils_only_its_packet() -> Result<(), PacketError> {
    // The RR claims 2 report blocks but holds 1; the BYE after it is still read.
    let mut buf = RR_BYE;
    buf[0] = 0x82;
    let got: Vec<_> = Compound::parse(&buf)?.packets().collect();
    assert_eq!(got[0], Err(PacketError::BadLength));
    assert!(matches!(got[1], Ok(RtcpPacket::Bye(_))));
    // A BYE reason longer than the packet.
    let mut buf = RR_BYE;
    buf[40] = 9;
    assert_eq!(packets(&buf), Err(PacketError::BadLength));
    // An SDES chunk without its END octet.
    let mut buf = SR_SDES;
    buf[51] = b'!';
    assert_eq!(packets(&buf), Err(PacketError::BadLength));
    Ok(())
}

#[test]
fn sdes_multiple_chunks_and_items() -> Result<(), PacketError> {
    let a = [
        SdesItem::cname(b"a@x"),
        SdesItem {
            kind: SdesItem::TOOL,
            value: b"rtp-core",
        },
    ];
    let b = [SdesItem {
        kind: SdesItem::NOTE,
        value: b"",
    }];
    let chunks = [
        SdesWriteChunk {
            ssrc: Ssrc(1),
            items: &a,
        },
        SdesWriteChunk {
            ssrc: Ssrc(2),
            items: &b,
        },
        SdesWriteChunk {
            ssrc: Ssrc(3),
            items: &[],
        },
    ];
    let w = SdesWriter { chunks: &chunks };
    let mut out = [0u8; 64];
    let n = w.write(&mut out)?;
    // 4 + (4+5+10+1 -> 20) + (4+2+1 -> 8) + (4+1 -> 8)
    assert_eq!(n, 40);
    let RtcpPacket::Sdes(sdes) = packets(&out[..n])?[0] else {
        return Err(PacketError::BadPacketType(0));
    };
    let got: Vec<_> = sdes
        .chunks()
        .map(|c| (c.ssrc(), c.items().collect::<Vec<_>>()))
        .collect();
    assert_eq!(
        got,
        [
            (Ssrc(1), a.to_vec()),
            (Ssrc(2), b.to_vec()),
            (Ssrc(3), vec![])
        ]
    );
    assert_eq!(sdes.chunks().nth(1).and_then(|c| c.cname()), None);
    Ok(())
}

#[test]
fn unknown_types_pass_through() -> Result<(), PacketError> {
    let pkt = [0x83, 0xD2, 0x00, 0x01, 1, 2, 3, 4];
    let got = packets(&pkt)?;
    let RtcpPacket::Other(raw) = got[0] else {
        return Err(PacketError::BadPacketType(0));
    };
    assert_eq!(
        (raw.packet_type(), raw.count(), raw.body()),
        (210, 3, &[1u8, 2, 3, 4][..])
    );
    Ok(())
}

#[test]
fn writer_limits() {
    let blocks = [ReportBlock::default(); 32];
    let mut out = [0u8; 2048];
    assert_eq!(
        ReceiverReportWriter::new(Ssrc(1), &blocks).write(&mut out),
        Err(PacketError::ValueOutOfRange("report count"))
    );
    assert_eq!(
        ByeWriter {
            ssrcs: &[],
            reason: Some(&[b'x'; 256])
        }
        .write(&mut out),
        Err(PacketError::ValueOutOfRange("BYE reason length"))
    );
    assert_eq!(
        AppWriter {
            subtype: 32,
            ssrc: Ssrc(0),
            name: *b"ABCD",
            data: &[]
        }
        .write(&mut out),
        Err(PacketError::ValueOutOfRange("APP subtype"))
    );
    let long = [SdesItem::cname(&[b'c'; 256])];
    let chunks = [SdesWriteChunk {
        ssrc: Ssrc(0),
        items: &long,
    }];
    assert_eq!(
        SdesWriter { chunks: &chunks }.write(&mut out),
        Err(PacketError::ValueOutOfRange("SDES item length"))
    );
    // The compound writer reports the total length it would need.
    let mut small = [0u8; 19];
    let mut w = CompoundWriter::new(&mut small);
    assert!(w.push(&ReceiverReportWriter::new(Ssrc(1), &[])).is_ok());
    let pli = Pli {
        sender_ssrc: Ssrc(1),
        media_ssrc: Ssrc(2),
    };
    assert_eq!(
        w.push(&pli).map(|w| w.len()),
        Err(PacketError::BufferTooSmall { needed: 20 })
    );
    assert_eq!(w.len(), 8);
}

#[test]
fn rtcp_mux_demultiplexing() {
    assert!(is_rtcp(&SR_SDES));
    assert!(is_rtcp(&[0x80, 223]));
    assert!(!is_rtcp(&[0x80, 0x00]));
    assert!(!is_rtcp(&[0x80, 0xE0])); // RTP, marker + PT 96
    assert!(!is_rtcp(&[0x80]));
}

#[test]
fn first_sender_ssrc_reads_only_the_clear_header() {
    assert_eq!(first_sender_ssrc(&SR_SDES), Ok(Ssrc(0xDEAD_BEEF)));
    // The rest may be ciphertext: only version and the first eight bytes matter.
    assert_eq!(
        first_sender_ssrc(&[0x80, 0xC8, 0xFF, 0xFF, 0, 0, 0, 7, 0xAA]),
        Ok(Ssrc(7))
    );
    assert_eq!(first_sender_ssrc(&SR_SDES[..7]), Err(PacketError::TooShort));
    assert_eq!(first_sender_ssrc(&[]), Err(PacketError::TooShort));
    assert_eq!(
        first_sender_ssrc(&[0x40, 0xC8, 0, 1, 0, 0, 0, 7]),
        Err(PacketError::BadVersion(1))
    );
}
