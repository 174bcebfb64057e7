//! Property tests: everything written parses back to what was written, and no input, however
//! malformed, makes a parser panic.

use proptest::collection::vec;
use proptest::prelude::*;
use rtp_core::rtcp::{
    AppWriter, ByeWriter, CompoundWriter, FirEntry, FirWriter, NackEntry, NackWriter, NtpTime, Pli,
    ReceiverReportWriter, RembWriter, ReportBlock, SdesItem, SdesWriteChunk, SdesWriter,
    SenderInfo, SenderReportWriter, VoipMetrics, XrBlock, XrWriter,
};
use rtp_core::{
    Compound, EventSequence, ExtensionElement, ExtensionForm, ExtensionWriter, PacketError,
    RtcpPacket, RtpPacket, RtpTimestamp, RtpWriter, SeqNo, SeqUnwrapper, Ssrc, TelephoneEvent,
    TimestampUnwrapper,
};

// ---------------------------------------------------------------------------------------------
// RTP

#[derive(Debug, Clone)]
enum ExtSpec {
    None,
    Elements(ExtensionForm, Vec<(u8, Vec<u8>)>),
    Raw(u16, Vec<u8>),
}

fn ext_spec() -> impl Strategy<Value = ExtSpec> {
    prop_oneof![
        Just(ExtSpec::None),
        vec((1u8..=14, vec(any::<u8>(), 1..=16)), 0..6)
            .prop_map(|e| ExtSpec::Elements(ExtensionForm::OneByte, e)),
        (0u8..16, vec((1u8..=255, vec(any::<u8>(), 0..40)), 0..5))
            .prop_map(|(appbits, e)| ExtSpec::Elements(ExtensionForm::TwoByte { appbits }, e)),
        (any::<u16>(), vec(any::<[u8; 4]>(), 0..5)).prop_map(|(p, w)| ExtSpec::Raw(p, w.concat())),
    ]
}

prop_compose! {
    fn rtp_fields()(
        marker in any::<bool>(),
        pt in 0u8..=127,
        seq in any::<u16>(),
        ts in any::<u32>(),
        ssrc in any::<u32>(),
        csrcs in vec(any::<u32>(), 0..=15),
        ext in ext_spec(),
        payload in vec(any::<u8>(), 0..400),
        padding in prop_oneof![Just(0u8), 1u8..=255],
    ) -> (bool, u8, u16, u32, u32, Vec<u32>, ExtSpec, Vec<u8>, u8) {
        (marker, pt, seq, ts, ssrc, csrcs, ext, payload, padding)
    }
}

proptest! {
    #[test]
    fn rtp_round_trip(
        (marker, pt, seq, ts, ssrc, csrcs, ext, payload, padding) in rtp_fields()
    ) {
        let csrcs: Vec<Ssrc> = csrcs.into_iter().map(Ssrc).collect();
        let elements: Vec<ExtensionElement<'_>> = match &ext {
            ExtSpec::Elements(_, e) => {
                e.iter().map(|(id, d)| ExtensionElement { id: *id, data: d }).collect()
            }
            _ => Vec::new(),
        };
        let mut w = RtpWriter::new(pt, SeqNo(seq), RtpTimestamp(ts), Ssrc(ssrc), &payload);
        w.marker = marker;
        w.csrcs = &csrcs;
        w.padding = padding;
        w.extension = match &ext {
            ExtSpec::None => None,
            ExtSpec::Elements(form, _) => Some(ExtensionWriter::Elements {
                form: *form,
                elements: &elements,
            }),
            ExtSpec::Raw(profile, data) => Some(ExtensionWriter::Raw {
                profile: *profile,
                data,
            }),
        };
        let mut buf = vec![0u8; 2048];
        let n = w.write(&mut buf)?;
        prop_assert_eq!(n, w.encoded_len()?);
        // One byte short never writes.
        prop_assert_eq!(
            w.write(&mut buf[..n - 1]),
            Err(PacketError::BufferTooSmall { needed: n })
        );
        let p = RtpPacket::parse(&buf[..n])?;
        prop_assert_eq!(p.marker(), marker);
        prop_assert_eq!(p.payload_type(), pt);
        prop_assert_eq!(p.sequence_number(), SeqNo(seq));
        prop_assert_eq!(p.timestamp(), RtpTimestamp(ts));
        prop_assert_eq!(p.ssrc(), Ssrc(ssrc));
        prop_assert_eq!(&p.csrcs().collect::<Vec<_>>(), &csrcs);
        prop_assert_eq!(p.payload(), &payload[..]);
        prop_assert_eq!(p.padding_len(), usize::from(padding));
        prop_assert_eq!(p.header_len(), w.header_len()?);
        match &ext {
            ExtSpec::None => prop_assert!(p.extension().is_none()),
            ExtSpec::Elements(form, _) => {
                let e = p.extension().ok_or(PacketError::BadExtension)?;
                prop_assert_eq!(e.form(), Some(*form));
                prop_assert_eq!(e.elements().collect::<Vec<_>>(), elements);
            }
            ExtSpec::Raw(profile, data) => {
                let e = p.extension().ok_or(PacketError::BadExtension)?;
                prop_assert_eq!(e.profile(), *profile);
                prop_assert_eq!(e.data(), &data[..]);
            }
        }
    }

    #[test]
    fn rtp_parse_never_panics(bytes in vec(any::<u8>(), 0..200)) {
        if let Ok(p) = RtpPacket::parse(&bytes) {
            check_rtp(&p, bytes.len());
        }
    }

    /// Valid-looking headers (version 2) with random flags and lengths reach deeper checks.
    #[test]
    fn rtp_parse_v2_never_panics(first in 0x80u8..=0xBF, rest in vec(any::<u8>(), 0..120)) {
        let mut bytes = vec![first];
        bytes.extend_from_slice(&rest);
        if let Ok(p) = RtpPacket::parse(&bytes) {
            check_rtp(&p, bytes.len());
        }
    }
}

fn check_rtp(p: &RtpPacket<'_>, len: usize) {
    assert_eq!(p.version(), 2);
    assert_eq!(p.header_len() + p.payload().len() + p.padding_len(), len);
    let _ = (
        p.marker(),
        p.payload_type(),
        p.sequence_number(),
        p.timestamp(),
        p.ssrc(),
    );
    assert!(p.csrcs().count() <= 15);
    if let Some(ext) = p.extension() {
        for e in ext.elements() {
            assert!(e.data.len() <= ext.data().len());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// RTCP

/// SDES chunks as (SSRC, [(item type, value)]).
type SdesSpec = Vec<(u32, Vec<(u8, Vec<u8>)>)>;

#[derive(Debug, Clone)]
enum RtcpSpec {
    Sr(u32, SenderInfo, Vec<ReportBlock>),
    Rr(u32, Vec<ReportBlock>),
    Sdes(SdesSpec),
    Bye(Vec<u32>, Option<Vec<u8>>),
    App(u8, u32, [u8; 4], Vec<u8>),
    Nack(u32, u32, Vec<(u16, u16)>),
    Pli(u32, u32),
    Fir(u32, Vec<(u32, u8)>),
    Remb(u32, u64, Vec<u32>),
    Xr(u32, Vec<VoipMetrics>),
}

fn report_block() -> impl Strategy<Value = ReportBlock> {
    (any::<[u32; 6]>(), any::<u8>(), -0x80_0000i32..=0x7F_FFFF).prop_map(|(w, f, lost)| {
        ReportBlock {
            ssrc: Ssrc(w[0]),
            fraction_lost: f,
            cumulative_lost: lost,
            extended_highest_seq: w[1],
            jitter: w[2],
            last_sr: w[3],
            delay_since_last_sr: w[4] ^ w[5],
        }
    })
}

fn voip_metrics() -> impl Strategy<Value = VoipMetrics> {
    (any::<[u8; 16]>(), any::<[u16; 7]>(), any::<u32>()).prop_map(|(b, h, ssrc)| VoipMetrics {
        ssrc: Ssrc(ssrc),
        loss_rate: b[0],
        discard_rate: b[1],
        burst_density: b[2],
        gap_density: b[3],
        burst_duration: h[0],
        gap_duration: h[1],
        round_trip_delay: h[2],
        end_system_delay: h[3],
        signal_level: b[4] as i8,
        noise_level: b[5] as i8,
        rerl: b[6],
        gmin: b[7],
        r_factor: b[8],
        ext_r_factor: b[9],
        mos_lq: b[10],
        mos_cq: b[11],
        rx_config: b[12],
        jb_nominal: h[4],
        jb_maximum: h[5],
        jb_abs_max: h[6],
    })
}

fn rtcp_spec() -> impl Strategy<Value = RtcpSpec> {
    prop_oneof![
        (
            any::<u32>(),
            any::<(u64, u32, u32, u32)>(),
            vec(report_block(), 0..4)
        )
            .prop_map(|(ssrc, (ntp, ts, p, o), blocks)| RtcpSpec::Sr(
                ssrc,
                SenderInfo {
                    ntp_time: NtpTime(ntp),
                    rtp_timestamp: RtpTimestamp(ts),
                    packet_count: p,
                    octet_count: o,
                },
                blocks
            )),
        (any::<u32>(), vec(report_block(), 0..4)).prop_map(|(s, b)| RtcpSpec::Rr(s, b)),
        vec(
            (
                any::<u32>(),
                vec((1u8..=255, vec(any::<u8>(), 0..30)), 0..4)
            ),
            0..4
        )
        .prop_map(RtcpSpec::Sdes),
        (
            vec(any::<u32>(), 0..5),
            proptest::option::of(vec(any::<u8>(), 0..40))
        )
            .prop_map(|(s, r)| RtcpSpec::Bye(s, r)),
        (
            0u8..=31,
            any::<u32>(),
            any::<[u8; 4]>(),
            vec(any::<[u8; 4]>(), 0..4)
        )
            .prop_map(|(st, s, n, d)| RtcpSpec::App(st, s, n, d.concat())),
        (any::<u32>(), any::<u32>(), vec(any::<(u16, u16)>(), 0..6))
            .prop_map(|(a, b, e)| RtcpSpec::Nack(a, b, e)),
        (any::<u32>(), any::<u32>()).prop_map(|(a, b)| RtcpSpec::Pli(a, b)),
        (any::<u32>(), vec(any::<(u32, u8)>(), 0..4)).prop_map(|(a, e)| RtcpSpec::Fir(a, e)),
        (
            any::<u32>(),
            0u64..(1 << 18),
            0u32..40,
            vec(any::<u32>(), 0..4)
        )
            .prop_map(|(a, m, e, s)| RtcpSpec::Remb(a, m << e, s)),
        (any::<u32>(), vec(voip_metrics(), 0..3)).prop_map(|(s, m)| RtcpSpec::Xr(s, m)),
    ]
}

/// Writes one spec with its writer and checks the parsed packet against it.
fn write_spec(spec: &RtcpSpec, w: &mut CompoundWriter<'_>) -> Result<(), PacketError> {
    match spec {
        RtcpSpec::Sr(ssrc, info, blocks) => {
            w.push(&SenderReportWriter::new(Ssrc(*ssrc), *info, blocks))?;
        }
        RtcpSpec::Rr(ssrc, blocks) => {
            w.push(&ReceiverReportWriter::new(Ssrc(*ssrc), blocks))?;
        }
        RtcpSpec::Sdes(chunks) => {
            let items: Vec<Vec<SdesItem<'_>>> = chunks
                .iter()
                .map(|(_, items)| {
                    items
                        .iter()
                        .map(|(kind, value)| SdesItem { kind: *kind, value })
                        .collect()
                })
                .collect();
            let chunks: Vec<SdesWriteChunk<'_>> = chunks
                .iter()
                .zip(&items)
                .map(|((ssrc, _), items)| SdesWriteChunk {
                    ssrc: Ssrc(*ssrc),
                    items,
                })
                .collect();
            w.push(&SdesWriter { chunks: &chunks })?;
        }
        RtcpSpec::Bye(ssrcs, reason) => {
            let ssrcs: Vec<Ssrc> = ssrcs.iter().copied().map(Ssrc).collect();
            w.push(&ByeWriter {
                ssrcs: &ssrcs,
                reason: reason.as_deref(),
            })?;
        }
        RtcpSpec::App(subtype, ssrc, name, data) => {
            w.push(&AppWriter {
                subtype: *subtype,
                ssrc: Ssrc(*ssrc),
                name: *name,
                data,
            })?;
        }
        RtcpSpec::Nack(a, b, entries) => {
            let entries: Vec<NackEntry> = entries
                .iter()
                .map(|&(pid, blp)| NackEntry {
                    pid: SeqNo(pid),
                    blp,
                })
                .collect();
            w.push(&NackWriter {
                sender_ssrc: Ssrc(*a),
                media_ssrc: Ssrc(*b),
                entries: &entries,
            })?;
        }
        RtcpSpec::Pli(a, b) => {
            w.push(&Pli {
                sender_ssrc: Ssrc(*a),
                media_ssrc: Ssrc(*b),
            })?;
        }
        RtcpSpec::Fir(a, entries) => {
            let entries: Vec<FirEntry> = entries
                .iter()
                .map(|&(s, n)| FirEntry {
                    ssrc: Ssrc(s),
                    seq_nr: n,
                })
                .collect();
            w.push(&FirWriter {
                sender_ssrc: Ssrc(*a),
                entries: &entries,
            })?;
        }
        RtcpSpec::Remb(a, bps, ssrcs) => {
            let ssrcs: Vec<Ssrc> = ssrcs.iter().copied().map(Ssrc).collect();
            w.push(&RembWriter {
                sender_ssrc: Ssrc(*a),
                bitrate_bps: *bps,
                ssrcs: &ssrcs,
            })?;
        }
        RtcpSpec::Xr(ssrc, metrics) => {
            w.push(&XrWriter {
                ssrc: Ssrc(*ssrc),
                voip_metrics: metrics,
            })?;
        }
    }
    Ok(())
}

fn matches_spec(spec: &RtcpSpec, p: &RtcpPacket<'_>) -> bool {
    match (spec, p) {
        (RtcpSpec::Sr(ssrc, info, blocks), RtcpPacket::SenderReport(sr)) => {
            sr.ssrc() == Ssrc(*ssrc)
                && sr.sender_info() == *info
                && sr.report_blocks().collect::<Vec<_>>() == *blocks
                && sr.profile_extension().is_empty()
        }
        (RtcpSpec::Rr(ssrc, blocks), RtcpPacket::ReceiverReport(rr)) => {
            rr.ssrc() == Ssrc(*ssrc) && rr.report_blocks().collect::<Vec<_>>() == *blocks
        }
        (RtcpSpec::Sdes(chunks), RtcpPacket::Sdes(sdes)) => {
            let got: SdesSpec = sdes
                .chunks()
                .map(|c| {
                    let items = c.items().map(|i| (i.kind, i.value.to_vec())).collect();
                    (c.ssrc().0, items)
                })
                .collect();
            got == *chunks
        }
        (RtcpSpec::Bye(ssrcs, reason), RtcpPacket::Bye(bye)) => {
            bye.ssrcs().map(|s| s.0).collect::<Vec<_>>() == *ssrcs
                && bye.reason() == reason.as_deref()
        }
        (RtcpSpec::App(st, ssrc, name, data), RtcpPacket::App(app)) => {
            app.subtype() == *st
                && app.ssrc() == Ssrc(*ssrc)
                && app.name() == *name
                && app.data() == &data[..]
        }
        (RtcpSpec::Nack(a, b, entries), RtcpPacket::Nack(n)) => {
            n.sender_ssrc() == Ssrc(*a)
                && n.media_ssrc() == Ssrc(*b)
                && n.entries().map(|e| (e.pid.0, e.blp)).collect::<Vec<_>>() == *entries
        }
        (RtcpSpec::Pli(a, b), RtcpPacket::Pli(pli)) => {
            pli.sender_ssrc == Ssrc(*a) && pli.media_ssrc == Ssrc(*b)
        }
        (RtcpSpec::Fir(a, entries), RtcpPacket::Fir(fir)) => {
            fir.sender_ssrc() == Ssrc(*a)
                && fir
                    .entries()
                    .map(|e| (e.ssrc.0, e.seq_nr))
                    .collect::<Vec<_>>()
                    == *entries
        }
        (RtcpSpec::Remb(a, bps, ssrcs), RtcpPacket::Remb(r)) => {
            r.sender_ssrc() == Ssrc(*a)
                && r.bitrate_bps() == *bps
                && r.ssrcs().map(|s| s.0).collect::<Vec<_>>() == *ssrcs
        }
        (RtcpSpec::Xr(ssrc, metrics), RtcpPacket::ExtendedReport(xr)) => {
            let want: Vec<XrBlock<'_>> =
                metrics.iter().copied().map(XrBlock::VoipMetrics).collect();
            xr.ssrc() == Ssrc(*ssrc) && xr.blocks().collect::<Vec<_>>() == want
        }
        _ => false,
    }
}

/// Touches every accessor of every packet, as a receiver would.
fn walk_rtcp(buf: &[u8]) {
    let Ok(compound) = Compound::parse(buf) else {
        return;
    };
    let _ = compound.is_reduced_size();
    let total: usize = compound.raw_packets().map(|p| p.as_bytes().len()).sum();
    assert_eq!(total, buf.len());
    for packet in compound.packets().flatten() {
        match packet {
            RtcpPacket::SenderReport(sr) => {
                let _ = (sr.sender_info(), sr.report_blocks().count());
            }
            RtcpPacket::ReceiverReport(rr) => {
                let _ = rr.report_blocks().count();
            }
            RtcpPacket::Sdes(sdes) => {
                for c in sdes.chunks() {
                    let _ = (c.cname(), c.items().count());
                }
            }
            RtcpPacket::Bye(bye) => {
                let _ = (bye.ssrcs().count(), bye.reason());
            }
            RtcpPacket::Nack(n) => {
                let _ = n.lost().count();
            }
            RtcpPacket::Fir(f) => {
                let _ = f.entries().count();
            }
            RtcpPacket::Remb(r) => {
                let _ = (r.bitrate_bps(), r.ssrcs().count());
            }
            RtcpPacket::ExtendedReport(xr) => {
                let _ = xr.blocks().count();
            }
            _ => {}
        }
    }
}

proptest! {
    #[test]
    fn rtcp_compound_round_trip(specs in vec(rtcp_spec(), 1..6)) {
        let mut buf = vec![0u8; 8192];
        let mut w = CompoundWriter::new(&mut buf);
        for spec in &specs {
            write_spec(spec, &mut w)?;
        }
        let len = w.len();
        let compound = Compound::parse(&buf[..len])?;
        let parsed: Vec<RtcpPacket<'_>> = compound.packets().collect::<Result<_, _>>()?;
        prop_assert_eq!(parsed.len(), specs.len());
        for (spec, p) in specs.iter().zip(&parsed) {
            prop_assert!(matches_spec(spec, p), "{:?} came back as {:?}", spec, p);
        }
        prop_assert_eq!(
            compound.is_reduced_size(),
            !matches!(specs[0], RtcpSpec::Sr(..) | RtcpSpec::Rr(..))
        );
    }

    #[test]
    fn rtcp_parse_never_panics(bytes in vec(any::<u8>(), 0..300)) {
        walk_rtcp(&bytes);
    }

    /// Random bodies behind well-formed headers of every known type reach the body parsers.
    #[test]
    fn rtcp_bodies_never_panic(
        count in 0u8..32,
        pt in 200u8..=207,
        padding in any::<bool>(),
        body in vec(any::<[u8; 4]>(), 0..20),
    ) {
        let body = body.concat();
        let mut buf = vec![0x80 | if padding { 0x20 } else { 0 } | count, pt];
        buf.extend_from_slice(&((body.len() / 4) as u16).to_be_bytes());
        buf.extend_from_slice(&body);
        walk_rtcp(&buf);
    }

    /// Valid compounds with one byte changed still never panic.
    #[test]
    fn mutated_rtcp_never_panics(
        specs in vec(rtcp_spec(), 1..4),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut buf = vec![0u8; 8192];
        let mut w = CompoundWriter::new(&mut buf);
        for spec in &specs {
            write_spec(spec, &mut w)?;
        }
        let len = w.len();
        buf.truncate(len);
        let i = at.index(len);
        buf[i] = byte;
        walk_rtcp(&buf);
        walk_rtcp(&buf[..i]);
    }
}

// ---------------------------------------------------------------------------------------------
// RFC 4733 and unwrapping

proptest! {
    #[test]
    fn telephone_event_round_trip(event in any::<u8>(), end in any::<bool>(), volume in 0u8..=63,
                                  duration in any::<u16>()) {
        let e = TelephoneEvent { event, end, volume, duration };
        let mut buf = [0u8; 4];
        prop_assert_eq!(e.write(&mut buf)?, 4);
        prop_assert_eq!(TelephoneEvent::parse(&buf)?, e);
    }

    #[test]
    fn telephone_event_parse_never_panics(bytes in vec(any::<u8>(), 0..8)) {
        match TelephoneEvent::parse(&bytes) {
            Ok(e) => prop_assert!(bytes.len() >= 4 && e.volume <= 63),
            Err(err) => prop_assert_eq!(err, PacketError::TooShort),
        }
    }

    #[test]
    fn event_sequence_invariants(
        event in 0u8..=16,
        start in any::<u32>(),
        duration in 1u32..300_000,
        interval in 1u16..=4000,
    ) {
        let packets: Vec<_> = EventSequence::new(event, 10, RtpTimestamp(start), duration, interval)?
            .collect();
        prop_assert!(packets[0].marker);
        prop_assert_eq!(packets.iter().filter(|p| p.marker).count(), 1);
        let (body, ends) = packets.split_at(packets.len() - 3);
        for p in ends {
            prop_assert!(p.event.end);
            prop_assert_eq!((p.timestamp, p.event), (ends[0].timestamp, ends[0].event));
        }
        prop_assert!(body.iter().all(|p| !p.event.end));
        // Segment timestamps plus final duration cover the event exactly.
        let last = ends[2];
        let covered = u64::from(last.timestamp.0.wrapping_sub(start)) + u64::from(last.event.duration);
        prop_assert_eq!(covered, u64::from(duration));
        // Send times never go backwards; durations grow within a segment.
        for pair in packets.windows(2) {
            prop_assert!(pair[0].send_offset <= pair[1].send_offset);
            if pair[0].timestamp == pair[1].timestamp {
                prop_assert!(pair[0].event.duration <= pair[1].event.duration);
            }
        }
    }

    #[test]
    fn seq_unwrapper_tracks_true_order(
        first in 0u64..(1 << 20),
        steps in vec(-50i64..200, 1..400),
    ) {
        let mut u = SeqUnwrapper::new();
        let base = first & !0xFFFF;
        let mut pos = first as i64;
        let mut max = pos;
        prop_assert_eq!(u.unwrap(SeqNo(first as u16)), Some(first - base));
        for step in steps {
            pos = (pos + step).max(0);
            // Stay within the unwrapper's ±32768 window of the highest seen.
            prop_assume!(max - pos < 32_768);
            max = max.max(pos);
            let want = u64::try_from(pos - base as i64).ok();
            prop_assert_eq!(u.unwrap(SeqNo(pos as u16)), want);
        }
    }

    #[test]
    fn timestamp_unwrapper_tracks_true_time(
        first in 0u64..(1 << 40),
        steps in vec(-3000i64..100_000_000, 1..100),
    ) {
        let mut u = TimestampUnwrapper::new();
        let base = first & !0xFFFF_FFFF;
        let mut pos = first as i64;
        prop_assert_eq!(u.unwrap(RtpTimestamp(first as u32)), Some(first - base));
        for step in steps {
            pos = (pos + step).max(0);
            let want = u64::try_from(pos - base as i64).ok();
            prop_assert_eq!(u.unwrap(RtpTimestamp(pos as u32)), want);
        }
    }
}
