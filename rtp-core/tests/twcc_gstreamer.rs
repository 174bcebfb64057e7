//! Transport-wide congestion control against an independent implementation: GStreamer's
//! rtpbin (gstreamer1.0-plugins-good, rtpmanager's `rtptwcc.c`) receives our RTP, reads
//! the transport-wide sequence numbers our session stamps (extension id 5, announced in its
//! caps as `extmap-5` with the draft's URI) and sends back transport feedback (RTPFB FMT 15,
//! in compounds after an RR), which our session parses, matches with its send history and
//! feeds to the delay-based estimator. GStreamer reports on marker bits, so every fifth
//! packet carries one.
//!
//! Without `gst-launch-1.0` (or rtpmanager) the test fails, unless
//! `MEDIA_CORE_SKIP_EXTERNAL=1`. The child process is bounded by a deadline and killed.

use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rtp_core::session::{RandomSource, RtpSession, SessionConfig, TwccConfig, TWCC_EXTENSION_URI};
use rtp_core::RtpTimestamp;
#[path = "common/gstreamer.rs"]
mod gstreamer;
use gstreamer::gstreamer_present;

/// Kills the child when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something has bound UDP `port` on this host (Linux: /proc/net/udp*), at most
/// `limit`; panics if not, or if the child exits first.
fn wait_until_bound(port: u16, child: &mut Killed, limit: Duration) {
    let suffix = format!(":{port:04X}");
    let start = Instant::now();
    loop {
        let bound = ["/proc/net/udp", "/proc/net/udp6"].iter().any(|f| {
            std::fs::read_to_string(f).is_ok_and(|t| {
                t.lines().skip(1).any(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .is_some_and(|a| a.ends_with(&suffix))
                })
            })
        });
        if bound {
            return;
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("gst-launch-1.0 exited ({status}) before binding port {port}");
        }
        assert!(
            start.elapsed() < limit,
            "gst-launch-1.0 did not bind UDP port {port} in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn random() -> Box<dyn RandomSource> {
    let mut x = 0x2545_F491u32;
    Box::new(move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    })
}

#[test]
fn gstreamer_sends_feedback_we_parse_and_match() {
    if !gstreamer_present("rtpbin", "gstreamer1.0-tools gstreamer1.0-plugins-good") {
        return;
    }
    let ours = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let gst_port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("free port")
        .port();
    let our_port = ours.local_addr().expect("local address").port();
    let caps = format!(
        "application/x-rtp,media=audio,clock-rate=8000,encoding-name=PCMU,payload=0,\
         extmap-5={TWCC_EXTENSION_URI}"
    );
    let pipeline = format!(
        "rtpbin name=b udpsrc port={gst_port} caps={caps} ! b.recv_rtp_sink_0 \
         b. ! rtppcmudepay ! fakesink \
         b.send_rtcp_src_0 ! udpsink host=127.0.0.1 port={our_port} sync=false async=false"
    );
    let mut gst = Killed(
        Command::new("gst-launch-1.0")
            .args(pipeline.split_whitespace())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn gst-launch-1.0"),
    );
    // Let the pipeline bind its socket (packets before that are simply not reported), and
    // wait for it past the fixed head start if it is slower (a loaded machine).
    std::thread::sleep(Duration::from_millis(1000));
    wait_until_bound(gst_port, &mut gst, Duration::from_secs(20));

    let mut config = SessionConfig::new("twcc@127.0.0.1", &[(0, 8000)]);
    config.remote_rtp = Some(([127, 0, 0, 1], gst_port).into());
    config.twcc = Some(TwccConfig {
        extension_id: 5,
        ..TwccConfig::default()
    });
    let t0 = Instant::now();
    let mut session = RtpSession::new(config, t0, random()).expect("valid config");
    ours.set_read_timeout(Some(Duration::from_millis(2)))
        .expect("timeout");
    let mut buf = [0u8; 1500];
    let mut rx = [0u8; 2048];
    let packets = 150u32;
    let mut next = t0;
    let mut sent = 0u32;
    let deadline = t0 + Duration::from_secs(8);
    while Instant::now() < deadline {
        let now = Instant::now();
        if sent < packets && now >= next {
            let marker = sent % 5 == 4;
            let t = session
                .send_rtp(
                    now,
                    0,
                    RtpTimestamp(sent * 80),
                    marker,
                    &[0xD5; 80],
                    &mut buf,
                )
                .expect("send");
            ours.send_to(t.contents, t.destination).expect("send_to");
            sent += 1;
            next += Duration::from_millis(10);
        }
        if let Ok((n, from)) = ours.recv_from(&mut rx) {
            // Errors are counted by the session; the assertions below see them.
            let _ = session.handle_packet(Instant::now(), from, &rx[..n]);
        }
        let stats = session.twcc_stats().expect("twcc on");
        if sent == packets
            && stats.reported_received + stats.reported_lost >= u64::from(packets) - 5
        {
            break;
        }
    }
    let stats = session.twcc_stats().expect("twcc on");
    let all = session.stats();
    eprintln!(
        "sent {sent}; {stats:?}; rtcp bad {}; {:?} after the first packet",
        all.rtcp_bad_packets,
        t0.elapsed()
    );
    assert_eq!(
        all.rtcp_bad_packets, 0,
        "a GStreamer RTCP packet did not parse"
    );
    assert!(stats.feedback_received >= 20, "{stats:?}");
    // GStreamer reports up to the last marker; loopback loses nothing.
    assert!(
        stats.reported_received >= u64::from(packets) - 5,
        "{stats:?}"
    );
    assert_eq!(stats.reported_lost, 0, "{stats:?}");
    assert_eq!(stats.unknown_reports, 0, "{stats:?}");
    let delay = session.bandwidth_estimator().delay_based_bps();
    assert!(delay.is_some(), "the delay-based estimator ran");
}

/// The other way: GStreamer's payloader stamps transport-wide sequence numbers (its TWCC
/// header extension, negotiated from `extmap-5` in its caps); our session records them
/// and its feedback reports every one of them as received.
#[test]
fn we_report_gstreamer_sequence_numbers() {
    if !gstreamer_present("rtpbin", "gstreamer1.0-tools gstreamer1.0-plugins-good") {
        return;
    }
    let ours = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let our_port = ours.local_addr().expect("local address").port();
    let pipeline = format!(
        "audiotestsrc num-buffers=60 is-live=true samplesperbuffer=160 ! mulawenc ! \
         rtppcmupay ! application/x-rtp,extmap-5={TWCC_EXTENSION_URI} ! \
         udpsink host=127.0.0.1 port={our_port}"
    );
    let _gst = Killed(
        Command::new("gst-launch-1.0")
            .args(pipeline.split_whitespace())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn gst-launch-1.0"),
    );
    let mut config = SessionConfig::new("twcc@127.0.0.1", &[(0, 8000)]);
    config.probation = 0;
    config.twcc = Some(TwccConfig {
        extension_id: 5,
        feedback_interval: Duration::from_millis(50),
    });
    let t0 = Instant::now();
    let mut session = RtpSession::new(config, t0, random()).expect("valid config");
    // Generous: the first packet waits for gst-launch-1.0 to start, which takes longer on a
    // loaded machine (the loop ends at the 60th packet, so this costs nothing otherwise).
    ours.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut rx = [0u8; 2048];
    let mut stamped = Vec::new();
    let mut reported = Vec::new();
    let mut collect = |session: &mut RtpSession, now: Instant| {
        while let Some(t) = session.poll_transmit(now) {
            let Ok(compound) = rtp_core::Compound::parse(t.contents) else {
                continue;
            };
            for p in compound.packets().flatten() {
                if let rtp_core::RtcpPacket::TransportFeedback(fb) = p {
                    reported.extend(fb.statuses().map(|s| (s.seq.0, s.delta.is_some())));
                }
            }
        }
    };
    while let Ok((n, from)) = ours.recv_from(&mut rx) {
        let now = Instant::now();
        if let Some(value) = rtp_core::RtpPacket::parse(&rx[..n])
            .ok()
            .and_then(|p| p.extension())
            .and_then(|e| e.get(5))
            .and_then(|d| d.first_chunk::<2>())
        {
            stamped.push(u16::from_be_bytes(*value));
        }
        let _ = session.handle_packet(now, from, &rx[..n]);
        session.handle_timeout(now);
        collect(&mut session, now);
        if stamped.len() == 60 {
            break;
        }
    }
    // Flush the last feedback.
    let later = Instant::now() + Duration::from_millis(100);
    session.handle_timeout(later);
    collect(&mut session, later);
    assert_eq!(stamped.len(), 60, "GStreamer stamped every packet");
    let received: Vec<u16> = reported.iter().filter(|r| r.1).map(|r| r.0).collect();
    assert_eq!(
        received, stamped,
        "every stamped number reported received, in order"
    );
    assert!(session.twcc_stats().expect("twcc on").feedback_sent >= 2);
}
