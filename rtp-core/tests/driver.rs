//! Two driver tasks exchanging RTP and RTCP over real UDP on 127.0.0.1.
#![cfg(feature = "driver")]

use std::time::{Duration, Instant};

use rtp_core::driver::{self, Driver, DriverConfig, Plain};
use rtp_core::session::{RtpSession, SessionConfig, SessionEvent};
use rtp_core::RtpTimestamp;
use tokio::net::UdpSocket;

async fn pair(config: DriverConfig) -> (Driver, Driver) {
    pair2(config, config).await
}

async fn pair2(config_a: DriverConfig, config_b: DriverConfig) -> (Driver, Driver) {
    let sa = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let sb = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (aa, ab) = (sa.local_addr().unwrap(), sb.local_addr().unwrap());
    let mk = |cname: &str, remote| {
        let mut c = SessionConfig::new(cname, &[(0, 8000)]);
        c.remote_rtp = Some(remote);
        c.rtcp_min_interval = Duration::from_millis(200);
        RtpSession::new(c, Instant::now(), driver::std_random()).unwrap()
    };
    let a = driver::spawn(sa, None, mk("a@loop", ab), config_a, Box::new(Plain));
    let b = driver::spawn(sb, None, mk("b@loop", aa), config_b, Box::new(Plain));
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_drivers_exchange_media_and_reports() {
    let (mut a, mut b) = pair(DriverConfig::default()).await;
    let payload = [0xD5u8; 160];
    for i in 0..100u32 {
        a.handle
            .send_rtp(0, RtpTimestamp(i * 160), i == 0, &payload)
            .await
            .unwrap();
        b.handle
            .send_rtp(0, RtpTimestamp(i * 160), i == 0, &payload)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Probation (2) holds back the first packet of each side.
    let mut got = Vec::new();
    while got.len() < 99 {
        let p = tokio::time::timeout(Duration::from_secs(2), b.media.recv())
            .await
            .expect("media in time")
            .expect("driver alive");
        got.push(p.seq);
        b.media.recycle(p);
    }
    for w in got.windows(2) {
        assert_eq!(w[0].next(), w[1]);
    }
    // Let RTCP run (200 ms minimum): A learns the RTT from B's report about it.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let sa = a.handle.stats().await.unwrap();
    let sb = b.handle.stats().await.unwrap();
    println!(
        "A: sent {} RTP, {} RTCP, rtt {:?}; B: delivered {}, probation {}, reports {}",
        sa.session.sender.packets,
        sa.session.rtcp_sent,
        sa.session.rtt,
        sb.session.rtp_delivered,
        sb.session.probation_discarded,
        sb.session.rtcp_compounds
    );
    assert_eq!(sa.session.sender.packets, 100);
    assert_eq!(sb.session.rtp_delivered, 99);
    assert_eq!(sb.session.probation_discarded, 1);
    assert!(sa.session.rtcp_sent >= 2 && sb.session.rtcp_compounds >= 2);
    let rtt = sa.session.rtt.expect("rtt measured");
    assert!(rtt < Duration::from_millis(50), "{rtt:?}");
    assert_eq!(sb.driver.media_dropped, 0);
    assert_eq!(sb.driver.recv_errors + sb.driver.send_errors, 0);
    let mut saw_new = false;
    while let Some(e) = b.events.try_recv() {
        saw_new |= matches!(e, SessionEvent::NewSource { .. });
    }
    assert!(saw_new);

    // A leaves: B hears BYE; A's task ends and its receivers close.
    a.handle.close().await.unwrap();
    tokio::time::timeout(Duration::from_secs(2), &mut a.task)
        .await
        .unwrap()
        .unwrap();
    // A's queue still holds B's packets, then ends.
    let mut left = 0;
    while a.media.recv().await.is_some() {
        left += 1;
    }
    assert_eq!(left, 99);
    let bye = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(e) = b.events.recv().await {
            if matches!(e, SessionEvent::SourceBye { .. }) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap();
    assert!(bye);
    b.handle.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_media_layer_loses_the_oldest_packets_visibly() {
    let config = DriverConfig {
        media_queue: 4,
        ..DriverConfig::default()
    };
    let (a, mut b) = pair(config).await;
    for i in 0..21u16 {
        a.handle
            .send_rtp(0, RtpTimestamp(u32::from(i) * 160), false, &[1; 20])
            .await
            .unwrap();
    }
    // Wait until B has read them all.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let s = b.handle.stats().await.unwrap();
        if s.session.datagrams >= 21 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let s = b.handle.stats().await.unwrap();
    // 20 delivered after probation, 4 kept: the 16 oldest dropped and counted.
    assert_eq!(s.session.rtp_delivered, 20);
    assert_eq!(s.driver.media_dropped, 16);
    assert_eq!(b.media.dropped(), 16);
    let first = b.media.try_recv().unwrap();
    let a_stats = a.handle.stats().await.unwrap();
    let next_seq = a_stats.session.sender.next_seq;
    // The four newest remain.
    assert_eq!(first.seq.0.wrapping_add(4), next_seq.0);
}

/// The recvmmsg path (feature `quinn-udp`) delivers the same packets.
#[cfg(feature = "quinn-udp")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_receive_delivers_everything() {
    let config = DriverConfig {
        batched_recv: true,
        ..DriverConfig::default()
    };
    let (a, mut b) = pair(config).await;
    for i in 0..50u32 {
        a.handle
            .send_rtp(0, RtpTimestamp(i * 160), false, &[i as u8; 40])
            .await
            .unwrap();
    }
    for want in 1..50u32 {
        let p = tokio::time::timeout(Duration::from_secs(2), b.media.recv())
            .await
            .expect("media in time")
            .expect("driver alive");
        assert_eq!(p.payload, vec![want as u8; 40]);
    }
    let s = b.handle.stats().await.unwrap();
    assert!(s.driver.datagrams_in >= 50);
    assert_eq!(s.session.probation_discarded, 1);
    assert_eq!(s.session.rtp_delivered, 49);
}

/// Batched send (UDP GSO, feature `quinn-udp`): a burst of packets, of equal sizes with a
/// shorter one now and then (which ends a GSO batch), reaches a receiver reading with GRO
/// and one reading a datagram per call, every packet in order and intact, and every
/// datagram counted as sent.
#[cfg(feature = "quinn-udp")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_send_delivers_everything_in_order() {
    for batched_recv in [true, false] {
        let config_a = DriverConfig {
            batched_send: true,
            batched_recv: true,
            ..DriverConfig::default()
        };
        let config_b = DriverConfig {
            batched_send: batched_recv,
            batched_recv,
            media_queue: 1024,
            ..DriverConfig::default()
        };
        let (a, mut b) = pair2(config_a, config_b).await;
        let n = 300u32;
        let len = |i: u32| if i % 17 == 16 { 30 } else { 120 };
        for i in 0..n {
            a.handle
                .send_rtp(0, RtpTimestamp(i * 160), false, &vec![i as u8; len(i)])
                .await
                .unwrap();
            if i % 32 == 31 {
                // Bursts of 32: a reader without GRO takes a skb per datagram, and a
                // burst of 300 can overflow the default receive buffer (a kernel drop).
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        // Probation holds back the first packet.
        for want in 1..n {
            let Ok(p) = tokio::time::timeout(Duration::from_secs(2), b.media.recv()).await else {
                let sa = a.handle.stats().await.unwrap();
                let sb = b.handle.stats().await.unwrap();
                panic!(
                    "packet {want} (gro {batched_recv}): {:?} / {:?} {:?}",
                    sa.driver, sb.driver, sb.session
                );
            };
            let p = p.expect("driver alive");
            assert_eq!(p.payload, vec![want as u8; len(want)], "packet {want}");
        }
        let sa = a.handle.stats().await.unwrap();
        assert_eq!(sa.driver.datagrams_out, u64::from(n) + sa.session.rtcp_sent);
        assert_eq!(sa.driver.send_errors, 0);
        assert!(sa.driver.send_batches > 0, "{:?}", sa.driver);
        let sb = b.handle.stats().await.unwrap();
        assert_eq!(sb.session.rtp_delivered, u64::from(n - 1));
        assert_eq!(sb.driver.media_dropped, 0);
        a.handle.close().await.unwrap();
        b.handle.close().await.unwrap();
    }
}
