//! The adaptation's packet time applied mid-call, on virtual time: an Opus call whose sender
//! is told by REMB (draft-alvestrand-rmcat-remb, what a receiver sends when its link is thin)
//! that only 20 and then 17 kbit/s get through. Its policy picks 40 then 60 ms packets (the
//! 40-byte header overhead of 50 packets/s alone is 16 kbit/s), the adapter switches the
//! Opus frame duration at a packet boundary, and the receiver sees RTP timestamp steps of
//! 1920 and 2880 (48 kHz clock) with no gap or overlap. When the REMB rises to 64 kbit/s it
//! returns to 20 ms. The receiver loses nothing and conceals nothing, and neither side
//! allocates in steady state, switches included (counting allocator).
//!
//! A second call sees the estimate fall straight to 17 kbit/s: the adapter lengthens the
//! packets 20 ms at a time (20 -> 40 -> 60, a second apart), since a packet `d` ms longer
//! than the last arrives `d` ms after the receiver's playout expected it.
//!
//! Two MediaTransportAdapters back to back through rtp-core's seeded netem (20 ms delay,
//! 0-4 ms jitter); the REMB is a real RTCP PSFB packet written with rtp-core's `RembWriter`
//! and delivered to the sender as from the receiver.
#![cfg(feature = "opus")]

use std::time::{Duration, Instant};

use media_core::codec::{CodecParams, CodecRegistry};
use media_core::integration::rtp_core::{AdapterEvent, MediaTransportAdapter, DATAGRAM_LEN};
use media_core::signal::speech_like;
use rtp_core::netem::{JitterDist, Netem, NetemConfig, WireSize};
use rtp_core::rtcp::{RembWriter, RtcpWrite};
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{counted, counted_total};
#[path = "common/loopback.rs"]
mod loopback;
use loopback::addr;

#[derive(Clone)]
struct Dgram(Vec<u8>);

impl WireSize for Dgram {
    fn wire_size(&self) -> usize {
        self.0.len()
    }
}

const A: u16 = 4000;
const B: u16 = 5000;

fn adapter(
    reg: &CodecRegistry,
    local: u16,
    remote: u16,
    t0: Instant,
    jitter_min_ms: u16,
    max_ptime: Option<MaxPtime>,
) -> MediaTransportAdapter {
    let d = reg.find("opus").expect("opus").descriptor;
    let mut params = CodecParams::defaults(d);
    let mut max_ptime_ms = None;
    match max_ptime {
        Some(MaxPtime::Attribute(ms)) => max_ptime_ms = Some(ms),
        Some(MaxPtime::Fmtp(f)) => params.fmtp = Some(f.into()),
        None => {}
    }
    let mut config = loopback::adapter_config("ptime", d, params, 111, local, remote);
    config.jitter_min_ms = jitter_min_ms;
    config.adaptation = true;
    config.rtcp_min_interval = Duration::from_secs(1);
    config.max_ptime_ms = max_ptime_ms;
    MediaTransportAdapter::new(config, reg, t0).expect("adapter")
}

/// The REMB the receiver would send at this point of the call, bit/s: 20 kbit/s from 2 s
/// and 17 kbit/s from 5 s (`gradual`), or 17 kbit/s at once from 2 s; 64 kbit/s from 8 s.
fn remb_at(ms: u64, gradual: bool) -> Option<u64> {
    match ms {
        0..2000 => None,
        2000..5000 if gradual => Some(20_000),
        2000..8000 => Some(17_000),
        _ => Some(64_000),
    }
}

/// What the receiver saw: per received audio packet (ms since start, RTP timestamp step to
/// the previous packet).
struct Seen {
    steps: Vec<(u64, u32)>,
    gaps: u64,
}

#[test]
fn thin_link_switches_to_long_packets_and_back_without_concealment() {
    run(true, 40, None);
}

/// The estimate falls straight to 17 kbit/s: the policy wants 60 ms at once, the adapter
/// lengthens by 20 ms a step (20 -> 40 -> 60, a second apart) so that a receiver with the
/// usual 20 ms minimum jitter delay plays every packet in time.
#[test]
fn sudden_drop_lengthens_packets_in_steps() {
    run(false, 20, None);
}

/// The receiver's SDP said `a=maxptime:40`, or `maxptime=40` in its Opus fmtp (RFC 7587):
/// the sender never goes beyond 40 ms.
#[test]
fn remote_maxptime_caps_the_packet_time() {
    run(false, 20, Some(MaxPtime::Attribute(40)));
    run(
        false,
        20,
        Some(MaxPtime::Fmtp("maxptime=40;useinbandfec=1")),
    );
}

/// Where the remote's maxptime came from.
#[derive(Clone, Copy)]
enum MaxPtime {
    Attribute(u16),
    Fmtp(&'static str),
}

fn run(gradual: bool, jitter_min_ms: u16, max_ptime: Option<MaxPtime>) {
    let reg = CodecRegistry::with_builtin();
    let t0 = Instant::now();
    let mut a = adapter(&reg, A, B, t0, jitter_min_ms, max_ptime);
    let mut b = adapter(&reg, B, A, t0, jitter_min_ms, None);
    let n = a.frame_samples();
    let seconds = 12u64;
    let src = speech_like(seconds as f64 + 1.0, a.audio_format().sample_rate.0);
    let net = |seed| {
        Netem::<Dgram>::new(NetemConfig {
            seed,
            delay: Duration::from_millis(20),
            jitter: JitterDist::Uniform {
                max: Duration::from_millis(4),
            },
            ..NetemConfig::default()
        })
        .unwrap()
    };
    let (mut ab, mut ba) = (net(11), net(12));
    let mut buf = vec![0u8; DATAGRAM_LEN];
    let mut remb = vec![0u8; 64];
    let mut out = vec![0i16; n];
    let mut seen = Seen {
        steps: Vec::new(),
        gaps: 0,
    };
    let mut last: Option<(u16, u32)> = None;
    let mut adapted = Vec::new();
    let mut allocs_at_switch = 0usize;
    for k in 0..seconds * 100 {
        let ms = 10 * k;
        let now = t0 + Duration::from_millis(ms);
        let steady = k > 100;
        // Network deliveries.
        while let Some(d) = ab.poll_deliver(now) {
            let p = &d.0;
            if !rtp_core::rtcp::is_rtcp(p) {
                let seq = u16::from_be_bytes([p[2], p[3]]);
                let ts = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
                if let Some((s, t)) = last {
                    if seq == s.wrapping_add(1) {
                        seen.steps.push((ms, ts.wrapping_sub(t)));
                    } else {
                        seen.gaps += 1;
                    }
                }
                last = Some((seq, ts));
            }
            counted(steady, || b.handle_datagram(now, addr(A), p, true));
        }
        while let Some(d) = ba.poll_deliver(now) {
            counted(steady, || a.handle_datagram(now, addr(B), &d.0, true));
        }
        // The receiver's REMB, every 500 ms, about the sender's SSRC.
        if let Some(bps) = remb_at(ms, gradual).filter(|_| ms % 500 == 0) {
            let w = RembWriter {
                sender_ssrc: b.ssrc(),
                bitrate_bps: bps,
                ssrcs: &[a.ssrc()],
            };
            let len = w.write(&mut remb).unwrap();
            ba.send(now, Dgram(remb[..len].to_vec()));
        }
        for x in [&mut a, &mut b] {
            if x.poll_timeout().is_some_and(|t| t <= now) {
                counted(steady, || x.handle_timeout(now));
            }
        }
        let at = k as usize * n;
        let before = counted_total();
        counted(steady, || {
            a.push_capture_frame(now, &src[at..at + n], true);
            b.push_capture_frame(now, &src[at..at + n], false);
            b.pull_playout_frame(now, &mut out, true);
        });
        if a.counters().ptime_changes > adapted.len() as u64 {
            allocs_at_switch += counted_total() - before;
        }
        while let Some(e) = a.poll_event() {
            if let AdapterEvent::Adapted(d) = e {
                adapted.push((ms, d.ptime_ms, d.bitrate));
            }
        }
        while let Some((_, len)) = counted(steady, || a.poll_transmit(now, &mut buf)) {
            ab.send(now, Dgram(buf[..len].to_vec()));
        }
        while let Some((_, len)) = counted(steady, || b.poll_transmit(now, &mut buf)) {
            ba.send(now, Dgram(buf[..len].to_vec()));
        }
    }
    let rc = b.counters();
    let js = b.jitter_stats();
    eprintln!("sender decisions (ms, ptime, bitrate): {adapted:?}");
    eprintln!(
        "sender: {} ptime changes, {} packets; receiver: {rc:?}",
        a.counters().ptime_changes,
        a.counters().audio_packets_sent
    );
    eprintln!("receiver jitter: {js:?}");
    // The sender's packets: 20 ms, then 40, then 60, then 20 again, switched once each.
    let mut runs: Vec<(u32, usize, u64)> = Vec::new();
    for &(ms, step) in &seen.steps {
        match runs.last_mut() {
            Some((s, count, _)) if *s == step => *count += 1,
            _ => runs.push((step, 1, ms)),
        }
    }
    eprintln!("receiver's timestamp steps (step, packets, first at ms): {runs:?}");
    let steps: Vec<u32> = runs.iter().map(|r| r.0).collect();
    assert!(runs.iter().all(|r| r.1 >= 20), "{runs:?}");
    assert_eq!(seen.gaps, 0);
    assert_eq!(a.send_ptime_ms(), 20);
    // Reported in the Adapted events.
    let ptimes: Vec<u16> = adapted.iter().map(|d| d.1).collect();
    if max_ptime.is_some() {
        assert_eq!(steps, [960, 1920, 960], "{runs:?}");
        assert_eq!(a.counters().ptime_changes, 2);
        assert!(ptimes.windows(2).any(|w| w == [20, 40]), "{adapted:?}");
        assert!(!ptimes.contains(&60), "{adapted:?}");
    } else {
        assert_eq!(steps, [960, 1920, 2880, 960], "{runs:?}");
        assert_eq!(a.counters().ptime_changes, 3);
        assert!(ptimes.contains(&60), "{adapted:?}");
    }
    if gradual {
        assert!(ptimes.windows(2).any(|w| w == [20, 40]), "{adapted:?}");
    } else if max_ptime.is_none() {
        assert!(ptimes.windows(2).any(|w| w == [20, 60]), "{adapted:?}");
        // The 40 ms step lasted the hold time (one second: 25 packets).
        assert!(
            runs.get(1).is_some_and(|r| r.1 >= 24 && r.1 <= 26),
            "{runs:?}"
        );
    }
    assert_eq!(ptimes.last(), Some(&20), "{adapted:?}");
    // The receiver decoded every packet: nothing lost, late or concealed.
    assert_eq!(js.lost + js.late + js.discarded, 0, "{js:?}");
    assert_eq!(
        rc.concealed_lost + rc.concealed_underflow + rc.decode_errors,
        0,
        "{rc:?}"
    );
    assert_eq!(rc.decoded + js.buffered as u64, rc.audio_packets_received);
    assert_eq!(counted_total(), 0, "allocations in steady state");
    assert_eq!(allocs_at_switch, 0);
}
