//! Unit tests on hand-made arrival patterns (the network-emulated ones are in `tests/`).

use super::*;

fn base() -> Instant {
    Instant::now()
}

fn at(t0: Instant, us: u64) -> Instant {
    t0 + Duration::from_micros(us)
}

fn pkt(ssrc: u32, seq: u16, ts: u32) -> JitterPacket {
    JitterPacket {
        ssrc: Ssrc(ssrc),
        seq: SeqNo(seq),
        timestamp: RtpTimestamp(ts),
        marker: false,
        payload: vec![seq as u8; 160],
    }
}

/// What a poll returned, compactly.
#[derive(Debug, Clone, PartialEq)]
enum Out {
    P(u16),
    Lost(u32),
    Under(u32),
    Exp,
    Nothing,
}

fn out(jb: &mut JitterBuffer, now: Instant) -> Out {
    match jb.poll(now) {
        Playout::Packet(p) => {
            let s = p.seq.0;
            jb.recycle(p.payload);
            Out::P(s)
        }
        Playout::Missing(m) => match m.kind {
            MissingKind::Lost => Out::Lost(m.timestamp.0),
            MissingKind::Underflow => Out::Under(m.timestamp.0),
            MissingKind::Expand => Out::Exp,
        },
        Playout::NothingYet => Out::Nothing,
    }
}

/// Sends 20 ms / 160-tick packets `seqs` (in that order, each at its own send time plus
/// `extra_us(i)`), polls every 20 ms, returns the outputs.
fn run(
    jb: &mut JitterBuffer,
    first_seq: u16,
    first_ts: u32,
    n: usize,
    mut arrive_us: impl FnMut(usize) -> Option<u64>,
    polls: usize,
) -> Vec<Out> {
    let t0 = base();
    let mut arrivals: Vec<(u64, usize)> = (0..n)
        .filter_map(|i| arrive_us(i).map(|a| (a, i)))
        .collect();
    arrivals.sort();
    let mut k = 0;
    let mut outs = Vec::new();
    for p in 0..polls {
        let now_us = p as u64 * 20_000;
        while k < arrivals.len() && arrivals[k].0 <= now_us {
            let i = arrivals[k].1;
            let seq = first_seq.wrapping_add(i as u16);
            let ts = first_ts.wrapping_add(160 * i as u32);
            jb.insert(at(t0, arrivals[k].0), pkt(7, seq, ts));
            k += 1;
        }
        outs.push(out(jb, at(t0, now_us)));
    }
    outs
}

fn played(outs: &[Out]) -> Vec<u16> {
    outs.iter()
        .filter_map(|o| match o {
            Out::P(s) => Some(*s),
            _ => None,
        })
        .collect()
}

/// No concealment before the last packet played (the stream's end underflows, of course).
fn no_conceal_while_streaming(outs: &[Out]) -> bool {
    let last = outs
        .iter()
        .rposition(|o| matches!(o, Out::P(_)))
        .unwrap_or(0);
    !outs[..last]
        .iter()
        .any(|o| matches!(o, Out::Lost(_) | Out::Under(_) | Out::Exp))
}

fn cfg() -> JitterConfig {
    JitterConfig::new(8000)
}

/// 100 packets 20 ms apart, packet 50 arriving 300 ms late: it is dropped, counted as late and
/// played out as the one loss.
fn one_late_packet(jb: &mut JitterBuffer) -> Vec<Out> {
    let outs = run(
        jb,
        0,
        0,
        100,
        |i| Some(i as u64 * 20_000 + if i == 50 { 300_000 } else { 0 }),
        120,
    );
    let s = jb.stats();
    assert_eq!(s.late, 1, "{s:?}");
    assert_eq!(outs.iter().filter(|o| matches!(o, Out::Lost(_))).count(), 1);
    outs
}

#[test]
fn rejects_bad_config() {
    let mut c = cfg();
    c.clock_rate = 0;
    assert_eq!(
        JitterBuffer::new(c).err(),
        Some(JitterConfigError::ClockRate(0))
    );
    let mut c = cfg();
    c.min_delay = Duration::from_millis(500);
    assert!(JitterBuffer::new(c).is_err());
    let mut c = cfg();
    c.quantile = f64::NAN;
    assert!(JitterBuffer::new(c).is_err());
}

#[test]
fn in_order_stream_plays_every_packet_after_initial_delay() {
    let mut jb = JitterBuffer::new(cfg()).unwrap();
    let outs = run(&mut jb, 100, 1000, 200, |i| Some(i as u64 * 20_000), 220);
    let p = played(&outs);
    let s = jb.stats();
    // Starts after the initial delay (60 ms = 3 ticks), never conceals after that; as the
    // target falls from 60 to 20 ms, a packet is discarded to follow it (the delay stays in
    // [target, target + 1.25 frame), here 40 ms on this arrival phase).
    assert_eq!(&outs[..3], &[Out::Nothing, Out::Nothing, Out::Nothing]);
    assert_eq!(s.discarded, 1, "{s:?}");
    assert_eq!(p.len() as u64 + s.discarded, 200, "{outs:?}");
    assert!(p.windows(2).all(|w| w[1] > w[0]));
    assert!(no_conceal_while_streaming(&outs), "{outs:?}");
    assert_eq!(s.lost, 0);
    assert_eq!(s.late, 0);
    // The target fell to the minimum and discards brought the delay down to it.
    assert_eq!(jb.target_delay(), Duration::from_millis(20));
    assert!(jb.current_delay() < Duration::from_millis(45), "{s:?}");
}

#[test]
fn reordered_packets_are_placed() {
    let mut jb = JitterBuffer::new(cfg()).unwrap();
    // Swap each pair: 1 arrives before 0, 3 before 2 ...; a 40 ms delay covers it.
    let outs = run(
        &mut jb,
        0,
        0,
        100,
        |i| {
            let j = if i % 2 == 0 { i + 1 } else { i - 1 };
            Some(j as u64 * 20_000 + 1)
        },
        110,
    );
    let p = played(&outs);
    assert!(
        p.windows(2).all(|w| w[1] == w[0] + 1),
        "{p:?} {:?}",
        jb.stats()
    );
    assert_eq!(jb.stats().late, 0);
    assert!(no_conceal_while_streaming(&outs), "{outs:?}");
}

#[test]
fn duplicates_are_removed_and_counted() {
    let mut jb = JitterBuffer::new(cfg()).unwrap();
    let t0 = base();
    let mut seen = Vec::new();
    for k in 0..30u64 {
        let now = at(t0, k * 20_000);
        if k < 10 {
            let i = k as u16;
            jb.insert(now, pkt(1, i, 160 * u32::from(i)));
            jb.insert(now, pkt(1, i, 160 * u32::from(i)));
        }
        if k == 6 {
            // 2 was played already, 7 is still buffered: both duplicates.
            jb.insert(now, pkt(1, 2, 320));
            jb.insert(now, pkt(1, 6, 960));
        }
        if let Out::P(s) = out(&mut jb, now) {
            seen.push(s);
        }
    }
    assert_eq!(seen, (0..10).collect::<Vec<_>>());
    assert_eq!(jb.stats().duplicate, 12);
}

#[test]
fn late_packet_is_dropped_counted_and_raises_target() {
    let mut jb = JitterBuffer::new(cfg()).unwrap();
    one_late_packet(&mut jb);
    let s = jb.stats();
    assert!(jb.target_delay() >= Duration::from_millis(200), "{s:?}");
    assert!(s.expanded > 0, "{s:?}");
}

#[test]
fn lost_packets_concealed_once_with_fec_hint() {
    let mut jb = JitterBuffer::new(cfg()).unwrap();
    let t0 = base();
    let mut got = Vec::new();
    for k in 0..60u64 {
        let now = at(t0, k * 20_000);
        let i = k as u16;
        if i < 50 && i != 20 && i != 30 && i != 31 {
            jb.insert(now, pkt(1, i, 160 * u32::from(i)));
        }
        match jb.poll(now) {
            Playout::Missing(m) if m.kind != MissingKind::Expand => {
                let peeked = jb.peek_next().map(|n| n.seq);
                got.push((m.kind, m.seq, m.timestamp.0, m.next_available, peeked));
            }
            Playout::Packet(p) => jb.recycle(p.payload),
            _ => {}
        }
    }
    let lost: Vec<_> = got.iter().filter(|g| g.0 == MissingKind::Lost).collect();
    assert_eq!(lost.len(), 3, "{got:?}");
    assert_eq!(lost[0].1, Some(SeqNo(20)));
    assert_eq!(lost[0].2, 3200);
    assert!(lost[0].3, "21 is buffered: FEC possible");
    assert_eq!(lost[0].4, Some(SeqNo(21)));
    assert_eq!((lost[1].1, lost[1].3), (Some(SeqNo(30)), false));
    assert_eq!((lost[2].1, lost[2].3), (Some(SeqNo(31)), true));
    // The stream ends at 49: a few underflow concealments then silence.
    let under = got.iter().filter(|g| g.0 == MissingKind::Underflow).count();
    assert_eq!(under, 3, "{got:?}");
    assert_eq!(jb.stats().lost, 3);
}

#[test]
fn sequence_and_timestamp_wrap() {
    let mut jb = JitterBuffer::new(cfg()).unwrap();
    let first_ts = u32::MAX - 160 * 100 + 1;
    let outs = run(
        &mut jb,
        65_500,
        first_ts,
        200,
        |i| Some(i as u64 * 20_000),
        220,
    );
    let p = played(&outs);
    let s = jb.stats();
    assert_eq!(p.len() as u64 + s.discarded, 200);
    assert!(p
        .windows(2)
        .all(|w| (1..=2).contains(&w[1].wrapping_sub(w[0]))));
    assert!(p.contains(&65535) && p.contains(&0));
    assert_eq!((s.resyncs, s.late, s.lost), (0, 0, 0), "{s:?}");
    assert!(no_conceal_while_streaming(&outs), "{outs:?}");
}

#[test]
fn ssrc_change_flushes_and_restarts() {
    let mut jb = JitterBuffer::new(cfg()).unwrap();
    let t0 = base();
    let mut played = Vec::new();
    for k in 0..200u64 {
        let now = at(t0, k * 20_000);
        let p = if k < 100 {
            pkt(1, k as u16, 160 * k as u32)
        } else {
            pkt(2, 5000 + k as u16, 999_999 + 160 * k as u32)
        };
        jb.insert(now, p);
        if let Playout::Packet(p) = jb.poll(now) {
            played.push((p.ssrc, p.seq.0));
            jb.recycle(p.payload);
        }
    }
    let s = jb.stats();
    assert_eq!((s.resyncs, s.ssrc_changes), (1, 1), "{s:?}");
    assert!(s.flushed <= 4, "{s:?}");
    assert!(played.iter().any(|p| p.0 == Ssrc(2)));
    let first2 = played.iter().position(|p| p.0 == Ssrc(2)).unwrap();
    assert!(played[first2..].iter().all(|p| p.0 == Ssrc(2)));
    assert_eq!(
        played[first2].1, 5100,
        "the unconfirmed first packet is kept"
    );
}

#[test]
fn stray_packet_of_other_ssrc_is_ignored() {
    let mut jb = JitterBuffer::new(cfg()).unwrap();
    let t0 = base();
    for k in 0..100u64 {
        let now = at(t0, k * 20_000);
        jb.insert(now, pkt(1, k as u16, 160 * k as u32));
        if k == 50 {
            jb.insert(now, pkt(9, 7, 7));
        }
        let _ = jb.poll(now);
    }
    let s = jb.stats();
    assert_eq!((s.resyncs, s.stray, s.concealed), (0, 1, 0), "{s:?}");
}

#[test]
fn timestamp_jump_resyncs() {
    let mut jb = JitterBuffer::new(cfg()).unwrap();
    let t0 = base();
    let mut outs = Vec::new();
    for k in 0..200u64 {
        let now = at(t0, k * 20_000);
        // Same SSRC, contiguous sequence, timestamps jump by an hour at k = 100.
        let ts = 160 * k as u32 + if k >= 100 { 8000 * 3600 } else { 0 };
        jb.insert(now, pkt(1, k as u16, ts));
        outs.push(out(&mut jb, now));
    }
    let s = jb.stats();
    assert_eq!((s.resyncs, s.ssrc_changes), (1, 0), "{s:?}");
    let p = played(&outs);
    assert!(p.contains(&150) && p.contains(&196));
    assert_eq!(s.late, 0, "{s:?}");
}

#[test]
fn sequence_jump_resyncs() {
    let mut jb = JitterBuffer::new(cfg()).unwrap();
    let outs = run(&mut jb, 0, 0, 200, |i| Some(i as u64 * 20_000), 210);
    assert_eq!(jb.stats().resyncs, 0);
    drop(outs);
    let t0 = base();
    let mut jb = JitterBuffer::new(cfg()).unwrap();
    for k in 0..200u64 {
        let now = at(t0, k * 20_000);
        let seq = if k < 100 { k as u16 } else { 30_000 + k as u16 };
        jb.insert(now, pkt(1, seq, 160 * k as u32));
        let _ = out(&mut jb, now);
    }
    let s = jb.stats();
    assert_eq!(s.resyncs, 1, "{s:?}");
    assert!(s.played > 190, "{s:?}");
}

#[test]
fn dtx_silence_reanchors_without_concealing_it_as_loss() {
    let mut jb = JitterBuffer::new(cfg()).unwrap();
    let t0 = base();
    let mut outs = Vec::new();
    // Talkspurt of 50 packets, 1 s of silence (timestamps run on, sequence contiguous), then a
    // talkspurt with the marker bit.
    let mut sent: Vec<(u64, JitterPacket)> = Vec::new();
    for i in 0..100u64 {
        let t = if i < 50 { i } else { i + 50 };
        let mut p = pkt(1, i as u16, 160 * t as u32);
        p.marker = i == 0 || i == 50;
        sent.push((t * 20_000, p));
    }
    let mut it = sent.into_iter().peekable();
    for k in 0..200u64 {
        let now_us = k * 20_000;
        while it.peek().is_some_and(|(t, _)| *t <= now_us) {
            if let Some((t, p)) = it.next() {
                jb.insert(at(t0, t), p);
            }
        }
        outs.push(out(&mut jb, at(t0, now_us)));
    }
    let s = jb.stats();
    assert_eq!(s.lost, 0, "{s:?}");
    assert_eq!(s.late, 0, "{s:?}");
    assert_eq!(played(&outs).len(), 100 - s.discarded as usize);
    assert_eq!(s.talkspurts, 2, "{s:?}");
    // The end of each talkspurt looks like an underflow (max_conceal = 3 frames), never a loss.
    assert!(!outs.iter().any(|o| matches!(o, Out::Lost(_))), "{outs:?}");
    assert_eq!(s.concealed, 6, "{s:?}");
}

#[test]
fn packet_duration_from_timestamps() {
    let mut jb = JitterBuffer::new(cfg()).unwrap();
    let t0 = base();
    // 30 ms packets (240 ticks), polled when the last output is played out.
    let mut durs = Vec::new();
    let mut next_send = 0u64;
    let mut i = 0u16;
    let mut now = at(t0, 0);
    for _ in 0..300 {
        while next_send <= now.duration_since(t0).as_micros() as u64 {
            jb.insert(at(t0, next_send), pkt(1, i, 240 * u32::from(i)));
            i += 1;
            next_send += 30_000;
        }
        match jb.poll(now) {
            Playout::Packet(p) => {
                durs.push((p.duration, p.duration_known));
                jb.recycle(p.payload);
            }
            Playout::Missing(m) => assert_eq!(m.kind, MissingKind::Expand, "{m:?}"),
            Playout::NothingYet => {}
        }
        now = jb.poll_timeout().unwrap_or(now + Duration::from_millis(20));
    }
    // Known from the next packet when it is already buffered, else the last known duration.
    assert!(durs.len() > 150);
    assert!(durs[2..].iter().all(|d| d.0 == 240), "{durs:?}");
    assert!(durs.iter().any(|d| d.1));
    assert_eq!(jb.stats().concealed, 0);
}

#[test]
fn flood_keeps_memory_bounded() {
    let mut c = cfg();
    c.max_packets = 64;
    c.max_bytes = 64 * 1500;
    let mut jb = JitterBuffer::new(c).unwrap();
    let now = base();
    for i in 0..100_000u32 {
        let mut b = jb.take_buffer();
        b.extend_from_slice(&[1u8; 1200]);
        jb.insert(
            now,
            JitterPacket {
                ssrc: Ssrc(1),
                seq: SeqNo(i as u16),
                timestamp: RtpTimestamp(i.wrapping_mul(160)),
                marker: false,
                payload: b,
            },
        );
        assert!(jb.len() <= 64);
        assert!(jb.buffered_bytes() <= 64 * 1500);
    }
    assert!(jb.pooled_buffers() <= 64 + 8);
    let s = jb.stats();
    assert_eq!(s.received, 100_000);
    assert!(
        s.overflow + s.flushed + s.duplicate + s.stray + s.late >= 100_000 - 64,
        "{s:?}"
    );
    for k in 0..100u64 {
        let _ = out(&mut jb, now + Duration::from_millis(20 * k));
    }
}

#[test]
fn oversize_payload_rejected() {
    let mut jb = JitterBuffer::new(cfg()).unwrap();
    let mut p = pkt(1, 1, 1);
    p.payload = vec![0; 1501];
    jb.insert(base(), p);
    assert_eq!(jb.stats().oversize, 1);
    assert!(jb.is_empty());
}

#[test]
fn time_going_backwards_is_clamped() {
    let mut jb = JitterBuffer::new(cfg()).unwrap();
    let t0 = base() + Duration::from_secs(10);
    jb.insert(t0, pkt(1, 0, 0));
    jb.insert(t0 - Duration::from_secs(5), pkt(1, 1, 160));
    let _ = jb.poll(t0 - Duration::from_secs(9));
    assert!(jb.poll_timeout().is_some());
}

#[test]
fn marker_after_short_silence_reanchors() {
    // 60 ms of silence (shorter than max_packet_duration) before a marked talkspurt: it is a
    // talkspurt start, not a long previous packet, so playout re-anchors on it.
    let mut jb = JitterBuffer::new(cfg()).unwrap();
    let t0 = base();
    let mut outs = Vec::new();
    for k in 0..120u64 {
        let now = at(t0, k * 20_000);
        let (send, i) = match k {
            0..=49 => (true, k),
            50..=52 => (false, 0),
            _ => (true, k - 3),
        };
        if send {
            let mut p = pkt(1, i as u16, 160 * k as u32);
            p.marker = i == 0 || i == 50;
            jb.insert(now, p);
        }
        outs.push(out(&mut jb, now));
    }
    let s = jb.stats();
    assert_eq!(s.talkspurts, 2, "{s:?} {outs:?}");
    assert_eq!((s.lost, s.late), (0, 0), "{s:?}");
}

#[test]
fn media_stretch_leaves_speech_alone() {
    // The same falling target and the same late packet that make the buffer discard and
    // expand on its own (tests above): with `media_stretch` it does neither while packets
    // flow; the delay is left to the caller, which reads it against the target.
    let mut c = cfg();
    c.media_stretch = true;
    let mut jb = JitterBuffer::new(c.clone()).unwrap();
    let outs = run(&mut jb, 100, 1000, 200, |i| Some(i as u64 * 20_000), 220);
    let s = jb.stats();
    assert_eq!((s.discarded, s.expanded), (0, 0), "{s:?}");
    assert_eq!(played(&outs).len(), 200);
    assert!(no_conceal_while_streaming(&outs), "{outs:?}");
    assert!(jb.current_delay() > jb.target_delay(), "{s:?}");

    let mut jb = JitterBuffer::new(c).unwrap();
    let outs = one_late_packet(&mut jb);
    // Expand only once the stream has ended and the buffer waits (underflow below target).
    let last = outs
        .iter()
        .rposition(|o| matches!(o, Out::P(_)))
        .unwrap_or(0);
    assert!(!outs[..last].contains(&Out::Exp), "{outs:?}");
}

/// The sender changes its packet time mid-stream (20 -> 40 -> 60 -> 20 ms, as an Opus sender
/// adapting to a thin link does) and the caller tells the buffer each packet's real duration
/// once decoded (`set_packet_duration`, as media-core's adapter does): nothing is concealed,
/// lost or late, and the playout cursor follows the timestamps with no gap or overlap.
/// Packets leave at the end of their audio and take 10 ms; the buffer is polled when the last
/// output is played out. With `media_stretch` (media-core's setting) not a single frame is
/// inserted or dropped; without it the buffer adapts its delay by itself (an expand frame
/// while the next packet is there, a dropped packet after the step back to 20 ms), never by
/// concealing a loss.
#[test]
fn packet_time_changes_mid_stream() {
    for stretch in [true, false] {
        let mut c = cfg();
        c.media_stretch = stretch;
        let mut jb = JitterBuffer::new(c).unwrap();
        let t0 = base();
        // (duration in ticks at 8 kHz, packets)
        let plan = [(160u32, 100usize), (320, 50), (480, 50), (160, 100)];
        let mut sends = Vec::new();
        let mut ts = 0u32;
        for (dur, n) in plan {
            for _ in 0..n {
                sends.push((ts, dur));
                ts += dur;
            }
        }
        let arrive_us = |i: usize| {
            let (ts, dur) = sends[i];
            u64::from(ts + dur) * 125 + 10_000
        };
        let mut next = 0usize;
        let mut now = at(t0, 0);
        let mut played = Vec::new();
        let mut concealed = Vec::new();
        while played
            .last()
            .is_none_or(|p: &(usize, u32)| p.0 + 1 < sends.len())
            && now < at(t0, 20_000_000)
        {
            let now_us = now.duration_since(t0).as_micros() as u64;
            while next < sends.len() && arrive_us(next) <= now_us {
                jb.insert(at(t0, arrive_us(next)), pkt(3, next as u16, sends[next].0));
                next += 1;
            }
            match jb.poll(now) {
                Playout::Packet(p) => {
                    let i = usize::from(p.seq.0);
                    // The decoder knows the real duration.
                    jb.set_packet_duration(sends[i].1);
                    played.push((i, p.timestamp.0));
                    jb.recycle(p.payload);
                }
                Playout::Missing(m) => concealed.push(m),
                Playout::NothingYet => {}
            }
            now = jb
                .poll_timeout()
                .filter(|&t| t > now)
                .unwrap_or(now + Duration::from_millis(10));
        }
        let s = jb.stats();
        let label = format!("media_stretch {stretch}");
        let missing: Vec<_> = concealed
            .iter()
            .filter(|m| stretch || !(m.kind == MissingKind::Expand && m.next_available))
            .collect();
        assert!(missing.is_empty(), "{label}: {missing:?}");
        assert_eq!((s.lost, s.late), (0, 0), "{label}: {s:?}");
        if stretch {
            assert_eq!((s.discarded, s.expanded), (0, 0), "{label}: {s:?}");
        }
        assert_eq!(
            played.len() as u64 + s.discarded,
            sends.len() as u64,
            "{label}"
        );
        // Every packet in order, each starting where the previous one ended.
        for w in played.windows(2) {
            let ((i, ts0), (j, ts1)) = (w[0], w[1]);
            assert!(j > i, "{label}");
            assert_eq!(ts1, sends[j].0, "{label}: packet {j}");
            if j == i + 1 {
                assert_eq!(ts1, ts0 + sends[i].1, "{label}: packet {i}");
            }
        }
    }
}
