//! A counting global allocator proves that a session in steady state (sending and receiving
//! RTP, RTCP reports both ways, timers, events) allocates nothing.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtp_core::session::{RandomSource, Received, RtpSession, SessionConfig, TwccConfig};
use rtp_core::RtpTimestamp;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

fn random(mut x: u32) -> Box<dyn RandomSource> {
    Box::new(move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    })
}

/// Runs 20 ms of a call: both send a packet, each receives the other's, timers and RTCP.
fn tick(
    now: Instant,
    sessions: &mut [RtpSession; 2],
    addrs: [SocketAddr; 2],
    bufs: &mut [Vec<u8>; 2],
    rtcp: &mut [u8],
    ts: u32,
) -> usize {
    let payload = [0xD5u8; 160];
    let mut delivered = 0;
    for i in 0..2 {
        let j = 1 - i;
        let len =
            match sessions[i].send_rtp(now, 0, RtpTimestamp(ts), false, &payload, &mut bufs[i]) {
                Ok(t) => t.contents.len(),
                Err(_) => 0,
            };
        if let Ok(Some(Received::Rtp(_))) =
            sessions[j].handle_packet(now, addrs[i], &bufs[i][..len])
        {
            delivered += 1;
        }
        if sessions[i].poll_timeout().is_some_and(|t| t <= now) {
            sessions[i].handle_timeout(now);
        }
        while let Some(len) = sessions[i].poll_transmit(now).map(|t| {
            rtcp[..t.contents.len()].copy_from_slice(t.contents);
            t.contents.len()
        }) {
            let _ = sessions[j].handle_packet(now, addrs[i], &rtcp[..len]);
        }
        while sessions[i].poll_event().is_some() {}
    }
    delivered
}

#[test]
fn steady_state_sessions_do_not_allocate() {
    steady_state(false);
}

/// The same with transport-wide congestion control on: sequence numbers stamped, arrival
/// feedback every 100 ms both ways, the delay-based estimator fed.
#[test]
fn steady_state_with_twcc_does_not_allocate() {
    steady_state(true);
}

fn steady_state(twcc: bool) {
    let t0 = Instant::now();
    let addrs = [
        SocketAddr::from(([127, 0, 0, 1], 5000)),
        SocketAddr::from(([127, 0, 0, 1], 6000)),
    ];
    let mk = |remote, seed| {
        let mut c = SessionConfig::new("alloc@test", &[(0, 8000)]);
        c.remote_rtp = Some(remote);
        c.twcc = twcc.then(TwccConfig::default);
        RtpSession::new(c, t0, random(seed)).unwrap()
    };
    let mut sessions = [mk(addrs[1], 7), mk(addrs[0], 9)];
    let mut bufs = [vec![0u8; 1500], vec![0u8; 1500]];
    let mut rtcp = vec![0u8; 1500];
    let step = Duration::from_millis(20);
    // Warm up: probation, source creation, first reports and events.
    let mut now = t0;
    let mut ts = 0u32;
    for _ in 0..1000 {
        tick(now, &mut sessions, addrs, &mut bufs, &mut rtcp, ts);
        now += step;
        ts = ts.wrapping_add(160);
    }
    let mut delivered = 0;
    // 5 minutes of call: 15000 packets each way and about 60 reports each way.
    let allocs = allocations(|| {
        for _ in 0..15_000 {
            delivered += tick(now, &mut sessions, addrs, &mut bufs, &mut rtcp, ts);
            now += step;
            ts = ts.wrapping_add(160);
        }
    });
    assert_eq!(delivered, 30_000);
    assert!(sessions[0].stats().rtcp_sent > 50);
    assert_eq!(allocs, 0, "{allocs} allocations in steady state");
    if twcc {
        let stats = sessions[0].twcc_stats().unwrap();
        // 5 minutes at one feedback per 100 ms, and every packet reported received.
        assert!(stats.feedback_sent >= 2900, "{stats:?}");
        assert!(stats.reported_received >= 15_000, "{stats:?}");
        assert_eq!(stats.reported_lost, 0);
    }
}
