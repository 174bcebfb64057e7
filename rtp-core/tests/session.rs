//! RtpSession on virtual time: two sessions back to back through a simulated wire.
//! Figures measured here are printed (`cargo test -p rtp-core --test session -- --nocapture`).

mod sim;

use std::time::{Duration, Instant};

use rtp_core::rtcp::{
    Compound, CompoundWriter, ReceiverReportWriter, RembWriter, RtcpPacket, SenderReportWriter,
};
use rtp_core::session::{
    Latching, RtpSession, SessionConfig, SessionError, SessionEvent, TransmitKind,
};
use rtp_core::{RtpPacket, RtpTimestamp, RtpWriter, SeqNo, Ssrc};
use sim::{addr, config, Link, Rng, Sim};

fn pair(start: Instant, links: [Link; 2]) -> Sim {
    let a = RtpSession::new(config("a@test", addr(6000)), start, Rng::source(11)).unwrap();
    let b = RtpSession::new(config("b@test", addr(5000)), start, Rng::source(22)).unwrap();
    Sim::new(start, a, b, links)
}

fn rtcp_types(bytes: &[u8]) -> Vec<u8> {
    Compound::parse(bytes)
        .map(|c| c.raw_packets().map(|p| p.packet_type()).collect())
        .unwrap_or_default()
}

#[test]
fn rtcp_interval_mean_matches_rfc3550() {
    let start = Instant::now();
    let links = [
        Link::new(Duration::from_millis(10), 1),
        Link::new(Duration::from_millis(10), 2),
    ];
    let mut sim = pair(start, links);
    sim.pcmu_both();
    sim.run_for(Duration::from_secs(3600));
    let times: Vec<Instant> = sim.peers[0].rtcp_sent.iter().map(|(t, _)| *t).collect();
    // The first report comes after half the minimum, randomised: skip it.
    let intervals: Vec<f64> = times
        .windows(2)
        .skip(1)
        .map(|w| (w[1] - w[0]).as_secs_f64())
        .collect();
    let mean = intervals.iter().sum::<f64>() / intervals.len() as f64;
    let min = intervals.iter().copied().fold(f64::MAX, f64::min);
    let max = intervals.iter().copied().fold(0.0, f64::max);
    let first = (times[0] - start).as_secs_f64();
    println!(
        "RTCP: {} reports in 1 h, first at {first:.2} s, interval mean {mean:.3} s, \
         min {min:.2}, max {max:.2}",
        times.len()
    );
    // Two members at 64 kbit/s: Td = 5 s (the minimum); uniform [0.5, 1.5] / (e - 1.5) with
    // timer reconsideration has mean Td.
    assert!((mean - 5.0).abs() < 0.15, "mean {mean}");
    let c = std::f64::consts::E - 1.5;
    assert!(
        min >= 2.5 / c - 1e-3 && max <= 7.5 / c + 0.03,
        "{min} {max}"
    );
    assert!(
        first >= 1.25 / c - 1e-3 && first <= 3.75 / c + 1e-3,
        "{first}"
    );
    // Both sent media: every report is an SR with SDES.
    for (_, bytes) in &sim.peers[0].rtcp_sent {
        assert_eq!(rtcp_types(bytes), [200, 202]);
    }
}

#[test]
fn reports_carry_loss_jitter_and_rtt() {
    let start = Instant::now();
    let one_way = Duration::from_millis(40);
    let mut ab = Link::new(one_way, 3);
    ab.rtp_loss = 0.05;
    ab.jitter = Duration::from_millis(15);
    let ba = Link::new(one_way, 4);
    let mut sim = pair(start, [ab, ba]);
    sim.pcmu_both();
    sim.run_for(Duration::from_secs(120));

    // B's view of A.
    let a_ssrc = sim.peers[0].session.ssrc();
    let b_view = sim.peers[1].session.source_stats(a_ssrc).unwrap();
    let dropped = sim.links[0].rtp_dropped;
    let sent = sim.links[0].rtp_sent;
    // Packets lost before B validated A are outside A.3's count: compare from the first
    // delivered sequence number on.
    let first = sim.peers[1].delivered[0].0;
    let lost_after_first = sim.links[0]
        .dropped_seqs
        .iter()
        .filter(|&&s| s.wrapping_sub(first) < 0x8000)
        .count() as i64;
    // Packets in flight at the end are neither received nor expected yet.
    println!(
        "A->B: {sent} sent, {dropped} dropped ({:.2}%); B counts {} lost of {} expected, \
         jitter {} ts = {:.2} ms (uniform 0-15 ms delay: E|D| = 5 ms)",
        100.0 * dropped as f64 / sent as f64,
        b_view.cumulative_lost,
        b_view.expected,
        b_view.jitter,
        b_view.jitter_ms
    );
    assert!(
        (b_view.cumulative_lost - lost_after_first).abs() <= 1,
        "{} vs {lost_after_first}",
        b_view.cumulative_lost
    );
    assert!((b_view.jitter_ms - 5.0).abs() < 1.0, "{}", b_view.jitter_ms);

    // A's view of B's reports about A: fraction lost per report, RTT.
    let reports: Vec<_> = sim.peers[0]
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            SessionEvent::ReceiverReport(r) => Some(*r),
            _ => None,
        })
        .collect();
    assert!(reports.len() >= 20, "{}", reports.len());
    let mean_fraction = reports.iter().map(|r| r.fraction_lost).sum::<f64>() / reports.len() as f64;
    let rtts: Vec<f64> = reports
        .iter()
        .filter_map(|r| r.rtt)
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    let jitter_ms = reports.last().and_then(|r| r.jitter_ms).unwrap();
    println!(
        "A hears: {} reports, mean fraction lost {:.3} (injected {:.3}), jitter {jitter_ms:.2} ms, \
         RTT {:.3}..{:.3} ms (injected 2 x {} ms)",
        reports.len(),
        mean_fraction,
        dropped as f64 / sent as f64,
        rtts.iter().copied().fold(f64::MAX, f64::min),
        rtts.iter().copied().fold(0.0, f64::max),
        one_way.as_millis()
    );
    assert!((mean_fraction - 0.05).abs() < 0.012, "{mean_fraction}");
    assert!((jitter_ms - 5.0).abs() < 1.5, "{jitter_ms}");
    // RTCP A->B takes 40 ms, B->A 40 ms: RTT 80 ms (RTCP is not jittered here).
    assert!(rtts.len() >= 20);
    for rtt in &rtts {
        assert!((rtt - 80.0).abs() < 1.0, "rtt {rtt}");
    }
    let stats = sim.peers[0].session.stats();
    assert!(stats.rtt.is_some());
    assert_eq!(stats.sender.packets, sent);
    // B's SR info as A last saw it.
    let b_ssrc = sim.peers[1].session.ssrc();
    let sr = sim.peers[0]
        .session
        .source_stats(b_ssrc)
        .unwrap()
        .last_sender_report
        .unwrap();
    assert!(sr.packet_count > 5000);
}

#[test]
fn ssrc_collision_sends_bye_and_changes_ssrc() {
    let start = Instant::now();
    let links = [
        Link::new(Duration::from_millis(5), 5),
        Link::new(Duration::from_millis(5), 6),
    ];
    let mut sim = pair(start, links);
    sim.pcmu_both();
    sim.run_for(Duration::from_secs(1));
    let old = sim.peers[0].session.ssrc();
    // A third party at another address uses A's SSRC.
    let intruder = addr(7000);
    let mut buf = [0u8; 200];
    let n = RtpWriter::new(0, SeqNo(1), RtpTimestamp(0), old, &[0; 160])
        .write(&mut buf)
        .unwrap();
    sim.inject(0, intruder, &buf[..n]);
    let new = sim.peers[0].session.ssrc();
    assert_ne!(new, old);
    assert!(sim.peers[0].events.iter().any(|(_, e)| matches!(e,
        SessionEvent::SsrcCollision { old: o, new: n, address } if *o == old && *n == new && *address == intruder)));
    // Our new SSRC from the same address is taken for a loop, not a new collision.
    let n = RtpWriter::new(0, SeqNo(2), RtpTimestamp(0), new, &[0; 160])
        .write(&mut buf)
        .unwrap();
    sim.inject(0, intruder, &buf[..n]);
    assert_eq!(sim.peers[0].session.ssrc(), new);
    let sent_before = sim.peers[0].rtcp_sent.len();
    sim.run_for(Duration::from_millis(100));
    // The BYE for the old SSRC went out at once.
    let (_, bye) = &sim.peers[0].rtcp_sent[sent_before];
    assert_eq!(rtcp_types(bye), [201, 203]);
    let compound = Compound::parse(bye).unwrap();
    let byes: Vec<Ssrc> = compound
        .packets()
        .filter_map(|p| match p {
            Ok(RtcpPacket::Bye(b)) => Some(b.ssrcs().collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(byes, [old]);
    // B saw A's old SSRC leave, and A's new SSRC as a new source after probation.
    assert!(sim.peers[1]
        .events
        .iter()
        .any(|(_, e)| *e == SessionEvent::SourceBye { ssrc: old }));
    assert!(sim.peers[1]
        .events
        .iter()
        .any(|(_, e)| matches!(e, SessionEvent::NewSource { ssrc, .. } if *ssrc == new)));
    let s = sim.peers[0].session.stats();
    assert_eq!((s.collisions, s.loops, s.own_ssrc), (1, 1, 2));
    assert_eq!(s.sender.ssrc_changes, 1);
    // A's media keeps flowing under the new SSRC.
    sim.run_for(Duration::from_secs(1));
    let b_view = sim.peers[1].session.source_stats(new).unwrap();
    assert!(b_view.packets >= 49, "{}", b_view.packets);
}

fn rtp(seq: u16, ssrc: u32, pt: u8) -> Vec<u8> {
    let mut buf = vec![0u8; 200];
    let n = RtpWriter::new(
        pt,
        SeqNo(seq),
        RtpTimestamp(u32::from(seq) * 160),
        Ssrc(ssrc),
        &[1; 160],
    )
    .write(&mut buf)
    .unwrap();
    buf.truncate(n);
    buf
}

fn lone(config: SessionConfig) -> (RtpSession, Instant) {
    let now = Instant::now();
    (RtpSession::new(config, now, Rng::source(99)).unwrap(), now)
}

#[test]
fn probation_holds_back_new_sources() {
    for probation in [0u8, 2, 4] {
        let mut c = config("p@test", addr(6000));
        c.probation = probation;
        let (mut s, now) = lone(c);
        let mut delivered = Vec::new();
        for seq in 100..110u16 {
            if let Ok(Some(rtp_core::session::Received::Rtp(r))) =
                s.handle_packet(now, addr(6000), &rtp(seq, 0xABCD, 0))
            {
                delivered.push((r.packet.sequence_number().0, r.first_of_source));
            }
        }
        let skip = usize::from(probation.max(1)) - 1;
        let want: Vec<(u16, bool)> = (100 + skip as u16..110)
            .map(|q| (q, q == 100 + skip as u16))
            .collect();
        assert_eq!(delivered, want, "probation {probation}");
        let st = s.stats();
        assert_eq!(st.probation_discarded, skip as u64);
        assert_eq!(st.rtp_delivered, 10 - skip as u64);
    }
    // An interleaved stray packet of another source does not validate it.
    let (mut s, now) = lone(config("p@test", addr(6000)));
    assert!(s
        .handle_packet(now, addr(6000), &rtp(5, 1, 0))
        .unwrap()
        .is_none());
    assert!(s
        .handle_packet(now, addr(6000), &rtp(9, 1, 0))
        .unwrap()
        .is_none());
    assert!(s
        .handle_packet(now, addr(6000), &rtp(10, 1, 0))
        .unwrap()
        .is_some());
}

#[test]
fn latching_learns_and_resists_hijack() {
    let mut c = config("l@test", addr(6000));
    c.latching = Latching::On {
        relatch_after: Duration::from_secs(2),
    };
    let (mut s, t0) = lone(c);
    let nat = addr(40_000);
    let attacker = addr(50_000);
    // The peer is behind NAT: its packets come from 40000, not the signalled 6000.
    s.handle_packet(t0, nat, &rtp(1, 7, 0)).unwrap();
    assert_eq!(s.remote_rtp(), Some(addr(6000)), "no latch on probation");
    s.handle_packet(t0, nat, &rtp(2, 7, 0)).unwrap();
    assert_eq!(s.remote_rtp(), Some(nat));
    let events: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(events.contains(&SessionEvent::RemoteAddressLatched { address: nat }));
    // An attacker sending a valid-looking stream while the peer is live is ignored.
    let t1 = t0 + Duration::from_millis(500);
    for seq in 3..20 {
        s.handle_packet(t1, attacker, &rtp(seq, 7, 0)).unwrap();
        s.handle_packet(t1, attacker, &rtp(seq, 666, 0)).unwrap();
    }
    assert_eq!(s.remote_rtp(), Some(nat));
    assert_eq!(s.stats().wrong_address, 34);
    // The peer's NAT rebinds: after 2 s of silence, the new address takes over once it
    // shows `probation` packets in sequence.
    let rebound = addr(40_001);
    let t2 = t0 + Duration::from_secs(3);
    assert!(s
        .handle_packet(t2, rebound, &rtp(3, 7, 0))
        .unwrap()
        .is_none());
    assert!(s
        .handle_packet(t2, rebound, &rtp(4, 7, 0))
        .unwrap()
        .is_some());
    assert_eq!(s.remote_rtp(), Some(rebound));
    let events: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(events.contains(&SessionEvent::RemoteAddressChanged {
        old: nat,
        new: rebound
    }));
    let mut buf = [0u8; 300];
    let t = s
        .send_rtp(t2, 0, RtpTimestamp(0), false, &[0; 160], &mut buf)
        .unwrap();
    assert_eq!(t.destination, rebound);

    // Without latching, packets from anywhere are accepted and the destination stays.
    let mut c = config("l@test", addr(6000));
    c.latching = Latching::Off;
    let (mut s, t0) = lone(c);
    for seq in 1..5 {
        s.handle_packet(t0, attacker, &rtp(seq, 7, 0)).unwrap();
    }
    assert_eq!(s.remote_rtp(), Some(addr(6000)));
    assert_eq!(s.stats().rtp_delivered, 3);

    // With an expected SSRC from signalling, only that source latches.
    let mut c = config("l@test", addr(6000));
    c.expected_remote_ssrc = Some(Ssrc(8));
    let (mut s, t0) = lone(c);
    for seq in 1..5 {
        s.handle_packet(t0, attacker, &rtp(seq, 7, 0)).unwrap();
    }
    assert_eq!(s.remote_rtp(), Some(addr(6000)));
    for seq in 1..3 {
        s.handle_packet(t0, nat, &rtp(seq, 8, 0)).unwrap();
    }
    assert_eq!(s.remote_rtp(), Some(nat));
}

#[test]
fn sequence_wrap_and_duplicates() {
    let (mut s, now) = lone(config("w@test", addr(6000)));
    let mut delivered = 0;
    let mut seq = 65_500u16;
    for i in 0..200u32 {
        let bytes = rtp(seq, 3, 0);
        if s.handle_packet(now, addr(6000), &bytes).unwrap().is_some() {
            delivered += 1;
        }
        if i % 10 == 5 {
            // A duplicate right after, and one 3 packets late.
            assert!(s.handle_packet(now, addr(6000), &bytes).unwrap().is_none());
        }
        seq = seq.wrapping_add(1);
    }
    let st = s.source_stats(Ssrc(3)).unwrap();
    assert_eq!(delivered, 199);
    assert_eq!(st.duplicates, 20);
    assert_eq!(st.extended_highest_seq, 65_500 + 199);
    assert_eq!(st.extended_highest_seq >> 16, 1, "one wrap counted");
    assert_eq!(st.expected, 199);
    // A.1 counts duplicates as received: cumulative loss goes negative.
    assert_eq!(st.cumulative_lost, -20);
    assert_eq!(s.stats().duplicates, 20);
}

#[test]
fn malformed_and_unknown_are_counted_not_fatal() {
    let (mut s, now) = lone(config("m@test", addr(6000)));
    let from = addr(6000);
    let garbage: [&[u8]; 5] = [
        &[],
        &[0x80],
        &[0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        &[0x80, 0xC8, 0x00, 0x10],
        &[0x8F, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1],
    ];
    for g in garbage {
        assert!(matches!(
            s.handle_packet(now, from, g),
            Err(SessionError::Packet(_))
        ));
    }
    // Payload type 8 is not configured.
    assert!(s.handle_packet(now, from, &rtp(1, 5, 8)).unwrap().is_none());
    // An RR with a report block count that does not fit: framing fine, body bad.
    let bad_rr = [0x81, 0xC9, 0x00, 0x01, 0, 0, 0, 9];
    assert!(s.handle_packet(now, from, &bad_rr).unwrap().is_some());
    let st = s.stats();
    assert_eq!(st.malformed, 5);
    assert_eq!(st.unknown_payload_type, 1);
    assert_eq!(st.rtcp_bad_packets, 1);
    assert_eq!(st.datagrams, 7);
}

#[test]
fn transport_down_after_silence_and_source_timeout() {
    let start = Instant::now();
    let links = [
        Link::new(Duration::from_millis(5), 7),
        Link::new(Duration::from_millis(5), 8),
    ];
    let mut sim = pair(start, links);
    sim.pcmu_both();
    // B stops sending (and its RTCP goes nowhere) after 10 s: A's transport goes down 5 s
    // later, and B times out after 5 deterministic intervals.
    if let Some(m) = &mut sim.peers[1].media {
        m.until = Some(start + Duration::from_secs(10));
    }
    sim.run_for(Duration::from_secs(10));
    sim.links[1].rate_bps = Some(1);
    sim.links[1].queue_bytes = 0;
    sim.run_for(Duration::from_secs(40));
    let ev = &sim.peers[0].events;
    let up = ev
        .iter()
        .filter(|(_, e)| *e == SessionEvent::TransportUp)
        .count();
    let down: Vec<Instant> = ev
        .iter()
        .filter(|(_, e)| *e == SessionEvent::TransportDown)
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(up, 1);
    assert_eq!(down.len(), 1);
    let last_rx = sim.peers[0].delivered.last().unwrap().1;
    let after = (down[0] - last_rx).as_secs_f64();
    println!("transport down {after:.3} s after the last packet");
    assert!((5.0..5.1).contains(&after), "{after}");
    let b = sim.peers[1].session.ssrc();
    let timeout = ev
        .iter()
        .find(|(_, e)| *e == SessionEvent::SourceTimeout { ssrc: b })
        .map(|(t, _)| (*t - last_rx).as_secs_f64());
    println!("source timeout after {timeout:?} s");
    assert!(
        timeout.is_some_and(|t| (24.0..=26.0).contains(&t)),
        "{timeout:?}"
    );
    assert!(!sim.peers[0].session.stats().transport_up);
}

#[test]
fn close_sends_bye_and_stops() {
    let start = Instant::now();
    let links = [
        Link::new(Duration::from_millis(5), 9),
        Link::new(Duration::from_millis(5), 10),
    ];
    let mut sim = pair(start, links);
    sim.pcmu_both();
    sim.run_for(Duration::from_secs(2));
    sim.peers[0].media = None;
    sim.peers[0].session.close();
    sim.run_for(Duration::from_millis(100));
    let (_, last) = sim.peers[0].rtcp_sent.last().unwrap();
    assert_eq!(rtcp_types(last), [200, 202, 203]);
    assert!(sim.peers[0].session.is_closed());
    assert_eq!(sim.peers[0].session.poll_timeout(), None);
    let a = sim.peers[0].session.ssrc();
    assert!(sim.peers[1]
        .events
        .iter()
        .any(|(_, e)| *e == SessionEvent::SourceBye { ssrc: a }));
    let mut buf = [0u8; 300];
    assert_eq!(
        sim.peers[0]
            .session
            .send_rtp(sim.now, 0, RtpTimestamp(0), false, &[0; 10], &mut buf)
            .unwrap_err(),
        SessionError::Closed
    );
}

#[test]
fn send_rtp_numbers_and_offsets() {
    let mut c = config("s@test", addr(6000));
    c.initial = Some((Ssrc(0x1234), 65_535, 4_000_000_000));
    let (mut s, now) = lone(c);
    let mut buf = [0u8; 300];
    let t = s
        .send_rtp(now, 0, RtpTimestamp(0), true, &[7; 160], &mut buf)
        .unwrap();
    assert_eq!((t.kind, t.destination), (TransmitKind::Rtp, addr(6000)));
    let p = RtpPacket::parse(t.contents).unwrap();
    assert_eq!(
        (p.sequence_number(), p.timestamp(), p.ssrc(), p.marker()),
        (
            SeqNo(65_535),
            RtpTimestamp(4_000_000_000),
            Ssrc(0x1234),
            true
        )
    );
    let t = s
        .send_rtp(now, 0, RtpTimestamp(160), false, &[7; 160], &mut buf)
        .unwrap();
    let p = RtpPacket::parse(t.contents).unwrap();
    assert_eq!(p.sequence_number(), SeqNo(0));
    assert_eq!(p.timestamp(), RtpTimestamp(4_000_000_160));
    assert_eq!(
        s.send_rtp(now, 9, RtpTimestamp(0), false, &[], &mut buf),
        Err(SessionError::UnknownPayloadType(9))
    );
    let mut small = [0u8; 20];
    assert!(matches!(
        s.send_rtp(now, 0, RtpTimestamp(0), false, &[0; 160], &mut small),
        Err(SessionError::Packet(_))
    ));
    assert_eq!(s.stats().sender.packets, 2);
    // No remote yet: an error, nothing counted.
    let (mut s, now) = lone(SessionConfig::new("x", &[(0, 8000)]));
    assert_eq!(
        s.send_rtp(now, 0, RtpTimestamp(0), false, &[], &mut buf),
        Err(SessionError::NoRemoteAddress)
    );
}

/// REMB from the peer caps the estimate; loss reports cut it.
#[test]
fn remb_and_loss_reports_drive_the_estimate() {
    let (mut s, t0) = lone(config("r@test", addr(6000)));
    let ours = s.ssrc();
    let mut buf = [0u8; 200];
    let mut w = CompoundWriter::new(&mut buf);
    w.push(&ReceiverReportWriter::new(Ssrc(77), &[])).unwrap();
    w.push(&RembWriter {
        sender_ssrc: Ssrc(77),
        bitrate_bps: 100_000,
        ssrcs: &[ours],
    })
    .unwrap();
    let n = w.len();
    s.handle_packet(t0, addr(6000), &buf[..n]).unwrap();
    let events: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
    assert!(
        events.contains(&SessionEvent::BandwidthEstimate { bps: 100_000 }),
        "{events:?}"
    );
    // A 30% loss report: the loss-based estimate drops to 300k * 0.85; REMB still lower.
    let block = rtp_core::rtcp::ReportBlock {
        ssrc: ours,
        fraction_lost: 77,
        ..Default::default()
    };
    let mut w = CompoundWriter::new(&mut buf);
    w.push(&SenderReportWriter::new(
        Ssrc(77),
        Default::default(),
        &[block],
    ))
    .unwrap();
    let n = w.len();
    s.handle_packet(t0, addr(6000), &buf[..n]).unwrap();
    assert_eq!(s.bandwidth_estimator().loss_based_bps(), 254_882);
    assert_eq!(s.stats().bandwidth_estimate_bps, 100_000);
}

/// The loss-based controller against a drop-tail bottleneck converges near the limit.
#[test]
fn bandwidth_estimate_converges_under_a_rate_limit() {
    let start = Instant::now();
    let limit = 500_000u64;
    let mut ab = Link::new(Duration::from_millis(30), 12);
    ab.rate_bps = Some(limit);
    ab.queue_bytes = 12_000; // about 200 ms at the limit
    let ba = Link::new(Duration::from_millis(30), 13);
    let mk = |cname: &str, remote, seed| {
        let mut c = config(cname, remote);
        c.session_bandwidth_bps = 1_000_000;
        c.rtcp_reduced_minimum = true; // 360 / 1000 kbps = 0.36 s
        c.bwe.initial_bps = 150_000;
        RtpSession::new(c, start, Rng::source(seed)).unwrap()
    };
    let a = mk("a@bwe", addr(6000), 31);
    let b = mk("b@bwe", addr(5000), 32);
    let mut sim = Sim::new(start, a, b, [ab, ba]);
    sim.peers[0].media = Some(sim::Media {
        pt: 96,
        clock_rate: 48000,
        period: Duration::from_millis(20),
        payload_len: 1000,
        next: start,
        media_ts: 0,
        until: None,
    });
    sim.peers[0].rate_follows_estimate = true;
    let mut samples = Vec::new();
    for _ in 0..120 {
        sim.run_for(Duration::from_millis(500));
        samples.push(sim.peers[0].session.stats().bandwidth_estimate_bps);
    }
    let tail = &samples[60..];
    let mean = tail.iter().sum::<u64>() as f64 / tail.len() as f64;
    let lo = *tail.iter().min().unwrap() as f64;
    let hi = *tail.iter().max().unwrap() as f64;
    println!(
        "BWE vs a {limit} bit/s drop-tail bottleneck: start 150000, after 10 s {}, \
         30-60 s mean {mean:.0} (min {lo:.0}, max {hi:.0}) = {:.2} x limit",
        samples[19],
        mean / limit as f64
    );
    assert!((mean / limit as f64 - 1.0).abs() < 0.2, "{mean}");
    assert!(
        lo >= 0.7 * limit as f64 && hi <= 1.3 * limit as f64,
        "{lo} {hi}"
    );
    let events = sim.peers[0]
        .events
        .iter()
        .filter(|(_, e)| matches!(e, SessionEvent::BandwidthEstimate { .. }))
        .count();
    assert!(events > 3);
}

#[test]
fn a_flood_of_random_ssrcs_does_not_lock_out_a_real_source() {
    let mut c = config("f@test", addr(6000));
    c.max_sources = 4;
    let (mut s, now) = lone(c);
    for ssrc in 100..110u32 {
        assert!(s
            .handle_packet(now, addr(6000), &rtp(1, ssrc, 0))
            .unwrap()
            .is_none());
    }
    assert_eq!(s.stats().sources.len(), 4);
    s.handle_packet(now, addr(6000), &rtp(50, 7, 0)).unwrap();
    assert!(s
        .handle_packet(now, addr(6000), &rtp(51, 7, 0))
        .unwrap()
        .is_some());
    // Once every slot is a member, further new sources are refused and counted.
    let mut c = config("f@test", addr(6000));
    c.max_sources = 1;
    c.latching = Latching::Off;
    let (mut s, now) = lone(c);
    s.handle_packet(now, addr(6000), &rtp(1, 7, 0)).unwrap();
    s.handle_packet(now, addr(6000), &rtp(2, 7, 0)).unwrap();
    assert!(s
        .handle_packet(now, addr(6000), &rtp(1, 8, 0))
        .unwrap()
        .is_none());
    assert_eq!(s.stats().source_limit, 1);
}

#[test]
fn separate_rtcp_port_without_mux() {
    let mut c = config("n@test", addr(6000));
    c.rtcp_mux = false;
    c.rtcp_min_interval = Duration::from_millis(500);
    let (mut s, t0) = lone(c);
    assert_eq!(s.remote_rtcp(), Some(addr(6001)));
    // The peer's RTP latches; RTCP follows to RTP port + 1 of the latched address.
    let nat = addr(40_000);
    s.handle_packet(t0, nat, &rtp(1, 7, 0)).unwrap();
    s.handle_packet(t0, nat, &rtp(2, 7, 0)).unwrap();
    assert_eq!(s.remote_rtcp(), Some(addr(40_001)));
    let at = s.poll_timeout().unwrap();
    s.handle_timeout(at);
    let t = s.poll_transmit(at).unwrap();
    assert_eq!((t.kind, t.destination), (TransmitKind::Rtcp, addr(40_001)));
    // An RR from the peer's actual RTCP port (another NAT mapping) is learnt.
    let mut buf = [0u8; 64];
    let mut w = CompoundWriter::new(&mut buf);
    w.push(&ReceiverReportWriter::new(Ssrc(7), &[])).unwrap();
    let n = w.len();
    s.handle_packet(at, addr(40_007), &buf[..n]).unwrap();
    assert_eq!(s.remote_rtcp(), Some(addr(40_007)));
}
